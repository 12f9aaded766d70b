/*
 * qdelta: delta generations of the recipient snapshots: after appends to
 * actives, a generation of the added addresses only, on a full base.
 * Format and lifetime in qsnap.h and doc/fml-queue.5; see qdelta.c.
 */
#ifndef FML_QDELTA_H
#define FML_QDELTA_H

#include <sys/stat.h>

#include "qsnap.h"

/* A chain of appends (list/membersjournal.h) from the stamp of an existing
 * generation to actives as NOW: 0 with FROM (that generation) and *OFF
 * (the size of actives then: the bytes since are [*OFF, NOW size) and
 * were only appended); -1 when there is none. */
int qdelta_chain(const char *list_dir, config *cf, const char *qdir, const struct stat *now,
		 qsnap_ref *from, off_t *off);
/* Write the delta generation of STAMP: the generation FROM (a full one, or
 * a delta, whose base it takes) and ADDS, N NUL-separated addresses,
 * sorted and unique (those already there are left out).  ST_OK, durable,
 * REF set; ST_NOINPUT when a delta does not fit (too many adds, FROM
 * unusable): write a full one; ST_TEMPFAIL. */
fml_status qdelta_write(const char *qdir, const char *stamp, const char *from, const char *adds,
			size_t n, qsnap_ref *ref);

#endif
