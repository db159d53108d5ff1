/*
 * scan.c - the directory walk behind `faceaudit index` (see scan.h).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "faceaudit/faceaudit.h"
#include "decode.h"
#include "scan.h"
#include "util.h"

#define MAX_DEPTH 64

typedef struct {
    dev_t dev;
    ino_t ino;
} dir_id;

typedef struct {
    const char *root;
    fa_scan_list *out;
    dir_id stack[MAX_DEPTH];
    int depth;
    int oom;
} walker;

static void add(walker *w, const char *rel, const struct stat *st, const char *problem)
{
    fa_scan_list *l = w->out;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 1024;
        fa_scan_entry *v = realloc(l->v, cap * sizeof *v);
        if (!v) { w->oom = 1; return; }
        l->v = v;
        l->cap = cap;
    }
    fa_scan_entry *e = &l->v[l->n];
    memset(e, 0, sizeof *e);
    e->path = fa_strdup(rel);
    const char *slash = strchr(rel, '/');
    e->folder = slash ? strndup(rel, (size_t)(slash - rel)) : fa_strdup("");
    if (st) {
        e->size = st->st_size;
        e->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
    }
    e->problem = problem ? fa_strdup(problem) : NULL;
    if (!e->path || !e->folder || (problem && !e->problem)) {   /* not counted: free what was made */
        free(e->path); free(e->folder); free(e->problem);
        w->oom = 1;
        return;
    }
    l->n++;
}

/* A file without an image extension is an image only if its bytes say so. */
static int looks_like_image(const char *full)
{
    uint8_t head[16];
    int fd = open(full, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t n = read(fd, head, sizeof head);
    close(fd);
    return n > 0 && fa_sniff(head, (size_t)n) != FA_FMT_UNKNOWN;
}

static void walk(walker *w, const char *rel);

static void visit(walker *w, const char *rel, const char *name)
{
    char *full = fa_path_join(w->root, rel);
    struct stat st;
    if (!full) { w->oom = 1; return; }
    if (stat(full, &st) < 0) {
        /* Only report names that were meant to be images or folders. */
        struct stat lst;
        int is_link = lstat(full, &lst) == 0 && S_ISLNK(lst.st_mode);
        if (is_link || fa_has_image_extension(name)) {
            char why[256];
            snprintf(why, sizeof why, "%s", errno == ELOOP ? "symlink loop" :
                     is_link && errno == ENOENT ? "dangling symlink" : strerror(errno));
            add(w, rel, NULL, why);
        }
    } else if (S_ISDIR(st.st_mode)) {
        walk(w, rel);
    } else if (S_ISREG(st.st_mode)) {
        if (fa_has_image_extension(name) || looks_like_image(full)) add(w, rel, &st, NULL);
    } else if (fa_has_image_extension(name)) {
        add(w, rel, &st, "not a regular file");
    }
    free(full);
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void walk(walker *w, const char *rel)
{
    char *full = *rel ? fa_path_join(w->root, rel) : fa_strdup(w->root);
    struct stat st;
    if (!full) { w->oom = 1; return; }
    if (stat(full, &st) < 0) { free(full); return; }
    for (int i = 0; i < w->depth; i++)
        if (w->stack[i].dev == st.st_dev && w->stack[i].ino == st.st_ino) {
            add(w, rel, NULL, "directory cycle (a symlink back to a parent folder)");
            free(full);
            return;
        }
    if (w->depth == MAX_DEPTH) {
        add(w, rel, NULL, "folders nested too deep");
        free(full);
        return;
    }
    DIR *d = opendir(full);
    if (!d) {
        char why[256];
        snprintf(why, sizeof why, "folder unreadable: %s", strerror(errno));
        add(w, rel, NULL, why);
        free(full);
        return;
    }
    w->stack[w->depth].dev = st.st_dev;
    w->stack[w->depth].ino = st.st_ino;
    w->depth++;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') continue;   /* ., .., and hidden files */
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **nn = realloc(names, cap * sizeof *nn);
            if (!nn) { w->oom = 1; break; }
            names = nn;
        }
        if (!(names[n] = fa_strdup(de->d_name))) { w->oom = 1; break; }
        n++;
    }
    closedir(d);
    if (n) qsort(names, n, sizeof *names, cmp_name);   /* names is NULL when the first realloc failed */
    for (size_t i = 0; i < n; i++) {
        char *child = *rel ? fa_path_join(rel, names[i]) : fa_strdup(names[i]);
        if (child) visit(w, child, names[i]);
        else w->oom = 1;
        free(child);
        free(names[i]);
    }
    free(names);
    w->depth--;
    free(full);
}

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const fa_scan_entry *)a)->path, ((const fa_scan_entry *)b)->path);
}

int fa_scan(const char *root, fa_scan_list *out)
{
    memset(out, 0, sizeof *out);
    struct stat st;
    if (stat(root, &st) < 0) return fa_error("%s: %s", root, strerror(errno));
    if (!S_ISDIR(st.st_mode)) return fa_error("%s: not a folder", root);
    DIR *d = opendir(root);
    if (!d) return fa_error("%s: %s", root, strerror(errno));
    closedir(d);
    walker w = {.root = root, .out = out};
    walk(&w, "");
    if (w.oom) { fa_scan_free(out); return fa_error("%s: out of memory while scanning", root); }
    /* Walk order is per-folder sorted; a global sort makes "a/b" vs "a.b" consistent. */
    qsort(out->v, out->n, sizeof *out->v, cmp_entry);
    return 0;
}

void fa_scan_free(fa_scan_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].path);
        free(l->v[i].folder);
        free(l->v[i].problem);
    }
    free(l->v);
    memset(l, 0, sizeof *l);
}
