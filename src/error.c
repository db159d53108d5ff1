/*
 * error.c - the per-thread error message every library function leaves
 * behind when it returns -1 or NULL.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "faceaudit/faceaudit.h"

static _Thread_local char last_error[2048];

const char *fa_last_error(void) { return last_error; }

/* Formats into a scratch buffer first: callers may pass fa_last_error() as an
 * argument to wrap the previous message, and vsnprintf into the buffer it
 * reads from is undefined (it garbled messages). */
int fa_error(const char *fmt, ...)
{
    char tmp[sizeof last_error];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    memcpy(last_error, tmp, sizeof tmp);
    return -1;
}

static const char *const status_names[FA_STATUS_COUNT] = {
    "ok", "no_face", "unreadable", "unsupported", "too_large", "no_identity",
};

const char *fa_status_name(fa_status s)
{
    return (unsigned)s < FA_STATUS_COUNT ? status_names[s] : "invalid";
}

int fa_status_parse(const char *name)
{
    for (int i = 0; i < FA_STATUS_COUNT; i++)
        if (strcmp(name, status_names[i]) == 0) return i;
    return -1;
}
