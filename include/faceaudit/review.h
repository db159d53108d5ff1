/*
 * review.h - what a person decides about an audit's findings, and what
 * follows: the decisions file, the findings file the last audit left in the
 * cache, `fix` (file moves within ROOT, with an undo log) and the local
 * review web app. README, "Review and fix", has the formats.
 */
#ifndef FACEAUDIT_REVIEW_H
#define FACEAUDIT_REVIEW_H
#include <stddef.h>
#include <stdint.h>
#include "faceaudit/audit.h"
#include "faceaudit/util.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- decisions ---- */

/*
 * The reviewer's decisions on audit findings, kept in
 * CACHE/decisions.tsv (README, "Review and fix").
 *
 * The file is append-only, UTF-8, one decision per line, no header:
 *
 *   id <TAB> sha256s <TAB> decision <TAB> time <TAB> argument
 *
 *   id        the finding id ("misfiled-0123456789abcdef"): a hash of the kind
 *             and the content of the files, so it survives renames, moves and
 *             re-indexing
 *   sha256s   the SHA-256s of the finding's files, sorted, comma-separated
 *   decision  accept | reject | skip | undo
 *   time      ISO-8601 UTC
 *   argument  e.g. the new folder name of a split ("" if none); escaped as
 *             the manifest's text fields (\\ \t \n \r)
 *
 * The decisions of one id form a stack: accept/reject/skip push, undo pops;
 * the top is the id's current decision. Blank lines and lines starting with
 * '#' are ignored; any other malformed line is an error naming the line.
 */
typedef enum {
    FA_DEC_NONE = 0,    /* undecided (or every decision undone) */
    FA_DEC_ACCEPT,
    FA_DEC_REJECT,
    FA_DEC_SKIP,
    FA_DEC_UNDO,        /* only as a line of the file, never a current state */
} fa_decision;

/* "accept", "reject", "skip", "undo", "" for FA_DEC_NONE. */
FA_API const char *fa_decision_name(fa_decision d);
/* Parses a decision name; FA_DEC_NONE when unknown. */
FA_API fa_decision fa_decision_parse(const char *s);

typedef struct fa_decisions fa_decisions;

/* Reads a decisions file. A missing file is an empty set. Returns NULL with a
 * message naming the file and line on malformed input. */
FA_API fa_decisions *fa_decisions_load(const char *path);
/* An empty set (for callers without a file). */
FA_API fa_decisions *fa_decisions_new(void);
FA_API void fa_decisions_free(fa_decisions *d);

/* Adds every line of another file on top (later lines win). 0 or -1. */
FA_API int fa_decisions_merge_file(fa_decisions *d, const char *path);

/* The current decision for a finding id; *arg (may be NULL) gets the
 * argument, owned by d ("" when none). */
FA_API fa_decision fa_decisions_get(const fa_decisions *d, const char *id, const char **arg);

/* Number of ids with a current decision. */
FA_API size_t fa_decisions_count(const fa_decisions *d);

/* Records a decision in memory and appends it to the file at path (created
 * if needed) as one write(2) on an O_APPEND descriptor, then fsync. Returns 0,
 * or -1 with a message (the memory state is unchanged then). arg may be NULL.
 * An undo with nothing to undo is an error. Not thread-safe: callers that
 * share d lock around it. */
FA_API int fa_decisions_append(fa_decisions *d, const char *path, const char *id, const char *sha256s,
                        fa_decision dec, const char *arg);

/* ---- the findings file ---- */

/*
 * Reading CACHE/findings.json, the latest audit's findings (format
 * 1, written by `faceaudit audit`; the contract is in the README section
 * "Review and fix"), for `review` and `fix`.
 *
 * Every path is checked to be relative to ROOT without '.', '..' or empty
 * components, so that nothing built from it can leave ROOT.
 */
typedef struct {
    char *path, *folder;
    char sha256[65];
    int64_t size, mtime_ns;
    long face_row;              /* -1 when none */
} fa_rfile;

typedef struct {
    int own;
    char *looks_like;           /* "" when none */
    char **paths;
    size_t n_paths;
} fa_rcluster;

typedef struct {
    char *id, *kind, *action, *summary;
    int rank, review;
    double score;
    char *path, *folder, *other_path, *other_folder, *keep;   /* "" when absent */
    fa_rfile *files;
    size_t n_files;
    fa_rcluster *clusters;
    size_t n_clusters;
    char *evidence_json;        /* the evidence object as compact JSON ("{}") */
    char *sha256s;              /* the files' SHA-256s, sorted, comma-separated */
} fa_rfinding;

typedef struct {
    char *root, *cache, *created, *encoder;
    long generation;
    fa_rfinding *f;
    size_t n;
} fa_rfindings;

/* Loads and checks findings.json. NULL with a message naming the file and the
 * finding on any problem. */
FA_API fa_rfindings *fa_rfindings_load(const char *path);
FA_API void fa_rfindings_free(fa_rfindings *f);

/* The first finding with this id, or NULL. Ids may repeat (findings over the
 * same content, e.g. each copy of one file): a decision covers them all. */
FA_API const fa_rfinding *fa_rfindings_find(const fa_rfindings *f, const char *id);
/* The file entry for a path in a finding, or NULL. */
FA_API const fa_rfile *fa_rfinding_file(const fa_rfinding *f, const char *path);

/* 1 if p is a safe path relative to ROOT ("a/b.jpg": no leading '/', no '.',
 * '..' or empty components, no control characters). */
FA_API int fa_safe_relpath(const char *p);
/* 1 if s is a safe single folder name (a safe path without '/', not
 * starting with '.'). */
FA_API int fa_safe_name(const char *s);

/* ---- fix ---- */

/*
 * `faceaudit fix`: turning accepted decisions into file moves
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
FA_API fa_fix_plan *fa_fix_plan_build(const fa_rfindings *f, const fa_decisions *d, const char *split_name);
FA_API void fa_fix_plan_free(fa_fix_plan *p);

/* Checks that every file to move is still what the audit saw (size, mtime,
 * SHA-256), is a regular file under plain directories of ROOT, and that no
 * destination exists. Appends one line per problem to problems; returns the
 * number of problems. */
FA_API size_t fa_fix_plan_check(const fa_fix_plan *p, fa_buf *problems);

/* The plan as text for a person ("move A/x.jpg -> B/x.jpg  # id"). */
FA_API void fa_fix_plan_text(const fa_fix_plan *p, fa_buf *out);
/* The plan as a POSIX sh script that refuses to overwrite anything. */
FA_API void fa_fix_plan_script(const fa_fix_plan *p, fa_buf *out);

/* Applies the plan, writing the undo log at log_path (must not exist).
 * Stops at the first failure (-1 with a message; the log then covers what
 * was done). *done gets the number of operations done. */
FA_API int fa_fix_apply(const fa_fix_plan *p, const char *log_path, size_t *done);

typedef struct {
    size_t restored;    /* operations reversed */
    size_t not_done;    /* operations the log names that had not happened */
    size_t conflicts;   /* could not be reversed (something is in the way) */
} fa_fix_undo_stats;

/* Reverses an undo log, newest operation first. Problems are appended to
 * problems (one line each) and counted in conflicts; returns 0, or -1 when
 * the log cannot be read. */
FA_API int fa_fix_undo(const char *log_path, fa_fix_undo_stats *st, fa_buf *problems);

/* ---- the review web app ---- */

/*
 * The review web app behind `faceaudit review CACHE`: a local
 * HTTP server (libmicrohttpd) over the last audit's findings, the reviewer's
 * decisions and face thumbnails.
 *
 * Safety: it listens on 127.0.0.1 only; every request must carry the random
 * token of the printed URL (query "t" for GET, header X-FA-Token for POST)
 * and a Host of 127.0.0.1:PORT or localhost:PORT (no DNS rebinding); the one
 * state-changing request (POST /api/decide, JSON) is refused when its Origin
 * or Sec-Fetch-Site says another site sent it. Images are addressed by
 * number (/img/N), never by path. Pages are served with a strict
 * Content-Security-Policy (no inline script, nothing from elsewhere).
 *
 * Routes: GET /  /app.js  /app.css  /api/state  /img/N?s=96|160|320
 *         POST /api/decide {"id":..., "decision":"accept|reject|skip|undo", "arg":...}
 * Thumbnails are cut from the originals on first request and kept in
 * CACHE/thumbs/ (named by content hash, face and size).
 *
 * The server runs in its own threads; fa_review_start returns at once.
 */
typedef struct fa_review fa_review;

/* Loads CACHE (the index, findings.json, decisions.tsv) and starts serving
 * on 127.0.0.1:port (0: a free port). NULL with a message on failure. */
FA_API fa_review *fa_review_start(const char *cache_dir, int port);
/* The URL to open, token included ("http://127.0.0.1:PORT/?t=TOKEN"). */
FA_API const char *fa_review_url(const fa_review *r);
/* Findings and decided findings, for the start-up line. */
FA_API void fa_review_counts(const fa_review *r, unsigned long *findings, unsigned long *decided);
FA_API void fa_review_stop(fa_review *r);

/* ---- decisions applied to a fresh audit ---- */

/* What fa_audit_apply_decisions did. */
typedef struct {
    size_t accepted, rejected, skipped;
} fa_decision_counts;

/* Applies the reviewer's decisions to a fresh audit's review list: those of
 * CACHE/decisions.tsv (cache_dir), then, when extra is not NULL, those of that
 * file on top. Rejected findings leave the review part and are listed apart
 * at the end of the list; accepted ones stay in it whatever the cut-off says
 * now. Findings are matched by id, a hash of their files' content, so
 * decisions survive renames, moves and re-indexing. Returns 0 with the
 * counts in *out (may be NULL), or -1 with a message naming the file (a
 * malformed line, or extra unreadable); the audit is unchanged then. */
FA_API int fa_audit_apply_decisions(fa_audit *a, const char *cache_dir, const char *extra,
                                    fa_decision_counts *out);

#ifdef __cplusplus
}
#endif
#endif
