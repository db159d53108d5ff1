/*
 * findfile.h - reads CACHE/findings.json, the latest audit's findings (format
 * 1, written by `faceaudit audit`; the contract is in the README section
 * "Review and fix"), for `review` and `fix`.
 *
 * Every path is checked to be relative to ROOT without '.', '..' or empty
 * components, so that nothing built from it can leave ROOT.
 */
#ifndef FA_REVIEW_FINDFILE_H
#define FA_REVIEW_FINDFILE_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *path, *folder;
    char sha256[65];
    int64_t size, mtime_ns;
    long face_row;              /* -1 when none */
} fa_rfile;

typedef struct {
    int own;
    char *looks_like;           /* "" when none */
    char **paths;
    size_t n_paths;
} fa_rcluster;

typedef struct {
    char *id, *kind, *action, *summary;
    int rank, review;
    double score;
    char *path, *folder, *other_path, *other_folder, *keep;   /* "" when absent */
    fa_rfile *files;
    size_t n_files;
    fa_rcluster *clusters;
    size_t n_clusters;
    char *evidence_json;        /* the evidence object as compact JSON ("{}") */
    char *sha256s;              /* the files' SHA-256s, sorted, comma-separated */
} fa_rfinding;

typedef struct {
    char *root, *cache, *created, *encoder;
    long generation;
    fa_rfinding *f;
    size_t n;
} fa_rfindings;

/* Loads and checks findings.json. NULL with a message naming the file and the
 * finding on any problem. */
fa_rfindings *fa_rfindings_load(const char *path);
void fa_rfindings_free(fa_rfindings *f);

/* The first finding with this id, or NULL. Ids may repeat (findings over the
 * same content, e.g. each copy of one file): a decision covers them all. */
const fa_rfinding *fa_rfindings_find(const fa_rfindings *f, const char *id);
/* The file entry for a path in a finding, or NULL. */
const fa_rfile *fa_rfinding_file(const fa_rfinding *f, const char *path);

/* 1 if p is a safe path relative to ROOT ("a/b.jpg": no leading '/', no '.',
 * '..' or empty components, no control characters). */
int fa_safe_relpath(const char *p);
/* 1 if s is a safe single folder name (a safe path without '/', not
 * starting with '.'). */
int fa_safe_name(const char *s);
#endif
