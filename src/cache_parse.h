/*
 * cache_parse.h - the cache reader's parsers over bytes in memory (private to
 * the library; cache_meta.c and cache_manifest.c read the files and call
 * them). Exposed so that the fuzz harnesses and tests can drive each parser
 * without files. Each returns 0, or -1 with a message naming `path` and the
 * fault.
 */
#ifndef FA_CACHE_PARSE_H
#define FA_CACHE_PARSE_H
#include <stddef.h>
#include "faceaudit/cache.h"

/* The names of a generation's files, as meta.json gives them: plain names
 * inside the cache directory; "" for an optional one the cache lacks (face
 * or image thumbnails, made before them). */
typedef struct {
    char emb[256], man[256], thumb[256], image[256];
} fa_gen_names;

/* meta.json: fills c's generation, dim, claimed counts, root, models and
 * detection parameters, and the generation files' names. */
int fa_cache_parse_meta(fa_cache *c, const char *path, const char *text, size_t len, fa_gen_names *names);

/* manifest.G.tsv (text is modified): fills c->folders, files and faces,
 * checking every row against c->n_files / c->n_faces (the claims of
 * meta.json, which it never allocates by before counting the rows). On
 * failure c holds only what fa_cache_close can free. */
int fa_cache_parse_manifest(fa_cache *c, const char *path, char *text, size_t len);

/* NPY header of a float32 C-order 2-D array: the data offset, or -1. */
long fa_npy_parse(const char *path, const uint8_t *p, size_t len, size_t *rows, int *cols);
#endif
