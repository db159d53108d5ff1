/*
 * cache_io.h - private to the cache: what cache.c (open, close, commit) calls
 * in the files of the format, one file each: cache_npy.c (the NPY arrays),
 * cache_meta.c (meta.json), cache_manifest.c (manifest.G.tsv). The parsers
 * over bytes in memory are in cache_parse.h (the fuzzers drive them too).
 */
#ifndef FA_CACHE_IO_H
#define FA_CACHE_IO_H
#include <stddef.h>
#include <stdint.h>
#include "faceaudit/cache.h"
#include "cache_parse.h"
#include "util.h"

#define META_MAX (1 << 20)   /* meta.json is read whole: a bigger one is not ours */

/* Appends an NPY v1.0 header for a C-order [n][cols] array of descr ('<f4'
 * float32, '|u1' bytes), padded to 64 bytes. */
void fa_npy_header(fa_buf *b, const char *descr, size_t n, int cols);

/* Parses the header of a C-order 2-D NPY of descr (what names its content
 * in messages). Returns the data offset or -1. */
long fa_npy_parse_as(const char *path, const uint8_t *p, size_t len, const char *descr, const char *what,
                     size_t *rows, unsigned long long *cols);

/* meta.json of generation gen into b (the names of its files, created: its date). */
void fa_cache_meta_write(fa_buf *b, const fa_cache_data *d, int64_t gen, const fa_gen_names *names,
                         const char *created);
/* Reads and parses meta.json (fa_cache_parse_meta). */
int fa_cache_meta_read(fa_cache *c, const char *path, fa_gen_names *names);

/* Streams the manifest of d to fd (path names it in messages). */
int fa_cache_manifest_write(int fd, const char *path, const fa_cache_data *d);
/* Reads and parses a manifest (fa_cache_parse_manifest). */
int fa_cache_manifest_read(fa_cache *c, const char *path);
#endif
