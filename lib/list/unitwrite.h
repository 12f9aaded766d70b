/*
 * unitwrite: one archive unit written with libarchive; the writer that
 * archunit_update() takes (archunit.h).
 */
#ifndef FML_UNITWRITE_H
#define FML_UNITWRITE_H

#include "list.h"
#include "util/status.h"

/* Write ARCHIVE_DIR/E.tar.gz for articles E-U+1 .. E of the spool, durably
 * (temp file, fsync, rename, fsync of the directory); an article missing
 * from the spool is logged and left out.  ST_TEMPFAIL, logged, on
 * trouble: no unit is left then. */
fml_status unitwrite_unit(list_ctx *c, long e, long u);

#endif
