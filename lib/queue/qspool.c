/*
 * qspool: an article's spool file and its queue item.  See qspool.h.
 * Failure policy: I/O trouble is logged and returned as ST_TEMPFAIL; the
 * caller then delivers or retires nothing (the items wait).
 */
#include "qspool.h"
#include "queue.h"
#include "list/seq.h"
#include "util/fs.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/safefile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { CHUNK = 65536 };

/* N of an article item's name (aN, aN.PID), or 0. */
static long article_of(const char *name)
{
	char num[32];
	size_t l = strcspn(name, ".");
	if (name[0] != 'a' || l < 2 || l - 1 >= sizeof num)
		return 0;
	memcpy(num, name + 1, l - 1);
	num[l - 1] = 0;
	long n = seq_name_number(num, "");
	return n > 0 ? n : 0;
}

static int spool_path(config *cf, long n, char *buf, size_t size)
{
	return fs_path(buf, size, "%s/%ld", config_str(cf, CF_SPOOL_DIR), n);
}

/* fsync spool/N (a missing one is not an error) */
static fml_status sync_file(config *cf, long n)
{
	char path[4096];
	if (spool_path(cf, n, path, sizeof path) < 0)
		return ST_TEMPFAIL;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return ST_OK;
	int rc = fd < 0 ? -1 : fsync(fd);
	int err = errno;
	if (fd >= 0)
		close(fd);
	if (rc < 0) {
		msg_error("fsync %s: %s", path, strerror(err));
		return ST_TEMPFAIL;
	}
	return ST_OK;
}

fml_status qspool_sync_article(config *cf, long n)
{
	return sync_file(cf, n) == ST_OK ? fs_fsync_dir(config_str(cf, CF_SPOOL_DIR)) : ST_TEMPFAIL;
}

fml_status qspool_sync(config *cf, const char *names, int n)
{
	const char *p = names;
	int any = 0;
	for (int i = 0; i < n; i++, p += strlen(p) + 1) {
		long a = article_of(p);
		if (a > 0 && sync_file(cf, a) != ST_OK)
			return ST_TEMPFAIL;
		any |= a > 0;
	}
	return any ? fs_fsync_dir(config_str(cf, CF_SPOOL_DIR)) : ST_OK;
}

/* Are the bytes of FD (its whole content) those of [FROM, TO) of QFD? */
static int same_bytes(int fd, int qfd, off_t from, off_t to)
{
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_size != to - from)
		return 0;
	char *a = mem_alloc(2 * CHUNK), *b = a + CHUNK;
	int same = 1;
	for (off_t off = 0; same && off < to - from; off += CHUNK) {
		size_t k = to - from - off < CHUNK ? (size_t)(to - from - off) : CHUNK;
		same = fs_pread_full(fd, a, k, off) == (ssize_t)k &&
		       fs_pread_full(qfd, b, k, from + off) == (ssize_t)k && memcmp(a, b, k) == 0;
	}
	free(a);
	return same;
}

/* spool/N (FINAL) from the message part of Q: written, fsynced, renamed
 * over FINAL; spool/ is synced by the caller. */
static fml_status restore(config *cf, queue_item *q, const char *final)
{
	safefile sf;
	if (safefile_open(&sf, config_str(cf, CF_SPOOL_DIR), ".tmp") != ST_OK)
		return ST_TEMPFAIL;
	char *buf = mem_alloc(CHUNK);
	fml_status st = ST_OK;
	for (off_t off = q->msg_start; st == ST_OK && off < q->msg_end; off += CHUNK) {
		size_t k = q->msg_end - off < CHUNK ? (size_t)(q->msg_end - off) : CHUNK;
		st = fs_pread_full(q->fd, buf, k, off) == (ssize_t)k ? safefile_write(&sf, buf, k)
								     : ST_TEMPFAIL;
	}
	free(buf);
	if (st != ST_OK) {
		safefile_abort(&sf);
		return ST_TEMPFAIL;
	}
	return safefile_commit_nodir(&sf, final);
}

/* spool/N right for the item at QPATH; *WROTE when it was (re)written.
 * MAX: the last article inside an archive unit. */
static fml_status settle(config *cf, const char *qpath, long n, long max, int *wrote)
{
	char final[4096];
	if (spool_path(cf, n, final, sizeof final) < 0)
		return ST_TEMPFAIL;
	int fd = open(final, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno != ENOENT) {
		msg_error("open %s: %m", final);
		return ST_TEMPFAIL;
	}
	if (fd < 0 && n <= max)
		return ST_OK; /* expired into its unit, maybe on purpose */
	queue_item q;
	str err = STR_INIT;
	fml_status st = queue_open(&q, qpath, 0, &err);
	if (st == ST_OK && q.article != n)
		st = ST_DATAERR;
	if (st == ST_OK && (fd < 0 || !same_bytes(fd, q.fd, q.msg_start, q.msg_end))) {
		st = restore(cf, &q, final);
		if (st == ST_OK) {
			*wrote = 1;
			msg_warn("article %ld: spool/%ld was %s (a crash of the machine); restored "
				 "from its queue item",
				 n, n, fd < 0 ? "lost" : "damaged");
		}
	}
	if (st != ST_OK)
		msg_error("article %ld: spool/%ld may be lost or damaged and cannot be restored "
			  "from %s: %s",
			  n, n, qpath, err.len ? str_c(&err) : status_name(st));
	if (fd >= 0)
		close(fd);
	queue_close(&q);
	str_free(&err);
	/* a damaged item is the runner's to set aside, not a reason to stop */
	return st == ST_DATAERR ? ST_OK : st;
}

fml_status qspool_repair(const char *dir, config *cf)
{
	static const char *const areas[] = {"new", "active", "deferred"};
	char mark[4096], path[4096];
	str boot = STR_INIT, seen = STR_INIT, names = STR_INIT;
	if (fs_path(mark, sizeof mark, "%s/var/run/boot", dir) < 0)
		return ST_TEMPFAIL;
	if (fs_read("/proc/sys/kernel/random/boot_id", &boot, 64) == ST_OK &&
	    fs_read(mark, &seen, 64) == ST_OK && strcmp(str_c(&boot), str_c(&seen)) == 0) {
		str_free(&boot);
		str_free(&seen);
		return ST_OK;
	}
	const char *qdir = config_str(cf, CF_QUEUE_DIR);
	long ge, max;
	int wrote = 0;
	fml_status st = seq_units(config_str(cf, CF_ARCHIVE_DIR), 1, &ge, &max);
	for (size_t a = 0; st == ST_OK && a < sizeof areas / sizeof areas[0]; a++) {
		int k = queue_list(qdir, areas[a], &names);
		const char *p = names.s;
		for (int i = 0; st == ST_OK && i < k; i++, p += strlen(p) + 1) {
			long n = article_of(p);
			if (n > 0 && fs_path(path, sizeof path, "%s/%s/%s", qdir, areas[a], p) == 0)
				st = settle(cf, path, n, max, &wrote);
		}
	}
	if (st == ST_OK && wrote)
		st = fs_fsync_dir(config_str(cf, CF_SPOOL_DIR));
	/* not durable: lost in a crash, the next run looks again */
	if (st == ST_OK && boot.len)
		fs_overwrite(mark, boot.s, boot.len);
	str_free(&boot);
	str_free(&seen);
	str_free(&names);
	return st;
}
