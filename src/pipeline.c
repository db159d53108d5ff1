/*
 * pipeline.c - reader and inference threads of the indexer (see pipeline.h).
 */
#include <errno.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "photo.h"
#include "pipeline.h"
#include "sha256.h"
#include "util.h"

#define MAX_FILE_BYTES ((size_t)1 << 30)

typedef struct {
    size_t idx;
    fa_image img;
} decoded;

typedef struct {
    size_t idx;
    fa_done_kind kind;
} finished;

struct fa_pipeline {
    fa_pipeline_params p;
    fa_result *items;
    size_t n;
    pthread_mutex_t mu;
    pthread_cond_t cv_decoded, cv_space, cv_done, cv_loaded;
    size_t next_item;               /* readers take items in order */
    decoded *dq;                    /* bounded queue of decoded images */
    size_t dq_cap, dq_head, dq_len;
    finished *fq;                   /* finished items, at most n */
    size_t fq_head, fq_len;
    int readers_left, workers_left, loaded, load_failed;
    char load_error[512];
    pthread_t *threads;
    int n_threads;
    int stop;
    fa_stage_times times;
};

static void push_finished(fa_pipeline *pl, size_t idx, fa_done_kind kind)
{
    pthread_mutex_lock(&pl->mu);
    size_t at = (pl->fq_head + pl->fq_len++) % pl->n;
    pl->fq[at] = (finished){idx, kind};
    pthread_cond_signal(&pl->cv_done);
    pthread_mutex_unlock(&pl->mu);
}

static void fail(fa_result *r, fa_status st, const char *reason)
{
    r->status = st;
    free(r->reason);
    r->reason = fa_strdup(reason);
}

static void add_time(fa_pipeline *pl, double *slot, double t0)
{
    double dt = fa_now() - t0;
    pthread_mutex_lock(&pl->mu);
    *slot += dt;
    pthread_mutex_unlock(&pl->mu);
}

/* A refresh item whose bytes are no longer what was indexed (changed under
 * the same size and time): its copied faces go, and it is indexed anew. */
static void drop_faces(fa_result *r)
{
    free(r->boxes); free(r->emb); free(r->thumb);
    r->boxes = NULL; r->emb = NULL; r->thumb = NULL;
    r->n_faces = 0;
}

/* Reads, hashes and decodes one file, and takes its image thumbnail.
 * Returns 1 if it needs inference. A file whose faces are known (a refresh
 * item with its indexed bytes, or content seen under another name) is only
 * decoded for a missing image thumbnail. */
static int prepare(fa_pipeline *pl, fa_result *r, fa_image *img, fa_done_kind *kind)
{
    char *full = fa_path_join(pl->p.root, r->path), *bytes = NULL, why[600];
    size_t len = 0;
    int need = 0, known = 0;
    uint8_t sha[32];
    double t0 = fa_now();
    *kind = FA_DONE_FAILED;
    if (!full || fa_read_file(full, MAX_FILE_BYTES, &bytes, &len)) {
        const char *e = fa_last_error(), *colon = strstr(e, ": ");
        snprintf(why, sizeof why, "%s", full && colon ? colon + 2 : "out of memory");
        drop_faces(r);
        fail(r, FA_STATUS_UNREADABLE, why);
        goto out;
    }
    int has_sha = fa_sha256_buf(bytes, len, sha) == 0;
    add_time(pl, &pl->times.read, t0);
    if (r->refresh) {
        known = has_sha && r->has_sha256 && memcmp(sha, r->sha256, 32) == 0;
        if (known) *kind = FA_DONE_REFRESHED;
        else drop_faces(r);
    }
    r->has_sha256 = has_sha;
    memcpy(r->sha256, sha, 32);
    if (!known && pl->p.reuse && pl->p.reuse(pl->p.reuse_ud, r->sha256, r)) {
        *kind = FA_DONE_MOVED;
        known = 1;
    }
    if (known && (r->has_image_thumb || r->status != FA_STATUS_OK || !pl->p.image_refresh)) goto out;
    t0 = fa_now();
    fa_status st = fa_photo_decode(bytes, len, pl->p.detect, img, why, sizeof why);
    if (st != FA_STATUS_OK) {
        if (!known) fail(r, st, why);   /* a known result stays, without the thumbnail */
        goto out;
    }
    fa_image_thumb(img, r->image_thumb);
    r->has_image_thumb = 1;
    add_time(pl, &pl->times.decode, t0);
    if (known) { fa_image_free(img); goto out; }
    r->width = img->width;
    r->height = img->height;
    need = 1;
out:
    free(bytes);
    free(full);
    return need;
}

static void *reader_main(void *arg)
{
    fa_pipeline *pl = arg;
    for (;;) {
        pthread_mutex_lock(&pl->mu);
        size_t i = pl->next_item;
        int stop = pl->stop || (pl->p.cancel && *pl->p.cancel) || i >= pl->n;
        if (!stop) pl->next_item++;
        pthread_mutex_unlock(&pl->mu);
        if (stop) break;
        fa_image img = {0};
        fa_done_kind kind;
        if (!prepare(pl, &pl->items[i], &img, &kind)) { push_finished(pl, i, kind); continue; }
        pthread_mutex_lock(&pl->mu);
        while (pl->dq_len == pl->dq_cap && !pl->stop) pthread_cond_wait(&pl->cv_space, &pl->mu);
        if (pl->stop) { pthread_mutex_unlock(&pl->mu); fa_image_free(&img); break; }
        pl->dq[(pl->dq_head + pl->dq_len++) % pl->dq_cap] = (decoded){i, img};
        pthread_cond_signal(&pl->cv_decoded);
        pthread_mutex_unlock(&pl->mu);
    }
    pthread_mutex_lock(&pl->mu);
    pl->readers_left--;
    pthread_cond_broadcast(&pl->cv_decoded);
    pthread_cond_broadcast(&pl->cv_done);
    pthread_mutex_unlock(&pl->mu);
    return NULL;
}

static void infer(fa_pipeline *pl, fa_nets *nets, size_t i, fa_image *img)
{
    fa_result *r = &pl->items[i];
    fa_photo_times t = {0};
    char why[600];
    fa_status st = fa_photo_faces(nets, img, pl->p.detect, pl->p.dim, &r->boxes, &r->emb, &r->thumb, &r->n_faces, why,
                                  sizeof why, &t);
    pthread_mutex_lock(&pl->mu);
    pl->times.detect += t.detect;
    pl->times.encode += t.encode;
    pthread_mutex_unlock(&pl->mu);
    if (st != FA_STATUS_OK) { fail(r, st, why); return; }
    r->status = FA_STATUS_OK;
    free(r->reason);
    r->reason = fa_strdup("");
}

static void *worker_main(void *arg)
{
    fa_pipeline *pl = arg;
    fa_nets *nets = fa_nets_load(&pl->p.models);
    if (nets && fa_nets_ready(nets)) { fa_nets_free(nets); nets = NULL; }
    pthread_mutex_lock(&pl->mu);
    if (!nets) {   /* the first failure says why; the others add nothing */
        if (!pl->load_failed) snprintf(pl->load_error, sizeof pl->load_error, "%s", fa_last_error());
        pl->load_failed = 1;
    }
    pl->loaded++;
    pthread_cond_broadcast(&pl->cv_loaded);
    while (nets && !pl->load_failed && pl->loaded < pl->p.jobs) pthread_cond_wait(&pl->cv_loaded, &pl->mu);
    pthread_mutex_unlock(&pl->mu);
    for (;;) {
        pthread_mutex_lock(&pl->mu);
        while (!pl->dq_len && pl->readers_left && !pl->stop) pthread_cond_wait(&pl->cv_decoded, &pl->mu);
        if (pl->stop || !pl->dq_len) { pthread_mutex_unlock(&pl->mu); break; }
        decoded d = pl->dq[pl->dq_head];
        pl->dq_head = (pl->dq_head + 1) % pl->dq_cap;
        pl->dq_len--;
        pthread_cond_signal(&pl->cv_space);
        pthread_mutex_unlock(&pl->mu);
        if (nets) infer(pl, nets, d.idx, &d.img);
        fa_image_free(&d.img);
        push_finished(pl, d.idx, pl->items[d.idx].status == FA_STATUS_OK ||
                                 pl->items[d.idx].status == FA_STATUS_NO_FACE ? FA_DONE_ENCODED : FA_DONE_FAILED);
    }
    fa_nets_stats ns = {0};
    if (nets) fa_nets_get_stats(nets, &ns);
    fa_nets_free(nets);
    pthread_mutex_lock(&pl->mu);
    pl->times.gflop += ns.gflop;
    pl->workers_left--;
    pthread_cond_broadcast(&pl->cv_done);
    pthread_mutex_unlock(&pl->mu);
    return NULL;
}

fa_pipeline *fa_pipeline_start(const fa_pipeline_params *p, fa_result *items, size_t n)
{
    fa_pipeline *pl = calloc(1, sizeof *pl);
    if (!pl) { fa_error("out of memory"); return NULL; }
    pl->p = *p;
    pl->items = items;
    pl->n = n ? n : 1;
    pl->dq_cap = (size_t)p->jobs * 2;
    pl->dq = calloc(pl->dq_cap, sizeof *pl->dq);
    pl->fq = calloc(pl->n, sizeof *pl->fq);
    pl->threads = calloc((size_t)(p->jobs + p->readers), sizeof *pl->threads);
    if (!pl->dq || !pl->fq || !pl->threads) { fa_error("out of memory"); goto fail_mem; }
    pthread_mutex_init(&pl->mu, NULL);
    pthread_cond_init(&pl->cv_decoded, NULL);
    pthread_cond_init(&pl->cv_space, NULL);
    pthread_cond_init(&pl->cv_done, NULL);
    pthread_cond_init(&pl->cv_loaded, NULL);
    pl->workers_left = p->jobs;
    pl->readers_left = p->readers;
    for (int i = 0; i < p->jobs; i++)
        if (pthread_create(&pl->threads[pl->n_threads], NULL, worker_main, pl) == 0) pl->n_threads++;
    /* Readers start only once every network loaded, so a bad model file costs nothing. */
    pthread_mutex_lock(&pl->mu);
    while (pl->loaded < pl->n_threads && !pl->load_failed) pthread_cond_wait(&pl->cv_loaded, &pl->mu);
    int failed = pl->load_failed || pl->n_threads < p->jobs;
    char msg[512];
    /* copied under the lock: a second worker may still be failing */
    if (failed) snprintf(msg, sizeof msg, "%s", pl->load_error[0] ? pl->load_error : "cannot start worker threads");
    if (failed) pl->stop = 1;
    pthread_cond_broadcast(&pl->cv_decoded);
    pthread_mutex_unlock(&pl->mu);
    if (failed) {
        pl->readers_left = 0;
        fa_pipeline_stop(pl, NULL);
        fa_error("%s", msg);
        return NULL;
    }
    int readers_started = 0;   /* not readers_left: a reader with little to read may be done already */
    for (int i = 0; i < p->readers; i++)
        if (pthread_create(&pl->threads[pl->n_threads], NULL, reader_main, pl) == 0) pl->n_threads++, readers_started++;
        else {
            pthread_mutex_lock(&pl->mu);
            pl->readers_left--;
            pthread_mutex_unlock(&pl->mu);
        }
    if (readers_started == 0) {   /* no reader could start */
        pthread_mutex_lock(&pl->mu);
        pl->stop = 1;
        pthread_cond_broadcast(&pl->cv_decoded);
        pthread_mutex_unlock(&pl->mu);
        fa_pipeline_stop(pl, NULL);
        fa_error("cannot start reader threads");
        return NULL;
    }
    return pl;
fail_mem:
    free(pl->dq); free(pl->fq); free(pl->threads); free(pl);
    return NULL;
}

int fa_pipeline_next(fa_pipeline *pl, double timeout, size_t *idx, fa_done_kind *kind)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += (time_t)timeout;
    until.tv_nsec += (long)((timeout - (double)(time_t)timeout) * 1e9);
    if (until.tv_nsec >= 1000000000L) { until.tv_sec++; until.tv_nsec -= 1000000000L; }
    pthread_mutex_lock(&pl->mu);
    for (;;) {
        if (pl->fq_len) {
            finished f = pl->fq[pl->fq_head];
            pl->fq_head = (pl->fq_head + 1) % pl->n;
            pl->fq_len--;
            pthread_mutex_unlock(&pl->mu);
            *idx = f.idx;
            *kind = f.kind;
            return 1;
        }
        if (!pl->readers_left && !pl->workers_left) break;
        if (!pl->readers_left && !pl->dq_len && pl->workers_left == 0) break;
        if (pthread_cond_timedwait(&pl->cv_done, &pl->mu, &until) == ETIMEDOUT) {
            pthread_mutex_unlock(&pl->mu);
            return 0;
        }
    }
    pthread_mutex_unlock(&pl->mu);
    return -1;
}

void fa_pipeline_stop(fa_pipeline *pl, fa_stage_times *times)
{
    if (!pl) return;
    pthread_mutex_lock(&pl->mu);
    pl->stop = 1;
    pthread_cond_broadcast(&pl->cv_decoded);
    pthread_cond_broadcast(&pl->cv_space);
    pthread_cond_broadcast(&pl->cv_loaded);
    pthread_mutex_unlock(&pl->mu);
    for (int i = 0; i < pl->n_threads; i++) pthread_join(pl->threads[i], NULL);
    for (size_t k = 0; k < pl->dq_len; k++) fa_image_free(&pl->dq[(pl->dq_head + k) % pl->dq_cap].img);
    if (times) *times = pl->times;
    pthread_mutex_destroy(&pl->mu);
    pthread_cond_destroy(&pl->cv_decoded);
    pthread_cond_destroy(&pl->cv_space);
    pthread_cond_destroy(&pl->cv_done);
    pthread_cond_destroy(&pl->cv_loaded);
    free(pl->dq); free(pl->fq); free(pl->threads); free(pl);
}
