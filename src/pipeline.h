/*
 * pipeline.h - the parallel work of `faceaudit index`: reader threads read,
 * hash, sniff and decode files while inference workers (one set of networks
 * each) detect and encode faces. Decoded images wait in a bounded queue, so
 * memory stays bounded however far the readers could run ahead.
 */
#ifndef FA_PIPELINE_H
#define FA_PIPELINE_H
#include <signal.h>
#include "journal.h"
#include "shim/shim.h"

/* How an item finished: run through the networks, copied from content seen
 * under another name, failed, or (an item marked refresh, whose faces were
 * copied from before) only its image thumbnail computed. */
typedef enum { FA_DONE_ENCODED, FA_DONE_MOVED, FA_DONE_FAILED, FA_DONE_REFRESHED } fa_done_kind;

typedef struct {
    const char *root;
    fa_model_paths models;
    const fa_detect_params *detect;
    int jobs;                       /* inference workers */
    int readers;                    /* decode threads */
    int dim;
    /* Content seen before under another name: fill r's faces and return 1. */
    int (*reuse)(void *ud, const uint8_t sha[32], fa_result *r);
    void *reuse_ud;
    int image_refresh;              /* a reused result without an image thumbnail: decode for it */
    volatile sig_atomic_t *cancel;
} fa_pipeline_params;

typedef struct {
    double read, decode, detect, encode;   /* seconds, summed over threads */
    double gflop;                          /* the networks' arithmetic */
} fa_stage_times;

typedef struct fa_pipeline fa_pipeline;

/* Starts the threads over items[0..n) (path, size and mtime filled in);
 * workers fill the rest of each item. Returns NULL if a network fails to load. */
fa_pipeline *fa_pipeline_start(const fa_pipeline_params *p, fa_result *items, size_t n);
/* Waits up to timeout seconds for a finished item. Returns 1 with its index,
 * 0 on timeout, -1 when every item is finished (or the run was cancelled). */
int fa_pipeline_next(fa_pipeline *pl, double timeout, size_t *idx, fa_done_kind *kind);
/* Joins the threads; returns the per-stage times. */
void fa_pipeline_stop(fa_pipeline *pl, fa_stage_times *times);
#endif
