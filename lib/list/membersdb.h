/*
 * membersdb: the gdbm index of a member file, var/db/FILE.db, and the
 * lookups through it (see membersdb.c), inside lib/list: members.c offers
 * them as members_lookup(), members_reindex() and members_index_fresh().
 */
#ifndef FML_MEMBERSDB_H
#define FML_MEMBERSDB_H

#include "util/status.h"

fml_status membersdb_lookup(const char *dir, const char *file, const char *addr, int fuzzy,
			    int *found);
fml_status membersdb_reindex(const char *dir, const char *file, int fuzzy);
int membersdb_fresh(const char *dir, const char *file, int fuzzy);

#endif
