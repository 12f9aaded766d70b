/*
 * seq: the article numbers of a list: the last one, and the largest one an
 * archive unit holds.  What distribute needs to choose article N, without
 * the archive reader (article) or writer (archunit) and their libarchive.
 */
#ifndef FML_SEQ_H
#define FML_SEQ_H

#include "list.h"
#include "util/status.h"

/* The list's last article number, from DIR/seq (0 for none).  seq is a
 * hint kept for fml 4's tools and for speed: spool/N is the truth, and
 * distribute moves past any spool/N that exists. */
long seq_last(const char *dir);
/* Raise DIR/seq to N (never lowers it); written in place, not fsynced. */
void seq_raise(const char *dir, long n);

/* The number in a decimal NAME followed exactly by SUFFIX (spool/N, the
 * units' E.tar.gz); 0 if it is not one (no sign, no leading zero, fits in a
 * long). */
long seq_name_number(const char *name, const char *suffix);

/* Scan ARCHIVE_DIR for units "E.tar.gz": *GE is the smallest E >= N and
 * *MAX the largest E (0 when there is none, or no directory).  Other
 * names and anything not a regular file are ignored.  ST_TEMPFAIL when the
 * directory cannot be read. */
fml_status seq_units(const char *archive_dir, long n, long *ge, long *max);

/* The largest article number inside an archive unit, when it may be above
 * SEQ (seq is a hint: lost or stale, it must not make distribute reuse an
 * expired number); 0 when no unit is above SEQ.  One stat() when SEQ is
 * right. */
long seq_floor(list_ctx *c, long seq);

#endif
