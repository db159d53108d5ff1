/*
 * mpi.h - the audit on many processes with MPI: `mpirun -n P faceaudit audit`.
 *
 * Only the pair search is distributed. Every rank opens (memory-maps) the
 * same cache from shared storage and runs the audit up to the search itself:
 * the choice of faces and the calibration are deterministic, so every rank
 * holds the same rows and threshold, and the calibration uses the same
 * samples whatever P. fa_mpi_search, installed as fa_audit_params.search_fn,
 * then splits the exact join's tiles (the task list of fa_join_exact: an A
 * tile of rows against a block of columns, upper triangle, same-folder runs
 * skipped) into P contiguous ranges of equal estimated cost, runs its range
 * on OpenMP threads with the same kernel as the single-process join (the
 * int8 candidate search when every rank's CPU has it, else fa_join_rect),
 * and gathers every rank's pairs on rank
 * 0, sorted by (i, j): the pairs fa_join_exact returns, bit for bit (every
 * pair is re-measured exactly, whatever tile found it). Rank 0 then builds
 * the findings and writes the reports alone, with the code of the
 * single-process audit, so the outputs are identical by construction. The
 * IVF modes run on rank 0 alone (the other ranks wait); their output is the
 * single-process one too.
 *
 * Failures: a rank's error (out of memory, too many pairs) travels to rank 0
 * with the gather and every rank then returns -1; a failure outside the
 * agreed steps ends the job with MPI_Abort (fa_mpi_end). A rank that dies
 * makes mpirun end the others before rank 0 writes anything.
 *
 * Without MPI (FA_HAVE_MPI undefined) the functions are stubs: fa_mpi_start
 * returns NULL and the audit runs in one process.
 *
 * This layer is the faceaudit tool's, not libfaceaudit's: it is built into
 * the tool (libfaceaudit_mpi) only where MPI is found, so that the library
 * never depends on MPI, and this header is not installed.
 */
#ifndef FACEAUDIT_MPI_H
#define FACEAUDIT_MPI_H

#include <stddef.h>
#include <stdint.h>
#include "faceaudit/audit.h"   /* fa_pairvec */

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fa_mpi fa_mpi;

#ifdef FA_HAVE_MPI
/* Starts MPI when the process was launched by an MPI launcher (mpirun,
 * mpiexec, srun: their environment variables say so) and returns the
 * context; NULL when not launched so (a plain run) or when MPI could not
 * start (fa_last_error says why; *failed is set then). */
fa_mpi *fa_mpi_start(int *failed);
int fa_mpi_rank(const fa_mpi *m);
int fa_mpi_size(const fa_mpi *m);
/* Search settings every rank uses (threads 0: OpenMP's default; max_pairs 0: none). */
void fa_mpi_set_search(fa_mpi *m, int threads, size_t max_pairs);
/* The last search, on rank 0: seconds of the slowest and fastest rank's
 * share, sgemm flops of all ranks, and the whole search with the gather. */
void fa_mpi_stats(const fa_mpi *m, double *slowest, double *fastest, double *flops, double *seconds);
/* 1 when `ok` is true on every rank (a collective: every rank calls it). */
int fa_mpi_all_ok(fa_mpi *m, int ok);
/* The search hook (findings.h, fa_audit_params.search_fn): returns 0 with
 * the gathered pairs on rank 0, 2 on the other ranks (their audit stops
 * after the search), 1 to let rank 0 search in-process (IVF modes), or -1
 * on every rank on failure. */
int fa_mpi_search(void *mpi, const float *x, const uint32_t *grp, size_t n, int d, float max_dist,
                  int mode, fa_pairvec *out);
/* Ends MPI: MPI_Finalize after success, MPI_Abort(1) after a failure (so
 * no rank waits forever for one that gave up). Frees m. */
void fa_mpi_end(fa_mpi *m, int failed);
#else
static inline fa_mpi *fa_mpi_start(int *failed) { *failed = 0; return NULL; }
static inline int fa_mpi_rank(const fa_mpi *m) { (void)m; return 0; }
static inline int fa_mpi_size(const fa_mpi *m) { (void)m; return 1; }
static inline void fa_mpi_set_search(fa_mpi *m, int t, size_t mp) { (void)m; (void)t; (void)mp; }
static inline int fa_mpi_all_ok(fa_mpi *m, int ok) { (void)m; return ok; }
static inline int fa_mpi_search(void *mpi, const float *x, const uint32_t *grp, size_t n, int d,
                                float max_dist, int mode, fa_pairvec *out)
{
    (void)mpi; (void)x; (void)grp; (void)n; (void)d; (void)max_dist; (void)mode; (void)out;
    return 1;
}
static inline void fa_mpi_stats(const fa_mpi *m, double *a, double *b, double *c, double *d)
{
    (void)m; *a = *b = *c = *d = 0;
}
static inline void fa_mpi_end(fa_mpi *m, int failed) { (void)m; (void)failed; }
#endif

#ifdef __cplusplus
}
#endif
#endif
