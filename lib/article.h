/*
 * article: the articles of a list, by number: ranges (get, mget, summary,
 * digests) and reading article N from the spool.
 */
#ifndef FML_ARTICLE_H
#define FML_ARTICLE_H

#include <sys/types.h>

#include "status.h"
#include "str.h"

/* ---------------------------------------------------------------- ranges */

/* A set of article numbers as sorted, disjoint, non-adjacent intervals. */
typedef struct artrange {
	long (*iv)[2];
	size_t n, cap;
} artrange;

void artrange_init(artrange *r);
void artrange_free(artrange *r);
/* Parse SPEC against the last article number LAST: comma-separated items
 * "N", "A-B", "first", "first:N", "last", "last:N", "A-last", "first-B".
 * Numbers are clipped to 1..LAST (so "1-99999999" is every article); a
 * number that does not fit in a long, an empty item, B < A, trailing junk,
 * or an empty result is ST_DATAERR with a reason in WHY; so is a result of
 * more than MAX articles (MGET_LIMIT; 0 = no limit).  Never allocates more
 * than the number of items in SPEC. */
fml_status artrange_parse(const char *spec, long last, long max, artrange *r, str *why);
long artrange_count(const artrange *r);

/* ---------------------------------------------------------------- articles */

/* Open article N of the list whose spool is SPOOL_DIR (a regular file,
 * O_NOFOLLOW).  ST_NOINPUT when it does not exist. */
fml_status article_open(const char *spool_dir, long n, int *fd, off_t *size);

#endif
