/*
 * join.c - the exact tiled cross-folder range join (see join.h).
 *
 * Distances come from the Gram identity |a-b|^2 = |a|^2 + |b|^2 - 2 a.b, with
 * a.b from one cblas_sgemm per tile. For row i the test is
 *     |b_j|^2 - 2 g_ij <= t^2 - |a_i|^2 + slack_i
 * one multiply-add and one compare per element, no sqrt, counted in a SIMD
 * loop; a row with a nonzero count is scanned again and its candidates are
 * re-measured exactly. The slack bounds the rounding error of the float
 * sgemm, so no true match is lost and the exact measure decides.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <omp.h>
#include <cblas.h>
#include "faceaudit/faceaudit.h"
#include "join.h"

#define TILE_ROWS_DEFAULT 512
#define TILE_COLS_DEFAULT 512

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- pair vectors ---------------------------------------------------------- */

void fa_pairvec_free(fa_pairvec *pv)
{
    if (!pv) return;
    free(pv->v);
    pv->v = NULL;
    pv->n = pv->cap = 0;
}

int fa_pairvec_push(fa_pairvec *pv, fa_pair p)
{
    if (pv->n == pv->cap) {
        size_t cap = pv->cap ? pv->cap * 2 : 256;
        fa_pair *v = realloc(pv->v, cap * sizeof *v);
        if (!v) return -1;
        pv->v = v;
        pv->cap = cap;
    }
    pv->v[pv->n++] = p;
    return 0;
}

static int pair_cmp(const void *a, const void *b)
{
    const fa_pair *x = a, *y = b;
    if (x->i != y->i) return x->i < y->i ? -1 : 1;
    if (x->j != y->j) return x->j < y->j ? -1 : 1;
    return 0;
}

void fa_pairvec_sort_unique(fa_pairvec *pv)
{
    if (pv->n < 2) return;
    qsort(pv->v, pv->n, sizeof *pv->v, pair_cmp);
    size_t w = 1;
    for (size_t r = 1; r < pv->n; r++)
        if (pv->v[r].i != pv->v[w - 1].i || pv->v[r].j != pv->v[w - 1].j)
            pv->v[w++] = pv->v[r];
    pv->n = w;
}

/* ---- exact measures ------------------------------------------------------- */

/* Eight running sums (dimension k goes to sum k mod 8), added in a fixed
 * order at the end: the same value on every machine and compiler (nothing
 * here may be reordered without -ffast-math), and eight independent chains
 * instead of one 4-cycle add per dimension: the top-k join re-measures
 * hundreds of candidates per row with it. */
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
/* The same eight sums as one vector of 8 doubles (lane l holds sum l): the
 * same operations in the same order, so the same bits. The empty asm keeps
 * the compiler from fusing the multiply and the add into an FMA, which
 * would round once instead of twice. */
__attribute__((target("avx512f"))) static double l2sq_avx512(const float *a, const float *b, int d)
{
    __m512d s = _mm512_setzero_pd();
    int k = 0;
    for (; k + 8 <= d; k += 8) {
        __m512d t = _mm512_sub_pd(_mm512_cvtps_pd(_mm256_loadu_ps(a + k)),
                                  _mm512_cvtps_pd(_mm256_loadu_ps(b + k)));
        __m512d p = _mm512_mul_pd(t, t);
        __asm__("" : "+v"(p));
        s = _mm512_add_pd(s, p);
    }
    double v[8];
    _mm512_storeu_pd(v, s);
    for (int l = 0; k < d; l++, k++) {
        double t = (double)a[k] - (double)b[k], p = t * t;
        __asm__("" : "+x"(p));
        v[l] += p;
    }
    return ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7]));
}

/* fa_l2_stat's 16 float sums as one vector (lane q holds sum q), the same
 * operations in the same order (no FMA: see l2sq_avx512). */
__attribute__((target("avx512f"))) static float l2_stat_avx512(const float *a, const float *b, int d)
{
    __m512 acc = _mm512_setzero_ps();
    int k = 0;
    for (; k + 16 <= d; k += 16) {
        __m512 t = _mm512_sub_ps(_mm512_loadu_ps(a + k), _mm512_loadu_ps(b + k));
        __m512 p = _mm512_mul_ps(t, t);
        __asm__("" : "+v"(p));
        acc = _mm512_add_ps(acc, p);
    }
    float v[16], s = 0;
    _mm512_storeu_ps(v, acc);
    for (; k < d; k++) {
        float t = a[k] - b[k], p = t * t;
        __asm__("" : "+x"(p));
        s += p;
    }
    for (int q = 0; q < 16; q++) s += v[q];
    return sqrtf(s);
}

static int have_avx512(void)
{
    static int h = -1;
    int v = __atomic_load_n(&h, __ATOMIC_RELAXED);
    if (v < 0) {
        __builtin_cpu_init();
        v = __builtin_cpu_supports("avx512f") != 0;
        __atomic_store_n(&h, v, __ATOMIC_RELAXED);
    }
    return v;
}
#endif

double fa_l2sq_exact(const float *a, const float *b, int d)
{
#if defined(__x86_64__) && defined(__GNUC__)
    if (have_avx512()) return l2sq_avx512(a, b, d);
#endif
#define FA_L2_TERM(l) ((double)a[k + l] - (double)b[k + l]) * ((double)a[k + l] - (double)b[k + l])
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
    int k = 0;
    for (; k + 8 <= d; k += 8) {   /* named sums: kept in registers */
        s0 += FA_L2_TERM(0); s1 += FA_L2_TERM(1); s2 += FA_L2_TERM(2); s3 += FA_L2_TERM(3);
        s4 += FA_L2_TERM(4); s5 += FA_L2_TERM(5); s6 += FA_L2_TERM(6); s7 += FA_L2_TERM(7);
    }
    double s[8] = {s0, s1, s2, s3, s4, s5, s6, s7};
    for (int l = 0; k < d; l++) { s[l] += FA_L2_TERM(0); k++; }
#undef FA_L2_TERM
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

/* Sixteen running sums (dimension k to sum k mod 16), then the tail, then
 * the sums in order: the bits of the vector code. The asm keeps each
 * multiply and add separate. */
float fa_l2_stat(const float *a, const float *b, int d)
{
#if defined(__x86_64__) && defined(__GNUC__)
    if (have_avx512()) return l2_stat_avx512(a, b, d);
#endif
    float acc[16] = { 0 }, s = 0;
    int k = 0;
    for (; k + 16 <= d; k += 16)
        for (int q = 0; q < 16; q++) {
            float t = a[k + q] - b[k + q], p = t * t;
            acc[q] += p;
        }
    for (; k < d; k++) s += (a[k] - b[k]) * (a[k] - b[k]);
    for (int q = 0; q < 16; q++) s += acc[q];
    return sqrtf(s);
}

double fa_cos_exact(const float *a, const float *b, int d)
{
    double ab = 0, aa = 0, bb = 0;
    for (int k = 0; k < d; k++) {
        ab += (double)a[k] * b[k];
        aa += (double)a[k] * a[k];
        bb += (double)b[k] * b[k];
    }
    return aa > 0 && bb > 0 ? ab / sqrt(aa * bb) : 0.0;
}

void fa_norms2(const float *x, size_t n, int d, float *out)
{
    for (size_t r = 0; r < n; r++) {
        const float *v = x + r * (size_t)d;
        double s = 0;
        for (int k = 0; k < d; k++) s += (double)v[k] * v[k];
        out[r] = (float)s;
    }
}

fa_join_params fa_join_default_params(void)
{
    fa_join_params p = { 0, TILE_ROWS_DEFAULT, TILE_COLS_DEFAULT, 0, 0, NULL };
    return p;
}

/* ---- the tile kernel ------------------------------------------------------ */

/* Elements of a Gram row within the loosened threshold. The one loop that
 * touches every element besides the sgemm: cloned for AVX-512 / AVX2. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && \
    !defined(__SANITIZE_ADDRESS__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
static int count_row(const float *g, const float *nb, size_t n, float thr)
{
    int c = 0;
#pragma omp simd reduction(+ : c)
    for (size_t k = 0; k < n; k++) c += (nb[k] - 2.0f * g[k] <= thr);
    return c;
}

/* First position in grp[lo,hi) whose value is >= v (or > v when `after`). */
static size_t bound_u32(const uint32_t *grp, size_t lo, size_t hi, uint32_t v, int after)
{
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (grp[mid] < v || (after && grp[mid] == v)) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* Re-measures the candidates of row i among columns [from,to) of the tile. */
static void collect_row(fa_join_ctx *ctx, const fa_rowset *A, size_t i,
                        const fa_rowset *B, size_t bj, const float *grow,
                        size_t from, size_t to, float thr, int d, double t2)
{
    const float *a = A->x + i * (size_t)d;
    for (size_t j = from; j < to; j++) {
        if (!(B->norm2[j] - 2.0f * grow[j - bj] <= thr)) continue;
        if (!B->sorted && B->group[j] == A->group[i]) continue;
        ctx->candidates++;
        const float *b = B->x + j * (size_t)d;
        double d2 = fa_l2sq_exact(a, b, d);
        if (!(d2 <= t2)) continue;
        uint32_t u = A->id[i], v = B->id[j];
        fa_pair p = { u < v ? u : v, u < v ? v : u, (float)sqrt(d2),
                      (float)fa_cos_exact(a, b, d) };
        if (fa_pairvec_push(&ctx->out, p) < 0) ctx->failed = 1;
    }
}

/* Thresholds a computed tile: rows [ai,ai+m) x columns [bj,bj+nn). */
static void scan_tile(fa_join_ctx *ctx, const fa_rowset *A, size_t ai, size_t m,
                      const fa_rowset *B, size_t bj, size_t nn, int upper,
                      int d, double t2)
{
    const float eps = (float)(2.0 * (d + 4) * 5.97e-8);
    for (size_t r = 0; r < m; r++) {
        size_t i = ai + r, from = bj, to = bj + nn;
        if (upper && from < i + 1) from = i + 1;
        if (from >= to) continue;
        size_t lo = from, hi = from;       /* same-group columns */
        if (B->sorted) {
            lo = bound_u32(B->group, from, to, A->group[i], 0);
            hi = bound_u32(B->group, lo, to, A->group[i], 1);
        }
        float na = A->norm2[i];
        float thr = (float)(t2 - na) + eps * (na + ctx->max_norm2)
                    + 1e-6f * (float)(t2 + na);
        const float *grow = ctx->g + r * (size_t)nn;
        int c = count_row(grow + (from - bj), B->norm2 + from, lo - from, thr)
              + count_row(grow + (hi - bj), B->norm2 + hi, to - hi, thr);
        if (!c) continue;
        collect_row(ctx, A, i, B, bj, grow, from, lo, thr, d, t2);
        collect_row(ctx, A, i, B, bj, grow, hi, to, thr, d, t2);
    }
}

/* True when every row of the A tile and every column of the B tile share
 * one group (both sorted), so the tile holds no cross-group pair. */
static int tile_one_group(const fa_rowset *A, size_t ai, size_t m,
                          const fa_rowset *B, size_t bj, size_t nn)
{
    if (!A->sorted || !B->sorted) return 0;
    uint32_t g = A->group[ai];
    return A->group[ai + m - 1] == g && B->group[bj] == g && B->group[bj + nn - 1] == g;
}

void fa_join_rect(fa_join_ctx *ctx, const fa_rowset *A, size_t a0, size_t a1,
                  const fa_rowset *B, size_t b0, size_t b1, int upper,
                  int d, double t2)
{
    const size_t R = ctx->tile_rows, C = ctx->tile_cols;
    for (size_t j = b0; j < b1; j++)
        if (B->norm2[j] > ctx->max_norm2) ctx->max_norm2 = B->norm2[j];
    for (size_t ai = a0; ai < a1; ai += R) {
        size_t m = a1 - ai < R ? a1 - ai : R;
        size_t bstart = upper && b0 < ai + 1 ? ai + 1 : b0;
        for (size_t bj = bstart; bj < b1; bj += C) {
            size_t nn = b1 - bj < C ? b1 - bj : C;
            if (tile_one_group(A, ai, m, B, bj, nn)) continue;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)nn, d,
                        1.0f, A->x + ai * (size_t)d, d, B->x + bj * (size_t)d, d,
                        0.0f, ctx->g, (int)nn);
            ctx->tiles++;
            ctx->flops += 2.0 * m * nn * d;
            scan_tile(ctx, A, ai, m, B, bj, nn, upper, d, t2);
        }
    }
}

/* ---- the flat join -------------------------------------------------------- */

static int u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

void fa_sorted_free(fa_sorted_rows *s)
{
    free(s->x); free(s->norm2); free(s->group); free(s->id); free(s->gend);
}

int fa_sorted_make(fa_sorted_rows *s, const float *x, const uint32_t *group, size_t n, int d)
{
    memset(s, 0, sizeof *s);
    uint64_t *key = malloc((n ? n : 1) * sizeof *key);
    s->x = malloc((n ? n : 1) * (size_t)d * sizeof *s->x);
    s->norm2 = malloc((n ? n : 1) * sizeof *s->norm2);
    s->group = malloc((n ? n : 1) * sizeof *s->group);
    s->id = malloc((n ? n : 1) * sizeof *s->id);
    s->gend = malloc((n ? n : 1) * sizeof *s->gend);
    if (!key || !s->x || !s->norm2 || !s->group || !s->id || !s->gend) {
        free(key);
        fa_sorted_free(s);
        return fa_error("join: out of memory for %zu rows", n);
    }
    for (size_t r = 0; r < n; r++) key[r] = (uint64_t)group[r] << 32 | r;
    qsort(key, n, sizeof *key, u64_cmp);
    for (size_t p = 0; p < n; p++) {
        uint32_t r = (uint32_t)key[p];
        s->id[p] = r;
        s->group[p] = group[r];
        memcpy(s->x + p * (size_t)d, x + (size_t)r * d, (size_t)d * sizeof *x);
    }
    free(key);
    fa_norms2(s->x, n, d, s->norm2);
    for (size_t p = n; p-- > 0;)
        s->gend[p] = p + 1 < n && s->group[p + 1] == s->group[p] ? s->gend[p + 1]
                                                                 : (uint32_t)(p + 1);
    return 0;
}

/* Merges the per-thread results into out, sorted. */
int fa_join_merge(fa_join_ctx *ctx, int nt, fa_pairvec *out)
{
    size_t total = out->n;
    for (int t = 0; t < nt; t++) total += ctx[t].out.n;
    if (total > out->cap) {
        fa_pair *v = realloc(out->v, (total ? total : 1) * sizeof *v);
        if (!v) return fa_error("fa_join: out of memory for %zu pairs", total);
        out->v = v;
        out->cap = total;
    }
    for (int t = 0; t < nt; t++) {
        if (ctx[t].out.n)
            memcpy(out->v + out->n, ctx[t].out.v, ctx[t].out.n * sizeof *out->v);
        out->n += ctx[t].out.n;
    }
    if (out->n > 1) qsort(out->v, out->n, sizeof *out->v, pair_cmp);
    return 0;
}

int fa_join_ctx_init(fa_join_ctx *ctx, int tile_rows, int tile_cols)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->tile_rows = tile_rows;
    ctx->tile_cols = tile_cols;
    ctx->g = malloc((size_t)tile_rows * tile_cols * sizeof *ctx->g);
    return ctx->g ? 0 : -1;
}

void fa_join_ctx_free(fa_join_ctx *ctx)
{
    free(ctx->g);
    ctx->g = NULL;
    fa_pairvec_free(&ctx->out);
}

int fa_join_check_args(const char *fn, size_t n, int d, float max_dist,
                       const fa_join_params *p)
{
    if (d <= 0 || d > FA_DIM_MAX) return fa_error("%s: bad dimension %d", fn, d);
    if (n >= UINT32_MAX) return fa_error("%s: too many rows (%zu)", fn, n);
    if (!(max_dist >= 0) || !isfinite(max_dist))
        return fa_error("%s: bad threshold %g", fn, (double)max_dist);
    if (p && (p->tile_rows < 0 || p->tile_cols < 0 || p->threads < 0 ||
              p->tile_rows > 65536 || p->tile_cols > 65536))
        return fa_error("%s: bad tile or thread parameters", fn);
    return 0;
}

int fa_blas_single_begin(void)
{
#ifdef OPENBLAS_VERSION
    int old = openblas_get_num_threads();
    openblas_set_num_threads(1);
    return old;
#else
    return 1;
#endif
}

void fa_blas_single_end(int old)
{
#ifdef OPENBLAS_VERSION
    openblas_set_num_threads(old);
#else
    (void)old;
#endif
}

int fa_join_exact(const float *x, const uint32_t *group, size_t n, int d,
                  float max_dist, const fa_join_params *params,
                  fa_pairvec *out, fa_join_stats *stats)
{
    return fa_join_exact_knn(x, group, n, d, max_dist, params, out, stats, 0, NULL);
}

/* The top-k lists without the int8 kernel: the fp32 join, then the fp32
 * top-k join (knn.c). */
static int join_knn_fp32(const float *x, const uint32_t *group, size_t n, int d, float max_dist,
                         const fa_join_params *p, fa_pairvec *out, fa_join_stats *stats,
                         int k, fa_knn **knn)
{
    fa_join_params q = *p;
    q.fp32_only = 1;
    if (max_dist >= 0 && fa_join_exact(x, group, n, d, max_dist, &q, out, stats) < 0) return -1;
    *knn = fa_knn_cross_ex(x, group, n, d, k, p->threads, 1);
    return *knn ? 0 : -1;
}

#define KNN_SEEDS 32   /* rows of the seed group measured per row */

/* Offers every row (sorted numbering) up to KNN_SEEDS rows of its seed
 * group, evenly spaced, exactly measured. 0, or -1 out of memory. */
static int seed_lists(fa_knn_lists *L, int nt, const fa_sorted_rows *s, size_t n, int d,
                      const uint32_t *seed_group)
{
    uint32_t ng = 0;
    for (size_t q = 0; q < n; q++) if (s->group[q] >= ng) ng = s->group[q] + 1;
    size_t *start = malloc((ng ? ng : 1) * sizeof *start);
    if (!start) return -1;
    for (uint32_t g = 0; g < ng; g++) start[g] = SIZE_MAX;
    for (size_t q = n; q-- > 0;) start[s->group[q]] = q;
#pragma omp parallel for schedule(dynamic, 256) num_threads(nt)
    for (size_t q = 0; q < n; q++) {
        uint32_t g = seed_group[s->id[q]];
        if (g >= ng || g == s->group[q] || start[g] == SIZE_MAX) continue;
        size_t b0 = start[g], m = s->gend[b0] - b0, take = m < KNN_SEEDS ? m : KNN_SEEDS;
        for (size_t t = 0; t < take; t++) {
            size_t j = b0 + t * m / take;
            fa_knn_lists_offer(&L[omp_get_thread_num()], q, j,
                               fa_l2sq_exact(s->x + q * (size_t)d, s->x + j * (size_t)d, d));
        }
    }
    free(start);
    return 0;
}

/* The tasks' order and their superblock start: see join.h. */
int fa_join_tasks(const fa_join_plan *jp, const fa_sorted_rows *s, uint64_t **task_out, size_t *ntask)
{
    size_t cap = 0;
    uint64_t *task = NULL;
    *ntask = 0;
    for (size_t ai = 0; ai < jp->n; ai += jp->R)
        for (size_t bj = jp->q ? s->gend[ai] / 64 * 64 : s->gend[ai]; bj < jp->n; bj += jp->C) {
            if (*ntask == cap) {
                cap = cap ? cap * 2 : 1024;
                uint64_t *t = realloc(task, cap * sizeof *t);
                if (!t) { free(task); return -1; }
                task = t;
            }
            task[(*ntask)++] = (uint64_t)ai << 32 | bj;
        }
    *task_out = task;
    return 0;
}

/* Dynamic schedule, one task at a time: tiles differ in cost (the diagonal
 * is half a tile, a crowded group prunes more), so a static split idles. */
int fa_join_run(const fa_join_plan *jp, fa_join_ctx *ctx, int nt, const uint64_t *task, size_t ntask)
{
    int over = 0;
    size_t found = 0, n = jp->n, R = jp->R, C = jp->C;
#pragma omp parallel num_threads(nt)
    {
        fa_join_ctx *c = &ctx[omp_get_thread_num()];
#pragma omp for schedule(dynamic, 1)
        for (size_t k = 0; k < ntask; k++) {
            if (fa_join_stopped(&over) || c->failed) continue;
            size_t ai = task[k] >> 32, bj = (uint32_t)task[k];
            size_t before = c->out.n;
            if (jp->q)
                fa_join_rect_q8(c, &jp->S, jp->q, ai, ai + R < n ? ai + R : n, &jp->S, jp->q, bj,
                                bj + C < n ? bj + C : n, 1, jp->d, jp->t2);
            else
                fa_join_rect(c, &jp->S, ai, ai + R < n ? ai + R : n, &jp->S, bj,
                             bj + C < n ? bj + C : n, 1, jp->d, jp->t2);
            fa_join_count(&found, c->out.n - before, jp->max_pairs, &over);
        }
    }
    return over;
}

/* The join's statistics, summed over the threads' contexts. */
static void join_stats(fa_join_stats *stats, const fa_join_ctx *ctx, int nt, int int8, double t0)
{
    memset(stats, 0, sizeof *stats);
    for (int t = 0; ctx && t < nt; t++) {
        stats->gemm_flops += ctx[t].flops;
        stats->tiles += ctx[t].tiles;
        stats->candidates += ctx[t].candidates;
    }
    stats->int8 = int8;
    stats->seconds = now_s() - t0;
}

/* The pairs (and the top-k lists) from the threads' contexts, or the error
 * that stopped the join. */
static int join_collect(fa_join_ctx *ctx, int nt, int failed, int over, const fa_join_params *p,
                        float max_dist, fa_pairvec *out, fa_knn_lists *L, size_t n, int k, fa_knn **knn)
{
    for (int t = 0; ctx && t < nt; t++) failed |= ctx[t].failed;
    int rc;
    if (failed) rc = fa_error("fa_join_exact: out of memory");
    else if (over) rc = fa_error("fa_join_exact: more than %zu pairs within distance %g; "
                                 "lower the threshold", p->max_pairs, (double)max_dist);
    else rc = fa_join_merge(ctx, nt, out);
    if (rc == 0 && L) {
        *knn = fa_knn_alloc(n, k);
        if (*knn) fa_knn_lists_merge(L, nt, *knn);
        else rc = fa_error("fa_join_exact: out of memory for the top-k lists");
    }
    return rc;
}

int fa_join_exact_knn(const float *x, const uint32_t *group, size_t n, int d,
                      float max_dist, const fa_join_params *params,
                      fa_pairvec *out, fa_join_stats *stats, int k, fa_knn **knn)
{
    double t0 = now_s();
    fa_join_params p = params ? *params : fa_join_default_params();
    if (knn) *knn = NULL;
    if (k && (k < 1 || k > 64 || !knn)) return fa_error("fa_join_exact_knn: bad k %d", k);
    if (fa_join_check_args("fa_join_exact", n, d, k && max_dist < 0 ? 0.0f : max_dist, &p) < 0)
        return -1;
    if (!p.tile_rows) p.tile_rows = TILE_ROWS_DEFAULT;
    if (!p.tile_cols) p.tile_cols = TILE_COLS_DEFAULT;
    int nt = p.threads ? p.threads : omp_get_max_threads();
    if (k && (p.fp32_only || !fa_q8_supported()))   /* before the sorted copy it would not use */
        return join_knn_fp32(x, group, n, d, max_dist, &p, out, stats, k, knn);

    fa_sorted_rows s;
    if (fa_sorted_make(&s, x, group, n, d) < 0) return -1;
    fa_q8set q;
    int use_q8 = 0;
    if (!p.fp32_only && fa_q8_supported()) {
        int qr = fa_q8set_make(&q, s.x, n, d);
        if (qr < 0) { fa_sorted_free(&s); return -1; }
        use_q8 = qr == 0;
    }
    if (k && !use_q8) {   /* data the int8 kernel cannot take */
        fa_sorted_free(&s);
        return join_knn_fp32(x, group, n, d, max_dist, &p, out, stats, k, knn);
    }
    fa_join_plan jp = { { s.x, s.norm2, s.group, s.id, n, 1 }, use_q8 ? &q : NULL, n, p.tile_rows,
                     use_q8 ? (p.tile_cols + 63) / 64 * 64 : p.tile_cols, d,
                     max_dist >= 0 ? (double)max_dist * max_dist : -1.0, p.max_pairs };
    uint64_t *task = NULL;
    size_t ntask = 0;
    fa_join_ctx *ctx = calloc(nt, sizeof *ctx);
    int failed = !ctx || fa_join_tasks(&jp, &s, &task, &ntask) < 0, over = 0;
    fa_knn_lists *L = k && !failed ? fa_knn_lists_new(nt, s.id, s.id, n, k) : NULL;
    if (k && (!L || (p.knn_seed_group && seed_lists(L, nt, &s, n, d, p.knn_seed_group) < 0))) failed = 1;
    for (int t = 0; !failed && t < nt; t++) {
        if (fa_join_ctx_init(&ctx[t], p.tile_rows, p.tile_cols) < 0) failed = 1;
        ctx[t].knn = L ? &L[t] : NULL;
    }
    int blas_old = fa_blas_single_begin();
    if (!failed) over = fa_join_run(&jp, ctx, nt, task, ntask);
    fa_blas_single_end(blas_old);
    int rc = join_collect(ctx, nt, failed, over, &p, max_dist, out, L, n, k, knn);
    fa_knn_lists_delete(L, nt);
    if (stats) join_stats(stats, ctx, nt, use_q8, t0);
    if (use_q8) fa_q8set_free(&q);
    for (int t = 0; ctx && t < nt; t++) fa_join_ctx_free(&ctx[t]);
    free(ctx);
    free(task);
    fa_sorted_free(&s);
    return rc;
}
