/*
 * join_q8.c - the int8 (AVX-512 VNNI) candidate search of the exact join.
 *
 * Every row is quantised once with its own scale: q = round(x / s),
 * s = max|x_k| / 127, so x = q*s + e with |e_k| <= s/2. A register-blocked
 * VPDPBUSD kernel computes q_a.q_b exactly in int32 for 6 rows x 64 columns
 * at a time and tests, in registers, the estimate
 *     v = |b|^2 - 2 (q_a.q_b) s_a s_b            (one FMA per element)
 * against a per-row threshold loosened by a proven bound (derivation in
 * q8_bound). Only pairs passing it are re-measured with
 * fa_l2sq_exact, and only an exact distance <= max_dist counts, so the pairs
 * are exactly those of the fp32 path (and of a naive loop).
 *
 * Why int8: one VPDPBUSD does 64 multiply-adds where an fp32 FMA does 16,
 * at the same throughput on these cores; the fp32 join already ran at 89%
 * of sgemm peak.
 *
 * Layouts (k4 = ceil(d/4), dimensions padded with zeros to 4*k4):
 *   rows: n x 4*k4 int8 (the broadcast, signed operand);
 *   pack: per 64-column superblock, per group of 4 dimensions, 4 blocks of
 *         16 columns x 4 bytes, stored as q+128 (VPDPBUSD's unsigned
 *         operand); the +128 adds 128*sum(q_a), which the accumulators start
 *         from minus that (corr), so they end at q_a.q_b exactly.
 */
#define _POSIX_C_SOURCE 200809L
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "faceaudit/faceaudit.h"
#include "join.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define FA_Q8_X86 1
#endif

#define SB 64        /* columns per superblock */
#define MR 6         /* rows per micro-tile */

int fa_q8_supported(void)
{
#ifdef FA_Q8_X86
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vnni");
#else
    return 0;
#endif
}

void fa_q8set_free(fa_q8set *q)
{
    if (!q) return;
    free(q->rows); free(q->pack); free(q->corr); free(q->sigma); free(q->w);
    free(q->nb); free(q->na); free(q->anorm); free(q->enorm); free(q->hnorm);
    free(q->sb_emax); free(q->sb_hmax); free(q->sb_nbmax);
    memset(q, 0, sizeof *q);
}

/* Quantises row r; returns 0, or 1 when its scale is outside the range in
 * which the float epilogue's products can neither overflow nor go subnormal. */
static int quantise_row(fa_q8set *q, const float *x, size_t r)
{
    const int d = q->d, stride = 4 * q->k4;
    double maxabs = 0, na = 0;
    for (int k = 0; k < d; k++) {
        if (!isfinite(x[k])) return 1;
        double a = fabs((double)x[k]);
        if (a > maxabs) maxabs = a;
        na += (double)x[k] * x[k];
    }
    float s = (float)(maxabs / 127.0);
    if (maxabs > 0 && !(s >= 1e-15f && s <= 1e15f)) return 1;
    int8_t *qr = q->rows + r * (size_t)stride;
    double e2 = 0, h2 = 0;
    int32_t sum = 0;
    for (int k = 0; k < d; k++) {
        long v = s > 0 ? lrint((double)x[k] / s) : 0;
        if (v > 127) v = 127;
        if (v < -127) v = -127;
        qr[k] = (int8_t)v;
        sum += (int32_t)v;
        double e = (double)x[k] - (double)v * s;
        e2 += e * e;
        h2 += (double)v * v;
    }
    q->corr[r] = 128 * sum;
    q->sigma[r] = s;
    q->w[r] = 2.0f * s;                      /* exact: a power-of-2 multiple */
    q->nb[r] = (float)na;
    q->na[r] = na;
    /* norms rounded up by far more than their double rounding error */
    q->anorm[r] = sqrt(na) * (1 + 1e-12);
    q->enorm[r] = sqrt(e2) * (1 + 1e-12);
    q->hnorm[r] = s * sqrt(h2) * (1 + 1e-12);
    return 0;
}

/* Scatters row r's bytes into the superblock layout as q+128. */
static void pack_row(fa_q8set *q, size_t r)
{
    const int8_t *qr = q->rows + r * (size_t)(4 * q->k4);
    size_t s = r / SB, c = (r % SB) / 16, l = r % 16;
    for (int g = 0; g < q->k4; g++) {
        uint8_t *dst = q->pack + ((s * q->k4 + g) * 4 + c) * 64 + l * 4;
        for (int t = 0; t < 4; t++) dst[t] = (uint8_t)(qr[4 * g + t] + 128);
    }
}

int fa_q8set_make(fa_q8set *q, const float *x, size_t n, int d)
{
    memset(q, 0, sizeof *q);
    q->n = n;
    q->d = d;
    q->k4 = (d + 3) / 4;
    q->nsb = (n + SB - 1) / SB;
    size_t npad = q->nsb * SB, stride = 4 * (size_t)q->k4, n1 = n ? n : 1, np1 = npad ? npad : 1;
    q->rows = calloc((n + MR) * stride, 1);   /* + MR zero rows: see q8_micro */
    q->pack = malloc(np1 * stride);
    q->corr = calloc(n + MR, sizeof *q->corr);
    q->sigma = malloc(n1 * sizeof *q->sigma);
    q->w = malloc(np1 * sizeof *q->w);
    q->nb = malloc(np1 * sizeof *q->nb);
    q->na = malloc(n1 * sizeof *q->na);
    q->anorm = malloc(n1 * sizeof *q->anorm);
    q->enorm = malloc(n1 * sizeof *q->enorm);
    q->hnorm = malloc(n1 * sizeof *q->hnorm);
    size_t ns1 = q->nsb ? q->nsb : 1;
    q->sb_emax = malloc(ns1 * sizeof(double));
    q->sb_hmax = malloc(ns1 * sizeof(double));
    q->sb_nbmax = malloc(ns1 * sizeof(double));
    if (!q->rows || !q->pack || !q->corr || !q->sigma || !q->w || !q->nb || !q->na ||
        !q->anorm || !q->enorm || !q->hnorm || !q->sb_emax || !q->sb_hmax || !q->sb_nbmax) {
        fa_q8set_free(q);
        return fa_error("fa_q8set_make: out of memory for %zu rows", n);
    }
    memset(q->pack, 128, np1 * stride);      /* padding columns: q = 0 */
    for (size_t r = 0; r < n; r++) {
        if (quantise_row(q, x + r * (size_t)d, r)) {
            fa_q8set_free(q);
            return 1;
        }
        pack_row(q, r);
    }
    for (size_t r = n; r < npad; r++) {      /* never a candidate: v = +inf */
        q->w[r] = 0;
        q->nb[r] = INFINITY;
    }
    for (size_t s = 0; s < q->nsb; s++) {
        double em = 0, hm = 0, nm = 0;
        for (size_t r = s * SB; r < n && r < (s + 1) * SB; r++) {
            if (q->enorm[r] > em) em = q->enorm[r];
            if (q->hnorm[r] > hm) hm = q->hnorm[r];
            if (q->na[r] > nm) nm = q->na[r];
        }
        q->sb_emax[s] = em;
        q->sb_hmax[s] = hm;
        q->sb_nbmax[s] = nm;
    }
    return 0;
}

/*
 * The float threshold for row i of A against the superblocks of B that a
 * call covers: t2 (1 + 1e-9) + q8_bound, computed in double and rounded up
 * (fa_float_up), with emax, hmax and nbmax the maxima over those superblocks.
 *
 * Write a = a^ + e_a with a^ = q_a s_a (likewise b). Then
 *     a.b - a^.b^ = a.e_b + e_a.b^,  so  |a.b - a^.b^| <= |a||e_b| + |e_a||b^| =: beta
 * with |e_b| <= emax and |b^| <= hmax over the superblock. The kernel
 * computes v = fl(nb - fl(q * fl(s_a * w_b))) with w_b = 2 s_b exact and the
 * integer q = q_a.q_b exact (|q| <= 127^2 d < 2^24: exact in float). With
 * X = 2 a^.b^ and unit roundoff u = 2^-24, c = s_a w_b (1+e1), the FMA
 * rounds once: |v - (nb - X)| <= u (nb + 3.01 |X|), |X| <= 2 |a^| hmax;
 * nb = fl(|b|^2) adds u nbmax. So a pair with |a-b|^2 = |a|^2 + |b|^2 - 2 a.b
 * <= t2 has
 *     v <= t2 - |a|^2 + 2 beta + u (2 nbmax + 6.02 |a^| hmax),
 * and the double rounding of fa_l2sq_exact and of the norms (relative
 * < 1e-13) is covered by 1e-9 (t2 + |a|^2 + nbmax). q8_bound is all of it
 * but the terms in t2.
 */
static double q8_bound(const fa_q8set *qa, size_t i, double emax, double hmax, double nbmax)
{
    const double u = 0x1p-24;
    double na = qa->na[i];
    double beta = qa->anorm[i] * emax + qa->enorm[i] * hmax;
    return -na + 2 * beta + u * (2 * nbmax + 6.02 * qa->hnorm[i] * hmax) + 1e-9 * (na + nbmax);
}

/* Row i's threshold (see q8_row) from its bound c: t2, or in top-k mode its
 * current k-th when larger. Computed before the micro-tile's accumulators
 * are live. */
static inline float q8_row_threshold(const fa_join_ctx *ctx, size_t i, double c, double t2)
{
    if (ctx->knn) {
        double lt = fa_knn_lists_t2(ctx->knn, i);
        if (lt > t2) t2 = lt;
    }
    return fa_float_up(t2 * (1 + 1e-9) + c);
}

/* Re-measures one candidate (i of A, j of B) exactly. */
static void q8_candidate(fa_join_ctx *ctx, const fa_rowset *A, size_t i,
                         const fa_rowset *B, size_t j, int d, double t2)
{
    if (B->group[j] == A->group[i]) return;
    ctx->candidates++;
    const float *a = A->x + i * (size_t)d, *b = B->x + j * (size_t)d;
    double d2 = fa_l2sq_exact(a, b, d);
    if (ctx->knn) {
        fa_knn_lists_offer(ctx->knn, i, j, d2);
        if (!ctx->knn_rows_only) fa_knn_lists_offer(ctx->knn, j, i, d2);
    }
    if (!(d2 <= t2)) return;
    uint32_t x = A->id[i], y = B->id[j];
    fa_pair p = { x < y ? x : y, x < y ? y : x, (float)sqrt(d2),
                  (float)fa_cos_exact(a, b, d) };
    if (fa_pairvec_push(&ctx->out, p) < 0) ctx->failed = 1;
}

/* The columns [j0, j1) of B and the rows that a micro-tile may pair. */
typedef struct {
    size_t j0, j1;
    int upper;
} q8_cols;

static void q8_hits(fa_join_ctx *ctx, const fa_rowset *A, size_t i, const fa_rowset *B,
                    size_t col0, unsigned mask, const q8_cols *cc, int d, double t2)
{
    while (mask) {
        size_t j = col0 + (size_t)__builtin_ctz(mask);
        mask &= mask - 1;
        if (j < cc->j0 || j >= cc->j1 || (cc->upper && j <= i)) continue;
        q8_candidate(ctx, A, i, B, j, d, t2);
    }
}

#ifdef FA_Q8_X86
#define Q8_TARGET __attribute__((target("avx512f,avx512bw,avx512vnni")))

/* Thresholds row r's four accumulators (16 columns each) of a micro-tile.
 *
 * Top-k mode: the row's threshold is its k-th distance when that is larger
 * than t2, and each column j's is fl(colt_j + cu) with colt_j >= x (1 +
 * 2^-20), x = t2_j (1 + 1e-9) >= 0 (knn.c), and cu >= c + 2^-20 |c|, c =
 * q8_bound. Their sum exceeds x + c by 2^-20 (x + |c|), more than the
 * float addition's rounding, u |colt_j + cu| <= 2^-24 (x + |c|)(1 + 2^-19),
 * so every pair within either list's k-th passes. */
static inline __attribute__((always_inline)) Q8_TARGET void
q8_row(fa_join_ctx *ctx, const fa_rowset *A, const fa_q8set *qa, size_t i,
       const fa_rowset *B, const fa_q8set *qb, size_t sb, const q8_cols *cc, int d,
       double t2, float th1, float cu1, __m512i x0, __m512i x1, __m512i x2, __m512i x3)
{
    const size_t col0 = sb * SB;
    const fa_knn_lists *L = ctx->knn;
    __m512 sa = _mm512_set1_ps(qa->sigma[i]);
    __m512 th = _mm512_set1_ps(th1), cu = _mm512_set1_ps(cu1);
    __m512i x[4] = { x0, x1, x2, x3 };
    for (int q = 0; q < 4; q++) {
        __m512 cf = _mm512_mul_ps(sa, _mm512_loadu_ps(qb->w + col0 + 16 * q));
        __m512 v = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(x[q]), cf,
                                    _mm512_loadu_ps(qb->nb + col0 + 16 * q));
        __m512 t = L && !ctx->knn_rows_only
                   ? _mm512_max_ps(th, _mm512_add_ps(_mm512_loadu_ps(L->colt + col0 + 16 * q), cu))
                   : th;
        __mmask16 m = _mm512_cmp_ps_mask(v, t, _CMP_LE_OQ);
        if (__builtin_expect(m != 0, 0))
            q8_hits(ctx, A, i, B, col0 + 16 * q, m, cc, d, t2);
    }
}

/* One micro-tile: rows [i0, i0+6) of A (the quantised rows are padded so
 * that 6 always exist) against superblock sb of B; only the first m rows
 * are thresholded. 24 named accumulators: an array of vectors made GCC
 * spill them to the stack on every step. */
static Q8_TARGET void q8_micro(fa_join_ctx *ctx, const fa_rowset *A, const fa_q8set *qa,
                               size_t i0, size_t m, const fa_rowset *B, const fa_q8set *qb,
                               size_t sb, const q8_cols *cc, int d, double t2,
                               const double *c, const float *cu)
{
    const int k4 = qa->k4, stride = 4 * k4;
    float th[MR];
    for (size_t r = 0; r < m; r++) th[r] = q8_row_threshold(ctx, i0 + r, c[r], t2);
#define Q8_INIT(r) __m512i a##r##0 = _mm512_set1_epi32(-qa->corr[i0 + r]), \
    a##r##1 = a##r##0, a##r##2 = a##r##0, a##r##3 = a##r##0;
    Q8_INIT(0) Q8_INIT(1) Q8_INIT(2) Q8_INIT(3) Q8_INIT(4) Q8_INIT(5)
    const uint8_t *bp = qb->pack + (size_t)sb * k4 * 256;
    const int8_t *ap = qa->rows + i0 * (size_t)stride;
    for (int g = 0; g < k4; g++, bp += 256, ap += 4) {
        __m512i b0 = _mm512_loadu_si512(bp), b1 = _mm512_loadu_si512(bp + 64),
                b2 = _mm512_loadu_si512(bp + 128), b3 = _mm512_loadu_si512(bp + 192);
#define Q8_STEP(r) { int32_t a4; memcpy(&a4, ap + r * stride, 4); \
        __m512i av = _mm512_set1_epi32(a4); \
        a##r##0 = _mm512_dpbusd_epi32(a##r##0, b0, av); \
        a##r##1 = _mm512_dpbusd_epi32(a##r##1, b1, av); \
        a##r##2 = _mm512_dpbusd_epi32(a##r##2, b2, av); \
        a##r##3 = _mm512_dpbusd_epi32(a##r##3, b3, av); }
        Q8_STEP(0) Q8_STEP(1) Q8_STEP(2) Q8_STEP(3) Q8_STEP(4) Q8_STEP(5)
    }
#define Q8_ROW(r) if (r < m) q8_row(ctx, A, qa, i0 + r, B, qb, sb, cc, d, t2, th[r], cu[r], \
                                    a##r##0, a##r##1, a##r##2, a##r##3);
    Q8_ROW(0) Q8_ROW(1) Q8_ROW(2) Q8_ROW(3) Q8_ROW(4) Q8_ROW(5)
#undef Q8_INIT
#undef Q8_STEP
#undef Q8_ROW
    ctx->flops += 2.0 * m * SB * d;
}

/* True when the micro-tile holds no pair: one group throughout (sorted
 * sets), or every column at or before the first row (upper). */
static int q8_skip(const fa_rowset *A, size_t i0, size_t m, const fa_rowset *B,
                   size_t c0, size_t c1, int upper)
{
    if (upper && c1 - 1 <= i0) return 1;
    if (!A->sorted || !B->sorted) return 0;
    uint32_t g = A->group[i0];
    return A->group[i0 + m - 1] == g && B->group[c0] == g && B->group[c1 - 1] == g;
}

Q8_TARGET void fa_join_rect_q8(fa_join_ctx *ctx, const fa_rowset *A, const fa_q8set *qa,
                               size_t a0, size_t a1, const fa_rowset *B, const fa_q8set *qb,
                               size_t b0, size_t b1, int upper, int d, double t2)
{
    if (a0 >= a1 || b0 >= b1) return;
    q8_cols cc = { b0, b1, upper };
    /* the rows' bounds, once per call: over all its superblocks of B */
    double emax = 0, hmax = 0, nbmax = 0;
    for (size_t sb = b0 / SB; sb * SB < b1; sb++) {
        emax = fmax(emax, qb->sb_emax[sb]);
        hmax = fmax(hmax, qb->sb_hmax[sb]);
        nbmax = fmax(nbmax, qb->sb_nbmax[sb]);
    }
    double *c = malloc((a1 - a0) * (sizeof *c + sizeof(float)));
    if (!c) { ctx->failed = 1; return; }
    float *cu = (float *)(c + (a1 - a0));
    for (size_t i = a0; i < a1; i++) {
        c[i - a0] = q8_bound(qa, i, emax, hmax, nbmax);
        cu[i - a0] = fa_float_up(c[i - a0] + 0x1p-20 * fabs(c[i - a0]));
    }
    /* superblock outer: its 8 KB of packed columns stay in L1 while the
     * rows of A stream past them */
    for (size_t sb = b0 / SB; sb * SB < b1; sb++) {
        size_t c0 = sb * SB > b0 ? sb * SB : b0;
        size_t c1 = (sb + 1) * SB < b1 ? (sb + 1) * SB : b1;
        ctx->tiles++;
        for (size_t i0 = a0; i0 < a1; i0 += MR) {
            size_t m = a1 - i0 < MR ? a1 - i0 : MR;
            if (q8_skip(A, i0, m, B, c0, c1, upper)) continue;
            q8_micro(ctx, A, qa, i0, m, B, qb, sb, &cc, d, t2, c + (i0 - a0), cu + (i0 - a0));
        }
    }
    free(c);
}
#else
void fa_join_rect_q8(fa_join_ctx *ctx, const fa_rowset *A, const fa_q8set *qa,
                     size_t a0, size_t a1, const fa_rowset *B, const fa_q8set *qb,
                     size_t b0, size_t b1, int upper, int d, double t2)
{
    (void)qa; (void)qb;
    fa_join_rect(ctx, A, a0, a1, B, b0, b1, upper, d, t2);
}
#endif
