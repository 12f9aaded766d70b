/*
 * lock: per-list lock with a monotonic deadline.  See lock.h.
 *
 * flock mode blocks in flock(2) with SIGALRM armed *without* SA_RESTART, so
 * the alarm interrupts the wait (EINTR) and the deadline is re-checked on
 * the monotonic clock; blocking keeps the kernel's FIFO-ish wake-up order,
 * which polling would lose under 50 concurrent deliveries.
 *
 * v7 mode follows fml's link(2) lock, plus what fml lacked: the holder's
 * identity inside the file, stale detection, and safe breaking.  Breakers
 * serialise on a second link(2) lock (lockfile.v7.break) held for
 * microseconds; under it they re-check that lockfile.v7 is still the very
 * inode judged stale before unlinking it, so two breakers cannot both win.
 */
#include "lock.h"
#include "fs.h"
#include "msg.h"
#include "randhex.h"
#include "safefile.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BREAK_STALE_AGE 60 /* a break lock is held for microseconds */

static double mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_alarm(int sig)
{
	(void)sig; /* only there to interrupt flock() */
}

static fml_status flock_acquire(fml_lock *lk, const char *dir, long timeout)
{
	if (fs_path(lk->path, sizeof lk->path, "%s/var/run/lock", dir) < 0)
		return ST_TEMPFAIL;
	lk->fd = open(lk->path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (lk->fd < 0) {
		msg_error("open %s: %s", lk->path, strerror(errno));
		return ST_TEMPFAIL;
	}
	if (flock(lk->fd, LOCK_EX | LOCK_NB) == 0)
		return ST_OK;
	if (errno != EWOULDBLOCK || timeout <= 0)
		goto fail;

	struct sigaction sa, old;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm; /* no SA_RESTART: flock returns EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, &old);
	double deadline = mono_now() + (double)timeout;
	int rc = -1;
	for (;;) {
		double left = deadline - mono_now();
		if (left <= 0)
			break;
		alarm(left < 1 ? 1 : (unsigned)left);
		rc = flock(lk->fd, LOCK_EX);
		int err = errno;
		alarm(0);
		if (rc == 0)
			break;
		if (err != EINTR) {
			errno = err;
			break;
		}
	}
	sigaction(SIGALRM, &old, NULL);
	if (rc == 0)
		return ST_OK;
fail:
	if (errno == EWOULDBLOCK || errno == EINTR || errno == 0) {
		msg_warn("lock %s: timed out after %ld s", lk->path, timeout);
		lk->timed_out = 1;
	} else
		msg_error("flock %s: %s", lk->path, strerror(errno));
	close(lk->fd);
	lk->fd = -1;
	return ST_TEMPFAIL;
}

/* ---- v7 link(2) lock ---- */

static void read_line(const char *path, char *buf, size_t size)
{
	buf[0] = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return;
	ssize_t n = read(fd, buf, size - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	buf[strcspn(buf, "\n")] = 0;
}

static unsigned long long proc_start_time(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	read_line(path, buf, sizeof buf);
	char *p = strrchr(buf, ')'); /* the command name may hold spaces */
	if (!p)
		return 0;
	/* fields after ")": state(3) ... starttime(22) */
	int field = 2;
	for (p++; *p && field < 22; p++)
		if (*p == ' ')
			field++;
	return strtoull(p, NULL, 10);
}

static void identity(char *buf, size_t size)
{
	char host[256] = "", boot[64];
	gethostname(host, sizeof host - 1);
	read_line("/proc/sys/kernel/random/boot_id", boot, sizeof boot);
	snprintf(buf, size, "%s %s %d %llu\n", host[0] ? host : "-", boot[0] ? boot : "-",
		 (int)getpid(), proc_start_time(getpid()));
}

/* Is the lock file at PATH (already stat'ed into ST) stale? */
static int v7_stale(const char *path, const struct stat *st, long stale_age)
{
	char line[512], mine[512], host[256], boot[64], myhost[256], myboot[64];
	int pid;
	unsigned long long start;
	read_line(path, line, sizeof line);
	identity(mine, sizeof mine);
	if (sscanf(line, "%255s %63s %d %llu", host, boot, &pid, &start) == 4 &&
	    sscanf(mine, "%255s %63s", myhost, myboot) == 2 && strcmp(host, myhost) == 0 &&
	    strcmp(boot, myboot) == 0) {
		if (pid <= 0)
			return 1;
		if (kill(pid, 0) < 0 && errno == ESRCH)
			return 1;
		return proc_start_time(pid) != start; /* pid reused by another process */
	}
	/* another host or boot, or unreadable: trust only the age */
	return time(NULL) - st->st_mtime > stale_age;
}

static int make_token(const char *dir, const char *what, char *tok, size_t size)
{
	unsigned int r = randhex_nonce();
	if (fs_path(tok, size, "%s/var/run/%s.%d.%08x", dir, what, (int)getpid(), r) < 0)
		return -1;
	char id[600];
	identity(id, sizeof id);
	int fd = open(tok, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		msg_error("create %s: %s", tok, strerror(errno));
		return -1;
	}
	int ok = write(fd, id, strlen(id)) == (ssize_t)strlen(id);
	if (close(fd) < 0 || !ok) {
		unlink(tok);
		return -1;
	}
	return 0;
}

/* link TOK to TARGET; 1 = we hold it, 0 = held by someone, -1 = error.
 * NFS may report failure for a link that happened: st_nlink tells. */
static int try_link(const char *tok, const char *target)
{
	if (link(tok, target) == 0)
		return 1;
	int err = errno;
	struct stat st;
	if (stat(tok, &st) == 0 && st.st_nlink == 2)
		return 1;
	if (err == EEXIST)
		return 0;
	msg_error("link %s: %s", target, strerror(err));
	return -1;
}

/* A link token must not outlive a signal (SIGTERM while waiting). */
static void unlink_token(void *arg)
{
	const char *tok = arg;
	if (tok[0])
		unlink(tok); /* async-signal-safe */
}

/* Break TARGET if it is still the inode STALE_INO, serialised by a break lock. */
static void v7_break(const char *dir, const char *target, ino_t stale_ino)
{
	char brk[4096], tok[4096];
	struct stat st;
	if (fs_path(brk, sizeof brk, "%s.break", target) < 0 ||
	    make_token(dir, "break", tok, sizeof tok) < 0)
		return;
	int h = msg_cleanup_push(unlink_token, tok);
	int got = try_link(tok, brk);
	if (got == 0 && lstat(brk, &st) == 0 && v7_stale(brk, &st, BREAK_STALE_AGE)) {
		/* a breaker died holding the break lock: move it aside, keep it
		 * only if it was the one we judged */
		char aside[4096];
		if (fs_path(aside, sizeof aside, "%s.aside.%d", brk, (int)getpid()) == 0 &&
		    rename(brk, aside) == 0) {
			struct stat st2;
			if (lstat(aside, &st2) == 0 && st2.st_ino != st.st_ino)
				(void)!link(aside, brk); /* not ours to break: put it back */
			unlink(aside);
		}
		got = try_link(tok, brk);
	}
	if (got == 1) {
		if (lstat(target, &st) == 0 && st.st_ino == stale_ino) {
			msg_warn("breaking stale lock %s", target);
			unlink(target);
		}
		unlink(brk);
	}
	unlink(tok);
	msg_cleanup_pop(h);
}

static void unlink_lock(void *arg)
{
	fml_lock *lk = arg;
	if (lk->v7)
		unlink(lk->path); /* async-signal-safe: may run from SIGTERM */
}

static fml_status v7_acquire(fml_lock *lk, const char *dir, long timeout, long stale_age)
{
	char tok[4096];
	if (fs_path(lk->path, sizeof lk->path, "%s/var/run/lockfile.v7", dir) < 0 ||
	    make_token(dir, "lockfile", tok, sizeof tok) < 0)
		return ST_TEMPFAIL;
	int h = msg_cleanup_push(unlink_token, tok);
	double deadline = mono_now() + (double)timeout;
	useconds_t nap = 10000;
	for (;;) {
		int got = try_link(tok, lk->path);
		if (got == 1) {
			struct stat mine;
			lk->ino = lstat(tok, &mine) == 0 ? (unsigned long long)mine.st_ino : 0;
			unlink(tok);
			msg_cleanup_pop(h);
			lk->v7 = 1;
			lk->cleanup = msg_cleanup_push(unlink_lock, lk);
			return ST_OK;
		}
		if (got < 0)
			break;
		struct stat st;
		if (lstat(lk->path, &st) == 0 && v7_stale(lk->path, &st, stale_age)) {
			v7_break(dir, lk->path, st.st_ino);
			continue;
		}
		if (mono_now() >= deadline) {
			msg_warn("lock %s: timed out after %ld s", lk->path, timeout);
			lk->timed_out = 1;
			break;
		}
		usleep(nap);
		if (nap < 500000)
			nap *= 2;
	}
	unlink(tok);
	msg_cleanup_pop(h);
	return ST_TEMPFAIL;
}

fml_status lock_acquire(fml_lock *lk, const char *dir, int use_flock, long timeout, long stale_age)
{
	lk->fd = -1;
	lk->v7 = 0;
	lk->cleanup = -1;
	lk->timed_out = 0;
	lk->path[0] = 0;
	return use_flock ? flock_acquire(lk, dir, timeout)
			 : v7_acquire(lk, dir, timeout, stale_age);
}

void lock_release(fml_lock *lk)
{
	if (lk->fd >= 0) {
		close(lk->fd); /* releases the flock */
		lk->fd = -1;
	}
	if (lk->v7) {
		/* Only our own: if it was broken as stale (we held it longer than
		 * LOCK_STALE_AGE on another host's view), the file is someone else's. */
		struct stat st;
		msg_cleanup_pop(lk->cleanup);
		if (lstat(lk->path, &st) == 0 && (unsigned long long)st.st_ino == lk->ino)
			unlink(lk->path);
		else
			msg_warn("%s is no longer ours: left alone", lk->path);
		lk->v7 = 0;
	}
}
