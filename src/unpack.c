/*
 * unpack.c - one file out of an archive, by libarchive (see unpack.h).
 * Only the named member is written, to a path the caller chose, so an
 * archive's own paths ("../x", absolute names, links) never reach the disk.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "unpack.h"
#include "faceaudit/faceaudit.h"
#include "util.h"

/* 1 if the entry's path is member or ends in "/member". */
static int is_member(const char *path, const char *member)
{
    size_t n = strlen(path), m = strlen(member);
    if (n < m || strcmp(path + n - m, member) != 0) return 0;
    return n == m || path[n - m - 1] == '/';
}

typedef struct {
    struct archive *a;
    uint64_t max;
} entry_src;

/* Copies the current entry's data into f (fa_write_stream_atomic's fill).
 * Returns 0, or -1 with *why set (libarchive's text, the write error, or
 * "member larger than the limit"). */
static int copy_data(FILE *f, void *ud, const char **why)
{
    struct archive *a = ((entry_src *)ud)->a;
    uint64_t max = ((entry_src *)ud)->max;
    static _Thread_local char buf[1 << 16];
    uint64_t total = 0;
    for (;;) {
        la_ssize_t n = archive_read_data(a, buf, sizeof buf);
        if (n == 0) return 0;
        if (n < 0) { *why = archive_error_string(a); return -1; }
        total += (uint64_t)n;
        if (total > max) { *why = "member larger than the limit"; return -1; }
        if (fwrite(buf, 1, (size_t)n, f) != (size_t)n) { *why = strerror(errno); return -1; }
    }
}

/* Writes the current entry to dst atomically. */
static int write_entry(struct archive *a, const char *dst, uint64_t max, const char **why)
{
    entry_src src = { a, max };
    int rc = fa_write_stream_atomic(dst, copy_data, &src, why);
    if (rc == -2) *why = strerror(errno);
    return rc ? -1 : 0;
}

int fa_unpack_member(const char *archive, const char *member, const char *dst, uint64_t max_bytes)
{
    struct archive *a = archive_read_new();
    if (!a) return fa_error("%s: out of memory", archive);
    archive_read_support_filter_all(a);
    archive_read_support_format_all(a);
    const char *why = NULL;
    int found = 0, rc = -1;
    if (archive_read_open_filename(a, archive, 1 << 16) != ARCHIVE_OK) {
        why = archive_error_string(a);
    } else {
        struct archive_entry *e;
        int r;
        while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
            const char *path = archive_entry_pathname(e);
            if (!path || !is_member(path, member) || archive_entry_filetype(e) != AE_IFREG) continue;
            found = 1;
            rc = write_entry(a, dst, max_bytes, &why);
            break;
        }
        if (!found && r != ARCHIVE_EOF) why = archive_error_string(a);
    }
    if (!found && !why) why = "no such member";
    if (rc != 0) {
        fa_error("%s: cannot extract %s: %s", archive, member, why ? why : "damaged archive");
        archive_read_free(a);
        return -1;
    }
    archive_read_free(a);
    return 0;
}
