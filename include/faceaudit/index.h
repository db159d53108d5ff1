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

typedef struct {
    size_t files;           /* in the committed cache */
    size_t faces;
    size_t encoded;         /* decoded and run through the networks */
    size_t reused;          /* unchanged (path, size, mtime) */
    size_t moved;           /* same content found under another name */
    size_t resumed;         /* taken from an interrupted run's journal */
    size_t removed;         /* in the old cache, gone from the tree */
    size_t status[FA_STATUS_COUNT];
    double seconds;
    double t_read, t_decode, t_detect, t_encode;    /* summed over threads */
} fa_index_stats;

typedef struct {
    const char *root;
    const char *cache_dir;
    const char *detector, *landmarks, *encoder;     /* model files */
    int jobs;                       /* inference workers; 0 = all cores */
    int rebuild;                    /* ignore (and replace) the existing cache */
    fa_detect_params detect;
    double checkpoint_seconds;      /* journal fsync interval */
    size_t limit;                   /* index at most this many files (0: all) */
    uint32_t shard_k, shard_n;      /* only the files of shard K of N (shard.h); N = 0: all */
    volatile sig_atomic_t *cancel;  /* set to stop early (journal kept) */
    void (*progress)(void *ud, const fa_index_progress *p);
    void *progress_ud;
} fa_index_params;

/* Sensible defaults (detection policy from the shim, 2 s checkpoints). */
void fa_index_default_params(fa_index_params *p);

/* Returns 0 when the cache was committed; -1 with a message otherwise (the
 * old cache is untouched, and finished work stays in the journal). */
int fa_index_run(const fa_index_params *p, fa_index_stats *stats);

/* SHA-256 of a model file, cached next to it in NAME.sha256 (keyed by size
 * and mtime) so that repeated runs do not re-hash 100 MB. */
int fa_model_sha256(const char *path, char hex[65]);

#ifdef __cplusplus
}
#endif
#endif
