/*
 * test_calib.c - calibration: quantiles against brute force on exhaustive
 * small data, the threshold rule (rate, cap, degenerate folders),
 * determinism across thread counts, per-face spreads, robust centres,
 * nearest other folder, and the evidence score on a planted misfiling.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "faceaudit/faceaudit.h"
#include "../src/audit/calib.h"
#include "../src/audit/ivf.h"

#include "check.h"

#include "testrand.h"

/* k identities, one folder each, `per` faces, within spread w, centres c. */
static void make(float *x, uint32_t *g, int k, int per, int d, double c, double w)
{
    for (int i = 0; i < k; i++) {
        float *cen = malloc(d * sizeof *cen);
        for (int q = 0; q < d; q++) cen[q] = (float)(c * nrand() / sqrt(2.0 * d));
        for (int r = 0; r < per; r++) {
            size_t row = (size_t)i * per + r;
            g[row] = (uint32_t)i;
            for (int q = 0; q < d; q++) x[row * d + q] = cen[q] + (float)(w * nrand() / sqrt(2.0 * d));
        }
        free(cen);
    }
}

static int fcmp(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

static void test_quantile(void)
{
    float v[5] = { 1, 2, 3, 4, 5 };
    CHECK(fa_quantile_sorted(v, 5, 0.5) == 3.0f, "median");
    CHECK(fa_quantile_sorted(v, 5, 0.0) == 1.0f && fa_quantile_sorted(v, 5, 1.0) == 5.0f, "ends");
    CHECK(fabsf(fa_quantile_sorted(v, 5, 0.1) - 1.4f) < 1e-6f, "interpolated");
    CHECK(isnan(fa_quantile_sorted(v, 0, 0.5)), "empty is NaN");
    float x[] = { 5, 1, 4, 2, 3, 0 };
    uint32_t rows[] = { 0, 1, 2, 3, 4, 5 };
    float scratch[6], out[1];
    fa_coord_median(x, 1, rows, 6, scratch, out);
    CHECK(out[0] == 2.5f, "even coordinate median %g", (double)out[0]);
    fa_coord_median(x, 1, rows, 5, scratch, out);
    CHECK(out[0] == 3.0f, "odd coordinate median %g", (double)out[0]);
}

/* Small data: sampling is exhaustive, quantiles equal brute force. */
static void test_exhaustive(void)
{
    int k = 12, per = 9, d = 16;
    size_t n = (size_t)k * per;
    float *x = malloc(n * d * sizeof *x);
    uint32_t *g = malloc(n * sizeof *g);
    rs = 5;
    make(x, g, k, per, d, 1.0, 0.4);
    fa_calib *c = fa_calib_run(x, g, n, d, k, NULL);
    CHECK(c != NULL, "calib: %s", fa_last_error());
    if (!c) return;
    CHECK(c->within_exhaustive && c->cross_exhaustive, "exhaustive");
    size_t nw = 0, nc = 0;
    float *w = malloc(n * n * sizeof *w), *cr = malloc(n * n * sizeof *cr);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) {
            if (c->atypical[i] || c->atypical[j]) continue;   /* samples skip outliers */
            float dd = (float)sqrt(fa_l2sq_exact(x + i * d, x + j * d, d));
            if (g[i] == g[j]) w[nw++] = dd; else cr[nc++] = dd;
        }
    qsort(w, nw, sizeof *w, fcmp);
    qsort(cr, nc, sizeof *cr, fcmp);
    CHECK(c->n_within == nw && c->n_cross == nc, "counts %zu/%zu %zu/%zu", c->n_within, nw, c->n_cross, nc);
    int ok = 1;
    for (int q = 0; q < FA_CALIB_NQ; q++)
        ok &= c->within_q[q] == fa_quantile_sorted(w, nw, fa_calib_quantiles[q]) &&
              c->cross_q[q] == fa_quantile_sorted(cr, nc, fa_calib_quantiles[q]);
    CHECK(ok, "quantiles equal brute force");
    CHECK(c->within_pairs == k * per * (per - 1) / 2.0 &&
          c->cross_pairs == n * (n - 1) / 2.0 - c->within_pairs, "populations");
    CHECK(c->n_atypical < n / 20, "few atypical rows (%zu)", c->n_atypical);
    /* alpha = n / cross pairs, clamped */
    double alpha = (double)n / c->cross_pairs;
    if (alpha > 1e-2) alpha = 1e-2;
    CHECK(fabs(c->alpha - alpha) < 1e-12, "alpha %g vs %g", c->alpha, alpha);
    float tc = fa_quantile_sorted(cr, nc, alpha), tw = fa_quantile_sorted(w, nw, 0.9);
    CHECK(c->threshold == (tc < tw ? tc : tw) && c->capped == (tc > tw),
          "threshold %g = min(%g, %g)", (double)c->threshold, (double)tc, (double)tw);
    /* spreads: brute force median of distances to folder-mates */
    ok = 1;
    for (size_t i = 0; i < n; i++) {
        float m[64];
        int km = 0;
        for (size_t j = 0; j < n; j++)
            if (j != i && g[j] == g[i]) m[km++] = (float)sqrt(fa_l2sq_exact(x + i * d, x + j * d, d));
        qsort(m, km, sizeof *m, fcmp);
        float med = km % 2 ? m[km / 2] : 0.5f * (m[km / 2 - 1] + m[km / 2]);
        ok &= fabsf(med - c->spread[i]) < 2e-4f;
    }
    CHECK(ok, "per-face spread = median distance to folder-mates");
    /* centres: coordinate-wise medians */
    ok = 1;
    for (int gi = 0; gi < k; gi++)
        for (int q = 0; q < d; q++) {
            float v[64];
            for (int r = 0; r < per; r++) v[r] = x[((size_t)gi * per + r) * d + q];
            qsort(v, per, sizeof *v, fcmp);
            ok &= c->centre[(size_t)gi * d + q] == v[per / 2];
        }
    CHECK(ok, "robust centres");
    fa_calib_free(c);
    free(w); free(cr); free(x); free(g);
}

/* Rows whose nearest other centre is not the exact argmin (ties to the lower folder). */
static size_t nearest_is_exact(const fa_calib *c, const float *x, const uint32_t *g, size_t n, int d, int k)
{
    size_t wrong = 0;
    for (size_t r = 0; r < n; r++) {
        uint32_t best = UINT32_MAX;
        double bd = INFINITY;
        for (int q = 0; q < k; q++) {
            if ((uint32_t)q == g[r]) continue;
            double dd = fa_l2sq_exact(x + r * d, c->centre + (size_t)q * d, d);
            if (dd < bd) { bd = dd; best = (uint32_t)q; }
        }
        wrong += c->best_other[r] != best || c->best_other_dist[r] != (float)sqrt(bd);
    }
    return wrong;
}

/* Larger data: a planted misfiled face gets strong evidence, a look-alike
 * weak; results do not depend on the thread count. */
static void test_sampled(void)
{
    int k = 300, per = 40, d = 64;
    size_t n = (size_t)k * per;
    float *x = malloc(n * d * sizeof *x);
    uint32_t *g = malloc(n * sizeof *g);
    rs = 11;
    make(x, g, k, per, d, 1.0, 0.4);
    /* row 5 (folder 0) is really a face of folder 7 */
    size_t mis = 5;
    for (int q = 0; q < d; q++) x[mis * d + q] = x[(7 * per + 3) * d + q] + (float)(0.2 * nrand() / sqrt(2.0 * d));
    fa_calib_params p = fa_calib_default_params();
    p.within_samples = 20000;
    p.cross_samples = 300000;
    p.threads = 1;
    fa_calib *c1 = fa_calib_run(x, g, n, d, k, &p);
    p.threads = 2;
    fa_calib *c2 = fa_calib_run(x, g, n, d, k, &p);
    CHECK(c1 && c2, "calib: %s", fa_last_error());
    if (!c1 || !c2) return;
    CHECK(!c1->within_exhaustive && !c1->cross_exhaustive, "sampled");
    CHECK(c1->threshold == c2->threshold &&
          memcmp(c1->spread, c2->spread, n * sizeof *c1->spread) == 0 &&
          memcmp(c1->best_other, c2->best_other, n * sizeof *c1->best_other) == 0,
          "same result with 1 and 2 threads");
    CHECK(c1->threshold > c1->within_q[2] && c1->threshold < c1->cross_q[1],
          "threshold %.3f between within q5 %.3f and cross q1 %.3f", (double)c1->threshold,
          (double)c1->within_q[2], (double)c1->cross_q[1]);
    CHECK(c1->cross_share <= c1->alpha * 1.5 + 1e-9, "cross share %g ~ alpha %g",
          c1->cross_share, c1->alpha);
    printf("  threshold %.4f (t_cross %.4f, cap %.4f, alpha %.2e): cross share %.2e, within share %.3f\n",
           (double)c1->threshold, (double)c1->t_cross, (double)c1->t_cap, c1->alpha,
           c1->cross_share, c1->within_share);
    /* every row's nearest other centre: the exact argmin, ties to the lower
     * folder; on the int8 path and, with the data scaled beyond what int8
     * takes (scales over 1e15), on the sgemm path */
    CHECK(nearest_is_exact(c1, x, g, n, d, k) == 0, "nearest other centre is the exact argmin");
    float *xs = malloc(n * d * sizeof *xs);
    for (size_t q = 0; q < n * d; q++) xs[q] = x[q] * 1e18f;
    fa_calib *c3 = fa_calib_run(xs, g, n, d, k, &p);
    CHECK(c3 && nearest_is_exact(c3, xs, g, n, d, k) == 0, "sgemm path: nearest other centre is the exact argmin");
    fa_calib_free(c3);
    free(xs);
    CHECK(c1->atypical[mis], "misfiled face is atypical");
    CHECK(c1->n_atypical < n / 50, "few atypical rows (%zu of %zu)", c1->n_atypical, n);
    CHECK(c1->best_other[mis] == 7, "misfiled face nearest folder 7 (got %u)", c1->best_other[mis]);
    CHECK(c1->best_other_dist[mis] < c1->centre_dist[mis], "misfiled: nearer the other centre");
    CHECK(fa_calib_centre_z(c1, (uint32_t)mis, 0) > 3.5f, "misfiled: robust z %.2f",
          (double)fa_calib_centre_z(c1, (uint32_t)mis, 0));
    float dm = (float)sqrt(fa_l2sq_exact(x + mis * d, x + (7 * per + 3) * d, d));
    float rel = fa_calib_rel(c1, (uint32_t)mis, 7 * per + 3, dm);
    CHECK(rel < 0.6f, "misfiled pair rel %.3f < 0.6", (double)rel);
    /* a normal pair of folder-mates at their usual distance: rel ~ 1 */
    float dn = (float)sqrt(fa_l2sq_exact(x + 100 * d, x + 101 * d, d));
    float reln = fa_calib_rel(c1, 100, 101, dn);
    CHECK(reln > 0.6f && reln < 1.6f, "ordinary pair rel %.3f ~ 1", (double)reln);
    fa_calib_free(c1);
    fa_calib_free(c2);
    free(x); free(g);
}

static void test_degenerate(void)
{
    int d = 8;
    size_t n = 50;
    float *x = malloc(n * d * sizeof *x);
    uint32_t *g = calloc(n, sizeof *g);
    rs = 3;
    for (size_t i = 0; i < n * d; i++) x[i] = (float)nrand();
    fa_calib *c = fa_calib_run(x, g, n, d, 1, NULL);                /* one folder */
    CHECK(c && c->n_cross == 0 && c->capped && c->threshold == c->t_cap,
          "one folder: threshold from the within cap");
    CHECK(c && c->best_other[0] == UINT32_MAX, "one folder: no other folder");
    fa_calib_free(c);
    for (size_t i = 0; i < n; i++) g[i] = (uint32_t)i;             /* all alone */
    c = fa_calib_run(x, g, n, d, n, NULL);
    CHECK(c && c->n_within == 0 && !c->capped && c->threshold == c->t_cross && isnan(c->spread[0]),
          "singletons: threshold from the cross rate, spread NaN");
    CHECK(c && isfinite(fa_calib_rel(c, 0, 1, 1.0f)), "singletons: rel uses the global spread");
    fa_calib_free(c);
    c = fa_calib_run(x, g, 0, d, 0, NULL);                          /* empty */
    CHECK(c && c->threshold == 0.6f, "empty: fallback threshold");
    fa_calib_free(c);
    g[3] = 99;
    CHECK(fa_calib_run(x, g, n, d, n, NULL) == NULL, "group out of range rejected");
    fa_calib_params p = fa_calib_default_params();
    p.target_rate = 0.25;
    for (size_t i = 0; i < n; i++) g[i] = (uint32_t)(i % 5);
    c = fa_calib_run(x, g, n, d, 5, &p);
    CHECK(c && c->alpha == 0.25, "explicit target rate");
    fa_calib_free(c);
    free(x); free(g);
}

/* The overlap that makes the CLI recommend another encoder: well-separated
 * identities stay under FA_CALIB_WEAK_OVERLAP, look-alike ones (centres as
 * close as the spread within a folder) go over it. */
static void test_overlap(void)
{
    int k = 15, per = 20, d = 32;
    size_t n = (size_t)k * per;
    float *x = malloc(n * d * sizeof *x);
    uint32_t *g = malloc(n * sizeof *g);
    double ov[2];
    for (int t = 0; t < 2; t++) {
        rs = 11;
        make(x, g, k, per, d, t == 0 ? 1.0 : 0.35, 0.4);
        fa_calib *c = fa_calib_run(x, g, n, d, k, NULL);
        CHECK(c != NULL, "calib: %s", fa_last_error());
        ov[t] = c ? fa_calib_overlap(c) : NAN;
        fa_calib_free(c);
    }
    CHECK(ov[0] < FA_CALIB_WEAK_OVERLAP, "separated identities overlap %g", ov[0]);
    CHECK(ov[1] >= FA_CALIB_WEAK_OVERLAP, "look-alike identities overlap %g", ov[1]);
    free(x);
    free(g);
}

int main(void)
{
    test_quantile();
    test_exhaustive();
    test_sampled();
    test_degenerate();
    test_overlap();
    return check_done();
}
