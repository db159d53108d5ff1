/*
 * server.h - the review web app behind `faceaudit review CACHE`: a local
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
#ifndef FA_REVIEW_SERVER_H
#define FA_REVIEW_SERVER_H

typedef struct fa_review fa_review;

/* Loads CACHE (the index, findings.json, decisions.tsv) and starts serving
 * on 127.0.0.1:port (0: a free port). NULL with a message on failure. */
fa_review *fa_review_start(const char *cache_dir, int port);
/* The URL to open, token included ("http://127.0.0.1:PORT/?t=TOKEN"). */
const char *fa_review_url(const fa_review *r);
/* Findings and decided findings, for the start-up line. */
void fa_review_counts(const fa_review *r, unsigned long *findings, unsigned long *decided);
void fa_review_stop(fa_review *r);
#endif
