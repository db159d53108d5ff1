/*
 * progress.c - the one-line progress display on stderr (count, rate, ETA).
 * Silent unless stderr is a terminal, so logs and pipes stay clean.
 */
#include <stdio.h>
#include <unistd.h>
#include "cli.h"
#include "faceaudit/util.h"

void cli_progress_init(cli_progress *p, int quiet)
{
    p->enabled = !quiet && isatty(2);
    p->last = 0;
    p->width = 0;
}

static void fmt_time(char *out, size_t n, double s)
{
    if (s < 0) snprintf(out, n, "--");
    else if (s < 60) snprintf(out, n, "%.0fs", s);
    else if (s < 3600) snprintf(out, n, "%dm%02ds", (int)s / 60, (int)s % 60);
    else snprintf(out, n, "%dh%02dm", (int)s / 3600, (int)s % 3600 / 60);
}

void cli_progress_show(cli_progress *p, const char *label, size_t done, size_t total, double rate,
                       double eta, const char *extra, int final)
{
    if (!p->enabled) return;
    double now = fa_now();
    if (!final && now - p->last < 0.2) return;
    p->last = now;
    char e[32];
    fmt_time(e, sizeof e, eta);
    int pct = total ? (int)(100.0 * (double)done / (double)total) : 100;
    int w = fprintf(stderr, "\r%s %zu/%zu (%d%%)  %.1f/s  ETA %s  %s", label, done, total, pct, rate, e,
                    extra ? extra : "");
    for (int i = w; i < p->width; i++) fputc(' ', stderr);   /* wipe a longer previous line */
    p->width = w;
    if (final) fputc('\n', stderr);
    fflush(stderr);
}
