/*
 * mpi.c - the exact pair search split over MPI ranks (see mpi.h), over the
 * task API of join.h (fa_join_tasks, fa_join_run): the single-process join's
 * task list, cut by cost.
 *
 * Protocol, every rank in the same order (collectives only, no point to
 * point): search its share of the tiles; MPI_Gather of a fixed-size status
 * (error flag, pair count, message, seconds, flops) to rank 0; MPI_Bcast of
 * rank 0's go / no-go; MPI_Gatherv of the pairs; MPI_Bcast of the result.
 * A rank that died never reaches the gather; mpirun then ends the job.
 */
#define _POSIX_C_SOURCE 200809L
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <mpi.h>
#include <omp.h>
#include "faceaudit/faceaudit.h"
#include "findings.h"
#include "faceaudit/mpi.h"

#define TILE 512          /* fa_join_exact's default tile (a multiple of the int8 kernel's
                             64-column superblock), so the work per task matches */

struct fa_mpi {
    int rank, size;
    int threads;
    size_t max_pairs;
    /* the last search, gathered on rank 0 */
    double slowest, fastest, flops, seconds;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- start and end ------------------------------------------------------------ */

/* Launchers say so in the environment: Open MPI's mpirun, PMIx (srun
 * --mpi=pmix, prterun), Hydra / PMI-1 and -2 (MPICH's mpiexec, srun --mpi=pmi2). */
static int launched_by_mpi(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"};
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++)
        if (getenv(vars[i])) return 1;
    return 0;
}

static int mpi_fail(int code, const char *what)
{
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(code, text, &len);
    return fa_error("%s: %.*s", what, len, text);
}

fa_mpi *fa_mpi_start(int *failed)
{
    *failed = 0;
    if (!launched_by_mpi()) return NULL;
    int provided, rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
    if (rc != MPI_SUCCESS) {
        *failed = 1;
        mpi_fail(rc, "MPI_Init_thread");
        return NULL;
    }
    /* Errors come back as codes (and become messages) instead of aborting silently. */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    fa_mpi *m = calloc(1, sizeof *m);
    if (!m) {
        *failed = 1;
        fa_error("out of memory");
        MPI_Abort(MPI_COMM_WORLD, 1);
        return NULL;
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &m->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &m->size);
    return m;
}

int fa_mpi_rank(const fa_mpi *m) { return m ? m->rank : 0; }
int fa_mpi_size(const fa_mpi *m) { return m ? m->size : 1; }

void fa_mpi_set_search(fa_mpi *m, int threads, size_t max_pairs)
{
    if (!m) return;
    m->threads = threads;
    m->max_pairs = max_pairs;
}

void fa_mpi_stats(const fa_mpi *m, double *slowest, double *fastest, double *flops, double *seconds)
{
    *slowest = m->slowest;
    *fastest = m->fastest;
    *flops = m->flops;
    *seconds = m->seconds;
}

int fa_mpi_all_ok(fa_mpi *m, int ok)
{
    if (!m) return ok;
    int mine = ok ? 1 : 0, all = 0;
    if (MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD) != MPI_SUCCESS) return 0;
    return all;
}

void fa_mpi_end(fa_mpi *m, int failed)
{
    if (!m) return;
    free(m);
    if (failed) MPI_Abort(MPI_COMM_WORLD, 1);
    else MPI_Finalize();
}

/* ---- the rows and the tasks ----------------------------------------------------- */

/* This rank's tasks: the whole list (fa_join_tasks, as fa_join_exact makes
 * it) cut into `size` contiguous ranges of equal estimated cost (elements
 * of the tile, the upper triangle only on the diagonal). Every rank computes
 * the same list, so no task is lost or done twice. 0, or -1 out of memory. */
static int my_tasks(const fa_join_plan *jp, const fa_sorted_rows *s, int rank, int size,
                    uint64_t **mine, size_t *count)
{
    size_t nt = 0, w = 0, n = jp->n;
    uint64_t *t = NULL;
    if (fa_join_tasks(jp, s, &t, &nt) < 0) return -1;
    double *cost = malloc((nt ? nt : 1) * sizeof *cost), total = 0, before = 0;
    if (!cost) { free(t); return -1; }
    for (size_t k = 0; k < nt; k++) {
        size_t ai = t[k] >> 32, bj = (uint32_t)t[k];
        double m = (double)(n - ai < jp->R ? n - ai : jp->R), c = (double)(n - bj < jp->C ? n - bj : jp->C);
        cost[k] = bj < ai + jp->R ? m * c / 2 : m * c;
        total += cost[k];
    }
    for (size_t k = 0; k < nt; k++) {
        int owner = total > 0 ? (int)((before + cost[k] / 2) / total * size) : 0;
        if (owner >= size) owner = size - 1;
        if (owner == rank) t[w++] = t[k];
        before += cost[k];
    }
    free(cost);
    *mine = t;
    *count = w;
    return 0;
}

/* ---- this rank's share --------------------------------------------------------- */

typedef struct {
    int32_t failed, pad;
    uint64_t pairs;
    double seconds, flops;
    char msg[224];
} rank_status;

/* Runs the tasks on OpenMP threads; pairs sorted into out, status filled. */
static void local_join(const fa_mpi *m, const fa_sorted_rows *s, const fa_q8set *q, size_t n, int d, float max_dist,
                       fa_pairvec *out, rank_status *st)
{
    double t0 = now_s();
    fa_join_plan jp = { {s->x, s->norm2, s->group, s->id, n, 1}, q, n, TILE, TILE, d,
                        (double)max_dist * max_dist, m->max_pairs };
    uint64_t *tk = NULL;
    size_t ntask = 0;
    int nt = m->threads > 0 ? m->threads : omp_get_max_threads();
    int failed = my_tasks(&jp, s, m->rank, m->size, &tk, &ntask) < 0, over = 0;
    fa_join_ctx *ctx = failed ? NULL : calloc((size_t)nt, sizeof *ctx);
    if (!ctx) failed = 1;
    for (int t = 0; !failed && t < nt; t++)
        if (fa_join_ctx_init(&ctx[t], TILE, TILE) < 0) failed = 1;
    int blas_old = fa_blas_single_begin();
    if (!failed) over = fa_join_run(&jp, ctx, nt, tk, ntask);
    fa_blas_single_end(blas_old);
    for (int t = 0; ctx && t < nt; t++) failed |= ctx[t].failed;
    memset(st, 0, sizeof *st);
    if (failed) snprintf(st->msg, sizeof st->msg, "rank %d: out of memory", m->rank);
    else if (over) snprintf(st->msg, sizeof st->msg, "more than %zu pairs within distance %g; lower the threshold",
                            m->max_pairs, (double)max_dist);
    else if (fa_join_merge(ctx, nt, out) < 0) snprintf(st->msg, sizeof st->msg, "rank %d: %s", m->rank, fa_last_error());
    st->failed = st->msg[0] != 0;
    st->pairs = st->failed ? 0 : out->n;
    for (int t = 0; ctx && t < nt; t++) { st->flops += ctx[t].flops; fa_join_ctx_free(&ctx[t]); }
    st->seconds = now_s() - t0;
    free(ctx);
    free(tk);
}

/* ---- gathering ----------------------------------------------------------------- */

/* Rank 0: checks the statuses, sizes the receive buffer; returns the go flag. */
static int root_plan(fa_mpi *m, const rank_status *all, int *counts, int *displs, fa_pairvec *out)
{
    size_t total = 0;
    m->slowest = 0;
    m->fastest = INFINITY;
    m->flops = 0;
    for (int r = 0; r < m->size; r++) {
        if (all[r].failed) { fa_error("%s", all[r].msg); return 0; }
        if (all[r].pairs > INT_MAX || total + all[r].pairs > INT_MAX) {
            fa_error("more than %d pairs to gather; lower the threshold", INT_MAX);
            return 0;
        }
        counts[r] = (int)all[r].pairs;
        displs[r] = (int)total;
        total += all[r].pairs;
        if (all[r].seconds > m->slowest) m->slowest = all[r].seconds;
        if (all[r].seconds < m->fastest) m->fastest = all[r].seconds;
        m->flops += all[r].flops;
    }
    if (m->max_pairs && total > m->max_pairs) {
        fa_error("more than %zu pairs within the threshold; lower the threshold", m->max_pairs);
        return 0;
    }
    if (total > out->cap) {
        fa_pair *v = realloc(out->v, (total ? total : 1) * sizeof *v);
        if (!v) { fa_error("out of memory for %zu pairs", total); return 0; }
        out->v = v;
        out->cap = total;
    }
    return 1;
}

/* The protocol in the file comment. Returns 0 or -1 (the same on every rank). */
static int gather(fa_mpi *m, const fa_pairvec *mine, const rank_status *st, fa_pairvec *out)
{
    rank_status *all = m->rank == 0 ? calloc((size_t)m->size, sizeof *all) : NULL;
    int *counts = m->rank == 0 ? calloc((size_t)m->size, sizeof *counts) : NULL;
    int *displs = m->rank == 0 ? calloc((size_t)m->size, sizeof *displs) : NULL;
    MPI_Datatype pair_t;
    MPI_Type_contiguous((int)sizeof(fa_pair), MPI_BYTE, &pair_t);
    MPI_Type_commit(&pair_t);
    int go = 0, rc;
    size_t base = out->n;
    if ((rc = MPI_Gather(st, (int)sizeof *st, MPI_BYTE, all, (int)sizeof *st, MPI_BYTE, 0, MPI_COMM_WORLD)))
        { mpi_fail(rc, "MPI_Gather"); goto out; }
    if (m->rank == 0) go = all && counts && displs ? root_plan(m, all, counts, displs, out)
                                                   : (fa_error("out of memory"), 0);
    if ((rc = MPI_Bcast(&go, 1, MPI_INT, 0, MPI_COMM_WORLD))) { mpi_fail(rc, "MPI_Bcast"); go = 0; goto out; }
    if (!go) {
        if (m->rank != 0) fa_error("the search failed (rank 0 says why)");
        goto out;
    }
    if (m->rank == 0)
        for (int r = 0; r < m->size; r++) displs[r] += (int)base;
    rc = MPI_Gatherv(mine->v, (int)mine->n, pair_t, out->v, counts, displs, pair_t, 0, MPI_COMM_WORLD);
    if (rc) { mpi_fail(rc, "MPI_Gatherv"); go = 0; goto out; }
    if (m->rank == 0) {
        for (int r = 0; r < m->size; r++) out->n += (size_t)counts[r];
        fa_pairvec_sort_unique(out);
    }
out:
    MPI_Type_free(&pair_t);
    free(all); free(counts); free(displs);
    return go ? 0 : -1;
}

int fa_mpi_search(void *mpi, const float *x, const uint32_t *grp, size_t n, int d, float max_dist, int mode,
                  fa_pairvec *out)
{
    fa_mpi *m = mpi;
    if (mode != FA_SEARCH_EXACT) return m->rank == 0 ? 1 : 2;   /* IVF: rank 0 alone */
    double t0 = now_s();
    fa_sorted_rows s = {0};
    fa_pairvec mine = {0};
    rank_status st;
    memset(&st, 0, sizeof st);
    fa_q8set q;
    int have_q8 = 0, ok = fa_join_check_args("fa_mpi_search", n, d, max_dist, NULL) == 0 &&
                          fa_sorted_make(&s, x, grp, n, d) == 0;
    if (ok && fa_q8_supported()) {
        int qr = fa_q8set_make(&q, s.x, n, d);
        ok = qr >= 0;
        have_q8 = qr == 0;
    }
    /* the int8 search (join_q8.c), as the single-process join, when every
     * rank can: the task list depends on it, and every rank must cut the same */
    int use_q8 = fa_mpi_all_ok(m, have_q8);
    if (!ok) {
        st.failed = 1;
        snprintf(st.msg, sizeof st.msg, "rank %d: %s", m->rank, fa_last_error());
    } else {
        local_join(m, &s, use_q8 ? &q : NULL, n, d, max_dist, &mine, &st);
    }
    if (have_q8) fa_q8set_free(&q);
    fa_sorted_free(&s);
    int rc = gather(m, &mine, &st, out);
    fa_pairvec_free(&mine);
    m->seconds = now_s() - t0;
    /* past the search only rank 0 works: it builds the findings and reports */
    return rc < 0 ? rc : m->rank == 0 ? 0 : 2;
}
