/*
 * bench_audit.c - the whole audit (calibration, join, findings) on the
 * synthetic set of bench/synth.py, scored against its planted truth.
 *
 *   bench_audit DIR [threads=2] [max_dist (<=0: calibrated)] [mode 0|1|2] [nprobe]
 *
 * Builds an in-memory fa_cache (one file and face per row, path
 * folder/rowN.jpg, distinct hashes), runs fa_audit_run and prints the
 * calibration, timings, counts and how many planted errors were found.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "blascore.h"
#include "faceaudit/faceaudit.h"
#include "faceaudit/util.h"
#include "../src/audit/findings.h"

static char **read_lines(const char *path, size_t *n)
{
    FILE *f = fopen(path, "r");
    if (!f) { perror(path); exit(2); }
    size_t cap = 1024;
    char **v = malloc(cap * sizeof *v), buf[4096];
    *n = 0;
    while (fgets(buf, sizeof buf, f)) {
        buf[strcspn(buf, "\n")] = 0;
        if (*n == cap) v = realloc(v, (cap *= 2) * sizeof *v);
        v[(*n)++] = strdup(buf);
    }
    fclose(f);
    return v;
}

int main(int argc, char **argv)
{
    fa_blas_reexec_if_generic(argv);   /* same BLAS kernels as the tool */
    if (argc < 2) { fprintf(stderr, "usage: bench_audit DIR [threads] [max_dist] [mode] [nprobe]\n"); return 2; }
    const char *dir = argv[1];
    char path[4096];
    size_t n, nfo, nt;
    int d;
    snprintf(path, sizeof path, "%s/info.txt", dir);
    FILE *f = fopen(path, "r");
    if (!f || fscanf(f, "%zu %d", &n, &d) != 2) { fprintf(stderr, "bad info.txt\n"); return 2; }
    fclose(f);
    snprintf(path, sizeof path, "%s/folders.txt", dir);
    char **folders = read_lines(path, &nfo);
    snprintf(path, sizeof path, "%s/truth.tsv", dir);
    char **truth = read_lines(path, &nt);
    float *emb = malloc(n * d * sizeof *emb);
    uint32_t *grp = malloc(n * sizeof *grp);
    snprintf(path, sizeof path, "%s/emb.f32", dir);
    f = fopen(path, "rb");
    if (!f || fread(emb, sizeof *emb, n * d, f) != n * d) { fprintf(stderr, "bad emb.f32\n"); return 2; }
    fclose(f);
    snprintf(path, sizeof path, "%s/groups.u32", dir);
    f = fopen(path, "rb");
    if (!f || fread(grp, sizeof *grp, n, f) != n) { fprintf(stderr, "bad groups.u32\n"); return 2; }
    fclose(f);

    fa_file *files = calloc(n, sizeof *files);
    fa_face *faces = calloc(n, sizeof *faces);
    for (size_t r = 0; r < n; r++) {
        char p[256];
        snprintf(p, sizeof p, "%s/row%06zu.jpg", folders[grp[r]], r);
        files[r].path = strdup(p);
        files[r].folder = grp[r];
        files[r].status = FA_STATUS_OK;
        files[r].reason = (char *)"";
        files[r].has_sha256 = 1;
        memcpy(files[r].sha256, &r, sizeof r);
        files[r].n_faces = 1;
        files[r].first_face = (int64_t)r;
        faces[r].file = (uint32_t)r;
    }
    fa_cache c;
    memset(&c, 0, sizeof c);
    c.dim = d; c.n_files = n; c.n_faces = n; c.n_folders = nfo;
    c.files = files; c.faces = faces; c.folders = folders; c.emb = emb;

    fa_audit_params p = fa_audit_default_params();
    p.threads = argc > 2 ? atoi(argv[2]) : 2;
    if (argc > 3) p.max_distance = (float)atof(argv[3]);
    if (argc > 4) p.mode = (fa_search_mode)atoi(argv[4]);
    if (argc > 5) p.nprobe = atoi(argv[5]);
    if (getenv("FA_MAX_PAIRS")) p.max_pairs = (size_t)strtoull(getenv("FA_MAX_PAIRS"), NULL, 10);
    double t0 = fa_now();
    fa_audit *a = fa_audit_run(&c, &p);
    double t_audit = fa_now() - t0;
    if (!a) { fprintf(stderr, "audit: %s\n", fa_last_error()); return 1; }
    const fa_calib *cb = a->calib;
    printf("audit of %zu faces in %zu folders, %d threads: fa_audit_run %.2f s\n", a->n_rows, nfo,
           p.threads, t_audit);
    printf("calibration (%.2f s): within-folder %zu of %.0f pairs, cross-folder %zu of %.0f pairs\n",
           a->calib_seconds, cb->n_within, cb->within_pairs, cb->n_cross, cb->cross_pairs);
    printf("  quantile   ");
    for (int q = 0; q < FA_CALIB_NQ; q++) printf(" %6.3f", fa_calib_quantiles[q]);
    printf("\n  within     ");
    for (int q = 0; q < FA_CALIB_NQ; q++) printf(" %6.3f", (double)cb->within_q[q]);
    printf("\n  cross      ");
    for (int q = 0; q < FA_CALIB_NQ; q++) printf(" %6.3f", (double)cb->cross_q[q]);
    printf("\n  alpha %.2e -> cross quantile %.4f; within q90 cap %.4f; threshold %.4f%s\n",
           cb->alpha, (double)cb->t_cross, (double)cb->t_cap, (double)cb->threshold,
           cb->capped ? " (capped)" : "");
    printf("  flags %.2e of cross-folder pairs (~%.0f pairs), covers %.1f%% of within-folder pairs;"
           " dlib 0.6 would flag %.2e of cross pairs\n", cb->cross_share, cb->cross_expected,
           100 * cb->within_share, cb->dlib_cross_share);
    printf("threshold used %.4f (%s); search %.2f s (with the review's top-k lists when exact); "
           "review list %.2f s", (double)a->threshold, a->threshold_source, a->search_seconds,
           a->review_seconds);
    if (a->recall >= 0) printf(", recall %.4f (%zu/%zu)", a->recall, a->recall_found, a->recall_truth);
    printf("\nflagged %.2e of all cross-folder pairs", a->flagged_share);
    printf("\nmatches %zu (identical_file %zu, same_photo %zu, same_person %zu), rel<1: ",
           a->n_matches, a->n_identical_file, a->n_same_photo, a->n_same_person);
    size_t strong = 0;
    for (size_t k = 0; k < a->n_matches; k++) strong += a->matches[k].rel < 1;
    printf("%zu; merges %zu (%zu suggested); outliers %zu\n", strong, a->n_merges,
           a->n_merge_suggested, a->n_outliers);
    for (size_t k = 0; k < a->n_merges && k < 3; k++) {
        const fa_merge *m = &a->merges[k];
        printf("  merge %s + %s: %u pairs, faces %u/%u (%.2f, %.2f), median %.3f, min %.3f, centres %.3f%s\n",
               folders[m->folder_a], folders[m->folder_b], m->pairs, m->faces_a, m->faces_b,
               (double)m->share_a, (double)m->share_b, (double)m->median_dist,
               (double)m->min_dist, (double)m->centre_dist, m->suggest ? " SUGGEST" : "");
    }
    /* score against the truth: misfiled faces found as outlier or strong match */
    unsigned char *hit = calloc(n, 1), *outl = calloc(n, 1);
    for (size_t k = 0; k < a->n_matches; k++)
        if (a->matches[k].rel < 1) hit[a->matches[k].face_a] = hit[a->matches[k].face_b] = 1;
    for (size_t k = 0; k < a->n_outliers; k++) outl[a->outliers[k].face] = 1;
    /* wrong = filed under another identity's folder (misfiled, or a copy of
     * another identity's photo); the split identity's second folder is right */
    size_t mis = 0, mis_hit = 0, mis_out = 0, ok_out = 0, ok_n = 0;
    for (size_t r = 0; r < n && r + 1 < nt; r++) {
        char fo[256], id[256], kind[64];
        if (sscanf(truth[r + 1], "%*s %255s %255s %63s", fo, id, kind) != 3) continue;
        int wrong = strcmp(fo, id) != 0 && strcmp(kind, "split") != 0;
        if (wrong) { mis++; mis_hit += hit[r]; mis_out += outl[r]; }
        else { ok_n++; ok_out += outl[r]; }
    }
    printf("faces in a wrong folder (planted): %zu; in a match with rel<1: %zu (%.1f%%); "
           "outliers: %zu (%.1f%%); correctly filed faces flagged as outliers: %zu of %zu\n",
           mis, mis_hit, 100.0 * mis_hit / (mis ? mis : 1), mis_out,
           100.0 * mis_out / (mis ? mis : 1), ok_out, ok_n);
    fa_audit_free(a);
    return 0;
}
