/*
 * cli.h - shared pieces of the faceaudit command-line tool: the subcommand
 * signature, exit codes, option helpers and the progress line.
 */
#ifndef FA_CLI_H
#define FA_CLI_H
#include <signal.h>
#include <stddef.h>

/* The tool's exit codes: the one table. README.md ("Exit status") and
 * docs/faceaudit.1 (EXIT STATUS) repeat it; tests/cli/test_conventions.sh
 * checks that all three agree. */
enum {
    FA_EXIT_OK = 0,
    FA_EXIT_FAIL = 1,      /* the command failed */
    FA_EXIT_USAGE = 2,     /* bad command line */
    FA_EXIT_PARTIAL = 3,   /* some inputs failed, the rest was done */
};

int cmd_index(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_models(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_query(int argc, char **argv);
int cmd_review(int argc, char **argv);
int cmd_fix(int argc, char **argv);

int cmd_merge(int argc, char **argv);

/* Prints "faceaudit: <msg>" to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Parses a whole-number option value within [lo, hi]; -1 on error (printed). */
int cli_int(const char *opt, const char *val, long lo, long hi, long *out);
int cli_double(const char *opt, const char *val, double lo, double hi, double *out);

/* Models directory: --models, else the default. Returns 0 or -1 (printed). */
int cli_models_dir(const char *opt, char *out, size_t n);

/* SIGINT/SIGTERM set this flag; a second SIGINT kills as usual. */
extern volatile sig_atomic_t cli_cancel;
void cli_catch_signals(void);

/* Progress line on stderr, only when it is a terminal and not --quiet. */
typedef struct {
    int enabled;
    double last;
    int width;
} cli_progress;

void cli_progress_init(cli_progress *p, int quiet);
/* Prints "label done/total  rate/s  ETA  extra" over the previous line. */
void cli_progress_show(cli_progress *p, const char *label, size_t done, size_t total, double rate,
                       double eta, const char *extra, int final);
#endif
