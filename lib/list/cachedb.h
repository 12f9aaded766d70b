/*
 * cachedb: a gdbm file in var/db used as a cache (dedupe.db, dmarc.db):
 * never synced, so that using it costs no flush.  gdbm writes every
 * changed block at the end of each store, but gdbm_close() of a database
 * open for writing syncs it whatever the flags (gdbm 1.23: msync of the
 * mapping, or fsync without one), so the file is opened without a mapping
 * (GDBM_NOMMAP) and cachedb_close() gives gdbm /dev/null in place of its
 * descriptor: the close-time fsync goes there and the file is closed
 * unsynced.  What a crash does to it: entries lost, or a torn file, which
 * gdbm_open() refuses and cachedb_open() moves aside.
 */
#ifndef FML_CACHEDB_H
#define FML_CACHEDB_H

#include <gdbm.h>
#include <time.h>

/* PATH open for reading and writing (created if missing).  LOCKED: with
 * gdbm's own lock, for a cache used outside the list lock; held by
 * another, NULL at once (the caller goes on without it).  A damaged file
 * (not a gdbm file, or not a file) is moved aside as PATH.damaged.NOW.PID
 * and a new one started; one that cannot be opened for I/O trouble is left
 * alone (NULL, logged by the caller: WHAT names the cache). */
GDBM_FILE cachedb_open(const char *path, int locked, time_t now, const char *what);
/* Close DB (may be NULL) without syncing it. */
void cachedb_close(GDBM_FILE db);

#endif
