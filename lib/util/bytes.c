/*
 * bytes: helpers on byte ranges.  See bytes.h.
 */
#include "bytes.h"

#include <strings.h>

int bytes_casecmp(const char *a, size_t alen, const char *b, size_t blen)
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

int bytes_hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}
