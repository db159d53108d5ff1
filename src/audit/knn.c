/*
 * knn.c - the exact cross-group top-k join (see knn.h): every row's list is
 * fed only exactly measured candidates, filtered against the row's current
 * k-th distance by the int8 kernel of join_q8.c (its top-k mode) or, without
 * VNNI, by sgemm tiles with a rounding bound.
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

/* ---- a row tile's lists ----------------------------------------------------- */

/* Rows [base, base + KNN_TILE) of the scanned set, each with its k best
 * (exact d2, original row), best first. */
typedef struct {
    const uint32_t *id;     /* scanned row -> original row; NULL: the same */
    size_t base;
    int k;
    double *d2;             /* KNN_TILE x k */
    uint32_t *nb;           /* KNN_TILE x k, original rows */
    int *len;               /* KNN_TILE */
    double *t2;             /* by scanned row: the k-th d2 once a list is full, else inf */
} knn_tile;

static int tile_alloc(knn_tile *t, const uint32_t *id, int k, double *t2)
{
    t->id = id; t->base = 0; t->k = k; t->t2 = t2;
    t->d2 = malloc((size_t)KNN_TILE * k * sizeof *t->d2);
    t->nb = malloc((size_t)KNN_TILE * k * sizeof *t->nb);
    t->len = malloc(KNN_TILE * sizeof *t->len);
    return t->d2 && t->nb && t->len ? 0 : -1;
}

static void tile_free(knn_tile *t)
{
    free(t->d2); free(t->nb); free(t->len);
}

/* An exactly measured candidate j for row i (scanned numbering): kept when
 * it beats the row's k-th, ties by original row; the row's threshold follows.
 * Also join_q8.c's callback in its top-k mode. */
static void knn_offer(void *ud, size_t i, size_t j, double d2)
{
    knn_tile *t = ud;
    size_t r = i - t->base;
    int l = t->len[r], k = t->k;
    double *dv = t->d2 + r * k;
    uint32_t *nv = t->nb + r * k, id = t->id ? t->id[j] : (uint32_t)j;
    if (l == k && !(d2 < dv[k - 1] || (d2 == dv[k - 1] && id < nv[k - 1]))) return;
    int p = l < k ? l : k - 1;
    while (p > 0 && (dv[p - 1] > d2 || (dv[p - 1] == d2 && nv[p - 1] > id))) {
        dv[p] = dv[p - 1]; nv[p] = nv[p - 1]; p--;
    }
    dv[p] = d2; nv[p] = id;
    if (l < k) t->len[r] = ++l;
    if (l == k) t->t2[i] = dv[k - 1];
}

static void tile_begin(knn_tile *t, size_t a0, size_t a1)
{
    t->base = a0;
    memset(t->len, 0, (a1 - a0) * sizeof *t->len);
}

/* Copies the tile's lists into kn, by original row. */
static void tile_finish(const knn_tile *t, fa_knn *kn, size_t a0, size_t a1)
{
    for (size_t i = a0; i < a1; i++) {
        size_t r = i - a0, o = t->id ? t->id[i] : i;
        int l = t->len[r];
        for (int c = 0; c < kn->k; c++) {
            kn->nb[o * kn->k + c] = c < l ? t->nb[r * t->k + c] : UINT32_MAX;
            kn->dist[o * kn->k + c] = c < l ? (float)sqrt(t->d2[r * t->k + c]) : INFINITY;
        }
        kn->count[o] = (uint32_t)l;
    }
}

/* ---- the fp32 path ----------------------------------------------------------- */

/* Rows [a0,a1) against every row through sgemm tiles. The tile's squared
 * distance n2_i + n2_j - 2 g_ij is within (d + 4) u (n2_i + n2_j) of the
 * exact one (the dot product's rounding, gamma_d |a||b| <= gamma_d (n2_i +
 * n2_j) / 2, plus the norms' and the three float operations'); twice that
 * is the slack, so a pair within the row's threshold always passes. */
static void knn_fp32_rows(const float *x, const float *n2, const uint32_t *group, size_t n, int d,
                          size_t a0, size_t a1, float *g, knn_tile *t)
{
    const double slack = 2.0 * (d + 4) * 0x1p-24;
    for (size_t b0 = 0; b0 < n; b0 += KNN_TILE) {
        size_t b1 = b0 + KNN_TILE < n ? b0 + KNN_TILE : n;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)(a1 - a0), (int)(b1 - b0), d,
                    1.0f, x + a0 * d, d, x + b0 * d, d, 0.0f, g, KNN_TILE);
        for (size_t i = a0; i < a1; i++) {
            const float *gi = g + (i - a0) * KNN_TILE;
            for (size_t j = b0; j < b1; j++) {
                float approx = n2[i] + n2[j] - 2.0f * gi[j - b0];
                if (!(approx <= t->t2[i] + slack * ((double)n2[i] + n2[j])) || group[j] == group[i]) continue;
                knn_offer(t, i, j, fa_l2sq_exact(x + i * d, x + j * d, d));
            }
        }
    }
}

static int knn_fp32(fa_knn *kn, const float *x, const uint32_t *group, size_t n, int d, int k,
                    int threads, double *t2)
{
    float *n2 = malloc((n ? n : 1) * sizeof *n2);
    if (!n2) return -1;
    fa_norms2(x, n, d, n2);
    int failed = 0, old = fa_blas_single_begin();
    size_t tiles = (n + KNN_TILE - 1) / KNN_TILE;
#pragma omp parallel num_threads(threads > 0 ? threads : omp_get_max_threads()) reduction(|:failed)
    {
        knn_tile t;
        float *g = malloc((size_t)KNN_TILE * KNN_TILE * sizeof *g);
        if (tile_alloc(&t, NULL, k, t2) || !g) failed = 1;
#pragma omp for schedule(dynamic, 1)
        for (size_t c = 0; c < tiles; c++) {
            if (failed) continue;
            size_t a0 = c * KNN_TILE, a1 = a0 + KNN_TILE < n ? a0 + KNN_TILE : n;
            tile_begin(&t, a0, a1);
            knn_fp32_rows(x, n2, group, n, d, a0, a1, g, &t);
            tile_finish(&t, kn, a0, a1);
        }
        free(g);
        tile_free(&t);
    }
    fa_blas_single_end(old);
    free(n2);
    return failed ? -1 : 0;
}

/* ---- the int8 path ----------------------------------------------------------- */

/* Rows of one tile against every row: the int8 kernel thresholds each row at
 * its current k-th exact distance, and its bound lets every pair within that
 * through. */
static void knn_q8_rows(const fa_rowset *S, const fa_q8set *q, size_t a0, size_t a1, int d, knn_tile *t)
{
    fa_join_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.knn_offer = knn_offer;
    ctx.knn = t;
    ctx.knn_t2 = t->t2;
    fa_join_rect_q8(&ctx, S, q, a0, a1, S, q, 0, S->n, 0, d, INFINITY);
}

/* Returns 0, 1 when the int8 kernel cannot run here (use fp32), -1 on OOM. */
static int knn_q8(fa_knn *kn, const float *x, const uint32_t *group, size_t n, int d, int k,
                  int threads, double *t2)
{
    if (!fa_q8_supported()) return 1;
    fa_sorted_rows s;
    if (fa_sorted_make(&s, x, group, n, d) < 0) return -1;
    fa_q8set q;
    int qr = fa_q8set_make(&q, s.x, n, d);
    if (qr != 0) { fa_sorted_free(&s); return qr; }
    fa_rowset S = { s.x, s.norm2, s.group, s.id, n, 1 };
    int failed = 0;
    size_t tiles = (n + KNN_TILE - 1) / KNN_TILE;
#pragma omp parallel num_threads(threads > 0 ? threads : omp_get_max_threads()) reduction(|:failed)
    {
        knn_tile t;
        if (tile_alloc(&t, s.id, k, t2)) failed = 1;
#pragma omp for schedule(dynamic, 1)
        for (size_t c = 0; c < tiles; c++) {
            if (failed) continue;
            size_t a0 = c * KNN_TILE, a1 = a0 + KNN_TILE < n ? a0 + KNN_TILE : n;
            tile_begin(&t, a0, a1);
            knn_q8_rows(&S, &q, a0, a1, d, &t);
            tile_finish(&t, kn, a0, a1);
        }
        tile_free(&t);
    }
    fa_q8set_free(&q);
    fa_sorted_free(&s);
    return failed ? -1 : 0;
}

fa_knn *fa_knn_cross(const float *x, const uint32_t *group, size_t n, int d, int k, int threads)
{
    return fa_knn_cross_ex(x, group, n, d, k, threads, 0);
}

fa_knn *fa_knn_cross_ex(const float *x, const uint32_t *group, size_t n, int d, int k, int threads,
                        int fp32_only)
{
    if (!x && n) { fa_error("fa_knn_cross: no rows"); return NULL; }
    if (d <= 0 || k < 1 || k > 64 || n >= UINT32_MAX) { fa_error("fa_knn_cross: bad arguments"); return NULL; }
    fa_knn *kn = calloc(1, sizeof *kn);
    double *t2 = malloc((n ? n : 1) * sizeof *t2);
    if (!kn || !t2) { free(kn); free(t2); fa_error("fa_knn_cross: out of memory"); return NULL; }
    kn->n = n; kn->k = k;
    kn->nb = malloc((n ? n : 1) * (size_t)k * sizeof *kn->nb);
    kn->dist = malloc((n ? n : 1) * (size_t)k * sizeof *kn->dist);
    kn->count = calloc(n ? n : 1, sizeof *kn->count);
    for (size_t i = 0; i < n; i++) t2[i] = INFINITY;
    int rc = !(kn->nb && kn->dist && kn->count) ? -1
             : fp32_only ? 1 : knn_q8(kn, x, group, n, d, k, threads, t2);
    if (rc == 1) rc = knn_fp32(kn, x, group, n, d, k, threads, t2);
    free(t2);
    if (rc != 0) { fa_knn_free(kn); fa_error("fa_knn_cross: out of memory"); return NULL; }
    return kn;
}
