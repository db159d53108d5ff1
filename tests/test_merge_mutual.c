/*
 * test_merge_mutual.c - a merge in review joins two folders that find each
 * other first (src/audit/review_merge.c, mutual_nearest). An
 * in-memory cache: 24 people of 8 faces; "zsplit0".."zsplit11", 3 more faces
 * each of p00..p11 (true splits: merges in review); a one-photo folder "zhub"
 * and two one-photo folders of other people on either side of it, "zleft"
 * nearer than "zright". Both look like zhub, and each merge with it is the
 * other's decoy; with twelve true splits both score past the merges' decoy
 * cut, but zhub's nearest folder is zleft: the merge with zleft is in review,
 * the one with zright is listed below it. And every merge in review joins
 * mutual nearest folders by a naive search, but among "ztri0".."ztri2", one
 * more person under three names: the third name's nearest is one of the
 * other two, so one pair is mutual; a folder whose nearest is a third folder
 * that is itself a merge with the other counts as finding it, and all three
 * merges are in review.
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

static fa_cache build(void)
{
    static float cen[P + 2][D];
    float v[D], u[D];
    double un = 0;
    for (int g = 0; g <= P + 1; g++)
        for (int q = 0; q < D; q++) cen[g][q] = (float)(nrand() / sqrt(2.0 * D));
    for (int g = 0; g < NF; g++) {
        char name[16];
        if (g < P) snprintf(name, sizeof name, "p%02d", g);
        else if (g < ZHUB) snprintf(name, sizeof name, "zsplit%d", g - ZSPLIT);
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
    /* zhub at a person of its own; zleft and zright on a line through it */
    for (int q = 0; q < D; q++) { u[q] = (float)nrand(); un += (double)u[q] * u[q]; }
    for (int q = 0; q < D; q++) u[q] = (float)(u[q] / sqrt(un));
    add(n++, ZHUB, 0, cen[P]);
    for (int q = 0; q < D; q++) v[q] = cen[P][q] + (float)SIDE * u[q];
    add(n++, ZLEFT, 0, v);
    for (int q = 0; q < D; q++) v[q] = cen[P][q] - (float)(1.1 * SIDE) * u[q];
    add(n++, ZRIGHT, 0, v);
    /* one more person under three names */
    for (int g = ZTRI; g < ZTRI + 3; g++)
        for (int r = 0; r < TRI; r++) {
            for (int q = 0; q < D; q++) v[q] = cen[P + 1][q] + (float)(0.2 * nrand() / sqrt(2.0 * D));
            add(n++, g, r, v);
        }
    fa_cache c;
    memset(&c, 0, sizeof c);
    c.dim = D; c.n_files = n; c.n_faces = n; c.n_folders = NF;
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

int main(void)
{
    rs = 9090;
    fa_cache c = build();
    fa_audit_params p = fa_audit_default_params();
    p.threads = 2;
    fa_audit *a = fa_audit_run(&c, &p);
    CHECK(a != NULL, "audited: %s", a ? "" : fa_last_error());
    if (!a) return check_done();
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
    size_t in_review = 0, mutual = 0, tri = 0, tri_mutual = 0;
    for (size_t k = 0; k < a->n_findings; k++) {
        const fa_finding *f = &a->findings[k];
        if (f->kind != FA_FIND_SAME_IDENTITY || !f->review) continue;
        int m = nearest_folder(&c, f->folder) == f->other_folder && nearest_folder(&c, f->other_folder) == f->folder;
        if (f->folder >= ZTRI && f->other_folder >= ZTRI) { tri++; tri_mutual += m; continue; }
        in_review++;
        mutual += m;
    }
    CHECK(in_review == SPLITS + 1 && mutual == in_review, "the splits and zleft in review, each between mutual nearest folders (%zu of %zu)",
          mutual, in_review);
    /* the third name's nearest is one of the other two, so only one pair is
     * mutual; a merge whose folder finds first a third folder that is itself
     * a merge with the other stays in review */
    CHECK(tri == 3 && tri_mutual == 1, "a person under three names: all three merges in review, one of them mutual "
          "(%zu, %zu)", tri, tri_mutual);
    for (size_t k = 0; getenv("FA_TEST_VERBOSE") && k < a->n_findings; k++) {
        const fa_finding *f = &a->findings[k];
        if (f->kind == FA_FIND_SAME_IDENTITY && f->folder >= ZTRI && f->other_folder >= ZTRI)
            printf("    %s %s score %.3f decoy %.3f review %d nearest %s %s\n", folders[f->folder], folders[f->other_folder],
                   (double)f->score, (double)f->decoy, f->review, folders[f->folder_nearest], folders[f->other_nearest]);
    }
    fa_audit_free(a);
    for (size_t k = 0; k < c.n_files; k++) free(files[k].path);
    for (int g = 0; g < NF; g++) free(folders[g]);
    return check_done();
}
