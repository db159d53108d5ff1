/*
 * scan.h - walking an image tree. ROOT/<identity>/.../<file>: the identity of
 * a file is its first path component under ROOT. Image files are recognised
 * by extension or, failing that, by content; other files (README.txt, .json
 * sidecars) are ignored. Hidden files and folders are skipped. Symbolic links
 * are followed, with loops and cycles reported, never followed forever.
 */
#ifndef FA_SCAN_H
#define FA_SCAN_H
#include <stdint.h>
#include <stddef.h>

typedef struct {
    char *path;         /* relative to root, raw bytes */
    char *folder;       /* first component; "" for a file directly in root */
    int64_t size;
    int64_t mtime_ns;
    char *problem;      /* NULL, or why this entry cannot be read (loop, not a file...) */
} fa_scan_entry;

typedef struct {
    fa_scan_entry *v;
    size_t n, cap;
} fa_scan_list;

/* Walks root; entries come sorted by path (bytewise). Returns 0, or -1 when
 * root itself cannot be read. Problems below root become entries. */
int fa_scan(const char *root, fa_scan_list *out);
void fa_scan_free(fa_scan_list *l);
#endif
