/*
 * report.h - the report writers (src/report): what `faceaudit audit` and
 * `faceaudit query` write. The audit and the search compute everything;
 * these functions only format.
 *
 * Audit: the summary on stdout, findings.csv (the review list), pairs.csv,
 * report.json, CACHE/findings.json (format: docs/findings-format.md)
 * and the self-contained report.html, organised by finding. The file writers
 * write atomically (temp, fsync, rename) and return 0, or -1 with
 * fa_last_error() naming the file; they never print.
 *
 * Query: an aligned table (default), CSV, JSON (stdout) and a self-contained
 * HTML page, one answer per photo.
 */
#ifndef FACEAUDIT_REPORT_H
#define FACEAUDIT_REPORT_H
#include <stdio.h>
#include "faceaudit/audit.h"
#include "faceaudit/cache.h"
#include "faceaudit/query.h"
#include "faceaudit/util.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Called from one thread while thumbnails are made (final: the last call). */
typedef void (*fa_report_progress_fn)(void *ud, size_t done, size_t total, int final);

typedef struct {
    const fa_cache *cache;
    const fa_audit *audit;
    const fa_audit_params *params;
    uint32_t *dup_order;        /* duplicate groups, ranked (see fa_report_rank_dups) */
    double seconds;             /* the audit's wall time */
    /* HTML */
    size_t html_limit;          /* rows per section with thumbnails */
    int thumb_size;             /* px */
    int threads;                /* thumbnail threads; 0: OpenMP's default */
    fa_report_progress_fn progress;
    void *progress_ud;
    size_t thumbs_made, thumbs_failed;   /* set by fa_report_html */
} fa_report;

/* Ranks the duplicate groups into o->dup_order (malloc'd; the caller frees):
 * groups spanning several folders first, then larger groups, then by path.
 * Returns 0 or -1 (out of memory). */
FA_API int fa_report_rank_dups(fa_report *o);

/* The plain-text summary: calibration, method, threshold, counts per finding
 * and the first `top` rows of each section. */
FA_API void fa_report_summary(FILE *f, const fa_report *o, size_t top);

/* pairs.csv: path1,path2,similarity,distance,kind,rel,... one row per match
 * in rank order; fields quoted as RFC 4180 says. */
FA_API int fa_report_pairs_csv(const fa_report *o, const char *path);

/* report.json: every finding, the calibration and the method. */
FA_API int fa_report_json(const fa_report *o, const char *path);

/* report.html: one file with embedded face thumbnails. */
FA_API int fa_report_html(fa_report *o, const char *path);

/* findings.csv: rank,id,kind,action,score,path,folder,other_path,other_folder,
 * then the evidence columns; one row per finding, in rank order. */
FA_API int fa_report_findings_csv(const fa_report *o, const char *path);

/* CACHE/findings.json (the findings contract, format 1). */
FA_API int fa_report_findings_json(const fa_report *o, const char *path);

/* ---- query ------------------------------------------------------------------ */

typedef enum { FA_QOUT_TABLE, FA_QOUT_CSV, FA_QOUT_JSON } fa_qformat;

/* One photo's answer: its faces and, when it has any, one search per face. */
typedef struct {
    const char *photo;              /* as given on the command line */
    int ok;                         /* faces found and searched */
    const char *error;              /* "PATH: reason" when !ok */
    const fa_query_faces *faces;
    const fa_search_result *res;    /* faces->n_faces */
} fa_qanswer;

typedef struct {
    FILE *out;
    fa_qformat format;
    const fa_cache *cache;
    const fa_search_params *sp;
    const char *folder;             /* --folder, or NULL */
    size_t folders_shown;           /* folder rows per face */
    size_t n_written;               /* answers written so far (JSON commas) */
    fa_buf *html;                   /* NULL unless --html */
    const char *threshold_source;   /* of sp->max_distance: "calibrated" (the last audit),
                                       "calibrated_earlier" (an audit before the last index),
                                       "encoder" (its fixed rule) or "option"; NULL: not said */
} fa_qreport;

FA_API void fa_qreport_begin(fa_qreport *o);
FA_API void fa_qreport_answer(fa_qreport *o, const fa_qanswer *a);
FA_API void fa_qreport_end(fa_qreport *o);

/* The HTML page around the accumulated body; returns 0 or -1 (printed). */
FA_API int fa_qreport_html_save(fa_qreport *o, const char *path);

#ifdef __cplusplus
}
#endif
#endif
