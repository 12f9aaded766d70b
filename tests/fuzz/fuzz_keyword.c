/*
 * libFuzzer target for lib/actions/keyword.c: the MIME walk to the first text
 * part, its quoted-printable and base64 decoding, and the keyword traps.
 * The input is "CONTENT-TYPE\nCTE\nBODY" (missing lines: NULL).  Beyond
 * "no crash, no leak, no UB" it checks:
 *   - the decoded text is never longer than the body;
 *   - the traps answer 0 or 1, the same in both calls, and a non-text
 *     first part (empty text) has no keyword.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "actions/keyword.h"
#include "list/config.h"
#include "util/str.h"

static config *cf;

/* The next line of *P (up to N bytes) as a C string in OUT; 0 if none. */
static int take_line(const char **p, size_t *n, str *out)
{
	const char *nl = memchr(*p, '\n', *n);
	if (!nl)
		return 0;
	str_set(out, *p, (size_t)(nl - *p));
	*n -= (size_t)(nl - *p) + 1;
	*p = nl + 1;
	return strlen(out->s) == out->len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	size_t n = size;
	str ctype = STR_INIT, cte = STR_INIT, text = STR_INIT;

	if (!cf)
		cf = config_new();
	int has_ct = take_line(&p, &n, &ctype);
	int has_cte = has_ct && take_line(&p, &n, &cte);
	keyword_text_mem(p, n, has_ct ? ctype.s : NULL, has_cte ? cte.s : NULL, cf, &text);
	CHECK(text.len <= n);
	for (int ctl = 0; ctl <= 1; ctl++) {
		keyword_result r1, r2;
		keyword_scan_text(p, n, has_ct ? ctype.s : NULL, cf, ctl, &r1);
		keyword_scan_text(p, n, has_ct ? ctype.s : NULL, cf, ctl, &r2);
		CHECK(r1.guide == r2.guide && r1.command == r2.command);
		CHECK((r1.guide == 0 || r1.guide == 1) && (r1.command == 0 || r1.command == 1));
	}
	if (text.len == 0 && !has_cte) {
		keyword_result r;
		keyword_scan_text(p, n, has_ct ? ctype.s : NULL, cf, 1, &r);
		CHECK(!r.guide && !r.command);
	}
	str_free(&ctype);
	str_free(&cte);
	str_free(&text);
	return 0;
}
