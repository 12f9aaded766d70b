/*
 * mem: allocation that cannot fail for the caller.  Out of memory and size
 * overflow call msg_fatal() here, in one place (exit 75: the MTA keeps the
 * mail), so no caller tests for NULL.
 */
#ifndef FML_MEM_H
#define FML_MEM_H

#include <stddef.h>

void *mem_alloc(size_t n);
void *mem_calloc(size_t n, size_t size);
void *mem_realloc(void *p, size_t n);
void *mem_reallocarray(void *p, size_t n, size_t size);
char *mem_strdup(const char *s);
char *mem_strndup(const char *s, size_t n);

#endif
