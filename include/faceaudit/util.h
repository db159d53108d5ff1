/*
 * util.h - the library's file and text helpers that a program may use too
 * (the faceaudit tool does): a growable byte buffer with a sticky
 * out-of-memory flag, whole-file reads, the write-temp/fsync/rename sequence
 * that keeps a file either old or new after a crash, and paths.
 */
#ifndef FACEAUDIT_UTIL_H
#define FACEAUDIT_UTIL_H
#include <stddef.h>
#include "faceaudit/faceaudit.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Zero-initialise; release with fa_buf_free. After an allocation failure the
 * appends do nothing and oom stays set: check it once at the end. */
typedef struct fa_buf {
    char *data;         /* NUL-terminated when len > 0 */
    size_t len, cap;
    int oom;            /* sticky: set once an allocation failed */
} fa_buf;

FA_API void fa_buf_free(fa_buf *b);
FA_API void fa_buf_append(fa_buf *b, const void *p, size_t n);
FA_API void fa_buf_putc(fa_buf *b, char c);
FA_API void fa_buf_puts(fa_buf *b, const char *s);
FA_API void fa_buf_printf(fa_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Reads a whole file (at most max bytes; larger is an error). Returns 0 or -1
 * with a message naming the file. *out is malloc'd and NUL-terminated. */
FA_API int fa_read_file(const char *path, size_t max, char **out, size_t *len);

/* Writes path atomically: path.tmp, fsync, rename, fsync of the directory.
 * On failure the old file is untouched and -1 is returned with a message. */
FA_API int fa_write_file_atomic(const char *path, const void *p, size_t n);
/* mkdir -p; 0 or -1 with a message. */
FA_API int fa_mkdir_p(const char *path);

/* malloc'd "a/b"; NULL when out of memory. */
FA_API char *fa_path_join(const char *a, const char *b);
/* malloc'd copy; NULL on NULL or out of memory. */
FA_API char *fa_strdup(const char *s);

/* Seconds since an arbitrary epoch, monotonic. */
FA_API double fa_now(void);

#ifdef __cplusplus
}
#endif
#endif
