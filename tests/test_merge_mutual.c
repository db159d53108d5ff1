/*
 * test_merge_mutual.c - a merge in review joins two folders that find each
 * other first: each has a face whose nearest face in another folder is in
 * the other (src/audit/review_merge.c, finds_each_other). An in-memory cache:
 * 24 people of 8 faces; "zsplit0".."zsplit11", 3 more faces each of
 * p00..p11 (true splits: merges in review); a one-photo folder "zhub" and two
 * one-photo folders of other people on either side of it, "zleft" nearer
 * than "zright". Both look like zhub, and each merge with it is the other's
 * decoy; with twelve true splits both score past the merges' decoy cut, but
 * zhub's face finds zleft first: the merge with zleft is in review, the one
 * with zright is listed below it. Every other merge in review joins mutual
 * nearest folders by a naive search, but among "ztri0".."ztri2", one more
 * person under three names, where only one pair is mutual nearest and all
 * three merges are in review (each name has faces that find each other name
 * first). A second cache: "zpart" holds two photos of someone and one of
 * p14, "zpart2" three more of that someone, "zlook" one of a look-alike
 * nearest zpart's second photo; zpart's faces find zpart2, zlook and p14
 * first, one each: the face that finds zpart2 is enough, and their merge is
 * in review though zpart's nearest folder by the count is another.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "faceaudit/faceaudit.h"
#include "../src/audit/findings.h"

#include "check.h"
#include "memcache.h"
#include "testrand.h"

enum { P = 24, PER = 8, D = 32, SPLITS = 12, TRI = 4, NF = P + SPLITS + 6, N = P * PER + SPLITS * 3 + 3 + 3 * TRI };
enum { ZSPLIT = P, ZHUB = P + SPLITS, ZLEFT = ZHUB + 1, ZRIGHT = ZHUB + 2, ZTRI = ZHUB + 3 };
/* the second cache (build(1)): the people and splits, then these three */
enum { ZPART = P + SPLITS, ZPART2 = ZPART + 1, ZLOOK = ZPART + 2 };
#define STRANGER 14   /* the person whose photo sits in zpart */
#define SIDE 0.25     /* zleft's distance from zhub; zright's is 10% more */

static fa_file files[N];
static fa_face faces[N];
static float emb[N * D];
static char *folders[NF];

static void add(size_t n, int g, int r, const float *v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%s/%d.jpg", folders[g], r);
    mem_file(&files[n], &faces[n], n, buf, (uint32_t)g, 0x5a);
    memcpy(emb + n * D, v, D * sizeof *v);
}

/* zpart: two photos of a person and one of p14 near one of p14's; zpart2:
 * three more photos of that person; zlook: one photo of someone else nearest
 * zpart's second photo. From n, returns the next face. */
static size_t add_parts(size_t n, const float *person)
{
    float v[D], w[D];
    for (int r = 0; r < 5; r++) {
        for (int q = 0; q < D; q++) v[q] = person[q] + (float)(0.3 * nrand() / sqrt(2.0 * D));
        add(n++, r < 2 ? ZPART : ZPART2, r < 2 ? r : r - 2, v);
        if (r == 1) memcpy(w, v, sizeof w);
    }
    for (int q = 0; q < D; q++) v[q] = emb[(STRANGER * PER) * D + q] + (float)(0.3 * nrand() / sqrt(2.0 * D));
    add(n++, ZPART, 2, v);
    for (int q = 0; q < D; q++) v[q] = w[q] + (float)(0.3 * nrand() / sqrt(2.0 * D));
    add(n++, ZLOOK, 0, v);
    return n;
}

/* zhub at a person of its own, zleft and zright on a line through it; then
 * one more person under three names. From n, returns the next face. */
static size_t add_hub_tri(size_t n, const float *hub, const float *tri)
{
    float v[D], u[D];
    double un = 0;
    for (int q = 0; q < D; q++) { u[q] = (float)nrand(); un += (double)u[q] * u[q]; }
    for (int q = 0; q < D; q++) u[q] = (float)(u[q] / sqrt(un));
    add(n++, ZHUB, 0, hub);
    for (int q = 0; q < D; q++) v[q] = hub[q] + (float)SIDE * u[q];
    add(n++, ZLEFT, 0, v);
    for (int q = 0; q < D; q++) v[q] = hub[q] - (float)(1.1 * SIDE) * u[q];
    add(n++, ZRIGHT, 0, v);
    for (int g = ZTRI; g < ZTRI + 3; g++)
        for (int r = 0; r < TRI; r++) {
            for (int q = 0; q < D; q++) v[q] = tri[q] + (float)(0.2 * nrand() / sqrt(2.0 * D));
            add(n++, g, r, v);
        }
    return n;
}

/* part 0: the people, the splits and add_hub_tri; part 1: the people, the
 * splits and add_parts. */
static fa_cache build(int part)
{
    static float cen[P + 2][D];
    float v[D];
    int nf = part ? ZLOOK + 1 : NF;
    for (int g = 0; g <= P + 1; g++)
        for (int q = 0; q < D; q++) cen[g][q] = (float)(nrand() / sqrt(2.0 * D));
    for (int g = 0; g < nf; g++) {
        char name[16];
        if (g < P) snprintf(name, sizeof name, "p%02d", g);
        else if (g < ZHUB) snprintf(name, sizeof name, "zsplit%d", g - ZSPLIT);
        else if (part) snprintf(name, sizeof name, "%s", g == ZPART ? "zpart" : g == ZPART2 ? "zpart2" : "zlook");
        else if (g < ZTRI) snprintf(name, sizeof name, "%s", g == ZHUB ? "zhub" : g == ZLEFT ? "zleft" : "zright");
        else snprintf(name, sizeof name, "ztri%d", g - ZTRI);
        folders[g] = strdup(name);
    }
    size_t n = 0;
    for (int g = 0; g < ZHUB; g++)
        for (int r = 0; r < (g < P ? PER : 3); r++, n++) {
            const float *c = cen[g < P ? g : g - ZSPLIT];
            for (int q = 0; q < D; q++) v[q] = c[q] + (float)(0.3 * nrand() / sqrt(2.0 * D));
            add(n, g, r, v);
        }
    n = part ? add_parts(n, cen[P]) : add_hub_tri(n, cen[P], cen[P + 1]);
    fa_cache c;
    memset(&c, 0, sizeof c);
    c.dim = D; c.n_files = n; c.n_faces = n; c.n_folders = (size_t)nf;
    c.files = files; c.faces = faces; c.folders = folders; c.emb = emb;
    return c;
}

static double dist(const float *a, const float *b)
{
    double s = 0;
    for (int q = 0; q < D; q++) s += ((double)a[q] - b[q]) * ((double)a[q] - b[q]);
    return sqrt(s);
}

/* Folder g's nearest other folder by a naive search over every face pair. */
static uint32_t nearest_folder(const fa_cache *c, uint32_t g)
{
    double best = INFINITY;
    uint32_t h = FA_NONE;
    for (size_t i = 0; i < c->n_faces; i++) {
        if (c->files[c->faces[i].file].folder != g) continue;
        for (size_t j = 0; j < c->n_faces; j++) {
            uint32_t gj = c->files[c->faces[j].file].folder;
            double d = gj == g ? INFINITY : dist(c->emb + i * D, c->emb + j * D);
            if (d < best) { best = d; h = gj; }
        }
    }
    return h;
}

static const fa_finding *merge_of(const fa_audit *a, uint32_t ga, uint32_t gb)
{
    for (size_t k = 0; k < a->n_findings; k++) {
        const fa_finding *f = &a->findings[k];
        if (f->kind == FA_FIND_SAME_IDENTITY && ((f->folder == ga && f->other_folder == gb) ||
                                                  (f->folder == gb && f->other_folder == ga)))
            return f;
    }
    return NULL;
}

static void free_cache(const fa_cache *c)
{
    for (size_t k = 0; k < c->n_files; k++) free(files[k].path);
    for (size_t g = 0; g < c->n_folders; g++) free(folders[g]);
}

/* The audit of c with the default parameters (checked; NULL on failure). */
static fa_audit *audit_of(const fa_cache *c)
{
    fa_audit_params p = fa_audit_default_params();
    p.threads = 2;
    fa_audit *a = fa_audit_run(c, &p);
    CHECK(a != NULL, "audited: %s", a ? "" : fa_last_error());
    return a;
}

static void check_hub_tri(void)
{
    fa_cache c = build(0);
    fa_audit *a = audit_of(&c);
    if (!a) { free_cache(&c); return; }
    const fa_finding *split = merge_of(a, 0, ZSPLIT), *left = merge_of(a, ZHUB, ZLEFT), *right = merge_of(a, ZHUB, ZRIGHT);
    printf("  merge cut %.3f; split %.3f review %d; zleft %.3f review %d; zright %.3f review %d\n",
           (double)a->review_cut_merge, split ? (double)split->score : NAN, split ? split->review : -1,
           left ? (double)left->score : NAN, left ? left->review : -1, right ? (double)right->score : NAN,
           right ? right->review : -1);
    CHECK(nearest_folder(&c, ZHUB) == ZLEFT && nearest_folder(&c, ZLEFT) == ZHUB && nearest_folder(&c, ZRIGHT) == ZHUB,
          "the geometry: zhub and zleft are each other's nearest, zright's nearest is zhub");
    CHECK(split && split->review, "the true split is a merge in review");
    CHECK(left && left->review, "zhub and zleft: a merge in review");
    CHECK(right && right->matches > 0 && right->score >= a->review_cut_merge,
          "zhub and zright: a pair within the threshold, scoring past the decoy cut (%.3f >= %.3f)",
          right ? (double)right->score : NAN, (double)a->review_cut_merge);
    CHECK(right && !right->review, "but zhub's nearest is zleft: that merge is listed, not in review");
    uint32_t hub_near = right ? (right->folder == ZHUB ? right->folder_nearest : right->other_nearest) : FA_NONE;
    uint32_t right_near = right ? (right->folder == ZRIGHT ? right->folder_nearest : right->other_nearest) : FA_NONE;
    CHECK(hub_near == ZLEFT && right_near == ZHUB, "its evidence names each folder's nearest (zhub: %s, zright: %s)",
          hub_near == FA_NONE ? "none" : folders[hub_near], right_near == FA_NONE ? "none" : folders[right_near]);
    uint32_t hub_finds = right ? (right->folder == ZHUB ? right->folder_finds : right->other_finds) : 9;
    uint32_t right_finds = right ? (right->folder == ZRIGHT ? right->folder_finds : right->other_finds) : 0;
    CHECK(hub_finds == 0 && right_finds == 1, "and how many faces of each find the other first (zhub %u, zright %u)",
          hub_finds, right_finds);
    size_t in_review = 0, mutual = 0, tri = 0, tri_mutual = 0;
    for (size_t k = 0; k < a->n_findings; k++) {
        const fa_finding *f = &a->findings[k];
        if (f->kind != FA_FIND_SAME_IDENTITY || !f->review) continue;
        int m = nearest_folder(&c, f->folder) == f->other_folder && nearest_folder(&c, f->other_folder) == f->folder;
        if (f->folder >= ZTRI && f->other_folder >= ZTRI) { tri++; tri_mutual += m; continue; }
        in_review++;
        mutual += m;
    }
    CHECK(in_review == SPLITS + 1 && mutual == in_review,
          "the splits and zleft in review, each between mutual nearest folders (%zu of %zu)", mutual, in_review);
    /* the third name's nearest is one of the other two, so only one pair is
     * mutual nearest; the others stay in review, their faces finding each
     * other first too */
    CHECK(tri == 3 && tri_mutual == 1, "a person under three names: all three merges in review, one of them mutual "
          "(%zu, %zu)", tri, tri_mutual);
    fa_audit_free(a);
    free_cache(&c);
}

/* zpart's three faces find zpart2, zlook and p14 first, one each, and
 * zpart2's is not the nearest of the three: one face finding zpart2 first is
 * enough, so the merge stays in review. */
static void check_tie(void)
{
    fa_cache c = build(1);
    fa_audit *a = audit_of(&c);
    if (!a) { free_cache(&c); return; }
    const fa_finding *part = merge_of(a, ZPART, ZPART2);
    uint32_t near = part ? (part->folder == ZPART ? part->folder_nearest : part->other_nearest) : FA_NONE;
    printf("  zpart: merge %.3f review %d, cut %.3f; nearest %s\n", part ? (double)part->score : NAN,
           part ? part->review : -1, (double)a->review_cut_merge, near == FA_NONE ? "none" : folders[near]);
    CHECK(near != FA_NONE && near != ZPART2, "zpart's nearest folder by the tie-break is another than zpart2 (%s)",
          near == FA_NONE ? "none" : folders[near]);
    CHECK(part && part->score >= a->review_cut_merge && part->review,
          "yet its merge with zpart2 scores past the decoy cut and is in review");
    fa_audit_free(a);
    free_cache(&c);
}

int main(void)
{
    rs = 9090;
    check_hub_tri();
    check_tie();
    return check_done();
}
