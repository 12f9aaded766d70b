/*
 * fs: small file-system helpers with one failure policy: every error is
 * logged with the path and errno and returned as ST_TEMPFAIL (ST_NOINPUT
 * for a file that is absent where that is an answer).  Paths go through
 * fs_path(), which refuses to truncate.  The crash-safe commit of a whole
 * file is safefile's; these are the reads, appends and hints around it.
 */
#include "fs.h"
#include "msg.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void fs_dirname(const char *path, char *dir, size_t size)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		snprintf(dir, size, ".");
	else if (slash == path)
		snprintf(dir, size, "/");
	else
		snprintf(dir, size, "%.*s", (int)(slash - path), path);
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

int fs_fsync_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	int err = errno;
	close(fd);
	if (rc < 0 && err != EINVAL) { /* EINVAL: a directory that cannot be synced */
		errno = err;
		return -1;
	}
	return 0;
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
		fs_dirname(path, dir, sizeof dir);
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

/* read(2), or pread(2) at OFF when POSITIONAL, until N bytes or the end. */
static ssize_t read_full(int fd, void *buf, size_t n, off_t off, int positional)
{
	size_t got = 0;
	while (got < n) {
		char *p = (char *)buf + got;
		ssize_t r =
		    positional ? pread(fd, p, n - got, off + (off_t)got) : read(fd, p, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

ssize_t fs_read_full(int fd, void *buf, size_t n)
{
	return read_full(fd, buf, n, 0, 0);
}

ssize_t fs_pread_full(int fd, void *buf, size_t n, off_t off)
{
	return read_full(fd, buf, n, off, 1);
}

ssize_t fs_pwrite_full(int fd, const void *buf, size_t n, off_t off)
{
	size_t done = 0;
	while (done < n) {
		ssize_t w = pwrite(fd, (const char *)buf + done, n - done, off + (off_t)done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		done += (size_t)w;
	}
	return (ssize_t)done;
}
