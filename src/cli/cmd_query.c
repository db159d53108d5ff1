/*
 * cmd_query.c - `faceaudit query CACHE PHOTO...`: the k nearest cached faces
 * and the best folders for every face of each photo.
 *
 * The models load once (and must be the cache's own, by SHA-256); each photo
 * is then read, detected and encoded under the cache's detection policy, and
 * each face searched exactly over the memory-mapped cache. A photo that
 * fails (unreadable, no face) is reported and the others still answered;
 * the exit status says whether all, some or none were.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "faceaudit/models.h"
#include "faceaudit/query.h"
#include "faceaudit/report.h"
#include "faceaudit/util.h"

static const char help[] =
    "usage: faceaudit query CACHE PHOTO... [options]\n"
    "\n"
    "Finds every face in each PHOTO and lists, for each face, the nearest faces\n"
    "in CACHE and the best-matching folders. Uses the cache's own models and\n"
    "detection settings; refuses models other than those the cache was made with.\n"
    "\n"
    "  -k, --top N            nearest faces to list per face (default 10)\n"
    "      --max-distance D   same-person threshold (default: the one the cache's last audit\n"
    "                         calibrated, else the encoder's rule: 0.6 for dlib's)\n"
    "      --folder NAME      search only this folder\n"
    "      --folders N        best folders to list per face (default 5)\n"
    "      --csv              CSV on stdout (one row per neighbour or folder)\n"
    "      --json             JSON on stdout\n"
    "      --html FILE        also write a self-contained HTML page with thumbnails\n"
    "      --models DIR       model directory (default $FACEAUDIT_MODELS or ~/.local/share/faceaudit/models)\n"
    "      --encoder E        encoder file choice as for index (default: the one the cache names)\n"
    "      --threads N        search threads (default: 1, all cores above a million faces)\n"
    "      --timing           print the time of each stage on stderr\n"
    "\n"
    "Exit status: 0 all photos answered, 3 some were not (no face, unreadable),\n"
    "1 none were or the cache cannot be used, 2 bad command line.\n";

typedef struct {
    const char *cache_dir, *models_opt, *encoder, *folder, *html;
    fa_search_params sp;
    fa_qformat format;
    size_t folders_shown;
    int timing;
    char **photos;
    int n_photos;
} options;

static int parse_option(int c, options *o)
{
    long v;
    double d;
    switch (c) {
    case 'k': if (cli_int("--top", optarg, 1, 100000, &v)) return -1; o->sp.k = (size_t)v; return 0;
    case 'D': if (cli_double("--max-distance", optarg, 0, 4, &d)) return -1; o->sp.max_distance = (float)d; return 0;
    case 'F': o->folder = optarg; return 0;
    case 'N': if (cli_int("--folders", optarg, 1, 1000000, &v)) return -1; o->folders_shown = (size_t)v; return 0;
    case 'C': o->format = FA_QOUT_CSV; return 0;
    case 'J': o->format = FA_QOUT_JSON; return 0;
    case 'H': o->html = optarg; return 0;
    case 'M': o->models_opt = optarg; return 0;
    case 'E': o->encoder = optarg; return 0;
    case 'T': if (cli_int("--threads", optarg, 1, 256, &v)) return -1; o->sp.threads = (int)v; return 0;
    case 't': o->timing = 1; return 0;
    case 'h': fputs(help, stdout); exit(FA_EXIT_OK);
    default: fputs(help, stderr); return -1;
    }
}

static int parse(int argc, char **argv, options *o)
{
    static const struct option opts[] = {
        {"top", required_argument, 0, 'k'}, {"max-distance", required_argument, 0, 'D'},
        {"folder", required_argument, 0, 'F'}, {"folders", required_argument, 0, 'N'},
        {"csv", no_argument, 0, 'C'}, {"json", no_argument, 0, 'J'}, {"html", required_argument, 0, 'H'},
        {"models", required_argument, 0, 'M'}, {"encoder", required_argument, 0, 'E'},
        {"threads", required_argument, 0, 'T'}, {"timing", no_argument, 0, 't'},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "k:h", opts, NULL)) != -1)
        if (parse_option(c, o)) return -1;
    if (argc - optind < 2) {
        cli_error(optind >= argc ? "query needs CACHE and at least one PHOTO" : "query needs at least one PHOTO");
        fputs(help, stderr);
        return -1;
    }
    o->cache_dir = argv[optind];
    o->photos = argv + optind + 1;
    o->n_photos = argc - optind - 1;
    return 0;
}

/* Opens the cache with a message that says what to do about it. */
static fa_cache *open_cache(const char *dir)
{
    if (!fa_cache_exists(dir)) {
        cli_error("%s: no faceaudit cache there (make one with `faceaudit index ROOT -o %s`)", dir, dir);
        return NULL;
    }
    fa_cache *c = fa_cache_open(dir);
    if (!c) { cli_error("%s", fa_last_error()); return NULL; }
    if (c->n_faces == 0) {
        cli_error("%s: the cache holds no faces, there is nothing to compare with", dir);
        fa_cache_close(c);
        return NULL;
    }
    return c;
}

typedef struct {
    fa_cache *cache;
    fa_query *q;
    fa_searcher *s;
    fa_qreport out;
    fa_buf html;
    double search_s;
    size_t searches;
} session;

/* Searches every face of one photo; returns 0 or -1 (printed). */
static int search_faces(session *ss, const options *o, const fa_query_faces *f, fa_search_result *res)
{
    for (uint32_t i = 0; i < f->n_faces; i++) {
        double t0 = fa_now();
        int rc = fa_search_topk(ss->s, f->emb + (size_t)i * ss->cache->dim, &o->sp, &res[i]);
        ss->search_s += fa_now() - t0;
        ss->searches++;
        if (rc) { cli_error("search: %s", fa_last_error()); return -1; }
    }
    return 0;
}

/* Answers one photo; returns 1 when it was answered. */
static int answer_photo(session *ss, const options *o, const char *photo)
{
    fa_query_faces f;
    fa_search_result *res = NULL;
    fa_qanswer a = {photo, 0, NULL, &f, NULL};
    char err[1200];
    if (fa_query_photo(ss->q, photo, &f) == 0) {
        res = calloc(f.n_faces, sizeof *res);
        a.ok = res && search_faces(ss, o, &f, res) == 0;
        if (!res) snprintf(err, sizeof err, "%s: out of memory", photo);
        else snprintf(err, sizeof err, "%s: search failed", photo);
    } else {
        snprintf(err, sizeof err, "%s", fa_last_error());
    }
    if (!a.ok) { a.error = err; cli_error("%s", err); }
    a.res = res;
    fa_qreport_answer(&ss->out, &a);
    for (uint32_t i = 0; res && i < f.n_faces; i++) fa_search_result_free(&res[i]);
    free(res);
    fa_query_faces_free(&f);
    return a.ok;
}

static void print_timing(const session *ss)
{
    fa_query_times t;
    fa_query_get_times(ss->q, &t);
    fprintf(stderr, "timing: models %.3f s, read+decode %.3f s, detect %.3f s, encode %.3f s, "
                    "search %.3f ms for %zu face(s) over %zu cached faces\n",
            t.load, t.decode, t.detect, t.encode, ss->search_s * 1e3, ss->searches, ss->cache->n_faces);
}

/* Everything after the cache opened: models, the photos, the outputs. */
static int run(session *ss, const options *o)
{
    char models_dir[FA_PATH_MAX];
    if (o->folder && o->sp.folder < 0) {
        cli_error("%s: no folder named '%s' in the cache", o->cache_dir, o->folder);
        return FA_EXIT_FAIL;
    }
    if (cli_models_dir(o->models_opt, models_dir, sizeof models_dir)) return FA_EXIT_FAIL;
    fa_tune_process(FA_TUNE_MALLOC);   /* BLAS keeps its threads: one photo at a time */
    if (!(ss->q = fa_query_open(ss->cache, models_dir, o->encoder))) { cli_error("%s", fa_last_error()); return FA_EXIT_FAIL; }
    if (!(ss->s = fa_searcher_new(ss->cache))) { cli_error("%s", fa_last_error()); return FA_EXIT_FAIL; }
    int answered = 0;
    fa_qreport_begin(&ss->out);
    for (int i = 0; i < o->n_photos; i++) answered += answer_photo(ss, o, o->photos[i]);
    fa_qreport_end(&ss->out);
    if (o->timing) print_timing(ss);
    if (o->html && fa_qreport_html_save(&ss->out, o->html)) return FA_EXIT_FAIL;
    if (answered == o->n_photos) return FA_EXIT_OK;
    return answered ? FA_EXIT_PARTIAL : FA_EXIT_FAIL;
}

int cmd_query(int argc, char **argv)
{
    options o = {0};
    fa_search_default_params(&o.sp);
    o.sp.max_distance = -1;     /* unset: the cache's encoder decides */
    o.folders_shown = 5;
    if (parse(argc, argv, &o)) return FA_EXIT_USAGE;
    session ss = {0};
    if (!(ss.cache = open_cache(o.cache_dir))) return FA_EXIT_FAIL;
    const char *source = "option";
    if (o.sp.max_distance < 0) o.sp.max_distance = fa_query_default_distance(ss.cache, &source);
    if (o.folder) o.sp.folder = fa_cache_folder_index(ss.cache, o.folder);
    ss.out = (fa_qreport){stdout, o.format, ss.cache, &o.sp, o.folder, o.folders_shown, 0, o.html ? &ss.html : NULL,
                          source};
    int rc = run(&ss, &o);
    fa_searcher_free(ss.s);
    fa_query_free(ss.q);
    fa_buf_free(&ss.html);
    fa_cache_close(ss.cache);
    return rc;
}
