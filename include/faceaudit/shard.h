/*
 * shard.h - indexing one tree on many machines: shards and their merge.
 *
 * `faceaudit index ROOT --shard K/N` indexes only the files whose shard is K:
 * the shard of a file is a hash of its path relative to ROOT (SHA-256 of the
 * path's bytes, first 8 bytes big-endian, modulo N, plus 1). It depends on
 * nothing but the path, so a file keeps its shard as the tree grows and a
 * re-run of a shard stays incremental. Such a cache records "shard K/N".
 *
 * fa_cache_merge joins the N shard caches of one tree into the cache a single
 * `index` would have written: the same files in the same (path) order, the
 * same manifest rows and embeddings, byte for byte; only meta.json's commit
 * time differs. It refuses caches that disagree on models, dimension,
 * detection parameters or ROOT, and an incomplete or repeated set of shards.
 */
#ifndef FACEAUDIT_SHARD_H
#define FACEAUDIT_SHARD_H

#include "cache.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FA_SHARDS_MAX 1000000u

/* The shard (1..n) of a path relative to ROOT; n >= 1. */
FA_API uint32_t fa_shard_of(const char *relpath, uint32_t n);

/* Parses "K/N" (1 <= K <= N <= FA_SHARDS_MAX). Returns 0, or -1 with a message. */
FA_API int fa_shard_parse(const char *text, uint32_t *k, uint32_t *n);

typedef struct {
    size_t files, faces, folders;   /* in the merged cache */
    uint32_t shards;
} fa_merge_stats;

/* Merges the shard caches dirs[0..n) into out_dir, which must not hold a
 * cache yet. Returns 0, or -1 with a message naming the cache at fault (the
 * output is then not committed). `st` may be NULL. */
FA_API int fa_cache_merge(const char *const *dirs, size_t n, const char *out_dir, fa_merge_stats *st);

#ifdef __cplusplus
}
#endif
#endif
