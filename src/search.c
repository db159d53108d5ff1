/*
 * search.c - exact nearest-neighbour search over the cache (see query.h).
 *
 * A query is one sequential pass over the memory-mapped n x dim matrix: the
 * distance of every row goes into a scratch array (n floats, stays in L2),
 * then a bounded max-heap keeps the k nearest and one more pass ranks the
 * folders. The pass is memory-bound, so the kernel only has to keep up with
 * memory: 8-wide vector arithmetic (GCC vector extensions, no intrinsics, so
 * it builds for any target) and OpenMP across row blocks for large caches.
 * Distances are computed directly as |x - q| rather than from dot products
 * and norms, which would need the norms stored or a second pass.
 */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include "faceaudit/query.h"

/* Threads by default only for very large caches: one thread scans 57,637
 * faces in 2 ms, while on a loaded 2-core machine a second thread made the
 * same scan take 8-12 ms (waiting to be scheduled). Asked-for threads are
 * used from PARALLEL_MIN_ROWS rows on. */
#define AUTO_PARALLEL_ROWS ((size_t)1 << 20)
#define PARALLEL_MIN_ROWS 16384

typedef float v8f __attribute__((vector_size(32), aligned(4)));   /* unaligned loads allowed */

struct fa_searcher {
    const fa_cache *c;
    uint32_t *row_folder;   /* n_faces */
    uint32_t *folder_faces; /* n_folders: faces per folder */
    float *dist;            /* n_faces scratch */
};

void fa_search_default_params(fa_search_params *p)
{
    p->k = 10;
    p->folder = -1;
    p->max_distance = 0.6f;
    p->threads = 0;
}

void fa_search_result_free(fa_search_result *r)
{
    if (!r) return;
    free(r->hits);
    free(r->folders);
    memset(r, 0, sizeof *r);
}

/* ---- the scan ------------------------------------------------------------ */

static float dist_row(const float *x, const float *q, int dim)
{
    v8f acc0 = {0}, acc1 = {0};
    int j = 0;
    for (; j + 16 <= dim; j += 16) {
        v8f d0 = *(const v8f *)(x + j) - *(const v8f *)(q + j);
        v8f d1 = *(const v8f *)(x + j + 8) - *(const v8f *)(q + j + 8);
        acc0 += d0 * d0;
        acc1 += d1 * d1;
    }
    acc0 += acc1;
    float s = 0;
    for (int i = 0; i < 8; i++) s += acc0[i];
    for (; j < dim; j++) s += (x[j] - q[j]) * (x[j] - q[j]);
    return sqrtf(s);
}

void fa_distances(const float *x, size_t n, int dim, const float *q, int threads, float *out)
{
    int nt = threads > 0 ? threads : n >= AUTO_PARALLEL_ROWS ? omp_get_max_threads() : 1;
    long nn = (long)n;
#pragma omp parallel for schedule(static) if (nt > 1 && nn >= PARALLEL_MIN_ROWS) num_threads(nt)
    for (long i = 0; i < nn; i++) out[i] = dist_row(x + (size_t)i * (size_t)dim, q, dim);
}

/* ---- top k: a max-heap of the k best so far, worst at the root ----------- */

/* Order of hits: by distance, then row, so that ties are deterministic. */
static int worse(const fa_hit *a, const fa_hit *b)
{
    return a->distance > b->distance || (a->distance == b->distance && a->row > b->row);
}

static void sift_down(fa_hit *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && worse(&h[l], &h[m])) m = l;
        if (r < n && worse(&h[r], &h[m])) m = r;
        if (m == i) return;
        fa_hit t = h[i]; h[i] = h[m]; h[m] = t;
        i = m;
    }
}

static void sift_up(fa_hit *h, size_t i)
{
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!worse(&h[i], &h[p])) return;
        fa_hit t = h[i]; h[i] = h[p]; h[p] = t;
        i = p;
    }
}

size_t fa_topk(const float *dist, size_t n, const uint32_t *group, int64_t only, size_t k, fa_hit *out)
{
    size_t len = 0;
    if (k == 0) return 0;
    for (size_t i = 0; i < n; i++) {
        if (only >= 0 && group && group[i] != (uint64_t)only) continue;
        fa_hit h = {(uint32_t)i, dist[i], 0};
        if (len < k) { out[len] = h; sift_up(out, len++); }
        else if (worse(&out[0], &h)) { out[0] = h; sift_down(out, len, 0); }
    }
    /* Heap sort in place: the worst goes to the end each round. */
    for (size_t end = len; end > 1; end--) {
        fa_hit t = out[0]; out[0] = out[end - 1]; out[end - 1] = t;
        sift_down(out, end - 1, 0);
    }
    return len;
}

/* ---- folders --------------------------------------------------------------- */

static int cmp_folder_hit(const void *pa, const void *pb)
{
    const fa_folder_hit *a = pa, *b = pb;
    if (a->closest != b->closest) return a->closest < b->closest ? -1 : 1;
    return a->folder < b->folder ? -1 : a->folder > b->folder;
}

/* Closest face and count within max_dist per folder, for the searched rows. */
static int rank_folders(const fa_searcher *s, const fa_search_params *p, fa_search_result *r)
{
    size_t nf = s->c->n_folders;
    fa_folder_hit *f = calloc(nf ? nf : 1, sizeof *f);
    if (!f) return fa_error("fa_search_topk: out of memory");
    for (size_t g = 0; g < nf; g++) f[g] = (fa_folder_hit){(uint32_t)g, INFINITY, 0, 0, s->folder_faces[g]};
    for (size_t i = 0; i < s->c->n_faces; i++) {
        uint32_t g = s->row_folder[i];
        if (p->folder >= 0 && g != (uint64_t)p->folder) continue;
        float d = s->dist[i];
        if (d < f[g].closest) { f[g].closest = d; f[g].closest_row = (uint32_t)i; }
        if (d <= p->max_distance) { f[g].within++; r->n_within++; }
        r->n_searched++;
    }
    size_t kept = 0;
    for (size_t g = 0; g < nf; g++)
        if (f[g].closest < INFINITY) f[kept++] = f[g];
    qsort(f, kept, sizeof *f, cmp_folder_hit);
    r->folders = f;
    r->n_folders = kept;
    return 0;
}

/* ---- the searcher ------------------------------------------------------------ */

fa_searcher *fa_searcher_new(const fa_cache *c)
{
    fa_searcher *s = calloc(1, sizeof *s);
    size_t n = c->n_faces ? c->n_faces : 1, nf = c->n_folders ? c->n_folders : 1;
    if (s) {
        s->c = c;
        s->row_folder = malloc(n * sizeof *s->row_folder);
        s->folder_faces = calloc(nf, sizeof *s->folder_faces);
        s->dist = malloc(n * sizeof *s->dist);
    }
    if (!s || !s->row_folder || !s->folder_faces || !s->dist) {
        fa_searcher_free(s);
        fa_error("fa_searcher_new: out of memory");
        return NULL;
    }
    for (size_t i = 0; i < c->n_faces; i++) {
        uint32_t g = c->files[c->faces[i].file].folder;
        s->row_folder[i] = g;
        s->folder_faces[g]++;
    }
    return s;
}

void fa_searcher_free(fa_searcher *s)
{
    if (!s) return;
    free(s->row_folder);
    free(s->folder_faces);
    free(s->dist);
    free(s);
}

int64_t fa_cache_folder_index(const fa_cache *c, const char *name)
{
    for (size_t g = 0; g < c->n_folders; g++)
        if (strcmp(c->folders[g], name) == 0) return (int64_t)g;
    return -1;
}

static float cosine(const float *a, const float *b, int dim)
{
    double ab = 0, aa = 0, bb = 0;
    for (int j = 0; j < dim; j++) { ab += a[j] * b[j]; aa += a[j] * a[j]; bb += b[j] * b[j]; }
    return aa > 0 && bb > 0 ? (float)(ab / sqrt(aa * bb)) : 0.0f;
}

int fa_search_topk(fa_searcher *s, const float *q, const fa_search_params *p, fa_search_result *r)
{
    const fa_cache *c = s->c;
    memset(r, 0, sizeof *r);
    if (p->folder >= (int64_t)c->n_folders) return fa_error("fa_search_topk: folder %lld out of range", (long long)p->folder);
    size_t k = p->k < c->n_faces ? p->k : c->n_faces;
    r->hits = malloc((k ? k : 1) * sizeof *r->hits);
    if (!r->hits) return fa_error("fa_search_topk: out of memory");
    fa_distances(c->emb, c->n_faces, c->dim, q, p->threads, s->dist);
    r->n_hits = fa_topk(s->dist, c->n_faces, s->row_folder, p->folder, k, r->hits);
    for (size_t i = 0; i < r->n_hits; i++)
        r->hits[i].cosine = cosine(c->emb + (size_t)r->hits[i].row * c->dim, q, c->dim);
    if (rank_folders(s, p, r)) { fa_search_result_free(r); return -1; }
    return 0;
}
