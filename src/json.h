/*
 * json.h - faceaudit's JSON reader (jansson underneath, see json.c) for its
 * own files (meta.json, findings.json, decision requests, encoder specs):
 * a small tree of fa_json values. Anything malformed is an error naming the
 * byte where parsing stopped, never a crash.
 */
#ifndef FA_JSON_H
#define FA_JSON_H
#include <stddef.h>

typedef enum { FA_JNULL, FA_JBOOL, FA_JNUM, FA_JSTR, FA_JARR, FA_JOBJ } fa_jtype;

typedef struct fa_json {
    fa_jtype type;
    double num;             /* FA_JNUM, FA_JBOOL (0/1) */
    char *str;              /* FA_JSTR */
    char *key;              /* member name when inside an object */
    struct fa_json *kids;   /* FA_JARR, FA_JOBJ */
    size_t n;
} fa_json;

/* Parses text (len bytes). Returns NULL with a message in fa_last_error(). */
fa_json *fa_json_parse(const char *text, size_t len);
void fa_json_free(fa_json *j);
/* Member of an object, or NULL. */
const fa_json *fa_json_get(const fa_json *obj, const char *key);
/* Typed member lookups: return 0 and store, or -1 when missing or wrong type. */
int fa_json_num(const fa_json *obj, const char *key, double *out);
const char *fa_json_strv(const fa_json *obj, const char *key);
#endif
