/*
 * membersdb: the gdbm index of a member file, DIR/var/db/FILE.db, rebuilt
 * whenever the text file's (size, mtime, inode) changes, and the lookups
 * through it: O(1) at a million members.  See membersdb.c.
 */
#ifndef FML_MEMBERSDB_H
#define FML_MEMBERSDB_H

#include "util/status.h"

/* Is ADDR listed in DIR/FILE (not as ##BYE)?  Off entries count (they may
 * still post).  FUZZY is ADDR_CHECK_MAX (0 = exact).  Uses and, when stale,
 * rebuilds DIR/var/db/FILE.db.  *FOUND is 1 also when the file has '+'. */
fml_status membersdb_lookup(const char *dir, const char *file, const char *addr, int fuzzy,
			    int *found);

/* Force a rebuild of the index of DIR/FILE. */
fml_status membersdb_reindex(const char *dir, const char *file, int fuzzy);
/* Is the index of DIR/FILE built for the file as it is now and for FUZZY?
 * 1 yes (or there is no text file), 0 no (missing, stale, unreadable). */
int membersdb_fresh(const char *dir, const char *file, int fuzzy);

#endif
