/*
 * audit_report.h - what the audit's renderings share (audit_report.c: the
 * text summary and the shared facts; audit_data.c: pairs.csv and
 * report.json; audit_html.c: report.html). Internal to src/report/.
 */
#ifndef FA_REPORT_AUDIT_REPORT_H
#define FA_REPORT_AUDIT_REPORT_H

#include <stdint.h>
#include "faceaudit/report.h"
#include "audit/findings.h"

/* ---- shared facts ------------------------------------------------------------ */

static inline const char *file_path(const fa_report *o, uint32_t f) { return o->cache->files[f].path; }
static inline const char *folder_name(const fa_report *o, uint32_t g) { return o->cache->folders[g]; }
static inline const char *file_folder(const fa_report *o, uint32_t f) { return folder_name(o, o->cache->files[f].folder); }
static inline uint32_t face_no(const fa_report *o, uint32_t face) { return o->cache->faces[face].face; }

/* The encoder's own fixed rule (dlib's 0.6, 1.15 for the ArcFace models, 1
 * for dlib+E), and the shares of sampled pairs it would flag: what the
 * calibration is compared with. */
typedef struct { float t; double cross, within; const char *who; } fixed_rule;

fixed_rule arep_rule_of(const fa_report *o);
/* When the calibration says the encoder, not the folders, limits the audit
 * (fa_audit_summary.encoder_weak): what to do about it, or NULL. The share
 * of cross-folder pairs as close as the median same-folder pair is in *overlap. */
const char *arep_encoder_advice(const fa_report *o, double *overlap);
/* "exact", "ivf_exact" or "ivf_probe". */
const char *arep_mode_name(fa_search_mode m);
/* Merges a misfiled face brought into review (review_merge.c). */
size_t arep_by_face_count(const fa_audit *a);

#endif
