/*
 * artrange: a set of article numbers, parsed from a request's range spec.
 */
#ifndef FML_ARTRANGE_H
#define FML_ARTRANGE_H

#include <stddef.h>

#include "util/status.h"
#include "util/str.h"

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
/* The decimal number at *PP (no sign), *PP moved past it: 1, or 0 when
 * there is none, or -1 when it does not fit in a long. */
int artrange_parse_number(const char **pp, long *v);

#endif
