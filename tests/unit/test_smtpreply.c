/*
 * Unit tests for lib/mail/smtpreply.c: tables of cases, "got X, want Y".  The
 * parser on whole buffers, on every split of a multi-line reply, on
 * limits and garbage; the reader over a socketpair (replies split across
 * reads, several replies in one read, EOF mid-line, timeout).
 */
#include "unit.h"

#include <sys/socket.h>
#include <unistd.h>

#include "mail/smtpreply.h"
#include "util/str.h"

/* Lengths are explicit so that cases can hold NUL bytes. */
#define S(lit) lit, sizeof(lit) - 1

static int failures;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			print_error(__VA_ARGS__);                                                  \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

/* ---- smtpreply_parse on a whole buffer */
static const struct parse_case {
	const char *in;
	size_t len;
	int ret;	  /* 1 complete, 0 need more, -1 malformed */
	int code;	  /* when complete */
	const char *text; /* when complete */
	size_t consumed;  /* when complete */
} parse_cases[] = {
    /* single lines */
    {S("250 ok\r\n"), 1, 250, "ok", 8},
    {S("250 2.1.0 Ok\r\n"), 1, 250, "2.1.0 Ok", 14},
    {S("220 smtp.example ESMTP Postfix\r\n"), 1, 220, "smtp.example ESMTP Postfix", 32},
    {S("250\r\n"), 1, 250, "", 5},
    {S("250 \r\n"), 1, 250, "", 6},
    {S("250 lf only\n"), 1, 250, "lf only", 12},
    {S("554 5.7.1 no\r\n250 next\r\n"), 1, 554, "5.7.1 no", 14}, /* only the first */
    {S("599 top\r\n"), 1, 599, "top", 9},
    /* multi-line: the text is the last line's */
    {S("250-smtp.example\r\n250-PIPELINING\r\n250 8BITMIME\r\n"), 1, 250, "8BITMIME", 48},
    {S("250-a\r\n250-\r\n250 z\r\n"), 1, 250, "z", 20},
    {S("421-4.3.2 going\n421 down\n"), 1, 421, "down", 25},
    /* incomplete */
    {S(""), 0, 0, NULL, 0},
    {S("2"), 0, 0, NULL, 0},
    {S("250"), 0, 0, NULL, 0},
    {S("250 ok"), 0, 0, NULL, 0},
    {S("250 ok\r"), 0, 0, NULL, 0},
    {S("250-first\r\n"), 0, 0, NULL, 0},
    {S("250-first\r\n250"), 0, 0, NULL, 0},
    /* control bytes and 8-bit in the text are replaced */
    {S("250 a\tb\r\n"), 1, 250, "a?b", 9},
    {S("250 cr\ronly\r\n"), 1, 250, "cr?only", 13},
    {S("250 \x1b[31mred\xff\r\n"), 1, 250, "?[31mred?", 15},
    /* malformed */
    {S("25x ok\r\n"), -1, 0, NULL, 0},
    {S("x"), -1, 0, NULL, 0},
    {S("2 5"), -1, 0, NULL, 0},
    {S("ok\r\n"), -1, 0, NULL, 0},
    {S("\r\n"), -1, 0, NULL, 0},
    {S("25\r\n"), -1, 0, NULL, 0},
    {S("150 one\r\n"), -1, 0, NULL, 0},
    {S("650 six\r\n"), -1, 0, NULL, 0},
    {S("250_ok\r\n"), -1, 0, NULL, 0},
    {S("2500 ok\r\n"), -1, 0, NULL, 0},
    {S("250-a\r\n251 b\r\n"), -1, 0, NULL, 0}, /* mismatched codes */
    {S("250-a\r\n550 b\r\n"), -1, 0, NULL, 0},
    {S("250-a\r\nxyz\r\n"), -1, 0, NULL, 0},
    {S("250 a\0b\r\n"), -1, 0, NULL, 0}, /* NUL */
    {S("250 a\0"), -1, 0, NULL, 0},	 /* NUL, before the line is complete */
    {S("\0"), -1, 0, NULL, 0},
    {S("250\r\r\n"), -1, 0, NULL, 0},
};

static void test_parse_table(void **state)
{
	str text = STR_INIT;

	failures = 0;
	for (size_t i = 0; i < N_ELEMS(parse_cases); i++) {
		const struct parse_case *c = &parse_cases[i];
		int code = 0;
		size_t used = 99;
		str_sets(&text, "untouched");
		/* an exact-size copy: reading past LEN is caught by ASan builds */
		char *buf = malloc(c->len ? c->len : 1);
		memcpy(buf, c->in, c->len);
		int ret = smtpreply_parse(buf, c->len, &code, &text, &used);
		free(buf);
		CHECK(ret == c->ret, "case %zu: got %d, want %d\n", i, ret, c->ret);
		if (ret == 1 && c->ret == 1) {
			CHECK(code == c->code, "case %zu: code %d, want %d\n", i, code, c->code);
			CHECK(strcmp(str_c(&text), c->text) == 0,
			      "case %zu: text <%s>, want <%s>\n", i, str_c(&text), c->text);
			CHECK(used == c->consumed, "case %zu: consumed %zu, want %zu\n", i, used,
			      c->consumed);
		} else {
			CHECK(used == 0, "case %zu: consumed %zu, want 0\n", i, used);
		}
	}
	str_free(&text);
	assert_int_equal(failures, 0);
}

/* ---- every prefix of a complete reply needs more; the whole parses */
static void test_every_split(void **state)
{
	static const char ehlo[] = "250-smtp.example Hello\r\n250-PIPELINING\r\n"
				   "250-SIZE 10240000\r\n250-8BITMIME\r\n250 DSN\r\n";
	str text = STR_INIT;
	size_t len = sizeof ehlo - 1, used;
	int code;

	failures = 0;
	for (size_t cut = 0; cut <= len; cut++) {
		char *buf = malloc(cut ? cut : 1);
		memcpy(buf, ehlo, cut);
		int ret = smtpreply_parse(buf, cut, &code, &text, &used);
		free(buf);
		if (cut < len)
			CHECK(ret == 0, "prefix %zu: got %d, want 0\n", cut, ret);
		else
			CHECK(ret == 1 && code == 250 && used == len &&
				  strcmp(str_c(&text), "DSN") == 0,
			      "whole: got %d %d %zu <%s>\n", ret, code, used, str_c(&text));
	}
	str_free(&text);
	assert_int_equal(failures, 0);
}

/* ---- limits: a line of SMTPREPLY_LINE_MAX bytes with its LF is fine,
 * one more byte is not, with or without the LF in the buffer */
static void test_long_lines(void **state)
{
	str in = STR_INIT, text = STR_INIT;
	size_t used;
	int code;
	static const struct {
		size_t total; /* line length including CRLF */
		int crlf;     /* the line end is in the buffer */
		int want;
	} cases[] = {
	    {600, 1, 1},
	    {SMTPREPLY_LINE_MAX, 1, 1},
	    {SMTPREPLY_LINE_MAX + 1, 1, -1},
	    {SMTPREPLY_LINE_MAX + 2, 0, -1}, /* 4096 bytes, no LF among them */
	    {SMTPREPLY_LINE_MAX, 0, 0},	     /* 4094 bytes, no line end yet */
	    {100000, 1, -1},
	};

	failures = 0;
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		str_sets(&in, "250 ");
		while (in.len < cases[i].total - 2)
			str_putc(&in, 'x');
		if (cases[i].crlf)
			str_puts(&in, "\r\n");
		int ret = smtpreply_parse(in.s, in.len, &code, &text, &used);
		CHECK(ret == cases[i].want, "long case %zu: got %d, want %d\n", i, ret,
		      cases[i].want);
		if (ret == 1)
			CHECK(text.len == cases[i].total - 6 && used == in.len,
			      "long case %zu: text %zu used %zu\n", i, text.len, used);
	}
	/* many lines: a reply over SMTPREPLY_MAX is refused */
	str_clear(&in);
	while (in.len < SMTPREPLY_MAX + 100)
		str_puts(&in, "250-0123456789012345678901234567890123456789\r\n");
	str_puts(&in, "250 end\r\n");
	CHECK(smtpreply_parse(in.s, in.len, &code, &text, &used) == -1, "huge reply accepted\n");
	str_free(&in);
	str_free(&text);
	assert_int_equal(failures, 0);
}

/* ---- the reader over a socket: chunks written by the peer, then EOF */
static const struct read_case {
	const char *chunks[4]; /* written one by one */
	int eof;	       /* peer closes after the chunks */
	int want[4];	       /* codes of successive smtpreply_read() calls, -1 = lost */
	const char *last_text; /* text after the last read */
} read_cases[] = {
    {{"220 hi\r\n"}, 0, {220}, "hi"},
    {{"2", "50-a\r\n2", "50 b", "\r\n"}, 0, {250}, "b"},
    {{"250 a\r\n251 b\r\n354 c\r\n"}, 0, {250, 251, 354}, "c"},
    {{"250 a\r\n250 b"}, 1, {250, -1}, "connection closed in the middle of a reply"},
    {{"250 ok"}, 1, {-1}, "connection closed in the middle of a reply"},
    {{""}, 1, {-1}, "connection closed by the server"},
    {{"250-a\r\n252 b\r\n"}, 0, {-1}, "malformed reply"},
    {{"250 a\r\n"}, 0, {250, -1}, "timeout waiting for a reply"},
};

static void test_reader(void **state)
{
	static smtpreply_reader rd;
	str text = STR_INIT;

	failures = 0;
	for (size_t i = 0; i < N_ELEMS(read_cases); i++) {
		const struct read_case *c = &read_cases[i];
		int sv[2];
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
		for (int k = 0; k < 4 && c->chunks[k]; k++)
			assert_true(write(sv[1], c->chunks[k], strlen(c->chunks[k])) >= 0);
		if (c->eof)
			close(sv[1]);
		smtpreply_init(&rd, sv[0]);
		for (int k = 0; k < 4 && c->want[k]; k++) {
			int got = smtpreply_read(&rd, 1, &text);
			CHECK(got == c->want[k], "read case %zu/%d: got %d, want %d (%s)\n", i, k,
			      got, c->want[k], str_c(&text));
			if (got < 0)
				break;
		}
		CHECK(strcmp(str_c(&text), c->last_text) == 0,
		      "read case %zu: text <%s>, want <%s>\n", i, str_c(&text), c->last_text);
		close(sv[0]);
		if (!c->eof)
			close(sv[1]);
	}
	str_free(&text);
	assert_int_equal(failures, 0);
}

/* ---- the raw bytes of the last reply, for EHLO keywords */
static void test_reader_raw(void **state)
{
	static smtpreply_reader rd;
	static const char in[] = "250-x\r\n250 SIZE 10\r\n220 next\r\n";
	str text = STR_INIT;
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_true(write(sv[1], in, sizeof in - 1) == (ssize_t)(sizeof in - 1));
	smtpreply_init(&rd, sv[0]);
	assert_int_equal(smtpreply_read(&rd, 1, &text), 250);
	assert_int_equal(rd.rawlen, 20);
	assert_memory_equal(rd.raw, in, 20);
	assert_int_equal(smtpreply_read(&rd, 1, &text), 220);
	assert_string_equal(str_c(&text), "next");
	close(sv[0]);
	close(sv[1]);
	str_free(&text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_table), cmocka_unit_test(test_every_split),
	    cmocka_unit_test(test_long_lines),	cmocka_unit_test(test_reader),
	    cmocka_unit_test(test_reader_raw),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
