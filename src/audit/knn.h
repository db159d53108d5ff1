/*
 * knn.h - the k nearest rows in other groups, for every row (a top-k join).
 *
 * Where the CPU has AVX-512 VNNI the lists come out of the exact join itself
 * (fa_join_exact_knn, join.c): its int8 kernel visits every unordered pair
 * of tiles once, and a pair passes when it may be within the pair threshold
 * or within either row's current k-th exact distance (per-thread lists, so
 * no locks; the threshold only falls). Every pair that passes is re-measured
 * exactly (fa_l2sq_exact) and offered to both rows' lists; the kernel's
 * proven bound lets every pair within a threshold through, so the merged
 * lists are exactly the k nearest by the exact measure, ties broken by row
 * number. One pass serves both the audit's pairs and its local scales.
 *
 * Elsewhere: one single-threaded cblas_sgemm per tile into a small per-thread
 * buffer (never an N x N matrix), OpenMP over row tiles; a pair is measured
 * exactly when the sgemm's distance is within the row's current k-th plus
 * the sgemm's rounding bound (knn.c), so these lists are exact too.
 * Memory: O(N*d + threads*N*k + threads*tile).
 */
#ifndef FA_AUDIT_KNN_H
#define FA_AUDIT_KNN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    size_t n;
    int k;                  /* neighbours per row (fewer when there are fewer other rows) */
    uint32_t *nb;           /* n x k row numbers, nearest first; UINT32_MAX pads */
    float *dist;            /* n x k exact distances; INFINITY pads */
    uint32_t *count;        /* n: neighbours found */
} fa_knn;

/* x: n x d rows; group[r]: the group of row r. Finds, for every row, the k
 * nearest rows of other groups. threads 0: OpenMP's default. Returns NULL
 * (fa_last_error) on bad arguments or out of memory. */
fa_knn *fa_knn_cross(const float *x, const uint32_t *group, size_t n, int d, int k, int threads);
/* The same with the fp32 path forced (fp32_only 1), for tests and benchmarks. */
fa_knn *fa_knn_cross_ex(const float *x, const uint32_t *group, size_t n, int d, int k, int threads,
                        int fp32_only);
void fa_knn_free(fa_knn *kn);
/* An empty result for n rows (every list empty); NULL when out of memory. */
fa_knn *fa_knn_alloc(size_t n, int k);

/* For every row of x (n x d, groups `group`), the k nearest rows of y (m x
 * d, groups ygroup, reported as yid[j]) of another group, by the exact
 * measure, ties by yid: the int8 kernel in its rows-only top-k mode. 0 with
 * *out set; 1 when the int8 kernel cannot run here or on these data (the
 * caller has its own way); -1 out of memory. */
int fa_knn_other(const float *x, const uint32_t *group, size_t n, const float *y,
                 const uint32_t *ygroup, const uint32_t *yid, size_t m, int d, int k, int threads,
                 fa_knn **out);

/* fa_knn_other against folder centres: centre is ng x d, size[g] the rows
 * of folder g (empty folders are never neighbours); the neighbours are
 * folder numbers. The same returns. */
int fa_knn_centres(const float *x, const uint32_t *group, size_t n, const float *centre,
                   const uint32_t *size, size_t ng, int d, int k, int threads, fa_knn **out);

/* Mean distance of row r to its neighbours (NaN when it has none). */
float fa_knn_mean(const fa_knn *kn, size_t r);

/* ---- the threads' lists, for the joins that feed them ------------------- */

/* Per thread, the k best (exact d2, original row) of every scanned row, best
 * first. Shared by the threads: `t2`, per row the smallest k-th d2 of any
 * thread's full list (infinite before): a pair beyond it cannot be among
 * the row's k best of all lists, so every thread may skip it; and `colt`,
 * the same rounded up with the margin the int8 kernel's vector test needs
 * (join_q8.c), padded to a multiple of 64 rows. Both only fall; they are
 * read and written with relaxed atomics. */
typedef struct {
    size_t n;
    int k;
    const uint32_t *id;     /* offered neighbour -> original row; NULL: the same */
    const uint32_t *rid;    /* listed row -> original row (the merge); NULL: the same */
    double *d2;             /* n x k */
    uint32_t *nb;           /* n x k, original rows */
    uint8_t *len;           /* n */
    double *t2;             /* n, shared */
    float *colt;            /* n rounded up to 64, shared */
} fa_knn_lists;

/* The shared k-th d2 of row i (a relaxed atomic load). */
static inline double fa_knn_lists_t2(const fa_knn_lists *L, size_t i)
{
    double v;
    __atomic_load(&L->t2[i], &v, __ATOMIC_RELAXED);
    return v;
}

/* nt threads' lists over n rows; NULL when out of memory. */
fa_knn_lists *fa_knn_lists_new(int nt, const uint32_t *id, const uint32_t *rid, size_t n, int k);
void fa_knn_lists_delete(fa_knn_lists *L, int nt);
/* An exactly measured candidate j for row i (scanned numbers), into this
 * thread's list: kept when it beats the row's shared k-th and the list's,
 * ties by original row. */
void fa_knn_lists_offer(fa_knn_lists *L, size_t i, size_t j, double d2);
/* Merges nt threads' lists into kn (by original row): every row's k best of
 * the union, a pair listed by two threads once. */
void fa_knn_lists_merge(const fa_knn_lists *L, int nt, fa_knn *kn);

#ifdef __cplusplus
}
#endif
#endif
