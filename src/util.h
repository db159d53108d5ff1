/*
 * util.h - small helpers shared by the modules. The ones a program may use
 * too are public (include/faceaudit/util.h); here are the internal rest:
 * JSON and CSV escaping, writes that never accept a short count, UTF-8.
 */
#ifndef FA_UTIL_H
#define FA_UTIL_H
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "faceaudit/util.h"   /* the public half: fa_buf, files, paths, fa_now */

/* JSON string literal (quotes included); invalid UTF-8 bytes become \u00XX
 * of the byte so that the output is always valid JSON. */
void fa_buf_json_str(fa_buf *b, const char *s);

/* write(2) until done; -1 with errno kept on failure. */
int fa_write_all(int fd, const void *p, size_t n);

int fa_fsync_dir(const char *dir);

/* fflush, fsync and fclose of a file being written; 0, or -1 with errno
 * from the first step that failed (the file is closed either way). */
int fa_fclose_synced(FILE *f);

/* Writes path by way of path.part, for content that is streamed rather
 * than held in memory: fill writes it to f and returns 0, or -1 with *why
 * set; the file is then synced and renamed over path. Returns 0; -2 when
 * path.part cannot be created (errno says why); -1 when fill, the sync or
 * the rename failed (*why says why). On failure path.part is removed and
 * path is untouched. */
int fa_write_stream_atomic(const char *path, int (*fill)(FILE *f, void *ud, const char **why), void *ud,
                           const char **why);

/* UTF-8, by libunistring: the one place faceaudit decodes it. */
/* 1 if s is valid UTF-8. */
int fa_utf8_valid(const char *s, size_t n);
/* Length (1..4) of the valid UTF-8 character at s, reading at most n bytes
 * (a NUL ends a character early, so n = 4 is safe on a C string), with its
 * code point in *cp when cp is not NULL; 0 when the bytes at s are not one. */
size_t fa_utf8_next(const char *s, size_t n, uint32_t *cp);
/* Terminal columns of a UTF-8 string (East Asian wide characters take 2;
 * an invalid byte counts 1). */
int fa_utf8_width(const char *s);

/* One CSV field (RFC 4180): quoted when it holds a comma, quote, CR, LF or
 * a space at either end; quotes doubled. */
void fa_buf_csv_field(fa_buf *b, const char *s);

/* Environment variable or default. */
const char *fa_getenv_or(const char *name, const char *dflt);
#endif
