/*
 * Unit tests for lib/util/lock.c: the per-list lock in both modes.
 *   flock:  DIR/var/run/lock; a second holder (a forked child, so a
 *           separate open file description) times out with ST_TEMPFAIL
 *           after about TIMEOUT seconds.
 *   v7:     DIR/var/run/lockfile.v7 holding "host boot_id pid starttime";
 *           stale locks (a dead pid of this host and boot, a reused pid,
 *           or another host's lock older than STALE_AGE) are broken; live
 *           ones are respected.
 * The time bounds are loose (0.5 s < t < 5 s for a 1 s timeout): they
 * tell a deadline from "no wait" and from "wait forever", nothing finer.
 * A failing case prints "got X, want Y".
 */
#include "unit.h"

#include "util/lock.h"
#include "util/msg.h"
#include "util/str.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char root[PATH_MAX];   /* the list directory */
static char rundir[PATH_MAX]; /* ROOT/var/run */
static char v7path[PATH_MAX]; /* ROOT/var/run/lockfile.v7 */

static int setup(void **state)
{
	char var[PATH_MAX];
	if (unit_tmpdir(root, sizeof root, "lock") < 0)
		return -1;
	PATHF(var, "%s/var", root);
	PATHF(rundir, "%s/var/run", root);
	PATHF(v7path, "%s/var/run/lockfile.v7", root);
	if (mkdir(var, 0700) != 0 || mkdir(rundir, 0700) != 0)
		return -1;
	msg_set_stderr(0);
	return 0;
}

static int teardown(void **state)
{
	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Names in var/run other than NAMES_OK (space-separated), for leftovers. */
static int check_run_dir(const char *what, const char *want)
{
	struct dirent **v;
	str got = STR_INIT;
	str_sets(&got, "");
	int n = scandir(rundir, &v, NULL, alphasort);
	assert_true(n >= 0);
	for (int i = 0; i < n; i++) {
		if (v[i]->d_name[0] != '.') {
			if (got.len)
				str_putc(&got, ' ');
			str_puts(&got, v[i]->d_name);
		}
		free(v[i]);
	}
	free(v);
	int bad = strcmp(str_c(&got), want) != 0;
	if (bad)
		print_error("%s: var/run holds \"%s\", want \"%s\"\n", what, str_c(&got), want);
	str_free(&got);
	return bad;
}

static void empty_run_dir(void)
{
	DIR *d = opendir(rundir);
	assert_non_null(d);
	struct dirent *de;
	char path[PATH_MAX];
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		PATHF(path, "%s/%s", rundir, de->d_name);
		unlink(path);
	}
	closedir(d);
}

static void read_text(const char *path, char *buf, size_t size)
{
	buf[0] = 0;
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return;
	ssize_t n = read(fd, buf, size - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
}

/* This process's identity as lockfile.v7 should record it, computed here
 * independently of lock.c: "host boot_id pid starttime\n". */
static void identity_of(pid_t pid, char *buf, size_t size)
{
	char host[256] = "", boot[64], stat_path[64], stat[1024];
	assert_int_equal(gethostname(host, sizeof host - 1), 0);
	read_text("/proc/sys/kernel/random/boot_id", boot, sizeof boot);
	boot[strcspn(boot, "\n")] = 0;
	snprintf(stat_path, sizeof stat_path, "/proc/%d/stat", (int)pid);
	read_text(stat_path, stat, sizeof stat);
	/* field 22 (starttime), counting after the ")" that ends field 2 */
	char *p = strrchr(stat, ')');
	assert_non_null(p);
	unsigned long long start = 0;
	char *save = NULL, *tok = strtok_r(p + 1, " ", &save);
	for (int field = 3; tok && field < 22; field++)
		tok = strtok_r(NULL, " ", &save);
	assert_non_null(tok);
	start = strtoull(tok, NULL, 10);
	snprintf(buf, size, "%s %s %d %llu\n", host, boot, (int)pid, start);
}

static void write_lockfile(const char *text, long age)
{
	int fd = open(v7path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_true(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	assert_int_equal(close(fd), 0);
	if (age) {
		struct timeval tv[2];
		gettimeofday(&tv[0], NULL);
		tv[0].tv_sec -= age;
		tv[1] = tv[0];
		assert_int_equal(utimes(v7path, tv), 0);
	}
}

/* ---- a child that holds (or tries) the lock, driven through pipes */

typedef struct child {
	pid_t pid;
	int to;	  /* parent writes: "go on" */
	int from; /* parent reads: the child's reports */
	int hold; /* the child waits for a byte on TO before releasing */
} child;

/* The child acquires (USE_FLOCK, TIMEOUT), reports "STATUS ELAPSED\n",
 * then, when HOLD, waits for a byte from the parent before releasing. */
static void child_start(child *c, int use_flock, long timeout, long stale_age, int hold)
{
	int down[2], up[2];
	assert_int_equal(pipe(down), 0);
	assert_int_equal(pipe(up), 0);
	fflush(NULL);
	c->pid = fork();
	assert_true(c->pid >= 0);
	if (c->pid == 0) {
		close(down[1]);
		close(up[0]);
		alarm(30); /* never outlive a broken test */
		fml_lock lk;
		double t0 = mono();
		fml_status st = lock_acquire(&lk, root, use_flock, timeout, stale_age);
		char line[64];
		int n = snprintf(line, sizeof line, "%d %.3f\n", (int)st, mono() - t0);
		if (write(up[1], line, (size_t)n) != n)
			_exit(3);
		if (hold) {
			char b;
			(void)!read(down[0], &b, 1);
		}
		if (st == ST_OK)
			lock_release(&lk);
		_exit(0);
	}
	close(down[0]);
	close(up[1]);
	c->to = down[1];
	c->from = up[0];
	c->hold = hold;
}

/* Read the child's "STATUS ELAPSED" report. */
static void child_report(child *c, fml_status *st, double *elapsed)
{
	char line[64];
	size_t n = 0;
	while (n < sizeof line - 1) {
		ssize_t r = read(c->from, line + n, 1);
		if (r <= 0 || line[n] == '\n')
			break;
		n++;
	}
	line[n] = 0;
	int s = -1;
	*elapsed = -1;
	if (sscanf(line, "%d %lf", &s, elapsed) != 2)
		fail_msg("child report: got \"%s\", want \"STATUS ELAPSED\"", line);
	*st = (fml_status)s;
}

static int child_finish(child *c)
{
	if (c->hold)
		(void)!write(c->to, "x", 1);
	close(c->to);
	close(c->from);
	int status;
	assert_int_equal(waitpid(c->pid, &status, 0), c->pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		print_error("child %d: got status 0x%x, want exit 0\n", (int)c->pid, status);
		return 1;
	}
	return 0;
}

static int check_elapsed(const char *what, double t, double lo, double hi)
{
	if (t <= lo || t >= hi) {
		print_error("%s: took %.3f s, want between %.1f and %.1f s\n", what, t, lo, hi);
		return 1;
	}
	return 0;
}

/* ---- flock mode */

static void test_flock(void **state)
{
	int bad = 0;
	empty_run_dir();
	fml_lock lk;
	WANT_ST("flock acquire", lock_acquire(&lk, root, 1, 0, 0), ST_OK);
	if (lk.fd < 0) {
		print_error("flock acquire: got fd %d, want an open fd\n", lk.fd);
		bad++;
	}
	int flags = fcntl(lk.fd, F_GETFD);
	if (flags < 0 || !(flags & FD_CLOEXEC)) {
		print_error("flock fd: got FD_CLOEXEC %d, want set\n", flags < 0 ? -1 : 0);
		bad++;
	}
	bad += check_run_dir("flock held", "lock");

	/* a child timing out while we hold it: TIMEOUT 1 */
	child c;
	fml_status st;
	double t;
	child_start(&c, 1, 1, 0, 0);
	child_report(&c, &st, &t);
	WANT_ST("flock, held by parent, child timeout 1", st, ST_TEMPFAIL);
	bad += check_elapsed("flock, child timeout 1", t, 0.5, 5.0);
	bad += child_finish(&c);
	/* TIMEOUT 0: one try, no wait */
	child_start(&c, 1, 0, 0, 0);
	child_report(&c, &st, &t);
	WANT_ST("flock, held by parent, child timeout 0", st, ST_TEMPFAIL);
	bad += check_elapsed("flock, child timeout 0", t, -1.0, 0.5);
	bad += child_finish(&c);

	/* released: the child gets it at once */
	lock_release(&lk);
	if (lk.fd != -1) {
		print_error("flock release: got fd %d, want -1\n", lk.fd);
		bad++;
	}
	lock_release(&lk); /* twice is harmless */
	child_start(&c, 1, 1, 0, 0);
	child_report(&c, &st, &t);
	WANT_ST("flock, released, child", st, ST_OK);
	bad += check_elapsed("flock, released, child", t, -1.0, 0.5);
	bad += child_finish(&c);

	/* the other way round: the child holds, we time out, then get it */
	child_start(&c, 1, 0, 0, 1);
	child_report(&c, &st, &t);
	WANT_ST("flock, child holds", st, ST_OK);
	double t0 = mono();
	WANT_ST("flock, held by child, timeout 1", lock_acquire(&lk, root, 1, 1, 0), ST_TEMPFAIL);
	bad += check_elapsed("flock, held by child, timeout 1", mono() - t0, 0.5, 5.0);
	if (lk.fd != -1 || !lk.timed_out) {
		print_error("flock timed out: got fd %d timed_out %d, want -1 and 1\n", lk.fd,
			    lk.timed_out);
		bad++;
	}
	bad += child_finish(&c);
	WANT_ST("flock, child gone", lock_acquire(&lk, root, 1, 0, 0), ST_OK);
	if (lk.timed_out) {
		print_error("flock acquired: timed_out %d, want 0\n", lk.timed_out);
		bad++;
	}
	lock_release(&lk);

	/* no var/run: ST_TEMPFAIL, not a crash */
	char nodir[PATH_MAX];
	PATHF(nodir, "%s/no-such-list", root);
	WANT_ST("flock, no var/run", lock_acquire(&lk, nodir, 1, 0, 0), ST_TEMPFAIL);
	assert_int_equal(bad, 0);
}

/* ---- v7 mode */

static void test_v7_acquire_release(void **state)
{
	int bad = 0;
	empty_run_dir();
	fml_lock lk;
	char got[512], want[512];
	WANT_ST("v7 acquire", lock_acquire(&lk, root, 0, 0, 3600), ST_OK);
	read_text(v7path, got, sizeof got);
	identity_of(getpid(), want, sizeof want);
	if (strcmp(got, want) != 0) {
		print_error("lockfile.v7: got \"%s\", want \"%s\"\n", got, want);
		bad++;
	}
	bad += check_run_dir("v7 held", "lockfile.v7"); /* no token left over */
	/* held: a second acquire in this process times out too (no re-entry) */
	fml_lock lk2;
	WANT_ST("v7 second acquire", lock_acquire(&lk2, root, 0, 0, 3600), ST_TEMPFAIL);
	bad += check_run_dir("v7 after a refused acquire", "lockfile.v7");
	lock_release(&lk);
	bad += check_run_dir("v7 released", "");
	lock_release(&lk); /* twice is harmless */

	/* the clean-up (msg_fatal, SIGTERM) removes a held lockfile.v7 */
	WANT_ST("v7 acquire for clean-up", lock_acquire(&lk, root, 0, 0, 3600), ST_OK);
	msg_cleanup_run();
	bad += check_run_dir("v7 after clean-up", "");
	lock_release(&lk);

	/* no var/run: ST_TEMPFAIL */
	char nodir[PATH_MAX];
	PATHF(nodir, "%s/no-such-list", root);
	WANT_ST("v7, no var/run", lock_acquire(&lk, nodir, 0, 0, 3600), ST_TEMPFAIL);
	assert_int_equal(bad, 0);
}

/* A reaped child's pid on this host and boot: stale, broken at once. */
static void test_v7_stale_dead_pid(void **state)
{
	int bad = 0;
	empty_run_dir();
	int p[2];
	assert_int_equal(pipe(p), 0);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char id[512];
		close(p[0]);
		identity_of(getpid(), id, sizeof id);
		_exit(write(p[1], id, strlen(id)) == (ssize_t)strlen(id) ? 0 : 1);
	}
	close(p[1]);
	char id[512];
	ssize_t n = read(p[0], id, sizeof id - 1);
	close(p[0]);
	assert_true(n > 0);
	id[n] = 0;
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid); /* reaped: the pid is gone */
	write_lockfile(id, 0);

	fml_lock lk;
	double t0 = mono();
	WANT_ST("v7 stale (dead pid)", lock_acquire(&lk, root, 0, 2, 3600), ST_OK);
	bad += check_elapsed("v7 stale (dead pid)", mono() - t0, -1.0, 1.0);
	char got[512], want[512];
	read_text(v7path, got, sizeof got);
	identity_of(getpid(), want, sizeof want);
	if (strcmp(got, want) != 0) {
		print_error("after breaking: lockfile.v7 got \"%s\", want ours \"%s\"\n", got,
			    want);
		bad++;
	}
	bad += check_run_dir("v7 after breaking", "lockfile.v7");
	lock_release(&lk);
	bad += check_run_dir("v7 after breaking, released", "");
	assert_int_equal(bad, 0);
}

/* Our own pid with another start time: the pid was reused, stale. */
static void test_v7_stale_reused_pid(void **state)
{
	int bad = 0;
	empty_run_dir();
	char me[512], host[256], boot[64], text[600];
	int pid;
	unsigned long long start;
	identity_of(getpid(), me, sizeof me);
	assert_int_equal(sscanf(me, "%255s %63s %d %llu", host, boot, &pid, &start), 4);
	snprintf(text, sizeof text, "%s %s %d %llu\n", host, boot, pid, start + 12345);
	write_lockfile(text, 0);
	fml_lock lk;
	WANT_ST("v7 stale (reused pid)", lock_acquire(&lk, root, 0, 0, 3600), ST_OK);
	lock_release(&lk);
	/* pid 0 or negative on this host: stale */
	snprintf(text, sizeof text, "%s %s %d %llu\n", host, boot, 0, start);
	write_lockfile(text, 0);
	WANT_ST("v7 stale (pid 0)", lock_acquire(&lk, root, 0, 0, 3600), ST_OK);
	lock_release(&lk);
	bad += check_run_dir("v7 reused pid", "");
	assert_int_equal(bad, 0);
}

/* A live holder (a child) is respected until it releases. */
static void test_v7_live(void **state)
{
	int bad = 0;
	empty_run_dir();
	child c;
	fml_status st;
	double t;
	child_start(&c, 0, 0, 3600, 1);
	child_report(&c, &st, &t);
	WANT_ST("v7 child acquires", st, ST_OK);
	char got[512], want[512];
	identity_of(c.pid, want, sizeof want);
	read_text(v7path, got, sizeof got);
	if (strcmp(got, want) != 0) {
		print_error("v7 child's lockfile: got \"%s\", want \"%s\"\n", got, want);
		bad++;
	}
	fml_lock lk;
	double t0 = mono();
	WANT_ST("v7 held by a live child, timeout 1", lock_acquire(&lk, root, 0, 1, 3600),
		ST_TEMPFAIL);
	bad += check_elapsed("v7 held by a live child, timeout 1", mono() - t0, 0.5, 5.0);
	/* a tiny STALE_AGE does not matter for a live process of this host */
	WANT_ST("v7 live child, stale_age 0", lock_acquire(&lk, root, 0, 0, 0), ST_TEMPFAIL);
	read_text(v7path, got, sizeof got);
	if (strcmp(got, want) != 0) {
		print_error("v7 live lock after our tries: got \"%s\", want the child's \"%s\"\n",
			    got, want);
		bad++;
	}
	bad += check_run_dir("v7 live, after our tries", "lockfile.v7");
	bad += child_finish(&c); /* the child releases and exits */
	bad += check_run_dir("v7 child released", "");
	WANT_ST("v7 after the child", lock_acquire(&lk, root, 0, 0, 3600), ST_OK);
	lock_release(&lk);
	assert_int_equal(bad, 0);
}

/* Another host's (or boot's) lock: only its age tells. */
static void test_v7_other_host(void **state)
{
	char me[512], host[256], boot[64], other_boot[600];
	int pid;
	unsigned long long start;
	identity_of(getpid(), me, sizeof me);
	assert_int_equal(sscanf(me, "%255s %63s %d %llu", host, boot, &pid, &start), 4);
	/* our host, another boot, our own (live) pid: the pid means nothing */
	snprintf(other_boot, sizeof other_boot, "%s 00000000-0000-0000-0000-000000000000 %d %llu\n",
		 host, pid, start);
	static const struct {
		const char *name;
		int text; /* 0 other host, 1 other boot, 2 garbage, 3 empty */
		long age;
		long stale_age;
		long timeout;
		fml_status want;
	} c[] = {
	    {"other host, 10 s old, STALE_AGE 1", 0, 10, 1, 0, ST_OK},
	    {"other host, 10 s old, STALE_AGE 1, timeout 2", 0, 10, 1, 2, ST_OK},
	    {"other host, fresh, STALE_AGE 1", 0, 0, 1, 0, ST_TEMPFAIL},
	    {"other host, 10 s old, STALE_AGE 3600", 0, 10, 3600, 0, ST_TEMPFAIL},
	    {"other host, 2 h old, STALE_AGE 3600", 0, 7200, 3600, 0, ST_OK},
	    {"other boot, live pid, 10 s old, STALE_AGE 1", 1, 10, 1, 0, ST_OK},
	    {"other boot, live pid, fresh, STALE_AGE 3600", 1, 0, 3600, 0, ST_TEMPFAIL},
	    {"garbage, fresh", 2, 0, 3600, 0, ST_TEMPFAIL},
	    {"garbage, 10 s old, STALE_AGE 1", 2, 10, 1, 0, ST_OK},
	    {"empty, fresh", 3, 0, 3600, 0, ST_TEMPFAIL},
	    {"empty, 10 s old, STALE_AGE 1", 3, 10, 1, 0, ST_OK},
	};
	const char *texts[] = {
	    "otherhost.invalid 12345678-1234-1234-1234-123456789abc 12345 999\n",
	    other_boot,
	    "not a lock file at all",
	    "",
	};
	int bad = 0;
	for (size_t i = 0; i < N_ELEMS(c); i++) {
		empty_run_dir();
		write_lockfile(texts[c[i].text], c[i].age);
		fml_lock lk;
		fml_status st = lock_acquire(&lk, root, 0, c[i].timeout, c[i].stale_age);
		WANT_ST(c[i].name, st, c[i].want);
		char got[512];
		read_text(v7path, got, sizeof got);
		const char *want = st == ST_OK ? me : texts[c[i].text];
		if (strcmp(got, want) != 0) {
			print_error("%s: lockfile.v7 got \"%s\", want \"%s\"\n", c[i].name, got,
				    want);
			bad++;
		}
		if (st == ST_OK)
			lock_release(&lk);
		bad += check_run_dir(c[i].name, st == ST_OK ? "" : "lockfile.v7");
	}
	empty_run_dir();
	assert_int_equal(bad, 0);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN); /* a child that is gone must not kill the run */
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_flock),
	    cmocka_unit_test(test_v7_acquire_release),
	    cmocka_unit_test(test_v7_stale_dead_pid),
	    cmocka_unit_test(test_v7_stale_reused_pid),
	    cmocka_unit_test(test_v7_live),
	    cmocka_unit_test(test_v7_other_host),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
