/*
 * sha256.c - SHA-256 through OpenSSL's libcrypto (EVP interface). Kept by
 * hand: only the 64-digit lowercase hex spelling faceaudit stores (OpenSSL's
 * hex helpers put colons between bytes) and its parser.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <openssl/evp.h>
#include "faceaudit/faceaudit.h"
#include "sha256.h"

int fa_sha256_buf(const void *data, size_t len, uint8_t out[32])
{
    if (EVP_Digest(data, len, out, NULL, EVP_sha256(), NULL) == 1) return 0;
    memset(out, 0, 32);
    return fa_error("sha256: libcrypto failed");
}

/* Feeds fd to ctx to its end. Returns 0, or -1 with errno set (0: libcrypto). */
static int digest_fd(EVP_MD_CTX *ctx, int fd)
{
    static _Thread_local uint8_t buf[1 << 16];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -1;
        if (n == 0) return 0;
        if (EVP_DigestUpdate(ctx, buf, (size_t)n) != 1) { errno = 0; return -1; }
    }
}

int fa_sha256_file(const char *path, uint8_t out[32])
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fa_error("%s: %s", path, strerror(errno));
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;
    errno = 0;
    ok = ok && digest_fd(ctx, fd) == 0 && EVP_DigestFinal_ex(ctx, out, NULL) == 1;
    int e = errno;
    EVP_MD_CTX_free(ctx);
    close(fd);
    if (ok) return 0;
    return fa_error("%s: %s", path, e ? strerror(e) : "sha256: libcrypto failed");
}

void fa_sha256_hex(const uint8_t d[32], char out[65])
{
    static const char hx[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) { out[2 * i] = hx[d[i] >> 4]; out[2 * i + 1] = hx[d[i] & 15]; }
    out[64] = 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int fa_sha256_unhex(const char *hex, uint8_t out[32])
{
    for (int i = 0; i < 32; i++) {
        int hi = hexval(hex[2 * i]), lo = hi < 0 ? -1 : hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return hex[64] == 0 ? 0 : -1;
}
