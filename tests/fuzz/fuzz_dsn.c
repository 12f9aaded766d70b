/*
 * libFuzzer target for lib/mail/dsn.c: a bounce (any bytes) read for the
 * addresses that failed: GMime's parse, the MIME walk and its limits, the
 * delivery-status fields, the text recognizers.  Beyond "no crash, no
 * leak, no UB" it checks what the bounce handling relies on:
 *   - at most DSN_MAX_RESULTS results, each address once;
 *   - every address (and Original-Recipient) passes addr_check();
 *   - the status is CLASS.SUBJECT.DETAIL, class 4 or 5, and the kind one of
 *     the three;
 *   - the diagnostic is one printable line of at most DSN_DIAG_MAX bytes;
 *   - the same input gives the same results twice.
 */
#include <string.h>

#include "fuzz.h"
#include "mail/addr.h"
#include "mail/dsn.h"

static int status_ok(const char *s)
{
	if ((s[0] != '4' && s[0] != '5') || s[1] != '.')
		return 0;
	int dots = 0, digits = 0;
	for (const char *p = s + 2; *p; p++) {
		if (*p == '.') {
			if (!digits || ++dots > 1)
				return 0;
			digits = 0;
		} else if (*p >= '0' && *p <= '9') {
			if (++digits > 3)
				return 0;
		} else {
			return 0;
		}
	}
	return dots == 1 && digits > 0;
}

static void check(const dsn_report *r)
{
	CHECK(r->n <= DSN_MAX_RESULTS);
	for (size_t i = 0; i < r->n; i++) {
		const dsn_result *x = &r->r[i];
		CHECK(x->addr.len > 0 && addr_check(x->addr.s, x->addr.len) == NULL);
		CHECK(x->orig.len == 0 || addr_check(x->orig.s, x->orig.len) == NULL);
		CHECK(status_ok(x->status));
		CHECK(x->kind == DSN_HARD || x->kind == DSN_SOFT || x->kind == DSN_DELAY);
		CHECK(x->how && *x->how);
		CHECK(x->diag.len <= DSN_DIAG_MAX);
		for (size_t k = 0; k < x->diag.len; k++)
			CHECK((unsigned char)x->diag.s[k] >= 0x20 && x->diag.s[k] != 0x7f);
		for (size_t j = 0; j < i; j++)
			CHECK(!addr_equal(str_c(&r->r[j].addr), str_c(&x->addr)));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	dsn_report a, b;
	if (size > 1 << 20)
		return 0;
	dsn_init(&a);
	dsn_init(&b);
	CHECK(dsn_parse((const char *)data, size, &a) == ST_OK);
	check(&a);
	CHECK(dsn_parse((const char *)data, size, &b) == ST_OK);
	CHECK(a.n == b.n && a.report == b.report);
	for (size_t i = 0; i < a.n; i++)
		CHECK(strcmp(str_c(&a.r[i].addr), str_c(&b.r[i].addr)) == 0 &&
		      strcmp(a.r[i].status, b.r[i].status) == 0 && a.r[i].kind == b.r[i].kind &&
		      a.r[i].policy == b.r[i].policy);
	dsn_free(&a);
	dsn_free(&b);
	return 0;
}
