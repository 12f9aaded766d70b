/* archunit and the article store: reading expired articles from units,
 * the unit cache, hostile and corrupt units, EXPIRE_LIMIT parsing. */
#include "unit.h"

#include "list/archunit.h"
#include "list/seq.h"
#include "list/article.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <unistd.h>

typedef struct entry {
	const char *name;
	const char *data;
	int dir; /* a directory entry, not a file */
} entry;

/* DIR/NAME as a ustar+gzip file of ENTS. */
static void make_unit(const char *dir, const char *name, const entry *ents, size_t n)
{
	char path[PATH_MAX];
	PATHF(path, "%s/%s", dir, name);
	struct archive *a = archive_write_new();
	assert_int_equal(archive_write_set_format_ustar(a), ARCHIVE_OK);
	assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *ae = archive_entry_new();
		size_t len = ents[i].data ? strlen(ents[i].data) : 0;
		archive_entry_set_pathname(ae, ents[i].name);
		archive_entry_set_filetype(ae, ents[i].dir ? AE_IFDIR : AE_IFREG);
		archive_entry_set_perm(ae, 0644);
		archive_entry_set_size(ae, (la_int64_t)len);
		assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
		if (len)
			assert_int_equal(archive_write_data(a, ents[i].data, len), (la_ssize_t)len);
		archive_entry_free(ae);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
}

/* Article N of S, read whole; NULL when not ST_OK (status in *ST). */
static char *read_article(article_store *s, long n, fml_status *st)
{
	int fd;
	off_t size;
	if ((*st = article_open(s, n, &fd, &size)) != ST_OK)
		return NULL;
	char *buf = calloc(1, (size_t)size + 1);
	assert_non_null(buf);
	assert_int_equal(pread(fd, buf, (size_t)size, 0), size);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
	return buf;
}

typedef struct homes {
	char root[PATH_MAX], spool[PATH_MAX], arch[PATH_MAX];
} homes;

static void homes_make(homes *h)
{
	assert_int_equal(unit_tmpdir(h->root, sizeof h->root, "archunit"), 0);
	PATHF(h->spool, "%s/spool", h->root);
	PATHF(h->arch, "%s/archive", h->root);
	assert_int_equal(mkdir(h->spool, 0700), 0);
	assert_int_equal(mkdir(h->arch, 0700), 0);
}

static void test_store_reads_units(void **state)
{
	homes h;
	article_store s;
	fml_status st;
	char path[PATH_MAX];
	static const entry u3[] = {
	    {"spool/1", "one\n", 0},	     {"README", "not an article", 0},
	    {"spool/2", "two\nFrom x\n", 0}, {"spool/007", "leading zero", 0},
	    {"spool/../etc", "escape", 0},   {"spool/9", NULL, 1},
	    {"spool/3", "three", 0},
	};
	static const entry u6[] = {{"spool/4", "four\n", 0}, {"spool/6", "six\n", 0}};

	homes_make(&h);
	make_unit(h.arch, "3.tar.gz", u3, N_ELEMS(u3));
	make_unit(h.arch, "6.tar.gz", u6, N_ELEMS(u6));
	make_unit(h.arch, "x.tar.gz", u6, N_ELEMS(u6)); /* not a unit name */
	PATHF(path, "%s/9.tar.gz", h.arch);
	assert_int_equal(symlink("6.tar.gz", path), 0); /* never followed */
	PATHF(path, "%s/3", h.spool);
	FILE *fp = fopen(path, "w");
	fputs("three in the spool", fp);
	fclose(fp);

	article_store_init(&s, h.spool, h.arch);
	static const struct {
		long n;
		fml_status st;
		const char *want;
	} c[] = {
	    {1, ST_OK, "one\n"},
	    {2, ST_OK, "two\nFrom x\n"},
	    {3, ST_OK, "three in the spool"}, /* the spool comes first */
	    {4, ST_OK, "four\n"},
	    {5, ST_NOINPUT, NULL}, /* a hole in its unit */
	    {6, ST_OK, "six\n"},
	    {7, ST_NOINPUT, NULL}, /* in no unit (9.tar.gz is a symlink) */
	    {9, ST_NOINPUT, NULL},
	    {0, ST_NOINPUT, NULL},
	};
	int bad = 0;
	for (size_t i = 0; i < N_ELEMS(c); i++) {
		char *got = read_article(&s, c[i].n, &st);
		WANT_ST("article", st, c[i].st);
		if (c[i].want && (!got || strcmp(got, c[i].want) != 0)) {
			print_error("article %ld: got \"%s\", want \"%s\"\n", c[i].n,
				    got ? got : "(null)", c[i].want);
			bad++;
		}
		free(got);
	}
	assert_int_equal(bad, 0);

	/* the cache: unit 6 was read last and is held whole */
	PATHF(path, "%s/6.tar.gz", h.arch);
	assert_int_equal(unlink(path), 0);
	char *got = read_article(&s, 4, &st);
	assert_int_equal(st, ST_OK);
	assert_string_equal(got, "four\n");
	free(got);
	/* and another unit replaces it */
	got = read_article(&s, 1, &st);
	assert_string_equal(got, "one\n");
	free(got);
	assert_null(read_article(&s, 6, &st));
	assert_int_equal(st, ST_NOINPUT);

	/* no archive at all */
	article_store_free(&s);
	article_store_init(&s, h.spool, "");
	assert_null(read_article(&s, 1, &st));
	assert_int_equal(st, ST_NOINPUT);
	article_store_free(&s);
	nftw(h.root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void test_store_corrupt_unit(void **state)
{
	homes h;
	article_store s;
	fml_status st;
	char path[PATH_MAX], big[4096];
	entry ents[40];
	char names[40][16];

	homes_make(&h);
	/* random-looking data, so that gzip cannot shrink it much */
	for (size_t i = 0; i < sizeof big - 1; i++)
		big[i] = (char)('!' + (i * 7919 + i / 13) % 90);
	big[sizeof big - 1] = 0;
	for (int i = 0; i < 40; i++) {
		snprintf(names[i], sizeof names[i], "spool/%d", i + 1);
		ents[i] = (entry){names[i], big, 0};
	}
	make_unit(h.arch, "100.tar.gz", ents, 40);
	PATHF(path, "%s/100.tar.gz", h.arch);
	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(truncate(path, sb.st_size / 2), 0);

	article_store_init(&s, h.spool, h.arch);
	assert_null(read_article(&s, 1, &st));
	assert_int_equal(st, ST_TEMPFAIL); /* the whole unit is read: it breaks */
	assert_null(read_article(&s, 40, &st));
	assert_int_equal(st, ST_TEMPFAIL);

	/* not gzip at all */
	FILE *fp = fopen(path, "w");
	fputs("garbage, not a tar.gz\n", fp);
	fclose(fp);
	assert_null(read_article(&s, 2, &st));
	assert_int_equal(st, ST_TEMPFAIL);
	article_store_free(&s);
	nftw(h.root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void test_units_scan(void **state)
{
	homes h;
	long ge, max;
	static const entry none[] = {{"spool/1", "x", 0}};

	homes_make(&h);
	assert_int_equal(seq_units(h.arch, 1, &ge, &max), ST_OK);
	assert_int_equal(ge + max, 0);
	make_unit(h.arch, "100.tar.gz", none, 1);
	make_unit(h.arch, "200.tar.gz", none, 1);
	make_unit(h.arch, "0200.tar.gz", none, 1);
	make_unit(h.arch, "300.tar.gz.tmp", none, 1);
	assert_int_equal(seq_units(h.arch, 101, &ge, &max), ST_OK);
	assert_int_equal(ge, 200);
	assert_int_equal(max, 200);
	assert_int_equal(seq_units(h.arch, 100, &ge, &max), ST_OK);
	assert_int_equal(ge, 100);
	assert_int_equal(seq_units(h.arch, 201, &ge, &max), ST_OK);
	assert_int_equal(ge, 0);
	assert_int_equal(seq_units("/nonexistent/fml", 1, &ge, &max), ST_OK);
	assert_int_equal(max, 0);
	nftw(h.root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void test_parse_limit(void **state)
{
	static const struct {
		const char *s;
		fml_status st;
		long n;
		int days;
	} c[] = {
	    {"100", ST_OK, 100, 0},	     {"7days", ST_OK, 7, 1},
	    {"1day", ST_OK, 1, 1},	     {"30d", ST_OK, 30, 1},
	    {"7DAYS", ST_OK, 7, 1},	     {"100000000", ST_OK, 100000000, 0},
	    {"100000001", ST_DATAERR, 0, 0}, {"99999999999999999999999", ST_DATAERR, 0, 0},
	    {"0", ST_DATAERR, 0, 0},	     {"0days", ST_DATAERR, 0, 0},
	    {"", ST_DATAERR, 0, 0},	     {"days", ST_DATAERR, 0, 0},
	    {"-5", ST_DATAERR, 0, 0},	     {"7 days", ST_DATAERR, 0, 0},
	    {"7weeks", ST_DATAERR, 0, 0},    {"7daysx", ST_DATAERR, 0, 0},
	};
	int bad = 0;
	for (size_t i = 0; i < N_ELEMS(c); i++) {
		long n = 0;
		int days = -1;
		fml_status st = archunit_parse_limit(c[i].s, &n, &days);
		WANT_ST(c[i].s, st, c[i].st);
		if (st == ST_OK && (n != c[i].n || days != c[i].days)) {
			print_error("%s: got %ld/%d, want %ld/%d\n", c[i].s, n, days, c[i].n,
				    c[i].days);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_store_reads_units),
	    cmocka_unit_test(test_store_corrupt_unit),
	    cmocka_unit_test(test_units_scan),
	    cmocka_unit_test(test_parse_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
