/*
 * str: growable binary-safe strings and fatal-on-failure allocation.
 * Failure policy: out of memory or a length overflow calls msg_fatal(),
 * which runs the registered clean-up and exits with EX_TEMPFAIL (the MTA
 * keeps the mail).
 */
#include "str.h"
#include "msg.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		msg_fatal("out of memory (%zu bytes)", n);
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		msg_fatal("out of memory (%zu x %zu bytes)", n, size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		msg_fatal("out of memory (%zu bytes)", n);
	return q;
}

void *xreallocarray(void *p, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		msg_fatal("allocation size overflow");
	return xrealloc(p, n * size);
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = 0;
	return p;
}

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
	s->s = xrealloc(s->s, cap);
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

int str_casecmp_n(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t n = alen < blen ? alen : blen;
	int r = n ? strncasecmp(a, b, n) : 0;
	if (r)
		return r;
	return alen < blen ? -1 : alen > blen;
}

int bytes_has_ctl(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return 1;
	}
	return 0;
}

int hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

void date_rfc5322(time_t t, char *buf, size_t size)
{
	struct tm tm;
	localtime_r(&t, &tm);
	if (!strftime(buf, size, "%a, %d %b %Y %H:%M:%S %z", &tm) && size)
		buf[0] = 0;
}
