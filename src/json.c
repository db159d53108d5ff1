/*
 * json.c - recursive-descent JSON parser (see json.h). Strings are decoded
 * to UTF-8, including \uXXXX escapes and surrogate pairs.
 */
#include <stdlib.h>
#include <string.h>
#include "faceaudit/faceaudit.h"
#include "json.h"
#include "util.h"

#define MAX_DEPTH 32

typedef struct {
    const char *start, *p, *end;
    int depth;
} parser;

static int perr(parser *ps, const char *what)
{
    return fa_error("JSON: %s at byte %zu", what, (size_t)(ps->p - ps->start));
}

static void ws(parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '\t'))
        ps->p++;
}

static int hex4(parser *ps, unsigned *out)
{
    if (ps->end - ps->p < 4) return -1;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = *ps->p++;
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return -1;
    }
    *out = v;
    return 0;
}

static void put_utf8(fa_buf *b, unsigned cp)
{
    char u[4];
    if (cp < 0x80) { u[0] = (char)cp; fa_buf_append(b, u, 1); }
    else if (cp < 0x800) { u[0] = (char)(0xC0 | cp >> 6); u[1] = (char)(0x80 | (cp & 63)); fa_buf_append(b, u, 2); }
    else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | cp >> 12); u[1] = (char)(0x80 | ((cp >> 6) & 63));
        u[2] = (char)(0x80 | (cp & 63)); fa_buf_append(b, u, 3);
    } else {
        u[0] = (char)(0xF0 | cp >> 18); u[1] = (char)(0x80 | ((cp >> 12) & 63));
        u[2] = (char)(0x80 | ((cp >> 6) & 63)); u[3] = (char)(0x80 | (cp & 63)); fa_buf_append(b, u, 4);
    }
}

static char *parse_string(parser *ps)
{
    fa_buf b = {0};
    ps->p++;  /* opening quote */
    while (ps->p < ps->end && *ps->p != '"') {
        unsigned char c = (unsigned char)*ps->p++;
        if (c < 0x20) { perr(ps, "control character in string"); goto fail; }
        if (c != '\\') { fa_buf_putc(&b, (char)c); continue; }
        if (ps->p >= ps->end) break;
        char e = *ps->p++;
        unsigned cp, lo;
        switch (e) {
        case '"': case '\\': case '/': fa_buf_putc(&b, e); break;
        case 'b': fa_buf_putc(&b, '\b'); break;
        case 'f': fa_buf_putc(&b, '\f'); break;
        case 'n': fa_buf_putc(&b, '\n'); break;
        case 'r': fa_buf_putc(&b, '\r'); break;
        case 't': fa_buf_putc(&b, '\t'); break;
        case 'u':
            if (hex4(ps, &cp)) { perr(ps, "bad \\u escape"); goto fail; }
            if (cp >= 0xD800 && cp < 0xDC00 && ps->end - ps->p >= 6 && ps->p[0] == '\\' &&
                ps->p[1] == 'u') {
                ps->p += 2;
                if (hex4(ps, &lo) || lo < 0xDC00 || lo > 0xDFFF) { perr(ps, "bad surrogate"); goto fail; }
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            put_utf8(&b, cp);
            break;
        default: perr(ps, "bad escape"); goto fail;
        }
    }
    if (ps->p >= ps->end) { perr(ps, "unterminated string"); goto fail; }
    ps->p++;
    if (b.oom) { fa_error("JSON: out of memory"); goto fail; }
    if (!b.data) return fa_strdup("");
    return b.data;
fail:
    fa_buf_free(&b);
    return NULL;
}

static int parse_value(parser *ps, fa_json *out);

static int push(fa_json *arr, size_t *cap, fa_json **slot)
{
    if (arr->n == *cap) {
        size_t nc = *cap ? *cap * 2 : 8;
        fa_json *k = realloc(arr->kids, nc * sizeof *k);
        if (!k) return fa_error("JSON: out of memory");
        arr->kids = k;
        *cap = nc;
    }
    *slot = &arr->kids[arr->n];
    memset(*slot, 0, sizeof **slot);
    return 0;
}

static int parse_container(parser *ps, fa_json *out, int is_obj)
{
    size_t cap = 0;
    out->type = is_obj ? FA_JOBJ : FA_JARR;
    if (++ps->depth > MAX_DEPTH) return perr(ps, "nested too deep");
    ps->p++;
    ws(ps);
    if (ps->p < ps->end && *ps->p == (is_obj ? '}' : ']')) { ps->p++; ps->depth--; return 0; }
    for (;;) {
        fa_json *slot = NULL;
        char *key = NULL;
        ws(ps);
        if (is_obj) {
            if (ps->p >= ps->end || *ps->p != '"') return perr(ps, "expected member name");
            if (!(key = parse_string(ps))) return -1;
            ws(ps);
            if (ps->p >= ps->end || *ps->p != ':') { free(key); return perr(ps, "expected ':'"); }
            ps->p++;
        }
        if (push(out, &cap, &slot)) { free(key); return -1; }
        out->n++;
        slot->key = key;
        if (parse_value(ps, slot)) return -1;
        ws(ps);
        if (ps->p < ps->end && *ps->p == ',') { ps->p++; continue; }
        if (ps->p < ps->end && *ps->p == (is_obj ? '}' : ']')) { ps->p++; break; }
        return perr(ps, is_obj ? "expected ',' or '}'" : "expected ',' or ']'");
    }
    ps->depth--;
    return 0;
}

static int parse_value(parser *ps, fa_json *out)
{
    ws(ps);
    if (ps->p >= ps->end) return perr(ps, "unexpected end");
    char c = *ps->p;
    if (c == '{' || c == '[') return parse_container(ps, out, c == '{');
    if (c == '"') {
        out->type = FA_JSTR;
        return (out->str = parse_string(ps)) ? 0 : -1;
    }
    static const struct { const char *word; fa_jtype t; double v; } lits[] = {
        {"true", FA_JBOOL, 1}, {"false", FA_JBOOL, 0}, {"null", FA_JNULL, 0}};
    for (int i = 0; i < 3; i++) {
        size_t l = strlen(lits[i].word);
        if ((size_t)(ps->end - ps->p) >= l && memcmp(ps->p, lits[i].word, l) == 0) {
            ps->p += l;
            out->type = lits[i].t;
            out->num = lits[i].v;
            return 0;
        }
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
        char tmp[64];
        size_t l = 0;
        while (ps->p + l < ps->end && l < sizeof tmp - 1 && strchr("+-0123456789.eE", ps->p[l])) l++;
        memcpy(tmp, ps->p, l);
        tmp[l] = 0;
        char *endp;
        out->num = strtod(tmp, &endp);
        if (endp != tmp + l) return perr(ps, "bad number");
        out->type = FA_JNUM;
        ps->p += l;
        return 0;
    }
    return perr(ps, "unexpected character");
}

fa_json *fa_json_parse(const char *text, size_t len)
{
    parser ps = {text, text, text + len, 0};
    fa_json *j = calloc(1, sizeof *j);
    if (!j) { fa_error("JSON: out of memory"); return NULL; }
    if (parse_value(&ps, j)) { fa_json_free(j); return NULL; }
    ws(&ps);
    if (ps.p != ps.end) { perr(&ps, "trailing characters"); fa_json_free(j); return NULL; }
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
