/*
 * bench_query.c - the search half of bench/bench_query.sh.
 *
 *   bench_query mkcache SYNTH CACHE ROOT  det_name det_sha lm_name lm_sha enc_name enc_sha
 *       Writes a faceaudit cache (fa_cache_commit) from bench/synth.py's
 *       vectors and folders, one face per pseudo-file ROOT/<folder>/<row>.jpg,
 *       recording the given models so that `faceaudit query` accepts it.
 *   bench_query search CACHE OUTDIR [queries=200] [k=10]
 *       Times fa_search_topk on CACHE: the first query after opening (page
 *       faults of the mapping included), then the median over `queries`
 *       queries (cached faces plus noise) with 1 thread and with all; writes
 *       OUTDIR/queries.f32 and OUTDIR/topk.u32 for the faiss comparison.
 * Output lines are "key value" for the shell script to pick up.
 */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "faceaudit/query.h"
#include "util.h"

static void *load(const char *dir, const char *name, size_t *len)
{
    char *path = fa_path_join(dir, name), *data = NULL;
    if (fa_read_file(path, (size_t)1 << 32, &data, len)) { fprintf(stderr, "%s\n", fa_last_error()); exit(1); }
    free(path);
    return data;
}

static const char *const *g_names;
static const uint32_t *g_groups;

/* Rows ordered by (folder name, row): the cache wants sorted folders and files. */
static int cmp_rows(const void *pa, const void *pb)
{
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
    int c = strcmp(g_names[g_groups[a]], g_names[g_groups[b]]);
    return c ? c : (a > b) - (a < b);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static size_t split_lines(char *text, char ***out)
{
    size_t n = 0, cap = 1024;
    char **v = malloc(cap * sizeof *v);
    for (char *s = strtok(text, "\n"); s; s = strtok(NULL, "\n")) {
        if (n == cap) v = realloc(v, (cap *= 2) * sizeof *v);
        v[n++] = s;
    }
    *out = v;
    return n;
}

static int mkcache(char **argv)
{
    size_t len, glen, flen;
    char *info = load(argv[0], "info.txt", &len), *ftext = load(argv[0], "folders.txt", &flen);
    size_t n;
    int d;
    if (sscanf(info, "%zu %d", &n, &d) != 2) { fprintf(stderr, "bad info.txt\n"); return 1; }
    float *x = load(argv[0], "emb.f32", &len);
    uint32_t *groups = load(argv[0], "groups.u32", &glen);
    char **names;
    size_t nf = split_lines(ftext, &names);
    if (len != n * d * sizeof(float) || glen != n * sizeof(uint32_t)) { fprintf(stderr, "size mismatch\n"); return 1; }
    uint32_t *order = malloc(n * sizeof *order);
    for (size_t i = 0; i < n; i++) order[i] = (uint32_t)i;
    g_names = (const char *const *)names;
    g_groups = groups;
    qsort(order, n, sizeof *order, cmp_rows);
    char **sorted = malloc(nf * sizeof *sorted);
    memcpy(sorted, names, nf * sizeof *sorted);
    qsort(sorted, nf, sizeof *sorted, cmp_str);
    uint32_t *rank = malloc(nf * sizeof *rank);   /* old folder id -> sorted index */
    for (size_t g = 0; g < nf; g++) {
        char **hit = bsearch(&names[g], sorted, nf, sizeof *sorted, cmp_str);
        rank[g] = (uint32_t)(hit - sorted);
    }
    fa_file *files = calloc(n, sizeof *files);
    fa_face *faces = calloc(n, sizeof *faces);
    float *emb = malloc(n * d * sizeof *emb);
    for (size_t i = 0; i < n; i++) {
        uint32_t r = order[i];
        char path[512];
        snprintf(path, sizeof path, "%s/%07u.jpg", names[groups[r]], r);
        files[i] = (fa_file){.path = strdup(path), .folder = rank[groups[r]], .status = FA_STATUS_OK, .reason = "",
                             .size = 1000, .mtime_ns = 0, .width = 640, .height = 480, .n_faces = 1,
                             .first_face = (int64_t)i};
        faces[i] = (fa_face){(uint32_t)i, 0, {100, 100, 200, 200, 1}};
        memcpy(emb + i * d, x + (size_t)r * d, d * sizeof *emb);
    }
    fa_model_id models[3];
    for (int m = 0; m < 3; m++) {
        memset(&models[m], 0, sizeof models[m]);
        snprintf(models[m].role, sizeof models[m].role, "%s", fa_model_role(m));
        snprintf(models[m].name, sizeof models[m].name, "%s", argv[3 + 2 * m]);
        snprintf(models[m].sha256, sizeof models[m].sha256, "%s", argv[4 + 2 * m]);
    }
    fa_detect_params dp = {800, 640, 1600, 80000000LL, 150, 0.25f};
    fa_cache_data cd = {argv[2], d, n, n, nf, files, faces, emb, sorted, models, 3, &dp};
    if (fa_cache_commit(argv[1], &cd)) { fprintf(stderr, "%s\n", fa_last_error()); return 1; }
    printf("faces %zu\nfolders %zu\n", n, nf);
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Median seconds of one fa_search_topk over the queries; top-k rows kept. */
static double time_queries(fa_searcher *s, const float *q, size_t nq, int d, fa_search_params *p, uint32_t *topk)
{
    double *t = malloc(nq * sizeof *t);
    for (size_t i = 0; i < nq; i++) {
        fa_search_result r;
        double t0 = fa_now();
        if (fa_search_topk(s, q + i * d, p, &r)) { fprintf(stderr, "%s\n", fa_last_error()); exit(1); }
        t[i] = fa_now() - t0;
        for (size_t j = 0; topk && j < p->k; j++) topk[i * p->k + j] = j < r.n_hits ? r.hits[j].row : UINT32_MAX;
        fa_search_result_free(&r);
    }
    double m = median(t, nq);
    free(t);
    return m;
}

static void save(const char *dir, const char *name, const void *p, size_t n)
{
    char *path = fa_path_join(dir, name);
    if (fa_write_file_atomic(path, p, n)) fprintf(stderr, "%s\n", fa_last_error());
    free(path);
}

static int search(int argc, char **argv)
{
    size_t nq = argc > 2 ? strtoul(argv[2], NULL, 10) : 200, k = argc > 3 ? strtoul(argv[3], NULL, 10) : 10;
    double t0 = fa_now();
    fa_cache *c = fa_cache_open(argv[0]);
    if (!c) { fprintf(stderr, "%s\n", fa_last_error()); return 1; }
    double t_open = fa_now() - t0;
    int d = c->dim;
    fa_searcher *s = fa_searcher_new(c);
    float *q = malloc(nq * d * sizeof *q);
    uint64_t st = 7;
    for (size_t i = 0; i < nq; i++) {
        st = st * 6364136223846793005ULL + 1442695040888963407ULL;
        size_t row = (st >> 33) % c->n_faces;
        for (int j = 0; j < d; j++) {
            st = st * 6364136223846793005ULL + 1442695040888963407ULL;
            q[i * d + j] = c->emb[row * d + j] + ((float)((st >> 40) & 0xFFFF) / 65536.0f - 0.5f) * 0.02f;
        }
    }
    fa_search_params p;
    fa_search_default_params(&p);
    p.k = k;
    uint32_t *topk = malloc(nq * k * sizeof *topk);
    double cold = time_queries(s, q, 1, d, &p, NULL);
    p.threads = 1;
    double one = time_queries(s, q, nq, d, &p, topk);
    p.threads = omp_get_max_threads();
    double all = time_queries(s, q, nq, d, &p, NULL);
    printf("faces %zu\ndim %d\nopen_ms %.3f\ncold_ms %.3f\nwarm_1thread_ms %.3f\nwarm_%dthreads_ms %.3f\n",
           c->n_faces, d, t_open * 1e3, cold * 1e3, one * 1e3, omp_get_max_threads(), all * 1e3);
    save(argv[1], "queries.f32", q, nq * d * sizeof *q);
    save(argv[1], "topk.u32", topk, nq * k * sizeof *topk);
    fa_searcher_free(s);
    fa_cache_close(c);
    free(q);
    free(topk);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 11 && !strcmp(argv[1], "mkcache")) return mkcache(argv + 2);
    if (argc >= 4 && !strcmp(argv[1], "search")) return search(argc - 2, argv + 2);
    fprintf(stderr, "usage: bench_query mkcache SYNTH CACHE ROOT det_name det_sha lm_name lm_sha enc_name enc_sha\n"
                    "       bench_query search CACHE OUTDIR [queries] [k]\n");
    return 2;
}
