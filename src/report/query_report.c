/*
 * query_report.c - rendering `faceaudit query` answers (see report.h).
 *
 * Every rendering says the same things per face: its box, the k nearest
 * cached faces (path, folder, distance, cosine, within the threshold or not),
 * the best folders (closest distance, faces within the threshold), and a
 * plain "no match" when no cached face is within --max-distance; a hit whose
 * file is the photo itself (identical bytes, or its image resized or
 * re-encoded: fa_query_same_photo) is marked as such.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "html.h"
#include "faceaudit/report.h"
#include "util.h"

/* ---- shared facts about a hit ------------------------------------------- */

static const fa_file *hit_file(const fa_cache *c, uint32_t row)
{
    return &c->files[c->faces[row].file];
}

static const char *hit_folder(const fa_cache *c, uint32_t row)
{
    return c->folders[hit_file(c, row)->folder];
}

/* "path" or "path (face N)" for a file with several faces. */
static void hit_label(const fa_cache *c, uint32_t row, char *out, size_t n)
{
    const fa_file *f = hit_file(c, row);
    if (f->n_faces > 1) snprintf(out, n, "%s (face %u)", f->path, c->faces[row].face + 1);
    else snprintf(out, n, "%s", f->path);
}

/* The hit's file as the photo itself: kind, and the images' correlation. */
static fa_same_kind hit_same(const fa_qreport *o, const fa_query_faces *q, uint32_t row, float *corr)
{
    return fa_query_same_photo(o->cache, q, o->cache->faces[row].file, corr);
}

static const char *same_name(fa_same_kind k)
{
    return k == FA_SAME_BYTES ? "bytes" : k == FA_SAME_IMAGE ? "image" : "";
}

/* ---- table ----------------------------------------------------------------- */

static void put_padded(FILE *f, const char *s, int width)
{
    fputs(s, f);
    for (int i = fa_utf8_width(s); i < width; i++) fputc(' ', f);
}

static int max_int(int a, int b) { return a > b ? a : b; }

static void table_neighbours(fa_qreport *o, const fa_query_faces *q, const fa_search_result *r)
{
    const fa_cache *c = o->cache;
    char label[4200];
    int wf = 6, wp = 4;
    for (size_t i = 0; i < r->n_hits; i++) {
        hit_label(c, r->hits[i].row, label, sizeof label);
        wf = max_int(wf, fa_utf8_width(hit_folder(c, r->hits[i].row)));
        wp = max_int(wp, fa_utf8_width(label));
    }
    fprintf(o->out, "    %3s  %-8s  %-6s  %-5s  ", "#", "distance", "cosine", "match");
    put_padded(o->out, "folder", wf);
    fprintf(o->out, "  path\n");
    for (size_t i = 0; i < r->n_hits; i++) {
        const fa_hit *h = &r->hits[i];
        hit_label(c, h->row, label, sizeof label);
        fprintf(o->out, "    %3zu  %-8.4f  %-6.3f  %-5s  ", i + 1, h->distance, h->cosine,
                h->distance <= o->sp->max_distance ? "yes" : "-");
        put_padded(o->out, hit_folder(c, h->row), wf);
        fprintf(o->out, "  %s", label);
        float corr;
        fa_same_kind k = hit_same(o, q, h->row, &corr);
        if (k == FA_SAME_BYTES) fprintf(o->out, "  [this photo: identical bytes]");
        else if (k == FA_SAME_IMAGE) fprintf(o->out, "  [this photo, resized or re-encoded: images %.3f]", corr);
        fputc('\n', o->out);
    }
}

static void table_folders(fa_qreport *o, const fa_search_result *r)
{
    size_t n = r->n_folders < o->folders_shown ? r->n_folders : o->folders_shown;
    int wf = 6;
    for (size_t i = 0; i < n; i++) wf = max_int(wf, fa_utf8_width(o->cache->folders[r->folders[i].folder]));
    fprintf(o->out, "    best folders:\n    ");
    put_padded(o->out, "folder", wf);
    fprintf(o->out, "  closest  within %.2f\n", o->sp->max_distance);
    for (size_t i = 0; i < n; i++) {
        const fa_folder_hit *f = &r->folders[i];
        fprintf(o->out, "    ");
        put_padded(o->out, o->cache->folders[f->folder], wf);
        fprintf(o->out, "  %-7.4f  %u of %u\n", f->closest, f->within, f->faces);
    }
}

/* One line that answers the question: who is it, or no match. */
static void table_verdict(fa_qreport *o, const fa_search_result *r)
{
    if (r->n_hits == 0) { fprintf(o->out, "no face to compare with%s\n", o->folder ? " in that folder" : ""); return; }
    if (r->n_within == 0) {
        fprintf(o->out, "no match: no face in the %s within %.2f (closest %.4f)\n",
                o->folder ? "folder" : "cache", o->sp->max_distance, r->hits[0].distance);
        return;
    }
    const fa_folder_hit *best = &r->folders[0];
    fprintf(o->out, "looks like %s (closest %.4f; %u of %u faces within %.2f)\n",
            o->cache->folders[best->folder], best->closest, best->within, best->faces, o->sp->max_distance);
}

static void table_answer(fa_qreport *o, const fa_qanswer *a)
{
    if (!a->ok) { fprintf(o->out, "%s\n  error: %s\n\n", a->photo, a->error); return; }
    const fa_query_faces *q = a->faces;
    fprintf(o->out, "%s: %u face%s (%dx%d)\n", a->photo, q->n_faces, q->n_faces == 1 ? "" : "s", q->width,
            q->height);
    for (uint32_t i = 0; i < q->n_faces; i++) {
        const fa_box *b = &q->boxes[i];
        fprintf(o->out, "  face %u at %.0f,%.0f %.0fx%.0f: ", i + 1, b->x, b->y, b->w, b->h);
        table_verdict(o, &a->res[i]);
        table_neighbours(o, q, &a->res[i]);
        table_folders(o, &a->res[i]);
    }
    fputc('\n', o->out);
}

/* ---- CSV ------------------------------------------------------------------- */

static void csv_field(FILE *f, const char *s)
{
    fa_buf b = {0};
    fa_buf_csv_field(&b, s);
    if (b.len) fwrite(b.data, 1, b.len, f);
    fa_buf_free(&b);
}

#define CSV_HEADER "photo,face,x,y,w,h,kind,rank,folder,path,file_face,distance,cosine,match,within,folder_faces,reason," \
                   "same,image_corr\n"

static void csv_prefix(fa_qreport *o, const fa_qanswer *a, uint32_t face)
{
    const fa_box *b = &a->faces->boxes[face];
    csv_field(o->out, a->photo);
    fprintf(o->out, ",%u,%.0f,%.0f,%.0f,%.0f,", face + 1, b->x, b->y, b->w, b->h);
}

static void csv_face(fa_qreport *o, const fa_qanswer *a, uint32_t face)
{
    const fa_search_result *r = &a->res[face];
    for (size_t i = 0; i < r->n_hits; i++) {
        const fa_hit *h = &r->hits[i];
        csv_prefix(o, a, face);
        fprintf(o->out, "neighbour,%zu,", i + 1);
        csv_field(o->out, hit_folder(o->cache, h->row));
        fputc(',', o->out);
        csv_field(o->out, hit_file(o->cache, h->row)->path);
        float corr;
        fa_same_kind k = hit_same(o, a->faces, h->row, &corr);
        fprintf(o->out, ",%u,%.4f,%.4f,%d,,,,%s,", o->cache->faces[h->row].face + 1, h->distance, h->cosine,
                h->distance <= o->sp->max_distance, same_name(k));
        if (!isnan(corr)) fprintf(o->out, "%.4f", corr);
        fputc('\n', o->out);
    }
    size_t n = r->n_folders < o->folders_shown ? r->n_folders : o->folders_shown;
    for (size_t i = 0; i < n; i++) {
        const fa_folder_hit *f = &r->folders[i];
        csv_prefix(o, a, face);
        fprintf(o->out, "folder,%zu,", i + 1);
        csv_field(o->out, o->cache->folders[f->folder]);
        fprintf(o->out, ",,,%.4f,,%d,%u,%u,,,\n", f->closest, f->within > 0, f->within, f->faces);
    }
}

static void csv_answer(fa_qreport *o, const fa_qanswer *a)
{
    if (!a->ok) {
        csv_field(o->out, a->photo);
        fprintf(o->out, ",,,,,,error,,,,,,,,,,");
        csv_field(o->out, a->error);
        fputs(",,\n", o->out);
        return;
    }
    for (uint32_t i = 0; i < a->faces->n_faces; i++) csv_face(o, a, i);
}

/* ---- JSON ------------------------------------------------------------------ */

static void json_hits(fa_buf *b, fa_qreport *o, const fa_query_faces *q, const fa_search_result *r)
{
    fa_buf_puts(b, "\"neighbours\":[");
    for (size_t i = 0; i < r->n_hits; i++) {
        const fa_hit *h = &r->hits[i];
        fa_buf_printf(b, "%s{\"rank\":%zu,\"folder\":", i ? "," : "", i + 1);
        fa_buf_json_str(b, hit_folder(o->cache, h->row));
        fa_buf_puts(b, ",\"path\":");
        fa_buf_json_str(b, hit_file(o->cache, h->row)->path);
        fa_buf_printf(b, ",\"file_face\":%u,\"row\":%u,\"distance\":%.6f,\"cosine\":%.6f,\"match\":%s",
                      o->cache->faces[h->row].face + 1, h->row, h->distance, h->cosine,
                      h->distance <= o->sp->max_distance ? "true" : "false");
        float corr;
        fa_same_kind k = hit_same(o, q, h->row, &corr);
        if (k == FA_SAME_NONE) fa_buf_puts(b, ",\"same\":null");
        else fa_buf_printf(b, ",\"same\":\"%s\"", same_name(k));
        if (isnan(corr)) fa_buf_puts(b, ",\"image_corr\":null}");
        else fa_buf_printf(b, ",\"image_corr\":%.6f}", corr);
    }
    fa_buf_puts(b, "],\"folders\":[");
    size_t n = r->n_folders < o->folders_shown ? r->n_folders : o->folders_shown;
    for (size_t i = 0; i < n; i++) {
        const fa_folder_hit *f = &r->folders[i];
        fa_buf_printf(b, "%s{\"folder\":", i ? "," : "");
        fa_buf_json_str(b, o->cache->folders[f->folder]);
        fa_buf_printf(b, ",\"closest\":%.6f,\"within\":%u,\"faces\":%u}", f->closest, f->within, f->faces);
    }
    fa_buf_puts(b, "]");
}

static void json_face(fa_buf *b, fa_qreport *o, const fa_qanswer *a, uint32_t i)
{
    const fa_box *x = &a->faces->boxes[i];
    const fa_search_result *r = &a->res[i];
    fa_buf_printf(b, "%s{\"face\":%u,\"box\":{\"x\":%.1f,\"y\":%.1f,\"w\":%.1f,\"h\":%.1f,\"score\":%.4f},", i ? "," : "",
                  i + 1, x->x, x->y, x->w, x->h, x->score);
    fa_buf_printf(b, "\"match\":%s,\"within\":%zu,\"searched\":%zu,", r->n_within ? "true" : "false", r->n_within,
                  r->n_searched);
    json_hits(b, o, a->faces, r);
    fa_buf_puts(b, "}");
}

static void json_answer(fa_qreport *o, const fa_qanswer *a)
{
    fa_buf b = {0};
    fa_buf_puts(&b, o->n_written ? ",\n{\"photo\":" : "\n{\"photo\":");
    fa_buf_json_str(&b, a->photo);
    if (!a->ok) {
        fa_buf_printf(&b, ",\"status\":\"%s\",\"error\":", fa_status_name(a->faces->status));
        fa_buf_json_str(&b, a->error);
        fa_buf_puts(&b, ",\"faces\":[]}");
    } else {
        fa_buf_printf(&b, ",\"status\":\"ok\",\"error\":null,\"width\":%d,\"height\":%d,\"faces\":[", a->faces->width,
                      a->faces->height);
        for (uint32_t i = 0; i < a->faces->n_faces; i++) json_face(&b, o, a, i);
        fa_buf_puts(&b, "]}");
    }
    if (!b.oom) fwrite(b.data, 1, b.len, o->out);
    fa_buf_free(&b);
}

/* ---- HTML -------------------------------------------------------------------- */

#define THUMB 96

static void html_hit(fa_qreport *o, const fa_query_faces *q, const fa_hit *h)
{
    fa_buf *b = o->html;
    const fa_file *f = hit_file(o->cache, h->row);
    char *full = fa_path_join(o->cache->root, f->path);
    fa_buf_printf(b, "<div class=\"face %s\">", h->distance <= o->sp->max_distance ? "match" : "nomatch");
    fa_html_thumb(b, full ? full : f->path, &o->cache->faces[h->row].box, THUMB, f->path);
    fa_html_escape(b, hit_folder(o->cache, h->row));
    fa_buf_puts(b, "<br>");
    fa_html_escape(b, f->path);
    fa_buf_printf(b, "<br>%.4f (cos %.3f)", h->distance, h->cosine);
    float corr;
    fa_same_kind k = hit_same(o, q, h->row, &corr);
    if (k == FA_SAME_BYTES) fa_buf_puts(b, "<br><b>this photo</b> (identical bytes)");
    else if (k == FA_SAME_IMAGE) fa_buf_printf(b, "<br><b>this photo</b>, resized (images %.3f)", corr);
    fa_buf_puts(b, "</div>");
    free(full);
}

static void html_face(fa_qreport *o, const fa_qanswer *a, uint32_t i)
{
    fa_buf *b = o->html;
    const fa_search_result *r = &a->res[i];
    fa_buf_printf(b, "<h3>face %u</h3><div class=\"faces\"><div class=\"face\">", i + 1);
    fa_html_thumb(b, a->photo, &a->faces->boxes[i], THUMB, a->photo);
    fa_buf_puts(b, "query</div>");
    for (size_t j = 0; j < r->n_hits; j++) html_hit(o, a->faces, &r->hits[j]);
    fa_buf_puts(b, "</div>");
    if (!r->n_within) fa_buf_printf(b, "<p class=\"nomatch\">no match: no face within %.2f</p>", o->sp->max_distance);
    fa_buf_printf(b, "<table><tr><th>folder</th><th>closest</th><th>within %.2f</th></tr>", o->sp->max_distance);
    size_t n = r->n_folders < o->folders_shown ? r->n_folders : o->folders_shown;
    for (size_t j = 0; j < n; j++) {
        const fa_folder_hit *f = &r->folders[j];
        fa_buf_puts(b, "<tr><td>");
        fa_html_escape(b, o->cache->folders[f->folder]);
        fa_buf_printf(b, "</td><td>%.4f</td><td>%u of %u</td></tr>", f->closest, f->within, f->faces);
    }
    fa_buf_puts(b, "</table>");
}

static void html_answer(fa_qreport *o, const fa_qanswer *a)
{
    fa_buf *b = o->html;
    fa_buf_puts(b, "<section><h2>");
    fa_html_escape(b, a->photo);
    fa_buf_puts(b, "</h2>");
    if (!a->ok) {
        fa_buf_puts(b, "<p class=\"err\">");
        fa_html_escape(b, a->error);
        fa_buf_puts(b, "</p>");
    } else {
        for (uint32_t i = 0; i < a->faces->n_faces; i++) html_face(o, a, i);
    }
    fa_buf_puts(b, "</section>\n");
}

/* Where the threshold came from, in words. */
static const char *source_text(const fa_qreport *o)
{
    const char *s = o->threshold_source;
    if (!s) return NULL;
    if (!strcmp(s, "calibrated")) return "calibrated on this cache by its last audit";
    if (!strcmp(s, "calibrated_earlier"))
        return "calibrated by an audit of this cache before it was last indexed; `faceaudit audit CACHE` "
               "recalibrates it for the faces added since";
    if (!strcmp(s, "encoder"))
        return "the encoder's fixed rule; `faceaudit audit CACHE` calibrates one for this dataset, which the "
               "next query uses";
    return "--max-distance";
}

int fa_qreport_html_save(fa_qreport *o, const char *path)
{
    fa_buf page = {0};
    fa_buf_printf(&page, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>faceaudit query</title>"
                         "<style>%s</style></head><body>\n<h1>faceaudit query</h1><p>cache ", fa_html_css);
    fa_html_escape(&page, o->cache->dir);
    fa_buf_printf(&page, " (%zu faces, %zu folders); k %zu, max distance %.2f", o->cache->n_faces,
                  o->cache->n_folders, o->sp->k, o->sp->max_distance);
    if (source_text(o)) {
        fa_buf_puts(&page, " (");
        fa_html_escape(&page, source_text(o));
        fa_buf_puts(&page, ")");
    }
    if (o->folder) { fa_buf_puts(&page, "; folder "); fa_html_escape(&page, o->folder); }
    fa_buf_puts(&page, "</p>\n");
    fa_buf_append(&page, o->html->data, o->html->len);
    fa_buf_puts(&page, "</body></html>\n");
    int rc = page.oom || o->html->oom ? fa_error("%s: out of memory", path)
                                      : fa_write_file_atomic(path, page.data, page.len);
    fa_buf_free(&page);
    if (rc) fprintf(stderr, "faceaudit: %s\n", fa_last_error());
    return rc;
}

/* ---- dispatch ------------------------------------------------------------------ */

void fa_qreport_begin(fa_qreport *o)
{
    if (o->format == FA_QOUT_TABLE && source_text(o))
        fprintf(o->out, "same person: distance <= %.4f (%s)\n", o->sp->max_distance, source_text(o));
    if (o->format == FA_QOUT_CSV) fputs(CSV_HEADER, o->out);
    if (o->format == FA_QOUT_JSON) {
        fa_buf b = {0};
        fa_buf_puts(&b, "{\"cache\":");
        fa_buf_json_str(&b, o->cache->dir);
        fa_buf_printf(&b, ",\"faces\":%zu,\"k\":%zu,\"max_distance\":%.4f,\"max_distance_source\":", o->cache->n_faces,
                      o->sp->k, o->sp->max_distance);
        if (o->threshold_source) fa_buf_json_str(&b, o->threshold_source);
        else fa_buf_puts(&b, "null");
        fa_buf_puts(&b, ",\"folder\":");
        if (o->folder) fa_buf_json_str(&b, o->folder);
        else fa_buf_puts(&b, "null");
        fa_buf_puts(&b, ",\"photos\":[");
        if (!b.oom) fwrite(b.data, 1, b.len, o->out);
        fa_buf_free(&b);
    }
}

void fa_qreport_answer(fa_qreport *o, const fa_qanswer *a)
{
    if (o->format == FA_QOUT_TABLE) table_answer(o, a);
    else if (o->format == FA_QOUT_CSV) csv_answer(o, a);
    else json_answer(o, a);
    if (o->html) html_answer(o, a);
    o->n_written++;
    fflush(o->out);
}

void fa_qreport_end(fa_qreport *o)
{
    if (o->format == FA_QOUT_JSON) fputs("\n]}\n", o->out);
}
