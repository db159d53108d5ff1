/*
 * cache_manifest.c - the cache's manifest.G.tsv (format in cache.h): one row
 * per face (or per file without one), TSV with escaped text fields; written
 * streaming, read back checking every row against meta.json's counts.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "faceaudit/cache.h"
#include "cache_io.h"
#include "cache_parse.h"
#include "hashmap.h"
#include "sha256.h"

#define MANIFEST_COLUMNS 17
static const char *const manifest_header =
    "row\tfolder\tpath\tface\tnfaces\tstatus\tx\ty\tw\th\tscore\twidth\theight\tsize\tmtime_ns\tsha256\treason";

/* ---- text escaping --------------------------------------------------------- */

char *fa_tsv_escape(const char *raw)
{
    fa_buf b = {0};
    const unsigned char *p = (const unsigned char *)raw;
    size_t n = strlen(raw);
    fa_buf_append(&b, "", 0);
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i];
        if (c == '\\') { fa_buf_puts(&b, "\\\\"); i++; continue; }
        if (c == '\t') { fa_buf_puts(&b, "\\t"); i++; continue; }
        if (c == '\n') { fa_buf_puts(&b, "\\n"); i++; continue; }
        if (c == '\r') { fa_buf_puts(&b, "\\r"); i++; continue; }
        if (c < 0x20 || c == 0x7f) { fa_buf_printf(&b, "\\x%02x", c); i++; continue; }
        /* copy the longest valid UTF-8 sequence; a bad byte becomes \xHH */
        size_t k = fa_utf8_next((const char *)p + i, n - i, NULL);
        if (!k) { fa_buf_printf(&b, "\\x%02x", c); i++; continue; }
        fa_buf_append(&b, p + i, k);
        i += k;
    }
    if (b.oom) { fa_buf_free(&b); return NULL; }
    return b.data;
}

char *fa_tsv_unescape(const char *text)
{
    size_t n = strlen(text);
    char *out = malloc(n + 1), *o = out;
    if (!out) return NULL;
    for (size_t i = 0; i < n; i++) {
        if (text[i] != '\\') { *o++ = text[i]; continue; }
        char e = text[++i];
        if (e == '\\') *o++ = '\\';
        else if (e == 't') *o++ = '\t';
        else if (e == 'n') *o++ = '\n';
        else if (e == 'r') *o++ = '\r';
        else if (e == 'x' && i + 2 < n + 1) {
            unsigned v;
            char hx[3] = {text[i + 1], text[i + 2], 0};
            char *end;
            if (!hx[0] || !hx[1]) { free(out); return NULL; }
            v = (unsigned)strtoul(hx, &end, 16);
            if (*end || v == 0) { free(out); return NULL; }
            *o++ = (char)v;
            i += 2;
        } else { free(out); return NULL; }
    }
    *o = 0;
    return out;
}

static void manifest_row(fa_buf *b, long long row, const char *folder_esc, const char *path_esc,
                         const fa_file *f, long long face, const fa_box *box)
{
    char hex[65] = "";
    if (f->has_sha256) fa_sha256_hex(f->sha256, hex);
    static const fa_box none;
    if (!box) box = &none;
    fa_buf_printf(b, "%lld\t%s\t%s\t%lld\t%u\t%s\t%.2f\t%.2f\t%.2f\t%.2f\t%.4f\t%d\t%d\t%lld\t%lld\t%s\t",
                  row, folder_esc, path_esc, face, f->n_faces, fa_status_name(f->status),
                  box->x, box->y, box->w, box->h, box->score, f->width, f->height,
                  (long long)f->size, (long long)f->mtime_ns, hex);
    char *reason = fa_tsv_escape(f->reason ? f->reason : "");
    fa_buf_puts(b, reason ? reason : "");
    free(reason);
    fa_buf_putc(b, '\n');
}

/* Streams the manifest to fd: files in order, one row per face (rows of a
 * file consecutive, so embedding rows come in order) or one row without. */
int fa_cache_manifest_write(int fd, const char *path, const fa_cache_data *d)
{
    fa_buf b = {0};
    int64_t next_row = 0;
    fa_buf_printf(&b, "%s\n", manifest_header);
    for (size_t i = 0; i < d->n_files; i++) {
        const fa_file *f = &d->files[i];
        if (f->n_faces && f->first_face != next_row) {
            fa_buf_free(&b);
            return fa_error("%s: faces of %s are not in file order", path, f->path);
        }
        char *pe = fa_tsv_escape(f->path), *fe = fa_tsv_escape(d->folders[f->folder]);
        if (!pe || !fe) { free(pe); free(fe); fa_buf_free(&b); return fa_error("%s: out of memory", path); }
        if (f->n_faces == 0) manifest_row(&b, -1, fe, pe, f, -1, NULL);
        for (uint32_t k = 0; k < f->n_faces; k++, next_row++)
            manifest_row(&b, (long long)next_row, fe, pe, f, d->faces[next_row].face, &d->faces[next_row].box);
        free(pe);
        free(fe);
        if (b.len > (1 << 20) || i + 1 == d->n_files) {
            if (b.oom) { fa_buf_free(&b); return fa_error("%s: out of memory", path); }
            if (fa_write_all(fd, b.data, b.len)) {
                int e = errno;
                fa_buf_free(&b);
                return fa_error("%s: write: %s", path, strerror(e));
            }
            b.len = 0;
        }
    }
    if (b.len && fa_write_all(fd, b.data, b.len)) {
        int e = errno;
        fa_buf_free(&b);
        return fa_error("%s: write: %s", path, strerror(e));
    }
    fa_buf_free(&b);
    return 0;
}

/* Splits a line into tab-separated fields in place; returns the count. */
static int split_tabs(char *line, char **fields, int max)
{
    int n = 0;
    fields[n++] = line;
    for (char *p = line; *p; p++)
        if (*p == '\t') {
            *p = 0;
            if (n == max) return max + 1;
            fields[n++] = p + 1;
        }
    return n;
}

static int parse_ll(const char *s, long long lo, long long hi, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || errno || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

static int parse_f(const char *s, float *out)
{
    char *end;
    float v = strtof(s, &end);
    if (!*s || *end || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int folder_index(fa_cache *c, const char *name, uint32_t *out)
{
    char *const *hit = bsearch(&name, c->folders, c->n_folders, sizeof *c->folders, cmp_str);
    if (!hit) return -1;
    *out = (uint32_t)(hit - c->folders);
    return 0;
}

/* The file whose rows are being read must have all its face rows. */
static int file_complete(const fa_cache *c, const char *path, size_t lineno, size_t nf, size_t nface)
{
    const fa_file *f = nf ? &c->files[nf - 1] : NULL;
    if (f && f->n_faces && nface - (size_t)f->first_face != f->n_faces)
        return fa_error("%s:%zu: %s has %zu face rows, its nfaces says %u", path, lineno, f->path,
                        nface - (size_t)f->first_face, f->n_faces);
    return 0;
}

/* Starts a new file from a row whose face is -1 or 0. */
static int manifest_new_file(fa_cache *c, char **fl, const char *path, size_t lineno, size_t *nf,
                             long long row, long long nfaces, const long long v[4], char *p, char *folder)
{
    int st = fa_status_parse(fl[5]);
    if (*nf == c->n_files) { free(p); free(folder); return fa_error("%s:%zu: more files than meta.json says", path, lineno); }
    fa_file *f = &c->files[(*nf)++];
    memset(f, 0, sizeof *f);
    f->path = p;
    f->status = (fa_status)st;
    f->reason = fa_tsv_unescape(fl[16]);
    f->width = (int)v[0]; f->height = (int)v[1];
    f->size = v[2]; f->mtime_ns = v[3];
    f->n_faces = (uint32_t)nfaces;
    f->first_face = row;
    f->has_sha256 = fl[15][0] != 0;
    int bad = (f->has_sha256 && fa_sha256_unhex(fl[15], f->sha256)) || !f->reason || folder_index(c, folder, &f->folder);
    free(folder);
    if (bad) return fa_error("%s:%zu: bad sha256, reason or folder", path, lineno);
    if ((f->status == FA_STATUS_OK) != (nfaces > 0))
        return fa_error("%s:%zu: status %s with %lld faces", path, lineno, fl[5], nfaces);
    return 0;
}

/* Parses one row into c->files / c->faces. `line` is modified. A file's rows
 * are consecutive: face rows 0..nfaces-1 in order, each the next embedding
 * row, or one row with row -1 and face -1 for a file without a face. */
static int manifest_parse_row(fa_cache *c, char *line, const char *path, size_t lineno, size_t *nf, size_t *nface)
{
    char *fl[MANIFEST_COLUMNS + 1];
    long long row, face, nfaces, v[4];
    if (split_tabs(line, fl, MANIFEST_COLUMNS) != MANIFEST_COLUMNS)
        return fa_error("%s:%zu: expected %d tab-separated columns", path, lineno, MANIFEST_COLUMNS);
    if (parse_ll(fl[0], -1, (long long)c->n_faces - 1, &row) || parse_ll(fl[3], -1, 1 << 20, &face) ||
        parse_ll(fl[4], 0, 1 << 20, &nfaces) || fa_status_parse(fl[5]) < 0 || parse_ll(fl[11], 0, INT_MAX, &v[0]) ||
        parse_ll(fl[12], 0, INT_MAX, &v[1]) || parse_ll(fl[13], 0, 1LL << 62, &v[2]) ||
        parse_ll(fl[14], -(1LL << 62), 1LL << 62, &v[3]))
        return fa_error("%s:%zu: malformed row", path, lineno);
    if ((row < 0) != (nfaces == 0) || (row < 0 && face != -1) || (row >= 0 && (face < 0 || face >= nfaces)))
        return fa_error("%s:%zu: row, face and nfaces disagree", path, lineno);
    if (row >= 0 && (size_t)row != *nface)
        return fa_error("%s:%zu: face rows out of order (expected row %zu)", path, lineno, *nface);
    char *p = fa_tsv_unescape(fl[2]), *folder = fa_tsv_unescape(fl[1]);
    if (!p || !folder) { free(p); free(folder); return fa_error("%s:%zu: bad escape in path", path, lineno); }
    if (face > 0) {   /* continuation of the previous file */
        fa_file *prev = *nf ? &c->files[*nf - 1] : NULL;
        int ok = prev && prev->n_faces == (uint32_t)nfaces && strcmp(prev->path, p) == 0 &&
                 *nface - (size_t)prev->first_face == (size_t)face;
        free(p); free(folder);
        if (!ok) return fa_error("%s:%zu: face %lld of a file whose face %lld is not the row before", path, lineno,
                                 face, face - 1);
    } else {
        if (file_complete(c, path, lineno, *nf, *nface)) { free(p); free(folder); return -1; }
        if (manifest_new_file(c, fl, path, lineno, nf, row, nfaces, v, p, folder)) return -1;
    }
    if (row >= 0) {
        if (*nface == c->n_faces) return fa_error("%s:%zu: more faces than meta.json says", path, lineno);
        fa_face *fc = &c->faces[(*nface)++];
        fc->file = (uint32_t)(*nf - 1);
        fc->face = (uint32_t)face;
        if (parse_f(fl[6], &fc->box.x) || parse_f(fl[7], &fc->box.y) || parse_f(fl[8], &fc->box.w) ||
            parse_f(fl[9], &fc->box.h) || parse_f(fl[10], &fc->box.score))
            return fa_error("%s:%zu: bad face box", path, lineno);
    }
    return 0;
}

/* Each path once: a file listed twice would get two results. */
static int unique_paths(const fa_cache *c, const char *path)
{
    fa_hashmap seen;
    size_t id;
    int rc = 0;
    if (fa_hashmap_init(&seen, c->n_files)) return fa_error("%s: out of memory", path);
    for (size_t i = 0; i < c->n_files && rc == 0; i++) {
        const char *p = c->files[i].path;
        if (fa_hashmap_get(&seen, p, strlen(p), &id))
            rc = fa_error("%s: %s is listed twice", path, p);
        else if (fa_hashmap_put(&seen, p, strlen(p), i))
            rc = fa_error("%s: out of memory", path);
    }
    fa_hashmap_free(&seen);
    return rc;
}

/* Collects the sorted unique folder names (first pass over the manifest). */
static int collect_folders(fa_cache *c, char *text, size_t len, const char *path)
{
    size_t cap = 64;
    c->folders = malloc(cap * sizeof *c->folders);
    if (!c->folders) return fa_error("%s: out of memory", path);
    for (char *line = memchr(text, '\n', len); line && line + 1 < text + len;) {
        line++;
        char *tab1 = strchr(line, '\t'), *nl = strchr(line, '\n');
        if (!tab1 || (nl && tab1 > nl)) break;   /* the second pass reports it */
        char *tab2 = memchr(tab1 + 1, '\t', (size_t)((nl ? nl : text + len) - tab1 - 1));
        if (!tab2) break;
        *tab2 = 0;
        char *name = fa_tsv_unescape(tab1 + 1);
        *tab2 = '\t';
        if (!name) return fa_error("%s: bad escape in folder name", path);
        if (c->n_folders == 0 || strcmp(c->folders[c->n_folders - 1], name) != 0) {
            if (c->n_folders == cap) {
                char **nfld = realloc(c->folders, (cap *= 2) * sizeof *nfld);
                if (!nfld) { free(name); return fa_error("%s: out of memory", path); }
                c->folders = nfld;
            }
            c->folders[c->n_folders++] = name;
        } else free(name);
        line = nl;
    }
    qsort(c->folders, c->n_folders, sizeof *c->folders, cmp_str);
    size_t u = 0;
    for (size_t i = 0; i < c->n_folders; i++) {
        if (u && strcmp(c->folders[u - 1], c->folders[i]) == 0) { free(c->folders[i]); continue; }
        c->folders[u++] = c->folders[i];
    }
    c->n_folders = u;
    return 0;
}

/* Rows after the header line (text ends in a newline). */
static size_t count_rows(const char *text, size_t len)
{
    size_t n = 0;
    for (const char *p = text; (p = memchr(p, '\n', (size_t)(text + len - p))); p++) n++;
    return n ? n - 1 : 0;
}

int fa_cache_parse_manifest(fa_cache *c, const char *path, char *text, size_t len)
{
    size_t hl = strlen(manifest_header);
    if (len < hl + 1 || memcmp(text, manifest_header, hl) != 0 || text[hl] != '\n')
        return fa_error("%s: not a faceaudit manifest (bad header)", path);
    if (memchr(text, 0, len)) return fa_error("%s: NUL byte in manifest", path);
    if (text[len - 1] != '\n') return fa_error("%s: truncated (last line incomplete)", path);
    /* Counted before anything is allocated: meta.json's counts are claims. */
    size_t rows = count_rows(text, len);
    if (c->n_files > rows || c->n_faces > rows)
        return fa_error("%s: %zu rows, meta.json says %zu files and %zu faces", path, rows, c->n_files, c->n_faces);
    if (collect_folders(c, text, len, path)) return -1;
    size_t claimed_files = c->n_files;
    c->n_files = 0;   /* fa_cache_close frees only the files filled */
    c->files = calloc(claimed_files ? claimed_files : 1, sizeof *c->files);
    c->faces = calloc(c->n_faces ? c->n_faces : 1, sizeof *c->faces);
    if (!c->files || !c->faces) return fa_error("%s: out of memory", path);
    c->n_files = claimed_files;
    size_t nf = 0, nface = 0, lineno = 1;
    char *line = text + hl + 1;
    while (line < text + len) {
        char *nl = memchr(line, '\n', (size_t)(text + len - line));
        *nl = 0;
        lineno++;
        if (manifest_parse_row(c, line, path, lineno, &nf, &nface)) {
            c->n_files = nf;
            return -1;
        }
        line = nl + 1;
    }
    if (file_complete(c, path, lineno, nf, nface)) { c->n_files = nf; return -1; }
    if (nf != c->n_files || nface != c->n_faces) {
        fa_error("%s: %zu files and %zu faces, meta.json says %zu and %zu", path, nf, nface, c->n_files, c->n_faces);
        c->n_files = nf;
        return -1;
    }
    return unique_paths(c, path);
}

int fa_cache_manifest_read(fa_cache *c, const char *path)
{
    char *text;
    size_t len;
    if (fa_read_file(path, (size_t)1 << 36, &text, &len)) return -1;
    int rc = fa_cache_parse_manifest(c, path, text, len);
    free(text);
    return rc;
}
