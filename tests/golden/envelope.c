/*
 * Golden driver for lib/mail/envelope.c: read one mail on stdin, parse it with
 * envelope_parse_mem() and print envelope_dump() on stdout.
 *
 * Limits come from the environment (a <case>.env file, see run.sh):
 *   ENVELOPE_HEADER_LIMIT  header bytes (default: the library's 100 KiB)
 *   ENVELOPE_FIELD_LIMIT   field count (default: the library's 1000)
 *
 * Then the fd path is checked against the memory path: the mail is written
 * to a temp file in $TMPDIR between junk bytes, and envelope_parse_fd() is
 * run on the whole file (start 0, end -1) and on the embedded copy (start 7,
 * end 7 + len) with pread chunks of 1, 2, 3, 5, 4096 bytes and the default;
 * every dump (offsets shifted back) must equal the memory one.  A mismatch
 * is printed (so the .ref comparison fails) and the exit status is 1.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mail/envelope.h"
#include "util/mem.h"
#include "util/str.h"

#define JUNK_HEAD "JUNK\n\n\n" /* 7 bytes before the mail */
#define JUNK_TAIL "\nTAIL"

static size_t env_size(const char *name)
{
	const char *v = getenv(name);
	return v ? (size_t)strtoul(v, NULL, 10) : 0;
}

static void read_all(str *in)
{
	char buf[65536];
	size_t n;

	while ((n = fread(buf, 1, sizeof buf, stdin)) > 0)
		str_append(in, buf, n);
	if (ferror(stdin)) {
		perror("stdin");
		exit(2);
	}
}

static int write_all(int fd, const void *p, size_t n)
{
	const char *s = p;
	while (n > 0) {
		ssize_t r = write(fd, s, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		s += r;
		n -= (size_t)r;
	}
	return 0;
}

static int temp_file(const char *dir, const str *in, int framed)
{
	char path[4096];
	if (snprintf(path, sizeof path, "%s/envelope.XXXXXX", dir) >= (int)sizeof path) {
		fprintf(stderr, "TMPDIR too long\n");
		exit(2);
	}
	int fd = mkstemp(path);
	if (fd < 0) {
		perror(path);
		exit(2);
	}
	unlink(path);
	if ((framed && write_all(fd, JUNK_HEAD, strlen(JUNK_HEAD)) < 0) ||
	    write_all(fd, str_c(in), in->len) < 0 ||
	    (framed && write_all(fd, JUNK_TAIL, strlen(JUNK_TAIL)) < 0)) {
		perror("write");
		exit(2);
	}
	return fd;
}

/* Stored fields tile e->header exactly, each within it, names non-empty;
 * offsets are ordered; ENV_BAD_FIELD iff some field is bad. */
static int invariants(const envelope *e)
{
	size_t at = 0;
	int bad = 0;

	for (size_t i = 0; i < e->nfields; i++) {
		const hfield *f = &e->fields[i];
		if (f->off != at || f->len == 0 || f->name_len == 0 || f->name_len >= f->len ||
		    f->off + f->len > e->header.len || f->value.len > f->len)
			return 0;
		at += f->len;
		bad |= f->bad;
		/* envelope_get(name, k) finds this field, k = earlier namesakes */
		char *name = mem_strndup(e->header.s + f->off, f->name_len);
		size_t k = 0;
		for (size_t j = 0; j < i; j++)
			k += envelope_hfield_is(e, &e->fields[j], name) != 0;
		int found = envelope_get(e, name, k) == f && envelope_count(e, name) > k;
		free(name);
		if (!found)
			return 0;
	}
	return at == e->header.len && bad == !!(e->flags & ENV_BAD_FIELD) &&
	       e->header_off <= e->body_off && e->body_off <= e->end_off;
}

/* Parse FD and compare with the memory dump WANT. */
static int check_fd(int fd, off_t start, off_t end, size_t chunk, const envelope_limits *lim,
		    const str *want)
{
	envelope e;
	str got = STR_INIT;
	int ok;

	envelope_init(&e);
	envelope_set_chunk_size(chunk);
	if (envelope_parse_fd(&e, fd, start, end, lim) != ST_OK) {
		printf("fd path: parse failed (start %lld chunk %zu)\n", (long long)start, chunk);
		envelope_free(&e);
		return 0;
	}
	e.header_off -= start;
	e.body_off -= start;
	e.end_off -= start;
	envelope_dump(&e, &got);
	ok = got.len == want->len && memcmp(got.s, want->s, got.len) == 0;
	if (!ok)
		printf("fd path MISMATCH (start %lld chunk %zu):\n%s", (long long)start, chunk,
		       str_c(&got));
	str_free(&got);
	envelope_free(&e);
	return ok;
}

int main(void)
{
	static const size_t chunks[] = {1, 2, 3, 5, 4096, 0};
	envelope_limits lim = {env_size("ENVELOPE_HEADER_LIMIT"), env_size("ENVELOPE_FIELD_LIMIT")};
	const char *dir = getenv("TMPDIR");
	str in = STR_INIT, out = STR_INIT;
	envelope e;
	int ok = 1;

	read_all(&in);
	envelope_init(&e);
	envelope_parse_mem(&e, str_c(&in), in.len, &lim);
	envelope_dump(&e, &out);
	fwrite(str_c(&out), 1, out.len, stdout);
	if (!invariants(&e)) {
		printf("INVARIANT BROKEN: fields do not tile the header, or offsets disordered\n");
		ok = 0;
	}

	if (!dir || !*dir)
		dir = ".";
	int plain = temp_file(dir, &in, 0), framed = temp_file(dir, &in, 1);
	for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
		ok &= check_fd(plain, 0, -1, chunks[i], &lim, &out);
		ok &= check_fd(framed, (off_t)strlen(JUNK_HEAD),
			       (off_t)(strlen(JUNK_HEAD) + in.len), chunks[i], &lim, &out);
	}
	close(plain);
	close(framed);
	envelope_free(&e);
	str_free(&in);
	str_free(&out);
	return ok ? 0 : 1;
}
