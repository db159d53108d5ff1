/*
 * encoder_spec.c - the encoders faceaudit knows by name, and JSON specs for
 * other ONNX models (see faceaudit/encoder.h); the model roles they fill
 * (faceaudit/models.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "faceaudit/encoder.h"
#include "faceaudit/faceaudit.h"
#include "faceaudit/models.h"
#include "json.h"
#include "util.h"

#define SPEC_MAX_BYTES (64 * 1024)

/* ArcFace's 5-point template for a 112x112 crop (insightface's arcface_dst). */
static const float arcface112[10] = {38.2946f, 51.6963f, 73.5318f, 51.5014f, 56.0252f,
                                     71.7366f, 41.5493f, 92.3655f, 70.7299f, 92.2041f};

static void arcface_template(fa_encoder_spec *s)
{
    float k = s->input_w / 112.0f;
    for (int i = 0; i < 10; i++) s->template5[i] = arcface112[i] * k;
}

static void set3(float v[3], float a, float b, float c) { v[0] = a; v[1] = b; v[2] = c; }

const char *fa_metric_name(fa_metric m) { return m == FA_METRIC_COSINE ? "cosine" : "euclidean"; }

void fa_encoder_spec_dlib(fa_encoder_spec *s)
{
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "dlib");
    s->dim = 128;
    s->metric = FA_METRIC_EUCLIDEAN;
    s->same_distance = 0.6f;
}

/* ArcFace defaults: 112x112 RGB, (x - 127.5) / 127.5, 512-d cosine. */
static void arcface_defaults(fa_encoder_spec *s)
{
    memset(s, 0, sizeof *s);
    s->onnx = 1;
    s->dim = 512;
    s->metric = FA_METRIC_COSINE;
    s->input_w = s->input_h = 112;
    s->rgb = 1;
    set3(s->mean, 127.5f, 127.5f, 127.5f);
    set3(s->scale, 1 / 127.5f, 1 / 127.5f, 1 / 127.5f);
    s->align = FA_ALIGN_TEMPLATE;
    arcface_template(s);
    /* cos 0.34: between the cross- and within-identity modes we measured
     * for ArcFace-family models (bench/eval_encoders); the audit calibrates
     * its own threshold, this is the query's default. */
    s->same_distance = 1.15f;
}

#define DLIB_PREFIX "dlib+"

const char *fa_encoder_fused_part(const char *name)
{
    return name && strncmp(name, DLIB_PREFIX, strlen(DLIB_PREFIX)) == 0 ? name + strlen(DLIB_PREFIX) : NULL;
}

int fa_encoder_spec_fuse(fa_encoder_spec *s)
{
    if (!s->onnx || s->fused) return fa_error("%s: only an ONNX encoder joins dlib's", s->name);
    char name[sizeof s->name];
    snprintf(name, sizeof name, DLIB_PREFIX "%.58s", s->name);
    memcpy(s->name, name, sizeof name);
    s->fused = 1;
    s->part_dim = s->dim;
    s->part_metric = s->metric;
    s->part_same = s->same_distance;
    s->dim += 128;
    s->metric = FA_METRIC_EUCLIDEAN;
    s->same_distance = 1.0f;
    return 0;
}

void fa_encoder_spec_part(const fa_encoder_spec *s, fa_encoder_spec *out)
{
    *out = *s;
    if (!s->fused) return;
    out->fused = 0;
    out->dim = s->part_dim;
    out->metric = s->part_metric;
    out->same_distance = s->part_same;
}

int fa_encoder_spec_named(const char *name, fa_encoder_spec *s)
{
    if (!name) return 0;
    if (fa_encoder_fused_part(name)) {
        fa_encoder_spec part;
        if (!fa_encoder_spec_named(fa_encoder_fused_part(name), &part) || part.fused) return 0;
        *s = part;
        return fa_encoder_spec_fuse(s) == 0;
    }
    if (strcmp(name, "mobilefacenet") == 0) {
        /* lib/fr_feature.js of the npm package: (x - 127) / 128 on RGB. */
        arcface_defaults(s);
        set3(s->mean, 127, 127, 127);
        set3(s->scale, 1 / 128.0f, 1 / 128.0f, 1 / 128.0f);
        snprintf(s->file, sizeof s->file, "fr_feature.onnx");
        snprintf(s->sha256, sizeof s->sha256, "87aacdfe57510db2af90c0251df680e8eec88f122ee94712121d09bcaaaf3581");
    } else if (strcmp(name, "buffalo_l") == 0 || strcmp(name, "w600k_r50") == 0) {
        /* insightface's ArcFaceONNX: blobFromImage(1/127.5, mean 127.5, swapRB) on BGR = RGB input. */
        arcface_defaults(s);
        snprintf(s->file, sizeof s->file, "w600k_r50.onnx");
    } else if (strcmp(name, "japanese-face-v1") == 0) {
        /* FACE01 (api.py, JAPANESE_FACE_V1_model_compute_face_descriptor):
         * dlib.get_face_chip(size=224, padding=0.1), RGB, ToTensor (/255),
         * Normalize(ImageNet mean, std); cosine, same person at cos >= 0.4. */
        arcface_defaults(s);
        s->input_w = s->input_h = 224;
        s->align = FA_ALIGN_DLIB_CHIP;
        s->padding = 0.1f;
        set3(s->mean, 0.485f * 255, 0.456f * 255, 0.406f * 255);
        set3(s->scale, 1 / (0.229f * 255), 1 / (0.224f * 255), 1 / (0.225f * 255));
        s->same_distance = sqrtf(2 - 2 * 0.4f);
        snprintf(s->file, sizeof s->file, "efficientnetv2_arcface.onnx");
    } else {
        return 0;
    }
    snprintf(s->name, sizeof s->name, "%s", name);
    return 1;
}

float fa_encoder_same_distance(const char *name, fa_metric metric)
{
    fa_encoder_spec s;
    if (fa_encoder_spec_named(name, &s)) return s.same_distance;
    if (fa_encoder_fused_part(name)) return 1.0f;   /* dlib+onnx:FILE */
    if (metric == FA_METRIC_COSINE) { arcface_defaults(&s); return s.same_distance; }
    return 0.6f;
}

/* ---- JSON specs ------------------------------------------------------------ */

static int spec_bad(const char *path, const char *field, const char *why)
{
    return fa_error("%s: encoder spec field \"%s\": %s", path, field, why);
}

/* An array of n numbers in [lo, hi]. */
static int num_array(const fa_json *j, const char *key, const char *path, int n, double lo, double hi, float *out)
{
    const fa_json *a = fa_json_get(j, key);
    if (!a) return 1;   /* absent: keep the default */
    if (a->type != FA_JARR || (int)a->n != n) {
        char why[64];
        snprintf(why, sizeof why, "must be an array of %d numbers", n);
        return spec_bad(path, key, why);
    }
    for (int i = 0; i < n; i++) {
        if (a->kids[i].type != FA_JNUM || !(a->kids[i].num >= lo && a->kids[i].num <= hi))
            return spec_bad(path, key, "number out of range");
        out[i] = (float)a->kids[i].num;
    }
    return 0;
}

static int read_template(const fa_json *j, const char *path, fa_encoder_spec *s)
{
    const fa_json *t = fa_json_get(j, "template");
    if (!t) { arcface_template(s); return 0; }
    if (t->type != FA_JARR || t->n != 5) return spec_bad(path, "template", "must be 5 [x, y] points");
    for (int i = 0; i < 5; i++) {
        const fa_json *p = &t->kids[i];
        if (p->type != FA_JARR || p->n != 2 || p->kids[0].type != FA_JNUM || p->kids[1].type != FA_JNUM)
            return spec_bad(path, "template", "must be 5 [x, y] points");
        double x = p->kids[0].num, y = p->kids[1].num;
        if (!(x >= 0 && x <= s->input_w && y >= 0 && y <= s->input_h))
            return spec_bad(path, "template", "a point lies outside the input");
        s->template5[2 * i] = (float)x;
        s->template5[2 * i + 1] = (float)y;
    }
    return 0;
}

static int read_enum(const fa_json *j, const char *key, const char *path, const char *a, const char *b, int *out)
{
    const fa_json *v = fa_json_get(j, key);
    if (!v) return 0;
    if (v->type == FA_JSTR && strcmp(v->str, a) == 0) { *out = 0; return 0; }
    if (v->type == FA_JSTR && strcmp(v->str, b) == 0) { *out = 1; return 0; }
    char why[96];
    snprintf(why, sizeof why, "must be \"%s\" or \"%s\"", a, b);
    return spec_bad(path, key, why);
}

/* A number member in (lo, hi]; 1 when absent. */
static int num_field(const fa_json *j, const char *key, const char *path, double lo, double hi, float *out)
{
    double v;
    if (!fa_json_get(j, key)) return 1;
    if (fa_json_num(j, key, &v) || !(v > lo && v <= hi)) return spec_bad(path, key, "number missing or out of range");
    *out = (float)v;
    return 0;
}

static int read_fields(const fa_json *j, const char *path, fa_encoder_spec *s)
{
    float in[2], stdv[3], dim = 0;
    int r, rgb = s->rgb, dlib = 0, cosine = 1;
    if ((r = num_array(j, "input", path, 2, 16, 1024, in)) < 0) return -1;
    if (r == 0) { s->input_w = (int)in[0]; s->input_h = (int)in[1]; }
    if (read_enum(j, "channels", path, "bgr", "rgb", &rgb) < 0) return -1;
    s->rgb = rgb;
    if (num_array(j, "mean", path, 3, -1e4, 1e4, s->mean) < 0) return -1;
    if ((r = num_array(j, "std", path, 3, 1e-6, 1e6, stdv)) < 0) return -1;
    if (r == 0)
        for (int i = 0; i < 3; i++) s->scale[i] = 1 / stdv[i];
    if (num_array(j, "scale", path, 3, -1e6, 1e6, s->scale) < 0) return -1;
    if (read_enum(j, "align", path, "arcface", "dlib", &dlib) < 0) return -1;
    s->align = dlib ? FA_ALIGN_DLIB_CHIP : FA_ALIGN_TEMPLATE;
    if (read_template(j, path, s)) return -1;
    if (num_field(j, "padding", path, -1e-9, 2, &s->padding) < 0) return -1;
    if (read_enum(j, "metric", path, "euclidean", "cosine", &cosine) < 0) return -1;
    s->metric = cosine ? FA_METRIC_COSINE : FA_METRIC_EUCLIDEAN;
    if (num_field(j, "dim", path, 0, FA_DIM_MAX, &dim) != 0 || dim != (int)dim)
        return spec_bad(path, "dim", "required, an integer from 1 to 1024 (the model's output size)");
    s->dim = (int)dim;
    const char *out = fa_json_strv(j, "output");
    if (out && strlen(out) >= sizeof s->output) return spec_bad(path, "output", "name too long");
    if (out) snprintf(s->output, sizeof s->output, "%s", out);
    if (s->metric == FA_METRIC_EUCLIDEAN) s->same_distance = 0.6f;
    if (num_field(j, "threshold", path, 0, 1e4, &s->same_distance) < 0) return -1;
    return 0;
}

int fa_encoder_spec_load(const char *path, fa_encoder_spec *s)
{
    char *text = NULL;
    size_t len = 0;
    if (fa_read_file(path, SPEC_MAX_BYTES, &text, &len)) return -1;
    fa_json *j = fa_json_parse(text, len);
    free(text);
    if (!j) return fa_error("%s: not a JSON encoder spec: %s", path, fa_last_error());
    int rc = -1;
    arcface_defaults(s);
    if (j->type != FA_JOBJ) spec_bad(path, "(top)", "must be an object");
    else rc = read_fields(j, path, s);
    fa_json_free(j);
    return rc;
}

/* ---- model roles (models.h) ---------------------------------------------------- */

const char *fa_model_role(int k)
{
    static const char *const roles[FA_ROLES] = {"detector", "landmarks", "encoder", "encoder2"};
    return k >= 0 && k < FA_ROLES ? roles[k] : NULL;
}

int fa_model_roles(const fa_encoder_spec *spec) { return spec && spec->fused ? 4 : 3; }

char *fa_models_path(fa_models *m, int k)
{
    char *slots[FA_ROLES] = {m->detector, m->landmarks, m->encoder, m->encoder2};
    return k >= 0 && k < FA_ROLES ? slots[k] : NULL;
}
