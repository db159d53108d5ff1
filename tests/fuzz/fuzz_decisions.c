/*
 * fuzz_decisions.c - the reader of CACHE/decisions.tsv (src/review/decisions.c),
 * which `review`, `fix` and `audit --decisions FILE` take from other people.
 * The reader takes a path, so each input goes through a private temp file.
 * Oracle: a refusal names the file; what is accepted answers lookups for
 * every id it counts without crashing, and a second load of the same bytes
 * gives the same count (the reader keeps no hidden state).
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
    if (!path[0]) snprintf(path, sizeof path, "/tmp/fa-fuzz-decisions-%d.tsv", (int)getpid());
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t n = fwrite(data, 1, size, f);
    return fclose(f) || n != size ? -1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16 || write_input(data, size)) return 0;
    fa_decisions *d = fa_decisions_load(path);
    if (!d) {
        ORACLE(strncmp(fa_last_error(), path, strlen(path)) == 0, "message does not name the file: %s",
               fa_last_error());
        return 0;
    }
    size_t n = fa_decisions_count(d);
    ORACLE(n <= size, "%zu decisions from %zu bytes", n, size);
    const char *arg = NULL;
    (void)fa_decisions_get(d, "misfiled-0000000000000000", &arg);
    fa_decisions *again = fa_decisions_load(path);
    ORACLE(again && fa_decisions_count(again) == n, "a second load differs");
    fa_decisions_free(again);
    fa_decisions_free(d);
    return 0;
}
