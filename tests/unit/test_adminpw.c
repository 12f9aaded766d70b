/*
 * Unit tests for lib/list/adminpw.c: admin passwords in DIR/etc/passwd and the
 * lockout in DIR/var/db/adminauth.  Set then check (right, wrong, another
 * address, a missing file), a yescrypt hash ("$y$") in a 0600 file,
 * replace, remove (comments and other lines kept), and the lockout with
 * config_new()'s defaults (ADMIN_LOCKOUT_FAILURES 5, ADMIN_LOCKOUT_TIME 1
 * hour): locked after 5 failures within the hour, not after 5 spread over
 * more than the hour, unlocked when the time is over.  A failing case
 * prints "got X, want Y".
 */
#include "unit.h"

#include "list/adminpw.h"
#include "list/config.h"
#include "util/msg.h"
#include "util/safefile.h"
#include "util/str.h"
#include "util/fs.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[PATH_MAX]; /* the list directory */
static char passwd[PATH_MAX];
static char authdb[PATH_MAX];
static config *cf;

#define T0 1700000000L
#define HOUR 3600L

static int setup(void **state)
{
	if (unit_tmphome(root, sizeof root, "adminpw") < 0)
		return -1;
	PATHF(passwd, "%s/etc/passwd", root);
	PATHF(authdb, "%s/var/db/adminauth", root);
	msg_set_stderr(0);
	cf = config_new();
	return 0;
}

static int teardown(void **state)
{
	config_free(cf);
	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static void fresh(void)
{
	if (unlink(passwd) != 0 && errno != ENOENT)
		fail_msg("unlink %s: %s", passwd, strerror(errno));
	if (unlink(authdb) != 0 && errno != ENOENT)
		fail_msg("unlink %s: %s", authdb, strerror(errno));
}

static int want_int(const char *what, long got, long want)
{
	if (got != want) {
		print_error("%s: got %ld, want %ld\n", what, got, want);
		return 1;
	}
	return 0;
}

static void test_set_check(void **state)
{
	static const struct {
		const char *addr, *password;
		int want;
	} c[] = {
	    {"admin@example.org", "correct horse", 1},
	    {"admin@EXAMPLE.org", "correct horse", 1}, /* domain case does not matter */
	    {"admin@example.org", "correct horsE", 0},
	    {"admin@example.org", "correct horse ", 0},
	    {"admin@example.org", "", 0},
	    {"Admin@example.org", "correct horse", 0}, /* the local part does */
	    {"other@example.org", "s3cret", 1},
	    {"other@example.org", "correct horse", 0},
	    {"nobody@example.org", "correct horse", 0},
	};
	int bad = 0;
	char what[128];
	fresh();
	bad += want_int("check, no file", adminpw_check(root, "admin@example.org", "x"), 0);
	assert_int_equal(adminpw_set(root, "admin@example.org", "correct horse"), ST_OK);
	assert_int_equal(adminpw_set(root, "other@example.org", "s3cret"), ST_OK);
	for (size_t i = 0; i < N_ELEMS(c); i++) {
		snprintf(what, sizeof what, "check %s \"%s\"", c[i].addr, c[i].password);
		bad += want_int(what, adminpw_check(root, c[i].addr, c[i].password), c[i].want);
	}
	/* the file: two "addr $y$..." lines, mode 0600, no password in it */
	str text = STR_INIT;
	struct stat st;
	assert_int_equal(fs_read(passwd, &text, 0), ST_OK);
	if (strncmp(str_c(&text), "admin@example.org $y$", 21) != 0 ||
	    !strstr(str_c(&text), "\nother@example.org $y$") || strstr(str_c(&text), "horse")) {
		print_error("etc/passwd: got \"%s\", want two \"addr $y$...\" lines\n",
			    str_c(&text));
		bad++;
	}
	assert_int_equal(stat(passwd, &st), 0);
	bad += want_int("etc/passwd mode", (long)(st.st_mode & 07777), 0600);
	assert_int_equal(adminpw_set(root, "bad addr", "x"), ST_DATAERR);
	assert_int_equal(adminpw_set(root, "admin@example.org", ""), ST_DATAERR);
	str_free(&text);
	assert_int_equal(bad, 0);
}

static void test_update_remove(void **state)
{
	int bad = 0;
	str text = STR_INIT;
	fresh();
	static const char start[] = "# admin passwords\n\nadmin@example.org $y$broken\n"
				    "keep@example.org $y$kept\n";
	assert_int_equal(safefile_replace(passwd, start, sizeof start - 1, 0), ST_OK);
	bad += want_int("broken hash", adminpw_check(root, "admin@example.org", "x"), 0);
	assert_int_equal(adminpw_set(root, "admin@EXAMPLE.org", "old"), ST_OK);
	bad += want_int("set over broken", adminpw_check(root, "admin@example.org", "old"), 1);
	assert_int_equal(adminpw_set(root, "admin@example.org", "new"), ST_OK);
	bad += want_int("old after update", adminpw_check(root, "admin@example.org", "old"), 0);
	bad += want_int("new after update", adminpw_check(root, "admin@example.org", "new"), 1);
	assert_int_equal(fs_read(passwd, &text, 0), ST_OK);
	if (strncmp(str_c(&text), "# admin passwords\n\nadmin@example.org $y$", 39) != 0 ||
	    !strstr(str_c(&text), "\nkeep@example.org $y$kept\n")) {
		print_error("after update: got \"%s\", want the comment, the blank line, the "
			    "entry in its place and keep@'s line\n",
			    str_c(&text));
		bad++;
	}
	assert_int_equal(adminpw_remove(root, "admin@example.org"), ST_OK);
	bad += want_int("after remove", adminpw_check(root, "admin@example.org", "new"), 0);
	assert_int_equal(fs_read(passwd, &text, 0), ST_OK);
	if (strcmp(str_c(&text), "# admin passwords\n\nkeep@example.org $y$kept\n") != 0) {
		print_error("after remove: got \"%s\", want the other lines kept\n", str_c(&text));
		bad++;
	}
	assert_int_equal(adminpw_remove(root, "admin@example.org"), ST_OK); /* none: still OK */
	assert_int_equal(unlink(passwd), 0);
	assert_int_equal(adminpw_remove(root, "admin@example.org"), ST_OK); /* no file */
	str_free(&text);
	assert_int_equal(bad, 0);
}

static void test_lockout(void **state)
{
	int bad = 0;
	time_t until = 1;
	long limit = (long)config_int(cf, CF_ADMIN_LOCKOUT_FAILURES);
	long window = (long)config_int(cf, CF_ADMIN_LOCKOUT_TIME);
	bad += want_int("default failures", limit, 5);
	bad += want_int("default time", window, HOUR);

	/* 5 within the window: the fifth locks */
	fresh();
	bad += want_int("locked, no file", adminpw_locked(root, cf, T0, &until), 0);
	bad += want_int("until, no file", (long)until, 0);
	for (long i = 0; i < limit; i++) {
		char what[64];
		snprintf(what, sizeof what, "failure %ld within the window", i + 1);
		bad += want_int(what, adminpw_failed(root, cf, T0 + i * 600), i == limit - 1);
	}
	long locked_at = T0 + (limit - 1) * 600;
	bad += want_int("locked after 5", adminpw_locked(root, cf, locked_at + 1, &until), 1);
	bad += want_int("until", (long)until, locked_at + window);
	bad += want_int("failure while locked", adminpw_failed(root, cf, locked_at + 2), 0);
	bad += want_int("still locked", adminpw_locked(root, cf, locked_at + window - 1, NULL), 1);
	bad += want_int("unlocked after the time",
			adminpw_locked(root, cf, locked_at + window, &until), 0);
	bad += want_int("a failure after the lock starts again",
			adminpw_failed(root, cf, locked_at + window + 1), 0);
	bad += want_int("not locked after one",
			adminpw_locked(root, cf, locked_at + window + 2, NULL), 0);

	/* 5 spread over more than the window: no lock */
	fresh();
	for (long i = 0; i < limit; i++) {
		char what[64];
		snprintf(what, sizeof what, "failure %ld spread", i + 1);
		bad += want_int(what, adminpw_failed(root, cf, T0 + i * (window / 4 + 60)), 0);
	}
	bad += want_int("not locked when spread",
			adminpw_locked(root, cf, T0 + limit * (window / 4 + 60), NULL), 0);

	/* a damaged state file reads as no failures */
	assert_int_equal(safefile_replace(authdb, "garbage", 7, 0), ST_OK);
	bad += want_int("damaged state", adminpw_locked(root, cf, T0, NULL), 0);
	bad += want_int("failure on damaged state", adminpw_failed(root, cf, T0), 0);
	assert_int_equal(bad, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_set_check),
	    cmocka_unit_test(test_update_remove),
	    cmocka_unit_test(test_lockout),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
