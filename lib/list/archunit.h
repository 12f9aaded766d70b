/*
 * archunit: the list's archive units and the expiry of old articles.
 *
 * With USE_ARCHIVE, every complete block of ARCHIVE_UNIT articles becomes
 * ARCHIVE_DIR/E.tar.gz (E = the block's last article: 100.tar.gz holds
 * spool/1 .. spool/100), a ustar+gzip file written durably (temp file,
 * fsync, rename, fsync of the directory).  With USE_EXPIRE, articles
 * beyond EXPIRE_LIMIT ("Ndays" by age, "N" the newest N kept) leave the
 * spool, but only those inside a unit file that exists; the summary is
 * never touched.  article_open() reads an expired article from its unit.
 *
 * (Not "archive.h": with -Ilib it would shadow libarchive's <archive.h>.)
 */
#ifndef FML_ARCHUNIT_H
#define FML_ARCHUNIT_H

#include "list.h"
#include "util/status.h"

/* Writes the unit E of U articles (unitwrite_unit(), which needs
 * libarchive). */
typedef fml_status (*archunit_writer)(list_ctx *c, long e, long u);

/* Make every missing complete unit above the highest existing one with W.
 * Runs under the list lock; a no-op without USE_ARCHIVE.  Without a writer
 * (W NULL) nothing is written and *DUE says whether a unit is due. */
fml_status archunit_update(list_ctx *c, archunit_writer w, int *due);

/* Remove expired articles that are in an existing unit, never the newest.
 * Runs under the list lock; a no-op without USE_EXPIRE. */
fml_status archunit_expire(list_ctx *c);

/* Both, for proc_drain(): failures are logged, never returned (the posts
 * are already distributed).  1 when W is NULL and a unit is due (expiry
 * ran: it removes only articles already in a unit). */
int archunit_run(list_ctx *c, archunit_writer w);

/* EXPIRE_LIMIT: "N" (keep the newest N articles: *DAYS = 0) or "Ndays"
 * ("Nday", "Nd"; *DAYS = 1), N from 1 to ARCHUNIT_LIMIT_MAX, no blanks.
 * ST_DATAERR for anything else. */
#define ARCHUNIT_LIMIT_MAX 100000000L
fml_status archunit_parse_limit(const char *s, long *n, int *days);

#endif
