/*
 * safefile: crash-safe file commit (temp + fsync + close + rename/link +
 * directory fsync), plus small file-system helpers.  See safefile.h.
 * Failure policy: every error is logged with the path and errno and
 * returned as ST_TEMPFAIL; partial temp files are removed.
 */
#include "safefile.h"
#include "fs.h"
#include "mem.h"
#include "msg.h"
#include "randhex.h"

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

/* TMPPATH opened for writing: made (O_EXCL), or with REUSE also taken as
 * it is, emptied, when it is a regular file with one link (no O_EXCL: made
 * beforehand, or meanwhile by its preparer; a second link makes it someone's
 * data).  errno is kept for the caller after a failed open. */
static fml_status open_tmp(safefile *sf, const char *tmppath, int reuse)
{
	memset(sf, 0, sizeof *sf);
	sf->fd = -1;
	sf->cleanup = -1;
	if (fs_path(sf->tmp, sizeof sf->tmp, "%s", tmppath) < 0)
		return ST_TEMPFAIL;
	fs_dirname(tmppath, sf->dir, sizeof sf->dir);
	sigset_t old;
	hold_signals(&old);
	int fd =
	    open(sf->tmp, O_WRONLY | O_CREAT | (reuse ? 0 : O_EXCL) | O_NOFOLLOW | O_CLOEXEC, 0600);
	struct stat st;
	const char *why = fd < 0 ? strerror(errno) : NULL;
	if (!why && reuse) {
		if (fstat(fd, &st) < 0)
			why = strerror(errno);
		else if (!S_ISREG(st.st_mode) || st.st_nlink != 1)
			why = "not a regular file with one link";
		else if (st.st_size > 0 && ftruncate(fd, 0) < 0)
			why = strerror(errno);
	}
	if (why) {
		release_signals(&old);
		msg_error("%s %s: %s", reuse ? "open" : "create", sf->tmp, why);
		if (fd >= 0)
			close(fd);
		sf->tmp[0] = 0;
		return ST_TEMPFAIL;
	}
	sf->fd = fd;
	sf->cleanup = msg_cleanup_push(unlink_tmp, sf);
	release_signals(&old);
	sf->buf = mem_alloc(SAFEFILE_BUF);
	return ST_OK;
}

fml_status safefile_open_path(safefile *sf, const char *tmppath)
{
	return open_tmp(sf, tmppath, 0);
}

fml_status safefile_open_reuse(safefile *sf, const char *tmppath)
{
	return open_tmp(sf, tmppath, 1);
}

fml_status safefile_open(safefile *sf, const char *dir, const char *prefix)
{
	char path[PATH_MAX];
	struct timeval tv;
	for (int tries = 0; tries < 10; tries++) {
		unsigned int r = randhex_nonce();
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

fml_status safefile_start_sync(safefile *sf)
{
	if (sf->failed || sf->fd < 0 || flush_buf(sf) != ST_OK)
		return ST_TEMPFAIL;
	/* a hint: errors (no such call here, a file system without it) are
	 * the commit's fsync's to report */
	(void)sync_file_range(sf->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
	return ST_OK;
}

fml_status safefile_puts(safefile *sf, const char *s)
{
	return safefile_write(sf, s, strlen(s));
}

/* flush the buffer, fsync when DURABLE, close: all checked */
static fml_status finish_file(safefile *sf, int durable)
{
	if (sf->fd < 0)
		return sf->failed ? ST_TEMPFAIL : ST_OK;
	fml_status st = sf->failed ? ST_TEMPFAIL : flush_buf(sf);
	if (st == ST_OK && durable && fsync(sf->fd) < 0) {
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

fml_status safefile_sync(safefile *sf)
{
	return finish_file(sf, 1);
}

static void forget(safefile *sf)
{
	msg_cleanup_pop(sf->cleanup);
	sf->cleanup = -1;
}

/* finish the file (fsynced when DURABLE), rename it to FINAL */
static fml_status rename_to(safefile *sf, const char *final, int durable)
{
	if (finish_file(sf, durable) != ST_OK) {
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
	return ST_OK;
}

fml_status safefile_commit(safefile *sf, const char *final)
{
	if (rename_to(sf, final, 1) != ST_OK)
		return ST_TEMPFAIL;
	/* the new name must be durable: fsync the directory that holds it (a
	 * temp name left behind in another directory is an orphan for the
	 * sweeper, never a second copy) */
	char dir[PATH_MAX];
	fs_dirname(final, dir, sizeof dir);
	return fs_fsync_dir(dir);
}

fml_status safefile_commit_nodir(safefile *sf, const char *final)
{
	return rename_to(sf, final, 1);
}

fml_status safefile_rename(safefile *sf, const char *final)
{
	return rename_to(sf, final, 0);
}

/* finish the file (fsynced when DURABLE), link it to FINAL */
static fml_status link_to(safefile *sf, const char *final, int durable)
{
	if (finish_file(sf, durable) != ST_OK) {
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
	sf->linked = 1;
	forget(sf);
	release_signals(&old);
	return ST_OK;
}

fml_status safefile_link_nosync(safefile *sf, const char *final)
{
	return link_to(sf, final, 0);
}

fml_status safefile_link(safefile *sf, const char *final)
{
	fml_status st = link_to(sf, final, 1);
	if (st != ST_OK)
		return st;
	/* FINAL exists from here on, durable or not: a failed fsync is the
	 * caller's to report, never a reason to drop the temp name */
	return fs_fsync_dir(sf->dir);
}

void safefile_abort(safefile *sf)
{
	if (sf->fd >= 0)
		close(sf->fd);
	sf->fd = -1;
	free(sf->buf);
	sf->buf = NULL;
	if (sf->tmp[0] && !sf->linked)
		unlink(sf->tmp);
	sf->tmp[0] = 0;
	forget(sf);
}

fml_status safefile_replace(const char *path, const void *p, size_t n, int durable)
{
	char dir[PATH_MAX];
	safefile sf;
	fs_dirname(path, dir, sizeof dir);
	if (safefile_open(&sf, dir, ".tmp") != ST_OK)
		return ST_TEMPFAIL;
	if (safefile_write(&sf, p, n) != ST_OK) {
		safefile_abort(&sf);
		return ST_TEMPFAIL;
	}
	/* not durable: no fsync, but still atomic by rename */
	return durable ? safefile_commit(&sf, path) : safefile_rename(&sf, path);
}
