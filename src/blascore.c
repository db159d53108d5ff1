/*
 * blascore.c - re-executes the program with OPENBLAS_CORETYPE set when
 * OpenBLAS fell back to a generic kernel on a CPU it does not know (see
 * blascore.h).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "blascore.h"

char *openblas_get_corename(void);   /* libopenblas, linked directly */

/* Kernels OpenBLAS falls back to for unknown x86-64 models. */
static int generic_core(const char *name)
{
    static const char *const generic[] = { "Prescott", "Core2", "Nehalem", "Penryn",
                                           "Dunnington", "Sandybridge", "unknown" };
    for (size_t i = 0; i < sizeof generic / sizeof *generic; i++)
        if (name && strcasecmp(name, generic[i]) == 0) return 1;
    return 0;
}

const char *fa_blas_better_core(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    if (getenv("OPENBLAS_CORETYPE") || !generic_core(openblas_get_corename())) return NULL;
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
        return "SkylakeX";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
#endif
    return NULL;
}

void fa_blas_reexec_if_generic(char **argv)
{
    if (getenv("FA_BLAS_REEXEC")) return;
    const char *core = fa_blas_better_core();
    if (!core) return;
    if (setenv("OPENBLAS_CORETYPE", core, 1) || setenv("FA_BLAS_REEXEC", "1", 1)) return;
    execv("/proc/self/exe", argv);
    unsetenv("OPENBLAS_CORETYPE");      /* exec failed: run on as we are */
}
