/*
 * membersdb: the gdbm index of a member file, DIR/var/db/FILE.db, rebuilt
 * whenever the text file's (size, mtime, inode) changes, and the lookups
 * through it: O(1) at a million members.  See membersdb.c.
 */
#ifndef FML_MEMBERSDB_H
#define FML_MEMBERSDB_H

#include <stddef.h>
#include <sys/stat.h>

#include "util/status.h"
#include "util/str.h"

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

/* Through the index only, when it is fresh for the file whose stat is NOW:
 * 1 ADDR has an entry (not ##BYE; a '+' line does not count), 2 it has
 * none but there is or was a ##BYE line for it, 0 neither, -1
 * the index is missing, stale or unreadable (the caller scans the file). */
int membersdb_probe(const char *dir, const char *file, const char *addr, int fuzzy,
		    const struct stat *now);

/* The same for the N addresses ADDRS, through one open of the index:
 * PRESENT[i] set to 1, 2 or 0; returns 0, or -1 as above. */
int membersdb_probe_many(const char *dir, const char *file, int fuzzy, const struct stat *now,
			 const char *const *addrs, size_t n, unsigned char *present);
/* The index key of ADDR at FUZZY: two addresses have the same key exactly
 * when addr_match(a, b, FUZZY) (for de-duplicating a batch). */
void membersdb_key(str *key, const char *addr, int fuzzy);

/* After an edit of DIR/FILE by fml (under the list lock): when the index
 * was fresh for the file as BEFORE, delete the keys of DEL, store those of
 * ADD, store the ##BYE hints of BYE, and stamp it with AFTER, so the next lookup finds it fresh.
 * Otherwise, and on any gdbm trouble (logged), the index is left stale and
 * rebuilt by the next lookup.  ST_OK but for a bad file name. */
fml_status membersdb_update(const char *dir, const char *file, int fuzzy, const struct stat *before,
			    const struct stat *after, const char *const *del, size_t ndel,
			    const char *const *add, size_t nadd, const char *const *bye,
			    size_t nbye);

#endif
