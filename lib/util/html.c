/*
 * html: text into HTML.  See html.h.
 */
#include "html.h"

#include <string.h>

/* The length of the UTF-8 sequence at P (N bytes left), 0 if it is not
 * one (overlong forms, surrogates and code points past U+10FFFF too). */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	unsigned c = p[0];
	size_t len = c < 0x80		      ? 1
		     : c >= 0xc2 && c <= 0xdf ? 2
		     : c >= 0xe0 && c <= 0xef ? 3
		     : c >= 0xf0 && c <= 0xf4 ? 4
					      : 0;
	if (len == 0 || len > n)
		return 0;
	for (size_t i = 1; i < len; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0) ||
	    (c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] >= 0x90))
		return 0;
	return len;
}

void html_escape(str *out, const char *p, size_t n)
{
	const unsigned char *u = (const unsigned char *)p;
	for (size_t i = 0; i < n;) {
		unsigned char c = u[i];
		size_t l = utf8_len(u + i, n - i);
		if (l == 0 || (c < 0x20 && c != '\t' && c != '\n') || c == 0x7f) {
			str_puts(out, "\xef\xbf\xbd");
			i++;
			continue;
		}
		switch (c) {
		case '&':
			str_puts(out, "&amp;");
			break;
		case '<':
			str_puts(out, "&lt;");
			break;
		case '>':
			str_puts(out, "&gt;");
			break;
		case '"':
			str_puts(out, "&quot;");
			break;
		case '\'':
			str_puts(out, "&#39;");
			break;
		default:
			str_append(out, p + i, l);
		}
		i += l;
	}
}

void html_puts(str *out, const char *s)
{
	html_escape(out, s, strlen(s));
}
