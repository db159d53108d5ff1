/*
 * fuzz_request.c - what the review server takes from the browser
 * (src/review/request.c): a decision's JSON body, checked against a real
 * findings file (the kpop seed), and an image number from a URL. The first
 * input byte picks which; the rest is the request. Oracle: an accepted
 * decision names a finding of the file, a real decision, and an argument
 * only when it accepts a mixed folder's split, then a plain folder name (no
 * '/', no control character, not "." or ".."); an accepted image number is
 * the decimal the text spells, without sign or leading zeros.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "faceaudit/faceaudit.h"
#include "fuzz.h"
#include "review/request.h"

static fa_rfindings *findings(void)
{
    static fa_rfindings *f;
    if (!f && !(f = fa_rfindings_load(FA_FINDINGS_SEED))) {
        fprintf(stderr, "fuzz_request: %s\n", fa_last_error());
        abort();
    }
    return f;
}

static void check_decision(const char *body, size_t len)
{
    const fa_rfindings *fs = findings();
    fa_decision_req q;
    const char *bad = fa_decision_req_parse(fs, body, len, &q);
    if (bad) {
        ORACLE(bad[0] && bad[strlen(bad) - 1] == '\n', "refusal without a reason: '%s'", bad);
        return;
    }
    ORACLE(q.finding && fa_rfindings_find(fs, q.finding->id) == q.finding, "accepted a finding not in the file");
    ORACLE(q.decision >= FA_DEC_ACCEPT && q.decision <= FA_DEC_UNDO, "accepted decision %d", (int)q.decision);
    ORACLE(q.arg != NULL, "arg is NULL");
    if (q.arg[0]) {
        ORACLE(q.decision == FA_DEC_ACCEPT && !strcmp(q.finding->kind, "mixed_folder"), "an argument for %s/%s",
               q.finding->kind, fa_decision_name(q.decision));
        ORACLE(!strchr(q.arg, '/') && strcmp(q.arg, ".") && strcmp(q.arg, "..") && q.arg[0] != '.',
               "unsafe folder name '%s'", q.arg);
        for (const unsigned char *c = (const unsigned char *)q.arg; *c; c++)
            ORACLE(*c >= 0x20 && *c != 0x7F, "control character in '%s'", q.arg);
    }
    fa_decision_req_free(&q);
}

static void check_number(const char *s)
{
    unsigned long n;
    if (fa_image_number_parse(s, &n)) return;
    char back[32];
    snprintf(back, sizeof back, "%lu", n);
    ORACLE(!strcmp(back, s), "'%s' accepted as %lu", s, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 1 << 16) return 0;
    char *s = malloc(size);
    if (!s) return 0;
    memcpy(s, data + 1, size - 1);
    s[size - 1] = 0;
    if (data[0] & 1) check_number(s);
    else check_decision(s, size - 1);
    free(s);
    return 0;
}
