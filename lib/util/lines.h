/*
 * lines: walk the lines of a buffer in place, without copying.
 *
 *	lines it;
 *	const char *l;
 *	size_t n;
 *	for (lines_init(&it, buf, len); lines_next(&it, &l, &n);)
 *		... L[0..N) is one line, without its "\n" ...
 *
 * A last line without a "\n" is a line too; an empty buffer has none.  A
 * "\r" before the "\n" is kept (callers that care strip it).
 * lines_rest() is where the next line starts, for callers that stop early;
 * IT.nl says whether the last line given had its "\n".
 */
#ifndef FML_LINES_H
#define FML_LINES_H

#include <stddef.h>

typedef struct lines {
	const char *p, *end;
	int nl; /* the line lines_next() gave last ended in "\n" (0: torn last line) */
} lines;

void lines_init(lines *it, const void *buf, size_t len);
/* The next line into *LINE and *LEN; 0 when there is none. */
int lines_next(lines *it, const char **line, size_t *len);
/* What has not been walked yet (P up to END). */
const char *lines_rest(const lines *it);

#endif
