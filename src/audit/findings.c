/*
 * findings.c - the audit of a cache (see findings.h): one face per image,
 * calibration, the cross-folder join, then matches, merge suggestions,
 * outliers, duplicate files and the file lists, as plain arrays.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <omp.h>
#include "faceaudit/faceaudit.h"
#include "findings.h"
#include "ivf.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

const char *fa_match_kind_name(fa_match_kind k)
{
    switch (k) {
    case FA_MATCH_IDENTICAL_FILE: return "identical_file";
    case FA_MATCH_SAME_PHOTO: return "same_photo";
    case FA_MATCH_SAME_PERSON: return "same_person";
    }
    return "invalid";
}

fa_audit_params fa_audit_default_params(void)
{
    fa_audit_params p;
    memset(&p, 0, sizeof p);
    p.max_distance = -1.0f;
    p.min_similarity = NAN;
    p.same_photo_dist = 0.12f;
    p.mode = FA_SEARCH_EXACT;
    p.recall_sample = 1000;
    p.max_pairs = 2000000;
    p.merge_min_pairs = 3;
    p.merge_max_mix = 1.05f;
    p.review_fdr = 0.2f;
    p.merge_min_share = 0.0f;
    p.calib = fa_calib_default_params();
    return p;
}

void fa_audit_free(fa_audit *a)
{
    if (!a) return;
    fa_calib_free(a->calib);
    free(a->row_face); free(a->matches); free(a->merges); free(a->outliers);
    free(a->dups); free(a->dup_files); free(a->no_face); free(a->multi); free(a->errors);
    fa_findings_free(a->findings, a->n_findings); free(a->row_scale);
    free(a);
}

const fa_finding *fa_audit_findings(const fa_audit *a, size_t *n, size_t *n_review)
{
    if (n) *n = a->n_findings;
    if (n_review) *n_review = a->n_review;
    return a->findings;
}

void fa_audit_get_summary(const fa_audit *a, fa_audit_summary *out)
{
    memset(out, 0, sizeof *out);
    out->threshold = a->threshold;
    out->threshold_source = a->threshold_source;
    out->n_rows = a->n_rows;
    out->n_matches = a->n_matches;
    out->n_strong = a->n_strong;
    out->n_merge_suggested = a->n_merge_suggested;
    out->n_outliers = a->n_outliers;
    out->n_dup_groups = a->n_dups;
    out->n_no_face = a->n_no_face;
    out->n_multi_face = a->n_multi;
    out->n_errors = a->n_errors;
    out->n_findings = a->n_findings;
    out->n_review = a->n_review;
    out->seconds = a->search_seconds + a->calib_seconds + a->review_seconds;
    out->encoder_overlap = a->calib ? fa_calib_overlap(a->calib) : NAN;
    out->encoder_weak = out->encoder_overlap >= FA_CALIB_WEAK_OVERLAP;   /* NaN: not weak */
}

/* ---- file lists ------------------------------------------------------------ */

static int file_lists(fa_audit *a, const fa_cache *c)
{
    size_t nf = c->n_files ? c->n_files : 1;
    a->no_face = malloc(nf * sizeof *a->no_face);
    a->errors = malloc(nf * sizeof *a->errors);
    a->multi = malloc(nf * sizeof *a->multi);
    if (!a->no_face || !a->errors || !a->multi) return -1;
    for (size_t f = 0; f < c->n_files; f++) {
        const fa_file *fl = &c->files[f];
        if (fl->status == FA_STATUS_NO_FACE) a->no_face[a->n_no_face++] = (uint32_t)f;
        else if (fl->status != FA_STATUS_OK) a->errors[a->n_errors++] = (uint32_t)f;
        else if (fl->n_faces > 1)
            a->multi[a->n_multi++] = (fa_multi_face){ (uint32_t)f, fl->n_faces, UINT32_MAX };
    }
    return 0;
}

/* A file takes part in the audit when it is ok, has faces, and a folder. */
static int audited(const fa_cache *c, const fa_file *f)
{
    return f->status == FA_STATUS_OK && f->n_faces > 0 && f->first_face >= 0 &&
           (size_t)f->first_face + f->n_faces <= c->n_faces && f->folder < c->n_folders &&
           c->folders[f->folder][0] != '\0';
}

/* For each multi-face file: the face nearest its folder's coordinate-wise
 * median (of the folder's single-face files, or of all its faces). */
static int choose_faces(fa_audit *a, const fa_cache *c)
{
    int d = c->dim;
    size_t nfo = c->n_folders;
    size_t *off = calloc(nfo + 2, sizeof *off);
    uint32_t *byf = malloc((c->n_files ? c->n_files : 1) * sizeof *byf);
    uint32_t *rows = malloc((c->n_faces ? c->n_faces : 1) * sizeof *rows);
    float *scratch = malloc((c->n_faces ? c->n_faces : 1) * sizeof *scratch);
    float *centre = malloc((size_t)d * sizeof *centre);
    int rc = -1;
    if (!off || !byf || !rows || !scratch || !centre) goto out;
    for (size_t f = 0; f < c->n_files; f++)       /* audited files by folder */
        if (audited(c, &c->files[f])) off[c->files[f].folder + 2]++;
    for (size_t g = 0; g < nfo; g++) off[g + 2] += off[g + 1];
    for (size_t f = 0; f < c->n_files; f++)
        if (audited(c, &c->files[f])) byf[off[c->files[f].folder + 1]++] = (uint32_t)f;
    /* now folder g's files are byf[off[g] .. off[g+1]) */
    uint32_t done_folder = UINT32_MAX;
    for (size_t m = 0; m < a->n_multi; m++) {
        const fa_file *fl = &c->files[a->multi[m].file];
        if (!audited(c, fl)) continue;
        if (fl->folder != done_folder) {
            size_t k = 0;
            for (int pass = 0; pass < 2 && k == 0; pass++)
                for (size_t q = off[fl->folder]; q < off[fl->folder + 1]; q++) {
                    const fa_file *g = &c->files[byf[q]];
                    if (pass == 0 && g->n_faces == 1) rows[k++] = (uint32_t)g->first_face;
                    if (pass == 1)
                        for (uint32_t u = 0; u < g->n_faces; u++)
                            rows[k++] = (uint32_t)(g->first_face + u);
                }
            fa_coord_median(c->emb, d, rows, k, scratch, centre);
            done_folder = fl->folder;
        }
        double best = INFINITY;
        for (uint32_t q = 0; q < fl->n_faces; q++) {
            size_t face = (size_t)fl->first_face + q;
            double d2 = fa_l2sq_exact(c->emb + face * d, centre, d);
            if (d2 < best) { best = d2; a->multi[m].chosen_face = (uint32_t)face; }
        }
    }
    rc = 0;
out:
    free(off); free(byf); free(rows); free(scratch); free(centre);
    return rc;
}

/* ---- the threshold ---------------------------------------------------------- */

/* The largest distance two vectors with norms in [lo, hi] and cosine >= s
 * can have (the maximum of a^2 + b^2 - 2 s a b over the box is at a corner). */
static float cosine_distance_bound(float lo, float hi, float s)
{
    double a[2] = { lo, hi }, m = 0;
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) {
            double v = a[i] * a[i] + a[j] * a[j] - 2.0 * s * a[i] * a[j];
            if (v > m) m = v;
        }
    return nextafterf((float)(sqrt(m) * (1 + 1e-6)), INFINITY);
}

static int choose_threshold(fa_audit *a, const fa_audit_params *p)
{
    if (p->max_distance > 0) {
        a->threshold = p->max_distance;
        a->threshold_source = "max-distance";
    } else if (!isnan(p->min_similarity)) {
        a->threshold = cosine_distance_bound(a->norm_min, a->norm_max, p->min_similarity);
        a->threshold_source = "min-similarity";
    } else {
        a->threshold = a->calib->threshold;
        a->threshold_source = "calibrated";
    }
    a->min_similarity = p->min_similarity;
    a->unit_norm_distance = isnan(p->min_similarity) ? NAN
        : (float)sqrt(fmax(0.0, 2.0 - 2.0 * p->min_similarity));
    return 0;
}

/* ---- the search --------------------------------------------------------------- */

/* The exact search also makes the review's top-k lists in its pass (*kn);
 * the other searches leave them to the review. */
static int search(fa_audit *a, const float *x, const uint32_t *grp, int d,
                  const fa_audit_params *p, fa_pairvec *pairs, fa_knn **kn)
{
    double t0 = now_s();
    a->mode = p->mode;
    a->recall = -1;
    int rc = p->search_fn ? p->search_fn(p->search_ud, x, grp, a->n_rows, d, a->threshold, p->mode, pairs) : 1;
    if (rc != 1) {
        /* searched elsewhere (MPI); 2: this process was a helper */
    } else if (p->mode == FA_SEARCH_EXACT) {
        fa_join_params jp = fa_join_default_params();
        jp.threads = p->threads;
        jp.max_pairs = p->max_pairs;
        jp.knn_seed_group = a->calib->best_other;   /* the lists start near */
        rc = fa_join_exact_knn(x, grp, a->n_rows, d, a->threshold, &jp, pairs, NULL, FA_KNN_K, kn);
    } else {
        fa_ivf_params ip = fa_ivf_default_params();
        ip.threads = p->threads;
        ip.max_pairs = p->max_pairs;
        ip.nlist = p->nlist;
        ip.nprobe = p->mode == FA_SEARCH_IVF_PROBE ? (p->nprobe > 0 ? p->nprobe : 1) : 0;
        ip.recall_sample = p->recall_sample;
        fa_ivf_stats st;
        rc = fa_ivf_join(x, grp, a->n_rows, d, a->threshold, &ip, pairs, &st);
        if (rc == 0) {
            a->nlist = st.nlist;
            a->recall = st.recall;
            a->recall_truth = st.recall_truth;
            a->recall_found = st.recall_found;
            a->list_pairs_pruned = st.list_pairs_pruned;
            a->list_pairs_total = st.list_pairs_total;
        }
    }
    a->search_seconds = now_s() - t0;
    return rc;
}

/* ---- matches ------------------------------------------------------------------ */

static int match_cmp(const void *x, const void *y)
{
    const fa_match *a = x, *b = y;
    if (a->strong != b->strong) return b->strong - a->strong;
    if (a->rel != b->rel) return a->rel < b->rel ? -1 : 1;
    if (a->dist != b->dist) return a->dist < b->dist ? -1 : 1;
    if (a->face_a != b->face_a) return a->face_a < b->face_a ? -1 : 1;
    return (a->face_b > b->face_b) - (a->face_b < b->face_b);
}

/* Distance of row r to group g's robust centre over its distance to its own
 * (INFINITY when it sits on its own centre, NaN without calibration). */
static float centre_ratio_row(const fa_audit *a, const float *x, int d, uint32_t r, uint32_t g)
{
    const fa_calib *cb = a->calib;
    double other = sqrt(fa_l2sq_exact(x + (size_t)r * d, cb->centre + (size_t)g * d, d));
    double own = cb->centre_dist[r];
    if (isnan(own)) return NAN;
    return own > 0 ? (float)(other / own) : INFINITY;
}

static int make_matches(fa_audit *a, const fa_cache *c, const fa_pairvec *pv,
                        const uint32_t *row_file, const float *x, const uint32_t *grp, int d,
                        const fa_audit_params *p)
{
    a->matches = malloc((pv->n ? pv->n : 1) * sizeof *a->matches);
    if (!a->matches) return -1;
    for (size_t k = 0; k < pv->n; k++) {
        const fa_pair *pr = &pv->v[k];
        if (!isnan(p->min_similarity) && !(pr->cos >= p->min_similarity)) continue;
        uint32_t ri = pr->i, rj = pr->j;
        if (strcmp(c->files[row_file[ri]].path, c->files[row_file[rj]].path) > 0) {
            uint32_t t = ri; ri = rj; rj = t;
        }
        const fa_file *fa = &c->files[row_file[ri]], *fb = &c->files[row_file[rj]];
        fa_match m;
        m.face_a = a->row_face[ri];
        m.face_b = a->row_face[rj];
        m.file_a = row_file[ri];
        m.file_b = row_file[rj];
        m.folder_a = fa->folder;
        m.folder_b = fb->folder;
        m.dist = pr->dist;
        m.cos = pr->cos;
        m.rel = fa_calib_rel(a->calib, ri, rj, pr->dist);
        m.spread_a = a->calib->spread[ri];
        m.spread_b = a->calib->spread[rj];
        float ci = centre_ratio_row(a, x, d, ri, grp[rj]), cj = centre_ratio_row(a, x, d, rj, grp[ri]);
        m.centre_ratio = isnan(ci) ? cj : isnan(cj) ? ci : fminf(ci, cj);
        m.strong = 0;
        if (fa->has_sha256 && fb->has_sha256 && memcmp(fa->sha256, fb->sha256, 32) == 0) {
            m.kind = FA_MATCH_IDENTICAL_FILE;
            a->n_identical_file++;
        } else if (pr->dist < p->same_photo_dist) {
            m.kind = FA_MATCH_SAME_PHOTO;
            a->n_same_photo++;
        } else {
            m.kind = FA_MATCH_SAME_PERSON;
            a->n_same_person++;
        }
        a->matches[a->n_matches++] = m;
    }
    a->flagged_share = a->calib->cross_pairs > 0 ? a->n_matches / a->calib->cross_pairs : 0;
    return 0;
}

/* ---- merge suggestions -------------------------------------------------------- */

typedef struct { uint32_t fa, fb; uint32_t face_a, face_b; float dist; } mrow;

static int mrow_cmp(const void *x, const void *y)
{
    const mrow *a = x, *b = y;
    if (a->fa != b->fa) return a->fa < b->fa ? -1 : 1;
    if (a->fb != b->fb) return a->fb < b->fb ? -1 : 1;
    return (a->dist > b->dist) - (a->dist < b->dist);
}

static int u64_cmp(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return (a > b) - (a < b);
}

static int u32_cmp(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return (a > b) - (a < b);
}

static uint32_t distinct(uint32_t *v, size_t n)
{
    if (!n) return 0;
    qsort(v, n, sizeof *v, u32_cmp);
    uint32_t k = 1;
    for (size_t i = 1; i < n; i++) k += v[i] != v[i - 1];
    return k;
}

static int merge_cmp(const void *x, const void *y)
{
    const fa_merge *a = x, *b = y;
    float sa = a->share_a < a->share_b ? a->share_a : a->share_b;
    float sb = b->share_a < b->share_b ? b->share_a : b->share_b;
    if (a->suggest != b->suggest) return b->suggest - a->suggest;
    if (a->suggest && a->mix != b->mix) return a->mix < b->mix ? -1 : 1;
    if (sa != sb) return sa > sb ? -1 : 1;
    if (a->pairs != b->pairs) return a->pairs > b->pairs ? -1 : 1;
    if (a->folder_a != b->folder_a) return a->folder_a < b->folder_a ? -1 : 1;
    return (a->folder_b > b->folder_b) - (a->folder_b < b->folder_b);
}

/* Rows grouped by folder: rows of group g are idx[off[g] .. off[g+1]). */
typedef struct { size_t *off; uint32_t *idx; } group_rows;

static int group_rows_make(group_rows *gr, const uint32_t *grp, size_t n, size_t ng)
{
    gr->off = calloc(ng + 2, sizeof *gr->off);
    gr->idx = malloc((n ? n : 1) * sizeof *gr->idx);
    if (!gr->off || !gr->idx) return -1;
    for (size_t r = 0; r < n; r++) gr->off[grp[r] + 2]++;
    for (size_t g = 0; g < ng; g++) gr->off[g + 2] += gr->off[g + 1];
    for (size_t r = 0; r < n; r++) gr->idx[gr->off[grp[r] + 1]++] = (uint32_t)r;
    return 0;
}

#define MIX_SAMPLES 2048

/* Median distance of MIX_SAMPLES pairs (all when fewer): across A x B when
 * cross, else inside A or inside B (pooled, each pair equally likely).
 * out: MIX_SAMPLES floats of scratch. NaN when there is no pair. */
static float mix_median(const float *x, int d, const uint32_t *A, size_t na, const uint32_t *B, size_t nb,
                        int cross, uint64_t seed, float *out)
{
    double wa = cross ? (double)na * nb : na * (na - 1) / 2.0, wb = cross ? 0 : nb * (nb - 1) / 2.0;
    size_t k = 0;
    if (wa + wb <= MIX_SAMPLES) {
        for (size_t i = 0; i < na; i++)
            for (size_t j = cross ? 0 : i + 1; j < (cross ? nb : na); j++)
                out[k++] = (float)sqrt(fa_l2sq_exact(x + (size_t)A[i] * d, x + (size_t)(cross ? B : A)[j] * d, d));
        for (size_t i = 0; !cross && i < nb; i++)
            for (size_t j = i + 1; j < nb; j++)
                out[k++] = (float)sqrt(fa_l2sq_exact(x + (size_t)B[i] * d, x + (size_t)B[j] * d, d));
    } else {
        uint64_t st = seed;
        for (; k < MIX_SAMPLES; k++) {
            const uint32_t *P = A, *Q = cross ? B : A;
            size_t np = na, nq = cross ? nb : na;
            if (!cross && (double)fa_rand_below(&st, 1u << 30) / (1u << 30) * (wa + wb) >= wa) { P = Q = B; np = nq = nb; }
            size_t i = fa_rand_below(&st, np), j = fa_rand_below(&st, nq);
            if (!cross && i == j) j = (j + 1 + fa_rand_below(&st, nq - 1)) % nq;
            out[k] = (float)sqrt(fa_l2sq_exact(x + (size_t)P[i] * d, x + (size_t)Q[j] * d, d));
        }
    }
    return fa_quantile_select(out, k, 0.5);
}

/* The merge's mix ratio (see findings.h), with its two medians. */
static float mix_ratio(const float *x, int d, const group_rows *gr, uint32_t ga, uint32_t gb, float *scratch,
                       float *across_out, float *inside_out)
{
    const uint32_t *A = gr->idx + gr->off[ga], *B = gr->idx + gr->off[gb];
    size_t na = gr->off[ga + 1] - gr->off[ga], nb = gr->off[gb + 1] - gr->off[gb];
    uint64_t seed = 0x9E3779B97F4A7C15ull ^ ((uint64_t)ga << 32 | gb);
    float across = mix_median(x, d, A, na, B, nb, 1, seed, scratch);
    float inside = mix_median(x, d, A, na, B, nb, 0, seed + 1, scratch);
    *across_out = across;
    *inside_out = inside;
    return inside > 0 ? across / inside : NAN;
}

/* One folder pair's merge from its matches r[0..k) (sorted by distance);
 * fa, fb: k entries of scratch, mix: MIX_SAMPLES. */
static fa_merge merge_of(const fa_audit *a, const float *x, int d, const group_rows *gr, const mrow *r,
                         size_t k, uint32_t *fa, uint32_t *fb, float *mix, const fa_audit_params *p)
{
    for (size_t e = 0; e < k; e++) { fa[e] = r[e].face_a; fb[e] = r[e].face_b; }
    fa_merge m;
    m.folder_a = r[0].fa;
    m.folder_b = r[0].fb;
    m.pairs = (uint32_t)k;
    m.faces_a = distinct(fa, k);
    m.faces_b = distinct(fb, k);
    m.size_a = a->calib->size[m.folder_a];
    m.size_b = a->calib->size[m.folder_b];
    m.share_a = m.size_a ? (float)m.faces_a / m.size_a : 0;
    m.share_b = m.size_b ? (float)m.faces_b / m.size_b : 0;
    m.min_dist = r[0].dist;
    m.median_dist = k % 2 ? r[k / 2].dist : 0.5f * (r[k / 2 - 1].dist + r[k / 2].dist);
    m.centre_dist = (float)sqrt(fa_l2sq_exact(a->calib->centre + (size_t)m.folder_a * d,
                                              a->calib->centre + (size_t)m.folder_b * d, d));
    m.mix = mix_ratio(x, d, gr, m.folder_a, m.folder_b, mix, &m.across, &m.inside);
    m.suggest = m.pairs >= p->merge_min_pairs && m.faces_a >= 2 && m.faces_b >= 2 &&
                m.mix <= p->merge_max_mix &&
                m.share_a >= p->merge_min_share && m.share_b >= p->merge_min_share;
    return m;
}

/* One merge per folder pair with matches; the pairs are independent, so
 * threads share them (each merge's samples are seeded by its folders). */
static int make_merges(fa_audit *a, const float *x, const uint32_t *grp, int d, const fa_audit_params *p)
{
    size_t n = a->n_matches;
    group_rows gr = { 0 };
    if (group_rows_make(&gr, grp, a->n_rows, a->calib->n_groups) < 0) {
        free(gr.off); free(gr.idx);
        return -1;
    }
    mrow *r = malloc((n ? n : 1) * sizeof *r);
    size_t *start = malloc((n + 1) * sizeof *start);
    a->merges = malloc((n ? n : 1) * sizeof *a->merges);
    if (!r || !start || !a->merges) {
        free(r); free(start); free(gr.off); free(gr.idx);
        return -1;
    }
    for (size_t k = 0; k < n; k++) {
        const fa_match *m = &a->matches[k];
        int sw = m->folder_a > m->folder_b;
        r[k] = (mrow){ sw ? m->folder_b : m->folder_a, sw ? m->folder_a : m->folder_b,
                       sw ? m->face_b : m->face_a, sw ? m->face_a : m->face_b, m->dist };
    }
    qsort(r, n, sizeof *r, mrow_cmp);
    size_t nm = 0, kmax = 1;
    for (size_t s = 0; s < n; s++)
        if (!s || r[s].fa != r[s - 1].fa || r[s].fb != r[s - 1].fb) start[nm++] = s;
    start[nm] = n;
    for (size_t g = 0; g < nm; g++)
        if (start[g + 1] - start[g] > kmax) kmax = start[g + 1] - start[g];
    int failed = 0, nsug = 0;
#pragma omp parallel num_threads(p->threads > 0 ? p->threads : omp_get_max_threads()) \
    reduction(|:failed) reduction(+:nsug)
    {
        uint32_t *fa = malloc(kmax * sizeof *fa), *fb = malloc(kmax * sizeof *fb);
        float *mix = malloc(MIX_SAMPLES * sizeof *mix);
        if (!fa || !fb || !mix) failed = 1;
#pragma omp for schedule(dynamic, 64)
        for (size_t g = 0; g < nm; g++) {
            if (failed) continue;
            a->merges[g] = merge_of(a, x, d, &gr, r + start[g], start[g + 1] - start[g], fa, fb, mix, p);
            nsug += a->merges[g].suggest;
        }
        free(fa); free(fb); free(mix);
    }
    free(start);
    if (failed) { free(r); free(gr.off); free(gr.idx); return -1; }
    a->n_merges = nm;
    a->n_merge_suggested += nsug;
    qsort(a->merges, a->n_merges, sizeof *a->merges, merge_cmp);
    free(r); free(gr.off); free(gr.idx);
    return 0;
}

/* Marks the strong matches (see findings.h) and ranks all of them. */
static int rank_matches(fa_audit *a)
{
    size_t ns = 0;
    uint64_t *sug = malloc((a->n_merges ? a->n_merges : 1) * sizeof *sug);
    if (!sug) return -1;
    for (size_t k = 0; k < a->n_merges; k++)
        if (a->merges[k].suggest) sug[ns++] = (uint64_t)a->merges[k].folder_a << 32 | a->merges[k].folder_b;
    qsort(sug, ns, sizeof *sug, u64_cmp);
    for (size_t k = 0; k < a->n_matches; k++) {
        fa_match *m = &a->matches[k];
        uint32_t lo = m->folder_a < m->folder_b ? m->folder_a : m->folder_b;
        uint32_t hi = m->folder_a < m->folder_b ? m->folder_b : m->folder_a;
        uint64_t key = (uint64_t)lo << 32 | hi;
        m->strong = m->kind != FA_MATCH_SAME_PERSON || m->centre_ratio < 1 ||
                    (ns && bsearch(&key, sug, ns, sizeof *sug, u64_cmp));
        a->n_strong += m->strong;
    }
    free(sug);
    qsort(a->matches, a->n_matches, sizeof *a->matches, match_cmp);
    return 0;
}

/* ---- outliers ------------------------------------------------------------------ */

static int outlier_cmp(const void *x, const void *y)
{
    const fa_outlier *a = x, *b = y;
    if (a->nearer_other != b->nearer_other) return b->nearer_other - a->nearer_other;
    if (a->nearer_other) {
        float ra = a->best_dist / a->centre_dist, rb = b->best_dist / b->centre_dist;
        if (ra != rb) return ra < rb ? -1 : 1;
    }
    if (a->z != b->z) return a->z > b->z ? -1 : 1;
    return (a->face > b->face) - (a->face < b->face);
}

static int make_outliers(fa_audit *a, const uint32_t *row_file, const uint32_t *grp)
{
    const fa_calib *cb = a->calib;
    a->outliers = malloc((a->n_rows ? a->n_rows : 1) * sizeof *a->outliers);
    if (!a->outliers) return -1;
    for (size_t r = 0; r < a->n_rows; r++) {
        if (!cb->atypical[r]) continue;
        uint32_t g = grp[r];
        float z = fa_calib_centre_z(cb, (uint32_t)r, g);
        int nearer = cb->best_other[r] != UINT32_MAX && cb->best_other_dist[r] < cb->centre_dist[r];
        a->outliers[a->n_outliers++] = (fa_outlier){
            a->row_face[r], row_file[r], g, cb->centre_dist[r], z, cb->spread[r],
            cb->best_other[r], cb->best_other_dist[r], nearer, nearer && cb->best_other_dist[r] <= a->threshold };
    }
    qsort(a->outliers, a->n_outliers, sizeof *a->outliers, outlier_cmp);
    return 0;
}

/* ---- duplicate files --------------------------------------------------------- */

typedef struct { uint8_t sha[32]; uint32_t file; } hashed_file;

static int hashed_cmp(const void *x, const void *y)
{
    const hashed_file *a = x, *b = y;
    int c = memcmp(a->sha, b->sha, 32);
    return c ? c : (a->file > b->file) - (a->file < b->file);
}

static int make_dups(fa_audit *a, const fa_cache *c)
{
    size_t n = 0, nf = c->n_files ? c->n_files : 1;
    hashed_file *h = malloc(nf * sizeof *h);
    a->dup_files = malloc(nf * sizeof *a->dup_files);
    a->dups = malloc(nf * sizeof *a->dups);
    if (!h || !a->dup_files || !a->dups) { free(h); return -1; }
    for (size_t f = 0; f < c->n_files; f++)
        if (c->files[f].has_sha256) {
            memcpy(h[n].sha, c->files[f].sha256, 32);
            h[n++].file = (uint32_t)f;
        }
    qsort(h, n, sizeof *h, hashed_cmp);
    for (size_t s = 0, e; s < n; s = e) {
        int cross = 0;
        for (e = s + 1; e < n && memcmp(h[e].sha, h[s].sha, 32) == 0; e++)
            cross |= c->files[h[e].file].folder != c->files[h[s].file].folder;
        if (e - s < 2) continue;
        a->dups[a->n_dups++] = (fa_dup_group){ (uint32_t)a->n_dup_files, (uint32_t)(e - s), cross };
        for (size_t k = s; k < e; k++) a->dup_files[a->n_dup_files++] = h[k].file;
    }
    free(h);
    return 0;
}

/* ---- the whole audit ----------------------------------------------------------- */

static int check_params(const fa_cache *c, const fa_audit_params *p)
{
    if (!c || c->dim <= 0 || c->dim > FA_DIM_MAX) return fa_error("fa_audit_run: no embeddings");
    if (!isnan(p->min_similarity) && !(p->min_similarity > -1 && p->min_similarity <= 1))
        return fa_error("fa_audit_run: --min-similarity must be in (-1, 1], got %g",
                        (double)p->min_similarity);
    if (isnan(p->max_distance) || isinf(p->max_distance))
        return fa_error("fa_audit_run: bad --max-distance");
    if (p->mode == FA_SEARCH_IVF_PROBE && p->nprobe < 1)
        return fa_error("fa_audit_run: --nprobe must be at least 1");
    if (p->nlist < 0 || p->threads < 0 || !(p->same_photo_dist >= 0))
        return fa_error("fa_audit_run: bad parameters");
    if (!(p->review_fdr > 0 && p->review_fdr <= 1))
        return fa_error("fa_audit_run: --review-fdr must be in (0, 1], got %g", (double)p->review_fdr);
    return 0;
}

fa_audit *fa_audit_run(const fa_cache *c, const fa_audit_params *params)
{
    fa_audit_params p = params ? *params : fa_audit_default_params();
    if (check_params(c, &p) < 0) return NULL;
    int d = c->dim;
    fa_audit *a = calloc(1, sizeof *a);
    float *x = NULL;
    uint32_t *grp = NULL, *row_file = NULL;
    fa_pairvec pairs = { 0 };
    fa_knn *kn = NULL;   /* the exact search's top-k lists, for the review */
    if (a) a->review_cut_misfiled = a->review_cut_merge = INFINITY;   /* none until the list is built */
    if (!a || file_lists(a, c) < 0 || choose_faces(a, c) < 0) goto oom;

    /* one row per audited file */
    size_t nf = c->n_files ? c->n_files : 1;
    a->row_face = malloc(nf * sizeof *a->row_face);
    row_file = malloc(nf * sizeof *row_file);
    grp = malloc(nf * sizeof *grp);
    if (!a->row_face || !row_file || !grp) goto oom;
    size_t mi = 0;
    for (size_t f = 0; f < c->n_files; f++) {
        const fa_file *fl = &c->files[f];
        while (mi < a->n_multi && a->multi[mi].file < f) mi++;
        if (!audited(c, fl)) continue;
        uint32_t face = (uint32_t)fl->first_face;
        if (fl->n_faces > 1 && mi < a->n_multi && a->multi[mi].file == f)
            face = a->multi[mi].chosen_face;
        a->row_face[a->n_rows] = face;
        row_file[a->n_rows] = (uint32_t)f;
        grp[a->n_rows++] = fl->folder;
    }
    x = malloc((a->n_rows ? a->n_rows : 1) * (size_t)d * sizeof *x);
    if (!x) goto oom;
    a->norm_min = a->n_rows ? INFINITY : 0;
    a->norm_max = 0;
    for (size_t r = 0; r < a->n_rows; r++) {
        const float *v = c->emb + (size_t)a->row_face[r] * d;
        memcpy(x + r * d, v, d * sizeof *x);
        double s = 0;
        for (int q = 0; q < d; q++) s += (double)v[q] * v[q];
        float nn = (float)sqrt(s);
        if (nn < a->norm_min) a->norm_min = nn;
        if (nn > a->norm_max) a->norm_max = nn;
    }

    double t0 = now_s();
    fa_calib_params cp = p.calib;
    if (!cp.threads) cp.threads = p.threads;
    a->calib = fa_calib_run(x, grp, a->n_rows, d, c->n_folders, &cp);
    a->calib_seconds = now_s() - t0;
    if (!a->calib || choose_threshold(a, &p) < 0) goto fail;
    int src = search(a, x, grp, d, &p, &pairs, &kn);
    if (src < 0) goto fail;
    if (src == 2) {   /* a helper of another process's search: nothing more to do here */
        fa_pairvec_free(&pairs);
        fa_knn_free(kn);
        free(x); free(grp); free(row_file);
        return a;
    }
    if (make_matches(a, c, &pairs, row_file, x, grp, d, &p) < 0 || make_merges(a, x, grp, d, &p) < 0 ||
        rank_matches(a) < 0 ||
        make_outliers(a, row_file, grp) < 0 || make_dups(a, c) < 0)
        goto oom;
    t0 = now_s();
    if (fa_review_build(a, c, x, grp, row_file, &p, kn) < 0) goto fail;
    a->review_seconds = now_s() - t0;
    fa_pairvec_free(&pairs);
    fa_knn_free(kn);
    free(x); free(grp); free(row_file);
    return a;
oom:
    fa_error("fa_audit_run: out of memory");
fail:
    fa_pairvec_free(&pairs);
    fa_knn_free(kn);
    free(x); free(grp); free(row_file);
    fa_audit_free(a);
    return NULL;
}
