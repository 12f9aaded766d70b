/*
 * str: growable binary-safe strings.
 * Failure policy: out of memory or a length overflow calls msg_fatal(),
 * which runs the registered clean-up and exits with EX_TEMPFAIL (the MTA
 * keeps the mail).
 */
#include "str.h"
#include "mem.h"
#include "msg.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void str_init(str *s)
{
	s->s = NULL;
	s->len = 0;
	s->cap = 0;
}

void str_free(str *s)
{
	free(s->s);
	str_init(s);
}

void str_clear(str *s)
{
	s->len = 0;
	if (s->s)
		s->s[0] = 0;
}

void str_reserve(str *s, size_t extra)
{
	if (extra > SIZE_MAX / 2 - s->len)
		msg_fatal("string size overflow");
	size_t need = s->len + extra + 1;
	if (need <= s->cap)
		return;
	size_t cap = s->cap ? s->cap : 64;
	while (cap < need)
		cap *= 2;
	s->s = mem_realloc(s->s, cap);
	s->cap = cap;
	s->s[s->len] = 0;
}

void str_append(str *s, const void *p, size_t n)
{
	str_reserve(s, n);
	if (n)
		memcpy(s->s + s->len, p, n);
	s->len += n;
	s->s[s->len] = 0;
}

void str_puts(str *s, const char *cstr)
{
	str_append(s, cstr, strlen(cstr));
}

void str_putc(str *s, int c)
{
	char ch = (char)c;
	str_append(s, &ch, 1);
}

void str_set(str *s, const void *p, size_t n)
{
	str_clear(s);
	str_append(s, p, n);
}

void str_sets(str *s, const char *cstr)
{
	str_set(s, cstr, strlen(cstr));
}

void str_vprintf(str *s, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		msg_fatal("str_vprintf: bad format");
	str_reserve(s, (size_t)n);
	vsnprintf(s->s + s->len, (size_t)n + 1, fmt, ap);
	s->len += (size_t)n;
}

void str_printf(str *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	str_vprintf(s, fmt, ap);
	va_end(ap);
}

void str_truncate(str *s, size_t len)
{
	if (len < s->len) {
		s->len = len;
		s->s[len] = 0;
	}
}

const char *str_c(const str *s)
{
	return s->s ? s->s : "";
}
