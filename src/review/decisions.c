/*
 * decisions.c - reading and appending CACHE/decisions.tsv (see decisions.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "faceaudit/review.h"
#include "faceaudit/cache.h"
#include "hashmap.h"
#include "rerror.h"
#include "util.h"

#define DECISIONS_MAX_BYTES (256u << 20)

typedef struct {
    fa_decision dec;
    char *arg;
} step;

typedef struct {
    char *id;
    step *stack;
    size_t n, cap;
} entry;

struct fa_decisions {
    entry *e;
    size_t n, cap;
    fa_hashmap map;     /* id -> index into e */
};

static const char *names[] = {"", "accept", "reject", "skip", "undo"};

const char *fa_decision_name(fa_decision d) { return (unsigned)d < 5 ? names[d] : ""; }

fa_decision fa_decision_parse(const char *s)
{
    for (int i = 1; i < 5; i++)
        if (s && !strcmp(s, names[i])) return (fa_decision)i;
    return FA_DEC_NONE;
}

fa_decisions *fa_decisions_new(void)
{
    fa_decisions *d = calloc(1, sizeof *d);
    if (!d || fa_hashmap_init(&d->map, 64)) { free(d); fa_error("out of memory"); return NULL; }
    return d;
}

void fa_decisions_free(fa_decisions *d)
{
    if (!d) return;
    for (size_t i = 0; i < d->n; i++) {
        for (size_t k = 0; k < d->e[i].n; k++) free(d->e[i].stack[k].arg);
        free(d->e[i].stack);
        free(d->e[i].id);
    }
    free(d->e);
    fa_hashmap_free(&d->map);
    free(d);
}

static entry *entry_for(fa_decisions *d, const char *id, int create)
{
    size_t i;
    if (fa_hashmap_get(&d->map, id, strlen(id), &i)) return &d->e[i];
    if (!create) return NULL;
    if (d->n == d->cap) {
        size_t cap = d->cap ? 2 * d->cap : 64;
        entry *e = realloc(d->e, cap * sizeof *e);
        if (!e) return NULL;
        d->e = e, d->cap = cap;
    }
    entry *e = &d->e[d->n];
    memset(e, 0, sizeof *e);
    if (!(e->id = fa_strdup(id)) || fa_hashmap_put(&d->map, e->id, strlen(e->id), d->n)) {
        free(e->id);
        return NULL;
    }
    d->n++;
    return e;
}

/* Applies one decision to the in-memory state. Takes arg. 0 or -1. */
static int apply(fa_decisions *d, const char *id, fa_decision dec, char *arg)
{
    entry *e = entry_for(d, id, dec != FA_DEC_UNDO);
    if (dec == FA_DEC_UNDO) {
        free(arg);
        if (!e || !e->n) return fa_error("nothing to undo for %s", id);
        free(e->stack[--e->n].arg);
        return 0;
    }
    if (!e) { free(arg); return fa_error("out of memory"); }
    if (e->n == e->cap) {
        size_t cap = e->cap ? 2 * e->cap : 2;
        step *s = realloc(e->stack, cap * sizeof *s);
        if (!s) { free(arg); return fa_error("out of memory"); }
        e->stack = s, e->cap = cap;
    }
    e->stack[e->n++] = (step){dec, arg};
    return 0;
}

/* A finding id: letters, digits, '-' and '_' only (it goes into URLs and
 * shell comments). */
static int id_ok(const char *id)
{
    return *id && strlen(id) < 128 && strspn(id, "abcdefghijklmnopqrstuvwxyz0123456789_-") == strlen(id);
}

/* Parses one line (NUL-terminated, no newline) into d. */
static int parse_line(fa_decisions *d, char *line, const char *path, size_t lineno)
{
    char *f[5];
    int n = 0;
    for (char *p = line; n < 5; n++) {
        f[n] = p;
        char *tab = strchr(p, '\t');
        if (!tab) { n++; break; }
        *tab = 0;
        p = tab + 1;
    }
    if (n < 4) return fa_error("%s:%zu: expected 5 tab-separated fields", path, lineno);
    fa_decision dec = fa_decision_parse(f[2]);
    if (!id_ok(f[0])) return fa_error("%s:%zu: bad finding id", path, lineno);
    if (dec == FA_DEC_NONE) return fa_error("%s:%zu: unknown decision '%s'", path, lineno, f[2]);
    char *arg = fa_tsv_unescape(n > 4 ? f[4] : "");
    if (!arg) return fa_error("%s:%zu: bad escape in the argument", path, lineno);
    if (dec == FA_DEC_UNDO && !entry_for(d, f[0], 0)) { free(arg); return 0; }  /* shared files may start mid-history */
    if (apply(d, f[0], dec, arg)) {
        char where[4200];
        snprintf(where, sizeof where, "%s:%zu", path, lineno);
        return fa_error_prefix(where);
    }
    return 0;
}

int fa_decisions_merge_file(fa_decisions *d, const char *path)
{
    char *text = NULL;
    size_t len = 0;
    if (access(path, F_OK) && errno == ENOENT) return 0;
    if (fa_read_file(path, DECISIONS_MAX_BYTES, &text, &len)) return -1;
    if (memchr(text, 0, len)) { free(text); return fa_error("%s: not a text file (NUL byte)", path); }
    size_t lineno = 0;
    int rc = 0;
    for (char *p = text; *p && !rc;) {
        char *nl = strchr(p, '\n');
        if (nl) *nl = 0;
        lineno++;
        size_t l = strlen(p);
        if (l && p[l - 1] == '\r') p[l - 1] = 0;
        if (*p && *p != '#') rc = parse_line(d, p, path, lineno);
        /* a last line without a newline that does not parse is an append
         * cut short by a crash: drop it, keep the rest */
        if (rc && !nl) rc = 0;
        p = nl ? nl + 1 : p + strlen(p);
    }
    free(text);
    return rc;
}

fa_decisions *fa_decisions_load(const char *path)
{
    fa_decisions *d = fa_decisions_new();
    if (d && fa_decisions_merge_file(d, path)) { fa_decisions_free(d); return NULL; }
    return d;
}

fa_decision fa_decisions_get(const fa_decisions *d, const char *id, const char **arg)
{
    size_t i;
    if (arg) *arg = "";
    if (!d || !fa_hashmap_get(&d->map, id, strlen(id), &i) || !d->e[i].n) return FA_DEC_NONE;
    const step *s = &d->e[i].stack[d->e[i].n - 1];
    if (arg) *arg = s->arg;
    return s->dec;
}

size_t fa_decisions_count(const fa_decisions *d)
{
    size_t n = 0;
    for (size_t i = 0; i < d->n; i++) n += d->e[i].n > 0;
    return n;
}

static void iso_now(char out[32])
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int fa_decisions_append(fa_decisions *d, const char *path, const char *id, const char *sha256s,
                        fa_decision dec, const char *arg)
{
    if (!id_ok(id)) return fa_error("bad finding id");
    if (dec == FA_DEC_NONE) return fa_error("no decision");
    if (sha256s && strpbrk(sha256s, "\t\n\r")) return fa_error("bad sha256 list");
    if (dec == FA_DEC_UNDO && fa_decisions_get(d, id, NULL) == FA_DEC_NONE)
        return fa_error("nothing to undo for %s", id);
    char *esc = fa_tsv_escape(arg ? arg : "");
    char *own = fa_strdup(arg ? arg : "");
    char when[32];
    iso_now(when);
    fa_buf b = {0};
    fa_buf_printf(&b, "%s\t%s\t%s\t%s\t%s\n", id, sha256s ? sha256s : "", fa_decision_name(dec), when,
                  esc ? esc : "");
    free(esc);
    if (b.oom || !esc || !own) { fa_buf_free(&b); free(own); return fa_error("out of memory"); }
    int fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    struct stat st;
    char last = '\n';
    int have_size = fd >= 0 && fstat(fd, &st) == 0;
    int rc = have_size ? 0 : -1;
    /* a file that does not end a line (edited by hand): start a new one */
    if (!rc && st.st_size > 0 && pread(fd, &last, 1, st.st_size - 1) == 1 && last != '\n')
        rc = fa_write_all(fd, "\n", 1);
    if (!rc) rc = fa_write_all(fd, b.data, b.len);
    if (!rc) rc = fsync(fd);
    int err = errno;
    if (rc && have_size && ftruncate(fd, st.st_size) == 0) fsync(fd);   /* no half line left behind */
    if (fd >= 0) close(fd);
    fa_buf_free(&b);
    if (rc) { free(own); return fa_error("%s: %s", path, strerror(err)); }
    return apply(d, id, dec, own);
}
