/*
 * faceaudit.h - the public C API of faceaudit.
 *
 * faceaudit turns a tree of identity folders (ROOT/<person>/<photo>) into a
 * cache of 128-d face embeddings (faceaudit index), then searches that cache
 * for filing mistakes (audit) or for one photo's look-alikes (query).
 *
 * Conventions, the same in every module:
 *   - Functions that can fail return 0 (or a pointer / count) on success and
 *     -1 (or NULL) on failure, with a message for the caller in
 *     fa_last_error(). The library never prints and never exits; only the
 *     command-line tool decides what the user sees.
 *   - Every object made by fa_X_open/new is released by its fa_X_free/close,
 *     which accepts NULL.
 *   - Thread safety: an object may be used by one thread at a time. The error
 *     buffer is per thread.
 */
#ifndef FACEAUDIT_H
#define FACEAUDIT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FA_VERSION "0.1.0"
#define FA_DIM_MAX 1024

/* The last error recorded on this thread ("" when none). */
const char *fa_last_error(void);

/* Records an error message for this thread; always returns -1, so that
 * call sites can write `return fa_error("...: %s", path);`. */
int fa_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* What happened to one image file. */
typedef enum {
    FA_STATUS_OK = 0,       /* one or more faces, each with an embedding */
    FA_STATUS_NO_FACE,      /* decoded, no face found */
    FA_STATUS_UNREADABLE,   /* could not be read or decoded (reason says why) */
    FA_STATUS_UNSUPPORTED,  /* a format faceaudit does not index (gif, ...) */
    FA_STATUS_TOO_LARGE,    /* declared pixel count above the limit */
    FA_STATUS_NO_IDENTITY,  /* file directly in ROOT, not in an identity folder */
    FA_STATUS_COUNT
} fa_status;

/* "ok", "no_face", "unreadable", ... (the manifest's spelling). */
const char *fa_status_name(fa_status s);
/* Parses a manifest spelling; returns -1 when unknown. */
int fa_status_parse(const char *name);

/* A detected face, in the original image's pixels. */
typedef struct {
    float x, y, w, h;
    float score;            /* detector confidence */
} fa_box;

#ifdef __cplusplus
}
#endif
#endif
