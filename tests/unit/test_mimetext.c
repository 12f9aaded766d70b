/* mimetext: the readable text of articles; rfc1153 digests built on it. */
#include "unit.h"

#include "list/bundle.h"
#include "list/bundlewrite.h"
#include "mail/mimetext.h"

#include <fcntl.h>
#include <gmime/gmime.h>
#include <unistd.h>

static fml_status str_sink(void *arg, const void *p, size_t n)
{
	str_append(arg, p, n);
	return ST_OK;
}

#define MIME "MIME-Version: 1.0\n"
#define PDF64 "JVBERi0xLjQKeHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4\n"

static void test_cases(void **state)
{
	static const struct {
		const char *what, *in, *want;
	} c[] = {
	    {"base64 UTF-8",
	     "Subject: b64\n" MIME "Content-Type: text/plain; charset=utf-8\n"
	     "Content-Transfer-Encoding: base64\n\naMOpbGxvIHfDtnJsZApzZWNvbmQgbGluZQo=\n",
	     "Subject: b64\n\nh\xc3\xa9llo w\xc3\xb6rld\nsecond line\n"},
	    {"QP ISO-8859-1",
	     "Subject: qp\n" MIME "Content-Type: text/plain; charset=ISO-8859-1\n"
	     "Content-Transfer-Encoding: quoted-printable\n\ncaf=E9 na=EFve=\n soft\n=3D\n",
	     "Subject: qp\n\ncaf\xc3\xa9 na\xc3\xafve soft\n=\n"},
	    {"ISO-2022-JP body and Subject",
	     "Subject: =?ISO-2022-JP?B?GyRCRnxLXDhsGyhC?=\n" MIME
	     "Content-Type: text/plain; charset=ISO-2022-JP\n"
	     "Content-Transfer-Encoding: 7bit\n\n\x1b$B$3$s$K$A$O\x1b(B\n",
	     "Subject: \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\n\n"
	     "\xe3\x81\x93\xe3\x82\x93\xe3\x81\xab\xe3\x81\xa1\xe3\x81\xaf\n"},
	    {"Shift_JIS 8bit",
	     MIME "Content-Type: text/plain; charset=Shift_JIS\n"
		  "Content-Transfer-Encoding: 8bit\n\n\x83\x65\x83X\x83g\n",
	     "\n\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88\n"},
	    {"mixed: text and PDF",
	     "From: a@example.org\n" MIME "Content-Type: multipart/mixed; boundary=\"b\"\n\n"
	     "preamble\n--b\nContent-Type: text/plain\n\nsee attached\n--b\n"
	     "Content-Type: application/pdf; name=\"report.pdf\"\n"
	     "Content-Disposition: attachment; filename=\"report.pdf\"\n"
	     "Content-Transfer-Encoding: base64\n\n" PDF64 "--b--\nepilogue\n",
	     "From: a@example.org\n\nsee attached\n\n"
	     "[attachment: report.pdf, application/pdf, 57 bytes, not included]\n"},
	    {"alternative: text and HTML",
	     MIME "Content-Type: multipart/alternative; boundary=b\n\n--b\n"
		  "Content-Type: text/plain; charset=us-ascii\n\nplain text\n--b\n"
		  "Content-Type: text/html\n\n<p>html</p>\n--b--\n",
	     "\nplain text\n"},
	    {"alternative: HTML only, shown as source",
	     MIME "Content-Type: multipart/alternative; boundary=b\n\n--b\n"
		  "Content-Type: image/png\n\nPNG\n--b\n"
		  "Content-Type: text/html\n\n<p>html</p>\n--b--\n",
	     "\n<p>html</p>\n"},
	    {"HTML in mixed: an attachment line",
	     MIME
	     "Content-Type: multipart/mixed; boundary=b\n\n--b\n"
	     "Content-Type: text/plain\n\nhi\n--b\nContent-Type: text/html\n\n<p>x</p>\n--b--\n",
	     "\nhi\n\n[attachment: text/html, 8 bytes, not included]\n"},
	    {"nested message/rfc822",
	     MIME "Content-Type: multipart/mixed; boundary=b\n\n--b\n"
		  "Content-Type: text/plain\n\nfwd\n--b\nContent-Type: message/rfc822\n\n"
		  "Subject: inner\n\ninner body\n--b--\n",
	     "\nfwd\n\n[attachment: message/rfc822, 26 bytes, not included]\n"},
	    {"non-MIME 8-bit: UTF-8 line, Latin-1 line",
	     "Subject: raw\n\nutf8 caf\xc3\xa9\nlatin1 caf\xe9\n",
	     "Subject: raw\n\nutf8 caf\xc3\xa9\nlatin1 caf\xc3\xa9\n"},
	    {"a line beginning with '-' (stuffing is bundle's)", "Subject: d\n\n-dash\n--b\n",
	     "Subject: d\n\n-dash\n--b\n"},
	    {"unknown charset: UTF-8 if valid, else Latin-1",
	     MIME "Content-Type: text/plain; charset=x-no-such-charset\n\n"
		  "ok \xc3\xa9\nbad \xe9\n",
	     "\nok \xc3\xa9\nbad \xc3\xa9\n"},
	    {"invalid UTF-8 declared UTF-8: the line as Latin-1",
	     MIME "Content-Type: text/plain; charset=utf-8\n\nbad \xff\xe9\n",
	     "\nbad \xc3\xbf\xc3\xa9\n"},
	    {"fields: folded, encoded, control bytes, order, first only",
	     "Cc: c@example.org\nSubject: =?UTF-8?Q?a=0Ab?=\n =?UTF-8?B?w6k=?=\n\tmore\n"
	     "Subject: second\nKeywords: k\nDate: d\nX-Other: x\nMessage-ID: <m@x>\n"
	     "To: =?ISO-8859-1?Q?Andr=E9?= <a@example.org>\nSummary:\n\nb\n",
	     "Date: d\nSubject: a b\xc3\xa9 more\nTo: Andr\xc3\xa9 <a@example.org>\n"
	     "Cc: c@example.org\nMessage-ID: <m@x>\nKeywords: k\nSummary:\n\nb\n"},
	    {"empty body", "Subject: e\n\n", "Subject: e\n\n"},
	};
	str out = STR_INIT;
	int bad = 0;

	for (size_t i = 0; i < N_ELEMS(c); i++) {
		size_t n = strlen(c[i].in);
		str_clear(&out);
		WANT_ST(c[i].what, mimetext_mem(c[i].in, n, str_sink, &out), ST_OK);
		if (strcmp(str_c(&out), c[i].want) != 0) {
			print_error("%s:\ngot  [%s]\nwant [%s]\n", c[i].what, str_c(&out),
				    c[i].want);
			bad++;
		}
	}
	/* CRLF, NUL, lone CR, no final newline */
	static const char crlf[] = "Subject: crlf\r\n\r\none\r\nt\x01w\0o\rx\r\nlast";
	str_clear(&out);
	WANT_ST("crlf", mimetext_mem(crlf, sizeof crlf - 1, str_sink, &out), ST_OK);
	if (strcmp(str_c(&out), "Subject: crlf\n\none\ntwox\nlast\n") != 0) {
		print_error("crlf: got [%s]\n", str_c(&out));
		bad++;
	}
	str_free(&out);
	assert_int_equal(bad, 0);
}

/* DEPTH multiparts inside each other, a text part at the bottom. */
static void deep_article(str *a, int depth)
{
	str_sets(a, "Subject: bomb\n" MIME);
	for (int i = 0; i < depth; i++)
		str_printf(a, "Content-Type: multipart/mixed; boundary=\"b%d\"\n\n--b%d\n", i, i);
	str_puts(a, "Content-Type: text/plain\n\nbottom\n");
}

/* Limits: depth and part count stay bounded, one line says so. */
static void test_limits(void **state)
{
	str a = STR_INIT, out = STR_INIT;

	deep_article(&a, MIMETEXT_MAX_DEPTH); /* the text is at the deepest level walked */
	assert_int_equal(mimetext_mem(a.s, a.len, str_sink, &out), ST_OK);
	assert_string_equal(str_c(&out), "Subject: bomb\n\nbottom\n");

	str_clear(&out);
	deep_article(&a, 5000);
	assert_int_equal(mimetext_mem(a.s, a.len, str_sink, &out), ST_OK);
	assert_string_equal(str_c(&out),
			    "Subject: bomb\n\n[MIME parts nested too deeply, not shown]\n");

	str_sets(&a, MIME "Content-Type: multipart/mixed; boundary=b\n\n");
	for (int i = 0; i < 1000; i++)
		str_printf(&a, "--b\nContent-Type: text/plain\n\n%d\n", i);
	str_puts(&a, "--b--\n");
	str_clear(&out);
	assert_int_equal(mimetext_mem(a.s, a.len, str_sink, &out), ST_OK);
	/* the multipart is part 1: texts 0..198 are shown, then the note */
	assert_non_null(
	    strstr(str_c(&out), "\n198\n\n[too many MIME parts, the rest not shown]\n"));
	assert_null(strstr(str_c(&out), "\n199\n"));
	str_free(&a);
	str_free(&out);
}

/* A line longer than the line buffer comes out whole, UTF-8 intact. */
static void test_long_line(void **state)
{
	str a = STR_INIT, out = STR_INIT, want = STR_INIT;

	str_sets(&a, "Subject: long\n\n");
	str_sets(&want, "Subject: long\n\n");
	for (int i = 0; i < 100000; i++) {
		str_puts(&a, "\xc3\xa9"); /* é: a cut must not split it */
		str_puts(&want, "\xc3\xa9");
	}
	str_puts(&a, "\nend\n");
	str_puts(&want, "\nend\n");
	assert_int_equal(mimetext_mem(a.s, a.len, str_sink, &out), ST_OK);
	assert_int_equal(out.len, want.len);
	assert_memory_equal(out.s, want.s, want.len);
	str_free(&a);
	str_free(&out);
	str_free(&want);
}

static fml_status failing_sink(void *arg, const void *p, size_t n)
{
	++*(int *)arg;
	return ST_TEMPFAIL;
}

/* mimetext_fd() reads from its offset 0 whatever the fd's offset; a sink
 * error stops it. */
static void test_fd(void **state)
{
	static const char art[] =
	    "Subject: fd\n" MIME "Content-Type: multipart/mixed; boundary=b\n\n--b\n"
	    "Content-Transfer-Encoding: base64\n\naGk=\n--b\n"
	    "Content-Type: image/gif\n\nGIF\n--b--\n";
	char path[] = "/tmp/fml-test-mimetext.XXXXXX";
	int fd = mkstemp(path), calls = 0;
	str out = STR_INIT;

	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(write(fd, art, sizeof art - 1), (ssize_t)(sizeof art - 1));
	assert_int_equal(mimetext_fd(fd, sizeof art - 1, str_sink, &out), ST_OK);
	assert_string_equal(str_c(&out), "Subject: fd\n\nhi\n\n"
					 "[attachment: image/gif, 3 bytes, not included]\n");
	assert_int_equal(mimetext_fd(fd, sizeof art - 1, failing_sink, &calls), ST_TEMPFAIL);
	assert_int_equal(calls, 1);
	close(fd);
	str_free(&out);
}

/* ---------------------------------------------------------------- digests */

static void put_file(const char *dir, const char *name, const char *data, size_t n)
{
	char path[PATH_MAX];
	PATHF(path, "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, n), (ssize_t)n);
	close(fd);
}

/* The rfc1153 digest of articles SPEC in DIR, parsed back by GMime. */
static GMimeMessage *digest(const char *dir, const char *spec, str *out)
{
	artrange r;
	str why = STR_INIT;
	bundle b;

	article_store as;

	artrange_init(&r);
	article_store_init(&as, dir, NULL);
	assert_int_equal(artrange_parse(spec, 9, 0, &r, &why), ST_OK);
	assert_int_equal(bundle_plan(&as, &r, 0, &b), ST_OK);
	str_sets(out, "From: list@example.org\nSubject: digest\nMIME-Version: 1.0\n");
	assert_int_equal(bundlewrite(&b, 0, BM_RFC1153, &as, "elena", str_sink, out), ST_OK);
	bundle_free(&b);
	article_store_free(&as);
	artrange_free(&r);
	str_free(&why);

	GMimeStream *s = g_mime_stream_mem_new_with_buffer(out->s, out->len);
	GMimeParser *p = g_mime_parser_new_with_stream(s);
	GMimeMessage *m = g_mime_parser_construct_message(p, NULL);
	g_object_unref(p);
	g_object_unref(s);
	assert_non_null(m);
	return m;
}

static void test_digest(void **state)
{
	static const struct {
		const char *spec, *charset, *cte, *text; /* text: in the decoded body */
	} c[] = {
	    {"1", "us-ascii", "7bit", "\n\nSubject: ascii\n\n- -dash\n"},
	    {"1-2", "UTF-8", "8bit", "\nSubject: caf\xc3\xa9\n\nna\xc3\xafve\n"},
	    {"1-3", "UTF-8", "quoted-printable", "\nSubject: long\n\n- -xxxxxxxxxx"},
	    {"3", "us-ascii", "quoted-printable", "\n- -xxxxxxxxxx"},
	};
	char dir[PATH_MAX];
	str out = STR_INIT, a3 = STR_INIT;
	int bad = 0;

	mimetext_init();
	assert_int_equal(unit_tmpdir(dir, sizeof dir, "mimetext"), 0);
	put_file(dir, "1", "Subject: ascii\n\n-dash\n", 22);
	put_file(dir, "2",
		 "Subject: =?UTF-8?Q?caf=C3=A9?=\n" MIME
		 "Content-Type: text/plain; charset=iso-8859-1\n"
		 "Content-Transfer-Encoding: quoted-printable\n\nna=EFve\n",
		 strlen("Subject: =?UTF-8?Q?caf=C3=A9?=\n" MIME
			"Content-Type: text/plain; charset=iso-8859-1\n"
			"Content-Transfer-Encoding: quoted-printable\n\nna=EFve\n"));
	str_sets(&a3, "Subject: long\n\n-");
	for (int i = 0; i < 2000; i++)
		str_putc(&a3, 'x');
	str_putc(&a3, '\n');
	put_file(dir, "3", a3.s, a3.len);

	for (size_t i = 0; i < N_ELEMS(c); i++) {
		GMimeMessage *m = digest(dir, c[i].spec, &out);
		GMimeObject *body = g_mime_message_get_mime_part(m);
		const char *cs = g_mime_object_get_content_type_parameter(body, "charset");
		const char *cte = g_mime_object_get_header(body, "Content-Transfer-Encoding");
		char *text = GMIME_IS_TEXT_PART(body)
				 ? g_mime_text_part_get_text(GMIME_TEXT_PART(body))
				 : NULL;
		if (!cs || strcmp(cs, c[i].charset) != 0 || !cte || strcmp(cte, c[i].cte) != 0 ||
		    !text || !strstr(text, c[i].text) || !strstr(text, "End of elena Digest\n")) {
			print_error("%s: got %s %s\n[%s]\nwant %s %s, text [%s]\n", c[i].spec,
				    cs ? cs : "(none)", cte ? cte : "(none)", text ? text : "",
				    c[i].charset, c[i].cte, c[i].text);
			bad++;
		}
		/* the lines on the wire: none over 998 octets */
		for (const char *p = out.s, *nl; p < out.s + out.len; p = nl + 1) {
			nl = memchr(p, '\n', out.len - (size_t)(p - out.s));
			if (!nl)
				nl = out.s + out.len;
			if (nl - p > 998 && strcmp(c[i].cte, "quoted-printable") == 0)
				bad++, print_error("%s: a line of %zu octets\n", c[i].spec,
						   (size_t)(nl - p));
		}
		g_free(text);
		g_object_unref(m);
	}
	str_free(&out);
	str_free(&a3);
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	assert_int_equal(bad, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cases),     cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_long_line), cmocka_unit_test(test_fd),
	    cmocka_unit_test(test_digest),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
