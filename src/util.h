/*
 * util.h - small helpers shared by the modules: a growable byte buffer with a
 * sticky out-of-memory flag, whole-file reads, writes that never accept a
 * short count, and the write-temp/fsync/rename sequence that keeps a file
 * either old or new after a crash.
 */
#ifndef FA_UTIL_H
#define FA_UTIL_H
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef struct fa_buf {
    char *data;
    size_t len, cap;
    int oom;            /* sticky: set once an allocation failed */
} fa_buf;

void fa_buf_free(fa_buf *b);
void fa_buf_append(fa_buf *b, const void *p, size_t n);
void fa_buf_putc(fa_buf *b, char c);
void fa_buf_puts(fa_buf *b, const char *s);
void fa_buf_printf(fa_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* JSON string literal (quotes included); invalid UTF-8 bytes become \u00XX
 * of the byte so that the output is always valid JSON. */
void fa_buf_json_str(fa_buf *b, const char *s);

/* Reads a whole file (at most max bytes; larger is an error). Returns 0 or -1
 * with a message naming the file. *out is malloc'd and NUL-terminated. */
int fa_read_file(const char *path, size_t max, char **out, size_t *len);

/* write(2) until done; -1 with errno kept on failure. */
int fa_write_all(int fd, const void *p, size_t n);

/* Writes path atomically: path.tmp, fsync, rename, fsync of the directory.
 * On failure the old file is untouched and -1 is returned with a message. */
int fa_write_file_atomic(const char *path, const void *p, size_t n);
int fa_fsync_dir(const char *dir);
int fa_mkdir_p(const char *path);

/* malloc'd "a/b" */
char *fa_path_join(const char *a, const char *b);
/* malloc'd copy, NULL on NULL */
char *fa_strdup(const char *s);

/* Seconds since an arbitrary epoch, monotonic. */
double fa_now(void);

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
