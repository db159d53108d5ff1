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
#include "faceaudit/cache.h"
#include "faceaudit/query.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fa_audit fa_audit;
typedef struct fa_audit_params fa_audit_params;
typedef struct fa_buf fa_buf;

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

/* findings.csv: rank,id,kind,action,score,path,folder,other_path,other_folder,
 * then the evidence columns; one row per finding, in rank order. */
int aout_findings_csv(const aout *o, const char *path);

/* CACHE/findings.json (the findings contract, format 1). */
int aout_findings_json(const aout *o, const char *path);

/* ---- query ------------------------------------------------------------------ */

typedef enum { QOUT_TABLE, QOUT_CSV, QOUT_JSON } qout_format;

/* One photo's answer: its faces and, when it has any, one search per face. */
typedef struct {
    const char *photo;              /* as given on the command line */
    int ok;                         /* faces found and searched */
    const char *error;              /* "PATH: reason" when !ok */
    const fa_query_faces *faces;
    const fa_search_result *res;    /* faces->n_faces */
} qout_answer;

typedef struct {
    FILE *out;
    qout_format format;
    const fa_cache *cache;
    const fa_search_params *sp;
    const char *folder;             /* --folder, or NULL */
    size_t folders_shown;           /* folder rows per face */
    size_t n_written;               /* answers written so far (JSON commas) */
    fa_buf *html;                   /* NULL unless --html */
} qout;

void qout_begin(qout *o);
void qout_answer_write(qout *o, const qout_answer *a);
void qout_end(qout *o);

/* The HTML page around the accumulated body; returns 0 or -1 (printed). */
int qout_html_save(qout *o, const char *path);

#ifdef __cplusplus
}
#endif
#endif
