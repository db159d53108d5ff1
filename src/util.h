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

/* 1 if s is valid UTF-8. */
int fa_utf8_valid(const char *s, size_t n);

/* Environment variable or default. */
const char *fa_getenv_or(const char *name, const char *dflt);
#endif
