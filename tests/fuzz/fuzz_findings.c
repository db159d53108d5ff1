/*
 * fuzz_findings.c - the reader of CACHE/findings.json (src/review/findfile.c),
 * whose paths `fix` turns into renames. Oracle (the safety rule `fix` relies
 * on): every path of an accepted file is a plain relative path inside ROOT:
 * not empty, not absolute, no "." or ".." component; a refusal names the file.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "faceaudit/faceaudit.h"
#include "fuzz.h"
#include "faceaudit/review.h"

static char path[64];

static int write_input(const uint8_t *data, size_t size)
{
    if (!path[0]) snprintf(path, sizeof path, "/tmp/fa-fuzz-findings-%d.json", (int)getpid());
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t n = fwrite(data, 1, size, f);
    return fclose(f) || n != size ? -1 : 0;
}

/* A path fix may rename: relative, and no component is "", "." or "..". */
static int plain_relative(const char *p)
{
    if (!p[0] || p[0] == '/') return 0;
    for (const char *s = p;;) {
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.')) return 0;
        if (!e) return 1;
        s = e + 1;
    }
}

static void check_optional(const char *p, const char *what)
{
    ORACLE(p != NULL, "%s is NULL", what);
    ORACLE(!p[0] || plain_relative(p), "%s '%s' escapes ROOT", what, p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16 || write_input(data, size)) return 0;
    fa_rfindings *f = fa_rfindings_load(path);
    if (!f) {
        ORACLE(strncmp(fa_last_error(), path, strlen(path)) == 0, "message does not name the file: %s",
               fa_last_error());
        return 0;
    }
    for (size_t i = 0; i < f->n; i++) {
        const fa_rfinding *x = &f->f[i];
        ORACLE(x->id && x->id[0], "finding %zu has no id", i);
        check_optional(x->path, "path");
        check_optional(x->other_path, "other_path");
        check_optional(x->keep, "keep");
        for (size_t k = 0; k < x->n_files; k++)
            ORACLE(plain_relative(x->files[k].path), "file '%s' escapes ROOT", x->files[k].path);
        for (size_t c = 0; c < x->n_clusters; c++)
            for (size_t k = 0; k < x->clusters[c].n_paths; k++)
                ORACLE(plain_relative(x->clusters[c].paths[k]), "cluster path '%s' escapes ROOT",
                       x->clusters[c].paths[k]);
        ORACLE(fa_rfindings_find(f, x->id) != NULL, "id %s not found", x->id);
    }
    fa_rfindings_free(f);
    return 0;
}
