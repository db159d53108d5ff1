/*
 * bench_index.c - one measurement of indexing speed, for bench_index.sh.
 *
 *   bench_index ours      ROOT MODELS_DIR LIMIT  -> faceaudit's index (all cores)
 *   bench_index reference ROOT MODELS_DIR LIMIT  -> the naive reference: the same
 *       models, one thread, full-resolution detection without upsampling, one
 *       image at a time, glibc's default malloc (what a straightforward dlib
 *       script does)
 *   bench_index reference2x ...  -> the same with every image enlarged 2x
 *       for detection (such a script's upsample=1, which small crops need)
 *
 *   bench_index load      ROOT MODELS_DIR LIMIT  -> start-up: the three models
 *       loaded (in parallel, as a worker does) until ready to run
 *
 * Prints one line of key=value figures; peak RSS is this process's.
 * FA_BENCH_ENCODER picks the encoder (default dlib's; e.g. mobilefacenet);
 * enc_ms_face is the encoder's time per face.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include "blascore.h"
#include "faceaudit/index.h"
#include "faceaudit/models.h"
#include "scan.h"
#include "shim/shim.h"
#include "util.h"

static double peak_rss_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024.0;
}

static int run_ours(const char *root, const fa_models *m, size_t limit, int aligned)
{
    char cache[] = "/tmp/fa-bench-cache-XXXXXX";
    if (!mkdtemp(cache)) return 1;
    fa_tune_process(FA_TUNE_ALL);   /* as `faceaudit index` does */
    fa_index_params p;
    fa_index_default_params(&p);
    p.root = root; p.cache_dir = cache; p.limit = limit; p.rebuild = 1;
    p.detector = m->detector; p.landmarks = m->landmarks; p.encoder = m->encoder;
    if (aligned) fa_detect_aligned_params(&p.detect);
    p.encoder_spec = &m->spec;
    p.encoder2 = m->spec.fused ? m->encoder2 : NULL;
    fa_index_stats st;
    int rc = fa_index_run(&p, &st);
    fa_index_stats_free(&st);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", cache);
    if (system(cmd) != 0) rc = -1;
    if (rc) { fprintf(stderr, "bench_index: %s\n", fa_last_error()); return 1; }
    double n = (double)st.encoded;
    printf("mode=%s files=%zu faces=%zu with_face=%zu seconds=%.2f ips=%.2f decode_ms=%.1f detect_ms=%.1f "
           "encode_ms=%.1f rss_mb=%.0f enc_ms_face=%.1f gflop=%.1f\n", aligned ? "aligned" : "ours", st.files, st.faces, st.status[FA_STATUS_OK], st.seconds,
           n / st.seconds, 1000 * (st.t_read + st.t_decode) / n, 1000 * st.t_detect / n, 1000 * st.t_encode / n,
           peak_rss_mb(), st.faces ? 1000 * st.t_encode / (double)st.faces : 0.0, st.gflop);
    return 0;
}

static int run_reference(const char *root, const fa_models *m, size_t limit, int enlarge)
{
    fa_blas_setup();   /* one thread */
    double t0 = fa_now();
    fa_model_paths mp = {m->detector, m->landmarks, m->encoder, &m->spec, m->encoder2};
    fa_nets *nets = fa_nets_load(&mp);
    fa_scan_list scan;
    if (!nets || fa_scan(root, &scan)) { fprintf(stderr, "bench_index: %s\n", fa_last_error()); return 1; }
    fa_nets_set_forward(nets, FA_FORWARD_DLIB);   /* dlib's own forward passes, as the naive program ran */
    fa_detect_params dp;
    fa_detect_default_params(&dp);
    size_t n = limit && limit < scan.n ? limit : scan.n, faces = 0, with_face = 0;
    double t_dec = 0, t_det = 0, t_enc = 0;
    for (size_t i = 0; i < n; i++) {
        char *full = fa_path_join(root, scan.v[i].path), *bytes;
        size_t len;
        fa_image img;
        double a = fa_now();
        int ok = !scan.v[i].problem && fa_read_file(full, (size_t)1 << 30, &bytes, &len) == 0;
        free(full);
        if (!ok) continue;
        ok = fa_image_decode(bytes, len, &img) == 0;
        free(bytes);
        double b = fa_now();
        t_dec += b - a;
        if (!ok) continue;
        fa_box boxes[256];
        int k = fa_detect_reference(nets, &img, enlarge, boxes, 256);
        double c = fa_now();
        t_det += c - b;
        if (k > 256) k = 256;
        if (k > 0) {
            float *emb = malloc((size_t)k * fa_nets_dim(nets) * sizeof(float));
            if (emb && fa_encode_faces(nets, &img, &dp, boxes, k, emb) == 0) { faces += (size_t)k; with_face++; }
            free(emb);
        }
        t_enc += fa_now() - c;
        fa_image_free(&img);
    }
    double secs = fa_now() - t0;
    fa_nets_stats ns;
    fa_nets_get_stats(nets, &ns);
    printf("mode=reference%s files=%zu faces=%zu with_face=%zu seconds=%.2f ips=%.2f decode_ms=%.1f detect_ms=%.1f "
           "encode_ms=%.1f rss_mb=%.0f enc_ms_face=%.1f\n", enlarge ? "2x" : "", n, faces, with_face, secs, (double)n / secs,
           1000 * t_dec / (double)n, 1000 * t_det / (double)n, 1000 * t_enc / (double)n, peak_rss_mb(),
           ns.faces_encoded ? ns.encode_ms / (double)ns.faces_encoded : 0.0);
    fa_scan_free(&scan);
    fa_nets_free(nets);
    return 0;
}

static int run_load(const fa_models *m)
{
    fa_model_paths mp = {m->detector, m->landmarks, m->encoder, &m->spec, m->encoder2};
    double t0 = fa_now();
    fa_nets *nets = fa_nets_load(&mp);
    if (!nets || fa_nets_ready(nets)) { fprintf(stderr, "bench_index: %s\n", fa_last_error()); return 1; }
    printf("mode=load load_ms=%.0f\n", 1000 * (fa_now() - t0));
    fa_nets_free(nets);
    return 0;
}

int main(int argc, char **argv)
{
    fa_blas_reexec_if_generic(argv);   /* same BLAS kernels as the tool */
    if (argc != 5) {
        fprintf(stderr, "usage: bench_index ours|aligned|reference|reference2x|load ROOT MODELS_DIR LIMIT\n");
        return 2;
    }
    fa_models m;
    if (fa_models_resolve(argv[3], getenv("FA_BENCH_ENCODER"), &m)) { fprintf(stderr, "bench_index: %s\n", fa_last_error()); return 1; }
    size_t limit = (size_t)strtoull(argv[4], NULL, 10);
    if (strcmp(argv[1], "load") == 0) return run_load(&m);
    if (strcmp(argv[1], "ours") == 0 || strcmp(argv[1], "aligned") == 0)
        return run_ours(argv[2], &m, limit, strcmp(argv[1], "aligned") == 0);
    if (strcmp(argv[1], "reference") == 0 || strcmp(argv[1], "reference2x") == 0)
        return run_reference(argv[2], &m, limit, strcmp(argv[1], "reference2x") == 0);
    fprintf(stderr, "bench_index: unknown mode %s\n", argv[1]);
    return 2;
}
