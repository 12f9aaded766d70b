/*
 * verp: variable envelope return paths.  See verp.h.
 */
#include "verp.h"
#include "addr.h"

#include <string.h>
#include <strings.h>

int verp_decode(const char *bounce, const char *delims, const char *addr, str *rcpt)
{
	const char *at = strrchr(bounce, '@'), *aat = strrchr(addr, '@');
	if (rcpt)
		str_clear(rcpt);
	if (!at || !aat || strcasecmp(at, aat) != 0)
		return -1;
	size_t ll = (size_t)(at - bounce);
	if (strncasecmp(addr, bounce, ll) != 0)
		return -1;
	if (addr + ll == aat)
		return 0;
	if (strlen(delims) < 2 || addr[ll] != delims[0])
		return -1;
	/* the last D1: a domain has none, a local part may */
	const char *enc = addr + ll + 1, *sep = NULL;
	for (const char *p = enc; p < aat; p++)
		if (*p == delims[1])
			sep = p;
	if (rcpt && sep && sep > enc && sep + 1 < aat) {
		str_append(rcpt, enc, (size_t)(sep - enc));
		str_putc(rcpt, '@');
		str_append(rcpt, sep + 1, (size_t)(aat - sep - 1));
		if (addr_check(rcpt->s, rcpt->len) != NULL)
			str_clear(rcpt);
		else
			addr_normalize(rcpt);
	}
	return 1;
}

int verp_encode(const char *bounce, const char *delims, const char *rcpt, str *out)
{
	const char *at = strrchr(bounce, '@'), *rat = strrchr(rcpt, '@');
	str_clear(out);
	if (!at || !rat || rat == rcpt || strlen(delims) < 2 ||
	    (size_t)(at - bounce) + strlen(rcpt) + 1 > 64) {
		str_puts(out, bounce);
		return 0;
	}
	str_append(out, bounce, (size_t)(at - bounce));
	str_putc(out, delims[0]);
	str_append(out, rcpt, (size_t)(rat - rcpt));
	str_putc(out, delims[1]);
	str_puts(out, rat + 1);
	str_puts(out, at);
	return 1;
}
