/*
 * ivf.h - k-means inverted lists for the cross-folder range join.
 *
 * fa_ivf_build clusters the rows with k-means (deterministic: seeded sample,
 * random distinct initial centres, Lloyd iterations with sgemm assignment)
 * and stores the rows grouped by list, each list sorted by group, with the
 * list's radius (largest exact member-to-centre distance).
 *
 * fa_ivf_range_join then has two modes:
 *   nprobe == 0 (exact): a pair of lists (a, b) is skipped only when
 *     |c_a - c_b| - r_a - r_b > t, and inside a kept pair a row x of a is
 *     skipped when |x - c_b| - r_b > t (both triangle inequalities, with a
 *     margin for the float arithmetic). The result equals fa_join_exact.
 *   nprobe > 0 (approximate): each row is compared with the rows of its
 *     nprobe nearest lists (its own always included); a pair is found when
 *     either side probes the other's list. Every reported pair is a true
 *     match (exact re-measure); some are missed. fa_join_recall measures how
 *     many on a sample.
 * In 128-d face space the bounds prune little at usual thresholds (the
 * distances are concentrated); the exact mode exists to show that honestly.
 */
#ifndef FA_AUDIT_IVF_H
#define FA_AUDIT_IVF_H

#include "join.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int nlist;            /* lists; 0: round(sqrt(n)), at most n */
    int iters;            /* Lloyd iterations; default 10 */
    uint64_t seed;        /* default 1 */
    size_t train_max;     /* k-means trains on at most this many rows; 0: 64*nlist */
    int nprobe;           /* 0: exact; > 0: approximate */
    int threads;          /* 0: omp_get_max_threads() */
    int tile_rows, tile_cols;   /* 0: the join's defaults */
    size_t max_pairs;     /* 0: no limit */
    size_t recall_sample; /* fa_ivf_join, nprobe > 0: rows sampled for recall; 0: none */
} fa_ivf_params;

fa_ivf_params fa_ivf_default_params(void);

typedef struct {
    size_t nlist;
    double build_seconds, join_seconds, recall_seconds;
    size_t list_pairs_total, list_pairs_pruned;
    size_t rows_considered, rows_pruned;   /* row x list-pair checks (exact mode) */
    double gemm_flops;
    size_t candidates;
    /* nprobe mode with recall_sample: pairs of the sampled rows found by the
     * exact search (truth) and also by the approximate one (found) */
    size_t recall_truth, recall_found;
    double recall;        /* found / truth (1 when truth == 0); -1: not measured */
} fa_ivf_stats;

typedef struct fa_ivf {
    int d;
    size_t n, nlist;
    float *centroids;     /* nlist x d */
    double *radius;       /* nlist */
    size_t *offset;       /* nlist + 1: list l is sorted rows [offset[l], offset[l+1]) */
    float *x, *norm2;     /* rows sorted by (list, group, row) */
    uint32_t *group, *id; /* group and caller row number per sorted row */
} fa_ivf;

/* Builds the lists. x: n x d; group[r] the folder of row r. Returns NULL
 * (fa_last_error) on bad arguments or out of memory. */
fa_ivf *fa_ivf_build(const float *x, const uint32_t *group, size_t n, int d,
                     const fa_ivf_params *params);
void fa_ivf_free(fa_ivf *ivf);

/* Cross-group pairs within max_dist, by the mode in params (see above),
 * appended to out sorted by (i, j), ids as given to fa_ivf_build. */
int fa_ivf_range_join(const fa_ivf *ivf, float max_dist, const fa_ivf_params *params,
                      fa_pairvec *out, fa_ivf_stats *stats);

/* Build + join (+ recall when nprobe > 0 and recall_sample > 0). */
int fa_ivf_join(const float *x, const uint32_t *group, size_t n, int d, float max_dist,
                const fa_ivf_params *params, fa_pairvec *out, fa_ivf_stats *stats);

/* Recall of `approx` (sorted by (i, j), e.g. from fa_ivf_range_join) against
 * the exact join on `sample` rows drawn with `seed`: for every sampled row,
 * every exact match of it is looked up in approx. Returns 0 or -1. */
int fa_join_recall(const float *x, const uint32_t *group, size_t n, int d,
                   float max_dist, const fa_pairvec *approx, size_t sample,
                   uint64_t seed, int threads, size_t *truth, size_t *found);

/* Deterministic generator used for all sampling (splitmix64). */
uint64_t fa_rand_next(uint64_t *state);
/* Uniform in [0, n). */
size_t fa_rand_below(uint64_t *state, size_t n);

#ifdef __cplusplus
}
#endif
#endif
