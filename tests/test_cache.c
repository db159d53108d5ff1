/*
 * test_cache.c - the cache format and the journal: round trips, and every
 * kind of damage a reader must refuse with a message instead of crashing.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "faceaudit/cache.h"
#include "journal.h"
#include "sha256.h"
#include "util.h"

static char tmpdir[] = "/tmp/fa-test-cache-XXXXXX";

static char *path_in(const char *name)
{
    static char buf[8][512];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
    return buf[k];
}

static int with_thumbs = 1;   /* make_cache writes face and image thumbnails */

/* A small cache: 3 files (one with two faces, one faceless with odd name). */
static int make_cache(const char *dir, int dim)
{
    static uint8_t thumb[3 * FA_THUMB_LEN];
    static uint8_t image[3 * FA_THUMB_LEN];   /* per file; file 1 (unreadable) has none */
    for (int i = 0; i < 3 * FA_THUMB_LEN; i++) thumb[i] = (uint8_t)(i * 7 % 251);
    for (int i = 0; i < 3 * FA_THUMB_LEN; i++) image[i] = i / FA_THUMB_LEN == 1 ? 0 : (uint8_t)(i * 13 % 241);
    static char *folders[] = {"a", "b\tweird", "\xe7\x94\x9f\xe7\x94\xb0"};
    fa_file files[3];
    fa_face faces[3];
    float *emb = calloc(3 * (size_t)dim, sizeof(float));
    memset(files, 0, sizeof files);
    for (int i = 0; i < 3 * dim; i++) emb[i] = (float)i / (float)(3 * dim);
    files[0] = (fa_file){.path = "a/one.jpg", .folder = 0, .status = FA_STATUS_OK, .reason = "", .size = 10,
                         .mtime_ns = 123, .width = 100, .height = 80, .n_faces = 2, .first_face = 0};
    files[1] = (fa_file){.path = "b\tweird/x\ny\\z\xff.png", .folder = 1, .status = FA_STATUS_UNREADABLE,
                         .reason = "truncated PNG\theader", .size = 5, .mtime_ns = -7, .first_face = -1};
    files[2] = (fa_file){.path = "\xe7\x94\x9f\xe7\x94\xb0/p.jpg", .folder = 2, .status = FA_STATUS_OK,
                         .reason = "", .size = 99, .mtime_ns = 1, .n_faces = 1, .first_face = 2};
    fa_sha256_buf("x", 1, files[0].sha256);
    files[0].has_sha256 = 1;
    faces[0] = (fa_face){0, 0, {1, 2, 3, 4, 0.9f}};
    faces[1] = (fa_face){0, 1, {5, 6, 7, 8, 0.5f}};
    faces[2] = (fa_face){2, 0, {9, 9, 9, 9, 1.0f}};
    fa_model_id models[3] = {{"detector", "d.dat", ""}, {"landmarks", "l.dat", ""}, {"encoder", "e.dat", ""}};
    for (int i = 0; i < 3; i++) memset(models[i].sha256, 'a' + i, 64);
    fa_detect_params dp = {800, 640, 1600, 80000000, 150, 0.25f};
    fa_cache_data d = {"/root/of/data", dim, 3, 3, 3, files, faces, emb, folders, models, 3, &dp, NULL, FA_METRIC_EUCLIDEAN, 0, 0,
                       with_thumbs ? thumb : NULL, with_thumbs ? image : NULL};
    int rc = fa_cache_commit(dir, &d);
    free(emb);
    return rc;
}

static void test_roundtrip(void)
{
    const char *dir = path_in("c1");
    CHECK(make_cache(dir, 128) == 0, "%s", fa_last_error());
    fa_cache *c = fa_cache_open(dir);
    CHECK(c != NULL, "%s", fa_last_error());
    if (!c) return;
    CHECK(c->n_files == 3 && c->n_faces == 3 && c->dim == 128, "counts %zu %zu %d", c->n_files, c->n_faces, c->dim);
    CHECK(c->n_folders == 3, "folders %zu", c->n_folders);
    CHECK(strcmp(c->files[1].path, "b\tweird/x\ny\\z\xff.png") == 0, "odd path survives: %s", c->files[1].path);
    CHECK(strcmp(c->files[1].reason, "truncated PNG\theader") == 0, "reason %s", c->files[1].reason);
    CHECK(c->files[1].status == FA_STATUS_UNREADABLE && c->files[1].n_faces == 0, "status");
    CHECK(c->files[0].n_faces == 2 && c->faces[1].box.x == 5.0f, "faces of file 0");
    CHECK(strcmp(c->folders[c->files[2].folder], "\xe7\x94\x9f\xe7\x94\xb0") == 0, "utf-8 folder");
    CHECK(c->emb[128 * 2 + 5] == (float)(128 * 2 + 5) / (float)(3 * 128), "embedding values");
    CHECK(c->files[0].has_sha256 && !c->files[1].has_sha256, "sha flags");
    CHECK(c->generation == 1 && c->detect.detect_long_side == 800, "meta");
    CHECK(strcmp(fa_cache_model(c, "encoder")->name, "e.dat") == 0, "models");
    CHECK(c->thumb && c->thumb[FA_THUMB_LEN * 2 + 5] == (uint8_t)((FA_THUMB_LEN * 2 + 5) * 7 % 251) &&
          access(path_in("c1/facethumbs.npy"), F_OK) == 0, "thumbnails and their link");
    CHECK(c->image_thumb && c->image_thumb[FA_THUMB_LEN * 2 + 7] == (uint8_t)((FA_THUMB_LEN * 2 + 7) * 13 % 241) &&
          c->image_thumb[FA_THUMB_LEN + 3] == 0 && access(path_in("c1/imagethumbs.npy"), F_OK) == 0,
          "image thumbnails (one row per file) and their link");
    fa_cache_close(c);
    /* a second commit replaces the first; only one generation remains */
    CHECK(make_cache(dir, 128) == 0, "%s", fa_last_error());
    c = fa_cache_open(dir);
    CHECK(c && c->generation == 2, "generation 2");
    fa_cache_close(c);
    CHECK(access(path_in("c1/embeddings.1.npy"), F_OK) != 0 && access(path_in("c1/facethumbs.1.npy"), F_OK) != 0 &&
          access(path_in("c1/imagethumbs.1.npy"), F_OK) != 0,
          "old generation removed");
    /* a commit without thumbnails (a program's own cache) removes theirs and the link */
    with_thumbs = 0;
    CHECK(make_cache(path_in("c0"), 128) == 0 && make_cache(path_in("c0"), 128) == 0, "%s", fa_last_error());
    with_thumbs = 1;
    CHECK(make_cache(path_in("c0"), 128) == 0, "%s", fa_last_error());
    with_thumbs = 0;
    CHECK(make_cache(path_in("c0"), 128) == 0, "%s", fa_last_error());
    with_thumbs = 1;
    c = fa_cache_open(path_in("c0"));
    CHECK(c && !c->thumb && access(path_in("c0/facethumbs.3.npy"), F_OK) != 0 && access(path_in("c0/facethumbs.npy"), F_OK) != 0,
          "no thumbnails: none read, the old ones and their link removed");
    CHECK(c && !c->image_thumb && access(path_in("c0/imagethumbs.3.npy"), F_OK) != 0 &&
          access(path_in("c0/imagethumbs.npy"), F_OK) != 0, "no image thumbnails: the old ones and their link removed");
    fa_cache_close(c);
    CHECK(access(path_in("c1/embeddings.npy"), F_OK) == 0, "stable symlink for numpy");
}

/* Copies the committed c1 to name and applies damage to one of its files. */
static const char *damaged(const char *name, const char *file, const char *content, long truncate_to)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "rm -rf %s && cp -a %s %s", path_in(name), path_in("c1"), path_in(name));
    if (system(cmd) != 0) return NULL;
    char target[600];
    snprintf(target, sizeof target, "%s/%s", path_in(name), file);
    char real[700];
    if (realpath(target, real) == NULL) snprintf(real, sizeof real, "%s", target);
    if (content) {
        FILE *f = fopen(real, "wb");
        fputs(content, f);
        fclose(f);
    }
    if (truncate_to >= 0 && truncate(real, truncate_to) != 0) return NULL;
    return path_in(name);
}

static void expect_refused(const char *dir, const char *what, const char *needle)
{
    fa_cache *c = dir ? fa_cache_open(dir) : NULL;
    CHECK(c == NULL, "%s: damaged cache was accepted", what);
    CHECK(strstr(fa_last_error(), needle) != NULL, "%s: message '%s' lacks '%s'", what, fa_last_error(), needle);
    fa_cache_close(c);
}

static void test_damage(void)
{
    expect_refused(damaged("d1", "embeddings.npy", NULL, 100), "truncated npy", "embeddings.2.npy");
    expect_refused(damaged("d2", "embeddings.npy", "not numpy at all", -1), "foreign npy", "not an NPY");
    expect_refused(damaged("d3", "manifest.tsv", NULL, 300), "truncated manifest", "manifest.2.tsv");
    expect_refused(damaged("d4", "meta.json", "{\"format\": \"something-else\"}", -1), "foreign meta",
                   "not a faceaudit cache");
    expect_refused(damaged("d5", "meta.json", "{\"format\": \"faceaudit-cache\", \"version\": 99}", -1),
                   "future version", "cache format 99");
    expect_refused(damaged("d6", "meta.json", "{\"format\": ", -1), "garbage meta", "meta.json");
    expect_refused(damaged("d7", "manifest.tsv", "row\tfolder\n", -1), "bad header", "bad header");
    expect_refused(damaged("d11", "facethumbs.npy", NULL, 200), "truncated thumbnails", "facethumbs.2.npy");
    expect_refused(damaged("d12", "facethumbs.npy", "not numpy at all", -1), "foreign thumbnails", "not an NPY");
    expect_refused(damaged("d13", "imagethumbs.npy", NULL, 300), "truncated image thumbnails", "imagethumbs.2.npy");
    expect_refused(damaged("d14", "meta.json", "{\"format\": \"faceaudit-cache\", \"version\": 1, \"generation\": 2, "
                           "\"dim\": 128, \"encoder\": {\"name\": \"dlib\", \"dim\": 128, \"metric\": \"euclidean\"}, "
                           "\"n_files\": 3, \"n_faces\": 3, \"detect\": {\"detect_long_side\": 800, "
                           "\"upsample_min_side\": 640, \"retry_long_side\": 1600, \"max_pixels\": 80000000, "
                           "\"chip_size\": 150, \"chip_padding\": 0.25}, \"root\": \"/r\", \"embeddings\": "
                           "\"embeddings.2.npy\", \"manifest\": \"manifest.2.tsv\", \"image_thumbs\": \"../x.npy\", "
                           "\"models\": []}", -1), "image thumbnails outside the cache", "bad image_thumbs file name");
    expect_refused(path_in("nonexistent"), "missing dir", "nonexistent");
    /* a manifest row with an out-of-range embedding row */
    const char *d8 = damaged("d8", "manifest.tsv", NULL, -1);
    char mp[700], *text;
    size_t len;
    snprintf(mp, sizeof mp, "%s/manifest.2.tsv", d8);
    if (fa_read_file(mp, 1 << 20, &text, &len) == 0) {
        char *row = strchr(text, '\n') + 1;
        row[0] = '7';   /* "0\t..." -> "7\t..." */
        FILE *f = fopen(mp, "wb");
        fwrite(text, 1, len, f);
        fclose(f);
        free(text);
    }
    expect_refused(d8, "row out of range", "malformed row");
    /* an NPY whose shape disagrees with meta.json */
    const char *d9 = damaged("d9", "meta.json", NULL, -1);
    char meta[700];
    snprintf(meta, sizeof meta, "%s/meta.json", d9);
    if (fa_read_file(meta, 1 << 20, &text, &len) == 0) {
        char *p;   /* the top-level dim and the encoder record's, kept consistent */
        while ((p = strstr(text, "\"dim\": 128"))) memcpy(p, "\"dim\": 127", 10);
        FILE *f = fopen(meta, "wb");
        fwrite(text, 1, len, f);
        fclose(f);
        free(text);
    }
    expect_refused(d9, "dim mismatch", "shape");
    /* a meta.json from before the encoder record: read as dlib, 128-d, Euclidean */
    const char *d10 = damaged("d10", "meta.json", NULL, -1);
    snprintf(meta, sizeof meta, "%s/meta.json", d10);
    if (fa_read_file(meta, 1 << 20, &text, &len) == 0) {
        char *p = strstr(text, "  \"encoder\": {"), *e = p ? strchr(p, '\n') : NULL;
        if (e) memset(p, ' ', (size_t)(e - p));
        FILE *f = fopen(meta, "wb");
        fwrite(text, 1, len, f);
        fclose(f);
        free(text);
    }
    fa_cache *old = fa_cache_open(d10);
    CHECK(old && strcmp(old->encoder, "dlib") == 0 && old->metric == FA_METRIC_EUCLIDEAN,
          "meta.json without an encoder record: %s", old ? old->encoder : fa_last_error());
    fa_cache_close(old);
}

static void test_escape(void)
{
    const char *raw[] = {"plain", "tab\there", "nl\nand\rcr", "back\\slash", "bad\xff\xfe utf8",
                         "\xe4\xb9\x83\xe6\x9c\xa8\xe5\x9d\x82", "ctl\x01", ""};
    for (size_t i = 0; i < sizeof raw / sizeof *raw; i++) {
        char *e = fa_tsv_escape(raw[i]);
        CHECK(e && !strchr(e, '\t') && !strchr(e, '\n') && fa_utf8_valid(e, strlen(e)), "escape %zu", i);
        char *u = e ? fa_tsv_unescape(e) : NULL;
        CHECK(u && strcmp(u, raw[i]) == 0, "round trip %zu", i);
        free(e);
        free(u);
    }
    CHECK(fa_tsv_unescape("dangling\\") == NULL, "bad escape refused");
    CHECK(fa_tsv_unescape("\\q") == NULL, "unknown escape refused");
}

static void test_journal(void)
{
    const char *jp = path_in("journal");
    char fp[65];
    memset(fp, 'f', 64);
    fp[64] = 0;
    fa_result *rep;
    size_t n;
    fa_journal *j = fa_journal_open(jp, fp, 4, &rep, &n);
    CHECK(j && n == 0, "new journal");
    float emb[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    fa_box boxes[2] = {{1, 1, 1, 1, 1}, {2, 2, 2, 2, 2}};
    uint8_t th[2 * FA_THUMB_LEN];
    for (int i = 0; i < 2 * FA_THUMB_LEN; i++) th[i] = (uint8_t)(i * 13);
    for (int i = 0; i < 10; i++) {
        char path[32];
        snprintf(path, sizeof path, "p/%d.jpg", i);
        fa_result r = {.path = path, .size = i, .mtime_ns = i * 10, .status = i % 2 ? FA_STATUS_OK : FA_STATUS_NO_FACE,
                       .reason = i % 2 ? "" : "no face found", .n_faces = i % 2 ? 2 : 0, .boxes = boxes, .emb = emb,
                       .thumb = i == 1 ? th : NULL, .has_image_thumb = i == 3};
        if (i == 3) memcpy(r.image_thumb, th + 7, FA_THUMB_LEN);
        CHECK(fa_journal_append(j, &r) == 0, "append");
    }
    CHECK(fa_journal_sync(j) == 0, "sync");
    fa_journal_close(j);
    struct stat st;
    stat(jp, &st);
    CHECK(truncate(jp, st.st_size - 5) == 0, "tear the last record");
    j = fa_journal_open(jp, fp, 4, &rep, &n);
    CHECK(j && n == 9, "replayed %zu of 10 (torn last record dropped)", n);
    CHECK(n >= 2 && rep[1].n_faces == 2 && rep[1].emb[7] == 8.0f && strcmp(rep[1].path, "p/1.jpg") == 0,
          "record content");
    CHECK(n >= 4 && rep[1].thumb && memcmp(rep[1].thumb, th, sizeof th) == 0 && rep[3].thumb &&
          rep[3].thumb[FA_THUMB_LEN + 9] == 0, "thumbnails survive the journal; none is zeros");
    CHECK(n >= 4 && rep[3].has_image_thumb && memcmp(rep[3].image_thumb, th + 7, FA_THUMB_LEN) == 0 &&
          !rep[1].has_image_thumb && !rep[2].has_image_thumb, "an image thumbnail survives the journal; none stays none");
    for (size_t i = 0; i < n; i++) fa_result_clear(&rep[i]);
    free(rep);
    fa_result r = {.path = "p/new.jpg", .status = FA_STATUS_NO_FACE, .reason = "x"};
    CHECK(fa_journal_append(j, &r) == 0 && fa_journal_sync(j) == 0, "append after torn tail");
    fa_journal_close(j);
    j = fa_journal_open(jp, fp, 4, &rep, &n);
    CHECK(n == 10 && strcmp(rep[9].path, "p/new.jpg") == 0, "appended after the intact prefix (%zu)", n);
    for (size_t i = 0; i < n; i++) fa_result_clear(&rep[i]);
    free(rep);
    fa_journal_close(j);
    /* a corrupted byte in the middle stops replay there */
    int fd = open(jp, O_RDWR);
    CHECK(pwrite(fd, "\xAA", 1, 79 + 12 + 3) == 1, "corrupt");
    close(fd);
    j = fa_journal_open(jp, fp, 4, &rep, &n);
    CHECK(j && n == 0, "crc mismatch stops replay (%zu)", n);
    fa_journal_close(j);
    free(rep);
    /* another fingerprint discards the journal */
    char other[65];
    memset(other, 'e', 64);
    other[64] = 0;
    j = fa_journal_open(jp, other, 4, &rep, &n);
    CHECK(j && n == 0, "other models: journal discarded");
    fa_journal_close(j);
    free(rep);
}

static void test_sha256(void)
{
    uint8_t d[32];
    char hex[65];
    fa_sha256_buf("abc", 3, d);
    fa_sha256_hex(d, hex);
    CHECK(strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0, "abc: %s", hex);
    fa_sha256_buf("", 0, d);
    fa_sha256_hex(d, hex);
    CHECK(strcmp(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") == 0, "empty: %s", hex);
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    fa_sha256_buf(m, strlen(m), d);
    fa_sha256_hex(d, hex);
    CHECK(strcmp(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1") == 0, "448 bits: %s", hex);
    uint8_t back[32];
    CHECK(fa_sha256_unhex(hex, back) == 0 && memcmp(back, d, 32) == 0, "unhex");
    CHECK(fa_sha256_unhex("zz", back) != 0, "bad hex refused");
    /* A file: the same sum as the buffer, and a missing one named. */
    char path[512];
    snprintf(path, sizeof path, "%s/sha-input", tmpdir);
    CHECK(fa_write_file_atomic(path, m, strlen(m)) == 0, "write");
    CHECK(fa_sha256_file(path, back) == 0 && memcmp(back, d, 32) == 0, "file sum = buffer sum");
    snprintf(path, sizeof path, "%s/no-such-file", tmpdir);
    CHECK(fa_sha256_file(path, back) == -1 && strstr(fa_last_error(), "no-such-file"), "missing file: %s",
          fa_last_error());
}

/* The journal's CRC-32 is the IEEE one (zlib's): the check value of
 * "123456789", so journals written before the switch to zlib still replay. */
static void test_crc32(void)
{
    CHECK(fa_crc32("123456789", 9) == 0xCBF43926u, "crc32 check value: %08x", fa_crc32("123456789", 9));
    CHECK(fa_crc32("", 0) == 0, "crc32 of nothing");
}

int main(void)
{
    if (!mkdtemp(tmpdir)) return 2;
    test_roundtrip();
    test_damage();
    test_escape();
    test_journal();
    test_sha256();
    test_crc32();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0) return 2;
    return check_done();
}
