/*
 * audit_html.c - report.html of `faceaudit audit` (see report.h): one
 * self-contained page, the review list's cards (findings_report.c) and the
 * pair, merge, outlier, duplicate and file sections, with face thumbnails
 * decoded once each, on several threads.
 */
#include <math.h>
#include <stdint.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include "util.h"
#include "findings_report.h"
#include "html.h"
#include "audit_report.h"

/* ---- HTML: thumbnails -------------------------------------------------------------- */

/* One thumbnail: a face of a file, or (face UINT32_MAX) the file's centre. */
typedef struct { uint32_t file, face; } thumb_key;

typedef struct {
    thumb_key *keys;
    char **html;            /* per key: the <img> or placeholder */
    size_t n, cap;
    int oom;
} thumbs;

static int key_cmp(const void *x, const void *y)
{
    const thumb_key *a = x, *b = y;
    if (a->file != b->file) return a->file < b->file ? -1 : 1;
    return (a->face > b->face) - (a->face < b->face);
}

static void thumbs_want(thumbs *t, uint32_t file, uint32_t face)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 256;
        thumb_key *k = realloc(t->keys, cap * sizeof *k);
        if (!k) { t->oom = 1; return; }
        t->keys = k;
        t->cap = cap;
    }
    t->keys[t->n++] = (thumb_key){ file, face };
}

/* A face-less file's first face when it has one, for duplicate groups. */
static uint32_t file_face(const fa_report *o, uint32_t file)
{
    const fa_file *f = &o->cache->files[file];
    return f->n_faces && f->first_face >= 0 ? (uint32_t)f->first_face : UINT32_MAX;
}

/* The thumbnails each section shows, in the order of the limits below. */
static void thumbs_want_cb(void *ud, uint32_t file, uint32_t face) { thumbs_want(ud, file, face); }

static void thumbs_collect(thumbs *t, const fa_report *o, const size_t *ex, const uint32_t *ff)
{
    const fa_audit *a = o->audit;
    size_t lim = o->html_limit;
    frep_html_wants(o, ff, thumbs_want_cb, t);
    for (size_t k = 0; k < a->n_merges && k < lim; k++)
        if (ex[k] != SIZE_MAX) {
            const fa_match *x = &a->matches[ex[k]];
            thumbs_want(t, x->file_a, x->face_a);
            thumbs_want(t, x->file_b, x->face_b);
        }
    for (size_t k = 0; k < a->n_matches && k < lim; k++) {
        thumbs_want(t, a->matches[k].file_a, a->matches[k].face_a);
        thumbs_want(t, a->matches[k].file_b, a->matches[k].face_b);
    }
    for (size_t k = 0; k < a->n_outliers && k < lim; k++) thumbs_want(t, a->outliers[k].file, a->outliers[k].face);
    for (size_t k = 0; k < a->n_dups && k < lim; k++) {
        const fa_dup_group *g = &a->dups[o->dup_order[k]];
        for (uint32_t i = 0; i < g->count; i++) {
            uint32_t f = a->dup_files[g->first + i];
            thumbs_want(t, f, file_face(o, f));
        }
    }
    for (size_t k = 0; k < a->n_no_face && k < lim; k++) thumbs_want(t, a->no_face[k], UINT32_MAX);
    for (size_t k = 0; k < a->n_multi && k < lim; k++) thumbs_want(t, a->multi[k].file, a->multi[k].chosen_face);
    if (t->n) qsort(t->keys, t->n, sizeof *t->keys, key_cmp);
    size_t u = 0;
    for (size_t i = 0; i < t->n; i++)
        if (!u || key_cmp(&t->keys[i], &t->keys[u - 1])) t->keys[u++] = t->keys[i];
    t->n = u;
}

/* Decodes every wanted photo once, on several threads. */
static int thumbs_make(thumbs *t, fa_report *o)
{
    t->html = calloc(t->n ? t->n : 1, sizeof *t->html);
    if (!t->html) return -1;
    size_t done = 0, failed = 0;
    int nt = o->threads > 0 ? o->threads : omp_get_max_threads();
    if (o->progress) o->progress(o->progress_ud, 0, t->n, 0);
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt) reduction(+ : failed)
    for (size_t i = 0; i < t->n; i++) {
        const fa_file *f = &o->cache->files[t->keys[i].file];
        const fa_box *box = t->keys[i].face == UINT32_MAX ? NULL : &o->cache->faces[t->keys[i].face].box;
        char *full = fa_path_join(o->cache->root, f->path);
        fa_buf b = {0};
        failed += fa_html_thumb(&b, full ? full : f->path, box, o->thumb_size, f->path) != 0;
        free(full);
        if (!b.oom) { fa_buf_putc(&b, '\0'); t->html[i] = b.data; }
        else fa_buf_free(&b);
        size_t d;
#pragma omp atomic capture
        d = ++done;
        if (o->progress && omp_get_thread_num() == 0) o->progress(o->progress_ud, d, t->n, 0);
    }
    if (o->progress) o->progress(o->progress_ud, t->n, t->n, 1);
    o->thumbs_made = t->n;
    o->thumbs_failed = failed;
    for (size_t i = 0; i < t->n; i++)
        if (!t->html[i]) return -1;
    return 0;
}

static void thumbs_free(thumbs *t)
{
    for (size_t i = 0; t->html && i < t->n; i++) free(t->html[i]);
    free(t->html);
    free(t->keys);
}

static void put_thumb(fa_buf *b, const thumbs *t, uint32_t file, uint32_t face)
{
    thumb_key k = { file, face };
    const thumb_key *hit = t->n ? bsearch(&k, t->keys, t->n, sizeof k, key_cmp) : NULL;
    if (hit) fa_buf_puts(b, t->html[hit - t->keys]);
    else fa_buf_puts(b, "<span class=\"nothumb\"></span>");
}

static void put_thumb_cb(fa_buf *b, const void *ud, uint32_t file, uint32_t face) { put_thumb(b, ud, file, face); }

/* ---- HTML: sections ------------------------------------------------------------------ */

static const char audit_css[] =
    "h2{margin-top:1.5em;border-bottom:2px solid #444}h3{margin:1em 0 .3em}"
    ".pair td{vertical-align:middle}.path{font-size:85%;overflow-wrap:anywhere;max-width:22em}"
    ".k-identical_file{color:#a00;font-weight:bold}.k-same_photo{color:#c60;font-weight:bold}"
    ".k-same_person{color:#036}.yes{color:#a00;font-weight:bold}.num{text-align:right;font-variant-numeric:tabular-nums}"
    "nav a{margin-right:1em}.muted{color:#777}.rule{max-width:60em;font-size:90%}"
    ".advice{max-width:60em;background:#fff4d6;border-left:4px solid #e0a000;padding:.4em .8em}"
    ".card{border:1px solid #bbb;border-radius:6px;margin:.6em 0;padding:.4em .6em;background:#fff}"
    ".card.below{opacity:.55}.card .head{margin-bottom:.3em}.card .rank{color:#555;font-weight:bold}"
    ".card .score{background:#eef;border-radius:3px;padding:0 .3em;font-variant-numeric:tabular-nums}"
    ".card .body{display:flex;flex-wrap:wrap;gap:1em;align-items:flex-start}"
    ".card .subject{border:2px solid #a00;padding:2px;max-width:12em}"
    ".strip{border-left:3px solid #ccc;padding-left:.4em;display:flex;flex-wrap:wrap;gap:3px;align-items:flex-start;max-width:48em}"
    ".strip .label{flex-basis:100%}.strip .alone{display:flex;flex-direction:column;max-width:7em}"
    ".strip .alone .label{flex-basis:auto;overflow-wrap:anywhere}"
    ".strip.own{border-left-color:#070}.label{font-size:80%;color:#444}"
    ".k-misfiled .head b{color:#a00}.k-same_identity .head b{color:#06a}.k-duplicate .head b{color:#c60}"
    ".k-mixed_folder .head b{color:#709}.k-stray .head b{color:#555}";

static void h_path(fa_buf *b, const fa_report *o, uint32_t file)
{
    fa_buf_puts(b, "<div class=\"path\">");
    fa_html_escape(b, file_path(o, file));
    fa_buf_puts(b, "</div>");
}

static void h_more(fa_buf *b, size_t shown, size_t total, const char *where)
{
    if (shown < total)
        fa_buf_printf(b, "<p class=\"muted\">%zu more in %s (raise --html-limit to show them here)</p>", total - shown,
                      where);
}

static void h_pair_row(fa_buf *b, const fa_report *o, const thumbs *t, size_t k)
{
    const fa_match *m = &o->audit->matches[k];
    const char *kind = fa_match_kind_name(m->kind);
    fa_buf_printf(b, "<tr class=\"pair%s\" data-rank=\"%zu\" data-kind=\"%s\"><td class=\"num\">%zu</td><td>",
                  m->strong ? " strong" : "", k + 1, kind, k + 1);
    put_thumb(b, t, m->file_a, m->face_a);
    h_path(b, o, m->file_a);
    fa_buf_puts(b, "</td><td>");
    put_thumb(b, t, m->file_b, m->face_b);
    h_path(b, o, m->file_b);
    fa_buf_printf(b, "</td><td class=\"k-%s\">%s</td><td class=\"num\">%.3f</td><td class=\"num\">%.3f</td>"
                     "<td class=\"num\">%.2f</td></tr>\n", kind, kind, m->cos, m->dist, m->rel);
}

typedef struct { uint32_t fa, fb; size_t k; } pair_ref;

static int pair_ref_cmp(const void *x, const void *y)
{
    const pair_ref *a = x, *b = y;
    if (a->fa != b->fa) return a->fa < b->fa ? -1 : 1;
    if (a->fb != b->fb) return a->fb < b->fb ? -1 : 1;
    return (a->k > b->k) - (a->k < b->k);
}

/* Orders groups by their best (first) rank. */
static int group_cmp(const void *x, const void *y)
{
    const size_t *a = x, *b = y;
    return (a[1] > b[1]) - (a[1] < b[1]);
}

/* The top pairs, grouped by folder pair, groups in order of their best rank. */
/* Matches [k0, k1) grouped by folder pair, groups in order of their best rank. */
static void h_pair_groups(fa_buf *b, const fa_report *o, const thumbs *t, size_t k0, size_t k1)
{
    const fa_audit *a = o->audit;
    size_t n = k1 - k0;
    pair_ref *r = malloc((n ? n : 1) * sizeof *r);
    size_t *grp = malloc((n ? n : 1) * 3 * sizeof *grp);   /* start, best rank, end */
    if (!r || !grp) { b->oom = 1; free(r); free(grp); return; }
    for (size_t k = k0; k < k1; k++) {
        const fa_match *m = &a->matches[k];
        r[k - k0] = (pair_ref){ m->folder_a < m->folder_b ? m->folder_a : m->folder_b,
                                m->folder_a < m->folder_b ? m->folder_b : m->folder_a, k };
    }
    qsort(r, n, sizeof *r, pair_ref_cmp);
    size_t ng = 0;
    for (size_t s = 0, e; s < n; s = e) {
        for (e = s; e < n && r[e].fa == r[s].fa && r[e].fb == r[s].fb; e++) {}
        grp[3 * ng] = s; grp[3 * ng + 1] = r[s].k; grp[3 * ng + 2] = e;
        ng++;
    }
    qsort(grp, ng, 3 * sizeof *grp, group_cmp);
    for (size_t g = 0; g < ng; g++) {
        size_t s = grp[3 * g], e = grp[3 * g + 2];
        fa_buf_puts(b, "<h3 class=\"folderpair\">");
        fa_html_escape(b, folder_name(o, r[s].fa));
        fa_buf_puts(b, " &harr; ");
        fa_html_escape(b, folder_name(o, r[s].fb));
        fa_buf_printf(b, " <span class=\"muted\">(%zu pair%s)</span></h3>\n<table><tr><th>#</th><th>face 1</th>"
                         "<th>face 2</th><th>kind</th><th>similarity</th><th>distance</th><th>rel</th></tr>\n",
                      e - s, e - s == 1 ? "" : "s");
        for (size_t i = s; i < e; i++) h_pair_row(b, o, t, r[i].k);
        fa_buf_puts(b, "</table>\n");
    }
    free(r);
    free(grp);
}

/* The top pairs: strong ones, then look-alikes, each grouped by folder pair. */
static void h_pairs(fa_buf *b, const fa_report *o, const thumbs *t)
{
    const fa_audit *a = o->audit;
    size_t n = a->n_matches < o->html_limit ? a->n_matches : o->html_limit;
    size_t ns = a->n_strong < n ? a->n_strong : n;
    fa_buf_printf(b, "<section id=\"pairs\"><h2>Cross-folder pairs (%zu)</h2>\n", a->n_matches);
    fa_buf_printf(b, "<p>Faces of different folders within distance %.3f: identical file %zu, same photo "
                     "re-encoded %zu, same person, different photo %zu. Strong pairs are evidence of a filing "
                     "mistake: not the same person in two photos, or one face nearer the other folder's centre "
                     "than its own, or folders suggested for merging; the rest are look-alikes. Each part is "
                     "ranked by rel = distance / the larger folder spread.</p>\n",
                  a->threshold, a->n_identical_file, a->n_same_photo, a->n_same_person);
    fa_buf_printf(b, "<h3 id=\"strong\">Strong (%zu)</h3>\n", a->n_strong);
    h_pair_groups(b, o, t, 0, ns);
    fa_buf_printf(b, "<h3 id=\"lookalikes\">Look-alikes (%zu)</h3>\n", a->n_matches - a->n_strong);
    h_pair_groups(b, o, t, ns, n);
    h_more(b, n, a->n_matches, "pairs.csv");
    fa_buf_puts(b, "</section>\n");
}

/* The closest match of each merge (its example pair): merges sorted by
 * folder pair, each match looked up once. Returns a malloc'd array of match
 * indices (SIZE_MAX: none), or NULL when out of memory. */
typedef struct { uint32_t fa, fb; size_t merge; } merge_key;

static int merge_key_cmp(const void *x, const void *y)
{
    const merge_key *a = x, *b = y;
    if (a->fa != b->fa) return a->fa < b->fa ? -1 : 1;
    return (a->fb > b->fb) - (a->fb < b->fb);
}

static size_t *merge_examples(const fa_audit *a)
{
    size_t nm = a->n_merges ? a->n_merges : 1;
    size_t *ex = malloc(nm * sizeof *ex);
    merge_key *idx = malloc(nm * sizeof *idx);
    if (!ex || !idx) { free(ex); free(idx); return NULL; }
    for (size_t k = 0; k < a->n_merges; k++) {
        ex[k] = SIZE_MAX;
        idx[k] = (merge_key){ a->merges[k].folder_a, a->merges[k].folder_b, k };
    }
    qsort(idx, a->n_merges, sizeof *idx, merge_key_cmp);
    for (size_t k = 0; k < a->n_matches; k++) {
        const fa_match *x = &a->matches[k];
        merge_key key = { x->folder_a < x->folder_b ? x->folder_a : x->folder_b,
                          x->folder_a < x->folder_b ? x->folder_b : x->folder_a, 0 };
        const merge_key *hit = a->n_merges ? bsearch(&key, idx, a->n_merges, sizeof *idx, merge_key_cmp) : NULL;
        if (hit && (ex[hit->merge] == SIZE_MAX || x->dist < a->matches[ex[hit->merge]].dist)) ex[hit->merge] = k;
    }
    free(idx);
    return ex;
}

static void h_merges(fa_buf *b, const fa_report *o, const thumbs *t, const size_t *ex)
{
    const fa_audit *a = o->audit;
    size_t n = a->n_merges < o->html_limit ? a->n_merges : o->html_limit;
    fa_buf_printf(b, "<section id=\"merges\"><h2>Folder pairs and merge suggestions (%zu suggested of %zu)</h2>\n"
                     "<p>A merge is suggested when at least %u matches involve two or more faces of each folder and "
                     "the mix ratio (median distance across the two folders / median distance inside them) is at "
                     "most %.2f: their faces are as close to each other as to their own folder-mates.</p>\n",
                  a->n_merge_suggested, a->n_merges, o->params->merge_min_pairs, o->params->merge_max_mix);
    fa_buf_puts(b, "<table><tr><th>#</th><th>folder 1</th><th>folder 2</th><th>merge?</th><th>pairs</th>"
                   "<th>share 1</th><th>share 2</th><th>mix</th><th>median</th><th>min</th><th>centres</th><th>closest pair</th></tr>\n");
    for (size_t k = 0; k < n; k++) {
        const fa_merge *m = &a->merges[k];
        fa_buf_printf(b, "<tr class=\"merge\" data-rank=\"%zu\" data-suggest=\"%d\"><td class=\"num\">%zu</td><td>",
                      k + 1, m->suggest, k + 1);
        fa_html_escape(b, folder_name(o, m->folder_a));
        fa_buf_puts(b, "</td><td>");
        fa_html_escape(b, folder_name(o, m->folder_b));
        fa_buf_printf(b, "</td><td class=\"%s\">%s</td><td class=\"num\">%u</td>"
                         "<td class=\"num\">%u/%u (%.0f%%)</td><td class=\"num\">%u/%u (%.0f%%)</td>"
                         "<td class=\"num\">%.3f</td><td class=\"num\">%.3f</td><td class=\"num\">%.3f</td>"
                         "<td class=\"num\">%.3f</td><td>",
                      m->suggest ? "yes" : "", m->suggest ? "merge" : "no", m->pairs, m->faces_a, m->size_a,
                      m->share_a * 100, m->faces_b, m->size_b, m->share_b * 100, m->mix, m->median_dist, m->min_dist,
                      m->centre_dist);
        const fa_match *x = ex[k] != SIZE_MAX ? &a->matches[ex[k]] : NULL;
        if (x) {
            fa_buf_puts(b, "<div class=\"faces\">");
            put_thumb(b, t, x->file_a, x->face_a);
            put_thumb(b, t, x->file_b, x->face_b);
            fa_buf_puts(b, "</div>");
        }
        fa_buf_puts(b, "</td></tr>\n");
    }
    fa_buf_puts(b, "</table>\n");
    h_more(b, n, a->n_merges, "report.json");
    fa_buf_puts(b, "</section>\n");
}

static void h_outliers(fa_buf *b, const fa_report *o, const thumbs *t)
{
    const fa_audit *a = o->audit;
    size_t n = a->n_outliers < o->html_limit ? a->n_outliers : o->html_limit;
    fa_buf_printf(b, "<section id=\"outliers\"><h2>Outliers (%zu)</h2>\n<p>Faces nearer another folder's centre "
                     "than their own, or far from their own (robust z &ge; %.1f); the nearest other folder is "
                     "named, and marked when it is within the threshold.</p>\n",
                  a->n_outliers, o->params->calib.outlier_z);
    fa_buf_puts(b, "<table><tr><th>#</th><th>face</th><th>folder</th><th>z</th><th>to own centre</th>"
                   "<th>nearest other folder</th><th>distance</th></tr>\n");
    for (size_t k = 0; k < n; k++) {
        const fa_outlier *m = &a->outliers[k];
        fa_buf_printf(b, "<tr class=\"outlier\" data-rank=\"%zu\"><td class=\"num\">%zu</td><td>", k + 1, k + 1);
        put_thumb(b, t, m->file, m->face);
        h_path(b, o, m->file);
        fa_buf_puts(b, "</td><td>");
        fa_html_escape(b, folder_name(o, m->folder));
        fa_buf_printf(b, "</td><td class=\"num\">%.1f</td><td class=\"num\">%.3f</td><td%s>", m->z, m->centre_dist,
                      m->nearer_other ? " class=\"yes\"" : "");
        if (m->best_folder != UINT32_MAX) {
            fa_html_escape(b, folder_name(o, m->best_folder));
            if (m->nearer_other) fa_buf_puts(b, " (nearer than its own)");
            fa_buf_printf(b, "</td><td class=\"num\">%.3f%s</td></tr>\n", m->best_dist,
                          m->matches_best ? " (match)" : "");
        } else {
            fa_buf_puts(b, "-</td><td></td></tr>\n");
        }
    }
    fa_buf_puts(b, "</table>\n");
    h_more(b, n, a->n_outliers, "report.json");
    fa_buf_puts(b, "</section>\n");
}

static void h_dups(fa_buf *b, const fa_report *o, const thumbs *t)
{
    const fa_audit *a = o->audit;
    size_t n = a->n_dups < o->html_limit ? a->n_dups : o->html_limit;
    fa_buf_printf(b, "<section id=\"duplicates\"><h2>Duplicate files (%zu groups)</h2>\n<p>Files with the same "
                     "bytes (SHA-256), across folders first.</p>\n<table><tr><th>#</th><th>where</th>"
                     "<th>files</th></tr>\n", a->n_dups);
    for (size_t k = 0; k < n; k++) {
        const fa_dup_group *g = &a->dups[o->dup_order[k]];
        fa_buf_printf(b, "<tr class=\"dup\" data-rank=\"%zu\" data-cross=\"%d\"><td class=\"num\">%zu</td>"
                         "<td%s>%s</td><td><div class=\"faces\">", k + 1, g->cross_folder, k + 1,
                      g->cross_folder ? " class=\"yes\"" : "", g->cross_folder ? "across folders" : "one folder");
        for (uint32_t i = 0; i < g->count; i++) {
            uint32_t f = a->dup_files[g->first + i];
            fa_buf_puts(b, "<div class=\"face\">");
            put_thumb(b, t, f, file_face(o, f));
            fa_html_escape(b, file_path(o, f));
            fa_buf_puts(b, "</div>");
        }
        fa_buf_puts(b, "</div></td></tr>\n");
    }
    fa_buf_puts(b, "</table>\n");
    h_more(b, n, a->n_dups, "report.json");
    fa_buf_puts(b, "</section>\n");
}

static void h_files(fa_buf *b, const fa_report *o, const thumbs *t)
{
    const fa_audit *a = o->audit;
    fa_buf_printf(b, "<section id=\"no-face\"><h2>No face found (%zu)</h2><div class=\"faces\">\n", a->n_no_face);
    for (size_t k = 0; k < a->n_no_face && k < o->html_limit; k++) {
        fa_buf_puts(b, "<div class=\"face noface\">");
        put_thumb(b, t, a->no_face[k], UINT32_MAX);
        fa_html_escape(b, file_path(o, a->no_face[k]));
        fa_buf_puts(b, "</div>\n");
    }
    fa_buf_puts(b, "</div>");
    h_more(b, a->n_no_face < o->html_limit ? a->n_no_face : o->html_limit, a->n_no_face, "report.json");
    fa_buf_printf(b, "</section>\n<section id=\"multi-face\"><h2>Several faces (%zu)</h2><p>The face shown is "
                     "the one audited: the nearest to its folder's centre.</p><div class=\"faces\">\n", a->n_multi);
    for (size_t k = 0; k < a->n_multi && k < o->html_limit; k++) {
        const fa_multi_face *m = &a->multi[k];
        fa_buf_puts(b, "<div class=\"face multi\">");
        put_thumb(b, t, m->file, m->chosen_face);
        fa_html_escape(b, file_path(o, m->file));
        fa_buf_printf(b, "<br>%u faces</div>\n", m->n_faces);
    }
    fa_buf_puts(b, "</div>");
    h_more(b, a->n_multi < o->html_limit ? a->n_multi : o->html_limit, a->n_multi, "report.json");
    fa_buf_printf(b, "</section>\n<section id=\"errors\"><h2>Errors (%zu)</h2><table>\n", a->n_errors);
    for (size_t k = 0; k < a->n_errors; k++) {
        const fa_file *f = &o->cache->files[a->errors[k]];
        fa_buf_puts(b, "<tr class=\"error\"><td>");
        fa_html_escape(b, f->path);
        fa_buf_printf(b, "</td><td>%s</td><td>", fa_status_name(f->status));
        fa_html_escape(b, f->reason);
        fa_buf_puts(b, "</td></tr>\n");
    }
    fa_buf_puts(b, "</table></section>\n");
}

static void h_calib(fa_buf *b, const fa_report *o)
{
    const fa_audit *a = o->audit;
    const fa_calib *cb = a->calib;
    fa_buf_puts(b, "<section id=\"calibration\"><h2>Calibration</h2>\n<p class=\"rule\">");
    fa_html_escape(b, fa_calib_rule_text());
    fa_buf_puts(b, "</p>\n<table><tr><th>quantile</th>");
    for (int q = 0; q < FA_CALIB_NQ; q++) fa_buf_printf(b, "<th>%g</th>", fa_calib_quantiles[q]);
    fa_buf_printf(b, "</tr>\n<tr><td>within folders (%zu)</td>", cb->n_within);
    for (int q = 0; q < FA_CALIB_NQ; q++) fa_buf_printf(b, "<td class=\"num\">%.3f</td>", cb->within_q[q]);
    fa_buf_printf(b, "</tr>\n<tr><td>across folders (%zu)</td>", cb->n_cross);
    for (int q = 0; q < FA_CALIB_NQ; q++) fa_buf_printf(b, "<td class=\"num\">%.3f</td>", cb->cross_q[q]);
    fa_buf_printf(b, "</tr></table>\n<p>Calibrated threshold <b>%.4f</b> (cross-folder quantile %.3g: %.4f; "
                     "within-folder cap %.4f%s). It flags %.4f%% of cross-folder pairs (~%.0f chance matches) "
                     "and %.1f%% of within-folder pairs; ",
                  cb->threshold, cb->alpha, cb->t_cross, cb->t_cap, cb->capped ? ", capped" : "",
                  cb->cross_share * 100, cb->cross_expected, cb->within_share * 100);
    fixed_rule r = arep_rule_of(o);
    fa_html_escape(b, r.who);
    fa_buf_printf(b, "'s %.3g would flag %.4f%% and %.1f%%.</p>\n", r.t, r.cross * 100, r.within * 100);
    double ov;
    const char *advice = arep_encoder_advice(o, &ov);
    if (advice) {
        fa_buf_printf(b, "<p class=\"advice\"><b>The encoder limits this audit:</b> %.1f%% of cross-folder pairs are "
                         "as close as the median same-folder pair (", 100 * ov);
        fa_html_escape(b, o->cache->encoder);
        fa_buf_puts(b, " encoder); it separates these faces poorly: ");
        fa_html_escape(b, advice);
        fa_buf_puts(b, ".</p>\n");
    }
    fa_buf_printf(b, "<p>Used: distance %.4f (%s); %zu of %.0f cross-folder pairs flagged (%.4f%%).</p>"
                     "</section>\n", a->threshold, a->threshold_source, a->n_matches, cb->cross_pairs,
                  a->flagged_share * 100);
}

static void h_head(fa_buf *b, const fa_report *o)
{
    const fa_audit *a = o->audit;
    size_t cross = 0;
    for (size_t k = 0; k < a->n_dups; k++) cross += a->dups[k].cross_folder;
    fa_buf_printf(b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>faceaudit audit</title>"
                     "<style>%s%s</style></head><body>\n<h1>faceaudit audit</h1>\n<p>cache ", fa_html_css, audit_css);
    fa_html_escape(b, o->cache->dir);
    fa_buf_puts(b, ", root ");
    fa_html_escape(b, o->cache->root);
    fa_buf_printf(b, ": %zu files, %zu faces audited in %zu folders; %s search, threshold %.4f (%s)",
                  o->cache->n_files, a->n_rows, o->cache->n_folders, arep_mode_name(a->mode), a->threshold,
                  a->threshold_source);
    if (a->recall >= 0) fa_buf_printf(b, ", recall %.4f against exact", a->recall);
    fa_buf_printf(b, "; %.2f s.</p>\n<nav><a href=\"#findings\">findings to review (%zu of %zu)</a><a href=\"#pairs\">pairs (%zu)</a><a href=\"#strong\">strong (%zu)</a><a href=\"#merges\">merges "
                     "(%zu suggested)</a><a href=\"#outliers\">outliers (%zu)</a><a href=\"#duplicates\">duplicates "
                     "(%zu, %zu across folders)</a><a href=\"#no-face\">no face (%zu)</a><a href=\"#multi-face\">"
                     "several faces (%zu)</a><a href=\"#errors\">errors (%zu)</a><a href=\"#calibration\">"
                     "calibration</a></nav>\n",
                  o->seconds, a->n_review, a->n_findings, a->n_matches, a->n_strong, a->n_merge_suggested, a->n_outliers, a->n_dups, cross, a->n_no_face,
                  a->n_multi, a->n_errors);
}

int fa_report_html(fa_report *o, const char *path)
{
    thumbs t = {0};
    size_t *ex = merge_examples(o->audit);
    uint32_t *ff = frep_file_faces(o);
    if (ex && ff) thumbs_collect(&t, o, ex, ff);
    if (!ex || !ff || t.oom || thumbs_make(&t, o)) {
        thumbs_free(&t);
        free(ex); free(ff);
        return fa_error("%s: out of memory", path);
    }
    fa_buf b = {0};
    h_head(&b, o);
    frep_html(&b, o, ff, put_thumb_cb, &t);
    free(ff);
    h_pairs(&b, o, &t);
    h_merges(&b, o, &t, ex);
    h_outliers(&b, o, &t);
    h_dups(&b, o, &t);
    h_files(&b, o, &t);
    h_calib(&b, o);
    fa_buf_puts(&b, "</body></html>\n");
    thumbs_free(&t);
    free(ex);
    return frep_save(&b, path);
}
