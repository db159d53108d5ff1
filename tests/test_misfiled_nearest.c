/*
 * test_misfiled_nearest.c - a misfiled face with less than a full gap of
 * evidence is in review only when its nearest face in another folder is in
 * the folder it is said to belong to (src/audit/review_merge.c,
 * rv_misfiled_cut). An in-memory cache: 24 people of 8 faces, where p03/7
 * is an odd photo between p02's person and p03's, nearer p02 by the
 * medians: misfiled into p02 with less than a full gap of evidence, in
 * review. The same cache with one more face, "p05/zhub", a stray of p05 at
 * the same spot: p03/7's nearest face elsewhere is then zhub, in p05, not in
 * p02, and p03/7, though it passes the decoy cut as before, is listed below
 * the review part.
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

enum { P = 24, PER = 8, D = 32, N = P * PER + 1 };
#define MIX 0.65   /* the odd photos: this share of the other person's centre */

static fa_file files[N];
static fa_face faces[N];
static float emb[N * D];
static char *folders[P];
static float cen[P][D];

/* Face n, "FOLDER/NAME.jpg", at v plus a face's usual spread. */
static void face(size_t n, int g, const char *name, const float *v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%s/%s.jpg", folders[g], name);
    mem_file(&files[n], &faces[n], n, buf, (uint32_t)g, 0x4e);
    for (int q = 0; q < D; q++) emb[n * D + q] = v[q] + (float)(0.3 * nrand() / sqrt(2.0 * D));
}

/* v: MIX of person a's centre, the rest person b's. */
static void between(float *v, int a, int b)
{
    for (int q = 0; q < D; q++) v[q] = (float)(MIX * cen[a][q] + (1 - MIX) * cen[b][q]);
}

static fa_cache build(int hub)
{
    float v[D];
    size_t n = 0;
    for (int g = 0; g < P; g++) {
        char name[8];
        snprintf(name, sizeof name, "p%02d", g);
        folders[g] = strdup(name);
        for (int q = 0; q < D; q++) cen[g][q] = (float)(nrand() / sqrt(2.0 * D));
    }
    for (int g = 0; g < P; g++)
        for (int r = 0; r < PER; r++) {
            char name[8];
            snprintf(name, sizeof name, "%d", r);
            if (g == 3 && r == PER - 1) between(v, 2, 3);
            else memcpy(v, cen[g], sizeof v);
            face(n++, g, name, v);
        }
    if (hub) {
        between(v, 2, 3);
        face(n++, 5, "zhub", v);
    }
    fa_cache c;
    memset(&c, 0, sizeof c);
    c.dim = D; c.n_files = n; c.n_faces = n; c.n_folders = P;
    c.files = files; c.faces = faces; c.folders = folders; c.emb = emb;
    return c;
}

static const fa_finding *misfiled_of(const fa_audit *a, const char *path)
{
    for (size_t k = 0; k < a->n_findings; k++) {
        const fa_finding *f = &a->findings[k];
        if (f->kind == FA_FIND_MISFILED && strcmp(files[f->file].path, path) == 0) return f;
    }
    return NULL;
}

static void show(const char *what, const fa_finding *f)
{
    if (!f) { printf("  %s: no misfiled finding\n", what); return; }
    printf("  %s: into %s, score %.3f, decoy %.3f, nearest face in %s, review %d\n", what, folders[f->other_folder],
           (double)f->score, (double)f->decoy, f->folder_nearest == FA_NONE ? "-" : folders[f->folder_nearest],
           f->review);
}

/* p03/7's misfiled finding in the cache without (hub 0) or with zhub. */
static void check_odd(int hub)
{
    rs = 5151;
    fa_cache c = build(hub);
    fa_audit_params p = fa_audit_default_params();
    p.threads = 2;
    fa_audit *a = fa_audit_run(&c, &p);
    CHECK(a != NULL, "audited: %s", a ? "" : fa_last_error());
    if (a) {
        const fa_finding *f = misfiled_of(a, "p03/7.jpg");
        printf("  %s zhub: misfiled cut %.3f\n", hub ? "with" : "without", (double)a->review_cut_misfiled);
        show("p03/7", f);
        CHECK(f && f->other_folder == 2, "p03/7: into p02 by the medians");
        CHECK(f && f->score >= a->review_cut_misfiled && f->score < 1.0f,
              "passing the decoy cut with less than a full gap of evidence");
        CHECK(f && f->folder_nearest == (hub ? 5u : 2u), "its nearest face elsewhere in %s", hub ? "p05 (zhub)" : "p02");
        CHECK(f && f->review == !hub, hub ? "listed below the review part" : "in review");
        fa_audit_free(a);
    }
    for (size_t k = 0; k < c.n_files; k++) free(files[k].path);
    for (int g = 0; g < P; g++) free(folders[g]);
}

int main(void)
{
    check_odd(0);
    check_odd(1);
    return check_done();
}
