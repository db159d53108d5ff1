/*
 * test_formats.c - content sniffing and header parsing of image files, the
 * JSON reader and the directory walk, on hostile input: truncated headers,
 * a 100000x100000 PNG header, lying extensions, symlink loops, names that are
 * not UTF-8; and the encoders known by name, "dlib+E" among them.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "decode.h"
#include "faceaudit/encoder.h"
#include "faceaudit/faceaudit.h"
#include "faceaudit/models.h"
#include "json.h"
#include "scan.h"
#include "util.h"

static void test_sniff(void)
{
    static const uint8_t png[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\x01\x86\xa0\0\x01\x86\xa0\x08\x02\0\0\0";
    int64_t w = 0, h = 0;
    CHECK(fa_sniff(png, sizeof png - 1) == FA_FMT_PNG, "png");
    CHECK(fa_image_dims(png, sizeof png - 1, FA_FMT_PNG, &w, &h) == 0 && w == 100000 && h == 100000,
          "png bomb dims %lld x %lld", (long long)w, (long long)h);
    CHECK(fa_image_dims(png, 20, FA_FMT_PNG, &w, &h) < 0, "truncated png header refused");
    static const uint8_t jpg[] = "\xff\xd8\xff\xe0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0"
                                 "\xff\xc0\0\x11\x08\x01\xe0\x02\x80\x03\x01\x22\0\x02\x11\x01\x03\x11\x01";
    CHECK(fa_sniff(jpg, sizeof jpg - 1) == FA_FMT_JPEG, "jpeg");
    CHECK(fa_image_dims(jpg, sizeof jpg - 1, FA_FMT_JPEG, &w, &h) == 0 && w == 640 && h == 480,
          "jpeg dims %lld x %lld", (long long)w, (long long)h);
    CHECK(fa_image_dims(jpg, 12, FA_FMT_JPEG, &w, &h) < 0, "truncated jpeg refused");
    CHECK(fa_sniff("GIF89a\x10\0\x20\0", 10) == FA_FMT_GIF && !fa_format_supported(FA_FMT_GIF), "gif unsupported");
    CHECK(fa_sniff("hello, I am text", 16) == FA_FMT_UNKNOWN, "text is no image");
    CHECK(fa_sniff("", 0) == FA_FMT_UNKNOWN, "empty");
    CHECK(fa_has_image_extension("x.JPG") && fa_has_image_extension("a.b.webp") && !fa_has_image_extension("notes.txt"),
          "extensions");
}

static void test_json(void)
{
    const char *ok = "{\"a\": [1, 2.5e3, true, null], \"s\": \"x\\u00e9\\ud83d\\ude00\\n\", \"o\": {}}";
    fa_json *j = fa_json_parse(ok, strlen(ok));
    CHECK(j != NULL, "%s", fa_last_error());
    if (j) {
        const fa_json *a = fa_json_get(j, "a");
        CHECK(a && a->type == FA_JARR && a->n == 4 && a->kids[1].num == 2500, "array");
        CHECK(strcmp(fa_json_strv(j, "s"), "x\xc3\xa9\xf0\x9f\x98\x80\n") == 0, "unicode escapes");
        fa_json_free(j);
    }
    const char *bad[] = {"", "{", "{\"a\" 1}", "[1,]", "\"unterminated", "{\"a\":1} trailing", "[[[[[[[[[[[[[[[[[[[["
                         "[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]", "nul", "\"bad \\x\""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        fa_json *b = fa_json_parse(bad[i], strlen(bad[i]));
        CHECK(b == NULL && strstr(fa_last_error(), "JSON") != NULL, "bad json %zu accepted", i);
        fa_json_free(b);
    }
}

static void touch(const char *dir, const char *name, const char *content)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    if (f) { fputs(content, f); fclose(f); }
}

static const fa_scan_entry *find(const fa_scan_list *l, const char *path)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i].path, path) == 0) return &l->v[i];
    return NULL;
}

static void test_scan(void)
{
    char root[] = "/tmp/fa-test-scan-XXXXXX", p[1024], cmd[1100];
    if (!mkdtemp(root)) return;
    snprintf(p, sizeof p, "%s/alice", root); mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/bob", root); mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/.hidden", root); mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/\xe7\x94\x9f\xe7\x94\xb0", root); mkdir(p, 0755);
    touch(root, "alice/a.jpg", "x");
    touch(root, "alice/noext", "\x89PNG\r\n\x1a\nxxxx");       /* an image by content */
    touch(root, "alice/notes.txt", "just text");                 /* ignored */
    touch(root, "bob/b\xff\xfe.png", "x");                       /* not UTF-8 */
    touch(root, ".hidden/h.jpg", "x");
    touch(root, "root.jpg", "x");                                /* no identity folder */
    touch(root, "\xe7\x94\x9f\xe7\x94\xb0/p.jpg", "x");
    snprintf(p, sizeof p, "%s/bob/loop.jpg", root);
    CHECK(symlink("loop.jpg", p) == 0, "symlink");
    snprintf(p, sizeof p, "%s/bob/cycle", root);
    CHECK(symlink("..", p) == 0, "cycle link");
    snprintf(p, sizeof p, "%s/bob/dangling.jpg", root);
    CHECK(symlink("/nonexistent/x.jpg", p) == 0, "dangling link");
    fa_scan_list l;
    CHECK(fa_scan(root, &l) == 0, "%s", fa_last_error());
    CHECK(find(&l, "alice/a.jpg") && strcmp(find(&l, "alice/a.jpg")->folder, "alice") == 0, "plain file");
    CHECK(find(&l, "alice/noext") != NULL, "image recognised by content");
    CHECK(find(&l, "alice/notes.txt") == NULL, "text file ignored");
    CHECK(find(&l, "bob/b\xff\xfe.png") != NULL, "non-UTF-8 name kept as bytes");
    CHECK(find(&l, ".hidden/h.jpg") == NULL, "hidden folder skipped");
    CHECK(find(&l, "root.jpg") && find(&l, "root.jpg")->folder[0] == 0, "file in root has no folder");
    const fa_scan_entry *e = find(&l, "bob/loop.jpg");
    CHECK(e && e->problem && strstr(e->problem, "loop"), "symlink loop reported: %s", e && e->problem ? e->problem : "-");
    e = find(&l, "bob/cycle");
    CHECK(e && e->problem && strstr(e->problem, "cycle"), "directory cycle reported");
    e = find(&l, "bob/dangling.jpg");
    CHECK(e && e->problem && strstr(e->problem, "dangling"), "dangling symlink reported");
    for (size_t i = 1; i < l.n; i++) CHECK(strcmp(l.v[i - 1].path, l.v[i].path) < 0, "sorted");
    fa_scan_free(&l);
    CHECK(fa_scan("/nonexistent-root", &l) < 0 && strstr(fa_last_error(), "/nonexistent-root"), "missing root");
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    if (system(cmd) != 0) check_failed++;
}

/* The one UTF-8 helper (libunistring) and the one CSV escaper. */
static void test_utf8_csv(void)
{
    uint32_t cp = 0;
    CHECK(fa_utf8_next("a", 4, &cp) == 1 && cp == 'a', "ascii");
    CHECK(fa_utf8_next("\xe4\xb9\x83x", 4, &cp) == 3 && cp == 0x4E43, "3 bytes: %x", cp);
    CHECK(fa_utf8_next("\xf0\x9f\x98\x80", 4, &cp) == 4 && cp == 0x1F600, "4 bytes");
    CHECK(fa_utf8_next("\xff", 4, NULL) == 0, "invalid byte");
    CHECK(fa_utf8_next("\xc0\xaf", 4, NULL) == 0, "overlong");
    CHECK(fa_utf8_next("\xed\xa0\x80", 4, NULL) == 0, "surrogate");
    CHECK(fa_utf8_next("\xe4\xb9", 4, NULL) == 0, "cut short by the NUL");
    CHECK(fa_utf8_next("\xe4\xb9\x83", 2, NULL) == 0, "cut short by n");
    CHECK(fa_utf8_valid("caf\xc3\xa9", 5) && !fa_utf8_valid("caf\xc3", 4), "valid");
    CHECK(fa_utf8_width("abc") == 3, "width ascii");
    CHECK(fa_utf8_width("\xe4\xb9\x83\xe6\x9c\xa8") == 4, "width: CJK is 2 columns: %d",
          fa_utf8_width("\xe4\xb9\x83\xe6\x9c\xa8"));
    CHECK(fa_utf8_width("a\xff" "b") == 3, "width: a bad byte is 1");
    const char *in[] = {"plain", "a,b", "say \"hi\"", "two\nlines", " edge", ""};
    const char *out[] = {"plain", "\"a,b\"", "\"say \"\"hi\"\"\"", "\"two\nlines\"", "\" edge\"", ""};
    for (size_t i = 0; i < sizeof in / sizeof *in; i++) {
        fa_buf b = {0};
        fa_buf_csv_field(&b, in[i]);
        fa_buf_putc(&b, 0);
        CHECK(strcmp(b.data, out[i]) == 0, "csv %zu: %s", i, b.data);
        fa_buf_free(&b);
    }
}

/* "dlib+E": dlib's 128 then E's vector, Euclidean, same person at 1. */
static void test_encoder_names(void)
{
    fa_encoder_spec s, m;
    CHECK(fa_encoder_spec_named("mobilefacenet", &m) && m.dim == 512 && m.metric == FA_METRIC_COSINE, "mobilefacenet");
    CHECK(fa_encoder_spec_named("dlib+mobilefacenet", &s), "dlib+mobilefacenet known");
    CHECK(s.onnx && s.fused && s.dim == 640 && s.metric == FA_METRIC_EUCLIDEAN && s.same_distance == 1.0f,
          "fused: dim %d metric %d same %g", s.dim, (int)s.metric, s.same_distance);
    CHECK(s.part_dim == 512 && s.part_metric == FA_METRIC_COSINE && s.part_same == m.same_distance,
          "fused part: %d %d %g", s.part_dim, (int)s.part_metric, s.part_same);
    CHECK(!strcmp(s.name, "dlib+mobilefacenet") && !strcmp(s.file, "fr_feature.onnx") && !strcmp(s.sha256, m.sha256),
          "fused name and file: %s %s", s.name, s.file);
    CHECK(!fa_encoder_spec_named("dlib+dlib", &s), "dlib+dlib is no encoder");
    CHECK(!fa_encoder_spec_named("dlib+dlib+mobilefacenet", &s), "fused twice is no encoder");
    CHECK(!fa_encoder_spec_named("dlib+", &s), "dlib+ alone is no encoder");
    CHECK(!strcmp(fa_encoder_fused_part("dlib+onnx:x.onnx"), "onnx:x.onnx") && !fa_encoder_fused_part("dlib") &&
          !fa_encoder_fused_part("mobilefacenet") && !fa_encoder_fused_part(NULL), "the part of a fused name");
    fa_encoder_spec_dlib(&s);
    CHECK(fa_encoder_spec_fuse(&s) == -1, "dlib's own spec does not fuse");
    CHECK(fa_encoder_same_distance("dlib+mobilefacenet", FA_METRIC_EUCLIDEAN) == 1.0f, "fused same distance");
    CHECK(fa_encoder_same_distance("dlib+onnx:x.onnx", FA_METRIC_EUCLIDEAN) == 1.0f, "dlib+onnx:FILE same distance");
    CHECK(fa_encoder_same_distance("dlib", FA_METRIC_EUCLIDEAN) == 0.6f, "dlib same distance");
}

/* The model roles: one table for the cache, the index, query and `models list`. */
static void test_model_roles(void)
{
    fa_encoder_spec s;
    fa_models m;
    CHECK(!strcmp(fa_model_role(FA_ROLE_DETECTOR), "detector") && !strcmp(fa_model_role(FA_ROLE_ENCODER2), "encoder2"),
          "role names");
    CHECK(fa_model_role(-1) == NULL && fa_model_role(FA_ROLES) == NULL, "no role out of range");
    fa_encoder_spec_dlib(&s);
    CHECK(fa_model_roles(&s) == 3 && fa_model_roles(NULL) == 3, "dlib: three roles");
    CHECK(fa_encoder_spec_named("dlib+mobilefacenet", &s) && fa_model_roles(&s) == 4, "fused: four roles");
    CHECK(fa_models_path(&m, FA_ROLE_LANDMARKS) == m.landmarks && fa_models_path(&m, FA_ROLE_ENCODER2) == m.encoder2 &&
          fa_models_path(&m, FA_ROLES) == NULL, "path slots");
}

int main(void)
{
    test_encoder_names();
    test_model_roles();
    test_sniff();
    test_json();
    test_scan();
    test_utf8_csv();
    return check_done();
}
