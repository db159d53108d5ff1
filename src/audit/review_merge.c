/*
 * review_merge.c - stages 4 and 6 of the review list (review_ctx.h): the
 * same_identity findings (folder pairs from the audit's merges, and one-photo
 * folders with their nearest folder), their decoys and the decoy cuts, and
 * the merges a misfiled face brings into review (a third name joins in
 * review_names.c).
 */
#define _POSIX_C_SOURCE 200809L
#include <string.h>
#include "fdr.h"
#include "review_ctx.h"

/* Faces of folder ga whose nearest face in another folder is in gb
 * (rctx.first, stage 4). */
static uint32_t finds(const rctx *r, uint32_t ga, uint32_t gb)
{
    uint32_t n = 0;
    for (size_t q = r->off[ga]; q < r->off[ga + 1]; q++) {
        uint32_t j = r->first[r->idx[q]];
        n += j != FA_NONE && r->grp[j] == gb;
    }
    return n;
}

/* A merge's folders find each other first: each has a face whose nearest
 * face in another folder is in the other (its folder_finds, other_finds).
 * One person under two names does, from either side; a look-alike pair is
 * often one-sided, a face in a crowded region being the nearest of several
 * folders (a hub). */
static int finds_each_other(const fa_finding *m)
{
    return m->folder_finds && m->other_finds;
}

/* Example files of a merge: the files of its nearest matching pair. */
static void merge_example(const rctx *r, uint32_t ga, uint32_t gb, uint32_t *fa_out, uint32_t *fb_out)
{
    float best = INFINITY;
    *fa_out = r->row_file[r->idx[r->off[ga]]];
    *fb_out = r->row_file[r->idx[r->off[gb]]];
    for (size_t k = 0; k < r->a->n_matches; k++) {
        const fa_match *m = &r->a->matches[k];
        if (m->dist >= best) continue;
        /* a copy is reported by its duplicate finding, not as an example */
        uint32_t ra = r->file_row[m->file_a], rb = r->file_row[m->file_b];
        if ((ra != FA_NONE && r->fs[ra].dup) || (rb != FA_NONE && r->fs[rb].dup)) continue;
        if (m->folder_a == ga && m->folder_b == gb) { *fa_out = m->file_a; *fb_out = m->file_b; best = m->dist; }
        else if (m->folder_a == gb && m->folder_b == ga) { *fa_out = m->file_b; *fb_out = m->file_a; best = m->dist; }
    }
}

/* The margins of folders A and B as one person (m: their statistics) and
 * the score: their sum, times the root of the smaller folder's size when
 * positive. *Ml_out: the local midpoint M'. */
static float merge_score(const rctx *r, const fa_merge *m, float *own_out, float *str_out, float *Ml_out)
{
    float R = pair_scale(r, m->folder_a, m->folder_b), Ml = r->M + crowd_shift(r, R);
    float inside = isnan(m->inside) ? r->W : m->inside;
    /* own: nearer than two people usually are, less any excess over the
     * folders' inside distances (look-alike folders are tight inside) */
    float Xl = r->X + crowd_shift(r, R);
    float own_m = ((Xl - m->across) - fmaxf(0.0f, m->across - inside)) / r->G;
    float str_m = (Ml - m->across) / r->G;
    if (own_out) *own_out = own_m;
    if (str_out) *str_out = str_m;
    if (Ml_out) *Ml_out = Ml;
    if (!(own_m + str_m > 0)) return own_m + str_m;
    /* folder-level evidence: the margins are medians over every pair of
     * the two folders, so they rest on as many independent faces as the
     * smaller folder holds; like a z-score, weigh them by its root */
    uint32_t n_small = m->size_a < m->size_b ? m->size_a : m->size_b;
    return (own_m + str_m) * sqrtf((float)(n_small ? n_small : 1));
}

/* The statistics of folders g and h from sampled pairs (for folders the
 * audit's join did not pair: lone one-photo folders, runner-ups). */
static void sample_merge(rctx *r, uint32_t g, uint32_t h, fa_merge *mm)
{
    memset(mm, 0, sizeof *mm);
    mm->folder_a = g < h ? g : h; mm->folder_b = g < h ? h : g;
    mm->size_a = (uint32_t)gsize(r, mm->folder_a); mm->size_b = (uint32_t)gsize(r, mm->folder_b);
    mm->across = rv_median_between(r, r->idx + r->off[g], gsize(r, g), r->idx + r->off[h], gsize(r, h), 0);
    float wa = r->fw[g], wb = r->fw[h];
    mm->inside = isnan(wa) ? wb : isnan(wb) ? wa : 0.5f * (wa + wb);
}

static int in_list(const uint32_t *v, int n, uint32_t g)
{
    for (int k = 0; k < n; k++)
        if (v[k] == g) return 1;
    return 0;
}

int rv_one_person(rctx *r, uint32_t g, uint32_t h)
{
    fa_merge mm;
    sample_merge(r, g, h, &mm);
    return as_near_across(r, mm.size_a, mm.size_b, mm.across, mm.inside);
}

/* Row i's runner-up folder for merging ga into gb: its first candidate
 * folder other than these two and than a third name of their person, as
 * near across as inside to both (as_near_across; each found is added to
 * names[*nn]); FA_NONE when none. *mm: ga and the runner-up's statistics. */
static uint32_t runner_up(rctx *r, size_t i, uint32_t ga, uint32_t gb, uint32_t *names, int *nn, fa_merge *mm)
{
    const uint32_t *cand = r->cand + i * CAND_FOLDERS;
    for (int t = 0; t < CAND_FOLDERS; t++) {
        uint32_t gc = cand[t];
        if (gc == FA_NONE || gc == gb || gc == ga || in_list(names, *nn, gc)) continue;
        sample_merge(r, ga, gc, mm);
        if (!as_near_across(r, mm->size_a, mm->size_b, mm->across, mm->inside) || !rv_one_person(r, gb, gc)) return gc;
        names[(*nn)++] = gc;
    }
    return FA_NONE;
}

/* The decoy of merging ga into gb: the best score of ga with a runner-up
 * folder of up to DECOY_FACES of its faces. A decoy stands for a chance
 * match; a third name of someone filed under three is none, and would keep
 * each of that person's merges out of review as the decoy of the others, so
 * runner_up passes it over. */
static float merge_decoy(rctx *r, uint32_t ga, uint32_t gb)
{
    uint32_t scored[DECOY_FACES], names[DECOY_FACES * CAND_FOLDERS];
    int ns = 0, nn = 0;
    float best = -INFINITY;
    for (size_t q = r->off[ga]; q < r->off[ga + 1] && q < r->off[ga] + DECOY_FACES; q++) {
        fa_merge mm;
        uint32_t gc = runner_up(r, r->idx[q], ga, gb, names, &nn, &mm);
        if (gc == FA_NONE || in_list(scored, ns, gc)) continue;
        scored[ns++] = gc;
        best = fmaxf(best, merge_score(r, &mm, NULL, NULL, NULL));
    }
    return best;
}

/* A merge's files: those that move, every file of its other folder. */
static int merge_files(rctx *r, fa_finding *f)
{
    uint32_t gb = f->other_folder;
    free(f->files);
    f->n_files = 0;
    f->files = malloc((gsize(r, gb) ? gsize(r, gb) : 1) * sizeof *f->files);
    if (!f->files) return -1;
    for (size_t q = r->off[gb]; q < r->off[gb + 1]; q++) f->files[f->n_files++] = r->row_file[r->idx[q]];
    return 0;
}

/* One same_identity finding for a folder pair (m: its statistics). */
static int merge_finding(rctx *r, const fa_merge *m)
{
    float own_m, str_m, Ml;
    float score = merge_score(r, m, &own_m, &str_m, &Ml);
    if (!(score > 0)) return 0;
    float inside = isnan(m->inside) ? r->W : m->inside;
    /* merge the smaller folder into the larger */
    int swap = m->size_b > m->size_a || (m->size_b == m->size_a &&
               strcmp(r->c->folders[m->folder_b], r->c->folders[m->folder_a]) < 0);
    uint32_t ga = swap ? m->folder_b : m->folder_a, gb = swap ? m->folder_a : m->folder_b;
    fa_finding *f = rv_new_finding(r, FA_FIND_SAME_IDENTITY);
    if (!f) return -1;
    f->folder = ga; f->other_folder = gb;
    f->folder_nearest = r->nearest[ga]; f->other_nearest = r->nearest[gb];
    f->folder_finds = finds(r, ga, gb); f->other_finds = finds(r, gb, ga);
    merge_example(r, ga, gb, &f->file, &f->other_file);
    f->dist = m->across; f->own = inside; f->scale = pair_scale(r, m->folder_a, m->folder_b);
    f->own_margin = own_m; f->stranger_margin = str_m;
    f->score = score;
    f->nearest = m->min_dist;
    f->matches = m->pairs;
    f->own_size = (uint32_t)gsize(r, ga); f->other_size = (uint32_t)gsize(r, gb);
    /* eligible (the decoy cut, fdr.h, decides): a pair within the threshold,
     * and either half a gap of evidence with the faces across nearer than the
     * local midpoint, or, for two folders of several faces, faces across as
     * near as the faces inside (the mix rule of findings.h, --merge-max-mix;
     * in a crowded dataset one person's faces lie beyond the midpoint) */
    int mix_ok = m->size_a >= 2 && m->size_b >= 2 && m->across <= r->p->merge_max_mix * inside;
    f->review = m->pairs > 0 && ((m->across < Ml && own_m + str_m >= REVIEW_MIN) || (mix_ok && score >= REVIEW_MIN));
    f->decoy = merge_decoy(r, ga, gb);
    return merge_files(r, f);
}

/* A one-photo folder whose face has no pair within the threshold with its
 * nearest folder still gets that folder pair judged (never in review: the
 * calibrated threshold is not met), so a split-off photo is listed. */
static int lone_merges(rctx *r, const uint64_t *keys, size_t nk)
{
    for (uint32_t g = 0; g < r->ng; g++) {
        if (gsize(r, g) != 1) continue;
        uint32_t i = r->idx[r->off[g]], gb = r->cand[(size_t)i * CAND_FOLDERS];
        if (gb == FA_NONE) continue;
        uint64_t key = pair_key(g, gb);
        if (nk && bsearch(&key, keys, nk, sizeof key, u64cmp)) continue;
        size_t nb = gsize(r, gb), m = nb < OTHER_MAX ? nb : OTHER_MAX;
        float nearest = INFINITY;
        for (size_t q = 0; q < m; q++) {
            r->scratch[q] = rdist(r, i, r->idx[r->off[gb] + q * nb / m]);
            nearest = fminf(nearest, r->scratch[q]);
        }
        fa_merge mm;
        memset(&mm, 0, sizeof mm);
        mm.folder_a = g < gb ? g : gb; mm.folder_b = g < gb ? gb : g;
        mm.size_a = (uint32_t)gsize(r, mm.folder_a); mm.size_b = (uint32_t)gsize(r, mm.folder_b);
        mm.across = fa_median_inplace(r->scratch, m);
        mm.inside = r->fw[gb];
        mm.min_dist = nearest;
        if (merge_finding(r, &mm)) return -1;
    }
    return 0;
}

/* The review cut of one kind (fdr.h): its eligible findings (review set)
 * stay in review when they score at least the cut, in *cut. */
static int decoy_cut(rctx *r, fa_find_kind kind, float *cut)
{
    float *t = malloc((r->n_out ? r->n_out : 1) * sizeof *t), *d = malloc((r->n_out ? r->n_out : 1) * sizeof *d);
    if (!t || !d) { free(t); free(d); return -1; }
    size_t m = 0;
    for (size_t k = 0; k < r->n_out; k++)
        if (r->out[k].kind == kind && r->out[k].review) { t[m] = r->out[k].score; d[m++] = r->out[k].decoy; }
    *cut = fa_fdr_cut(t, d, m, r->p->review_fdr);
    free(t); free(d);
    if (isnan(*cut)) return -1;
    for (size_t k = 0; k < r->n_out; k++)
        if (r->out[k].kind == kind) r->out[k].review = r->out[k].review && r->out[k].score >= *cut;
    return 0;
}

/* The misfiled findings' decoy cut (run after stage 5; decoy_cut). Then a
 * face with less than a full gap of evidence stays in review only when its
 * nearest face in another folder is in the folder it is said to belong to
 * (folder_nearest, review_face.c): a face of that person finds them first;
 * one in a crowded region, whose best folder by the medians is not where
 * its nearest face is, is a judgement call between look-alikes. With a full
 * gap, that it is not its own folder's person stands on its own. */
int rv_misfiled_cut(rctx *r)
{
    if (decoy_cut(r, FA_FIND_MISFILED, &r->a->review_cut_misfiled)) return -1;
    for (size_t k = 0; k < r->n_out; k++) {
        fa_finding *f = &r->out[k];
        if (f->kind == FA_FIND_MISFILED && f->review && f->score < 2 * REVIEW_MIN && f->folder_nearest != f->other_folder)
            f->review = 0;
    }
    return 0;
}

/* The same_identity findings eligible for review before the decoy cut, as
 * (folder-pair key, index in out) sorted by key: a misfiled face can bring
 * its folder's merge into review (promote_merges). */
static int note_eligible(rctx *r)
{
    size_t m = 0;
    for (size_t k = 0; k < r->n_out; k++) m += r->out[k].kind == FA_FIND_SAME_IDENTITY && r->out[k].review;
    r->eligible = malloc((m ? m : 1) * 2 * sizeof *r->eligible);
    if (!r->eligible) return -1;
    for (size_t k = 0; k < r->n_out; k++) {
        const fa_finding *f = &r->out[k];
        if (f->kind != FA_FIND_SAME_IDENTITY || !f->review) continue;
        r->eligible[2 * r->n_eligible] = pair_key(f->folder, f->other_folder);
        r->eligible[2 * r->n_eligible++ + 1] = k;
    }
    qsort(r->eligible, r->n_eligible, 2 * sizeof *r->eligible, u64cmp);
    return 0;
}

typedef struct { uint32_t folder; float dist; } vote;

static int vote_cmp(const void *x, const void *y)
{
    const vote *a = x, *b = y;
    if (a->folder != b->folder) return a->folder < b->folder ? -1 : 1;
    return (a->dist > b->dist) - (a->dist < b->dist);
}

/* The nearest face in another folder of each of rows idx[from..to)
 * (rctx.first, rv_nearest_other). Returns the folder most of them find
 * first, the nearer on a tie (rctx.nearest). v: room for to - from votes. */
static uint32_t folder_vote(rctx *r, size_t from, size_t to, vote *v)
{
    size_t m = 0;
    for (size_t q = from; q < to; q++) {
        size_t i = r->idx[q];
        float d;
        uint32_t j = r->first[i] = rv_nearest_other(r, i, NULL, &d);
        if (j != FA_NONE) v[m++] = (vote){ r->grp[j], d };
    }
    qsort(v, m, sizeof *v, vote_cmp);
    uint32_t best = FA_NONE;
    size_t best_n = 0;
    float best_d = INFINITY;
    for (size_t s = 0, e; s < m; s = e) {
        for (e = s + 1; e < m && v[e].folder == v[s].folder; e++) {}
        if (e - s > best_n || (e - s == best_n && v[s].dist < best_d)) { best = v[s].folder; best_n = e - s; best_d = v[s].dist; }
    }
    return best;
}

/* Each row's first folder and each folder's nearest (folder_vote). */
static int nearest_folders(rctx *r)
{
    size_t most = 1;
    for (size_t g = 0; g < r->ng; g++) most = gsize(r, g) > most ? gsize(r, g) : most;
    vote *v = malloc(most * sizeof *v);
    if (!v) return -1;
    for (size_t g = 0; g < r->ng; g++) r->nearest[g] = folder_vote(r, r->off[g], r->off[g + 1], v);
    free(v);
    return 0;
}

int rv_same_identity(rctx *r)
{
    const fa_audit *a = r->a;
    size_t n = a->n_merges;
    r->merged = malloc((n + r->ng + 1) * sizeof *r->merged);   /* the merges and lone folders */
    uint64_t *keys = malloc((n ? n : 1) * sizeof *keys);
    if (!r->merged || !keys || nearest_folders(r)) { free(keys); return -1; }
    for (size_t k = 0; k < n; k++) {
        keys[k] = pair_key(a->merges[k].folder_a, a->merges[k].folder_b);
        if (merge_finding(r, &a->merges[k])) { free(keys); return -1; }
    }
    qsort(keys, n, sizeof *keys, u64cmp);
    int rc = lone_merges(r, keys, n);
    free(keys);
    if (rc || note_eligible(r) || decoy_cut(r, FA_FIND_SAME_IDENTITY, &r->a->review_cut_merge)) return -1;
    size_t n1 = 0, *one_sided = malloc((r->n_out ? r->n_out : 1) * sizeof *one_sided);   /* past the cut, one-sided */
    if (!one_sided) return -1;
    for (size_t k = 0; k < r->n_out; k++) {
        fa_finding *f = &r->out[k];
        if (f->kind != FA_FIND_SAME_IDENTITY || !f->review) continue;
        if (!finds_each_other(f)) { f->review = 0; one_sided[n1++] = k; continue; }
        r->merged[r->n_merged++] = pair_key(f->folder, f->other_folder);
    }
    rc = rv_join_names(r, one_sided, n1);
    free(one_sided);
    qsort(r->merged, r->n_merged, sizeof *r->merged, u64cmp);
    return rc;
}

int rv_is_merged(const rctx *r, uint32_t ga, uint32_t gb)
{
    uint64_t key = pair_key(ga, gb);
    return r->n_merged && bsearch(&key, r->merged, r->n_merged, sizeof key, u64cmp) != NULL;
}

/* The file of folder g whose face is nearest row i's. */
static uint32_t nearest_file(const rctx *r, uint32_t i, uint32_t g)
{
    uint32_t best = r->idx[r->off[g]];
    float bd = INFINITY;
    for (size_t q = r->off[g]; q < r->off[g + 1]; q++) {
        float d = rdist(r, i, r->idx[q]);
        if (d < bd) { bd = d; best = r->idx[q]; }
    }
    return r->row_file[best];
}

/* Every face of folder ga has gb as its best other folder, with a positive
 * score: the whole folder would go there, not one photo of it. */
static int folder_goes(const rctx *r, uint32_t ga, uint32_t gb)
{
    for (size_t q = r->off[ga]; q < r->off[ga + 1]; q++) {
        const face_state *s = &r->fs[r->idx[q]];
        if (s->best != gb || !(s->score > 0)) return 0;
    }
    return 1;
}

/* A misfiled face whose whole folder would go to the other folder too
 * (folder_goes), with an eligible merge of the two scoring no less, is one
 * decision, the merge: a folder split off under a second name whose photos
 * are not all as near the original (celeba_aligned: one of two split-off
 * photos passes the misfiled cut; the merge scores more but among look-alike
 * merges of its own kind). Not a two-photo folder of two people with one
 * misfiled: its merge can score as high (the median across halfway between
 * them), but its other face goes elsewhere. The face's evidence brings the
 * merge into review and ranks it (its own score failed the merges' decoy
 * cut); the misfiled findings between the two folders go (each face reported
 * once, as for merges in review from the start). */
int rv_promote_merges(rctx *r)
{
    float *by = malloc((r->n_eligible ? r->n_eligible : 1) * sizeof *by);
    uint32_t *face = malloc((r->n_eligible ? r->n_eligible : 1) * sizeof *face);
    if (!by || !face) { free(by); free(face); return -1; }
    for (size_t e = 0; e < r->n_eligible; e++) by[e] = NAN;
    for (size_t k = 0; k < r->n_out; k++) {
        const fa_finding *f = &r->out[k];
        if (f->kind != FA_FIND_MISFILED || !f->review) continue;
        uint64_t key = pair_key(f->folder, f->other_folder);
        const uint64_t *e = r->n_eligible ? bsearch(&key, r->eligible, r->n_eligible, 2 * sizeof *e, u64cmp) : NULL;
        const fa_finding *m = e ? &r->out[e[1]] : NULL;
        if (!m || m->review || !(m->score >= f->score) || !folder_goes(r, f->folder, f->other_folder) ||
            !finds_each_other(m))
            continue;
        size_t q = (size_t)(e - r->eligible) / 2;
        if (!(by[q] >= f->score)) { by[q] = f->score; face[q] = f->file; }
    }
    size_t before = r->n_merged;
    for (size_t e = 0; e < r->n_eligible; e++) {
        if (isnan(by[e])) continue;
        fa_finding *m = &r->out[r->eligible[2 * e + 1]];
        m->review = 1;
        m->score = by[e];
        /* the face's folder is the one that moves, as the face would have;
         * the example pair: the face (the report names it) and its nearest
         * face of the other folder */
        if (r->c->files[face[e]].folder != m->other_folder) {
            uint32_t t = m->folder; m->folder = m->other_folder; m->other_folder = t;
            t = m->folder_nearest; m->folder_nearest = m->other_nearest; m->other_nearest = t;
            t = m->folder_finds; m->folder_finds = m->other_finds; m->other_finds = t;
            t = m->own_size; m->own_size = m->other_size; m->other_size = t;
            if (merge_files(r, m)) { free(by); free(face); return -1; }
        }
        m->other_file = m->by_face = face[e];
        m->file = nearest_file(r, r->file_row[face[e]], m->folder);
        r->merged[r->n_merged++] = r->eligible[2 * e];
    }
    free(by); free(face);
    if (r->n_merged == before) return 0;
    qsort(r->merged, r->n_merged, sizeof *r->merged, u64cmp);
    size_t w = 0;
    for (size_t k = 0; k < r->n_out; k++) {
        fa_finding *f = &r->out[k];
        if (f->kind == FA_FIND_MISFILED && rv_is_merged(r, f->folder, f->other_folder)) {
            rv_finding_free(f);
            continue;
        }
        r->out[w++] = *f;
    }
    r->n_out = w;
    return 0;
}
