/*
 * Unit tests for lib/mail/maildir.c (maildir_ops), in a private temporary
 * directory.  What is asserted is what a mail reader sees: one file per
 * recipient in <root>/<rcpt>/new/ named after the Maildir spec, holding
 * "Delivered-To:" and "Return-Path:" and then the stored bytes; nothing
 * left in tmp/; a code per recipient.  A failing case prints "got X,
 * want Y".
 */
#include "unit.h"

#include "util/msg.h"
#include "mail/transport.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <regex.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[PATH_MAX];

static int setup(void **state)
{
	(void)state;
	if (unit_tmpdir(root, sizeof root, "maildir") < 0)
		return -1;
	chmod(root, 0755); /* the read-only case runs as nobody when we are root */
	msg_set_stderr(0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* A fresh empty directory ROOT/NAME (mode 0755). */
static void fresh_dir(char *dir, size_t size, const char *name)
{
	int n = snprintf(dir, size, "%s/%s", root, name);
	assert_true(n > 0 && (size_t)n < size);
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	assert_int_equal(mkdir(dir, 0755), 0);
}

/* A message file holding PREFIX then MSG; the transport_msg covers MSG only. */
static transport_msg message_file(const char *dir, const char *prefix, const char *msg)
{
	char path[PATH_MAX];
	PATHF(path, "%s/.item", dir);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, prefix, strlen(prefix)), (ssize_t)strlen(prefix));
	assert_int_equal(write(fd, msg, strlen(msg)), (ssize_t)strlen(msg));
	unlink(path);
	transport_msg m = {
	    fd, (off_t)strlen(prefix), (off_t)(strlen(prefix) + strlen(msg)), NULL, NULL, NULL, 0};
	return m;
}

/* The names in DIR (not . and ..), count returned, first name in FIRST. */
static int list_dir(const char *dir, char *first, size_t size)
{
	DIR *d = opendir(dir);
	int n = 0;
	if (!d)
		return -1;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (n++ == 0 && first)
			snprintf(first, size, "%s", e->d_name);
	}
	closedir(d);
	return n;
}

static void read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	ssize_t n = read(fd, buf, size - 1);
	assert_true(n >= 0);
	buf[n] = 0;
	close(fd);
}

static transport_conn *connect_to(const char *dir)
{
	str err = STR_INIT;
	transport_conn *c = maildir_ops.connect(dir, NULL, &err);
	if (!c)
		fail_msg("connect %s: %s", dir, str_c(&err));
	str_free(&err);
	return c;
}

/* RCPT's maildir under DIR holds exactly one new message: WANT. */
static void assert_delivered(const char *dir, const char *rcpt, const char *want)
{
	char path[PATH_MAX], name[NAME_MAX + 1], got[8192];
	static const char *const subs[] = {"tmp", "new", "cur"};
	for (size_t i = 0; i < N_ELEMS(subs); i++) {
		struct stat st;
		PATHF(path, "%s/%s/%s", dir, rcpt, subs[i]);
		assert_int_equal(stat(path, &st), 0);
		if ((st.st_mode & 07777) != 0700)
			fail_msg("%s: got mode %o, want 700", path, st.st_mode & 07777);
		int n = list_dir(path, name, sizeof name);
		int want_n = strcmp(subs[i], "new") == 0;
		if (n != want_n)
			fail_msg("%s: got %d files, want %d", path, n, want_n);
	}
	PATHF(path, "%s/%s/new", dir, rcpt);
	list_dir(path, name, sizeof name);
	regex_t re;
	assert_int_equal(regcomp(&re, "^[0-9]+\\.M[0-9]{6}P[0-9]+Q[0-9]+\\.[^/:]+$", REG_EXTENDED),
			 0);
	if (regexec(&re, name, 0, NULL, 0) != 0)
		fail_msg("got name %s, want <sec>.M<usec>P<pid>Q<n>.<host>", name);
	regfree(&re);
	PATHF(path, "%s/%s/new/%s", dir, rcpt, name);
	read_file(path, got, sizeof got);
	if (strcmp(got, want) != 0)
		fail_msg("%s: got\n%s\nwant\n%s", rcpt, got, want);
}

static const char MSG[] = "From: alice@example.com\nSubject: hi\n\nbody\n";

static void test_three_recipients(void **state)
{
	(void)state;
	char dir[PATH_MAX], want[1024];
	fresh_dir(dir, sizeof dir, "three");
	/* a queue item's own lines before the message are not delivered */
	transport_msg m = message_file(dir, "FMLQ 1\nsender x\n\n", MSG);
	const char *rcpts[] = {"alice@example.com", "bob@example.net", "carol@example.org"};
	transport_result res[3];
	memset(res, 0, sizeof res);
	transport_conn *c = connect_to(dir);
	assert_int_equal(maildir_ops.send(c, "elena-bounces@example.org", rcpts, 3, &m, res), 0);
	for (size_t i = 0; i < N_ELEMS(rcpts); i++) {
		if (res[i].code != 250)
			fail_msg("%s: got %d %s, want 250", rcpts[i], res[i].code, res[i].text);
		PATHF(want, "Delivered-To: %s\nReturn-Path: <elena-bounces@example.org>\n%s",
		      rcpts[i], MSG);
		assert_delivered(dir, rcpts[i], want);
	}
	/* a second transaction on the same conn: a second file, a new name */
	assert_int_equal(maildir_ops.send(c, "", rcpts, 1, &m, res), 0);
	assert_int_equal(res[0].code, 250);
	char path[PATH_MAX];
	PATHF(path, "%s/%s/new", dir, rcpts[0]);
	assert_int_equal(list_dir(path, NULL, 0), 2);
	maildir_ops.close(c);
	close(m.fd);
}

static void test_crlf_message(void **state)
{
	(void)state;
	char dir[PATH_MAX];
	fresh_dir(dir, sizeof dir, "crlf");
	transport_msg m = message_file(dir, "", "Subject: x\r\n\r\nbody\r\n");
	const char *rcpts[] = {"dave@example.com"};
	transport_result res[1];
	transport_conn *c = connect_to(dir);
	assert_int_equal(maildir_ops.send(c, "", rcpts, 1, &m, res), 0);
	assert_int_equal(res[0].code, 250);
	assert_delivered(dir, "dave@example.com",
			 "Delivered-To: dave@example.com\r\nReturn-Path: <>\r\n"
			 "Subject: x\r\n\r\nbody\r\n");
	maildir_ops.close(c);
	close(m.fd);
}

static void test_unsafe_recipients(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "", ".", "..", ".hidden@example.com", "../etc", "a/b@example.com", "a\nb@example.com"};
	char dir[PATH_MAX];
	fresh_dir(dir, sizeof dir, "unsafe");
	transport_msg m = message_file(dir, "", MSG);
	transport_conn *c = connect_to(dir);
	for (size_t i = 0; i < N_ELEMS(bad); i++) {
		const char *rcpts[] = {bad[i], "ok@example.com"};
		transport_result res[2];
		memset(res, 0, sizeof res);
		assert_int_equal(maildir_ops.send(c, "s@example.org", rcpts, 2, &m, res), 0);
		if (res[0].code != 550)
			fail_msg("rcpt %zu: got %d %s, want 550", i, res[0].code, res[0].text);
		if (res[1].code != 250)
			fail_msg("ok after %zu: got %d %s, want 250", i, res[1].code, res[1].text);
	}
	/* nothing but ok@example.com was made; the parent got nothing */
	assert_int_equal(list_dir(dir, NULL, 0), 1);
	char path[PATH_MAX];
	PATHF(path, "%s/ok@example.com/new", dir);
	assert_int_equal(list_dir(path, NULL, 0), (int)N_ELEMS(bad));
	PATHF(path, "%s/etc", root);
	assert_false(access(path, F_OK) == 0);
	maildir_ops.close(c);
	close(m.fd);
}

/* Run send as "nobody" when we are root, so permissions apply. */
static int send_unprivileged(transport_conn *c, const char *const *rcpts, size_t n,
			     const transport_msg *m, transport_result *res)
{
	int root_user = geteuid() == 0;
	if (root_user)
		assert_int_equal(seteuid(65534), 0);
	int rc = maildir_ops.send(c, "s@example.org", rcpts, n, m, res);
	if (root_user)
		assert_int_equal(seteuid(0), 0);
	return rc;
}

static void test_read_only_target(void **state)
{
	(void)state;
	char dir[PATH_MAX], path[PATH_MAX];
	fresh_dir(dir, sizeof dir, "readonly");
	transport_msg m = message_file(dir, "", MSG);
	/* existing maildir whose tmp/ is read-only, and a root we cannot write */
	PATHF(path, "%s/frank@example.com", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	PATHF(path, "%s/frank@example.com/tmp", dir);
	assert_int_equal(mkdir(path, 0555), 0);
	PATHF(path, "%s/frank@example.com/new", dir);
	assert_int_equal(mkdir(path, 0777), 0);
	PATHF(path, "%s/frank@example.com/cur", dir);
	assert_int_equal(mkdir(path, 0777), 0);
	chmod(dir, 0555);
	const char *rcpts[] = {"frank@example.com", "grace@example.com"};
	transport_result res[2];
	memset(res, 0, sizeof res);
	transport_conn *c = connect_to(dir);
	assert_int_equal(send_unprivileged(c, rcpts, 2, &m, res), 0);
	for (size_t i = 0; i < N_ELEMS(rcpts); i++) {
		if (res[i].code != 451 || !strstr(res[i].text, "Permission denied"))
			fail_msg("%s: got %d %s, want 451 ... Permission denied", rcpts[i],
				 res[i].code, res[i].text);
	}
	assert_non_null(strstr(res[0].text, "create"));
	assert_non_null(strstr(res[1].text, "mkdir"));
	PATHF(path, "%s/frank@example.com/tmp", dir);
	assert_int_equal(list_dir(path, NULL, 0), 0);
	chmod(dir, 0755);
	maildir_ops.close(c);
	close(m.fd);
}

static void test_connect_errors(void **state)
{
	(void)state;
	static const struct {
		const char *rest, *want;
	} cases[] = {
	    {"relative/path", "absolute path"},
	    {"/nonexistent/fml-maildir-root", "No such file"},
	    {"/etc/passwd", "not a directory"},
	};
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		str err = STR_INIT;
		transport_conn *c = maildir_ops.connect(cases[i].rest, NULL, &err);
		if (c || !strstr(str_c(&err), cases[i].want))
			fail_msg("%s: got %p \"%s\", want NULL \"...%s...\"", cases[i].rest,
				 (void *)c, str_c(&err), cases[i].want);
		str_free(&err);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_three_recipients),  cmocka_unit_test(test_crlf_message),
	    cmocka_unit_test(test_unsafe_recipients), cmocka_unit_test(test_read_only_target),
	    cmocka_unit_test(test_connect_errors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
