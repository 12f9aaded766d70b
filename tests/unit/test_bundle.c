/* bundle: ranges, article_open, plans and every output mode. */
#include "unit.h"

#include "list/bundle.h"
#include "list/bundlewrite.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <glib.h>
#include <unistd.h>

/* ---------------------------------------------------------------- ranges */

/* "1-3,5" for a range set; "" when empty */
static void range_text(const artrange *r, str *out)
{
	str_clear(out);
	for (size_t i = 0; i < r->n; i++) {
		if (i)
			str_putc(out, ',');
		if (r->iv[i][0] == r->iv[i][1])
			str_printf(out, "%ld", r->iv[i][0]);
		else
			str_printf(out, "%ld-%ld", r->iv[i][0], r->iv[i][1]);
	}
}

static void test_ranges(void **state)
{
	static const struct {
		const char *spec;
		long last, max;
		fml_status want;
		const char *ranges; /* or the reason when refused */
	} c[] = {
	    {"5", 100, 0, ST_OK, "5"},
	    {"1-10,12,15-20", 100, 0, ST_OK, "1-10,12,15-20"},
	    {"first", 100, 0, ST_OK, "1"},
	    {"last", 100, 0, ST_OK, "100"},
	    {"LAST", 100, 0, ST_OK, "100"},
	    {"first:10", 100, 0, ST_OK, "1-10"},
	    {"last:30", 100, 0, ST_OK, "71-100"},
	    {"last:300", 100, 0, ST_OK, "1-100"},
	    {"first:300", 100, 0, ST_OK, "1-100"},
	    {"90-last", 100, 0, ST_OK, "90-100"},
	    {"first-3", 100, 0, ST_OK, "1-3"},
	    {"first-last", 100, 0, ST_OK, "1-100"},
	    /* clipping */
	    {"1-99999999", 100, 0, ST_OK, "1-100"},
	    {"0-5", 100, 0, ST_OK, "1-5"},
	    {"5,200", 100, 0, ST_OK, "5"},
	    {"9223372036854775807", 100, 0, ST_DATAERR, "no such articles"},
	    /* merging and sorting */
	    {"5-10,1-3,4", 100, 0, ST_OK, "1-10"},
	    {"20-30,25-40,1,1,1", 100, 0, ST_OK, "1,20-40"},
	    {"7,5,3", 100, 0, ST_OK, "3,5,7"},
	    {"1-5,7-9", 100, 0, ST_OK, "1-5,7-9"},
	    /* limits */
	    {"1-10", 100, 10, ST_OK, "1-10"},
	    {"1-11", 100, 10, ST_DATAERR, "too many articles requested"},
	    {"last:5,1-6", 100, 10, ST_DATAERR, "too many articles requested"},
	    {"1-5,3-7", 100, 7, ST_OK, "1-7"},
	    /* refused */
	    {"9223372036854775808", 100, 0, ST_DATAERR, "number out of range"},
	    {"1-99999999999999999999", 100, 0, ST_DATAERR, "number out of range"},
	    {"last:99999999999999999999", 100, 0, ST_DATAERR, "number out of range"},
	    {"", 100, 0, ST_DATAERR, "empty item in range"},
	    {"1,,2", 100, 0, ST_DATAERR, "empty item in range"},
	    {"1,", 100, 0, ST_DATAERR, "empty item in range"},
	    {",1", 100, 0, ST_DATAERR, "empty item in range"},
	    {"10-5", 100, 0, ST_DATAERR, "range end before its start"},
	    {"last-5", 100, 0, ST_DATAERR, "range end before its start"},
	    {"5x", 100, 0, ST_DATAERR, "junk after item in range"},
	    {"1-5 ", 100, 0, ST_DATAERR, "junk after item in range"},
	    {"1-2-3", 100, 0, ST_DATAERR, "junk after item in range"},
	    {"last:5x", 100, 0, ST_DATAERR, "junk after item in range"},
	    {"-5", 100, 0, ST_DATAERR, "bad item in range"},
	    {"1-", 100, 0, ST_DATAERR, "bad item in range"},
	    {"lastly", 100, 0, ST_DATAERR, "bad item in range"},
	    {"../../etc/passwd", 100, 0, ST_DATAERR, "bad item in range"},
	    {"last:0", 100, 0, ST_DATAERR, "bad count after ':' in range"},
	    {"first:", 100, 0, ST_DATAERR, "bad count after ':' in range"},
	    {"200-300", 100, 0, ST_DATAERR, "no such articles"},
	    {"1", 0, 0, ST_DATAERR, "no such articles"},
	};
	int bad = 0;
	artrange r;
	str why = STR_INIT, got = STR_INIT;

	artrange_init(&r);
	for (size_t i = 0; i < N_ELEMS(c); i++) {
		str_clear(&why);
		fml_status st = artrange_parse(c[i].spec, c[i].last, c[i].max, &r, &why);
		WANT_ST(c[i].spec, st, c[i].want);
		if (st == ST_OK)
			range_text(&r, &got);
		else
			str_set(&got, why.s, why.len);
		if (strcmp(str_c(&got), c[i].ranges) != 0) {
			print_error("%s: got \"%s\", want \"%s\"\n", c[i].spec, str_c(&got),
				    c[i].ranges);
			bad++;
		}
		if (st != ST_OK && r.n != 0) {
			print_error("%s: refused but %zu intervals\n", c[i].spec, r.n);
			bad++;
		}
	}
	/* memory follows the items, not the numbers */
	artrange_free(&r);
	assert_int_equal(artrange_parse("1-99999999", 99999999, 0, &r, &why), ST_OK);
	assert_int_equal(r.n, 1);
	assert_true(r.cap <= 1);
	assert_int_equal(artrange_count(&r), 99999999);
	assert_int_equal(artrange_parse("1,3,5", 10, 0, &r, &why), ST_OK);
	assert_int_equal(artrange_count(&r), 3);
	artrange_free(&r);
	str_free(&why);
	str_free(&got);
	assert_int_equal(bad, 0);
}

static void test_modes(void **state)
{
	static const char *const names[] = {"mp", "uf", "rfc1153", "rfc934", "tgz", "gz"};
	bundle_mode m;
	for (size_t i = 0; i < N_ELEMS(names); i++) {
		assert_true(bundle_mode_parse(names[i], &m));
		assert_string_equal(bundle_mode_name(m), names[i]);
	}
	assert_true(bundle_mode_parse("MP", &m));
	assert_int_equal(m, BM_MP);
	assert_false(bundle_mode_parse("zip", &m));
	assert_false(bundle_mode_parse("", &m));
}

/* ---------------------------------------------------------------- spool */

static void put_file(const char *dir, const char *name, const char *data, size_t len)
{
	char path[PATH_MAX];
	PATHF(path, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void read_file(const char *dir, long n, str *out)
{
	char path[PATH_MAX], buf[4096];
	size_t k;
	PATHF(path, "%s/%ld", dir, n);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	str_clear(out);
	while ((k = fread(buf, 1, sizeof buf, f)) > 0)
		str_append(out, buf, k);
	fclose(f);
}

static void test_article_open(void **state)
{
	char dir[PATH_MAX], path[PATH_MAX], target[PATH_MAX];
	int fd;
	off_t size;
	article_store s;

	assert_int_equal(unit_tmpdir(dir, sizeof dir, "bundle"), 0);
	article_store_init(&s, dir, NULL);
	put_file(dir, "1", "abc\n", 4);
	PATHF(path, "%s/2", dir);
	PATHF(target, "%s/1", dir);
	assert_int_equal(symlink(target, path), 0);
	PATHF(path, "%s/3", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	PATHF(path, "%s/4", dir);
	assert_int_equal(mkfifo(path, 0600), 0);

	assert_int_equal(article_open(&s, 1, &fd, &size), ST_OK);
	assert_int_equal(size, 4);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
	assert_int_equal(article_open(&s, 2, &fd, &size), ST_NOINPUT); /* symlink */
	assert_int_equal(article_open(&s, 3, &fd, &size), ST_NOINPUT); /* directory */
	assert_int_equal(article_open(&s, 4, &fd, &size), ST_NOINPUT); /* FIFO */
	assert_int_equal(article_open(&s, 5, &fd, &size), ST_NOINPUT);
	assert_int_equal(article_open(&s, 0, &fd, &size), ST_NOINPUT);
	assert_int_equal(article_open(&s, -1, &fd, &size), ST_NOINPUT);
	assert_int_equal(fd, -1);
	article_store_free(&s);
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void test_plan(void **state)
{
	char dir[PATH_MAX], name[32];
	static const long have[] = {1, 2, 3, 5, 8, 13};
	static const size_t sizes[] = {100, 200, 300, 50, 1000, 10};
	char data[1000];
	artrange r;
	str why = STR_INIT;
	bundle b;
	article_store s;

	memset(data, 'x', sizeof data);
	assert_int_equal(unit_tmpdir(dir, sizeof dir, "bundle"), 0);
	article_store_init(&s, dir, "");
	for (size_t i = 0; i < N_ELEMS(have); i++) {
		PATHF(name, "%ld", have[i]);
		put_file(dir, name, data, sizes[i]);
	}
	artrange_init(&r);
	assert_int_equal(artrange_parse("1-20", 20, 0, &r, &why), ST_OK);

	assert_int_equal(bundle_plan(&s, &r, 0, &b), ST_OK);
	assert_int_equal(b.n, 6);
	for (size_t i = 0; i < N_ELEMS(have); i++) {
		assert_int_equal(b.arts[i], have[i]);
		assert_int_equal(b.sizes[i], sizes[i]);
	}
	assert_string_equal(str_c(&b.missing), "4 6-7 9-12 14-20");
	assert_int_equal(b.nparts, 1);
	assert_int_equal(b.part_end[0], 6);
	bundle_free(&b);

	/* 100+200 | 300+50 | 1000 (alone, over the limit) | 10 */
	assert_int_equal(bundle_plan(&s, &r, 350, &b), ST_OK);
	assert_int_equal(b.nparts, 4);
	assert_int_equal(b.part_end[0], 2);
	assert_int_equal(b.part_end[1], 4);
	assert_int_equal(b.part_end[2], 5);
	assert_int_equal(b.part_end[3], 6);
	bundle_free(&b);

	assert_int_equal(artrange_parse("4,6-7", 20, 0, &r, &why), ST_OK);
	assert_int_equal(bundle_plan(&s, &r, 0, &b), ST_OK);
	assert_int_equal(b.n, 0);
	assert_int_equal(b.nparts, 0);
	assert_string_equal(str_c(&b.missing), "4 6-7");
	bundle_free(&b);

	assert_int_equal(artrange_parse("3", 20, 0, &r, &why), ST_OK);
	assert_int_equal(bundle_plan(&s, &r, 0, &b), ST_OK);
	assert_string_equal(str_c(&b.missing), "");
	bundle_free(&b);

	artrange_free(&r);
	str_free(&why);
	article_store_free(&s);
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---------------------------------------------------------------- writing */

static const char art1[] = "From: =?UTF-8?B?Q2Fmw6k=?= <cafe@example.org>\n"
			   "Subject: caf\xc3\xa9 8bit\n"
			   "Date: Sat, 21 Nov 2026 10:00:00 +0900\n"
			   "Return-Path: <bounce@example.org>\n"
			   "\n"
			   "body \xe9\xe8\n"
			   "From here\n"
			   ">From there\n";
static const char art2[] = "From: Bob <bob@example.org>\r\n"
			   "Subject: crlf\r\n"
			   "To: list@example.org\r\n"
			   "Cc: cc@example.org\r\n"
			   "\r\n"
			   "line one\r\n"
			   "-dash line\r\n";
static const char art3[] = "From: carol@example.org\n"
			   "Subject: =?UTF-8?Q?evil=0Asubject?=\n"
			   "\n"
			   "--not a boundary\n"
			   "last line without newline";

typedef struct fixture {
	char dir[PATH_MAX];
	article_store s;
	bundle b;
	str out;
} fixture;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof *f);
	artrange r;
	str why = STR_INIT;

	if (!f || unit_tmpdir(f->dir, sizeof f->dir, "bundle") < 0)
		return -1;
	article_store_init(&f->s, f->dir, NULL);
	put_file(f->dir, "1", art1, sizeof art1 - 1);
	put_file(f->dir, "2", art2, sizeof art2 - 1);
	put_file(f->dir, "3", art3, sizeof art3 - 1);
	artrange_init(&r);
	if (artrange_parse("1-3", 3, 0, &r, &why) != ST_OK ||
	    bundle_plan(&f->s, &r, 0, &f->b) != ST_OK)
		return -1;
	artrange_free(&r);
	str_free(&why);
	str_init(&f->out);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	bundle_free(&f->b);
	article_store_free(&f->s);
	str_free(&f->out);
	nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static fml_status str_sink(void *arg, const void *p, size_t n)
{
	str_append(arg, p, n);
	return ST_OK;
}

static const char *write_mode(fixture *f, bundle_mode m)
{
	str_clear(&f->out);
	assert_int_equal(bundlewrite(&f->b, 0, m, &f->s, "elena", str_sink, &f->out), ST_OK);
	return str_c(&f->out);
}

static void want_in(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		fail_msg("missing \"%s\" in:\n%s", needle, hay);
}

/* The boundary of the Content-Type line of OUT. */
static void get_boundary(const char *out, char *buf, size_t size)
{
	const char *p = strstr(out, "boundary=\"");
	assert_non_null(p);
	p += strlen("boundary=\"");
	const char *q = strchr(p, '"');
	assert_non_null(q);
	assert_true((size_t)(q - p) < size);
	memcpy(buf, p, (size_t)(q - p));
	buf[q - p] = 0;
}

static void test_write_mp(void **state)
{
	fixture *f = *state;
	const char *out = write_mode(f, BM_MP);
	char bd[128], delim[160];
	const char *arts[] = {art1, art2, art3};
	size_t lens[] = {sizeof art1 - 1, sizeof art2 - 1, sizeof art3 - 1};

	assert_true(strncmp(out, "Content-Type: multipart/digest; boundary=\"", 42) == 0);
	want_in(out, "\nContent-Transfer-Encoding: 8bit\n\n");
	get_boundary(out, bd, sizeof bd);
	assert_true(strlen(bd) >= 32);
	want_in(out, "1: caf\xc3\xa9 8bit (Caf\xc3\xa9)\n2: crlf (Bob)\n"
		     "3: evil subject (carol@example.org)\n");
	/* each article: delimiter, blank line, its bytes, then "\n--B" */
	snprintf(delim, sizeof delim, "\n--%s", bd);
	const char *p = strstr(out, delim);
	assert_non_null(p);
	p = strstr(p + 1, delim); /* skip the contents part */
	for (size_t i = 0; i < 3; i++) {
		assert_non_null(p);
		p += strlen(delim);
		assert_true(strncmp(p, "\n\n", 2) == 0);
		p += 2;
		const char *end = strstr(p, delim);
		assert_non_null(end);
		assert_int_equal((size_t)(end - p), lens[i]);
		assert_memory_equal(p, arts[i], lens[i]);
		p = end;
	}
	assert_true(strncmp(p + strlen(delim), "--\n", 3) == 0);
	assert_int_equal(p + strlen(delim) + 3 - out, f->out.len);
}

static void test_write_uf(void **state)
{
	fixture *f = *state;
	const char *out = write_mode(f, BM_UF);

	static const char head[] = "Content-Type: text/plain; charset=UTF-8\n"
				   "Content-Transfer-Encoding: 8bit\n\n"
				   "From bounce@example.org Sat Nov 21 01:00:00 2026\n"
				   "From: =?UTF-8?B?Q2Fmw6k=?= <cafe@example.org>\n";

	assert_true(strncmp(out, head, sizeof head - 1) == 0);
	want_in(out, "body \xe9\xe8\n>From here\n>>From there\n\nFrom bob@example.org ");
	want_in(out, "\r\nline one\r\n-dash line\r\n\nFrom carol@example.org ");
	/* the missing final newline is added, then the blank separator line */
	want_in(out, "--not a boundary\nlast line without newline\n\n");
	assert_int_equal(strstr(out, "last line without newline\n\n") + 27 - out, f->out.len);
}

static void test_write_rfc1153(void **state)
{
	fixture *f = *state;
	const char *out = write_mode(f, BM_RFC1153);
	/* each article as its decoded text (mimetext.c): fields decoded, the
	 * 8-bit non-MIME body read as ISO-8859-1, CRLF made LF, dash-stuffed */
	static const char want[] =
	    "Content-Type: text/plain; charset=UTF-8\n"
	    "Content-Transfer-Encoding: 8bit\n\n"
	    "elena Digest\n\nToday's Topics:\n\n"
	    "   1: caf\xc3\xa9 8bit (Caf\xc3\xa9)\n"
	    "   2: crlf (Bob)\n"
	    "   3: evil subject (carol@example.org)\n\n"
	    "----------------------------------------------------------------------\n\n"
	    "Date: Sat, 21 Nov 2026 10:00:00 +0900\n"
	    "From: Caf\xc3\xa9 <cafe@example.org>\n"
	    "Subject: caf\xc3\xa9 8bit\n\n"
	    "body \xc3\xa9\xc3\xa8\nFrom here\n>From there\n\n"
	    "------------------------------\n\n"
	    "From: Bob <bob@example.org>\nSubject: crlf\nTo: list@example.org\n"
	    "Cc: cc@example.org\n\nline one\n- -dash line\n\n"
	    "------------------------------\n\n"
	    "From: carol@example.org\nSubject: evil subject\n\n"
	    "- --not a boundary\nlast line without newline\n\n"
	    "------------------------------\n\n"
	    "End of elena Digest\n"
	    "*******************\n";

	if (strcmp(out, want) != 0)
		fail_msg("got:\n%s\nwant:\n%s", out, want);
	/* fields only: no Return-Path */
	assert_null(strstr(out, "Return-Path"));
}

static void test_write_rfc934(void **state)
{
	fixture *f = *state;
	const char *out = write_mode(f, BM_RFC934);

	want_in(out, "Content-Type: text/plain; charset=UTF-8\n");
	want_in(out, "\n------------------------------\n\nFrom: =?UTF-8?B?Q2Fmw6k=?=");
	want_in(out, "Return-Path: <bounce@example.org>\n\nbody");
	want_in(out, "\r\nline one\r\n- -dash line\r\n\n------------------------------\n");
	want_in(out, "\n- --not a boundary\nlast line without newline\n\n"
		     "------------------------------\n");
}

/* The base64 body of the attachment part of OUT, decoded. */
static guchar *attachment(const char *out, const char *bd, gsize *len)
{
	char delim[160];
	const char *p = strstr(out, "Content-Transfer-Encoding: base64\n\n");
	assert_non_null(p);
	p += strlen("Content-Transfer-Encoding: base64\n\n");
	snprintf(delim, sizeof delim, "\n--%s--\n", bd);
	const char *end = strstr(p, delim);
	assert_non_null(end);
	for (const char *l = p; l < end;) { /* lines of at most 76 */
		const char *nl = memchr(l, '\n', (size_t)(end - l));
		if (!nl)
			nl = end;
		assert_true(nl - l <= 76);
		l = nl + 1;
	}
	char *b64 = strndup(p, (size_t)(end - p));
	guchar *bin = g_base64_decode(b64, len);
	free(b64);
	return bin;
}

static void check_mixed(const char *out, const char *fname, char *bd, size_t size)
{
	char want[256];
	assert_true(strncmp(out, "Content-Type: multipart/mixed; boundary=\"", 41) == 0);
	get_boundary(out, bd, size);
	want_in(out, "Content-Type: text/plain; charset=UTF-8\n");
	want_in(out, "2: crlf (Bob)\n");
	snprintf(want, sizeof want,
		 "Content-Type: application/gzip; name=\"%s\"\n"
		 "Content-Disposition: attachment; filename=\"%s\"\n"
		 "Content-Transfer-Encoding: base64\n",
		 fname, fname);
	want_in(out, want);
}

static void test_write_tgz(void **state)
{
	fixture *f = *state;
	const char *out = write_mode(f, BM_TGZ);
	char bd[128];
	gsize len;
	str want = STR_INIT;
	struct archive_entry *ae;
	char buf[4096];

	check_mixed(out, "elena-1-3.tar.gz", bd, sizeof bd);
	guchar *bin = attachment(out, bd, &len);
	assert_true(len > 2 && bin[0] == 0x1f && bin[1] == 0x8b);

	struct archive *a = archive_read_new();
	archive_read_support_filter_gzip(a);
	archive_read_support_format_tar(a);
	assert_int_equal(archive_read_open_memory(a, bin, len), ARCHIVE_OK);
	for (long n = 1; n <= 3; n++) {
		char name[32];
		struct stat sb;
		str got = STR_INIT;
		la_ssize_t k;
		assert_int_equal(archive_read_next_header(a, &ae), ARCHIVE_OK);
		snprintf(name, sizeof name, "spool/%ld", n);
		assert_string_equal(archive_entry_pathname(ae), name);
		assert_int_equal(archive_entry_perm(ae), 0644);
		PATHF(name, "%s/%ld", f->dir, n);
		assert_int_equal(stat(name, &sb), 0);
		assert_int_equal(archive_entry_mtime(ae), sb.st_mtime);
		while ((k = archive_read_data(a, buf, sizeof buf)) > 0)
			str_append(&got, buf, (size_t)k);
		assert_true(k == 0);
		read_file(f->dir, n, &want);
		assert_int_equal(archive_entry_size(ae), want.len);
		assert_int_equal(got.len, want.len);
		assert_memory_equal(got.s, want.s, want.len);
		str_free(&got);
	}
	assert_int_equal(archive_read_next_header(a, &ae), ARCHIVE_EOF);
	archive_read_free(a);
	g_free(bin);
	str_free(&want);
}

static void test_write_gz(void **state)
{
	fixture *f = *state;
	str uf = STR_INIT, got = STR_INIT;
	char bd[128], buf[4096];
	gsize len;
	la_ssize_t k;
	struct archive_entry *ae;

	write_mode(f, BM_UF);
	const char *body = strstr(str_c(&f->out), "\n\n");
	assert_non_null(body);
	str_sets(&uf, body + 2);
	const char *out = write_mode(f, BM_GZ);
	check_mixed(out, "elena-1-3.gz", bd, sizeof bd);
	guchar *bin = attachment(out, bd, &len);

	struct archive *a = archive_read_new();
	archive_read_support_filter_gzip(a);
	archive_read_support_format_raw(a);
	assert_int_equal(archive_read_open_memory(a, bin, len), ARCHIVE_OK);
	assert_int_equal(archive_read_next_header(a, &ae), ARCHIVE_OK);
	while ((k = archive_read_data(a, buf, sizeof buf)) > 0)
		str_append(&got, buf, (size_t)k);
	assert_true(k == 0);
	archive_read_free(a);
	/* the gzipped file is the uf body, byte for byte (the From_ dates come
	 * from the Date fields or the files' mtimes, the same in both runs) */
	assert_int_equal(got.len, uf.len);
	assert_memory_equal(got.s, uf.s, uf.len);
	g_free(bin);
	str_free(&uf);
	str_free(&got);
}

/* bundlewrite_mbox: the body of uf exactly, without its MIME header */
static void test_write_mbox(void **state)
{
	fixture *f = *state;
	str raw = STR_INIT;
	static const char mime[] = "Content-Type: text/plain; charset=UTF-8\n"
				   "Content-Transfer-Encoding: 8bit\n\n";

	assert_int_equal(bundlewrite_mbox(&f->b, 0, &f->s, str_sink, &raw), ST_OK);
	write_mode(f, BM_UF);
	assert_int_equal(raw.len + sizeof mime - 1, f->out.len);
	assert_memory_equal(raw.s, f->out.s + sizeof mime - 1, raw.len);
	assert_true(strncmp(raw.s, "From bounce@example.org ", 24) == 0);
	str_free(&raw);
}

static fml_status failing_sink(void *arg, const void *p, size_t n)
{
	int *calls = arg;
	++*calls;
	return ST_TEMPFAIL;
}

static void test_write_errors(void **state)
{
	fixture *f = *state;
	char path[PATH_MAX];
	static const bundle_mode modes[] = {BM_MP, BM_UF, BM_RFC1153, BM_RFC934, BM_TGZ, BM_GZ};

	for (size_t i = 0; i < N_ELEMS(modes); i++) {
		int calls = 0;
		assert_int_equal(
		    bundlewrite(&f->b, 0, modes[i], &f->s, "elena", failing_sink, &calls),
		    ST_TEMPFAIL);
		assert_true(calls >= 1);
	}
	/* an article that vanished after the plan */
	PATHF(path, "%s/2", f->dir);
	assert_int_equal(unlink(path), 0);
	for (size_t i = 0; i < N_ELEMS(modes); i++) {
		str_clear(&f->out);
		assert_int_equal(bundlewrite(&f->b, 0, modes[i], &f->s, "elena", str_sink, &f->out),
				 ST_TEMPFAIL);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ranges),
	    cmocka_unit_test(test_modes),
	    cmocka_unit_test(test_article_open),
	    cmocka_unit_test(test_plan),
	    cmocka_unit_test_setup_teardown(test_write_mp, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_write_uf, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_write_rfc1153, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_write_rfc934, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_write_tgz, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_write_gz, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_write_mbox, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_write_errors, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
