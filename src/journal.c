/*
 * journal.c - append-only checkpoint log (format in journal.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include "journal.h"
#include "util.h"

#define HEADER_MAGIC "FAJOURNAL2\n"
#define HEADER_LEN (11 + 4 + 64)
#define RECORD_MAGIC 0x524a4146u  /* "FAJR" */
#define RECORD_MAX (64u << 20)

struct fa_journal {
    int fd;
    char *path;
    int dim;
    fa_buf pending;
};

uint32_t fa_crc32(const void *p, size_t n)
{
    return (uint32_t)crc32_z(0, p, n);   /* zlib's: the IEEE polynomial, as the format says */
}

void fa_result_clear(fa_result *r)
{
    free(r->path);
    free(r->reason);
    free(r->boxes);
    free(r->emb);
    free(r->thumb);
    memset(r, 0, sizeof *r);
}

static void put32(fa_buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    fa_buf_append(b, x, 4);
}

static void put64(fa_buf *b, uint64_t v)
{
    put32(b, (uint32_t)v);
    put32(b, (uint32_t)(v >> 32));
}

static void put16(fa_buf *b, uint16_t v)
{
    uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    fa_buf_append(b, x, 2);
}

/* Bounds-checked little-endian reader over one payload. */
typedef struct {
    const uint8_t *p, *end;
    int bad;
} reader;

static const uint8_t *take(reader *r, size_t n)
{
    if (r->bad || (size_t)(r->end - r->p) < n) { r->bad = 1; return NULL; }
    const uint8_t *q = r->p;
    r->p += n;
    return q;
}

static uint32_t get32(reader *r)
{
    const uint8_t *q = take(r, 4);
    return q ? (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24 : 0;
}

static uint64_t get64(reader *r)
{
    uint64_t lo = get32(r);
    return lo | (uint64_t)get32(r) << 32;
}

static uint16_t get16(reader *r)
{
    const uint8_t *q = take(r, 2);
    return q ? (uint16_t)(q[0] | q[1] << 8) : 0;
}

static char *get_str(reader *r)
{
    uint16_t n = get16(r);
    const uint8_t *q = take(r, n);
    if (!q) return NULL;
    char *s = malloc((size_t)n + 1);
    if (!s) { r->bad = 1; return NULL; }
    memcpy(s, q, n);
    s[n] = 0;
    if (memchr(s, 0, n)) { free(s); r->bad = 1; return NULL; }
    return s;
}

void fa_journal_encode(fa_buf *b, const fa_result *r, int dim)
{
    size_t pl = strlen(r->path), rl = r->reason ? strlen(r->reason) : 0;
    if (pl > 65535) pl = 65535;
    if (rl > 65535) rl = 65535;
    put16(b, (uint16_t)pl);
    fa_buf_append(b, r->path, pl);
    put64(b, (uint64_t)r->size);
    put64(b, (uint64_t)r->mtime_ns);
    uint8_t st[2] = {(uint8_t)r->status, (uint8_t)(r->has_sha256 != 0)};
    fa_buf_append(b, st, 2);
    fa_buf_append(b, r->sha256, 32);
    put32(b, (uint32_t)r->width);
    put32(b, (uint32_t)r->height);
    put16(b, (uint16_t)rl);
    fa_buf_append(b, r->reason ? r->reason : "", rl);
    put32(b, r->n_faces);
    static const uint8_t none[FA_THUMB_LEN];
    for (uint32_t i = 0; i < r->n_faces; i++) {
        fa_buf_append(b, &r->boxes[i], 5 * sizeof(float));
        fa_buf_append(b, r->emb + (size_t)i * dim, (size_t)dim * sizeof(float));
        fa_buf_append(b, r->thumb ? r->thumb + (size_t)i * FA_THUMB_LEN : none, FA_THUMB_LEN);
    }
    /* the image thumbnail, when there is one: a byte 1 and its bytes (a
     * record without it, as journals before it wrote, ends here) */
    if (r->has_image_thumb) {
        uint8_t one = 1;
        fa_buf_append(b, &one, 1);
        fa_buf_append(b, r->image_thumb, FA_THUMB_LEN);
    }
}

static int decode(const uint8_t *p, size_t n, int dim, fa_result *out)
{
    reader r = {p, p + n, 0};
    memset(out, 0, sizeof *out);
    out->path = get_str(&r);
    out->size = (int64_t)get64(&r);
    out->mtime_ns = (int64_t)get64(&r);
    const uint8_t *st = take(&r, 2), *sha = take(&r, 32);
    out->width = (int)get32(&r);
    out->height = (int)get32(&r);
    out->reason = get_str(&r);
    out->n_faces = get32(&r);
    if (r.bad || !st || !sha || st[0] >= FA_STATUS_COUNT) goto bad;
    out->status = (fa_status)st[0];
    if (st[1] > 1) goto bad;
    out->has_sha256 = st[1];
    memcpy(out->sha256, sha, 32);
    size_t per = (5 + (size_t)dim) * sizeof(float) + FA_THUMB_LEN;
    if (out->n_faces > (size_t)(r.end - r.p) / per || (out->status == FA_STATUS_OK) != (out->n_faces > 0)) goto bad;
    if (out->n_faces) {
        out->boxes = malloc(out->n_faces * sizeof *out->boxes);
        out->emb = malloc(out->n_faces * (size_t)dim * sizeof(float));
        out->thumb = malloc(out->n_faces * (size_t)FA_THUMB_LEN);
        if (!out->boxes || !out->emb || !out->thumb) goto bad;
        for (uint32_t i = 0; i < out->n_faces; i++) {
            memcpy(&out->boxes[i], take(&r, 5 * sizeof(float)), 5 * sizeof(float));
            memcpy(out->emb + (size_t)i * dim, take(&r, (size_t)dim * 4), (size_t)dim * 4);
            memcpy(out->thumb + (size_t)i * FA_THUMB_LEN, take(&r, FA_THUMB_LEN), FA_THUMB_LEN);
        }
    }
    if (r.p != r.end) {   /* the image thumbnail: a byte 1, then its bytes */
        const uint8_t *flag = take(&r, 1), *im = take(&r, FA_THUMB_LEN);
        if (!flag || !im || *flag != 1) goto bad;
        memcpy(out->image_thumb, im, FA_THUMB_LEN);
        out->has_image_thumb = 1;
    }
    if (r.p != r.end) goto bad;
    return 0;
bad:
    fa_result_clear(out);
    return -1;
}

off_t fa_journal_replay(const char *data, size_t len, int dim, fa_result **out, size_t *n_out)
{
    size_t off = HEADER_LEN, cap = 0;
    *out = NULL;
    *n_out = 0;
    while (off + 12 <= len) {
        reader h = {(const uint8_t *)data + off, (const uint8_t *)data + off + 12, 0};
        uint32_t magic = get32(&h), plen = get32(&h), crc = get32(&h);
        if (magic != RECORD_MAGIC || plen > RECORD_MAX || off + 12 + plen > len) break;
        const uint8_t *payload = (const uint8_t *)data + off + 12;
        if (fa_crc32(payload, plen) != crc) break;
        if (*n_out == cap) {
            cap = cap ? cap * 2 : 256;
            fa_result *v = realloc(*out, cap * sizeof *v);
            if (!v) break;
            *out = v;
        }
        if (decode(payload, plen, dim, &(*out)[*n_out])) break;
        (*n_out)++;
        off += 12 + plen;
    }
    return (off_t)off;
}

static int write_header(int fd, const char fingerprint[64], int dim)
{
    fa_buf b = {0};
    fa_buf_append(&b, HEADER_MAGIC, 11);
    put32(&b, (uint32_t)dim);
    fa_buf_append(&b, fingerprint, 64);
    int rc = b.oom || ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0 || fa_write_all(fd, b.data, b.len) < 0 ||
             fsync(fd) < 0 ? -1 : 0;
    fa_buf_free(&b);
    return rc;
}

fa_journal *fa_journal_open(const char *path, const char fingerprint[64], int dim,
                            fa_result **replayed, size_t *n_replayed)
{
    *replayed = NULL;
    *n_replayed = 0;
    fa_journal *j = calloc(1, sizeof *j);
    if (!j) { fa_error("out of memory"); return NULL; }
    j->dim = dim;
    j->path = fa_strdup(path);
    j->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (j->fd < 0) { fa_error("%s: %s", path, strerror(errno)); fa_journal_close(j); return NULL; }
    char *data = NULL;
    size_t len = 0;
    if (fa_read_file(path, (size_t)1 << 40, &data, &len)) { fa_journal_close(j); return NULL; }
    int same = len >= HEADER_LEN && memcmp(data, HEADER_MAGIC, 11) == 0 &&
               (uint32_t)((data[11] & 0xFF) | (data[12] & 0xFF) << 8 | (data[13] & 0xFF) << 16 |
                          (uint32_t)(data[14] & 0xFF) << 24) == (uint32_t)dim &&
               memcmp(data + 15, fingerprint, 64) == 0;
    off_t end;
    if (same) {
        end = fa_journal_replay(data, len, dim, replayed, n_replayed);
        /* Drop a torn tail so new records follow the last intact one. */
        if (ftruncate(j->fd, end) < 0 || lseek(j->fd, end, SEEK_SET) < 0) {
            fa_error("%s: %s", path, strerror(errno));
            free(data);
            fa_journal_close(j);
            return NULL;
        }
    } else if (write_header(j->fd, fingerprint, dim)) {
        fa_error("%s: %s", path, strerror(errno));
        free(data);
        fa_journal_close(j);
        return NULL;
    }
    free(data);
    return j;
}

int fa_journal_record(fa_buf *b, const fa_result *r, int dim)
{
    fa_buf payload = {0};
    fa_journal_encode(&payload, r, dim);
    if (payload.oom) { fa_buf_free(&payload); return -1; }
    put32(b, RECORD_MAGIC);
    put32(b, (uint32_t)payload.len);
    put32(b, fa_crc32(payload.data, payload.len));
    fa_buf_append(b, payload.data, payload.len);
    fa_buf_free(&payload);
    return b->oom ? -1 : 0;
}

int fa_journal_append(fa_journal *j, const fa_result *r)
{
    return fa_journal_record(&j->pending, r, j->dim) ? fa_error("%s: out of memory", j->path) : 0;
}

int fa_journal_sync(fa_journal *j)
{
    if (j->pending.len) {
        if (fa_write_all(j->fd, j->pending.data, j->pending.len) < 0) {
            int e = errno;
            /* A partial record is harmless: replay stops at it. */
            return fa_error("%s: write: %s", j->path, strerror(e));
        }
        j->pending.len = 0;
    }
    if (fdatasync(j->fd) < 0) return fa_error("%s: fsync: %s", j->path, strerror(errno));
    return 0;
}

void fa_journal_close(fa_journal *j)
{
    if (!j) return;
    if (j->fd >= 0) close(j->fd);
    fa_buf_free(&j->pending);
    free(j->path);
    free(j);
}
