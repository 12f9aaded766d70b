/*
 * libFuzzer target for lib/addr.c.  The input is one header value (and,
 * as it is, an SMTP path and a bare address for addr_check).  Beyond "no
 * crash, no leak, no UB" it checks:
 *   - every address that passes addr_check() has no byte < 0x21, no 0x7f,
 *     no 8-bit byte, exactly one '@', and is at most ADDR_MAX bytes;
 *   - addr_parse_first() succeeds iff addr_parse_list() finds at least one
 *     mailbox, and returns the list's first one; the list holds COUNT
 *     NUL-terminated entries;
 *   - addr_match() is symmetric, implied by addr_equal(), and true exactly
 *     when the fuzzy index keys of lib/list/membersdb.c are equal;
 *   - a checked address parses back to itself (as a header value, as a
 *     path and inside <>), normalizes to an equal address that still
 *     passes, and matches itself fuzzily.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "mail/addr.h"
#include "util/str.h"

static void check_safe(const char *a, size_t n)
{
	size_t ats = 0;

	CHECK(n > 0 && n <= ADDR_MAX);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)a[i];
		CHECK(c >= 0x21 && c < 0x7f);
		ats += c == '@';
	}
	CHECK(ats == 1);
}

/* The fuzzy index key of lib/list/membersdb.c (make_key): lower(local) '@'
 * lower(last N labels, or the whole domain).  membersdb.c relies on: equal
 * keys exactly when addr_match(a, b, N). */
static void fuzzy_key(const char *a, int n, str *key)
{
	const char *at = strrchr(a, '@'), *end = a + strlen(a), *d = end;
	int labels = 0;

	while (d > at + 1) {
		if (d[-1] == '.' && ++labels == n)
			break;
		d--;
	}
	str_clear(key);
	for (const char *p = a; p < end; p = p == at ? d : p + 1)
		str_putc(key, *p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
}

static void check_key(const char *a, const char *b, int n)
{
	str ka = STR_INIT, kb = STR_INIT;

	if (!strchr(a, '@') || !strchr(b, '@'))
		return;
	fuzzy_key(a, n, &ka);
	fuzzy_key(b, n, &kb);
	int same = ka.len == kb.len && memcmp(str_c(&ka), str_c(&kb), ka.len) == 0;
	if (same != addr_match(a, b, n)) {
		fprintf(stderr, "addr_match(%s, %s, %d) = %d but keys %s / %s\n", a, b, n,
			addr_match(a, b, n), str_c(&ka), str_c(&kb));
		abort();
	}
	str_free(&ka);
	str_free(&kb);
}

/* A parsed address that passes the policy: properties of the round trip. */
static void check_passed(const str *a)
{
	str b = STR_INIT, w = STR_INIT;

	check_safe(a->s, a->len);
	CHECK(addr_parse_first(a->s, a->len, &b) == ST_OK);
	CHECK(b.len == a->len && memcmp(a->s, b.s, a->len) == 0);
	CHECK(addr_parse_path(a->s, a->len, &b) == ST_OK);
	CHECK(b.len == a->len && memcmp(a->s, b.s, a->len) == 0);
	str_putc(&w, '<');
	str_append(&w, a->s, a->len);
	str_putc(&w, '>');
	CHECK(addr_parse_path(w.s, w.len, &b) == ST_OK);
	CHECK(b.len == a->len && memcmp(a->s, b.s, a->len) == 0);
	str_set(&b, a->s, a->len);
	addr_normalize(&b);
	CHECK(addr_check(b.s, b.len) == NULL);
	CHECK(addr_equal(a->s, b.s) && addr_equal(b.s, a->s));
	CHECK(addr_match(a->s, b.s, 3) && addr_match(a->s, a->s, 1));
	CHECK(strcmp(addr_domain(a->s), "") != 0);
	(void)addr_is_daemon(a->s);
	str_free(&b);
	str_free(&w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *v = (const char *)data;
	str first = STR_INIT, list = STR_INIT, path = STR_INIT, c = STR_INIT;

	/* the raw input as a bare address */
	if (addr_check(v, size) == NULL)
		check_safe(v, size);

	fml_status st = addr_parse_first(v, size, &first);
	int n = addr_parse_list(v, size, &list);
	CHECK((st == ST_OK) == (n > 0));
	if (n >= 0) {
		size_t nul = 0;
		for (size_t i = 0; i < list.len; i++)
			nul += list.s[i] == 0;
		CHECK(nul == (size_t)n);
		CHECK(list.len == 0 || list.s[list.len - 1] == 0);
	} else {
		CHECK(list.len == 0);
	}
	if (st == ST_OK) {
		CHECK(first.len > 0 && strlen(first.s) == first.len);
		CHECK(strcmp(first.s, list.s) == 0);
		if (addr_check(first.s, first.len) == NULL)
			check_passed(&first);
	}
	/* every list entry that passes is safe too; the fuzzy match against
	 * the first one is symmetric, implied by equality, monotonic in N >= 1 */
	for (size_t i = 0; n > 0 && i < list.len; i += strlen(list.s + i) + 1) {
		const char *a = list.s, *b = list.s + i;
		str_sets(&c, b);
		if (addr_check(c.s, c.len) == NULL)
			check_passed(&c);
		for (int k = 0; k <= 4; k++) {
			int m = addr_match(a, b, k);
			CHECK(m == addr_match(b, a, k));
			CHECK(!addr_equal(a, b) || m);
			if (k >= 2 && m) /* fewer labels to agree on */
				CHECK(addr_match(a, b, k - 1));
			if (k >= 1)
				check_key(a, b, k);
		}
	}
	if (addr_parse_path(v, size, &path) == ST_OK && path.len &&
	    addr_check(path.s, path.len) == NULL)
		check_passed(&path);

	str_free(&first);
	str_free(&list);
	str_free(&path);
	str_free(&c);
	return 0;
}
