/*
 * Unit tests for lib/queue/qitem.c: queue items as doc/fml-queue.5 describes
 * them.  A written item is parsed back here from first principles
 * (envelope lines, rcpt lines, blank line, message bytes, the 96-byte
 * trailer with its length and SHA-256 computed by GLib); the rename to new/
 * is the commit; qitem_exists() looks where a committed item can be.  A
 * failing case prints "got X, want Y".
 */
#include "unit.h"

#include "util/msg.h"
#include "queue/qitem.h"
#include "queue/queue.h"
#include "util/str.h"
#include "util/mem.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glib.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char root[PATH_MAX];
static char qdir[PATH_MAX]; /* ROOT/var/queue */

static const char *const areas[] = {"tmp", "new", "active", "deferred", "sent", "drop", "corrupt"};

static void make_areas(void)
{
	char path[PATH_MAX];
	nftw(qdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	assert_int_equal(mkdir(qdir, 0700), 0);
	for (size_t i = 0; i < N_ELEMS(areas); i++) {
		PATHF(path, "%s/%s", qdir, areas[i]);
		assert_int_equal(mkdir(path, 0700), 0);
	}
}

static int setup(void **state)
{
	if (unit_tmpdir(root, sizeof root, "qitem") < 0)
		return -1;
	PATHF(qdir, "%s/queue", root);
	msg_set_stderr(0);
	return 0;
}

static int teardown(void **state)
{
	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* Names in queue/AREA, sorted, joined by spaces. */
static void list_area(const char *area, str *out)
{
	char path[PATH_MAX];
	struct dirent **v;
	PATHF(path, "%s/%s", qdir, area);
	str_sets(out, "");
	int n = scandir(path, &v, NULL, alphasort);
	assert_true(n >= 0);
	for (int i = 0; i < n; i++) {
		if (v[i]->d_name[0] != '.') {
			if (out->len)
				str_putc(out, ' ');
			str_puts(out, v[i]->d_name);
		}
		free(v[i]);
	}
	free(v);
}

static int check_area(const char *what, const char *area, const char *want)
{
	str got = STR_INIT;
	list_area(area, &got);
	int bad = strcmp(str_c(&got), want) != 0;
	if (bad)
		print_error("%s: %s/ holds \"%s\", want \"%s\"\n", what, area, str_c(&got), want);
	str_free(&got);
	return bad;
}

static int slurp(const char *path, str *out)
{
	str_sets(out, "");
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	char buf[8192];
	ssize_t n;
	while ((n = read(fd, buf, sizeof buf)) > 0)
		str_append(out, buf, (size_t)n);
	close(fd);
	return n < 0 ? -1 : 0;
}

typedef struct qcase {
	const char *name;
	const char *sender;
	const char *list;
	long article;
	const char *rcpts; /* NUL-separated */
	size_t nrcpt;
	const char *msg; /* NULL: generated big message */
	size_t msglen;
} qcase;

/* Parse the item at new/NAME and compare it with what was written. */
static int check_item(const qcase *c, const char *msg, size_t msglen, time_t t0, time_t t1)
{
	int bad = 0;
	char path[PATH_MAX];
	str file = STR_INIT, want = STR_INIT;
	PATHF(path, "%s/new/%s", qdir, c->name);
	if (slurp(path, &file) < 0) {
		print_error("%s: cannot read new/%s: %s\n", c->name, c->name, strerror(errno));
		return 1;
	}
	/* the envelope, line by line */
	long long created = -1;
	const char *cl = NULL;
	if (file.len > 40 && (cl = strstr(file.s, "\ncreated ")) != NULL)
		created = strtoll(cl + 9, NULL, 10);
	if (created < t0 || created > t1) {
		print_error("%s: created got %lld, want in [%lld, %lld]\n", c->name, created,
			    (long long)t0, (long long)t1);
		bad++;
	}
	str_printf(&want, "FMLQ 1\nsender %s\ncreated %lld\nlist %s\n", c->sender, created,
		   c->list);
	if (c->article > 0)
		str_printf(&want, "article %ld\n", c->article);
	const char *r = c->rcpts;
	for (size_t k = 0; k < c->nrcpt; k++) {
		str_printf(&want, "rcpt - %s\n", r);
		r += strlen(r) + 1;
	}
	str_putc(&want, '\n');
	size_t envlen = want.len;
	if (file.len < envlen || memcmp(file.s, want.s, envlen) != 0) {
		print_error("%s: envelope got \"%.*s\", want \"%s\"\n", c->name,
			    (int)(file.len < envlen ? file.len : envlen), file.s, want.s);
		bad++;
	}
	str_append(&want, msg, msglen);
	size_t body = want.len; /* everything before the trailer */
	if (file.len != body + QITEM_TRAILER_LEN) {
		print_error("%s: size got %zu, want %zu + %d\n", c->name, file.len, body,
			    QITEM_TRAILER_LEN);
		str_free(&file);
		str_free(&want);
		return bad + 1;
	}
	if (memcmp(file.s + envlen, msg, msglen) != 0) {
		print_error("%s: message bytes differ\n", c->name);
		bad++;
	}
	char *sha = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)want.s, body);
	char trailer[QITEM_TRAILER_LEN + 1];
	int tl = snprintf(trailer, sizeof trailer, "\nFMLQ-END %020zu %s\n", body, sha);
	assert_int_equal(tl, QITEM_TRAILER_LEN);
	if (memcmp(file.s + body, trailer, QITEM_TRAILER_LEN) != 0) {
		print_error("%s: trailer got \"%.*s\", want \"%s\"\n", c->name, QITEM_TRAILER_LEN,
			    file.s + body, trailer);
		bad++;
	}
	struct stat sb;
	if (stat(path, &sb) != 0 || (sb.st_mode & 07777) != 0600) {
		print_error("%s: mode %o, want 0600\n", c->name, (unsigned)sb.st_mode & 07777);
		bad++;
	}
	g_free(sha);
	str_free(&file);
	str_free(&want);
	return bad;
}

static void test_write_parse(void **state)
{
	static const char crlf[] = "Subject: x\r\n\r\nline\r\n.\r\n..dot\r\n";
	static const char nul[] = "Subject: y\n\nbin\0ary\n";
	static const qcase c[] = {
	    {"a1", "elena-admin@example.org", "elena", 1, "a@example.org\0", 1,
	     "Subject: hi\n\nbody\n", 18},
	    {"a123", "elena-admin@example.org", "elena", 123,
	     "a@example.org\0b@example.net\0c@example.com\0", 3, "Subject: hi\n\nbody\n", 18},
	    {"reply.1700000000.000001.42", "", "elena", 0, "x@example.org\0", 1, "Subject: r\n\n",
	     12}, /* <> sender, no article line */
	    {"a7", "s@x", "elena", 7, "", 0, "Subject: none\n\n", 15}, /* no recipients */
	    {"a8", "s@x", "elena", 8, "a@x\0", 1, "", 0},	       /* empty message */
	    {"a9", "s@x", "elena", 9, "a@x\0", 1, crlf, sizeof crlf - 1},
	    {"a10", "s@x", "elena", 10, "a@x\0", 1, nul, sizeof nul - 1},
	    {"a11", "s@x", "elena", 11, "a@x\0b@x\0", 2, NULL, 0}, /* big message */
	    {"digest_1-2.x", "s@x", "elena", 0, "a@x\0", 1, "m", 1},
	};
	size_t biglen = 200000;
	char *big = mem_alloc(biglen);
	for (size_t k = 0; k < biglen; k++)
		big[k] = (char)(k % 251);
	int bad = 0;
	str tmpl = STR_INIT, newl = STR_INIT;
	make_areas();
	for (size_t i = 0; i < N_ELEMS(c); i++) {
		const char *msg = c[i].msg ? c[i].msg : big;
		size_t msglen = c[i].msg ? c[i].msglen : biglen;
		qitem_writer w;
		time_t t0 = time(NULL);
		WANT_ST(c[i].name, qitem_begin(&w, qdir, c[i].name), ST_OK);
		WANT_ST(c[i].name,
			qitem_envelope(&w, c[i].sender, c[i].list, c[i].article, c[i].rcpts,
				       c[i].nrcpt),
			ST_OK);
		/* the message in two writes */
		WANT_ST(c[i].name, qitem_write(&w, msg, msglen / 2), ST_OK);
		WANT_ST(c[i].name, qitem_write(&w, msg + msglen / 2, msglen - msglen / 2), ST_OK);
		/* nothing in new/ until the commit; the temp is tmp/NAME.* */
		list_area("new", &newl);
		list_area("tmp", &tmpl);
		size_t nl = strlen(c[i].name);
		if (strncmp(str_c(&tmpl), c[i].name, nl) != 0 || tmpl.s[nl] != '.' ||
		    strchr(tmpl.s, ' ')) {
			print_error("%s: before commit tmp/ holds \"%s\", want one %s.*\n",
				    c[i].name, str_c(&tmpl), c[i].name);
			bad++;
		}
		if (strstr(str_c(&newl), c[i].name)) {
			print_error("%s: before commit new/ holds \"%s\", want no %s\n", c[i].name,
				    str_c(&newl), c[i].name);
			bad++;
		}
		if (qitem_exists(qdir, c[i].name)) {
			print_error("%s: qitem_exists before commit: got 1, want 0\n", c[i].name);
			bad++;
		}
		WANT_ST(c[i].name, qitem_commit(&w), ST_OK);
		time_t t1 = time(NULL);
		bad += check_area(c[i].name, "tmp", "");
		bad += check_item(&c[i], msg, msglen, t0, t1);
		if (!qitem_exists(qdir, c[i].name)) {
			print_error("%s: qitem_exists after commit: got 0, want 1\n", c[i].name);
			bad++;
		}
	}
	bad += check_area("after all", "new",
			  "a1 a10 a11 a123 a7 a8 a9 digest_1-2.x reply.1700000000.000001.42");
	free(big);
	str_free(&tmpl);
	str_free(&newl);
	assert_int_equal(bad, 0);
}

static void test_abort(void **state)
{
	int bad = 0;
	make_areas();
	static const int stage[] = {0, 1, 2}; /* abort after begin, envelope, message */
	for (size_t i = 0; i < N_ELEMS(stage); i++) {
		qitem_writer w;
		WANT_ST("abort begin", qitem_begin(&w, qdir, "a5"), ST_OK);
		if (stage[i] >= 1)
			WANT_ST("abort envelope", qitem_envelope(&w, "s@x", "elena", 5, "a@x\0", 1),
				ST_OK);
		if (stage[i] >= 2) {
			char *big = mem_calloc(100000, 1); /* past the write buffer: on disk */
			WANT_ST("abort write", qitem_write(&w, big, 100000), ST_OK);
			free(big);
		}
		qitem_abort(&w);
		bad += check_area("abort", "tmp", "");
		bad += check_area("abort", "new", "");
		if (qitem_exists(qdir, "a5")) {
			print_error("abort at stage %d: qitem_exists got 1, want 0\n", stage[i]);
			bad++;
		}
	}
	/* msg_fatal()'s clean-up removes an unfinished item too */
	qitem_writer w;
	WANT_ST("cleanup begin", qitem_begin(&w, qdir, "a6"), ST_OK);
	WANT_ST("cleanup envelope", qitem_envelope(&w, "s@x", "elena", 6, "a@x\0", 1), ST_OK);
	msg_cleanup_run();
	bad += check_area("clean-up", "tmp", "");
	bad += check_area("clean-up", "new", "");
	qitem_abort(&w);
	/* a commit into a queue whose new/ is missing fails and leaves nothing */
	char newdir[PATH_MAX];
	PATHF(newdir, "%s/new", qdir);
	assert_int_equal(rmdir(newdir), 0);
	WANT_ST("no new/ begin", qitem_begin(&w, qdir, "a7"), ST_OK);
	WANT_ST("no new/ envelope", qitem_envelope(&w, "s@x", "elena", 7, "a@x\0", 1), ST_OK);
	WANT_ST("no new/ commit", qitem_commit(&w), ST_TEMPFAIL);
	bad += check_area("no new/", "tmp", "");
	assert_int_equal(bad, 0);
}

static void touch(const char *area, const char *name)
{
	char path[PATH_MAX];
	PATHF(path, "%s/%s/%s", qdir, area, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	close(fd);
}

static void test_exists(void **state)
{
	static const struct {
		const char *area;
		const char *file;
	} made[] = {
	    {"new", "a1"},	   {"deferred", "a2"},
	    {"active", "a3.1234"}, {"tmp", "a4.1700000000.000001.77.0badf00d"},
	    {"sent", "a6"},	   {"active", "a30.99"},
	    {"new", "a100"},	   {"tmp", "a7"},
	};
	static const struct {
		const char *name;
		int want;
	} c[] = {
	    {"a1", 1},	{"a2", 1},	{"a3", 1},   {"a4", 0}, /* tmp/ is not committed */
	    {"a5", 0},						/* nowhere */
	    {"a6", 1},	{"a7", 0}, /* even under its exact name in tmp/ */
	    {"a", 0},		   /* a prefix is not a name */
	    {"a10", 0},		   /* new/a100 is another item */
	    {"a30", 1}, {"a3.1234", 0}, {"a100", 1},
	};
	int bad = 0;
	make_areas();
	for (size_t i = 0; i < N_ELEMS(made); i++)
		touch(made[i].area, made[i].file);
	for (size_t i = 0; i < N_ELEMS(c); i++) {
		int got = qitem_exists(qdir, c[i].name);
		if (got != c[i].want) {
			print_error("qitem_exists(\"%s\"): got %d, want %d\n", c[i].name, got,
				    c[i].want);
			bad++;
		}
	}
	/* a queue without active/ still answers for the other areas */
	char active[PATH_MAX], path[PATH_MAX];
	PATHF(active, "%s/active", qdir);
	PATHF(path, "%s/active/a3.1234", qdir);
	unlink(path);
	PATHF(path, "%s/active/a30.99", qdir);
	unlink(path);
	assert_int_equal(rmdir(active), 0);
	if (qitem_exists(qdir, "a1") != 1 || qitem_exists(qdir, "a3") != 0) {
		print_error("qitem_exists without active/: got a1 %d a3 %d, want 1 0\n",
			    qitem_exists(qdir, "a1"), qitem_exists(qdir, "a3"));
		bad++;
	}
	assert_int_equal(bad, 0);
}

/* A bad item name is a programming error: msg_panic() (exit 75, after the
 * clean-up), never a file outside tmp/ or new/. */
static void test_bad_name(void **state)
{
	static char long_name[202];
	memset(long_name, 'a', sizeof long_name - 1);
	const char *const names[] = {"",    "../evil", "a/b", ".hidden",
				     "a b", "a\nb",    "a%",  long_name};
	int bad = 0;
	make_areas();
	for (size_t i = 0; i < N_ELEMS(names); i++) {
		fflush(NULL);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			qitem_writer w;
			if (qitem_begin(&w, qdir, names[i]) == ST_OK)
				(void)qitem_commit(&w);
			_exit(0);
		}
		int status;
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 75) {
			print_error("qitem_begin(\"%.20s\"): got status 0x%x, want exit 75\n",
				    names[i], status);
			bad++;
		}
	}
	bad += check_area("bad names", "tmp", "");
	bad += check_area("bad names", "new", "");
	char evil[PATH_MAX];
	PATHF(evil, "%s/evil", qdir);
	if (access(evil, F_OK) == 0) {
		print_error("bad names: %s created\n", evil);
		bad++;
	}
	assert_int_equal(bad, 0);
}

static void test_unique_name(void **state)
{
	char a[128], b[128];
	int bad = 0;
	qitem_unique_name("reply", a, sizeof a);
	usleep(2000);
	qitem_unique_name("reply", b, sizeof b);
	long long sec;
	int usec, pid, used = 0;
	if (sscanf(a, "reply.%lld.%6d.%d%n", &sec, &usec, &pid, &used) != 3 || a[used] ||
	    pid != (int)getpid()) {
		print_error("qitem_unique_name: got \"%s\", want reply.SEC.USEC.%d\n", a,
			    (int)getpid());
		bad++;
	}
	if (strcmp(a, b) == 0) {
		print_error("qitem_unique_name twice: got \"%s\" both times\n", a);
		bad++;
	}
	/* the names are valid item names */
	qitem_writer w;
	make_areas();
	WANT_ST("unique name begin", qitem_begin(&w, qdir, a), ST_OK);
	qitem_abort(&w);
	assert_int_equal(bad, 0);
}

/* queue_sender_match: the SENDER/ID argument of fmlqueue list and flush. */
static void test_sender_match(void **state)
{
	static const struct {
		const char *filter, *sender;
		int want;
	} cases[] = {
	    {NULL, NULL, 1},
	    {"", "a@example.org", 1},
	    {"@", "", 1},
	    {"@", NULL, 1},
	    {"a@example.org", "a@example.org", 1},
	    {"A@Example.ORG", "a@example.org", 1},
	    {"a@example.org", "b@example.org", 0},
	    {"a@example.org", "", 0},
	    {"a@example.org", NULL, 0},
	};
	int bad = 0;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int got = queue_sender_match(cases[i].filter, cases[i].sender);
		if (got != cases[i].want) {
			print_error("queue_sender_match(%s, %s): got %d, want %d\n",
				    cases[i].filter ? cases[i].filter : "NULL",
				    cases[i].sender ? cases[i].sender : "NULL", got, cases[i].want);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

/* queue_pid_dead: no PID and our own count as gone, a live child not. */
static void test_pid_dead(void **state)
{
	int bad = 0;
	pid_t child = fork();
	if (child == 0) {
		pause();
		_exit(0);
	}
	assert_true(child > 0);
	struct {
		long pid;
		int want;
	} cases[] = {{-1, 1}, {0, 1}, {(long)getpid(), 1}, {(long)child, 0}};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int got = queue_pid_dead(cases[i].pid);
		if (got != cases[i].want) {
			print_error("queue_pid_dead(%ld): got %d, want %d\n", cases[i].pid, got,
				    cases[i].want);
			bad++;
		}
	}
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	if (!queue_pid_dead((long)child)) {
		print_error("queue_pid_dead(%ld) after its death: got 0, want 1\n", (long)child);
		bad++;
	}
	assert_int_equal(bad, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_write_parse), cmocka_unit_test(test_abort),
	    cmocka_unit_test(test_exists),	cmocka_unit_test(test_bad_name),
	    cmocka_unit_test(test_unique_name), cmocka_unit_test(test_sender_match),
	    cmocka_unit_test(test_pid_dead),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
