/*
 * sha256.h - SHA-256 (FIPS 180-4), for content hashes of images and models.
 * Self-contained so that faceaudit needs no crypto library.
 */
#ifndef FA_SHA256_H
#define FA_SHA256_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t h[8];
    uint64_t len;
    uint8_t buf[64];
    size_t fill;
} fa_sha256;

void fa_sha256_init(fa_sha256 *s);
void fa_sha256_update(fa_sha256 *s, const void *data, size_t len);
void fa_sha256_final(fa_sha256 *s, uint8_t out[32]);
void fa_sha256_buf(const void *data, size_t len, uint8_t out[32]);
/* Hashes a file; returns 0 or -1 (message names the file). */
int fa_sha256_file(const char *path, uint8_t out[32]);
/* 64 hex digits + NUL. */
void fa_sha256_hex(const uint8_t d[32], char out[65]);
/* Parses 64 hex digits; returns 0 or -1. */
int fa_sha256_unhex(const char *hex, uint8_t out[32]);
#endif
