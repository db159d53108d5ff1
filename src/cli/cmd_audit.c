/*
 * cmd_audit.c - `faceaudit audit CACHE [-o DIR]`: looks for filing mistakes
 * in an indexed dataset and writes pairs.csv, report.json and report.html.
 *
 * fa_audit_run (src/audit) does the work: calibration, the cross-folder
 * join, the findings. This file parses options, prints the summary and the
 * progress of the thumbnails, and hands the findings to the writers.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "faceaudit/audit.h"
#include "faceaudit/mpi.h"
#include "faceaudit/report.h"
#include "faceaudit/review.h"
#include "faceaudit/util.h"
#include "cli.h"

static const char help[] =
    "usage: faceaudit audit CACHE [-o DIR] [options]\n"
    "\n"
    "Looks for filing mistakes in a cache made by `faceaudit index`: faces in\n"
    "different folders that match (the same file, the same photo re-encoded, or\n"
    "the same person in another photo), folders that look like one person, faces\n"
    "unlike the rest of their folder, duplicate files, and files with no face,\n"
    "several faces or errors, as a review list ranked by evidence. Prints a\n"
    "summary and writes CACHE/findings.json (the review list) and, in DIR:\n"
    "  findings.csv rank,id,kind,action,score,path,folder,... one row per finding\n"
    "  pairs.csv    path1,path2,similarity,distance,kind,rel,... one row per pair\n"
    "  report.json  every finding, the calibration and the method\n"
    "  report.html  one self-contained page with face thumbnails\n"
    "\n"
    "Match rule (default: a distance threshold calibrated on the data, printed):\n"
    "      --max-distance D    Euclidean distance threshold\n"
    "      --min-similarity S  cosine similarity threshold (-1 < S <= 1); with\n"
    "                          --max-distance too, a pair must pass both\n"
    "      --same-photo D      below this distance a pair of different files is the\n"
    "                          same photo re-encoded (default 0.12); so is a pair\n"
    "                          whose face thumbnails correlate at 0.98 or more\n"
    "Search (default: exact, every cross-folder pair):\n"
    "      --ivf [NLIST]       exact search over NLIST k-means lists (default sqrt(n))\n"
    "      --nprobe N          approximate: each face probes its N nearest lists;\n"
    "                          prints the recall against exact on a sample (on\n"
    "                          CPUs with AVX-512 VNNI the exact search is faster)\n"
    "      --recall-sample N   faces sampled for that recall (default 1000)\n"
    "      --max-pairs N       fail above N matching pairs (default 2000000)\n"
    "Findings:\n"
    "      --merge-min-pairs N matches needed to suggest merging two folders (default 3)\n"
    "      --outlier-z Z       robust z that makes a face an outlier (default 3.5)\n"
    "      --review-fdr Q      review misfiled and same_identity findings down to the\n"
    "                          score where about a share Q of them are chance matches,\n"
    "                          as estimated from runner-up folders (default 0.2)\n"
    "Output:\n"
    "  -o, --output DIR        where the reports go (default CACHE/audit)\n"
    "      --html-limit N      rows with thumbnails per HTML section (default 500;\n"
    "                          0: no report.html); the CSV and JSON have every row\n"
    "      --thumb-size PX     thumbnail size (default 96)\n"
    "      --top N             rows per finding in the summary (default 5)\n"
    "      --threads N         threads (default: all cores)\n"
    "      --decisions FILE    review decisions to apply besides CACHE/decisions.tsv:\n"
    "                          rejected findings leave the review list\n"
    "  -q, --quiet             no progress line\n"
    "\n"
    "Under mpirun (or srun), the pair search is split over the processes; rank 0\n"
    "writes the same reports as a single process would.\n"
    "\n"
    "Exit status: 0 the audit was written (findings or not), 1 it failed,\n"
    "2 bad command line.\n";

typedef struct {
    const char *cache_dir, *out_dir, *decisions;
    fa_audit_params ap;
    size_t html_limit, top;
    int thumb_size, quiet;
} options;

/* --ivf takes an optional NLIST, also as the next word when it is a number. */
static int parse_ivf(options *o, int argc, char **argv)
{
    const char *v = optarg;
    long n = 0;
    if (!v && optind < argc && argv[optind][0] && strspn(argv[optind], "0123456789") == strlen(argv[optind]))
        v = argv[optind++];
    if (v && cli_int("--ivf", v, 1, 1 << 24, &n)) return -1;
    if (o->ap.mode == FA_SEARCH_EXACT) o->ap.mode = FA_SEARCH_IVF_EXACT;
    o->ap.nlist = (int)n;
    return 0;
}

static int parse_option(int c, options *o, int argc, char **argv)
{
    long v;
    double d;
    switch (c) {
    case 'o': o->out_dir = optarg; return 0;
    case 'D': if (cli_double("--max-distance", optarg, 1e-9, 4, &d)) return -1; o->ap.max_distance = (float)d; return 0;
    case 'S': if (cli_double("--min-similarity", optarg, -0.999999, 1, &d)) return -1; o->ap.min_similarity = (float)d; return 0;
    case 'P': if (cli_double("--same-photo", optarg, 0, 4, &d)) return -1; o->ap.same_photo_dist = (float)d; return 0;
    case 'I': return parse_ivf(o, argc, argv);
    case 'n': if (cli_int("--nprobe", optarg, 1, 1 << 24, &v)) return -1; o->ap.mode = FA_SEARCH_IVF_PROBE; o->ap.nprobe = (int)v; return 0;
    case 'R': if (cli_int("--recall-sample", optarg, 0, 1L << 40, &v)) return -1; o->ap.recall_sample = (size_t)v; return 0;
    case 'X': if (cli_int("--max-pairs", optarg, 1, 1L << 40, &v)) return -1; o->ap.max_pairs = (size_t)v; return 0;
    case 'm': if (cli_int("--merge-min-pairs", optarg, 1, 1L << 31, &v)) return -1; o->ap.merge_min_pairs = (uint32_t)v; return 0;
    case 'z': if (cli_double("--outlier-z", optarg, 0.5, 1000, &d)) return -1; o->ap.calib.outlier_z = (float)d; return 0;
    case 'F': if (cli_double("--review-fdr", optarg, 1e-6, 1, &d)) return -1; o->ap.review_fdr = (float)d; return 0;
    case 'L': if (cli_int("--html-limit", optarg, 0, 1L << 40, &v)) return -1; o->html_limit = (size_t)v; return 0;
    case 's': if (cli_int("--thumb-size", optarg, 16, 1024, &v)) return -1; o->thumb_size = (int)v; return 0;
    case 't': if (cli_int("--top", optarg, 0, 1L << 40, &v)) return -1; o->top = (size_t)v; return 0;
    case 'T': if (cli_int("--threads", optarg, 1, 1024, &v)) return -1; o->ap.threads = (int)v; return 0;
    case 'd': o->decisions = optarg; return 0;
    case 'q': o->quiet = 1; return 0;
    case 'h': fputs(help, stdout); exit(FA_EXIT_OK);
    default: fputs(help, stderr); return -1;
    }
}

static int parse(int argc, char **argv, options *o)
{
    static const struct option opts[] = {
        {"output", required_argument, 0, 'o'}, {"max-distance", required_argument, 0, 'D'},
        {"min-similarity", required_argument, 0, 'S'}, {"same-photo", required_argument, 0, 'P'},
        {"ivf", optional_argument, 0, 'I'}, {"nprobe", required_argument, 0, 'n'},
        {"recall-sample", required_argument, 0, 'R'}, {"max-pairs", required_argument, 0, 'X'},
        {"merge-min-pairs", required_argument, 0, 'm'}, {"outlier-z", required_argument, 0, 'z'},
        {"html-limit", required_argument, 0, 'L'}, {"thumb-size", required_argument, 0, 's'},
        {"top", required_argument, 0, 't'}, {"threads", required_argument, 0, 'T'},
        {"decisions", required_argument, 0, 'd'}, {"review-fdr", required_argument, 0, 'F'},
        {"quiet", no_argument, 0, 'q'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:qh", opts, NULL)) != -1)
        if (parse_option(c, o, argc, argv)) return -1;
    if (argc - optind != 1) {
        cli_error(optind >= argc ? "audit needs CACHE" : "audit takes one CACHE");
        fputs(help, stderr);
        return -1;
    }
    o->cache_dir = argv[optind];
    return 0;
}

static fa_cache *open_cache(const char *dir)
{
    if (!fa_cache_exists(dir)) {
        cli_error("%s: no faceaudit cache there (make one with `faceaudit index ROOT -o %s`)", dir, dir);
        return NULL;
    }
    fa_cache *c = fa_cache_open(dir);
    if (!c) cli_error("%s", fa_last_error());
    return c;
}

typedef struct {
    cli_progress bar;
    double t0;
} progress_ctx;

static void on_thumbs(void *ud, size_t done, size_t total, int final)
{
    progress_ctx *p = ud;
    double now = fa_now();
    if (done == 0 && !final) p->t0 = now;
    double rate = now > p->t0 ? (double)done / (now - p->t0) : 0;
    double eta = rate > 0 ? (double)(total - done) / rate : -1;
    cli_progress_show(&p->bar, "thumbnails", done, total, rate, eta, NULL, final);
}

/* Writes the three reports; returns 0 or -1 (printed). */
static int write_reports(fa_report *ao, const options *o, const char *dir, progress_ctx *pc)
{
    char *csv = fa_path_join(dir, "pairs.csv"), *json = fa_path_join(dir, "report.json");
    char *html = fa_path_join(dir, "report.html"), *fcsv = fa_path_join(dir, "findings.csv");
    char *fjson = fa_path_join(o->cache_dir, "findings.json");
    int rc = -1;
    if (!csv || !json || !html || !fcsv || !fjson) { cli_error("out of memory"); goto out; }
    if (fa_mkdir_p(dir)) { cli_error("%s", fa_last_error()); goto out; }
    if (fa_report_findings_csv(ao, fcsv) || fa_report_pairs_csv(ao, csv) || fa_report_json(ao, json) ||
        fa_report_findings_json(ao, fjson)) { cli_error("%s", fa_last_error()); goto out; }
    if (o->html_limit) {
        ao->progress = on_thumbs;
        ao->progress_ud = pc;
        if (fa_report_html(ao, html)) { cli_error("%s", fa_last_error()); goto out; }
    }
    rc = 0;
out:
    free(csv); free(json); free(html); free(fcsv); free(fjson);
    return rc;
}

/* Empties and removes a staging folder (files only: the writers make no folders). */
static void remove_stage(const char *stage)
{
    DIR *d = opendir(stage);
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            char *p = fa_path_join(stage, e->d_name);
            if (p) unlink(p);
            free(p);
        }
    if (d) closedir(d);
    rmdir(stage);
}

/* Writes the reports into DIR/.partial-PID and renames them into DIR only when
 * all were written: a failed or killed run leaves no partial report under the
 * real names. Returns 0 or -1 (printed). */
static int write_staged(fa_report *ao, const options *o, const char *dir, progress_ctx *pc)
{
    char stage[4096];
    snprintf(stage, sizeof stage, "%s/.partial-%d", dir, (int)getpid());
    if (fa_mkdir_p(stage)) { cli_error("%s", fa_last_error()); return -1; }
    int rc = write_reports(ao, o, stage, pc);
    DIR *d = rc ? NULL : opendir(stage);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char *from = fa_path_join(stage, e->d_name), *to = fa_path_join(dir, e->d_name);
        if (!from || !to || rename(from, to) < 0) {
            cli_error("%s: %s", to ? to : dir, from && to ? strerror(errno) : "out of memory");
            rc = -1;
        }
        free(from); free(to);
    }
    if (d) closedir(d);
    remove_stage(stage);
    return rc;
}

/* Rank 0 of an MPI run: how the search was shared. */
static void print_mpi(const fa_mpi *mpi)
{
    double slow, fast, flops, secs;
    fa_mpi_stats(mpi, &slow, &fast, &flops, &secs);
    fprintf(stderr, "mpi: %d ranks; pair search %.3f s with the gather; ranks' shares %.3f-%.3f s, "
            "%.1f GFLOP/s per rank\n", fa_mpi_size(mpi), secs, fast, slow,
            slow > 0 ? flops / fa_mpi_size(mpi) / slow * 1e-9 : 0.0);
}

static int run(const options *o, fa_cache *c, const char *dir, const fa_mpi *mpi)
{
    progress_ctx pc = {0};
    cli_progress_init(&pc.bar, o->quiet || fa_mpi_rank(mpi) != 0);
    if (pc.bar.enabled) fprintf(stderr, "audit: calibrating and searching %zu faces...\r", c->n_faces);
    double t0 = fa_now();
    fa_audit *a = fa_audit_run(c, &o->ap);
    if (!a) { cli_error("%s: %s", o->cache_dir, fa_last_error()); return FA_EXIT_FAIL; }
    if (fa_mpi_rank(mpi) != 0) { fa_audit_free(a); return FA_EXIT_OK; }   /* rank 0 reports */
    if (mpi && o->ap.mode == FA_SEARCH_EXACT) print_mpi(mpi);
    fa_report ao = { .cache = c, .audit = a, .params = &o->ap, .seconds = fa_now() - t0,
                     .html_limit = o->html_limit, .thumb_size = o->thumb_size, .threads = o->ap.threads };
    int rc = FA_EXIT_FAIL;
    if (fa_report_rank_dups(&ao)) { cli_error("%s", fa_last_error()); goto out; }
    fa_decision_counts n;
    if (fa_audit_apply_decisions(a, o->cache_dir, o->decisions, &n)) {
        cli_error("%s", fa_last_error());
        goto out;
    }
    if (n.accepted + n.rejected + n.skipped)
        printf("decisions: %zu accepted (kept in the review list), %zu rejected (listed apart, at its end), "
               "%zu skipped\n", n.accepted, n.rejected, n.skipped);
    fa_report_summary(stdout, &ao, o->top);
    fflush(stdout);
    if (write_staged(&ao, o, dir, &pc)) goto out;
    printf("wrote %s/pairs.csv, findings.csv, report.json, %s/findings.json", dir, o->cache_dir);
    if (o->html_limit) printf(", report.html (%zu thumbnails, %zu unreadable)", ao.thumbs_made, ao.thumbs_failed);
    printf(" in %.1f s\n", fa_now() - t0);
    rc = FA_EXIT_OK;
out:
    free(ao.dup_order);
    fa_audit_free(a);
    return rc;
}

int cmd_audit(int argc, char **argv)
{
    options o = { .html_limit = 500, .top = 5, .thumb_size = 96 };
    o.ap = fa_audit_default_params();
    if (parse(argc, argv, &o)) return FA_EXIT_USAGE;
    int mpi_failed;
    fa_mpi *mpi = fa_mpi_start(&mpi_failed);      /* NULL unless launched by mpirun / srun */
    if (mpi_failed) { cli_error("%s", fa_last_error()); return FA_EXIT_FAIL; }
    if (mpi) {
        o.ap.search_fn = fa_mpi_search;
        o.ap.search_ud = mpi;
        fa_mpi_set_search(mpi, o.ap.threads, o.ap.max_pairs);
    }
    fa_cache *c = open_cache(o.cache_dir);
    if (!fa_mpi_all_ok(mpi, c != NULL)) {
        fa_cache_close(c);
        fa_mpi_end(mpi, 1);
        return FA_EXIT_FAIL;
    }
    char *dir = o.out_dir ? fa_strdup(o.out_dir) : fa_path_join(o.cache_dir, "audit");
    int rc = dir ? run(&o, c, dir, mpi) : (cli_error("out of memory"), FA_EXIT_FAIL);
    free(dir);
    fa_cache_close(c);
    fa_mpi_end(mpi, rc != FA_EXIT_OK);
    return rc;
}
