/*
 * index.c - `faceaudit index`: decides what each file in the tree needs
 * (nothing, a copy of a previous result, or the networks), runs the pipeline,
 * checkpoints to the journal and commits the cache.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "faceaudit/index.h"
#include "faceaudit/models.h"
#include "cachedir.h"
#include "hashmap.h"
#include "journal.h"
#include "pipeline.h"
#include "scan.h"
#include "faceaudit/shard.h"
#include "sha256.h"
#include "util.h"

/* The encoder's output size: 128 for dlib's ResNet, the spec's otherwise. */
static int index_dim(const fa_index_params *p) { return p->encoder_spec ? p->encoder_spec->dim : 128; }

/* Where a previous result lives: the old cache, or the journal of an
 * interrupted run. */
typedef struct {
    const fa_cache *old;
    fa_result *replayed;
    size_t n_replayed;
    fa_hashmap by_path;     /* path -> source id */
    fa_hashmap by_sha;      /* sha256 -> source id (files that decoded) */
    int dim;                /* embedding size */
} prior;

/* Source ids: [0, old->n_files) are old cache files, then replayed results. */
static int prior_is_old(const prior *pr, size_t id) { return pr->old && id < pr->old->n_files; }

static const fa_result *prior_replayed(const prior *pr, size_t id)
{
    return &pr->replayed[id - (pr->old ? pr->old->n_files : 0)];
}

/* Fills r's outcome fields and allocates room for n faces. */
static int copy_outcome(fa_result *r, fa_status status, int width, int height, int has_sha256,
                        const uint8_t sha256[32], const char *reason, uint32_t n, int dim)
{
    r->status = status;
    r->width = width;
    r->height = height;
    r->has_sha256 = has_sha256;
    memcpy(r->sha256, sha256, 32);
    free(r->reason);
    r->reason = fa_strdup(reason);
    r->n_faces = n;
    r->boxes = n ? malloc(n * sizeof *r->boxes) : NULL;
    r->emb = n ? malloc(n * (size_t)dim * sizeof(float)) : NULL;
    r->thumb = n ? calloc(n, FA_THUMB_LEN) : NULL;   /* zeros: none, until copied */
    return !r->reason || (n && (!r->boxes || !r->emb || !r->thumb)) ? -1 : 0;
}

/* Copies a previous result (faces and embeddings included) into r. */
static int prior_copy(const prior *pr, size_t id, fa_result *r, int dim)
{
    if (prior_is_old(pr, id)) {
        const fa_file *f = &pr->old->files[id];
        if (copy_outcome(r, f->status, f->width, f->height, f->has_sha256, f->sha256, f->reason, f->n_faces, dim))
            return -1;
        for (uint32_t k = 0; k < f->n_faces; k++) r->boxes[k] = pr->old->faces[f->first_face + k].box;
        if (f->n_faces)
            memcpy(r->emb, pr->old->emb + (size_t)f->first_face * dim, f->n_faces * (size_t)dim * sizeof(float));
        if (f->n_faces && pr->old->thumb)   /* a cache from before thumbnails has none */
            memcpy(r->thumb, pr->old->thumb + (size_t)f->first_face * FA_THUMB_LEN, f->n_faces * (size_t)FA_THUMB_LEN);
        const uint8_t *im = pr->old->image_thumb ? pr->old->image_thumb + (size_t)id * FA_THUMB_LEN : NULL;
        r->has_image_thumb = im && !fa_thumb_none(im);
        if (r->has_image_thumb) memcpy(r->image_thumb, im, FA_THUMB_LEN);
        return 0;
    }
    const fa_result *s = prior_replayed(pr, id);
    if (copy_outcome(r, s->status, s->width, s->height, s->has_sha256, s->sha256, s->reason, s->n_faces, dim))
        return -1;
    if (s->n_faces) {
        memcpy(r->boxes, s->boxes, s->n_faces * sizeof *r->boxes);
        memcpy(r->emb, s->emb, s->n_faces * (size_t)dim * sizeof(float));
        if (s->thumb) memcpy(r->thumb, s->thumb, s->n_faces * (size_t)FA_THUMB_LEN);
    }
    r->has_image_thumb = s->has_image_thumb;
    memcpy(r->image_thumb, s->image_thumb, FA_THUMB_LEN);
    return 0;
}

static int prior_build(prior *pr)
{
    size_t n_old = pr->old ? pr->old->n_files : 0;
    if (fa_hashmap_init(&pr->by_path, n_old + pr->n_replayed) ||
        fa_hashmap_init(&pr->by_sha, n_old + pr->n_replayed))
        return fa_error("out of memory");
    for (size_t i = 0; i < n_old + pr->n_replayed; i++) {
        const char *path;
        const uint8_t *sha;
        int has_sha, decoded;
        if (i < n_old) {
            const fa_file *f = &pr->old->files[i];
            path = f->path; sha = f->sha256; has_sha = f->has_sha256;
            decoded = f->status == FA_STATUS_OK || f->status == FA_STATUS_NO_FACE;
        } else {
            const fa_result *r = prior_replayed(pr, i);
            path = r->path; sha = r->sha256; has_sha = r->has_sha256;
            decoded = r->status == FA_STATUS_OK || r->status == FA_STATUS_NO_FACE;
        }
        /* Journal entries come later and so replace the old cache's. */
        if (fa_hashmap_put(&pr->by_path, path, strlen(path), i)) return fa_error("out of memory");
        if (has_sha && decoded && fa_hashmap_put(&pr->by_sha, sha, 32, i)) return fa_error("out of memory");
    }
    return 0;
}

static void prior_free(prior *pr)
{
    for (size_t i = 0; i < pr->n_replayed; i++) fa_result_clear(&pr->replayed[i]);
    free(pr->replayed);
    fa_hashmap_free(&pr->by_path);
    fa_hashmap_free(&pr->by_sha);
}

/* Pipeline callback: a file whose bytes were seen before under another name. */
static int reuse_by_sha(void *ud, const uint8_t sha[32], fa_result *r)
{
    const prior *pr = ud;
    size_t id;
    if (!fa_hashmap_get(&pr->by_sha, sha, 32, &id)) return 0;
    char *path = r->path;
    int64_t size = r->size, mtime = r->mtime_ns;
    if (prior_copy(pr, id, r, pr->dim)) return 0;
    r->path = path; r->size = size; r->mtime_ns = mtime;
    return 1;
}

/* ---- helpers ----------------------------------------------------------------- */

/* The models' identities: detector, landmarks, encoder, and for a fused
 * encoder ("dlib+E") dlib's ResNet as "encoder2". Returns how many, or -1. */
static int model_ids(const fa_index_params *p, fa_model_id ids[FA_MODELS_MAX])
{
    const char *paths[FA_ROLES] = {p->detector, p->landmarks, p->encoder, p->encoder2};
    int n = fa_model_roles(p->encoder_spec);
    for (int i = 0; i < n; i++) {
        if (!paths[i]) return fa_error("no %s model given", fa_model_role(i));
        if (fa_model_id_of(fa_model_role(i), paths[i], &ids[i])) return -1;
    }
    return n;
}

/* Models and detection policy, hashed: what a journal must match to be replayed. */
static void fingerprint(const fa_model_id *ids, int n_ids, const fa_detect_params *d, const fa_encoder_spec *es,
                        char out[65])
{
    char text[1024];
    int n = snprintf(text, sizeof text, "%s %s %s %d %d %d %lld %d %.4f", ids[0].sha256, ids[1].sha256, ids[2].sha256,
                     d->detect_long_side, d->upsample_min_side, d->retry_long_side, (long long)d->max_pixels,
                     d->chip_size, d->chip_padding);
    if (es && es->onnx)   /* the same file under another spec makes other vectors */
        n += snprintf(text + n, sizeof text - n, " %s %d %d", es->name, es->dim, (int)es->metric);
    if (n_ids > FA_ROLE_ENCODER2) snprintf(text + n, sizeof text - n, " %s", ids[FA_ROLE_ENCODER2].sha256);
    uint8_t h[32];
    fa_sha256_buf(text, strlen(text), h);
    fa_sha256_hex(h, out);
}

static int same_models(const fa_cache *c, const fa_model_id *ids, int n_ids, const fa_index_params *p)
{
    const fa_detect_params *d = &p->detect;
    const char *enc = p->encoder_spec ? p->encoder_spec->name : "dlib";
    if (strcmp(c->encoder, enc) != 0 && (p->encoder_spec && p->encoder_spec->onnx))
        return fa_error("%s was made with the %s encoder, this run uses %s; embeddings of different encoders must "
                        "not be mixed: use --rebuild, or another cache with -o", c->dir, c->encoder, enc);
    for (int i = 0; i < n_ids; i++) {
        const fa_model_id *m = fa_cache_model(c, ids[i].role);
        if (!m || strcmp(m->sha256, ids[i].sha256) != 0)
            return fa_error("%s was made with %s model %s (sha256 %.12s...), this run uses %s (%.12s...); "
                            "embeddings of different models must not be mixed: use --rebuild, or another "
                            "cache with -o", c->dir, ids[i].role, m ? m->name : "(none)", m ? m->sha256 : "",
                            ids[i].name, ids[i].sha256);
    }
    if (c->detect.detect_long_side != d->detect_long_side || c->detect.upsample_min_side != d->upsample_min_side ||
        c->detect.retry_long_side != d->retry_long_side || c->detect.chip_size != d->chip_size)
        return fa_error("%s was made with other detection parameters; use --rebuild to redo it with these", c->dir);
    return 0;
}

/* ---- assembly and commit ------------------------------------------------------ */

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Builds the cache arrays from per-file results (in scan order) and commits. */
static int commit_results(const fa_index_params *p, const fa_scan_list *scan, fa_result *res, size_t n,
                          const fa_model_id *ids, int n_ids, fa_index_stats *st)
{
    size_t n_faces = 0, n_folders = 0;
    for (size_t i = 0; i < n; i++) n_faces += res[i].n_faces;
    char **folders = malloc((n ? n : 1) * sizeof *folders);
    fa_file *files = calloc(n ? n : 1, sizeof *files);
    fa_face *faces = calloc(n_faces ? n_faces : 1, sizeof *faces);
    const size_t dim = (size_t)index_dim(p);
    float *emb = malloc((n_faces ? n_faces : 1) * dim * sizeof(float));
    uint8_t *thumb = calloc(n_faces ? n_faces : 1, FA_THUMB_LEN);
    uint8_t *image = calloc(n ? n : 1, FA_THUMB_LEN);   /* zeros: none */
    int rc = -1;
    if (!folders || !files || !faces || !emb || !thumb || !image) { fa_error("out of memory"); goto out; }
    for (size_t i = 0; i < n; i++) folders[n_folders++] = scan->v[i].folder;
    qsort(folders, n_folders, sizeof *folders, cmp_str);
    size_t u = 0;
    for (size_t i = 0; i < n_folders; i++)
        if (!u || strcmp(folders[u - 1], folders[i]) != 0) folders[u++] = folders[i];
    n_folders = u;
    size_t row = 0;
    memset(st->status, 0, sizeof st->status);
    for (size_t i = 0; i < n; i++) {
        fa_file *f = &files[i];
        const fa_result *r = &res[i];
        const char *fo = scan->v[i].folder;
        f->path = r->path;
        f->folder = (uint32_t)((char **)bsearch(&fo, folders, n_folders, sizeof *folders, cmp_str) - folders);
        f->status = r->status;
        f->reason = r->reason ? r->reason : "";
        f->size = r->size; f->mtime_ns = r->mtime_ns;
        f->has_sha256 = r->has_sha256;
        memcpy(f->sha256, r->sha256, 32);
        f->width = r->width; f->height = r->height;
        f->n_faces = r->n_faces;
        f->first_face = r->n_faces ? (int64_t)row : -1;
        if (r->has_image_thumb) memcpy(image + i * FA_THUMB_LEN, r->image_thumb, FA_THUMB_LEN);
        for (uint32_t k = 0; k < r->n_faces; k++, row++) {
            faces[row] = (fa_face){(uint32_t)i, k, r->boxes[k]};
            memcpy(emb + row * dim, r->emb + k * dim, dim * sizeof(float));
            if (r->thumb) memcpy(thumb + row * FA_THUMB_LEN, r->thumb + k * FA_THUMB_LEN, FA_THUMB_LEN);
        }
        st->status[r->status]++;
    }
    char abs_root[4096];
    if (!realpath(p->root, abs_root)) snprintf(abs_root, sizeof abs_root, "%s", p->root);
    fa_encoder_spec dlib;
    fa_encoder_spec_dlib(&dlib);
    const fa_encoder_spec *es = p->encoder_spec ? p->encoder_spec : &dlib;
    fa_cache_data d = {abs_root, (int)dim, n, n_faces, n_folders, files, faces, emb, folders, ids, n_ids, &p->detect,
                       es->name, es->metric, p->shard_k, p->shard_n, thumb, image};
    rc = fa_cache_commit(p->cache_dir, &d);
    st->files = n;
    st->faces = n_faces;
out:
    free(folders); free(files); free(faces); free(emb); free(thumb); free(image);
    return rc;
}

/* Keeps the scanned files of shard K/N (in order) and frees the others. */
static void keep_shard(fa_scan_list *scan, uint32_t k, uint32_t n)
{
    size_t w = 0;
    for (size_t i = 0; i < scan->n; i++) {
        fa_scan_entry *e = &scan->v[i];
        if (fa_shard_of(e->path, n) == k) { scan->v[w++] = *e; continue; }
        free(e->path); free(e->folder); free(e->problem);
    }
    scan->n = w;
}

/* An existing cache holds the same share of the tree as this run. */
static int same_shard(const fa_cache *c, const fa_index_params *p)
{
    if (c->shard_n == p->shard_n && c->shard_k == p->shard_k) return 0;
    char was[48] = "the whole tree", now[48] = "the whole tree";
    if (c->shard_n) snprintf(was, sizeof was, "shard %u/%u", c->shard_k, c->shard_n);
    if (p->shard_n) snprintf(now, sizeof now, "shard %u/%u", p->shard_k, p->shard_n);
    return fa_error("%s holds %s, this run indexes %s; use the same --shard, another -o, or --rebuild",
                    c->dir, was, now);
}

/* Files of the old cache that are no longer in the (first n of the) tree. */
static size_t count_removed(const fa_cache *old, const fa_scan_list *scan, size_t n)
{
    fa_hashmap now;
    size_t gone = 0, id;
    if (!old || fa_hashmap_init(&now, n)) return 0;
    for (size_t i = 0; i < n; i++) fa_hashmap_put(&now, scan->v[i].path, strlen(scan->v[i].path), i);
    for (size_t i = 0; i < old->n_files; i++)
        if (!fa_hashmap_get(&now, old->files[i].path, strlen(old->files[i].path), &id)) gone++;
    fa_hashmap_free(&now);
    return gone;
}

/* ---- the run ------------------------------------------------------------------- */

void fa_index_default_params(fa_index_params *p)
{
    memset(p, 0, sizeof *p);
    fa_detect_default_params(&p->detect);
    p->checkpoint_seconds = 2.0;
}

/* 144 px puts a 89x109 crop's ~65 px face (1.3x) above the detector's
 * ~80 px window and shrinks 160 px crops a little; the default policy
 * instead looks at such crops twice (1x, then 2x). Measured on 279
 * celeba_aligned crops: the same 279 faces with 17% less CPU. */
void fa_detect_aligned_params(fa_detect_params *d)
{
    d->detect_long_side = 144;
    d->upsample_min_side = 144;
    d->retry_long_side = 288;
}

static void report(const fa_index_params *p, fa_index_progress *pg, double t0, int final)
{
    if (!p->progress) return;
    pg->elapsed = fa_now() - t0;
    pg->rate = pg->elapsed > 0 ? (double)pg->done / pg->elapsed : 0;
    pg->eta = pg->rate > 0 ? (double)(pg->todo - pg->done) / pg->rate : -1;
    pg->final = final;
    p->progress(p->progress_ud, pg);
}

/* Decides per scanned file: reuse (path, size, mtime unchanged) or work;
 * a reused file without an image thumbnail (a cache made before them) is
 * work too, decode only, when refresh is set. */
static size_t plan(const fa_scan_list *scan, size_t n, const prior *pr, fa_result *res, size_t *work,
                   int refresh, fa_index_stats *st)
{
    size_t n_work = 0;
    for (size_t i = 0; i < n; i++) {
        const fa_scan_entry *e = &scan->v[i];
        fa_result *r = &res[i];
        size_t id;
        r->path = fa_strdup(e->path);
        r->size = e->size;
        r->mtime_ns = e->mtime_ns;
        if (e->problem) {
            r->status = FA_STATUS_UNREADABLE;
            r->reason = fa_strdup(e->problem);
        } else if (!e->folder[0]) {
            r->status = FA_STATUS_NO_IDENTITY;
            r->reason = fa_strdup("file directly in ROOT: identities come from first-level folders");
        } else if (fa_hashmap_get(&pr->by_path, e->path, strlen(e->path), &id) &&
                   (prior_is_old(pr, id) ? pr->old->files[id].size == e->size &&
                                               pr->old->files[id].mtime_ns == e->mtime_ns
                                         : prior_replayed(pr, id)->size == e->size &&
                                               prior_replayed(pr, id)->mtime_ns == e->mtime_ns) &&
                   prior_copy(pr, id, r, pr->dim) == 0) {
            /* a cache made before image thumbnails: decoded again for them
             * (counted as reused or resumed when that is done, run_pipeline) */
            if (refresh && r->status == FA_STATUS_OK && !r->has_image_thumb) {
                r->refresh = prior_is_old(pr, id) ? 1 : 2;
                work[n_work++] = i;
            } else if (prior_is_old(pr, id)) {
                st->reused++;
            } else {
                st->resumed++;
            }
        } else {
            work[n_work++] = i;
        }
    }
    return n_work;
}

static int run_pipeline(const fa_index_params *p, prior *pr, fa_result *res, const size_t *work, size_t n_work,
                        fa_journal *jr, fa_index_stats *st, fa_stage_times *times)
{
    fa_result *items = calloc(n_work ? n_work : 1, sizeof *items);
    if (!items) return fa_error("out of memory");
    for (size_t k = 0; k < n_work; k++) {
        items[k] = res[work[k]];          /* moves path ownership into the item */
        memset(&res[work[k]], 0, sizeof res[work[k]]);
    }
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    fa_pipeline_params pp = {
        .root = p->root, .models = {p->detector, p->landmarks, p->encoder, p->encoder_spec, p->encoder2}, .detect = &p->detect,
        .jobs = p->jobs > 0 ? p->jobs : (int)(cores > 0 ? cores : 1), .dim = index_dim(p),
        .reuse = reuse_by_sha, .reuse_ud = pr, .image_refresh = !p->no_image_refresh, .cancel = p->cancel};
    pp.readers = pp.jobs >= 6 ? 2 : 1;
    if ((size_t)pp.jobs > n_work && n_work) pp.jobs = (int)n_work;
    int rc = 0;
    size_t finished = 0;
    if (n_work) {
        fa_pipeline *pl = fa_pipeline_start(&pp, items, n_work);
        if (!pl) rc = -1;
        fa_index_progress pg = {.total = st->files, .todo = n_work};
        double t0 = fa_now(), last_sync = t0, last_report = 0;
        size_t idx;
        fa_done_kind kind;
        int got;
        while (pl && (got = fa_pipeline_next(pl, 0.25, &idx, &kind)) >= 0) {
            double now = fa_now();
            if (got == 1) {
                finished++;
                pg.done++;
                pg.faces += items[idx].n_faces;
                if (kind == FA_DONE_ENCODED) st->encoded++;
                else if (kind == FA_DONE_MOVED) st->moved++;
                else if (kind == FA_DONE_REFRESHED) {
                    st->refreshed++;
                    if (items[idx].refresh == 1) st->reused++;
                    else st->resumed++;
                } else pg.failures++;
                items[idx].refresh = 0;
                if (fa_journal_append(jr, &items[idx])) { rc = -1; break; }
            }
            if (now - last_sync >= p->checkpoint_seconds) {
                if (fa_journal_sync(jr)) { rc = -1; break; }
                last_sync = now;
            }
            if (now - last_report >= 0.2) { report(p, &pg, t0, 0); last_report = now; }
        }
        if (pl) fa_pipeline_stop(pl, times);
        if (rc == 0 && fa_journal_sync(jr)) rc = -1;
        report(p, &pg, t0, 1);
    }
    for (size_t k = 0; k < n_work; k++) res[work[k]] = items[k];
    free(items);
    if (rc == 0 && finished < n_work)
        rc = fa_error("interrupted: %zu of %zu files done and saved; run the same command again to resume",
                      finished, n_work);
    return rc;
}

static int unusable(fa_status s) { return s != FA_STATUS_OK && s != FA_STATUS_NO_FACE; }

/* Hands the committed files that could not be used back to the caller. Best
 * effort: out of memory leaves the list short (the cache is committed). */
static void list_failed(const fa_result *res, size_t n, fa_index_stats *st)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) k += unusable(res[i].status);
    if (!k || !(st->failed = calloc(k, sizeof *st->failed))) return;
    for (size_t i = 0; i < n && st->n_failed < k; i++) {
        if (!unusable(res[i].status)) continue;
        fa_index_failure *f = &st->failed[st->n_failed];
        f->status = res[i].status;
        f->path = fa_strdup(res[i].path);
        f->reason = fa_strdup(res[i].reason ? res[i].reason : "");
        if (!f->path || !f->reason) { free(f->path); free(f->reason); return; }
        st->n_failed++;
    }
}

void fa_index_stats_free(fa_index_stats *st)
{
    for (size_t i = 0; i < st->n_failed; i++) {
        free(st->failed[i].path);
        free(st->failed[i].reason);
    }
    free(st->failed);
    st->failed = NULL;
    st->n_failed = 0;
}

int fa_index_run(const fa_index_params *p, fa_index_stats *st)
{
    double t_start = fa_now();
    memset(st, 0, sizeof *st);
    if (fa_mkdir_p(p->cache_dir)) return -1;
    int lock = fa_cache_lock(p->cache_dir);
    if (lock < 0) return -1;
    fa_model_id ids[FA_MODELS_MAX];
    int n_ids;
    prior pr = {0};
    fa_scan_list scan = {0};
    fa_result *res = NULL;
    size_t *work = NULL;
    fa_journal *jr = NULL;
    fa_cache *old = NULL;
    char *jpath = fa_cache_journal_path(p->cache_dir), fp[65];
    size_t n = 0;
    int rc = -1;
    if (!jpath) { fa_error("out of memory"); goto out; }
    if ((n_ids = model_ids(p, ids)) < 0) goto out;
    if (!p->rebuild && fa_cache_exists(p->cache_dir)) {
        if (!(old = fa_cache_open(p->cache_dir))) {
            fa_error("cannot update the existing cache: %s (use --rebuild to start over)", fa_last_error());
            goto out;
        }
        if (same_models(old, ids, n_ids, p) || same_shard(old, p)) goto out;
    }
    if (p->rebuild) unlink(jpath);
    if (fa_scan(p->root, &scan)) goto out;
    if (p->shard_n) keep_shard(&scan, p->shard_k, p->shard_n);
    n = p->limit && p->limit < scan.n ? p->limit : scan.n;
    fingerprint(ids, n_ids, &p->detect, p->encoder_spec, fp);
    pr.dim = index_dim(p);
    if (!(jr = fa_journal_open(jpath, fp, pr.dim, &pr.replayed, &pr.n_replayed))) goto out;
    pr.old = old;
    if (prior_build(&pr)) goto out;
    res = calloc(n ? n : 1, sizeof *res);
    work = malloc((n ? n : 1) * sizeof *work);
    if (!res || !work) { fa_error("out of memory"); goto out; }
    st->files = n;
    size_t n_work = plan(&scan, n, &pr, res, work, !p->no_image_refresh, st);
    for (size_t i = 0; i < n; i++)   /* plan's copies of the paths */
        if (!res[i].path) { fa_error("out of memory"); goto out; }
    st->removed = count_removed(old, &scan, n);
    fa_stage_times times = {0};
    int prc = run_pipeline(p, &pr, res, work, n_work, jr, st, &times);
    st->t_read = times.read; st->t_decode = times.decode;
    st->t_detect = times.detect; st->t_encode = times.encode;
    st->gflop = times.gflop;
    if (prc) goto out;
    if (commit_results(p, &scan, res, n, ids, n_ids, st)) goto out;
    list_failed(res, n, st);
    unlink(jpath);   /* its results are in the cache now */
    rc = 0;
out:
    st->seconds = fa_now() - t_start;
    if (res)
        for (size_t i = 0; i < n; i++) fa_result_clear(&res[i]);
    free(res);
    free(work);
    fa_journal_close(jr);
    prior_free(&pr);
    fa_cache_close(old);
    fa_scan_free(&scan);
    free(jpath);
    close(lock);
    return rc;
}
