/*
 * audit_data.c - the audit's machine-readable files (see report.h):
 * pairs.csv, one row per cross-folder pair, and report.json, every finding,
 * the calibration and the method.
 *
 * JSON is printed straight into a buffer (fa_buf_json_str), not built with
 * jansson, which parses it: jansson builds a whole document in memory before
 * writing it (report.json can hold millions of pairs) and refuses strings
 * that are not UTF-8, which file names can be; fa_buf_json_str escapes each
 * such byte instead.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util.h"
#include "findings_report.h"
#include "audit_report.h"

static void sha_hex(const uint8_t *sha, char out[65])
{
    for (int i = 0; i < 32; i++) snprintf(out + 2 * i, 3, "%02x", sha[i]);
}

/* ---- CSV ------------------------------------------------------------------------ */

/* A CSV field, quoted when it holds a comma, quote, CR, LF or edge space. */
static void csv_field(fa_buf *b, const char *s) { fa_buf_csv_field(b, s); }

static void csv_num(fa_buf *b, float v, const char *fmt)
{
    if (!isnan(v)) fa_buf_printf(b, fmt, v);
}

int fa_report_pairs_csv(const fa_report *o, const char *path)
{
    const fa_audit *a = o->audit;
    fa_buf b = {0};
    fa_buf_puts(&b, "path1,path2,similarity,distance,kind,rel,strong,centre_ratio,folder1,folder2,face1,face2,spread1,spread2,rank\n");
    for (size_t k = 0; k < a->n_matches; k++) {
        const fa_match *m = &a->matches[k];
        csv_field(&b, file_path(o, m->file_a));
        fa_buf_putc(&b, ',');
        csv_field(&b, file_path(o, m->file_b));
        fa_buf_printf(&b, ",%.6f,%.6f,%s,%.4f,%d,", m->cos, m->dist, fa_match_kind_name(m->kind), m->rel, m->strong);
        csv_num(&b, m->centre_ratio, "%.4f");
        fa_buf_putc(&b, ',');
        csv_field(&b, folder_name(o, m->folder_a));
        fa_buf_putc(&b, ',');
        csv_field(&b, folder_name(o, m->folder_b));
        fa_buf_printf(&b, ",%u,%u,", face_no(o, m->face_a), face_no(o, m->face_b));
        csv_num(&b, m->spread_a, "%.4f");
        fa_buf_putc(&b, ',');
        csv_num(&b, m->spread_b, "%.4f");
        fa_buf_printf(&b, ",%zu\n", k + 1);
    }
    return frep_save(&b, path);
}

/* ---- JSON ------------------------------------------------------------------------ */

static void jstr(fa_buf *b, const char *key, const char *s)
{
    fa_buf_printf(b, "\"%s\":", key);
    if (s) fa_buf_json_str(b, s);
    else fa_buf_puts(b, "null");
}

static void jarr(fa_buf *b, const char *key, const float *v, int n)
{
    fa_buf_printf(b, "\"%s\":[", key);
    for (int i = 0; i < n; i++) {
        if (i) fa_buf_putc(b, ',');
        if (isnan(v[i])) fa_buf_puts(b, "null");
        else fa_buf_printf(b, "%.6g", v[i]);
    }
    fa_buf_putc(b, ']');
}

static void json_calib(fa_buf *b, const fa_report *o)
{
    const fa_calib *cb = o->audit->calib;
    float q[FA_CALIB_NQ];
    for (int i = 0; i < FA_CALIB_NQ; i++) q[i] = (float)fa_calib_quantiles[i];
    fa_buf_puts(b, "\"calibration\":{");
    jstr(b, "rule", fa_calib_rule_text());
    fa_buf_printf(b, ",\"faces\":%zu,\"typical_faces\":%zu,\"folders\":%zu,", cb->n, cb->n - cb->n_atypical,
                  cb->n_groups);
    frep_jnum(b, "within_pairs", cb->within_pairs); fa_buf_putc(b, ',');
    frep_jnum(b, "cross_pairs", cb->cross_pairs);
    fa_buf_printf(b, ",\"within_samples\":%zu,\"cross_samples\":%zu,\"within_exhaustive\":%s,"
                     "\"cross_exhaustive\":%s,", cb->n_within, cb->n_cross,
                  cb->within_exhaustive ? "true" : "false", cb->cross_exhaustive ? "true" : "false");
    jarr(b, "quantiles", q, FA_CALIB_NQ); fa_buf_putc(b, ',');
    jarr(b, "within", cb->within_q, FA_CALIB_NQ); fa_buf_putc(b, ',');
    jarr(b, "cross", cb->cross_q, FA_CALIB_NQ); fa_buf_putc(b, ',');
    frep_jnum(b, "alpha", cb->alpha); fa_buf_putc(b, ',');
    frep_jnum(b, "t_cross", cb->t_cross); fa_buf_putc(b, ',');
    frep_jnum(b, "within_cap_quantile", o->params->calib.within_cap_q); fa_buf_putc(b, ',');
    frep_jnum(b, "t_cap", cb->t_cap); fa_buf_putc(b, ',');
    frep_jnum(b, "threshold", cb->threshold);
    fa_buf_printf(b, ",\"capped\":%s,", cb->capped ? "true" : "false");
    frep_jnum(b, "cross_share", cb->cross_share); fa_buf_putc(b, ',');
    frep_jnum(b, "cross_expected", cb->cross_expected); fa_buf_putc(b, ',');
    frep_jnum(b, "within_share", cb->within_share); fa_buf_putc(b, ',');
    frep_jnum(b, "dlib_0.6_cross_share", cb->dlib_cross_share); fa_buf_putc(b, ',');
    frep_jnum(b, "dlib_0.6_within_share", cb->dlib_within_share); fa_buf_putc(b, ',');
    fixed_rule r = arep_rule_of(o);
    frep_jnum(b, "rule_distance", r.t); fa_buf_putc(b, ',');
    frep_jnum(b, "rule_cross_share", r.cross); fa_buf_putc(b, ',');
    frep_jnum(b, "rule_within_share", r.within); fa_buf_putc(b, ',');
    double ov;
    const char *advice = arep_encoder_advice(o, &ov);
    frep_jnum(b, "encoder_overlap", ov); fa_buf_putc(b, ',');
    jstr(b, "encoder_advice", advice); fa_buf_putc(b, ',');
    frep_jnum(b, "global_spread", cb->global_spread);
    fa_buf_puts(b, "}");
}

static void json_method(fa_buf *b, const fa_report *o)
{
    const fa_audit *a = o->audit;
    fa_buf_printf(b, "\"method\":{\"search\":\"%s\",\"nlist\":%zu,\"nprobe\":%d,", arep_mode_name(a->mode), a->nlist,
                  a->mode == FA_SEARCH_IVF_PROBE ? o->params->nprobe : 0);
    if (a->recall < 0) fa_buf_puts(b, "\"recall\":null");
    else frep_jnum(b, "recall", a->recall);
    fa_buf_printf(b, ",\"recall_truth\":%zu,\"recall_found\":%zu,\"list_pairs_pruned\":%zu,"
                     "\"list_pairs_total\":%zu,", a->recall_truth, a->recall_found, a->list_pairs_pruned,
                  a->list_pairs_total);
    frep_jnum(b, "search_seconds", a->search_seconds); fa_buf_putc(b, ',');
    frep_jnum(b, "calibration_seconds", a->calib_seconds); fa_buf_putc(b, ',');
    frep_jnum(b, "audit_seconds", o->seconds); fa_buf_putc(b, ',');
    frep_jnum(b, "review_fdr", o->params->review_fdr); fa_buf_putc(b, ',');
    frep_jnum(b, "review_cut_misfiled", a->review_cut_misfiled); fa_buf_putc(b, ',');
    frep_jnum(b, "review_cut_same_identity", a->review_cut_merge);
    fa_buf_printf(b, ",\"same_identity_by_face\":%zu", arep_by_face_count(a));
    fa_buf_puts(b, "},\"threshold\":{");
    frep_jnum(b, "distance", a->threshold); fa_buf_putc(b, ',');
    jstr(b, "source", a->threshold_source); fa_buf_putc(b, ',');
    frep_jnum(b, "min_similarity", a->min_similarity); fa_buf_putc(b, ',');
    frep_jnum(b, "unit_norm_distance", a->unit_norm_distance); fa_buf_putc(b, ',');
    frep_jnum(b, "same_photo_distance", o->params->same_photo_dist); fa_buf_putc(b, ',');
    frep_jnum(b, "flagged_share", a->flagged_share); fa_buf_putc(b, ',');
    frep_jnum(b, "norm_min", a->norm_min); fa_buf_putc(b, ',');
    frep_jnum(b, "norm_max", a->norm_max);
    fa_buf_puts(b, "}");
}

static void json_counts(fa_buf *b, const fa_report *o)
{
    const fa_audit *a = o->audit;
    size_t cross = 0;
    for (size_t k = 0; k < a->n_dups; k++) cross += a->dups[k].cross_folder;
    fa_buf_printf(b, "\"counts\":{\"pairs\":%zu,\"strong_pairs\":%zu,\"identical_file\":%zu,\"same_photo\":%zu,\"same_person\":%zu,"
                     "\"folder_pairs\":%zu,\"merges_suggested\":%zu,\"outliers\":%zu,\"duplicate_groups\":%zu,"
                     "\"duplicate_groups_cross_folder\":%zu,\"duplicate_files\":%zu,\"no_face\":%zu,"
                     "\"multi_face\":%zu,\"errors\":%zu}",
                  a->n_matches, a->n_strong, a->n_identical_file, a->n_same_photo, a->n_same_person, a->n_merges,
                  a->n_merge_suggested, a->n_outliers, a->n_dups, cross, a->n_dup_files, a->n_no_face, a->n_multi,
                  a->n_errors);
}

static void json_pairs(fa_buf *b, const fa_report *o)
{
    const fa_audit *a = o->audit;
    fa_buf_puts(b, "\"pairs\":[");
    for (size_t k = 0; k < a->n_matches; k++) {
        const fa_match *m = &a->matches[k];
        fa_buf_printf(b, "%s\n{\"rank\":%zu,", k ? "," : "", k + 1);
        jstr(b, "path1", file_path(o, m->file_a)); fa_buf_putc(b, ',');
        jstr(b, "path2", file_path(o, m->file_b)); fa_buf_putc(b, ',');
        frep_jnum(b, "similarity", m->cos); fa_buf_putc(b, ',');
        frep_jnum(b, "distance", m->dist);
        fa_buf_printf(b, ",\"kind\":\"%s\",", fa_match_kind_name(m->kind));
        frep_jnum(b, "rel", m->rel);
        fa_buf_printf(b, ",\"strong\":%s,", m->strong ? "true" : "false");
        frep_jnum(b, "centre_ratio", m->centre_ratio); fa_buf_putc(b, ',');
        jstr(b, "folder1", folder_name(o, m->folder_a)); fa_buf_putc(b, ',');
        jstr(b, "folder2", folder_name(o, m->folder_b));
        fa_buf_printf(b, ",\"face1\":%u,\"face2\":%u,", face_no(o, m->face_a), face_no(o, m->face_b));
        frep_jnum(b, "spread1", m->spread_a); fa_buf_putc(b, ',');
        frep_jnum(b, "spread2", m->spread_b);
        fa_buf_putc(b, '}');
    }
    fa_buf_puts(b, "]");
}

static void json_merges(fa_buf *b, const fa_report *o)
{
    const fa_audit *a = o->audit;
    fa_buf_puts(b, "\"merges\":[");
    for (size_t k = 0; k < a->n_merges; k++) {
        const fa_merge *m = &a->merges[k];
        fa_buf_printf(b, "%s\n{\"rank\":%zu,", k ? "," : "", k + 1);
        jstr(b, "folder1", folder_name(o, m->folder_a)); fa_buf_putc(b, ',');
        jstr(b, "folder2", folder_name(o, m->folder_b));
        fa_buf_printf(b, ",\"suggest\":%s,\"pairs\":%u,\"faces1\":%u,\"faces2\":%u,\"size1\":%u,\"size2\":%u,",
                      m->suggest ? "true" : "false", m->pairs, m->faces_a, m->faces_b, m->size_a, m->size_b);
        frep_jnum(b, "share1", m->share_a); fa_buf_putc(b, ',');
        frep_jnum(b, "share2", m->share_b); fa_buf_putc(b, ',');
        frep_jnum(b, "median_distance", m->median_dist); fa_buf_putc(b, ',');
        frep_jnum(b, "min_distance", m->min_dist); fa_buf_putc(b, ',');
        frep_jnum(b, "centre_distance", m->centre_dist); fa_buf_putc(b, ',');
        frep_jnum(b, "mix", m->mix);
        fa_buf_putc(b, '}');
    }
    fa_buf_puts(b, "]");
}

static void json_outliers(fa_buf *b, const fa_report *o)
{
    const fa_audit *a = o->audit;
    fa_buf_puts(b, "\"outliers\":[");
    for (size_t k = 0; k < a->n_outliers; k++) {
        const fa_outlier *m = &a->outliers[k];
        fa_buf_printf(b, "%s\n{\"rank\":%zu,", k ? "," : "", k + 1);
        jstr(b, "path", file_path(o, m->file)); fa_buf_putc(b, ',');
        jstr(b, "folder", folder_name(o, m->folder));
        fa_buf_printf(b, ",\"face\":%u,", face_no(o, m->face));
        frep_jnum(b, "centre_distance", m->centre_dist); fa_buf_putc(b, ',');
        frep_jnum(b, "z", m->z); fa_buf_putc(b, ',');
        frep_jnum(b, "spread", m->spread); fa_buf_putc(b, ',');
        jstr(b, "best_folder", m->best_folder != UINT32_MAX ? folder_name(o, m->best_folder) : NULL);
        fa_buf_putc(b, ',');
        frep_jnum(b, "best_distance", m->best_folder != UINT32_MAX ? m->best_dist : NAN);
        fa_buf_printf(b, ",\"nearer_other\":%s,\"matches_best\":%s}", m->nearer_other ? "true" : "false",
                      m->matches_best ? "true" : "false");
    }
    fa_buf_puts(b, "]");
}

static void json_dups(fa_buf *b, const fa_report *o)
{
    const fa_audit *a = o->audit;
    char hex[65];
    fa_buf_puts(b, "\"duplicates\":[");
    for (size_t k = 0; k < a->n_dups; k++) {
        const fa_dup_group *g = &a->dups[o->dup_order[k]];
        sha_hex(o->cache->files[a->dup_files[g->first]].sha256, hex);
        fa_buf_printf(b, "%s\n{\"rank\":%zu,\"sha256\":\"%s\",\"cross_folder\":%s,\"files\":[", k ? "," : "", k + 1,
                      hex, g->cross_folder ? "true" : "false");
        for (uint32_t i = 0; i < g->count; i++) {
            uint32_t f = a->dup_files[g->first + i];
            fa_buf_puts(b, i ? ",{" : "{");
            jstr(b, "path", file_path(o, f)); fa_buf_putc(b, ',');
            jstr(b, "folder", file_folder(o, f));
            fa_buf_printf(b, ",\"status\":\"%s\"}", fa_status_name(o->cache->files[f].status));
        }
        fa_buf_puts(b, "]}");
    }
    fa_buf_puts(b, "]");
}

static void json_lists(fa_buf *b, const fa_report *o)
{
    const fa_audit *a = o->audit;
    fa_buf_puts(b, "\"no_face\":[");
    for (size_t k = 0; k < a->n_no_face; k++) {
        if (k) fa_buf_putc(b, ',');
        fa_buf_json_str(b, file_path(o, a->no_face[k]));
    }
    fa_buf_puts(b, "],\n\"multi_face\":[");
    for (size_t k = 0; k < a->n_multi; k++) {
        const fa_multi_face *m = &a->multi[k];
        fa_buf_puts(b, k ? ",{" : "{");
        jstr(b, "path", file_path(o, m->file));
        fa_buf_printf(b, ",\"faces\":%u,\"chosen_face\":", m->n_faces);
        if (m->chosen_face == UINT32_MAX) fa_buf_puts(b, "null}");
        else fa_buf_printf(b, "%u}", face_no(o, m->chosen_face));
    }
    fa_buf_puts(b, "],\n\"errors\":[");
    for (size_t k = 0; k < a->n_errors; k++) {
        const fa_file *f = &o->cache->files[a->errors[k]];
        fa_buf_puts(b, k ? ",{" : "{");
        jstr(b, "path", f->path);
        fa_buf_printf(b, ",\"status\":\"%s\",", fa_status_name(f->status));
        jstr(b, "reason", f->reason);
        fa_buf_putc(b, '}');
    }
    fa_buf_puts(b, "]");
}

int fa_report_json(const fa_report *o, const char *path)
{
    const fa_cache *c = o->cache;
    fa_buf b = {0};
    fa_buf_puts(&b, "{\"faceaudit\":\"" FA_VERSION "\",");
    jstr(&b, "cache", c->dir); fa_buf_putc(&b, ',');
    jstr(&b, "root", c->root);
    fa_buf_printf(&b, ",\"files\":%zu,\"faces\":%zu,\"folders\":%zu,\"audited_faces\":%zu,\n", c->n_files,
                  c->n_faces, c->n_folders, o->audit->n_rows);
    json_method(&b, o);    fa_buf_puts(&b, ",\n");
    json_calib(&b, o);     fa_buf_puts(&b, ",\n");
    json_counts(&b, o);    fa_buf_puts(&b, ",\n");
    json_pairs(&b, o);     fa_buf_puts(&b, ",\n");
    json_merges(&b, o);    fa_buf_puts(&b, ",\n");
    json_outliers(&b, o);  fa_buf_puts(&b, ",\n");
    json_dups(&b, o);      fa_buf_puts(&b, ",\n");
    fa_buf_printf(&b, "\"review\":%zu,\"findings\":", o->audit->n_review);
    frep_json_array(&b, o); fa_buf_puts(&b, ",\n");
    json_lists(&b, o);
    fa_buf_puts(&b, "}\n");
    return frep_save(&b, path);
}
