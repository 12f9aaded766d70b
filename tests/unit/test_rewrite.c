/*
 * Unit tests for lib/actions/rewrite.c: the subject tag (rewrite_tag) and the
 * Subject value rewrite (rewrite_subject) on raw bytes: old tags of this
 * list stripped, Re: forms collapsed to one "Re: " after the tag, other
 * lists' tags and encoded words untouched, folding and line endings kept.
 * Tables of cases; a failing case prints "got X, want Y".
 */
#include "unit.h"

#include "util/msg.h"
#include "actions/rewrite.h"
#include "mail/rfc2047.h"
#include "util/str.h"

/* Print bytes with CR, LF and TAB visible. */
static const char *vis(const char *p, size_t n, str *buf)
{
	str_sets(buf, "\"");
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\r')
			str_puts(buf, "\\r");
		else if (p[i] == '\n')
			str_puts(buf, "\\n");
		else if (p[i] == '\t')
			str_puts(buf, "\\t");
		else
			str_putc(buf, p[i]);
	}
	str_putc(buf, '"');
	return str_c(buf);
}

static void test_tag(void **state)
{
	static const struct {
		const char *type;
		const char *bracket;
		int digits;
		long article;
		const char *want;
	} c[] = {
	    {"", "elena", 5, 123, ""},
	    {"[:]", "elena", 5, 123, "[elena:00123]"},
	    {"(:)", "elena", 5, 123, "(elena:00123)"},
	    {"[,]", "elena", 5, 123, "[elena,00123]"},
	    {"(,)", "elena", 5, 123, "(elena,00123)"},
	    {"[ ]", "elena", 5, 123, "[elena 00123]"},
	    {"( )", "elena", 5, 123, "(elena 00123)"},
	    {"[]", "elena", 5, 123, "[elena]"},
	    {"()", "elena", 5, 123, "(elena)"},
	    {"[ID]", "elena", 5, 123, "[00123]"},
	    {"(ID)", "elena", 5, 123, "(00123)"},
	    {"[:]", "elena", 1, 123, "[elena:123]"},
	    {"[:]", "elena", 3, 123, "[elena:123]"},
	    {"[:]", "elena", 8, 123, "[elena:00000123]"},
	    {"[:]", "elena", 5, 1234567, "[elena:1234567]"},
	    {"[ID]", "elena", 2, 5, "[05]"},
	    {"[:]", "elena", 0, 7, "[elena:00007]"},  /* out of range: 5 */
	    {"[:]", "elena", 21, 7, "[elena:00007]"}, /* out of range: 5 */
	    {"[:]", "Elena-ML", 5, 1, "[Elena-ML:00001]"},
	};
	int bad = 0;
	str out = STR_INIT;
	for (size_t i = 0; i < N_ELEMS(c); i++) {
		str_sets(&out, "stale");
		rewrite_tag(c[i].type, c[i].bracket, c[i].digits, c[i].article, &out);
		if (strcmp(str_c(&out), c[i].want) != 0 || out.len != strlen(c[i].want)) {
			print_error(
			    "rewrite_tag(\"%s\", \"%s\", %d, %ld): got \"%s\", want \"%s\"\n",
			    c[i].type, c[i].bracket, c[i].digits, c[i].article, str_c(&out),
			    c[i].want);
			bad++;
		}
	}
	rewrite_tag(NULL, "elena", 5, 1, &out);
	if (out.len != 0) {
		print_error("rewrite_tag(NULL): got \"%s\", want \"\"\n", str_c(&out));
		bad++;
	}
	str_free(&out);
	assert_int_equal(bad, 0);
}

typedef struct subj_case {
	const char *type; /* SUBJECT_TAG_TYPE */
	const char *raw;  /* after "Subject:", with its line ending */
	const char *eol;
	const char *want;
} subj_case;

#define T "[:]" /* the usual tag type */

static void test_subject(void **state)
{
	/* bracket "elena", 5 digits, article 123 unless the type says otherwise */
	static const subj_case c[] = {
	    /* every tag type on a plain subject */
	    {T, " hello\n", "\n", " [elena:00123] hello\n"},
	    {"(:)", " hello\n", "\n", " (elena:00123) hello\n"},
	    {"[,]", " hello\n", "\n", " [elena,00123] hello\n"},
	    {"(,)", " hello\n", "\n", " (elena,00123) hello\n"},
	    {"[ ]", " hello\n", "\n", " [elena 00123] hello\n"},
	    {"( )", " hello\n", "\n", " (elena 00123) hello\n"},
	    {"[]", " hello\n", "\n", " [elena] hello\n"},
	    {"()", " hello\n", "\n", " (elena) hello\n"},
	    {"[ID]", " hello\n", "\n", " [00123] hello\n"},
	    {"(ID)", " hello\n", "\n", " (00123) hello\n"},
	    /* old tags of this list, any form, stripped */
	    {T, " [elena:00122] hello\n", "\n", " [elena:00123] hello\n"},
	    {T, " (elena:122) hello\n", "\n", " [elena:00123] hello\n"},
	    {T, " [elena,9] hello\n", "\n", " [elena:00123] hello\n"},
	    {T, " (elena 00001) hello\n", "\n", " [elena:00123] hello\n"},
	    {T, " [elena] hello\n", "\n", " [elena:00123] hello\n"},
	    {T, " (elena) hello\n", "\n", " [elena:00123] hello\n"},
	    {T, " [ELENA:00122] hello\n", "\n", " [elena:00123] hello\n"},
	    {"[]", " [elena:00122] hello\n", "\n", " [elena] hello\n"},
	    {T, " [elena:1] [elena:2]  [elena:3] hello\n", "\n", " [elena:00123] hello\n"},
	    {T, "   [elena:00122]\t hello\n", "\n", " [elena:00123] hello\n"},
	    {T, " [elena:00122]\n hello\n", "\n", " [elena:00123] hello\n"},
	    {T, " [elena:00122]\n\t[elena:00121]\n Re: hello\n", "\n",
	     " [elena:00123] Re: hello\n"},
	    {"[ID]", " [00122] hello\n", "\n", " [00123] hello\n"},
	    {"(ID)", " (00122) Re: [00121] hello\n", "\n", " (00123) Re: hello\n"},
	    {T, " [00122] hello\n", "\n", " [elena:00123] [00122] hello\n"}, /* no ID forms */
	    /* other lists' tags and look-alikes kept */
	    {T, " [other:00001] hello\n", "\n", " [elena:00123] [other:00001] hello\n"},
	    {T, " [elenax:00001] hello\n", "\n", " [elena:00123] [elenax:00001] hello\n"},
	    {T, " [elena:] hello\n", "\n", " [elena:00123] [elena:] hello\n"},
	    {T, " [elena:12 hello\n", "\n", " [elena:00123] [elena:12 hello\n"},
	    {T, " [elena:1x] hello\n", "\n", " [elena:00123] [elena:1x] hello\n"},
	    {T, " hello [elena:00001] world\n", "\n", " [elena:00123] hello [elena:00001] world\n"},
	    {T, " Re: [other:1] hello\n", "\n", " [elena:00123] Re: [other:1] hello\n"},
	    /* Re: forms collapsed to one "Re: " after the tag */
	    {T, " Re: hello\n", "\n", " [elena:00123] Re: hello\n"},
	    {T, " RE: hello\n", "\n", " [elena:00123] Re: hello\n"},
	    {T, " re: hello\n", "\n", " [elena:00123] Re: hello\n"},
	    {T, " rE: hello\n", "\n", " [elena:00123] Re: hello\n"},
	    {T, " Re2: hello\n", "\n", " [elena:00123] Re: hello\n"},
	    {T, " Re[2]: hello\n", "\n", " [elena:00123] Re: hello\n"},
	    {T, " Re(2): hello\n", "\n", " [elena:00123] Re: hello\n"},
	    {T, " Re^2: hello\n", "\n", " [elena:00123] Re: hello\n"},
	    {T, " Re*2: hello\n", "\n", " [elena:00123] Re: hello\n"},
	    {T, " Re[10]: hello\n", "\n", " [elena:00123] Re: hello\n"},
	    {T, " Re:hello\n", "\n", " [elena:00123] Re: hello\n"},
	    {T, " Re:  hello\n", "\n", " [elena:00123] Re: hello\n"},
	    {T, " Re: Re: RE: re[3]: hello\n", "\n", " [elena:00123] Re: hello\n"},
	    {T, " Re: [elena:00122] Re: hello\n", "\n", " [elena:00123] Re: hello\n"},
	    {T, " [elena:00122] Re: [elena:00121] Re: hello\n", "\n", " [elena:00123] Re: hello\n"},
	    {T, " Re:\n", "\n", " [elena:00123] Re:\n"},
	    {T, " Re: [elena:00122]\n", "\n", " [elena:00123] Re:\n"},
	    /* not Re forms */
	    {T, " Reply: hello\n", "\n", " [elena:00123] Reply: hello\n"},
	    {T, " Rex: hello\n", "\n", " [elena:00123] Rex: hello\n"},
	    {T, " Re[]: hello\n", "\n", " [elena:00123] Re[]: hello\n"},
	    {T, " Re^: hello\n", "\n", " [elena:00123] Re^: hello\n"},
	    {T, " Re[2: hello\n", "\n", " [elena:00123] Re[2: hello\n"},
	    {T, " Re2x: hello\n", "\n", " [elena:00123] Re2x: hello\n"},
	    {T, " Re : hello\n", "\n", " [elena:00123] Re : hello\n"},
	    {T, " Fwd: hello\n", "\n", " [elena:00123] Fwd: hello\n"},
	    {T, " AW: hello\n", "\n", " [elena:00123] AW: hello\n"},
	    {T, " Are: you there\n", "\n", " [elena:00123] Are: you there\n"},
	    /* no tag type: "Re: " alone kept byte for byte */
	    {"", " hello\n", "\n", " hello\n"},
	    {"", " Re: hello\n", "\n", " Re: hello\n"},
	    {"", " RE: hello\n", "\n", " RE: hello\n"},
	    {"", " Re:  hello  \n", "\n", " Re:  hello  \n"},
	    {"", "\tRe: hello\r\n", "\r\n", "\tRe: hello\r\n"},
	    {"", " Re: Re: hello\n", "\n", " Re: hello\n"},
	    {"", " RE: re: hello\n", "\n", " Re: hello\n"},
	    /* encoded words untouched */
	    {T, " =?UTF-8?B?5pel5pys6Kqe?=\n", "\n", " [elena:00123] =?UTF-8?B?5pel5pys6Kqe?=\n"},
	    {T, " Re: =?ISO-2022-JP?B?GyRCJEgkahsoQg==?=\n", "\n",
	     " [elena:00123] Re: =?ISO-2022-JP?B?GyRCJEgkahsoQg==?=\n"},
	    /* a tag and Re: inside an encoded-word are found and taken out
	     * (issue 13, point 7); what is left is encoded again as it came */
	    {T, " =?UTF-8?Q?Re=3A_=5Belena=3A1=5D?=\n", "\n", " [elena:00123] Re:\n"},
	    {T, " =?UTF-8?Q?Re=3A_=5Belena=3A1=5D_caf=C3=A9?=\n", "\n",
	     " [elena:00123] Re: =?UTF-8?Q?caf=C3=A9?=\n"},
	    {T, " =?ISO-8859-1?Q?Re:_[elena:00007]_caf=E9?=\n", "\n",
	     " [elena:00123] Re: =?ISO-8859-1?Q?caf=E9?=\n"},
	    /* another list's tag inside stays, and so does the word */
	    {T, " =?UTF-8?Q?=5Bother=3A1=5D_x?=\n", "\n",
	     " [elena:00123] =?UTF-8?Q?=5Bother=3A1=5D_x?=\n"},
	    {T, " [elena:00122] =?UTF-8?B?w6k=?=\n =?UTF-8?B?w6k=?=\n", "\n",
	     " [elena:00123] =?UTF-8?B?w6k=?=\n =?UTF-8?B?w6k=?=\n"},
	    {"", " =?UTF-8?B?5pel5pys6Kqe?=\n", "\n", " =?UTF-8?B?5pel5pys6Kqe?=\n"},
	    /* 8-bit text kept */
	    {T, " Re: caf\xc3\xa9\n", "\n", " [elena:00123] Re: caf\xc3\xa9\n"},
	    /* empty subject */
	    {T, "\n", "\n", " [elena:00123]\n"},
	    {T, " \n", "\n", " [elena:00123]\n"},
	    {T, "", "\n", " [elena:00123]\n"},
	    {T, " [elena:00122]\n", "\n", " [elena:00123]\n"},
	    {"", "\n", "\n", "\n"},
	    {"", " \n", "\n", " \n"},
	    /* folded subjects keep their inner folding */
	    {T, " a long\n\tcontinued subject\n", "\n",
	     " [elena:00123] a long\n\tcontinued subject\n"},
	    {T, " Re: [elena:00122] a long\n continued\n  twice\n", "\n",
	     " [elena:00123] Re: a long\n continued\n  twice\n"},
	    {"", " a long\n\tcontinued\n", "\n", " a long\n\tcontinued\n"},
	    /* CRLF */
	    {T, " hello\r\n", "\r\n", " [elena:00123] hello\r\n"},
	    {T, " [elena:00122] Re: hello\r\n", "\r\n", " [elena:00123] Re: hello\r\n"},
	    {T, " [elena:00122]\r\n Re: hello\r\n", "\r\n", " [elena:00123] Re: hello\r\n"},
	    {T, " a long\r\n continued\r\n", "\r\n", " [elena:00123] a long\r\n continued\r\n"},
	    {T, "\r\n", "\r\n", " [elena:00123]\r\n"},
	    /* no line ending in the input: the given one is added */
	    {T, " hello", "\n", " [elena:00123] hello\n"},
	};
	int bad = 0;
	str out = STR_INIT, v1 = STR_INIT, v2 = STR_INIT, v3 = STR_INIT;
	for (size_t i = 0; i < N_ELEMS(c); i++) {
		size_t len = strlen(c[i].raw);
		str_sets(&out, "stale");
		int ret =
		    rewrite_subject(c[i].raw, len, c[i].type, "elena", 5, 123, c[i].eol, &out);
		size_t wl = strlen(c[i].want);
		if (out.len != wl || memcmp(out.s, c[i].want, wl) != 0) {
			print_error("case %zu rewrite_subject(\"%s\", %s): got %s, want %s\n", i,
				    c[i].type, vis(c[i].raw, len, &v1), vis(out.s, out.len, &v2),
				    vis(c[i].want, wl, &v3));
			bad++;
		}
		/* 0 means "unchanged, OUT is the input"; a changed value returns 1 */
		int changed = wl != len || memcmp(c[i].want, c[i].raw, len) != 0;
		if ((ret == 0 && changed) || (changed && ret != 1)) {
			print_error("case %zu rewrite_subject(\"%s\", %s): returned %d, want %d\n",
				    i, c[i].type, vis(c[i].raw, len, &v1), ret, changed);
			bad++;
		}
	}
	str_free(&out);
	str_free(&v1);
	str_free(&v2);
	str_free(&v3);
	assert_int_equal(bad, 0);
}

/* Article numbers and digits reach the tag that is put in front. */
static void test_subject_article(void **state)
{
	static const struct {
		int digits;
		long article;
		const char *want;
	} c[] = {
	    {5, 1, " [elena:00001] Re: x\n"},	    {5, 99999, " [elena:99999] Re: x\n"},
	    {5, 100000, " [elena:100000] Re: x\n"}, {1, 7, " [elena:7] Re: x\n"},
	    {3, 42, " [elena:042] Re: x\n"},
	};
	int bad = 0;
	str out = STR_INIT;
	static const char raw[] = " Re: [elena:00000] x\n";
	for (size_t i = 0; i < N_ELEMS(c); i++) {
		rewrite_subject(raw, sizeof raw - 1, T, "elena", c[i].digits, c[i].article, "\n",
				&out);
		if (strcmp(str_c(&out), c[i].want) != 0) {
			print_error("digits %d article %ld: got \"%s\", want \"%s\"\n", c[i].digits,
				    c[i].article, str_c(&out), c[i].want);
			bad++;
		}
	}
	/* rewriting twice gives the same result (a resent article is not
	 * tagged twice) */
	str again = STR_INIT;
	static const char *const raws[] = {" Re: hello\n", " [elena:00001] hi\n", "\n", " a\n b\n"};
	for (size_t i = 0; i < N_ELEMS(raws); i++) {
		rewrite_subject(raws[i], strlen(raws[i]), T, "elena", 5, 9, "\n", &out);
		rewrite_subject(out.s, out.len, T, "elena", 5, 9, "\n", &again);
		if (out.len != again.len || memcmp(out.s, again.s, out.len) != 0) {
			print_error("twice \"%s\": got \"%s\" then \"%s\", want the same\n",
				    raws[i], str_c(&out), str_c(&again));
			bad++;
		}
	}
	str_free(&again);
	str_free(&out);
	assert_int_equal(bad, 0);
}

/* A thread in each charset, replied to three times by a mail reader that
 * decodes the subject, puts "Re: " in front and encodes the whole again:
 * one tag and one Re: each time, in the charset it came in (issue 13). */
static void test_subject_encoded_replies(void **state)
{
	(void)state;
	static const struct {
		const char *cs;
		int enc;
		const char *text;
	} threads[] = {
	    {"UTF-8", 'B',
	     "\xe3\x81\x93\xe3\x82\x93\xe3\x81\xab\xe3\x81\xa1\xe3\x81\xaf"
	     "\xe4\xb8\x96\xe7\x95\x8c"},
	    {"ISO-2022-JP", 'B',
	     "\xe3\x81\x93\xe3\x82\x93\xe3\x81\xab\xe3\x81\xa1\xe3\x81"
	     "\xaf\xe4\xb8\x96\xe7\x95\x8c"},
	    {"ISO-8859-1", 'Q',
	     "caf\xc3\xa9 cr\xc3\xa8me br\xc3\xbbl\xc3\xa9"
	     "e"},
	    {"UTF-8", 'Q',
	     "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e and a long English tail that "
	     "needs two or three encoded-words to fit the limit of 75 bytes"},
	};
	for (size_t t = 0; t < N_ELEMS(threads); t++) {
		str in = STR_INIT, out = STR_INIT, dec = STR_INIT, want = STR_INIT, text = STR_INIT;
		str_puts(&text, threads[t].text);
		for (long k = 1; k <= 4; k++) {
			/* the subject as the reader sent it: one encoded text */
			str_clear(&in);
			str_putc(&in, ' ');
			rfc2047_encode(text.s, text.len, threads[t].cs, threads[t].enc, "\n ", &in);
			str_putc(&in, '\n');
			rewrite_subject(in.s, in.len, "[:]", "elena", 5, k, "\n", &out);
			/* as a reader shows it: unfolded (RFC 5322 2.2.3), decoded */
			str unf = STR_INIT;
			for (size_t i = 0; i < out.len; i++)
				if (!(out.s[i] == '\n' && i + 1 < out.len))
					str_putc(&unf, out.s[i]);
			rfc2047_decode(unf.s, unf.len, &dec);
			str_free(&unf);
			str_clear(&want);
			str_printf(&want, " [elena:%05ld] %s%s\n", k, k > 1 ? "Re: " : "",
				   threads[t].text);
			if (strcmp(str_c(&dec), str_c(&want)) != 0)
				fail_msg("%s reply %ld: got \"%s\" (%s), want \"%s\"",
					 threads[t].cs, k - 1, str_c(&dec), str_c(&out),
					 str_c(&want));
			char marker[80];
			snprintf(marker, sizeof marker, "=?%s?%c?", threads[t].cs, threads[t].enc);
			if (!strstr(str_c(&out), marker))
				fail_msg("%s reply %ld: not in its charset: %s", threads[t].cs,
					 k - 1, str_c(&out));
			/* no word over 75 bytes, no line without its fold */
			for (const char *w = str_c(&out); (w = strstr(w, "=?")) != NULL; w += 2) {
				const char *e = strstr(w + 2, "?=");
				const char *q = e ? strchr(w + 2, '?') : NULL;
				while (q && q < e && (q = strchr(q + 1, '?')) != NULL && q < e &&
				       q[1] != '=')
					;
				assert_non_null(e);
				if (e + 2 - w > 75)
					fail_msg("%s: a word of %ld bytes: %s", threads[t].cs,
						 (long)(e + 2 - w), str_c(&out));
				w = e;
			}
			/* the reader's next reply: "Re: " and what it showed */
			str_clear(&text);
			str_puts(&text, "Re: ");
			str_puts(&text, str_c(&dec) + 1);
			str_truncate(&text, text.len - 1);
		}
		str_free(&in);
		str_free(&out);
		str_free(&dec);
		str_free(&want);
		str_free(&text);
	}
}

int main(void)
{
	msg_set_stderr(0);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tag),
	    cmocka_unit_test(test_subject),
	    cmocka_unit_test(test_subject_article),
	    cmocka_unit_test(test_subject_encoded_replies),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
