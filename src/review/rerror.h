/*
 * rerror.h - prefixing the recorded error with context ("FILE: reason")
 * without passing fa_last_error()'s own buffer back into fa_error.
 */
#ifndef FA_REVIEW_RERROR_H
#define FA_REVIEW_RERROR_H
#include <stdio.h>
#include "faceaudit/faceaudit.h"

/* Records "<what>: <previous error>"; returns -1. */
static inline int fa_error_prefix(const char *what)
{
    char prev[1024];
    snprintf(prev, sizeof prev, "%s", fa_last_error());
    return fa_error("%s: %s", what, prev);
}
#endif
