/* lib/actions/contentrule.c (rules, the lean check) and lib/mail/html2text.c. */
#include "unit.h"

#include "actions/contentrule.h"
#include "mail/html2text.h"

#include <string.h>

static void test_rules_parse(void **state)
{
	(void)state;
	contentrule_set r;
	str err = STR_INIT;
	assert_int_equal(contentrule_parse("multipart/* application/* strip; text/plain * allow;"
					   "  !MIME * Allow ;; * * reject",
					   &r, &err),
			 0);
	assert_int_equal(r.n, 4);
	assert_string_equal(r.v[2].body, "!mime");
	assert_int_equal(r.v[2].act, CA_ALLOW);
	assert_int_equal(r.v[3].act, CA_REJECT);
	contentrule_free(&r);
	assert_int_equal(contentrule_parse("", &r, &err), 0);
	assert_int_equal(r.n, 0);
	static const char *const bad[] = {"text/plain allow", "a b c d", "* * drop", "* * strip+",
					  "* *"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		str_clear(&err);
		assert_int_equal(contentrule_parse(bad[i], &r, &err), -1);
		assert_non_null(strstr(str_c(&err), "CONTENT_HANDLER rule"));
	}
	str_free(&err);
}

static void test_rules_match(void **state)
{
	(void)state;
	contentrule_set r;
	str err = STR_INIT;
	assert_int_equal(contentrule_parse("multipart/* application/x-dosexec reject;"
					   "multipart/* image/* allow; !MIME * allow+multipart;"
					   "multipart/* * strip+notice",
					   &r, &err),
			 0);
	content_action a;
	assert_int_equal(contentrule_match(&r, "multipart/mixed", "image/png", &a), 1);
	assert_int_equal(a, CA_ALLOW);
	assert_int_equal(contentrule_match(&r, "multipart/mixed", "Application/X-DOSEXEC", &a), 1);
	assert_int_equal(a, CA_REJECT);
	assert_int_equal(contentrule_match(&r, "!mime", "text/plain", &a), 1);
	assert_int_equal(a, CA_ALLOW_MULTIPART);
	assert_int_equal(contentrule_match(&r, "multipart/mixed", "text/html", &a), 1);
	assert_int_equal(a, CA_STRIP_NOTICE);
	/* a multipart glob is not "!MIME", and no rule: allow */
	assert_int_equal(contentrule_match(&r, "text/plain", "text/plain", &a), 0);
	assert_int_equal(a, CA_ALLOW);
	/* stricter actions compare larger: the two judgements of a part */
	assert_true(CA_REJECT > CA_STRIP_NOTICE && CA_STRIP_NOTICE > CA_STRIP &&
		    CA_STRIP > CA_ALLOW_MULTIPART && CA_ALLOW_MULTIPART > CA_ALLOW);
	contentrule_free(&r);
	str_free(&err);
}

static void test_media_type(void **state)
{
	(void)state;
	char t[64];
	contentrule_media_type(" Text/HTML ; charset=utf-8", t, sizeof t);
	assert_string_equal(t, "text/html");
	contentrule_media_type("multipart/mixed;boundary=x", t, sizeof t);
	assert_string_equal(t, "multipart/mixed");
	contentrule_media_type("garbage", t, sizeof t);
	assert_string_equal(t, "text/plain");
	contentrule_media_type("text/", t, sizeof t);
	assert_string_equal(t, "text/plain");
	contentrule_media_type(NULL, t, sizeof t);
	assert_string_equal(t, "text/plain");
}

static void h2t(const char *html, const char *want)
{
	str out = STR_INIT;
	html2text(html, strlen(html), &out);
	assert_string_equal(str_c(&out), want);
	str_free(&out);
}

static void test_html2text(void **state)
{
	(void)state;
	h2t("<html><head><title>x</title></head><body><p>Hello&nbsp;&amp; <b>bye</b></p></body>",
	    "Hello\xc2\xa0& bye\n");
	h2t("<p>See <a href=\"https://e.example/a?b=1&amp;c=2\">the page</a>.</p>",
	    "See the page <https://e.example/a?b=1&c=2>.\n");
	/* the text is the URL: written once; mailto: shown as the address */
	h2t("<a href='https://e.example/'>https://e.example/</a> <a "
	    "href=mailto:bob@e.example>Bob</a>",
	    "https://e.example/ Bob <bob@e.example>\n");
	h2t("<ul><li>one<li>two</ul>after", "* one\n* two\n\nafter\n");
	h2t("a<br>b<br/>c", "a\nb\nc\n");
	h2t("<script>alert('<p>x</p>')</script><style>p{}</style>text", "text\n");
	h2t("<pre>  keep\n   this</pre>then   folded   text",
	    "  keep\n   this\n\nthen folded text\n");
	h2t("&#26085;&#x672C; &bogus; &lt;&gt; &#0; &#xZZ;", "\xe6\x97\xa5\xe6\x9c\xac &bogus; <> "
							     "\xef\xbf\xbd &#xZZ;\n");
	h2t("<img src=x alt=\"a cat\"> <a href=\"javascript:evil()\">click</a>", "[a cat] click\n");
	/* broken markup ends, never loops */
	h2t("<p>open <a href=\"x", "open\n");
	h2t("<!-- never closed", "");
	h2t("", "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rules_parse),
	    cmocka_unit_test(test_rules_match),
	    cmocka_unit_test(test_media_type),
	    cmocka_unit_test(test_html2text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
