/*
 * review_ctx.h - what the stages of the review list share (review.c and
 * review_*.c; see review.h for the score and the cuts): the working state
 * of one build, the per-face state, the constants, and small helpers.
 * Internal to src/audit/: nothing outside the review list includes it.
 */
#ifndef FA_AUDIT_REVIEW_CTX_H
#define FA_AUDIT_REVIEW_CTX_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <omp.h>
#include "faceaudit/faceaudit.h"
#include "findings.h"
#include "thumb.h"

#define CAND_FOLDERS 3      /* other folders tried per face (from its k-NN) */
#define OTHER_MAX 256       /* faces of a candidate folder measured per face */
#define CLUSTER_MAX 600     /* folders larger than this are not clustered */
#define REVIEW_MIN 0.5f    /* evidence (margins, in gaps G) a finding needs for review */
#define DECOY_FACES 4       /* faces of a folder whose runner-up folders are tried */

/* Per-face state while the list is built (stage 5 fills best .. ml). */
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

/* One build of the list: the audit's rows by folder, per-folder and
 * per-face statistics, the findings so far (out), and the folder pairs
 * merged in review. */
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
    uint32_t *first;        /* per row: the row of its face's nearest face in
                               another folder, copies aside (rv_nearest_other;
                               FA_NONE: none in its top-k list; stage 4) */
    uint32_t *nearest;      /* per folder: the folder most of its rows find first,
                               the nearer on a tie, for the evidence (stage 4) */
    const fa_knn *kn;       /* the search's top-k lists (or own_kn) */
    fa_knn *own_kn;         /* the lists when the search made none (stage 1) */
    float *centre;          /* ng x d folder means (NULL until needed) */
} rctx;

/* ---- helpers ------------------------------------------------------------------ */

/* Distances for the ranking's statistics (medians of many): in float
 * (fa_l2_stat); the pairs themselves come from the exact join
 * (fa_l2sq_exact, double). */
static inline float rdist(const rctx *r, uint32_t i, uint32_t j)
{
    return fa_l2_stat(r->x + (size_t)i * r->d, r->x + (size_t)j * r->d, r->d);
}

/* Rows in folder g. */
static inline size_t gsize(const rctx *r, uint32_t g) { return r->off[g + 1] - r->off[g]; }

/* Correlation of two rows' face thumbnails (NaN: none). */
static inline float row_thumb_corr(const rctx *r, uint32_t i, uint32_t j)
{
    return fa_thumb_corr(fa_thumb_of(r->c, r->a->row_face[i]), fa_thumb_of(r->c, r->a->row_face[j]));
}

/* The correlation of the image thumbnails of two rows' files (thumb.h). */
static inline float row_image_corr(const rctx *r, uint32_t i, uint32_t j)
{
    const fa_face *F = r->c->faces;
    return fa_image_corr(r->c, F[r->a->row_face[i]].file, F[r->a->row_face[j]].file);
}

/* Two faces of one person by the encoder that are one photo by the pixels
 * (thumb.h); the images are measured only where the rule looks at them. */
static inline int same_pixels(const rctx *r, uint32_t i, uint32_t j, float dist)
{
    if (dist > r->a->threshold) return 0;
    float t = row_thumb_corr(r, i, j);
    return fa_pixels_one_photo(t, t >= FA_THUMB_NEAR && t < FA_THUMB_SAME ? row_image_corr(r, i, j) : NAN);
}

/* Threads for the parallel stages (--threads; 0: OpenMP's default). */
static inline int threads_of(const rctx *r) { return r->p->threads > 0 ? r->p->threads : omp_get_max_threads(); }

/* The mean of two local scales (either alone when the other is NaN). */
static inline float scale_mean(float a, float b)
{
    return isnan(a) ? b : isnan(b) ? a : 0.5f * (a + b);
}

/* The local scale of a folder pair: the mean of the two folders' scales. */
static inline float pair_scale(const rctx *r, uint32_t ga, uint32_t gb)
{
    return scale_mean(r->R[ga], r->R[gb]);
}

/* How much more (negative) or less crowded than usual a region is: a local
 * scale minus the median one. Shifts the boundaries M and X (see review.h). */
static inline float crowd_shift(const rctx *r, float R)
{
    return isnan(R) || isnan(r->Rmed) ? 0.0f : R - r->Rmed;
}

/* Union-find over files (the duplicate groups): the root of v, halving paths. */
static inline uint32_t uf_find(uint32_t *uf, uint32_t v)
{
    while (uf[v] != v) { uf[v] = uf[uf[v]]; v = uf[v]; }
    return v;
}

static inline void uf_union(uint32_t *uf, uint32_t a, uint32_t b)
{
    a = uf_find(uf, a); b = uf_find(uf, b);
    if (a != b) uf[a > b ? a : b] = a < b ? a : b;
}

/* qsort / bsearch order of folder-pair keys. */
static inline int u64cmp(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return (a > b) - (a < b);
}

/* The sort key of a folder pair, either way round. */
static inline uint64_t pair_key(uint32_t ga, uint32_t gb)
{
    return (uint64_t)(ga < gb ? ga : gb) << 32 | (ga < gb ? gb : ga);
}

/* Two folders as one person by their faces, not by chance: both hold
 * several faces, as near across as inside (the mix rule, --merge-max-mix). */
static inline int as_near_across(const rctx *r, uint32_t size_a, uint32_t size_b, float across, float inside)
{
    return size_a >= 2 && size_b >= 2 && across <= r->p->merge_max_mix * inside;
}

/* ---- shared by the stages ------------------------------------------------------ */

/* Median distance between rows P[0..np) and Q[0..nq) (sampled to 200 x 200;
 * same: P and Q are one set, each pair once). NaN when out of memory. */
float rv_median_between(rctx *r, const uint32_t *P, size_t np, const uint32_t *Q, size_t nq, int same);
/* A new finding of `kind` at the end of r->out, its fields unset (NULL: no memory). */
fa_finding *rv_new_finding(rctx *r, fa_find_kind kind);
/* The finding's file list, a copy of files[0..n). */
int rv_set_files(fa_finding *f, const uint32_t *files, uint32_t n);
/* Frees what a finding owns (not the finding). */
void rv_finding_free(fa_finding *f);
/* Files fa and fb are one photo: one duplicate group (review_dup.c). */
void rv_same_photo(rctx *r, uint32_t fa, uint32_t fb);
/* Row i's nearest face in another folder by the top-k lists, a copy of its
 * own photo aside (that is its duplicate finding), and with up (union-find
 * over folders) also the faces of folders joined to i's: its row, and its
 * distance in *dist (may be NULL); FA_NONE when the list has none. */
uint32_t rv_nearest_other(rctx *r, size_t i, uint32_t *up, float *dist);
/* Folders g and h are as near across as inside by sampled pairs
 * (as_near_across; review_merge.c). */
int rv_one_person(rctx *r, uint32_t g, uint32_t h);
/* Folder pair ga, gb is a merge in review (review_merge.c). */
int rv_is_merged(const rctx *r, uint32_t ga, uint32_t gb);

/* ---- the stages, in their order (review.c: review_stages) --------------------- */

int rv_local_scales(rctx *r);                       /* 1: review_scale.c */
float rv_rows_scale(rctx *r, const uint32_t *rows, size_t n);   /* median r_i of rows (uses scratch) */
int rv_folder_inside(rctx *r, uint32_t g);          /* 2: review_folder.c */
int rv_duplicates(rctx *r);                         /* 3: review_dup.c */
int rv_same_identity(rctx *r);                      /* 4: review_merge.c */
int rv_join_names(rctx *r, const size_t *one_sided, size_t n1);   /* review_names.c */
void rv_face_candidates(rctx *r, uint32_t i, uint32_t *nearest_row, float *scratch);   /* 5: review_face.c */
int rv_folder_faces(rctx *r, uint32_t g, uint32_t *near);
int rv_misfiled_cut(rctx *r);                       /* 6: review_merge.c */
int rv_promote_merges(rctx *r);
int rv_rank(rctx *r);                               /* 7: review_rank.c */

#endif
