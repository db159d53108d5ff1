/*
 * fuzz_json.c - the JSON reader (json.c). Oracle: a document that parses
 * re-serialises to text that parses to the same tree, and serialising that
 * tree again gives the same text; a refusal says where, inside the input.
 */
#include <math.h>
#include <string.h>
#include "fuzz.h"
#include "faceaudit/faceaudit.h"
#include "json.h"
#include "util.h"

/* Strings that are not valid UTF-8 (a lone \uD800 decodes to such bytes)
 * come back escaped byte by byte, so only valid ones must round-trip. */
static int all_utf8(const fa_json *j)
{
    if (j->str && !fa_utf8_valid(j->str, strlen(j->str))) return 0;
    if (j->key && !fa_utf8_valid(j->key, strlen(j->key))) return 0;
    for (size_t i = 0; i < j->n; i++)
        if (!all_utf8(&j->kids[i])) return 0;
    return 1;
}

static void serialise(fa_buf *b, const fa_json *j)
{
    switch (j->type) {
    case FA_JNULL: fa_buf_puts(b, "null"); break;
    case FA_JBOOL: fa_buf_puts(b, j->num ? "true" : "false"); break;
    case FA_JNUM:
        if (isinf(j->num)) fa_buf_puts(b, j->num > 0 ? "1e999" : "-1e999");
        else fa_buf_printf(b, "%.17g", j->num);
        break;
    case FA_JSTR: fa_buf_json_str(b, j->str); break;
    case FA_JARR: case FA_JOBJ:
        fa_buf_putc(b, j->type == FA_JARR ? '[' : '{');
        for (size_t i = 0; i < j->n; i++) {
            if (i) fa_buf_putc(b, ',');
            if (j->type == FA_JOBJ) { fa_buf_json_str(b, j->kids[i].key); fa_buf_putc(b, ':'); }
            serialise(b, &j->kids[i]);
        }
        fa_buf_putc(b, j->type == FA_JARR ? ']' : '}');
        break;
    }
}

static int same(const fa_json *a, const fa_json *b)
{
    if (a->type != b->type || a->n != b->n) return 0;
    if ((a->type == FA_JNUM || a->type == FA_JBOOL) && memcmp(&a->num, &b->num, sizeof a->num) != 0) return 0;
    if (a->type == FA_JSTR && strcmp(a->str, b->str) != 0) return 0;
    for (size_t i = 0; i < a->n; i++) {
        if (a->type == FA_JOBJ && strcmp(a->kids[i].key, b->kids[i].key) != 0) return 0;
        if (!same(&a->kids[i], &b->kids[i])) return 0;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16) return 0;
    fa_json *j = fa_json_parse((const char *)data, size);
    if (!j) {
        /* The position ends the message (the text before it may quote the
         * input, " at byte " included). */
        const char *e = fa_last_error(), *at = NULL;
        for (const char *s = strstr(e, " at byte "); s; s = strstr(s + 1, " at byte ")) at = s;
        ORACLE(strncmp(e, "JSON: ", 6) == 0, "%s", e);
        if (at) ORACLE(strtoull(at + 9, NULL, 10) <= size, "%s (input %zu bytes)", e, size);
        return 0;
    }
    if (all_utf8(j)) {
        fa_buf t1 = {0}, t2 = {0};
        serialise(&t1, j);
        fa_json *k = fa_json_parse(t1.data, t1.len);
        ORACLE(k != NULL, "re-serialised text refused: %s: %.*s", fa_last_error(), (int)t1.len, t1.data);
        ORACLE(same(j, k), "tree changed: %.*s", (int)t1.len, t1.data);
        serialise(&t2, k);
        ORACLE(t1.len == t2.len && memcmp(t1.data, t2.data, t1.len) == 0, "text changed");
        fa_json_free(k);
        fa_buf_free(&t1);
        fa_buf_free(&t2);
    }
    fa_json_free(j);
    return 0;
}
