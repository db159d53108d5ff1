/*
 * blascore.h - makes OpenBLAS use the kernels this CPU can run.
 *
 * Debian's OpenBLAS (0.3.21) picks its kernels from the CPU model at load
 * time and falls back to "Prescott" (SSE3) for models it does not know:
 * on this project's Xeon (family 6, model 207) every sgemm, dlib's networks
 * and the fp32 join included, ran 3-4x below the AVX-512 kernels. The
 * choice can only be overridden by OPENBLAS_CORETYPE before the library
 * loads, so the fix is to re-execute the program once with it set.
 */
#ifndef FA_BLASCORE_H
#define FA_BLASCORE_H
#include "faceaudit/faceaudit.h"   /* fa_blas_reexec_if_generic, the public half */

/* The OPENBLAS_CORETYPE this CPU should use when OpenBLAS fell back to a
 * generic kernel ("SkylakeX" with AVX-512, "Haswell" with AVX2+FMA), or NULL
 * when it already uses a fitting one or the variable is set. */
const char *fa_blas_better_core(void);

/* fa_blas_reexec_if_generic (faceaudit.h) re-executes with the core this
 * names, once: FA_BLAS_REEXEC guards. */

#endif
