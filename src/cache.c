/*
 * cache.c - reading and committing the embedding cache (format in cache.h).
 *
 * Readers trust nothing: the NPY header, every manifest row and meta.json are
 * checked against each other before anything is allocated by a count read
 * from disk. Writers never touch the committed files: a new generation is
 * written beside them and meta.json is replaced last, atomically.
 *
 * JSON is printed straight into a buffer (fa_buf_json_str), not built with
 * jansson, which parses it: jansson builds a whole document in memory before
 * writing it and refuses strings that are not UTF-8, which file names can
 * be; fa_buf_json_str escapes each such byte instead.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "faceaudit/cache.h"
#include "cache_parse.h"
#include "hashmap.h"
#include "json.h"
#include "sha256.h"
#include "util.h"

#define META_MAX (1 << 20)
#define MANIFEST_COLUMNS 17
static const char *const manifest_header =
    "row\tfolder\tpath\tface\tnfaces\tstatus\tx\ty\tw\th\tscore\twidth\theight\tsize\tmtime_ns\tsha256\treason";

/* ---- text escaping --------------------------------------------------------- */

char *fa_tsv_escape(const char *raw)
{
    fa_buf b = {0};
    const unsigned char *p = (const unsigned char *)raw;
    size_t n = strlen(raw);
    fa_buf_append(&b, "", 0);
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i];
        if (c == '\\') { fa_buf_puts(&b, "\\\\"); i++; continue; }
        if (c == '\t') { fa_buf_puts(&b, "\\t"); i++; continue; }
        if (c == '\n') { fa_buf_puts(&b, "\\n"); i++; continue; }
        if (c == '\r') { fa_buf_puts(&b, "\\r"); i++; continue; }
        if (c < 0x20 || c == 0x7f) { fa_buf_printf(&b, "\\x%02x", c); i++; continue; }
        /* copy the longest valid UTF-8 sequence; a bad byte becomes \xHH */
        size_t k = fa_utf8_next((const char *)p + i, n - i, NULL);
        if (!k) { fa_buf_printf(&b, "\\x%02x", c); i++; continue; }
        fa_buf_append(&b, p + i, k);
        i += k;
    }
    if (b.oom) { fa_buf_free(&b); return NULL; }
    return b.data;
}

char *fa_tsv_unescape(const char *text)
{
    size_t n = strlen(text);
    char *out = malloc(n + 1), *o = out;
    if (!out) return NULL;
    for (size_t i = 0; i < n; i++) {
        if (text[i] != '\\') { *o++ = text[i]; continue; }
        char e = text[++i];
        if (e == '\\') *o++ = '\\';
        else if (e == 't') *o++ = '\t';
        else if (e == 'n') *o++ = '\n';
        else if (e == 'r') *o++ = '\r';
        else if (e == 'x' && i + 2 < n + 1) {
            unsigned v;
            char hx[3] = {text[i + 1], text[i + 2], 0};
            char *end;
            if (!hx[0] || !hx[1]) { free(out); return NULL; }
            v = (unsigned)strtoul(hx, &end, 16);
            if (*end || v == 0) { free(out); return NULL; }
            *o++ = (char)v;
            i += 2;
        } else { free(out); return NULL; }
    }
    *o = 0;
    return out;
}

/* ---- NPY ------------------------------------------------------------------- */

/* Writes an NPY v1.0 header for a C-order [n][cols] array of descr ('<f4'
 * float32, '|u1' bytes), padded to 64 bytes. */
static void npy_header(fa_buf *b, const char *descr, size_t n, int cols)
{
    char dict[128];
    int dl = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (%zu, %d), }",
                      descr, n, cols);
    size_t total = 10 + (size_t)dl + 1;
    size_t pad = (64 - total % 64) % 64;
    uint16_t hlen = (uint16_t)((size_t)dl + pad + 1);
    fa_buf_append(b, "\x93NUMPY\x01\x00", 8);
    uint8_t le[2] = {(uint8_t)(hlen & 0xff), (uint8_t)(hlen >> 8)};
    fa_buf_append(b, le, 2);
    fa_buf_append(b, dict, (size_t)dl);
    for (size_t i = 0; i < pad; i++) fa_buf_putc(b, ' ');
    fa_buf_putc(b, '\n');
}

/* Decimal digits only (sscanf would take a sign and overflow silently). */
static int npy_uint(const char **s, unsigned long long *out)
{
    unsigned long long v = 0;
    const char *p = *s;
    if (*p < '0' || *p > '9') return -1;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > (ULLONG_MAX - 9) / 10) return -1;
        v = v * 10 + (unsigned)(*p - '0');
    }
    *s = p;
    *out = v;
    return 0;
}

/* "R, C)" after "'shape': (". */
static int npy_dims(const char *s, unsigned long long *r, unsigned long long *c)
{
    if (npy_uint(&s, r) || *s++ != ',') return -1;
    while (*s == ' ') s++;
    if (npy_uint(&s, c)) return -1;
    while (*s == ' ') s++;
    return *s == ')' ? 0 : -1;
}

/* Parses the header of a C-order 2-D NPY of descr (what names its content
 * in messages). Returns the data offset or -1. */
static long npy_parse(const char *path, const uint8_t *p, size_t len, const char *descr, const char *what,
                      size_t *rows, unsigned long long *cols)
{
    if (len < 10 || memcmp(p, "\x93NUMPY", 6) != 0)
        return fa_error("%s: not an NPY file (bad magic)", path);
    size_t hlen, off;
    if (p[6] == 1) { hlen = p[8] | (size_t)p[9] << 8; off = 10; }
    else if (p[6] == 2 || p[6] == 3) {
        if (len < 12) return fa_error("%s: truncated NPY header", path);
        hlen = p[8] | (size_t)p[9] << 8 | (size_t)p[10] << 16 | (size_t)p[11] << 24;
        off = 12;
    } else return fa_error("%s: unsupported NPY version %d", path, p[6]);
    if (hlen > 65536 || off + hlen > len) return fa_error("%s: truncated NPY header", path);
    char h[65537], d1[32], d2[32];
    memcpy(h, p + off, hlen);
    h[hlen] = 0;
    snprintf(d1, sizeof d1, "'descr': '%s'", descr);
    snprintf(d2, sizeof d2, "\"descr\": \"%s\"", descr);
    if (!strstr(h, d1) && !strstr(h, d2))
        return fa_error("%s: %s must be %s ('%s')", path, what,
                        descr[1] == 'f' ? "little-endian float32" : "unsigned bytes", descr);
    if (!strstr(h, "'fortran_order': False"))
        return fa_error("%s: %s must be in C order", path, what);
    const char *s = strstr(h, "'shape': (");
    unsigned long long r;
    if (!s || npy_dims(s + 10, &r, cols)) return fa_error("%s: NPY shape must be (rows, dim)", path);
    if (r > (1ULL << 40)) return fa_error("%s: %llu rows is beyond any cache", path, r);
    *rows = (size_t)r;
    return (long)(off + hlen);
}

long fa_npy_parse(const char *path, const uint8_t *p, size_t len, size_t *rows, int *cols)
{
    unsigned long long c;
    long off = npy_parse(path, p, len, "<f4", "embeddings", rows, &c);
    if (off < 0) return -1;
    if (c == 0 || c > FA_DIM_MAX) return fa_error("%s: bad embedding dimension %llu", path, c);
    *cols = (int)c;
    return off;
}

/* ---- meta.json ------------------------------------------------------------- */

static void meta_write(fa_buf *b, const fa_cache_data *d, int64_t gen, const char *emb_name,
                       const char *man_name, const char *thumb_name, const char *created)
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
    fa_buf_printf(b, "  \"embeddings\": \"%s\",\n  \"manifest\": \"%s\",\n", emb_name, man_name);
    if (d->thumb) fa_buf_printf(b, "  \"face_thumbs\": \"%s\",\n", thumb_name);
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

int fa_cache_parse_meta(fa_cache *c, const char *path, const char *text, size_t len, char emb_name[256],
                        char man_name[256], char thumb_name[256])
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
    strcpy(emb_name, en);
    strcpy(man_name, mn);
    const fa_json *tj = fa_json_get(j, "face_thumbs");   /* optional: caches made before thumbnails lack it */
    const char *tn = fa_json_strv(j, "face_thumbs");
    if (tj && !meta_name_ok(tn)) { fa_error("%s: bad face_thumbs file name", path); goto out; }
    strcpy(thumb_name, tj ? tn : "");
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

static int meta_read(fa_cache *c, const char *path, char *emb_name, char *man_name, char *thumb_name)
{
    char *text;
    size_t len;
    if (fa_read_file(path, META_MAX, &text, &len)) return -1;
    int rc = fa_cache_parse_meta(c, path, text, len, emb_name, man_name, thumb_name);
    free(text);
    return rc;
}

/* ---- manifest -------------------------------------------------------------- */

static void manifest_row(fa_buf *b, long long row, const char *folder_esc, const char *path_esc,
                         const fa_file *f, long long face, const fa_box *box)
{
    char hex[65] = "";
    if (f->has_sha256) fa_sha256_hex(f->sha256, hex);
    static const fa_box none;
    if (!box) box = &none;
    fa_buf_printf(b, "%lld\t%s\t%s\t%lld\t%u\t%s\t%.2f\t%.2f\t%.2f\t%.2f\t%.4f\t%d\t%d\t%lld\t%lld\t%s\t",
                  row, folder_esc, path_esc, face, f->n_faces, fa_status_name(f->status),
                  box->x, box->y, box->w, box->h, box->score, f->width, f->height,
                  (long long)f->size, (long long)f->mtime_ns, hex);
    char *reason = fa_tsv_escape(f->reason ? f->reason : "");
    fa_buf_puts(b, reason ? reason : "");
    free(reason);
    fa_buf_putc(b, '\n');
}

/* Streams the manifest to fd: files in order, one row per face (rows of a
 * file consecutive, so embedding rows come in order) or one row without. */
static int manifest_write(int fd, const char *path, const fa_cache_data *d)
{
    fa_buf b = {0};
    int64_t next_row = 0;
    fa_buf_printf(&b, "%s\n", manifest_header);
    for (size_t i = 0; i < d->n_files; i++) {
        const fa_file *f = &d->files[i];
        if (f->n_faces && f->first_face != next_row) {
            fa_buf_free(&b);
            return fa_error("%s: faces of %s are not in file order", path, f->path);
        }
        char *pe = fa_tsv_escape(f->path), *fe = fa_tsv_escape(d->folders[f->folder]);
        if (!pe || !fe) { free(pe); free(fe); fa_buf_free(&b); return fa_error("%s: out of memory", path); }
        if (f->n_faces == 0) manifest_row(&b, -1, fe, pe, f, -1, NULL);
        for (uint32_t k = 0; k < f->n_faces; k++, next_row++)
            manifest_row(&b, (long long)next_row, fe, pe, f, d->faces[next_row].face, &d->faces[next_row].box);
        free(pe);
        free(fe);
        if (b.len > (1 << 20) || i + 1 == d->n_files) {
            if (b.oom) { fa_buf_free(&b); return fa_error("%s: out of memory", path); }
            if (fa_write_all(fd, b.data, b.len)) {
                int e = errno;
                fa_buf_free(&b);
                return fa_error("%s: write: %s", path, strerror(e));
            }
            b.len = 0;
        }
    }
    if (b.len && fa_write_all(fd, b.data, b.len)) {
        int e = errno;
        fa_buf_free(&b);
        return fa_error("%s: write: %s", path, strerror(e));
    }
    fa_buf_free(&b);
    return 0;
}

/* Splits a line into tab-separated fields in place; returns the count. */
static int split_tabs(char *line, char **fields, int max)
{
    int n = 0;
    fields[n++] = line;
    for (char *p = line; *p; p++)
        if (*p == '\t') {
            *p = 0;
            if (n == max) return max + 1;
            fields[n++] = p + 1;
        }
    return n;
}

static int parse_ll(const char *s, long long lo, long long hi, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || errno || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

static int parse_f(const char *s, float *out)
{
    char *end;
    float v = strtof(s, &end);
    if (!*s || *end || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int folder_index(fa_cache *c, const char *name, uint32_t *out)
{
    char *const *hit = bsearch(&name, c->folders, c->n_folders, sizeof *c->folders, cmp_str);
    if (!hit) return -1;
    *out = (uint32_t)(hit - c->folders);
    return 0;
}

/* The file whose rows are being read must have all its face rows. */
static int file_complete(const fa_cache *c, const char *path, size_t lineno, size_t nf, size_t nface)
{
    const fa_file *f = nf ? &c->files[nf - 1] : NULL;
    if (f && f->n_faces && nface - (size_t)f->first_face != f->n_faces)
        return fa_error("%s:%zu: %s has %zu face rows, its nfaces says %u", path, lineno, f->path,
                        nface - (size_t)f->first_face, f->n_faces);
    return 0;
}

/* Starts a new file from a row whose face is -1 or 0. */
static int manifest_new_file(fa_cache *c, char **fl, const char *path, size_t lineno, size_t *nf,
                             long long row, long long nfaces, const long long v[4], char *p, char *folder)
{
    int st = fa_status_parse(fl[5]);
    if (*nf == c->n_files) { free(p); free(folder); return fa_error("%s:%zu: more files than meta.json says", path, lineno); }
    fa_file *f = &c->files[(*nf)++];
    memset(f, 0, sizeof *f);
    f->path = p;
    f->status = (fa_status)st;
    f->reason = fa_tsv_unescape(fl[16]);
    f->width = (int)v[0]; f->height = (int)v[1];
    f->size = v[2]; f->mtime_ns = v[3];
    f->n_faces = (uint32_t)nfaces;
    f->first_face = row;
    f->has_sha256 = fl[15][0] != 0;
    int bad = (f->has_sha256 && fa_sha256_unhex(fl[15], f->sha256)) || !f->reason || folder_index(c, folder, &f->folder);
    free(folder);
    if (bad) return fa_error("%s:%zu: bad sha256, reason or folder", path, lineno);
    if ((f->status == FA_STATUS_OK) != (nfaces > 0))
        return fa_error("%s:%zu: status %s with %lld faces", path, lineno, fl[5], nfaces);
    return 0;
}

/* Parses one row into c->files / c->faces. `line` is modified. A file's rows
 * are consecutive: face rows 0..nfaces-1 in order, each the next embedding
 * row, or one row with row -1 and face -1 for a file without a face. */
static int manifest_parse_row(fa_cache *c, char *line, const char *path, size_t lineno, size_t *nf, size_t *nface)
{
    char *fl[MANIFEST_COLUMNS + 1];
    long long row, face, nfaces, v[4];
    if (split_tabs(line, fl, MANIFEST_COLUMNS) != MANIFEST_COLUMNS)
        return fa_error("%s:%zu: expected %d tab-separated columns", path, lineno, MANIFEST_COLUMNS);
    if (parse_ll(fl[0], -1, (long long)c->n_faces - 1, &row) || parse_ll(fl[3], -1, 1 << 20, &face) ||
        parse_ll(fl[4], 0, 1 << 20, &nfaces) || fa_status_parse(fl[5]) < 0 || parse_ll(fl[11], 0, INT_MAX, &v[0]) ||
        parse_ll(fl[12], 0, INT_MAX, &v[1]) || parse_ll(fl[13], 0, 1LL << 62, &v[2]) ||
        parse_ll(fl[14], -(1LL << 62), 1LL << 62, &v[3]))
        return fa_error("%s:%zu: malformed row", path, lineno);
    if ((row < 0) != (nfaces == 0) || (row < 0 && face != -1) || (row >= 0 && (face < 0 || face >= nfaces)))
        return fa_error("%s:%zu: row, face and nfaces disagree", path, lineno);
    if (row >= 0 && (size_t)row != *nface)
        return fa_error("%s:%zu: face rows out of order (expected row %zu)", path, lineno, *nface);
    char *p = fa_tsv_unescape(fl[2]), *folder = fa_tsv_unescape(fl[1]);
    if (!p || !folder) { free(p); free(folder); return fa_error("%s:%zu: bad escape in path", path, lineno); }
    if (face > 0) {   /* continuation of the previous file */
        fa_file *prev = *nf ? &c->files[*nf - 1] : NULL;
        int ok = prev && prev->n_faces == (uint32_t)nfaces && strcmp(prev->path, p) == 0 &&
                 *nface - (size_t)prev->first_face == (size_t)face;
        free(p); free(folder);
        if (!ok) return fa_error("%s:%zu: face %lld of a file whose face %lld is not the row before", path, lineno,
                                 face, face - 1);
    } else {
        if (file_complete(c, path, lineno, *nf, *nface)) { free(p); free(folder); return -1; }
        if (manifest_new_file(c, fl, path, lineno, nf, row, nfaces, v, p, folder)) return -1;
    }
    if (row >= 0) {
        if (*nface == c->n_faces) return fa_error("%s:%zu: more faces than meta.json says", path, lineno);
        fa_face *fc = &c->faces[(*nface)++];
        fc->file = (uint32_t)(*nf - 1);
        fc->face = (uint32_t)face;
        if (parse_f(fl[6], &fc->box.x) || parse_f(fl[7], &fc->box.y) || parse_f(fl[8], &fc->box.w) ||
            parse_f(fl[9], &fc->box.h) || parse_f(fl[10], &fc->box.score))
            return fa_error("%s:%zu: bad face box", path, lineno);
    }
    return 0;
}

/* Each path once: a file listed twice would get two results. */
static int unique_paths(const fa_cache *c, const char *path)
{
    fa_hashmap seen;
    size_t id;
    int rc = 0;
    if (fa_hashmap_init(&seen, c->n_files)) return fa_error("%s: out of memory", path);
    for (size_t i = 0; i < c->n_files && rc == 0; i++) {
        const char *p = c->files[i].path;
        if (fa_hashmap_get(&seen, p, strlen(p), &id))
            rc = fa_error("%s: %s is listed twice", path, p);
        else if (fa_hashmap_put(&seen, p, strlen(p), i))
            rc = fa_error("%s: out of memory", path);
    }
    fa_hashmap_free(&seen);
    return rc;
}

/* Collects the sorted unique folder names (first pass over the manifest). */
static int collect_folders(fa_cache *c, char *text, size_t len, const char *path)
{
    size_t cap = 64;
    c->folders = malloc(cap * sizeof *c->folders);
    if (!c->folders) return fa_error("%s: out of memory", path);
    for (char *line = memchr(text, '\n', len); line && line + 1 < text + len;) {
        line++;
        char *tab1 = strchr(line, '\t'), *nl = strchr(line, '\n');
        if (!tab1 || (nl && tab1 > nl)) break;   /* the second pass reports it */
        char *tab2 = memchr(tab1 + 1, '\t', (size_t)((nl ? nl : text + len) - tab1 - 1));
        if (!tab2) break;
        *tab2 = 0;
        char *name = fa_tsv_unescape(tab1 + 1);
        *tab2 = '\t';
        if (!name) return fa_error("%s: bad escape in folder name", path);
        if (c->n_folders == 0 || strcmp(c->folders[c->n_folders - 1], name) != 0) {
            if (c->n_folders == cap) {
                char **nfld = realloc(c->folders, (cap *= 2) * sizeof *nfld);
                if (!nfld) { free(name); return fa_error("%s: out of memory", path); }
                c->folders = nfld;
            }
            c->folders[c->n_folders++] = name;
        } else free(name);
        line = nl;
    }
    qsort(c->folders, c->n_folders, sizeof *c->folders, cmp_str);
    size_t u = 0;
    for (size_t i = 0; i < c->n_folders; i++) {
        if (u && strcmp(c->folders[u - 1], c->folders[i]) == 0) { free(c->folders[i]); continue; }
        c->folders[u++] = c->folders[i];
    }
    c->n_folders = u;
    return 0;
}

/* Rows after the header line (text ends in a newline). */
static size_t count_rows(const char *text, size_t len)
{
    size_t n = 0;
    for (const char *p = text; (p = memchr(p, '\n', (size_t)(text + len - p))); p++) n++;
    return n ? n - 1 : 0;
}

int fa_cache_parse_manifest(fa_cache *c, const char *path, char *text, size_t len)
{
    size_t hl = strlen(manifest_header);
    if (len < hl + 1 || memcmp(text, manifest_header, hl) != 0 || text[hl] != '\n')
        return fa_error("%s: not a faceaudit manifest (bad header)", path);
    if (memchr(text, 0, len)) return fa_error("%s: NUL byte in manifest", path);
    if (text[len - 1] != '\n') return fa_error("%s: truncated (last line incomplete)", path);
    /* Counted before anything is allocated: meta.json's counts are claims. */
    size_t rows = count_rows(text, len);
    if (c->n_files > rows || c->n_faces > rows)
        return fa_error("%s: %zu rows, meta.json says %zu files and %zu faces", path, rows, c->n_files, c->n_faces);
    if (collect_folders(c, text, len, path)) return -1;
    size_t claimed_files = c->n_files;
    c->n_files = 0;   /* fa_cache_close frees only the files filled */
    c->files = calloc(claimed_files ? claimed_files : 1, sizeof *c->files);
    c->faces = calloc(c->n_faces ? c->n_faces : 1, sizeof *c->faces);
    if (!c->files || !c->faces) return fa_error("%s: out of memory", path);
    c->n_files = claimed_files;
    size_t nf = 0, nface = 0, lineno = 1;
    char *line = text + hl + 1;
    while (line < text + len) {
        char *nl = memchr(line, '\n', (size_t)(text + len - line));
        *nl = 0;
        lineno++;
        if (manifest_parse_row(c, line, path, lineno, &nf, &nface)) {
            c->n_files = nf;
            return -1;
        }
        line = nl + 1;
    }
    if (file_complete(c, path, lineno, nf, nface)) { c->n_files = nf; return -1; }
    if (nf != c->n_files || nface != c->n_faces) {
        fa_error("%s: %zu files and %zu faces, meta.json says %zu and %zu", path, nf, nface, c->n_files, c->n_faces);
        c->n_files = nf;
        return -1;
    }
    return unique_paths(c, path);
}

static int manifest_read(fa_cache *c, const char *path)
{
    char *text;
    size_t len;
    if (fa_read_file(path, (size_t)1 << 36, &text, &len)) return -1;
    int rc = fa_cache_parse_manifest(c, path, text, len);
    free(text);
    return rc;
}

/* ---- open / close -------------------------------------------------------- */

/* Where a cache's embeddings live: the mapped NPY file, and a copy when its
 * header length leaves the floats unaligned. Only this file knows. */
struct fa_cache_store {
    void *map, *thumb_map;
    size_t map_len, thumb_len;
    float *owned_emb;
};

static void store_free(struct fa_cache_store *s)
{
    if (!s) return;
    if (s->map) munmap(s->map, s->map_len);
    if (s->thumb_map) munmap(s->thumb_map, s->thumb_len);
    free(s->owned_emb);
    free(s);
}

/* Maps a whole regular file read-only (*len >= 10). */
static void *map_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) { fa_error("%s: %s", path, strerror(errno)); return NULL; }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) { close(fd); fa_error("%s: not a regular file", path); return NULL; }
    if (st.st_size < 10) { close(fd); fa_error("%s: truncated NPY file", path); return NULL; }
    void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED) { fa_error("%s: mmap: %s", path, strerror(errno)); return NULL; }
    *len = (size_t)st.st_size;
    return m;
}

/* The thumbnails, after the embeddings (c->store_ exists). */
static int map_thumbs(fa_cache *c, const char *path)
{
    struct fa_cache_store *s = c->store_;
    s->thumb_map = map_file(path, &s->thumb_len);
    if (!s->thumb_map) return -1;
    size_t rows;
    unsigned long long cols;
    long off = npy_parse(path, s->thumb_map, s->thumb_len, "|u1", "thumbnails", &rows, &cols);
    if (off < 0) return -1;
    if (rows != c->n_faces || cols != FA_THUMB_LEN)
        return fa_error("%s: shape (%zu, %llu) but expected (%zu, %d)", path, rows, cols, c->n_faces, FA_THUMB_LEN);
    if (s->thumb_len != (size_t)off + rows * FA_THUMB_LEN)
        return fa_error("%s: %zu bytes, expected %zu (truncated or padded)", path, s->thumb_len,
                        (size_t)off + rows * FA_THUMB_LEN);
    c->thumb = (const uint8_t *)s->thumb_map + off;
    return 0;
}

static int map_embeddings(fa_cache *c, const char *path)
{
    size_t len;
    void *m = map_file(path, &len);
    if (!m) return -1;
    struct fa_cache_store *s = calloc(1, sizeof *s);
    if (!s) { munmap(m, len); return fa_error("%s: out of memory", path); }
    s->map = m;
    s->map_len = len;
    c->store_ = s;
    size_t rows;
    int cols;
    long off = fa_npy_parse(path, m, len, &rows, &cols);
    if (off < 0) return -1;
    if (rows != c->n_faces || cols != c->dim)
        return fa_error("%s: shape (%zu, %d) but meta.json says (%zu, %d)", path, rows, cols, c->n_faces, c->dim);
    if (len != (size_t)off + rows * (size_t)cols * 4)
        return fa_error("%s: %zu bytes, expected %zu (truncated or padded)", path, len,
                        (size_t)off + rows * (size_t)cols * 4);
    if (off % 4 == 0) c->emb = (const float *)((const char *)m + off);
    else {  /* a foreign header length: copy to get aligned floats */
        s->owned_emb = malloc(rows * (size_t)cols * 4 + 4);
        if (!s->owned_emb) return fa_error("%s: out of memory", path);
        memcpy(s->owned_emb, (const char *)m + off, rows * (size_t)cols * 4);
        c->emb = s->owned_emb;
    }
    return 0;
}

int fa_cache_exists(const char *dir)
{
    char *p = fa_path_join(dir, "meta.json");
    int r = p && access(p, F_OK) == 0;
    free(p);
    return r;
}

int fa_cache_encoder_of(const char *dir, char *out, size_t n)
{
    if (!fa_cache_exists(dir)) return 0;
    fa_cache *c = calloc(1, sizeof *c);
    char emb[256], man[256], thumb[256], *meta = fa_path_join(dir, "meta.json");
    int ok = c && meta && meta_read(c, meta, emb, man, thumb) == 0 && c->encoder[0];
    if (ok) snprintf(out, n, "%s", c->encoder);
    free(meta);
    fa_cache_close(c);
    return ok;
}

fa_cache *fa_cache_open(const char *dir)
{
    fa_cache *c = calloc(1, sizeof *c);
    char emb[256], man[256], thumb[256];
    char *meta = fa_path_join(dir, "meta.json"), *ep = NULL, *mp = NULL, *tp = NULL;
    if (!c || !meta) { fa_error("out of memory"); goto fail; }
    c->dir = fa_strdup(dir);
    struct stat st;
    if (stat(dir, &st) < 0) { fa_error("%s: %s", dir, strerror(errno)); goto fail; }
    if (!S_ISDIR(st.st_mode)) { fa_error("%s: not a faceaudit cache (not a directory)", dir); goto fail; }
    if (access(meta, F_OK) < 0) { fa_error("%s: not a faceaudit cache (no meta.json)", dir); goto fail; }
    if (meta_read(c, meta, emb, man, thumb)) goto fail;
    ep = fa_path_join(dir, emb);
    mp = fa_path_join(dir, man);
    tp = thumb[0] ? fa_path_join(dir, thumb) : NULL;
    if (!ep || !mp || (thumb[0] && !tp)) { fa_error("out of memory"); goto fail; }
    if (map_embeddings(c, ep) || manifest_read(c, mp) || (tp && map_thumbs(c, tp))) goto fail;
    free(meta); free(ep); free(mp); free(tp);
    return c;
fail:
    free(meta); free(ep); free(mp); free(tp);
    fa_cache_close(c);
    return NULL;
}

void fa_cache_close(fa_cache *c)
{
    if (!c) return;
    for (size_t i = 0; c->files && i < c->n_files; i++) { free(c->files[i].path); free(c->files[i].reason); }
    free(c->files);
    free(c->faces);
    for (size_t i = 0; i < c->n_folders; i++) free(c->folders[i]);
    free(c->folders);
    store_free(c->store_);
    free(c->dir);
    free(c->root);
    free(c);
}

const fa_model_id *fa_cache_model(const fa_cache *c, const char *role)
{
    for (int i = 0; i < c->n_models; i++)
        if (strcmp(c->models[i].role, role) == 0) return &c->models[i];
    return NULL;
}

void fa_cache_status_counts(const fa_cache *c, size_t counts[FA_STATUS_COUNT])
{
    memset(counts, 0, FA_STATUS_COUNT * sizeof *counts);
    for (size_t i = 0; i < c->n_files; i++) counts[c->files[i].status]++;
}

/* ---- commit ---------------------------------------------------------------- */

/* Writes one generation file: header bytes, then body, then fsync. */
static int write_gen_file(const char *path, const fa_buf *head, const void *body, size_t body_len,
                          const fa_cache_data *manifest_of)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return fa_error("%s: %s", path, strerror(errno));
    int rc = 0;
    if (head && fa_write_all(fd, head->data, head->len)) rc = fa_error("%s: write: %s", path, strerror(errno));
    else if (body_len && fa_write_all(fd, body, body_len)) rc = fa_error("%s: write: %s", path, strerror(errno));
    else if (manifest_of && manifest_write(fd, path, manifest_of)) rc = -1;
    else if (fsync(fd) < 0) rc = fa_error("%s: fsync: %s", path, strerror(errno));
    if (close(fd) < 0 && rc == 0) rc = fa_error("%s: close: %s", path, strerror(errno));
    if (rc) unlink(path);
    return rc;
}

/* Points dir/link at target with an atomic rename of a fresh symlink. */
static void update_link(const char *dir, const char *link, const char *target)
{
    char *lp = fa_path_join(dir, link);
    if (!lp) return;
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", lp);
    unlink(tmp);
    if (symlink(target, tmp) == 0 && rename(tmp, lp) < 0) unlink(tmp);
    free(lp);
}

/* Removes generation files other than the current one (a crash can leave some). */
static void remove_stale(const char *dir, const char *keep_emb, const char *keep_man, const char *keep_thumb)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *n = de->d_name;
        int gen_file = (strncmp(n, "embeddings.", 11) == 0 || strncmp(n, "manifest.", 9) == 0 ||
                        strncmp(n, "facethumbs.", 11) == 0) &&
                       strcmp(n, "embeddings.npy") != 0 && strcmp(n, "manifest.tsv") != 0 &&
                       strcmp(n, "facethumbs.npy") != 0;
        if (!gen_file || strcmp(n, keep_emb) == 0 || strcmp(n, keep_man) == 0 || strcmp(n, keep_thumb) == 0)
            continue;
        char *p = fa_path_join(dir, n);
        if (p) unlink(p);
        free(p);
    }
    closedir(d);
}

/* The generation after every one this directory holds: the larger of
 * meta.json's and of the generation files' numbers. meta.json alone is not
 * enough: when it cannot be read (out of memory, an I/O error, damage) the
 * commit would reuse the committed generation's names and truncate its
 * files before the new meta.json is in place. */
static int next_generation(const char *dir, int64_t *next)
{
    char *meta = fa_path_join(dir, "meta.json"), *text = NULL;
    size_t len;
    int64_t g = 0;
    if (meta && fa_read_file(meta, META_MAX, &text, &len) == 0) {
        fa_json *j = fa_json_parse(text, len);
        double v;
        if (j && fa_json_num(j, "generation", &v) == 0 && v >= 0 && v < 9e15) g = (int64_t)v;
        fa_json_free(j);
    }
    free(text);
    free(meta);
    DIR *d = opendir(dir);
    if (!d) return fa_error("%s: %s", dir, strerror(errno));
    struct dirent *de;
    while ((de = readdir(d))) {
        long long n;
        int used = 0;
        if ((sscanf(de->d_name, "embeddings.%lld.npy%n", &n, &used) == 1 ||
             sscanf(de->d_name, "manifest.%lld.tsv%n", &n, &used) == 1 ||
             sscanf(de->d_name, "facethumbs.%lld.npy%n", &n, &used) == 1) &&
            used > 0 && de->d_name[used] == 0 && n > g && n < (1LL << 53))
            g = n;
    }
    closedir(d);
    *next = g + 1;
    return 0;
}

int fa_cache_commit(const char *dir, const fa_cache_data *d)
{
    if (d->dim <= 0 || d->dim > FA_DIM_MAX) return fa_error("%s: bad dimension %d", dir, d->dim);
    int64_t gen = 0;
    if (fa_mkdir_p(dir) || next_generation(dir, &gen)) return -1;
    char emb_name[64], man_name[64], thumb_name[64], created[32];
    snprintf(emb_name, sizeof emb_name, "embeddings.%lld.npy", (long long)gen);
    snprintf(man_name, sizeof man_name, "manifest.%lld.tsv", (long long)gen);
    snprintf(thumb_name, sizeof thumb_name, "facethumbs.%lld.npy", (long long)gen);
    time_t now = time(NULL);
    strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    char *ep = fa_path_join(dir, emb_name), *mp = fa_path_join(dir, man_name), *meta = fa_path_join(dir, "meta.json");
    char *tp = fa_path_join(dir, thumb_name);
    fa_buf head = {0}, th = {0}, mb = {0};
    int rc = -1;
    if (!ep || !mp || !meta || !tp) { fa_error("out of memory"); goto out; }
    npy_header(&head, "<f4", d->n_faces, d->dim);
    npy_header(&th, "|u1", d->n_faces, FA_THUMB_LEN);
    if (head.oom || th.oom) { fa_error("%s: out of memory", ep); goto out; }
    if (write_gen_file(ep, &head, d->emb, d->n_faces * (size_t)d->dim * 4, NULL)) goto out;
    if (write_gen_file(mp, NULL, NULL, 0, d)) { unlink(ep); goto out; }
    if (d->thumb && write_gen_file(tp, &th, d->thumb, d->n_faces * (size_t)FA_THUMB_LEN, NULL)) {
        unlink(ep);
        unlink(mp);
        goto out;
    }
    meta_write(&mb, d, gen, emb_name, man_name, thumb_name, created);
    if (mb.oom) { fa_error("out of memory"); goto out; }
    if (fa_fsync_dir(dir) || fa_write_file_atomic(meta, mb.data, mb.len)) {
        unlink(ep);
        unlink(mp);
        if (d->thumb) unlink(tp);
        goto out;
    }
    /* Committed. The rest is tidying that a later commit redoes if it fails. */
    update_link(dir, "embeddings.npy", emb_name);
    update_link(dir, "manifest.tsv", man_name);
    if (d->thumb) update_link(dir, "facethumbs.npy", thumb_name);
    else {   /* a link to a generation just removed would dangle */
        char *tl = fa_path_join(dir, "facethumbs.npy");
        if (tl) unlink(tl);
        free(tl);
    }
    remove_stale(dir, emb_name, man_name, d->thumb ? thumb_name : "");
    rc = 0;
out:
    fa_buf_free(&head);
    fa_buf_free(&th);
    fa_buf_free(&mb);
    free(ep); free(mp); free(meta); free(tp);
    return rc;
}
