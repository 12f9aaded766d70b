/*
 * article: the articles of a list, by number: reading article N from the
 * spool or an archive unit.  Sets of numbers are artrange's; the last
 * number and the unit scan are seq's.
 */
#ifndef FML_ARTICLE_H
#define FML_ARTICLE_H

#include <sys/types.h>
#include <time.h>

#include "util/status.h"
#include "util/str.h"

/* ---------------------------------------------------------------- articles */

/* Where articles are read from: SPOOL_DIR/N, or, once expired from the
 * spool, the archive unit ARCHIVE_DIR/E.tar.gz (entry "spool/N") with the
 * smallest E >= N.  One unit is cached (see article.c), so reading many
 * articles of one unit decompresses it once.  Not shared between
 * threads; the directories are borrowed, not copied. */
typedef struct store_entry store_entry;
typedef struct article_store {
	const char *spool_dir;
	const char *archive_dir; /* NULL or "" = no archive */
	/* private: the cached unit */
	long unit;	  /* E of the cached unit; 0 = none */
	int complete;	  /* every entry of the unit is in the cache */
	str cache;	  /* the bytes of its cached entries */
	store_entry *ent; /* where each one is in CACHE */
	size_t nent, capent;
} article_store;

void article_store_init(article_store *s, const char *spool_dir, const char *archive_dir);
void article_store_free(article_store *s);

/* Open article N read-only: the spool file (a regular file, O_NOFOLLOW),
 * else a new memfd holding its bytes from the archive unit.  *FD is the
 * caller's to close.  ST_NOINPUT when the article is neither in the spool nor in an
 * archive unit; ST_TEMPFAIL on I/O errors or a corrupt unit (logged). */
fml_status article_open(article_store *s, long n, int *fd, off_t *size);

/* Write article N (open as FD, its size SIZE, its mtime MTIME) into the tar
 * archive A as the entry "spool/N", mode 0644: the entry archive units
 * and mget's tgz hold, and the one article_open() reads back.  BUF (BUFSIZE
 * bytes) is scratch.  ST_TEMPFAIL, logged, on a read or archive error. */
struct archive;
fml_status article_tar_entry(struct archive *a, long n, int fd, off_t size,
			     const struct timespec *mtime, char *buf, size_t bufsize);

#endif
