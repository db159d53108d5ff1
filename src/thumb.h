/*
 * thumb.h - telling the same photo from the cache's face and image thumbnails
 * (the audit's duplicates, and a query's photo already in the cache).
 *
 * A face's thumbnail (faceaudit.h: FA_THUMB_SIDE^2 grey pixels of the
 * aligned inner face) survives re-encoding, resizing and re-cropping: two
 * files of one photo give thumbnails that correlate at 0.98-1.00. The
 * embeddings of two crops of one small photo can differ by 0.3, as much as
 * two photos of one person, so the encoder alone cannot say "same photo".
 * Measured on the known same-photo pairs of celeba_aligned and celeba_wild
 * (README): 10 of 11 at 0.98 or more; the pairs above it that are not listed
 * as known are, by eye, the same photo or frames of one burst.
 */
#ifndef FA_THUMB_H
#define FA_THUMB_H
#include <stdint.h>

/* Correlation at or above which two faces are taken for one photo. */
#define FA_THUMB_SAME 0.98f

/* The same photo by the whole image (cache.h's image thumbnails, photo.h):
 * two files of one aspect ratio whose images correlate FA_IMAGE_SAME or
 * more, and whose faces' thumbnails correlate FA_THUMB_NEAR or more, are
 * one image resized or re-encoded. It reaches a small resized copy whose
 * face thumbnails fall under FA_THUMB_SAME (landmarks move on a small
 * face), and it is not fooled by a second photo of one pose, whose face
 * matches but whose hair, clothes and background do not. Measured on the
 * planted trees of the five datasets (README): copies 0.99-1.00, the
 * nearest pair of different photos 0.96 (two frames of one burst). */
#define FA_IMAGE_SAME 0.99f
#define FA_THUMB_NEAR 0.90f
/* Aspect ratios (width / height) within this fraction, or not one image. */
#define FA_IMAGE_ASPECT 0.01

/* Pearson correlation of two thumbnails (FA_THUMB_LEN bytes each), or NaN
 * when either is absent (NULL or flat, e.g. the zeros of "none"). */
float fa_thumb_corr(const uint8_t *a, const uint8_t *b);

/* The thumbnail of cache face `face`, or NULL when the cache has none. */
struct fa_cache;
const uint8_t *fa_thumb_of(const struct fa_cache *c, uint32_t face);
/* The correlation of two image thumbnails of images wa x ha and wb x hb, or
 * NaN when either is none or their aspect ratios differ by more than
 * FA_IMAGE_ASPECT (or a side is not positive). */
float fa_image_thumb_corr(const uint8_t *a, int wa, int ha, const uint8_t *b, int wb, int hb);
/* The same for two files of a cache (NaN when the cache has none). */
float fa_image_corr(const struct fa_cache *c, uint32_t file_a, uint32_t file_b);

/* The rule for one photo by its pixels, given the faces' thumbnail
 * correlation and the images' (NaN: not measured): another crop, size or
 * encoding of it. The image's is only looked at for faces in
 * [FA_THUMB_NEAR, FA_THUMB_SAME), so a caller may measure it only there. */
static inline int fa_pixels_one_photo(float face_corr, float image_corr)
{
    return face_corr >= FA_THUMB_SAME || (face_corr >= FA_THUMB_NEAR && image_corr >= FA_IMAGE_SAME);
}
#endif
