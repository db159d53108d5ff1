/*
 * fuzz_manifest.c - the manifest reader (cache_manifest.c). The counts meta.json
 * would claim are taken from the rows as a writer would produce them (face
 * rows; files = rows whose face is -1 or 0), plus a mismatch chosen by the
 * first byte (the manifest follows it), so both the structure checks and the
 * count checks are reached.
 * Oracle: whatever is accepted is a consistent cache (cache_check.h).
 */
#include <string.h>
#include "cache_check.h"
#include "cache_parse.h"
#include "fuzz.h"

static void claimed_counts(const char *t, size_t len, size_t *files, size_t *faces)
{
    *files = *faces = 0;
    const char *end = t + len, *line = memchr(t, '\n', len);
    while (line && ++line < end) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        if (!nl) nl = end;
        const char *tab = memchr(line, '\t', (size_t)(nl - line)), *f3 = tab;
        for (int k = 0; k < 2 && f3; k++) f3 = memchr(f3 + 1, '\t', (size_t)(nl - f3 - 1));
        if (!(line[0] == '-' && line[1] == '1')) (*faces)++;
        if (f3 && (f3[1] == '0' || f3[1] == '-')) (*files)++;
        line = nl;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 1 << 16) return 0;
    size_t len = size - 1;
    char *text = malloc(len + 1);
    if (!text) return 0;
    memcpy(text, data + 1, len);
    text[len] = 0;
    fa_cache *c = calloc(1, sizeof *c);
    claimed_counts(text, len, &c->n_files, &c->n_faces);
    uint8_t skew = data[0];   /* mostly other values: the claims agree */
    if (skew == 1) c->n_files++;
    if (skew == 2 && c->n_faces) c->n_faces--;
    if (skew == 3) c->n_faces = 1000000000;
    c->dim = 1;
    if (fa_cache_parse_manifest(c, "m.tsv", text, len) == 0) cache_check(c);
    else ORACLE(strncmp(fa_last_error(), "m.tsv", 5) == 0, "message does not name the file: %s", fa_last_error());
    fa_cache_close(c);
    free(text);
    return 0;
}
