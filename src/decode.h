/*
 * decode.h - recognising image files by content and reading their declared
 * size from the header, before any pixel is decoded. This is what lets the
 * indexer give a PNG named .jpg to the PNG decoder, skip a GIF with a clear
 * status, and refuse a 100000x100000 header without allocating 30 GB.
 * Pixel decoding itself is in the shim (OpenCV).
 */
#ifndef FA_DECODE_H
#define FA_DECODE_H
#include <stddef.h>
#include <stdint.h>

typedef enum {
    FA_FMT_UNKNOWN = 0,
    FA_FMT_PNG, FA_FMT_JPEG, FA_FMT_BMP, FA_FMT_WEBP, FA_FMT_TIFF,
    FA_FMT_GIF, FA_FMT_HEIC, FA_FMT_PNM,
} fa_format;

/* Format from the first bytes (12 are enough). */
fa_format fa_sniff(const void *p, size_t n);
const char *fa_format_name(fa_format f);
/* 1 for formats the indexer decodes. */
int fa_format_supported(fa_format f);
/* 1 if the file name ends in an image extension (case-insensitive). */
int fa_has_image_extension(const char *name);

/* Declared width and height from the header. Returns 0, or -1 when the header
 * is truncated or malformed (reason in fa_last_error()). */
int fa_image_dims(const void *p, size_t n, fa_format f, int64_t *w, int64_t *h);
/* 1 when a w x h image has more than max_pixels pixels (no overflow for any
 * declared size: headers carry up to 32-bit sides). */
int fa_image_too_large(int64_t w, int64_t h, int64_t max_pixels);
#endif
