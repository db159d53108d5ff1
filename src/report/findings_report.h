/*
 * findings_report.h - private to src/report: the review list (review.h) as
 * findings.csv, as the JSON `findings` array (report.json, CACHE/findings.json),
 * as text lines and as HTML cards. audit_html.c owns the thumbnails; the
 * cards ask for them through the two callbacks.
 */
#ifndef FA_FINDINGS_REPORT_H
#define FA_FINDINGS_REPORT_H
#include <stdio.h>
#include "faceaudit/report.h"
#include "audit/findings.h"
#include "util.h"

/* Faces shown per folder strip on a card. */
#define FREP_STRIP 8

/* The one-line explanation of a finding ("A/x.jpg looks like B (...)"). */
void frep_summary(fa_buf *b, const fa_report *o, const fa_finding *f);

/* The `findings` array (no key), then the `info` object when with_info. */
void frep_json_array(fa_buf *b, const fa_report *o);

/* The first `top` findings as text lines. */
void frep_text(FILE *f, const fa_report *o, size_t top);

typedef void (*frep_want_fn)(void *ud, uint32_t file, uint32_t face);
typedef void (*frep_put_fn)(fa_buf *b, const void *ud, uint32_t file, uint32_t face);

/* Writers both report files use: `"key":number` (null when not finite),
 * and a buffer saved atomically to path (freed; an out-of-memory buffer is
 * an error naming the file). */
void frep_jnum(fa_buf *b, const char *key, double v);
int frep_save(fa_buf *b, const char *path);

/* The file -> audited face map (UINT32_MAX: none), malloc'd; NULL when out of memory. */
uint32_t *frep_file_faces(const fa_report *o);

/* Asks for every thumbnail the cards show (the first html_limit findings). */
void frep_html_wants(const fa_report *o, const uint32_t *file_face, frep_want_fn want, void *ud);

/* The findings section: one card per finding. */
void frep_html(fa_buf *b, const fa_report *o, const uint32_t *file_face, frep_put_fn put, const void *ud);
#endif
