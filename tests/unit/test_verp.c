/* lib/mail/verp.c: envelope senders with the recipient in them, and back. */
#include "unit.h"

#include "mail/verp.h"

static const char *const B = "elena-bounces@example.org";

static void test_encode(void **state)
{
	(void)state;
	str s = STR_INIT;
	assert_int_equal(verp_encode(B, "+=", "alice@example.com", &s), 1);
	assert_string_equal(str_c(&s), "elena-bounces+alice=example.com@example.org");
	assert_int_equal(verp_encode(B, "-#", "a.b+c@x.example", &s), 1);
	assert_string_equal(str_c(&s), "elena-bounces-a.b+c#x.example@example.org");
	/* a local part over 64 bytes would be refused: the plain sender */
	char longer[80];
	snprintf(longer, sizeof longer, "%s@example.com",
		 "abcdefghijabcdefghijabcdefghijabcdefghijab");
	assert_int_equal(verp_encode(B, "+=", longer, &s), 0);
	assert_string_equal(str_c(&s), B);
	assert_int_equal(verp_encode(B, "+", "alice@example.com", &s), 0);
	assert_int_equal(verp_encode(B, "+=", "no-at-sign", &s), 0);
	str_free(&s);
}

static void test_decode(void **state)
{
	(void)state;
	str m = STR_INIT;
	static const struct {
		const char *addr;
		int want;
		const char *member;
	} cases[] = {
	    {"elena-bounces@example.org", 0, ""},
	    {"Elena-Bounces@EXAMPLE.org", 0, ""},
	    {"elena-bounces+alice=example.com@example.org", 1, "alice@example.com"},
	    {"elena-bounces+Alice=Example.COM@example.org", 1, "Alice@example.com"},
	    /* the last '=' splits: a local part may hold one, a domain not */
	    {"elena-bounces+a=b=example.com@example.org", 1, "a=b@example.com"},
	    {"elena-bounces+garbage@example.org", 1, ""},
	    {"elena-bounces+=example.com@example.org", 1, ""},
	    {"elena-bounces+alice=@example.org", 1, ""},
	    {"elena-bouncesX@example.org", -1, ""},
	    {"elena@example.org", -1, ""},
	    {"elena-bounces+alice=example.com@example.net", -1, ""},
	    {"elena-bounces", -1, ""},
	};
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		int got = verp_decode(B, "+=", cases[i].addr, &m);
		if (got != cases[i].want || strcmp(str_c(&m), cases[i].member) != 0)
			fail_msg("%s: got %d <%s>, want %d <%s>", cases[i].addr, got, str_c(&m),
				 cases[i].want, cases[i].member);
	}
	assert_int_equal(verp_decode(B, "+=", "elena-bounces+x=y.example@example.org", NULL), 1);
	str_free(&m);
}

static void test_round_trip(void **state)
{
	(void)state;
	static const char *const rcpts[] = {"alice@example.com", "o'brien@example.ie",
					    "x_y.z-1%2@sub.example.co.jp"};
	str s = STR_INIT, m = STR_INIT;
	for (size_t i = 0; i < N_ELEMS(rcpts); i++) {
		assert_int_equal(verp_encode(B, "+=", rcpts[i], &s), 1);
		int got = verp_decode(B, "+=", str_c(&s), &m);
		/* the policy refuses some local parts: then no member, never a wrong one */
		assert_int_equal(got, 1);
		assert_true(m.len == 0 || strcmp(str_c(&m), rcpts[i]) == 0);
	}
	str_free(&s);
	str_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_encode),
	    cmocka_unit_test(test_decode),
	    cmocka_unit_test(test_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
