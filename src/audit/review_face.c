/*
 * review_face.c - stage 5 of the review list (review_ctx.h): each face's
 * best other folder, then per folder its misfiled, stray and mixed-folder
 * findings, each face reported once.
 */
#define _POSIX_C_SOURCE 200809L
#include <string.h>
#include "review_ctx.h"

/* Tries face i's candidate folders; keeps the best in fs[i]. scratch:
 * OTHER_MAX floats (faces are independent: threads share them out). */
void rv_face_candidates(rctx *r, uint32_t i, uint32_t *nearest_row, float *scratch)
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

/* The folder of row i's nearest face in another folder (rctx.first), g
 * when that face is a copy of a photo in g (a photo of g's person copied
 * elsewhere); FA_NONE when its top-k list has none. */
static uint32_t nearest_folder(rctx *r, uint32_t i, uint32_t g)
{
    uint32_t j = r->first[i];
    if (j == FA_NONE || r->grp[j] == g) return j == FA_NONE ? FA_NONE : g;
    uint32_t root = uf_find(r->uf, r->row_file[j]);
    for (size_t q = r->off[g]; q < r->off[g + 1]; q++)
        if (uf_find(r->uf, r->row_file[r->idx[q]]) == root) return g;
    return r->grp[j];
}

static int add_misfiled(rctx *r, uint32_t i, uint32_t near_row)
{
    const face_state *s = &r->fs[i];
    fa_finding *f = rv_new_finding(r, FA_FIND_MISFILED);
    uint32_t file = r->row_file[i];
    if (!f || rv_set_files(f, &file, 1)) return -1;
    f->file = file; f->folder = r->grp[i];
    f->other_folder = s->best;
    f->other_file = near_row != FA_NONE ? r->row_file[near_row] : FA_NONE;
    f->dist = s->dist; f->own = s->own_med; f->scale = pair_scale(r, f->folder, s->best);
    f->own_margin = s->own_m; f->stranger_margin = s->str_m; f->score = s->score;
    f->nearest = s->nearest; f->matches = s->matches; f->own_nearer = s->own_nearer;
    f->own_size = (uint32_t)gsize(r, f->folder); f->other_size = (uint32_t)gsize(r, s->best);
    f->decoy = s->decoy;
    f->folder_nearest = nearest_folder(r, i, s->best);
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

/* The local scale of a comparison between folder g's person and rows[0..n)
 * of it (a stray, a mixed folder's group): like pair_scale's for two
 * folders, the mean of the folder's R and the rows' own median r
 * (review_scale.c), but never below the folder's R. Faces far from every
 * folder are photos the encoder cannot place (dlib on kpop_idols: strays
 * that look like the folder's idol, tilted or winking, at 1.1-1.7 times their
 * folder's r; planted second persons at 0.9-1.0), so their distance from
 * the folder says less. Faces nearer everyone are not taken as more
 * telling: poor faces crowd together (mobilefacenet puts celeba_wild's
 * profile shots near each other). */
static float rows_pair_scale(rctx *r, uint32_t g, const uint32_t *rows, size_t n)
{
    /* fmaxf passes over a NaN R[g] (then the rows' scale stands) */
    return fmaxf(r->R[g], scale_mean(r->R[g], rv_rows_scale(r, rows, n)));
}

static int add_stray(rctx *r, uint32_t i, const uint32_t *own, size_t n_own)
{
    uint32_t ga = r->grp[i];
    float x = rv_median_between(r, &i, 1, own, n_own, 0), R = rows_pair_scale(r, ga, &i, 1), w = r->fw[ga];
    float Xl = r->X + crowd_shift(r, R);
    float own_m = (x - w) / r->G - 0.5f, str_m = (x - Xl) / r->G;
    if (!(own_m + str_m > 0) && !(x > Xl)) return 0;
    fa_finding *f = rv_new_finding(r, FA_FIND_STRAY);
    uint32_t file = r->row_file[i];
    if (!f || rv_set_files(f, &file, 1)) return -1;
    f->file = file; f->folder = ga;
    f->dist = x; f->own = w; f->scale = R; f->own_margin = own_m; f->stranger_margin = str_m;
    f->score = own_m + str_m; f->own_size = (uint32_t)gsize(r, ga);
    f->review = x > Xl && f->score >= REVIEW_MIN;
    return 0;
}

/* Odd faces rows[0..n) of folder g (a mixed folder's, or one group of
 * them) against the folder's person own[0..n_own), whose inside distance
 * is w: x their median distance, R the comparison's scale
 * (rows_pair_scale), M' the midpoint it shifts, and the margins own
 * (x - w) / G - 1/2 and stranger (x - M') / G. */
typedef struct { float x, R, Ml, own_m, str_m; } mix_eval;

static mix_eval mix_margins(rctx *r, uint32_t g, const uint32_t *own, size_t n_own, float w,
                            const uint32_t *rows, size_t n)
{
    mix_eval e;
    e.x = rv_median_between(r, own, n_own, rows, n, 0);
    e.R = rows_pair_scale(r, g, rows, n);
    e.Ml = r->M + crowd_shift(r, e.R);
    e.own_m = (e.x - w) / r->G - 0.5f;
    e.str_m = (e.x - e.Ml) / r->G;
    return e;
}

/* A mixed folder's score: its most convincing second person. Each group
 * of two or more faces gets the margins of its median distance to the
 * folder's person, times n / sqrt(odd faces): the root of its size (the
 * median rests on n faces, as a merge's in review_merge.c) times the root
 * of its share of the folder's odd faces (in a large loose folder odd
 * faces pair up by chance; a second person is most of what is odd). The
 * caller keeps the whole mix's margins when they are more, and the review
 * cut stays on those. */
static float mixed_weight(rctx *r, uint32_t g, const uint32_t *own, size_t n_own, float w,
                          const uint32_t *mix, size_t n_mix, const uint32_t *ends, uint32_t nc)
{
    float best = -INFINITY;
    for (uint32_t k = 0, st = 0; k < nc; st = ends[k++]) {
        uint32_t n = ends[k] - st;
        if (n < 2) continue;
        mix_eval e = mix_margins(r, g, own, n_own, w, mix + st, n);
        float m = e.own_m + e.str_m;
        if (m > 0) m *= (float)n / sqrtf((float)n_mix);
        if (m > best) best = m;
    }
    return best;
}

/* Folder g's mixed clusters (rows mix[0..nm), cluster ends in ends[0..nc)). */
static int add_mixed(rctx *r, uint32_t g, const uint32_t *own, size_t n_own,
                     const uint32_t *mix, size_t nm, const uint32_t *ends, uint32_t nc)
{
    float w = n_own >= 2 ? rv_median_between(r, own, n_own, own, n_own, 1) : r->fw[g];
    mix_eval e = mix_margins(r, g, own, n_own, w, mix, nm);
    if (!(e.own_m + e.str_m > 0) && !(e.x > e.Ml)) return 0;
    fa_finding *f = rv_new_finding(r, FA_FIND_MIXED_FOLDER);
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
    f->dist = e.x; f->own = w; f->scale = e.R; f->own_margin = e.own_m; f->stranger_margin = e.str_m;
    f->score = fmaxf(e.own_m + e.str_m, mixed_weight(r, g, own, n_own, w, mix, nm, ends, nc));
    f->own_size = (uint32_t)gsize(r, g);
    f->review = e.x > e.Ml && e.own_m + e.str_m >= REVIEW_MIN;
    return 0;
}

/* Misfiled, stray and mixed findings of folder g (each face reported once). */
int rv_folder_faces(rctx *r, uint32_t g, uint32_t *near)
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
        if (s->dup || s->covered || s->best == FA_NONE || !(s->score > 0) || rv_is_merged(r, g, s->best)) continue;
        if (add_misfiled(r, i, near[i])) goto out;
    }
    rc = 0;
out:
    free(own); free(mix); free(ends); free(cl);
    return rc;
}

