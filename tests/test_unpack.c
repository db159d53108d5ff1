/*
 * test_unpack.c - fa_unpack_member (src/unpack.c): one file out of a .tgz or
 * a .7z, byte for byte; and every way it can fail (no such member, a link
 * named like it, a damaged, truncated or foreign file, a member over the
 * limit, an unwritable destination) leaves no file behind and names the
 * archive. The archives are written here with libarchive's writer.
 */
#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "faceaudit/faceaudit.h"
#include "unpack.h"
#include "util.h"

static char dir[] = "/tmp/fa-test-unpack-XXXXXX";
static char payload[300000];

static void add_entry(struct archive *a, const char *path, const void *data, size_t n, int link)
{
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, path);
    archive_entry_set_perm(e, 0644);
    if (link) {
        archive_entry_set_filetype(e, AE_IFLNK);
        archive_entry_set_symlink(e, "/etc/passwd");
    } else {
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_size(e, (la_int64_t)n);
    }
    archive_write_header(a, e);
    if (!link) archive_write_data(a, data, n);
    archive_entry_free(e);
}

/* An archive like npm's: package/model/{model.bin, xmodel.bin}, plus a link
 * named link.bin; format "tgz" or "7z". */
static void make_archive(const char *path, const char *format)
{
    struct archive *a = archive_write_new();
    if (strcmp(format, "tgz") == 0) {
        archive_write_set_format_pax_restricted(a);
        archive_write_add_filter_gzip(a);
    } else {
        archive_write_set_format_7zip(a);
    }
    archive_write_open_filename(a, path);
    add_entry(a, "package/model/xmodel.bin", "decoy", 5, 0);
    add_entry(a, "package/model/model.bin", payload, sizeof payload, 0);
    add_entry(a, "package/model/link.bin", NULL, 0, 1);
    archive_write_close(a);
    archive_write_free(a);
}

static int same_as_payload(const char *path)
{
    char *data = NULL;
    size_t len = 0;
    int ok = fa_read_file(path, 1 << 20, &data, &len) == 0 && len == sizeof payload &&
             memcmp(data, payload, len) == 0;
    free(data);
    return ok;
}

static int absent(const char *path)
{
    char part[4200];
    snprintf(part, sizeof part, "%s.part", path);
    return access(path, F_OK) != 0 && access(part, F_OK) != 0;
}

static void test_extract(const char *format)
{
    char arc[256], dst[256];
    snprintf(arc, sizeof arc, "%s/a.%s", dir, format);
    snprintf(dst, sizeof dst, "%s/out-%s.bin", dir, format);
    make_archive(arc, format);
    CHECK(fa_unpack_member(arc, "package/model/model.bin", dst, 1 << 20) == 0, "%s: %s", format, fa_last_error());
    CHECK(same_as_payload(dst), "%s: bytes differ", format);
    unlink(dst);
    CHECK(fa_unpack_member(arc, "model.bin", dst, 1 << 20) == 0, "%s by its name: %s", format, fa_last_error());
    CHECK(same_as_payload(dst), "%s: bytes differ (by name)", format);
    unlink(dst);
    /* "odel.bin" is not a path suffix of model.bin; a link is not a file. */
    CHECK(fa_unpack_member(arc, "odel.bin", dst, 1 << 20) == -1 && absent(dst), "%s: partial name", format);
    char want[600];
    snprintf(want, sizeof want, "%s: cannot extract link.bin: no such member", arc);
    CHECK(fa_unpack_member(arc, "link.bin", dst, 1 << 20) == -1 && absent(dst), "%s: a link", format);
    CHECK(strcmp(fa_last_error(), want) == 0, "got \"%s\"", fa_last_error());
    snprintf(want, sizeof want, "%s: cannot extract model.bin: member larger than the limit", arc);
    CHECK(fa_unpack_member(arc, "model.bin", dst, 1000) == -1 && absent(dst), "%s: over the limit", format);
    CHECK(strcmp(fa_last_error(), want) == 0, "got \"%s\"", fa_last_error());
    char bad[300];
    snprintf(bad, sizeof bad, "%s/no-such-dir/out.bin", dir);
    CHECK(fa_unpack_member(arc, "model.bin", bad, 1 << 20) == -1 && absent(bad), "%s: unwritable", format);
    CHECK(strstr(fa_last_error(), "No such file or directory") != NULL, "got \"%s\"", fa_last_error());
}

/* The archive cut at several lengths, and a file that is no archive. */
static void test_damaged(void)
{
    char arc[256], cut[256], dst[256], *data = NULL;
    size_t len = 0;
    snprintf(arc, sizeof arc, "%s/a.tgz", dir);
    snprintf(cut, sizeof cut, "%s/cut.tgz", dir);
    snprintf(dst, sizeof dst, "%s/out-cut.bin", dir);
    CHECK(fa_read_file(arc, 1 << 22, &data, &len) == 0, "%s", fa_last_error());
    size_t lens[] = {0, 10, 100, len / 2, len - 30};
    for (size_t i = 0; i < sizeof lens / sizeof *lens; i++) {
        fa_write_file_atomic(cut, data, lens[i]);
        CHECK(fa_unpack_member(cut, "model.bin", dst, 1 << 20) == -1 && absent(dst), "cut at %zu", lens[i]);
        CHECK(strncmp(fa_last_error(), cut, strlen(cut)) == 0, "cut at %zu: \"%s\"", lens[i], fa_last_error());
    }
    free(data);
    fa_write_file_atomic(cut, "just text, not an archive\n", 26);
    CHECK(fa_unpack_member(cut, "model.bin", dst, 1 << 20) == -1 && absent(dst), "text file");
    CHECK(strstr(fa_last_error(), "cannot extract model.bin") != NULL, "got \"%s\"", fa_last_error());
    snprintf(cut, sizeof cut, "%s/missing.tgz", dir);
    CHECK(fa_unpack_member(cut, "model.bin", dst, 1 << 20) == -1 && absent(dst), "missing archive");
    CHECK(strstr(fa_last_error(), cut) != NULL, "got \"%s\"", fa_last_error());
}

int main(void)
{
    if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
    for (size_t i = 0; i < sizeof payload; i++) payload[i] = (char)(i * 2654435761u >> 13);
    test_extract("tgz");
    test_extract("7z");
    test_damaged();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return check_done();
}
