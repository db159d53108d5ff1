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
 * The score (README "How findings are ranked"). From the calibration: W and
 * X, the median within-folder and cross-folder distances (a typical pair of
 * one person, of two people), their midpoint M and gap G = X - W. Every face
 * i has a local scale r_i, its mean distance to its k = 10 nearest faces in
 * other folders (exact top-k join, knn.h); a folder's R_A is the median r_i of
 * its faces, Rmed the median over all faces. In a crowded region (tight crops,
 * look-alikes) strangers are nearer than usual, so, as CSLS does, the
 * boundaries move with the crowding: s = (R_A + R_B) / 2 - Rmed, M' = M + s,
 * X' = X + s. A score is the sum of two margins in units of G:
 *   misfiled       face i of A, folder B (>= 2 faces) among its nearest:
 *                  own (o_i - d_iB) / G and stranger (M' - d_iB) / G, where
 *                  o_i and d_iB are i's median distances to A's other faces
 *                  and to B's faces
 *   same_identity  folders A and B: own (X' - across - max(0, across -
 *                  inside)) / G and stranger (M' - across) / G (across /
 *                  inside: median distances across the folders / inside
 *                  either; W when both hold one photo: this is how one-photo
 *                  folders are judged); a positive sum times the root of
 *                  the smaller folder's size (folder-level evidence)
 *   mixed_folder   clusters of A's faces (average linkage cut at M'; the
 *   stray          largest is the folder's person): x = median distance of a
 *                  cluster to the own cluster (mixed when a cluster has >= 2
 *                  faces; faces each alone are strays, one finding each),
 *                  w = inside the own cluster: own (x - w) / G - 1/2 and
 *                  stranger (x - X') / G (stray) or (x - M') / G (mixed)
 *   duplicate      a fact, not a statistic: 3 for identical bytes, 2..3 for the
 *                  same photo (distance below --same-photo)
 * Review cut-off: the part of the list a person is asked to read. Evidence
 * of at least REVIEW_MIN = 1/2 gap (review_ctx.h), and: misfiled: d_iB < M', one
 * of B's faces within the calibrated threshold, and o_i > M' or a full gap
 * of evidence; same_identity: a pair within the threshold, and across < M'
 * with the unweighted margins >= 1/2, or (both folders of 2+ faces) across
 * <= merge_max_mix * inside; stray: x > X'; mixed: x > M'. Then, for the two
 * kinds that pick another folder, the decoy cut (fdr.h): each finding's
 * score with its runner-up folder is a decoy, and the review part keeps the
 * findings down to where the decoys estimate a false discovery rate of
 * review_fdr (0.2); a merge's runner-up as near across as inside to both
 * its folders is a third name of the person, no decoy, and is passed over.
 * A merge stays in review only when each folder finds the other first: it
 * has a face whose nearest face in another folder (copies aside) is in the
 * other. One person under two names does from every side; a look-alike pair
 * around a hub face is one-sided. A one-sided merge of folders as near
 * across as inside joins when they find each other with the names each is
 * joined to in review set aside (a third name). A misfiled face with less
 * than a full gap of evidence stays in review only when its nearest face in
 * another folder is in the folder it would move to. Duplicates: byte copies
 * and same-photo copies across folders; a group photo filed under each of
 * its people is not a mistake, and a same-photo copy inside one folder (not
 * identical bytes) is listed outside review (two photos of one pose look
 * alike too).
 * The list is ordered in parts: the review part's findings that mislabel
 * someone, then its copies inside one folder, then the rest; each by score.
 */
#ifndef FA_AUDIT_REVIEW_H
#define FA_AUDIT_REVIEW_H

#include <stddef.h>
#include <stdint.h>
#include "faceaudit/audit.h"

#ifdef __cplusplus
extern "C" {
#endif

/* fa_find_kind, fa_finding, FA_NONE and the kind names: faceaudit/audit.h. */

#define FA_KNN_K 10

void fa_findings_free(fa_finding *v, size_t n);

#ifdef __cplusplus
}
#endif
#endif
