/*
 * json.c - faceaudit's JSON reader (see json.h) over jansson: jansson
 * parses (strict RFC 8259, UTF-8 checked, duplicate members refused, every
 * number a double) and the document is copied into the small fa_json tree
 * the readers of meta.json, findings.json, decision requests and encoder
 * specs walk. Only the depth limit is faceaudit's.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include "faceaudit/faceaudit.h"
#include "json.h"

#define MAX_DEPTH 32
#define JSON_FLAGS (JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL | JSON_REJECT_DUPLICATES)

static int copy_value(const json_t *v, fa_json *out, int depth);

static char *copy_string(const char *s, size_t len)
{
    char *c = malloc(len + 1);
    if (!c) { fa_error("JSON: out of memory"); return NULL; }
    memcpy(c, s, len);
    c[len] = 0;
    return c;
}

/* Arrays and objects: n kids, in the document's order (jansson keeps an
 * object's members in insertion order). */
static int copy_container(const json_t *v, fa_json *out, int depth)
{
    int is_obj = json_is_object(v);
    size_t n = is_obj ? json_object_size(v) : json_array_size(v);
    out->type = is_obj ? FA_JOBJ : FA_JARR;
    if (depth >= MAX_DEPTH) return fa_error("JSON: nested deeper than %d", MAX_DEPTH);
    if (n && !(out->kids = calloc(n, sizeof *out->kids))) return fa_error("JSON: out of memory");
    /* A kid counts before it is filled, so that fa_json_free reaches what a
     * failure leaves half-built (the kids are zeroed). */
    if (!is_obj) {
        while (out->n < n) {
            size_t i = out->n++;
            if (copy_value(json_array_get(v, i), &out->kids[i], depth + 1)) return -1;
        }
        return 0;
    }
    const char *key;
    json_t *m;
    json_object_foreach((json_t *)v, key, m) {
        fa_json *k = &out->kids[out->n++];
        if (!(k->key = copy_string(key, strlen(key))) || copy_value(m, k, depth + 1)) return -1;
    }
    return 0;
}

static int copy_value(const json_t *v, fa_json *out, int depth)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: case JSON_ARRAY: return copy_container(v, out, depth);
    case JSON_STRING:
        out->type = FA_JSTR;
        return (out->str = copy_string(json_string_value(v), json_string_length(v))) ? 0 : -1;
    case JSON_REAL: case JSON_INTEGER: out->type = FA_JNUM; out->num = json_number_value(v); return 0;
    case JSON_TRUE: out->type = FA_JBOOL; out->num = 1; return 0;
    case JSON_FALSE: out->type = FA_JBOOL; out->num = 0; return 0;
    case JSON_NULL: out->type = FA_JNULL; return 0;
    }
    return fa_error("JSON: unknown value type");
}

fa_json *fa_json_parse(const char *text, size_t len)
{
    json_error_t err;
    json_t *doc = json_loadb(text, len, JSON_FLAGS, &err);
    if (!doc) {
        fa_error("JSON: %s at byte %d", err.text, err.position);
        return NULL;
    }
    fa_json *j = calloc(1, sizeof *j);
    if (!j) fa_error("JSON: out of memory");
    else if (copy_value(doc, j, 0)) { fa_json_free(j); j = NULL; }
    json_decref(doc);
    return j;
}

static void free_inner(fa_json *j)
{
    for (size_t i = 0; i < j->n; i++) free_inner(&j->kids[i]);
    free(j->kids);
    free(j->str);
    free(j->key);
}

void fa_json_free(fa_json *j)
{
    if (!j) return;
    free_inner(j);
    free(j);
}

const fa_json *fa_json_get(const fa_json *obj, const char *key)
{
    if (!obj || obj->type != FA_JOBJ) return NULL;
    for (size_t i = 0; i < obj->n; i++)
        if (strcmp(obj->kids[i].key, key) == 0) return &obj->kids[i];
    return NULL;
}

int fa_json_num(const fa_json *obj, const char *key, double *out)
{
    const fa_json *v = fa_json_get(obj, key);
    if (!v || v->type != FA_JNUM) return -1;
    *out = v->num;
    return 0;
}

const char *fa_json_strv(const fa_json *obj, const char *key)
{
    const fa_json *v = fa_json_get(obj, key);
    return v && v->type == FA_JSTR ? v->str : NULL;
}
