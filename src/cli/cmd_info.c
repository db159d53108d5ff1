/*
 * cmd_info.c - `faceaudit info CACHE`: what a cache holds, and with --list
 * STATUS the files of one status with their reasons.
 */
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "faceaudit/cache.h"

static const char help[] =
    "usage: faceaudit info CACHE [--list STATUS]\n"
    "\n"
    "Shows files, faces, folders, statuses, models and detection parameters.\n"
    "  --list STATUS   print the files of one status (ok, no_face, unreadable,\n"
    "                  unsupported, too_large, no_identity) with their reasons\n";

static void show(const fa_cache *c)
{
    size_t counts[FA_STATUS_COUNT], multi = 0;
    fa_cache_status_counts(c, counts);
    for (size_t i = 0; i < c->n_files; i++) multi += c->files[i].n_faces > 1;
    printf("cache       %s\nroot        %s\ncommitted   %s (generation %lld)\n", c->dir, c->root, c->created,
           (long long)c->generation);
    if (c->shard_n) printf("shard       %u/%u (faceaudit merge joins the shards)\n", c->shard_k, c->shard_n);
    printf("files       %zu\nfaces       %zu (dim %d)\nfolders     %zu\n", c->n_files, c->n_faces, c->dim,
           c->n_folders);
    printf("statuses   ");
    for (int s = 0; s < FA_STATUS_COUNT; s++) printf(" %s %zu", fa_status_name((fa_status)s), counts[s]);
    printf("\nmulti-face  %zu files with more than one face\n", multi);
    for (int i = 0; i < c->n_models; i++)
        printf("%-11s %s  sha256 %s\n", c->models[i].role, c->models[i].name, c->models[i].sha256);
    printf("encoding    %s, %d-d, %s\n", c->encoder, c->dim, fa_metric_name(c->metric));
    printf("detection   long side %d px, small images enlarged to %d px, retry at %d px, max %lld MP, "
           "chip %d px padding %.2f\n",
           c->detect.detect_long_side, c->detect.upsample_min_side, c->detect.retry_long_side,
           (long long)(c->detect.max_pixels / 1000000), c->detect.chip_size, c->detect.chip_padding);
    size_t faces, files;
    fa_cache_thumb_counts(c, &faces, &files);
    printf("thumbnails  faces %zu of %zu, images %zu of %zu files%s\n", faces, c->n_faces, files, c->n_files,
           c->image_thumb ? "" : " (a cache made before image thumbnails: `index` makes them)");
}

int cmd_info(int argc, char **argv)
{
    const char *dir = NULL, *list = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) { fputs(help, stdout); return FA_EXIT_OK; }
        if (!strcmp(argv[i], "--list") && i + 1 < argc) list = argv[++i];
        else if (!dir && argv[i][0] != '-') dir = argv[i];
        else { fputs(help, stderr); return FA_EXIT_USAGE; }
    }
    if (!dir) { fputs(help, stderr); return FA_EXIT_USAGE; }
    int st = -1;
    if (list && (st = fa_status_parse(list)) < 0) { cli_error("--list: unknown status '%s'", list); return FA_EXIT_USAGE; }
    fa_cache *c = fa_cache_open(dir);
    if (!c) { cli_error("%s", fa_last_error()); return FA_EXIT_FAIL; }
    if (list) {
        for (size_t i = 0; i < c->n_files; i++)
            if ((int)c->files[i].status == st)
                printf("%s\t%s\n", c->files[i].path, c->files[i].reason);
    } else {
        show(c);
    }
    fa_cache_close(c);
    return FA_EXIT_OK;
}
