/*
 * lines: walk the lines of a buffer.  See lines.h.
 */
#include "lines.h"

#include <string.h>

void lines_init(lines *it, const void *buf, size_t len)
{
	it->p = buf;
	it->end = it->p + len;
	it->nl = 0;
}

int lines_next(lines *it, const char **line, size_t *len)
{
	if (!it->p || it->p >= it->end)
		return 0;
	const char *nl = memchr(it->p, '\n', (size_t)(it->end - it->p));
	*line = it->p;
	*len = (size_t)((nl ? nl : it->end) - it->p);
	it->p = nl ? nl + 1 : it->end;
	it->nl = nl != NULL;
	return 1;
}

const char *lines_rest(const lines *it)
{
	return it->p;
}
