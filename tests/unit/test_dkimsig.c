/* lib/mail/dkimsig.c: relaxed body canonicalization (RFC 6376 3.4.4 and
 * its examples in 3.4.5), which our signer hashes once per article.  The
 * whole signature is checked by an independent verifier (dkimpy) in the
 * end-to-end tests. */
#include "unit.h"

#include "mail/dkimsig.h"

/* the body hash of IN fed in pieces of STEP bytes (0: at once) */
static void hash_of(const char *in, size_t step, char out[45])
{
	dkimsig_body b;
	size_t n = strlen(in);
	assert_int_equal(dkimsig_body_init(&b), 0);
	if (!step)
		step = n ? n : 1;
	for (size_t i = 0; i < n; i += step)
		dkimsig_body_feed(&b, in + i, n - i < step ? n - i : step);
	assert_int_equal(dkimsig_body_final(&b, out), 0);
}

static void test_relaxed_body(void **state)
{
	(void)state;
	static const struct {
		const char *in, *bh;
	} cases[] = {
	    /* RFC 6376 3.4.5: " C\r\nD E\r\n" */
	    {" C \r\nD \t E\r\n\r\n\r\n", "unak6JHq0wL+Q1HP7dW1tjBx9FLA6DffoZ0qrLwbbpo="},
	    {" C \nD \t E\n\n\n",
	     "unak6JHq0wL+Q1HP7dW1tjBx9FLA6DffoZ0qrLwbbpo="},		     /* LF as stored */
	    {"", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="},	     /* empty: "" */
	    {"\n\r\n \t\n", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="}, /* only empty lines */
	    {"a\rb\n", "WAVb3Mc3h+uIx4028LSTnpxdwcOtF+JcyFpoM88aDKs="}, /* a lone CR ends a line */
	    {"x", "s14J+iztnrytnRYzb7lhFG/jS/vrxWJnnahfijFMnco="},	/* a line end added */
	};
	char got[45];
	for (size_t i = 0; i < N_ELEMS(cases); i++)
		for (size_t step = 0; step < 4; step++) { /* CR LF split across pieces too */
			hash_of(cases[i].in, step, got);
			if (strcmp(got, cases[i].bh) != 0)
				fail_msg("case %zu, step %zu: %s, want %s", i, step, got,
					 cases[i].bh);
		}
}

static void test_many_empty_lines_inside(void **state)
{
	(void)state;
	/* 10,000 empty lines between two words are kept, past any buffer */
	str in = STR_INIT, want = STR_INIT;
	str_puts(&in, "a\n");
	str_puts(&want, "a\r\n");
	for (int i = 0; i < 10000; i++) {
		str_puts(&in, "\n");
		str_puts(&want, "\r\n");
	}
	str_puts(&in, "b\n\n\n");
	str_puts(&want, "b\r\n");
	char a[45], b[45];
	hash_of(str_c(&in), 7, a);
	dkimsig_body w;
	assert_int_equal(dkimsig_body_init(&w), 0);
	dkimsig_body_feed(&w, want.s, want.len); /* canonical already: unchanged */
	assert_int_equal(dkimsig_body_final(&w, b), 0);
	assert_string_equal(a, b);
	str_free(&in);
	str_free(&want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_relaxed_body),
	    cmocka_unit_test(test_many_empty_lines_inside),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
