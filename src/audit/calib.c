/*
 * calib.c - threshold calibration from within- and cross-folder distance
 * samples, and per-face / per-folder spread statistics (see calib.h for the
 * rule). Sampling is deterministic (splitmix64 from the seed) and does not
 * depend on the thread count.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <omp.h>
#include <cblas.h>
#include "faceaudit/faceaudit.h"
#include "calib.h"
#include "ivf.h"     /* fa_rand_*, join helpers */

const double fa_calib_quantiles[FA_CALIB_NQ] = {
    0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999,
};

const char *fa_calib_rule_text(void)
{
    return "Folders are mostly right, so distances between two faces of one folder "
           "show what 'same person' looks like, and distances between faces of different "
           "folders what 'different people' looks like. Faces that look misfiled (nearer "
           "another folder's robust centre than their own, or far from their own) are left "
           "out of both samples. The threshold is the distance under which only a small "
           "share of cross-folder pairs fall - about one chance match per face "
           "(share = faces / cross-folder pairs) - but never more than the within-folder "
           "90th percentile. A match is ranked by its distance divided by the larger of "
           "the two faces' median distances to their own folder-mates: below 1, a face is "
           "nearer to the other folder's face than to half of its own folder (strong "
           "evidence of a filing mistake); around 1 or above, it is a look-alike at the "
           "distance of ordinary folder-mates.";
}

fa_calib_params fa_calib_default_params(void)
{
    fa_calib_params p = { 200000, 2000000, 1, 0.0, 0.90, 256, 3.5f, 0 };
    return p;
}

void fa_calib_free(fa_calib *c)
{
    if (!c) return;
    free(c->spread); free(c->centre_dist); free(c->best_other); free(c->best_other_dist);
    free(c->size); free(c->centre); free(c->group_spread); free(c->cd_median);
    free(c->cd_mad); free(c->within_); free(c->cross_); free(c->atypical);
    free(c);
}

/* ---- small statistics ----------------------------------------------------- */

static int f_cmp(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

float fa_quantile_sorted(const float *v, size_t n, double q)
{
    if (!n) return NAN;
    double h = (n - 1) * q;
    size_t lo = (size_t)floor(h);
    if (lo + 1 >= n) return v[n - 1];
    return (float)(v[lo] + (h - lo) * ((double)v[lo + 1] - v[lo]));
}

/* k-th smallest of v[0..n) (v is permuted; Hoare quickselect). */
static float select_k(float *v, size_t n, size_t k)
{
    ptrdiff_t lo = 0, hi = (ptrdiff_t)n - 1, kk = (ptrdiff_t)k;
    while (lo < hi) {
        float piv = v[lo + (hi - lo) / 2];
        ptrdiff_t i = lo, j = hi;
        while (i <= j) {
            while (v[i] < piv) i++;
            while (v[j] > piv) j--;
            if (i <= j) {
                float t = v[i]; v[i] = v[j]; v[j] = t;
                i++;
                j--;
            }
        }
        if (kk <= j) hi = j;
        else if (kk >= i) lo = i;
        else return v[kk];
    }
    return v[kk];
}

float fa_median_inplace(float *v, size_t n)
{
    if (!n) return NAN;
    float hi = select_k(v, n, n / 2);
    if (n % 2) return hi;
    float lo = v[0];
    for (size_t i = 1; i < n / 2; i++) if (v[i] > lo) lo = v[i];
    return 0.5f * (lo + hi);
}

float fa_quantile_select(float *v, size_t n, double q)
{
    if (!n) return NAN;
    double h = (n - 1) * q;
    size_t lo = (size_t)floor(h);
    if (lo + 1 >= n) return select_k(v, n, n - 1);
    float a = select_k(v, n, lo), b = v[lo + 1];
    for (size_t i = lo + 2; i < n; i++) if (v[i] < b) b = v[i];   /* the next order statistic */
    return (float)(a + (h - lo) * ((double)b - a));
}

void fa_coord_median(const float *x, int d, const uint32_t *rows, size_t m,
                     float *scratch, float *out)
{
    for (int q = 0; q < d; q++) {
        for (size_t r = 0; r < m; r++) scratch[r] = x[(size_t)rows[r] * d + q];
        out[q] = m ? fa_median_inplace(scratch, m) : 0.0f;
    }
}

static size_t count_le(const float *sorted, size_t n, float t)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (sorted[mid] <= t) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

double fa_calib_cross_share(const fa_calib *c, float t)
{
    return c->n_cross ? (double)count_le(c->cross_, c->n_cross, t) / c->n_cross : 0.0;
}

double fa_calib_overlap(const fa_calib *c)
{
    if (!c->n_within || !c->n_cross) return NAN;
    return fa_calib_cross_share(c, fa_quantile_sorted(c->within_, c->n_within, 0.5));
}

double fa_calib_within_share(const fa_calib *c, float t)
{
    return c->n_within ? (double)count_le(c->within_, c->n_within, t) / c->n_within : 0.0;
}

float fa_calib_rel(const fa_calib *c, uint32_t i, uint32_t j, float dist)
{
    float si = c->spread[i], sj = c->spread[j];
    if (isnan(si)) si = c->global_spread;
    if (isnan(sj)) sj = c->global_spread;
    float s = si > sj ? si : sj;
    if (!(s > 0)) return dist > 0 ? INFINITY : 0.0f;
    return dist / s;
}

float fa_calib_centre_z(const fa_calib *c, uint32_t row, uint32_t g)
{
    if (c->size[g] < 3 || !(c->cd_mad[g] > 0)) return 0.0f;
    return (c->centre_dist[row] - c->cd_median[g]) / (1.4826f * c->cd_mad[g]);
}

/* ---- sampling ------------------------------------------------------------- */

typedef struct { uint32_t i, j; } ipair;

/* Rows grouped: off[g]..off[g+1] in mem[] (ascending rows). */
typedef struct { size_t *off; uint32_t *mem; } groups_t;

static int group_rows(const uint32_t *group, size_t n, size_t ng, groups_t *G)
{
    G->off = calloc(ng + 1, sizeof *G->off);
    G->mem = malloc((n ? n : 1) * sizeof *G->mem);
    if (!G->off || !G->mem) return -1;
    for (size_t r = 0; r < n; r++) G->off[group[r] + 1]++;
    for (size_t g = 0; g < ng; g++) G->off[g + 1] += G->off[g];
    size_t *cur = malloc((ng + 1) * sizeof *cur);
    if (!cur) return -1;
    memcpy(cur, G->off, (ng + 1) * sizeof *cur);
    for (size_t r = 0; r < n; r++) G->mem[cur[group[r]]++] = (uint32_t)r;
    free(cur);
    return 0;
}

/* Within-folder pairs between typical rows (atyp[r] == 0): all of them, or
 * `want` drawn uniformly over pairs (rejecting atypical rows). */
static ipair *within_pairs(const groups_t *G, size_t ng, const unsigned char *atyp,
                           double total, size_t want, uint64_t *seed, size_t *np,
                           int *exhaustive)
{
    *exhaustive = total <= (double)want;
    size_t m = *exhaustive ? (size_t)total : want;
    ipair *p = malloc((m ? m : 1) * sizeof *p);
    double *cum = malloc((ng + 1) * sizeof *cum);
    if (!p || !cum) { free(p); free(cum); return NULL; }
    size_t k = 0;
    cum[0] = 0;
    for (size_t g = 0; g < ng; g++) {
        double s = (double)(G->off[g + 1] - G->off[g]);
        cum[g + 1] = cum[g] + s * (s - 1) / 2;
    }
    if (*exhaustive) {
        for (size_t g = 0; g < ng; g++)
            for (size_t a = G->off[g]; a < G->off[g + 1]; a++)
                for (size_t b = a + 1; b < G->off[g + 1]; b++)
                    if (!atyp[G->mem[a]] && !atyp[G->mem[b]])
                        p[k++] = (ipair){ G->mem[a], G->mem[b] };
    } else {
        size_t tries = 0, max_tries = 100 * m + 1000000;
        while (k < m && tries++ < max_tries) {
            double u = (fa_rand_next(seed) >> 11) * (1.0 / 9007199254740992.0) * total;
            size_t lo = 0, hi = ng;          /* group with cum[g] <= u < cum[g+1] */
            while (lo + 1 < hi) {
                size_t mid = (lo + hi) / 2;
                if (cum[mid] <= u) lo = mid; else hi = mid;
            }
            size_t s = G->off[lo + 1] - G->off[lo];
            if (s < 2) continue;
            size_t a = fa_rand_below(seed, s), b = fa_rand_below(seed, s - 1);
            if (b >= a) b++;
            uint32_t ra = G->mem[G->off[lo] + a], rb = G->mem[G->off[lo] + b];
            if (!atyp[ra] && !atyp[rb]) p[k++] = (ipair){ ra, rb };
        }
    }
    free(cum);
    *np = k;
    return p;
}

/* Cross-folder pairs between typical rows: all, or `want` drawn uniformly. */
static ipair *cross_pairs(const uint32_t *group, const groups_t *G, size_t ng, size_t n,
                          const unsigned char *atyp, double total, size_t want,
                          uint64_t *seed, size_t *np, int *exhaustive)
{
    *exhaustive = total <= (double)want;
    size_t m = *exhaustive ? (size_t)total : want;
    ipair *p = malloc((m ? m : 1) * sizeof *p);
    if (!p) return NULL;
    size_t k = 0;
    if (*exhaustive) {
        for (size_t g = 0; g < ng; g++)
            for (size_t a = G->off[g]; a < G->off[g + 1]; a++)
                for (size_t b = G->off[g + 1]; b < n; b++)
                    if (!atyp[G->mem[a]] && !atyp[G->mem[b]])
                        p[k++] = (ipair){ G->mem[a], G->mem[b] };
    } else {
        size_t tries = 0, max_tries = 1000 * m + 1000000;
        while (k < m && tries++ < max_tries) {
            size_t i = fa_rand_below(seed, n), j = fa_rand_below(seed, n);
            if (group[i] != group[j] && !atyp[i] && !atyp[j])
                p[k++] = (ipair){ (uint32_t)i, (uint32_t)j };
        }
    }
    *np = k;
    return p;
}

/* Sorted distances of the pairs. */
static float *pair_dists(const float *x, int d, const ipair *p, size_t np, int nt)
{
    float *v = malloc((np ? np : 1) * sizeof *v);
    if (!v) return NULL;
#pragma omp parallel for num_threads(nt) schedule(static)
    for (size_t k = 0; k < np; k++)
        v[k] = (float)sqrt(fa_l2sq_exact(x + (size_t)p[k].i * d, x + (size_t)p[k].j * d, d));
    qsort(v, np, sizeof *v, f_cmp);
    return v;
}

/* ---- per-face statistics -------------------------------------------------- */

/* spread[r] for the rows of group g: median distance to (up to mates_max)
 * folder-mates, from one sgemm per chunk of 256 rows. */
static int group_spreads(const fa_calib *c, const float *x, const float *n2,
                         const uint32_t *rows, size_t s, size_t mates_max,
                         uint64_t seed, float *ws, size_t ws_len, float *out)
{
    int d = c->d;
    size_t mm = s <= mates_max + 1 ? s : mates_max;
    uint32_t *mates = malloc(mm * sizeof *mates);
    float *mx = malloc(mm * (size_t)d * sizeof *mx), *mn = malloc(mm * sizeof *mn);
    float *cx = malloc(256 * (size_t)d * sizeof *cx), *cn = malloc(256 * sizeof *cn);
    float *med = malloc(mm * sizeof *med);
    if (!mates || !mx || !mn || !cx || !cn || !med || ws_len < 256 * mm) {
        free(mates); free(mx); free(mn); free(cx); free(cn); free(med);
        return -1;
    }
    if (mm == s) memcpy(mates, rows, s * sizeof *mates);
    else {   /* seeded partial shuffle of the group's positions */
        uint32_t *pos = malloc(s * sizeof *pos);
        if (!pos) { free(mates); free(mx); free(mn); free(cx); free(cn); free(med); return -1; }
        for (size_t q = 0; q < s; q++) pos[q] = (uint32_t)q;
        for (size_t q = 0; q < mm; q++) {
            size_t j = q + fa_rand_below(&seed, s - q);
            uint32_t t = pos[q]; pos[q] = pos[j]; pos[j] = t;
            mates[q] = rows[pos[q]];
        }
        free(pos);
    }
    for (size_t q = 0; q < mm; q++) {
        memcpy(mx + q * d, x + (size_t)mates[q] * d, d * sizeof *x);
        mn[q] = n2[mates[q]];
    }
    for (size_t r0 = 0; r0 < s; r0 += 256) {
        size_t m = s - r0 < 256 ? s - r0 : 256;
        for (size_t r = 0; r < m; r++) {
            memcpy(cx + r * d, x + (size_t)rows[r0 + r] * d, d * sizeof *x);
            cn[r] = n2[rows[r0 + r]];
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)mm, d, 1.0f,
                    cx, d, mx, d, 0.0f, ws, (int)mm);
        for (size_t r = 0; r < m; r++) {
            size_t k = 0;
            for (size_t q = 0; q < mm; q++) {
                if (mates[q] == rows[r0 + r]) continue;
                float v = cn[r] + mn[q] - 2.0f * ws[r * mm + q];
                med[k++] = v > 0 ? sqrtf(v) : 0.0f;
            }
            out[r0 + r] = fa_median_inplace(med, k);
        }
    }
    free(mates); free(mx); free(mn); free(cx); free(cn); free(med);
    return 0;
}

static int face_stats(fa_calib *c, const float *x, const groups_t *G,
                      const fa_calib_params *p, int nt)
{
    int d = c->d;
    size_t n = c->n, ng = c->n_groups;
    float *n2 = malloc((n ? n : 1) * sizeof *n2);
    if (!n2) return -1;
    fa_norms2(x, n, d, n2);
    size_t maxs = 1;
    for (size_t g = 0; g < ng; g++)
        if (G->off[g + 1] - G->off[g] > maxs) maxs = G->off[g + 1] - G->off[g];
    size_t mates = p->mates_max ? p->mates_max : 256;
    size_t ws_len = 256 * (mates + 1 > maxs ? maxs : mates + 1);
    if (ws_len < maxs) ws_len = maxs;
    int failed = 0;
#pragma omp parallel num_threads(nt)
    {
        float *ws = malloc(ws_len * sizeof *ws);
        float *tmp = malloc(maxs * sizeof *tmp);
        if (!ws || !tmp) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(dynamic, 1)
        for (size_t g = 0; g < ng; g++) {
            if (!ws || !tmp) continue;
            const uint32_t *rows = G->mem + G->off[g];
            size_t s = G->off[g + 1] - G->off[g];
            float *spr = malloc((s ? s : 1) * sizeof *spr);
            if (!spr) { failed = 1; continue; }
            if (s >= 2) {
                if (group_spreads(c, x, n2, rows, s, mates, p->seed + g, ws, ws_len, spr) < 0)
                    failed = 1;
            } else if (s == 1) spr[0] = NAN;
            for (size_t q = 0; q < s; q++) c->spread[rows[q]] = spr[q];
            c->group_spread[g] = s >= 2 ? fa_median_inplace(spr, s) : NAN;
            fa_coord_median(x, d, rows, s, tmp, c->centre + g * (size_t)d);
            for (size_t q = 0; q < s; q++) {
                c->centre_dist[rows[q]] = (float)sqrt(fa_l2sq_exact(
                    x + (size_t)rows[q] * d, c->centre + g * (size_t)d, d));
                tmp[q] = c->centre_dist[rows[q]];
            }
            float med = fa_median_inplace(tmp, s);
            for (size_t q = 0; q < s; q++) tmp[q] = fabsf(c->centre_dist[rows[q]] - med);
            c->cd_median[g] = med;
            c->cd_mad[g] = fa_median_inplace(tmp, s);
            free(spr);
        }
        free(ws);
        free(tmp);
    }
    free(n2);
    return failed ? -1 : 0;
}

/* The nearest other non-empty folder centre of every row by the exact
 * measure (ties: the lower folder), through the int8 kernel (knn.h).
 * Returns 1 when that cannot run here. */
static int nearest_other_q8(fa_calib *c, const float *x, const uint32_t *group, int nt)
{
    fa_knn *kn = NULL;
    int rc = fa_knn_centres(x, group, c->n, c->centre, c->size, c->n_groups, c->d, 1, nt, &kn);
    for (size_t r = 0; rc == 0 && r < c->n; r++) {
        c->best_other[r] = kn->count[r] ? kn->nb[r] : UINT32_MAX;
        c->best_other_dist[r] = kn->count[r] ? kn->dist[r] : INFINITY;
    }
    fa_knn_free(kn);
    return rc;
}

/* The nearest other non-empty folder centre of every row: the int8 kernel,
 * or sgemm blocks where it cannot run (each centre the blocks' rounding
 * bound cannot rule out measured exactly: the same result). */
static int nearest_other(fa_calib *c, const float *x, const uint32_t *group, int nt)
{
    int q8 = nearest_other_q8(c, x, group, nt);
    if (q8 != 1) return q8;
    int d = c->d;
    size_t n = c->n, ng = c->n_groups, ch = 256;
    float *cn = malloc((ng ? ng : 1) * sizeof *cn), *xn = malloc((n ? n : 1) * sizeof *xn);
    if (!cn || !xn) { free(cn); free(xn); return -1; }
    fa_norms2(c->centre, ng, d, cn);
    fa_norms2(x, n, d, xn);
    int failed = 0;
#pragma omp parallel num_threads(nt)
    {
        float *g = malloc(ch * (ng ? ng : 1) * sizeof *g);
        if (!g) failed = 1;
#pragma omp for schedule(dynamic, 1)
        for (size_t r0 = 0; r0 < n; r0 += ch) {
            if (!g) continue;
            size_t m = n - r0 < ch ? n - r0 : ch;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)ng, d, 1.0f,
                        x + r0 * d, d, c->centre, d, 0.0f, g, (int)ng);
            for (size_t r = 0; r < m; r++) {
                /* the float estimate is within e = slack (|x|^2 + |c|^2) of the
                 * exact squared distance (knn.c); every centre that may be the
                 * nearest is measured exactly */
                const double slack = 2.0 * (d + 4) * 0x1p-24;
                double up = INFINITY;
                for (size_t q = 0; q < ng; q++) {
                    if (q == group[r0 + r] || !c->size[q]) continue;
                    double v = xn[r0 + r] + cn[q] - 2.0f * g[r * ng + q];
                    up = fmin(up, v + slack * ((double)xn[r0 + r] + cn[q]));
                }
                uint32_t best = UINT32_MAX;
                double bd = INFINITY;
                for (size_t q = 0; q < ng; q++) {
                    if (q == group[r0 + r] || !c->size[q]) continue;
                    double v = xn[r0 + r] + cn[q] - 2.0f * g[r * ng + q];
                    if (v - slack * ((double)xn[r0 + r] + cn[q]) > up) continue;
                    double dd = fa_l2sq_exact(x + (r0 + r) * d, c->centre + q * (size_t)d, d);
                    if (dd < bd) { bd = dd; best = (uint32_t)q; }
                }
                c->best_other[r0 + r] = best;
                c->best_other_dist[r0 + r] = best == UINT32_MAX ? INFINITY : (float)sqrt(bd);
            }
        }
        free(g);
    }
    free(cn);
    free(xn);
    return failed ? -1 : 0;
}

/* ---- the threshold -------------------------------------------------------- */

static void choose_threshold(fa_calib *c, const fa_calib_params *p)
{
    double alpha = p->target_rate;
    if (!(alpha > 0)) {
        alpha = c->cross_pairs > 0 ? (double)c->n / c->cross_pairs : 1e-2;
        if (alpha < 1e-6) alpha = 1e-6;
        if (alpha > 1e-2) alpha = 1e-2;
        if (!c->cross_exhaustive && c->n_cross && alpha < 20.0 / c->n_cross)
            alpha = 20.0 / c->n_cross;
    }
    c->alpha = alpha;
    c->t_cross = fa_quantile_sorted(c->cross_, c->n_cross, alpha);
    c->t_cap = fa_quantile_sorted(c->within_, c->n_within, p->within_cap_q);
    if (isnan(c->t_cross) && isnan(c->t_cap)) c->threshold = 0.6f;    /* nothing to learn from */
    else if (isnan(c->t_cross)) { c->threshold = c->t_cap; c->capped = 1; }
    else if (isnan(c->t_cap) || c->t_cross <= c->t_cap) c->threshold = c->t_cross;
    else { c->threshold = c->t_cap; c->capped = 1; }
    c->cross_share = fa_calib_cross_share(c, c->threshold);
    c->cross_expected = c->cross_share * c->cross_pairs;
    c->within_share = fa_calib_within_share(c, c->threshold);
    c->dlib_cross_share = fa_calib_cross_share(c, 0.6f);
    c->dlib_within_share = fa_calib_within_share(c, 0.6f);
}

fa_calib *fa_calib_run(const float *x, const uint32_t *group, size_t n, int d,
                       size_t n_groups, const fa_calib_params *params)
{
    fa_calib_params p = params ? *params : fa_calib_default_params();
    if (fa_join_check_args("fa_calib_run", n, d, 0.0f, NULL) < 0) return NULL;
    if (!(p.within_cap_q >= 0 && p.within_cap_q <= 1) || p.threads < 0 || p.target_rate < 0) {
        fa_error("fa_calib_run: bad parameters");
        return NULL;
    }
    for (size_t r = 0; r < n; r++)
        if (group[r] >= n_groups) {
            fa_error("fa_calib_run: row %zu has group %u >= %zu", r, group[r], n_groups);
            return NULL;
        }
    int nt = p.threads ? p.threads : omp_get_max_threads();
    fa_calib *c = calloc(1, sizeof *c);
    groups_t G = { 0 };
    ipair *wp = NULL, *cp = NULL;
    if (!c) goto oom;
    c->n = n; c->n_groups = n_groups; c->d = d;
    c->spread = malloc((n ? n : 1) * sizeof *c->spread);
    c->centre_dist = malloc((n ? n : 1) * sizeof *c->centre_dist);
    c->best_other = malloc((n ? n : 1) * sizeof *c->best_other);
    c->best_other_dist = malloc((n ? n : 1) * sizeof *c->best_other_dist);
    c->size = calloc(n_groups ? n_groups : 1, sizeof *c->size);
    c->centre = calloc((n_groups ? n_groups : 1) * (size_t)d, sizeof *c->centre);
    c->group_spread = malloc((n_groups ? n_groups : 1) * sizeof *c->group_spread);
    c->cd_median = malloc((n_groups ? n_groups : 1) * sizeof *c->cd_median);
    c->cd_mad = malloc((n_groups ? n_groups : 1) * sizeof *c->cd_mad);
    if (!c->spread || !c->centre_dist || !c->best_other || !c->best_other_dist || !c->size ||
        !c->centre || !c->group_spread || !c->cd_median || !c->cd_mad)
        goto oom;
    if (group_rows(group, n, n_groups, &G) < 0) goto oom;
    c->within_pairs = 0;
    for (size_t g = 0; g < n_groups; g++) {
        double s = (double)(G.off[g + 1] - G.off[g]);
        c->size[g] = (uint32_t)s;
        c->within_pairs += s * (s - 1) / 2;
    }
    c->cross_pairs = (double)n * (n - 1) / 2 - c->within_pairs;
    /* per-face statistics first: they say which rows are typical */
    int blas_old = fa_blas_single_begin();
    int rc = face_stats(c, x, &G, &p, nt);
    if (rc == 0) rc = nearest_other(c, x, group, nt);
    fa_blas_single_end(blas_old);
    if (rc < 0) goto oom;
    c->atypical = malloc(n ? n : 1);
    if (!c->atypical) goto oom;
    for (size_t r = 0; r < n; r++) {
        c->atypical[r] = c->size[group[r]] >= 3 &&
            (fa_calib_centre_z(c, (uint32_t)r, group[r]) >= p.outlier_z ||
             c->best_other_dist[r] < c->centre_dist[r]);
        c->n_atypical += c->atypical[r];
    }
    uint64_t seed = p.seed;
    wp = within_pairs(&G, n_groups, c->atypical, c->within_pairs, p.within_samples, &seed,
                      &c->n_within, &c->within_exhaustive);
    cp = cross_pairs(group, &G, n_groups, n, c->atypical, c->cross_pairs, p.cross_samples,
                     &seed, &c->n_cross, &c->cross_exhaustive);
    if (!wp || !cp) goto oom;
    c->within_ = pair_dists(x, d, wp, c->n_within, nt);
    c->cross_ = pair_dists(x, d, cp, c->n_cross, nt);
    if (!c->within_ || !c->cross_) goto oom;
    for (int q = 0; q < FA_CALIB_NQ; q++) {
        c->within_q[q] = fa_quantile_sorted(c->within_, c->n_within, fa_calib_quantiles[q]);
        c->cross_q[q] = fa_quantile_sorted(c->cross_, c->n_cross, fa_calib_quantiles[q]);
    }
    choose_threshold(c, &p);
    c->global_spread = c->n_within ? fa_quantile_sorted(c->within_, c->n_within, 0.5)
                                   : c->threshold;
    free(wp); free(cp); free(G.off); free(G.mem);
    return c;
oom:
    fa_error("fa_calib_run: out of memory (%zu rows, %zu groups)", n, n_groups);
    free(wp); free(cp); free(G.off); free(G.mem);
    fa_calib_free(c);
    return NULL;
}
