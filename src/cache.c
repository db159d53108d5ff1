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
    long off = fa_npy_parse_as(path, s->thumb_map, s->thumb_len, "|u1", "thumbnails", &rows, &cols);
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
    int ok = c && meta && fa_cache_meta_read(c, meta, emb, man, thumb) == 0 && c->encoder[0];
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
    if (fa_cache_meta_read(c, meta, emb, man, thumb)) goto fail;
    ep = fa_path_join(dir, emb);
    mp = fa_path_join(dir, man);
    tp = thumb[0] ? fa_path_join(dir, thumb) : NULL;
    if (!ep || !mp || (thumb[0] && !tp)) { fa_error("out of memory"); goto fail; }
    if (map_embeddings(c, ep) || fa_cache_manifest_read(c, mp) || (tp && map_thumbs(c, tp))) goto fail;
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
    fa_npy_header(&head, "<f4", d->n_faces, d->dim);
    fa_npy_header(&th, "|u1", d->n_faces, FA_THUMB_LEN);
    if (head.oom || th.oom) { fa_error("%s: out of memory", ep); goto out; }
    if (write_gen_file(ep, &head, d->emb, d->n_faces * (size_t)d->dim * 4, NULL)) goto out;
    if (write_gen_file(mp, NULL, NULL, 0, d)) { unlink(ep); goto out; }
    if (d->thumb && write_gen_file(tp, &th, d->thumb, d->n_faces * (size_t)FA_THUMB_LEN, NULL)) {
        unlink(ep);
        unlink(mp);
        goto out;
    }
    fa_cache_meta_write(&mb, d, gen, emb_name, man_name, thumb_name, created);
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
