/*
 * naive_knn.h - the reference for the top-k joins in the tests: every row's
 * k nearest rows of other groups by a loop over every pair with the exact
 * measure (ties by row), and a comparison that names the first difference.
 */
#ifndef FA_NAIVE_KNN_H
#define FA_NAIVE_KNN_H
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "../src/audit/join.h"   /* fa_l2sq_exact, knn.h */

static fa_knn *naive_knn(const float *x, const uint32_t *g, size_t n, int d, int k)
{
    fa_knn *kn = fa_knn_alloc(n, k);
    double *bd = malloc(k * sizeof *bd);
    for (size_t i = 0; kn && bd && i < n; i++) {
        uint32_t *bn = kn->nb + i * k, c = 0;
        for (size_t j = 0; j < n; j++) {
            if (g[j] == g[i]) continue;
            double d2 = fa_l2sq_exact(x + i * d, x + j * d, d);
            if (c == (uint32_t)k && !(d2 < bd[k - 1])) continue;   /* a tie keeps the earlier row */
            int q = c < (uint32_t)k ? (int)c++ : k - 1;
            while (q > 0 && bd[q - 1] > d2) { bd[q] = bd[q - 1]; bn[q] = bn[q - 1]; q--; }
            bd[q] = d2; bn[q] = (uint32_t)j;
        }
        kn->count[i] = c;
        for (int q = 0; q < k; q++) {
            kn->dist[i * k + q] = q < (int)c ? (float)sqrt(bd[q]) : INFINITY;
            if (q >= (int)c) bn[q] = UINT32_MAX;
        }
    }
    free(bd);
    return kn;
}

/* 1 when got equals want (rows, counts, neighbours, distances); else 0,
 * with the first differing row on stderr. */
static int same_knn(const fa_knn *want, const fa_knn *got)
{
    if (!want || !got || want->n != got->n || want->k != got->k) return 0;
    int k = want->k;
    for (size_t i = 0; i < want->n; i++)
        for (int q = 0; q < k; q++)
            if (want->count[i] != got->count[i] || want->nb[i * k + q] != got->nb[i * k + q] ||
                want->dist[i * k + q] != got->dist[i * k + q]) {
                fprintf(stderr, "knn row %zu #%d: %u %.9g (count %u), naive %u %.9g (count %u)\n", i, q,
                        got->nb[i * k + q], got->dist[i * k + q], got->count[i], want->nb[i * k + q],
                        want->dist[i * k + q], want->count[i]);
                return 0;
            }
    return 1;
}
#endif
