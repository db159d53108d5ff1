/*
 * cache.h - the embedding cache: what `faceaudit index` writes and every
 * other command reads.
 *
 * A cache is a directory:
 *
 *   CACHE/meta.json        commit point: format, models, parameters, counts,
 *                          and the names of the current generation's files
 *   CACHE/embeddings.G.npy float32 [n_faces][dim], C order, NPY v1.0
 *   CACHE/manifest.G.tsv   one row per face, then one per file without one
 *   CACHE/facethumbs.G.npy uint8 [n_faces][FA_THUMB_LEN]: each face's thumbnail
 *                          (faceaudit.h; all zero: none); optional
 *   CACHE/imagethumbs.G.npy uint8 [n_files][FA_THUMB_LEN]: each file's whole
 *                          image, grey, FA_THUMB_SIDE^2 cell means (all zero:
 *                          none, e.g. not decoded); optional
 *   CACHE/embeddings.npy   symlink to the current generation (for numpy)
 *   CACHE/manifest.tsv     symlink to the current generation (and
 *                          facethumbs.npy, imagethumbs.npy when present)
 *   CACHE/journal          work finished since the last commit (index only)
 *   CACHE/lock             flock()ed by the one writer
 *
 * A commit writes the generation G+1 files, fsyncs them, then renames a new
 * meta.json into place: a reader sees the old or the new state, never a mix.
 *
 * manifest.G.tsv (UTF-8, tab-separated, first line is the header):
 *   row      embedding row (0..n_faces-1), -1 for a file without a face
 *   folder   identity: the first path component under ROOT ("" if none)
 *   path     path relative to ROOT
 *   face     face number inside the file (0..), -1 without a face
 *   nfaces   faces found in the file
 *   status   ok | no_face | unreadable | unsupported | too_large | no_identity
 *   x y w h  face box in original pixels (0 without a face)
 *   score    detector confidence
 *   width height   image size in pixels (0 when not decoded)
 *   size     file size in bytes
 *   mtime_ns modification time, ns since the epoch
 *   sha256   hex SHA-256 of the file's bytes ("" when it could not be read)
 *   reason   free text for a status other than ok
 * Text fields escape backslash, tab, newline and CR as \\ \t \n \r, and bytes
 * that are not valid UTF-8 as \xHH, so every row is one line.
 * Rows follow the files in order; the rows of one file are consecutive, so face
 * rows come in embedding-row order.
 */
#ifndef FACEAUDIT_CACHE_H
#define FACEAUDIT_CACHE_H

#include "encoder.h"
#include "faceaudit.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FA_CACHE_FORMAT 1

/* One image file as the cache knows it. */
typedef struct {
    char *path;             /* relative to root, raw bytes, NUL-terminated */
    uint32_t folder;        /* index into fa_cache.folders */
    fa_status status;
    char *reason;           /* "" for ok */
    int64_t size;
    int64_t mtime_ns;
    uint8_t sha256[32];
    int has_sha256;
    int width, height;
    uint32_t n_faces;
    int64_t first_face;     /* index of its first face in faces[], -1 if none */
} fa_file;

/* One face: faces[i] is embedding row i. */
typedef struct {
    uint32_t file;          /* index into fa_cache.files */
    uint32_t face;          /* number inside the file */
    fa_box box;
} fa_face;

/* A model that contributed to the cache. */
typedef struct {
    char role[16];          /* fa_model_role (models.h): "detector", "landmarks", "encoder", "encoder2" */
    char name[128];         /* file name */
    char sha256[65];        /* hex */
} fa_model_id;

#define FA_MODELS_MAX 4

/* The whole cache in memory; every field is read-only for users. */
typedef struct fa_cache {
    char *dir;
    char *root;                     /* the indexed ROOT, absolute */
    int dim;
    int64_t generation;
    size_t n_files, n_faces, n_folders;
    fa_file *files;
    fa_face *faces;
    char **folders;                 /* sorted, unique */
    const float *emb;               /* n_faces x dim (memory-mapped) */
    const uint8_t *thumb;           /* n_faces x FA_THUMB_LEN (memory-mapped), NULL when the
                                       cache has none (made before them); a face's all-zero
                                       thumbnail means none */
    const uint8_t *image_thumb;     /* n_files x FA_THUMB_LEN (memory-mapped): each file's
                                       whole image; NULL when the cache has none; all-zero:
                                       none for that file */
    fa_model_id models[FA_MODELS_MAX];
    int n_models;
    fa_detect_params detect;
    char created[32];               /* ISO-8601 UTC of the last commit */
    char encoder[64];               /* encoder name ("dlib" for caches that record none) */
    fa_metric metric;               /* how its vectors compare (cosine ones are unit length) */
    uint32_t shard_k, shard_n;      /* `index --shard K/N` made it (1 <= K <= N); N = 0: whole tree */
    struct fa_cache_store *store_;  /* opaque: where emb lives (cache.c); NULL in a
                                       fa_cache a program fills itself */
} fa_cache;

/* Opens the committed state of CACHE (a directory). Checks every field of
 * meta.json, the NPY header and every manifest row against each other;
 * returns NULL with a message naming the file and the problem. */
FA_API fa_cache *fa_cache_open(const char *dir);
FA_API void fa_cache_close(fa_cache *c);

/* True when the directory holds a committed cache. */
FA_API int fa_cache_exists(const char *dir);

/* The encoder name a committed cache records, from meta.json alone (the
 * manifest is not read): 1 with out filled, 0 when there is no readable
 * cache (opening it says why). */
FA_API int fa_cache_encoder_of(const char *dir, char *out, size_t n);

/* The model of a role, or NULL. */
FA_API const fa_model_id *fa_cache_model(const fa_cache *c, const char *role);

/* Number of files per status, into counts[FA_STATUS_COUNT]. */
FA_API void fa_cache_status_counts(const fa_cache *c, size_t counts[FA_STATUS_COUNT]);

/* 1 when a thumbnail (FA_THUMB_LEN bytes, face or image) is all zero: none. */
FA_API int fa_thumb_none(const uint8_t *t);
/* Faces and files that have a thumbnail (0 when the cache has no such file). */
FA_API void fa_cache_thumb_counts(const fa_cache *c, size_t *faces, size_t *files);

/* Writes a complete new generation of the cache directory (creating it if
 * needed) and commits it atomically. `emb` is n_faces x dim. The files and
 * faces arrays follow the layout of fa_cache (faces grouped by file, in file
 * order). Folder indices refer to `folders`. On failure the old state stays. */
typedef struct {
    const char *root;
    int dim;
    size_t n_files, n_faces, n_folders;
    const fa_file *files;
    const fa_face *faces;
    const float *emb;
    char *const *folders;
    const fa_model_id *models;
    int n_models;
    const fa_detect_params *detect;
    const char *encoder;            /* NULL: "dlib" */
    fa_metric metric;
    uint32_t shard_k, shard_n;      /* recorded in meta.json when shard_n > 0 */
    const uint8_t *thumb;           /* n_faces x FA_THUMB_LEN, or NULL: no thumbnails file */
    const uint8_t *image_thumb;     /* n_files x FA_THUMB_LEN, or NULL: no image thumbnails file */
} fa_cache_data;

FA_API int fa_cache_commit(const char *dir, const fa_cache_data *data);

/* Escaping of manifest text fields (see above). Returns a malloc'd string. */
FA_API char *fa_tsv_escape(const char *raw);
/* Inverse of fa_tsv_escape; returns NULL on a malformed escape. */
FA_API char *fa_tsv_unescape(const char *text);

#ifdef __cplusplus
}
#endif
#endif
