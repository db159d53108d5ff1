/*
 * test_hostile.c - the readers against the inputs in ../shared/hostile that
 * crashed or fooled them (issue 13), and the faults found with them: every
 * one must be refused with exactly the message asserted here (whole text, so
 * a garbled message fails), or give the correct result.
 * Usage: test_hostile HOSTILE_DIR
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cache_parse.h"
#include "check.h"
#include "decode.h"
#include "json.h"
#include "photo.h"
#include "util.h"

static const char *hostile;

#define CHECK_MSG(want) \
    CHECK(strcmp(fa_last_error(), (want)) == 0, "message\n  got:  %s\n  want: %s", fa_last_error(), (want))

static char *read_hostile(const char *name, size_t *len)
{
    char *path = fa_path_join(hostile, name), *text = NULL;
    if (fa_read_file(path, 1 << 20, &text, len)) text = NULL;
    free(path);
    CHECK(text != NULL, "cannot read %s", name);
    return text;
}

/* Declared sizes whose product overflows 64 bits are too large, not unreadable. */
static void test_image_overflow(void)
{
    static const struct { const char *file, *why; } cases[] = {
        {"decode_png_overflow.png", "3170172928x4294967260 pixels declared, limit 80000000"},
        {"decode_tiff_overflow.tif", "4294957823x3758127616 pixels declared, limit 80000000"},
    };
    fa_detect_params d = {1024, 0, 1600, 80000000, 150, 0.25f};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        size_t len;
        char *bytes = read_hostile(cases[i].file, &len), why[256] = "";
        fa_image img = {0};
        if (!bytes) continue;
        fa_status s = fa_photo_decode(bytes, len, &d, &img, why, sizeof why);
        CHECK(s == FA_STATUS_TOO_LARGE, "%s: status %s (%s)", cases[i].file, fa_status_name(s), why);
        CHECK(strcmp(why, cases[i].why) == 0, "%s: reason '%s'", cases[i].file, why);
        free(bytes);
    }
    CHECK(fa_image_too_large(INT64_C(4294967295), INT64_C(4294967295), INT64_C(80000000)), "2^32 sides");
    CHECK(!fa_image_too_large(10000, 8000, 80000000), "exactly the limit is allowed");
    CHECK(fa_image_too_large(10000, 8001, 80000000), "one row over the limit");
}

/* meta.json detection parameters beyond int: refused before any cast. */
static void test_meta_ranges(void)
{
    static const struct { const char *file, *msg; } cases[] = {
        {"meta_max_pixels.json", "meta.json: \"detect.max_pixels\" missing or out of range"},
        {"meta_chip_size.json", "meta.json: \"detect.chip_size\" missing or out of range"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        size_t len;
        char *text = read_hostile(cases[i].file, &len);
        fa_gen_names nm;
        fa_cache c = {0};
        if (!text) continue;
        CHECK(fa_cache_parse_meta(&c, "meta.json", text, len, &nm) == -1, "%s accepted", cases[i].file);
        CHECK_MSG(cases[i].msg);
        free(c.root);
        free(text);
    }
}

/* A manifest row whose file claims more faces than it has rows. */
static void test_manifest_nfaces(void)
{
    size_t len;
    char *text = read_hostile("manifest_nfaces.bin", &len);
    if (!text) return;
    /* the fuzz harness's first byte chooses the claimed counts; then the manifest */
    fa_cache c = {.n_files = 1, .n_faces = 1, .dim = 1};
    CHECK(len > 1 && fa_cache_parse_manifest(&c, "manifest.tsv", text + 1, len - 1) == -1, "manifest_nfaces.bin accepted");
    CHECK_MSG("manifest.tsv:2:  has 1 face rows, its nfaces says 9");
    fa_cache *heap = malloc(sizeof *heap);
    *heap = c;
    fa_cache_close(heap);
    free(text);
}

static const char *header =
    "row\tfolder\tpath\tface\tnfaces\tstatus\tx\ty\tw\th\tscore\twidth\theight\tsize\tmtime_ns\tsha256\treason\n";

/* Parses header + rows with the claimed counts; returns 0 or -1. */
static int parse_rows(const char *rows, size_t n_files, size_t n_faces)
{
    fa_buf b = {0};
    fa_buf_puts(&b, header);
    fa_buf_puts(&b, rows);
    fa_cache *c = calloc(1, sizeof *c);
    c->n_files = n_files;
    c->n_faces = n_faces;
    c->dim = 1;
    int rc = fa_cache_parse_manifest(c, "m.tsv", b.data, b.len);
    fa_cache_close(c);
    fa_buf_free(&b);
    return rc;
}

#define ROW(row, path, face, nfaces, status) row "\tp\tp/" path "\t" face "\t" nfaces "\t" status \
    "\t0\t0\t1\t1\t1\t10\t10\t5\t1\t\t\n"

/* Structure of the rows: consecutive, face numbers 0..n-1, counts agree. */
static void test_manifest_structure(void)
{
    CHECK(parse_rows(ROW("0", "a", "0", "2", "ok") ROW("1", "a", "1", "2", "ok") ROW("-1", "b", "-1", "0", "no_face"),
                     2, 2) == 0, "a good manifest: %s", fa_last_error());
    CHECK(parse_rows(ROW("0", "a", "0", "2", "ok") ROW("1", "b", "0", "1", "ok"), 2, 2) == -1, "overlap");
    CHECK_MSG("m.tsv:3: p/a has 1 face rows, its nfaces says 2");
    CHECK(parse_rows(ROW("0", "a", "0", "2", "ok"), 1, 1) == -1, "last file short");
    CHECK_MSG("m.tsv:2: p/a has 1 face rows, its nfaces says 2");
    CHECK(parse_rows(ROW("0", "a", "0", "3", "ok") ROW("1", "a", "2", "3", "ok") ROW("2", "a", "1", "3", "ok"),
                     1, 3) == -1, "faces out of order");
    CHECK_MSG("m.tsv:3: face 2 of a file whose face 1 is not the row before");
    CHECK(parse_rows(ROW("0", "a", "0", "1", "ok") ROW("1", "a", "0", "1", "ok"), 2, 2) == -1, "listed twice");
    CHECK_MSG("m.tsv: p/a is listed twice");
    CHECK(parse_rows(ROW("-1", "a", "0", "0", "no_face"), 1, 0) == -1, "faceless file with face 0");
    CHECK_MSG("m.tsv:2: row, face and nfaces disagree");
    CHECK(parse_rows(ROW("0", "a", "0", "1", "ok"), 1000000000000, 1) == -1, "10^12 files claimed");
    CHECK_MSG("m.tsv: 1 rows, meta.json says 1000000000000 files and 1 faces");
    CHECK(parse_rows(ROW("0", "a", "0", "1", "ok"), 1, 1000000000) == -1, "10^9 faces claimed");
    CHECK_MSG("m.tsv: 1 rows, meta.json says 1 files and 1000000000 faces");
    CHECK(parse_rows(ROW("0", "a", "0", "1", "ok") ROW("-1", "b", "-1", "0", "no_face"), 1, 1) == -1, "extra file");
    CHECK_MSG("m.tsv:3: more files than meta.json says");
}

/* A whole cache claiming 10^9 faces, with a sparse NPY that agrees: refused
 * by counting the manifest's rows, before anything is allocated by the claim. */
static void test_claimed_counts(void)
{
    char dir[] = "/tmp/fa-test-hostile-XXXXXX";
    if (!mkdtemp(dir)) { CHECK(0, "mkdtemp"); return; }
    char *meta = fa_path_join(dir, "meta.json"), *npy = fa_path_join(dir, "e.npy"), *man = fa_path_join(dir, "m.tsv");
    const char *mj = "{\"format\": \"faceaudit-cache\", \"version\": 1, \"generation\": 1, \"root\": \"/r\", "
                     "\"dim\": 128, \"n_files\": 1, \"n_faces\": 1000000000, \"embeddings\": \"e.npy\", "
                     "\"manifest\": \"m.tsv\", \"models\": [], \"detect\": {\"detect_long_side\": 1024, "
                     "\"upsample_min_side\": 0, \"retry_long_side\": 1600, \"max_pixels\": 80000000, "
                     "\"chip_size\": 150, \"chip_padding\": 0.25}}";
    char head[128];
    memset(head, ' ', sizeof head);
    memcpy(head, "\x93NUMPY\x01\x00\x76\x00", 10);
    const char *dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000, 128), }";
    memcpy(head + 10, dict, strlen(dict));
    head[127] = '\n';
    fa_buf rows = {0};
    fa_buf_puts(&rows, header);
    fa_buf_puts(&rows, ROW("0", "a", "0", "1", "ok"));
    FILE *f = fopen(npy, "wb");
    fwrite(head, 1, sizeof head, f);
    fclose(f);
    CHECK(truncate(npy, 128 + 1000000000LL * 128 * 4) == 0, "sparse npy");
    CHECK(fa_write_file_atomic(meta, mj, strlen(mj)) == 0 && fa_write_file_atomic(man, rows.data, rows.len) == 0,
          "write");
    fa_cache *c = fa_cache_open(dir);
    CHECK(c == NULL, "10^9 faces claimed and accepted");
    char want[512];
    snprintf(want, sizeof want, "%s: 1 rows, meta.json says 1 files and 1000000000 faces", man);
    CHECK_MSG(want);
    fa_cache_close(c);
    unlink(meta); unlink(npy); unlink(man);
    rmdir(dir);
    free(meta); free(npy); free(man);
    fa_buf_free(&rows);
}

/* NPY shapes with a sign or beyond 64 bits are not shapes. */
static void test_npy_shape(void)
{
    static const struct { const char *shape, *msg; } cases[] = {
        {"(-1, 128)", "x.npy: NPY shape must be (rows, dim)"},
        {"(99999999999999999999999, 128)", "x.npy: NPY shape must be (rows, dim)"},
        {"(2, 99999999999)", "x.npy: bad embedding dimension 99999999999"},
        {"(2, 0)", "x.npy: bad embedding dimension 0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        uint8_t buf[256] = "\x93NUMPY\x01\x00";
        int n = snprintf((char *)buf + 10, sizeof buf - 10, "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }\n",
                         cases[i].shape);
        buf[8] = (uint8_t)n;
        size_t rows;
        int cols;
        CHECK(fa_npy_parse("x.npy", buf, 10 + (size_t)n, &rows, &cols) == -1, "%s accepted", cases[i].shape);
        CHECK_MSG(cases[i].msg);
    }
}

/* Messages: JSON positions count from the start; wrapping the previous
 * message in a new one does not garble it. */
static void test_messages(void)
{
    CHECK(fa_json_parse("{\"a\": 1,", 8) == NULL, "truncated JSON accepted");
    CHECK_MSG("JSON: string or '}' expected near end of file at byte 8");
    CHECK(fa_json_parse("[1, 2, x]", 9) == NULL, "bad JSON accepted");
    CHECK_MSG("JSON: invalid token near 'x' at byte 8");
    fa_error("inner problem");
    fa_error("outer: %s (and more)", fa_last_error());
    CHECK_MSG("outer: inner problem (and more)");
    fa_json_parse("{", 1);
    fa_error("%s: %s", "meta.json", fa_last_error());
    CHECK_MSG("meta.json: JSON: string or '}' expected near end of file at byte 1");
}

/* What the readers rely on from the JSON layer: members in document order,
 * a repeated member refused (which one would count?), integers beyond 2^63
 * read as numbers, the depth bounded, NUL bytes in strings refused. */
static void test_json_rules(void)
{
    const char *doc = "{\"b\": 1, \"a\": [true, null, \"x\"], \"n\": 18446744073709551616}";
    fa_json *j = fa_json_parse(doc, strlen(doc));
    CHECK(j && j->type == FA_JOBJ && j->n == 3, "%s", j ? "wrong shape" : fa_last_error());
    if (j && j->n == 3) {
        CHECK(strcmp(j->kids[0].key, "b") == 0 && strcmp(j->kids[1].key, "a") == 0, "member order lost");
        CHECK(j->kids[1].type == FA_JARR && j->kids[1].n == 3 && j->kids[1].kids[0].type == FA_JBOOL &&
              j->kids[1].kids[1].type == FA_JNULL && strcmp(j->kids[1].kids[2].str, "x") == 0, "array");
        double n = 0;
        CHECK(fa_json_num(j, "n", &n) == 0 && n == 18446744073709551616.0, "big integer: %g", n);
    }
    fa_json_free(j);
    CHECK(fa_json_parse("{\"a\": 1, \"a\": 2}", 16) == NULL, "repeated member accepted");
    CHECK_MSG("JSON: duplicate object key near '\"a\"' at byte 12");
    char deep[80];
    memset(deep, '[', 40);
    memset(deep + 40, ']', 40);
    CHECK(fa_json_parse(deep, 80) == NULL, "40 levels accepted");
    CHECK_MSG("JSON: nested deeper than 32");
    CHECK(fa_json_parse("[\"a\\u0000b\"]", 13) == NULL, "NUL in a string accepted");
}

int main(int argc, char **argv)
{
    if (argc != 2) { fprintf(stderr, "usage: test_hostile HOSTILE_DIR\n"); return 2; }
    hostile = argv[1];
    test_image_overflow();
    test_meta_ranges();
    test_manifest_nfaces();
    test_manifest_structure();
    test_claimed_counts();
    test_npy_shape();
    test_messages();
    test_json_rules();
    return check_done();
}
