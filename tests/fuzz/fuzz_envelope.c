/*
 * libFuzzer target for lib/mail/envelope.c.
 *
 * Input: two bytes that choose the limits (0 = the default; else a small
 * limit, so that the limit paths are reached with small inputs), then the
 * mail.  Beyond "no crash, no leak, no UB" it checks:
 *   - stored fields tile e->header; each raw range lies inside it, starts
 *     with its name and a colon; ENV_BAD_FIELD iff some field is bad;
 *   - header_off <= body_off <= end_off = length; the body starts at a line
 *     start, after a blank line unless ENV_NO_BLANK_LINE or ENV_TRUNCATED;
 *   - each value is the raw field unfolded (re-derived here independently);
 *   - no value of a field that is not bad holds CR, LF or NUL;
 *   - envelope_parse_fd() on a memfd, with a tiny pread chunk (1..13 bytes,
 *     chosen by the input) and the default one, and a non-zero start
 *     offset, gives the same dump as the memory path.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "mail/envelope.h"
#include "util/mem.h"
#include "util/str.h"

/* The unfolded value, computed from the raw bytes after the colon. */
static void unfold(const char *p, size_t n, str *out)
{
	str_clear(out);
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n')
			continue;
		if (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n')
			continue;
		if (out->len == 0 && (p[i] == ' ' || p[i] == '\t'))
			continue;
		str_putc(out, p[i]);
	}
}

static void check_envelope(const envelope *e, const char *mail, size_t len)
{
	size_t at = 0;
	int bad = 0;
	str v = STR_INIT;

	for (size_t i = 0; i < e->nfields; i++) {
		const hfield *f = &e->fields[i];
		const char *raw = e->header.s + f->off;
		CHECK(f->off == at);
		CHECK(f->off + f->len <= e->header.len);
		CHECK(f->name_len > 0 && f->name_len < f->len);
		size_t c = f->name_len;
		while (c < f->len && (raw[c] == ' ' || raw[c] == '\t'))
			c++;
		CHECK(c < f->len && raw[c] == ':');
		for (size_t k = 0; k < f->name_len; k++)
			CHECK(raw[k] > 0x20 && raw[k] < 0x7f && raw[k] != ':');
		CHECK(raw[f->len - 1] == '\n' ||
		      (i == e->nfields - 1 && (e->flags & ENV_TRUNCATED)));
		unfold(raw + c + 1, f->len - c - 1, &v);
		CHECK(v.len == f->value.len && memcmp(str_c(&v), str_c(&f->value), v.len) == 0);
		if (!f->bad) {
			CHECK(memchr(str_c(&f->value), '\r', f->value.len) == NULL);
			CHECK(memchr(str_c(&f->value), '\n', f->value.len) == NULL);
			CHECK(memchr(str_c(&f->value), 0, f->value.len) == NULL);
		}
		bad |= f->bad;
		at += f->len;
		/* envelope_get(name, k) finds this field, k = earlier namesakes */
		char *name = mem_strndup(raw, f->name_len);
		size_t k = 0;
		for (size_t j = 0; j < i; j++)
			k += envelope_hfield_is(e, &e->fields[j], name) != 0;
		CHECK(envelope_hfield_is(e, f, name));
		CHECK(envelope_get(e, name, k) == f);
		CHECK(envelope_count(e, name) > k);
		free(name);
	}
	CHECK(at == e->header.len);
	CHECK(bad == !!(e->flags & ENV_BAD_FIELD));
	CHECK(e->end_off == (off_t)len);
	CHECK(0 <= e->header_off && e->header_off <= e->body_off && e->body_off <= e->end_off);
	size_t b = (size_t)e->body_off;
	if (e->flags & ENV_TRUNCATED)
		CHECK(b == len && !(e->flags & ENV_NO_BLANK_LINE));
	else if (e->flags & ENV_NO_BLANK_LINE)
		CHECK(b == (size_t)e->header_off || mail[b - 1] == '\n');
	else
		CHECK(b >= 1 && mail[b - 1] == '\n' &&
		      (b == 1 + (size_t)e->header_off || mail[b - 2] == '\n' ||
		       (mail[b - 2] == '\r' &&
			(b == 2 + (size_t)e->header_off || mail[b - 3] == '\n'))));
	CHECK(!!(e->flags & ENV_NO_FINAL_NEWLINE) == (len > 0 && mail[len - 1] != '\n'));
	if (e->has_sender)
		CHECK(e->from_line.len >= 5 && memcmp(e->from_line.s, "From ", 5) == 0);
	str_free(&v);
}

static void check_fd(int fd, off_t start, size_t len, size_t chunk, const envelope_limits *lim,
		     const str *want)
{
	envelope e;
	str got = STR_INIT;

	envelope_init(&e);
	envelope_set_chunk_size(chunk);
	CHECK(envelope_parse_fd(&e, fd, start, start + (off_t)len, lim) == ST_OK);
	e.header_off -= start;
	e.body_off -= start;
	e.end_off -= start;
	envelope_dump(&e, &got);
	if (got.len != want->len || memcmp(got.s, want->s, got.len) != 0) {
		fprintf(stderr, "fd path (start %lld chunk %zu) differs:\n%s\nmemory:\n%s\n",
			(long long)start, chunk, str_c(&got), str_c(want));
		abort();
	}
	str_free(&got);
	envelope_free(&e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	envelope e;
	envelope_limits lim = {0, 0};
	str dump = STR_INIT;

	if (size < 2)
		return 0;
	if (data[0])
		lim.header_bytes = (size_t)data[0] * 4;
	if (data[1])
		lim.fields = data[1] % 32 + 1;
	const char *mail = (const char *)data + 2;
	size_t len = size - 2;

	envelope_init(&e);
	CHECK(envelope_parse_mem(&e, mail, len, &lim) == ST_OK);
	check_envelope(&e, mail, len);
	envelope_dump(&e, &dump);
	/* the same struct parsed twice: no state carried over */
	CHECK(envelope_parse_mem(&e, mail, len, &lim) == ST_OK);
	envelope_free(&e);

	static int fd = -1; /* one memfd for the whole run */
	if (fd < 0)
		fd = memfd_create("fuzz_envelope", MFD_CLOEXEC);
	if (fd >= 0 && ftruncate(fd, 0) == 0) {
		if (pwrite(fd, "XYZ", 3, 0) == 3 &&
		    (len == 0 || pwrite(fd, mail, len, 3) == (ssize_t)len)) {
			/* a tiny chunk chosen by the input: lines split everywhere */
			check_fd(fd, 3, len, 1 + (data[0] ^ data[1] ^ len) % 13, &lim, &dump);
			check_fd(fd, 3, len, 0, &lim, &dump);
		}
	}
	envelope_set_chunk_size(0);
	str_free(&dump);
	return 0;
}
