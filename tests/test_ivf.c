/*
 * test_ivf.c - IVF exact mode equals the exact join (several list counts,
 * thresholds, data shapes); nprobe mode returns only true matches, its
 * recall is measured and <= 1, and nprobe = nlist finds everything.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "faceaudit/faceaudit.h"
#include "../src/audit/ivf.h"

#include "check.h"

#include "testrand.h"

static void make_data(float *x, uint32_t *g, size_t n, int d, int k, double spread)
{
    float *c = malloc((size_t)k * d * sizeof *c);
    for (int i = 0; i < k * d; i++) c[i] = (float)(0.6 * nrand() / sqrt(d));
    for (size_t r = 0; r < n; r++) {
        int cl = (int)(urand() * k);
        for (int j = 0; j < d; j++) x[r * d + j] = c[cl * d + j] + (float)(spread * nrand() / sqrt(d));
        g[r] = urand() < 0.93 ? (uint32_t)cl : (uint32_t)(urand() * k);
        if (r % 50 == 7) memcpy(x + r * d, x + (r / 2) * d, d * sizeof *x);
    }
    free(c);
}

static int same(const fa_pairvec *a, const fa_pairvec *b)
{
    if (a->n != b->n) return 0;
    for (size_t q = 0; q < a->n; q++)
        if (a->v[q].i != b->v[q].i || a->v[q].j != b->v[q].j || a->v[q].dist != b->v[q].dist)
            return 0;
    return 1;
}

/* every pair in sub is in sup */
static int subset(const fa_pairvec *sub, const fa_pairvec *sup)
{
    size_t q = 0;
    for (size_t r = 0; r < sub->n; r++) {
        while (q < sup->n && (sup->v[q].i < sub->v[r].i ||
               (sup->v[q].i == sub->v[r].i && sup->v[q].j < sub->v[r].j))) q++;
        if (q == sup->n || sup->v[q].i != sub->v[r].i || sup->v[q].j != sub->v[r].j) return 0;
    }
    return 1;
}

static void run(size_t n, int d, int k, double spread, float t, int nlist, int tile)
{
    float *x = malloc(n * d * sizeof *x);
    uint32_t *g = malloc(n * sizeof *g);
    rs = n * 31 + d * 7 + k;
    make_data(x, g, n, d, k, spread);
    fa_pairvec ex = { 0 }, iv = { 0 }, ap = { 0 }, all = { 0 };
    fa_join_params jp = fa_join_default_params();
    CHECK(fa_join_exact(x, g, n, d, t, &jp, &ex, NULL) == 0, "exact: %s", fa_last_error());
    fa_ivf_params p = fa_ivf_default_params();
    p.nlist = nlist;
    p.threads = 2;
    p.tile_rows = tile;
    p.tile_cols = tile * 2;
    fa_ivf_stats st;
    CHECK(fa_ivf_join(x, g, n, d, t, &p, &iv, &st) == 0, "ivf: %s", fa_last_error());
    CHECK(same(&ex, &iv), "ivf exact n=%zu d=%d nlist=%d t=%g: exact %zu ivf %zu",
          n, d, nlist, (double)t, ex.n, iv.n);
    fa_ivf_stats se = st;
    p.nprobe = 2;
    p.recall_sample = n / 3 + 1;
    CHECK(fa_ivf_join(x, g, n, d, t, &p, &ap, &st) == 0, "nprobe: %s", fa_last_error());
    CHECK(subset(&ap, &ex), "nprobe pairs are true matches");
    CHECK(st.recall >= 0 && st.recall <= 1.0, "recall %g", st.recall);
    printf("  n=%zu nlist=%zu t=%.2f: exact %zu pairs, list pairs pruned %zu/%zu, rows pruned %zu/%zu, "
           "nprobe=2: %zu pairs, recall %.4f (%zu/%zu)\n",
           n, st.nlist, (double)t, ex.n, se.list_pairs_pruned, se.list_pairs_total,
           se.rows_pruned, se.rows_considered, ap.n, st.recall, st.recall_found, st.recall_truth);
    p.nprobe = (int)st.nlist;
    p.recall_sample = 50;
    CHECK(fa_ivf_join(x, g, n, d, t, &p, &all, &st) == 0 && same(&all, &ex) && st.recall == 1.0,
          "nprobe = nlist equals exact (%zu vs %zu, recall %g)", all.n, ex.n, st.recall);
    if (ex.n > 1) {   /* the pair budget: past max_pairs the join stops with a message */
        fa_pairvec over = { 0 };
        p.nprobe = 0;
        p.max_pairs = ex.n - 1;
        CHECK(fa_ivf_join(x, g, n, d, t, &p, &over, NULL) < 0 && strstr(fa_last_error(), "more than"),
              "ivf max_pairs %zu of %zu enforced: %s", p.max_pairs, ex.n, fa_last_error());
        p.max_pairs = ex.n;
        CHECK(fa_ivf_join(x, g, n, d, t, &p, &over, NULL) == 0 && same(&over, &ex), "ivf max_pairs = pairs passes");
        fa_pairvec_free(&over);
    }
    fa_pairvec_free(&ex); fa_pairvec_free(&iv); fa_pairvec_free(&ap); fa_pairvec_free(&all);
    free(x);
    free(g);
}

int main(void)
{
    run(1, 8, 1, 0.3, 0.5f, 0, 512);
    run(2, 8, 1, 0.3, 0.5f, 0, 512);
    run(300, 16, 10, 0.3, 0.3f, 1, 512);
    run(300, 16, 10, 0.3, 0.3f, 300, 64);
    run(1000, 32, 25, 0.25, 0.2f, 0, 512);
    run(1000, 32, 25, 0.25, 0.35f, 13, 37);
    run(2500, 128, 60, 0.35, 0.3f, 0, 512);
    run(2500, 128, 60, 0.35, 0.45f, 100, 128);
    run(1777, 64, 40, 0.5, 0.0f, 20, 512);     /* duplicates only */
    /* bad arguments */
    fa_pairvec pv = { 0 };
    float x[4] = { 0 };
    uint32_t g[2] = { 0, 1 };
    fa_ivf_params p = fa_ivf_default_params();
    p.nlist = -1;
    CHECK(fa_ivf_join(x, g, 2, 2, 1.0f, &p, &pv, NULL) < 0, "negative nlist rejected");
    return check_done();
}
