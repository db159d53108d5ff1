/*
 * join.h - the exact cross-folder range join: every unordered pair of rows
 * in different groups whose Euclidean distance is within a threshold.
 *
 * Rows are sorted by group internally, so that pairs of tiles inside one
 * group are skipped wholesale. Each tile pair is one single-threaded
 * cblas_sgemm into a small per-thread buffer (never an N x N matrix), which
 * is thresholded while it is still in cache; OpenMP spreads the tile pairs
 * over threads. Memory: O(N*d + threads*tile + results).
 *
 * Numerics. The sgemm only nominates candidates, with a safety margin that
 * bounds its rounding error; every candidate is then re-measured exactly
 * (differences squared and summed in double, fa_l2sq_exact), and a pair is a
 * match iff that exact squared distance is <= max_dist^2 (computed in double).
 * So ties at the threshold count as matches, duplicate vectors come out at
 * distance 0 exactly, and the result equals a naive O(N^2) loop that uses
 * fa_l2sq_exact, bit for bit.
 *
 * Reduced precision: where the CPU has AVX-512 VNNI the candidates come
 * from an int8 kernel instead of sgemm (join_q8.c), with a proven bound on
 * its error; the exact re-measure still decides, so the pairs are the same.
 *
 * Threads: the join calls BLAS from several OpenMP threads at once; it sets
 * OpenBLAS to one thread for its duration and restores the old count.
 */
#ifndef FA_AUDIT_JOIN_H
#define FA_AUDIT_JOIN_H

#include <stddef.h>
#include <stdint.h>
#include "knn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One match: rows i < j (the caller's row numbers), Euclidean distance and
 * cosine similarity (0 when either vector is zero). */
typedef struct {
    uint32_t i, j;
    float dist;
    float cos;
} fa_pair;

/* A growable array of pairs; zero-initialise, release with fa_pairvec_free. */
typedef struct fa_pairvec {
    fa_pair *v;
    size_t n, cap;
} fa_pairvec;

void fa_pairvec_free(fa_pairvec *pv);
/* Appends one pair; returns 0, or -1 when out of memory. */
int fa_pairvec_push(fa_pairvec *pv, fa_pair p);
/* Sorts by (i, j) and drops repeated (i, j). */
void fa_pairvec_sort_unique(fa_pairvec *pv);

typedef struct {
    int threads;          /* OpenMP threads; 0: omp_get_max_threads() */
    int tile_rows;        /* rows of a tile (A side); 0: default 512 */
    int tile_cols;        /* columns of a tile (B side); 0: default 512 */
    size_t max_pairs;     /* fail when more pairs match; 0: no limit */
    int fp32_only;        /* 1: never the int8 candidate search (benchmarks) */
    /* fa_join_exact_knn: per row, a group whose rows are likely near
     * (calibration's nearest other folder; UINT32_MAX none), or NULL. A few
     * of its rows seed the row's list before the pass, so the lists start
     * tight and the pass re-measures fewer candidates; the lists are the
     * same either way. */
    const uint32_t *knn_seed_group;
} fa_join_params;

fa_join_params fa_join_default_params(void);

/* What a join did (all optional to read). */
typedef struct {
    double seconds;       /* wall time of the whole call */
    double gemm_flops;    /* 2*m*n*d summed over the sgemm calls made */
    size_t tiles;         /* sgemm calls made */
    size_t candidates;    /* pairs re-measured exactly */
    int int8;             /* 1: candidates came from the int8 VNNI kernel */
} fa_join_stats;

/* Exact join. x: n x d floats, row-major; group[r]: the folder of row r.
 * Appends to `out` every pair (i < j, group[i] != group[j]) with exact
 * distance <= max_dist, sorted by (i, j). `out` must be empty or hold
 * earlier results (they are kept, but then the order is only partially
 * sorted). `stats` may be NULL. Returns 0, or -1 (fa_last_error) on bad
 * arguments, out of memory, or more than max_pairs matches. */
int fa_join_exact(const float *x, const uint32_t *group, size_t n, int d,
                  float max_dist, const fa_join_params *params,
                  fa_pairvec *out, fa_join_stats *stats);

/* fa_join_exact and, in the same pass, the k nearest rows of other groups
 * for every row (knn.h; *knn set on success, free with fa_knn_free).
 * max_dist < 0: no pairs, only the lists. Without VNNI (or with data the
 * int8 kernel cannot take, or fp32_only) the pairs and the lists come from
 * the fp32 join and the fp32 top-k join, the same results. k in 1..64. */
int fa_join_exact_knn(const float *x, const uint32_t *group, size_t n, int d,
                      float max_dist, const fa_join_params *params,
                      fa_pairvec *out, fa_join_stats *stats, int k, fa_knn **knn);

/* v rounded up to a float (the thresholds of the int8 kernel and of the
 * top-k lists must never fall below their double value). */
static inline float fa_float_up(double v)
{
    float f = (float)v;
    if (!((double)f < v)) return f;
    if (f == 0) return 0x1p-149f;
    uint32_t b;                      /* the next float up, without a libm call */
    __builtin_memcpy(&b, &f, 4);
    b = f > 0 ? b + 1 : b - 1;
    __builtin_memcpy(&f, &b, 4);
    return f;
}

/* The exact squared distance used for every match decision. */
double fa_l2sq_exact(const float *a, const float *b, int d);
/* Euclidean distance in float for statistics (medians of many; never a
 * match decision): 16 partial sums, vectorised where the CPU has AVX-512,
 * the same bits everywhere. */
float fa_l2_stat(const float *a, const float *b, int d);
/* Cosine similarity in double; 0 when either vector is zero. */
double fa_cos_exact(const float *a, const float *b, int d);

/* ---- the tile kernel, shared with ivf.c ---------------------------------- */

/* A set of rows, contiguous: x (n x d), squared norms, groups, caller ids.
 * When `sorted` is set, group[] is non-decreasing, which lets the kernel skip
 * a row's same-group columns as one range. */
typedef struct {
    const float *x;
    const float *norm2;
    const uint32_t *group;
    const uint32_t *id;
    size_t n;
    int sorted;
} fa_rowset;

/* Per-thread scratch for fa_join_rect. */
typedef struct {
    float *g;             /* tile_rows x tile_cols */
    int tile_rows, tile_cols;
    fa_pairvec out;
    size_t candidates, tiles;
    double flops;
    float max_norm2;      /* largest norm2 in any B set used */
    int failed;           /* sticky: out of memory */
    /* Top-k mode of the int8 kernel (fa_join_exact_knn): this thread's
       lists. A pair then passes the kernel when it may be within t2 or
       within either row's current k-th exact squared distance, and every
       candidate's exact squared distance is offered to both rows' lists
       (A and B must be the same set, upper). */
    fa_knn_lists *knn;
    int knn_rows_only;    /* top-k mode for A's rows only (A and B may differ) */
} fa_join_ctx;

/* Joins rows [a0,a1) of A against rows [b0,b1) of B in tiles. When `upper`
 * is set, A and B are the same set and only j > i counts. Pairs of equal
 * group never count. Matches go to ctx->out as (id_i, id_j) ordered so that
 * the smaller id comes first. */
void fa_join_rect(fa_join_ctx *ctx, const fa_rowset *A, size_t a0, size_t a1,
                  const fa_rowset *B, size_t b0, size_t b1, int upper,
                  int d, double t2);

/* The rows sorted by (group, row), as the exact join tiles them: copies of x,
 * their squared norms, groups and original ids; gend[p] is the end of the run
 * of p's group. Shared by the single-process join and the MPI split. */
typedef struct {
    float *x, *norm2;
    uint32_t *group, *id;
    uint32_t *gend;
} fa_sorted_rows;

/* Fills s (n rows of dimension d); 0, or -1 with a message and s freed. */
int fa_sorted_make(fa_sorted_rows *s, const float *x, const uint32_t *group, size_t n, int d);
void fa_sorted_free(fa_sorted_rows *s);

/* Allocates the tile buffer; returns 0 or -1. fa_join_ctx_free releases
 * the buffer and the pairs. */
int fa_join_ctx_init(fa_join_ctx *ctx, int tile_rows, int tile_cols);
void fa_join_ctx_free(fa_join_ctx *ctx);
/* Appends the pairs of nt contexts to out and sorts out by (i, j). */
int fa_join_merge(fa_join_ctx *ctx, int nt, fa_pairvec *out);
/* Validates the common arguments; -1 with a message naming fn. */
int fa_join_check_args(const char *fn, size_t n, int d, float max_dist,
                       const fa_join_params *p);
/* OpenBLAS to one thread (returns the old count) and back. */
int fa_blas_single_begin(void);
void fa_blas_single_end(int old);

/* Squared norms in double, rounded to float. */
void fa_norms2(const float *x, size_t n, int d, float *out);

/* ---- the int8 candidate search (join_q8.c) -------------------------------- */

/* A row set quantised for the int8 kernel: per row an int8 copy with its own
 * scale, and the norms that bound the quantisation error. Built once per
 * set; read-only afterwards (shared by threads). */
typedef struct {
    size_t n, nsb;        /* rows, 64-row superblocks */
    int d, k4;            /* dimension, groups of 4 dimensions */
    int8_t *rows;         /* n x 4*k4 */
    uint8_t *pack;        /* nsb x k4 x 4 x 64: q+128, superblock layout */
    int32_t *corr;        /* 128 * sum of a row's q */
    float *sigma, *w, *nb;        /* scale, 2*scale, |x|^2 (padded to nsb*64) */
    double *na, *anorm, *enorm, *hnorm;  /* |x|^2, |x|, |x - q s|, |q s| */
    double *sb_emax, *sb_hmax, *sb_nbmax; /* per superblock maxima */
} fa_q8set;

/* 1 when this CPU runs the int8 kernel (AVX-512 F, BW and VNNI). */
int fa_q8_supported(void);
/* Quantises x (n x d, the row order of the fa_rowset it goes with).
 * Returns 0; 1 when the data are unsuited (non-finite values, or scales
 * outside 1e-15..1e15): use fa_join_rect then; -1 out of memory. */
int fa_q8set_make(fa_q8set *q, const float *x, size_t n, int d);
void fa_q8set_free(fa_q8set *q);
/* fa_join_rect with the int8 candidate search; the same pairs. qa/qb are
 * the quantised A and B (the same object when A and B are). Needs
 * fa_q8_supported(); ctx->g is not used. */
void fa_join_rect_q8(fa_join_ctx *ctx, const fa_rowset *A, const fa_q8set *qa,
                     size_t a0, size_t a1, const fa_rowset *B, const fa_q8set *qb,
                     size_t b0, size_t b1, int upper, int d, double t2);

/* ---- the pair budget of a parallel join (join.c, ivf.c) ------------------- */

/* 1 once a thread has set *over: the remaining tasks are skipped. */
static inline int fa_join_stopped(int *over)
{
    int stop;
#pragma omp atomic read
    stop = *over;
    return stop;
}

/* Adds a task's new pairs to the count all threads share, and sets *over
 * when it passes max_pairs (0: no limit). */
static inline void fa_join_count(size_t *found, size_t added, size_t max_pairs, int *over)
{
    size_t total;
#pragma omp atomic capture
    total = *found += added;
    if (max_pairs && total > max_pairs) {
#pragma omp atomic write
        *over = 1;
    }
}

/* ---- the exact join's tasks, shared with the MPI split (mpi.c) ------------- */

/* The work of one exact join over sorted rows: what every task needs. */
typedef struct {
    fa_rowset S;            /* the rows, sorted by group */
    const fa_q8set *q;      /* their int8 copy (NULL: the fp32 kernel) */
    size_t n, R, C;         /* rows; rows of an A tile, columns of a block */
    int d;
    double t2;              /* squared threshold (-1: no pairs, top-k only) */
    size_t max_pairs;       /* 0: no limit */
} fa_join_plan;

/* Tasks: an A tile of R rows against a block of C columns, starting after
 * the first row's group (earlier columns are never j > i of another group
 * for any row of the tile). The int8 kernel works on 64-column superblocks:
 * its blocks start on one (the columns added before the first row's group
 * end pair with nothing). Each task is (first row << 32 | first column), in
 * row-tile order. 0 (*task NULL when there are none), or -1 out of memory. */
int fa_join_tasks(const fa_join_plan *jp, const fa_sorted_rows *s, uint64_t **task, size_t *ntask);
/* Runs the tasks on nt threads, each into its own ctx[t]. Returns 1 when
 * more than jp->max_pairs pairs were found (the rest skipped), else 0. */
int fa_join_run(const fa_join_plan *jp, fa_join_ctx *ctx, int nt, const uint64_t *task, size_t ntask);

#ifdef __cplusplus
}
#endif
#endif
