/*
 * fdr.c - the decoy-estimated review cut-off (see fdr.h): two sorted lists,
 * one pass from the highest score down.
 */
#include <math.h>
#include <stdlib.h>
#include "fdr.h"

static int desc(const void *x, const void *y)
{
    float a = *(const float *)x, b = *(const float *)y;
    return (a < b) - (a > b);
}

float fa_fdr_cut(const float *target, const float *decoy, size_t n, float q)
{
    if (!n) return INFINITY;
    float *t = malloc(n * sizeof *t), *d = malloc(n * sizeof *d);
    if (!t || !d) { free(t); free(d); return NAN; }
    size_t nt = 0, nd = 0;
    for (size_t k = 0; k < n; k++) {
        if (!isnan(target[k])) t[nt++] = target[k];
        if (!isnan(decoy[k]) && decoy[k] > -INFINITY) d[nd++] = decoy[k];
    }
    qsort(t, nt, sizeof *t, desc);
    qsort(d, nd, sizeof *d, desc);
    /* FDR at each target score, highest first; the q-value is the running
     * minimum from the bottom, so the cut is the lowest score whose FDR, or
     * that of some lower cut, is within q: walk down and keep the lowest
     * score where FDR <= q (any cut below a passing one passes by that one) */
    float cut = INFINITY;
    size_t j = 0;
    for (size_t k = 0; k < nt; k++) {
        while (j < nd && d[j] >= t[k]) j++;
        if ((double)j <= (double)q * (double)(k + 1)) cut = t[k];
    }
    free(t); free(d);
    return cut;
}
