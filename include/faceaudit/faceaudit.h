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
 *   - The library changes no process-wide state on its own (malloc tuning,
 *     BLAS threads): a program opts in with fa_tune_process().
 *   - Everything callable is marked FA_API: the shared library exports those
 *     symbols and nothing else (it is built with hidden visibility).
 */
#ifndef FACEAUDIT_H
#define FACEAUDIT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Marks the functions the shared library exports. */
#ifndef FA_API
#  if defined(__GNUC__) || defined(__clang__)
#    define FA_API __attribute__((visibility("default")))
#  else
#    define FA_API
#  endif
#endif

#define FA_VERSION "0.1.0"
#define FA_DIM_MAX 1024

/* The last error recorded on this thread ("" when none). */
FA_API const char *fa_last_error(void);

/* Records an error message for this thread; always returns -1, so that
 * call sites can write `return fa_error("...: %s", path);`. */
FA_API int fa_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

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
FA_API const char *fa_status_name(fa_status s);
/* Parses a manifest spelling; returns -1 when unknown. */
FA_API int fa_status_parse(const char *name);

/* The library's version ("0.1.0"); equals FA_VERSION when the program was
 * built against the same headers it runs with. */
FA_API const char *fa_version(void);

/* Process-wide tuning for heavy index and query runs. It changes state that
 * belongs to the whole program, so the library never does it by itself:
 *   FA_TUNE_MALLOC  glibc malloc keeps one arena, serves dlib's large
 *                   per-layer scratch buffers from the heap and does not trim
 *                   them (measured: 6.5M page faults for 30 photos untuned,
 *                   1.1M tuned). Costs: freed memory is kept by the process.
 *   FA_TUNE_BLAS    one BLAS thread: fa_index_run parallelises over images
 *                   above BLAS, and N workers x N BLAS threads oversubscribe
 *                   the cores. Leave it out if your program needs BLAS to
 *                   use every core in other work.
 * Call it once, before any other faceaudit call and before starting threads.
 * Returns 1 when the BLAS that dlib runs on is OpenBLAS, 0 when it is another
 * (often the reference BLAS, about 15x slower for the encoder) or when
 * FA_TUNE_BLAS was not asked for. */
#define FA_TUNE_MALLOC 1u
#define FA_TUNE_BLAS 2u
#define FA_TUNE_ALL (FA_TUNE_MALLOC | FA_TUNE_BLAS)
FA_API int fa_tune_process(unsigned what);

/* Debian's OpenBLAS falls back to SSE3 kernels on CPUs it does not know (3-4x
 * slower for every network and the join); only OPENBLAS_CORETYPE, set before
 * the library loads, changes that. When the CPU has AVX-512 or AVX2 and
 * OpenBLAS picked a generic kernel, this sets it and re-executes
 * /proc/self/exe with argv, once. Returns only when nothing was needed or
 * the exec failed (the program then runs on, slower). For main(), before
 * any thread starts. */
FA_API void fa_blas_reexec_if_generic(char **argv);

/* Detection policy; recorded in the cache (cache.h), because it changes what is found. */
typedef struct {
    int detect_long_side;   /* first pass: long side scaled to at most this */
    int upsample_min_side;  /* images whose long side is below this are upscaled to it */
    int retry_long_side;    /* second look for images with no face (0: none) */
    int64_t max_pixels;     /* larger images get too_large */
    int chip_size;          /* 150 */
    float chip_padding;     /* 0.25 */
} fa_detect_params;

/* A detected face, in the original image's pixels. */
typedef struct {
    float x, y, w, h;
    float score;            /* detector confidence */
} fa_box;

/* A face's thumbnail: the inner face (dlib's alignment without padding),
 * grey, FA_THUMB_SIDE x FA_THUMB_SIDE bytes, each the mean of a 4x4 block of
 * a 64 px chip cut from the full-resolution pixels. Two files whose
 * thumbnails correlate almost perfectly show the same photo, whatever its
 * crop, size or encoding (the embeddings of two crops differ more). */
#define FA_THUMB_SIDE 16
#define FA_THUMB_LEN (FA_THUMB_SIDE * FA_THUMB_SIDE)

#ifdef __cplusplus
}
#endif
#endif
