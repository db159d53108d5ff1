/*
 * reencode.c - bench/eval_encoders' helper: a copy of a cache whose faces
 * are encoded again by another encoder, on the very boxes the cache holds.
 *
 *   reencode SRC_CACHE DST_CACHE MODELS_DIR ENCODER [JOBS]
 *
 * Detection is most of indexing's time and does not depend on the encoder,
 * so comparing encoders on the faces faceaudit already found costs one
 * decode, the landmarks and the encoder per face, and compares them on
 * exactly the same faces. Landmarks and alignment are faceaudit's own (the
 * shim's fa_encode_faces), from the full-resolution pixels, as in `index`.
 * The result is an ordinary cache (the detector and landmark models are the
 * source cache's; the encoder record is the new one's). Prints the encode
 * time per face.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "faceaudit/cache.h"
#include "faceaudit/index.h"
#include "faceaudit/models.h"
#include "photo.h"
#include "util.h"

typedef struct {
    const fa_cache *c;
    const fa_models *m;
    float *emb;
    uint8_t *thumb;
    int dim, worker, jobs, failed;
    fa_nets_stats stats;
    char error[512];
} job;

/* Re-encodes the faces of files worker, worker + jobs, ... */
static void *work(void *arg)
{
    job *j = arg;
    fa_model_paths mp = {j->m->detector, j->m->landmarks, j->m->encoder, &j->m->spec, j->m->encoder2};
    fa_nets *nets = fa_nets_load(&mp);
    if (!nets || fa_nets_ready(nets)) goto fail;
    for (size_t i = (size_t)j->worker; i < j->c->n_files; i += (size_t)j->jobs) {
        const fa_file *f = &j->c->files[i];
        if (!f->n_faces) continue;
        char *full = fa_path_join(j->c->root, f->path), *bytes = NULL, why[256];
        size_t len;
        fa_image img = {0};
        fa_box boxes[FA_PHOTO_MAX_FACES];
        int ok = full && fa_read_file(full, (size_t)1 << 30, &bytes, &len) == 0 &&
                 fa_photo_decode(bytes, len, &j->c->detect, &img, why, sizeof why) == FA_STATUS_OK;
        if (!ok) fa_error("%s: cannot decode it again", full ? full : f->path);
        for (uint32_t k = 0; ok && k < f->n_faces; k++) boxes[k] = j->c->faces[f->first_face + k].box;
        if (ok && fa_encode_faces_thumbs(nets, &img, &j->c->detect, boxes, (int)f->n_faces,
                                         j->emb + (size_t)f->first_face * j->dim,
                                         j->thumb + (size_t)f->first_face * FA_THUMB_LEN))
            ok = 0;
        fa_image_free(&img);
        free(bytes);
        free(full);
        if (!ok) goto fail;
    }
    fa_nets_get_stats(nets, &j->stats);
    fa_nets_free(nets);
    return NULL;
fail:
    j->failed = 1;
    snprintf(j->error, sizeof j->error, "%s", fa_last_error());
    fa_nets_free(nets);
    return NULL;
}

static int commit(const fa_cache *c, const char *dst, const fa_models *m, const float *emb, const uint8_t *thumb)
{
    fa_model_id ids[FA_MODELS_MAX];
    int n = 0;
    for (int i = 0; i < c->n_models; i++)
        if (strncmp(c->models[i].role, "encoder", 7) != 0) ids[n++] = c->models[i];
    if (fa_model_id_of(fa_model_role(FA_ROLE_ENCODER), m->encoder, &ids[n++])) return -1;
    if (fa_model_roles(&m->spec) > FA_ROLE_ENCODER2 &&
        fa_model_id_of(fa_model_role(FA_ROLE_ENCODER2), m->encoder2, &ids[n++]))
        return -1;
    fa_cache_data d = {c->root, m->spec.dim, c->n_files, c->n_faces, c->n_folders, c->files, c->faces, emb,
                       c->folders, ids, n, &c->detect, m->spec.name, m->spec.metric, 0, 0, thumb, c->image_thumb};
    return fa_cache_commit(dst, &d);
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: reencode SRC_CACHE DST_CACHE MODELS_DIR ENCODER [JOBS]\n");
        return 2;
    }
    int jobs = argc > 5 ? atoi(argv[5]) : 1;
    if (jobs < 1 || jobs > 64) jobs = 1;
    fa_tune_malloc();
    fa_blas_setup();
    fa_models m;
    fa_cache *c = fa_cache_open(argv[1]);
    if (!c || fa_models_resolve(argv[3], argv[4], &m)) { fprintf(stderr, "reencode: %s\n", fa_last_error()); return 1; }
    float *emb = calloc(c->n_faces ? c->n_faces : 1, (size_t)m.spec.dim * sizeof(float));
    uint8_t *thumb = calloc(c->n_faces ? c->n_faces : 1, FA_THUMB_LEN);
    job js[64];
    pthread_t th[64];
    double t0 = fa_now();
    for (int w = 0; w < jobs; w++) {
        memset(&js[w], 0, sizeof js[w]);
        js[w].c = c; js[w].m = &m; js[w].emb = emb; js[w].thumb = thumb; js[w].dim = m.spec.dim; js[w].worker = w; js[w].jobs = jobs;
        pthread_create(&th[w], NULL, work, &js[w]);
    }
    double enc_ms = 0, align_ms = 0;
    long faces = 0;
    int rc = 0;
    for (int w = 0; w < jobs; w++) {
        pthread_join(th[w], NULL);
        if (js[w].failed) { fprintf(stderr, "reencode: %s\n", js[w].error); rc = 1; }
        enc_ms += js[w].stats.encode_ms;
        align_ms += js[w].stats.align_ms;
        faces += js[w].stats.faces_encoded;
    }
    if (rc == 0 && commit(c, argv[2], &m, emb, thumb)) { fprintf(stderr, "reencode: %s\n", fa_last_error()); rc = 1; }
    if (rc == 0)
        printf("encoder=%s faces=%ld seconds=%.1f encode_ms_per_face=%.2f align_ms_per_face=%.2f\n",
               m.spec.name, faces, fa_now() - t0, faces ? enc_ms / faces : 0, faces ? align_ms / faces : 0);
    free(emb);
    free(thumb);
    fa_cache_close(c);
    return rc;
}
