/*
 * apply.c - decisions applied to the audit's review list (see apply.h), and
 * fa_audit_apply_decisions (faceaudit/review.h), which reads them first.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "apply.h"
#include "audit/findings.h"
#include "util.h"

/* Rank class: 0 in review (accepted included), 1 below the cut-off, 2 rejected. */
static int class_of(const fa_finding *f, fa_decision dec)
{
    return dec == FA_DEC_REJECT ? 2 : f->review ? 0 : 1;
}

void fa_review_apply_decisions(fa_finding *v, size_t n, size_t *n_review, const fa_decisions *d,
                               fa_decision_counts *out)
{
    memset(out, 0, sizeof *out);
    int *cls = n ? malloc(n * sizeof *cls) : NULL;
    fa_finding *tmp = n ? malloc(n * sizeof *tmp) : NULL;
    for (size_t i = 0; i < n; i++) {
        fa_decision dec = fa_decisions_get(d, v[i].id, NULL);
        out->accepted += dec == FA_DEC_ACCEPT;
        out->rejected += dec == FA_DEC_REJECT;
        out->skipped += dec == FA_DEC_SKIP;
        if (dec == FA_DEC_ACCEPT) v[i].review = 1;
        if (dec == FA_DEC_REJECT) v[i].review = 0;
        if (cls) cls[i] = class_of(&v[i], dec);
    }
    if (cls && tmp) {   /* stable: the order within each class is the audit's */
        size_t k = 0;
        for (int c = 0; c < 3; c++)
            for (size_t i = 0; i < n; i++)
                if (cls[i] == c) tmp[k++] = v[i];
        memcpy(v, tmp, n * sizeof *v);
    }
    free(cls), free(tmp);
    *n_review = 0;
    for (size_t i = 0; i < n; i++) *n_review += v[i].review != 0;
}

int fa_audit_apply_decisions(fa_audit *a, const char *cache_dir, const char *extra,
                             fa_decision_counts *out)
{
    if (extra && access(extra, R_OK)) return fa_error("%s: %s", extra, strerror(errno));
    char *path = fa_path_join(cache_dir, "decisions.tsv");
    if (!path) return fa_error("out of memory");
    fa_decisions *d = fa_decisions_load(path);
    free(path);
    if (!d || (extra && fa_decisions_merge_file(d, extra))) {
        fa_decisions_free(d);
        return -1;
    }
    fa_decision_counts n;
    fa_review_apply_decisions(a->findings, a->n_findings, &a->n_review, d, &n);
    if (out) *out = n;
    fa_decisions_free(d);
    return 0;
}
