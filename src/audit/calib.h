/*
 * calib.h - calibration of the match threshold from the data itself, and
 * the per-face / per-folder spread statistics that rank the findings.
 *
 * The rule, in one paragraph (print it with the numbers):
 *   Folders are mostly right, so distances between two faces of one folder
 *   (within) show what "same person" looks like and distances between faces
 *   of different folders (cross) what "different people" looks like. To keep
 *   filing mistakes out of both pictures, only typical faces are sampled: a
 *   face is atypical when it is nearer another folder's robust centre
 *   (coordinate-wise median) than its own, or its distance to its own centre
 *   is an outlier for its folder (robust z >= 3.5). Pairs are sampled
 *   deterministically (exhaustively when the population is small). The
 *   threshold is the distance under which only a share alpha of cross-folder
 *   pairs fall, alpha chosen so that about one chance match per face is
 *   expected (alpha = faces / cross-folder pairs, clamped to [1e-6, 1e-2] and
 *   to at least 20 samples' worth); it is capped at the within-folder 90th
 *   percentile, since beyond it we would call pairs "same person" that are
 *   farther apart than 90% of same-folder pairs. A cross-folder pair is then
 *   ranked by rel = distance / max(spread_a, spread_b), where a face's spread
 *   is its median distance to its own folder-mates: rel < 1 means one face
 *   is nearer to the other folder's face than to half of its own folder
 *   (strong evidence of a filing mistake); rel >= 1 is a look-alike at the
 *   distance of ordinary folder-mates.
 */
#ifndef FA_AUDIT_CALIB_H
#define FA_AUDIT_CALIB_H

#include <stddef.h>
#include <stdint.h>
#include "faceaudit/audit.h"   /* fa_calib_params */

#ifdef __cplusplus
extern "C" {
#endif

#define FA_CALIB_NQ 11
/* The quantiles reported: 0.001 0.01 0.05 0.1 0.25 0.5 0.75 0.9 0.95 0.99 0.999 */
extern const double fa_calib_quantiles[FA_CALIB_NQ];

/* fa_calib_params: in faceaudit/audit.h (a field of fa_audit_params). */

fa_calib_params fa_calib_default_params(void);

typedef struct {
    /* population and samples */
    size_t n, n_groups;
    double within_pairs, cross_pairs;      /* pairs in the population */
    size_t n_within, n_cross;              /* distances sampled */
    int within_exhaustive, cross_exhaustive;
    float within_q[FA_CALIB_NQ], cross_q[FA_CALIB_NQ];
    /* the threshold */
    double alpha;                          /* target share of cross pairs */
    float t_cross;                         /* cross quantile at alpha */
    float t_cap;                           /* within quantile at within_cap_q */
    float threshold;                       /* min(t_cross, t_cap) */
    int capped;                            /* threshold came from the cap */
    double cross_share;                    /* share of cross samples <= threshold */
    double cross_expected;                 /* cross_share * cross_pairs */
    double within_share;                   /* share of within samples <= threshold */
    double dlib_cross_share;               /* share of cross samples <= 0.6 */
    double dlib_within_share;              /* share of within samples <= 0.6 */
    /* per row (n) */
    float *spread;        /* median distance to folder-mates; NaN when alone */
    float *centre_dist;   /* distance to its folder's robust centre */
    uint32_t *best_other; /* nearest other folder centre (UINT32_MAX: none) */
    float *best_other_dist;
    /* per group (n_groups) */
    uint32_t *size;       /* rows in the group */
    float *centre;        /* n_groups x d coordinate-wise median (0 when empty) */
    float *group_spread;  /* median of its rows' spread; NaN when < 2 rows */
    float *cd_median, *cd_mad;   /* median and MAD of centre_dist in the group */
    float global_spread;  /* within median: stands in for a lone face's spread */
    /* per row: atypical = an outlier of its folder (folder of >= 3 rows, and
     * robust z of centre_dist >= outlier_z or nearer another folder's centre
     * than its own). Samples use typical rows only, so that filing mistakes do
     * not pollute what "same person" and "different people" look like. */
    unsigned char *atypical;
    size_t n_atypical;
    /* private: sorted samples */
    float *within_, *cross_;
    int d;
} fa_calib;

/* Calibrates on x (n x d) with group[r] < n_groups. Returns NULL
 * (fa_last_error) on bad arguments or out of memory. */
fa_calib *fa_calib_run(const float *x, const uint32_t *group, size_t n, int d,
                       size_t n_groups, const fa_calib_params *params);
void fa_calib_free(fa_calib *c);

/* The rule above as one plain-text paragraph, for reports. */
const char *fa_calib_rule_text(void);

/* Share of the sampled cross (within) distances <= t. */
double fa_calib_cross_share(const fa_calib *c, float t);
double fa_calib_within_share(const fa_calib *c, float t);

/* How badly same- and different-person distances overlap: the share of the
 * sampled cross-folder distances at or below the median within-folder one
 * (NaN without samples). Measured (bench/eval_encoders data): 3.7% for
 * dlib's encoder on kpop_idols, at most 0.13% for it on asian_celebs and for
 * mobilefacenet anywhere; at FA_CALIB_WEAK_OVERLAP or above, the encoder
 * rather than the folders is what limits the audit. */
#define FA_CALIB_WEAK_OVERLAP 0.01
double fa_calib_overlap(const fa_calib *c);

/* Evidence of a cross-folder pair of rows i, j at distance dist:
 * dist / max(spread_i, spread_j); smaller is stronger; < 1 is strong. */
float fa_calib_rel(const fa_calib *c, uint32_t i, uint32_t j, float dist);

/* Robust z of a row's distance to its folder centre within its folder
 * (0 when the folder has < 3 rows or no spread). */
float fa_calib_centre_z(const fa_calib *c, uint32_t row, uint32_t group);

/* Coordinate-wise median of rows[0..m) of x into out (d floats); a helper
 * also used to pick a multi-face image's face. scratch: m floats. */
void fa_coord_median(const float *x, int d, const uint32_t *rows, size_t m,
                     float *scratch, float *out);

/* Quantile q (type 7, linear) of sorted v[0..n); NaN when n == 0. */
float fa_quantile_sorted(const float *v, size_t n, double q);

/* Median of v[0..n) (the mean of the two middle values), in linear time
 * (Hoare's selection; v is permuted); NaN when n == 0. */
float fa_median_inplace(float *v, size_t n);
/* fa_quantile_sorted's value without sorting: v is permuted (quickselect). */
float fa_quantile_select(float *v, size_t n, double q);

#ifdef __cplusplus
}
#endif
#endif
