/*
 * test_search.c - the exact search of `faceaudit query` against a naive
 * reference on random data: several sizes and dimensions, k above n, exact
 * ties (duplicated rows), the folder restriction, and the per-folder counts.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "faceaudit/query.h"

static uint64_t rng = 42;

static float frand(void)
{
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (float)((rng >> 40) & 0xFFFFFF) / (float)0x1000000 - 0.5f;
}

/* A cache in memory with n faces in n_folders folders, one face per file. */
typedef struct {
    fa_cache c;
    fa_file *files;
    fa_face *faces;
    char **folders;
    float *emb;
} fake_cache;

static void fake_make(fake_cache *f, size_t n, int dim, size_t n_folders, int dup_every)
{
    memset(f, 0, sizeof *f);
    f->files = calloc(n + 1, sizeof *f->files);
    f->faces = calloc(n + 1, sizeof *f->faces);
    f->folders = calloc(n_folders, sizeof *f->folders);
    f->emb = malloc((n + 1) * (size_t)dim * sizeof(float));
    for (size_t g = 0; g < n_folders; g++) {
        f->folders[g] = malloc(16);
        snprintf(f->folders[g], 16, "f%03zu", g);
    }
    for (size_t i = 0; i < n; i++) {
        f->files[i].folder = (uint32_t)((i * 7) % n_folders);
        f->files[i].n_faces = 1;
        f->files[i].first_face = (int64_t)i;
        f->faces[i].file = (uint32_t)i;
        for (int j = 0; j < dim; j++)   /* duplicates make exact distance ties */
            f->emb[i * dim + j] = dup_every && i % dup_every == 1 ? f->emb[(i - 1) * dim + j] : frand();
    }
    f->c = (fa_cache){.dim = dim, .n_files = n, .n_faces = n, .n_folders = n_folders, .files = f->files,
                      .faces = f->faces, .folders = f->folders, .emb = f->emb};
}

static void fake_free(fake_cache *f)
{
    for (size_t g = 0; g < f->c.n_folders; g++) free(f->folders[g]);
    free(f->files); free(f->faces); free(f->folders); free(f->emb);
}

static double ref_dist(const float *a, const float *b, int dim)
{
    double s = 0;
    for (int j = 0; j < dim; j++) s += ((double)a[j] - b[j]) * ((double)a[j] - b[j]);
    return sqrt(s);
}

static int cmp_hit(const void *pa, const void *pb)
{
    const fa_hit *a = pa, *b = pb;
    if (a->distance != b->distance) return a->distance < b->distance ? -1 : 1;
    return a->row < b->row ? -1 : a->row > b->row;
}

/* Reference: every eligible row, distances in double, sorted by (distance, row). */
static size_t ref_topk(const fake_cache *f, const float *q, int64_t only, fa_hit *all)
{
    size_t m = 0;
    for (size_t i = 0; i < f->c.n_faces; i++)
        if (only < 0 || f->files[i].folder == (uint32_t)only)
            all[m++] = (fa_hit){(uint32_t)i, (float)ref_dist(f->emb + i * f->c.dim, q, f->c.dim), 0};
    qsort(all, m, sizeof *all, cmp_hit);
    return m;
}

/* Compares fa_search_topk with the reference for one query. */
static void compare(fake_cache *f, fa_searcher *s, const float *q, size_t k, int64_t only, float thr, int threads)
{
    fa_search_params p;
    fa_search_default_params(&p);
    p.k = k; p.folder = only; p.max_distance = thr; p.threads = threads;
    fa_search_result r;
    fa_hit *all = malloc((f->c.n_faces + 1) * sizeof *all);
    size_t m = ref_topk(f, q, only, all);
    CHECK(fa_search_topk(s, q, &p, &r) == 0, "search failed: %s", fa_last_error());
    size_t want = k < m ? k : m;
    CHECK(r.n_hits == want, "n=%zu k=%zu folder=%lld: %zu hits, want %zu", f->c.n_faces, k, (long long)only, r.n_hits, want);
    CHECK(r.n_searched == m, "searched %zu, want %zu", r.n_searched, m);
    int order_ok = 1, dist_ok = 1;
    for (size_t i = 0; i < r.n_hits && i < want; i++) {
        /* Float rounding may swap near-equal rows, so compare distances tightly,
         * and demand the same row wherever the reference's gap is clear. */
        if (fabsf(r.hits[i].distance - all[i].distance) > 1e-4f) dist_ok = 0;
        int clear = (i == 0 || all[i].distance - all[i - 1].distance > 1e-4f) &&
                    (i + 1 >= m || all[i + 1].distance - all[i].distance > 1e-4f);
        if (clear && r.hits[i].row != all[i].row) order_ok = 0;
        if (i && (r.hits[i].distance < r.hits[i - 1].distance ||
                  (r.hits[i].distance == r.hits[i - 1].distance && r.hits[i].row < r.hits[i - 1].row)))
            order_ok = 0;
        if (only >= 0 && f->files[r.hits[i].row].folder != (uint32_t)only) order_ok = 0;
    }
    CHECK(dist_ok, "n=%zu dim=%d k=%zu: distances differ from the reference", f->c.n_faces, f->c.dim, k);
    CHECK(order_ok, "n=%zu dim=%d k=%zu: rows or order differ from the reference", f->c.n_faces, f->c.dim, k);
    /* Folder summary: closest and count within thr per folder. */
    size_t within = 0;
    int folders_ok = 1;
    for (size_t i = 0; i < m; i++) within += all[i].distance <= thr;
    for (size_t j = 0; j < r.n_folders; j++) {
        const fa_folder_hit *fh = &r.folders[j];
        uint32_t cnt = 0;
        float best = INFINITY;
        for (size_t i = 0; i < m; i++)
            if (f->files[all[i].row].folder == fh->folder) {
                cnt += all[i].distance <= thr;
                if (all[i].distance < best) best = all[i].distance;
            }
        if (fabsf(best - fh->closest) > 1e-4f || (cnt != fh->within && fabsf(fh->closest - thr) > 1e-4f)) folders_ok = 0;
        if (j && r.folders[j].closest < r.folders[j - 1].closest) folders_ok = 0;
    }
    CHECK(folders_ok, "n=%zu: folder summary differs from the reference", f->c.n_faces);
    CHECK(r.n_within == within || fabsf(all[within ? within - 1 : 0].distance - thr) < 1e-4f,
          "within %zu, want %zu", r.n_within, within);
    free(all);
    fa_search_result_free(&r);
}

static void run_case(size_t n, int dim, size_t n_folders, int dup_every)
{
    fake_cache f;
    fake_make(&f, n, dim, n_folders, dup_every);
    fa_searcher *s = fa_searcher_new(&f.c);
    CHECK(s != NULL, "searcher: %s", fa_last_error());
    float *q = malloc((size_t)dim * sizeof *q);
    for (int t = 0; t < 3; t++) {
        for (int j = 0; j < dim; j++) q[j] = frand();
        if (t == 2 && n) memcpy(q, f.emb, (size_t)dim * sizeof *q);   /* a cached face itself: distance 0 */
        float thr = (float)sqrt(dim / 6.0);   /* about the median distance: both sides populated */
        compare(&f, s, q, 1, -1, thr, 1);
        compare(&f, s, q, 10, -1, thr, 0);
        compare(&f, s, q, n + 5, -1, thr, 2);                  /* k > n */
        compare(&f, s, q, 7, (int64_t)(n_folders - 1), thr, 0); /* --folder */
    }
    free(q);
    fa_searcher_free(s);
    fake_free(&f);
}

static void test_topk_ties(void)
{
    float d[8] = {0.5f, 0.1f, 0.5f, 0.1f, 0.9f, 0.5f, 0.0f, 0.5f};
    uint32_t g[8] = {0, 1, 0, 1, 0, 1, 0, 1};
    fa_hit out[8];
    size_t n = fa_topk(d, 8, NULL, -1, 4, out);
    CHECK(n == 4 && out[0].row == 6 && out[1].row == 1 && out[2].row == 3 && out[3].row == 0,
          "ties: got %u %u %u %u", out[0].row, out[1].row, out[2].row, out[3].row);
    n = fa_topk(d, 8, g, 1, 100, out);
    CHECK(n == 4 && out[0].row == 1 && out[1].row == 3 && out[2].row == 5 && out[3].row == 7,
          "folder 1: got %zu hits", n);
    CHECK(fa_topk(d, 8, NULL, -1, 0, out) == 0, "k = 0 must give nothing");
    CHECK(fa_topk(d, 0, NULL, -1, 3, out) == 0, "n = 0 must give nothing");
}

static void test_cosine(void)
{
    fake_cache f;
    fake_make(&f, 50, 128, 3, 0);
    fa_searcher *s = fa_searcher_new(&f.c);
    fa_search_params p;
    fa_search_default_params(&p);
    fa_search_result r;
    float q[128];
    for (int j = 0; j < 128; j++) q[j] = 2 * f.emb[10 * 128 + j];   /* same direction as row 10 */
    CHECK(fa_search_topk(s, q, &p, &r) == 0, "search failed");
    int found = 0;
    for (size_t i = 0; i < r.n_hits; i++)
        if (r.hits[i].row == 10) found = fabsf(r.hits[i].cosine - 1) < 1e-5f;
    CHECK(found, "row 10 should have cosine 1");
    fa_search_result_free(&r);
    p.folder = 3;
    CHECK(fa_search_topk(s, q, &p, &r) == -1, "a folder out of range must fail");
    fa_searcher_free(s);
    fake_free(&f);
}

int main(void)
{
    test_topk_ties();
    test_cosine();
    run_case(1, 128, 1, 0);
    run_case(5, 128, 2, 0);
    run_case(100, 128, 7, 3);
    run_case(1000, 13, 10, 0);      /* dim not a multiple of 8 */
    run_case(5000, 128, 40, 2);     /* half the rows duplicated: exact ties */
    run_case(40000, 128, 300, 0);   /* above the parallel threshold */
    return check_done();
}
