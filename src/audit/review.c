/*
 * review.c - builds the review list (see review.h) from an audit's rows, its
 * calibration, its cross-folder matches and merges, and a top-k join.
 *
 * Order of work: local scales (k-NN), then per folder its distance matrix
 * (own medians, same-photo pairs inside it, the clusters), the duplicate
 * groups (identical bytes or same photo, via union-find over files), the
 * same_identity folder pairs, then the per-face misfiled / stray findings and
 * the mixed folders, each face reported once; ids, then the ranking.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <omp.h>
#include "faceaudit/faceaudit.h"
#include "fdr.h"
#include "findings.h"
#include "sha256.h"
#include "thumb.h"

#define CAND_FOLDERS 3      /* other folders tried per face (from its k-NN) */
#define OTHER_MAX 256       /* faces of a candidate folder measured per face */
#define CLUSTER_MAX 600     /* folders larger than this are not clustered */
#define REVIEW_MIN 0.5f    /* evidence (margins, in gaps G) a finding needs for review */
#define DECOY_FACES 4       /* faces of a folder whose runner-up folders are tried */

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

/* Per-face state while the list is built. */
typedef struct {
    uint32_t best;          /* best other folder (FA_NONE) */
    float score, own_m, str_m, dist, nearest;
    float decoy;            /* the score with the runner-up folder (-inf: none) */
    uint32_t matches, own_nearer;
    float own_med;          /* median distance to folder-mates (NaN alone) */
    float ml;               /* the local midpoint M for its best folder */
    uint32_t cluster;       /* cluster number inside its folder */
    int in_own_cluster, dup, covered;
} face_state;

typedef struct {
    fa_audit *a;
    const fa_cache *c;
    const float *x;
    const uint32_t *grp, *row_file;
    const fa_audit_params *p;
    int d;
    size_t n, ng;
    size_t *off;            /* rows of folder g: idx[off[g] .. off[g+1]) */
    uint32_t *idx;
    uint32_t *file_row;     /* file -> row (FA_NONE) */
    float *R;               /* per folder: median of its rows' r_i */
    float *fw;              /* per folder: median within distance (NaN < 2 rows) */
    face_state *fs;
    uint32_t *uf;           /* union-find over files */
    fa_finding *out;
    size_t n_out, cap_out;
    uint64_t *merged;       /* folder-pair keys of same_identity in review, sorted */
    size_t n_merged;
    uint64_t *eligible;     /* same_identity before the decoy cut: key, then index in out */
    size_t n_eligible;
    float *scratch;         /* n floats */
    float W, X, M, G;       /* typical same-person and different-person distances
                               (calibration medians), their midpoint and gap */
    float Rmed;             /* median local scale over all faces */
    uint32_t *cand;         /* n x CAND_FOLDERS candidate other folders */
    const fa_knn *kn;       /* the search's top-k lists (NULL: made here) */
    float *centre;          /* ng x d folder means (NULL until needed) */
} rctx;

/* Distances for the ranking's statistics (medians of many): in float
 * (fa_l2_stat); the pairs themselves come from the exact join
 * (fa_l2sq_exact, double). */
static float rdist(const rctx *r, uint32_t i, uint32_t j)
{
    return fa_l2_stat(r->x + (size_t)i * r->d, r->x + (size_t)j * r->d, r->d);
}

/* Median distance between rows P[0..np) and Q[0..nq) (sampled to 200 x 200). */
static float median_between(rctx *r, const uint32_t *P, size_t np, const uint32_t *Q, size_t nq, int same)
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

static size_t gsize(const rctx *r, uint32_t g) { return r->off[g + 1] - r->off[g]; }

/* Correlation of two rows' face thumbnails (NaN: none). */
static float row_thumb_corr(const rctx *r, uint32_t i, uint32_t j)
{
    return fa_thumb_corr(fa_thumb_of(r->c, r->a->row_face[i]), fa_thumb_of(r->c, r->a->row_face[j]));
}

/* Two faces of one person by the encoder that are one photo by the pixels:
 * another crop, size or encoding of it (thumb.h). */
static int same_pixels(const rctx *r, uint32_t i, uint32_t j, float dist)
{
    return dist <= r->a->threshold && row_thumb_corr(r, i, j) >= FA_THUMB_SAME;
}

/* Threads for the parallel stages (--threads; 0: OpenMP's default). */
static int threads_of(const rctx *r) { return r->p->threads > 0 ? r->p->threads : omp_get_max_threads(); }

/* The local scale of a folder pair: the mean of the two folders' scales. */
static float pair_scale(const rctx *r, uint32_t ga, uint32_t gb)
{
    float a = r->R[ga], b = r->R[gb];
    return isnan(a) ? b : isnan(b) ? a : 0.5f * (a + b);
}

/* How much more (negative) or less crowded than usual a region is: a local
 * scale minus the median one. Shifts the boundaries M and X (see review.h). */
static float crowd_shift(const rctx *r, float R)
{
    return isnan(R) || isnan(r->Rmed) ? 0.0f : R - r->Rmed;
}

/* ---- union-find over files ------------------------------------------------- */

static uint32_t uf_find(uint32_t *uf, uint32_t v)
{
    while (uf[v] != v) { uf[v] = uf[uf[v]]; v = uf[v]; }
    return v;
}

static void uf_union(uint32_t *uf, uint32_t a, uint32_t b)
{
    a = uf_find(uf, a); b = uf_find(uf, b);
    if (a != b) uf[a > b ? a : b] = a < b ? a : b;
}

/* ---- findings storage -------------------------------------------------------- */

static void finding_free(fa_finding *f)
{
    free(f->files); free(f->cluster_end); free(f->cluster_like);
}

static fa_finding *new_finding(rctx *r, fa_find_kind kind)
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
    f->dist = f->own = f->scale = f->own_margin = f->stranger_margin = f->nearest = f->decoy = NAN;
    f->thumb_corr = NAN;
    return f;
}

static int set_files(fa_finding *f, const uint32_t *files, uint32_t n)
{
    f->files = malloc((n ? n : 1) * sizeof *f->files);
    if (!f->files) return -1;
    memcpy(f->files, files, n * sizeof *files);
    f->n_files = n;
    return 0;
}

/* ---- stage 1: local scales -------------------------------------------------- */

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

static int local_scales(rctx *r)
{
    fa_knn *own = r->kn ? NULL : fa_knn_cross(r->x, r->grp, r->n, r->d, FA_KNN_K, r->p->threads);
    const fa_knn *kn = r->kn ? r->kn : own;
    if (!kn) return -1;
    r->a->row_scale = malloc((r->n ? r->n : 1) * sizeof *r->a->row_scale);
    if (!r->a->row_scale) { fa_knn_free(own); return -1; }
    for (size_t i = 0; i < r->n; i++) r->a->row_scale[i] = fa_knn_mean(kn, i);
    for (size_t g = 0; g < r->ng; g++) {
        size_t m = 0;
        for (size_t q = r->off[g]; q < r->off[g + 1]; q++)
            if (!isnan(r->a->row_scale[r->idx[q]])) r->scratch[m++] = r->a->row_scale[r->idx[q]];
        r->R[g] = fa_median_inplace(r->scratch, m);
    }
    size_t m = 0;
    for (size_t i = 0; i < r->n; i++) if (!isnan(r->a->row_scale[i])) r->scratch[m++] = r->a->row_scale[i];
    r->Rmed = fa_median_inplace(r->scratch, m);
    /* candidate other folders per face: the first CAND_FOLDERS distinct ones */
    uint32_t *need = malloc((r->n ? r->n : 1) * sizeof *need);
    size_t nf = 0;
    if (!need) { fa_knn_free(own); return -1; }
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
    fa_knn_free(own);
    return rc;
}

/* ---- stage 2: inside each folder ------------------------------------------- */

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

/* Two files whose faces are the same photo are one duplicate group, unless
 * one holds several faces: a group photo and a portrait cut from it (or a
 * second group photo) are different files about different people. */
static void same_photo(rctx *r, uint32_t fa, uint32_t fb)
{
    if (r->c->files[fa].n_faces == 1 && r->c->files[fb].n_faces == 1) uf_union(r->uf, fa, fb);
}

/* Own medians, same-photo pairs and clusters of folder g. */
static int folder_inside(rctx *r, uint32_t g)
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
                same_photo(r, r->row_file[rows[i]], r->row_file[rows[j]]);
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

/* ---- stage 3: duplicates ------------------------------------------------------ */

typedef struct { const uint8_t *sha; uint32_t file; } sha_ref;

static int sha_ref_cmp(const void *x, const void *y)
{
    const sha_ref *a = x, *b = y;
    int c = memcmp(a->sha, b->sha, 32);
    return c ? c : (a->file > b->file) - (a->file < b->file);
}

static int union_identical(rctx *r)
{
    const fa_cache *c = r->c;
    sha_ref *h = malloc((c->n_files ? c->n_files : 1) * sizeof *h);
    if (!h) return -1;
    size_t n = 0;
    for (size_t f = 0; f < c->n_files; f++)
        if (c->files[f].has_sha256) h[n++] = (sha_ref){ c->files[f].sha256, (uint32_t)f };
    qsort(h, n, sizeof *h, sha_ref_cmp);
    for (size_t k = 1; k < n; k++)
        if (memcmp(h[k].sha, h[k - 1].sha, 32) == 0) uf_union(r->uf, h[k].file, h[k - 1].file);
    free(h);
    for (size_t k = 0; k < r->a->n_matches; k++) {
        const fa_match *mt = &r->a->matches[k];
        uint32_t ra = r->file_row[mt->file_a], rb = r->file_row[mt->file_b];
        if (mt->kind == FA_MATCH_SAME_PHOTO ||
            (mt->kind == FA_MATCH_SAME_PERSON && ra != FA_NONE && rb != FA_NONE && same_pixels(r, ra, rb, mt->dist)))
            same_photo(r, mt->file_a, mt->file_b);
    }
    return 0;
}

/* How well a file fits its folder (smaller is better): its own median
 * distance; a file without a face or alone in its folder fits worst. */
static float file_fit(const rctx *r, uint32_t f)
{
    uint32_t row = r->file_row[f];
    if (row == FA_NONE || isnan(r->fs[row].own_med)) return INFINITY;
    return r->fs[row].own_med;
}

static int same_sha(const fa_cache *c, uint32_t a, uint32_t b)
{
    return c->files[a].has_sha256 && c->files[b].has_sha256 &&
           memcmp(c->files[a].sha256, c->files[b].sha256, 32) == 0;
}

/* Which of two copies to keep. In two folders: the one that fits its folder
 * better (the other is the misfiled copy). In one folder, where the fits
 * differ by noise: the one with more pixels, then more bytes (a resized or
 * re-encoded copy is the smaller). Then the shorter path ("x.jpg" over
 * "x (1).jpg"), then the first. */
static int better_kept(const rctx *r, uint32_t a, uint32_t b)
{
    const fa_file *A = &r->c->files[a], *B = &r->c->files[b];
    if (A->folder == B->folder) {
        int64_t pa = (int64_t)A->width * A->height, pb = (int64_t)B->width * B->height;
        if (pa != pb) return pa > pb;
        if (A->size != B->size) return A->size > B->size;
    } else {
        float fa = file_fit(r, a), fb = file_fit(r, b);
        if (fa != fb) return fa < fb;
    }
    size_t la = strlen(A->path), lb = strlen(B->path);
    return la < lb || (la == lb && a < b);
}

/* What file f of a duplicate group is reported against: the kept file, or,
 * when f's bytes are not the kept file's but another member's, the first
 * such member (which is itself reported against the kept file): a byte copy
 * is then told as one, and no two files are each told to keep the other. */
static uint32_t twin_of(const rctx *r, const uint32_t *mem, size_t k, uint32_t f, uint32_t keep)
{
    const fa_cache *c = r->c;
    if (same_sha(c, f, keep)) return keep;
    uint32_t best = f;   /* the class's member to keep, chosen as the group's keep is */
    for (size_t t = 0; t < k; t++)
        if (same_sha(c, mem[t], f) && better_kept(r, mem[t], best)) best = mem[t];
    return best == f ? keep : best;
}

/* One finding per file of the group but the one kept. */
static int dup_group(rctx *r, const uint32_t *mem, size_t k)
{
    const fa_cache *c = r->c;
    uint32_t keep = mem[0];
    int shared = 1, folders = 0;
    for (size_t q = 0; q < k; q++) {
        if (better_kept(r, mem[q], keep)) keep = mem[q];
        shared &= c->files[mem[q]].n_faces > 1 && same_sha(c, mem[q], mem[0]);
        folders |= c->files[mem[q]].folder != c->files[mem[0]].folder;
    }
    /* a group photo filed under each of its people is not a mistake */
    shared &= folders;
    for (size_t q = 0; q < k; q++) {
        if (mem[q] == keep) continue;
        uint32_t other = twin_of(r, mem, k, mem[q], keep);
        fa_finding *f = new_finding(r, FA_FIND_DUPLICATE);
        uint32_t two[2] = { mem[q], other };
        if (!f || set_files(f, two, 2)) return -1;
        f->file = mem[q]; f->folder = c->files[mem[q]].folder;
        f->other_file = other; f->other_folder = c->files[other].folder;
        f->keep = other;
        f->own_size = (uint32_t)gsize(r, f->folder);
        f->other_size = (uint32_t)gsize(r, f->other_folder);
        f->identical = same_sha(c, mem[q], other);
        uint32_t ra = r->file_row[mem[q]], rb = r->file_row[other];
        int rows = ra != FA_NONE && rb != FA_NONE;
        f->dist = f->identical ? 0.0f : (rows ? rdist(r, ra, rb) : NAN);
        f->thumb_corr = !f->identical && rows ? row_thumb_corr(r, ra, rb) : NAN;
        /* a fact, then the surer of the two signs of one photo (fmaxf skips
         * a NaN: a sign not measured) */
        float by_dist = 1.0f - f->dist / fmaxf(r->p->same_photo_dist, 1e-6f);
        float by_pixels = (f->thumb_corr - FA_THUMB_SAME) / (1.0f - FA_THUMB_SAME);
        f->score = f->identical ? 3.0f : 2.0f + fminf(1.0f, fmaxf(0.0f, fmaxf(by_dist, by_pixels)));
        /* a copy inside one folder that is not the same bytes may be two
         * photos of one pose, unless the pixels say one photo: listed, not
         * for review */
        int pixels = f->thumb_corr >= FA_THUMB_SAME;
        f->review = !shared && (f->identical || f->folder != f->other_folder || pixels);
        if (shared) f->score = 0.0f;
        if (ra != FA_NONE) r->fs[ra].dup = 1;
    }
    return 0;
}

static int duplicates(rctx *r)
{
    size_t nf = r->c->n_files;
    uint32_t *order = malloc((nf ? nf : 1) * sizeof *order), *root = malloc((nf ? nf : 1) * sizeof *root);
    if (!order || !root) { free(order); free(root); return -1; }
    for (size_t f = 0; f < nf; f++) root[f] = uf_find(r->uf, (uint32_t)f);
    /* files ordered by group root (counting sort) */
    size_t *cnt = calloc(nf + 1, sizeof *cnt);
    if (!cnt) { free(order); free(root); return -1; }
    for (size_t f = 0; f < nf; f++) cnt[root[f] + 1]++;
    for (size_t f = 0; f < nf; f++) cnt[f + 1] += cnt[f];
    for (size_t f = 0; f < nf; f++) order[cnt[root[f]]++] = (uint32_t)f;
    int rc = 0;
    for (size_t s = 0, e; s < nf && rc == 0; s = e) {
        for (e = s + 1; e < nf && root[order[e]] == root[order[s]]; e++) {}
        if (e - s >= 2) rc = dup_group(r, order + s, e - s);
    }
    free(cnt); free(order); free(root);
    return rc;
}

/* ---- stage 4: folders that are one person ------------------------------------ */

static int u64cmp(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return (a > b) - (a < b);
}

/* The sort key of a folder pair, either way round. */
static uint64_t pair_key(uint32_t ga, uint32_t gb)
{
    return (uint64_t)(ga < gb ? ga : gb) << 32 | (ga < gb ? gb : ga);
}

/* Example files of a merge: the files of its nearest matching pair. */
static void merge_example(const rctx *r, uint32_t ga, uint32_t gb, uint32_t *fa_out, uint32_t *fb_out)
{
    float best = INFINITY;
    *fa_out = r->row_file[r->idx[r->off[ga]]];
    *fb_out = r->row_file[r->idx[r->off[gb]]];
    for (size_t k = 0; k < r->a->n_matches; k++) {
        const fa_match *m = &r->a->matches[k];
        if (m->dist >= best) continue;
        /* a copy is reported by its duplicate finding, not as an example */
        uint32_t ra = r->file_row[m->file_a], rb = r->file_row[m->file_b];
        if ((ra != FA_NONE && r->fs[ra].dup) || (rb != FA_NONE && r->fs[rb].dup)) continue;
        if (m->folder_a == ga && m->folder_b == gb) { *fa_out = m->file_a; *fb_out = m->file_b; best = m->dist; }
        else if (m->folder_a == gb && m->folder_b == ga) { *fa_out = m->file_b; *fb_out = m->file_a; best = m->dist; }
    }
}

/* The margins of folders A and B as one person (m: their statistics) and
 * the score: their sum, times the root of the smaller folder's size when
 * positive. *Ml_out: the local midpoint M'. */
static float merge_score(const rctx *r, const fa_merge *m, float *own_out, float *str_out, float *Ml_out)
{
    float R = pair_scale(r, m->folder_a, m->folder_b), Ml = r->M + crowd_shift(r, R);
    float inside = isnan(m->inside) ? r->W : m->inside;
    /* own: nearer than two people usually are, less any excess over the
     * folders' inside distances (look-alike folders are tight inside) */
    float Xl = r->X + crowd_shift(r, R);
    float own_m = ((Xl - m->across) - fmaxf(0.0f, m->across - inside)) / r->G;
    float str_m = (Ml - m->across) / r->G;
    if (own_out) *own_out = own_m;
    if (str_out) *str_out = str_m;
    if (Ml_out) *Ml_out = Ml;
    if (!(own_m + str_m > 0)) return own_m + str_m;
    /* folder-level evidence: the margins are medians over every pair of
     * the two folders, so they rest on as many independent faces as the
     * smaller folder holds; like a z-score, weigh them by its root */
    uint32_t n_small = m->size_a < m->size_b ? m->size_a : m->size_b;
    return (own_m + str_m) * sqrtf((float)(n_small ? n_small : 1));
}

/* The statistics of folders g and h from sampled pairs (for folders the
 * audit's join did not pair: lone one-photo folders, runner-ups). */
static void sample_merge(rctx *r, uint32_t g, uint32_t h, fa_merge *mm)
{
    memset(mm, 0, sizeof *mm);
    mm->folder_a = g < h ? g : h; mm->folder_b = g < h ? h : g;
    mm->size_a = (uint32_t)gsize(r, mm->folder_a); mm->size_b = (uint32_t)gsize(r, mm->folder_b);
    mm->across = median_between(r, r->idx + r->off[g], gsize(r, g), r->idx + r->off[h], gsize(r, h), 0);
    float wa = r->fw[g], wb = r->fw[h];
    mm->inside = isnan(wa) ? wb : isnan(wb) ? wa : 0.5f * (wa + wb);
}

/* The decoy of merging ga into gb: the best score of ga with a runner-up
 * folder (the first other candidate of up to DECOY_FACES of its faces). */
static float merge_decoy(rctx *r, uint32_t ga, uint32_t gb)
{
    uint32_t tried[DECOY_FACES];
    int nt = 0;
    float best = -INFINITY;
    for (size_t q = r->off[ga]; q < r->off[ga + 1] && q < r->off[ga] + DECOY_FACES; q++) {
        const uint32_t *cand = r->cand + (size_t)r->idx[q] * CAND_FOLDERS;
        uint32_t gc = FA_NONE;
        for (int t = 0; t < CAND_FOLDERS && gc == FA_NONE; t++)
            if (cand[t] != FA_NONE && cand[t] != gb && cand[t] != ga) gc = cand[t];
        int seen = gc == FA_NONE;
        for (int k = 0; k < nt; k++) seen |= tried[k] == gc;
        if (seen) continue;
        tried[nt++] = gc;
        fa_merge mm;
        sample_merge(r, ga, gc, &mm);
        best = fmaxf(best, merge_score(r, &mm, NULL, NULL, NULL));
    }
    return best;
}

/* A merge's files: those that move, every file of its other folder. */
static int merge_files(rctx *r, fa_finding *f)
{
    uint32_t gb = f->other_folder;
    free(f->files);
    f->n_files = 0;
    f->files = malloc((gsize(r, gb) ? gsize(r, gb) : 1) * sizeof *f->files);
    if (!f->files) return -1;
    for (size_t q = r->off[gb]; q < r->off[gb + 1]; q++) f->files[f->n_files++] = r->row_file[r->idx[q]];
    return 0;
}

/* One same_identity finding for a folder pair (m: its statistics). */
static int merge_finding(rctx *r, const fa_merge *m)
{
    float own_m, str_m, Ml;
    float score = merge_score(r, m, &own_m, &str_m, &Ml);
    if (!(score > 0)) return 0;
    float inside = isnan(m->inside) ? r->W : m->inside;
    /* merge the smaller folder into the larger */
    int swap = m->size_b > m->size_a || (m->size_b == m->size_a &&
               strcmp(r->c->folders[m->folder_b], r->c->folders[m->folder_a]) < 0);
    uint32_t ga = swap ? m->folder_b : m->folder_a, gb = swap ? m->folder_a : m->folder_b;
    fa_finding *f = new_finding(r, FA_FIND_SAME_IDENTITY);
    if (!f) return -1;
    f->folder = ga; f->other_folder = gb;
    merge_example(r, ga, gb, &f->file, &f->other_file);
    f->dist = m->across; f->own = inside; f->scale = pair_scale(r, m->folder_a, m->folder_b);
    f->own_margin = own_m; f->stranger_margin = str_m;
    f->score = score;
    f->nearest = m->min_dist;
    f->matches = m->pairs;
    f->own_size = (uint32_t)gsize(r, ga); f->other_size = (uint32_t)gsize(r, gb);
    /* eligible (the decoy cut, fdr.h, decides): a pair within the threshold,
     * and either half a gap of evidence with the faces across nearer than the
     * local midpoint, or, for two folders of several faces, faces across as
     * near as the faces inside (the mix rule of findings.h, --merge-max-mix;
     * in a crowded dataset one person's faces lie beyond the midpoint) */
    int mix_ok = m->size_a >= 2 && m->size_b >= 2 && m->across <= r->p->merge_max_mix * inside;
    f->review = m->pairs > 0 && ((m->across < Ml && own_m + str_m >= REVIEW_MIN) || (mix_ok && score >= REVIEW_MIN));
    f->decoy = merge_decoy(r, ga, gb);
    return merge_files(r, f);
}

/* A one-photo folder whose face has no pair within the threshold with its
 * nearest folder still gets that folder pair judged (never in review: the
 * calibrated threshold is not met), so a split-off photo is listed. */
static int lone_merges(rctx *r, const uint64_t *keys, size_t nk)
{
    for (uint32_t g = 0; g < r->ng; g++) {
        if (gsize(r, g) != 1) continue;
        uint32_t i = r->idx[r->off[g]], gb = r->cand[(size_t)i * CAND_FOLDERS];
        if (gb == FA_NONE) continue;
        uint64_t key = pair_key(g, gb);
        if (nk && bsearch(&key, keys, nk, sizeof key, u64cmp)) continue;
        size_t nb = gsize(r, gb), m = nb < OTHER_MAX ? nb : OTHER_MAX;
        float nearest = INFINITY;
        for (size_t q = 0; q < m; q++) {
            r->scratch[q] = rdist(r, i, r->idx[r->off[gb] + q * nb / m]);
            nearest = fminf(nearest, r->scratch[q]);
        }
        fa_merge mm;
        memset(&mm, 0, sizeof mm);
        mm.folder_a = g < gb ? g : gb; mm.folder_b = g < gb ? gb : g;
        mm.size_a = (uint32_t)gsize(r, mm.folder_a); mm.size_b = (uint32_t)gsize(r, mm.folder_b);
        mm.across = fa_median_inplace(r->scratch, m);
        mm.inside = r->fw[gb];
        mm.min_dist = nearest;
        if (merge_finding(r, &mm)) return -1;
    }
    return 0;
}

/* The review cut of one kind (fdr.h): its eligible findings (review set)
 * stay in review when they score at least the cut, in *cut. */
static int decoy_cut(rctx *r, fa_find_kind kind, float *cut)
{
    float *t = malloc((r->n_out ? r->n_out : 1) * sizeof *t), *d = malloc((r->n_out ? r->n_out : 1) * sizeof *d);
    if (!t || !d) { free(t); free(d); return -1; }
    size_t m = 0;
    for (size_t k = 0; k < r->n_out; k++)
        if (r->out[k].kind == kind && r->out[k].review) { t[m] = r->out[k].score; d[m++] = r->out[k].decoy; }
    *cut = fa_fdr_cut(t, d, m, r->p->review_fdr);
    free(t); free(d);
    if (isnan(*cut)) return -1;
    for (size_t k = 0; k < r->n_out; k++)
        if (r->out[k].kind == kind) r->out[k].review = r->out[k].review && r->out[k].score >= *cut;
    return 0;
}

/* The same_identity findings eligible for review before the decoy cut, as
 * (folder-pair key, index in out) sorted by key: a misfiled face can bring
 * its folder's merge into review (promote_merges). */
static int note_eligible(rctx *r)
{
    size_t m = 0;
    for (size_t k = 0; k < r->n_out; k++) m += r->out[k].kind == FA_FIND_SAME_IDENTITY && r->out[k].review;
    r->eligible = malloc((m ? m : 1) * 2 * sizeof *r->eligible);
    if (!r->eligible) return -1;
    for (size_t k = 0; k < r->n_out; k++) {
        const fa_finding *f = &r->out[k];
        if (f->kind != FA_FIND_SAME_IDENTITY || !f->review) continue;
        r->eligible[2 * r->n_eligible] = pair_key(f->folder, f->other_folder);
        r->eligible[2 * r->n_eligible++ + 1] = k;
    }
    qsort(r->eligible, r->n_eligible, 2 * sizeof *r->eligible, u64cmp);
    return 0;
}

static int same_identity(rctx *r)
{
    const fa_audit *a = r->a;
    size_t n = a->n_merges;
    r->merged = malloc((n + r->ng + 1) * sizeof *r->merged);   /* the merges and lone folders */
    uint64_t *keys = malloc((n ? n : 1) * sizeof *keys);
    if (!r->merged || !keys) { free(keys); return -1; }
    for (size_t k = 0; k < n; k++) {
        keys[k] = pair_key(a->merges[k].folder_a, a->merges[k].folder_b);
        if (merge_finding(r, &a->merges[k])) { free(keys); return -1; }
    }
    qsort(keys, n, sizeof *keys, u64cmp);
    int rc = lone_merges(r, keys, n);
    free(keys);
    if (rc || note_eligible(r) || decoy_cut(r, FA_FIND_SAME_IDENTITY, &r->a->review_cut_merge)) return -1;
    for (size_t k = 0; k < r->n_out; k++) {
        const fa_finding *f = &r->out[k];
        if (f->kind != FA_FIND_SAME_IDENTITY || !f->review) continue;
        r->merged[r->n_merged++] = pair_key(f->folder, f->other_folder);
    }
    qsort(r->merged, r->n_merged, sizeof *r->merged, u64cmp);
    return 0;
}

static int is_merged(const rctx *r, uint32_t ga, uint32_t gb)
{
    uint64_t key = pair_key(ga, gb);
    return r->n_merged && bsearch(&key, r->merged, r->n_merged, sizeof key, u64cmp) != NULL;
}

/* ---- stage 5: faces -------------------------------------------------------------- */

/* Tries face i's candidate folders; keeps the best in fs[i]. scratch:
 * OTHER_MAX floats (faces are independent: threads share them out). */
static void face_candidates(rctx *r, uint32_t i, uint32_t *nearest_row, float *scratch)
{
    face_state *s = &r->fs[i];
    uint32_t ga = r->grp[i];
    s->best = FA_NONE;
    s->score = s->decoy = -INFINITY;
    *nearest_row = FA_NONE;
    if (gsize(r, ga) < 2) return;
    for (int t = 0; t < CAND_FOLDERS; t++) {
        uint32_t gb = r->cand[(size_t)i * CAND_FOLDERS + t];
        if (gb == FA_NONE) break;
        /* one photo does not define a person: that pair is a same_identity question */
        if (gsize(r, gb) < 2) continue;
        size_t nb = gsize(r, gb), m = nb < OTHER_MAX ? nb : OTHER_MAX;
        uint32_t matches = 0, near_row = FA_NONE;
        float nearest = INFINITY;
        for (size_t q = 0; q < m; q++) {
            uint32_t j = r->idx[r->off[gb] + q * nb / m];
            float dd = rdist(r, i, j);
            scratch[q] = dd;
            matches += dd <= r->a->threshold;
            if (dd < nearest) { nearest = dd; near_row = j; }
        }
        float dB = fa_median_inplace(scratch, m), R = pair_scale(r, ga, gb), Ml = r->M + crowd_shift(r, R);
        float own_m = (s->own_med - dB) / r->G, str_m = (Ml - dB) / r->G;
        if (!(own_m + str_m > s->score)) { s->decoy = fmaxf(s->decoy, own_m + str_m); continue; }
        s->decoy = s->score;
        s->best = gb; s->score = own_m + str_m; s->own_m = own_m; s->str_m = str_m;
        s->dist = dB; s->nearest = nearest; s->matches = matches; s->ml = Ml;
        *nearest_row = near_row;
    }
    if (s->best == FA_NONE) return;
    uint32_t own_nearer = 0;
    for (size_t q = r->off[ga]; q < r->off[ga + 1]; q++)
        if (r->idx[q] != i && rdist(r, i, r->idx[q]) < s->dist) own_nearer++;
    s->own_nearer = own_nearer;
}

/* Face i is misfiled with evidence enough for review (before the decoy
 * cut): nearer B than the local midpoint, a face of B within the threshold,
 * and half a gap of evidence; a full gap when its own folder is nearer than
 * the midpoint too (a face of a crowded folder is near several). */
static int fits_elsewhere(const rctx *r, uint32_t i)
{
    const face_state *s = &r->fs[i];
    return s->best != FA_NONE && s->matches > 0 && s->dist < s->ml && s->score >= REVIEW_MIN &&
           (s->own_med > s->ml || s->score >= 2 * REVIEW_MIN);
}

static int add_misfiled(rctx *r, uint32_t i, uint32_t near_row)
{
    const face_state *s = &r->fs[i];
    fa_finding *f = new_finding(r, FA_FIND_MISFILED);
    uint32_t file = r->row_file[i];
    if (!f || set_files(f, &file, 1)) return -1;
    f->file = file; f->folder = r->grp[i];
    f->other_folder = s->best;
    f->other_file = near_row != FA_NONE ? r->row_file[near_row] : FA_NONE;
    f->dist = s->dist; f->own = s->own_med; f->scale = pair_scale(r, f->folder, s->best);
    f->own_margin = s->own_m; f->stranger_margin = s->str_m; f->score = s->score;
    f->nearest = s->nearest; f->matches = s->matches; f->own_nearer = s->own_nearer;
    f->own_size = (uint32_t)gsize(r, f->folder); f->other_size = (uint32_t)gsize(r, s->best);
    f->decoy = s->decoy;
    /* eligible; the decoy cut (fdr.h) decides */
    f->review = fits_elsewhere(r, i);
    return 0;
}

/* The most common best folder among rows (FA_NONE when none has one). */
static uint32_t majority_best(const rctx *r, const uint32_t *rows, size_t n)
{
    uint32_t best = FA_NONE, best_n = 0;
    for (size_t a = 0; a < n; a++) {
        uint32_t g = r->fs[rows[a]].best, k = 0;
        if (g == FA_NONE) continue;
        for (size_t b = 0; b < n; b++) k += r->fs[rows[b]].best == g;
        if (k > best_n) { best = g; best_n = k; }
    }
    return best;
}

static int add_stray(rctx *r, uint32_t i, const uint32_t *own, size_t n_own)
{
    uint32_t ga = r->grp[i];
    float x = median_between(r, &i, 1, own, n_own, 0), R = r->R[ga], w = r->fw[ga];
    float Xl = r->X + crowd_shift(r, R);
    float own_m = (x - w) / r->G - 0.5f, str_m = (x - Xl) / r->G;
    if (!(own_m + str_m > 0) && !(x > Xl)) return 0;
    fa_finding *f = new_finding(r, FA_FIND_STRAY);
    uint32_t file = r->row_file[i];
    if (!f || set_files(f, &file, 1)) return -1;
    f->file = file; f->folder = ga;
    f->dist = x; f->own = w; f->scale = R; f->own_margin = own_m; f->stranger_margin = str_m;
    f->score = own_m + str_m; f->own_size = (uint32_t)gsize(r, ga);
    f->review = x > Xl && f->score >= REVIEW_MIN;
    return 0;
}

/* Folder g's mixed clusters (rows mix[0..nm), cluster ends in ends[0..nc)). */
static int add_mixed(rctx *r, uint32_t g, const uint32_t *own, size_t n_own,
                     const uint32_t *mix, size_t nm, const uint32_t *ends, uint32_t nc)
{
    float x = median_between(r, own, n_own, mix, nm, 0), R = r->R[g];
    float w = n_own >= 2 ? median_between(r, own, n_own, own, n_own, 1) : r->fw[g];
    float Ml = r->M + crowd_shift(r, R);
    float own_m = (x - w) / r->G - 0.5f, str_m = (x - Ml) / r->G;
    if (!(own_m + str_m > 0) && !(x > Ml)) return 0;
    fa_finding *f = new_finding(r, FA_FIND_MIXED_FOLDER);
    if (!f) return -1;
    f->files = malloc((n_own + nm) * sizeof *f->files);
    f->cluster_end = malloc((nc + 1) * sizeof *f->cluster_end);
    f->cluster_like = malloc((nc + 1) * sizeof *f->cluster_like);
    if (!f->files || !f->cluster_end || !f->cluster_like) return -1;
    for (size_t q = 0; q < n_own; q++) f->files[f->n_files++] = r->row_file[own[q]];
    f->cluster_end[0] = f->n_files;
    f->cluster_like[0] = FA_NONE;
    for (uint32_t k = 0, s = 0; k < nc; s = ends[k++]) {
        for (uint32_t q = s; q < ends[k]; q++) f->files[f->n_files++] = r->row_file[mix[q]];
        f->cluster_end[k + 1] = f->n_files;
        f->cluster_like[k + 1] = majority_best(r, mix + s, ends[k] - s);
    }
    f->n_clusters = nc + 1;
    f->folder = g; f->file = r->row_file[mix[0]];
    f->other_folder = f->cluster_like[1];
    f->dist = x; f->own = w; f->scale = R; f->own_margin = own_m; f->stranger_margin = str_m;
    f->score = own_m + str_m; f->own_size = (uint32_t)gsize(r, g);
    f->review = x > Ml && f->score >= REVIEW_MIN;
    return 0;
}

/* Misfiled, stray and mixed findings of folder g (each face reported once). */
static int folder_faces(rctx *r, uint32_t g, uint32_t *near)
{
    size_t m = gsize(r, g);
    const uint32_t *rows = r->idx + r->off[g];
    if (m < 2) return 0;
    uint32_t *own = malloc(m * sizeof *own), *mix = malloc(m * sizeof *mix), *ends = malloc(m * sizeof *ends);
    uint32_t *cl = malloc(m * sizeof *cl);
    int rc = -1;
    if (!own || !mix || !ends || !cl) goto out;
    size_t n_own = 0, nm = 0;
    uint32_t nc = 0, max_c = 0;
    for (size_t q = 0; q < m; q++) {
        if (r->fs[rows[q]].in_own_cluster) own[n_own++] = rows[q];
        if (r->fs[rows[q]].cluster > max_c) max_c = r->fs[rows[q]].cluster;
    }
    for (uint32_t c = 0; c <= max_c; c++) {
        size_t k = 0;
        for (size_t q = 0; q < m; q++)
            if (r->fs[rows[q]].cluster == c && !r->fs[rows[q]].in_own_cluster && !r->fs[rows[q]].dup) cl[k++] = rows[q];
        if (!k) continue;
        /* all its faces look like one other folder: they were moved, not mixed */
        int moved = 1;
        for (size_t q = 0; q < k; q++) {
            const face_state *s = &r->fs[cl[q]];
            moved &= s->best != FA_NONE && s->best == r->fs[cl[0]].best && s->score > 0 && s->matches > 0;
        }
        if (moved) continue;
        /* a face of the cluster that on its own matches another folder well
         * enough for review is reported as misfiled, not as part of the mix */
        size_t before = nm;
        for (size_t q = 0; q < k; q++) {
            if (fits_elsewhere(r, cl[q])) continue;
            mix[nm++] = cl[q];
            r->fs[cl[q]].covered = 1;
        }
        if (nm > before) ends[nc++] = (uint32_t)nm;
    }
    /* a second person is a cluster of two or more faces: then the folder is
     * mixed (its other faces, alone, with it); faces that are each alone
     * are strays, one finding each (odd photos of the folder's person, or of
     * several strangers: neither is a person to split off) */
    int group = 0;
    for (uint32_t k = 0, st = 0; k < nc; st = ends[k++]) group |= ends[k] - st >= 2;
    if (group && add_mixed(r, g, own, n_own, mix, nm, ends, nc)) goto out;
    for (size_t q = 0; !group && q < nm; q++)
        if (add_stray(r, mix[q], own, n_own)) goto out;
    for (size_t q = 0; q < m; q++) {
        uint32_t i = rows[q];
        const face_state *s = &r->fs[i];
        if (s->dup || s->covered || s->best == FA_NONE || !(s->score > 0) || is_merged(r, g, s->best)) continue;
        if (add_misfiled(r, i, near[i])) goto out;
    }
    rc = 0;
out:
    free(own); free(mix); free(ends); free(cl);
    return rc;
}

/* The file of folder g whose face is nearest row i's. */
static uint32_t nearest_file(const rctx *r, uint32_t i, uint32_t g)
{
    uint32_t best = r->idx[r->off[g]];
    float bd = INFINITY;
    for (size_t q = r->off[g]; q < r->off[g + 1]; q++) {
        float d = rdist(r, i, r->idx[q]);
        if (d < bd) { bd = d; best = r->idx[q]; }
    }
    return r->row_file[best];
}

/* Every face of folder ga has gb as its best other folder, with a positive
 * score: the whole folder would go there, not one photo of it. */
static int folder_goes(const rctx *r, uint32_t ga, uint32_t gb)
{
    for (size_t q = r->off[ga]; q < r->off[ga + 1]; q++) {
        const face_state *s = &r->fs[r->idx[q]];
        if (s->best != gb || !(s->score > 0)) return 0;
    }
    return 1;
}

/* A misfiled face whose whole folder would go to the other folder too
 * (folder_goes), with an eligible merge of the two scoring no less, is one
 * decision, the merge: a folder split off under a second name whose photos
 * are not all as near the original (celeba_aligned: one of two split-off
 * photos passes the misfiled cut; the merge scores more but among look-alike
 * merges of its own kind). Not a two-photo folder of two people with one
 * misfiled: its merge can score as high (the median across halfway between
 * them), but its other face goes elsewhere. The face's evidence brings the
 * merge into review and ranks it (its own score failed the merges' decoy
 * cut); the misfiled findings between the two folders go (each face reported
 * once, as for merges in review from the start). */
static int promote_merges(rctx *r)
{
    float *by = malloc((r->n_eligible ? r->n_eligible : 1) * sizeof *by);
    uint32_t *face = malloc((r->n_eligible ? r->n_eligible : 1) * sizeof *face);
    if (!by || !face) { free(by); free(face); return -1; }
    for (size_t e = 0; e < r->n_eligible; e++) by[e] = NAN;
    for (size_t k = 0; k < r->n_out; k++) {
        const fa_finding *f = &r->out[k];
        if (f->kind != FA_FIND_MISFILED || !f->review) continue;
        uint64_t key = pair_key(f->folder, f->other_folder);
        const uint64_t *e = r->n_eligible ? bsearch(&key, r->eligible, r->n_eligible, 2 * sizeof *e, u64cmp) : NULL;
        const fa_finding *m = e ? &r->out[e[1]] : NULL;
        if (!m || m->review || !(m->score >= f->score) || !folder_goes(r, f->folder, f->other_folder)) continue;
        size_t q = (size_t)(e - r->eligible) / 2;
        if (!(by[q] >= f->score)) { by[q] = f->score; face[q] = f->file; }
    }
    size_t before = r->n_merged;
    for (size_t e = 0; e < r->n_eligible; e++) {
        if (isnan(by[e])) continue;
        fa_finding *m = &r->out[r->eligible[2 * e + 1]];
        m->review = 1;
        m->score = by[e];
        /* the face's folder is the one that moves, as the face would have;
         * the example pair: the face (the report names it) and its nearest
         * face of the other folder */
        if (r->c->files[face[e]].folder != m->other_folder) {
            uint32_t t = m->folder; m->folder = m->other_folder; m->other_folder = t;
            t = m->own_size; m->own_size = m->other_size; m->other_size = t;
            if (merge_files(r, m)) { free(by); free(face); return -1; }
        }
        m->other_file = m->by_face = face[e];
        m->file = nearest_file(r, r->file_row[face[e]], m->folder);
        r->merged[r->n_merged++] = r->eligible[2 * e];
    }
    free(by); free(face);
    if (r->n_merged == before) return 0;
    qsort(r->merged, r->n_merged, sizeof *r->merged, u64cmp);
    size_t w = 0;
    for (size_t k = 0; k < r->n_out; k++) {
        fa_finding *f = &r->out[k];
        if (f->kind == FA_FIND_MISFILED && is_merged(r, f->folder, f->other_folder)) {
            finding_free(f);
            continue;
        }
        r->out[w++] = *f;
    }
    r->n_out = w;
    return 0;
}

/* ---- stage 6: ids and ranking ------------------------------------------------------ */

static int hexcmp(const void *x, const void *y) { return strcmp(*(char *const *)x, *(char *const *)y); }

static int finding_id(rctx *r, fa_finding *f)
{
    const fa_cache *c = r->c;
    size_t n = f->n_files;
    uint32_t ga = f->folder, gb = f->other_folder;
    if (f->kind == FA_FIND_SAME_IDENTITY || f->kind == FA_FIND_MIXED_FOLDER)
        n = gsize(r, ga) + (f->kind == FA_FIND_SAME_IDENTITY ? gsize(r, gb) : 0);
    char **hx = malloc((n ? n : 1) * sizeof *hx), *buf = malloc((n ? n : 1) * 65);
    if (!hx || !buf) { free(hx); free(buf); return -1; }
    size_t k = 0;
    if (f->kind == FA_FIND_SAME_IDENTITY || f->kind == FA_FIND_MIXED_FOLDER) {
        for (int s = 0; s < (f->kind == FA_FIND_SAME_IDENTITY ? 2 : 1); s++) {
            uint32_t g = s ? gb : ga;
            for (size_t q = r->off[g]; q < r->off[g + 1]; q++, k++) {
                hx[k] = buf + k * 65;
                fa_sha256_hex(c->files[r->row_file[r->idx[q]]].sha256, hx[k]);
            }
        }
    } else {
        for (; k < n; k++) {
            hx[k] = buf + k * 65;
            fa_sha256_hex(c->files[f->files[k]].sha256, hx[k]);
        }
    }
    qsort(hx, k, sizeof *hx, hexcmp);
    /* the hashed text: kind, then "\n" + each sorted hex digest (+ "\n" + folder) */
    const char *kind = fa_find_kind_name(f->kind);
    const char *fo = (f->kind == FA_FIND_DUPLICATE && f->identical) ? c->folders[c->files[f->file].folder] : NULL;
    size_t tl = strlen(kind) + k * 65 + (fo ? strlen(fo) + 1 : 0), tp = 0;
    char *text = malloc(tl + 1);
    uint8_t dg[32];
    char hex[65];
    if (!text) { free(hx); free(buf); return fa_error("out of memory"); }
    tp += (size_t)sprintf(text + tp, "%s", kind);
    for (size_t q = 0; q < k; q++) tp += (size_t)sprintf(text + tp, "\n%.64s", hx[q]);
    /* identical copies share their bytes: the copy's folder tells them apart */
    if (fo) tp += (size_t)sprintf(text + tp, "\n%s", fo);
    int hrc = fa_sha256_buf(text, tp, dg);
    free(text);
    if (hrc) { free(hx); free(buf); return -1; }
    fa_sha256_hex(dg, hex);
    snprintf(f->id, sizeof f->id, "%s-%.16s", kind, hex);
    free(hx); free(buf);
    return 0;
}

/* The list's parts, surest and most harmful first: in the review part, the
 * copies across folders and the findings that mislabel someone with a full
 * gap of evidence; then the copies inside one folder (sure, told by bytes or
 * pixels, but they mislabel no one: a training set counts that photo twice);
 * then the findings with less evidence (look-alikes among them); then the rest. */
static int tier(const fa_finding *f)
{
    if (!f->review) return 3;
    if (f->kind == FA_FIND_DUPLICATE) return f->folder == f->other_folder ? 1 : 0;
    return f->score >= 2 * REVIEW_MIN ? 0 : 2;
}

static int finding_cmp(const void *x, const void *y)
{
    const fa_finding *a = x, *b = y;
    int ta = tier(a), tb = tier(b);
    if (ta != tb) return ta - tb;
    if (a->score != b->score) return a->score > b->score ? -1 : 1;
    if (a->kind != b->kind) return (int)a->kind - (int)b->kind;
    return strcmp(a->id, b->id);
}

void fa_findings_free(fa_finding *v, size_t n)
{
    for (size_t k = 0; k < n; k++) finding_free(&v[k]);
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
    if (!r->off || !r->idx || !r->file_row || !r->R || !r->fw || !r->fs || !r->uf || !r->scratch || !r->cand)
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
    fa_findings_free(r->out, r->n_out);
}

static int id_cmp(const void *x, const void *y)
{
    const fa_finding *a = *(const fa_finding *const *)x, *b = *(const fa_finding *const *)y;
    int c = strcmp(a->id, b->id);
    return c ? c : (a < b ? -1 : a > b);   /* list order among equal ids */
}

/* Findings of identical content (three byte-identical copies in one folder
 * give two duplicate findings over the same files) would share an id; the
 * second and later get "-2", "-3"... in list order, so every id names one
 * finding and stays the same while the content does. */
static int unique_ids(rctx *r)
{
    fa_finding **v = malloc((r->n_out ? r->n_out : 1) * sizeof *v);
    if (!v) return fa_error("review list: out of memory");
    for (size_t k = 0; k < r->n_out; k++) v[k] = &r->out[k];
    qsort(v, r->n_out, sizeof *v, id_cmp);
    char cur[sizeof r->out[0].id] = "";
    for (size_t k = 0, run = 0; k < r->n_out; k++) {
        if (k == 0 || strcmp(v[k]->id, cur)) {
            memcpy(cur, v[k]->id, sizeof cur);
            run = 1;
        } else {
            snprintf(v[k]->id, sizeof v[k]->id, "%.40s-%zu", cur, ++run);
        }
    }
    free(v);
    return 0;
}

static int review_stages(rctx *r)
{
    if (local_scales(r)) return -1;
    int failed = 0;
    /* folders are independent but for the rare same-photo unions (critical) */
#pragma omp parallel for schedule(dynamic, 16) reduction(|:failed) num_threads(threads_of(r))
    for (uint32_t g = 0; g < r->ng; g++) if (!failed && folder_inside(r, g)) failed = 1;
    if (failed) return -1;
    if (union_identical(r) || duplicates(r) || same_identity(r)) return -1;
    uint32_t *near = malloc((r->n ? r->n : 1) * sizeof *near);
    if (!near) return -1;
#pragma omp parallel num_threads(threads_of(r)) reduction(|:failed)
    {
        float *scratch = malloc(OTHER_MAX * sizeof *scratch);
        if (!scratch) failed = 1;
#pragma omp for schedule(dynamic, 256)
        for (size_t i = 0; i < r->n; i++)
            if (scratch) face_candidates(r, (uint32_t)i, &near[i], scratch);
        free(scratch);
    }
    if (failed) { free(near); return -1; }
    for (uint32_t g = 0; g < r->ng; g++)
        if (folder_faces(r, g, near)) { free(near); return -1; }
    free(near);
    if (decoy_cut(r, FA_FIND_MISFILED, &r->a->review_cut_misfiled) || promote_merges(r)) return -1;
    for (size_t k = 0; k < r->n_out; k++) if (finding_id(r, &r->out[k])) return -1;
    if (r->n_out) qsort(r->out, r->n_out, sizeof *r->out, finding_cmp);   /* out is NULL when empty */
    return unique_ids(r);
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
