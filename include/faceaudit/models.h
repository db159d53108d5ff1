/*
 * models.h - finding, fetching and verifying the three model files.
 *
 * All models live in one directory (default $FACEAUDIT_MODELS, else
 * $XDG_DATA_HOME/faceaudit/models, else ~/.local/share/faceaudit/models).
 * fa_models_fetch fills it from a local folder (air-gapped installs, CI), else
 * from dlib.net, checking pinned SHA-256 sums. When dlib's encoder file cannot
 * be had, it is rebuilt from face-api's TF.js port of the same network (npm
 * package @vladmandic/face-api@1.7.15), whose files are pinned too.
 */
#ifndef FACEAUDIT_MODELS_H
#define FACEAUDIT_MODELS_H
#include <stddef.h>
#include "faceaudit.h"
#include "encoder.h"
#include "cache.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FA_PATH_MAX 4096

typedef struct {
    char detector[FA_PATH_MAX];
    char landmarks[FA_PATH_MAX];
    char encoder[FA_PATH_MAX];
    char encoder2[FA_PATH_MAX]; /* "dlib+NAME": dlib's ResNet (encoder is NAME's file); else "" */
    const char *encoder_kind;   /* "dlib", "dlib (face-api weights)", "taguchi", "custom", "onnx", "dlib + onnx" */
    fa_encoder_spec spec;       /* how to run the encoder (dlib's ResNet or an ONNX model) */
} fa_models;

/* The default models directory (see above). Returns 0 or -1. */
FA_API int fa_models_default_dir(char *out, size_t n);

/* Picks the files in dir. encoder is NULL or "dlib" (dlib's original if
 * present, else the copy rebuilt from face-api), "faceapi", "taguchi", or a
 * path to any network file of the same dlib architecture. Returns 0, or -1
 * with a message saying what is missing and how to fetch it. */
FA_API int fa_models_resolve(const char *dir, const char *encoder, fa_models *out);

/* As fa_models_resolve, and also the ONNX encoders: "mobilefacenet",
 * "buffalo_l" / "w600k_r50", "japanese-face-v1" (files in dir), and
 * "onnx:FILE" or a FILE ending in .onnx, whose spec is spec_json, else
 * FILE.json or FILE with .onnx replaced by .json (a bare FILE name is also
 * looked for in dir). out->spec says how to run it. "dlib+E" (E one of
 * those ONNX encoders) resolves E and dlib's ResNet into out->encoder2. */
FA_API int fa_models_resolve_spec(const char *dir, const char *encoder, const char *spec_json, fa_models *out);

typedef struct {
    const char *dir;            /* destination */
    const char *from;           /* local folder of model files, or NULL */
    const char *encoder;        /* "dlib" (default), "taguchi", "mobilefacenet" (npm), "buffalo_l",
                                   "japanese-face-v1" (--from only), or a path */
    int offline;                /* never use the network */
    void (*log)(void *ud, const char *msg);
    void *log_ud;
} fa_fetch_params;

/* The roles of a set of model files, in the order every list of them keeps
 * (a cache's meta.json, `models list`): the detector, the landmarks, the
 * encoder, and for "dlib+E" dlib's ResNet as "encoder2" (E is the encoder). */
enum { FA_ROLE_DETECTOR, FA_ROLE_LANDMARKS, FA_ROLE_ENCODER, FA_ROLE_ENCODER2, FA_ROLES };

/* The name of role k ("detector", ...; NULL out of range). */
FA_API const char *fa_model_role(int k);

/* How many roles models run by spec fill: 4 for a fused encoder, else 3. */
FA_API int fa_model_roles(const fa_encoder_spec *spec);

/* The path of role k in m (its slot, FA_PATH_MAX bytes). */
FA_API char *fa_models_path(fa_models *m, int k);

/* The identity a cache records for the model file at path in role (its file
 * name and SHA-256). Returns 0, or -1 with a message naming the file. */
FA_API int fa_model_id_of(const char *role, const char *path, fa_model_id *out);

/* SHA-256 of a model file, cached next to it in NAME.sha256 (keyed by size
 * and mtime) so that repeated runs do not re-hash 100 MB. Returns 0, or -1
 * with a message naming the file. */
FA_API int fa_model_sha256(const char *path, char hex[65]);

/* Puts every model needed for p->encoder into p->dir and verifies it.
 * Returns 0, or -1 with a message naming the model and the reason. */
FA_API int fa_models_fetch(const fa_fetch_params *p);

#ifdef __cplusplus
}
#endif
#endif
