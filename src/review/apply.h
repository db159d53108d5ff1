/*
 * apply.h - the reviewer's decisions applied to a fresh audit's review list
 * (`faceaudit audit` reads CACHE/decisions.tsv and --decisions FILE):
 * rejected findings leave the review list and are listed apart, at its end;
 * accepted ones stay in it, whatever the cut-off says now. Findings are
 * matched by id, a hash of their files' content, so decisions survive
 * renames, moves and re-indexing.
 */
#ifndef FA_REVIEW_APPLY_H
#define FA_REVIEW_APPLY_H
#include <stddef.h>
#include "audit/review.h"
#include "faceaudit/review.h"

/* Reorders v[0..n) in place: findings not rejected first (order kept), then
 * the rejected ones with review = 0; accepted ones get review = 1.
 * *n_review is updated. */
void fa_review_apply_decisions(fa_finding *v, size_t n, size_t *n_review, const fa_decisions *d,
                               fa_decision_counts *out);
#endif
