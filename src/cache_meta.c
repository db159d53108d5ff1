/*
 * cache_meta.c - the cache's meta.json (format in cache.h): written from the
 * data of a generation, read back checked field by field (a generation's
 * counts, dimension, root, models and file names).
 *
 * JSON is printed straight into a buffer (fa_buf_json_str), not built with
 * jansson, which parses it: jansson builds a whole document in memory before
 * writing it and refuses strings that are not UTF-8, which file names can
 * be; fa_buf_json_str escapes each such byte instead.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "faceaudit/cache.h"
#include "cache_io.h"
#include "cache_parse.h"
#include "json.h"
#include "sha256.h"

void fa_cache_meta_write(fa_buf *b, const fa_cache_data *d, int64_t gen, const fa_gen_names *names,
                         const char *created)
{
    size_t counts[FA_STATUS_COUNT] = {0};
    for (size_t i = 0; i < d->n_files; i++) counts[d->files[i].status]++;
    fa_buf_printf(b, "{\n  \"format\": \"faceaudit-cache\",\n  \"version\": %d,\n", FA_CACHE_FORMAT);
    fa_buf_printf(b, "  \"generation\": %lld,\n  \"created\": \"%s\",\n  \"root\": ", (long long)gen, created);
    fa_buf_json_str(b, d->root ? d->root : "");
    fa_buf_printf(b, ",\n  \"dim\": %d,\n  \"n_files\": %zu,\n  \"n_faces\": %zu,\n  \"n_folders\": %zu,\n",
                  d->dim, d->n_files, d->n_faces, d->n_folders);
    fa_buf_puts(b, "  \"encoder\": {\"name\": ");
    fa_buf_json_str(b, d->encoder ? d->encoder : "dlib");
    fa_buf_printf(b, ", \"dim\": %d, \"metric\": \"%s\"},\n", d->dim, fa_metric_name(d->metric));
    fa_buf_printf(b, "  \"embeddings\": \"%s\",\n  \"manifest\": \"%s\",\n", names->emb, names->man);
    if (d->thumb) fa_buf_printf(b, "  \"face_thumbs\": \"%s\",\n", names->thumb);
    if (d->image_thumb) fa_buf_printf(b, "  \"image_thumbs\": \"%s\",\n", names->image);
    fa_buf_puts(b, "  \"models\": [");
    for (int i = 0; i < d->n_models; i++) {
        fa_buf_printf(b, "%s\n    {\"role\": ", i ? "," : "");
        fa_buf_json_str(b, d->models[i].role);
        fa_buf_puts(b, ", \"name\": ");
        fa_buf_json_str(b, d->models[i].name);
        fa_buf_printf(b, ", \"sha256\": \"%s\"}", d->models[i].sha256);
    }
    const fa_detect_params *p = d->detect;
    fa_buf_printf(b, "\n  ],\n  \"detect\": {\"detect_long_side\": %d, \"upsample_min_side\": %d, "
                  "\"retry_long_side\": %d, \"max_pixels\": %lld, \"chip_size\": %d, \"chip_padding\": %.4f},\n",
                  p->detect_long_side, p->upsample_min_side, p->retry_long_side,
                  (long long)p->max_pixels, p->chip_size, p->chip_padding);
    if (d->shard_n)
        fa_buf_printf(b, "  \"shard\": {\"k\": %u, \"n\": %u},\n", d->shard_k, d->shard_n);
    fa_buf_puts(b, "  \"status_counts\": {");
    for (int s = 0; s < FA_STATUS_COUNT; s++)
        fa_buf_printf(b, "%s\"%s\": %zu", s ? ", " : "", fa_status_name((fa_status)s), counts[s]);
    fa_buf_puts(b, "}\n}\n");
}

/* A whole number in [lo, hi] under key (label names it in the message). The
 * range is checked before any cast: a cast of an out-of-range double is
 * undefined behaviour. */
static int meta_num(const fa_json *j, const char *key, const char *label, const char *path, double lo,
                    double hi, double *out)
{
    if (fa_json_num(j, key, out) || !(*out >= lo && *out <= hi) || *out != (double)(long long)*out)
        return fa_error("%s: \"%s\" missing or out of range", path, label);
    return 0;
}

/* The encoder record; caches from before it was written are dlib's, 128-d, Euclidean. */
static int meta_encoder(const fa_json *j, fa_cache *c, const char *path)
{
    const fa_json *e = fa_json_get(j, "encoder");
    const char *name = e ? fa_json_strv(e, "name") : "dlib", *metric = e ? fa_json_strv(e, "metric") : "euclidean";
    double dim = e ? -1 : c->dim;
    if (e) fa_json_num(e, "dim", &dim);
    if (!name || !*name || strlen(name) >= sizeof c->encoder || !metric || dim != c->dim ||
        (strcmp(metric, "euclidean") && strcmp(metric, "cosine")))
        return fa_error("%s: bad \"encoder\" record (name, dim equal to \"dim\", metric euclidean or cosine)", path);
    snprintf(c->encoder, sizeof c->encoder, "%s", name);
    c->metric = strcmp(metric, "cosine") == 0 ? FA_METRIC_COSINE : FA_METRIC_EUCLIDEAN;
    return 0;
}

static int meta_int(const fa_json *j, const char *key, const char *path, double lo, double hi, double *out)
{
    return meta_num(j, key, key, path, lo, hi, out);
}

/* The detection policy, each field in the range the tool can use. */
static int meta_detect(const fa_json *det, const char *path, fa_detect_params *p)
{
    double a, b, c, d, e, f;
    if (!det || det->type != FA_JOBJ) return fa_error("%s: \"detect\" missing", path);
    if (meta_num(det, "detect_long_side", "detect.detect_long_side", path, 1, 65535, &a) ||
        meta_num(det, "upsample_min_side", "detect.upsample_min_side", path, 0, 65535, &b) ||
        meta_num(det, "retry_long_side", "detect.retry_long_side", path, 0, 65535, &c) ||
        meta_num(det, "max_pixels", "detect.max_pixels", path, 0, 1e15, &d) ||
        meta_num(det, "chip_size", "detect.chip_size", path, 1, 4096, &e))
        return -1;
    if (fa_json_num(det, "chip_padding", &f) || !(f >= 0 && f <= 1))
        return fa_error("%s: \"detect.chip_padding\" missing or out of range", path);
    *p = (fa_detect_params){(int)a, (int)b, (int)c, (int64_t)d, (int)e, (float)f};
    return 0;
}

/* Names of the generation files: plain names inside the cache directory. */
static int meta_name_ok(const char *n) { return n && n[0] && strlen(n) <= 200 && !strchr(n, '/') && strcmp(n, ".") && strcmp(n, ".."); }

/* An optional file name under key: "" when absent; -1 when present but bad. */
static int meta_optional_name(const fa_json *j, const char *key, const char *path, char out[256])
{
    const char *n = fa_json_strv(j, key);
    out[0] = 0;
    if (!fa_json_get(j, key)) return 0;
    if (!meta_name_ok(n)) return fa_error("%s: bad %s file name", path, key);
    strcpy(out, n);
    return 0;
}

int fa_cache_parse_meta(fa_cache *c, const char *path, const char *text, size_t len, fa_gen_names *names)
{
    double v;
    fa_json *j = fa_json_parse(text, len);
    if (!j) return fa_error("%s: %s", path, fa_last_error());
    const char *fmt = fa_json_strv(j, "format");
    int rc = -1;
    if (!fmt || strcmp(fmt, "faceaudit-cache") != 0) { fa_error("%s: not a faceaudit cache", path); goto out; }
    if (meta_int(j, "version", path, 1, 1e9, &v)) goto out;
    if (v != FA_CACHE_FORMAT) {
        fa_error("%s: cache format %g, this faceaudit reads %d (rebuild with --rebuild)", path, v, FA_CACHE_FORMAT);
        goto out;
    }
    if (meta_int(j, "generation", path, 0, 9e15, &v)) goto out;
    c->generation = (int64_t)v;
    if (meta_int(j, "dim", path, 1, FA_DIM_MAX, &v)) goto out;
    c->dim = (int)v;
    if (meta_encoder(j, c, path)) goto out;
    /* Upper bounds only: the manifest's rows are counted before any of
     * these is used to allocate. */
    if (meta_int(j, "n_files", path, 0, 1e12, &v)) goto out;
    c->n_files = (size_t)v;
    if (meta_int(j, "n_faces", path, 0, 1e12, &v)) goto out;
    c->n_faces = (size_t)v;
    if (meta_detect(fa_json_get(j, "detect"), path, &c->detect)) goto out;
    const char *root = fa_json_strv(j, "root"), *created = fa_json_strv(j, "created");
    const char *en = fa_json_strv(j, "embeddings"), *mn = fa_json_strv(j, "manifest");
    if (!root || !meta_name_ok(en) || !meta_name_ok(mn)) {
        fa_error("%s: missing or bad root/embeddings/manifest", path);
        goto out;
    }
    free(c->root);
    c->root = fa_strdup(root);
    if (!c->root) { fa_error("%s: out of memory", path); goto out; }
    snprintf(c->created, sizeof c->created, "%s", created ? created : "");
    strcpy(names->emb, en);
    strcpy(names->man, mn);
    /* optional: caches made before face or image thumbnails lack them */
    if (meta_optional_name(j, "face_thumbs", path, names->thumb) ||
        meta_optional_name(j, "image_thumbs", path, names->image))
        goto out;
    const fa_json *models = fa_json_get(j, "models");
    if (!models || models->type != FA_JARR || models->n > FA_MODELS_MAX) {
        fa_error("%s: bad models list", path);
        goto out;
    }
    c->n_models = 0;
    for (size_t i = 0; i < models->n; i++) {
        const char *role = fa_json_strv(&models->kids[i], "role"), *name = fa_json_strv(&models->kids[i], "name");
        const char *sha = fa_json_strv(&models->kids[i], "sha256");
        if (!role || !name || !sha || strlen(sha) != 64) { fa_error("%s: bad model entry", path); goto out; }
        fa_model_id *m = &c->models[c->n_models++];
        snprintf(m->role, sizeof m->role, "%s", role);
        snprintf(m->name, sizeof m->name, "%s", name);
        snprintf(m->sha256, sizeof m->sha256, "%s", sha);
    }
    const fa_json *shard = fa_json_get(j, "shard");   /* optional: only shard caches have it */
    if (shard) {
        double a, b2;
        if (meta_int(shard, "n", path, 1, 1e6, &a) || meta_int(shard, "k", path, 1, a, &b2)) goto out;
        c->shard_n = (uint32_t)a;
        c->shard_k = (uint32_t)b2;
    }
    rc = 0;
out:
    fa_json_free(j);
    return rc;
}

int fa_cache_meta_read(fa_cache *c, const char *path, fa_gen_names *names)
{
    char *text;
    size_t len;
    if (fa_read_file(path, META_MAX, &text, &len)) return -1;
    int rc = fa_cache_parse_meta(c, path, text, len, names);
    free(text);
    return rc;
}
