/*
 * hashmap.c - open-addressing map with FNV-1a hashing and linear probing.
 * Grows at 50% load so probes stay short.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "hashmap.h"

static uint64_t fnv(const void *k, size_t n)
{
    const uint8_t *p = k;
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

int fa_hashmap_init(fa_hashmap *m, size_t expected)
{
    memset(m, 0, sizeof *m);
    m->cap = 64;
    while (m->cap < expected * 2) m->cap *= 2;
    m->keys = calloc(m->cap, sizeof *m->keys);
    m->lens = calloc(m->cap, sizeof *m->lens);
    m->vals = calloc(m->cap, sizeof *m->vals);
    if (!m->keys || !m->lens || !m->vals) { fa_hashmap_free(m); return -1; }
    return 0;
}

void fa_hashmap_free(fa_hashmap *m)
{
    free(m->keys);
    free(m->lens);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

static size_t slot(const fa_hashmap *m, const void *key, size_t len)
{
    size_t i = (size_t)fnv(key, len) & (m->cap - 1);
    while (m->keys[i] && !(m->lens[i] == len && memcmp(m->keys[i], key, len) == 0))
        i = (i + 1) & (m->cap - 1);
    return i;
}

int fa_hashmap_put(fa_hashmap *m, const void *key, size_t len, size_t val)
{
    if ((m->n + 1) * 2 > m->cap) {
        fa_hashmap big;
        if (fa_hashmap_init(&big, m->cap)) return -1;
        for (size_t i = 0; i < m->cap; i++)
            if (m->keys[i]) fa_hashmap_put(&big, m->keys[i], m->lens[i], m->vals[i]);
        fa_hashmap_free(m);
        *m = big;
    }
    size_t i = slot(m, key, len);
    if (!m->keys[i]) m->n++;
    m->keys[i] = key;
    m->lens[i] = len;
    m->vals[i] = val;
    return 0;
}

int fa_hashmap_get(const fa_hashmap *m, const void *key, size_t len, size_t *val)
{
    if (!m->cap) return 0;
    size_t i = slot(m, key, len);
    if (!m->keys[i]) return 0;
    *val = m->vals[i];
    return 1;
}
