/*
 * decisions.h - the reviewer's decisions on audit findings, kept in
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
#ifndef FA_REVIEW_DECISIONS_H
#define FA_REVIEW_DECISIONS_H
#include <stddef.h>

typedef enum {
    FA_DEC_NONE = 0,    /* undecided (or every decision undone) */
    FA_DEC_ACCEPT,
    FA_DEC_REJECT,
    FA_DEC_SKIP,
    FA_DEC_UNDO,        /* only as a line of the file, never a current state */
} fa_decision;

/* "accept", "reject", "skip", "undo", "" for FA_DEC_NONE. */
const char *fa_decision_name(fa_decision d);
/* Parses a decision name; FA_DEC_NONE when unknown. */
fa_decision fa_decision_parse(const char *s);

typedef struct fa_decisions fa_decisions;

/* Reads a decisions file. A missing file is an empty set. Returns NULL with a
 * message naming the file and line on malformed input. */
fa_decisions *fa_decisions_load(const char *path);
/* An empty set (for callers without a file). */
fa_decisions *fa_decisions_new(void);
void fa_decisions_free(fa_decisions *d);

/* Adds every line of another file on top (later lines win). 0 or -1. */
int fa_decisions_merge_file(fa_decisions *d, const char *path);

/* The current decision for a finding id; *arg (may be NULL) gets the
 * argument, owned by d ("" when none). */
fa_decision fa_decisions_get(const fa_decisions *d, const char *id, const char **arg);

/* Number of ids with a current decision. */
size_t fa_decisions_count(const fa_decisions *d);

/* Records a decision in memory and appends it to the file at path (created
 * if needed) as one write(2) on an O_APPEND descriptor, then fsync. Returns 0,
 * or -1 with a message (the memory state is unchanged then). arg may be NULL.
 * An undo with nothing to undo is an error. Not thread-safe: callers that
 * share d lock around it. */
int fa_decisions_append(fa_decisions *d, const char *path, const char *id, const char *sha256s,
                        fa_decision dec, const char *arg);
#endif
