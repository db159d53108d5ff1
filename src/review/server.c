/*
 * server.c - the review web app (see server.h): routing, the security checks
 * every request passes, the state JSON and the thumbnails.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "faceaudit/review.h"
#include "faceaudit/cache.h"
#include "hashmap.h"
#include "json.h"
#include "request.h"
#include "rerror.h"
#include "sha256.h"
#include "shim/shim.h"
#include "util.h"

extern const unsigned char fa_web_index_html[], fa_web_app_js[], fa_web_app_css[];
extern const unsigned long fa_web_index_html_len, fa_web_app_js_len, fa_web_app_css_len;

#define BODY_MAX 65536
#define FOLDER_SAMPLES 12

struct fa_review {
    struct MHD_Daemon *d;
    char *cache_dir, *thumbs, *decisions_path, *findings_path;
    struct timespec findings_mtime;     /* of the findings.json loaded */
    fa_cache *cache;
    fa_rfindings *findings;
    fa_decisions *dec;
    pthread_mutex_t lock;       /* guards dec */
    fa_hashmap by_path;         /* cache file path -> file index */
    uint32_t *folder_files;     /* file indices grouped by folder ... */
    size_t *folder_off;         /* ... folder f's are [folder_off[f], folder_off[f + 1]) */
    char token[33];
    int port;
    char url[96], host_ip[32], host_name[32], origin[48];
    char *page;                 /* index.html with the token filled in */
    size_t page_len;
};

/* --- responses ----------------------------------------------------------- */

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type, const void *body,
                            size_t len, int copy, const char *cache)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        len, (void *)body, copy ? MHD_RESPMEM_MUST_COPY : MHD_RESPMEM_PERSISTENT);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "Content-Security-Policy",
                            "default-src 'none'; img-src 'self'; script-src 'self'; style-src 'self'; "
                            "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "Cache-Control", cache ? cache : "no-store");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned status, const char *msg)
{
    return reply(c, status, "text/plain; charset=utf-8", msg, strlen(msg), 1, NULL);
}

static enum MHD_Result send_buf(struct MHD_Connection *c, unsigned status, fa_buf *b)
{
    if (b->oom) { fa_buf_free(b); return send_text(c, 500, "out of memory\n"); }
    enum MHD_Result r = reply(c, status, "application/json", b->data ? b->data : "", b->len, 1, NULL);
    fa_buf_free(b);
    return r;
}

/* --- checks -------------------------------------------------------------- */

static int same_secret(const char *a, const char *b)
{
    size_t n = strlen(b);
    if (!a || strlen(a) != n) return 0;
    unsigned char diff = 0;
    for (size_t i = 0; i < n; i++) diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}

/* Why a request is refused, or NULL. */
static const char *refuse(const fa_review *r, struct MHD_Connection *c, int post)
{
    const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
    if (!host || (strcmp(host, r->host_ip) && strcmp(host, r->host_name))) return "bad Host\n";
    const char *tok = post ? MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-FA-Token")
                           : MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "t");
    if (!same_secret(tok, r->token)) return "missing or wrong token\n";
    if (!post) return NULL;
    const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
    const char *site = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Sec-Fetch-Site");
    const char *type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    if (origin && strcmp(origin, r->origin) && !(strncmp(origin, "http://localhost:", 17) == 0 &&
                                                 atoi(origin + 17) == r->port && strlen(origin) < 24))
        return "cross-origin request refused\n";
    if (site && strcmp(site, "same-origin")) return "cross-site request refused\n";
    if (!type || strncmp(type, "application/json", 16)) return "expected application/json\n";
    return NULL;
}

/* --- images -------------------------------------------------------------- */

/* Image number n: a face row (n < n_faces), else file n - n_faces (centre). */
static int image_of(const fa_review *r, unsigned long n, const fa_file **file, const fa_box **box, int *face)
{
    const fa_cache *cc = r->cache;
    if (n < cc->n_faces) {
        *file = &cc->files[cc->faces[n].file];
        *box = &cc->faces[n].box;
        *face = (int)cc->faces[n].face;
        return 0;
    }
    if (n - cc->n_faces < cc->n_files) {
        *file = &cc->files[n - cc->n_faces];
        *box = NULL;
        *face = -1;
        return 0;
    }
    return -1;
}

/* Sends a JPEG thumbnail response (from a file or a buffer) with the headers
 * every thumbnail gets; releases resp. */
static enum MHD_Result send_jpeg(struct MHD_Connection *c, struct MHD_Response *resp)
{
    MHD_add_response_header(resp, "Content-Type", "image/jpeg");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Cache-Control", "private, max-age=86400");
    enum MHD_Result ret = MHD_queue_response(c, 200, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result serve_thumb_file(struct MHD_Connection *c, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st)) { if (fd >= 0) close(fd); return MHD_NO; }
    struct MHD_Response *resp = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
    if (!resp) { close(fd); return MHD_NO; }
    return send_jpeg(c, resp);
}

/* Keeps a thumbnail in CACHE/thumbs (temp file, then rename: readers never
 * see half a file). Failure only costs the cache. */
static void keep_thumb(const fa_review *r, const char *path, const uint8_t *jpg, size_t len)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s/.tmp-XXXXXX", r->thumbs);
    int fd = mkstemp(tmp);
    if (fd < 0) return;
    int bad = fa_write_all(fd, jpg, len);
    close(fd);
    if (bad || rename(tmp, path)) unlink(tmp);
}

static enum MHD_Result serve_image(fa_review *r, struct MHD_Connection *c, const char *num)
{
    unsigned long n, size = 160;
    const char *s = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "s");
    const fa_file *f;
    const fa_box *box;
    int face;
    if (fa_image_number_parse(num, &n) || image_of(r, n, &f, &box, &face)) return send_text(c, 404, "no such image\n");
    if (s && (fa_image_number_parse(s, &size) || (size != 96 && size != 160 && size != 320)))
        return send_text(c, 400, "size must be 96, 160 or 320\n");
    if (!f->has_sha256) return send_text(c, 404, "image not readable\n");
    char hex[65], cached[4200];
    fa_sha256_hex(f->sha256, hex);
    snprintf(cached, sizeof cached, "%s/%s-%d-%lu.jpg", r->thumbs, hex, face, size);
    if (access(cached, R_OK) == 0) {
        enum MHD_Result ret = serve_thumb_file(c, cached);
        if (ret == MHD_YES) return ret;
    }
    char *src = fa_path_join(r->cache->root, f->path);
    uint8_t *jpg = NULL;
    size_t len = 0;
    int rc = src ? fa_thumbnail_jpeg(src, box, (int)size, &jpg, &len) : -1;
    free(src);
    if (rc) return send_text(c, 404, "image not readable\n");
    keep_thumb(r, cached, jpg, len);
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, jpg, MHD_RESPMEM_MUST_FREE);
    if (!resp) { free(jpg); return MHD_NO; }
    return send_jpeg(c, resp);
}

/* --- the state the page shows ------------------------------------------ */

/* The image number for a file of the cache (its face row when known). */
static long img_for(const fa_review *r, const char *path, long face_row)
{
    size_t i;
    const fa_cache *cc = r->cache;
    if (!fa_hashmap_get(&r->by_path, path, strlen(path), &i)) return -1;
    if (face_row >= 0 && (size_t)face_row < cc->n_faces && cc->faces[face_row].file == i) return face_row;
    if (cc->files[i].first_face >= 0) return (long)cc->files[i].first_face;
    return (long)(cc->n_faces + i);
}

static int cmp_name(const void *key, const void *elem) { return strcmp(key, *(char *const *)elem); }

/* "name":{"files":N,"imgs":[...]} for one folder: up to FOLDER_SAMPLES of its
 * faces, spread evenly over its files. */
static void folder_json(const fa_review *r, fa_buf *b, const char *name)
{
    const fa_cache *cc = r->cache;
    char **hit = bsearch(name, cc->folders, cc->n_folders, sizeof *cc->folders, cmp_name);
    size_t n = 0, k = 0, shown = 0, lo = 0, hi = 0;
    if (hit) lo = r->folder_off[hit - cc->folders], hi = r->folder_off[hit - cc->folders + 1];
    for (size_t i = lo; i < hi; i++) n += cc->files[r->folder_files[i]].first_face >= 0;
    fa_buf_json_str(b, name);
    fa_buf_printf(b, ":{\"files\":%zu,\"imgs\":[", n);
    for (size_t i = lo; i < hi && shown < FOLDER_SAMPLES; i++) {
        const fa_file *f = &cc->files[r->folder_files[i]];
        if (f->first_face < 0) continue;
        if (k++ * FOLDER_SAMPLES >= shown * n) {
            fa_buf_printf(b, "%s%lld", shown ? "," : "", (long long)f->first_face);
            shown++;
        }
    }
    fa_buf_puts(b, "]}");
}

/* Groups the cache's files by folder (a counting sort), for folder_json. */
static int group_folders(fa_review *r)
{
    const fa_cache *cc = r->cache;
    r->folder_off = calloc(cc->n_folders + 2, sizeof *r->folder_off);
    r->folder_files = malloc((cc->n_files + 1) * sizeof *r->folder_files);
    if (!r->folder_off || !r->folder_files) return fa_error("out of memory");
    for (size_t i = 0; i < cc->n_files; i++)
        if (cc->files[i].folder < cc->n_folders) r->folder_off[cc->files[i].folder + 2]++;
    for (size_t f = 2; f < cc->n_folders + 2; f++) r->folder_off[f] += r->folder_off[f - 1];
    for (size_t i = 0; i < cc->n_files; i++)
        if (cc->files[i].folder < cc->n_folders) r->folder_files[r->folder_off[cc->files[i].folder + 1]++] = (uint32_t)i;
    return 0;
}

static void str_member(fa_buf *b, const char *key, const char *val)
{
    fa_buf_printf(b, ",\"%s\":", key);
    fa_buf_json_str(b, val);
}

static void finding_json(const fa_review *r, fa_buf *b, const fa_rfinding *f)
{
    const char *arg;
    fa_decision d = fa_decisions_get(r->dec, f->id, &arg);
    fa_buf_puts(b, "{\"id\":");
    fa_buf_json_str(b, f->id);
    str_member(b, "kind", f->kind), str_member(b, "action", f->action), str_member(b, "summary", f->summary);
    str_member(b, "path", f->path), str_member(b, "folder", f->folder), str_member(b, "other_path", f->other_path);
    str_member(b, "other_folder", f->other_folder), str_member(b, "keep", f->keep);
    str_member(b, "decision", fa_decision_name(d)), str_member(b, "arg", arg);
    fa_buf_printf(b, ",\"rank\":%d,\"score\":%.4g,\"review\":%s,\"evidence\":%s,\"files\":[", f->rank, f->score,
                  f->review ? "true" : "false", f->evidence_json);
    for (size_t i = 0; i < f->n_files; i++) {
        fa_buf_puts(b, i ? ",{\"path\":" : "{\"path\":");
        fa_buf_json_str(b, f->files[i].path);
        str_member(b, "folder", f->files[i].folder);
        fa_buf_printf(b, ",\"img\":%ld}", img_for(r, f->files[i].path, f->files[i].face_row));
    }
    fa_buf_puts(b, "],\"clusters\":[");
    for (size_t c = 0; c < f->n_clusters; c++) {
        const fa_rcluster *cl = &f->clusters[c];
        fa_buf_printf(b, "%s{\"own\":%s", c ? "," : "", cl->own ? "true" : "false");
        str_member(b, "looks_like", cl->looks_like);
        fa_buf_puts(b, ",\"paths\":[");
        for (size_t i = 0; i < cl->n_paths; i++) { if (i) fa_buf_putc(b, ','); fa_buf_json_str(b, cl->paths[i]); }
        fa_buf_puts(b, "],\"imgs\":[");
        for (size_t i = 0; i < cl->n_paths; i++) fa_buf_printf(b, "%s%ld", i ? "," : "", img_for(r, cl->paths[i], -1));
        fa_buf_puts(b, "]}");
    }
    fa_buf_puts(b, "]}");
}

/* Adds name to the folder list unless present or empty. */
static void note_folder(fa_hashmap *seen, const char ***names, size_t *n, const char *name)
{
    size_t v;
    if (!*name || fa_hashmap_get(seen, name, strlen(name), &v)) return;
    const char **grown = realloc(*names, (*n + 1) * sizeof **names);
    if (!grown || fa_hashmap_put(seen, name, strlen(name), *n)) { if (grown) *names = grown; return; }
    *names = grown;
    (*names)[(*n)++] = name;
}

/* A new audit while the page is open: load its findings (the old ones stay
 * when the new file cannot be read). Called with the lock held. */
static void reload_findings(fa_review *r)
{
    struct stat st;
    if (stat(r->findings_path, &st) || (st.st_mtim.tv_sec == r->findings_mtime.tv_sec &&
                                         st.st_mtim.tv_nsec == r->findings_mtime.tv_nsec))
        return;
    fa_rfindings *f = fa_rfindings_load(r->findings_path);
    if (!f) return;
    fa_rfindings_free(r->findings);
    r->findings = f;
    r->findings_mtime = st.st_mtim;
}

static void state_json(fa_review *r, fa_buf *b)
{
    pthread_mutex_lock(&r->lock);
    reload_findings(r);
    const fa_rfindings *fs = r->findings;
    fa_hashmap seen;
    const char **names = NULL;
    size_t n_names = 0;
    fa_hashmap_init(&seen, 64);
    fa_buf_puts(b, "{\"format\":1");
    str_member(b, "root", fs->root), str_member(b, "created", fs->created), str_member(b, "encoder", fs->encoder);
    fa_buf_printf(b, ",\"generation\":%ld,\"findings\":[", fs->generation);
    for (size_t i = 0; i < fs->n; i++) {
        if (i) fa_buf_putc(b, ',');
        finding_json(r, b, &fs->f[i]);
        note_folder(&seen, &names, &n_names, fs->f[i].folder);
        note_folder(&seen, &names, &n_names, fs->f[i].other_folder);
        for (size_t c = 0; c < fs->f[i].n_clusters; c++) note_folder(&seen, &names, &n_names, fs->f[i].clusters[c].looks_like);
    }
    fa_buf_puts(b, "],\"folders\":{");
    for (size_t i = 0; i < n_names; i++) {
        if (i) fa_buf_putc(b, ',');
        folder_json(r, b, names[i]);
    }
    fa_buf_puts(b, "}}");
    pthread_mutex_unlock(&r->lock);
    free(names);
    fa_hashmap_free(&seen);
}

/* POST /api/decide: records one decision, answers with the new state of it. */
static enum MHD_Result decide(fa_review *r, struct MHD_Connection *c, fa_buf *body)
{
    fa_decision_req q;
    pthread_mutex_lock(&r->lock);   /* the findings may be reloaded meanwhile */
    const char *bad = fa_decision_req_parse(r->findings, body->data, body->len, &q);
    if (bad) { pthread_mutex_unlock(&r->lock); return send_text(c, 400, bad); }
    const fa_rfinding *f = q.finding;
    int rc = fa_decisions_append(r->dec, r->decisions_path, f->id, f->sha256s, q.decision, q.arg);
    char err[1024];
    snprintf(err, sizeof err, "%s\n", fa_last_error());
    const char *now_arg;
    fa_decision now = fa_decisions_get(r->dec, f->id, &now_arg);
    fa_buf b = {0};
    fa_buf_puts(&b, "{\"id\":");
    fa_buf_json_str(&b, f->id);
    str_member(&b, "decision", fa_decision_name(now)), str_member(&b, "arg", now_arg);
    fa_buf_putc(&b, '}');
    pthread_mutex_unlock(&r->lock);
    fa_decision d = q.decision;
    fa_decision_req_free(&q);
    if (rc) { fa_buf_free(&b); return send_text(c, d == FA_DEC_UNDO ? 409 : 500, err); }
    return send_buf(c, 200, &b);
}

/* --- routing ------------------------------------------------------------- */

typedef struct {
    fa_buf body;
    int too_big;
} upload;

static const char icon_svg[] =
    "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 32 32\"><rect width=\"32\" height=\"32\" rx=\"7\" "
    "fill=\"#1d2330\"/><circle cx=\"16\" cy=\"14\" r=\"7\" fill=\"none\" stroke=\"#4fc27f\" stroke-width=\"3\"/>"
    "<path d=\"M8 28c1-5 4-7 8-7s7 2 8 7\" fill=\"none\" stroke=\"#4fc27f\" stroke-width=\"3\"/></svg>";

static enum MHD_Result route_get(fa_review *r, struct MHD_Connection *c, const char *url)
{
    if (!strcmp(url, "/"))
        return reply(c, 200, "text/html; charset=utf-8", r->page, r->page_len, 0, NULL);
    if (!strcmp(url, "/app.js"))
        return reply(c, 200, "text/javascript; charset=utf-8", fa_web_app_js, fa_web_app_js_len, 0, NULL);
    if (!strcmp(url, "/app.css"))
        return reply(c, 200, "text/css; charset=utf-8", fa_web_app_css, fa_web_app_css_len, 0, NULL);
    if (!strcmp(url, "/icon.svg"))
        return reply(c, 200, "image/svg+xml", icon_svg, sizeof icon_svg - 1, 0, "private, max-age=86400");
    if (!strcmp(url, "/api/state")) {
        fa_buf b = {0};
        state_json(r, &b);
        return send_buf(c, 200, &b);
    }
    if (!strncmp(url, "/img/", 5)) return serve_image(r, c, url + 5);
    return send_text(c, 404, "not found\n");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *data, size_t *data_size, void **con_cls)
{
    fa_review *r = cls;
    int post = !strcmp(method, "POST");
    if (!post && strcmp(method, "GET") && strcmp(method, "HEAD")) return send_text(c, 405, "method not allowed\n");
    if (!post) {
        const char *why = refuse(r, c, 0);
        return why ? send_text(c, 403, why) : route_get(r, c, url);
    }
    upload *u = *con_cls;
    if (!u) {
        if (!(u = calloc(1, sizeof *u))) return MHD_NO;
        *con_cls = u;
        return MHD_YES;
    }
    if (*data_size) {
        if (u->body.len + *data_size > BODY_MAX) u->too_big = 1;
        else fa_buf_append(&u->body, data, *data_size);
        *data_size = 0;
        return MHD_YES;
    }
    const char *why = refuse(r, c, 1);
    if (why) return send_text(c, 403, why);
    if (u->too_big) return send_text(c, 413, "request too large\n");
    if (strcmp(url, "/api/decide")) return send_text(c, 404, "not found\n");
    return decide(r, c, &u->body);
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode t)
{
    upload *u = *con_cls;
    if (u) { fa_buf_free(&u->body); free(u); *con_cls = NULL; }
}

/* --- start and stop ------------------------------------------------------ */

static int fill_page(fa_review *r)
{
    fa_buf b = {0};
    const char *s = (const char *)fa_web_index_html, *end = s + fa_web_index_html_len;
    for (const char *m; (m = memmem(s, (size_t)(end - s), "@TOKEN@", 7)); s = m + 7) {
        fa_buf_append(&b, s, (size_t)(m - s));
        fa_buf_puts(&b, r->token);
    }
    fa_buf_append(&b, s, (size_t)(end - s));
    if (b.oom) { fa_buf_free(&b); return fa_error("out of memory"); }
    r->page = b.data, r->page_len = b.len;
    return 0;
}

static int load_all(fa_review *r, const char *dir)
{
    r->cache_dir = fa_strdup(dir);
    r->thumbs = fa_path_join(dir, "thumbs");
    r->decisions_path = fa_path_join(dir, "decisions.tsv");
    r->findings_path = fa_path_join(dir, "findings.json");
    struct stat st;
    if (!r->cache_dir || !r->thumbs || !r->decisions_path || !r->findings_path) return fa_error("out of memory");
    if (stat(r->findings_path, &st) == 0) r->findings_mtime = st.st_mtim;
    r->findings = fa_rfindings_load(r->findings_path);
    if (!r->findings) return -1;
    if (!(r->cache = fa_cache_open(dir))) return -1;
    if (!(r->dec = fa_decisions_load(r->decisions_path))) return -1;
    if (fa_mkdir_p(r->thumbs)) return -1;
    if (fa_hashmap_init(&r->by_path, r->cache->n_files + 1)) return fa_error("out of memory");
    for (size_t i = 0; i < r->cache->n_files; i++)
        if (fa_hashmap_put(&r->by_path, r->cache->files[i].path, strlen(r->cache->files[i].path), i))
            return fa_error("out of memory");
    return group_folders(r);
}

static int make_token(char out[33])
{
    uint8_t b[16];
    if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) return fa_error("no random bytes: %s", strerror(errno));
    for (int i = 0; i < 16; i++) snprintf(out + 2 * i, 3, "%02x", b[i]);
    return 0;
}

fa_review *fa_review_start(const char *cache_dir, int port)
{
    fa_review *r = calloc(1, sizeof *r);
    if (!r) { fa_error("out of memory"); return NULL; }
    pthread_mutex_init(&r->lock, NULL);
    if (load_all(r, cache_dir) || make_token(r->token) || fill_page(r)) { fa_review_stop(r); return NULL; }
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    r->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, (uint16_t)port, NULL,
                            NULL, on_request, r, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
                            MHD_OPTION_NOTIFY_COMPLETED, on_done, r, MHD_OPTION_CONNECTION_TIMEOUT, 120u,
                            MHD_OPTION_CONNECTION_LIMIT, 64u, MHD_OPTION_END);
    if (!r->d) {
        fa_error("cannot listen on 127.0.0.1:%d (%s)", port, errno ? strerror(errno) : "in use?");
        fa_review_stop(r);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(r->d, MHD_DAEMON_INFO_BIND_PORT);
    r->port = info ? info->port : port;
    snprintf(r->host_ip, sizeof r->host_ip, "127.0.0.1:%d", r->port);
    snprintf(r->host_name, sizeof r->host_name, "localhost:%d", r->port);
    snprintf(r->origin, sizeof r->origin, "http://127.0.0.1:%d", r->port);
    snprintf(r->url, sizeof r->url, "http://127.0.0.1:%d/?t=%s", r->port, r->token);
    return r;
}

const char *fa_review_url(const fa_review *r) { return r->url; }

void fa_review_counts(const fa_review *r, unsigned long *findings, unsigned long *decided)
{
    size_t n = 0;
    for (size_t i = 0; i < r->findings->n; i++) n += fa_decisions_get(r->dec, r->findings->f[i].id, NULL) != FA_DEC_NONE;
    *findings = r->findings->n, *decided = n;
}

void fa_review_stop(fa_review *r)
{
    if (!r) return;
    if (r->d) MHD_stop_daemon(r->d);
    fa_hashmap_free(&r->by_path);
    free(r->folder_files), free(r->folder_off);
    fa_cache_close(r->cache);
    fa_rfindings_free(r->findings);
    fa_decisions_free(r->dec);
    pthread_mutex_destroy(&r->lock);
    free(r->cache_dir), free(r->thumbs), free(r->decisions_path), free(r->findings_path), free(r->page);
    free(r);
}
