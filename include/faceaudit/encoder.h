/*
 * encoder.h - which face encoder turns an aligned face into a vector, and how
 * its input is prepared.
 *
 * Two families: dlib's ResNet (a .dat file; 150x150 chip from dlib's own
 * alignment; 128-d; Euclidean, same person below 0.6), and ArcFace-style ONNX
 * networks run through OpenCV's dnn module (a crop warped so that five
 * landmarks land on the model's template; per-channel (pixel - mean) * scale;
 * 512-d; compared by cosine). Cosine models' vectors are stored L2-normalised,
 * so the Euclidean code of the audit and the query serves both:
 * d^2 = 2 - 2 cos.
 *
 * Named ONNX encoders: "mobilefacenet" (fr_feature.onnx from npm
 * faceplugin-face-recognition-js@0.0.1, pinned by SHA-256), "buffalo_l" /
 * "w600k_r50" (InsightFace's ArcFace R50, w600k_r50.onnx) and
 * "japanese-face-v1" (FACE01's efficientnetv2_arcface.onnx). Anything else:
 * "onnx:FILE" with a JSON spec (see fa_encoder_spec_load). "dlib+E" joins
 * dlib's ResNet and the ONNX encoder E into one vector (fa_encoder_spec_fuse):
 * it kept dlib's separation of Western faces and most of mobilefacenet's
 * gain on East-Asian ones (README, "Encoders").
 */
#ifndef FACEAUDIT_ENCODER_H
#define FACEAUDIT_ENCODER_H

#include "faceaudit.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { FA_METRIC_EUCLIDEAN = 0, FA_METRIC_COSINE = 1 } fa_metric;

/* How an ONNX model's input crop is cut: warped so that the five landmarks
 * (left eye, right eye, nose tip, left and right mouth corner, image left to
 * right) land on template[] (input pixels), or dlib's own face chip of the
 * input size with `padding` (what FACE01 does). */
typedef enum { FA_ALIGN_TEMPLATE = 0, FA_ALIGN_DLIB_CHIP = 1 } fa_align_kind;

typedef struct {
    char name[64];          /* "dlib", "mobilefacenet", "onnx:FILE", ... */
    int onnx;               /* 0: dlib's ResNet .dat; 1: ONNX through OpenCV dnn */
    int dim;                /* output size; an ONNX model giving another is refused */
    fa_metric metric;
    /* ONNX only */
    int input_w, input_h;
    int rgb;                /* 1: channels in RGB order; 0: BGR */
    float mean[3], scale[3];/* per input channel (in the model's order): (pixel - mean) * scale */
    fa_align_kind align;
    float template5[10];    /* x0 y0 .. x4 y4 in input pixels (FA_ALIGN_TEMPLATE) */
    float padding;          /* FA_ALIGN_DLIB_CHIP */
    char output[64];        /* output layer name; "" = the network's last */
    char sha256[65];        /* pinned file checksum, "" when the user supplies it */
    char file[64];          /* usual file name in the models directory */
    float same_distance;    /* default same-person threshold, Euclidean on stored vectors */
    /* "dlib+NAME": dlib's ResNet vector followed by the ONNX model's, each
     * divided by its own same-person distance times sqrt(2), so that
     * d^2 = ((d_dlib / 0.6)^2 + (d_onnx / t_onnx)^2) / 2 and 1 is the same-person
     * distance of both. dim, metric (Euclidean) and same_distance (1) are
     * the fused vector's; the fields above them describe the ONNX part. */
    int fused;
    int part_dim;           /* the ONNX part's own dim and metric */
    fa_metric part_metric;
    float part_same;        /* the ONNX part's same-person distance */
} fa_encoder_spec;

/* The spec of dlib's ResNet encoder (128-d, Euclidean, 0.6). */
FA_API void fa_encoder_spec_dlib(fa_encoder_spec *out);

/* Fills out for a named ONNX encoder ("mobilefacenet", "buffalo_l",
 * "w600k_r50", "japanese-face-v1"). Returns 1 when the name is known, 0 if
 * not (nothing recorded). */
FA_API int fa_encoder_spec_named(const char *name, fa_encoder_spec *out);

/* The part E of a fused encoder's name "dlib+E", or NULL when name is not
 * one (or NULL). */
FA_API const char *fa_encoder_fused_part(const char *name);

/* Turns an ONNX encoder's spec into that of "dlib+" its name (see
 * `fused` above). Returns 0, or -1 when it is already fused or not ONNX. */
FA_API int fa_encoder_spec_fuse(fa_encoder_spec *s);

/* The spec of a fused encoder's ONNX part on its own (its name stays the
 * fused one); of any other spec, a copy. */
FA_API void fa_encoder_spec_part(const fa_encoder_spec *s, fa_encoder_spec *out);

/* Reads a JSON spec for an ONNX model:
 *   {"input": [112, 112], "channels": "rgb" | "bgr",
 *    "mean": [127.5, 127.5, 127.5], "scale": [0.0078125, ...] (or "std": [...]),
 *    "align": "arcface" | "dlib", "template": [[x, y] x 5] (default: ArcFace's,
 *    scaled to the input), "padding": 0.1 (for "dlib"),
 *    "output": "name", "dim": 512, "metric": "cosine" | "euclidean",
 *    "threshold": 1.1}
 * "dim" is required (it is checked against the model when it loads); the
 * rest defaults to ArcFace's 112x112 conventions. out->name is left to the
 * caller. Returns 0, or -1 naming the file and the bad field. */
FA_API int fa_encoder_spec_load(const char *json_path, fa_encoder_spec *out);

/* The default same-person distance for vectors of the named encoder (0.6
 * for dlib's; for an unnamed one, by its metric). */
FA_API float fa_encoder_same_distance(const char *name, fa_metric metric);

/* "euclidean" / "cosine". */
FA_API const char *fa_metric_name(fa_metric m);

#ifdef __cplusplus
}
#endif
#endif
