/*
 * mem: fatal-on-failure allocation.  See mem.h.
 */
#include "mem.h"
#include "msg.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void *mem_alloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		msg_fatal("out of memory (%zu bytes)", n);
	return p;
}

void *mem_calloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		msg_fatal("out of memory (%zu x %zu bytes)", n, size);
	return p;
}

void *mem_realloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		msg_fatal("out of memory (%zu bytes)", n);
	return q;
}

void *mem_reallocarray(void *p, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		msg_fatal("allocation size overflow");
	return mem_realloc(p, n * size);
}

char *mem_strdup(const char *s)
{
	return mem_strndup(s, strlen(s));
}

char *mem_strndup(const char *s, size_t n)
{
	char *p = mem_alloc(n + 1);
	memcpy(p, s, n);
	p[n] = 0;
	return p;
}
