/*
 * query.c - the face side of `faceaudit query` (see query.h): load the
 * models a cache was made with, refusing others, and turn photos into
 * embeddings with the same steps and detection policy as the indexer
 * (photo.c), so that a query face and a cached face are comparable.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "faceaudit/models.h"
#include "faceaudit/query.h"
#include "photo.h"
#include "sha256.h"
#include "thumb.h"
#include "util.h"

#define MAX_PHOTO_BYTES ((size_t)1 << 30)

struct fa_query {
    fa_nets *nets;
    fa_detect_params detect;
    int dim;
    fa_query_times times;
};

/* dir/name when the cache records a model by that name and it is there. */
static int recorded_file(const fa_cache *c, const char *role, const char *dir, char out[FA_PATH_MAX])
{
    const fa_model_id *m = fa_cache_model(c, role);
    if (!m || !m->name[0] || strchr(m->name, '/')) return 0;
    snprintf(out, FA_PATH_MAX, "%s/%s", dir, m->name);
    return access(out, R_OK) == 0;
}

/* The file to use for each role: the cache's own file name first (the
 * models dir may hold several encoders), else the usual resolution. */
static int pick_models(const fa_cache *c, const char *dir, const char *encoder, fa_models *m)
{
    fa_models r;
    /* Without --encoder, the encoder the cache names (dlib's by default). */
    const char *enc = encoder ? encoder : strcmp(c->encoder, "dlib") ? c->encoder : NULL;
    int resolved = fa_models_resolve(dir, enc, &r) == 0;
    memset(m, 0, sizeof *m);
    if (resolved) m->spec = r.spec;
    else fa_encoder_spec_dlib(&m->spec);
    for (int i = 0; i < fa_model_roles(&m->spec); i++) {
        if (i == FA_ROLE_ENCODER && (encoder || r.spec.onnx)) {    /* an explicit --encoder wins */
            if (!resolved) return -1;
            memcpy(fa_models_path(m, i), fa_models_path(&r, i), FA_PATH_MAX);
        } else if (!recorded_file(c, fa_model_role(i), dir, fa_models_path(m, i))) {
            if (!resolved) return -1;   /* message from fa_models_resolve */
            memcpy(fa_models_path(m, i), fa_models_path(&r, i), FA_PATH_MAX);
        }
    }
    return 0;
}

/* Refuses a model whose SHA-256 is not the one the cache records. */
static int check_model(const fa_cache *c, const char *role, const char *path)
{
    char hex[65];
    const fa_model_id *m = fa_cache_model(c, role);
    if (!m) return fa_error("%s records no %s model; re-index it", c->dir, role);
    if (fa_model_sha256(path, hex)) return -1;
    if (strcmp(hex, m->sha256) != 0)
        return fa_error("%s was made with %s model %s (sha256 %.12s...), but %s has sha256 %.12s...; "
                        "faces encoded by different models cannot be compared: use --models with the "
                        "cache's models, or re-index the photos with these",
                        c->dir, role, m->name, m->sha256, path, hex);
    return 0;
}

/* The number after "key": in the text, or NaN. */
static double json_number_after(const char *text, const char *key)
{
    const char *p = strstr(text, key);
    if (!p) return NAN;
    char *end;
    double v = strtod(p + strlen(key), &end);
    return end == p + strlen(key) ? NAN : v;
}

float fa_query_default_distance(const fa_cache *c, const char **source)
{
    /* findings.json starts with its generation and threshold (the findings
     * follow): its head is enough, whatever the list's size. */
    char head[4096] = {0};
    char *path = fa_path_join(c->dir, "findings.json");
    FILE *f = path ? fopen(path, "rb") : NULL;
    free(path);
    if (f) {
        size_t n = fread(head, 1, sizeof head - 1, f);
        head[n] = 0;
        fclose(f);
    }
    double gen = json_number_after(head, "\"generation\":"), t = json_number_after(head, "\"threshold\":");
    /* the audit's encoder as findings.json names it: its model file */
    const fa_model_id *em = fa_cache_model(c, fa_model_role(FA_ROLE_ENCODER));
    char enc[160];
    snprintf(enc, sizeof enc, "\"encoder\":\"%s\"", em ? em->name : "");
    int ok = t > 0 && t < 1e3 && strstr(head, "\"threshold_source\":\"calibrated\"") != NULL &&
             strstr(head, enc) != NULL;
    /* an earlier generation (re-indexed since) of the same encoder: still this
     * dataset's scale, far nearer than the fixed rule; the caller says so */
    if (source) *source = !ok ? "encoder" : gen == (double)c->generation ? "calibrated" : "calibrated_earlier";
    return ok ? (float)t : fa_encoder_same_distance(c->encoder, c->metric);
}

fa_query *fa_query_open(const fa_cache *c, const char *models_dir, const char *encoder)
{
    double t0 = fa_now();
    fa_models m;
    if (pick_models(c, models_dir, encoder, &m)) return NULL;
    if (strcmp(m.spec.name, c->encoder) != 0) {
        fa_error("%s was made with the %s encoder, this query uses %s: faces encoded by different "
                 "encoders cannot be compared (leave out --encoder, or query a cache made with it)",
                 c->dir, c->encoder, m.spec.name);
        return NULL;
    }
    for (int i = 0; i < fa_model_roles(&m.spec); i++)
        if (check_model(c, fa_model_role(i), fa_models_path(&m, i))) return NULL;
    fa_query *q = calloc(1, sizeof *q);
    if (!q) { fa_error("out of memory"); return NULL; }
    fa_model_paths paths = {m.detector, m.landmarks, m.encoder, &m.spec, m.encoder2};
    q->nets = fa_nets_load(&paths);
    if (!q->nets) { free(q); return NULL; }
    q->dim = fa_nets_dim(q->nets);
    if (q->dim != c->dim) {
        fa_error("%s holds %d-d embeddings, the encoder %s makes %d-d ones", c->dir, c->dim, m.encoder, q->dim);
        fa_query_free(q);
        return NULL;
    }
    q->detect = c->detect;
    q->times.load = fa_now() - t0;
    return q;
}

void fa_query_free(fa_query *q)
{
    if (!q) return;
    fa_nets_free(q->nets);
    free(q);
}

void fa_query_faces_free(fa_query_faces *f)
{
    if (!f) return;
    free(f->boxes);
    free(f->emb);
    memset(f, 0, sizeof *f);
}

void fa_query_get_times(const fa_query *q, fa_query_times *t)
{
    *t = q->times;
}

/* Reads and decodes; fills out->status/reason on failure. */
static int load_image(fa_query *q, const char *path, fa_image *img, fa_query_faces *out)
{
    char *bytes = NULL;
    size_t len = 0;
    double t0 = fa_now();
    if (fa_read_file(path, MAX_PHOTO_BYTES, &bytes, &len)) {
        const char *e = fa_last_error(), *colon = strstr(e, ": ");
        out->status = FA_STATUS_UNREADABLE;
        snprintf(out->reason, sizeof out->reason, "%s", colon ? colon + 2 : e);
        return -1;
    }
    out->has_sha256 = fa_sha256_buf(bytes, len, out->sha256) == 0;
    out->status = fa_photo_decode(bytes, len, &q->detect, img, out->reason, sizeof out->reason);
    free(bytes);
    if (out->status == FA_STATUS_OK) {
        fa_image_thumb(img, out->image_thumb);
        out->has_image_thumb = 1;
    }
    q->times.decode += fa_now() - t0;
    return out->status == FA_STATUS_OK ? 0 : -1;
}

int fa_query_photo(fa_query *q, const char *path, fa_query_faces *out)
{
    fa_image img = {0};
    memset(out, 0, sizeof *out);
    if (load_image(q, path, &img, out)) return fa_error("%s: %s", path, out->reason);
    out->width = img.width;
    out->height = img.height;
    fa_photo_times t = {0};
    out->status = fa_photo_faces(q->nets, &img, &q->detect, q->dim, &out->boxes, &out->emb, NULL, &out->n_faces,
                                 out->reason, sizeof out->reason, &t);
    fa_image_free(&img);
    q->times.detect += t.detect;
    q->times.encode += t.encode;
    if (out->status != FA_STATUS_OK) return fa_error("%s: %s", path, out->reason);
    return 0;
}

fa_same_kind fa_query_same_photo(const fa_cache *c, const fa_query_faces *f, uint32_t file, float *corr)
{
    const fa_file *cf = &c->files[file];
    if (corr) *corr = NAN;
    if (f->has_sha256 && cf->has_sha256 && memcmp(f->sha256, cf->sha256, 32) == 0) return FA_SAME_BYTES;
    if (!f->has_image_thumb || !c->image_thumb) return FA_SAME_NONE;
    float r = fa_image_thumb_corr(f->image_thumb, f->width, f->height, c->image_thumb + (size_t)file * FA_THUMB_LEN,
                                  cf->width, cf->height);
    if (!(r >= FA_IMAGE_SAME)) return FA_SAME_NONE;
    if (corr) *corr = r;
    return FA_SAME_IMAGE;
}
