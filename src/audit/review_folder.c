/*
 * review_folder.c - stage 2 of the review list (review_ctx.h): inside each
 * folder, its faces' own median distances, its same-photo pairs and its
 * clusters (average linkage cut at the local midpoint M').
 */
#define _POSIX_C_SOURCE 200809L
#include <string.h>
#include "review_ctx.h"

/* Average-linkage clustering of m rows with distance matrix D (m x m, changed),
 * cut at t: lab[q] gets the cluster of row q (0..), returns the cluster count. */
static uint32_t cluster_avg(float *D, size_t m, float t, uint32_t *lab, uint32_t *size)
{
    for (size_t q = 0; q < m; q++) { lab[q] = (uint32_t)q; size[q] = 1; }
    for (;;) {
        float best = INFINITY;
        size_t ba = 0, bb = 0;
        for (size_t i = 0; i < m; i++) {
            if (!size[i]) continue;
            for (size_t j = i + 1; j < m; j++)
                if (size[j] && D[i * m + j] < best) { best = D[i * m + j]; ba = i; bb = j; }
        }
        if (!(best <= t)) break;
        float sa = (float)size[ba], sb = (float)size[bb];
        for (size_t k = 0; k < m; k++) {
            if (!size[k] || k == ba || k == bb) continue;
            float v = (sa * D[ba * m + k] + sb * D[bb * m + k]) / (sa + sb);
            D[ba * m + k] = D[k * m + ba] = v;
        }
        size[ba] += size[bb];
        size[bb] = 0;
        for (size_t q = 0; q < m; q++) if (lab[q] == bb) lab[q] = (uint32_t)ba;
    }
    /* renumber 0.. by first appearance */
    uint32_t nc = 0;
    uint32_t *map = size;           /* sizes are no longer needed */
    for (size_t q = 0; q < m; q++) map[q] = FA_NONE;
    for (size_t q = 0; q < m; q++) {
        if (map[lab[q]] == FA_NONE) map[lab[q]] = nc++;
        lab[q] = map[lab[q]];
    }
    return nc;
}

/* Own medians, same-photo pairs and clusters of folder g. */
int rv_folder_inside(rctx *r, uint32_t g)
{
    size_t m = gsize(r, g);
    const uint32_t *rows = r->idx + r->off[g];
    if (m == 0) return 0;
    if (m == 1) { r->fs[rows[0]].own_med = NAN; r->fs[rows[0]].in_own_cluster = 1; r->fw[g] = NAN; return 0; }
    float *D = malloc(m * m * sizeof *D), *v = malloc(m * m * sizeof *v);
    uint32_t *lab = malloc(m * sizeof *lab), *sz = malloc(m * sizeof *sz);
    if (!D || !v || !lab || !sz) { free(D); free(v); free(lab); free(sz); return -1; }
    size_t nv = 0;
    for (size_t i = 0; i < m; i++) {
        D[i * m + i] = 0;
        for (size_t j = i + 1; j < m; j++) {
            float dd = rdist(r, rows[i], rows[j]);
            D[i * m + j] = D[j * m + i] = dd;
            v[nv++] = dd;
            if (dd < r->p->same_photo_dist || same_pixels(r, rows[i], rows[j], dd)) {
#pragma omp critical(fa_review_uf)
                rv_same_photo(r, r->row_file[rows[i]], r->row_file[rows[j]]);
            }
        }
    }
    r->fw[g] = fa_median_inplace(v, nv);
    for (size_t i = 0; i < m; i++) {
        size_t k = 0;
        for (size_t j = 0; j < m; j++) if (j != i) v[k++] = D[i * m + j];
        r->fs[rows[i]].own_med = fa_median_inplace(v, k);
    }
    uint32_t nc = 1;
    for (size_t q = 0; q < m; q++) lab[q] = 0;
    if (m >= 3 && m <= CLUSTER_MAX) nc = cluster_avg(D, m, r->M + crowd_shift(r, r->R[g]), lab, sz);
    /* the folder's own person: the largest cluster (first on ties) */
    uint32_t *cnt = calloc(nc, sizeof *cnt), own = 0;
    if (!cnt) { free(D); free(v); free(lab); free(sz); return -1; }
    for (size_t q = 0; q < m; q++) cnt[lab[q]]++;
    for (uint32_t k = 1; k < nc; k++) if (cnt[k] > cnt[own]) own = k;
    for (size_t q = 0; q < m; q++) {
        r->fs[rows[q]].cluster = lab[q];
        r->fs[rows[q]].in_own_cluster = lab[q] == own;
    }
    free(cnt); free(D); free(v); free(lab); free(sz);
    return 0;
}
