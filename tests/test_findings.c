/*
 * test_findings.c - the audit on a small in-memory cache with planted
 * problems: a misfiled face, an identity split over two folders, an
 * identical file in two folders, a re-encoded copy, faceless duplicates, a
 * two-face image, an unreadable file.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "faceaudit/faceaudit.h"
#include "../src/audit/findings.h"
#include "../src/audit/ivf.h"

#include "check.h"

#include "testrand.h"

enum { K = 31, PER = 20, D = 32 };
static float cen[K][D];
static fa_file files[K * PER + 16];
static fa_face faces[K * PER + 16];
static float emb[(K * PER + 16) * D];
static char *folders[K];
static size_t nfile, nface;

static void face_of(int id, float *out, double w)
{
    for (int q = 0; q < D; q++) out[q] = cen[id][q] + (float)(w * nrand() / sqrt(2.0 * D));
}

static size_t add_file(int folder, const char *name, fa_status st, int nfaces, uint8_t sha_tag)
{
    fa_file *f = &files[nfile];
    char buf[256];
    snprintf(buf, sizeof buf, "%s/%s", folders[folder], name);
    f->path = strdup(buf);
    f->folder = (uint32_t)folder;
    f->status = st;
    f->reason = (char *)"";
    f->has_sha256 = st != FA_STATUS_UNREADABLE;
    memset(f->sha256, 0, 32);
    f->sha256[0] = sha_tag;
    f->sha256[1] = (uint8_t)(nfile >> 8);
    f->sha256[2] = (uint8_t)nfile;
    f->n_faces = (uint32_t)nfaces;
    f->first_face = nfaces ? (int64_t)nface : -1;
    for (int q = 0; q < nfaces; q++) {
        faces[nface].file = (uint32_t)nfile;
        faces[nface].face = (uint32_t)q;
        nface++;
    }
    return nfile++;
}

static fa_cache build(size_t *misfiled_face, size_t *multi_file, size_t *two_faces)
{
    for (int i = 0; i < K; i++) {
        char name[32];
        snprintf(name, sizeof name, "person%02d", i);
        folders[i] = strdup(name);
        for (int q = 0; q < D; q++) cen[i][q] = (float)(1.0 * nrand() / sqrt(2.0 * D));
    }
    memcpy(cen[30], cen[10], sizeof cen[10]);         /* folder 30 = identity 10 (split) */
    for (int i = 0; i < K; i++)
        for (int r = 0; r < (i == 10 || i == 30 ? PER / 2 : PER); r++) {
            char name[32];
            snprintf(name, sizeof name, "img%03d.jpg", r);
            add_file(i, name, FA_STATUS_OK, 1, 0);
            face_of(i, emb + (nface - 1) * D, 0.3);
        }
    /* misfiled: a face of identity 5 in folder 0 */
    add_file(0, "zz_misfiled.jpg", FA_STATUS_OK, 1, 0);
    face_of(5, emb + (nface - 1) * D, 0.3);
    *misfiled_face = nface - 1;
    /* identical file: copy of person04/img000 in folder 3 */
    size_t src = 4 * PER;
    add_file(3, "copy_of_4.jpg", FA_STATUS_OK, 1, 0);
    memcpy(emb + (nface - 1) * D, emb + src * D, D * sizeof *emb);
    memcpy(files[nfile - 1].sha256, files[faces[src].file].sha256, 32);
    /* re-encoded copy of person06/img001 in folder 8 */
    add_file(8, "reencoded.jpg", FA_STATUS_OK, 1, 0);
    for (int q = 0; q < D; q++)
        emb[(nface - 1) * D + q] = emb[(6 * PER + 1) * D + q] + (float)(0.01 * nrand() / sqrt(D));
    /* two faces in folder 7: a stranger (identity 20) first, then identity 7 */
    *multi_file = add_file(7, "group.jpg", FA_STATUS_OK, 2, 0);
    face_of(20, emb + (nface - 2) * D, 0.05);
    face_of(7, emb + (nface - 1) * D, 0.3);
    *two_faces = nface - 1;
    /* faceless duplicates, an unreadable file */
    add_file(1, "blank1.png", FA_STATUS_NO_FACE, 0, 0xAB);
    add_file(2, "blank2.png", FA_STATUS_NO_FACE, 0, 0xAB);
    memcpy(files[nfile - 1].sha256, files[nfile - 2].sha256, 32);
    add_file(2, "broken.jpg", FA_STATUS_UNREADABLE, 0, 0);
    fa_cache c;
    memset(&c, 0, sizeof c);
    c.dim = D;
    c.n_files = nfile;
    c.n_faces = nface;
    c.n_folders = K;
    c.files = files;
    c.faces = faces;
    c.folders = folders;
    c.emb = emb;
    return c;
}

static int same_matches(const fa_audit *a, const fa_audit *b)
{
    if (a->n_matches != b->n_matches) return 0;
    for (size_t k = 0; k < a->n_matches; k++)
        if (a->matches[k].face_a != b->matches[k].face_a ||
            a->matches[k].face_b != b->matches[k].face_b) return 0;
    return 1;
}

int main(void)
{
    rs = 77;
    size_t mis, multi, chosen;
    fa_cache c = build(&mis, &multi, &chosen);
    fa_audit_params p = fa_audit_default_params();
    p.threads = 2;
    fa_audit *a = fa_audit_run(&c, &p);
    CHECK(a != NULL, "audit: %s", fa_last_error());
    if (!a) { check_done(); return 1; }
    printf("  threshold %.3f (%s), %zu matches (%zu identical, %zu same photo), %zu merges "
           "(%zu suggested), %zu outliers\n", (double)a->threshold, a->threshold_source,
           a->n_matches, a->n_identical_file, a->n_same_photo, a->n_merges,
           a->n_merge_suggested, a->n_outliers);
    CHECK(strcmp(a->threshold_source, "calibrated") == 0, "calibrated by default");
    CHECK(a->n_rows == nfile - 3, "one row per file with a face (%zu)", a->n_rows);
    /* two-face image: the identity-7 face is used */
    CHECK(a->n_multi == 1 && a->multi[0].file == multi && a->multi[0].chosen_face == chosen,
          "multi-face image uses its folder's face");
    CHECK(a->n_no_face == 2 && a->n_errors == 1, "file lists (%zu no face, %zu errors)",
          a->n_no_face, a->n_errors);
    /* duplicates: the identical file pair (cross-folder) and the blank pair */
    int dup_cross = 0, dup_blank = 0;
    for (size_t g = 0; g < a->n_dups; g++) {
        const fa_dup_group *dg = &a->dups[g];
        const fa_file *f0 = &files[a->dup_files[dg->first]];
        if (f0->status == FA_STATUS_NO_FACE) dup_blank = dg->count == 2 && dg->cross_folder;
        else dup_cross = dg->count == 2 && dg->cross_folder;
    }
    CHECK(a->n_dups == 2 && dup_cross && dup_blank, "duplicate groups (%zu)", a->n_dups);
    /* kinds */
    int idf = 0, sph = 0;
    for (size_t k = 0; k < a->n_matches; k++) {
        const fa_match *m = &a->matches[k];
        CHECK(m->folder_a != m->folder_b, "cross-folder only");
        CHECK(strcmp(files[m->file_a].path, files[m->file_b].path) < 0, "a sorts first");
        if (m->kind == FA_MATCH_IDENTICAL_FILE) idf = m->dist == 0.0f;
        if (m->kind == FA_MATCH_SAME_PHOTO) sph = m->dist < 0.05f;
        if (k) CHECK(a->matches[k - 1].rel <= m->rel, "ranked by rel");
    }
    CHECK(idf && sph, "identical_file at 0 and same_photo found");
    /* the misfiled face: strong evidence, among the top matches; an outlier
     * whose best folder is 5 */
    size_t first_mis = a->n_matches;
    for (size_t k = 0; k < a->n_matches; k++)
        if (a->matches[k].face_a == mis || a->matches[k].face_b == mis) { first_mis = k; break; }
    CHECK(first_mis < a->n_matches && a->matches[first_mis].rel < 1.0f,
          "misfiled face matched with rel < 1 (at %zu)", first_mis);
    int out_ok = 0;
    for (size_t k = 0; k < a->n_outliers; k++)
        if (a->outliers[k].face == mis) out_ok = a->outliers[k].best_folder == 5 && a->outliers[k].nearer_other;
    CHECK(out_ok, "misfiled face is an outlier nearer folder 5");
    /* split identity: merge suggestion for folders 10 and 30, first */
    CHECK(a->n_merges > 0 && a->merges[0].suggest && a->merges[0].folder_a == 10 &&
          a->merges[0].folder_b == 30, "merge 10+30 suggested first");
    if (a->n_merges)
        printf("  merge %s+%s: %u pairs, shares %.2f/%.2f, median %.3f, min %.3f, centres %.3f\n",
               folders[a->merges[0].folder_a], folders[a->merges[0].folder_b], a->merges[0].pairs,
               (double)a->merges[0].share_a, (double)a->merges[0].share_b,
               (double)a->merges[0].median_dist, (double)a->merges[0].min_dist,
               (double)a->merges[0].centre_dist);
    int mis_merge = 0;
    for (size_t k = 0; k < a->n_merges; k++)
        if (a->merges[k].folder_a == 0 && a->merges[k].folder_b == 5) mis_merge = !a->merges[k].suggest;
    CHECK(mis_merge, "one misfiled face does not make a merge suggestion");

    /* IVF exact gives the same matches */
    p.mode = FA_SEARCH_IVF_EXACT;
    p.nlist = 7;
    fa_audit *b = fa_audit_run(&c, &p);
    CHECK(b && same_matches(a, b), "ivf exact = exact");
    fa_audit_free(b);
    p.mode = FA_SEARCH_IVF_PROBE;
    p.nprobe = 2;
    b = fa_audit_run(&c, &p);
    CHECK(b && b->recall >= 0 && b->recall <= 1 && b->n_matches <= a->n_matches,
          "probe mode: recall %.3f", b ? b->recall : -1.0);
    fa_audit_free(b);

    /* explicit threshold and cosine rule */
    p = fa_audit_default_params();
    p.max_distance = 0.2f;
    b = fa_audit_run(&c, &p);
    int ok = b && strcmp(b->threshold_source, "max-distance") == 0;
    for (size_t k = 0; b && k < b->n_matches; k++) ok &= b->matches[k].dist <= 0.2f;
    CHECK(ok, "--max-distance wins");
    fa_audit_free(b);
    p = fa_audit_default_params();
    p.min_similarity = 0.8f;
    b = fa_audit_run(&c, &p);
    ok = b && strcmp(b->threshold_source, "min-similarity") == 0;
    for (size_t k = 0; b && k < b->n_matches; k++) ok &= b->matches[k].cos >= 0.8f;
    CHECK(ok, "--min-similarity: every match has cos >= 0.8 (%zu)", b ? b->n_matches : 0);
    /* ... and none is missed: compare with a brute-force count */
    size_t want = 0;
    for (size_t i = 0; i < a->n_rows; i++)
        for (size_t j = i + 1; j < a->n_rows; j++) {
            const float *u = emb + (size_t)a->row_face[i] * D, *v = emb + (size_t)a->row_face[j] * D;
            if (files[faces[a->row_face[i]].file].folder == files[faces[a->row_face[j]].file].folder) continue;
            want += (float)fa_cos_exact(u, v, D) >= 0.8f;
        }
    CHECK(b && b->n_matches == want, "--min-similarity finds all %zu pairs (%zu)", want, b ? b->n_matches : 0);
    fa_audit_free(b);
    p.min_similarity = 2.0f;
    CHECK(fa_audit_run(&c, &p) == NULL, "bad similarity rejected: %s", fa_last_error());

    fa_audit_free(a);
    for (size_t f = 0; f < nfile; f++) free(files[f].path);
    for (int i = 0; i < K; i++) free(folders[i]);
    return check_done();
}
