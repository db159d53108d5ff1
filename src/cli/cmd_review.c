/*
 * cmd_review.c - `faceaudit review CACHE [--port N] [--open]`: serves the
 * review page for the last audit's findings on 127.0.0.1 until interrupted
 * (src/review/server.c does the work).
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "cli.h"
#include "faceaudit/cache.h"
#include "faceaudit/review.h"

static const char help[] =
    "usage: faceaudit review CACHE [--port N] [--open]\n"
    "\n"
    "Serves a page for reviewing the findings of the last `faceaudit audit CACHE`\n"
    "on http://127.0.0.1 (this machine only), with a random token in the URL it\n"
    "prints. Decide each finding with the keyboard (j/k next/previous, y accept,\n"
    "n reject, s skip, u undo, ? help); decisions are kept in CACHE/decisions.tsv,\n"
    "and `faceaudit fix CACHE` turns the accepted ones into file moves.\n"
    "\n"
    "      --port N   port to listen on (default: any free port)\n"
    "      --open     open the page with xdg-open\n"
    "\n"
    "Stops on Ctrl-C. Exit status: 0 stopped, 1 could not start, 2 bad command line.\n";

/* Opens url with xdg-open without waiting for the browser. */
static void open_browser(const char *url)
{
    pid_t pid = fork();
    if (pid == 0) {
        pid_t inner = fork();
        if (inner == 0) {
            execlp("xdg-open", "xdg-open", url, (char *)NULL);
            _exit(127);
        }
        _exit(inner < 0);
    }
    if (pid > 0) waitpid(pid, NULL, 0);
}

int cmd_review(int argc, char **argv)
{
    static const struct option opts[] = {
        {"port", required_argument, 0, 'p'}, {"open", no_argument, 0, 'O'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    long port = 0;
    int open_it = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'p' && cli_int("--port", optarg, 0, 65535, &port)) return FA_EXIT_USAGE;
        else if (c == 'O') open_it = 1;
        else if (c == 'h') { fputs(help, stdout); return FA_EXIT_OK; }
        else if (c != 'p') { fputs(help, stderr); return FA_EXIT_USAGE; }
    }
    if (argc - optind != 1) {
        cli_error("review needs one CACHE");
        fputs(help, stderr);
        return FA_EXIT_USAGE;
    }
    const char *dir = argv[optind];
    if (!fa_cache_exists(dir)) {
        cli_error("%s: no faceaudit cache there", dir);
        return FA_EXIT_FAIL;
    }
    /* the server's threads inherit a mask without SIGINT/SIGTERM, so that
     * this thread is the one that takes them, in sigwait */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    fa_review *r = fa_review_start(dir, (int)port);
    if (!r) {
        cli_error("%s%s", fa_last_error(), strstr(fa_last_error(), "findings.json") ? " (run `faceaudit audit CACHE` first)" : "");
        return FA_EXIT_FAIL;
    }
    unsigned long n, decided;
    fa_review_counts(r, &n, &decided);
    printf("reviewing %lu findings (%lu decided) of %s\nopen %s\n(Ctrl-C stops)\n", n, decided, dir, fa_review_url(r));
    fflush(stdout);
    if (open_it) open_browser(fa_review_url(r));
    int sig;
    sigwait(&stop, &sig);
    fa_review_stop(r);
    printf("stopped\n");
    return FA_EXIT_OK;
}
