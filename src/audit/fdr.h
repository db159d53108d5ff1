/*
 * fdr.h - the review cut-off of the findings that pick another folder
 * (misfiled, same_identity), from decoys, as target-decoy searches do.
 *
 * A face or folder compared with every other folder finds a nearest one even
 * when it is filed right; the more folders, the nearer that best stranger is
 * by chance (2,000 one-photo folders of look-alikes). The runner-up folder is
 * such a chance match by construction, so the scores of runner-ups (decoys)
 * estimate how many chance matches reach a score t: the false discovery rate
 * of the findings scoring t or more is FDR(t) = #decoys >= t / #findings >= t.
 * The cut is the lowest finding score whose q-value (the smallest FDR of any
 * cut at or below it, so the cut is monotone) is at most q.
 */
#ifndef FA_AUDIT_FDR_H
#define FA_AUDIT_FDR_H

#include <stddef.h>

/* target[k]: the scores of n findings; decoy[k]: the score each would have
 * got with its runner-up folder (NaN or -INFINITY: none). Returns the lowest
 * score in the review part, +INFINITY when no cut reaches q, or NaN when out
 * of memory. */
float fa_fdr_cut(const float *target, const float *decoy, size_t n, float q);

#endif
