/*
 * test_join.c - the exact tiled join against a naive O(N^2) reference:
 * random and clustered data, sizes around the tile size, several thresholds,
 * duplicate vectors, ties at the threshold, one folder only, every face its
 * own folder, several tile shapes and thread counts; and the one pass that
 * also makes the top-k lists (fa_join_exact_knn) against a naive top-k.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "faceaudit/faceaudit.h"
#include "../src/audit/join.h"

#include "check.h"
#include "naive_knn.h"

static uint64_t rng_state;
static double urand(void)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}
static double nrand(void)
{
    double u = urand() + 1e-300, v = urand();
    return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

/* The reference: every pair of different groups, exact measure. */
static void naive(const float *x, const uint32_t *g, size_t n, int d, float t,
                  fa_pairvec *out)
{
    double t2 = (double)t * t;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) {
            if (g[i] == g[j]) continue;
            double d2 = fa_l2sq_exact(x + i * d, x + j * d, d);
            if (d2 <= t2) {
                fa_pair p = { (uint32_t)i, (uint32_t)j, (float)sqrt(d2),
                              (float)fa_cos_exact(x + i * d, x + j * d, d) };
                fa_pairvec_push(out, p);
            }
        }
}

static int same_pairs(const fa_pairvec *a, const fa_pairvec *b)
{
    if (a->n != b->n) return 0;
    for (size_t k = 0; k < a->n; k++)
        if (a->v[k].i != b->v[k].i || a->v[k].j != b->v[k].j ||
            a->v[k].dist != b->v[k].dist || a->v[k].cos != b->v[k].cos) return 0;
    return 1;
}

/* Clustered data: k centres, points around them, groups mostly following
 * clusters with some mislabelled rows; dup_every > 0 copies rows. */
static void make_data(float *x, uint32_t *g, size_t n, int d, int k, int ngroups,
                      double spread, int dup_every)
{
    float *c = malloc((size_t)k * d * sizeof *c);
    for (int i = 0; i < k * d; i++) c[i] = (float)(nrand() / sqrt(d));
    for (size_t r = 0; r < n; r++) {
        int cl = (int)(urand() * k);
        for (int j = 0; j < d; j++)
            x[r * d + j] = c[cl * d + j] + (float)(spread * nrand() / sqrt(d));
        g[r] = ngroups ? (uint32_t)(urand() < 0.9 ? cl % ngroups : urand() * ngroups)
                       : (uint32_t)r;
        if (dup_every && r > 0 && r % dup_every == 0) {
            size_t src = (size_t)(urand() * r);
            memcpy(x + r * d, x + src * d, d * sizeof *x);
        }
    }
    free(c);
}

static void run_case(const char *name, const float *x, const uint32_t *g, size_t n,
                     int d, float t, int rows, int cols, int threads)
{
    fa_pairvec ref = { 0 }, got = { 0 };
    naive(x, g, n, d, t, &ref);
    fa_join_params p = fa_join_default_params();
    p.tile_rows = rows;
    p.tile_cols = cols;
    p.threads = threads;
    fa_join_stats st;
    int rc = fa_join_exact(x, g, n, d, t, &p, &got, &st);
    CHECK(rc == 0, "%s: rc %d (%s)", name, rc, fa_last_error());
    CHECK(same_pairs(&ref, &got), "%s n=%zu d=%d t=%g tile=%dx%d thr=%d: ref %zu got %zu",
          name, n, d, (double)t, rows, cols, threads, ref.n, got.n);
    fa_pairvec_free(&ref);
    fa_pairvec_free(&got);
}

static void test_sizes(void)
{
    static const size_t sizes[] = { 0, 1, 2, 3, 17, 255, 256, 257, 600, 1100, 2049 };
    static const int dims[] = { 1, 7, 128 };
    for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++)
        for (size_t di = 0; di < 3; di++) {
            size_t n = sizes[si];
            int d = dims[di];
            if (n > 1100 && d != 128) continue;
            float *x = malloc((n + 1) * d * sizeof *x);
            uint32_t *g = malloc((n + 1) * sizeof *g);
            rng_state = 1000 + n * 7 + d;
            make_data(x, g, n, d, 1 + (int)n / 20, 1 + (int)n / 30, 0.6, 13);
            float ts[] = { 0.0f, 0.3f, 0.7f, 1.2f };
            for (int ti = 0; ti < 4; ti++) {
                if (n > 1100 && ts[ti] > 0.8f) continue;
                run_case("clustered", x, g, n, d, ts[ti], 256, 1024, 2);
                run_case("small tiles", x, g, n, d, ts[ti], 7, 33, 3);
            }
            free(x);
            free(g);
        }
}

static void test_random_uniform(void)
{
    size_t n = 700;
    int d = 16;
    float *x = malloc(n * d * sizeof *x);
    uint32_t *g = malloc(n * sizeof *g);
    rng_state = 42;
    for (size_t i = 0; i < n * d; i++) x[i] = (float)(urand() * 2 - 1);
    for (size_t i = 0; i < n; i++) g[i] = (uint32_t)(urand() * 10);
    run_case("uniform", x, g, n, d, 1.0f, 64, 100, 2);
    run_case("uniform all", x, g, n, d, 100.0f, 64, 100, 2);   /* every pair */
    free(x);
    free(g);
}

static void test_special_groups(void)
{
    size_t n = 513;
    int d = 32;
    float *x = malloc(n * d * sizeof *x);
    uint32_t *g = malloc(n * sizeof *g);
    rng_state = 7;
    make_data(x, g, n, d, 20, 5, 0.5, 0);
    for (size_t i = 0; i < n; i++) g[i] = 3;                  /* one folder only */
    fa_pairvec got = { 0 };
    CHECK(fa_join_exact(x, g, n, d, 10.0f, NULL, &got, NULL) == 0 && got.n == 0,
          "one folder: %zu pairs", got.n);
    fa_pairvec_free(&got);
    for (size_t i = 0; i < n; i++) g[i] = (uint32_t)(n - i);  /* each its own */
    run_case("own folders", x, g, n, d, 0.6f, 256, 1024, 2);
    run_case("own folders small", x, g, n, d, 0.6f, 16, 16, 2);
    /* groups interleaved, unsorted ids, huge group ids */
    for (size_t i = 0; i < n; i++) g[i] = (uint32_t)(i % 2 ? UINT32_MAX - 1 : i % 7);
    run_case("interleaved", x, g, n, d, 0.8f, 32, 64, 2);
    free(x);
    free(g);
}

/* Duplicates give 0 exactly; a pair exactly at the threshold matches. */
static void test_duplicates_and_ties(void)
{
    int d = 128;
    size_t n = 300;
    float *x = malloc(n * d * sizeof *x);
    uint32_t *g = malloc(n * sizeof *g);
    rng_state = 99;
    make_data(x, g, n, d, 30, 30, 0.4, 0);
    for (size_t i = 0; i < n; i++) g[i] = (uint32_t)(i % 30);
    memcpy(x + 10 * d, x + 200 * d, d * sizeof *x);     /* 10 and 200: groups 10, 20 */
    memcpy(x + 11 * d, x + 12 * d, d * sizeof *x);
    fa_pairvec got = { 0 };
    fa_join_exact(x, g, n, d, 0.0f, NULL, &got, NULL);
    int saw = 0;
    for (size_t k = 0; k < got.n; k++)
        if (got.v[k].i == 10 && got.v[k].j == 200) saw = got.v[k].dist == 0.0f;
    CHECK(saw, "duplicate vectors at distance 0 with threshold 0 (%zu pairs)", got.n);
    fa_pairvec_free(&got);

    /* tie: threshold set to an exact pair distance (as float, rounded up to
     * cover it, then that very pair's distance) */
    double d2 = fa_l2sq_exact(x + 3 * d, x + 50 * d, d);
    float t = (float)sqrt(d2);
    while ((double)t * t < d2) t = nextafterf(t, INFINITY);
    run_case("tie", x, g, n, d, t, 256, 1024, 2);
    fa_join_exact(x, g, n, d, t, NULL, &got, NULL);
    saw = 0;
    for (size_t k = 0; k < got.n; k++) saw |= got.v[k].i == 3 && got.v[k].j == 50;
    CHECK(saw, "pair at the threshold is a match");
    fa_pairvec_free(&got);
    float below = nextafterf(t, 0);
    if ((double)below * below < d2) {
        fa_join_exact(x, g, n, d, below, NULL, &got, NULL);
        saw = 0;
        for (size_t k = 0; k < got.n; k++) saw |= got.v[k].i == 3 && got.v[k].j == 50;
        CHECK(!saw, "pair just above the threshold is not a match");
        fa_pairvec_free(&got);
    }
    /* unit vectors scaled large: slack is relative */
    for (size_t i = 0; i < n * d; i++) x[i] *= 1000.0f;
    run_case("scaled", x, g, n, d, 600.0f, 256, 1024, 2);
    free(x);
    free(g);
}

static void test_errors_and_cap(void)
{
    float x[4] = { 0, 0, 0, 0 };
    uint32_t g[2] = { 0, 1 };
    fa_pairvec got = { 0 };
    CHECK(fa_join_exact(x, g, 2, 0, 1.0f, NULL, &got, NULL) < 0, "d=0 rejected");
    CHECK(fa_join_exact(x, g, 2, 2, NAN, NULL, &got, NULL) < 0, "NaN threshold rejected");
    CHECK(fa_join_exact(x, g, 2, 2, -1.0f, NULL, &got, NULL) < 0, "negative threshold rejected");
    size_t n = 400;
    int d = 8;
    float *y = calloc(n * d, sizeof *y);
    uint32_t *h = malloc(n * sizeof *h);
    for (size_t i = 0; i < n; i++) h[i] = (uint32_t)i;
    fa_join_params p = fa_join_default_params();
    p.max_pairs = 1000;
    CHECK(fa_join_exact(y, h, n, d, 1.0f, &p, &got, NULL) < 0, "max_pairs enforced");
    CHECK(strstr(fa_last_error(), "more than") != NULL, "message: %s", fa_last_error());
    fa_pairvec_free(&got);
    p.max_pairs = 0;
    CHECK(fa_join_exact(y, h, n, d, 0.0f, &p, &got, NULL) == 0 && got.n == n * (n - 1) / 2,
          "all-zero vectors: every pair at distance 0 (%zu)", got.n);
    fa_pairvec_free(&got);
    free(y);
    free(h);
}

/* The pairs and the top-k lists of one pass (fa_join_exact_knn) on both
 * paths against the naive loops. */
static void fused_paths(const char *name, const float *x, const uint32_t *g, size_t n, int d,
                        float t, const fa_pairvec *ref)
{
    fa_knn *want = naive_knn(x, g, n, d, 4);
    /* seeds: another row's group (sometimes the row's own), none, or out of range */
    uint32_t *seed = malloc((n ? n : 1) * sizeof *seed);
    for (size_t r = 0; r < n; r++)
        seed[r] = r % 5 == 0 ? UINT32_MAX : r % 7 == 0 ? 1000000000u : g[(r * 7919 + 13) % n];
    for (int v = 0; v < 3; v++) {
        int fp32 = v == 2;
        fa_join_params p = fa_join_default_params();
        p.threads = 2;
        p.tile_rows = 100;
        p.tile_cols = 130;
        p.fp32_only = fp32;
        p.knn_seed_group = v == 1 ? seed : NULL;
        fa_pairvec got = { 0 };
        fa_knn *kn = NULL;
        int rc = fa_join_exact_knn(x, g, n, d, t, &p, &got, NULL, 4, &kn);
        CHECK(rc == 0 && kn, "%s one pass (%s, variant %d): %s", name, fp32 ? "fp32" : "int8", v, fa_last_error());
        if (rc || !kn) continue;
        CHECK(same_pairs(ref, &got) && same_knn(want, kn), "%s one pass (%s%s): pairs %zu of %zu, "
              "lists equal to the naive top-k: %d", name, fp32 ? "fp32" : "int8", v == 1 ? ", seeded" : "",
              got.n, ref->n, same_knn(want, kn));
        fa_pairvec_free(&got);
        fa_knn_free(kn);
    }
    free(seed);
    fa_knn_free(want);
}

/* The int8 path against the fp32 path and the naive loop on data chosen to
 * stress its error bound: near-duplicates, pairs placed at the threshold to
 * within an ulp, large and mixed norms, one dominant component (most
 * quantised components 0), sizes off the 6x64 micro-tile. */
static void both_paths(const char *name, const float *x, const uint32_t *g, size_t n,
                       int d, float t, int lists)
{
    fa_pairvec ref = { 0 }, a = { 0 }, b = { 0 };
    naive(x, g, n, d, t, &ref);
    fa_join_params p = fa_join_default_params();
    p.threads = 2;
    p.tile_rows = 100;            /* not a multiple of 6 or 64 */
    p.tile_cols = 130;
    fa_join_stats sa, sb;
    p.fp32_only = 1;
    CHECK(fa_join_exact(x, g, n, d, t, &p, &a, &sa) == 0, "%s fp32: %s", name, fa_last_error());
    p.fp32_only = 0;
    CHECK(fa_join_exact(x, g, n, d, t, &p, &b, &sb) == 0, "%s int8: %s", name, fa_last_error());
    CHECK(sa.int8 == 0, "%s: fp32_only honoured", name);
    CHECK(sb.int8 == fa_q8_supported(), "%s: int8 path used where supported", name);
    CHECK(same_pairs(&ref, &a) && same_pairs(&ref, &b), "%s: naive %zu fp32 %zu int8 %zu",
          name, ref.n, a.n, b.n);
    if (lists) fused_paths(name, x, g, n, d, t, &ref);   /* once per data set */
    fa_pairvec_free(&ref);
    fa_pairvec_free(&a);
    fa_pairvec_free(&b);
}

static void test_int8_adversarial(void)
{
    int d = 128;
    size_t n = 777;
    float *x = malloc(n * d * sizeof *x);
    uint32_t *g = malloc(n * sizeof *g);
    rng_state = 2024;
    make_data(x, g, n, d, 40, 60, 0.5, 0);
    both_paths("clustered", x, g, n, d, 0.6f, 1);
    /* near-duplicates: every 5th row a copy of an earlier one moved by 1e-6 */
    for (size_t r = 5; r < n; r += 5) {
        size_t src = (size_t)(urand() * r);
        for (int k = 0; k < d; k++) x[r * d + k] = x[src * d + k] + (float)(1e-6 * nrand());
    }
    both_paths("near-duplicates t=1e-5", x, g, n, d, 1e-5f, 1);
    both_paths("near-duplicates t=0", x, g, n, d, 0.0f, 0);
    /* pairs at the threshold: row r+1 = row r + t*u (u a unit vector), t
     * rounded so that some land just inside, some just outside */
    float t = 0.55f;
    for (size_t r = 0; r + 1 < n; r += 2) {
        double u[128], s = 0;
        for (int k = 0; k < d; k++) { u[k] = nrand(); s += u[k] * u[k]; }
        for (int k = 0; k < d; k++) x[(r + 1) * d + k] = (float)(x[r * d + k] + t * u[k] / sqrt(s));
        g[r + 1] = g[r] + 1;
    }
    both_paths("at threshold", x, g, n, d, t, 1);
    both_paths("at threshold, next float down", x, g, n, d, nextafterf(t, 0), 0);
    both_paths("at threshold, next float up", x, g, n, d, nextafterf(t, 1), 0);
    /* large and mixed norms: rows scaled by 1, 1e3 or 1e-3 */
    for (size_t r = 0; r < n; r++) {
        float f = r % 3 == 0 ? 1e3f : r % 3 == 1 ? 1.0f : 1e-3f;
        for (int k = 0; k < d; k++) x[r * d + k] *= f;
    }
    both_paths("mixed norms", x, g, n, d, 0.6f, 1);
    both_paths("mixed norms t=600", x, g, n, d, 600.0f, 0);
    /* one dominant component: the others quantise to 0 */
    for (size_t r = 0; r < n; r++) x[r * d + (r % d)] = 50.0f;
    both_paths("dominant component", x, g, n, d, 1.0f, 1);
    /* odd dimension (padded to 4) and non-finite data (fp32 fallback) */
    both_paths("d=7", x, g, 200, 7, 0.5f, 1);
    x[5] = INFINITY;
    fa_pairvec got = { 0 };
    fa_join_stats st;
    CHECK(fa_join_exact(x, g, 50, d, 1.0f, NULL, &got, &st) == 0 && st.int8 == 0,
          "non-finite data fall back to fp32");
    fa_pairvec_free(&got);
    fa_knn *kn = NULL;
    CHECK(fa_join_exact_knn(x, g, 50, d, 1.0f, NULL, &got, &st, 3, &kn) == 0 && st.int8 == 0 && kn &&
          kn->n == 50, "non-finite data: the one pass falls back to fp32 too");
    fa_pairvec_free(&got);
    fa_knn_free(kn);
    CHECK(fa_join_exact_knn(x, g, 50, d, 1.0f, NULL, &got, NULL, 65, &kn) < 0 && !kn &&
          strstr(fa_last_error(), "bad k 65"), "k above 64 refused: %s", fa_last_error());
    CHECK(fa_join_exact_knn(x, g, 50, d, -1.0f, NULL, &got, NULL, 0, NULL) < 0,
          "no pair threshold and no lists refused");
    free(x);
    free(g);
}

/* fa_l2sq_exact gives the bits of its documented order (dimension k into
 * sum k mod 8, each term a separate multiply and add, the sums added
 * pairwise) whichever code path this CPU takes; fa_l2_stat likewise. */
static void test_l2_order(void)
{
    rng_state = 77;
    float a[131], b[131];
    int bad = 0, bad_stat = 0;
    for (int d = 1; d <= 131; d++)
        for (int rep = 0; rep < 20; rep++) {
            for (int k = 0; k < d; k++) {
                a[k] = (float)(nrand() * (rep % 3 ? 1.0 : 1e-3));
                b[k] = (float)(nrand() * (rep % 2 ? 1.0 : 1e3));
            }
            volatile double s[8] = { 0 };
            for (int k = 0; k < d; k++) {
                volatile double t = (double)a[k] - (double)b[k];
                volatile double p = t * t;
                s[k % 8] = s[k % 8] + p;
            }
            double want = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
            bad += fa_l2sq_exact(a, b, d) != want;
            /* fa_l2_stat: 16 float sums, then the tail, then the sums in order */
            volatile float f[16] = { 0 }, tail = 0;
            int k = 0;
            for (; k + 16 <= d; k += 16)
                for (int q = 0; q < 16; q++) {
                    volatile float t = a[k + q] - b[k + q], p = t * t;
                    f[q] = f[q] + p;
                }
            for (; k < d; k++) {
                volatile float t = a[k] - b[k], p = t * t;
                tail = tail + p;
            }
            float fs = tail;
            for (int q = 0; q < 16; q++) fs += f[q];
            bad_stat += fa_l2_stat(a, b, d) != sqrtf(fs);
        }
    CHECK(bad == 0, "fa_l2sq_exact: %d of %d results differ from the documented order", bad, 131 * 20);
    CHECK(bad_stat == 0, "fa_l2_stat: %d of %d results differ from the documented order", bad_stat, 131 * 20);
}

int main(void)
{
    test_l2_order();
    test_int8_adversarial();
    test_sizes();
    test_random_uniform();
    test_special_groups();
    test_duplicates_and_ties();
    test_errors_and_cap();
    return check_done();
}
