/*
 * review_rank.c - the last stage of the review list (review_ctx.h): each
 * finding's id from its content (file SHA-256s and kind), the list's order,
 * and ids made unique.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include "sha256.h"
#include "review_ctx.h"

static int hexcmp(const void *x, const void *y) { return strcmp(*(char *const *)x, *(char *const *)y); }

static int finding_id(rctx *r, fa_finding *f)
{
    const fa_cache *c = r->c;
    size_t n = f->n_files;
    uint32_t ga = f->folder, gb = f->other_folder;
    if (f->kind == FA_FIND_SAME_IDENTITY || f->kind == FA_FIND_MIXED_FOLDER)
        n = gsize(r, ga) + (f->kind == FA_FIND_SAME_IDENTITY ? gsize(r, gb) : 0);
    char **hx = malloc((n ? n : 1) * sizeof *hx), *buf = malloc((n ? n : 1) * 65);
    if (!hx || !buf) { free(hx); free(buf); return -1; }
    size_t k = 0;
    if (f->kind == FA_FIND_SAME_IDENTITY || f->kind == FA_FIND_MIXED_FOLDER) {
        for (int s = 0; s < (f->kind == FA_FIND_SAME_IDENTITY ? 2 : 1); s++) {
            uint32_t g = s ? gb : ga;
            for (size_t q = r->off[g]; q < r->off[g + 1]; q++, k++) {
                hx[k] = buf + k * 65;
                fa_sha256_hex(c->files[r->row_file[r->idx[q]]].sha256, hx[k]);
            }
        }
    } else {
        for (; k < n; k++) {
            hx[k] = buf + k * 65;
            fa_sha256_hex(c->files[f->files[k]].sha256, hx[k]);
        }
    }
    qsort(hx, k, sizeof *hx, hexcmp);
    /* the hashed text: kind, then "\n" + each sorted hex digest (+ "\n" + folder) */
    const char *kind = fa_find_kind_name(f->kind);
    const char *fo = (f->kind == FA_FIND_DUPLICATE && f->identical) ? c->folders[c->files[f->file].folder] : NULL;
    size_t tl = strlen(kind) + k * 65 + (fo ? strlen(fo) + 1 : 0), tp = 0;
    char *text = malloc(tl + 1);
    uint8_t dg[32];
    char hex[65];
    if (!text) { free(hx); free(buf); return fa_error("out of memory"); }
    tp += (size_t)sprintf(text + tp, "%s", kind);
    for (size_t q = 0; q < k; q++) tp += (size_t)sprintf(text + tp, "\n%.64s", hx[q]);
    /* identical copies share their bytes: the copy's folder tells them apart */
    if (fo) tp += (size_t)sprintf(text + tp, "\n%s", fo);
    int hrc = fa_sha256_buf(text, tp, dg);
    free(text);
    if (hrc) { free(hx); free(buf); return -1; }
    fa_sha256_hex(dg, hex);
    snprintf(f->id, sizeof f->id, "%s-%.16s", kind, hex);
    free(hx); free(buf);
    return 0;
}

/* The list's parts, surest and most harmful first: in the review part, the
 * copies across folders and the findings that mislabel someone with a full
 * gap of evidence; then the copies inside one folder (sure, told by bytes or
 * pixels, but they mislabel no one: a training set counts that photo twice);
 * then the findings with less evidence (look-alikes among them); then the rest. */
static int tier(const fa_finding *f)
{
    if (!f->review) return 3;
    if (f->kind == FA_FIND_DUPLICATE) return f->folder == f->other_folder ? 1 : 0;
    return f->score >= 2 * REVIEW_MIN ? 0 : 2;
}

static int finding_cmp(const void *x, const void *y)
{
    const fa_finding *a = x, *b = y;
    int ta = tier(a), tb = tier(b);
    if (ta != tb) return ta - tb;
    if (a->score != b->score) return a->score > b->score ? -1 : 1;
    if (a->kind != b->kind) return (int)a->kind - (int)b->kind;
    return strcmp(a->id, b->id);
}

static int id_cmp(const void *x, const void *y)
{
    const fa_finding *a = *(const fa_finding *const *)x, *b = *(const fa_finding *const *)y;
    int c = strcmp(a->id, b->id);
    return c ? c : (a < b ? -1 : a > b);   /* list order among equal ids */
}

/* Findings of identical content (three byte-identical copies in one folder
 * give two duplicate findings over the same files) would share an id; the
 * second and later get "-2", "-3"... in list order, so every id names one
 * finding and stays the same while the content does. */
static int unique_ids(rctx *r)
{
    fa_finding **v = malloc((r->n_out ? r->n_out : 1) * sizeof *v);
    if (!v) return fa_error("review list: out of memory");
    for (size_t k = 0; k < r->n_out; k++) v[k] = &r->out[k];
    qsort(v, r->n_out, sizeof *v, id_cmp);
    char cur[sizeof r->out[0].id] = "";
    for (size_t k = 0, run = 0; k < r->n_out; k++) {
        if (k == 0 || strcmp(v[k]->id, cur)) {
            memcpy(cur, v[k]->id, sizeof cur);
            run = 1;
        } else {
            snprintf(v[k]->id, sizeof v[k]->id, "%.40s-%zu", cur, ++run);
        }
    }
    free(v);
    return 0;
}

int rv_rank(rctx *r)
{
    for (size_t k = 0; k < r->n_out; k++) if (finding_id(r, &r->out[k])) return -1;
    if (r->n_out) qsort(r->out, r->n_out, sizeof *r->out, finding_cmp);   /* out is NULL when empty */
    return unique_ids(r);
}
