/*
 * cmd_fix.c - `faceaudit fix CACHE`: the accepted review decisions as file
 * moves within ROOT. Dry run by default; --script writes a sh script,
 * --apply does it with an undo log, --undo LOG reverses (src/review/fixplan.c
 * does the work).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"
#include "faceaudit/faceaudit.h"
#include "faceaudit/review.h"
#include "faceaudit/util.h"

static const char help[] =
    "usage: faceaudit fix CACHE [--script FILE | --apply] [options]\n"
    "       faceaudit fix --undo LOG\n"
    "\n"
    "Turns the findings accepted in `faceaudit review` (CACHE/decisions.tsv) into\n"
    "file moves within ROOT: a misfiled photo into the suggested folder, a folder\n"
    "merged into another (clashing names get \" (2)\"), extra copies of duplicates\n"
    "and accepted strays into ROOT/.faceaudit-quarantine/, the other person's photos\n"
    "of a mixed folder into a new folder. Nothing is overwritten or deleted, and\n"
    "nothing is done when a file changed since the audit. Prints the plan.\n"
    "\n"
    "      --script FILE      write the plan as a POSIX sh script\n"
    "      --apply            do it; writes an undo log (printed)\n"
    "      --undo-log FILE    where --apply writes it (default CACHE/fix-TIME.undo)\n"
    "      --undo LOG         reverse an applied fix\n"
    "      --name NAME        new folder name for a split decided without one\n"
    "      --decisions FILE   also read these decisions (after CACHE's own)\n"
    "\n"
    "After --apply, `faceaudit index ROOT -o CACHE` picks up the moves without\n"
    "re-encoding (files are known by content), then audit again.\n"
    "Exit status: 0 done (or nothing to do), 1 failed or refused, 2 bad command line.\n";

typedef struct {
    const char *cache, *script, *undo_log, *undo, *name, *decisions;
    int apply;
} options;

static int parse(int argc, char **argv, options *o)
{
    static const struct option opts[] = {
        {"script", required_argument, 0, 's'}, {"apply", no_argument, 0, 'a'},
        {"undo-log", required_argument, 0, 'l'}, {"undo", required_argument, 0, 'u'},
        {"name", required_argument, 0, 'n'}, {"decisions", required_argument, 0, 'd'},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 's': o->script = optarg; break;
        case 'a': o->apply = 1; break;
        case 'l': o->undo_log = optarg; break;
        case 'u': o->undo = optarg; break;
        case 'n': o->name = optarg; break;
        case 'd': o->decisions = optarg; break;
        case 'h': fputs(help, stdout); exit(FA_EXIT_OK);
        default: fputs(help, stderr); return -1;
        }
    }
    if (o->undo) {
        if (argc != optind || o->apply || o->script) { cli_error("--undo LOG takes nothing else"); return -1; }
        return 0;
    }
    if (argc - optind != 1) { cli_error("fix needs one CACHE"); fputs(help, stderr); return -1; }
    if (o->name && !fa_safe_name(o->name)) { cli_error("--name '%s' is not a usable folder name", o->name); return -1; }
    o->cache = argv[optind];
    return 0;
}

static int undo(const char *log)
{
    fa_fix_undo_stats st;
    fa_buf pr = {0};
    if (fa_fix_undo(log, &st, &pr)) { cli_error("%s", fa_last_error()); return FA_EXIT_FAIL; }
    if (pr.len) fprintf(stderr, "%.*s", (int)pr.len, pr.data);
    printf("undo: %zu operations reversed, %zu had not been done, %zu left as they are\n", st.restored, st.not_done,
           st.conflicts);
    fa_buf_free(&pr);
    return st.conflicts ? FA_EXIT_FAIL : FA_EXIT_OK;
}

static int write_script(const fa_fix_plan *p, const char *path)
{
    fa_buf b = {0};
    fa_fix_plan_script(p, &b);
    int rc = b.oom ? fa_error("out of memory") : fa_write_file_atomic(path, b.data, b.len);
    fa_buf_free(&b);
    if (rc) { cli_error("%s", fa_last_error()); return -1; }
    printf("wrote %s (sh %s)\n", path, path);
    return 0;
}

static int apply(const fa_fix_plan *p, const options *o)
{
    char buf[4200];
    const char *log = o->undo_log;
    if (!log) {
        time_t t = time(NULL);
        struct tm tm;
        char stamp[32];
        gmtime_r(&t, &tm);
        strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
        snprintf(buf, sizeof buf, "%s/fix-%s.undo", o->cache, stamp);
        log = buf;
    }
    size_t done = 0;
    if (fa_fix_apply(p, log, &done)) {
        cli_error("%s; %zu operations done, reverse them with: faceaudit fix --undo %s", fa_last_error(), done, log);
        return FA_EXIT_FAIL;
    }
    printf("applied %zu operations; undo log %s\nundo with: faceaudit fix --undo %s\n"
           "then: faceaudit index %s -o %s && faceaudit audit %s\n", done, log, log, p->root, o->cache, o->cache);
    return FA_EXIT_OK;
}

static int run(const options *o, const fa_rfindings *f, const fa_decisions *d)
{
    fa_fix_plan *p = fa_fix_plan_build(f, d, o->name);
    if (!p) { cli_error("%s", fa_last_error()); return FA_EXIT_FAIL; }
    fa_buf text = {0}, problems = {0};
    fa_fix_plan_text(p, &text);
    printf("%zu accepted findings, %zu operations\n%.*s", p->n_findings, p->n_ops, (int)text.len, text.data);
    if (p->notes.len) fprintf(stderr, "left out:\n%.*s", (int)p->notes.len, p->notes.data);
    int rc = FA_EXIT_OK;
    size_t bad = fa_fix_plan_check(p, &problems);
    if (bad) {
        fprintf(stderr, "%.*s", (int)problems.len, problems.data);
        cli_error("refusing: %zu problem%s (files changed since the audit, or in the way)", bad, bad == 1 ? "" : "s");
        rc = FA_EXIT_FAIL;
    } else if (o->script && write_script(p, o->script)) {
        rc = FA_EXIT_FAIL;
    } else if (o->apply && p->n_ops) {
        rc = apply(p, o);
    } else if (!o->apply && !o->script) {
        printf("(dry run: --apply does it, --script FILE writes it as a script)\n");
    }
    fa_buf_free(&text), fa_buf_free(&problems);
    fa_fix_plan_free(p);
    return rc;
}

int cmd_fix(int argc, char **argv)
{
    options o = {0};
    if (parse(argc, argv, &o)) return FA_EXIT_USAGE;
    if (o.undo) return undo(o.undo);
    char *fpath = fa_path_join(o.cache, "findings.json"), *dpath = fa_path_join(o.cache, "decisions.tsv");
    fa_rfindings *f = fpath ? fa_rfindings_load(fpath) : NULL;
    if (!f) cli_error("%s (run `faceaudit audit CACHE` first)", fa_last_error());
    fa_decisions *d = f && dpath ? fa_decisions_load(dpath) : NULL;
    if (f && !d) cli_error("%s", fa_last_error());
    if (d && o.decisions && access(o.decisions, R_OK)) {
        cli_error("--decisions %s: %s", o.decisions, strerror(errno));
        fa_decisions_free(d);
        d = NULL;
    } else if (d && o.decisions && fa_decisions_merge_file(d, o.decisions)) { cli_error("%s", fa_last_error()); fa_decisions_free(d); d = NULL; }
    int rc = f && d ? run(&o, f, d) : FA_EXIT_FAIL;
    fa_decisions_free(d);
    fa_rfindings_free(f);
    free(fpath), free(dpath);
    return rc;
}
