/*
 * review.h - the review list: findings a person can act on, one per decision,
 * ranked by one evidence score (see README "How findings are ranked").
 *
 * Kinds and the suggested action:
 *   misfiled       a photo of folder A whose face belongs to folder B (move)
 *   same_identity  folders A and B are one person (merge B into A)
 *   duplicate      a file that repeats another (identical bytes, or the same
 *                  photo re-encoded / resized / recropped) (keep one)
 *   mixed_folder   folder A holds two or more people (split)
 *   stray          a face unlike its folder and like no other folder (check)
 *
 * The score. Every face i has a local scale r_i: its mean distance to its
 * k = 10 nearest faces in other folders (the CSLS idea: in a crowded region of
 * the embedding everyone is near everyone, so nearness there means less).
 * A folder's scale R_A is the median of its faces' r_i (robust to the few
 * misfiled faces it may hold); a pair of folders uses R = max(R_A, R_B). A
 * score is the sum of two margins, in units of R:
 *   own margin       how much nearer the other side is than the face's own
 *                    folder-mates (misfiled: own median - median to B;
 *                    same_identity: median inside either - median across;
 *                    mixed_folder / stray: median to the rest - the folder's
 *                    usual median)
 *   stranger margin  how much nearer than the usual nearest strangers
 *                    (misfiled / same_identity: R - distance; mixed_folder /
 *                    stray, where the evidence is distance: distance - R)
 * Duplicates are facts, not statistics: score 3 for identical bytes, 2 to 3
 * for the same photo re-encoded (by distance).
 * Review cut-off: a finding is in the part a person is asked to review when its
 * score is > 0 and its stranger margin is > 0, and (misfiled / same_identity)
 * at least one of its pairs is within the calibrated threshold.
 */
#ifndef FA_AUDIT_REVIEW_H
#define FA_AUDIT_REVIEW_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    FA_FIND_MISFILED = 0,
    FA_FIND_SAME_IDENTITY,
    FA_FIND_DUPLICATE,
    FA_FIND_MIXED_FOLDER,
    FA_FIND_STRAY,
} fa_find_kind;

/* "misfiled", ...; and the action: "move", "merge", "keep_one", "split", "check". */
const char *fa_find_kind_name(fa_find_kind k);
const char *fa_find_action(fa_find_kind k);

#define FA_NONE UINT32_MAX
#define FA_KNN_K 10

typedef struct {
    fa_find_kind kind;
    char id[48];                /* kind-<16 hex>, stable (see FINDINGS_SCHEMA.md) */
    float score;                /* higher = surer */
    int review;                 /* above the review cut-off */
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
    float scale;                /* R */
    float own_margin, stranger_margin;   /* in units of R */
    float nearest;              /* nearest distance to the other folder */
    uint32_t matches;           /* other-folder faces within the threshold */
    uint32_t own_size, other_size;       /* audited faces per folder */
    uint32_t own_nearer;        /* misfiled: own folder-mates nearer than `dist` */
    int identical;              /* duplicate: identical bytes */
} fa_finding;

void fa_findings_free(fa_finding *v, size_t n);

#ifdef __cplusplus
}
#endif
#endif
