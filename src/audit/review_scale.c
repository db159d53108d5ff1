/*
 * review_scale.c - stage 1 of the review list (review_ctx.h): each face's local
 * scale (mean distance to its k nearest faces in other folders), each
 * folder's median of them, and each face's candidate other folders.
 */
#define _POSIX_C_SOURCE 200809L
#include <string.h>
#include "knn.h"
#include "review_ctx.h"

/* The folders' mean embeddings (made once, when first needed). */
static int centroids(rctx *r)
{
    if (r->centre) return 0;
    r->centre = calloc(r->ng ? r->ng * (size_t)r->d : 1, sizeof *r->centre);
    if (!r->centre) return -1;
    for (size_t g = 0; g < r->ng; g++) {
        float *c = r->centre + g * (size_t)r->d;
        for (size_t q = r->off[g]; q < r->off[g + 1]; q++)
            for (int k = 0; k < r->d; k++) c[k] += r->x[(size_t)r->idx[q] * r->d + k];
        for (int k = 0; k < r->d && gsize(r, g); k++) c[k] /= (float)gsize(r, g);
    }
    return 0;
}

/* When the k nearest faces of face i span fewer than CAND_FOLDERS other
 * folders (few, large folders), the rest of its candidates are the folders
 * with the nearest centres (exact measure, ties by folder number): every
 * face then has a runner-up for its decoy. This is the loop for CPUs
 * without the int8 kernel (fill_all). */
static void fill_candidates(rctx *r, uint32_t i, int nt)
{
    uint32_t *cand = r->cand + (size_t)i * CAND_FOLDERS;
    double best[CAND_FOLDERS];
    int want = CAND_FOLDERS - nt, got = 0;
    for (uint32_t g = 0; g < r->ng; g++) {
        int seen = g == r->grp[i] || !gsize(r, g);
        for (int t = 0; t < nt; t++) seen |= cand[t] == g;
        if (seen) continue;
        double dd = fa_l2sq_exact(r->x + (size_t)i * r->d, r->centre + (size_t)g * r->d, r->d);
        if (got == want && !(dd < best[got - 1])) continue;
        int p = got < want ? got++ : want - 1;
        while (p > 0 && best[p - 1] > dd) { best[p] = best[p - 1]; cand[nt + p] = cand[nt + p - 1]; p--; }
        best[p] = dd;
        cand[nt + p] = g;
    }
}

/* Number of candidates face i has. */
static int n_cand(const rctx *r, size_t i)
{
    int nt = 0;
    while (nt < CAND_FOLDERS && r->cand[i * CAND_FOLDERS + nt] != FA_NONE) nt++;
    return nt;
}

/* fill_candidates for the nf faces need[] at once: their CAND_FOLDERS
 * nearest other centres through the int8 kernel (knn.h; the same order),
 * of which the first not yet candidates fill in. */
static int fill_all(rctx *r, const uint32_t *need, size_t nf)
{
    if (!nf) return 0;
    if (centroids(r)) return -1;
    int d = r->d, rc = -1;
    float *xs = malloc(nf * (size_t)d * sizeof *xs);
    uint32_t *gs = malloc(nf * sizeof *gs);
    fa_knn *kn = NULL;
    if (xs && gs) {
        for (size_t q = 0; q < nf; q++) {
            memcpy(xs + q * d, r->x + (size_t)need[q] * d, (size_t)d * sizeof *xs);
            gs[q] = r->grp[need[q]];
        }
        /* the calibration's folder sizes are these folders' (same rows) */
        rc = fa_knn_centres(xs, gs, nf, r->centre, r->a->calib->size, r->ng, d, CAND_FOLDERS,
                            r->p->threads, &kn);
    }
    for (size_t q = 0; rc == 0 && q < nf; q++) {
        uint32_t *cand = r->cand + (size_t)need[q] * CAND_FOLDERS;
        int nt = n_cand(r, need[q]);
        for (uint32_t t = 0; t < kn->count[q] && nt < CAND_FOLDERS; t++) {
            uint32_t g = kn->nb[q * kn->k + t];
            int seen = 0;
            for (int u = 0; u < nt; u++) seen |= cand[u] == g;
            if (!seen) cand[nt++] = g;
        }
    }
    if (rc == 1) {   /* no int8 kernel here: the loop, on all threads */
#pragma omp parallel for schedule(dynamic, 16) num_threads(threads_of(r))
        for (size_t q = 0; q < nf; q++) fill_candidates(r, need[q], n_cand(r, need[q]));
        rc = 0;
    }
    fa_knn_free(kn);
    free(xs); free(gs);
    return rc;
}

float rv_rows_scale(rctx *r, const uint32_t *rows, size_t n)
{
    size_t m = 0;
    for (size_t q = 0; q < n; q++)
        if (!isnan(r->a->row_scale[rows[q]])) r->scratch[m++] = r->a->row_scale[rows[q]];
    return fa_median_inplace(r->scratch, m);
}

int rv_local_scales(rctx *r)
{
    /* made here when the search made none; kept for the merges (rctx.nearest) */
    if (!r->kn) r->kn = r->own_kn = fa_knn_cross(r->x, r->grp, r->n, r->d, FA_KNN_K, r->p->threads);
    const fa_knn *kn = r->kn;
    if (!kn) return -1;
    r->a->row_scale = malloc((r->n ? r->n : 1) * sizeof *r->a->row_scale);
    if (!r->a->row_scale) return -1;
    for (size_t i = 0; i < r->n; i++) r->a->row_scale[i] = fa_knn_mean(kn, i);
    for (size_t g = 0; g < r->ng; g++) r->R[g] = rv_rows_scale(r, r->idx + r->off[g], gsize(r, g));
    size_t m = 0;
    for (size_t i = 0; i < r->n; i++) if (!isnan(r->a->row_scale[i])) r->scratch[m++] = r->a->row_scale[i];
    r->Rmed = fa_median_inplace(r->scratch, m);
    /* candidate other folders per face: the first CAND_FOLDERS distinct ones */
    uint32_t *need = malloc((r->n ? r->n : 1) * sizeof *need);
    size_t nf = 0;
    if (!need) return -1;
    for (size_t i = 0; i < r->n; i++) {
        uint32_t *cand = r->cand + i * CAND_FOLDERS;
        int nt = 0;
        for (int t = 0; t < CAND_FOLDERS; t++) cand[t] = FA_NONE;
        for (uint32_t q = 0; q < kn->count[i] && nt < CAND_FOLDERS; q++) {
            uint32_t g = r->grp[kn->nb[i * kn->k + q]];
            int seen = 0;
            for (int t = 0; t < nt; t++) seen |= cand[t] == g;
            if (!seen) cand[nt++] = g;
        }
        if (nt < CAND_FOLDERS) need[nf++] = (uint32_t)i;
    }
    int rc = fill_all(r, need, nf);
    free(need);
    return rc;
}
