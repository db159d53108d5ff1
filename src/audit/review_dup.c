/*
 * review_dup.c - stage 3 of the review list (review_ctx.h): duplicate
 * groups (identical bytes, or one photo by the encoder or the pixels, joined
 * by union-find over files) and one duplicate finding per copy, told which
 * file to keep.
 */
#define _POSIX_C_SOURCE 200809L
#include <string.h>
#include "review_ctx.h"

/* Two files whose faces are the same photo are one duplicate group, unless
 * one holds several faces: a group photo and a portrait cut from it (or a
 * second group photo) are different files about different people. */
void rv_same_photo(rctx *r, uint32_t fa, uint32_t fb)
{
    if (r->c->files[fa].n_faces == 1 && r->c->files[fb].n_faces == 1) uf_union(r->uf, fa, fb);
}

typedef struct { const uint8_t *sha; uint32_t file; } sha_ref;

static int sha_ref_cmp(const void *x, const void *y)
{
    const sha_ref *a = x, *b = y;
    int c = memcmp(a->sha, b->sha, 32);
    return c ? c : (a->file > b->file) - (a->file < b->file);
}

static int union_identical(rctx *r)
{
    const fa_cache *c = r->c;
    sha_ref *h = malloc((c->n_files ? c->n_files : 1) * sizeof *h);
    if (!h) return -1;
    size_t n = 0;
    for (size_t f = 0; f < c->n_files; f++)
        if (c->files[f].has_sha256) h[n++] = (sha_ref){ c->files[f].sha256, (uint32_t)f };
    qsort(h, n, sizeof *h, sha_ref_cmp);
    for (size_t k = 1; k < n; k++)
        if (memcmp(h[k].sha, h[k - 1].sha, 32) == 0) uf_union(r->uf, h[k].file, h[k - 1].file);
    free(h);
    for (size_t k = 0; k < r->a->n_matches; k++) {
        const fa_match *mt = &r->a->matches[k];
        uint32_t ra = r->file_row[mt->file_a], rb = r->file_row[mt->file_b];
        if (mt->kind == FA_MATCH_SAME_PHOTO ||
            (mt->kind == FA_MATCH_SAME_PERSON && ra != FA_NONE && rb != FA_NONE && same_pixels(r, ra, rb, mt->dist)))
            rv_same_photo(r, mt->file_a, mt->file_b);
    }
    return 0;
}

/* How well a file fits its folder (smaller is better): its own median
 * distance; a file without a face or alone in its folder fits worst. */
static float file_fit(const rctx *r, uint32_t f)
{
    uint32_t row = r->file_row[f];
    if (row == FA_NONE || isnan(r->fs[row].own_med)) return INFINITY;
    return r->fs[row].own_med;
}

static int same_sha(const fa_cache *c, uint32_t a, uint32_t b)
{
    return c->files[a].has_sha256 && c->files[b].has_sha256 &&
           memcmp(c->files[a].sha256, c->files[b].sha256, 32) == 0;
}

/* Which of two copies to keep. In two folders: the one that fits its folder
 * better (the other is the misfiled copy). In one folder, where the fits
 * differ by noise: the one with more pixels, then more bytes (a resized or
 * re-encoded copy is the smaller). Then the shorter path ("x.jpg" over
 * "x (1).jpg"), then the first. */
static int better_kept(const rctx *r, uint32_t a, uint32_t b)
{
    const fa_file *A = &r->c->files[a], *B = &r->c->files[b];
    if (A->folder == B->folder) {
        int64_t pa = (int64_t)A->width * A->height, pb = (int64_t)B->width * B->height;
        if (pa != pb) return pa > pb;
        if (A->size != B->size) return A->size > B->size;
    } else {
        float fa = file_fit(r, a), fb = file_fit(r, b);
        if (fa != fb) return fa < fb;
    }
    size_t la = strlen(A->path), lb = strlen(B->path);
    return la < lb || (la == lb && a < b);
}

/* What file f of a duplicate group is reported against: the kept file, or,
 * when f's bytes are not the kept file's but another member's, the first
 * such member (which is itself reported against the kept file): a byte copy
 * is then told as one, and no two files are each told to keep the other. */
static uint32_t twin_of(const rctx *r, const uint32_t *mem, size_t k, uint32_t f, uint32_t keep)
{
    const fa_cache *c = r->c;
    if (same_sha(c, f, keep)) return keep;
    uint32_t best = f;   /* the class's member to keep, chosen as the group's keep is */
    for (size_t t = 0; t < k; t++)
        if (same_sha(c, mem[t], f) && better_kept(r, mem[t], best)) best = mem[t];
    return best == f ? keep : best;
}

/* One finding per file of the group but the one kept. */
static int dup_group(rctx *r, const uint32_t *mem, size_t k)
{
    const fa_cache *c = r->c;
    uint32_t keep = mem[0];
    int shared = 1, folders = 0;
    for (size_t q = 0; q < k; q++) {
        if (better_kept(r, mem[q], keep)) keep = mem[q];
        shared &= c->files[mem[q]].n_faces > 1 && same_sha(c, mem[q], mem[0]);
        folders |= c->files[mem[q]].folder != c->files[mem[0]].folder;
    }
    /* a group photo filed under each of its people is not a mistake */
    shared &= folders;
    for (size_t q = 0; q < k; q++) {
        if (mem[q] == keep) continue;
        uint32_t other = twin_of(r, mem, k, mem[q], keep);
        fa_finding *f = rv_new_finding(r, FA_FIND_DUPLICATE);
        uint32_t two[2] = { mem[q], other };
        if (!f || rv_set_files(f, two, 2)) return -1;
        f->file = mem[q]; f->folder = c->files[mem[q]].folder;
        f->other_file = other; f->other_folder = c->files[other].folder;
        f->keep = other;
        f->own_size = (uint32_t)gsize(r, f->folder);
        f->other_size = (uint32_t)gsize(r, f->other_folder);
        f->identical = same_sha(c, mem[q], other);
        uint32_t ra = r->file_row[mem[q]], rb = r->file_row[other];
        int rows = ra != FA_NONE && rb != FA_NONE;
        f->dist = f->identical ? 0.0f : (rows ? rdist(r, ra, rb) : NAN);
        f->thumb_corr = !f->identical && rows ? row_thumb_corr(r, ra, rb) : NAN;
        f->image_corr = !f->identical && rows ? row_image_corr(r, ra, rb) : NAN;
        int pixels = fa_pixels_one_photo(f->thumb_corr, f->image_corr);
        /* a fact, then the surest sign of one photo (fmaxf skips a NaN: a
         * sign not measured) */
        float by_dist = 1.0f - f->dist / fmaxf(r->p->same_photo_dist, 1e-6f);
        float by_pixels = fmaxf((f->thumb_corr - FA_THUMB_SAME) / (1.0f - FA_THUMB_SAME),
                                f->thumb_corr >= FA_THUMB_NEAR ? (f->image_corr - FA_IMAGE_SAME) / (1.0f - FA_IMAGE_SAME)
                                                               : NAN);
        f->score = f->identical ? 3.0f : 2.0f + fminf(1.0f, fmaxf(0.0f, fmaxf(by_dist, by_pixels)));
        /* a copy inside one folder that is not the same bytes may be two
         * photos of one pose, unless the pixels say one photo: listed, not
         * for review */
        f->review = !shared && (f->identical || f->folder != f->other_folder || pixels);
        if (shared) f->score = 0.0f;
        if (ra != FA_NONE) r->fs[ra].dup = 1;
    }
    return 0;
}

static int dup_groups(rctx *r)
{
    size_t nf = r->c->n_files;
    uint32_t *order = malloc((nf ? nf : 1) * sizeof *order), *root = malloc((nf ? nf : 1) * sizeof *root);
    if (!order || !root) { free(order); free(root); return -1; }
    for (size_t f = 0; f < nf; f++) root[f] = uf_find(r->uf, (uint32_t)f);
    /* files ordered by group root (counting sort) */
    size_t *cnt = calloc(nf + 1, sizeof *cnt);
    if (!cnt) { free(order); free(root); return -1; }
    for (size_t f = 0; f < nf; f++) cnt[root[f] + 1]++;
    for (size_t f = 0; f < nf; f++) cnt[f + 1] += cnt[f];
    for (size_t f = 0; f < nf; f++) order[cnt[root[f]]++] = (uint32_t)f;
    int rc = 0;
    for (size_t s = 0, e; s < nf && rc == 0; s = e) {
        for (e = s + 1; e < nf && root[order[e]] == root[order[s]]; e++) {}
        if (e - s >= 2) rc = dup_group(r, order + s, e - s);
    }
    free(cnt); free(order); free(root);
    return rc;
}

int rv_duplicates(rctx *r)
{
    return union_identical(r) || dup_groups(r) ? -1 : 0;
}
