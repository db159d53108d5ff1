/*
 * shim.h - the C face of the C++ shim over dlib and OpenCV.
 *
 * Everything that needs C++ sits behind these functions: image decoding
 * (OpenCV), the CNN face detector, the landmark predictor, face chips and the
 * ResNet encoder (dlib), thumbnails for reports. A fa_nets holds one copy of
 * each network and is used by one thread at a time; index and query make one
 * per worker. Errors are reported through fa_error() like the rest of the
 * library; no C++ exception crosses this boundary.
 */
#ifndef FA_SHIM_H
#define FA_SHIM_H

#include <stddef.h>
#include <stdint.h>
#include "faceaudit/faceaudit.h"   /* fa_box, fa_detect_params */
#include "faceaudit/encoder.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A decoded 8-bit RGB image, rows packed (stride = 3 * width). */
typedef struct {
    int width, height;
    uint8_t *rgb;
} fa_image;

/* Decodes a file's bytes (any format OpenCV reads; EXIF orientation applied;
 * 16-bit, grayscale and alpha converted to 8-bit RGB). Returns 0, or -1 with
 * a reason in fa_last_error(). */
int fa_image_decode(const void *bytes, size_t len, fa_image *out);
void fa_image_free(fa_image *img);

/* Paths of the three model files. */
typedef struct {
    const char *detector;   /* mmod_human_face_detector.dat */
    const char *landmarks;  /* shape_predictor_{5,68}_face_landmarks.dat */
    const char *encoder;    /* dlib_face_recognition_resnet_model_v1.dat or same net */
    const fa_encoder_spec *spec;    /* NULL or !spec->onnx: dlib's ResNet; else an ONNX model */
    const char *encoder2;   /* spec->fused: dlib's ResNet, whose vector goes first */
} fa_model_paths;

typedef struct fa_nets fa_nets;

/* Loads the networks. The landmark model is shared by every fa_nets of the
 * process and finishes loading in the background; fa_nets_ready waits for
 * it and reports a bad landmark file (returns 0 or -1). Without that call,
 * the first fa_encode_faces waits. */
fa_nets *fa_nets_load(const fa_model_paths *paths);
int fa_nets_ready(fa_nets *n);
void fa_nets_free(fa_nets *n);

/* The default detection policy, chosen by measurement on samples of
 * nogizaka46, asian_celebs and kpop_idols: pass 1 with the long side scaled
 * down to 1024 px (smaller images as they are: upsample_min_side 0), and for
 * images with no face a second look with the long side at up to 1600 px, at
 * most 2x enlarged, which bounds the detector's memory to about 2.5 GB.
 * Enlarging small images in pass 1 found no extra face on those samples and
 * made 160 px crops 4x slower. max_pixels 80 MP; chips of 150 px with 0.25
 * padding, as dlib's encoder was trained. */
void fa_detect_default_params(fa_detect_params *p);

/* Finds faces in img under the detection policy p. Writes up to max boxes
 * (original pixels, sorted by score) and returns how many were found (may be
 * more than max), or -1 on error. */
int fa_detect(fa_nets *n, const fa_image *img, const fa_detect_params *p,
              fa_box *boxes, int max);

/* The naive reference: one pass at full resolution, no upsampling, dlib's
 * own forward pass (for benchmarks). Same contract as fa_detect. enlarge:
 * the pass on the image enlarged 2x instead (what a naive program must do
 * to find faces under the detector's ~80 px window, as in small crops). */
int fa_detect_reference(fa_nets *n, const fa_image *img, int enlarge, fa_box *boxes, int max);

/* Landmarks, aligned chip and embedding for each box: out is n_boxes x
 * fa_nets_dim() floats (L2-normalised for cosine encoders). Returns 0 or -1. */
int fa_encode_faces(fa_nets *n, const fa_image *img, const fa_detect_params *p,
                    const fa_box *boxes, int n_boxes, float *out);
/* The same, and each face's thumbnail (faceaudit.h) into thumbs: n_boxes x
 * FA_THUMB_LEN bytes (NULL: none). */
int fa_encode_faces_thumbs(fa_nets *n, const fa_image *img, const fa_detect_params *p,
                           const fa_box *boxes, int n_boxes, float *out, uint8_t *thumbs);

/* Who runs dlib's detector and ResNet encoder: faceaudit on the same
 * weights (the default: OpenCV's dnn module, the detector's convolutions on
 * direct AVX-512 kernels where the CPU has them; same boxes, scores and
 * embeddings up to float rounding, several times faster), the same without
 * the direct kernels, or dlib itself (the reference both are tested
 * against). ONNX encoders always run on OpenCV. */
typedef enum {
    FA_FORWARD_OPENCV = 0,      /* the default; the detector's convolutions on AVX-512
                                   kernels where the CPU has them (dconv.hpp) */
    FA_FORWARD_DLIB = 1,
    FA_FORWARD_OPENCV_DNN = 2   /* OpenCV's dnn for every layer (the fallback) */
} fa_forward;
void fa_nets_set_forward(fa_nets *n, fa_forward how);

/* Tests: 1 if faceaudit's reader of the landmark model at path (faster than
 * dlib's) gives a byte-identical model, 0 if not, -1 on error. */
int fa_landmarks_selftest(const char *path);

/* Tests: 1 if faceaudit's evaluation of the landmark model at path (faster
 * than dlib's) gives dlib's landmarks exactly, on a noise image in grey and
 * colour; 0 if not, -1 on error. */
int fa_landmarks_eval_selftest(const char *path);

/* Output dimension of the loaded encoder (128 for dlib's, 512 for ArcFace-style ones). */
int fa_nets_dim(const fa_nets *n);

/* Work done by one fa_nets since it was loaded (for benchmarks and progress
 * reports). */
typedef struct {
    double detect_ms;          /* fa_detect / fa_detect_reference, all passes */
    double align_ms;           /* landmarks + aligned chips */
    double encode_ms;          /* the ResNet forward passes */
    double detect_megapixels;  /* pixels the detector looked at */
    long detect_passes;        /* detector runs */
    long retries;              /* second looks at images with no face */
    long faces_encoded;
    double gflop;              /* arithmetic of the OpenCV forward passes (a multiply-add is 2) */
} fa_nets_stats;

void fa_nets_get_stats(const fa_nets *n, fa_nets_stats *out);

/* Builds dlib's ResNet face encoder from face-api's TF.js weights
 * (face_recognition_model-weights_manifest.json + .bin) and serializes it to
 * out_dat. Returns 0 or -1. */
int fa_convert_faceapi(const char *manifest_json, const char *weights_bin,
                       const char *out_dat);

/* A JPEG thumbnail of the square around box (with margin), size px wide,
 * from an image file. *out is malloc'd. Returns 0 or -1. */
int fa_thumbnail_jpeg(const char *path, const fa_box *box, int size,
                      uint8_t **out, size_t *out_len);

/* Limits glibc's malloc so that dlib's per-convolution scratch buffers are
 * reused instead of mmap'ed and returned on every layer. */
void fa_tune_malloc(void);

/* Sets the BLAS library and OpenCV to one thread each (faceaudit
 * parallelises above them).
 * Returns 1 if the BLAS dlib runs on is OpenBLAS, 0 if it is another one. */
int fa_blas_setup(void);

#ifdef __cplusplus
}
#endif
#endif
