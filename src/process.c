/*
 * process.c - the library's version and the opt-in, process-wide tuning
 * (malloc, BLAS threads) that only a program may decide on; see
 * fa_tune_process() in faceaudit.h. The tuning itself is the shim's
 * (fa_tune_malloc, fa_blas_setup), next to the networks it is measured for.
 */
#include "faceaudit/faceaudit.h"
#include "shim/shim.h"

const char *fa_version(void) { return FA_VERSION; }

int fa_tune_process(unsigned what)
{
    if (what & FA_TUNE_MALLOC) fa_tune_malloc();
    return (what & FA_TUNE_BLAS) ? fa_blas_setup() : 0;
}
