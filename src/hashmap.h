/*
 * hashmap.h - a byte-string -> size_t map (open addressing), used to find a
 * file's previous result by path or by content hash. Keys are borrowed: the
 * caller keeps them alive while the map is used.
 */
#ifndef FA_HASHMAP_H
#define FA_HASHMAP_H
#include <stddef.h>

typedef struct {
    const void **keys;
    size_t *lens, *vals;
    size_t cap, n;
} fa_hashmap;

int fa_hashmap_init(fa_hashmap *m, size_t expected);
void fa_hashmap_free(fa_hashmap *m);
/* Inserts or replaces. Returns 0 or -1 (out of memory). */
int fa_hashmap_put(fa_hashmap *m, const void *key, size_t len, size_t val);
/* Returns 1 and stores the value when found. */
int fa_hashmap_get(const fa_hashmap *m, const void *key, size_t len, size_t *val);
#endif
