/*
 * memcache.h - the files of the audit tests' in-memory caches: one face
 * each, read fine, a made-up SHA-256 unique per file (tag, then its number).
 */
#ifndef FA_TEST_MEMCACHE_H
#define FA_TEST_MEMCACHE_H
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "faceaudit/cache.h"

/* File n (face n, its only face) at path (copied) in folder. */
static inline void mem_file(fa_file *f, fa_face *fc, size_t n, const char *path, uint32_t folder, uint8_t tag)
{
    memset(f, 0, sizeof *f);
    f->path = strdup(path);
    f->folder = folder;
    f->status = FA_STATUS_OK;
    f->reason = (char *)"";
    f->has_sha256 = 1;
    f->sha256[0] = tag; f->sha256[1] = (uint8_t)(n >> 8); f->sha256[2] = (uint8_t)n;
    f->n_faces = 1;
    f->first_face = (int64_t)n;
    memset(fc, 0, sizeof *fc);
    fc->file = (uint32_t)n;
}
#endif
