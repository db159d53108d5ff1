/*
 * bench_join.c - times the exact join and the IVF modes on the synthetic set
 * (bench/synth.py), and OpenBLAS sgemm peak in the same run.
 *
 *   bench_join DIR [threads=2] [max_dist=0.6] [runs=3] [tile_rows tile_cols]
 *   bench_join --peak [threads=2]   -> only the sgemm peak (for bench_index.sh)
 *
 * DIR holds emb.f32, groups.u32 and info.txt. Reports medians of `runs`.
 * With FA_BENCH_PAIRS=FILE the exact pairs are written there (uint32 i, j),
 * for bench/faiss_ref.py.
 * Share of peak: join GFLOP/s (flops of the tiles actually computed, and
 * also the nominal N^2*d of the half matrix) over the sgemm GFLOP/s of a
 * square 2048 product with the same number of threads.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <omp.h>
#include <cblas.h>
#include "blascore.h"
#include "faceaudit/faceaudit.h"
#include "../src/audit/join.h"
#include "../src/audit/ivf.h"
#include "../src/audit/knn.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void *load(const char *dir, const char *name, size_t bytes)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); exit(2); }
    void *p = malloc(bytes);
    if (fread(p, 1, bytes, f) != bytes) { fprintf(stderr, "%s: short read\n", path); exit(2); }
    fclose(f);
    return p;
}

static int dcmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, n, sizeof *v, dcmp);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* GFLOP/s of a square sgemm with `threads` BLAS threads (best of 5). */
static double sgemm_peak(int sz, int threads)
{
    float *a = malloc((size_t)sz * sz * 4), *b = malloc((size_t)sz * sz * 4),
          *c = malloc((size_t)sz * sz * 4);
    for (size_t i = 0; i < (size_t)sz * sz; i++) a[i] = b[i] = (float)(i % 7) * 0.1f;
    openblas_set_num_threads(threads);
    double best = 0;
    for (int r = 0; r < 3; r++) {
        double t = now_s();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, sz, sz, sz, 1, a, sz, b, sz, 0, c, sz);
        t = now_s() - t;
        double g = 2.0 * sz * sz * sz / t * 1e-9;
        if (g > best) best = g;
    }
    free(a); free(b); free(c);
    return best;
}

/* Same shape as the join's tiles: K=128, many tiles, `threads` OpenMP
 * threads each calling single-threaded sgemm: the ceiling of the join. */
static double sgemm_tile_peak(int m, int nn, int d, int threads)
{
    openblas_set_num_threads(1);
    double t = now_s(), flops = 0;
    int reps = 400;
#pragma omp parallel num_threads(threads) reduction(+ : flops)
    {
        float *a = calloc((size_t)m * d, 4), *b = calloc((size_t)nn * d, 4),
              *c = malloc((size_t)m * nn * 4);
#pragma omp for schedule(dynamic, 1)
        for (int r = 0; r < reps; r++) {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, nn, d, 1, a, d, b, d, 0, c, nn);
            flops += 2.0 * m * nn * d;
        }
        free(a); free(b); free(c);
    }
    return flops / (now_s() - t) * 1e-9;
}

/* The audit's top-k join (k = 10 nearest faces in other folders, every
 * face): the default path (int8 where the CPU has VNNI) and the fp32 one,
 * back to back in each run; both must give the same lists. */
static void knn_bench(const float *x, const uint32_t *g, size_t n, int d, int threads, int runs)
{
    double *tq = calloc(runs, sizeof *tq), *tf = calloc(runs, sizeof *tf), *ratio = calloc(runs, sizeof *ratio);
    for (int r = 0; r < runs; r++) {
        double t0 = omp_get_wtime();
        fa_knn *kq = fa_knn_cross_ex(x, g, n, d, 10, threads, 0);
        double t1 = omp_get_wtime();
        fa_knn *kf = fa_knn_cross_ex(x, g, n, d, 10, threads, 1);
        double t2 = omp_get_wtime();
        if (!kq || !kf) { fprintf(stderr, "knn: %s\n", fa_last_error()); exit(1); }
        if (memcmp(kq->nb, kf->nb, n * 10 * sizeof *kq->nb) || memcmp(kq->dist, kf->dist, n * 10 * sizeof *kq->dist)) {
            fprintf(stderr, "knn: the int8 and fp32 paths differ\n");
            exit(1);
        }
        tq[r] = t1 - t0; tf[r] = t2 - t1; ratio[r] = tf[r] / tq[r];
        fa_knn_free(kq);
        fa_knn_free(kf);
    }
    printf("top-k join (k=10, every face, other folders): %.3f s median (%s), fp32 path %.3f s; "
           "fp32 / default: %.2fx (median of per-run ratios); same lists\n", median(tq, runs),
           fa_q8_supported() ? "int8 AVX-512 VNNI" : "fp32: no VNNI on this CPU", median(tf, runs),
           median(ratio, runs));
    free(tq); free(tf); free(ratio);
}

/* What the audit runs: the pairs within dist and the top-k lists, in one
 * pass (fa_join_exact_knn) against the join and the top-k join one after
 * the other; both must give the same pairs and lists. */
static void fused_bench(const float *x, const uint32_t *g, size_t n, int d, int threads, float dist,
                        int runs)
{
    double *tf = calloc(runs, sizeof *tf), *ts = calloc(runs, sizeof *ts), *ratio = calloc(runs, sizeof *ratio);
    fa_join_params p = fa_join_default_params();
    p.threads = threads;
    fa_join_stats st;
    size_t npairs = 0;
    for (int r = 0; r < runs; r++) {
        fa_pairvec a = { 0 }, b = { 0 };
        fa_knn *ka = NULL;
        double t0 = omp_get_wtime();
        int rc = fa_join_exact_knn(x, g, n, d, dist, &p, &a, &st, 10, &ka);
        double t1 = omp_get_wtime();
        int rc2 = fa_join_exact(x, g, n, d, dist, &p, &b, NULL);
        fa_knn *kb = fa_knn_cross(x, g, n, d, 10, threads);
        double t2 = omp_get_wtime();
        if (rc || rc2 || !ka || !kb) { fprintf(stderr, "fused: %s\n", fa_last_error()); exit(1); }
        if (a.n != b.n || memcmp(a.v, b.v, a.n * sizeof *a.v) ||
            memcmp(ka->nb, kb->nb, n * 10 * sizeof *ka->nb) || memcmp(ka->dist, kb->dist, n * 10 * sizeof *ka->dist)) {
            fprintf(stderr, "fused: the one-pass and two-pass results differ\n");
            exit(1);
        }
        npairs = a.n;
        tf[r] = t1 - t0; ts[r] = t2 - t1; ratio[r] = ts[r] / tf[r];
        fa_pairvec_free(&a); fa_pairvec_free(&b);
        fa_knn_free(ka); fa_knn_free(kb);
    }
    printf("join + top-k in one pass (what the audit runs): %.3f s median, %zu pairs, %zu candidates "
           "(%.1f per row); join then top-k join: %.3f s; ratio %.2fx (median of per-run ratios); same results\n",
           median(tf, runs), npairs, st.candidates, n ? (double)st.candidates / n : 0.0, median(ts, runs),
           median(ratio, runs));
    free(tf); free(ts); free(ratio);
}

int main(int argc, char **argv)
{
    fa_blas_reexec_if_generic(argv);   /* same BLAS kernels as the tool */
    if (argc < 2) { fprintf(stderr, "usage: bench_join DIR [threads] [max_dist] [runs] [R C]\n"); return 2; }
    if (strcmp(argv[1], "--peak") == 0) {
        printf("gflops=%.1f\n", sgemm_peak(2048, argc > 2 ? atoi(argv[2]) : 2));
        return 0;
    }
    const char *dir = argv[1];
    int threads = argc > 2 ? atoi(argv[2]) : 2;
    float t = argc > 3 ? (float)atof(argv[3]) : 0.6f;
    int runs = argc > 4 ? atoi(argv[4]) : 3;
    int R = argc > 6 ? atoi(argv[5]) : 0, C = argc > 6 ? atoi(argv[6]) : 0;
    char path[4096];
    snprintf(path, sizeof path, "%s/info.txt", dir);
    FILE *f = fopen(path, "r");
    size_t n; int d;
    if (!f || fscanf(f, "%zu %d", &n, &d) != 2) { fprintf(stderr, "bad info.txt\n"); return 2; }
    fclose(f);
    float *x = load(dir, "emb.f32", n * d * sizeof(float));
    uint32_t *g = load(dir, "groups.u32", n * sizeof(uint32_t));
    printf("data: n=%zu d=%d threads=%d max_dist=%.3f runs=%d\n", n, d, threads, (double)t, runs);

    double p1 = sgemm_peak(2048, 1), pn = sgemm_peak(2048, threads);
    fa_join_params jp = fa_join_default_params();
    jp.threads = threads;
    if (R) jp.tile_rows = R;
    if (C) jp.tile_cols = C;
    double ptile = sgemm_tile_peak(jp.tile_rows, jp.tile_cols, d, threads);
    printf("sgemm 2048^3: %.1f GFLOP/s (1 thread), %.1f GFLOP/s (%d threads); "
           "tile-shaped %dx%dx%d on %d threads: %.1f GFLOP/s\n",
           p1, pn, threads, jp.tile_rows, jp.tile_cols, d, threads, ptile);

    /* The machine may be shared: measure the peak right before and after
     * each run and take the per-run ratio against the better of the two.
     * Each run times the fp32 candidate search (sgemm) and the default one
     * (int8 VNNI where the CPU has it) back to back, so their ratio is
     * measured under the same load. */
    double *tm = calloc(runs, sizeof *tm), *share = calloc(runs, sizeof *share),
           *t32 = calloc(runs, sizeof *t32), *ratio = calloc(runs, sizeof *ratio);
    fa_join_stats st = { 0 }, st32 = { 0 };
    size_t npairs = 0, npairs32 = 0;
    for (int r = 0; r < runs; r++) {
        fa_pairvec pv = { 0 }, p32 = { 0 };
        double pa = sgemm_peak(2048, threads);
        fa_join_params jp32 = jp;
        jp32.fp32_only = 1;
        if (fa_join_exact(x, g, n, d, t, &jp32, &p32, &st32) < 0 ||
            fa_join_exact(x, g, n, d, t, &jp, &pv, &st) < 0) {
            fprintf(stderr, "join: %s\n", fa_last_error());
            return 1;
        }
        double pb = sgemm_peak(2048, threads);
        const char *dump = getenv("FA_BENCH_PAIRS");   /* i, j as uint32 pairs */
        if (dump && r == 0) {
            FILE *pf = fopen(dump, "wb");
            for (size_t k = 0; pf && k < pv.n; k++) {
                uint32_t ij[2] = { pv.v[k].i, pv.v[k].j };
                fwrite(ij, sizeof ij, 1, pf);
            }
            if (pf) fclose(pf);
        }
        int same = pv.n == p32.n;
        for (size_t k = 0; same && k < pv.n; k++)
            same = pv.v[k].i == p32.v[k].i && pv.v[k].j == p32.v[k].j &&
                   pv.v[k].dist == p32.v[k].dist;
        if (!same) {
            fprintf(stderr, "join: int8 and fp32 pair sets differ (%zu vs %zu)\n", pv.n, p32.n);
            return 1;
        }
        tm[r] = st.seconds;
        t32[r] = st32.seconds;
        ratio[r] = st32.seconds / st.seconds;
        share[r] = st32.gemm_flops / st32.seconds * 1e-9 / (pa > pb ? pa : pb);
        npairs = pv.n;
        npairs32 = p32.n;
        fa_pairvec_free(&pv);
        fa_pairvec_free(&p32);
    }
    double tj = median(tm, runs), tj32 = median(t32, runs);
    printf("exact join fp32 (sgemm candidates): per-run share of the adjacent sgemm peak: "
           "median %.0f%%\n", 100 * median(share, runs));
    double nominal = (double)n * n * d;      /* 2 * N^2/2 * d */
    printf("exact join fp32 (sgemm candidates): %.3f s median, %zu pairs, %zu tiles, "
           "%zu candidates\n", tj32, npairs32, st32.tiles, st32.candidates);
    printf("  computed %.1f GFLOP -> %.1f GFLOP/s = %.0f%% of %d-thread sgemm peak "
           "(%.0f%% of tile-shaped peak)\n",
           st32.gemm_flops * 1e-9, st32.gemm_flops / tj32 * 1e-9,
           100 * st32.gemm_flops / tj32 * 1e-9 / pn, threads,
           100 * st32.gemm_flops / tj32 * 1e-9 / ptile);
    printf("exact join: %.3f s median, %zu pairs (= fp32 pairs), %zu candidates, "
           "candidate search: %s\n", tj, npairs, st.candidates,
           st.int8 ? "int8 AVX-512 VNNI" : "fp32 sgemm (no VNNI on this CPU)");
    printf("  computed %.1f G int8 ops -> %.1f GOP/s = %.2fx the fp32 sgemm peak\n",
           st.gemm_flops * 1e-9, st.gemm_flops / tj * 1e-9, st.gemm_flops / tj * 1e-9 / pn);
    printf("  nominal N^2*d %.1f GOP -> %.1f GOP/s; fp32 time / this time: %.2fx "
           "(median of per-run ratios)\n", nominal * 1e-9, nominal / tj * 1e-9,
           median(ratio, runs));
    free(t32);
    free(ratio);

    knn_bench(x, g, n, d, threads, runs);
    fused_bench(x, g, n, d, threads, t, runs);

    fa_ivf_params ip = fa_ivf_default_params();
    ip.threads = threads;
    for (int mode = 0; mode < 3; mode++) {
        ip.nprobe = mode == 0 ? 0 : mode == 1 ? 1 : 8;
        fa_ivf_stats is = { 0 };
        size_t np = 0;
        for (int r = 0; r < runs; r++) {
            fa_pairvec pv = { 0 };
            ip.recall_sample = r == 0 && ip.nprobe ? 2000 : 0;
            fa_ivf_stats s1;
            if (fa_ivf_join(x, g, n, d, t, &ip, &pv, &s1) < 0) {
                fprintf(stderr, "ivf: %s\n", fa_last_error());
                return 1;
            }
            if (r == 0) is = s1;
            tm[r] = s1.join_seconds + s1.build_seconds;
            np = pv.n;
            fa_pairvec_free(&pv);
        }
        double ti = median(tm, runs);
        if (ip.nprobe == 0)
            printf("ivf exact nlist=%zu: %.3f s median (k-means %.3f s), %zu pairs (%s exact), "
                   "list pairs %zu of %zu pruned, rows pruned %.1f%%\n",
                   is.nlist, ti, is.build_seconds, np, np == npairs ? "=" : "!=",
                   is.list_pairs_pruned, is.list_pairs_total,
                   100.0 * is.rows_pruned / (is.rows_considered ? is.rows_considered : 1));
        else
            printf("ivf nprobe=%d nlist=%zu: %.3f s median, %zu pairs, recall %.4f "
                   "(%zu of %zu sampled true pairs)\n",
                   ip.nprobe, is.nlist, ti, np, is.recall, is.recall_found, is.recall_truth);
    }
    free(tm);
    free(share);
    free(x);
    free(g);
    return 0;
}
