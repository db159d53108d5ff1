/*
 * journal.h - the checkpoint log of `faceaudit index`.
 *
 * While an index run works, every finished file is appended to CACHE/journal
 * and the journal is fsync'ed every couple of seconds, so `kill -9` loses at
 * most that much work. The next run replays the journal's intact prefix and
 * skips those files; a torn last record is ignored. The journal is deleted
 * once its results are committed into the cache.
 *
 * Layout: header "FAJOURNAL2\n", u32 dim, 64-byte fingerprint (hex SHA-256 of
 * the models and detection parameters: a journal made by other models is
 * discarded), then records:
 *   u32 magic 'FAJR', u32 payload length, u32 CRC-32 of payload, payload:
 *   u16 path length, path, i64 size, i64 mtime_ns, u8 status, u8 has_sha,
 *   32 bytes sha256, i32 width, i32 height, u16 reason length, reason,
 *   u32 n_faces, then per face 5 floats (x y w h score), dim floats and
 *   FA_THUMB_LEN bytes of thumbnail (all zero: none).
 * All integers little-endian. Version 1 had no thumbnails; its journal is
 * discarded like one of other models (the files are indexed again).
 */
#ifndef FA_JOURNAL_H
#define FA_JOURNAL_H
#include "faceaudit/cache.h"

/* One file's outcome, as the indexer produces it. */
typedef struct {
    char *path;
    int64_t size, mtime_ns;
    fa_status status;
    int has_sha256;
    uint8_t sha256[32];
    int width, height;
    char *reason;
    uint32_t n_faces;
    fa_box *boxes;      /* n_faces */
    float *emb;         /* n_faces x dim */
    uint8_t *thumb;     /* n_faces x FA_THUMB_LEN, or NULL (none: written as zeros) */
    /* The whole image's thumbnail (photo.h), when has_image_thumb. */
    uint8_t image_thumb[FA_THUMB_LEN];
    int has_image_thumb;
    int refresh;        /* faces copied from before (1 the old cache, 2 the journal): only
                           image_thumb is wanted (pipeline); cleared when done */
} fa_result;

void fa_result_clear(fa_result *r);

typedef struct fa_journal fa_journal;

/* Opens (creating if needed) the journal at path for appending. Intact
 * records from an earlier run with the same fingerprint and dim are returned
 * in *replayed (caller frees each with fa_result_clear, then the array). */
fa_journal *fa_journal_open(const char *path, const char fingerprint[64], int dim,
                            fa_result **replayed, size_t *n_replayed);
/* Buffers one record. Returns 0 or -1. */
int fa_journal_append(fa_journal *j, const fa_result *r);
/* Writes buffered records and fsyncs. Returns 0 or -1 (disk full...). */
int fa_journal_sync(fa_journal *j);
void fa_journal_close(fa_journal *j);

uint32_t fa_crc32(const void *p, size_t n);

/* The codec, exposed for the fuzz harness and tests (fa_buf is util.h's).
 * fa_journal_replay decodes the intact records of a whole journal's bytes
 * (header included, not checked) and returns the offset where they end;
 * fa_journal_record appends one framed record (0, or -1 out of memory);
 * fa_journal_encode appends one record's payload. Replaying what
 * fa_journal_record wrote gives the same results, and re-encoding what
 * replay accepted gives the same bytes. */
#include <sys/types.h>
#include "util.h"
off_t fa_journal_replay(const char *data, size_t len, int dim, fa_result **out, size_t *n_out);
int fa_journal_record(fa_buf *b, const fa_result *r, int dim);
void fa_journal_encode(fa_buf *b, const fa_result *r, int dim);
#define FA_JOURNAL_HEADER_LEN (11 + 4 + 64)
#endif
