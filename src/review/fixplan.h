/*
 * fixplan.h - `faceaudit fix`: turning accepted decisions into file moves
 * within ROOT, checking them, writing them as a shell script, applying them
 * with an undo log, and undoing them.
 *
 * Actions (the findings contract, README "Review and fix"):
 *   misfiled/move        path into other_folder
 *   same_identity/merge  every file of other_folder into folder (the empty
 *                        folder is removed)
 *   duplicate/keep_one   every file but keep into ROOT/.faceaudit-quarantine/
 *   mixed_folder/split   the clusters with own=false into a new folder named
 *                        by the decision's argument (or --name)
 *   stray/check          the file into the quarantine
 * A name that is taken gets " (2)", " (3)"... before its extension: nothing
 * is ever overwritten or deleted.
 *
 * The undo log (text, one operation per line, fields escaped as manifest
 * text; see fixplan.c) records each operation's intent and is fsync'ed
 * before the operation is done, so after a crash it names every operation
 * that may have happened; undo looks at the files to see which did.
 */
#ifndef FA_REVIEW_FIXPLAN_H
#define FA_REVIEW_FIXPLAN_H
#include <stddef.h>
#include <stdint.h>
#include "decisions.h"
#include "findfile.h"
#include "util.h"

#define FA_QUARANTINE ".faceaudit-quarantine"

typedef enum { FA_OP_MKDIR, FA_OP_RENAME, FA_OP_RMDIR } fa_fix_op_kind;

typedef struct {
    fa_fix_op_kind kind;
    char *src, *dst;        /* relative to ROOT; dst NULL for mkdir/rmdir */
    char *finding;          /* the finding id */
    char sha256[65];        /* rename: what src must still be */
    int64_t size, mtime_ns;
} fa_fix_op;

typedef struct {
    char *root;
    fa_fix_op *ops;
    size_t n_ops, cap;
    size_t n_findings;      /* accepted findings turned into operations */
    fa_buf notes;           /* accepted findings left out, one line each */
} fa_fix_plan;

/* Builds the plan of the accepted findings, in rank order. split_name names
 * the new folder of a split whose decision has no argument (NULL: such a
 * split is left out with a note). Looks at ROOT for names that are taken.
 * Returns NULL with a message on error. */
fa_fix_plan *fa_fix_plan_build(const fa_rfindings *f, const fa_decisions *d, const char *split_name);
void fa_fix_plan_free(fa_fix_plan *p);

/* Checks that every file to move is still what the audit saw (size, mtime,
 * SHA-256), is a regular file under plain directories of ROOT, and that no
 * destination exists. Appends one line per problem to problems; returns the
 * number of problems. */
size_t fa_fix_plan_check(const fa_fix_plan *p, fa_buf *problems);

/* The plan as text for a person ("move A/x.jpg -> B/x.jpg  # id"). */
void fa_fix_plan_text(const fa_fix_plan *p, fa_buf *out);
/* The plan as a POSIX sh script that refuses to overwrite anything. */
void fa_fix_plan_script(const fa_fix_plan *p, fa_buf *out);

/* Applies the plan, writing the undo log at log_path (must not exist).
 * Stops at the first failure (-1 with a message; the log then covers what
 * was done). *done gets the number of operations done. */
int fa_fix_apply(const fa_fix_plan *p, const char *log_path, size_t *done);

typedef struct {
    size_t restored;    /* operations reversed */
    size_t not_done;    /* operations the log names that had not happened */
    size_t conflicts;   /* could not be reversed (something is in the way) */
} fa_fix_undo_stats;

/* Reverses an undo log, newest operation first. Problems are appended to
 * problems (one line each) and counted in conflicts; returns 0, or -1 when
 * the log cannot be read. */
int fa_fix_undo(const char *log_path, fa_fix_undo_stats *st, fa_buf *problems);
#endif
