/*
 * findings.h - the audit of a cache: what `faceaudit audit` reports.
 *
 * fa_audit_run takes the cache and produces plain arrays of plain structs
 * (indices into the cache's files / faces / folders, numbers, enums), so that
 * the report writers (text, CSV, JSON, HTML) only format:
 *
 *   matches   cross-folder face pairs within the threshold, labelled
 *             identical_file (same SHA-256), same_photo (distance <
 *             same_photo_dist) or same_person, and marked strong when they
 *             are evidence of a filing mistake rather than a look-alike: not
 *             same_person, or one face nearer the other folder's robust centre
 *             than its own (centre_ratio < 1), or the folders' merge is
 *             suggested. Ranked strong first, then by rel (see calib.h).
 *   merges    folder pairs with matches: count, share of each folder's faces
 *             involved, median / minimum distance, robust-centre distance,
 *             the mix ratio (median distance over all pairs across the two
 *             folders / median distance over pairs inside either; sampled),
 *             and whether the rule suggests merging them: at least
 *             merge_min_pairs matches involving >= 2 faces of each folder, and
 *             mix <= merge_max_mix: faces of the two folders are as close to
 *             each other as to their own folder-mates, so the two folders
 *             describe one face. (Robust centres alone do not tell: in a
 *             crowded embedding, e.g. tight crops of similar-looking people,
 *             every folder's centre sits near every other's.)
 *   outliers  the calibration's atypical faces (see calib.h): nearer another
 *             folder's robust centre than their own, or far from their own
 *             (robust z >= calib.outlier_z), with the nearest other folder.
 *             Ranked: the nearer_other ones first, by best_dist / centre_dist
 *             (how much nearer the other folder is), then the rest by z
 *   dups      files with identical bytes (any status, faceless included)
 *   no_face, multi_face, errors   file lists
 *
 * One face per image: a file with several faces is represented by the face
 * nearest its folder's coordinate-wise median centre (computed from the
 * folder's single-face files when it has any), listed in multi_face.
 *
 * The threshold: --max-distance when given; otherwise, with --min-similarity,
 * the cosine rule (see fa_audit_params); otherwise the calibrated one.
 */
#ifndef FA_AUDIT_FINDINGS_H
#define FA_AUDIT_FINDINGS_H

#include "faceaudit/audit.h"
#include "faceaudit/cache.h"
#include "calib.h"
#include "join.h"
#include "knn.h"
#include "review.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    FA_MATCH_IDENTICAL_FILE = 0,
    FA_MATCH_SAME_PHOTO,
    FA_MATCH_SAME_PERSON,
} fa_match_kind;

/* "identical_file", "same_photo", "same_person". */
const char *fa_match_kind_name(fa_match_kind k);

/* fa_search_mode, fa_audit_params: faceaudit/audit.h. */

/* A cross-folder pair of faces. a is the face whose file path sorts first. */
typedef struct {
    uint32_t face_a, face_b;        /* rows of fa_cache.faces / emb */
    uint32_t file_a, file_b;
    uint32_t folder_a, folder_b;
    float dist, cos;
    float rel;                      /* dist / max(spread_a, spread_b); < 1 strong */
    float spread_a, spread_b;       /* median distance to own folder-mates (NaN: alone) */
    float centre_ratio;             /* min over the two faces of distance to the other
                                       folder's robust centre / to its own (NaN: unknown) */
    int strong;                     /* evidence of a filing mistake (see above) */
    fa_match_kind kind;
} fa_match;

typedef struct {
    uint32_t folder_a, folder_b;    /* folder_a < folder_b */
    uint32_t pairs;                 /* matches between them */
    uint32_t faces_a, faces_b;      /* distinct faces of each involved */
    uint32_t size_a, size_b;        /* audited faces per folder */
    float share_a, share_b;         /* faces_x / size_x */
    float median_dist, min_dist;
    float centre_dist;              /* between robust centres */
    float mix;                      /* the mix ratio above */
    float across, inside;           /* its numerator and denominator (inside: NaN
                                       when both folders hold one face) */
    int suggest;                    /* the merge rule above */
} fa_merge;

typedef struct {
    uint32_t face, file, folder;
    float centre_dist;              /* to own folder's robust centre */
    float z;                        /* robust z of that within the folder */
    float spread;                   /* median distance to folder-mates */
    uint32_t best_folder;           /* nearest other folder centre; UINT32_MAX: none */
    float best_dist;
    int nearer_other;               /* best_dist < centre_dist */
    int matches_best;               /* nearer_other and best_dist <= threshold: the
                                       face looks filed in the wrong folder */
} fa_outlier;

typedef struct {
    uint32_t first, count;          /* files dup_files[first .. first+count) */
    int cross_folder;               /* the copies span several folders */
} fa_dup_group;

typedef struct {
    uint32_t file;
    uint32_t n_faces;
    uint32_t chosen_face;           /* the face used for the audit */
} fa_multi_face;

struct fa_audit {
    /* the threshold and how it was chosen */
    float threshold;                /* distance used for the join */
    const char *threshold_source;   /* "max-distance", "min-similarity", "calibrated" */
    float min_similarity;           /* NAN when unused */
    float unit_norm_distance;       /* sqrt(2 - 2 s) for min_similarity s, else NAN */
    float norm_min, norm_max;       /* embedding norms of the audited faces */
    fa_calib *calib;                /* owned; per audited row statistics */
    /* the audited rows: one face per file with faces */
    size_t n_rows;
    uint32_t *row_face;             /* audited row -> face */
    /* search */
    fa_search_mode mode;
    double search_seconds, calib_seconds;   /* the exact search includes the review's top-k lists */
    size_t nlist;
    double recall;                  /* probe mode: recall on the sample; else -1 */
    size_t recall_truth, recall_found;
    size_t list_pairs_pruned, list_pairs_total;
    /* findings */
    fa_match *matches;       size_t n_matches;
    double flagged_share;           /* n_matches / cross-folder pairs (all faces; the
                                       calibration's cross_share counts typical ones) */
    size_t n_identical_file, n_same_photo, n_same_person;
    size_t n_strong;                /* matches marked strong */
    fa_merge *merges;        size_t n_merges, n_merge_suggested;
    fa_outlier *outliers;    size_t n_outliers;
    fa_dup_group *dups;      size_t n_dups;
    uint32_t *dup_files;     size_t n_dup_files;
    uint32_t *no_face;       size_t n_no_face;
    fa_multi_face *multi;    size_t n_multi;
    uint32_t *errors;        size_t n_errors;  /* status other than ok / no_face */
    /* the review list (review.h), ranked by score; n_review of them are in review */
    fa_finding *findings;    size_t n_findings, n_review;
    float review_cut_misfiled, review_cut_merge;   /* their lowest score in review (fdr.h) */
    float *row_scale;               /* per audited row: r_i (see review.h) */
    double review_seconds;
};


/* Builds a->findings (review.h) from the audit's rows x (n_rows x dim), their
 * folders and files; called by fa_audit_run. kn: the rows' FA_KNN_K nearest
 * faces in other folders when the search made them in its pass (borrowed),
 * NULL to compute them here. Returns 0 or -1 (out of memory). */
int fa_review_build(fa_audit *a, const fa_cache *c, const float *x, const uint32_t *grp,
                    const uint32_t *row_file, const fa_audit_params *p, const fa_knn *kn);

#ifdef __cplusplus
}
#endif
#endif
