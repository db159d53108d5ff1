/*
 * audit_decisions.c - what `faceaudit audit` does with the reviewer's
 * decisions (CACHE/decisions.tsv, and --decisions FILE on top): loads them,
 * applies them to the fresh review list (src/review/apply.c) and prints one
 * line saying what they changed.
 */
#include <errno.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "cli.h"
#include "audit/findings.h"
#include "review/apply.h"
#include "util.h"

int cli_audit_decisions(const char *cache_dir, const char *extra, fa_audit *a)
{
    if (extra && access(extra, R_OK)) {
        cli_error("--decisions %s: %s", extra, strerror(errno));
        return -1;
    }
    char *path = fa_path_join(cache_dir, "decisions.tsv");
    fa_decisions *d = path ? fa_decisions_load(path) : NULL;
    free(path);
    if (!d || (extra && fa_decisions_merge_file(d, extra))) {
        cli_error("%s", path ? fa_last_error() : "out of memory");
        fa_decisions_free(d);
        return -1;
    }
    fa_decision_counts n;
    fa_review_apply_decisions(a->findings, a->n_findings, &a->n_review, d, &n);
    if (n.accepted + n.rejected + n.skipped)
        printf("decisions: %zu accepted (kept in the review list), %zu rejected (listed apart, at its end), "
               "%zu skipped\n", n.accepted, n.rejected, n.skipped);
    fa_decisions_free(d);
    return 0;
}
