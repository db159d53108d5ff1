/*
 * test_review.c - the review list (src/audit/review*.c) on an in-memory cache
 * with planted mistakes: a misfiled face, a photo copied byte for byte into
 * two folders and one re-encoded into a third (one finding per copied file),
 * a one-photo folder split off a big one, two one-photo folders of one person,
 * a folder holding two people; ids stable across a rename; the planted
 * findings first, in the review part, and nothing in review about the
 * untouched folders. The decoy cut (fdr.h) on its own, and on a crowd of
 * look-alike one-photo folders: none of their merges in review, a true split
 * among them still is, and a two-photo split among them whose merge fails
 * that cut but one of whose faces passes as misfiled is one merge for review
 * (a two-photo folder of two people is not). Thumbnails: another crop of a photo inside its folder,
 * too far by the encoder to be taken for a copy, is a duplicate for review by
 * its pixels; a second photo of the pose at the same distance is not.
 * Odd photos: a stray far from every folder ranks below a stranger's face
 * that is nearer its folder.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "faceaudit/faceaudit.h"
#include "../src/audit/fdr.h"
#include "../src/audit/findings.h"
#include "../src/thumb.h"

#include "check.h"
#include "memcache.h"
#include "testrand.h"
#include "naive_knn.h"

enum { K = 24, PER = 8, D = 32, NF = K + 6, MAXF = K * PER + 64, IDS = K + 4 };
static float cen[IDS][D];
static fa_file files[MAXF];
static fa_face faces[MAXF];
static float emb[MAXF * D];
static char *folders[NF];
static size_t nfile, nface;

static void face_of(int id, float *out, double w)
{
    for (int q = 0; q < D; q++) out[q] = cen[id][q] + (float)(w * nrand() / sqrt(2.0 * D));
}

static size_t add_face(int folder, const char *name, int id)
{
    fa_file *f = &files[nfile];
    char buf[256];
    snprintf(buf, sizeof buf, "%s/%s", folders[folder], name);
    f->path = strdup(buf);
    f->folder = (uint32_t)folder;
    f->status = FA_STATUS_OK;
    f->reason = (char *)"";
    f->has_sha256 = 1;
    memset(f->sha256, 0, 32);
    f->sha256[1] = (uint8_t)(nfile >> 8);
    f->sha256[2] = (uint8_t)nfile;
    f->sha256[3] = 0x5a;
    f->n_faces = 1;
    f->first_face = (int64_t)nface;
    faces[nface].file = (uint32_t)nfile;
    faces[nface].face = 0;
    if (id >= 0) face_of(id, emb + nface * D, 0.3);
    nface++;
    return nfile++;
}

/* Folders (sorted names): person00..23, then the planted ones. */
enum { F_MIXED = K, F_ONE_X, F_ONE_Y, F_SOLO };
static const char *extra[] = { "zmixed", "zone_x", "zone_y", "zsolo" };

static fa_cache build(void)
{
    for (int i = 0; i < K; i++) {
        char name[32];
        snprintf(name, sizeof name, "person%02d", i);
        folders[i] = strdup(name);
    }
    for (int i = 0; i < 4; i++) folders[K + i] = strdup(extra[i]);
    for (int i = 0; i < IDS; i++)
        for (int q = 0; q < D; q++) cen[i][q] = (float)(1.0 * nrand() / sqrt(2.0 * D));
    for (int i = 0; i < K; i++)
        for (int r = 0; r < PER; r++) {
            char name[32];
            snprintf(name, sizeof name, "img%03d.jpg", r);
            add_face(i, name, i);
        }
    add_face(0, "zz_misfiled.jpg", 5);                   /* person05's face in person00 */
    size_t src = 4 * PER;                                /* person04/img000 copied twice */
    for (int t = 0; t < 2; t++) {
        size_t f = add_face(t ? 9 : 3, "copy_of_4.jpg", -1);
        memcpy(emb + (nface - 1) * D, emb + src * D, D * sizeof *emb);
        memcpy(files[f].sha256, files[src].sha256, 32);
    }
    add_face(8, "reencoded.jpg", -1);                    /* person06/img001 re-encoded */
    for (int q = 0; q < D; q++)
        emb[(nface - 1) * D + q] = emb[(6 * PER + 1) * D + q] + (float)(0.01 * nrand() / sqrt(D));
    {   /* person07/img002 resized into its own folder, a shade nearer the folder's centre
           (so it fits better): the larger original is the one to keep */
        size_t orig = 7 * PER + 2;
        add_face(7, "a_small.jpg", -1);
        for (int q = 0; q < D; q++)
            emb[(nface - 1) * D + q] = emb[orig * D + q] + 0.05f * (cen[7][q] - emb[orig * D + q]);
        files[orig].width = 200; files[orig].height = 250;
        files[nfile - 1].width = 100; files[nfile - 1].height = 125;
    }
    add_face(F_SOLO, "only.jpg", 12);                    /* a one-photo split of person12 */
    add_face(F_ONE_X, "x.jpg", K);                       /* one person in two one-photo folders */
    add_face(F_ONE_Y, "y.jpg", K);
    for (int r = 0; r < 6; r++) {                        /* zmixed: 6 of identity K+1, 4 of K+2 */
        char name[32];
        snprintf(name, sizeof name, "a%d.jpg", r);
        add_face(F_MIXED, name, K + 1);
    }
    for (int r = 0; r < 4; r++) {
        char name[32];
        snprintf(name, sizeof name, "b%d.jpg", r);
        add_face(F_MIXED, name, K + 2);
    }
    fa_cache c;
    memset(&c, 0, sizeof c);
    c.dim = D;
    c.n_files = nfile;
    c.n_faces = nface;
    c.n_folders = NF;
    c.files = files;
    c.faces = faces;
    c.folders = folders;
    c.emb = emb;
    return c;
}

static const char *path_of(const fa_cache *c, uint32_t f) { return f == FA_NONE ? "" : c->files[f].path; }

/* Rank (1..) of the first finding of `kind` whose path or folder matches; 0 when none. */
static size_t find(const fa_audit *a, const fa_cache *c, fa_find_kind kind, const char *path, const char *folder)
{
    for (size_t k = 0; k < a->n_findings; k++) {
        const fa_finding *f = &a->findings[k];
        if (f->kind != kind) continue;
        if (path && strcmp(path_of(c, f->file), path)) continue;
        if (folder && (f->folder == FA_NONE || strcmp(c->folders[f->folder], folder))) continue;
        return k + 1;
    }
    return 0;
}

static size_t count_kind_path(const fa_audit *a, const fa_cache *c, const char *path)
{
    size_t n = 0;
    for (size_t k = 0; k < a->n_findings; k++) n += strcmp(path_of(c, a->findings[k].file), path) == 0;
    return n;
}

static int is_planted(const fa_cache *c, const fa_finding *f)
{
    const char *p = path_of(c, f->file);
    return strstr(p, "zz_misfiled") || strstr(p, "copy_of_4") || strstr(p, "reencoded") || strstr(p, "a_small") ||
           (f->folder != FA_NONE && f->folder >= K) || (f->other_folder != FA_NONE && f->other_folder >= K);
}

/* The list's parts, as review_rank.c orders them. */
static int tier(const fa_finding *f)
{
    if (!f->review) return 2;
    return f->kind == FA_FIND_DUPLICATE && f->folder == f->other_folder ? 1 : 0;
}

static void check_list(const fa_audit *a, const fa_cache *c)
{
    size_t r_mis = find(a, c, FA_FIND_MISFILED, "person00/zz_misfiled.jpg", NULL);
    CHECK(r_mis > 0 && a->findings[r_mis - 1].other_folder == 5 && a->findings[r_mis - 1].review,
          "misfiled face found, suggested folder person05, in review (rank %zu)", r_mis);
    size_t r1 = find(a, c, FA_FIND_DUPLICATE, "person03/copy_of_4.jpg", NULL);
    size_t r2 = find(a, c, FA_FIND_DUPLICATE, "person09/copy_of_4.jpg", NULL);
    CHECK(r1 && r2 && a->findings[r1 - 1].keep == 4 * PER && a->findings[r2 - 1].keep == 4 * PER &&
          a->findings[r1 - 1].identical, "each byte copy is one duplicate finding keeping the original");
    CHECK(count_kind_path(a, c, "person03/copy_of_4.jpg") == 1 && count_kind_path(a, c, "person09/copy_of_4.jpg") == 1,
          "one finding per copied file (no misfiled rows for the copies)");
    CHECK(count_kind_path(a, c, "person04/img000.jpg") == 0, "the kept original is not a finding of its own");
    size_t r3 = find(a, c, FA_FIND_DUPLICATE, "person08/reencoded.jpg", NULL);
    CHECK(r3 && !a->findings[r3 - 1].identical, "re-encoded copy found as a duplicate (not identical bytes)");
    size_t r4 = find(a, c, FA_FIND_DUPLICATE, "person07/a_small.jpg", NULL);
    CHECK(r4 && a->findings[r4 - 1].keep == 7 * PER + 2,
          "a smaller copy inside one folder: the larger original is kept, though the copy fits a shade better");
    size_t r_solo = 0, r_one = 0;
    for (size_t k = 0; k < a->n_findings; k++) {
        const fa_finding *f = &a->findings[k];
        if (f->kind != FA_FIND_SAME_IDENTITY) continue;
        if ((f->folder == 12 && f->other_folder == F_SOLO) || (f->folder == F_SOLO && f->other_folder == 12)) r_solo = k + 1;
        if ((f->folder == F_ONE_X && f->other_folder == F_ONE_Y) || (f->folder == F_ONE_Y && f->other_folder == F_ONE_X))
            r_one = k + 1;
    }
    CHECK(r_solo && a->findings[r_solo - 1].folder == 12, "one-photo split found: merge zsolo into person12 (rank %zu)", r_solo);
    CHECK(r_one && a->findings[r_one - 1].review, "two one-photo folders of one person: merge suggested (rank %zu)", r_one);
    size_t r_mix = find(a, c, FA_FIND_MIXED_FOLDER, NULL, "zmixed");
    CHECK(r_mix > 0, "mixed folder found (rank %zu)", r_mix);
    if (r_mix) {
        const fa_finding *f = &a->findings[r_mix - 1];
        int own_a = 1, other_b = 1;
        for (uint32_t q = 0; q < f->cluster_end[0]; q++) own_a &= strstr(path_of(c, f->files[q]), "/a") != NULL;
        for (uint32_t q = f->cluster_end[0]; q < f->n_files; q++) other_b &= strstr(path_of(c, f->files[q]), "/b") != NULL;
        CHECK(f->n_clusters == 2 && f->cluster_end[0] == 6 && f->n_files == 10 && own_a && other_b,
              "mixed folder split into the right clusters: 6 own (a*), 4 other (b*)");
        /* one second person of 4 faces, no face alone: its margins weigh 4 / sqrt(4) */
        float margins = f->own_margin + f->stranger_margin;
        CHECK(margins > 0 && fabsf(f->score - 2.0f * margins) < 1e-3f * f->score,
              "mixed folder's score weighs its group's margins by size / sqrt(odd faces) (%.3f = 2 x %.3f)",
              f->score, margins);
    }
    /* the planted findings come first, and nothing about untouched folders is in review */
    size_t planted = 7, worst = 0, stray_review = 0;
    size_t ranks[] = { r_mis, r1, r2, r3, r_solo, r_one, r_mix };
    for (size_t k = 0; k < planted; k++) if (ranks[k] > worst) worst = ranks[k];
    for (size_t k = 0; k < a->n_findings; k++)
        stray_review += a->findings[k].review && !is_planted(c, &a->findings[k]);
    CHECK(worst > 0 && worst <= planted, "the %zu planted findings are the top %zu (worst rank %zu)", planted, planted, worst);
    CHECK(stray_review == 0, "no finding about an untouched folder in review (%zu)", stray_review);
    for (size_t k = 1; k < a->n_findings; k++)
        if (tier(&a->findings[k]) < tier(&a->findings[k - 1]) ||
            (tier(&a->findings[k]) == tier(&a->findings[k - 1]) && a->findings[k].score > a->findings[k - 1].score)) {
            CHECK(0, "ranked by part (review, its copies inside a folder, the rest), then score (at %zu)", k);
            break;
        }
}

/* fa_fdr_cut on hand-made scores. */
static void check_fdr(void)
{
    const float t[5] = { 5, 4, 3, 2, 1 };
    const float d[5] = { 2.5f, -INFINITY, NAN, -INFINITY, -INFINITY };
    CHECK(fa_fdr_cut(t, d, 5, 0.2f) == 1.0f, "one decoy over five findings: all within FDR 0.2");
    CHECK(fa_fdr_cut(t, d, 5, 0.1f) == 3.0f, "FDR 0.1: the cut stops above the decoy (at 3)");
    const float hi[3] = { 9, 9, 9 };
    CHECK(isinf(fa_fdr_cut(t, hi, 3, 0.5f)), "decoys above every finding: nothing reviewed");
    CHECK(isinf(fa_fdr_cut(t, d, 0, 0.2f)), "no findings: no cut");
    /* a decoy between findings lifts the cut over the findings below it only
     * while their share of decoys is above q: the q-value is monotone */
    const float t2[4] = { 4, 3, 2, 1 }, d2[4] = { 3.5f, -INFINITY, -INFINITY, -INFINITY };
    CHECK(fa_fdr_cut(t2, d2, 4, 0.3f) == 1.0f && fa_fdr_cut(t2, d2, 4, 0.2f) == 4.0f,
          "FDR 1/4 at the lowest cut: all in at q 0.3; at q 0.2 only the finding above the decoy");
}

/* Forty one-photo folders in ten families of four look-alikes (each nearer
 * the others than two people usually are, as actors of one type can be),
 * beside 24 people of 8 photos and three photos of p00 split off as zsplit:
 * every look-alike has a runner-up as near as its best match, so the decoys
 * keep their merges out of review; the split, whose runner-up is a
 * stranger, stays in. */
/* A crowd of look-alikes: P people of 8 faces, FAM families of PERF
 * one-photo folders whose people look alike, "zsplit" (3 faces of p00),
 * and with pair != 0: "zpair", 2 faces of p01, one typical, one far off (an
 * odd photo), the shape of a two-photo folder split off under a new name;
 * "zthree", 3 faces of a new person; "ztwo", one face of zthree's person and
 * one of someone between p23 and that person, nearer p23 (two people). */
enum { LP = 24, FAM = 10, PERF = 4, LNF = LP + FAM * PERF + 4, LNMAX = LP * PER + FAM * PERF + 10 };
static fa_file lf[LNMAX];
static fa_face lfc[LNMAX];
static float le[LNMAX * D], lc[LP + FAM + 1][D];
#define TWO_MIX 0.58f   /* eligible for a merge with zthree, yet nearer p23 */
static char *lfold[LNF];

static fa_cache crowd(int pair)
{
    size_t n = 0;
    int nfold = pair ? LNF : LNF - 3, zsplit = LP + FAM * PERF, zpair = zsplit + 1, zthree = zsplit + 2, ztwo = zsplit + 3;
    for (int i = 0; i < LP + FAM + 1; i++)
        for (int q = 0; q < D; q++) lc[i][q] = (float)(nrand() / sqrt(2.0 * D));
    for (int g = 0; g < nfold; g++) {
        char name[32];
        if (g < LP) snprintf(name, sizeof name, "p%02d", g);
        else if (g < zsplit) snprintf(name, sizeof name, "q%02d", g - LP);
        else snprintf(name, sizeof name, g == zsplit ? "zsplit" : g == zpair ? "zpair" : g == zthree ? "zthree" : "ztwo");
        lfold[g] = strdup(name);
    }
    for (int g = 0; g < nfold; g++) {
        int m = g < LP ? PER : g == zsplit || g == zthree ? 3 : g == zpair || g == ztwo ? 2 : 1;
        for (int r = 0; r < m; r++, n++) {
            char buf[64];
            snprintf(buf, sizeof buf, "%s/%d.jpg", lfold[g], r);
            mem_file(&lf[n], &lfc[n], n, buf, (uint32_t)g, 0x77);
            const float *cen_g = g < LP ? lc[g] : g < zsplit ? lc[LP + (g - LP) / PERF] :
                                 g == zthree ? lc[LP + FAM] : g == ztwo ? lc[r ? LP - 1 : LP + FAM] : lc[g - zsplit];
            double spread = g < LP || g == zsplit || g >= zthree ? 0.0 : g == zpair ? (r ? 0.6 : 0.0) : 0.2;   /* a look-alike: its own centre near the family's */
            for (int q = 0; q < D; q++)
                le[n * D + q] = cen_g[q] + (float)((0.3 * nrand() + spread * nrand()) / sqrt(2.0 * D));
            if (g == ztwo && r)   /* someone between p23 and zthree's person, nearer p23 */
                for (int q = 0; q < D; q++) le[n * D + q] = TWO_MIX * le[n * D + q] + (1 - TWO_MIX) * lc[LP + FAM][q];
        }
    }
    fa_cache c;
    memset(&c, 0, sizeof c);
    c.dim = D; c.n_files = n; c.n_faces = n; c.n_folders = (size_t)nfold;
    c.files = lf; c.faces = lfc; c.folders = lfold; c.emb = le;
    return c;
}

static void crowd_free(const fa_cache *c)
{
    for (size_t k = 0; k < c->n_files; k++) free(lf[k].path);
    for (size_t g = 0; g < c->n_folders; g++) free(lfold[g]);
}

static void check_lookalikes(void)
{
    fa_cache c = crowd(0);
    const uint32_t zsplit = LP + FAM * PERF;
    size_t family_merges = 0, family_review[2] = { 0, 0 }, split_review[2] = { 0, 0 };
    for (int run = 0; run < 2; run++) {   /* run 0: no decoy cut (q = 1); run 1: the default */
        fa_audit_params p = fa_audit_default_params();
        p.threads = 2;
        if (run == 0) p.review_fdr = 1.0f;
        fa_audit *a = fa_audit_run(&c, &p);
        CHECK(a != NULL, "look-alike crowd audited: %s", a ? "" : fa_last_error());
        family_merges = 0;
        for (size_t k = 0; a && k < a->n_findings; k++) {
            const fa_finding *f = &a->findings[k];
            if (f->kind != FA_FIND_SAME_IDENTITY) continue;
            int fam = f->folder >= LP && f->folder < zsplit && f->other_folder >= LP && f->other_folder < zsplit;
            family_merges += fam;
            family_review[run] += fam && f->review;
            split_review[run] += f->review && ((f->folder == zsplit && f->other_folder == 0) ||
                                               (f->folder == 0 && f->other_folder == zsplit));
        }
        printf("  look-alikes (q %.1f): %zu merges among them, %zu in review; cut %.3f\n", (double)p.review_fdr,
               family_merges, family_review[run], a ? (double)a->review_cut_merge : NAN);
        fa_audit_free(a);
    }
    /* (only mutual nearest look-alikes: the others are out of review either way, test_merge_mutual) */
    CHECK(family_review[0] >= FAM / 2, "without the decoy cut the look-alikes fill the review part (%zu)", family_review[0]);
    CHECK(family_review[1] <= FAM * PERF / 20, "with it, at most 1 in 20 of them is left (%zu)", family_review[1]);
    CHECK(split_review[0] == 1 && split_review[1] == 1, "the true split is in review either way");
    crowd_free(&c);
}

/* zpair among the look-alikes: its typical face is misfiled into p01 with
 * evidence for review, the merge of the two folders scores more but below
 * the merges' decoy cut. One decision, the merge, in review and ranked by
 * the face's evidence; no misfiled finding between the two folders.
 * ztwo holds two people: one face of zthree's person (misfiled for review),
 * one nearer p23. Its merge with zthree scores as much as that face, but
 * its other face goes elsewhere: the face stays misfiled, no merge. */
static void check_promoted_merge(void)
{
    fa_cache c = crowd(1);
    const uint32_t zpair = LP + FAM * PERF + 1;
    fa_audit_params p = fa_audit_default_params();
    p.threads = 2;
    fa_audit *a = fa_audit_run(&c, &p);
    CHECK(a != NULL, "crowd with a split pair audited: %s", a ? "" : fa_last_error());
    const uint32_t zthree = zpair + 1, ztwo = zpair + 2;
    const fa_finding *merge = NULL, *two_merge = NULL, *two_face = NULL;
    size_t misfiled = 0;
    for (size_t k = 0; a && k < a->n_findings; k++) {
        const fa_finding *f = &a->findings[k];
        int two = (f->folder == ztwo && f->other_folder == zthree) || (f->folder == zthree && f->other_folder == ztwo);
        if (two && f->kind == FA_FIND_SAME_IDENTITY) two_merge = f;
        if (two && f->kind == FA_FIND_MISFILED && f->folder == ztwo) two_face = f;
        int pair = (f->folder == zpair && f->other_folder == 1) || (f->folder == 1 && f->other_folder == zpair);
        if (pair && f->kind == FA_FIND_SAME_IDENTITY) merge = f;
        misfiled += pair && f->kind == FA_FIND_MISFILED;
        if (getenv("FA_TEST_VERBOSE") && (f->folder >= zpair || (f->other_folder >= zpair && f->other_folder != FA_NONE)))
            printf("    %s %s -> %s %.3f review %d decoy %.3f\n", fa_find_kind_name(f->kind), lf[f->file].path,
                   lfold[f->other_folder], (double)f->score, f->review, (double)f->decoy);
    }
    printf("  split pair: merge %s, score %.3f (own %.3f + stranger %.3f), cut %.3f; misfiled cut %.3f\n",
           merge && merge->review ? "in review" : "not in review", merge ? (double)merge->score : NAN,
           merge ? (double)merge->own_margin : NAN, merge ? (double)merge->stranger_margin : NAN,
           a ? (double)a->review_cut_merge : NAN, a ? (double)a->review_cut_misfiled : NAN);
    CHECK(merge && merge->by_face != FA_NONE && merge->by_face == merge->other_file,
          "a merge came into review with a misfiled face's evidence, and names the face");
    CHECK(merge && merge->review, "zpair and p01 are one decision for review, the merge");
    CHECK(merge && merge->score < a->review_cut_merge, "below the merges' own cut: the face brought it");
    CHECK(merge && merge->score >= a->review_cut_misfiled, "ranked by the face's evidence, which passed its cut");
    CHECK(misfiled == 0, "no misfiled finding between the merged folders (%zu)", misfiled);
    CHECK(merge && merge->other_folder == zpair && merge->other_file != FA_NONE &&
          strcmp(lf[merge->other_file].path, "zpair/0.jpg") == 0 && lf[merge->file].folder == 1,
          "zpair moves into p01, its example the face that brought it (%s) and its nearest in p01",
          merge && merge->other_file != FA_NONE ? lf[merge->other_file].path : "");
    CHECK(two_face && two_face->review && two_merge && two_merge->score >= two_face->score,
          "ztwo/0 is misfiled into zthree for review, their merge scores as much (%.3f, %.3f)",
          two_face ? (double)two_face->score : NAN, two_merge ? (double)two_merge->score : NAN);
    CHECK(two_merge && !two_merge->review, "but ztwo's other face goes to p23: no merge for review");
    fa_audit_free(a);
    crowd_free(&c);
}

/* Thumbnails (thumb.h): 4 folders of 6 faces, each face its own random
 * face and image thumbnails. Four more files, each 0.3 from img0 of its
 * folder by the encoder (beyond same_photo_dist, within the threshold):
 * in p0, "recrop.jpg" with img0's face thumbnail plus noise (0.99); in p1,
 * "pose.jpg" with a face thumbnail of its own; in p2, "small.jpg" with a
 * noisier face thumbnail (0.95) and img0's image thumbnail plus noise
 * (0.999: a resized copy); in p3, "burst.jpg" as noisy a face and a noisy
 * image (0.89: another frame). */
static void check_thumbs(void)
{
    enum { G = 4, M = 6, N = G * M + 4 };
    static const char *extra[4] = {"recrop", "pose", "small", "burst"};
    static fa_file tf[N];
    static fa_face tfc[N];
    static float te[N * D], tcen[G][D];
    static uint8_t th[N * FA_THUMB_LEN], im[N * FA_THUMB_LEN];
    static char *tfold[G];
    for (int g = 0; g < G; g++) {
        char name[8];
        snprintf(name, sizeof name, "p%d", g);
        tfold[g] = strdup(name);
        for (int q = 0; q < D; q++) tcen[g][q] = (float)(nrand() / sqrt(2.0 * D));
    }
    for (size_t n = 0; n < N; n++) {
        int g = n < G * M ? (int)(n / M) : (int)(n - G * M);
        char buf[32];
        if (n < G * M) snprintf(buf, sizeof buf, "p%d/img%zu.jpg", g, n % M);
        else snprintf(buf, sizeof buf, "p%d/%s.jpg", g, extra[g]);
        mem_file(&tf[n], &tfc[n], n, buf, (uint32_t)g, 0x33);
        tf[n].width = tf[n].height = 100;
        for (int q = 0; q < D; q++) te[n * D + q] = tcen[g][q] + (float)(0.3 * nrand() / sqrt(2.0 * D));
        for (int k = 0; k < FA_THUMB_LEN; k++) th[n * FA_THUMB_LEN + k] = (uint8_t)(40 + (int)(urand() * 170));
        for (int k = 0; k < FA_THUMB_LEN; k++) im[n * FA_THUMB_LEN + k] = (uint8_t)(40 + (int)(urand() * 170));
    }
    for (int t = 0; t < 4; t++) {   /* the planted files: 0.3 from img0 of p0..p3 */
        size_t n = G * M + (size_t)t, src = (size_t)t * M;
        double s2 = 0;
        float dir[D];
        for (int q = 0; q < D; q++) { dir[q] = (float)nrand(); s2 += dir[q] * dir[q]; }
        for (int q = 0; q < D; q++) te[n * D + q] = te[src * D + q] + (float)(0.3 * dir[q] / sqrt(s2));
        int face_noise = t == 0 ? 3 : 19, image_noise = t == 2 ? 2 : 30;
        for (int k = 0; k < FA_THUMB_LEN && t != 1; k++) {
            th[n * FA_THUMB_LEN + k] = (uint8_t)(th[src * FA_THUMB_LEN + k] + (int)(urand() * (2 * face_noise + 1)) - face_noise);
            im[n * FA_THUMB_LEN + k] = (uint8_t)(im[src * FA_THUMB_LEN + k] + (int)(urand() * (2 * image_noise + 1)) - image_noise);
        }
    }
    tf[G * M].width = tf[G * M].height = 80;   /* the crop is the smaller */
    fa_cache c;
    memset(&c, 0, sizeof c);
    c.dim = D; c.n_files = N; c.n_faces = N; c.n_folders = G;
    c.files = tf; c.faces = tfc; c.folders = tfold; c.emb = te;
    /* with: 0 no thumbnails, 1 face thumbnails, 2 face and image thumbnails,
     * 3 as 2 with small.jpg of another aspect ratio (a crop: not one image) */
    for (int with = 0; with < 4; with++) {
        c.thumb = with ? th : NULL;
        c.image_thumb = with >= 2 ? im : NULL;
        tf[G * M + 2].width = with == 3 ? 120 : 100;
        fa_audit_params p = fa_audit_default_params();
        p.threads = 2;
        p.max_distance = 0.6f;
        fa_audit *a = fa_audit_run(&c, &p);
        CHECK(a != NULL, "thumbnail set audited: %s", a ? "" : fa_last_error());
        if (!a) continue;
        size_t rc = find(a, &c, FA_FIND_DUPLICATE, "p0/recrop.jpg", NULL);
        size_t rp = find(a, &c, FA_FIND_DUPLICATE, "p1/pose.jpg", NULL);
        size_t rs = find(a, &c, FA_FIND_DUPLICATE, "p2/small.jpg", NULL);
        size_t rb = find(a, &c, FA_FIND_DUPLICATE, "p3/burst.jpg", NULL);
        CHECK(rb == 0, "another frame (face 0.95, image 0.89) is no duplicate (with %d: rank %zu)", with, rb);
        if (with == 2) {
            const fa_finding *f = rs ? &a->findings[rs - 1] : NULL;
            CHECK(f && f->review && f->image_corr >= 0.99f && f->thumb_corr < 0.98f && f->score > 2.0f,
                  "a resized copy whose face pixels correlate under 0.98: a duplicate for review by its whole "
                  "image (rank %zu, face %.3f, image %.3f)", rs, f ? (double)f->thumb_corr : NAN,
                  f ? (double)f->image_corr : NAN);
        } else
            CHECK(rs == 0, "without image thumbnails, or of another aspect ratio, small.jpg is no duplicate "
                  "(with %d: rank %zu)", with, rs);
        if (with) {
            const fa_finding *f = rc ? &a->findings[rc - 1] : NULL;
            CHECK(f && f->review && f->keep == 0 && f->thumb_corr >= 0.98f && f->dist > p.same_photo_dist,
                  "another crop inside its folder: a duplicate for review by its pixels, keeping the larger "
                  "(rank %zu, corr %.3f)", rc, f ? (double)f->thumb_corr : NAN);
            CHECK(rp == 0, "a second photo of the pose at the same distance is no duplicate (rank %zu)", rp);
        } else
            CHECK(rc == 0 && rp == 0, "without thumbnails neither is a duplicate (%zu, %zu)", rc, rp);
        fa_audit_free(a);
    }
    CHECK(isnan(fa_thumb_corr(th, NULL)) && isnan(fa_thumb_corr((const uint8_t[FA_THUMB_LEN]){0}, th)) &&
          fa_thumb_corr(th, th) > 0.9999f, "correlation: NaN without a thumbnail or on a flat one, 1 with itself");
    for (size_t n = 0; n < N; n++) free(tf[n].path);
    for (int g = 0; g < G; g++) free(tfold[g]);
}

/* Odd photos: 12 folders of 8 faces; p0 holds "odd.jpg", its own person
 * far off (the encoder's noise 1.35 where a face's is 0.3: a photo it
 * cannot place, far from every folder), p1 "stranger.jpg", a face of a
 * person of no folder, nearer p1 than odd.jpg is to p0. Both are strays;
 * the odd photo is judged against its own larger scale, so the stranger
 * comes first. */
static void check_odd_photo(void)
{
    enum { G = 12, M = 8, N = G * M + 2 };
    static fa_file of[N];
    static fa_face ofc[N];
    static float oe[N * D], ocen[G + 1][D];
    static char *ofold[G];
    rs = 777;   /* its own draw: the geometry above does not depend on the other checks */
    for (int g = 0; g <= G; g++) {
        for (int q = 0; q < D; q++) ocen[g][q] = (float)(nrand() / sqrt(2.0 * D));
        if (g == G) break;
        char name[8];
        snprintf(name, sizeof name, "p%d", g);
        ofold[g] = strdup(name);
    }
    for (size_t n = 0; n < N; n++) {
        int odd = n == G * M, stranger = n == G * M + 1, g = odd ? 0 : stranger ? 1 : (int)(n / M);
        char buf[32];
        if (n < G * M) snprintf(buf, sizeof buf, "p%d/img%zu.jpg", g, n % M);
        else snprintf(buf, sizeof buf, "p%d/%s.jpg", g, odd ? "odd" : "stranger");
        mem_file(&of[n], &ofc[n], n, buf, (uint32_t)g, 0x44);
        const float *c0 = stranger ? ocen[G] : ocen[g];
        for (int q = 0; q < D; q++) oe[n * D + q] = c0[q] + (float)((odd ? 1.35 : 0.3) * nrand() / sqrt(2.0 * D));
    }
    fa_cache c;
    memset(&c, 0, sizeof c);
    c.dim = D; c.n_files = N; c.n_faces = N; c.n_folders = G;
    c.files = of; c.faces = ofc; c.folders = ofold; c.emb = oe;
    fa_audit_params p = fa_audit_default_params();
    p.threads = 2;
    fa_audit *a = fa_audit_run(&c, &p);
    CHECK(a != NULL, "odd-photo set audited: %s", a ? "" : fa_last_error());
    size_t ro = a ? find(a, &c, FA_FIND_STRAY, "p0/odd.jpg", NULL) : 0;
    size_t rs = a ? find(a, &c, FA_FIND_STRAY, "p1/stranger.jpg", NULL) : 0;
    const fa_finding *fo = ro ? &a->findings[ro - 1] : NULL, *fs = rs ? &a->findings[rs - 1] : NULL;
    float R0[M + 1], med = NAN;
    size_t m0 = 0;
    for (size_t i = 0; a && i < a->n_rows && m0 <= M; i++)   /* p0's R: the median r of its rows */
        if (of[ofc[a->row_face[i]].file].folder == 0) R0[m0++] = a->row_scale[i];
    if (m0) med = fa_median_inplace(R0, m0);
    if (fo && fs) printf("  odd: x %.3f scale %.3f own %.3f str %.3f; stranger: x %.3f scale %.3f own %.3f str %.3f; R %.3f\n", (double)fo->dist, (double)fo->scale, (double)fo->own_margin, (double)fo->stranger_margin, (double)fs->dist, (double)fs->scale, (double)fs->own_margin, (double)fs->stranger_margin, (double)med);
    CHECK(fo && fs && fo->dist > fs->dist, "both strays, the odd photo the farther from its folder (%.3f, %.3f)",
          fo ? (double)fo->dist : NAN, fs ? (double)fs->dist : NAN);
    CHECK(fo && fo->scale > med * 1.05f, "the odd photo's scale is its own, larger than its folder's (%.3f > %.3f)",
          fo ? (double)fo->scale : NAN, (double)med);
    CHECK(fo && fs && fs->score > fo->score && rs < ro, "the stranger ranks above the odd photo (%.3f at %zu, %.3f at %zu)",
          fs ? (double)fs->score : NAN, rs, fo ? (double)fo->score : NAN, ro);
    fa_audit_free(a);
    for (size_t n = 0; n < N; n++) free(of[n].path);
    for (int g = 0; g < G; g++) free(ofold[g]);
}

/* 1 when kn holds, for every row, the k nearest rows of other groups by a
 * naive loop (naive_knn.h). */
static int knn_is_naive(const fa_knn *kn, const float *x, const uint32_t *grp, int n, int dk, int kk)
{
    fa_knn *want = naive_knn(x, grp, (size_t)n, dk, kk);
    int same = same_knn(want, kn);
    fa_knn_free(want);
    return same;
}

/* The top-k join, both paths (the int8 one where this CPU has VNNI), against
 * the naive loop: random rows with an exact duplicate across groups; rows on
 * a coarse grid, where most distances tie and the order is the row numbers';
 * tight clusters, where every row's threshold falls fast; and fewer other
 * rows than k. */
static void check_knn(void)
{
    enum { N = 700, DK = 24, G = 9, KK = 10 };
    float *x = malloc((size_t)N * DK * sizeof *x);
    uint32_t grp[N];
    for (int kind = 0; kind < 3; kind++) {
        for (int i = 0; i < N; i++) {
            grp[i] = (uint32_t)(kind == 2 ? i * G / N : i % G);   /* clusters: groups in runs */
            for (int q = 0; q < DK; q++) {
                double v = nrand();
                x[i * DK + q] = (float)(kind == 0 ? v : kind == 1 ? (v > 0.5) - (v < -0.5)
                                                   : (i % 7) + 0.01 * v);   /* 7 tight clusters */
            }
        }
        if (kind == 0) memcpy(x + 5 * DK, x + 7 * DK, DK * sizeof *x);   /* an exact duplicate across groups */
        for (int fp32 = 0; fp32 < 2; fp32++) {
            fa_knn *kn = fa_knn_cross_ex(x, grp, N, DK, KK, 2, fp32);
            CHECK(knn_is_naive(kn, x, grp, N, DK, KK), "data %d, %s path: top-k join equals the naive exact loop",
                  kind, fp32 ? "fp32" : "default");
            if (kind == 0)
                CHECK(kn && kn->dist[5 * KK] == 0.0f && kn->nb[5 * KK] == 7, "an exact duplicate is the nearest, at distance 0");
            fa_knn_free(kn);
        }
    }
    uint32_t two[3] = { 0, 0, 1 };
    for (int fp32 = 0; fp32 < 2; fp32++) {
        fa_knn *kn = fa_knn_cross_ex(x, two, 3, DK, KK, 1, fp32);
        CHECK(kn && kn->count[0] == 1 && kn->count[2] == 2 && kn->nb[0 * KK + 1] == UINT32_MAX &&
              isinf(kn->dist[0 * KK + 1]), "fewer other rows than k: the count says so, the rest is padding");
        fa_knn_free(kn);
    }
    free(x);
}

/* The ids of a list, sorted, as one string. */
static int str_cmp(const void *x, const void *y) { return strcmp(*(char *const *)x, *(char *const *)y); }

static char *id_set(const fa_audit *a)
{
    char **v = malloc((a->n_findings + 1) * sizeof *v);
    for (size_t k = 0; k < a->n_findings; k++) v[k] = (char *)a->findings[k].id;
    qsort(v, a->n_findings, sizeof *v, str_cmp);
    char *s = calloc(a->n_findings * 48 + 1, 1);
    for (size_t k = 0; k < a->n_findings; k++) { strcat(s, v[k]); strcat(s, " "); }
    free(v);
    return s;
}

int main(void)
{
    rs = 4242;
    check_knn();
    check_fdr();
    check_lookalikes();
    check_promoted_merge();
    check_thumbs();
    check_odd_photo();
    fa_cache c = build();
    fa_audit_params p = fa_audit_default_params();
    p.threads = 2;
    fa_audit *a = fa_audit_run(&c, &p);
    CHECK(a != NULL, "audit runs: %s", a ? "" : fa_last_error());
    if (!a) return check_done();
    for (size_t k = 0; k < a->n_findings && k < 16; k++) {
        const fa_finding *f = &a->findings[k];
        printf("  %2zu %d %-13s %6.3f %s %s\n", k + 1, f->review, fa_find_kind_name(f->kind), f->score,
               path_of(&c, f->file), f->other_folder == FA_NONE ? "" : c.folders[f->other_folder]);
    }
    check_list(a, &c);
    int ids_ok = 1;
    for (size_t k = 0; k < a->n_findings; k++)
        ids_ok &= strncmp(a->findings[k].id, fa_find_kind_name(a->findings[k].kind),
                          strlen(fa_find_kind_name(a->findings[k].kind))) == 0 && strlen(a->findings[k].id) > 17;
    CHECK(ids_ok, "every id is kind-<16 hex>");
    char *ids = id_set(a);

    /* rename a planted copy and the misfiled photo (same bytes): same ids */
    free(files[K * PER].path);
    files[K * PER].path = strdup("person00/renamed.jpg");
    free(files[K * PER + 1].path);
    files[K * PER + 1].path = strdup("person03/another name.jpg");
    fa_audit *b = fa_audit_run(&c, &p);
    CHECK(b != NULL, "audit after a rename runs");
    if (b) {
        char *ids2 = id_set(b);
        CHECK(strcmp(ids, ids2) == 0, "ids stable across a rename");
        CHECK(find(b, &c, FA_FIND_MISFILED, "person00/renamed.jpg", NULL) > 0, "the renamed file is still found");
        free(ids2);
    }
    fa_audit_free(b);
    free(ids);
    fa_audit_free(a);
    return check_done();
}
