/*
 * safefile: crash-safe file commit (temp + fsync + close + rename/link +
 * directory fsync), plus small file-system helpers.  See safefile.h.
 * Failure policy: every error is logged with the path and errno and
 * returned as ST_TEMPFAIL; partial temp files are removed.
 */
#include "safefile.h"
#include "msg.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#define SAFEFILE_BUF 65536

static void unlink_tmp(void *arg)
{
	safefile *sf = arg;
	if (sf->tmp[0])
		unlink(sf->tmp);
}

/*
 * A name and its clean-up handler change together: msg_catch_signals()'
 * handler (SIGTERM, SIGINT, ...) must not run between creating the temp file
 * and registering it (the file would be left), nor between linking it to
 * its final name and unregistering it (the handler would unlink a temp
 * that recovery needs, and the article would be made twice).
 */
static void hold_signals(sigset_t *old)
{
	sigset_t all;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, old);
}

static void release_signals(const sigset_t *old)
{
	int err = errno;
	sigprocmask(SIG_SETMASK, old, NULL);
	errno = err;
}

int fs_path(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size) {
		msg_error("path too long: %.60s...", buf);
		buf[0] = 0;
		return -1;
	}
	return 0;
}

static void dirname_of(const char *path, char *dir, size_t size)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		snprintf(dir, size, ".");
	else if (slash == path)
		snprintf(dir, size, "/");
	else
		snprintf(dir, size, "%.*s", (int)(slash - path), path);
}

fml_status safefile_open_path(safefile *sf, const char *tmppath)
{
	memset(sf, 0, sizeof *sf);
	sf->fd = -1;
	sf->cleanup = -1;
	if (fs_path(sf->tmp, sizeof sf->tmp, "%s", tmppath) < 0)
		return ST_TEMPFAIL;
	dirname_of(tmppath, sf->dir, sizeof sf->dir);
	sigset_t old;
	hold_signals(&old);
	sf->fd = open(sf->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (sf->fd < 0) {
		release_signals(&old);
		msg_error("create %s: %s", sf->tmp, strerror(errno));
		sf->tmp[0] = 0;
		return ST_TEMPFAIL;
	}
	sf->cleanup = msg_cleanup_push(unlink_tmp, sf);
	release_signals(&old);
	sf->buf = xmalloc(SAFEFILE_BUF);
	return ST_OK;
}

fml_status safefile_open(safefile *sf, const char *dir, const char *prefix)
{
	char path[PATH_MAX];
	struct timeval tv;
	for (int tries = 0; tries < 10; tries++) {
		unsigned int r = 0;
		if (getrandom(&r, sizeof r, GRND_NONBLOCK) != sizeof r)
			r = (unsigned)rand();
		gettimeofday(&tv, NULL);
		if (fs_path(path, sizeof path, "%s/%s.%lld.%06ld.%d.%08x", dir, prefix,
			    (long long)tv.tv_sec, (long)tv.tv_usec, (int)getpid(), r) < 0)
			return ST_TEMPFAIL;
		if (safefile_open_path(sf, path) == ST_OK)
			return ST_OK;
		if (errno != EEXIST)
			break;
	}
	return ST_TEMPFAIL;
}

static fml_status write_all(safefile *sf, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(sf->fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			msg_error("write %s: %s", sf->tmp, w < 0 ? strerror(errno) : "short write");
			sf->failed = 1;
			return ST_TEMPFAIL;
		}
		p += w;
		n -= (size_t)w;
	}
	return ST_OK;
}

static fml_status flush_buf(safefile *sf)
{
	fml_status st = write_all(sf, sf->buf, sf->buflen);
	sf->buflen = 0;
	return st;
}

fml_status safefile_write(safefile *sf, const void *p, size_t n)
{
	if (sf->failed || sf->fd < 0)
		return ST_TEMPFAIL;
	sf->written += (off_t)n;
	if (sf->buflen + n > SAFEFILE_BUF && flush_buf(sf) != ST_OK)
		return ST_TEMPFAIL;
	if (n >= SAFEFILE_BUF)
		return write_all(sf, p, n);
	memcpy(sf->buf + sf->buflen, p, n);
	sf->buflen += n;
	return ST_OK;
}

fml_status safefile_puts(safefile *sf, const char *s)
{
	return safefile_write(sf, s, strlen(s));
}

fml_status safefile_sync(safefile *sf)
{
	if (sf->fd < 0)
		return sf->failed ? ST_TEMPFAIL : ST_OK;
	fml_status st = sf->failed ? ST_TEMPFAIL : flush_buf(sf);
	if (st == ST_OK && fsync(sf->fd) < 0) {
		msg_error("fsync %s: %s", sf->tmp, strerror(errno));
		st = ST_TEMPFAIL;
	}
	if (close(sf->fd) < 0 && st == ST_OK) {
		msg_error("close %s: %s", sf->tmp, strerror(errno));
		st = ST_TEMPFAIL;
	}
	sf->fd = -1;
	free(sf->buf);
	sf->buf = NULL;
	if (st != ST_OK)
		sf->failed = 1;
	return st;
}

static void forget(safefile *sf)
{
	msg_cleanup_pop(sf->cleanup);
	sf->cleanup = -1;
}

fml_status safefile_commit(safefile *sf, const char *final)
{
	if (safefile_sync(sf) != ST_OK) {
		safefile_abort(sf);
		return ST_TEMPFAIL;
	}
	sigset_t old;
	hold_signals(&old);
	if (rename(sf->tmp, final) < 0) {
		release_signals(&old);
		msg_error("rename %s to %s: %s", sf->tmp, final, strerror(errno));
		safefile_abort(sf);
		return ST_TEMPFAIL;
	}
	forget(sf);
	sf->tmp[0] = 0;
	release_signals(&old);
	/* the new name must be durable: fsync the directory that holds it (a
	 * temp name left behind in another directory is an orphan for the
	 * sweeper, never a second copy) */
	char dir[PATH_MAX];
	dirname_of(final, dir, sizeof dir);
	return fs_fsync_dir(dir);
}

fml_status safefile_link(safefile *sf, const char *final)
{
	if (safefile_sync(sf) != ST_OK) {
		safefile_abort(sf);
		return ST_TEMPFAIL;
	}
	sigset_t old;
	hold_signals(&old);
	if (link(sf->tmp, final) < 0) {
		release_signals(&old);
		if (errno == EEXIST)
			return ST_DATAERR;
		msg_error("link %s to %s: %s", sf->tmp, final, strerror(errno));
		safefile_abort(sf);
		return ST_TEMPFAIL;
	}
	forget(sf);
	release_signals(&old);
	return fs_fsync_dir(sf->dir);
}

void safefile_abort(safefile *sf)
{
	if (sf->fd >= 0)
		close(sf->fd);
	sf->fd = -1;
	free(sf->buf);
	sf->buf = NULL;
	if (sf->tmp[0])
		unlink(sf->tmp);
	sf->tmp[0] = 0;
	forget(sf);
}

fml_status fs_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		msg_error("open directory %s: %s", dir, strerror(errno));
		return ST_TEMPFAIL;
	}
	int rc = fsync(fd);
	int err = errno;
	close(fd);
	if (rc < 0 && err != EINVAL) {
		msg_error("fsync directory %s: %s", dir, strerror(err));
		return ST_TEMPFAIL;
	}
	return ST_OK;
}

fml_status fs_replace(const char *path, const void *p, size_t n, int durable)
{
	char dir[PATH_MAX];
	safefile sf;
	dirname_of(path, dir, sizeof dir);
	if (safefile_open(&sf, dir, ".tmp") != ST_OK)
		return ST_TEMPFAIL;
	if (safefile_write(&sf, p, n) != ST_OK) {
		safefile_abort(&sf);
		return ST_TEMPFAIL;
	}
	if (durable)
		return safefile_commit(&sf, path);
	/* not durable: no fsync, but still atomic by rename */
	if (flush_buf(&sf) != ST_OK || close(sf.fd) < 0) {
		sf.fd = -1;
		safefile_abort(&sf);
		return ST_TEMPFAIL;
	}
	sf.fd = -1;
	free(sf.buf);
	sf.buf = NULL;
	if (rename(sf.tmp, path) < 0) {
		msg_error("rename %s to %s: %s", sf.tmp, path, strerror(errno));
		safefile_abort(&sf);
		return ST_TEMPFAIL;
	}
	forget(&sf);
	return ST_OK;
}

fml_status fs_overwrite(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		msg_error("open %s: %s", path, strerror(errno));
		return ST_TEMPFAIL;
	}
	int ok = pwrite(fd, p, n, 0) == (ssize_t)n && ftruncate(fd, (off_t)n) == 0 &&
		 futimens(fd, NULL) == 0;
	if (close(fd) < 0 || !ok) {
		msg_error("overwrite %s: %s", path, strerror(errno));
		return ST_TEMPFAIL;
	}
	return ST_OK;
}

static int open_read(const char *path)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno != ENOENT)
		msg_error("open %s: %s", path, strerror(errno));
	return fd;
}

/* Read FD from where it is to its end into OUT (appending); more than
 * LIMIT bytes (0 = none) is ST_DATAERR.  Closes FD. */
static fml_status read_rest(int fd, const char *path, str *out, size_t limit)
{
	for (;;) {
		str_reserve(out, 8192);
		ssize_t n = read(fd, out->s + out->len, out->cap - out->len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			msg_error("read %s: %s", path, strerror(errno));
			close(fd);
			return ST_TEMPFAIL;
		}
		if (n == 0)
			break;
		out->len += (size_t)n;
		out->s[out->len] = 0;
		if (limit && out->len > limit) {
			msg_error("%s: larger than %zu bytes", path, limit);
			close(fd);
			return ST_DATAERR;
		}
	}
	close(fd);
	return ST_OK;
}

fml_status fs_read(const char *path, str *out, size_t limit)
{
	str_clear(out);
	int fd = open_read(path);
	if (fd < 0)
		return errno == ENOENT ? ST_NOINPUT : ST_TEMPFAIL;
	return read_rest(fd, path, out, limit);
}

fml_status fs_read_tail(const char *path, str *out, size_t limit)
{
	struct stat st;
	str_clear(out);
	int fd = open_read(path);
	if (fd < 0)
		return errno == ENOENT ? ST_NOINPUT : ST_TEMPFAIL;
	off_t from =
	    fstat(fd, &st) == 0 && st.st_size > (off_t)limit ? st.st_size - (off_t)limit : 0;
	if (from && lseek(fd, from - 1, SEEK_SET) < 0) {
		msg_error("seek %s: %s", path, strerror(errno));
		close(fd);
		return ST_TEMPFAIL;
	}
	fml_status r = read_rest(fd, path, out, 0);
	if (r == ST_OK && from) { /* drop the partial first line */
		char *nl = memchr(out->s, '\n', out->len);
		size_t cut = nl ? (size_t)(nl - out->s) + 1 : out->len;
		memmove(out->s, out->s + cut, out->len - cut);
		str_truncate(out, out->len - cut);
	}
	return r;
}

fml_status fs_append_line(const char *path, const char *line, size_t n)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		msg_error("open %s: %s", path, strerror(errno));
		return ST_TEMPFAIL;
	}
	ssize_t w = write(fd, line, n);
	int err = errno;
	if (close(fd) < 0 || w != (ssize_t)n) {
		msg_error("append %s: %s", path, w < 0 ? strerror(err) : "short write");
		return ST_TEMPFAIL;
	}
	return ST_OK;
}

fml_status fs_append_sync(const char *path, const char *line, size_t n)
{
	int created = 0;
	int fd = open(path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			  0600);
		created = fd >= 0;
	}
	if (fd < 0) {
		msg_error("open %s: %s", path, strerror(errno));
		return ST_TEMPFAIL;
	}
	ssize_t w = write(fd, line, n);
	int err = errno;
	int ok = w == (ssize_t)n;
	if (ok && fsync(fd) < 0) {
		err = errno;
		ok = 0;
	}
	if (close(fd) < 0 && ok) {
		err = errno;
		ok = 0;
	}
	if (!ok) {
		msg_error("append %s: %s", path,
			  w >= 0 && w != (ssize_t)n ? "short write" : strerror(err));
		return ST_TEMPFAIL;
	}
	if (created) {
		char dir[PATH_MAX];
		dirname_of(path, dir, sizeof dir);
		return fs_fsync_dir(dir);
	}
	return ST_OK;
}

fml_status fs_mkdirs(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	if (fs_path(buf, sizeof buf, "%s", path) < 0)
		return ST_TEMPFAIL;
	for (char *p = buf + 1;; p++) {
		if (*p == '/' || *p == 0) {
			char c = *p;
			*p = 0;
			if (mkdir(buf, mode) < 0 && errno != EEXIST) {
				msg_error("mkdir %s: %s", buf, strerror(errno));
				return ST_TEMPFAIL;
			}
			*p = c;
			if (!c)
				break;
		}
	}
	return ST_OK;
}

int fs_exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}
