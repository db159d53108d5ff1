/*
 * findings_report.c - the review list as findings.csv, JSON, text and HTML
 * cards (see findings_report.h and report.h). Paths are relative to ROOT.
 * JSON is printed straight into a buffer, for the reasons in audit_data.c.
 */
#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "findings_report.h"
#include "html.h"
#include "sha256.h"

static const char *fpath(const fa_report *o, uint32_t f) { return f == FA_NONE ? "" : o->cache->files[f].path; }
static const char *fname(const fa_report *o, uint32_t g) { return g == FA_NONE ? "" : o->cache->folders[g]; }

static void csvf(fa_buf *b, const char *s)
{
    size_t n = strlen(s);
    int q = n && (s[0] == ' ' || s[n - 1] == ' ');
    for (const char *p = s; *p && !q; p++) q = *p == ',' || *p == '"' || *p == '\n' || *p == '\r';
    if (!q) { fa_buf_append(b, s, n); return; }
    fa_buf_putc(b, '"');
    for (const char *p = s; *p; p++) {
        if (*p == '"') fa_buf_putc(b, '"');
        fa_buf_putc(b, *p);
    }
    fa_buf_putc(b, '"');
}

static void csvn(fa_buf *b, float v)
{
    fa_buf_putc(b, ',');
    if (!isnan(v) && !isinf(v)) fa_buf_printf(b, "%.4f", v);
}

void frep_jnum(fa_buf *b, const char *key, double v)
{
    fa_buf_printf(b, "\"%s\":", key);
    if (isnan(v) || isinf(v)) fa_buf_puts(b, "null");
    else fa_buf_printf(b, "%.6g", v);
}

static void jstr(fa_buf *b, const char *key, const char *s)
{
    fa_buf_printf(b, "\"%s\":", key);
    fa_buf_json_str(b, s ? s : "");
}

int frep_save(fa_buf *b, const char *path)
{
    int rc = b->oom ? fa_error("%s: out of memory", path) : fa_write_file_atomic(path, b->data, b->len);
    fa_buf_free(b);
    return rc;
}

/* ---- words ------------------------------------------------------------------------- */

/* Size of cluster k of a mixed folder's finding (0: the folder's own). */
static uint32_t cluster_size(const fa_finding *f, uint32_t k)
{
    return f->cluster_end[k] - (k ? f->cluster_end[k - 1] : 0);
}

/* A mixed folder: its groups one by one (a group of faces is another
 * person), then its faces alone together, counted by nearest folder (a face
 * alone may be anyone, an odd photo of the folder's own person too): a
 * large folder can have a dozen, and one line each buried the groups. */
static void mixed_summary(fa_buf *b, const fa_report *o, const fa_finding *f)
{
    fa_buf_printf(b, "%s holds more than one person: the folder's %u faces", fname(o, f->folder), f->cluster_end[0]);
    uint32_t alone = 0;
    for (uint32_t k = 1; k < f->n_clusters; k++) {
        if (cluster_size(f, k) == 1) { alone++; continue; }
        fa_buf_printf(b, ", a group of %u", cluster_size(f, k));
        if (f->cluster_like[k] != FA_NONE) fa_buf_printf(b, " (nearest folder %s)", fname(o, f->cluster_like[k]));
    }
    if (alone) fa_buf_printf(b, ", %u face%s alone", alone, alone > 1 ? "s" : "");
    uint32_t named = 0;   /* nearest folders named so far */
    for (uint32_t k = 1; k < f->n_clusters; k++) {
        uint32_t g = f->cluster_like[k], n = 0, seen = 0;
        if (cluster_size(f, k) != 1 || g == FA_NONE) continue;
        for (uint32_t j = 1; j < f->n_clusters; j++)
            if (cluster_size(f, j) == 1 && f->cluster_like[j] == g) { n++; seen |= j < k; }
        if (seen) continue;   /* counted at its first face */
        fa_buf_puts(b, named++ ? ", " : alone > 1 ? " (nearest folders " : " (nearest folder ");
        fa_buf_puts(b, fname(o, g));
        if (alone > 1) fa_buf_printf(b, " %u", n);
    }
    if (named) fa_buf_putc(b, ')');
    fa_buf_printf(b, " (median distance between them %.3f, inside the folder's %.3f)", f->dist, f->own);
}

/* same_identity: 1 when each folder has a face whose nearest face in
 * another folder is in the other (the merge's condition for review), else
 * 0; NaN for the other kinds. */
static float frep_mutual(const fa_finding *f)
{
    if (f->kind != FA_FIND_SAME_IDENTITY) return NAN;
    return f->folder_finds && f->other_finds ? 1.0f : 0.0f;
}

/* "no face of G finds H first", and the folder G's faces find first. */
static void one_sided(fa_buf *b, const fa_report *o, uint32_t g, uint32_t h, uint32_t near)
{
    fa_buf_printf(b, "; no face of %s finds %s first", fname(o, g), fname(o, h));
    if (near != FA_NONE) fa_buf_printf(b, " (%s's nearest folder is %s)", fname(o, g), fname(o, near));
}

/* How a merge's folders find each other (frep_mutual): the faces of each
 * that find the other first, or, for a side none of whose faces does, the
 * folder it finds first. */
static void nearest_summary(fa_buf *b, const fa_report *o, const fa_finding *f)
{
    if (isnan(frep_mutual(f))) return;
    if (frep_mutual(f) == 1.0f) {
        fa_buf_printf(b, "; each finds the other first%s (%u of %s's %u faces, %u of %s's %u)",
                      f->set_aside ? " once the names each is joined to in review are set aside" : "", f->folder_finds,
                      fname(o, f->folder), f->own_size, f->other_finds, fname(o, f->other_folder), f->other_size);
        return;
    }
    if (!f->folder_finds) one_sided(b, o, f->folder, f->other_folder, f->folder_nearest);
    if (!f->other_finds) one_sided(b, o, f->other_folder, f->folder, f->other_nearest);
}

void frep_summary(fa_buf *b, const fa_report *o, const fa_finding *f)
{
    switch (f->kind) {
    case FA_FIND_MISFILED:
        fa_buf_printf(b, "%s looks like %s (median distance %.3f to its %u faces, %u within the threshold; "
                         "%.3f to its own folder's; nearer %s than %u of %s's %u other faces)",
                      fpath(o, f->file), fname(o, f->other_folder), f->dist, f->other_size, f->matches, f->own,
                      fname(o, f->other_folder), f->own_size - 1 - f->own_nearer, fname(o, f->folder),
                      f->own_size - 1);
        /* the review rule for less than a full gap of evidence (review.h) */
        if (f->folder_nearest == FA_NONE)
            fa_buf_puts(b, "; none of its nearest faces is in another folder");
        else if (f->folder_nearest != f->other_folder)
            fa_buf_printf(b, "; its nearest face in another folder is in %s", fname(o, f->folder_nearest));
        break;
    case FA_FIND_SAME_IDENTITY:
        fa_buf_printf(b, "folders %s (%u faces) and %s (%u) look like one person (median distance across %.3f, "
                         "inside %.3f; %u pairs within the threshold, nearest %.3f)",
                      fname(o, f->folder), f->own_size, fname(o, f->other_folder), f->other_size, f->dist, f->own,
                      f->matches, f->nearest);
        nearest_summary(b, o, f);
        if (f->by_face != FA_NONE)
            fa_buf_printf(b, "; for review because %s passed as misfiled into %s", fpath(o, f->by_face),
                          fname(o, f->folder));
        break;
    case FA_FIND_DUPLICATE:
        fa_buf_printf(b, "%s repeats %s (%s", fpath(o, f->file), fpath(o, f->other_file),
                      f->identical ? "identical bytes" : "the same photo re-encoded, resized or cropped");
        if (!f->identical && !isnan(f->dist)) fa_buf_printf(b, ", distance %.3f", f->dist);
        if (!isnan(f->thumb_corr)) fa_buf_printf(b, ", face pixels correlate %.3f", f->thumb_corr);
        if (!isnan(f->image_corr)) fa_buf_printf(b, ", whole images %.3f", f->image_corr);
        /* why a copy is not for review: identical bytes are then a group photo
         * filed under each of its people; otherwise a copy inside one folder,
         * which may be two photos of one pose (review_dup.c) */
        fa_buf_puts(b, f->review ? ")" : f->identical ? "; a group photo filed under each of its people)"
                                                      : "; inside one folder: perhaps two photos of one pose)");
        break;
    case FA_FIND_MIXED_FOLDER:
        mixed_summary(b, o, f);
        break;
    case FA_FIND_STRAY:
        fa_buf_printf(b, "%s is unlike the rest of %s (median distance %.3f, usual %.3f) and like no other folder",
                      fpath(o, f->file), fname(o, f->folder), f->dist, f->own);
        break;
    }
}

/* ---- CSV ----------------------------------------------------------------------------- */

int fa_report_findings_csv(const fa_report *o, const char *path)
{
    const fa_audit *a = o->audit;
    fa_buf b = {0}, s = {0};
    fa_buf_puts(&b, "rank,id,kind,action,score,path,folder,other_path,other_folder,review,distance,own,scale,"
                    "own_margin,stranger_margin,nearest,decoy,matches,own_size,other_size,own_nearer,identical,mutual,thumb_corr,"
                    "image_corr,files,"
                    "summary\n");
    for (size_t k = 0; k < a->n_findings; k++) {
        const fa_finding *f = &a->findings[k];
        fa_buf_printf(&b, "%zu,%s,%s,%s,%.4f,", k + 1, f->id, fa_find_kind_name(f->kind), fa_find_action(f->kind),
                      f->score);
        csvf(&b, fpath(o, f->file)); fa_buf_putc(&b, ',');
        csvf(&b, fname(o, f->folder)); fa_buf_putc(&b, ',');
        csvf(&b, fpath(o, f->other_file)); fa_buf_putc(&b, ',');
        csvf(&b, fname(o, f->other_folder));
        fa_buf_printf(&b, ",%d", f->review);
        csvn(&b, f->dist); csvn(&b, f->own); csvn(&b, f->scale); csvn(&b, f->own_margin);
        csvn(&b, f->stranger_margin); csvn(&b, f->nearest); csvn(&b, f->decoy);
        fa_buf_printf(&b, ",%u,%u,%u,%u,%d", f->matches, f->own_size, f->other_size, f->own_nearer, f->identical);
        if (!isnan(frep_mutual(f))) fa_buf_printf(&b, ",%d", (int)frep_mutual(f));
        else fa_buf_putc(&b, ',');
        csvn(&b, f->thumb_corr);
        csvn(&b, f->image_corr);
        fa_buf_printf(&b, ",%u,", f->n_files);
        s.len = 0;
        frep_summary(&s, o, f);
        fa_buf_putc(&s, '\0');
        csvf(&b, s.oom ? "" : s.data);
        fa_buf_putc(&b, '\n');
    }
    fa_buf_free(&s);
    return frep_save(&b, path);
}

/* ---- JSON ------------------------------------------------------------------------------ */

uint32_t *frep_file_faces(const fa_report *o)
{
    const fa_cache *c = o->cache;
    uint32_t *m = malloc((c->n_files ? c->n_files : 1) * sizeof *m);
    if (!m) return NULL;
    for (size_t f = 0; f < c->n_files; f++) m[f] = UINT32_MAX;
    for (size_t r = 0; r < o->audit->n_rows; r++) {
        uint32_t face = o->audit->row_face[r];
        m[c->faces[face].file] = face;
    }
    return m;
}

static void json_file(fa_buf *b, const fa_report *o, const uint32_t *ff, uint32_t file)
{
    const fa_file *f = &o->cache->files[file];
    char hex[65] = "";
    if (f->has_sha256) fa_sha256_hex(f->sha256, hex);
    fa_buf_putc(b, '{');
    jstr(b, "path", f->path);
    fa_buf_putc(b, ',');
    jstr(b, "sha256", hex);
    fa_buf_printf(b, ",\"size\":%lld,\"mtime_ns\":%lld,", (long long)f->size, (long long)f->mtime_ns);
    jstr(b, "folder", o->cache->folders[f->folder]);
    fa_buf_printf(b, ",\"face_row\":%lld}", ff && ff[file] != UINT32_MAX ? (long long)ff[file] : -1LL);
}

static void json_evidence(fa_buf *b, const fa_finding *f)
{
    fa_buf_puts(b, "\"evidence\":{");
    frep_jnum(b, "distance", f->dist); fa_buf_putc(b, ',');
    frep_jnum(b, "own", f->own); fa_buf_putc(b, ',');
    frep_jnum(b, "scale", f->scale); fa_buf_putc(b, ',');
    frep_jnum(b, "own_margin", f->own_margin); fa_buf_putc(b, ',');
    frep_jnum(b, "stranger_margin", f->stranger_margin); fa_buf_putc(b, ',');
    frep_jnum(b, "nearest", f->nearest); fa_buf_putc(b, ',');
    frep_jnum(b, "decoy", f->decoy); fa_buf_putc(b, ',');
    frep_jnum(b, "thumb_corr", f->thumb_corr); fa_buf_putc(b, ',');
    frep_jnum(b, "image_corr", f->image_corr); fa_buf_putc(b, ',');
    frep_jnum(b, "mutual", frep_mutual(f)); fa_buf_putc(b, ',');
    frep_jnum(b, "folder_finds", f->kind == FA_FIND_SAME_IDENTITY ? (float)f->folder_finds : NAN); fa_buf_putc(b, ',');
    frep_jnum(b, "other_finds", f->kind == FA_FIND_SAME_IDENTITY ? (float)f->other_finds : NAN); fa_buf_putc(b, ',');
    frep_jnum(b, "set_aside", f->kind == FA_FIND_SAME_IDENTITY ? (float)f->set_aside : NAN);
    fa_buf_printf(b, ",\"matches\":%u,\"own_size\":%u,\"other_size\":%u,\"own_nearer\":%u,\"identical\":%d}",
                  f->matches, f->own_size, f->other_size, f->own_nearer, f->identical);
}

static void json_clusters(fa_buf *b, const fa_report *o, const fa_finding *f)
{
    fa_buf_puts(b, ",\"clusters\":[");
    for (uint32_t k = 0; k < f->n_clusters; k++) {
        uint32_t s = k ? f->cluster_end[k - 1] : 0;
        fa_buf_printf(b, "%s{\"own\":%s,\"paths\":[", k ? "," : "", k ? "false" : "true");
        for (uint32_t q = s; q < f->cluster_end[k]; q++) {
            if (q > s) fa_buf_putc(b, ',');
            fa_buf_json_str(b, fpath(o, f->files[q]));
        }
        fa_buf_puts(b, "]");
        if (k && f->cluster_like[k] != FA_NONE) { fa_buf_putc(b, ','); jstr(b, "looks_like", fname(o, f->cluster_like[k])); }
        fa_buf_putc(b, '}');
    }
    fa_buf_putc(b, ']');
}

static void json_finding(fa_buf *b, const fa_report *o, const uint32_t *ff, size_t k)
{
    const fa_finding *f = &o->audit->findings[k];
    fa_buf_puts(b, "{");
    jstr(b, "id", f->id);
    fa_buf_printf(b, ",\"rank\":%zu,\"kind\":\"%s\",\"action\":\"%s\",", k + 1, fa_find_kind_name(f->kind),
                  fa_find_action(f->kind));
    frep_jnum(b, "score", f->score);
    fa_buf_printf(b, ",\"review\":%s,", f->review ? "true" : "false");
    jstr(b, "path", fpath(o, f->file)); fa_buf_putc(b, ',');
    jstr(b, "folder", fname(o, f->folder)); fa_buf_putc(b, ',');
    jstr(b, "other_path", fpath(o, f->other_file)); fa_buf_putc(b, ',');
    jstr(b, "other_folder", fname(o, f->other_folder));
    fa_buf_puts(b, ",\"summary\":");
    fa_buf s = {0};
    frep_summary(&s, o, f);
    fa_buf_putc(&s, '\0');
    fa_buf_json_str(b, s.oom ? "" : s.data);
    fa_buf_free(&s);
    fa_buf_puts(b, ",\"files\":[");
    /* the files the action touches: a split moves the clusters apart only */
    uint32_t q0 = f->kind == FA_FIND_MIXED_FOLDER && f->n_clusters ? f->cluster_end[0] : 0;
    for (uint32_t q = q0; q < f->n_files; q++) {
        if (q > q0) fa_buf_putc(b, ',');
        json_file(b, o, ff, f->files[q]);
    }
    fa_buf_puts(b, "],");
    json_evidence(b, f);
    if (f->kind == FA_FIND_DUPLICATE) { fa_buf_putc(b, ','); jstr(b, "keep", fpath(o, f->keep)); }
    if (f->kind == FA_FIND_MIXED_FOLDER) json_clusters(b, o, f);
    fa_buf_putc(b, '}');
}

void frep_json_array(fa_buf *b, const fa_report *o)
{
    uint32_t *ff = frep_file_faces(o);
    if (!ff) { b->oom = 1; return; }
    fa_buf_putc(b, '[');
    for (size_t k = 0; k < o->audit->n_findings; k++) {
        fa_buf_puts(b, k ? ",\n" : "\n");
        json_finding(b, o, ff, k);
    }
    fa_buf_puts(b, "]");
    free(ff);
}

static void json_info(fa_buf *b, const fa_report *o)
{
    const fa_audit *a = o->audit;
    fa_buf_puts(b, "\"info\":{\"no_face\":[");
    for (size_t k = 0; k < a->n_no_face; k++) {
        if (k) fa_buf_putc(b, ',');
        fa_buf_json_str(b, fpath(o, a->no_face[k]));
    }
    fa_buf_puts(b, "],\"multi_face\":[");
    for (size_t k = 0; k < a->n_multi; k++) {
        if (k) fa_buf_putc(b, ',');
        fa_buf_json_str(b, fpath(o, a->multi[k].file));
    }
    fa_buf_puts(b, "],\"unreadable\":[");
    for (size_t k = 0; k < a->n_errors; k++) {
        const fa_file *f = &o->cache->files[a->errors[k]];
        fa_buf_printf(b, "%s{", k ? "," : "");
        jstr(b, "path", f->path); fa_buf_putc(b, ',');
        jstr(b, "status", fa_status_name(f->status)); fa_buf_putc(b, ',');
        jstr(b, "reason", f->reason);
        fa_buf_putc(b, '}');
    }
    fa_buf_puts(b, "]}");
}

int fa_report_findings_json(const fa_report *o, const char *path)
{
    const fa_cache *c = o->cache;
    fa_buf b = {0};
    char now[32];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", &tm);
    const fa_model_id *enc = fa_cache_model(c, "encoder");
    char *abs = realpath(c->dir, NULL);
    fa_buf_puts(&b, "{\"format\":1,");
    jstr(&b, "root", c->root); fa_buf_putc(&b, ',');
    jstr(&b, "cache", abs ? abs : c->dir);
    free(abs);
    fa_buf_printf(&b, ",\"generation\":%lld,", (long long)c->generation);
    jstr(&b, "created", now); fa_buf_putc(&b, ',');
    jstr(&b, "encoder", enc ? enc->name : "");
    /* Before the findings, so that a query reads it from the file's head. */
    fa_buf_printf(&b, ",\"threshold\":%.6f,", o->audit->threshold);
    jstr(&b, "threshold_source", o->audit->threshold_source);
    fa_buf_printf(&b, ",\"review\":%zu,\"findings\":", o->audit->n_review);
    frep_json_array(&b, o);
    fa_buf_puts(&b, ",\n");
    json_info(&b, o);
    fa_buf_puts(&b, "}\n");
    return frep_save(&b, path);
}

/* ---- text ---------------------------------------------------------------------------------- */

void frep_text(FILE *out, const fa_report *o, size_t top)
{
    const fa_audit *a = o->audit;
    fa_buf s = {0};
    for (size_t k = 0; k < a->n_findings && k < top; k++) {
        const fa_finding *f = &a->findings[k];
        s.len = 0;
        frep_summary(&s, o, f);
        fa_buf_putc(&s, '\0');
        fprintf(out, "  %3zu %s %-13s %-8s score %5.2f  %s\n", k + 1, f->review ? "*" : " ", fa_find_kind_name(f->kind),
                fa_find_action(f->kind), f->score, s.oom ? "" : s.data);
    }
    fa_buf_free(&s);
}

/* ---- HTML cards -------------------------------------------------------------------------------- */

/* Up to FREP_STRIP files of folder g with an audited face, skipping `skip`. */
static size_t strip_files(const fa_report *o, const uint32_t *ff, uint32_t g, uint32_t skip, uint32_t *out)
{
    size_t n = 0;
    if (g == FA_NONE) return 0;
    for (size_t f = 0; f < o->cache->n_files && n < FREP_STRIP; f++)
        if (o->cache->files[f].folder == g && ff[f] != UINT32_MAX && f != skip) out[n++] = (uint32_t)f;
    return n;
}

/* The subject files of a card (the face the card is about, and for a
 * duplicate the copy kept), then which folders get a strip. */
static size_t card_subjects(const fa_finding *f, uint32_t *out)
{
    size_t n = 0;
    if (f->file != FA_NONE) out[n++] = f->file;
    if (f->other_file != FA_NONE && (f->kind == FA_FIND_DUPLICATE || f->kind == FA_FIND_SAME_IDENTITY))
        out[n++] = f->other_file;
    return n;
}

void frep_html_wants(const fa_report *o, const uint32_t *ff, frep_want_fn want, void *ud)
{
    const fa_audit *a = o->audit;
    uint32_t v[FREP_STRIP];
    for (size_t k = 0; k < a->n_findings && k < o->html_limit; k++) {
        const fa_finding *f = &a->findings[k];
        size_t n = card_subjects(f, v);
        for (size_t q = 0; q < n; q++) want(ud, v[q], ff[v[q]]);
        if (f->kind == FA_FIND_MIXED_FOLDER) {
            for (uint32_t c = 0; c < f->n_clusters; c++)
                for (uint32_t q = c ? f->cluster_end[c - 1] : 0, e = 0; q < f->cluster_end[c] && e < FREP_STRIP; q++, e++)
                    want(ud, f->files[q], ff[f->files[q]]);
            continue;
        }
        n = strip_files(o, ff, f->folder, f->file, v);
        for (size_t q = 0; q < n; q++) want(ud, v[q], ff[v[q]]);
        n = strip_files(o, ff, f->other_folder, f->other_file, v);
        for (size_t q = 0; q < n; q++) want(ud, v[q], ff[v[q]]);
    }
}

static void card_strip(fa_buf *b, const fa_report *o, const uint32_t *ff, const char *label, uint32_t g,
                       const uint32_t *files, size_t n, size_t total, frep_put_fn put, const void *ud)
{
    fa_buf_printf(b, "<div class=\"strip\"><div class=\"label\">%s ", label);
    fa_html_escape(b, fname(o, g));
    fa_buf_printf(b, " (%zu)</div>", total);
    for (size_t q = 0; q < n; q++) put(b, ud, files[q], ff[files[q]]);
    fa_buf_puts(b, "</div>");
}

static void card_subject(fa_buf *b, const fa_report *o, const uint32_t *ff, uint32_t file, const char *label,
                         frep_put_fn put, const void *ud)
{
    fa_buf_printf(b, "<div class=\"subject\"><div class=\"label\">%s</div>", label);
    put(b, ud, file, ff[file]);
    fa_buf_puts(b, "<div class=\"path\">");
    fa_html_escape(b, fpath(o, file));
    fa_buf_puts(b, "</div></div>");
}

/* A mixed folder's card: the folder's person, each group of faces (another
 * person) in a strip of its own, then the faces alone in one strip, each
 * with its nearest folder under it (as the summary counts them). */
static void mixed_body(fa_buf *b, const fa_report *o, const uint32_t *ff, const fa_finding *f, frep_put_fn put,
                       const void *ud)
{
    uint32_t alone = 0, shown = 0;
    for (uint32_t c = 0; c < f->n_clusters; c++) {
        uint32_t s = c ? f->cluster_end[c - 1] : 0, n = cluster_size(f, c);
        if (c && n == 1) { alone++; continue; }
        fa_buf_printf(b, "<div class=\"strip%s\"><div class=\"label\">%s %u", c ? "" : " own",
                      c ? "cluster" : "the folder's person,", c + 1);
        if (c && f->cluster_like[c] != FA_NONE) {
            fa_buf_puts(b, ", nearest folder ");
            fa_html_escape(b, fname(o, f->cluster_like[c]));
        }
        fa_buf_printf(b, " (%u)</div>", n);
        for (uint32_t q = 0; q < n && q < FREP_STRIP; q++) put(b, ud, f->files[s + q], ff[f->files[s + q]]);
        fa_buf_puts(b, "</div>");
    }
    if (!alone) return;
    fa_buf_printf(b, "<div class=\"strip\"><div class=\"label\">%u face%s alone (clusters of one)</div>", alone,
                  alone > 1 ? "s" : "");
    for (uint32_t c = 1; c < f->n_clusters && shown < FREP_STRIP; c++) {
        if (cluster_size(f, c) != 1) continue;
        uint32_t file = f->files[f->cluster_end[c - 1]];
        fa_buf_puts(b, "<div class=\"alone\">");
        put(b, ud, file, ff[file]);
        fa_buf_puts(b, "<div class=\"label\">");
        fa_html_escape(b, f->cluster_like[c] != FA_NONE ? fname(o, f->cluster_like[c]) : "no folder near");
        fa_buf_puts(b, "</div></div>");
        shown++;
    }
    if (alone > shown) fa_buf_printf(b, "<div class=\"label\">and %u more</div>", alone - shown);
    fa_buf_puts(b, "</div>");
}

static void card_body(fa_buf *b, const fa_report *o, const uint32_t *ff, const fa_finding *f, frep_put_fn put, const void *ud)
{
    uint32_t v[FREP_STRIP];
    if (f->kind == FA_FIND_MIXED_FOLDER) {
        mixed_body(b, o, ff, f, put, ud);
        return;
    }
    if (f->kind == FA_FIND_DUPLICATE) {
        card_subject(b, o, ff, f->file, "this copy", put, ud);
        card_subject(b, o, ff, f->other_file, "keep", put, ud);
    } else if (f->kind == FA_FIND_SAME_IDENTITY) {
        card_subject(b, o, ff, f->file, "nearest pair", put, ud);
        card_subject(b, o, ff, f->other_file, "&nbsp;", put, ud);
    } else {
        card_subject(b, o, ff, f->file, "this face", put, ud);
    }
    size_t n = strip_files(o, ff, f->folder, f->file, v);
    card_strip(b, o, ff, "own folder", f->folder, v, n, f->own_size, put, ud);
    if (f->other_folder != FA_NONE && f->other_folder != f->folder) {
        n = strip_files(o, ff, f->other_folder, f->other_file, v);
        card_strip(b, o, ff, f->kind == FA_FIND_DUPLICATE ? "kept copy's folder" : "suggested folder",
                   f->other_folder, v, n, f->other_size, put, ud);
    }
}

void frep_html(fa_buf *b, const fa_report *o, const uint32_t *ff, frep_put_fn put, const void *ud)
{
    const fa_audit *a = o->audit;
    size_t n = a->n_findings < o->html_limit ? a->n_findings : o->html_limit;
    fa_buf_printf(b, "<section id=\"findings\"><h2>Findings to review (%zu of %zu listed)</h2>\n<p class=\"rule\">"
                     "Read from the top and stop when the cards stop being mistakes. Each card is one decision; "
                     "the score is the evidence (see the README, \"How findings are ranked\"). The sure ones "
                     "come first: copies across folders and findings with a full gap of evidence (score 1 or "
                     "more), then copies inside one folder, then findings with less evidence, each part by "
                     "score; cards below the review cut-off are shown greyed.</p>\n", a->n_review, a->n_findings);
    fa_buf s = {0};
    for (size_t k = 0; k < n; k++) {
        const fa_finding *f = &a->findings[k];
        const char *kind = fa_find_kind_name(f->kind);
        fa_buf_printf(b, "<div class=\"card k-%s%s\" id=\"%s\" data-rank=\"%zu\" data-kind=\"%s\" data-id=\"%s\">"
                         "<div class=\"head\"><span class=\"rank\">#%zu</span> <b>%s</b> &rarr; %s "
                         "<span class=\"score\">score %.2f</span> ",
                      kind, f->review ? " review" : " below", f->id, k + 1, kind, f->id, k + 1, kind,
                      fa_find_action(f->kind), f->score);
        s.len = 0;
        frep_summary(&s, o, f);
        fa_buf_putc(&s, '\0');
        fa_html_escape(b, s.oom ? "" : s.data);
        fa_buf_puts(b, "</div><div class=\"body\">");
        card_body(b, o, ff, f, put, ud);
        fa_buf_puts(b, "</div></div>\n");
    }
    fa_buf_free(&s);
    if (n < a->n_findings)
        fa_buf_printf(b, "<p class=\"muted\">%zu more in findings.csv (raise --html-limit to show them here)</p>",
                      a->n_findings - n);
    fa_buf_puts(b, "</section>\n");
}
