/*
 * libFuzzer target for lib/mail/smtpreply.c: the input is what a server sends.
 * Beyond "no crash, no out-of-bounds read, no UB" it checks:
 *   - a complete reply has a code 200..599, 0 < consumed <= len, and a
 *     text of printable ASCII no longer than a line;
 *   - reading the bytes in chunks (sizes taken from the input itself, as
 *     a reader appending each read() to its buffer would) gives the same
 *     sequence of replies and the same end (need more / malformed) as
 *     parsing them all at once;
 *   - a prefix of a complete reply is never malformed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "mail/smtpreply.h"
#include "util/str.h"

#define MAX_REPLIES 64

typedef struct reply {
	int code;
	size_t consumed;
	str text;
} reply;

/* Parse every reply of BUF[0, LEN) in turn, as if it had all arrived. */
static int parse_all(const char *buf, size_t len, reply *out, size_t *nout)
{
	size_t off = 0;
	*nout = 0;
	while (*nout < MAX_REPLIES) {
		/* an exact-size heap copy, so ASan sees any read past the end */
		size_t avail = len - off;
		char *copy = malloc(avail ? avail : 1);
		memcpy(copy, buf + off, avail);
		reply *r = &out[*nout];
		int st = smtpreply_parse(copy, avail, &r->code, &r->text, &r->consumed);
		free(copy);
		if (st <= 0)
			return st;
		CHECK(r->code >= 200 && r->code <= 599);
		CHECK(r->consumed > 0 && r->consumed <= avail);
		CHECK(r->text.len < SMTPREPLY_LINE_MAX);
		for (size_t i = 0; i < r->text.len; i++)
			CHECK(r->text.s[i] >= 0x20 && r->text.s[i] < 0x7f);
		off += r->consumed;
		(*nout)++;
	}
	return 2; /* stopped early */
}

/* The same bytes, arriving in chunks whose sizes come from the input. */
static int parse_chunked(const char *buf, size_t len, reply *out, size_t *nout)
{
	size_t have = 0, off = 0, k = 0;
	*nout = 0;
	for (;;) {
		int code = 0;
		size_t used = 0;
		str text = STR_INIT;
		char *copy = malloc(have - off ? have - off : 1);
		memcpy(copy, buf + off, have - off);
		int st = smtpreply_parse(copy, have - off, &code, &text, &used);
		free(copy);
		if (st > 0) {
			CHECK(*nout < MAX_REPLIES);
			CHECK(code == out[*nout].code && used == out[*nout].consumed);
			CHECK(text.len == out[*nout].text.len &&
			      memcmp(text.s, out[*nout].text.s, text.len) == 0);
			str_free(&text);
			off += used;
			if (++*nout == MAX_REPLIES)
				return 2;
			continue;
		}
		str_free(&text);
		if (st < 0 || have == len)
			return st;
		size_t step = 1 + (unsigned char)buf[k++ % len] % 97;
		have = have + step > len ? len : have + step;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static reply all[MAX_REPLIES];
	const char *buf = (const char *)data;
	size_t n = 0, m = 0;

	for (size_t i = 0; i < MAX_REPLIES; i++)
		str_init(&all[i].text);
	int st = parse_all(buf, size, all, &n);
	int st2 = parse_chunked(buf, size, all, &m);
	CHECK(m == n && st2 == st);
	/* a reply's prefix is never malformed */
	if (n > 0) {
		int code;
		size_t used;
		str text = STR_INIT;
		for (size_t cut = 0; cut < all[0].consumed; cut += 1 + cut / 8) {
			char *copy = malloc(cut ? cut : 1);
			memcpy(copy, buf, cut);
			CHECK(smtpreply_parse(copy, cut, &code, &text, &used) == 0);
			free(copy);
		}
		str_free(&text);
	}
	for (size_t i = 0; i < MAX_REPLIES; i++)
		str_free(&all[i].text);
	return 0;
}
