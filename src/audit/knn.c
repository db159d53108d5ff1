/*
 * knn.c - the exact cross-group top-k join (see knn.h).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <omp.h>
#include <cblas.h>
#include "faceaudit/faceaudit.h"
#include "join.h"
#include "knn.h"

#define KNN_TILE 512

void fa_knn_free(fa_knn *kn)
{
    if (!kn) return;
    free(kn->nb); free(kn->dist); free(kn->count);
    free(kn);
}

float fa_knn_mean(const fa_knn *kn, size_t r)
{
    uint32_t c = kn->count[r];
    if (!c) return NAN;
    double s = 0;
    for (uint32_t q = 0; q < c; q++) s += kn->dist[r * kn->k + q];
    return (float)(s / c);
}

/* A row's candidate list: the m best (approximate d2, row) kept sorted. */
static void cand_insert(float *cd, uint32_t *cr, int *len, int m, float d2, uint32_t row)
{
    int l = *len;
    if (l == m && !(d2 < cd[l - 1])) return;
    int p = l < m ? l : m - 1;
    while (p > 0 && cd[p - 1] > d2) { cd[p] = cd[p - 1]; cr[p] = cr[p - 1]; p--; }
    cd[p] = d2; cr[p] = row;
    if (l < m) *len = l + 1;
}

/* Rows [a0,a1) against every row, updating their candidate lists. */
static void knn_tile_rows(const float *x, const float *n2, const uint32_t *group, size_t n, int d,
                          size_t a0, size_t a1, float *g, int m, float *cd, uint32_t *cr, int *len)
{
    for (size_t b0 = 0; b0 < n; b0 += KNN_TILE) {
        size_t b1 = b0 + KNN_TILE < n ? b0 + KNN_TILE : n;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)(a1 - a0), (int)(b1 - b0), d,
                    1.0f, x + a0 * d, d, x + b0 * d, d, 0.0f, g, KNN_TILE);
        for (size_t i = a0; i < a1; i++) {
            const float *gi = g + (i - a0) * KNN_TILE;
            float *ci = cd + (i - a0) * m;
            uint32_t *ri = cr + (i - a0) * m;
            for (size_t j = b0; j < b1; j++) {
                if (group[j] == group[i]) continue;
                float d2 = n2[i] + n2[j] - 2.0f * gi[j - b0];
                cand_insert(ci, ri, &len[i - a0], m, d2, (uint32_t)j);
            }
        }
    }
}

typedef struct { double d2; uint32_t row; } exact_cand;

static int exact_cmp(const void *x, const void *y)
{
    const exact_cand *a = x, *b = y;
    if (a->d2 != b->d2) return a->d2 < b->d2 ? -1 : 1;
    return (a->row > b->row) - (a->row < b->row);
}

/* Re-measures row i's candidates exactly and keeps the k nearest. */
static void knn_finish_row(fa_knn *kn, const float *x, int d, size_t i, const uint32_t *cr, int len)
{
    exact_cand e[64 + FA_KNN_SPARE];
    for (int q = 0; q < len; q++) e[q] = (exact_cand){ fa_l2sq_exact(x + i * d, x + (size_t)cr[q] * d, d), cr[q] };
    qsort(e, (size_t)len, sizeof *e, exact_cmp);
    int keep = len < kn->k ? len : kn->k;
    for (int q = 0; q < kn->k; q++) {
        kn->nb[i * kn->k + q] = q < keep ? e[q].row : UINT32_MAX;
        kn->dist[i * kn->k + q] = q < keep ? (float)sqrt(e[q].d2) : INFINITY;
    }
    kn->count[i] = (uint32_t)keep;
}

fa_knn *fa_knn_cross(const float *x, const uint32_t *group, size_t n, int d, int k, int threads)
{
    if (!x && n) { fa_error("fa_knn_cross: no rows"); return NULL; }
    if (d <= 0 || k < 1 || k > 64 || n >= UINT32_MAX) { fa_error("fa_knn_cross: bad arguments"); return NULL; }
    fa_knn *kn = calloc(1, sizeof *kn);
    float *n2 = malloc((n ? n : 1) * sizeof *n2);
    if (!kn || !n2) goto oom;
    kn->n = n; kn->k = k;
    kn->nb = malloc((n ? n : 1) * (size_t)k * sizeof *kn->nb);
    kn->dist = malloc((n ? n : 1) * (size_t)k * sizeof *kn->dist);
    kn->count = calloc(n ? n : 1, sizeof *kn->count);
    if (!kn->nb || !kn->dist || !kn->count) goto oom;
    fa_norms2(x, n, d, n2);
    int m = k + FA_KNN_SPARE, failed = 0;
    int old = fa_blas_single_begin();
    size_t tiles = (n + KNN_TILE - 1) / KNN_TILE;
#pragma omp parallel num_threads(threads > 0 ? threads : omp_get_max_threads()) reduction(|:failed)
    {
        float *g = malloc((size_t)KNN_TILE * KNN_TILE * sizeof *g);
        float *cd = malloc((size_t)KNN_TILE * m * sizeof *cd);
        uint32_t *cr = malloc((size_t)KNN_TILE * m * sizeof *cr);
        int *len = malloc(KNN_TILE * sizeof *len);
        if (!g || !cd || !cr || !len) failed = 1;
#pragma omp for schedule(dynamic, 1)
        for (size_t t = 0; t < tiles; t++) {
            if (failed) continue;
            size_t a0 = t * KNN_TILE, a1 = a0 + KNN_TILE < n ? a0 + KNN_TILE : n;
            memset(len, 0, KNN_TILE * sizeof *len);
            knn_tile_rows(x, n2, group, n, d, a0, a1, g, m, cd, cr, len);
            for (size_t i = a0; i < a1; i++) knn_finish_row(kn, x, d, i, cr + (i - a0) * m, len[i - a0]);
        }
        free(g); free(cd); free(cr); free(len);
    }
    fa_blas_single_end(old);
    free(n2);
    if (failed) { fa_knn_free(kn); fa_error("fa_knn_cross: out of memory"); return NULL; }
    return kn;
oom:
    free(n2);
    fa_knn_free(kn);
    fa_error("fa_knn_cross: out of memory");
    return NULL;
}
