/*
 * main.c - faceaudit's entry point: the subcommand table and the helpers
 * every subcommand shares. Each subcommand lives in its own cmd_*.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "faceaudit/faceaudit.h"
#include "faceaudit/models.h"

volatile sig_atomic_t cli_cancel;

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
} commands[] = {
    {"index", cmd_index, "index ROOT [-o CACHE]     detect and encode every face into a cache"},
    {"audit", cmd_audit, "audit CACHE [-o DIR]      find filing mistakes; CSV, JSON and HTML report"},
    {"query", cmd_query, "query CACHE PHOTO...      the most similar faces and folders for a photo"},
    {"info", cmd_info, "info CACHE                what a cache holds"},
    {"review", cmd_review, "review CACHE [--port N]   review the findings in a local web page"},
    {"fix", cmd_fix, "fix CACHE [--apply]       move files as the accepted review decisions say"},
    {"merge", cmd_merge, "merge SHARD... -o CACHE    join the caches of `index --shard K/N` into one"},
    {"models", cmd_models, "models fetch|list         get, verify and show the model files"},
};
#define N_COMMANDS (sizeof commands / sizeof *commands)

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("faceaudit: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int cli_int(const char *opt, const char *val, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = val ? strtol(val, &end, 10) : 0;
    if (!val || !*val || *end || errno || v < lo || v > hi) {
        cli_error("%s needs a whole number from %ld to %ld (got '%s')", opt, lo, hi, val ? val : "");
        return -1;
    }
    *out = v;
    return 0;
}

int cli_double(const char *opt, const char *val, double lo, double hi, double *out)
{
    char *end;
    double v = val ? strtod(val, &end) : 0;
    if (!val || !*val || *end || !(v >= lo && v <= hi)) {
        cli_error("%s needs a number from %g to %g (got '%s')", opt, lo, hi, val ? val : "");
        return -1;
    }
    *out = v;
    return 0;
}

int cli_models_dir(const char *opt, char *out, size_t n)
{
    if (opt) { snprintf(out, n, "%s", opt); return 0; }
    if (fa_models_default_dir(out, n)) { cli_error("%s", fa_last_error()); return -1; }
    return 0;
}

static void on_signal(int sig)
{
    if (cli_cancel && sig == SIGINT) { signal(SIGINT, SIG_DFL); raise(SIGINT); }
    cli_cancel = 1;
}

void cli_catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

static void usage(FILE *to)
{
    fprintf(to, "faceaudit %s: find filing mistakes in face-image datasets\n\nusage:\n", FA_VERSION);
    for (size_t i = 0; i < N_COMMANDS; i++) fprintf(to, "  faceaudit %s\n", commands[i].help);
    fprintf(to, "\n`faceaudit COMMAND --help` describes a command's options.\n");
}

int main(int argc, char **argv)
{
    fa_blas_reexec_if_generic(argv);   /* OpenBLAS's AVX-512 kernels on CPUs it does not know */
    if (argc < 2) { usage(stderr); return FA_EXIT_USAGE; }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return FA_EXIT_OK;
    }
    if (!strcmp(argv[1], "--version")) { printf("faceaudit %s\n", FA_VERSION); return FA_EXIT_OK; }
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].fn(argc - 1, argv + 1);
    cli_error("unknown command '%s'", argv[1]);
    usage(stderr);
    return FA_EXIT_USAGE;
}
