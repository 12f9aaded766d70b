/*
 * libFuzzer target for lib/mail/mimetext.c: an article (any bytes) shown as
 * readable text for RFC 1153 digests: GMime's parse, the MIME walk with its
 * depth and part limits, transfer decoding, charset conversion.  Beyond
 * "no crash, no leak, no UB" it checks what the digest relies on:
 *   - the text is valid UTF-8;
 *   - it has no control byte but TAB and LF (no CR, no NUL);
 *   - the same input gives the same text twice.
 */
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "mail/mimetext.h"
#include "util/str.h"

static fml_status collect(void *arg, const void *p, size_t n)
{
	str_append(arg, p, n);
	return ST_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	str a = STR_INIT, b = STR_INIT;

	if (size > 1 << 20)
		return 0;
	CHECK(mimetext_mem((const char *)data, size, collect, &a) == ST_OK);
	CHECK(g_utf8_validate(a.s ? a.s : "", (gssize)a.len, NULL));
	for (size_t i = 0; i < a.len; i++)
		CHECK((unsigned char)a.s[i] >= 0x20 || a.s[i] == '\t' || a.s[i] == '\n');
	CHECK(mimetext_mem((const char *)data, size, collect, &b) == ST_OK);
	CHECK(a.len == b.len && (a.len == 0 || memcmp(a.s, b.s, a.len) == 0));
	str_free(&a);
	str_free(&b);
	return 0;
}
