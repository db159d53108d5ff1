/*
 * photo.h - the steps that turn one image file into faces, shared by the
 * indexer's pipeline and `faceaudit query`, so that a photo asked about is
 * read, checked and detected exactly as the photos in the cache were:
 *
 *   fa_photo_decode   bytes -> pixels: sniff the format by content, refuse
 *                     unsupported formats and headers above max_pixels
 *                     before allocating, then decode (EXIF applied).
 *   fa_photo_faces    pixels -> boxes and embeddings under a detection policy.
 *
 * Neither prints; a failure comes back as a status and a reason.
 */
#ifndef FA_PHOTO_H
#define FA_PHOTO_H
#include <stddef.h>
#include "shim/shim.h"

#define FA_PHOTO_MAX_FACES 256

/* Decodes a file's bytes under the policy's max_pixels. Returns 0 with *img
 * filled (caller frees with fa_image_free), or the failure status
 * (FA_STATUS_UNREADABLE, _UNSUPPORTED, _TOO_LARGE) with a reason in why. */
fa_status fa_photo_decode(const void *bytes, size_t len, const fa_detect_params *d, fa_image *img,
                          char *why, size_t why_len);

/* The whole image as FA_THUMB_LEN bytes: grey (BT.601 luma) means of
 * FA_THUMB_SIDE x FA_THUMB_SIDE cells cut at integer bounds (a side shorter
 * than that repeats pixels). Survives resizing and re-encoding, not
 * cropping; what tells a resized copy of a photo from another photo of one
 * pose (review_dup.c). All zero for an empty image. */
void fa_image_thumb(const fa_image *img, uint8_t *out);

/* Stage times of fa_photo_faces, in seconds (added to, never reset). */
typedef struct {
    double detect, encode;
} fa_photo_times;

/* Detects the faces of img (at most FA_PHOTO_MAX_FACES) and encodes each.
 * On FA_STATUS_OK, *boxes (n), *emb (n x dim) and, when thumbs is not NULL,
 * *thumbs (n x FA_THUMB_LEN) are malloc'd for the caller and *n >= 1.
 * Otherwise FA_STATUS_NO_FACE or FA_STATUS_UNREADABLE with a reason in why,
 * and nothing to free. times may be NULL. */
fa_status fa_photo_faces(fa_nets *nets, const fa_image *img, const fa_detect_params *d, int dim,
                         fa_box **boxes, float **emb, uint8_t **thumbs, uint32_t *n, char *why,
                         size_t why_len, fa_photo_times *times);
#endif
