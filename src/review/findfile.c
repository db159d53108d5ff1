/*
 * findfile.c - loading CACHE/findings.json (see findfile.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "faceaudit/faceaudit.h"
#include "faceaudit/review.h"
#include "json.h"
#include "rerror.h"
#include "util.h"

#define FINDINGS_MAX_BYTES (1u << 30)

int fa_safe_relpath(const char *p)
{
    if (!p || !*p || *p == '/' || strlen(p) > 4096) return 0;
    for (const unsigned char *c = (const unsigned char *)p; *c; c++)
        if (*c < 0x20 || *c == 0x7F) return 0;
    const char *s = p;
    for (;;) {
        size_t n = strcspn(s, "/");
        if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.')) return 0;
        if (!s[n]) return 1;
        s += n + 1;
    }
}

int fa_safe_name(const char *s)
{
    return fa_safe_relpath(s) && !strchr(s, '/') && s[0] != '.' && strlen(s) < 256;
}

/* Compact JSON of a parsed value (numbers, strings, arrays, objects). */
static void dump(fa_buf *b, const fa_json *j)
{
    switch (j->type) {
    case FA_JNULL: fa_buf_puts(b, "null"); break;
    case FA_JBOOL: fa_buf_puts(b, j->num ? "true" : "false"); break;
    case FA_JNUM:
        if (isfinite(j->num)) fa_buf_printf(b, "%.17g", j->num);
        else fa_buf_puts(b, "null");
        break;
    case FA_JSTR: fa_buf_json_str(b, j->str); break;
    case FA_JARR:
    case FA_JOBJ:
        fa_buf_putc(b, j->type == FA_JARR ? '[' : '{');
        for (size_t i = 0; i < j->n; i++) {
            if (i) fa_buf_putc(b, ',');
            if (j->type == FA_JOBJ) { fa_buf_json_str(b, j->kids[i].key); fa_buf_putc(b, ':'); }
            dump(b, &j->kids[i]);
        }
        fa_buf_putc(b, j->type == FA_JARR ? ']' : '}');
    }
}

static char *str_or_empty(const fa_json *o, const char *key)
{
    const char *s = fa_json_strv(o, key);
    return fa_strdup(s ? s : "");
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int load_file(fa_rfile *f, const fa_json *o)
{
    double size = -1, mtime = 0, row = -1;
    const char *sha = fa_json_strv(o, "sha256");
    f->path = str_or_empty(o, "path");
    f->folder = str_or_empty(o, "folder");
    fa_json_num(o, "size", &size);
    fa_json_num(o, "mtime_ns", &mtime);
    fa_json_num(o, "face_row", &row);
    if (!f->path || !f->folder) return fa_error("out of memory");
    /* ranges before the casts: casting an out-of-range double is undefined */
    if (!(size >= -1 && size < 9e18) || !(mtime > -9e18 && mtime < 9e18) || !(row >= -1 && row < 9e18))
        return fa_error("file '%s' has a size, mtime_ns or face_row out of range", f->path);
    f->size = (int64_t)size, f->mtime_ns = (int64_t)mtime, f->face_row = row >= 0 ? (long)row : -1;
    if (!fa_safe_relpath(f->path)) return fa_error("file path '%s' is not a plain path under ROOT", f->path);
    if (!sha || strlen(sha) != 64 || strspn(sha, "0123456789abcdef") != 64)
        return fa_error("file '%s' has no valid sha256", f->path);
    if (size < 0) return fa_error("file '%s' has no size", f->path);
    memcpy(f->sha256, sha, 65);
    return 0;
}

static int load_cluster(fa_rcluster *c, const fa_json *o)
{
    const fa_json *own = fa_json_get(o, "own"), *paths = fa_json_get(o, "paths");
    c->own = own && own->type == FA_JBOOL && own->num;
    c->looks_like = str_or_empty(o, "looks_like");
    if (!paths || paths->type != FA_JARR) return fa_error("a cluster without paths");
    c->paths = calloc(paths->n + 1, sizeof *c->paths);
    if (!c->paths || !c->looks_like) return fa_error("out of memory");
    for (size_t i = 0; i < paths->n; i++, c->n_paths++) {
        if (paths->kids[i].type != FA_JSTR || !fa_safe_relpath(paths->kids[i].str))
            return fa_error("cluster path is not a plain path under ROOT");
        if (!(c->paths[i] = fa_strdup(paths->kids[i].str))) return fa_error("out of memory");
    }
    return 0;
}

static const char *const kinds[] = {"misfiled", "same_identity", "duplicate", "mixed_folder", "stray"};
static const char *const actions[] = {"move", "merge", "keep_one", "split", "check"};

static int load_finding(fa_rfinding *f, const fa_json *o)
{
    double v = 0;
    f->id = str_or_empty(o, "id");
    f->kind = str_or_empty(o, "kind");
    f->action = str_or_empty(o, "action");
    f->summary = str_or_empty(o, "summary");
    f->path = str_or_empty(o, "path");
    f->folder = str_or_empty(o, "folder");
    f->other_path = str_or_empty(o, "other_path");
    f->other_folder = str_or_empty(o, "other_folder");
    f->keep = str_or_empty(o, "keep");
    if (!fa_json_num(o, "rank", &v) && v >= 0 && v <= 2e9) f->rank = (int)v;
    if (!fa_json_num(o, "score", &v)) f->score = v;
    const fa_json *rv = fa_json_get(o, "review");
    f->review = rv && rv->type == FA_JBOOL && rv->num;
    if (!f->id || !f->kind || !f->action || !f->summary || !f->path || !f->folder || !f->other_path ||
        !f->other_folder || !f->keep)
        return fa_error("out of memory");
    if (!*f->id || strspn(f->id, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(f->id))
        return fa_error("a finding without a valid id");
    int k = -1;
    for (int i = 0; i < 5; i++)
        if (!strcmp(f->kind, kinds[i])) k = i;
    if (k < 0) return fa_error("%s: unknown kind '%s'", f->id, f->kind);
    if (strcmp(f->action, actions[k]))
        return fa_error("%s: action '%s' does not go with kind '%s'", f->id, f->action, f->kind);
    const char *paths[] = {f->path, f->other_path, f->keep};
    for (int i = 0; i < 3; i++)
        if (*paths[i] && !fa_safe_relpath(paths[i]))
            return fa_error("%s: '%s' is not a plain path under ROOT", f->id, paths[i]);
    if ((*f->folder && !fa_safe_relpath(f->folder)) || (*f->other_folder && !fa_safe_relpath(f->other_folder)))
        return fa_error("%s: a folder is not a plain path under ROOT", f->id);
    const fa_json *files = fa_json_get(o, "files"), *cl = fa_json_get(o, "clusters");
    if (!files || files->type != FA_JARR || !files->n) return fa_error("%s: no files", f->id);
    f->files = calloc(files->n, sizeof *f->files);
    if (!f->files) return fa_error("out of memory");
    /* each entry is counted before it is loaded, so a half-loaded one is freed too */
    for (size_t i = 0; i < files->n; i++)
        if (++f->n_files,
            files->kids[i].type != FA_JOBJ ? fa_error("bad file entry") : load_file(&f->files[i], &files->kids[i]))
            return fa_error_prefix(f->id);
    if (cl && cl->type == FA_JARR && cl->n) {
        f->clusters = calloc(cl->n, sizeof *f->clusters);
        if (!f->clusters) return fa_error("out of memory");
        for (size_t i = 0; i < cl->n; i++)
            if (++f->n_clusters, load_cluster(&f->clusters[i], &cl->kids[i])) return fa_error_prefix(f->id);
    }
    fa_buf b = {0};
    const fa_json *ev = fa_json_get(o, "evidence");
    if (ev) dump(&b, ev);
    else fa_buf_puts(&b, "{}");
    fa_buf_putc(&b, 0);
    /* the sorted content hashes, as decisions.tsv records them */
    char **sh = malloc(f->n_files * sizeof *sh);
    fa_buf s = {0};
    if (sh) {
        for (size_t i = 0; i < f->n_files; i++) sh[i] = f->files[i].sha256;
        qsort(sh, f->n_files, sizeof *sh, cmp_str);
        for (size_t i = 0; i < f->n_files; i++)
            if (!i || strcmp(sh[i], sh[i - 1])) { if (s.len) fa_buf_putc(&s, ','); fa_buf_puts(&s, sh[i]); }
    }
    fa_buf_putc(&s, 0);
    free(sh);
    f->evidence_json = b.data, f->sha256s = s.data;
    if (b.oom || s.oom || !sh) return fa_error("out of memory");
    return 0;
}

static void free_finding(fa_rfinding *f)
{
    char *s[] = {f->id, f->kind, f->action, f->summary, f->path, f->folder, f->other_path, f->other_folder,
                 f->keep, f->evidence_json, f->sha256s};
    for (size_t i = 0; i < sizeof s / sizeof *s; i++) free(s[i]);
    for (size_t i = 0; i < f->n_files; i++) { free(f->files[i].path); free(f->files[i].folder); }
    free(f->files);
    for (size_t i = 0; i < f->n_clusters; i++) {
        for (size_t k = 0; k < f->clusters[i].n_paths; k++) free(f->clusters[i].paths[k]);
        free(f->clusters[i].paths);
        free(f->clusters[i].looks_like);
    }
    free(f->clusters);
}

void fa_rfindings_free(fa_rfindings *f)
{
    if (!f) return;
    for (size_t i = 0; i < f->n; i++) free_finding(&f->f[i]);
    free(f->f);
    free(f->root), free(f->cache), free(f->created), free(f->encoder);
    free(f);
}

static int load_top(fa_rfindings *r, const fa_json *j)
{
    double fmt = 0, gen = -1;
    if (j->type != FA_JOBJ || fa_json_num(j, "format", &fmt) || fmt != 1)
        return fa_error("not a findings file of format 1");
    const char *root = fa_json_strv(j, "root");
    if (!root || root[0] != '/') return fa_error("no absolute root");
    fa_json_num(j, "generation", &gen);
    r->generation = gen >= -1 && gen < 9e18 ? (long)gen : -1;
    r->root = fa_strdup(root);
    r->cache = str_or_empty(j, "cache");
    r->created = str_or_empty(j, "created");
    r->encoder = str_or_empty(j, "encoder");
    const fa_json *fs = fa_json_get(j, "findings");
    if (!fs || fs->type != FA_JARR) return fa_error("no findings array");
    if (!r->root || !r->cache || !r->created || !r->encoder) return fa_error("out of memory");
    r->f = calloc(fs->n + 1, sizeof *r->f);
    if (!r->f) return fa_error("out of memory");
    for (size_t i = 0; i < fs->n; i++, r->n++) {
        if (fs->kids[i].type != FA_JOBJ) return fa_error("finding %zu is not an object", i + 1);
        /* ids need not be unique: the copies of one file make findings with
         * the same content, hence the same id; one decision covers them all */
        if (load_finding(&r->f[i], &fs->kids[i])) { r->n++; return -1; }
    }
    return 0;
}

fa_rfindings *fa_rfindings_load(const char *path)
{
    char *text = NULL;
    size_t len = 0;
    if (fa_read_file(path, FINDINGS_MAX_BYTES, &text, &len)) return NULL;
    fa_json *j = fa_json_parse(text, len);
    free(text);
    if (!j) { fa_error_prefix(path); return NULL; }
    fa_rfindings *r = calloc(1, sizeof *r);
    int rc = r ? load_top(r, j) : fa_error("out of memory");
    fa_json_free(j);
    if (rc) {
        fa_error_prefix(path);
        fa_rfindings_free(r);
        return NULL;
    }
    return r;
}

const fa_rfinding *fa_rfindings_find(const fa_rfindings *f, const char *id)
{
    for (size_t i = 0; i < f->n; i++)
        if (!strcmp(f->f[i].id, id)) return &f->f[i];
    return NULL;
}

const fa_rfile *fa_rfinding_file(const fa_rfinding *f, const char *path)
{
    for (size_t i = 0; i < f->n_files; i++)
        if (!strcmp(f->files[i].path, path)) return &f->files[i];
    return NULL;
}
