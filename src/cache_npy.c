/*
 * cache_npy.c - the cache's NPY arrays (format in cache.h): writing their
 * header, and reading it back trusting nothing (a header names the shape
 * that every later allocation depends on).
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include "faceaudit/cache.h"
#include "cache_io.h"
#include "cache_parse.h"

/* Writes an NPY v1.0 header for a C-order [n][cols] array of descr ('<f4'
 * float32, '|u1' bytes), padded to 64 bytes. */
void fa_npy_header(fa_buf *b, const char *descr, size_t n, int cols)
{
    char dict[128];
    int dl = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (%zu, %d), }",
                      descr, n, cols);
    size_t total = 10 + (size_t)dl + 1;
    size_t pad = (64 - total % 64) % 64;
    uint16_t hlen = (uint16_t)((size_t)dl + pad + 1);
    fa_buf_append(b, "\x93NUMPY\x01\x00", 8);
    uint8_t le[2] = {(uint8_t)(hlen & 0xff), (uint8_t)(hlen >> 8)};
    fa_buf_append(b, le, 2);
    fa_buf_append(b, dict, (size_t)dl);
    for (size_t i = 0; i < pad; i++) fa_buf_putc(b, ' ');
    fa_buf_putc(b, '\n');
}

/* Decimal digits only (sscanf would take a sign and overflow silently). */
static int npy_uint(const char **s, unsigned long long *out)
{
    unsigned long long v = 0;
    const char *p = *s;
    if (*p < '0' || *p > '9') return -1;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > (ULLONG_MAX - 9) / 10) return -1;
        v = v * 10 + (unsigned)(*p - '0');
    }
    *s = p;
    *out = v;
    return 0;
}

/* "R, C)" after "'shape': (". */
static int npy_dims(const char *s, unsigned long long *r, unsigned long long *c)
{
    if (npy_uint(&s, r) || *s++ != ',') return -1;
    while (*s == ' ') s++;
    if (npy_uint(&s, c)) return -1;
    while (*s == ' ') s++;
    return *s == ')' ? 0 : -1;
}

/* Parses the header of a C-order 2-D NPY of descr (what names its content
 * in messages). Returns the data offset or -1. */
long fa_npy_parse_as(const char *path, const uint8_t *p, size_t len, const char *descr, const char *what,
                      size_t *rows, unsigned long long *cols)
{
    if (len < 10 || memcmp(p, "\x93NUMPY", 6) != 0)
        return fa_error("%s: not an NPY file (bad magic)", path);
    size_t hlen, off;
    if (p[6] == 1) { hlen = p[8] | (size_t)p[9] << 8; off = 10; }
    else if (p[6] == 2 || p[6] == 3) {
        if (len < 12) return fa_error("%s: truncated NPY header", path);
        hlen = p[8] | (size_t)p[9] << 8 | (size_t)p[10] << 16 | (size_t)p[11] << 24;
        off = 12;
    } else return fa_error("%s: unsupported NPY version %d", path, p[6]);
    if (hlen > 65536 || off + hlen > len) return fa_error("%s: truncated NPY header", path);
    char h[65537], d1[32], d2[32];
    memcpy(h, p + off, hlen);
    h[hlen] = 0;
    snprintf(d1, sizeof d1, "'descr': '%s'", descr);
    snprintf(d2, sizeof d2, "\"descr\": \"%s\"", descr);
    if (!strstr(h, d1) && !strstr(h, d2))
        return fa_error("%s: %s must be %s ('%s')", path, what,
                        descr[1] == 'f' ? "little-endian float32" : "unsigned bytes", descr);
    if (!strstr(h, "'fortran_order': False"))
        return fa_error("%s: %s must be in C order", path, what);
    const char *s = strstr(h, "'shape': (");
    unsigned long long r;
    if (!s || npy_dims(s + 10, &r, cols)) return fa_error("%s: NPY shape must be (rows, dim)", path);
    if (r > (1ULL << 40)) return fa_error("%s: %llu rows is beyond any cache", path, r);
    *rows = (size_t)r;
    return (long)(off + hlen);
}

long fa_npy_parse(const char *path, const uint8_t *p, size_t len, size_t *rows, int *cols)
{
    unsigned long long c;
    long off = fa_npy_parse_as(path, p, len, "<f4", "embeddings", rows, &c);
    if (off < 0) return -1;
    if (c == 0 || c > FA_DIM_MAX) return fa_error("%s: bad embedding dimension %llu", path, c);
    *cols = (int)c;
    return off;
}

