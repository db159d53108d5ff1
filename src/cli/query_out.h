/*
 * query_out.h - the four renderings of `faceaudit query` answers: an aligned
 * table (default), CSV, JSON (stdout) and a self-contained HTML page.
 * cmd_query.c computes one answer per photo and hands it to the writer.
 */
#ifndef FA_QUERY_OUT_H
#define FA_QUERY_OUT_H
#include <stdio.h>
#include "faceaudit/query.h"
#include "util.h"

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
#endif
