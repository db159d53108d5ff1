/*
 * cache_check.h - the invariants of an opened cache (cache.h), checked by
 * the fuzz harnesses on whatever the reader accepts: every consumer (audit,
 * index, query) indexes arrays by these fields without checking them again.
 */
#ifndef FA_CACHE_CHECK_H
#define FA_CACHE_CHECK_H
#include <string.h>
#include "faceaudit/cache.h"
#include "fuzz.h"

static int cache_check_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void cache_check(const fa_cache *c)
{
    size_t faces = 0;
    for (size_t i = 1; i < c->n_folders; i++)
        ORACLE(strcmp(c->folders[i - 1], c->folders[i]) < 0, "folders not sorted and unique");
    for (size_t i = 0; i < c->n_files; i++) {
        const fa_file *f = &c->files[i];
        ORACLE(f->folder < c->n_folders, "file %zu: folder %u of %zu", i, f->folder, c->n_folders);
        ORACLE((unsigned)f->status < FA_STATUS_COUNT, "file %zu: status", i);
        ORACLE((f->status == FA_STATUS_OK) == (f->n_faces > 0), "file %zu: status and faces", i);
        ORACLE(f->path && f->reason, "file %zu: strings", i);
        if (!f->n_faces) { ORACLE(f->first_face == -1, "file %zu: first_face without faces", i); continue; }
        ORACLE(f->first_face == (int64_t)faces, "file %zu: first face %lld, expected %zu", i,
               (long long)f->first_face, faces);
        ORACLE(f->first_face + f->n_faces <= (int64_t)c->n_faces, "file %zu: faces beyond the array", i);
        for (uint32_t k = 0; k < f->n_faces; k++) {
            const fa_face *fc = &c->faces[f->first_face + k];
            ORACLE(fc->file == i && fc->face == k, "face row %lld: file %u face %u, expected %zu %u",
                   (long long)f->first_face + k, fc->file, fc->face, i, k);
        }
        faces += f->n_faces;
    }
    ORACLE(faces == c->n_faces, "%zu faces in files, %zu rows", faces, c->n_faces);
    const char **paths = malloc((c->n_files ? c->n_files : 1) * sizeof *paths);
    ORACLE(paths != NULL, "out of memory");
    for (size_t i = 0; i < c->n_files; i++) paths[i] = c->files[i].path;
    qsort(paths, c->n_files, sizeof *paths, cache_check_cmp);
    for (size_t i = 1; i < c->n_files; i++) ORACLE(strcmp(paths[i - 1], paths[i]) != 0, "path %s twice", paths[i]);
    free(paths);
}
#endif
