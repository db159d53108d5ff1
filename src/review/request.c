/*
 * request.c - checks of what the review page sends (see request.h). The
 * JSON itself goes through json.c's parser; this file holds the rules.
 */
#include <stdlib.h>
#include <string.h>
#include "json.h"
#include "util.h"
#include "review/request.h"

const char *fa_decision_req_parse(const fa_rfindings *fs, const char *body, size_t len, fa_decision_req *out)
{
    memset(out, 0, sizeof *out);
    fa_json *j = len ? fa_json_parse(body, len) : NULL;
    const char *id = j ? fa_json_strv(j, "id") : NULL, *ds = j ? fa_json_strv(j, "decision") : NULL;
    const char *arg = j ? fa_json_strv(j, "arg") : NULL;
    const fa_rfinding *f = id ? fa_rfindings_find(fs, id) : NULL;
    fa_decision d = fa_decision_parse(ds);
    const char *bad = !j ? "expected a JSON object\n" : !f ? "no such finding\n"
                    : d == FA_DEC_NONE ? "unknown decision\n"
                    : arg && *arg && (d != FA_DEC_ACCEPT || strcmp(f->kind, "mixed_folder"))
                        ? "an argument only names a split's new folder\n"
                    : arg && *arg && !fa_safe_name(arg) ? "not a usable folder name\n" : NULL;
    if (!bad && !(out->arg = fa_strdup(arg ? arg : ""))) bad = "out of memory\n";
    fa_json_free(j);
    if (bad) return bad;
    out->finding = f;
    out->decision = d;
    return NULL;
}

void fa_decision_req_free(fa_decision_req *r)
{
    free(r->arg);
    r->arg = NULL;
}

int fa_image_number_parse(const char *s, unsigned long *out)
{
    size_t n = strspn(s, "0123456789");
    if (!n || s[n] || n > 12 || (s[0] == '0' && n > 1)) return -1;
    *out = strtoul(s, NULL, 10);
    return 0;
}
