/*
 * index.h - building and updating the embedding cache from an image tree.
 *
 * fa_index_run walks ROOT, reuses what the cache already knows (same path,
 * size and mtime; or same content under a new name), and runs detection and
 * encoding on the rest with parallel workers. Finished files go to a journal
 * that is fsync'ed every few seconds; an interrupted run resumes from it. The
 * result is committed atomically (see cache.h). One writer per cache: a second
 * one gets an error naming the cache.
 */
#ifndef FACEAUDIT_INDEX_H
#define FACEAUDIT_INDEX_H

#include <signal.h>
#include "cache.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    size_t total;           /* files in the tree */
    size_t todo;            /* files that need work this run */
    size_t done;            /* of todo */
    size_t faces;           /* faces found so far (this run's work) */
    size_t failures;        /* unreadable / unsupported / too large */
    double elapsed;         /* seconds */
    double rate;            /* files per second */
    double eta;             /* seconds, <0 when unknown */
    int final;              /* last call */
} fa_index_progress;

/* A file of the committed cache that yielded no face because it could not
 * be used: unreadable, unsupported, too_large or no_identity. */
typedef struct {
    char *path;             /* relative to ROOT */
    fa_status status;
    char *reason;
} fa_index_failure;

typedef struct {
    size_t files;           /* in the committed cache */
    size_t faces;
    size_t encoded;         /* decoded and run through the networks */
    size_t reused;          /* unchanged (path, size, mtime) */
    size_t moved;           /* same content found under another name */
    size_t resumed;         /* taken from an interrupted run's journal */
    size_t refreshed;       /* unchanged, decoded again only for the whole image's thumbnail
                               (a cache made before image thumbnails) */
    size_t removed;         /* in the old cache, gone from the tree */
    size_t status[FA_STATUS_COUNT];
    double seconds;
    double t_read, t_decode, t_detect, t_encode;    /* summed over threads */
    double gflop;           /* arithmetic of the networks' forward passes (a multiply-add is 2) */
    fa_index_failure *failed;   /* after a commit: every file that could not be used, in
                                   tree order (so no one reopens the cache to list them) */
    size_t n_failed;
} fa_index_stats;

/* Frees what fa_index_run put in stats (the failure list); accepts a
 * zeroed or already freed struct. */
FA_API void fa_index_stats_free(fa_index_stats *stats);

typedef struct {
    const char *root;
    const char *cache_dir;
    const char *detector, *landmarks, *encoder;     /* model files */
    const fa_encoder_spec *encoder_spec;            /* NULL: dlib's ResNet (fa_models.spec) */
    int jobs;                       /* inference workers; 0 = all cores */
    int rebuild;                    /* ignore (and replace) the existing cache */
    fa_detect_params detect;
    double checkpoint_seconds;      /* journal fsync interval */
    size_t limit;                   /* index at most this many files (0: all) */
    uint32_t shard_k, shard_n;      /* only the files of shard K of N (shard.h); N = 0: all */
    volatile sig_atomic_t *cancel;  /* set to stop early (journal kept) */
    void (*progress)(void *ud, const fa_index_progress *p);
    void *progress_ud;
    const char *encoder2;           /* encoder_spec->fused: dlib's ResNet file (fa_models.encoder2) */
    int no_image_refresh;           /* unchanged files lacking an image thumbnail (a cache made
                                       before them) are not decoded again for it */
} fa_index_params;

/* Sensible defaults (detection policy from the shim, 2 s checkpoints). */
FA_API void fa_index_default_params(fa_index_params *p);

/* The detection policy for aligned crops (faces filling 89x109 to 160x160
 * frames): one pass at 144 px, smaller crops enlarged to it, a second look
 * at 288 px for the rare miss. Changes only the three pass sizes of d. */
FA_API void fa_detect_aligned_params(fa_detect_params *d);

/* Runs the index. Fills stats in either case; release it with
 * fa_index_stats_free. For the measured speed, the program calls
 * fa_tune_process(FA_TUNE_ALL) once beforehand (faceaudit index does): the
 * library does not change malloc or BLAS settings by itself.
 * Returns 0 when the cache was committed; -1 with a message otherwise (the
 * old cache is untouched, and finished work stays in the journal). */
FA_API int fa_index_run(const fa_index_params *p, fa_index_stats *stats);

#ifdef __cplusplus
}
#endif
#endif
