/*
 * review_names.c - part of stage 4 of the review list (review_ctx.h): one
 * person filed under three or more names. The merges in review join two of
 * the names, which find each other first; the third's merges are one-sided
 * (review_merge.c keeps them out), so here they join the review part when
 * their folders are as near across as inside, each as near every name the
 * other is joined to, and find each other first with the names already
 * joined set aside.
 */
#include "review_ctx.h"

/* Faces of folder g whose nearest face outside the names g is joined to
 * (up: union-find over folders, joined by merges in review) is in h or a
 * name joined to h, copies aside (rv_nearest_other). */
static uint32_t finds_outside(rctx *r, uint32_t *up, uint32_t g, uint32_t h)
{
    uint32_t n = 0, H = uf_find(up, h);
    for (size_t q = r->off[g]; q < r->off[g + 1]; q++) {
        uint32_t j = rv_nearest_other(r, r->idx[q], up, NULL);
        n += j != FA_NONE && uf_find(up, r->grp[j]) == H;
    }
    return n;
}

/* Folder g is one person with every name joined to h but h itself
 * (rv_one_person): a third name is as near each of the person's names.
 * ring: each folder's next in its joined set, a cycle (join), so that this
 * visits h's names only, not every folder. */
static int near_names(rctx *r, const uint32_t *ring, uint32_t g, uint32_t h)
{
    for (uint32_t x = ring[h]; x != h; x = ring[x])
        if (!rv_one_person(r, g, x)) return 0;
    return 1;
}

/* Joins the names of a and b: union-find for the test, and the two cycles
 * of ring spliced into one (swapping two successors joins two cycles). */
static void join(uint32_t *up, uint32_t *ring, uint32_t a, uint32_t b)
{
    if (uf_find(up, a) == uf_find(up, b)) return;
    uf_union(up, a, b);
    uint32_t t = ring[a]; ring[a] = ring[b]; ring[b] = t;
}

/* The one-sided merges past the decoy cut (one_sided[0 .. n1): indices in
 * out) that join names in review, until none joins; their counts become
 * those with the names set aside (fa_finding.set_aside). Two look-alikes,
 * unlike one person, are farther apart across than inside. */
int rv_join_names(rctx *r, const size_t *one_sided, size_t n1)
{
    uint32_t *up = malloc(2 * (r->ng ? r->ng : 1) * sizeof *up), *ring = up + r->ng;
    if (!up) return -1;
    for (uint32_t g = 0; g < r->ng; g++) up[g] = ring[g] = g;
    for (size_t k = 0; k < r->n_out; k++)
        if (r->out[k].kind == FA_FIND_SAME_IDENTITY && r->out[k].review) join(up, ring, r->out[k].folder, r->out[k].other_folder);
    for (int joined = 1; joined;) {
        joined = 0;
        for (size_t s = 0; s < n1; s++) {
            fa_finding *f = &r->out[one_sided[s]];
            if (f->review || uf_find(up, f->folder) == uf_find(up, f->other_folder) ||
                !as_near_across(r, f->own_size, f->other_size, f->dist, f->own))
                continue;
            uint32_t a = finds_outside(r, up, f->folder, f->other_folder), b = finds_outside(r, up, f->other_folder, f->folder);
            if (!a || !b || !near_names(r, ring, f->folder, f->other_folder) || !near_names(r, ring, f->other_folder, f->folder))
                continue;
            f->folder_finds = a; f->other_finds = b; f->set_aside = 1;
            f->review = 1;
            join(up, ring, f->folder, f->other_folder);
            r->merged[r->n_merged++] = pair_key(f->folder, f->other_folder);
            joined = 1;
        }
    }
    free(up);
    return 0;
}
