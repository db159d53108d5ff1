/*
 * test_shim.c - end-to-end tests of the C++ shim through its C API: image
 * decoding and bad input, the face-api weight converter, detection and
 * embeddings on the known photos of shared/faces.
 *
 * usage: test_shim FACES_DIR [MODELS_DIR [FACEAPI_MODEL_DIR]]
 *   FACES_DIR          shared/faces (examples/, probes/)
 *   MODELS_DIR         holds mmod_human_face_detector.dat and
 *                      shape_predictor_68_face_landmarks.dat (or _5_);
 *                      default $FA_MODELS_DIR
 *   FACEAPI_MODEL_DIR  face-api's model/ folder with
 *                      face_recognition_model-weights_manifest.json and .bin;
 *                      default $FA_FACEAPI_DIR
 * With FACEAPI_MODEL_DIR the encoder is converted into a temporary file and
 * the converter is tested too; without it, MODELS_DIR's
 * dlib_face_recognition_resnet_model_v1.dat is used. Exits 77 (skipped)
 * when the model files are missing, 1 on any failure.
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "faceaudit/faceaudit.h"
#include "shim/shim.h"

static int passed, failed;

#define CHECK(cond, ...)                                                   \
    do {                                                                   \
        if (cond) passed++;                                                \
        else {                                                             \
            failed++;                                                      \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                  \
            fprintf(stderr, "\n");                                         \
        }                                                                  \
    } while (0)

static const char *faces_dir;

/* Reads a whole file; returns NULL if it cannot. */
static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc(n > 0 ? (size_t)n : 1);
    *len = fread(buf, 1, (size_t)n, f);
    fclose(f);
    return buf;
}

static char *join(const char *a, const char *b)
{
    static char buf[8][4096];
    static int k;
    char *out = buf[k++ % 8];
    snprintf(out, 4096, "%s/%s", a, b);
    return out;
}

static int file_exists(const char *path) { return access(path, R_OK) == 0; }

/* Decodes a file of shared/faces; returns 0 on success. */
static int decode_file(const char *rel, fa_image *img)
{
    size_t len;
    unsigned char *bytes = slurp(join(faces_dir, rel), &len);
    if (!bytes) return -1;
    int rc = fa_image_decode(bytes, len, img);
    free(bytes);
    return rc;
}

static void test_decode(void)
{
    fa_image img;
    CHECK(decode_file("probes/32bit.png", &img) == 0, "%s", fa_last_error());
    CHECK(img.width > 0 && img.height > 0 && img.rgb, "%dx%d", img.width, img.height);
    fa_image_free(&img);

    unsigned char garbage[4096];
    for (size_t i = 0; i < sizeof garbage; i++) garbage[i] = (unsigned char)(i * 2654435761u >> 13);
    CHECK(fa_image_decode(garbage, sizeof garbage, &img) == -1, "garbage decoded");
    CHECK(strstr(fa_last_error(), "not a decodable image") != NULL, "%s", fa_last_error());
    CHECK(fa_image_decode(garbage, 0, &img) == -1, "empty input decoded");

    /* A JPEG cut in half either decodes (libjpeg pads it) or fails cleanly. */
    size_t len;
    unsigned char *jpg = slurp(join(faces_dir, "examples/obama/obama.jpg"), &len);
    CHECK(jpg != NULL, "cannot read obama.jpg");
    if (!jpg) return;
    int rc = fa_image_decode(jpg, len / 2, &img);
    CHECK(rc == 0 || rc == -1, "rc %d", rc);
    if (rc == 0) fa_image_free(&img);
    CHECK(fa_image_decode(jpg, 200, &img) == -1, "200-byte JPEG header decoded");
    free(jpg);
}

static void test_thumbnail(void)
{
    fa_box box = {100, 100, 200, 200, 1};
    uint8_t *out = NULL;
    size_t len = 0;
    CHECK(fa_thumbnail_jpeg(join(faces_dir, "examples/obama/obama.jpg"), &box, 96, &out, &len) == 0,
          "%s", fa_last_error());
    CHECK(len > 100 && out && out[0] == 0xFF && out[1] == 0xD8, "not a JPEG (%zu bytes)", len);
    fa_image img;
    CHECK(out && fa_image_decode(out, len, &img) == 0 && img.width == 96 && img.height == 96,
          "thumbnail does not decode to 96x96");
    fa_image_free(&img);
    free(out);
    /* A box at the corner, partly outside: padded, not an error. */
    fa_box corner = {-50, -50, 120, 120, 1};
    CHECK(fa_thumbnail_jpeg(join(faces_dir, "examples/obama/obama.jpg"), &corner, 64, &out, &len) == 0,
          "%s", fa_last_error());
    free(out);
    CHECK(fa_thumbnail_jpeg("/nonexistent/\xe9\x8c\xa6.jpg", &box, 64, &out, &len) == -1, "missing file");
}

static void test_convert_errors(const char *faceapi_dir, const char *tmpdir)
{
    const char *manifest = join(faceapi_dir, "face_recognition_model-weights_manifest.json");
    const char *out = join(tmpdir, "bad.dat");
    /* The .bin size must match the manifest: any other file is rejected. */
    CHECK(fa_convert_faceapi(manifest, manifest, out) == -1, "manifest as weights accepted");
    CHECK(strstr(fa_last_error(), "bytes") != NULL, "%s", fa_last_error());
    CHECK(!file_exists(out), "a failed conversion left a file");

    const char *bad_json = join(tmpdir, "bad.json");
    FILE *f = fopen(bad_json, "w");
    fputs("[{\"weights\": [ {\"name\": \"x\", \"shape\": [1], \"dtype\": \"float32\"} ]", f);
    fclose(f);
    CHECK(fa_convert_faceapi(bad_json, join(faceapi_dir, "face_recognition_model.bin"), out) == -1,
          "truncated JSON accepted");
    CHECK(strstr(fa_last_error(), "JSON") != NULL && strstr(fa_last_error(), bad_json) != NULL, "%s",
          fa_last_error());
    unlink(bad_json);
}

static float dist(const float *a, const float *b)
{
    double s = 0;
    for (int i = 0; i < 128; i++) s += (double)(a[i] - b[i]) * (a[i] - b[i]);
    return (float)sqrt(s);
}

/* The embedding of the best face of a photo; returns the face count. */
static int embed(fa_nets *n, const char *rel, float *emb)
{
    fa_image img;
    if (decode_file(rel, &img) != 0) return -1;
    fa_detect_params p;
    fa_detect_default_params(&p);
    fa_box boxes[16];
    int nf = fa_detect(n, &img, &p, boxes, 16);
    if (nf > 0 && fa_encode_faces(n, &img, &p, boxes, 1, emb) != 0) nf = -1;
    fa_image_free(&img);
    return nf;
}

static void test_embeddings(fa_nets *n)
{
    static const char *obama[3] = {"examples/obama/obama.jpg", "examples/obama/obama2.jpg",
                                   "examples/obama/obama3.jpg"};
    float o[3][128], biden[128];
    for (int i = 0; i < 3; i++) CHECK(embed(n, obama[i], o[i]) >= 1, "%s: %s", obama[i], fa_last_error());
    CHECK(embed(n, "examples/biden/biden.jpg", biden) >= 1, "biden: %s", fa_last_error());
    for (int i = 0; i < 3; i++)
        for (int j = i + 1; j < 3; j++) {
            float d = dist(o[i], o[j]);
            printf("obama%d-obama%d %.3f\n", i + 1, j + 1, d);
            CHECK(d < 0.6f, "obama %d-%d distance %.3f", i, j, d);
        }
    for (int i = 0; i < 3; i++) {
        float d = dist(o[i], biden);
        printf("obama%d-biden %.3f\n", i + 1, d);
        CHECK(d > 0.6f, "obama %d-biden distance %.3f", i, d);
    }
}

static void test_two_people(fa_nets *n)
{
    fa_image img;
    CHECK(decode_file("probes/two_people.jpg", &img) == 0, "%s", fa_last_error());
    fa_detect_params p;
    fa_detect_default_params(&p);
    fa_box boxes[8];
    int nf = fa_detect(n, &img, &p, boxes, 8);
    CHECK(nf == 2, "two_people.jpg: %d faces", nf);
    if (nf >= 2) {
        CHECK(boxes[0].score >= boxes[1].score, "boxes not sorted by score");
        float emb[2 * 128];
        CHECK(fa_encode_faces(n, &img, &p, boxes, 2, emb) == 0, "%s", fa_last_error());
    }
    fa_image_free(&img);
}

/* Every k-th photo (sorted) under faces_dir/dataset/<identity>/, at most
 * max of them, appended to list; returns the new count. */
static int sample_photos(const char *dataset, int k, int max, char list[][1024], int n)
{
    struct dirent **ids = NULL, **files = NULL;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", join(faces_dir, dataset));
    int nid = scandir(dir, &ids, NULL, alphasort), seen = 0, taken = 0;
    for (int i = 0; i < nid; i++) {
        char sub[600];
        snprintf(sub, sizeof sub, "%.300s/%s", dataset, ids[i]->d_name);
        int nfile = ids[i]->d_name[0] == '.' ? -1 : scandir(join(faces_dir, sub), &files, NULL, alphasort);
        for (int j = 0; j < nfile; j++) {
            if (files[j]->d_name[0] != '.' && seen++ % k == 0 && taken < max) {
                snprintf(list[n++], 1024, "%s/%s", sub, files[j]->d_name);
                taken++;
            }
            free(files[j]);
        }
        if (nfile >= 0) free(files);
        free(ids[i]);
    }
    free(ids);
    return n;
}

/* The OpenCV forward passes against dlib's own on a sample of every
 * dataset (issue 10: same boxes within a pixel, scores within 1e-3,
 * embeddings within 1e-4): the default (the detector on the direct AVX-512
 * kernels where the CPU has them) and OpenCV's dnn for every layer. */
static void test_forward(fa_nets *n)
{
    static char list[64][1024];
    int np = 0;
    np = sample_photos("examples", 3, 4, list, np);
    np = sample_photos("nogizaka46", 211, 4, list, np);  /* big photos: seconds each on dlib's path */
    np = sample_photos("kpop_idols", 41, 8, list, np);
    np = sample_photos("asian_celebs", 37, 6, list, np);
    np = sample_photos("celeba_aligned", 701, 8, list, np);
    np = sample_photos("celeba_wild", 701, 3, list, np);
    np = sample_photos("probes", 1, 6, list, np);
    fa_detect_params p;
    fa_detect_default_params(&p);
    int faces = 0;
    double worst_box = 0, worst_score = 0, worst_emb = 0;
    for (int i = 0; i < np; i++) {
        fa_image img;
        if (decode_file(list[i], &img) != 0) continue;
        fa_box a[32], b[32];
        fa_nets_set_forward(n, FA_FORWARD_DLIB);
        int na = fa_detect(n, &img, &p, a, 32);
        for (int how = FA_FORWARD_OPENCV; how <= FA_FORWARD_OPENCV_DNN; how += 2) {
            fa_nets_set_forward(n, (fa_forward)how);
            int nb = fa_detect(n, &img, &p, b, 32);
            const char *who = how == FA_FORWARD_OPENCV ? "the default path" : "OpenCV's dnn";
            CHECK(na == nb, "%s: dlib finds %d faces, %s %d", list[i], na, who, nb);
            for (int j = 0; j < na && j < nb && j < 32; j++) {
                double d = fmax(fmax(fabs(a[j].x - b[j].x), fabs(a[j].y - b[j].y)),
                                fmax(fabs(a[j].w - b[j].w), fabs(a[j].h - b[j].h)));
                worst_box = fmax(worst_box, d);
                worst_score = fmax(worst_score, fabs(a[j].score - b[j].score));
                CHECK(d <= 1, "%s: face %d's box differs by %.2f px on %s", list[i], j, d, who);
                CHECK(fabs(a[j].score - b[j].score) <= 1e-3, "%s: face %d scores %.5f and %.5f on %s", list[i], j,
                      a[j].score, b[j].score, who);
            }
        }
        fa_nets_set_forward(n, FA_FORWARD_OPENCV);
        int m = na < 8 ? na : 8;
        float ea[8 * 128], eb[8 * 128];
        if (m > 0) {
            fa_nets_set_forward(n, FA_FORWARD_DLIB);
            CHECK(fa_encode_faces(n, &img, &p, a, m, ea) == 0, "%s", fa_last_error());
            fa_nets_set_forward(n, FA_FORWARD_OPENCV);
            CHECK(fa_encode_faces(n, &img, &p, a, m, eb) == 0, "%s", fa_last_error());
            for (int j = 0; j < m * 128; j++) worst_emb = fmax(worst_emb, fabs(ea[j] - eb[j]));
            faces += m;
        }
        fa_image_free(&img);
    }
    printf("forward passes: %d photos, %d faces; OpenCV against dlib: boxes within %.2f px, "
           "scores within %.2g, embeddings within %.2g\n", np, faces, worst_box, worst_score, worst_emb);
    CHECK(np >= 30 && faces >= 30, "%d photos, %d faces compared", np, faces);
    CHECK(worst_emb <= 1e-4, "embeddings differ by %.3g", worst_emb);
}

/* Images too small to hold a face: no face and no error, on every path.
 * OpenCV's dnn threw on them (the file was called unreadable), and dlib's
 * image pyramid wrote out of bounds on a 7x3000 strip (heap corruption). */
static void test_tiny(fa_nets *n)
{
    static uint8_t px[3 * 3000 * 7];
    memset(px, 120, sizeof px);
    int sizes[][2] = {{1, 1}, {5, 5}, {3000, 7}, {7, 3000}};
    fa_detect_params p;
    fa_detect_default_params(&p);
    for (int how = FA_FORWARD_OPENCV; how <= FA_FORWARD_OPENCV_DNN; how++) {
        fa_nets_set_forward(n, (fa_forward)how);
        for (int i = 0; i < 4; i++) {
            fa_image img = {sizes[i][0], sizes[i][1], px};
            fa_box b[4];
            int k = fa_detect(n, &img, &p, b, 4);
            CHECK(k == 0, "%dx%d image: %d faces (%s)", sizes[i][0], sizes[i][1], k, k < 0 ? fa_last_error() : "");
        }
    }
    fa_nets_set_forward(n, FA_FORWARD_OPENCV);
}

/* A landmark model cut short: refused with a message naming the file, by
 * fa_nets_ready (the model loads in the background). */
static void test_truncated_landmarks(const fa_model_paths *good)
{
    size_t len;
    unsigned char *bytes = slurp(good->landmarks, &len);
    char cut[] = "/tmp/test_shim_landmarks.XXXXXX";
    int fd = mkstemp(cut);
    CHECK(bytes && fd >= 0 && len > 200000 && write(fd, bytes, 200000) == 200000, "writing %s", cut);
    if (fd >= 0) close(fd);
    free(bytes);
    fa_model_paths paths = *good;
    paths.landmarks = cut;
    fa_nets *n = fa_nets_load(&paths);
    CHECK(n != NULL, "%s", fa_last_error());
    if (n) {
        CHECK(fa_nets_ready(n) == -1, "a truncated landmark model was accepted");
        CHECK(strstr(fa_last_error(), cut) != NULL, "message does not name the file: %s", fa_last_error());
        fa_nets_free(n);
    }
    unlink(cut);
}

static void test_nets(const char *models_dir, const char *encoder)
{
    char lm[4096];
    snprintf(lm, sizeof lm, "%s", join(models_dir, "shape_predictor_68_face_landmarks.dat"));
    if (!file_exists(lm)) snprintf(lm, sizeof lm, "%s", join(models_dir, "shape_predictor_5_face_landmarks.dat"));
    fa_model_paths paths = {join(models_dir, "mmod_human_face_detector.dat"), lm, encoder, NULL, NULL};
    fa_model_paths wrong = {paths.detector, lm, paths.detector, NULL, NULL};
    CHECK(fa_nets_load(&wrong) == NULL, "detector loaded as encoder");
    int same = fa_landmarks_selftest(lm);
    CHECK(same == 1, "faceaudit's reader of %s: %s", lm, same < 0 ? fa_last_error() : "another model than dlib's");
    same = fa_landmarks_eval_selftest(lm);
    CHECK(same == 1, "faceaudit's evaluation of %s: %s", lm, same < 0 ? fa_last_error() : "other landmarks than dlib's");
    test_truncated_landmarks(&paths);
    fa_nets *n = fa_nets_load(&paths);
    CHECK(n != NULL, "%s", fa_last_error());
    if (!n) return;
    CHECK(fa_nets_dim(n) == 128, "dim %d", fa_nets_dim(n));
    test_embeddings(n);
    test_two_people(n);
    test_forward(n);
    test_tiny(n);
    fa_nets_free(n);
}

int main(int argc, char **argv)
{
    faces_dir = argc > 1 ? argv[1] : "../shared/faces";
    const char *models_dir = argc > 2 ? argv[2] : getenv("FA_MODELS_DIR");
    const char *faceapi_dir = argc > 3 ? argv[3] : getenv("FA_FACEAPI_DIR");
    static char kept[4096];   /* face-api's weights, kept there by `faceaudit models fetch` */
    if (!faceapi_dir && models_dir && file_exists(join(join(models_dir, "face-api"), "face_recognition_model.bin"))) {
        snprintf(kept, sizeof kept, "%s", join(models_dir, "face-api"));
        faceapi_dir = kept;
    }
    fa_tune_malloc();
    fa_blas_setup();
    test_decode();
    test_thumbnail();

    int have_detector = models_dir && file_exists(join(models_dir, "mmod_human_face_detector.dat"));
    int have_faceapi = faceapi_dir && file_exists(join(faceapi_dir, "face_recognition_model.bin"));
    const char *dlib_encoder = models_dir ? join(models_dir, "dlib_face_recognition_resnet_model_v1.dat") : "";
    int have_models = have_detector && (have_faceapi || file_exists(dlib_encoder));
    if (have_detector && have_faceapi) {
        char tmpdir[] = "/tmp/test_shim.XXXXXX";
        CHECK(mkdtemp(tmpdir) != NULL, "mkdtemp");
        char encoder[4096];
        snprintf(encoder, sizeof encoder, "%s/resnet.dat", tmpdir);
        test_convert_errors(faceapi_dir, tmpdir);
        int rc = fa_convert_faceapi(join(faceapi_dir, "face_recognition_model-weights_manifest.json"),
                                    join(faceapi_dir, "face_recognition_model.bin"), encoder);
        CHECK(rc == 0, "%s", fa_last_error());
        if (rc == 0) test_nets(models_dir, encoder);
        unlink(encoder);
        rmdir(tmpdir);
    } else if (have_models) {
        char encoder[4096];
        snprintf(encoder, sizeof encoder, "%s", dlib_encoder);
        test_nets(models_dir, encoder);
    }
    printf("%d passed, %d failed\n", passed, failed);
    if (failed) return 1;
    if (!have_models) {
        printf("model files not found: network tests skipped\n");
        return 77;
    }
    return 0;
}
