/*
 * Unit tests for lib/mail/addr.c: tables of cases, "got X, want Y".
 */
#include "unit.h"

#include "mail/addr.h"
#include "util/str.h"
#include "util/bytes.h"

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

/* ---- addr_parse_first: WANT NULL means ST_DATAERR */
static const struct first_case {
	const char *in;
	size_t len;
	const char *want;
} first_cases[] = {
    /* plain and display names */
    {S("user@example.com"), "user@example.com"},
    {S("<user@example.com>"), "user@example.com"},
    {S("User Name <user@example.com>"), "user@example.com"},
    {S("\"Name, with comma\" <user@example.com>"), "user@example.com"},
    {S("=?UTF-8?B?5pel5pys?= <user@example.com>"), "user@example.com"},
    {S("\xe6\x97\xa5\xe6\x9c\xac <utf8@example.jp>"), "utf8@example.jp"},
    {S("\x1b$B$3$s\x1b(B <jis@example.jp>"), "jis@example.jp"},
    {S("\x1b$B\"(\x1b(B <jis@example.jp>"), "jis@example.jp"}, /* '"' '(' inside JIS */
    {S("a@b.example, c@d.example"), "a@b.example"},
    {S("  \t user@example.com \t "), "user@example.com"},
    /* comments */
    {S("user@example.com (User Name)"), "user@example.com"},
    {S("(c) user(c)@(c)example(c).com(c)"), "user@example.com"},
    {S("a@example.com (a (b (c)))"), "a@example.com"},
    {S("a@example.com (escaped \\) paren)"), "a@example.com"},
    {S("a@example.com (unterminated"), NULL},
    {S("a@example.com )"), NULL},
    /* quoted strings */
    {S("\"john\"@example.com"), "john@example.com"},
    {S("\"john.doe\"@example.com"), "john.doe@example.com"},
    {S("\"john doe\"@example.com"), "\"john doe\"@example.com"},
    {S("\"a\\\"b\"@example.com"), "\"a\\\"b\"@example.com"},
    {S("\"a\\b\"@example.com"), "ab@example.com"},
    {S("\"unterminated@example.com"), NULL},
    {S("\"a\0b\"@example.com"), NULL}, /* NUL in a mailbox */
    /* groups */
    {S("undisclosed-recipients:;"), NULL},
    {S("undisclosed-recipients:;, a@example.com"), "a@example.com"},
    {S("g: a@example.com, c@example.org;"), "a@example.com"},
    {S("empty: ;, other: b@example.com;"), "b@example.com"},
    {S("g: a@example.com"), "a@example.com"}, /* group left open at the end */
    {S("g: h: a@example.com;;"), NULL},	      /* nested group */
    {S(": a@example.com;"), NULL},	      /* group without a name */
    {S("a@example.com;"), NULL},	      /* ';' outside a group */
    /* routes */
    {S("<@a.example,@b.example:x@y.example>"), "x@y.example"},
    {S("Name <@relay.example:user@example.com>"), "user@example.com"},
    {S("<@a.example x@y.example>"), NULL},
    {S("<@:x@y.example>"), NULL},
    /* obsolete and tolerated */
    {S("a . b @ example . com"), "a.b@example.com"},
    {S("John Q. Public <jqp@example.com>"), "jqp@example.com"},
    {S("user@example.com <user@example.com>"), "user@example.com"},
    {S(",, a@example.com ,"), "a@example.com"},
    {S("a..b@docomo.ne.jp"), "a..b@docomo.ne.jp"},
    {S("MAILER-DAEMON"), "MAILER-DAEMON"},
    {S("<>"), NULL},
    {S("<>, a@example.com"), "a@example.com"},
    {S("a@[192.0.2.1]"), "a@[192.0.2.1]"},
    /* garbage */
    {S(""), NULL},
    {S("   "), NULL},
    {S("garbage with spaces"), NULL},
    {S("a@b@c"), NULL},
    {S("<a@example.com"), NULL},
    {S("a@example.com>"), NULL},
    {S("Name <a@example.com> trailing"), NULL},
    {S("a@"), NULL},
    {S("@example.com"), NULL},
    {S("<<a@example.com>>"), NULL},
    {S("a@\"q\".com"), NULL},
    {S("a@b.example\r\nBcc: c@evil.example"), NULL},
    {S("a@b.example;reboot"), NULL},
};

static void test_parse_first(void **state)
{
	str out = STR_INIT;

	failures = 0;
	for (size_t i = 0; i < N_ELEMS(first_cases); i++) {
		const struct first_case *c = &first_cases[i];
		fml_status st = addr_parse_first(c->in, c->len, &out);
		if (!c->want)
			CHECK(st == ST_DATAERR, "parse_first case %zu: got %d <%s>, want error\n",
			      i, st, str_c(&out));
		else
			CHECK(st == ST_OK && strcmp(str_c(&out), c->want) == 0,
			      "parse_first case %zu: got %d <%s>, want <%s>\n", i, st, str_c(&out),
			      c->want);
	}
	str_free(&out);
	assert_int_equal(failures, 0);
}

/* ---- limits: nesting 32 ok, 33 refused; 10,240 tokens ok, more refused */
static void test_limits(void **state)
{
	str in = STR_INIT, out = STR_INIT;

	for (int depth = 32; depth <= 33; depth++) {
		str_clear(&in);
		for (int i = 0; i < depth; i++)
			str_putc(&in, '(');
		for (int i = 0; i < depth; i++)
			str_putc(&in, ')');
		str_puts(&in, " a@example.com");
		fml_status st = addr_parse_first(in.s, in.len, &out);
		if (depth == 32)
			assert_int_equal(st, ST_OK);
		else
			assert_int_equal(st, ST_DATAERR);
	}
	/* "a@b," is 4 tokens: 2560 of them are 10,240 tokens */
	for (int n = 2560; n <= 2561; n++) {
		str_clear(&in);
		for (int i = 0; i < n; i++)
			str_puts(&in, "a@b,");
		str_clear(&out);
		int cnt = addr_parse_list(in.s, in.len, &out);
		if (n == 2560)
			assert_int_equal(cnt, 2560);
		else
			assert_int_equal(cnt, -1);
	}
	/* an unbalanced million '(' stays linear and is refused */
	str_clear(&in);
	for (int i = 0; i < 1000000; i++)
		str_putc(&in, '(');
	assert_int_equal(addr_parse_first(in.s, in.len, &out), ST_DATAERR);
	str_free(&in);
	str_free(&out);
}

/* ---- addr_parse_list */
static void test_parse_list(void **state)
{
	str out = STR_INIT;
	const char *v = "Mary <m@x.example>, g: a@y.example, b@z.example;, (c) c@w.example";

	assert_int_equal(addr_parse_list(v, strlen(v), &out), 4);
	assert_int_equal(out.len, sizeof("m@x.example\0a@y.example\0b@z.example\0c@w.example"));
	assert_memory_equal(out.s, "m@x.example\0a@y.example\0b@z.example\0c@w.example", out.len);
	/* appends; a malformed list appends nothing */
	assert_int_equal(addr_parse_list("x@v.example", 11, &out), 1);
	size_t len = out.len;
	assert_int_equal(addr_parse_list("x@v.example, <", 14, &out), -1);
	assert_int_equal(out.len, len);
	str_free(&out);
}

/* ---- addr_parse_path: WANT NULL means error */
static const struct path_case {
	const char *in;
	const char *want;
} path_cases[] = {
    {"<user@example.com>", "user@example.com"},
    {"user@example.com", "user@example.com"},
    {"<>", ""},
    {" <> ", ""},
    {"<@a.example,@b.example:x@y.example>", "x@y.example"},
    {"MAILER-DAEMON", "MAILER-DAEMON"},
    {"<a@b.example", NULL},
    {"", NULL},
    {"<@a.example:>", NULL},
    {"a@b.example c@d.example", NULL},
};

static void test_parse_path(void **state)
{
	str out = STR_INIT;

	failures = 0;
	for (size_t i = 0; i < N_ELEMS(path_cases); i++) {
		const struct path_case *c = &path_cases[i];
		fml_status st = addr_parse_path(c->in, strlen(c->in), &out);
		if (!c->want)
			CHECK(st == ST_DATAERR,
			      "parse_path case %zu <%s>: got %d <%s>, want error\n", i, c->in, st,
			      str_c(&out));
		else
			CHECK(st == ST_OK && strcmp(str_c(&out), c->want) == 0,
			      "parse_path case %zu <%s>: got %d <%s>, want <%s>\n", i, c->in, st,
			      str_c(&out), c->want);
	}
	str_free(&out);
	assert_int_equal(failures, 0);
}

/* ---- addr_check: WANT_OK 1 = passes the policy */
static const struct check_case {
	const char *in;
	size_t len;
	int want_ok;
} check_cases[] = {
    {S("user@example.com"), 1},
    {S("first.last+tag=x%y_z-w@sub.example.co.jp"), 1},
    {S("a@xn--bcher-kva.example"), 1},
    {S("a@1.2.3.4"), 1}, /* LDH labels: not a literal */
    {S("UPPER@EXAMPLE.COM"), 1},
    /* the hostile catalogue */
    {S("\"|/bin/sh\"@x.example"), 0},
    {S("|/bin/sh@x.example"), 0},
    {S("`id`@x.example"), 0},
    {S("$(id)@x.example"), 0},
    {S("a@b;reboot"), 0},
    {S("a@b.example;reboot"), 0},
    {S("-oQ/tmp@x.example"), 0},
    {S("-f@x.example"), 0},
    {S("a@b\r\nBcc: c"), 0},
    {S("a@b.example\r\nBcc: c@evil.example"), 0},
    {S("a\0b@x.example"), 0},
    {S("a@x.example\0"), 0},
    {S("a b@x.example"), 0},
    {S("a\tb@x.example"), 0},
    {S("a\x7f@x.example"), 0},
    {S("\xe6\x97\xa5@x.example"), 0},
    {S("a..b@x.example"), 0},
    {S(".a@x.example"), 0},
    {S("a.@x.example"), 0},
    {S("a@-x.com"), 0},
    {S("a@x-.com"), 0},
    {S("a@x"), 0},
    {S("a@x."), 0},
    {S("a@.x.com"), 0},
    {S("a@x..com"), 0},
    {S("a@[1.2.3.4]"), 0},
    {S("a@ex_ample.com"), 0},
    {S("\"q\"@x.example"), 0},
    {S("a@b@x.example"), 0},
    {S("a"), 0},
    {S("@x.example"), 0},
    {S("a@"), 0},
    {S(""), 0},
};

static void test_check(void **state)
{
	failures = 0;
	for (size_t i = 0; i < N_ELEMS(check_cases); i++) {
		const struct check_case *c = &check_cases[i];
		const char *why = addr_check(c->in, c->len);
		CHECK((why == NULL) == c->want_ok, "check case %zu: got %s, want %s\n", i,
		      why ? why : "ok", c->want_ok ? "ok" : "refused");
	}
	assert_int_equal(failures, 0);
}

/* lengths: local 64, label 63, domain 253, total 254 */
static void test_check_lengths(void **state)
{
	char buf[400];
	size_t n;

	memset(buf, 'a', 64);
	memcpy(buf + 64, "@x.example", 10);
	assert_null(addr_check(buf, 74));
	memset(buf, 'a', 65);
	memcpy(buf + 65, "@x.example", 10);
	assert_string_equal(addr_check(buf, 75), "local part too long");

	memcpy(buf, "a@", 2);
	memset(buf + 2, 'l', 63);
	memcpy(buf + 65, ".com", 4);
	assert_null(addr_check(buf, 69));
	memset(buf + 2, 'l', 64);
	memcpy(buf + 66, ".com", 4);
	assert_string_equal(addr_check(buf, 70), "domain label too long");

	/* 300 bytes */
	memset(buf, 'u', 150);
	buf[150] = '@';
	memset(buf + 151, 'e', 145);
	memcpy(buf + 296, ".com", 4);
	assert_string_equal(addr_check(buf, 300), "address too long");

	/* 254 in total passes: "a@" + 3 x (63 + '.') + 60 = 254 */
	n = 0;
	buf[n++] = 'a';
	buf[n++] = '@';
	for (int l = 0; l < 3; l++) {
		memset(buf + n, 'd', 63);
		n += 63;
		buf[n++] = '.';
	}
	memset(buf + n, 'e', 60);
	n += 60;
	assert_int_equal(n, 254);
	assert_null(addr_check(buf, n));
	buf[n++] = 'x';
	assert_string_equal(addr_check(buf, n), "address too long");
}

/* ---- addr_equal / addr_match */
static const struct eq_case {
	const char *a, *b;
	int n;
	int want;
} eq_cases[] = {
    {"u@example.com", "u@example.com", 0, 1},
    {"u@example.com", "u@EXAMPLE.com", 0, 1},
    {"u@example.com", "U@example.com", 0, 0},
    {"u@example.com", "v@example.com", 0, 0},
    {"u@a.example.com", "u@example.com", 0, 0},
    {"noat", "noat", 0, 1},
    {"noat", "noat@x", 0, 0},
    {"u@a.example.co.jp", "u@b.example.co.jp", 3, 1},
    {"u@a.example.co.jp", "u@b.example.co.jp", 4, 0},
    {"u@mail.example.com", "u@example.com", 3, 0},
    {"u@mail.example.com", "u@example.com", 2, 1},
    {"U@Example.COM", "u@example.com", 3, 1},
    {"u@x.example.co.jp", "v@x.example.co.jp", 3, 0},
    {"u@a.b.c.d", "u@z.b.c.d", 3, 1},
    {"u@example.com.", "u@example.com", 3, 0},
    {"u@x..com", "u@y..com", 2, 1}, /* an empty label counts, as in members' key */
    {"u@x..com", "u@y..com", 3, 0},
    {"u@a.example.com.", "u@b.example.com.", 3, 1},
    {"u@example.com", "u@example.com", -1, 1},
    {"U@example.com", "u@example.com", -1, 0},
};

static void test_match(void **state)
{
	failures = 0;
	for (size_t i = 0; i < N_ELEMS(eq_cases); i++) {
		const struct eq_case *c = &eq_cases[i];
		int got = c->n ? addr_match(c->a, c->b, c->n) : addr_equal(c->a, c->b);
		CHECK(got == c->want, "match case %zu %s %s n=%d: got %d, want %d\n", i, c->a, c->b,
		      c->n, got, c->want);
		got = c->n ? addr_match(c->b, c->a, c->n) : addr_equal(c->b, c->a);
		CHECK(got == c->want, "match case %zu (swapped): got %d, want %d\n", i, got,
		      c->want);
	}
	assert_int_equal(failures, 0);
}

static void test_normalize_domain(void **state)
{
	str a = STR_INIT;

	str_sets(&a, "Mixed.Case@Example.COM");
	addr_normalize(&a);
	assert_string_equal(a.s, "Mixed.Case@example.com");
	str_sets(&a, "NoAt");
	addr_normalize(&a);
	assert_string_equal(a.s, "NoAt");
	assert_string_equal(addr_domain("a@b@Example.org"), "Example.org");
	assert_string_equal(addr_domain("none"), "");
	str_free(&a);
}

/* ---- addr_is_daemon */
static const struct daemon_case {
	const char *in;
	int want;
} daemon_cases[] = {
    {"", 1},
    {"MAILER-DAEMON", 1},
    {"mailer-daemon@example.com", 1},
    {"Mailer-Daemon@example.com", 1},
    {"postmaster@example.com", 1},
    {"root@example.com", 1},
    {"nobody@example.com", 1},
    {"news@example.com", 1},
    {"majordomo@example.com", 1},
    {"listserv@example.com", 1},
    {"LISTPROC@example.com", 1},
    {"elena-request@example.com", 1},
    {"owner-elena@example.com", 1},
    {"elena-owner@example.com", 1},
    {"elena-bounces@example.com", 1},
    {"elena-bounces+u=x.example@example.com", 1},
    {"noreply@example.com", 1},
    {"No-Reply@example.com", 1},
    {"do-not-reply@example.com", 1},
    {"@example.com", 1},
    {"user@example.com", 0},
    {"rooter@example.com", 0},
    {"requester@example.com", 0},
    {"owner@example.com", 0},
    {"postmaster-fan@example.com", 0},
    {"user@mailer-daemon.example.com", 0},
    {"noreplyx@example.com", 0},
};

static void test_is_daemon(void **state)
{
	failures = 0;
	for (size_t i = 0; i < N_ELEMS(daemon_cases); i++) {
		const struct daemon_case *c = &daemon_cases[i];
		int got = addr_is_daemon(c->in);
		CHECK(got == c->want, "is_daemon case %zu <%s>: got %d, want %d\n", i, c->in, got,
		      c->want);
	}
	assert_int_equal(failures, 0);
}

/* Whatever parse_first returns and addr_check passes is safe to write. */
static void test_parsed_then_checked(void **state)
{
	str out = STR_INIT;

	for (size_t i = 0; i < N_ELEMS(first_cases); i++) {
		const struct first_case *c = &first_cases[i];
		if (addr_parse_first(c->in, c->len, &out) != ST_OK ||
		    addr_check(out.s, out.len) != NULL)
			continue;
		assert_int_equal(memchr(out.s, '@', out.len) != NULL, 1);
		assert_int_equal(bytes_has_ctl(out.s, out.len), 0);
		assert_null(strpbrk(out.s, " \"\\;|`$<>()"));
	}
	str_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_first), cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_parse_list),	cmocka_unit_test(test_parse_path),
	    cmocka_unit_test(test_check),	cmocka_unit_test(test_check_lengths),
	    cmocka_unit_test(test_match),	cmocka_unit_test(test_normalize_domain),
	    cmocka_unit_test(test_is_daemon),	cmocka_unit_test(test_parsed_then_checked),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
