/*
 * test_faults.c - out-of-memory fault injection, SQLite-style: the Nth
 * allocation made by the library fails, for N = 1, 2, ... until a run makes
 * fewer than N allocations. Looped over opening a cache, committing one,
 * the journal (open, replay, append, sync), the audit and the exact search,
 * and (when a models folder is given) indexing a few tiny images. Each
 * failure must end in an error with a message, or in the correct result;
 * never a crash; the committed cache stays intact; under ASan any leak on
 * these paths fails the run (LeakSanitizer at exit).
 *
 * The library's malloc/calloc/realloc are wrapped at link time
 * (-Wl,--wrap=...), so only faceaudit's own allocations fail, in both the
 * normal and the sanitizer build (ASan's allocator is what __real_malloc
 * reaches there).
 * Usage: test_faults [MODELS_DIR FACES_DIR] (index loop with both)
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "../src/audit/findings.h"
#include "check.h"
#include "faceaudit/cache.h"
#include "faceaudit/index.h"
#include "faceaudit/query.h"
#include "journal.h"
#include "util.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t k);
void *__real_realloc(void *p, size_t n);

static atomic_long alloc_count, fail_at;   /* fail_at 0: never */

static int should_fail(void)
{
    long n = atomic_fetch_add(&alloc_count, 1) + 1;
    return n == atomic_load(&fail_at);
}

void *__wrap_malloc(size_t n) { if (should_fail()) { errno = ENOMEM; return NULL; } return __real_malloc(n); }
void *__wrap_calloc(size_t n, size_t k) { if (should_fail()) { errno = ENOMEM; return NULL; } return __real_calloc(n, k); }
void *__wrap_realloc(void *p, size_t n)
{
    if (should_fail()) { errno = ENOMEM; return NULL; }
    return __real_realloc(p, n);
}

static char dir[] = "/tmp/fa-test-faults-XXXXXX";
static char base[600], work[600], jpath[600];

/* Runs op with allocation N failing, for every N it reaches. op returns 0
 * (success, result checked by op), -1 (refused with a message), or -2 (a
 * wrong result: always a failure). Returns the number of allocations. */
static long loop(const char *name, int (*op)(void), long stride)
{
    long n, total = 0, failures = 0, runs = 0;
    for (n = 1;; n += stride, runs++) {
        atomic_store(&alloc_count, 0);
        fa_error("%s", "");
        atomic_store(&fail_at, n);
        int rc = op();
        atomic_store(&fail_at, 0);
        total = atomic_load(&alloc_count);
        CHECK(rc != -2, "%s: allocation %ld failing gave a wrong result", name, n);
        if (rc == -1) {
            failures++;
            CHECK(fa_last_error()[0] != 0, "%s: allocation %ld failing: error without a message", name, n);
        }
        if (total < n) break;   /* this run no longer reached allocation n */
    }
    printf("%-8s %5ld allocations, %ld runs with one failing, %ld ended in an error\n", name, total, runs, failures);
    CHECK(total > 0, "%s made no allocation", name);
    return total;
}

/* ---- the operations ------------------------------------------------------- */

static fa_cache_data sample(fa_file *files, fa_face *faces, float *emb, char **folders, fa_model_id *models,
                            fa_detect_params *dp, int variant)
{
    static char *names[] = {"a", "b"};
    memset(files, 0, 3 * sizeof *files);
    files[0] = (fa_file){.path = "a/1.jpg", .folder = 0, .status = FA_STATUS_OK, .reason = "", .size = 10,
                         .n_faces = 2, .first_face = 0, .width = 90, .height = 90};
    files[1] = (fa_file){.path = "a/2.png", .folder = 0, .status = FA_STATUS_UNREADABLE, .reason = "bad",
                         .first_face = -1};
    files[2] = (fa_file){.path = "b/3.jpg", .folder = 1, .status = FA_STATUS_OK, .reason = "", .size = 7,
                         .n_faces = 1, .first_face = 2, .width = 50, .height = 40};
    for (int i = 0; i < 3; i++) faces[i] = (fa_face){i < 2 ? 0 : 2, i < 2 ? (uint32_t)i : 0, {1, 2, 3, 4, 0.9f}};
    for (int i = 0; i < 3 * 128; i++) emb[i] = (float)((i * 7 + variant) % 13) / 13.0f;
    folders[0] = names[0];
    folders[1] = names[1];
    for (int i = 0; i < 3; i++) {
        memset(&models[i], 0, sizeof models[i]);
        snprintf(models[i].role, sizeof models[i].role, "%s", i == 0 ? "detector" : i == 1 ? "landmarks" : "encoder");
        snprintf(models[i].name, sizeof models[i].name, "m%d.dat", i);
        memset(models[i].sha256, 'a' + i, 64);
    }
    *dp = (fa_detect_params){1024, 0, 1600, 80000000, 150, 0.25f};
    return (fa_cache_data){ .root = "/r", .dim = 128, .n_files = 3, .n_faces = 3, .n_folders = 2, .files = files,
                            .faces = faces, .emb = emb, .folders = folders, .models = models, .n_models = 3,
                            .detect = dp };
}

static int write_cache(const char *where, int variant)
{
    fa_file files[3];
    fa_face faces[3];
    float emb[3 * 128];
    char *folders[2];
    fa_model_id models[3];
    fa_detect_params dp;
    fa_cache_data d = sample(files, faces, emb, folders, models, &dp, variant);
    return fa_cache_commit(where, &d);
}

/* What a reader must see of a cache written by write_cache(variant). */
static int cache_is(const fa_cache *c, int variant)
{
    return c && c->n_files == 3 && c->n_faces == 3 && c->n_folders == 2 && c->files[0].n_faces == 2 &&
           strcmp(c->files[2].path, "b/3.jpg") == 0 && c->emb[5] == (float)((5 * 7 + variant) % 13) / 13.0f;
}

static int op_open(void)
{
    fa_cache *c = fa_cache_open(base);
    if (!c) return -1;
    int ok = cache_is(c, 0);
    fa_cache_close(c);
    return ok ? 0 : -2;
}

/* A commit into a copy of the base cache: failing, the old generation stays. */
static int op_commit(void)
{
    char cmd[2000];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -a '%s' '%s'", work, base, work);
    long saved = atomic_exchange(&fail_at, 0);
    if (system(cmd) != 0) return -2;
    atomic_store(&fail_at, saved);
    int rc = write_cache(work, 1);
    saved = atomic_exchange(&fail_at, 0);   /* check with allocations working */
    fa_cache *c = fa_cache_open(work);
    int ok = c && cache_is(c, rc == 0 ? 1 : 0) && c->generation == (rc == 0 ? 2 : 1);
    if (!ok) fprintf(stderr, "commit (rc %d) left %s: generation %lld, %s\n", rc, c ? "a wrong cache" : "no cache",
                     c ? (long long)c->generation : -1LL, fa_last_error());
    fa_cache_close(c);
    atomic_store(&fail_at, saved);
    return !ok ? -2 : rc;
}

/* Opens the journal (two records to replay), appends two, syncs. Each
 * run starts from the same two records. */
static int op_journal(void)
{
    char fp[64], cmd[1300];
    memset(fp, 'f', sizeof fp);
    snprintf(cmd, sizeof cmd, "cp '%s.orig' '%s'", jpath, jpath);
    long saved = atomic_exchange(&fail_at, 0);
    if (system(cmd) != 0) return -2;
    atomic_store(&fail_at, saved);
    fa_result *rep = NULL;
    size_t n = 0;
    fa_journal *j = fa_journal_open(jpath, fp, 128, &rep, &n);
    if (!j) return -1;
    for (size_t i = 0; i < n; i++) fa_result_clear(&rep[i]);
    free(rep);
    fa_box box = {1, 2, 3, 4, 0.5f};
    float emb[128] = {0};
    fa_result r = {.path = "p/x.jpg", .status = FA_STATUS_OK, .reason = "", .n_faces = 1, .boxes = &box, .emb = emb};
    int rc = fa_journal_append(j, &r) || fa_journal_append(j, &r) || fa_journal_sync(j) ? -1 : 0;
    fa_journal_close(j);
    return rc;
}

static fa_cache *audited;

static int op_audit(void)
{
    fa_audit_params p = fa_audit_default_params();
    fa_audit *a = fa_audit_run(audited, &p);
    if (!a) return -1;
    fa_audit_free(a);
    return 0;
}

static int op_search(void)
{
    fa_searcher *s = fa_searcher_new(audited);
    if (!s) return -1;
    fa_search_params p;
    fa_search_default_params(&p);
    fa_search_result r;
    memset(&r, 0, sizeof r);
    int rc = fa_search_topk(s, audited->emb, &p, &r);
    if (rc == 0) fa_search_result_free(&r);
    fa_searcher_free(s);
    return rc ? -1 : 0;
}

static const char *models_dir, *faces_dir;
static char idx_root[600], idx_cache[600];

static int fresh;   /* op_index starts from no cache (the networks run) */

/* Indexes three tiny images: from nothing (fresh), or reusing the cache. */
static int op_index(void)
{
    if (fresh) {
        char cmd[700];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", idx_cache);
        long saved = atomic_exchange(&fail_at, 0);
        if (system(cmd) != 0) return -2;
        atomic_store(&fail_at, saved);
    }
    fa_index_params p;
    fa_index_default_params(&p);
    char det[700], lm[700], enc[700];
    snprintf(det, sizeof det, "%s/mmod_human_face_detector.dat", models_dir);
    snprintf(lm, sizeof lm, "%s/shape_predictor_68_face_landmarks.dat", models_dir);
    snprintf(enc, sizeof enc, "%s/dlib_face_recognition_resnet_model_v1_faceapi.dat", models_dir);
    p.root = idx_root;
    p.cache_dir = idx_cache;
    p.detector = det; p.landmarks = lm; p.encoder = enc;
    p.jobs = 1;
    fa_index_stats st;
    int rc = fa_index_run(&p, &st);
    long saved = atomic_exchange(&fail_at, 0);
    fa_index_stats_free(&st);
    fa_cache *c = fa_cache_exists(idx_cache) ? fa_cache_open(idx_cache) : NULL;
    int ok = !fa_cache_exists(idx_cache) || (c && c->n_files == 3);
    fa_cache_close(c);
    atomic_store(&fail_at, saved);
    return !ok ? -2 : rc ? -1 : 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
    snprintf(base, sizeof base, "%s/base", dir);
    snprintf(work, sizeof work, "%s/work", dir);
    snprintf(jpath, sizeof jpath, "%s/journal", dir);
    CHECK(write_cache(base, 0) == 0, "%s", fa_last_error());
    loop("open", op_open, 1);
    loop("commit", op_commit, 1);
    char cmd[1300];
    snprintf(cmd, sizeof cmd, ": > '%s.orig'", jpath);
    int setup = system(cmd) == 0 && op_journal() == 0;   /* header and two records */
    snprintf(cmd, sizeof cmd, "cp '%s' '%s.orig'", jpath, jpath);
    if (setup && system(cmd) == 0) loop("journal", op_journal, 1);
    else CHECK(0, "journal setup: %s", fa_last_error());
    audited = fa_cache_open(base);
    CHECK(audited != NULL, "%s", fa_last_error());
    if (audited) {
        loop("audit", op_audit, 1);
        loop("search", op_search, 1);
    }
    fa_cache_close(audited);
    if (argc == 3) {
        models_dir = argv[1];
        faces_dir = argv[2];
        snprintf(idx_root, sizeof idx_root, "%s/root", dir);
        snprintf(idx_cache, sizeof idx_cache, "%s/icache", dir);
        char icmd[2000];
        snprintf(icmd, sizeof icmd, "mkdir -p %s/p && /usr/bin/python3 -c \"from PIL import Image; "
                 "[Image.open('%s/examples/obama/obama.jpg').convert('RGB').resize((s, s)).save('%s/p/%%d.jpg' %% s) "
                 "for s in (40, 60, 80)]\"", idx_root, faces_dir, idx_root);
        CHECK(system(icmd) == 0, "tiny images");
        /* a run from nothing loads the networks (seconds): a sample of its
         * allocations, about 12 spread evenly; then every allocation of a
         * run that reuses the committed results */
        fresh = 1;
        atomic_store(&alloc_count, 0);
        CHECK(op_index() == 0, "index: %s", fa_last_error());
        long total = atomic_load(&alloc_count);
        loop("index", op_index, total / 12 + 1);
        fresh = 0;
        loop("reindex", op_index, 1);
    }
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) return 1;
    return check_done();
}
