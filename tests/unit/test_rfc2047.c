/* rfc2047_decode: a table of header values, got X, want Y. */
#include "unit.h"

#include "mail/rfc2047.h"

static void test_decode(void **state)
{
	static const struct {
		const char *in, *want;
	} c[] = {
	    {"plain text", "plain text"},
	    {"", ""},
	    {"=?UTF-8?B?Y2Fmw6k=?=", "caf\xc3\xa9"},
	    {"=?utf-8?q?caf=C3=A9_au_lait?=", "caf\xc3\xa9 au lait"},
	    {"=?ISO-8859-1?Q?caf=E9?=", "caf\xc3\xa9"},
	    {"=?ISO-2022-JP?B?GyRCJDMkcyRLJEEkTxsoQg==?=",
	     "\xe3\x81\x93\xe3\x82\x93\xe3\x81\xab\xe3\x81\xa1\xe3\x81\xaf"},
	    /* blanks between two encoded-words vanish, elsewhere they stay */
	    {"=?UTF-8?Q?a?= =?UTF-8?Q?b?=", "ab"},
	    {"=?UTF-8?Q?a?=  \t =?UTF-8?Q?b?=", "ab"},
	    {"=?UTF-8?Q?a?= b", "a b"},
	    {"x =?UTF-8?Q?a?=", "x a"},
	    /* RFC 2231 language tag */
	    {"=?UTF-8*en?Q?hello?=", "hello"},
	    /* malformed or unknown: kept as they are */
	    {"=?UTF-8?X?abc?=", "=?UTF-8?X?abc?="},
	    {"=?NO-SUCH-CHARSET?Q?abc?=", "=?NO-SUCH-CHARSET?Q?abc?="},
	    {"=?UTF-8?Q?unterminated", "=?UTF-8?Q?unterminated"},
	    {"=?UTF-8?B?!!!?=", "=?UTF-8?B?!!!?="},
	    {"=?UTF-8?Q?bad=ZZ?=", "=?UTF-8?Q?bad=ZZ?="},
	    {"=??Q?x?=", "=??Q?x?="},
	    {"Re: [elena:00001] =?UTF-8?B?4pyT?= done", "Re: [elena:00001] \xe2\x9c\x93 done"},
	};
	int bad = 0;
	str out = STR_INIT;
	for (size_t i = 0; i < N_ELEMS(c); i++) {
		rfc2047_decode(c[i].in, strlen(c[i].in), &out);
		if (strcmp(str_c(&out), c[i].want) != 0) {
			print_error("case %zu: %s: got \"%s\", want \"%s\"\n", i, c[i].in,
				    str_c(&out), c[i].want);
			bad++;
		}
	}
	str_free(&out);
	assert_int_equal(bad, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_decode)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
