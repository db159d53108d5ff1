/*
 * audit_report.c - rendering the findings of `faceaudit audit` (see report.h):
 * the facts every rendering shares (audit_report.h), the duplicate groups'
 * order, and the text summary. pairs.csv and report.json: audit_data.c;
 * report.html: audit_html.c.
 *
 * Every rendering names files by their path relative to the cache's root and
 * says the same things: for a pair, both paths, cosine similarity, Euclidean
 * distance, kind and evidence (rel); for a merge, the counts, shares and
 * distances; for an outlier, its folder and the folder it is nearest to.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "faceaudit/encoder.h"
#include "util.h"
#include "findings_report.h"
#include "audit_report.h"

/* ---- shared facts (audit_report.h) ------------------------------------------- */

fixed_rule arep_rule_of(const fa_report *o)
{
    const fa_calib *cb = o->audit->calib;
    fixed_rule r = {fa_encoder_same_distance(o->cache->encoder, o->cache->metric), 0, 0, o->cache->encoder};
    r.cross = fa_calib_cross_share(cb, r.t);
    r.within = fa_calib_within_share(cb, r.t);
    return r;
}

const char *arep_encoder_advice(const fa_report *o, double *overlap)
{
    fa_audit_summary sum;
    fa_audit_get_summary(o->audit, &sum);
    *overlap = sum.encoder_overlap;
    if (!sum.encoder_weak) return NULL;
    if (strcmp(o->cache->encoder, "dlib") == 0)
        return "re-index with `faceaudit index ROOT --encoder mobilefacenet -o NEW`"
               " (East-Asian faces; dlib+mobilefacenet for mixed ones)";
    return "a look-alike pair may score like a filing mistake";
}

const char *arep_mode_name(fa_search_mode m)
{
    return m == FA_SEARCH_EXACT ? "exact" : m == FA_SEARCH_IVF_EXACT ? "ivf_exact" : "ivf_probe";
}

static int dup_cmp_ctx(const void *x, const void *y, void *ud)
{
    const fa_report *o = ud;
    const fa_dup_group *a = &o->audit->dups[*(const uint32_t *)x], *b = &o->audit->dups[*(const uint32_t *)y];
    if (a->cross_folder != b->cross_folder) return b->cross_folder - a->cross_folder;
    if (a->count != b->count) return a->count > b->count ? -1 : 1;
    return strcmp(file_path(o, o->audit->dup_files[a->first]), file_path(o, o->audit->dup_files[b->first]));
}

int fa_report_rank_dups(fa_report *o)
{
    size_t n = o->audit->n_dups;
    o->dup_order = malloc((n ? n : 1) * sizeof *o->dup_order);
    if (!o->dup_order) return fa_error("audit: out of memory");
    for (size_t i = 0; i < n; i++) o->dup_order[i] = (uint32_t)i;
    qsort_r(o->dup_order, n, sizeof *o->dup_order, dup_cmp_ctx, o);
    return 0;
}

/* ---- summary ------------------------------------------------------------------ */

static void summary_calib(FILE *f, const fa_report *o)
{
    const fa_audit *a = o->audit;
    const fa_calib *cb = a->calib;
    fprintf(f, "calibration: %zu faces (%zu typical), %zu folders; distances sampled: within %zu%s, cross %zu%s\n",
            cb->n, cb->n - cb->n_atypical, cb->n_groups, cb->n_within, cb->within_exhaustive ? " (all)" : "",
            cb->n_cross, cb->cross_exhaustive ? " (all)" : "");
    fprintf(f, "  quantile");
    for (int q = 0; q < FA_CALIB_NQ; q++) fprintf(f, " %6g", fa_calib_quantiles[q]);
    fprintf(f, "\n  within  ");
    for (int q = 0; q < FA_CALIB_NQ; q++) fprintf(f, " %6.3f", cb->within_q[q]);
    fprintf(f, "\n  cross   ");
    for (int q = 0; q < FA_CALIB_NQ; q++) fprintf(f, " %6.3f", cb->cross_q[q]);
    fprintf(f, "\n  calibrated threshold %.4f: cross-folder quantile %.3g -> %.4f, within-folder %.0f%% cap %.4f%s\n",
            cb->threshold, cb->alpha, cb->t_cross, o->params->calib.within_cap_q * 100, cb->t_cap,
            cb->capped ? " (capped)" : "");
    fixed_rule r = arep_rule_of(o);
    fprintf(f, "  it flags %.4f%% of cross-folder pairs (~%.0f chance matches) and %.1f%% of within-folder pairs;"
               " %s's %.3g would flag %.4f%% and %.1f%%\n",
            cb->cross_share * 100, cb->cross_expected, cb->within_share * 100, r.who, r.t, r.cross * 100,
            r.within * 100);
    double ov;
    const char *advice = arep_encoder_advice(o, &ov);
    if (advice)
        fprintf(f, "encoder: %.1f%% of cross-folder pairs are as close as the median same-folder pair (%s encoder);\n"
                   "  it separates these faces poorly: %s\n", 100 * ov, o->cache->encoder, advice);
}

static void summary_method(FILE *f, const fa_report *o)
{
    const fa_audit *a = o->audit;
    fprintf(f, "threshold: distance %.4f (%s)", a->threshold, a->threshold_source);
    if (!isnan(a->min_similarity))
        fprintf(f, ", cosine >= %.4f (%.4f for unit vectors)", a->min_similarity, a->unit_norm_distance);
    fprintf(f, "; flagged %zu of %.0f cross-folder pairs (%.4f%%)\n", a->n_matches, a->calib->cross_pairs,
            a->flagged_share * 100);
    fprintf(f, "method: %s join", arep_mode_name(a->mode));
    if (a->mode != FA_SEARCH_EXACT) fprintf(f, ", %zu lists, %zu of %zu list pairs pruned", a->nlist,
                                            a->list_pairs_pruned, a->list_pairs_total);
    if (a->mode == FA_SEARCH_IVF_PROBE)
        fprintf(f, ", nprobe %d, recall %.4f against exact (%zu of %zu pairs of %zu sampled faces)", o->params->nprobe,
                a->recall, a->recall_found, a->recall_truth, o->params->recall_sample);
    fprintf(f, "; search %.3f s, calibration %.3f s, audit %.3f s\n", a->search_seconds, a->calib_seconds,
            o->seconds);
}

static void summary_top(FILE *f, const fa_report *o, size_t top)
{
    const fa_audit *a = o->audit;
    for (size_t k = 0; k < a->n_matches && k < top; k++) {
        const fa_match *m = &a->matches[k];
        if (!m->strong) break;
        fprintf(f, "  pair %zu: %s  %s  %s sim %.3f dist %.3f rel %.2f\n", k + 1, file_path(o, m->file_a),
                file_path(o, m->file_b), fa_match_kind_name(m->kind), m->cos, m->dist, m->rel);
    }
    for (size_t k = 0; k < a->n_merges && k < top; k++) {
        const fa_merge *m = &a->merges[k];
        if (!m->suggest) break;
        fprintf(f, "  merge %zu: %s + %s: %u pairs, %.0f%% / %.0f%% of the folders, median %.3f, mix %.3f\n",
                k + 1, folder_name(o, m->folder_a), folder_name(o, m->folder_b), m->pairs, m->share_a * 100,
                m->share_b * 100, m->median_dist, m->mix);
    }
    for (size_t k = 0; k < a->n_outliers && k < top; k++) {
        const fa_outlier *m = &a->outliers[k];
        fprintf(f, "  outlier %zu: %s (z %.1f)", k + 1, file_path(o, m->file), m->z);
        if (m->best_folder != UINT32_MAX)
            fprintf(f, ", nearest other folder %s at %.3f%s", folder_name(o, m->best_folder), m->best_dist,
                    m->matches_best ? " (matches it, nearer than its own)"
                    : m->nearer_other ? " (nearer than its own)" : "");
        fputc('\n', f);
    }
    for (size_t k = 0; k < a->n_dups && k < top; k++) {
        const fa_dup_group *g = &a->dups[o->dup_order[k]];
        fprintf(f, "  duplicate %zu:", k + 1);
        for (uint32_t i = 0; i < g->count && i < 4; i++) fprintf(f, " %s", file_path(o, a->dup_files[g->first + i]));
        if (g->count > 4) fprintf(f, " (+%u)", g->count - 4);
        fputc('\n', f);
    }
}

size_t arep_by_face_count(const fa_audit *a)
{
    size_t n = 0;
    for (size_t k = 0; k < a->n_findings; k++) n += a->findings[k].by_face != FA_NONE;
    return n;
}

/* A review cut: its score, or "none" when no finding of the kind reached it. */
static void print_cut(FILE *f, float cut)
{
    if (isinf(cut) || isnan(cut)) fprintf(f, "none");
    else fprintf(f, "%.3f", (double)cut);
}

void fa_report_summary(FILE *f, const fa_report *o, size_t top)
{
    const fa_audit *a = o->audit;
    const fa_cache *c = o->cache;
    size_t cross_dups = 0;
    for (size_t k = 0; k < a->n_dups; k++) cross_dups += a->dups[k].cross_folder;
    fprintf(f, "audit of %s (%s): %zu files, %zu faces audited (one per image) in %zu folders\n", c->dir, c->root,
            c->n_files, a->n_rows, c->n_folders);
    summary_calib(f, o);
    summary_method(f, o);
    fprintf(f, "findings:\n");
    fprintf(f, "  cross-folder pairs %zu (%zu strong, %zu look-alikes): identical file %zu, same photo re-encoded %zu,"
               " same person %zu\n", a->n_matches, a->n_strong, a->n_matches - a->n_strong, a->n_identical_file,
            a->n_same_photo, a->n_same_person);
    fprintf(f, "  folder merges suggested %zu (of %zu folder pairs with matches)\n", a->n_merge_suggested,
            a->n_merges);
    fprintf(f, "  outliers %zu\n", a->n_outliers);
    fprintf(f, "  duplicate files %zu groups (%zu across folders, %zu within one), %zu files\n", a->n_dups,
            cross_dups, a->n_dups - cross_dups, a->n_dup_files);
    fprintf(f, "  no face %zu, several faces %zu, errors %zu\n", a->n_no_face, a->n_multi, a->n_errors);
    size_t kinds[5] = {0};
    for (size_t k = 0; k < a->n_findings; k++) kinds[a->findings[k].kind] += a->findings[k].review;
    fprintf(f, "review list: %zu findings, %zu to review (* below): misfiled %zu, same identity %zu, duplicate %zu,"
               " mixed folder %zu, stray %zu; ranking %.3f s\n", a->n_findings, a->n_review, kinds[FA_FIND_MISFILED],
            kinds[FA_FIND_SAME_IDENTITY], kinds[FA_FIND_DUPLICATE], kinds[FA_FIND_MIXED_FOLDER], kinds[FA_FIND_STRAY],
            a->review_seconds);
    fprintf(f, "  decoy cut (FDR %.2f by runner-up folders): misfiled from score ", (double)o->params->review_fdr);
    print_cut(f, a->review_cut_misfiled);
    fprintf(f, ", same identity from ");
    print_cut(f, a->review_cut_merge);
    size_t by_face = arep_by_face_count(a);
    if (by_face) fprintf(f, " (and %zu with a misfiled face's evidence)", by_face);
    fprintf(f, "\n");
    /* copies are told by pixels only as far as the cache has them */
    if (!c->thumb || !c->image_thumb)
        fprintf(f, "  this cache has no %s thumbnails (made before them): copies told by %s may be missed; "
                   "`faceaudit index` adds them\n", !c->thumb ? "face or image" : "image",
                !c->thumb ? "their pixels" : "their whole image (resized)");
    if (top) frep_text(f, o, top);
    if (top) summary_top(f, o, top);
}
