/*
 * fixplan.c - plan, check, script, apply and undo of `faceaudit fix` (see
 * fixplan.h).
 *
 * Undo log format (UTF-8 text, fields escaped as the manifest's):
 *   faceaudit-fix-undo 1
 *   root <TAB> /abs/ROOT
 *   intent <TAB> N <TAB> mkdir|rename|rmdir <TAB> src <TAB> dst   (fsync'ed before op N)
 *   done <TAB> N                                                 (after op N)
 *   failed <TAB> N <TAB> reason
 * Undo trusts the files, not the done lines: a rename was done when its dst
 * exists and its src does not.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "faceaudit/cache.h"
#include "faceaudit/review.h"
#include "util.h"
#include "rerror.h"
#include "sha256.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif

static const char *const op_names[] = {"mkdir", "rename", "rmdir"};

/* --- building ------------------------------------------------------------ */

static fa_fix_op *add_op(fa_fix_plan *p, fa_fix_op_kind k, const char *src, const char *dst, const char *id)
{
    if (p->n_ops == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 32;
        fa_fix_op *o = realloc(p->ops, cap * sizeof *o);
        if (!o) return NULL;
        p->ops = o, p->cap = cap;
    }
    fa_fix_op *o = &p->ops[p->n_ops];
    memset(o, 0, sizeof *o);
    o->kind = k;
    o->src = fa_strdup(src), o->dst = dst ? fa_strdup(dst) : NULL, o->finding = fa_strdup(id);
    if (!o->src || (dst && !o->dst) || !o->finding) {
        free(o->src), free(o->dst), free(o->finding);
        return NULL;
    }
    p->n_ops++;
    return o;
}

static int exists_on_disk(const fa_fix_plan *p, const char *rel)
{
    struct stat st;
    char *abs = fa_path_join(p->root, rel);
    int r = abs && lstat(abs, &st) == 0;
    free(abs);
    return r;
}

/* 1 when rel is a planned destination / created directory, or a source
 * already planned (index of the op in *at). */
static int planned_dst(const fa_fix_plan *p, const char *rel)
{
    for (size_t i = 0; i < p->n_ops; i++)
        if ((p->ops[i].kind == FA_OP_RENAME && !strcmp(p->ops[i].dst, rel)) ||
            (p->ops[i].kind == FA_OP_MKDIR && !strcmp(p->ops[i].src, rel)))
            return 1;
    return 0;
}

static const fa_fix_op *planned_src(const fa_fix_plan *p, const char *rel)
{
    for (size_t i = 0; i < p->n_ops; i++)
        if (p->ops[i].kind == FA_OP_RENAME && !strcmp(p->ops[i].src, rel)) return &p->ops[i];
    return NULL;
}

/* Plans mkdir for every missing directory of the path dir (relative). */
static int plan_dirs(fa_fix_plan *p, const char *dir, const char *id)
{
    char *d = fa_strdup(dir);
    if (!d) return fa_error("out of memory");
    int rc = 0;
    for (char *s = d;; s++) {
        if (*s && *s != '/') continue;
        char c = *s;
        *s = 0;
        if (!exists_on_disk(p, d) && !planned_dst(p, d) && !add_op(p, FA_OP_MKDIR, d, NULL, id))
            rc = fa_error("out of memory");
        *s = c;
        if (!c || rc) break;
    }
    free(d);
    return rc;
}

/* dir/base, or dir/stem (N).ext when that is taken on disk or in the plan. */
static char *free_name(const fa_fix_plan *p, const char *dir, const char *base)
{
    const char *dot = strrchr(base, '.');
    if (!dot || dot == base) dot = base + strlen(base);
    for (int n = 1; n < 100000; n++) {
        fa_buf b = {0};
        if (n == 1) fa_buf_printf(&b, "%s/%s", dir, base);
        else fa_buf_printf(&b, "%s/%.*s (%d)%s", dir, (int)(dot - base), base, n, dot);
        fa_buf_putc(&b, 0);
        if (b.oom) { fa_buf_free(&b); return NULL; }
        if (!exists_on_disk(p, b.data) && !planned_dst(p, b.data)) return b.data;
        fa_buf_free(&b);
    }
    return NULL;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* Plans the move of one file of finding f into the directory dir. */
static int plan_move(fa_fix_plan *p, const fa_rfinding *f, const char *path, const char *dir)
{
    const fa_rfile *rf = fa_rfinding_file(f, path);
    if (!rf) return fa_error("%s: %s is not among its files", f->id, path);
    const fa_fix_op *prev = planned_src(p, path);
    if (prev) {
        fa_buf_printf(&p->notes, "%s: %s is already moved by %s\n", f->id, path, prev->finding);
        return 0;
    }
    if (plan_dirs(p, dir, f->id)) return -1;
    char *dst = free_name(p, dir, base_name(path));
    fa_fix_op *o = dst ? add_op(p, FA_OP_RENAME, path, dst, f->id) : NULL;
    free(dst);
    if (!o) return fa_error("out of memory");
    memcpy(o->sha256, rf->sha256, 65);
    o->size = rf->size, o->mtime_ns = rf->mtime_ns;
    return 0;
}

static int plan_quarantine(fa_fix_plan *p, const fa_rfinding *f, const char *path)
{
    char *dir = fa_strdup(path);
    if (!dir) return fa_error("out of memory");
    char *slash = strrchr(dir, '/');
    fa_buf q = {0};
    fa_buf_printf(&q, "%s%s%.*s", FA_QUARANTINE, slash ? "/" : "", slash ? (int)(slash - dir) : 0, dir);
    fa_buf_putc(&q, 0);
    int rc = q.oom ? fa_error("out of memory") : plan_move(p, f, path, q.data);
    fa_buf_free(&q);
    free(dir);
    return rc;
}

static int plan_finding(fa_fix_plan *p, const fa_rfinding *f, const char *arg, const char *split_name)
{
    const char *k = f->kind;
    if (!strcmp(k, "misfiled")) {
        if (!*f->other_folder) return fa_error("%s: no folder to move to", f->id);
        return plan_move(p, f, f->path, f->other_folder);
    }
    if (!strcmp(k, "same_identity")) {
        if (!*f->folder || !*f->other_folder) return fa_error("%s: a merge needs two folders", f->id);
        for (size_t i = 0; i < f->n_files; i++)
            if (!strcmp(f->files[i].folder, f->other_folder) && plan_move(p, f, f->files[i].path, f->folder))
                return -1;
        return add_op(p, FA_OP_RMDIR, f->other_folder, NULL, f->id) ? 0 : fa_error("out of memory");
    }
    if (!strcmp(k, "duplicate")) {
        if (!*f->keep) return fa_error("%s: no copy to keep", f->id);
        for (size_t i = 0; i < f->n_files; i++)
            if (strcmp(f->files[i].path, f->keep) && plan_quarantine(p, f, f->files[i].path)) return -1;
        return 0;
    }
    if (!strcmp(k, "stray")) return plan_quarantine(p, f, f->path);
    /* mixed_folder */
    const char *name = *arg ? arg : split_name;
    if (!name || !*name) {
        fa_buf_printf(&p->notes, "%s: a split needs a new folder name (decide with one, or --name)\n", f->id);
        return 0;
    }
    if (!fa_safe_name(name)) return fa_error("%s: '%s' is not a usable folder name", f->id, name);
    for (size_t c = 0; c < f->n_clusters; c++)
        for (size_t i = 0; !f->clusters[c].own && i < f->clusters[c].n_paths; i++)
            if (plan_move(p, f, f->clusters[c].paths[i], name)) return -1;
    return 0;
}

fa_fix_plan *fa_fix_plan_build(const fa_rfindings *f, const fa_decisions *d, const char *split_name)
{
    fa_fix_plan *p = calloc(1, sizeof *p);
    if (!p || !(p->root = fa_strdup(f->root))) { free(p); fa_error("out of memory"); return NULL; }
    /* findings come in rank order in the file */
    for (size_t i = 0; i < f->n; i++) {
        const char *arg;
        if (fa_decisions_get(d, f->f[i].id, &arg) != FA_DEC_ACCEPT) continue;
        size_t before = p->n_ops;
        if (plan_finding(p, &f->f[i], arg, split_name)) { fa_fix_plan_free(p); return NULL; }
        p->n_findings += p->n_ops > before;
    }
    return p;
}

void fa_fix_plan_free(fa_fix_plan *p)
{
    if (!p) return;
    for (size_t i = 0; i < p->n_ops; i++) free(p->ops[i].src), free(p->ops[i].dst), free(p->ops[i].finding);
    free(p->ops);
    free(p->root);
    fa_buf_free(&p->notes);
    free(p);
}

/* --- checking ------------------------------------------------------------ */

/* findings.json numbers are read as doubles, which hold a time in ns to
 * about 256 ns: compare at that precision (the SHA-256 check catches any
 * change of content that such a time would miss). */
static int same_mtime(const struct stat *st, int64_t recorded)
{
    int64_t ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
    return (double)ns == (double)recorded;
}

/* Every directory on the way to rel (not rel itself) is a real directory,
 * not a symbolic link, or does not exist yet. */
static int dirs_plain(const char *root, const char *rel)
{
    char *d = fa_path_join(root, rel);
    if (!d) return 0;
    int ok = 1;
    for (char *s = d + strlen(root) + 1; ok && (s = strchr(s, '/')); s++) {
        struct stat st;
        *s = 0;
        if (lstat(d, &st) == 0 && !S_ISDIR(st.st_mode)) ok = 0;
        *s = '/';
    }
    free(d);
    return ok;
}

static void check_rename(const fa_fix_plan *p, const fa_fix_op *o, fa_buf *pr, size_t *n)
{
    struct stat st;
    char *src = fa_path_join(p->root, o->src);
    uint8_t h[32];
    char hex[65] = "";
    if (!src) { fa_buf_puts(pr, "out of memory\n"); ++*n; return; }
    if (!dirs_plain(p->root, o->src) || !dirs_plain(p->root, o->dst))
        fa_buf_printf(pr, "%s: a directory on the way is a link or a file\n", o->src), ++*n;
    else if (lstat(src, &st))
        fa_buf_printf(pr, "%s: %s (re-run audit)\n", o->src, strerror(errno)), ++*n;
    else if (!S_ISREG(st.st_mode))
        fa_buf_printf(pr, "%s: not a regular file\n", o->src), ++*n;
    else if (st.st_size != o->size || !same_mtime(&st, o->mtime_ns))
        fa_buf_printf(pr, "%s: changed since the audit (size or time; re-run index and audit)\n", o->src), ++*n;
    else if (fa_sha256_file(src, h) || (fa_sha256_hex(h, hex), strcmp(hex, o->sha256)))
        fa_buf_printf(pr, "%s: changed since the audit (content; re-run index and audit)\n", o->src), ++*n;
    else if (exists_on_disk(p, o->dst))
        fa_buf_printf(pr, "%s: already exists\n", o->dst), ++*n;
    free(src);
}

size_t fa_fix_plan_check(const fa_fix_plan *p, fa_buf *problems)
{
    size_t n = 0;
    for (size_t i = 0; i < p->n_ops; i++)
        if (p->ops[i].kind == FA_OP_RENAME) check_rename(p, &p->ops[i], problems, &n);
    return n;
}

/* --- text and script ----------------------------------------------------- */

void fa_fix_plan_text(const fa_fix_plan *p, fa_buf *out)
{
    fa_buf_printf(out, "in %s:\n", p->root);
    const char *last = "";
    for (size_t i = 0; i < p->n_ops; i++) {
        const fa_fix_op *o = &p->ops[i];
        if (strcmp(o->finding, last)) fa_buf_printf(out, "# %s\n", o->finding), last = o->finding;
        if (o->kind == FA_OP_RENAME) fa_buf_printf(out, "  move   %s -> %s\n", o->src, o->dst);
        else fa_buf_printf(out, "  %-6s %s%s\n", op_names[o->kind], o->src, o->kind == FA_OP_RMDIR ? " (if empty)" : "");
    }
}

/* 'text' with ' as '\'' (safe in sh for any bytes but NUL). */
static void sh_quote(fa_buf *b, const char *s)
{
    fa_buf_putc(b, '\'');
    for (; *s; s++) {
        if (*s == '\'') fa_buf_puts(b, "'\\''");
        else fa_buf_putc(b, *s);
    }
    fa_buf_putc(b, '\'');
}

void fa_fix_plan_script(const fa_fix_plan *p, fa_buf *out)
{
    fa_buf_puts(out, "#!/bin/sh\n# Written by `faceaudit fix --script`: the accepted review decisions as\n"
                     "# file moves. Nothing is overwritten or deleted: mv_new stops when the\n"
                     "# destination exists; duplicates go to " FA_QUARANTINE "/.\n"
                     "set -eu\nmv_new() {\n"
                     "    if [ -e \"$2\" ] || [ -L \"$2\" ]; then echo \"exists, stopping: $2\" >&2; exit 1; fi\n"
                     "    mv -- \"$1\" \"$2\"\n}\ncd ");
    sh_quote(out, p->root);
    fa_buf_putc(out, '\n');
    const char *last = "";
    for (size_t i = 0; i < p->n_ops; i++) {
        const fa_fix_op *o = &p->ops[i];
        if (strcmp(o->finding, last)) fa_buf_printf(out, "\n# %s\n", o->finding), last = o->finding;
        if (o->kind == FA_OP_RENAME) {
            fa_buf_puts(out, "mv_new ");
            sh_quote(out, o->src);
            fa_buf_putc(out, ' ');
            sh_quote(out, o->dst);
        } else if (o->kind == FA_OP_MKDIR) {
            fa_buf_puts(out, "mkdir -- ");
            sh_quote(out, o->src);
        } else {
            fa_buf_puts(out, "rmdir -- ");
            sh_quote(out, o->src);
            fa_buf_puts(out, " 2>/dev/null || true");
        }
        fa_buf_putc(out, '\n');
    }
}

/* --- apply and undo ------------------------------------------------------ */

/* rename that never replaces: renameat2(RENAME_NOREPLACE), or link+unlink
 * where the file system does not support it. */
static int rename_new(const char *src, const char *dst)
{
    if (renameat2(AT_FDCWD, src, AT_FDCWD, dst, RENAME_NOREPLACE) == 0) return 0;
    if (errno != EINVAL && errno != ENOSYS) return -1;
    struct stat st;
    if (lstat(src, &st)) return -1;
    if (S_ISDIR(st.st_mode)) { errno = EINVAL; return -1; }
    if (link(src, dst)) return -1;
    return unlink(src);
}

static int log_line(int fd, fa_buf *b, int sync)
{
    if (b->oom) return fa_error("out of memory");
    int rc = fa_write_all(fd, b->data, b->len);
    if (!rc && sync) rc = fsync(fd);
    b->len = 0;
    return rc ? fa_error("undo log: %s", strerror(errno)) : 0;
}

static void log_field(fa_buf *b, const char *s)
{
    char *e = fa_tsv_escape(s ? s : "");
    if (!e) { b->oom = 1; return; }
    fa_buf_putc(b, '\t');
    fa_buf_puts(b, e);
    free(e);
}

static int do_op(const fa_fix_plan *p, const fa_fix_op *o)
{
    char *src = fa_path_join(p->root, o->src), *dst = o->dst ? fa_path_join(p->root, o->dst) : NULL;
    int rc = 0;
    struct stat st;
    if (!src || (o->dst && !dst)) rc = fa_error("out of memory");
    else if (o->kind == FA_OP_MKDIR) {
        if (mkdir(src, 0777) && !(errno == EEXIST && stat(src, &st) == 0 && S_ISDIR(st.st_mode)))
            rc = fa_error("mkdir %s: %s", o->src, strerror(errno));
    } else if (o->kind == FA_OP_RMDIR) {
        rmdir(src);     /* only when empty; a folder with other files stays */
    } else if (lstat(src, &st) || !S_ISREG(st.st_mode) || st.st_size != o->size || !same_mtime(&st, o->mtime_ns)) {
        rc = fa_error("%s changed or vanished while fixing", o->src);
    } else if (rename_new(src, dst)) {
        rc = fa_error("move %s -> %s: %s", o->src, o->dst, strerror(errno));
    }
    free(src), free(dst);
    return rc;
}

int fa_fix_apply(const fa_fix_plan *p, const char *log_path, size_t *done)
{
    *done = 0;
    int fd = open(log_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return fa_error("%s: %s", log_path, strerror(errno));
    fa_buf b = {0};
    fa_buf_puts(&b, "faceaudit-fix-undo 1\nroot");
    log_field(&b, p->root);
    fa_buf_putc(&b, '\n');
    char *dir = fa_strdup(log_path), *slash = dir ? strrchr(dir, '/') : NULL;
    if (slash) *slash = 0;
    int rc = log_line(fd, &b, 1);
    if (!rc) fa_fsync_dir(slash ? dir : ".");
    free(dir);
    for (size_t i = 0; !rc && i < p->n_ops; i++) {
        const fa_fix_op *o = &p->ops[i];
        fa_buf_printf(&b, "intent\t%zu\t%s", i + 1, op_names[o->kind]);
        log_field(&b, o->src);
        log_field(&b, o->dst ? o->dst : "");
        fa_buf_putc(&b, '\n');
        if ((rc = log_line(fd, &b, 1))) break;
        if ((rc = do_op(p, o))) {
            char why[1024];
            snprintf(why, sizeof why, "%s", fa_last_error());
            fa_buf_printf(&b, "failed\t%zu", i + 1);
            log_field(&b, why);
            fa_buf_putc(&b, '\n');
            log_line(fd, &b, 1);
            fa_error("%s", why);
            break;
        }
        ++*done;
        fa_buf_printf(&b, "done\t%zu\n", i + 1);
        rc = log_line(fd, &b, 0);
    }
    if (fsync(fd) && !rc) rc = fa_error("undo log: %s", strerror(errno));
    close(fd);
    fa_buf_free(&b);
    return rc;
}

typedef struct {
    fa_fix_op_kind kind;
    char *src, *dst;
} logged_op;

/* Splits a line into at most max tab-separated fields (in place). */
static int split_tabs(char *line, char **f, int max)
{
    int n = 0;
    for (char *p = line; n < max;) {
        f[n++] = p;
        if (!(p = strchr(p, '\t'))) break;
        *p++ = 0;
    }
    return n;
}

static void undo_one(const char *root, const logged_op *o, fa_fix_undo_stats *st, fa_buf *pr)
{
    char *src = fa_path_join(root, o->src), *dst = o->dst ? fa_path_join(root, o->dst) : NULL;
    struct stat s;
    int has_src = src && lstat(src, &s) == 0;
    if (!src || (o->dst && !dst)) {
        fa_buf_puts(pr, "out of memory\n"), st->conflicts++;
    } else if (o->kind == FA_OP_MKDIR) {
        if (!has_src) st->not_done++;
        else if (rmdir(src) == 0) st->restored++;
        else fa_buf_printf(pr, "%s: not removed (%s)\n", o->src, strerror(errno)), st->conflicts++;
    } else if (o->kind == FA_OP_RMDIR) {
        if (has_src) st->not_done++;
        else if (mkdir(src, 0777) == 0) st->restored++;
        else fa_buf_printf(pr, "%s: not re-created (%s)\n", o->src, strerror(errno)), st->conflicts++;
    } else {
        int has_dst = lstat(dst, &s) == 0;
        if (has_src && !has_dst) st->not_done++;
        else if (has_src) fa_buf_printf(pr, "%s and %s both exist: left as they are\n", o->src, o->dst), st->conflicts++;
        else if (!has_dst) fa_buf_printf(pr, "%s: gone, cannot restore %s\n", o->dst, o->src), st->conflicts++;
        else if (rename_new(dst, src)) fa_buf_printf(pr, "%s -> %s: %s\n", o->dst, o->src, strerror(errno)), st->conflicts++;
        else st->restored++;
    }
    free(src), free(dst);
}

static int read_log(const char *path, char **root, logged_op **ops, size_t *n)
{
    char *text = NULL;
    size_t len = 0, cap = 0, lineno = 0;
    if (fa_read_file(path, 1u << 30, &text, &len)) return -1;
    int rc = 0;
    char *p = text;
    for (char *nl; !rc && (nl = strchr(p, '\n')); p = nl + 1) {   /* a cut last line was never acted on */
        *nl = 0;
        lineno++;
        char *f[5];
        int nf = split_tabs(p, f, 5);
        if (lineno == 1) { if (strcmp(p, "faceaudit-fix-undo 1")) rc = fa_error("%s: not a faceaudit undo log", path); continue; }
        if (lineno == 2) {
            if (nf != 2 || strcmp(f[0], "root") || !(*root = fa_tsv_unescape(f[1])) || (*root)[0] != '/')
                rc = fa_error("%s:2: no root", path);
            continue;
        }
        if (strcmp(f[0], "intent")) continue;
        int k = nf == 5 ? (!strcmp(f[2], "mkdir") ? 0 : !strcmp(f[2], "rename") ? 1 : !strcmp(f[2], "rmdir") ? 2 : -1) : -1;
        if (k < 0) { rc = fa_error("%s:%zu: malformed intent line", path, lineno); break; }
        if (*n == cap) {
            cap = cap ? 2 * cap : 64;
            logged_op *o = realloc(*ops, cap * sizeof *o);
            if (!o) { rc = fa_error("out of memory"); break; }
            *ops = o;
        }
        logged_op *o = &(*ops)[*n];
        o->kind = (fa_fix_op_kind)k;
        o->src = fa_tsv_unescape(f[3]);
        o->dst = k == FA_OP_RENAME ? fa_tsv_unescape(f[4]) : NULL;
        ++*n;
        if (!o->src || (k == FA_OP_RENAME && !o->dst) || !fa_safe_relpath(o->src) || (o->dst && !fa_safe_relpath(o->dst)))
            rc = fa_error("%s:%zu: a path that is not plain under ROOT", path, lineno);
    }
    if (!rc && lineno < 2) rc = fa_error("%s: not a faceaudit undo log", path);
    free(text);
    return rc;
}

int fa_fix_undo(const char *log_path, fa_fix_undo_stats *st, fa_buf *problems)
{
    char *root = NULL;
    logged_op *ops = NULL;
    size_t n = 0;
    memset(st, 0, sizeof *st);
    int rc = read_log(log_path, &root, &ops, &n);
    for (size_t i = n; !rc && i-- > 0;) undo_one(root, &ops[i], st, problems);
    for (size_t i = 0; i < n; i++) free(ops[i].src), free(ops[i].dst);
    free(ops);
    free(root);
    return rc;
}
