/*
 * cmd_merge.c - `faceaudit merge SHARD... -o CACHE`: joins the caches of
 * `faceaudit index ROOT --shard K/N` (one per K) into the cache a single
 * `index ROOT` would have written (fa_cache_merge does the work).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include "cli.h"
#include "faceaudit/shard.h"
#include "faceaudit/util.h"

static const char help[] =
    "usage: faceaudit merge SHARD_CACHE... -o CACHE\n"
    "\n"
    "Joins the caches written by `faceaudit index ROOT --shard K/N -o SHARD_CACHE`\n"
    "for K = 1..N into CACHE, the cache `faceaudit index ROOT` would have written\n"
    "(same rows, same order). Refuses shards made with other models, encoder,\n"
    "detection parameters or ROOT, and a missing or repeated shard. A later\n"
    "`faceaudit index ROOT -o CACHE` updates it incrementally.\n"
    "\n"
    "  -o, --output CACHE   the merged cache (must not exist yet)\n"
    "  -q, --quiet          no summary\n";

int cmd_merge(int argc, char **argv)
{
    static const struct option opts[] = {{"output", required_argument, 0, 'o'}, {"quiet", no_argument, 0, 'q'},
                                         {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *out = NULL;
    int c, quiet = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:qh", opts, NULL)) != -1) {
        if (c == 'o') out = optarg;
        else if (c == 'q') quiet = 1;
        else if (c == 'h') { fputs(help, stdout); return FA_EXIT_OK; }
        else { fputs(help, stderr); return FA_EXIT_USAGE; }
    }
    if (!out || optind >= argc) {
        cli_error(!out ? "merge needs -o CACHE, the merged cache" : "merge needs the shard caches");
        fputs(help, stderr);
        return FA_EXIT_USAGE;
    }
    double t0 = fa_now();
    fa_merge_stats st;
    if (fa_cache_merge((const char *const *)argv + optind, (size_t)(argc - optind), out, &st)) {
        cli_error("merge: %s", fa_last_error());
        return FA_EXIT_FAIL;
    }
    if (!quiet)
        printf("merged %u shards -> %s: %zu files, %zu faces, %zu folders in %.1f s\n", st.shards, out, st.files,
               st.faces, st.folders, fa_now() - t0);
    return FA_EXIT_OK;
}
