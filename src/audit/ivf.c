/*
 * ivf.c - k-means inverted lists: build, exact (bound-pruned) and
 * approximate (nprobe) cross-folder range joins, recall on a sample.
 * See ivf.h for the contract; the tile kernel is join.c's fa_join_rect.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <omp.h>
#include <cblas.h>
#include "faceaudit/faceaudit.h"
#include "ivf.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

uint64_t fa_rand_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

size_t fa_rand_below(uint64_t *s, size_t n)
{
    return n ? (size_t)(fa_rand_next(s) % n) : 0;
}

fa_ivf_params fa_ivf_default_params(void)
{
    fa_ivf_params p;
    memset(&p, 0, sizeof p);
    p.iters = 10;
    p.seed = 1;
    return p;
}

void fa_ivf_free(fa_ivf *v)
{
    if (!v) return;
    free(v->centroids); free(v->radius); free(v->offset);
    free(v->x); free(v->norm2); free(v->group); free(v->id);
    free(v);
}

static int u32_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* The first m of a seeded shuffle of 0..n-1, sorted; NULL when out of memory. */
static uint32_t *sample_rows(size_t n, size_t m, uint64_t seed)
{
    uint32_t *idx = malloc((n ? n : 1) * sizeof *idx);
    if (!idx) return NULL;
    for (size_t i = 0; i < n; i++) idx[i] = (uint32_t)i;
    for (size_t i = 0; i < m && i < n; i++) {
        size_t j = i + fa_rand_below(&seed, n - i);
        uint32_t t = idx[i]; idx[i] = idx[j]; idx[j] = t;
    }
    qsort(idx, m, sizeof *idx, u32_cmp);
    return idx;
}

/* Squared-distance slack of a float Gram-identity distance (see join.c). */
static inline float gram_slack(int d, float a2, float b2)
{
    return (float)(2.0 * (d + 4) * 5.97e-8) * (a2 + b2) + 1e-30f;
}

/* rows x (m x d) times centroids (k x d): d2[r*k + j] = |x_r - c_j|^2 (float,
 * may be slightly off; clamped at 0). */
static void dist_to_centroids(const float *x, const float *xn2, size_t m, int d,
                              const float *c, const float *cn2, size_t k, float *d2)
{
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)k, d, 1.0f,
                x, d, c, d, 0.0f, d2, (int)k);
    for (size_t r = 0; r < m; r++) {
        float *row = d2 + r * k;
        for (size_t j = 0; j < k; j++) {
            float v = xn2[r] + cn2[j] - 2.0f * row[j];
            row[j] = v > 0 ? v : 0;
        }
    }
}

/* Nearest centroid per row (ties: lowest index). Returns 0 or -1. */
static int assign(const float *x, const float *xn2, size_t m, int d,
                  const float *c, const float *cn2, size_t k, uint32_t *lab, int nt)
{
    size_t ch = (1u << 20) / (k ? k : 1);
    if (ch < 16) ch = 16;
    if (ch > 256) ch = 256;
    int failed = 0;
#pragma omp parallel num_threads(nt)
    {
        float *g = malloc(ch * k * sizeof *g);
        if (!g) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(dynamic, 1)
        for (size_t r0 = 0; r0 < m; r0 += ch) {
            if (!g) continue;
            size_t mm = m - r0 < ch ? m - r0 : ch;
            dist_to_centroids(x + r0 * d, xn2 + r0, mm, d, c, cn2, k, g);
            for (size_t r = 0; r < mm; r++) {
                const float *row = g + r * k;
                size_t best = 0;
                for (size_t j = 1; j < k; j++)
                    if (row[j] < row[best]) best = j;
                lab[r0 + r] = (uint32_t)best;
            }
        }
        free(g);
    }
    return failed ? -1 : 0;
}

/* Lloyd's k-means on a seeded sample; centroids into cent (k x d). */
static int kmeans(const float *x, size_t n, int d, size_t k, const fa_ivf_params *p,
                  int nt, float *cent)
{
    size_t m = p->train_max ? p->train_max : 64 * k;
    if (m > n) m = n;
    if (m < k) m = k;
    uint64_t seed = p->seed;
    uint32_t *tr = sample_rows(n, m, fa_rand_next(&seed));
    float *t = malloc(m * (size_t)d * sizeof *t), *tn = malloc(m * sizeof *tn);
    float *cn = malloc(k * sizeof *cn);
    uint32_t *lab = malloc(m * sizeof *lab), *init = sample_rows(m, k, fa_rand_next(&seed));
    double *sum = malloc(k * (size_t)d * sizeof *sum);
    size_t *cnt = malloc(k * sizeof *cnt);
    int rc = 0;
    if (!tr || !t || !tn || !cn || !lab || !init || !sum || !cnt) { rc = -1; goto out; }
    for (size_t r = 0; r < m; r++) memcpy(t + r * d, x + (size_t)tr[r] * d, d * sizeof *t);
    fa_norms2(t, m, d, tn);
    for (size_t j = 0; j < k; j++) memcpy(cent + j * d, t + (size_t)init[j] * d, d * sizeof *t);
    for (int it = 0; it < p->iters; it++) {
        fa_norms2(cent, k, d, cn);
        if (assign(t, tn, m, d, cent, cn, k, lab, nt) < 0) { rc = -1; goto out; }
        memset(sum, 0, k * (size_t)d * sizeof *sum);
        memset(cnt, 0, k * sizeof *cnt);
        for (size_t r = 0; r < m; r++) {
            cnt[lab[r]]++;
            for (int q = 0; q < d; q++) sum[(size_t)lab[r] * d + q] += t[r * d + q];
        }
        for (size_t j = 0; j < k; j++) {
            if (!cnt[j]) {   /* empty: restart at a random training row */
                memcpy(cent + j * d, t + fa_rand_below(&seed, m) * d, d * sizeof *t);
                continue;
            }
            for (int q = 0; q < d; q++)
                cent[j * d + q] = (float)(sum[j * d + q] / cnt[j]);
        }
    }
out:
    free(tr); free(t); free(tn); free(cn); free(lab); free(init); free(sum); free(cnt);
    return rc;
}

typedef struct { uint32_t list, group, row; } sort_key;

static int key_cmp(const void *a, const void *b)
{
    const sort_key *x = a, *y = b;
    if (x->list != y->list) return x->list < y->list ? -1 : 1;
    if (x->group != y->group) return x->group < y->group ? -1 : 1;
    return x->row < y->row ? -1 : x->row > y->row;
}

fa_ivf *fa_ivf_build(const float *x, const uint32_t *group, size_t n, int d,
                     const fa_ivf_params *params)
{
    fa_ivf_params p = params ? *params : fa_ivf_default_params();
    if (fa_join_check_args("fa_ivf_build", n, d, 0.0f, NULL) < 0) return NULL;
    if (p.nlist < 0 || p.iters < 0 || p.threads < 0) {
        fa_error("fa_ivf_build: bad parameters (nlist %d, iters %d)", p.nlist, p.iters);
        return NULL;
    }
    size_t k = p.nlist ? (size_t)p.nlist : (size_t)lround(sqrt((double)n));
    if (k > n) k = n;
    if (k < 1) k = 1;
    int nt = p.threads ? p.threads : omp_get_max_threads();
    fa_ivf *v = calloc(1, sizeof *v);
    sort_key *key = malloc((n ? n : 1) * sizeof *key);
    uint32_t *lab = malloc((n ? n : 1) * sizeof *lab);
    float *xn = malloc((n ? n : 1) * sizeof *xn), *cn = malloc(k * sizeof *cn);
    if (!v || !key || !lab || !xn || !cn) goto oom;
    v->d = d; v->n = n; v->nlist = k;
    v->centroids = calloc(k * (size_t)d, sizeof *v->centroids);
    v->radius = calloc(k, sizeof *v->radius);
    v->offset = calloc(k + 1, sizeof *v->offset);
    v->x = malloc((n ? n : 1) * (size_t)d * sizeof *v->x);
    v->norm2 = malloc((n ? n : 1) * sizeof *v->norm2);
    v->group = malloc((n ? n : 1) * sizeof *v->group);
    v->id = malloc((n ? n : 1) * sizeof *v->id);
    if (!v->centroids || !v->radius || !v->offset || !v->x || !v->norm2 || !v->group || !v->id)
        goto oom;
    int blas_old = fa_blas_single_begin();
    int rc = n ? kmeans(x, n, d, k, &p, nt, v->centroids) : 0;
    fa_norms2(x, n, d, xn);
    fa_norms2(v->centroids, k, d, cn);
    if (rc == 0 && n) rc = assign(x, xn, n, d, v->centroids, cn, k, lab, nt);
    fa_blas_single_end(blas_old);
    if (rc < 0) goto oom;
    for (size_t r = 0; r < n; r++) key[r] = (sort_key){ lab[r], group[r], (uint32_t)r };
    qsort(key, n, sizeof *key, key_cmp);
    for (size_t q = 0; q < n; q++) {
        size_t r = key[q].row;
        memcpy(v->x + q * d, x + r * d, d * sizeof *x);
        v->norm2[q] = xn[r];
        v->group[q] = key[q].group;
        v->id[q] = key[q].row;
        v->offset[key[q].list + 1]++;
        double r2 = fa_l2sq_exact(x + r * d, v->centroids + (size_t)key[q].list * d, d);
        if (r2 > v->radius[key[q].list]) v->radius[key[q].list] = r2;
    }
    for (size_t l = 0; l < k; l++) {
        v->offset[l + 1] += v->offset[l];
        v->radius[l] = sqrt(v->radius[l]) * (1 + 1e-12);
    }
    free(key); free(lab); free(xn); free(cn);
    return v;
oom:
    fa_error("fa_ivf_build: out of memory (%zu rows, %zu lists)", n, k);
    free(key); free(lab); free(xn); free(cn);
    fa_ivf_free(v);
    return NULL;
}

/* ---- the joins ------------------------------------------------------------ */

/* Per-thread scratch beyond the join context. */
typedef struct {
    fa_join_ctx jc;
    float *d2;                 /* R x nlist */
    float *gx, *gn;            /* gathered rows: R x d, R */
    uint32_t *gg, *gid;
    uint32_t *probe;           /* R x nprobe */
    size_t *bcount;            /* nlist + 1 */
    uint32_t *brows;           /* R x nprobe */
    size_t considered, pruned;
} worker;

static void worker_free(worker *w)
{
    fa_join_ctx_free(&w->jc);
    free(w->d2); free(w->gx); free(w->gn); free(w->gg); free(w->gid);
    free(w->probe); free(w->bcount); free(w->brows);
}

static int worker_init(worker *w, const fa_ivf *v, int R, int C, int nprobe)
{
    memset(w, 0, sizeof *w);
    size_t np = nprobe > 0 ? (size_t)nprobe : 1;
    if (fa_join_ctx_init(&w->jc, R, C) < 0) return -1;
    w->d2 = malloc((size_t)R * v->nlist * sizeof *w->d2);
    w->gx = malloc((size_t)R * v->d * sizeof *w->gx);
    w->gn = malloc((size_t)R * sizeof *w->gn);
    w->gg = malloc((size_t)R * sizeof *w->gg);
    w->gid = malloc((size_t)R * sizeof *w->gid);
    w->probe = malloc((size_t)R * np * sizeof *w->probe);
    w->bcount = malloc((v->nlist + 1) * sizeof *w->bcount);
    w->brows = malloc((size_t)R * np * sizeof *w->brows);
    return w->d2 && w->gx && w->gn && w->gg && w->gid && w->probe && w->bcount && w->brows
           ? 0 : -1;
}

/* Copies sorted rows rows[0..cnt) into the gather buffers; a rowset over them. */
static fa_rowset gather(worker *w, const fa_ivf *v, const uint32_t *rows, size_t cnt)
{
    for (size_t q = 0; q < cnt; q++) {
        size_t r = rows[q];
        memcpy(w->gx + q * v->d, v->x + r * v->d, v->d * sizeof *v->x);
        w->gn[q] = v->norm2[r];
        w->gg[q] = v->group[r];
        w->gid[q] = v->id[r];
    }
    fa_rowset s = { w->gx, w->gn, w->gg, w->gid, cnt, 1 };
    return s;
}

/* Exact mode, list a, its rows [r0, r0+mm): list pairs (a, b >= a). */
static void exact_chunk(worker *w, const fa_ivf *v, const fa_rowset *S, size_t a,
                        size_t r0, size_t mm, const unsigned char *keep_list,
                        const float *cn2, double t, double t2)
{
    size_t k = v->nlist;
    int d = v->d;
    fa_join_rect(&w->jc, S, r0, r0 + mm, S, v->offset[a], v->offset[a + 1], 1, d, t2);
    for (size_t b = a + 1; b < k; b++) {
        if (!keep_list[b]) continue;
        double lim = t + v->radius[b];
        float lim2 = (float)(lim * lim);
        size_t kept = 0;
        uint32_t *rows = w->brows;
        for (size_t r = 0; r < mm; r++) {
            float slack = gram_slack(d, v->norm2[r0 + r], cn2[b]);
            if (w->d2[r * k + b] - slack <= lim2) rows[kept++] = (uint32_t)(r0 + r);
        }
        w->considered += mm;
        w->pruned += mm - kept;
        if (!kept) continue;
        if (kept == mm) {
            fa_join_rect(&w->jc, S, r0, r0 + mm, S, v->offset[b], v->offset[b + 1], 0, d, t2);
        } else {
            fa_rowset A = gather(w, v, rows, kept);
            fa_join_rect(&w->jc, &A, 0, kept, S, v->offset[b], v->offset[b + 1], 0, d, t2);
        }
    }
}

/* nprobe mode, list a, rows [r0, r0+mm): each row against its probed lists. */
static void probe_chunk(worker *w, const fa_ivf *v, const fa_rowset *S, size_t a,
                        size_t r0, size_t mm, int nprobe, double t2)
{
    size_t k = v->nlist, np = (size_t)nprobe < k ? (size_t)nprobe : k;
    int d = v->d;
    fa_join_rect(&w->jc, S, r0, r0 + mm, S, v->offset[a], v->offset[a + 1], 1, d, t2);
    if (np <= 1) return;
    memset(w->bcount, 0, (k + 1) * sizeof *w->bcount);
    for (size_t r = 0; r < mm; r++) {   /* np nearest lists, own list first */
        uint32_t *pr = w->probe + r * np;
        const float *row = w->d2 + r * k;
        size_t have = 1;
        pr[0] = (uint32_t)a;
        for (size_t j = 0; j < k; j++) {
            if (j == a) continue;
            if (have < np) pr[have++] = (uint32_t)j;
            else if (row[j] < row[pr[np - 1]]) pr[np - 1] = (uint32_t)j;
            else continue;
            for (size_t q = have - 1; q > 1 && row[pr[q]] < row[pr[q - 1]]; q--) {
                uint32_t tmp = pr[q]; pr[q] = pr[q - 1]; pr[q - 1] = tmp;
            }
        }
        for (size_t q = 1; q < have; q++) w->bcount[pr[q] + 1]++;
    }
    for (size_t b = 0; b < k; b++) w->bcount[b + 1] += w->bcount[b];
    /* bucket rows by probed list (rows stay in order, so each bucket is sorted) */
    size_t *pos = w->bcount;            /* consumed as cursors, then rebuilt */
    for (size_t r = 0; r < mm; r++)
        for (size_t q = 1; q < np; q++) {
            uint32_t b = w->probe[r * np + q];
            w->brows[pos[b]++] = (uint32_t)(r0 + r);
        }
    /* pos[b] is now the end of bucket b; bucket b starts at pos[b-1] */
    for (size_t b = 0; b < k; b++) {
        size_t lo = b ? pos[b - 1] : 0, hi = pos[b];
        if (lo == hi) continue;
        fa_rowset A = gather(w, v, w->brows + lo, hi - lo);
        fa_join_rect(&w->jc, &A, 0, hi - lo, S, v->offset[b], v->offset[b + 1], 0, d, t2);
    }
}

/* The lists' numbers, biggest list first (threads then finish together). */
static void lists_by_size(const fa_ivf *v, size_t *order)
{
    size_t k = v->nlist;
    for (size_t l = 0; l < k; l++) order[l] = l;
    for (size_t l = 1; l < k; l++) {
        size_t o = order[l], q = l;
        size_t sz = v->offset[o + 1] - v->offset[o];
        while (q > 0 && v->offset[order[q - 1] + 1] - v->offset[order[q - 1]] < sz) {
            order[q] = order[q - 1];
            q--;
        }
        order[q] = o;
    }
}

/* The list-pair bound of list a, once per pair (b > a): kl[b] = 1 when a
 * row of a and a row of b can lie within t. Returns the pairs pruned. */
static size_t list_pairs_kept(const fa_ivf *v, size_t a, unsigned char *kl, double t)
{
    size_t pruned = 0, k = v->nlist;
    int d = v->d;
    for (size_t b = a + 1; b < k; b++) {
        double cd = sqrt(fa_l2sq_exact(v->centroids + a * d, v->centroids + b * d, d));
        int empty = v->offset[b] == v->offset[b + 1] || v->offset[a] == v->offset[a + 1];
        kl[b] = !empty && cd - v->radius[a] - v->radius[b] <= t * (1 + 1e-9) + 1e-9;
        pruned += !kl[b];
    }
    return pruned;
}

/* What the threads of one range join share. */
typedef struct {
    const fa_ivf *v;
    fa_rowset S;
    const float *cn2;       /* the centroids' squared norms */
    const size_t *order;    /* lists, biggest first */
    unsigned char *keep;    /* per thread: nlist list-pair flags */
    int nprobe;
    size_t R, max_pairs;
    double t, t2;
} ivf_plan;

/* The rows of list a, R at a time, against the lists they may meet. */
static void list_join(const ivf_plan *ip, worker *wk, size_t a, unsigned char *kl)
{
    const fa_ivf *v = ip->v;
    int d = v->d;
    for (size_t r0 = v->offset[a]; r0 < v->offset[a + 1]; r0 += ip->R) {
        size_t mm = v->offset[a + 1] - r0 < ip->R ? v->offset[a + 1] - r0 : ip->R;
        dist_to_centroids(v->x + r0 * d, v->norm2 + r0, mm, d, v->centroids, ip->cn2, v->nlist, wk->d2);
        if (ip->nprobe == 0) exact_chunk(wk, v, &ip->S, a, r0, mm, kl, ip->cn2, ip->t, ip->t2);
        else probe_chunk(wk, v, &ip->S, a, r0, mm, ip->nprobe, ip->t2);
    }
}

/* Every list on nt threads (w[t] each). Returns 1 when more than
 * max_pairs pairs were found (the rest skipped); *lp_pruned: list pairs
 * the bound pruned. */
static int ivf_run(const ivf_plan *ip, worker *w, int nt, size_t *lp_pruned)
{
    size_t k = ip->v->nlist, found = 0, pruned = 0;
    int over = 0;
#pragma omp parallel num_threads(nt) reduction(+ : pruned)
    {
        int me = omp_get_thread_num();
        worker *wk = &w[me];
        unsigned char *kl = ip->keep + (size_t)me * k;
#pragma omp for schedule(dynamic, 1)
        for (size_t oi = 0; oi < k; oi++) {
            if (fa_join_stopped(&over) || wk->jc.failed) continue;
            size_t a = ip->order[oi];
            if (ip->nprobe == 0) pruned += list_pairs_kept(ip->v, a, kl, ip->t);
            size_t before = wk->jc.out.n;
            list_join(ip, wk, a, kl);
            fa_join_count(&found, wk->jc.out.n - before, ip->max_pairs, &over);
        }
    }
    *lp_pruned = pruned;
    return over;
}

/* The threads' pairs into out (sorted, unique when probing), or the error
 * that stopped the join. */
static int ivf_collect(worker *w, int nt, int failed, int over, const fa_ivf_params *p, float max_dist,
                       fa_pairvec *out)
{
    for (int q = 0; w && q < nt; q++) failed |= w[q].jc.failed;
    if (failed) return fa_error("fa_ivf_range_join: out of memory");
    if (over) return fa_error("fa_ivf_range_join: more than %zu pairs within distance %g; "
                              "lower the threshold", p->max_pairs, (double)max_dist);
    fa_join_ctx *jc = malloc(nt * sizeof *jc);
    if (!jc) return fa_error("fa_ivf_range_join: out of memory");
    for (int q = 0; q < nt; q++) jc[q] = w[q].jc;
    int rc = fa_join_merge(jc, nt, out);
    free(jc);
    if (rc == 0 && p->nprobe) fa_pairvec_sort_unique(out);
    return rc;
}

static void ivf_stats(fa_ivf_stats *st, const worker *w, int nt, size_t k, int nprobe, size_t lp_pruned,
                      double t0)
{
    memset(st, 0, sizeof *st);
    st->nlist = k;
    st->recall = -1;
    st->list_pairs_total = k * (k - 1) / 2;
    st->list_pairs_pruned = nprobe ? 0 : lp_pruned;
    for (int q = 0; w && q < nt; q++) {
        st->rows_considered += w[q].considered;
        st->rows_pruned += w[q].pruned;
        st->gemm_flops += w[q].jc.flops;
        st->candidates += w[q].jc.candidates;
    }
    st->join_seconds = now_s() - t0;
}

int fa_ivf_range_join(const fa_ivf *v, float max_dist, const fa_ivf_params *params,
                      fa_pairvec *out, fa_ivf_stats *st)
{
    double t0 = now_s();
    fa_ivf_params p = params ? *params : fa_ivf_default_params();
    fa_join_params jp = fa_join_default_params();
    if (p.tile_rows) jp.tile_rows = p.tile_rows;
    if (p.tile_cols) jp.tile_cols = p.tile_cols;
    if (fa_join_check_args("fa_ivf_range_join", v->n, v->d, max_dist, &jp) < 0) return -1;
    if (p.nprobe < 0) return fa_error("fa_ivf_range_join: bad nprobe %d", p.nprobe);
    int nt = p.threads ? p.threads : omp_get_max_threads();
    size_t k = v->nlist;
    float *cn2 = malloc(k * sizeof *cn2);
    size_t *order = malloc(k * sizeof *order);
    unsigned char *keep = malloc((size_t)nt * k);
    worker *w = calloc(nt, sizeof *w);
    int failed = !cn2 || !order || !keep || !w, over = 0;
    size_t lp_pruned = 0;
    for (int q = 0; !failed && q < nt; q++)
        if (worker_init(&w[q], v, jp.tile_rows, jp.tile_cols, p.nprobe) < 0) failed = 1;
    if (!failed) {
        fa_norms2(v->centroids, k, v->d, cn2);
        lists_by_size(v, order);
    }
    ivf_plan ip = { v, { v->x, v->norm2, v->group, v->id, v->n, 1 }, cn2, order, keep, p.nprobe,
                    jp.tile_rows, p.max_pairs, max_dist, (double)max_dist * max_dist };
    int blas_old = fa_blas_single_begin();
    if (!failed) over = ivf_run(&ip, w, nt, &lp_pruned);
    fa_blas_single_end(blas_old);
    int rc = ivf_collect(w, nt, failed, over, &p, max_dist, out);
    if (st) ivf_stats(st, w, nt, k, p.nprobe, lp_pruned, t0);
    for (int q = 0; w && q < nt; q++) worker_free(&w[q]);
    free(w); free(keep); free(order); free(cn2);
    return rc;
}

static int pair_find(const fa_pairvec *pv, uint32_t i, uint32_t j)
{
    size_t lo = 0, hi = pv->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const fa_pair *p = &pv->v[mid];
        if (p->i < i || (p->i == i && p->j < j)) lo = mid + 1;
        else hi = mid;
    }
    return lo < pv->n && pv->v[lo].i == i && pv->v[lo].j == j;
}

int fa_join_recall(const float *x, const uint32_t *group, size_t n, int d,
                   float max_dist, const fa_pairvec *approx, size_t sample,
                   uint64_t seed, int threads, size_t *truth, size_t *found)
{
    if (fa_join_check_args("fa_join_recall", n, d, max_dist, NULL) < 0) return -1;
    if (sample > n) sample = n;
    int nt = threads > 0 ? threads : omp_get_max_threads();
    fa_join_params jp = fa_join_default_params();
    uint32_t *rows = sample_rows(n, sample, seed);
    float *an = malloc((sample ? sample : 1) * sizeof *an), *bn = malloc((n ? n : 1) * sizeof *bn);
    float *ax = malloc((sample ? sample : 1) * (size_t)d * sizeof *ax);
    uint32_t *ag = malloc((sample ? sample : 1) * sizeof *ag), *bid = malloc((n ? n : 1) * sizeof *bid);
    fa_join_ctx *jc = calloc(nt, sizeof *jc);
    int failed = !rows || !an || !bn || !ax || !ag || !bid || !jc;
    for (int q = 0; !failed && q < nt; q++)
        failed |= fa_join_ctx_init(&jc[q], jp.tile_rows, jp.tile_cols) < 0;
    fa_pairvec tp = { 0 };
    if (!failed) {
        for (size_t q = 0; q < sample; q++) {
            memcpy(ax + q * d, x + (size_t)rows[q] * d, d * sizeof *x);
            ag[q] = group[rows[q]];
        }
        for (size_t r = 0; r < n; r++) bid[r] = (uint32_t)r;
        fa_norms2(ax, sample, d, an);
        fa_norms2(x, n, d, bn);
        fa_rowset A = { ax, an, ag, rows, sample, 0 }, B = { x, bn, group, bid, n, 0 };
        double t2 = (double)max_dist * max_dist;
        size_t R = jp.tile_rows;
        int blas_old = fa_blas_single_begin();
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
        for (size_t a0 = 0; a0 < sample; a0 += R)
            fa_join_rect(&jc[omp_get_thread_num()], &A, a0, a0 + R < sample ? a0 + R : sample,
                         &B, 0, n, 0, d, t2);
        fa_blas_single_end(blas_old);
        for (int q = 0; q < nt; q++) failed |= jc[q].failed;
        if (!failed) failed = fa_join_merge(jc, nt, &tp) < 0;
    }
    size_t f = 0;
    for (size_t q = 0; !failed && q < tp.n; q++) f += pair_find(approx, tp.v[q].i, tp.v[q].j);
    *truth = tp.n;
    *found = f;
    fa_pairvec_free(&tp);
    for (int q = 0; jc && q < nt; q++) fa_join_ctx_free(&jc[q]);
    free(jc); free(rows); free(an); free(bn); free(ax); free(ag); free(bid);
    return failed ? fa_error("fa_join_recall: out of memory") : 0;
}

int fa_ivf_join(const float *x, const uint32_t *group, size_t n, int d, float max_dist,
                const fa_ivf_params *params, fa_pairvec *out, fa_ivf_stats *st)
{
    fa_ivf_params p = params ? *params : fa_ivf_default_params();
    double t0 = now_s();
    fa_ivf *v = fa_ivf_build(x, group, n, d, &p);
    if (!v) return -1;
    double tb = now_s() - t0;
    fa_ivf_stats s;
    int rc = fa_ivf_range_join(v, max_dist, &p, out, &s);
    s.build_seconds = tb;
    fa_ivf_free(v);
    if (rc == 0 && p.nprobe > 0 && p.recall_sample > 0) {
        double t1 = now_s();
        rc = fa_join_recall(x, group, n, d, max_dist, out, p.recall_sample, p.seed ^ 0x5eed,
                            p.threads, &s.recall_truth, &s.recall_found);
        s.recall = s.recall_truth ? (double)s.recall_found / s.recall_truth : 1.0;
        s.recall_seconds = now_s() - t1;
    }
    if (st) *st = s;
    return rc;
}
