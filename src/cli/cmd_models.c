/*
 * cmd_models.c - `faceaudit models fetch|list`: filling and showing the
 * model directory.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "faceaudit/faceaudit.h"
#include "faceaudit/models.h"

static const char help[] =
    "usage: faceaudit models fetch [--from DIR] [--encoder E] [--offline] [--models DIR]\n"
    "       faceaudit models list  [--encoder E] [--models DIR]\n"
    "\n"
    "fetch puts the detector, landmark and encoder models into the model directory\n"
    "and checks their SHA-256 sums: from --from DIR (an air-gapped copy; .dat or\n"
    ".dat.bz2 files), else from dlib.net. Without dlib's encoder file it rebuilds\n"
    "the same network from face-api's weights (npm @vladmandic/face-api@1.7.15).\n"
    "  --encoder E   dlib (default), faceapi, taguchi (trained mostly on Japanese\n"
    "                faces; needs p7zip-full), or a .dat file of the same network;\n"
    "                mobilefacenet (npm), buffalo_l, japanese-face-v1 (--from: files\n"
    "                you supply); dlib+mobilefacenet (both)\n";

static void log_line(void *ud, const char *msg)
{
    (void)ud;
    printf("%s\n", msg);
    fflush(stdout);
}

int cmd_models(int argc, char **argv)
{
    static const struct option opts[] = {
        {"from", required_argument, 0, 'f'}, {"encoder", required_argument, 0, 'e'},
        {"models", required_argument, 0, 'm'}, {"offline", no_argument, 0, 'O'},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *from = NULL, *encoder = NULL, *models_opt = NULL;
    int offline = 0, c;
    if (argc < 2 || (strcmp(argv[1], "fetch") && strcmp(argv[1], "list"))) {
        fputs(help, argc < 2 ? stderr : strcmp(argv[1], "--help") ? stderr : stdout);
        return argc >= 2 && !strcmp(argv[1], "--help") ? FA_EXIT_OK : FA_EXIT_USAGE;
    }
    int fetch = !strcmp(argv[1], "fetch");
    optind = 1;
    while ((c = getopt_long(argc - 1, argv + 1, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'f': from = optarg; break;
        case 'e': encoder = optarg; break;
        case 'm': models_opt = optarg; break;
        case 'O': offline = 1; break;
        case 'h': fputs(help, stdout); return FA_EXIT_OK;
        default: fputs(help, stderr); return FA_EXIT_USAGE;
        }
    }
    char dir[FA_PATH_MAX];
    if (cli_models_dir(models_opt, dir, sizeof dir)) return FA_EXIT_FAIL;
    if (fetch) {
        fa_fetch_params p = {dir, from, encoder, offline, log_line, NULL};
        if (fa_models_fetch(&p)) { cli_error("models fetch: %s", fa_last_error()); return FA_EXIT_FAIL; }
    }
    fa_models m;
    if (fa_models_resolve(dir, encoder, &m)) { cli_error("%s", fa_last_error()); return FA_EXIT_FAIL; }
    printf("models in use (%s):\n", dir);
    for (int i = 0; i < fa_model_roles(&m.spec); i++) {
        char hex[65];
        const char *path = fa_models_path(&m, i);
        if (fa_model_sha256(path, hex)) { cli_error("%s", fa_last_error()); return FA_EXIT_FAIL; }
        printf("  %-9s %s\n            sha256 %s%s%s\n", fa_model_role(i), path, hex,
               i == FA_ROLE_ENCODER ? "  " : "", i == FA_ROLE_ENCODER ? m.encoder_kind : "");
    }
    return FA_EXIT_OK;
}
