/*
 * request.h - what the review page's browser sends, checked before the
 * server acts on it: a decision's JSON body and an image number in a URL.
 * Pure functions over bytes (no connection, no files), so they can be
 * fuzzed on their own (tests/fuzz/fuzz_request.c).
 */
#ifndef FA_REVIEW_REQUEST_H
#define FA_REVIEW_REQUEST_H
#include <stddef.h>
#include "faceaudit/review.h"

/* A decision request: {"id": ID, "decision": "accept"|"reject"|"skip"|"undo",
 * "arg": NAME} (arg only with accept of a mixed_folder: the split's new
 * folder, a plain name). */
typedef struct {
    const fa_rfinding *finding;   /* in the findings it was checked against */
    fa_decision decision;
    char *arg;                    /* owned; "" when none */
} fa_decision_req;

/* Checks body (len bytes, any content) against the findings. Returns NULL
 * with *out filled (free with fa_decision_req_free), or the reason it is
 * refused (a static string ending in a newline, for a 400 reply). */
const char *fa_decision_req_parse(const fa_rfindings *fs, const char *body, size_t len, fa_decision_req *out);
void fa_decision_req_free(fa_decision_req *r);

/* An image number of a URL: strictly decimal, no sign, no leading zeros
 * beyond "0", below 10^12. Returns 0 with *out set, or -1. */
int fa_image_number_parse(const char *s, unsigned long *out);

#endif
