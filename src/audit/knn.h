/*
 * knn.h - the k nearest rows in other groups, for every row (a top-k join).
 *
 * Where the CPU has AVX-512 VNNI (join_q8.c): the int8 kernel of the exact
 * join scans each tile of rows against every row, each row thresholded at
 * its current k-th exact distance (infinite until it has k), so only pairs
 * that may enter a row's list are re-measured exactly (fa_l2sq_exact); the
 * kernel's proven bound lets every pair within the threshold through, and
 * the threshold only falls, so the lists are exactly the k nearest by the
 * exact measure, ties broken by row number. Measured on bench/synth.py's
 * 100,000 rows: 355 rows re-measured per row, 3x faster than the fp32 path.
 *
 * Elsewhere: one single-threaded cblas_sgemm per tile into a small per-thread
 * buffer (never an N x N matrix), OpenMP over row tiles; a pair is measured
 * exactly when the sgemm's distance is within the row's current k-th plus
 * the sgemm's rounding bound (knn.c), so these lists are exact too.
 * Memory: O(N*d + N*k + threads*tile) either way.
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

/* Mean distance of row r to its neighbours (NaN when it has none). */
float fa_knn_mean(const fa_knn *kn, size_t r);

#ifdef __cplusplus
}
#endif
#endif
