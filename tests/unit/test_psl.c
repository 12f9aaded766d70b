/* lib/mail/psl.c: organizational domains by the Public Suffix List (the
 * list of Debian's publicsuffix package) and DMARC alignment. */
#include "unit.h"

#include "mail/psl.h"

static void test_org_domain(void **state)
{
	(void)state;
	static const struct {
		const char *in, *org;
	} cases[] = {
	    {"example.com", "example.com"},
	    {"a.b.Example.COM", "example.com"},
	    {"example.co.uk", "example.co.uk"},
	    {"mail.example.co.uk", "example.co.uk"},
	    {"co.uk", "co.uk"},			  /* a public suffix: itself */
	    {"uk", "uk"},			  /* a top-level domain */
	    {"a.b.ck", "a.b.ck"},		  /* "*.ck": b.ck is a public suffix */
	    {"www.ck", "www.ck"},		  /* "!www.ck": ck is the suffix */
	    {"foo.www.ck", "www.ck"},		  /* ... so this is under www.ck */
	    {"x.y.no-such-tld", "y.no-such-tld"}, /* the default rule "*" */
	    {"example.com.", "example.com"},	  /* a trailing dot */
	};
	str out = STR_INIT;
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		assert_int_equal(psl_org_domain(PSL_PATH, cases[i].in, &out), 0);
		if (strcmp(str_c(&out), cases[i].org) != 0)
			fail_msg("%s: %s, want %s", cases[i].in, str_c(&out), cases[i].org);
	}
	str_free(&out);
}

static void test_aligned(void **state)
{
	(void)state;
	assert_true(psl_aligned("example.com", "EXAMPLE.com", 1));
	assert_true(psl_aligned("mail.example.com", "news.example.com", 0));
	assert_false(psl_aligned("mail.example.com", "example.com", 1));
	assert_false(psl_aligned("a.example.co.uk", "b.other.co.uk", 0));
	assert_false(psl_aligned("example.com", "example.net", 0));
}

static void test_no_list(void **state)
{
	(void)state;
	str out = STR_INIT;
	/* without a list every name is its own organization */
	assert_int_equal(psl_org_domain("/nonexistent/psl.dat", "A.Example.com", &out), -1);
	assert_string_equal(str_c(&out), "a.example.com");
	str_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_org_domain),
	    cmocka_unit_test(test_aligned),
	    cmocka_unit_test(test_no_list),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
