/*
 * Unit tests for lib/list/dedupe.c: the duplicate cache DIR/var/db/dedupe.db.
 * Record then seen (by SHA-256 and by Message-ID), persistence across
 * opens, expiry (an open with a `now` far in the future), and a damaged or
 * missing cache: fml logs it and goes on, so seen answers 0 and nothing
 * crashes.  The damaged-file cases run in a child so that a crash or an
 * exit inside gdbm is reported, not fatal to the test run.  A failing case
 * prints "got X, want Y".
 */
#include "unit.h"

#include "list/dedupe.h"
#include "util/msg.h"
#include "util/str.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char root[PATH_MAX];   /* the list directory */
static char dbpath[PATH_MAX]; /* ROOT/var/db/dedupe.db */

#define T0 1700000000L /* a fixed "now" */
#define DAY 86400L
#define EXPIRE (30 * DAY)

static const char sha_a[] = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
static const char sha_b[] = "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752";

static int setup(void **state)
{
	char path[PATH_MAX];
	if (unit_tmpdir(root, sizeof root, "dedupe") < 0)
		return -1;
	PATHF(path, "%s/var", root);
	if (mkdir(path, 0700) != 0)
		return -1;
	PATHF(path, "%s/var/db", root);
	if (mkdir(path, 0700) != 0)
		return -1;
	PATHF(dbpath, "%s/var/db/dedupe.db", root);
	msg_set_stderr(0);
	return 0;
}

static int teardown(void **state)
{
	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static void fresh_db(void)
{
	if (unlink(dbpath) != 0 && errno != ENOENT)
		fail_msg("unlink %s: %s", dbpath, strerror(errno));
}

static int want_long(const char *what, long got, long want)
{
	if (got != want) {
		print_error("%s: got %ld, want %ld\n", what, got, want);
		return 1;
	}
	return 0;
}

static void test_record_seen(void **state)
{
	int bad = 0;
	fresh_db();
	dedupe *d = dedupe_open(root, T0, EXPIRE);
	assert_non_null(d);
	bad += want_long("empty cache, sha", dedupe_seen_sha(d, sha_a), 0);
	bad += want_long("empty cache, msgid", dedupe_seen_msgid(d, "<a@x>", 5), 0);
	dedupe_record(d, sha_a, "<a@x>", 5, 7);
	dedupe_record(d, sha_b, "", 0, 8); /* no Message-ID */
	static const struct {
		const char *what;
		int by_sha;
		const char *key;
		size_t len;
		long want;
	} c[] = {
	    {"sha a", 1, sha_a, 0, 7},
	    {"sha b", 1, sha_b, 0, 8},
	    {"msgid a", 0, "<a@x>", 5, 7},
	    {"msgid a, length-bounded", 0, "<a@x>trailing", 5, 7},
	    {"msgid a, other case", 0, "<A@X>", 5, 0}, /* Message-IDs are compared exactly */
	    {"msgid a, prefix", 0, "<a@x", 4, 0},
	    {"msgid empty", 0, "", 0, 0},
	    {"unknown sha", 1, "0000000000000000000000000000000000000000000000000000000000000000",
	     0, 0},
	    {"sha a as a msgid", 0, sha_a, 64, 0}, /* separate key spaces */
	    {"msgid a as a sha", 1, "<a@x>", 0, 0},
	};
	char what[96];
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < N_ELEMS(c); i++) {
			long got = c[i].by_sha ? dedupe_seen_sha(d, c[i].key)
					       : dedupe_seen_msgid(d, c[i].key, c[i].len);
			snprintf(what, sizeof what, "%s (%s)", c[i].what,
				 pass ? "after reopen" : "same handle");
			bad += want_long(what, got, c[i].want);
		}
		/* persisted: close and open again, a day later */
		dedupe_close(d);
		d = dedupe_open(root, T0 + DAY, EXPIRE);
		assert_non_null(d);
	}
	/* a second record of the same key updates it */
	dedupe_record(d, sha_a, "<a@x>", 5, 70);
	bad += want_long("re-recorded sha", dedupe_seen_sha(d, sha_a), 70);
	bad += want_long("re-recorded msgid", dedupe_seen_msgid(d, "<a@x>", 5), 70);
	dedupe_close(d);
	dedupe_close(NULL); /* harmless */
	struct stat st;
	if (stat(dbpath, &st) != 0 || (st.st_mode & 07777) != 0600) {
		print_error("dedupe.db mode %o, want 0600\n", (unsigned)st.st_mode & 07777);
		bad++;
	}
	assert_int_equal(bad, 0);
}

static void test_expiry(void **state)
{
	static const struct {
		long later; /* seconds after the record */
		long want;
	} c[] = {
	    {0, 5},	     {DAY, 5},		{EXPIRE - 1, 5},
	    {EXPIRE, 5}, /* "older than" the expiry: not yet */
	    {EXPIRE + 1, 0}, {EXPIRE + DAY, 0}, {100 * 365 * DAY, 0}, /* far in the future */
	};
	int bad = 0;
	char what[96];
	for (size_t i = 0; i < N_ELEMS(c); i++) {
		fresh_db();
		dedupe *d = dedupe_open(root, T0, EXPIRE);
		dedupe_record(d, sha_a, "<e@x>", 5, 5);
		dedupe_close(d);
		d = dedupe_open(root, T0 + c[i].later, EXPIRE);
		snprintf(what, sizeof what, "%ld s later, sha", c[i].later);
		bad += want_long(what, dedupe_seen_sha(d, sha_a), c[i].want);
		snprintf(what, sizeof what, "%ld s later, msgid", c[i].later);
		bad += want_long(what, dedupe_seen_msgid(d, "<e@x>", 5), c[i].want);
		dedupe_close(d);
	}
	/* the expiry given to dedupe_open counts, not a built-in one */
	fresh_db();
	dedupe *d = dedupe_open(root, T0, 60);
	dedupe_record(d, sha_b, "<f@x>", 5, 9);
	bad += want_long("expire 60, same second", dedupe_seen_sha(d, sha_b), 9);
	dedupe_close(d);
	d = dedupe_open(root, T0 + 61, 60);
	bad += want_long("expire 60, 61 s later", dedupe_seen_sha(d, sha_b), 0);
	dedupe_close(d);
	/* an expired entry is really gone: an open "back in time" does not
	 * revive it once a later open swept it */
	fresh_db();
	d = dedupe_open(root, T0, EXPIRE);
	dedupe_record(d, sha_a, "<g@x>", 5, 3);
	dedupe_close(d);
	d = dedupe_open(root, T0 + EXPIRE + 2 * DAY, EXPIRE);
	dedupe_close(d);
	d = dedupe_open(root, T0, EXPIRE);
	bad += want_long("swept entry, back in time", dedupe_seen_sha(d, sha_a), 0);
	dedupe_close(d);
	assert_int_equal(bad, 0);
}

/* In a child: open the cache as it is on disk, look up, record, look up
 * again, close.  Exit 0 when the lookups say "not seen" and nothing broke;
 * 10+ when a lookup of the garbage answered something. */
static int child_use_cache(void)
{
	dedupe *d = dedupe_open(root, T0, EXPIRE);
	if (!d)
		return 2;
	int rc = 0;
	if (dedupe_seen_sha(d, sha_a) != 0)
		rc = 10;
	if (dedupe_seen_msgid(d, "<a@x>", 5) != 0)
		rc = 11;
	dedupe_record(d, sha_b, "<b@x>", 5, 4);
	(void)dedupe_seen_sha(d, sha_b); /* 4 if the file was usable, else 0 */
	dedupe_close(d);
	return rc;
}

static int run_child(const char *what)
{
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		alarm(20);
		_exit(child_use_cache());
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status)) {
		print_error("%s: got death by signal %d, want exit 0\n", what, WTERMSIG(status));
		return 1;
	}
	if (WEXITSTATUS(status) != 0) {
		print_error("%s: got exit %d, want 0 (not seen, no crash)\n", what,
			    WEXITSTATUS(status));
		return 1;
	}
	return 0;
}

static void write_bytes(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_true(write(fd, p, n) == (ssize_t)n);
	assert_int_equal(close(fd), 0);
}

/* A real cache with sha_a and <a@x> recorded, as bytes. */
static void good_db(str *out)
{
	fresh_db();
	dedupe *d = dedupe_open(root, T0, EXPIRE);
	for (int k = 0; k < 200; k++) {
		char sha[65], mid[32];
		snprintf(sha, sizeof sha, "%064d", k);
		int n = snprintf(mid, sizeof mid, "<%d@filler>", k);
		dedupe_record(d, sha, mid, (size_t)n, k + 1);
	}
	dedupe_record(d, sha_a, "<a@x>", 5, 1);
	dedupe_close(d);
	str_clear(out);
	int fd = open(dbpath, O_RDONLY);
	assert_true(fd >= 0);
	char buf[8192];
	ssize_t n;
	while ((n = read(fd, buf, sizeof buf)) > 0)
		str_append(out, buf, (size_t)n);
	close(fd);
	assert_true(out->len > 512);
}

static void test_corrupt(void **state)
{
	int bad = 0;
	str good = STR_INIT, b = STR_INIT;

	/* garbage bytes of several sizes */
	static const size_t sizes[] = {1, 4, 100, 4096, 65536};
	char what[96];
	for (size_t i = 0; i < N_ELEMS(sizes); i++) {
		str_clear(&b);
		for (size_t k = 0; k < sizes[i]; k++)
			str_putc(&b, (int)((k * 2654435761u) >> 13));
		write_bytes(dbpath, b.s, b.len);
		snprintf(what, sizeof what, "%zu garbage bytes", sizes[i]);
		bad += run_child(what);
	}
	/* text, and an empty file */
	write_bytes(dbpath, "this is not a gdbm file\n", 24);
	bad += run_child("a text file");
	write_bytes(dbpath, "", 0);
	bad += run_child("an empty file");

	/* a real cache, damaged: the header kept, the rest overwritten; and
	 * truncated */
	good_db(&good);
	str_set(&b, good.s, good.len);
	memset(b.s + 64, 0xff, b.len - 64);
	write_bytes(dbpath, b.s, b.len);
	bad += run_child("real cache, all but the first 64 bytes 0xff");
	str_set(&b, good.s, good.len);
	for (size_t k = 512; k < b.len; k += 97)
		b.s[k] ^= 0x5a;
	write_bytes(dbpath, b.s, b.len);
	{
		/* a lookup may still find sha_a in an undamaged bucket; only
		 * "no crash" is asked here */
		fflush(NULL);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			alarm(20);
			dedupe *d = dedupe_open(root, T0, EXPIRE);
			(void)dedupe_seen_sha(d, sha_a);
			dedupe_record(d, sha_b, "<b@x>", 5, 4);
			(void)dedupe_seen_msgid(d, "<b@x>", 5);
			dedupe_close(d);
			_exit(0);
		}
		int status;
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			print_error("real cache, bytes flipped: got %s %d, want exit 0\n",
				    WIFSIGNALED(status) ? "signal" : "exit",
				    WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
			bad++;
		}
	}
	write_bytes(dbpath, good.s, good.len / 2);
	bad += run_child("real cache, truncated to half");
	write_bytes(dbpath, good.s, 100);
	bad += run_child("real cache, truncated to 100 bytes");

	/* a directory where the file should be, and no var/db at all */
	fresh_db();
	assert_int_equal(mkdir(dbpath, 0700), 0);
	bad += run_child("a directory in its place");
	/* it was set aside as dedupe.db.damaged.* and a fresh cache made */
	struct stat st;
	assert_int_equal(lstat(dbpath, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	char vardb[PATH_MAX];
	PATHF(vardb, "%s/var/db", root);
	nftw(vardb, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	bad += run_child("no var/db");
	/* in this process too: the calls on an unusable cache are no-ops */
	dedupe *d = dedupe_open(root, T0, EXPIRE);
	assert_non_null(d);
	dedupe_record(d, sha_a, "<a@x>", 5, 1);
	bad += want_long("no var/db: seen after record", dedupe_seen_sha(d, sha_a), 0);
	dedupe_close(d);
	assert_int_equal(mkdir(vardb, 0700), 0);
	str_free(&good);
	str_free(&b);
	assert_int_equal(bad, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_record_seen),
	    cmocka_unit_test(test_expiry),
	    cmocka_unit_test(test_corrupt),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
