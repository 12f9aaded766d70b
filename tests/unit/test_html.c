/* lib/util/html.c: text into HTML, for the archive's pages and fmlweb's. */
#include "unit.h"

#include "util/html.h"

static void test_escape(void **state)
{
	(void)state;
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"a<b>&\"'c", "a&lt;b&gt;&amp;&quot;&#39;c"},
	    {"tab\tand\nline", "tab\tand\nline"},
	    {"\x01\r\x7f", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* control bytes */
	    {"caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac", "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac"},
	    {"\xff\xc3", "\xef\xbf\xbd\xef\xbf\xbd"},		      /* not UTF-8 */
	    {"\xc0\xbc", "\xef\xbf\xbd\xef\xbf\xbd"},		      /* an overlong '<' */
	    {"\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* a surrogate */
	    {"\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
	};
	str out = STR_INIT;
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		str_clear(&out);
		html_puts(&out, cases[i].in);
		if (strcmp(str_c(&out), cases[i].out) != 0)
			fail_msg("case %zu: %s", i, str_c(&out));
	}
	/* a NUL inside is a control byte too */
	str_clear(&out);
	html_escape(&out, "a\0<", 3);
	assert_string_equal(str_c(&out), "a\xef\xbf\xbd&lt;");
	str_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_escape),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
