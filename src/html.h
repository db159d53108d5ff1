/*
 * html.h - pieces for self-contained HTML reports (query, audit): text
 * escaping that survives any file-name bytes, base64, and face thumbnails
 * embedded as data: URIs so that a report is one file that still shows the
 * faces when sent elsewhere.
 */
#ifndef FA_HTML_H
#define FA_HTML_H
#include <stddef.h>
#include <stdint.h>
#include "faceaudit/faceaudit.h"
#include "util.h"

/* Appends s escaped for HTML text and attribute values (& < > " ').
 * Bytes that are not valid UTF-8 appear as \xHH, control characters as
 * U+FFFD, so that any file name gives well-formed HTML. */
void fa_html_escape(fa_buf *b, const char *s);

/* Appends the base64 (RFC 4648, padded) of p[0..n). */
void fa_base64(fa_buf *b, const void *p, size_t n);

/* Appends <img class="thumb" src="data:image/jpeg;base64,..." alt="ALT">
 * with a size x size JPEG of the square around box in the image at path
 * (box NULL: the centre). When the image cannot be read, appends a
 * placeholder <span class="nothumb"> with the reason instead and returns -1;
 * returns 0 otherwise. */
int fa_html_thumb(fa_buf *b, const char *path, const fa_box *box, int size, const char *alt);

/* The CSS the thumbnails and tables of faceaudit reports use. */
extern const char fa_html_css[];
#endif
