/*
 * audit_out.h - the renderings of `faceaudit audit` findings: the summary on
 * stdout, pairs.csv, report.json and the self-contained report.html.
 *
 * fa_audit_run computes everything; these functions only format. The file
 * writers write atomically (temp, fsync, rename) and return 0, or -1 with
 * fa_last_error() naming the file; they never print.
 */
#ifndef FA_AUDIT_OUT_H
#define FA_AUDIT_OUT_H
#include <stdio.h>
#include "audit/findings.h"

/* Called from one thread while thumbnails are made (final: the last call). */
typedef void (*aout_progress_fn)(void *ud, size_t done, size_t total, int final);

typedef struct {
    const fa_cache *cache;
    const fa_audit *audit;
    const fa_audit_params *params;
    uint32_t *dup_order;        /* duplicate groups, ranked (see aout_rank_dups) */
    double seconds;             /* the audit's wall time */
    /* HTML */
    size_t html_limit;          /* rows per section with thumbnails */
    int thumb_size;             /* px */
    int threads;                /* thumbnail threads; 0: OpenMP's default */
    aout_progress_fn progress;
    void *progress_ud;
    size_t thumbs_made, thumbs_failed;   /* set by aout_html */
} aout;

/* Ranks the duplicate groups into o->dup_order (malloc'd; the caller frees):
 * groups spanning several folders first, then larger groups, then by path.
 * Returns 0 or -1 (out of memory). */
int aout_rank_dups(aout *o);

/* The plain-text summary: calibration, method, threshold, counts per finding
 * and the first `top` rows of each section. */
void aout_summary(FILE *f, const aout *o, size_t top);

/* pairs.csv: path1,path2,similarity,distance,kind,rel,... one row per match
 * in rank order; fields quoted as RFC 4180 says. */
int aout_pairs_csv(const aout *o, const char *path);

/* report.json: every finding, the calibration and the method. */
int aout_json(const aout *o, const char *path);

/* report.html: one file with embedded face thumbnails. */
int aout_html(aout *o, const char *path);
#endif
