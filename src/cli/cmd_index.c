/*
 * cmd_index.c - `faceaudit index ROOT [-o CACHE]`: option parsing, progress
 * and the summary around fa_index_run.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "faceaudit/cache.h"
#include "faceaudit/index.h"
#include "faceaudit/models.h"
#include "faceaudit/shard.h"

static const char help[] =
    "usage: faceaudit index ROOT [options]\n"
    "\n"
    "Detects and encodes every face under ROOT/<identity>/... into a cache.\n"
    "Runs again only on what changed; an interrupted run resumes.\n"
    "\n"
    "  -o, --output CACHE     cache directory (default ROOT/.faceaudit)\n"
    "      --models DIR       model directory (default $FACEAUDIT_MODELS or ~/.local/share/faceaudit/models)\n"
    "      --encoder E        dlib (default; for an existing cache, its encoder), faceapi, taguchi,\n"
    "                         or a .dat file of the same network;\n"
    "                         mobilefacenet, buffalo_l, japanese-face-v1 or onnx:FILE (ONNX, 512-d cosine);\n"
    "                         dlib+E: dlib's vector and E's in one (e.g. dlib+mobilefacenet, 640-d)\n"
    "      --encoder-spec F   JSON spec of an onnx:FILE encoder (default: FILE.json beside it)\n"
    "  -j, --jobs N           inference workers (default: all cores)\n"
    "      --rebuild          ignore the existing cache and start over\n"
    "      --detect-size N    first detection pass: long side scaled to N px\n"
    "      --upsample-below N images smaller than N px are enlarged to N for detection\n"
    "      --retry-size N     second look at images with no face, at up to N px (0: off)\n"
    "      --aligned          face-filling crops (e.g. 89x109, 160x160): detect at 144 px,\n"
    "                         small crops enlarged to it, second look at 288 px; options\n"
    "                         after it override\n"
    "      --max-megapixels N images declaring more pixels get status too_large\n"
    "      --limit N          only the first N files (benchmarks)\n"
    "      --shard K/N        only shard K of N (a hash of each file's path); run\n"
    "                         the N shards anywhere, then `faceaudit merge` them\n"
    "      --checkpoint S     save finished work every S seconds (default 2)\n"
    "      --no-image-refresh a cache made before image thumbnails: leave its unchanged\n"
    "                         files without them (by default they are decoded again for\n"
    "                         them, once; nothing is encoded)\n"
    "  -q, --quiet            no progress line\n";

typedef struct {
    cli_progress bar;
} progress_ctx;

static void on_progress(void *ud, const fa_index_progress *p)
{
    progress_ctx *c = ud;
    char extra[96];
    snprintf(extra, sizeof extra, "faces %zu  failures %zu", p->faces, p->failures);
    cli_progress_show(&c->bar, "index", p->done, p->todo, p->rate, p->eta, extra, p->final);
}

/* Names the files that could not be used, so the user can act on them. */
static void list_problems(const char *cache_dir, const fa_index_stats *st)
{
    size_t shown = st->n_failed < 20 ? st->n_failed : 20;
    for (size_t i = 0; i < shown; i++) {
        const fa_index_failure *f = &st->failed[i];
        fprintf(stderr, "  %s: %s%s%s\n", f->path, fa_status_name(f->status), f->reason[0] ? ": " : "", f->reason);
    }
    if (st->n_failed > shown)
        fprintf(stderr, "  ... and %zu more (faceaudit info %s --list unreadable)\n", st->n_failed - shown, cache_dir);
}

static int parse(int argc, char **argv, fa_index_params *p, const char **models_opt, const char **encoder,
                 const char **spec, int *quiet)
{
    static const struct option opts[] = {
        {"output", required_argument, 0, 'o'}, {"models", required_argument, 0, 'M'},
        {"encoder", required_argument, 0, 'E'}, {"jobs", required_argument, 0, 'j'},
        {"rebuild", no_argument, 0, 'R'}, {"detect-size", required_argument, 0, 'D'},
        {"upsample-below", required_argument, 0, 'U'}, {"retry-size", required_argument, 0, 'T'},
        {"max-megapixels", required_argument, 0, 'P'}, {"limit", required_argument, 0, 'L'},
        {"checkpoint", required_argument, 0, 'C'}, {"aligned", no_argument, 0, 'A'}, {"encoder-spec", required_argument, 0, 'S'}, {"shard", required_argument, 0, 'K'},
        {"no-image-refresh", no_argument, 0, 'N'}, {"quiet", no_argument, 0, 'q'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    long v;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:j:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'o': p->cache_dir = optarg; break;
        case 'M': *models_opt = optarg; break;
        case 'E': *encoder = optarg; break;
        case 'S': *spec = optarg; break;
        case 'j': if (cli_int("--jobs", optarg, 1, 256, &v)) return -1; p->jobs = (int)v; break;
        case 'R': p->rebuild = 1; break;
        case 'D': if (cli_int("--detect-size", optarg, 80, 8192, &v)) return -1; p->detect.detect_long_side = (int)v; break;
        case 'U': if (cli_int("--upsample-below", optarg, 0, 4096, &v)) return -1; p->detect.upsample_min_side = (int)v; break;
        case 'T': if (cli_int("--retry-size", optarg, 0, 8192, &v)) return -1; p->detect.retry_long_side = (int)v; break;
        case 'A': fa_detect_aligned_params(&p->detect); break;
        case 'P': if (cli_int("--max-megapixels", optarg, 1, 100000, &v)) return -1; p->detect.max_pixels = v * 1000000LL; break;
        case 'L': if (cli_int("--limit", optarg, 1, 1L << 40, &v)) return -1; p->limit = (size_t)v; break;
        case 'C': if (cli_double("--checkpoint", optarg, 0.1, 3600, &p->checkpoint_seconds)) return -1; break;
        case 'K':
            if (fa_shard_parse(optarg, &p->shard_k, &p->shard_n)) { cli_error("%s", fa_last_error()); return -1; }
            break;
        case 'N': p->no_image_refresh = 1; break;
        case 'q': *quiet = 1; break;
        case 'h': fputs(help, stdout); exit(FA_EXIT_OK);
        default: fputs(help, stderr); return -1;
        }
    }
    if (optind != argc - 1) {
        cli_error(optind >= argc ? "index needs ROOT, the folder of identity folders" : "index takes one ROOT");
        return -1;
    }
    p->root = argv[optind];
    return 0;
}

static void summary(const fa_index_params *p, const fa_index_stats *st)
{
    printf("indexed %s -> %s", p->root, p->cache_dir);
    if (p->shard_n) printf(" (shard %u/%u)", p->shard_k, p->shard_n);
    printf("\n");
    printf("  files %zu: encoded %zu, unchanged %zu, moved %zu, resumed %zu; removed %zu\n", st->files,
           st->encoded, st->reused, st->moved, st->resumed, st->removed);
    if (st->refreshed) printf("  %zu unchanged files decoded again for their image thumbnails\n", st->refreshed);
    printf("  faces %zu;", st->faces);
    for (int s = 0; s < FA_STATUS_COUNT; s++)
        if (st->status[s]) printf(" %s %zu", fa_status_name((fa_status)s), st->status[s]);
    printf("\n  %.1f s", st->seconds);
    if (st->encoded) printf(", %.2f images/s encoded", (double)st->encoded / st->seconds);
    printf("\n");
}

/* The encoder name an existing cache was made with, when it is not a file
 * of its own (onnx:FILE needs its spec: given again by the user). */
static int cache_encoder_of(const char *dir, char *out, size_t n)
{
    return fa_cache_encoder_of(dir, out, n) && strncmp(out, "onnx:", 5) != 0;
}

int cmd_index(int argc, char **argv)
{
    fa_index_params p;
    fa_index_default_params(&p);
    const char *models_opt = NULL, *encoder = NULL, *spec = NULL;
    int quiet = 0;
    if (parse(argc, argv, &p, &models_opt, &encoder, &spec, &quiet)) return FA_EXIT_USAGE;
    char models_dir[FA_PATH_MAX], default_cache[FA_PATH_MAX];
    fa_models m;
    if (cli_models_dir(models_opt, models_dir, sizeof models_dir)) return FA_EXIT_FAIL;
    if (!p.cache_dir) {
        snprintf(default_cache, sizeof default_cache, "%s/.faceaudit", p.root);
        p.cache_dir = default_cache;
    }
    char cache_encoder[64];
    if (!encoder && !spec && !p.rebuild && cache_encoder_of(p.cache_dir, cache_encoder, sizeof cache_encoder))
        encoder = cache_encoder;   /* an update goes on with the cache's own encoder */
    if (fa_models_resolve_spec(models_dir, encoder, spec, &m)) { cli_error("%s", fa_last_error()); return FA_EXIT_FAIL; }
    p.detector = m.detector;
    p.landmarks = m.landmarks;
    p.encoder = m.encoder;
    p.encoder_spec = &m.spec;
    p.encoder2 = m.spec.fused ? m.encoder2 : NULL;
    progress_ctx pc;
    cli_progress_init(&pc.bar, quiet);
    p.progress = on_progress;
    p.progress_ud = &pc;
    cli_catch_signals();
    fa_tune_process(FA_TUNE_ALL);   /* before the workers allocate their scratch buffers */
    p.cancel = &cli_cancel;
    fa_index_stats st;
    if (fa_index_run(&p, &st)) {
        cli_error("index %s: %s", p.root, fa_last_error());
        fa_index_stats_free(&st);
        return FA_EXIT_FAIL;
    }
    summary(&p, &st);
    list_problems(p.cache_dir, &st);
    fa_index_stats_free(&st);
    return FA_EXIT_OK;
}
