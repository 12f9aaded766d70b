/*
 * str: a length-carrying, growable, binary-safe byte string (Postfix's
 * VSTRING, qmail's stralloc).  Everything that comes from mail lives in one.
 * The buffer always has a NUL safety byte after len, so s->s can be passed
 * to functions that want a C string when the content is known to be text.
 * Out of memory and size overflow are fatal here, in one place: callers
 * never test for NULL.
 */
#ifndef FML_STR_H
#define FML_STR_H

#include <stdarg.h>
#include <stddef.h>

typedef struct str {
	char *s;    /* bytes, NUL-terminated at s[len] */
	size_t len; /* bytes in use */
	size_t cap; /* allocated, > len */
} str;

#define STR_INIT                                                                                   \
	{                                                                                          \
		0, 0, 0                                                                            \
	}

void str_init(str *s);
void str_free(str *s);
void str_clear(str *s); /* len = 0, keeps the buffer */
void str_reserve(str *s, size_t extra);
void str_append(str *s, const void *p, size_t n);
void str_puts(str *s, const char *cstr);
void str_putc(str *s, int c);
void str_set(str *s, const void *p, size_t n);
void str_sets(str *s, const char *cstr);
void str_printf(str *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void str_vprintf(str *s, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
void str_truncate(str *s, size_t len);
const char *str_c(const str *s); /* "" for an empty, never-allocated str */

#endif
