/*
 * knn.c - the exact cross-group top-k join (see knn.h): every row's list is
 * fed only exactly measured candidates. With VNNI the lists come from the
 * exact join's int8 pass (fa_join_exact_knn, join.c); without it, sgemm
 * tiles filter each row against its current k-th distance plus a rounding
 * bound. Both feed the per-thread lists kept here.
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

fa_knn *fa_knn_alloc(size_t n, int k)
{
    fa_knn *kn = calloc(1, sizeof *kn);
    if (!kn) return NULL;
    kn->n = n; kn->k = k;
    kn->nb = malloc((n ? n : 1) * (size_t)k * sizeof *kn->nb);
    kn->dist = malloc((n ? n : 1) * (size_t)k * sizeof *kn->dist);
    kn->count = calloc(n ? n : 1, sizeof *kn->count);
    if (!kn->nb || !kn->dist || !kn->count) { fa_knn_free(kn); return NULL; }
    return kn;
}

float fa_knn_mean(const fa_knn *kn, size_t r)
{
    uint32_t c = kn->count[r];
    if (!c) return NAN;
    double s = 0;
    for (uint32_t q = 0; q < c; q++) s += kn->dist[r * kn->k + q];
    return (float)(s / c);
}

/* ---- one thread's lists ------------------------------------------------------ */

void fa_knn_lists_delete(fa_knn_lists *L, int nt)
{
    if (!L) return;
    for (int t = 0; t < nt; t++) { free(L[t].d2); free(L[t].nb); free(L[t].len); }
    free(L[0].t2); free(L[0].colt);
    free(L);
}

fa_knn_lists *fa_knn_lists_new(int nt, const uint32_t *id, const uint32_t *rid, size_t n, int k)
{
    fa_knn_lists *L = calloc(nt, sizeof *L);
    if (!L) return NULL;
    size_t n1 = n ? n : 1, npad = (n + 63) / 64 * 64 + 64;
    double *t2 = malloc(n1 * sizeof *t2);
    float *colt = malloc(npad * sizeof *colt);
    int bad = !t2 || !colt;
    for (int t = 0; t < nt; t++) {
        L[t] = (fa_knn_lists){ n, k, id, rid, malloc(n1 * (size_t)k * sizeof(double)),
                               malloc(n1 * (size_t)k * sizeof(uint32_t)), calloc(n1, 1), t2, colt };
        bad |= !L[t].d2 || !L[t].nb || !L[t].len;
    }
    if (bad) { fa_knn_lists_delete(L, nt); return NULL; }
    for (size_t i = 0; i < n; i++) t2[i] = INFINITY;
    for (size_t i = 0; i < npad; i++) colt[i] = INFINITY;
    return L;
}

/* colt: t2 (1 + 1e-9) (1 + 2^-20), rounded up to float, which the int8
 * kernel's column test assumes (join_q8.c, q8_row); 2^-19 here also covers
 * the double products' own rounding. */
static float colt_of(double t2)
{
    return fa_float_up(t2 * (1 + 1e-9) * (1 + 0x1p-19));
}

void fa_knn_lists_offer(fa_knn_lists *L, size_t i, size_t j, double d2)
{
    if (d2 > fa_knn_lists_t2(L, i)) return;   /* another list has k better */
    int l = L->len[i], k = L->k;
    double *dv = L->d2 + i * (size_t)k;
    uint32_t *nv = L->nb + i * (size_t)k, id = L->id ? L->id[j] : (uint32_t)j;
    if (l == k && !(d2 < dv[k - 1] || (d2 == dv[k - 1] && id < nv[k - 1]))) return;
    int p = l;
    while (p > 0 && (dv[p - 1] > d2 || (dv[p - 1] == d2 && nv[p - 1] > id))) p--;
    if (p > 0 && dv[p - 1] == d2 && nv[p - 1] == id) return;   /* offered before (a seed) */
    int last = l < k ? l : k - 1;
    memmove(dv + p + 1, dv + p, (size_t)(last - p) * sizeof *dv);
    memmove(nv + p + 1, nv + p, (size_t)(last - p) * sizeof *nv);
    dv[p] = d2; nv[p] = id;
    if (l < k) L->len[i] = (uint8_t)++l;
    /* a lost race leaves a larger shared value: still some list's k-th */
    if (l == k && dv[k - 1] < fa_knn_lists_t2(L, i)) {
        double t = dv[k - 1];
        float c = colt_of(t);
        __atomic_store(&L->t2[i], &t, __ATOMIC_RELAXED);
        __atomic_store(&L->colt[i], &c, __ATOMIC_RELAXED);
    }
}

/* Row i's k best of the nt lists (each sorted) into kn; a pair in two
 * lists (a seed, fa_join_exact_knn) counts once. */
static void merge_row(const fa_knn_lists *L, int nt, size_t i, fa_knn *kn)
{
    int k = kn->k, pos[64] = { 0 }, c = 0;
    double last = 0;
    size_t o = L[0].rid ? L[0].rid[i] : i;
    for (; c < k; c++) {
        int best = -1;
        for (int t = 0; t < nt; t++) {
            if (pos[t] >= L[t].len[i]) continue;
            double dv = L[t].d2[i * k + pos[t]];
            uint32_t nv = L[t].nb[i * k + pos[t]];
            if (best < 0) { best = t; continue; }
            double db = L[best].d2[i * k + pos[best]];
            if (dv < db || (dv == db && nv < L[best].nb[i * k + pos[best]])) best = t;
        }
        if (best < 0) break;
        double bd = L[best].d2[i * k + pos[best]];
        uint32_t bn = L[best].nb[i * k + pos[best]];
        pos[best]++;
        if (c && kn->nb[o * k + c - 1] == bn && last == bd) { c--; continue; }   /* in two lists */
        kn->nb[o * k + c] = bn;
        kn->dist[o * k + c] = (float)sqrt(bd);
        last = bd;
    }
    kn->count[o] = (uint32_t)c;
    for (; c < k; c++) { kn->nb[o * k + c] = UINT32_MAX; kn->dist[o * k + c] = INFINITY; }
}

void fa_knn_lists_merge(const fa_knn_lists *L, int nt, fa_knn *kn)
{
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < L[0].n; i++) merge_row(L, nt, i, kn);
}

/* ---- the fp32 path ----------------------------------------------------------- */

/* Rows [a0,a1) against every row through sgemm tiles. The tile's squared
 * distance n2_i + n2_j - 2 g_ij is within (d + 4) u (n2_i + n2_j) of the
 * exact one (the dot product's rounding, gamma_d |a||b| <= gamma_d (n2_i +
 * n2_j) / 2, plus the norms' and the three float operations'); twice that
 * is the slack, so a pair within the row's threshold always passes. */
static void knn_fp32_rows(const float *x, const float *n2, const uint32_t *group, size_t n, int d,
                          size_t a0, size_t a1, float *g, fa_knn_lists *L)
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
                if (!(approx <= L->t2[i] + slack * ((double)n2[i] + n2[j])) || group[j] == group[i]) continue;
                fa_knn_lists_offer(L, i, j, fa_l2sq_exact(x + i * d, x + j * d, d));
            }
        }
    }
}

static int knn_fp32(fa_knn *kn, const float *x, const uint32_t *group, size_t n, int d, int k,
                    int threads)
{
    int nt = threads > 0 ? threads : omp_get_max_threads();
    float *n2 = malloc((n ? n : 1) * sizeof *n2);
    fa_knn_lists *L = fa_knn_lists_new(nt, NULL, NULL, n, k);
    int failed = !n2 || !L;
    if (!failed) {
        fa_norms2(x, n, d, n2);
        int old = fa_blas_single_begin();
        size_t tiles = (n + KNN_TILE - 1) / KNN_TILE;
#pragma omp parallel num_threads(nt) reduction(|:failed)
        {
            float *g = malloc((size_t)KNN_TILE * KNN_TILE * sizeof *g);
            if (!g) failed = 1;
#pragma omp for schedule(dynamic, 1)
            for (size_t c = 0; c < tiles; c++) {
                if (failed) continue;
                size_t a0 = c * KNN_TILE, a1 = a0 + KNN_TILE < n ? a0 + KNN_TILE : n;
                knn_fp32_rows(x, n2, group, n, d, a0, a1, g, &L[omp_get_thread_num()]);
            }
            free(g);
        }
        fa_blas_single_end(old);
        if (!failed) fa_knn_lists_merge(L, nt, kn);
    }
    fa_knn_lists_delete(L, nt);
    free(n2);
    return failed ? -1 : 0;
}

int fa_knn_other(const float *x, const uint32_t *group, size_t n, const float *y,
                 const uint32_t *ygroup, const uint32_t *yid, size_t m, int d, int k, int threads,
                 fa_knn **out)
{
    *out = NULL;
    if (!fa_q8_supported() || k < 1 || k > 64) return 1;
    fa_q8set qa, qb;
    int rc = fa_q8set_make(&qa, x, n, d);
    if (rc) return rc;
    if ((rc = fa_q8set_make(&qb, y, m, d))) { fa_q8set_free(&qa); return rc; }
    int nt = threads > 0 ? threads : omp_get_max_threads(), failed = 0;
    fa_rowset A = { x, NULL, group, NULL, n, 0 }, B = { y, NULL, ygroup, yid, m, 0 };
    fa_knn_lists *L = fa_knn_lists_new(nt, yid, NULL, n, k);
    fa_knn *kn = fa_knn_alloc(n, k);
    if (!L || !kn) failed = 1;
    else {
#pragma omp parallel num_threads(nt) reduction(|:failed)
        {
            fa_join_ctx ctx;
            memset(&ctx, 0, sizeof ctx);
            ctx.knn = &L[omp_get_thread_num()];
            ctx.knn_rows_only = 1;
#pragma omp for schedule(dynamic, 1)
            for (size_t a0 = 0; a0 < n; a0 += KNN_TILE)
                fa_join_rect_q8(&ctx, &A, &qa, a0, a0 + KNN_TILE < n ? a0 + KNN_TILE : n, &B, &qb,
                                0, m, 0, d, -1.0);
            failed |= ctx.failed;
        }
        if (!failed) fa_knn_lists_merge(L, nt, kn);
    }
    fa_knn_lists_delete(L, nt);
    fa_q8set_free(&qa);
    fa_q8set_free(&qb);
    if (failed) { fa_knn_free(kn); return -1; }
    *out = kn;
    return 0;
}

int fa_knn_centres(const float *x, const uint32_t *group, size_t n, const float *centre,
                   const uint32_t *size, size_t ng, int d, int k, int threads, fa_knn **out)
{
    *out = NULL;
    if (!fa_q8_supported()) return 1;
    float *y = malloc((ng ? ng : 1) * (size_t)d * sizeof *y);
    uint32_t *yid = malloc((ng ? ng : 1) * sizeof *yid);
    int rc = -1;
    if (y && yid) {
        size_t m = 0;
        for (size_t g = 0; g < ng; g++)
            if (size[g]) {
                memcpy(y + m * d, centre + g * (size_t)d, (size_t)d * sizeof *y);
                yid[m++] = (uint32_t)g;
            }
        rc = fa_knn_other(x, group, n, y, yid, yid, m, d, k, threads, out);
    }
    free(y);
    free(yid);
    return rc;
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
    if (!fp32_only && fa_q8_supported()) {
        /* the int8 join with no pair threshold: only the lists */
        fa_join_params p = fa_join_default_params();
        p.threads = threads;
        fa_pairvec none = { 0 };
        fa_knn *kn = NULL;
        int rc = fa_join_exact_knn(x, group, n, d, -1.0f, &p, &none, NULL, k, &kn);
        fa_pairvec_free(&none);
        return rc == 0 ? kn : NULL;
    }
    fa_knn *kn = fa_knn_alloc(n, k);
    if (!kn || knn_fp32(kn, x, group, n, d, k, threads) < 0) {
        fa_knn_free(kn);
        fa_error("fa_knn_cross: out of memory");
        return NULL;
    }
    return kn;
}
