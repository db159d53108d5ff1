/*
 * photo.c - one image file to faces: the decoding and detection policy that
 * index and query share (see photo.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "decode.h"
#include "photo.h"
#include "util.h"

fa_status fa_photo_decode(const void *bytes, size_t len, const fa_detect_params *d, fa_image *img,
                          char *why, size_t why_len)
{
    int64_t w = 0, h = 0;
    fa_format f = fa_sniff(bytes, len);
    if (len == 0) { snprintf(why, why_len, "empty file"); return FA_STATUS_UNREADABLE; }
    if (f == FA_FMT_UNKNOWN) {
        snprintf(why, why_len, "not an image (unrecognised content)");
        return FA_STATUS_UNREADABLE;
    }
    if (!fa_format_supported(f)) { snprintf(why, why_len, "%s", fa_format_name(f)); return FA_STATUS_UNSUPPORTED; }
    /* The header's size is checked first: a hostile header must not make us allocate. */
    if (fa_image_dims(bytes, len, f, &w, &h)) {
        snprintf(why, why_len, "%s", fa_last_error());
        return FA_STATUS_UNREADABLE;
    }
    if (fa_image_too_large(w, h, d->max_pixels)) {
        snprintf(why, why_len, "%lldx%lld pixels declared, limit %lld", (long long)w, (long long)h,
                 (long long)d->max_pixels);
        return FA_STATUS_TOO_LARGE;
    }
    if (fa_image_decode(bytes, len, img)) {
        snprintf(why, why_len, "%s %s", fa_format_name(f), fa_last_error());
        return FA_STATUS_UNREADABLE;
    }
    return FA_STATUS_OK;
}

fa_status fa_photo_faces(fa_nets *nets, const fa_image *img, const fa_detect_params *d, int dim,
                         fa_box **boxes, float **emb, uint8_t **thumbs, uint32_t *n_out, char *why,
                         size_t why_len, fa_photo_times *times)
{
    fa_box found[FA_PHOTO_MAX_FACES];
    double t0 = fa_now();
    int n = fa_detect(nets, img, d, found, FA_PHOTO_MAX_FACES);
    if (times) times->detect += fa_now() - t0;
    *boxes = NULL;
    *emb = NULL;
    if (thumbs) *thumbs = NULL;
    *n_out = 0;
    if (n < 0) { snprintf(why, why_len, "face detection failed: %s", fa_last_error()); return FA_STATUS_UNREADABLE; }
    if (n == 0) { snprintf(why, why_len, "no face found"); return FA_STATUS_NO_FACE; }
    if (n > FA_PHOTO_MAX_FACES) n = FA_PHOTO_MAX_FACES;
    fa_box *b = malloc((size_t)n * sizeof *b);
    float *e = malloc((size_t)n * (size_t)dim * sizeof *e);
    uint8_t *t = thumbs ? malloc((size_t)n * FA_THUMB_LEN) : NULL;
    t0 = fa_now();
    int mem = b && e && (t || !thumbs);
    if (!mem || fa_encode_faces_thumbs(nets, img, d, found, n, e, t)) {
        snprintf(why, why_len, "face encoding failed: %s", mem ? fa_last_error() : "out of memory");
        free(b);
        free(e);
        free(t);
        return FA_STATUS_UNREADABLE;
    }
    if (times) times->encode += fa_now() - t0;
    memcpy(b, found, (size_t)n * sizeof *b);
    *boxes = b;
    *emb = e;
    if (thumbs) *thumbs = t;
    *n_out = (uint32_t)n;
    return FA_STATUS_OK;
}

/* The mean luma of one cell, in 1/1000 units summed then rounded. */
static uint8_t cell_mean(const fa_image *img, int x0, int x1, int y0, int y1)
{
    uint64_t sum = 0;
    for (int y = y0; y < y1; y++) {
        const uint8_t *p = img->rgb + ((size_t)y * img->width + x0) * 3;
        for (int x = x0; x < x1; x++, p += 3) sum += 299u * p[0] + 587u * p[1] + 114u * p[2];
    }
    uint64_t n = (uint64_t)(x1 - x0) * (uint64_t)(y1 - y0) * 1000u;
    return (uint8_t)((sum + n / 2) / n);
}

void fa_image_thumb(const fa_image *img, uint8_t *out)
{
    const int S = FA_THUMB_SIDE, W = img->width, H = img->height;
    if (W <= 0 || H <= 0 || !img->rgb) { memset(out, 0, FA_THUMB_LEN); return; }
    for (int cy = 0; cy < S; cy++) {
        int y0 = (int)((int64_t)cy * H / S), y1 = (int)((int64_t)(cy + 1) * H / S);
        if (y1 <= y0) y1 = y0 + 1;
        for (int cx = 0; cx < S; cx++) {
            int x0 = (int)((int64_t)cx * W / S), x1 = (int)((int64_t)(cx + 1) * W / S);
            if (x1 <= x0) x1 = x0 + 1;
            out[cy * S + cx] = cell_mean(img, x0, x1, y0, y1);
        }
    }
}
