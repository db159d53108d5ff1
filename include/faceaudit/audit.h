/*
 * audit.h - the audit of a cache: a ranked review list of filing mistakes.
 *
 * fa_audit_run calibrates a distance threshold on the cache's own folders,
 * finds every cross-folder face pair within it (exactly, or by an inverted
 * file), and turns the evidence into findings, one per decision a person can
 * take (README "How findings are ranked"):
 *
 *   misfiled       a photo of folder A whose face belongs to folder B (move)
 *   same_identity  folders A and B are one person (merge B into A)
 *   duplicate      a file that repeats another: identical bytes, or the same
 *                  photo re-encoded / resized / recropped (keep one)
 *   mixed_folder   folder A holds two or more people (split)
 *   stray          a face unlike its folder and like no other (check)
 *
 * Findings are ranked by one evidence score; the first n_review of them are
 * the part a person is asked to read (the rest are listed for completeness).
 * Each has an id derived from its files' SHA-256s and its kind, stable across
 * re-runs, renames and moves (docs/findings-format.md), which is what
 * decisions (review.h) refer to. The report writers (report.h) format an
 * audit; fa_audit_findings and fa_audit_get_summary read it.
 *
 * Indices in fa_finding (file, folder, ...) are rows of the fa_cache the audit
 * ran on (cache.h): the cache must outlive the audit's readers.
 */
#ifndef FACEAUDIT_AUDIT_H
#define FACEAUDIT_AUDIT_H
#include <stddef.h>
#include <stdint.h>
#include "faceaudit/cache.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fa_audit fa_audit;
typedef struct fa_pairvec fa_pairvec;   /* a search hook's output (internal) */

typedef enum { FA_SEARCH_EXACT = 0, FA_SEARCH_IVF_EXACT, FA_SEARCH_IVF_PROBE } fa_search_mode;

/* How the threshold is calibrated (README "Calibration"). */
typedef struct {
    size_t within_samples;   /* default 200000 */
    size_t cross_samples;    /* default 2000000 */
    uint64_t seed;           /* default 1 */
    double target_rate;      /* alpha; 0: faces / cross pairs */
    double within_cap_q;     /* cap quantile of the within distances; default 0.90 */
    size_t mates_max;        /* folder-mates measured per face for its spread; default 256 */
    float outlier_z;         /* robust z of the distance to the own folder's centre
                                that makes a face atypical; default 3.5 */
    int threads;             /* 0: omp_get_max_threads() */
} fa_calib_params;

typedef struct fa_audit_params {
    float max_distance;     /* > 0: explicit threshold; <= 0 (default -1): calibrated */
    float min_similarity;   /* in (-1, 1]: cosine rule; NAN (default): unused. Pairs
                               must have cos >= it; the join runs at the largest
                               distance such a pair can have given the norms. */
    float same_photo_dist;  /* default 0.12 (a JPEG re-encode of a small crop moves
                               the embedding by ~0.06; other photos of one person
                               are rarely nearer than 0.25) */
    fa_search_mode mode;    /* default exact */
    int nlist;              /* IVF lists; 0: sqrt(n) */
    int nprobe;             /* FA_SEARCH_IVF_PROBE */
    size_t recall_sample;   /* rows sampled for the recall of the probe mode; default 1000 */
    int threads;            /* 0: omp_get_max_threads() */
    size_t max_pairs;       /* 0: no limit (default 2,000,000) */
    uint32_t merge_min_pairs;   /* default 3 */
    float merge_max_mix;        /* default 1.05 */
    float merge_min_share;      /* also require this share of both folders; default 0 */
    float review_fdr;           /* the review cut of misfiled and same_identity findings:
                                   the false discovery rate estimated from runner-up
                                   folders; default 0.2 */
    fa_calib_params calib;
    /* Replaces the pair search (the MPI layer, mpi.h); NULL (default): in-process.
       Gets the audited rows and the threshold; returns 0 with the pairs in out
       sorted by (i, j), 1 to search in-process after all, 2 when this process
       only helped another one search (the audit then stops after the search:
       no findings here), -1 on failure. */
    int (*search_fn)(void *ud, const float *x, const uint32_t *grp, size_t n, int d,
                     float max_dist, int mode, fa_pairvec *out);
    void *search_ud;
} fa_audit_params;

FA_API fa_audit_params fa_audit_default_params(void);

/* Runs the whole audit of c. Returns NULL (fa_last_error) on bad parameters,
 * out of memory, or too many matches (max_pairs). Free with fa_audit_free. */
FA_API fa_audit *fa_audit_run(const fa_cache *c, const fa_audit_params *params);
FA_API void fa_audit_free(fa_audit *a);

typedef enum {
    FA_FIND_MISFILED = 0,
    FA_FIND_SAME_IDENTITY,
    FA_FIND_DUPLICATE,
    FA_FIND_MIXED_FOLDER,
    FA_FIND_STRAY,
} fa_find_kind;

/* "misfiled", "same_identity", "duplicate", "mixed_folder", "stray"; and the
 * action: "move", "merge", "keep_one", "split", "check". */
FA_API const char *fa_find_kind_name(fa_find_kind k);
FA_API const char *fa_find_action(fa_find_kind k);

#define FA_NONE UINT32_MAX

/* One finding. Arrays are owned by the audit. */
typedef struct {
    fa_find_kind kind;
    char id[48];                /* kind-<16 hex>, stable (docs/findings-format.md) */
    float score;                /* higher = surer */
    float decoy;                /* misfiled, same_identity: the score with the runner-up
                                   folder instead; -inf: none; else NaN */
    int review;                 /* in the part a person is asked to read */
    uint32_t file, folder;      /* the file (folder findings: an example file) */
    uint32_t other_file, other_folder;   /* FA_NONE when not applicable */
    uint32_t keep;              /* duplicate: the file to keep; else FA_NONE */
    uint32_t *files;            /* files the action touches; mixed_folder: by cluster */
    uint32_t n_files;
    uint32_t n_clusters;        /* mixed_folder: clusters, the folder's own first */
    uint32_t *cluster_end;      /* cluster c is files[cluster_end[c-1] .. cluster_end[c]) */
    uint32_t *cluster_like;     /* nearest other folder of each cluster (FA_NONE) */
    /* evidence (NaN when not applicable) */
    float dist;                 /* misfiled: median distance to B's faces; same_identity:
                                   median across; mixed/stray: median to the rest of A;
                                   duplicate: the pair's distance */
    float own;                  /* median distance among own folder-mates */
    float scale;                /* the unit the margins are measured in */
    float own_margin, stranger_margin;   /* in units of scale */
    float nearest;              /* nearest distance to the other folder */
    uint32_t matches;           /* other-folder faces within the threshold */
    uint32_t own_size, other_size;       /* audited faces per folder */
    uint32_t own_nearer;        /* misfiled: own folder-mates nearer than `dist` */
    int identical;              /* duplicate: identical bytes */
    float thumb_corr;           /* duplicate: correlation of the two faces' thumbnails
                                   (faceaudit.h; >= 0.98: one photo); NaN: not measured */
    float image_corr;           /* duplicate: correlation of the two files' whole images
                                   (cache.h's image thumbnails; >= 0.99 with thumb_corr
                                   >= 0.90: one image resized or re-encoded); NaN: not
                                   measured (none, or other aspect ratios) */
    uint32_t by_face;           /* same_identity brought into review by a misfiled face's
                                   evidence (README, "How findings are ranked"): that
                                   face's file; else FA_NONE */
    uint32_t folder_finds;      /* same_identity: faces of `folder` whose nearest face in
                                   another folder (copies aside) is in `other_folder`, */
    uint32_t other_finds;       /* and of `other_folder` in `folder`; in review only when
                                   both are positive (README, "A merge in review joins
                                   folders that find each other first"); else 0 */
    uint32_t folder_nearest;    /* same_identity: the folder most faces of `folder` find
                                   first that way (the nearer on a tie), and */
    uint32_t other_nearest;     /* of `other_folder`; else FA_NONE. misfiled: folder_nearest
                                   is the folder of the face's nearest face in another folder
                                   (copies aside; FA_NONE: none in its top-k list) */
    int set_aside;              /* same_identity: 1 when folder_finds and other_finds count
                                   the nearest faces outside the names each folder is already
                                   joined to by merges in review (one person under three or
                                   more names, README); else 0 */
} fa_finding;

/* The ranked list (owned by a, valid until fa_audit_free): *n findings, the
 * first *n_review of which are the review part. Decisions applied with
 * fa_audit_apply_decisions (review.h) reorder it. */
FA_API const fa_finding *fa_audit_findings(const fa_audit *a, size_t *n, size_t *n_review);

typedef struct {
    float threshold;                /* the distance the search used */
    const char *threshold_source;   /* "max-distance", "min-similarity", "calibrated" */
    size_t n_rows;                  /* audited faces: one per file with faces */
    size_t n_matches, n_strong;     /* cross-folder pairs within it; strong evidence */
    size_t n_merge_suggested;       /* folder pairs the merge rule suggests */
    size_t n_outliers, n_dup_groups, n_no_face, n_multi_face, n_errors;
    size_t n_findings, n_review;
    double seconds;                 /* search + calibration + review list */
    /* The encoder: the share of cross-folder distances at or below the
       median same-folder one (NaN without samples), and whether that share
       says the encoder, not the folders, limits this audit (then re-index
       with a better one, e.g. --encoder mobilefacenet). */
    double encoder_overlap;
    int encoder_weak;
} fa_audit_summary;

FA_API void fa_audit_get_summary(const fa_audit *a, fa_audit_summary *out);

#ifdef __cplusplus
}
#endif
#endif
