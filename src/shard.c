/*
 * shard.c - shards of an image tree and the merge of their caches (see
 * faceaudit/shard.h).
 *
 * The merge trusts no input: every cache is opened with the full checks of
 * fa_cache_open, then compared with the first on everything that changes what
 * an embedding means (models, dimension, detection parameters) and on ROOT,
 * and the shard numbers must be exactly 1..N of one N. The merged rows are
 * the inputs' rows re-ordered by path, which is the order `index` writes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "faceaudit/shard.h"
#include "sha256.h"
#include "util.h"

uint32_t fa_shard_of(const char *relpath, uint32_t n)
{
    uint8_t h[32];
    fa_sha256_buf(relpath, strlen(relpath), h);
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = v << 8 | h[i];
    return (uint32_t)(v % (n ? n : 1)) + 1;
}

int fa_shard_parse(const char *text, uint32_t *k, uint32_t *n)
{
    unsigned long long a, b;
    int used = 0;
    if (!text || sscanf(text, "%llu/%llu%n", &a, &b, &used) != 2 || text[used] || text[0] < '0' ||
        text[0] > '9' || b < 1 || b > FA_SHARDS_MAX || a < 1 || a > b)
        return fa_error("--shard needs K/N with 1 <= K <= N <= %u (got '%s')", FA_SHARDS_MAX, text ? text : "");
    *k = (uint32_t)a;
    *n = (uint32_t)b;
    return 0;
}

/* ---- agreement of the inputs ---------------------------------------------- */

static int same_model(const fa_cache *a, const fa_cache *b)
{
    if (a->n_models != b->n_models) return 0;
    for (int i = 0; i < a->n_models; i++) {
        const fa_model_id *m = fa_cache_model(b, a->models[i].role);
        if (!m || strcmp(m->sha256, a->models[i].sha256) != 0) return 0;
    }
    return 1;
}

static int same_detect(const fa_detect_params *a, const fa_detect_params *b)
{
    return a->detect_long_side == b->detect_long_side && a->upsample_min_side == b->upsample_min_side &&
           a->retry_long_side == b->retry_long_side && a->max_pixels == b->max_pixels &&
           a->chip_size == b->chip_size && a->chip_padding == b->chip_padding;
}

/* Names the first model of b that differs from a's, for the message. */
static void model_diff(const fa_cache *a, const fa_cache *b, char *out, size_t n)
{
    for (int i = 0; i < a->n_models; i++) {
        const fa_model_id *m = fa_cache_model(b, a->models[i].role);
        if (!m || strcmp(m->sha256, a->models[i].sha256) != 0) {
            snprintf(out, n, "%s model %s (sha256 %.12s...) where %s has %s (%.12s...)", a->models[i].role,
                     m ? m->name : "(none)", m ? m->sha256 : "", a->dir, a->models[i].name, a->models[i].sha256);
            return;
        }
    }
    snprintf(out, n, "%d models where %s has %d", b->n_models, a->dir, a->n_models);
}

/* Every cache against the first; returns -1 naming the odd one. */
static int check_agree(fa_cache *const *c, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        char why[512];
        if (!same_model(c[0], c[i])) {
            model_diff(c[0], c[i], why, sizeof why);
            return fa_error("%s was made with %s; embeddings of different models must not be merged",
                            c[i]->dir, why);
        }
        if (strcmp(c[i]->encoder, c[0]->encoder) != 0 || c[i]->metric != c[0]->metric)
            return fa_error("%s was encoded by %s, %s by %s; embeddings of different encoders must not be merged",
                            c[i]->dir, c[i]->encoder, c[0]->dir, c[0]->encoder);
        if (c[i]->dim != c[0]->dim)
            return fa_error("%s has %d-d embeddings, %s %d-d", c[i]->dir, c[i]->dim, c[0]->dir, c[0]->dim);
        if (!same_detect(&c[i]->detect, &c[0]->detect))
            return fa_error("%s was made with other detection parameters than %s (see `faceaudit info`); "
                            "index every shard with the same options", c[i]->dir, c[0]->dir);
        if (strcmp(c[i]->root, c[0]->root) != 0)
            return fa_error("%s indexed ROOT %s, %s indexed %s; shards must come from one tree (mount it "
                            "at the same path on every node)", c[i]->dir, c[i]->root, c[0]->dir, c[0]->root);
    }
    return 0;
}

/* The shard numbers: one N, each K of 1..N exactly once. */
static int check_shards(fa_cache *const *c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!c[i]->shard_n)
            return fa_error("%s is not a shard (it was indexed without --shard); merge takes the caches "
                            "of `index --shard K/N`", c[i]->dir);
    uint32_t N = c[0]->shard_n;
    for (size_t i = 1; i < n; i++)
        if (c[i]->shard_n != N)
            return fa_error("%s is shard %u/%u but %s is shard %u/%u: shards of different splits",
                            c[i]->dir, c[i]->shard_k, c[i]->shard_n, c[0]->dir, c[0]->shard_k, N);
    size_t *seen = calloc(N + 1, sizeof *seen);
    if (!seen) return fa_error("out of memory");
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        uint32_t k = c[i]->shard_k;
        if (seen[k]) rc = fa_error("%s and %s are both shard %u/%u", c[seen[k] - 1]->dir, c[i]->dir, k, N);
        seen[k] = i + 1;
    }
    for (uint32_t k = 1; k <= N && !rc; k++)
        if (!seen[k]) rc = fa_error("shard %u/%u is missing (got %zu of %u shards); the merge would lack "
                                    "its files", k, N, n, N);
    free(seen);
    return rc;
}

/* ---- the merge ---------------------------------------------------------------- */

typedef struct { const fa_cache *c; size_t file; } file_ref;

static int ref_cmp(const void *a, const void *b)
{
    const file_ref *x = a, *y = b;
    return strcmp(x->c->files[x->file].path, y->c->files[y->file].path);
}

static int str_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Sorted unique folder names of all inputs (pointers into the caches). */
static char **union_folders(fa_cache *const *c, size_t n, size_t *count)
{
    size_t total = 0, u = 0;
    for (size_t i = 0; i < n; i++) total += c[i]->n_folders;
    char **v = malloc((total ? total : 1) * sizeof *v);
    if (!v) return NULL;
    for (size_t i = 0, k = 0; i < n; i++)
        for (size_t g = 0; g < c[i]->n_folders; g++) v[k++] = c[i]->folders[g];
    qsort(v, total, sizeof *v, str_cmp);
    for (size_t k = 0; k < total; k++)
        if (!u || strcmp(v[u - 1], v[k]) != 0) v[u++] = v[k];
    *count = u;
    return v;
}

/* Fills the merged arrays from the refs (already in path order). */
static int assemble(const file_ref *refs, size_t nf, char **folders, size_t nfo, int dim, fa_file *files,
                    fa_face *faces, float *emb, uint8_t *thumb, uint8_t *image)
{
    size_t row = 0;
    for (size_t i = 0; i < nf; i++) {
        const fa_cache *c = refs[i].c;
        const fa_file *src = &c->files[refs[i].file];
        if (i && strcmp(files[i - 1].path, src->path) == 0)
            return fa_error("%s is in two shards (one of them is %s)", src->path, c->dir);
        files[i] = *src;
        const char *name = c->folders[src->folder];
        char **hit = bsearch(&name, folders, nfo, sizeof *folders, str_cmp);
        files[i].folder = (uint32_t)(hit - folders);
        files[i].first_face = src->n_faces ? (int64_t)row : -1;
        if (c->image_thumb)
            memcpy(image + i * FA_THUMB_LEN, c->image_thumb + refs[i].file * FA_THUMB_LEN, FA_THUMB_LEN);
        for (uint32_t k = 0; k < src->n_faces; k++, row++) {
            size_t from = (size_t)src->first_face + k;
            faces[row] = c->faces[from];
            faces[row].file = (uint32_t)i;
            memcpy(emb + row * (size_t)dim, c->emb + from * (size_t)dim, (size_t)dim * sizeof *emb);
            if (c->thumb) memcpy(thumb + row * FA_THUMB_LEN, c->thumb + from * FA_THUMB_LEN, FA_THUMB_LEN);
        }
    }
    return 0;
}

static int merge_into(fa_cache *const *c, size_t n, const char *out_dir, fa_merge_stats *st)
{
    size_t nf = 0, nface = 0, nfo = 0, k = 0;
    for (size_t i = 0; i < n; i++) { nf += c[i]->n_files; nface += c[i]->n_faces; }
    int dim = c[0]->dim, rc = -1;
    file_ref *refs = malloc((nf ? nf : 1) * sizeof *refs);
    fa_file *files = malloc((nf ? nf : 1) * sizeof *files);
    fa_face *faces = malloc((nface ? nface : 1) * sizeof *faces);
    float *emb = malloc((nface ? nface : 1) * (size_t)dim * sizeof *emb);
    uint8_t *thumb = calloc(nface ? nface : 1, FA_THUMB_LEN);   /* zeros where a shard has none */
    uint8_t *image = calloc(nf ? nf : 1, FA_THUMB_LEN);
    char **folders = union_folders(c, n, &nfo);
    if (!refs || !files || !faces || !emb || !thumb || !image || !folders) { fa_error("out of memory merging %zu faces", nface); goto out; }
    for (size_t i = 0; i < n; i++)
        for (size_t f = 0; f < c[i]->n_files; f++) refs[k++] = (file_ref){c[i], f};
    qsort(refs, nf, sizeof *refs, ref_cmp);
    if (assemble(refs, nf, folders, nfo, dim, files, faces, emb, thumb, image)) goto out;
    fa_cache_data d = {c[0]->root, dim, nf, nface, nfo, files, faces, emb, folders,
                       c[0]->models, c[0]->n_models, &c[0]->detect, c[0]->encoder, c[0]->metric, 0, 0, thumb, image};
    if (fa_cache_commit(out_dir, &d)) goto out;
    if (st) *st = (fa_merge_stats){nf, nface, nfo, (uint32_t)n};
    rc = 0;
out:
    free(refs); free(files); free(faces); free(emb); free(thumb); free(image); free(folders);
    return rc;
}

int fa_cache_merge(const char *const *dirs, size_t n, const char *out_dir, fa_merge_stats *st)
{
    if (n < 1) return fa_error("merge needs at least one shard cache");
    if (fa_cache_exists(out_dir))
        return fa_error("%s already holds a cache; merge writes a new one (remove it or choose another -o)",
                        out_dir);
    fa_cache **c = calloc(n, sizeof *c);
    if (!c) return fa_error("out of memory");
    int rc = -1;
    for (size_t i = 0; i < n; i++)
        if (!(c[i] = fa_cache_open(dirs[i]))) goto out;
    if (check_agree(c, n) || check_shards(c, n) || merge_into(c, n, out_dir, st)) goto out;
    rc = 0;
out:
    for (size_t i = 0; i < n; i++) fa_cache_close(c[i]);
    free(c);
    return rc;
}
