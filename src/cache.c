/*
 * cache.c - opening, closing and committing the embedding cache (format in
 * cache.h; its files: cache_npy.c, cache_meta.c, cache_manifest.c).
 *
 * Readers trust nothing: the NPY header, every manifest row and meta.json are
 * checked against each other before anything is allocated by a count read
 * from disk. Writers never touch the committed files: a new generation is
 * written beside them and meta.json is replaced last, atomically.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "faceaudit/cache.h"
#include "cache_io.h"
#include "cache_parse.h"
#include "json.h"
#include "util.h"

/* ---- open / close -------------------------------------------------------- */

/* Where a cache's embeddings live: the mapped NPY file, and a copy when its
 * header length leaves the floats unaligned. Only this file knows. */
struct fa_cache_store {
    void *map, *thumb_map, *image_map;
    size_t map_len, thumb_len, image_len;
    float *owned_emb;
};

static void store_free(struct fa_cache_store *s)
{
    if (!s) return;
    if (s->map) munmap(s->map, s->map_len);
    if (s->thumb_map) munmap(s->thumb_map, s->thumb_len);
    if (s->image_map) munmap(s->image_map, s->image_len);
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

/* A thumbnails file of n rows (faces or files), after the embeddings
 * (c->store_ exists): mapped into *map, its rows in *out. */
static int map_thumbs(const char *path, size_t n, void **map, size_t *len, const uint8_t **out)
{
    *map = map_file(path, len);
    if (!*map) return -1;
    size_t rows;
    unsigned long long cols;
    long off = fa_npy_parse_as(path, *map, *len, "|u1", "thumbnails", &rows, &cols);
    if (off < 0) return -1;
    if (rows != n || cols != FA_THUMB_LEN)
        return fa_error("%s: shape (%zu, %llu) but expected (%zu, %d)", path, rows, cols, n, FA_THUMB_LEN);
    if (*len != (size_t)off + rows * FA_THUMB_LEN)
        return fa_error("%s: %zu bytes, expected %zu (truncated or padded)", path, *len,
                        (size_t)off + rows * FA_THUMB_LEN);
    *out = (const uint8_t *)*map + off;
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
    fa_gen_names nm;
    char *meta = fa_path_join(dir, "meta.json");
    int ok = c && meta && fa_cache_meta_read(c, meta, &nm) == 0 && c->encoder[0];
    if (ok) snprintf(out, n, "%s", c->encoder);
    free(meta);
    fa_cache_close(c);
    return ok;
}

fa_cache *fa_cache_open(const char *dir)
{
    fa_cache *c = calloc(1, sizeof *c);
    fa_gen_names nm;
    char *meta = fa_path_join(dir, "meta.json"), *ep = NULL, *mp = NULL, *tp = NULL, *ip = NULL;
    if (!c || !meta) { fa_error("out of memory"); goto fail; }
    c->dir = fa_strdup(dir);
    struct stat st;
    if (stat(dir, &st) < 0) { fa_error("%s: %s", dir, strerror(errno)); goto fail; }
    if (!S_ISDIR(st.st_mode)) { fa_error("%s: not a faceaudit cache (not a directory)", dir); goto fail; }
    if (access(meta, F_OK) < 0) { fa_error("%s: not a faceaudit cache (no meta.json)", dir); goto fail; }
    if (fa_cache_meta_read(c, meta, &nm)) goto fail;
    ep = fa_path_join(dir, nm.emb);
    mp = fa_path_join(dir, nm.man);
    tp = nm.thumb[0] ? fa_path_join(dir, nm.thumb) : NULL;
    ip = nm.image[0] ? fa_path_join(dir, nm.image) : NULL;
    if (!ep || !mp || (nm.thumb[0] && !tp) || (nm.image[0] && !ip)) { fa_error("out of memory"); goto fail; }
    if (map_embeddings(c, ep) || fa_cache_manifest_read(c, mp)) goto fail;
    struct fa_cache_store *s = c->store_;
    if (tp && map_thumbs(tp, c->n_faces, &s->thumb_map, &s->thumb_len, &c->thumb)) goto fail;
    if (ip && map_thumbs(ip, c->n_files, &s->image_map, &s->image_len, &c->image_thumb)) goto fail;
    free(meta); free(ep); free(mp); free(tp); free(ip);
    return c;
fail:
    free(meta); free(ep); free(mp); free(tp); free(ip);
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

int fa_thumb_none(const uint8_t *t)
{
    for (int k = 0; k < FA_THUMB_LEN; k++)
        if (t[k]) return 0;
    return 1;
}

/* Rows of n thumbnails that are not none. */
static size_t thumbs_present(const uint8_t *t, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; t && i < n; i++) k += !fa_thumb_none(t + i * FA_THUMB_LEN);
    return k;
}

void fa_cache_thumb_counts(const fa_cache *c, size_t *faces, size_t *files)
{
    *faces = thumbs_present(c->thumb, c->n_faces);
    *files = thumbs_present(c->image_thumb, c->n_files);
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
    else if (manifest_of && fa_cache_manifest_write(fd, path, manifest_of)) rc = -1;
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

/* The generation files' names: prefix, generation, suffix; the link to the
 * current one is prefix + suffix without the number. */
static const struct { const char *prefix, *suffix; } gen_kinds[] = {
    {"embeddings", "npy"}, {"manifest", "tsv"}, {"facethumbs", "npy"}, {"imagethumbs", "npy"},
};
#define N_GEN_KINDS (sizeof gen_kinds / sizeof *gen_kinds)

/* The generation number of a generation file's name, or -1. */
static long long gen_of(const char *name)
{
    for (size_t k = 0; k < N_GEN_KINDS; k++) {
        size_t lp = strlen(gen_kinds[k].prefix);
        long long n;
        int used = 0;
        char fmt[32];
        snprintf(fmt, sizeof fmt, ".%%lld.%s%%n", gen_kinds[k].suffix);
        if (strncmp(name, gen_kinds[k].prefix, lp) == 0 && sscanf(name + lp, fmt, &n, &used) == 1 && used > 0 &&
            name[lp + used] == 0 && n >= 0)
            return n;
    }
    return -1;
}

/* Removes generation files other than the current one's (a crash can leave some). */
static void remove_stale(const char *dir, const fa_gen_names *keep)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *n = de->d_name;
        if (gen_of(n) < 0 || strcmp(n, keep->emb) == 0 || strcmp(n, keep->man) == 0 ||
            strcmp(n, keep->thumb) == 0 || strcmp(n, keep->image) == 0)
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
        long long n = gen_of(de->d_name);
        if (n > g && n < (1LL << 53)) g = n;
    }
    closedir(d);
    *next = g + 1;
    return 0;
}

/* Points the link of an optional file at its generation, or removes the
 * link when this generation has none (it would dangle). */
static void optional_link(const char *dir, const char *link, const char *name, int have)
{
    if (have) { update_link(dir, link, name); return; }
    char *l = fa_path_join(dir, link);
    if (l) unlink(l);
    free(l);
}

int fa_cache_commit(const char *dir, const fa_cache_data *d)
{
    if (d->dim <= 0 || d->dim > FA_DIM_MAX) return fa_error("%s: bad dimension %d", dir, d->dim);
    int64_t gen = 0;
    if (fa_mkdir_p(dir) || next_generation(dir, &gen)) return -1;
    fa_gen_names nm;
    char created[32];
    snprintf(nm.emb, sizeof nm.emb, "embeddings.%lld.npy", (long long)gen);
    snprintf(nm.man, sizeof nm.man, "manifest.%lld.tsv", (long long)gen);
    snprintf(nm.thumb, sizeof nm.thumb, "facethumbs.%lld.npy", (long long)gen);
    snprintf(nm.image, sizeof nm.image, "imagethumbs.%lld.npy", (long long)gen);
    time_t now = time(NULL);
    strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    char *ep = fa_path_join(dir, nm.emb), *mp = fa_path_join(dir, nm.man), *meta = fa_path_join(dir, "meta.json");
    char *tp = fa_path_join(dir, nm.thumb), *ip = fa_path_join(dir, nm.image);
    fa_buf head = {0}, th = {0}, ih = {0}, mb = {0};
    int rc = -1, wrote = 0;   /* files of this generation written: 1 emb, 2 man, 4 thumb, 8 image */
    if (!ep || !mp || !meta || !tp || !ip) { fa_error("out of memory"); goto out; }
    fa_npy_header(&head, "<f4", d->n_faces, d->dim);
    fa_npy_header(&th, "|u1", d->n_faces, FA_THUMB_LEN);
    fa_npy_header(&ih, "|u1", d->n_files, FA_THUMB_LEN);
    if (head.oom || th.oom || ih.oom) { fa_error("%s: out of memory", ep); goto out; }
    if (write_gen_file(ep, &head, d->emb, d->n_faces * (size_t)d->dim * 4, NULL)) goto out;
    wrote |= 1;
    if (write_gen_file(mp, NULL, NULL, 0, d)) goto out;
    wrote |= 2;
    if (d->thumb && write_gen_file(tp, &th, d->thumb, d->n_faces * (size_t)FA_THUMB_LEN, NULL)) goto out;
    if (d->thumb) wrote |= 4;
    if (d->image_thumb && write_gen_file(ip, &ih, d->image_thumb, d->n_files * (size_t)FA_THUMB_LEN, NULL)) goto out;
    if (d->image_thumb) wrote |= 8;
    fa_cache_meta_write(&mb, d, gen, &nm, created);
    if (mb.oom) { fa_error("out of memory"); goto out; }
    if (fa_fsync_dir(dir) || fa_write_file_atomic(meta, mb.data, mb.len)) goto out;
    wrote = 0;   /* committed: they stay */
    /* The rest is tidying that a later commit redoes if it fails. */
    update_link(dir, "embeddings.npy", nm.emb);
    update_link(dir, "manifest.tsv", nm.man);
    optional_link(dir, "facethumbs.npy", nm.thumb, d->thumb != NULL);
    optional_link(dir, "imagethumbs.npy", nm.image, d->image_thumb != NULL);
    if (!d->thumb) nm.thumb[0] = 0;
    if (!d->image_thumb) nm.image[0] = 0;
    remove_stale(dir, &nm);
    rc = 0;
out:
    if (wrote & 1) unlink(ep);
    if (wrote & 2) unlink(mp);
    if (wrote & 4) unlink(tp);
    if (wrote & 8) unlink(ip);
    fa_buf_free(&head);
    fa_buf_free(&th);
    fa_buf_free(&ih);
    fa_buf_free(&mb);
    free(ep); free(mp); free(meta); free(tp); free(ip);
    return rc;
}
