/*
 * unpack.h - one file out of an archive (tar.gz, 7z, zip, ... whatever
 * libarchive reads), for `models fetch`: the npm tarballs of face-api and
 * faceplugin, and the Taguchi model's .7z.
 */
#ifndef FA_UNPACK_H
#define FA_UNPACK_H
#include <stdint.h>

/* Extracts the regular file of `archive` whose path is `member`, or ends in
 * "/member", into dst: written to dst.part, synced, renamed, so dst is
 * either absent or whole. At most max_bytes are written (a larger member is
 * refused). Returns 0, or -1 with a message naming the archive and why:
 * not an archive, damaged or truncated, no such member, member too large, or
 * the write failed. */
int fa_unpack_member(const char *archive, const char *member, const char *dst,
                       uint64_t max_bytes);
#endif
