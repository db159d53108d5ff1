/*
 * review.c - builds the review list (see review.h) from an audit's rows, its
 * calibration, its cross-folder matches and merges, and a top-k join.
 *
 * Order of work, one file each (they share review_ctx.h): local scales and
 * candidate folders (review_scale.c), then per folder its distance matrix:
 * own medians, same-photo pairs inside it, the clusters (review_folder.c);
 * the duplicate groups (review_dup.c); the same_identity folder pairs and
 * their decoy cut (review_merge.c); the per-face misfiled / stray findings
 * and the mixed folders, each face reported once (review_face.c); the
 * misfiled decoy cut and the merges a misfiled face brings (review_merge.c);
 * ids, then the ranking (review_rank.c). This file: the state and the
 * findings' storage, and the driver.
 */
#define _POSIX_C_SOURCE 200809L
#include <string.h>
#include "review_ctx.h"

const char *fa_find_kind_name(fa_find_kind k)
{
    static const char *n[] = { "misfiled", "same_identity", "duplicate", "mixed_folder", "stray" };
    return (unsigned)k < 5 ? n[k] : "invalid";
}

const char *fa_find_action(fa_find_kind k)
{
    static const char *n[] = { "move", "merge", "keep_one", "split", "check" };
    return (unsigned)k < 5 ? n[k] : "invalid";
}

/* See review_ctx.h. */
float rv_median_between(rctx *r, const uint32_t *P, size_t np, const uint32_t *Q, size_t nq, int same)
{
    size_t mp = np < 200 ? np : 200, mq = nq < 200 ? nq : 200, k = 0;
    float *v = malloc((mp * mq > 0 ? mp * mq : 1) * sizeof *v);
    if (!v) return NAN;
    for (size_t a = 0; a < mp; a++)
        for (size_t b = same ? a + 1 : 0; b < mq; b++)
            v[k++] = rdist(r, P[a * np / mp], Q[b * nq / mq]);
    float med = fa_median_inplace(v, k);
    free(v);
    return med;
}

/* See review_ctx.h. */
uint32_t rv_nearest_other(rctx *r, size_t i, uint32_t *up, float *dist)
{
    const fa_knn *kn = r->kn;
    uint32_t own = uf_find(r->uf, r->row_file[i]), G = up ? uf_find(up, r->grp[i]) : FA_NONE;
    for (uint32_t t = 0; t < kn->count[i]; t++) {
        uint32_t j = kn->nb[i * kn->k + t];
        if (uf_find(r->uf, r->row_file[j]) == own || (up && uf_find(up, r->grp[j]) == G)) continue;
        if (dist) *dist = kn->dist[i * kn->k + t];
        return j;
    }
    return FA_NONE;
}

/* ---- findings storage -------------------------------------------------------- */

void rv_finding_free(fa_finding *f)
{
    free(f->files); free(f->cluster_end); free(f->cluster_like);
}

fa_finding *rv_new_finding(rctx *r, fa_find_kind kind)
{
    if (r->n_out == r->cap_out) {
        size_t cap = r->cap_out ? r->cap_out * 2 : 64;
        fa_finding *v = realloc(r->out, cap * sizeof *v);
        if (!v) return NULL;
        r->out = v; r->cap_out = cap;
    }
    fa_finding *f = &r->out[r->n_out++];
    memset(f, 0, sizeof *f);
    f->kind = kind;
    f->file = f->folder = f->other_file = f->other_folder = f->keep = f->by_face = FA_NONE;
    f->folder_nearest = f->other_nearest = FA_NONE;
    f->dist = f->own = f->scale = f->own_margin = f->stranger_margin = f->nearest = f->decoy = NAN;
    f->thumb_corr = NAN;
    f->image_corr = NAN;
    return f;
}

int rv_set_files(fa_finding *f, const uint32_t *files, uint32_t n)
{
    f->files = malloc((n ? n : 1) * sizeof *f->files);
    if (!f->files) return -1;
    memcpy(f->files, files, n * sizeof *files);
    f->n_files = n;
    return 0;
}

void fa_findings_free(fa_finding *v, size_t n)
{
    for (size_t k = 0; k < n; k++) rv_finding_free(&v[k]);
    free(v);
}

/* ---- the whole list ------------------------------------------------------------------ */

static int rctx_init(rctx *r)
{
    size_t n = r->n, ng = r->ng, nf = r->c->n_files;
    r->off = calloc(ng + 2, sizeof *r->off);
    r->idx = malloc((n ? n : 1) * sizeof *r->idx);
    r->file_row = malloc((nf ? nf : 1) * sizeof *r->file_row);
    r->R = malloc((ng ? ng : 1) * sizeof *r->R);
    r->fw = malloc((ng ? ng : 1) * sizeof *r->fw);
    r->fs = calloc(n ? n : 1, sizeof *r->fs);
    r->uf = malloc((nf ? nf : 1) * sizeof *r->uf);
    r->scratch = malloc((n > OTHER_MAX ? n : OTHER_MAX) * sizeof *r->scratch);
    r->cand = malloc((n ? n : 1) * CAND_FOLDERS * sizeof *r->cand);
    r->first = malloc((n ? n : 1) * sizeof *r->first);
    r->nearest = malloc((ng ? ng : 1) * sizeof *r->nearest);
    if (!r->off || !r->idx || !r->file_row || !r->R || !r->fw || !r->fs || !r->uf || !r->scratch || !r->cand ||
        !r->first || !r->nearest)
        return -1;
    for (size_t i = 0; i < n; i++) r->off[r->grp[i] + 2]++;
    for (size_t g = 0; g < ng; g++) r->off[g + 2] += r->off[g + 1];
    for (size_t i = 0; i < n; i++) r->idx[r->off[r->grp[i] + 1]++] = (uint32_t)i;
    for (size_t f = 0; f < nf; f++) { r->file_row[f] = FA_NONE; r->uf[f] = (uint32_t)f; }
    r->W = r->a->calib->within_q[5];
    r->X = r->a->calib->cross_q[5];
    if (isnan(r->W)) r->W = r->a->calib->global_spread;
    r->M = 0.5f * (r->W + r->X);
    r->G = r->X - r->W > 1e-3f * r->X ? r->X - r->W : 0.1f * r->X;   /* guard a degenerate calibration */
    for (size_t i = 0; i < n; i++) r->file_row[r->row_file[i]] = (uint32_t)i;
    return 0;
}

static void rctx_free(rctx *r)
{
    free(r->off); free(r->idx); free(r->file_row); free(r->R); free(r->fw); free(r->fs);
    free(r->uf); free(r->scratch); free(r->cand); free(r->merged); free(r->eligible); free(r->centre);
    free(r->nearest); free(r->first); fa_knn_free(r->own_kn);
    fa_findings_free(r->out, r->n_out);
}

static int review_stages(rctx *r)
{
    if (rv_local_scales(r)) return -1;
    int failed = 0;
    /* folders are independent but for the rare same-photo unions (critical) */
#pragma omp parallel for schedule(dynamic, 16) reduction(|:failed) num_threads(threads_of(r))
    for (uint32_t g = 0; g < r->ng; g++) if (!failed && rv_folder_inside(r, g)) failed = 1;
    if (failed) return -1;
    if (rv_duplicates(r) || rv_same_identity(r)) return -1;
    uint32_t *near = malloc((r->n ? r->n : 1) * sizeof *near);
    if (!near) return -1;
#pragma omp parallel num_threads(threads_of(r)) reduction(|:failed)
    {
        float *scratch = malloc(OTHER_MAX * sizeof *scratch);
        if (!scratch) failed = 1;
#pragma omp for schedule(dynamic, 256)
        for (size_t i = 0; i < r->n; i++)
            if (scratch) rv_face_candidates(r, (uint32_t)i, &near[i], scratch);
        free(scratch);
    }
    if (failed) { free(near); return -1; }
    for (uint32_t g = 0; g < r->ng; g++)
        if (rv_folder_faces(r, g, near)) { free(near); return -1; }
    free(near);
    if (rv_misfiled_cut(r) || rv_promote_merges(r)) return -1;
    return rv_rank(r);
}

int fa_review_build(fa_audit *a, const fa_cache *c, const float *x, const uint32_t *grp,
                    const uint32_t *row_file, const fa_audit_params *p, const fa_knn *kn)
{
    rctx r = { .a = a, .c = c, .x = x, .grp = grp, .row_file = row_file, .p = p, .kn = kn,
               .d = c->dim, .n = a->n_rows, .ng = c->n_folders };
    /* Cleared, so that a stage failing without a message (its allocations
     * return -1 quietly) is reported as what it is. */
    fa_error("%s", "");
    if (rctx_init(&r) || review_stages(&r)) {
        if (!fa_last_error()[0]) fa_error("review list: out of memory");
        rctx_free(&r);
        return -1;
    }
    a->findings = r.out;
    a->n_findings = r.n_out;
    for (size_t k = 0; k < r.n_out; k++) a->n_review += r.out[k].review;
    r.out = NULL; r.n_out = 0;
    rctx_free(&r);
    return 0;
}
