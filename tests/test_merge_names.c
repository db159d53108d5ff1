/*
 * test_merge_names.c - a person filed under three names: every merge among
 * the names is in review (src/audit/review_merge.c, merge_decoy). An
 * in-memory cache: 24 people of 8 faces, and four more people each under
 * three names ("zNa", "zNb", "zNc", 4 faces each). The runner-up folder of
 * each name is another of its names, so a decoy taken from it scores as
 * much as the merge: the decoys would keep all twelve merges out of review.
 * A runner-up that is one person with both folders of the merge (as near
 * across as inside, each finding the other first) is passed over, so the
 * decoys are strangers and each person's names are joined in review.
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

enum { P = 24, PER = 8, D = 32, NAMES = 3, TRIS = 4, TRI_PER = 4 };
enum { NF = P + TRIS * NAMES, N = P * PER + TRIS * NAMES * TRI_PER };

static fa_file files[N];
static fa_face faces[N];
static float emb[N * D];
static char *folders[NF];

static fa_cache build(void)
{
    static float cen[P + TRIS][D];
    for (int g = 0; g < P + TRIS; g++)
        for (int q = 0; q < D; q++) cen[g][q] = (float)(nrand() / sqrt(2.0 * D));
    size_t n = 0;
    for (int g = 0; g < NF; g++) {
        char name[16];
        int t = (g - P) / NAMES;
        if (g < P) snprintf(name, sizeof name, "p%02d", g);
        else snprintf(name, sizeof name, "z%d%c", t, 'a' + (g - P) % NAMES);
        folders[g] = strdup(name);
        const float *c = cen[g < P ? g : P + t];
        for (int r = 0; r < (g < P ? PER : TRI_PER); r++, n++) {
            char buf[32];
            snprintf(buf, sizeof buf, "%s/%d.jpg", name, r);
            mem_file(&files[n], &faces[n], n, buf, (uint32_t)g, 0x3c);
            for (int q = 0; q < D; q++) emb[n * D + q] = c[q] + (float)(0.3 * nrand() / sqrt(2.0 * D));
        }
    }
    fa_cache c;
    memset(&c, 0, sizeof c);
    c.dim = D; c.n_files = n; c.n_faces = n; c.n_folders = NF;
    c.files = files; c.faces = faces; c.folders = folders; c.emb = emb;
    return c;
}

/* The person of a name folder (-1: one of the 24). */
static int person(uint32_t g) { return g < P ? -1 : (int)(g - P) / NAMES; }

/* Union-find over the names of one person. */
static int root(int *up, int x)
{
    while (up[x] != x) x = up[x];
    return x;
}

static void check_three_names(void)
{
    fa_cache c = build();
    fa_audit_params p = fa_audit_default_params();
    p.threads = 2;
    fa_audit *a = fa_audit_run(&c, &p);
    CHECK(a != NULL, "audited: %s", a ? "" : fa_last_error());
    size_t merges = 0, in_review = 0, stranger_decoy = 0, other_review = 0, people_joined = 0, set_aside = 0;
    int up[TRIS][NAMES];
    for (int t = 0; t < TRIS; t++)
        for (int k = 0; k < NAMES; k++) up[t][k] = k;
    for (size_t k = 0; a && k < a->n_findings; k++) {
        const fa_finding *f = &a->findings[k];
        if (f->kind != FA_FIND_SAME_IDENTITY) continue;
        int t = person(f->folder);
        if (t < 0 || person(f->other_folder) != t) { other_review += f->review; continue; }
        merges++;
        in_review += f->review;
        if (getenv("FA_TEST_VERBOSE"))
            printf("    %s %s score %.3f decoy %.3f finds %u %u review %d\n", folders[f->folder], folders[f->other_folder],
                   (double)f->score, (double)f->decoy, f->folder_finds, f->other_finds, f->review);
        stranger_decoy += f->decoy < f->score;
        set_aside += f->review && f->set_aside && f->folder_finds && f->other_finds;
        if (f->review) up[t][root(up[t], (int)(f->folder - P) % NAMES)] = root(up[t], (int)(f->other_folder - P) % NAMES);
    }
    for (int t = 0; t < TRIS; t++)
        people_joined += root(up[t], 0) == root(up[t], 1) && root(up[t], 1) == root(up[t], 2);
    printf("  merges among the names %zu, in review %zu, decoy below the score %zu; cut %.3f\n", merges, in_review,
           stranger_decoy, a ? (double)a->review_cut_merge : NAN);
    CHECK(merges == TRIS * NAMES, "a merge for each pair of names (%zu)", merges);
    CHECK(stranger_decoy == merges, "each merge's decoy is a stranger, scoring below it (%zu of %zu)", stranger_decoy,
          merges);
    CHECK(in_review >= 2 * TRIS, "at least two per person in review (%zu of %zu)", in_review, merges);
    CHECK(set_aside > 0, "some joined with the names already joined set aside (%zu)", set_aside);
    CHECK(people_joined == TRIS, "each person's three names joined by merges in review (%zu of %d)", people_joined,
          TRIS);
    CHECK(other_review == 0, "no other merge in review (%zu)", other_review);
    fa_audit_free(a);
    for (size_t k = 0; k < c.n_files; k++) free(files[k].path);
    for (size_t g = 0; g < c.n_folders; g++) free(folders[g]);
}

int main(void)
{
    rs = 4242;
    check_three_names();
    return check_done();
}
