/*
 * index_and_search.c - a program built on libfaceaudit alone (public headers,
 * installed library): indexes a tree of identity folders into a cache,
 * lists the faces nearest to the cache's first face, then audits the cache
 * and reads its ranked findings.
 *
 *   index_and_search MODELS_DIR CACHE [ROOT]
 *
 * With ROOT, (re)indexes ROOT into CACHE first; without, only searches and
 * audits. Prints "hit RANK DISTANCE PATH" lines, an "audit ..." line and
 * "finding RANK KIND ACTION PATH OTHER_FOLDER" lines. Exit status 0, or 1
 * with the library's message on stderr.
 */
#include <stdio.h>
#include <string.h>
#include <faceaudit/audit.h>
#include <faceaudit/faceaudit.h>
#include <faceaudit/index.h>
#include <faceaudit/models.h>
#include <faceaudit/query.h>

static int fail(const char *what)
{
    fprintf(stderr, "index_and_search: %s: %s\n", what, fa_last_error());
    return 1;
}

static int index_tree(const char *models_dir, const char *cache, const char *root)
{
    fa_models m;
    if (fa_models_resolve(models_dir, NULL, &m)) return fail("models");
    fa_index_params p;
    fa_index_default_params(&p);
    p.root = root;
    p.cache_dir = cache;
    p.detector = m.detector;
    p.landmarks = m.landmarks;
    p.encoder = m.encoder;
    p.rebuild = 1;
    fa_index_stats st;
    if (fa_index_run(&p, &st)) { fa_index_stats_free(&st); return fail("index"); }
    printf("indexed %zu files, %zu faces, %zu not usable\n", st.files, st.faces, st.n_failed);
    for (size_t i = 0; i < st.n_failed; i++)
        printf("not usable: %s: %s\n", st.failed[i].path, st.failed[i].reason);
    fa_index_stats_free(&st);
    return 0;
}

static int search_first_face(const char *cache_dir)
{
    fa_cache *c = fa_cache_open(cache_dir);
    if (!c) return fail("open");
    if (c->n_faces == 0) { fa_cache_close(c); fprintf(stderr, "index_and_search: no faces\n"); return 1; }
    fa_searcher *s = fa_searcher_new(c);
    fa_search_params sp;
    fa_search_default_params(&sp);
    sp.k = 3;
    fa_search_result r;
    int rc = !s || fa_search_topk(s, c->emb, &sp, &r) ? fail("search") : 0;
    for (size_t i = 0; rc == 0 && i < r.n_hits; i++)
        printf("hit %zu %.3f %s\n", i, r.hits[i].distance, c->files[c->faces[r.hits[i].row].file].path);
    if (rc == 0) fa_search_result_free(&r);
    fa_searcher_free(s);
    fa_cache_close(c);
    return rc;
}

/* The audit's review list, as a program reads it. */
static int audit(const char *cache_dir)
{
    fa_cache *c = fa_cache_open(cache_dir);
    if (!c) return fail("open");
    fa_audit_params ap = fa_audit_default_params();
    fa_audit *a = fa_audit_run(c, &ap);
    if (!a) { fa_cache_close(c); return fail("audit"); }
    fa_audit_summary sum;
    fa_audit_get_summary(a, &sum);
    printf("audit %zu faces, threshold %.3f (%s), %zu findings, %zu to review\n", sum.n_rows,
           sum.threshold, sum.threshold_source, sum.n_findings, sum.n_review);
    size_t n;
    const fa_finding *f = fa_audit_findings(a, &n, NULL);
    for (size_t i = 0; i < n; i++)
        printf("finding %zu %s %s %s %s\n", i, fa_find_kind_name(f[i].kind), fa_find_action(f[i].kind),
               c->files[f[i].file].path, f[i].other_folder == FA_NONE ? "-" : c->folders[f[i].other_folder]);
    fa_audit_free(a);
    fa_cache_close(c);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: index_and_search MODELS_DIR CACHE [ROOT]\n");
        return 2;
    }
    printf("faceaudit %s\n", fa_version());
    fa_tune_process(FA_TUNE_ALL);   /* this program does nothing else: let faceaudit tune it */
    if (argc == 4 && index_tree(argv[1], argv[2], argv[3])) return 1;
    return search_first_face(argv[2]) || audit(argv[2]);
}
