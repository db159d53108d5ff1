/*
 * sha256.h - SHA-256 content hashes of images and models, by OpenSSL's
 * libcrypto (EVP); these functions only adapt it to faceaudit's error
 * convention and its hex spelling.
 */
#ifndef FA_SHA256_H
#define FA_SHA256_H
#include <stddef.h>
#include <stdint.h>

/* Hashes a buffer. Returns 0, or -1 (libcrypto out of memory; out zeroed). */
int fa_sha256_buf(const void *data, size_t len, uint8_t out[32]);
/* Hashes a file; returns 0 or -1 (message names the file). */
int fa_sha256_file(const char *path, uint8_t out[32]);
/* 64 hex digits + NUL. */
void fa_sha256_hex(const uint8_t d[32], char out[65]);
/* Parses 64 hex digits; returns 0 or -1. */
int fa_sha256_unhex(const char *hex, uint8_t out[32]);
#endif
