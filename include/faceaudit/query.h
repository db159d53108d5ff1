/*
 * query.h - one photo against the cache: `faceaudit query`.
 *
 * Two halves:
 *   search  exact k-nearest-neighbour search over the cache's memory-mapped
 *           embeddings (a vectorised scan of every row, a bounded heap for
 *           the top k, per-folder closest distance and count within the
 *           threshold). Plain C, no models needed.
 *   query   the face side: load the models the cache was made with (refusing
 *           others, by SHA-256) once, then find and encode the faces of any
 *           number of photos under the cache's own detection policy.
 *
 * Why no inverted lists here: a query is one pass over n x dim floats (29 MB
 * for 57,637 faces, a few ms), while building k-means lists costs many such
 * passes and the cache does not store them; in 128-d face space their
 * triangle-inequality bounds also prune little (see src/audit/ivf.h).
 *
 * Conventions as in faceaudit.h: 0 / pointer on success, -1 / NULL with
 * fa_last_error(); nothing prints. A searcher or query object is used by one
 * thread at a time.
 */
#ifndef FACEAUDIT_QUERY_H
#define FACEAUDIT_QUERY_H

#include "cache.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- search ------------------------------------------------------------- */

/* One neighbour: an embedding row of the cache (= index into faces[]). */
typedef struct {
    uint32_t row;
    float distance;         /* Euclidean */
    float cosine;           /* cosine similarity */
} fa_hit;

/* One folder's standing for a query face. */
typedef struct {
    uint32_t folder;        /* index into fa_cache.folders */
    float closest;          /* distance of its closest face */
    uint32_t closest_row;
    uint32_t within;        /* its faces within max_distance */
    uint32_t faces;         /* its faces in the cache */
} fa_folder_hit;

typedef struct {
    size_t k;               /* neighbours wanted (default 10) */
    int64_t folder;         /* search only this folder (index); -1: all (default) */
    float max_distance;     /* "same person" threshold (default 0.6) */
    int threads;            /* scan threads; 0: automatic (one below 2^20 faces) */
} fa_search_params;

FA_API void fa_search_default_params(fa_search_params *p);

typedef struct {
    fa_hit *hits;           /* min(k, n_searched), by (distance, row) ascending */
    size_t n_hits;
    fa_folder_hit *folders; /* every searched folder with faces, by (closest, folder) */
    size_t n_folders;
    size_t n_within;        /* searched faces within max_distance */
    size_t n_searched;      /* faces eligible (all, or the folder's) */
} fa_search_result;

FA_API void fa_search_result_free(fa_search_result *r);

/* Euclidean (not squared) distances from q to each row of x (n x dim):
 * out[i] = |x_i - q|. threads as in fa_search_params. */
FA_API void fa_distances(const float *x, size_t n, int dim, const float *q, int threads, float *out);

/* The k smallest of dist[0..n) whose group[i] == only (every row when
 * only < 0 or group is NULL), by (distance, row) ascending; ties go to the
 * lower row. Writes at most k hits (cosine left 0) and returns how many. */
FA_API size_t fa_topk(const float *dist, size_t n, const uint32_t *group, int64_t only, size_t k, fa_hit *out);

/* A search context over an open cache: the row-to-folder map and scratch
 * space, made once for any number of queries. The cache must outlive it. */
typedef struct fa_searcher fa_searcher;

FA_API fa_searcher *fa_searcher_new(const fa_cache *c);
FA_API void fa_searcher_free(fa_searcher *s);

/* The folder index of a name, or -1. */
FA_API int64_t fa_cache_folder_index(const fa_cache *c, const char *name);

/* Exact search of q (dim floats) under p. Returns 0 and fills out (free it
 * with fa_search_result_free), or -1 (bad parameters, out of memory). */
FA_API int fa_search_topk(fa_searcher *s, const float *q, const fa_search_params *p, fa_search_result *out);

/* The default same-person distance for queries of c: the threshold the last
 * `faceaudit audit` calibrated on this cache (CACHE/findings.json, of the
 * cache's encoder model), else the encoder's fixed rule (0.6 for dlib's, 1.15
 * for the ArcFace ones, 1 for dlib+E), which on East-Asian faces takes most
 * strangers for the same person. *source (fa_qreport.threshold_source) says
 * which: "calibrated" (the audit of this generation), "calibrated_earlier"
 * (an audit before the cache was last indexed: still this dataset's scale,
 * far nearer than the rule) or "encoder" (the rule). */
FA_API float fa_query_default_distance(const fa_cache *c, const char **source);

/* ---- query: faces of a photo ------------------------------------------- */

typedef struct fa_query fa_query;

/* Picks the three models in models_dir (the file names the cache records
 * first, else as fa_models_resolve with encoder, which may be NULL), checks
 * that each one's SHA-256 is the one the cache records, and loads them.
 * Returns NULL with a message naming the model and both sums when a model
 * differs: embeddings of different models must not be compared. */
FA_API fa_query *fa_query_open(const fa_cache *c, const char *models_dir, const char *encoder);
FA_API void fa_query_free(fa_query *q);

/* The faces of one photo. */
typedef struct {
    fa_status status;       /* FA_STATUS_OK when n_faces >= 1 */
    char reason[600];       /* for any other status */
    int width, height;
    uint32_t n_faces;
    fa_box *boxes;          /* n_faces, by detector score */
    float *emb;             /* n_faces x dim */
    int has_sha256;
    uint8_t sha256[32];     /* of the photo's bytes */
    int has_image_thumb;
    uint8_t image_thumb[FA_THUMB_LEN];   /* the whole image (cache.h's image thumbnails) */
} fa_query_faces;

FA_API void fa_query_faces_free(fa_query_faces *f);

/* Reads, decodes, detects and encodes path under the cache's detection
 * policy. Returns 0 when faces were found; -1 otherwise, with out->status
 * and out->reason saying why and fa_last_error() = "PATH: reason". */
FA_API int fa_query_photo(fa_query *q, const char *path, fa_query_faces *out);

/* Whether cache file `file` is the queried photo itself: its bytes
 * (FA_SAME_BYTES: identical SHA-256), or its image resized or re-encoded
 * (FA_SAME_IMAGE: one aspect ratio within 1% and whole images correlating
 * 0.99 or more, the audit's rule for one image; *corr is set). A cache made
 * before image thumbnails tells identical bytes only. corr may be NULL. */
typedef enum { FA_SAME_NONE, FA_SAME_IMAGE, FA_SAME_BYTES } fa_same_kind;
FA_API fa_same_kind fa_query_same_photo(const fa_cache *c, const fa_query_faces *f, uint32_t file, float *corr);

/* Seconds spent so far: model check and load, reading + decoding, detection,
 * encoding. */
typedef struct {
    double load, decode, detect, encode;
} fa_query_times;

FA_API void fa_query_get_times(const fa_query *q, fa_query_times *t);

#ifdef __cplusplus
}
#endif
#endif
