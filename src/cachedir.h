/*
 * cachedir.h - the cache module's names for what a writer keeps in the cache
 * directory besides the committed files of cache.h: the writer's lock and
 * the journal of unfinished work. Only the cache module knows the
 * directory's layout; the indexer asks here.
 */
#ifndef FA_CACHEDIR_H
#define FA_CACHEDIR_H

/* Takes the one-writer lock of dir (which must exist): returns a descriptor
 * to close() to release it, or -1 with a message (naming the other writer's
 * pid when another process holds it). */
int fa_cache_lock(const char *dir);

/* The path of dir's journal, malloc'd; NULL when out of memory. */
char *fa_cache_journal_path(const char *dir);
#endif
