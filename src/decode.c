/*
 * decode.c - content sniffing and header parsing for image files (see
 * decode.h). Every read is bounds-checked: these bytes are untrusted.
 * Hand-written on purpose: it reads an image's declared size so that an
 * oversized image is refused before OpenCV's decoder allocates for it.
 * OpenCV's own limit is one process-wide environment variable
 * (OPENCV_IO_MAX_IMAGE_PIXELS), not the per-run policy and message the
 * index needs, and the few header fields read here do not justify a second
 * decoding library per format (libpng, libjpeg, ...).
 */
#include <string.h>
#include <strings.h>
#include "faceaudit/faceaudit.h"
#include "decode.h"

fa_format fa_sniff(const void *vp, size_t n)
{
    const uint8_t *p = vp;
    if (n >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0) return FA_FMT_PNG;
    if (n >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF) return FA_FMT_JPEG;
    if (n >= 6 && (memcmp(p, "GIF87a", 6) == 0 || memcmp(p, "GIF89a", 6) == 0)) return FA_FMT_GIF;
    if (n >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WEBP", 4) == 0) return FA_FMT_WEBP;
    if (n >= 4 && (memcmp(p, "II*\0", 4) == 0 || memcmp(p, "MM\0*", 4) == 0)) return FA_FMT_TIFF;
    if (n >= 14 && p[0] == 'B' && p[1] == 'M') return FA_FMT_BMP;
    if (n >= 12 && memcmp(p + 4, "ftyp", 4) == 0 &&
        (memcmp(p + 8, "heic", 4) == 0 || memcmp(p + 8, "heix", 4) == 0 ||
         memcmp(p + 8, "mif1", 4) == 0 || memcmp(p + 8, "avif", 4) == 0))
        return FA_FMT_HEIC;
    if (n >= 3 && p[0] == 'P' && p[1] >= '1' && p[1] <= '6' &&
        (p[2] == ' ' || p[2] == '\n' || p[2] == '\r' || p[2] == '\t'))
        return FA_FMT_PNM;
    return FA_FMT_UNKNOWN;
}

const char *fa_format_name(fa_format f)
{
    static const char *const names[] = {"unknown", "png", "jpeg", "bmp", "webp",
                                        "tiff", "gif", "heic", "pnm"};
    return (unsigned)f < sizeof names / sizeof *names ? names[f] : "unknown";
}

int fa_format_supported(fa_format f)
{
    return f == FA_FMT_PNG || f == FA_FMT_JPEG || f == FA_FMT_BMP || f == FA_FMT_WEBP ||
           f == FA_FMT_TIFF || f == FA_FMT_PNM;
}

int fa_has_image_extension(const char *name)
{
    static const char *const exts[] = {".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".bmp", ".webp",
                                       ".tif", ".tiff", ".gif", ".heic", ".avif", ".pgm",
                                       ".ppm", ".pnm", NULL};
    const char *dot = strrchr(name, '.');
    if (!dot) return 0;
    for (int i = 0; exts[i]; i++)
        if (strcasecmp(dot, exts[i]) == 0) return 1;
    return 0;
}

static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t le32(const uint8_t *p) { return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0]; }
static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[1] << 8 | p[0]); }

static int jpeg_dims(const uint8_t *p, size_t n, int64_t *w, int64_t *h)
{
    size_t i = 2;
    while (i + 4 <= n) {
        if (p[i] != 0xFF) return fa_error("corrupt JPEG: bad marker at byte %zu", i);
        uint8_t m = p[i + 1];
        if (m == 0xFF) { i++; continue; }                 /* fill byte */
        if (m == 0xD8 || (m >= 0xD0 && m <= 0xD7) || m == 0x01) { i += 2; continue; }
        if (m == 0xD9 || m == 0xDA) break;                /* no frame header before scan */
        uint16_t seglen = be16(p + i + 2);
        if (seglen < 2) return fa_error("corrupt JPEG: bad segment length");
        if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
            if (i + 9 > n) break;
            *h = be16(p + i + 5);
            *w = be16(p + i + 7);
            return 0;
        }
        i += 2 + (size_t)seglen;
    }
    return fa_error("truncated JPEG: no frame header");
}

static int webp_dims(const uint8_t *p, size_t n, int64_t *w, int64_t *h)
{
    if (n < 30) return fa_error("truncated WebP header");
    if (memcmp(p + 12, "VP8 ", 4) == 0) {
        *w = le16(p + 26) & 0x3FFF;
        *h = le16(p + 28) & 0x3FFF;
    } else if (memcmp(p + 12, "VP8L", 4) == 0) {
        uint32_t b = le32(p + 21);
        *w = (b & 0x3FFF) + 1;
        *h = ((b >> 14) & 0x3FFF) + 1;
    } else if (memcmp(p + 12, "VP8X", 4) == 0) {
        *w = 1 + ((uint32_t)p[24] | (uint32_t)p[25] << 8 | (uint32_t)p[26] << 16);
        *h = 1 + ((uint32_t)p[27] | (uint32_t)p[28] << 8 | (uint32_t)p[29] << 16);
    } else {
        return fa_error("corrupt WebP: unknown chunk");
    }
    return 0;
}

static int tiff_dims(const uint8_t *p, size_t n, int64_t *w, int64_t *h)
{
    int le = p[0] == 'I';
    if (n < 8) return fa_error("truncated TIFF header");
    uint32_t off = le ? le32(p + 4) : be32(p + 4);
    if ((size_t)off + 2 > n) return fa_error("truncated TIFF: IFD beyond end of file");
    uint16_t count = le ? le16(p + off) : be16(p + off);
    *w = *h = -1;
    for (uint32_t k = 0; k < count; k++) {
        size_t e = (size_t)off + 2 + 12 * (size_t)k;
        if (e + 12 > n) return fa_error("truncated TIFF IFD");
        uint16_t tag = le ? le16(p + e) : be16(p + e);
        uint16_t type = le ? le16(p + e + 2) : be16(p + e + 2);
        uint32_t v = type == 3 ? (le ? le16(p + e + 8) : be16(p + e + 8)) : (le ? le32(p + e + 8) : be32(p + e + 8));
        if (tag == 256) *w = v;
        if (tag == 257) *h = v;
    }
    if (*w < 0 || *h < 0) return fa_error("corrupt TIFF: no image size");
    return 0;
}

int fa_image_dims(const void *vp, size_t n, fa_format f, int64_t *w, int64_t *h)
{
    const uint8_t *p = vp;
    switch (f) {
    case FA_FMT_PNG:
        if (n < 24 || memcmp(p + 12, "IHDR", 4) != 0) return fa_error("truncated PNG header");
        *w = be32(p + 16);
        *h = be32(p + 20);
        return 0;
    case FA_FMT_JPEG: return jpeg_dims(p, n, w, h);
    case FA_FMT_GIF:
        if (n < 10) return fa_error("truncated GIF header");
        *w = le16(p + 6);
        *h = le16(p + 8);
        return 0;
    case FA_FMT_BMP: {
        if (n < 26) return fa_error("truncated BMP header");
        uint32_t hs = le32(p + 14);
        if (hs == 12) { *w = le16(p + 18); *h = le16(p + 20); return 0; }
        int32_t bw = (int32_t)le32(p + 18), bh = (int32_t)le32(p + 22);
        *w = bw < 0 ? -(int64_t)bw : bw;
        *h = bh < 0 ? -(int64_t)bh : bh;
        return 0;
    }
    case FA_FMT_WEBP: return webp_dims(p, n, w, h);
    case FA_FMT_TIFF: return tiff_dims(p, n, w, h);
    default: *w = *h = 0; return 0;   /* unknown: let the decoder decide */
    }
}

int fa_image_too_large(int64_t w, int64_t h, int64_t max_pixels)
{
    if (w <= 0 || h <= 0) return 0;
    /* w * h > max  <=>  w > max / h for positive integers, without the product */
    return w > max_pixels / h;
}
