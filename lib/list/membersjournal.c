/*
 * membersjournal: appends to a member file that survive a crash
 * (membersjournal_append, _done, _recover).  An add does not rewrite the
 * file: it appends its lines, which costs the same at ten or a million
 * members.  A crash in the middle of an append would leave a torn last line,
 * so the append is announced first in DIR/var/db/FILE.journal:
 *
 *   fmljournal 1 SIZE LEN\n  DATA (LEN bytes)  end HASH\n
 *
 * SIZE is the file's size before the append, HASH a 64-bit FNV-1a of all
 * that precedes "end".  The journal is committed through safefile (temp,
 * fsync, rename, directory fsync) before the member file is touched; then
 * the data is written at SIZE and fsynced; then the caller updates the index
 * and the journal is removed.  The next run under the list lock (an edit, a
 * lookup) that finds a journal replays it: cut the file back to SIZE, write
 * DATA again, fsync.  Replaying is idempotent, so a crash during recovery or
 * before the journal's removal is harmless.  A journal without its "end"
 * line or with a wrong hash was torn while being written, before the file
 * was touched: it is removed.  The replay changes the file's stamp, so the
 * index is rebuilt by the next lookup.
 *
 * Failure policy.  Every failure is logged and ST_TEMPFAIL; what is on disk
 * is then either the old file with no journal, or a complete journal that
 * the next run replays.
 */
#include "membersjournal.h"
#include "members.h"
#include "util/fs.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/safefile.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define JOURNAL_MAGIC "fmljournal 1"
#define LOG_MAX 65536  /* bytes: a longer append log keeps only its last lines */
#define LOG_KEEP 16384 /* bytes of them: a chain is followed back only so far */

static uint64_t fnv1a(const char *p, size_t n)
{
	uint64_t h = 14695981039346656037ULL;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static fml_status jpaths(const char *dir, const char *file, char *txt, size_t ntxt, char *jdir,
			 size_t njdir, char *jpath, size_t njpath)
{
	if (members_path(txt, ntxt, dir, file) != ST_OK ||
	    fs_path(jdir, njdir, "%s/var/db", dir) < 0 ||
	    fs_path(jpath, njpath, "%s/%s.journal", jdir, file) < 0)
		return ST_TEMPFAIL;
	return ST_OK;
}

static fml_status pwrite_full(int fd, const char *p, size_t n, off_t off, const char *path)
{
	while (n > 0) {
		ssize_t w = pwrite(fd, p, n, off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			msg_error("write %s: %s", path, w < 0 ? strerror(errno) : "short write");
			return ST_TEMPFAIL;
		}
		p += w;
		n -= (size_t)w;
		off += w;
	}
	return ST_OK;
}

/* Write DATA at SIZE in the file open as FD, cut whatever followed, fsync. */
static fml_status put_data(int fd, const char *path, off_t size, const char *data, size_t n)
{
	if (ftruncate(fd, size) < 0) {
		msg_error("truncate %s: %s", path, strerror(errno));
		return ST_TEMPFAIL;
	}
	if (pwrite_full(fd, data, n, size, path) != ST_OK)
		return ST_TEMPFAIL;
	if (fsync(fd) < 0) {
		msg_error("fsync %s: %s", path, strerror(errno));
		return ST_TEMPFAIL;
	}
	return ST_OK;
}

/* Only actives has readers that follow its appends (the snapshots). */
static int logged(const char *file)
{
	return strcmp(file, "actives") == 0;
}

/* Keep the last lines of the append log at PATH (about LOG_KEEP bytes), by
 * rename; else empty it.  A chain from the current snapshot is mostly a
 * few appends long, so it survives. */
static void log_shorten(const char *path, int fd)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	str tail = STR_INIT;
	int ok = 0;
	fs_dirname(path, dir, sizeof dir);
	/* named as the index builder's temps: its sweep removes a dead writer's */
	if (fs_path(tmp, sizeof tmp, "%s/.actives.db.appends.%ld", dir, (long)getpid()) == 0 &&
	    fs_read_tail(path, &tail, LOG_KEEP) == ST_OK) {
		int t = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
		ok = t >= 0 && write(t, tail.s, tail.len) == (ssize_t)tail.len;
		if (t >= 0 && close(t) < 0)
			ok = 0;
		if (ok && rename(tmp, path) < 0)
			ok = 0;
		if (!ok)
			unlink(tmp);
	}
	str_free(&tail);
	if (!ok && ftruncate(fd, 0) < 0)
		msg_warn("truncate %s: %s", path, strerror(errno));
}

/* One line of the append log (membersjournal.h), after the append is
 * durable.  Not synced, and a failure is only logged: the log is a hint. */
static void log_append(const char *jdir, const char *file, const struct stat *before,
		       const struct stat *after)
{
	char path[PATH_MAX];
	struct stat st;
	if (!logged(file) || fs_path(path, sizeof path, "%s/%s.appends", jdir, file) < 0)
		return;
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		msg_warn("open %s: %s", path, strerror(errno));
		return;
	}
	/* bounded: an old chain is worth less than a short read */
	if (fstat(fd, &st) == 0 && st.st_size > LOG_MAX) {
		log_shorten(path, fd);
		close(fd);
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0) {
			msg_warn("open %s: %s", path, strerror(errno));
			return;
		}
	}
	str line = STR_INIT;
	members_stamp(&line, before);
	str_putc(&line, ' ');
	members_stamp(&line, after);
	str_printf(&line, " %lld %lld\n", (long long)before->st_size,
		   (long long)(after->st_size - before->st_size));
	if (write(fd, line.s, line.len) != (ssize_t)line.len)
		msg_warn("write %s: %s", path, strerror(errno));
	close(fd);
	str_free(&line);
}

void membersjournal_links(const char *dir, const char *file, membersjournal_link **v, size_t *n)
{
	char path[PATH_MAX];
	str buf = STR_INIT;
	*v = NULL;
	*n = 0;
	if (!logged(file) || fs_path(path, sizeof path, "%s/var/db/%s.appends", dir, file) < 0 ||
	    fs_read_tail(path, &buf, LOG_MAX * 2) != ST_OK) {
		str_free(&buf);
		return;
	}
	const char *p = str_c(&buf);
	for (const char *nl; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		unsigned long long d[2], i[2];
		long long sz[2], m[2], c[2], off, len;
		int used = 0;
		if (sscanf(p, "%llu %llu %lld %lld %lld %llu %llu %lld %lld %lld %lld %lld%n",
			   &d[0], &i[0], &sz[0], &m[0], &c[0], &d[1], &i[1], &sz[1], &m[1], &c[1],
			   &off, &len, &used) != 12 ||
		    p + used != nl || off != sz[0] || len < 0 || off + len != sz[1])
			continue; /* torn (a crash while appending to the log): no link */
		*v = mem_reallocarray(*v, *n + 1, sizeof **v);
		membersjournal_link *l = &(*v)[(*n)++];
		l->before = (str)STR_INIT;
		l->after = (str)STR_INIT;
		str_printf(&l->before, "%llu %llu %lld %lld %lld", d[0], i[0], sz[0], m[0], c[0]);
		str_printf(&l->after, "%llu %llu %lld %lld %lld", d[1], i[1], sz[1], m[1], c[1]);
		l->off = (off_t)off;
		l->len = (off_t)len;
	}
	str_free(&buf);
}

void membersjournal_links_free(membersjournal_link *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		str_free(&v[i].before);
		str_free(&v[i].after);
	}
	free(v);
}

void membersjournal_forget(const char *dir, const char *file)
{
	char path[PATH_MAX];
	if (logged(file) && fs_path(path, sizeof path, "%s/var/db/%s.appends", dir, file) == 0 &&
	    unlink(path) < 0 && errno != ENOENT)
		msg_warn("unlink %s: %s", path, strerror(errno));
}

static int open_member_file(const char *path, int *created)
{
	*created = 0;
	int fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		*created = fd >= 0;
	}
	if (fd < 0)
		msg_error("open %s: %s", path, strerror(errno));
	return fd;
}

fml_status membersjournal_append(const char *dir, const char *file, const char *data, size_t n,
				 struct stat *before, struct stat *after)
{
	char txt[PATH_MAX], jdir[PATH_MAX], jpath[PATH_MAX], tdir[PATH_MAX];
	str j = STR_INIT;
	safefile sf;
	int created;
	char last = '\n';
	fml_status st = ST_TEMPFAIL;

	memset(before, 0, sizeof *before);
	if (jpaths(dir, file, txt, sizeof txt, jdir, sizeof jdir, jpath, sizeof jpath) != ST_OK ||
	    fs_mkdirs(jdir, 0700) != ST_OK)
		return ST_TEMPFAIL;
	int fd = open_member_file(txt, &created);
	if (fd < 0)
		return ST_TEMPFAIL;
	if (fstat(fd, before) < 0) {
		msg_error("stat %s: %s", txt, strerror(errno));
		goto out;
	}
	if (created) {
		memset(before, 0, sizeof *before);
		fs_dirname(txt, tdir, sizeof tdir);
		if (fs_fsync_dir(tdir) != ST_OK)
			goto out;
	} else if (before->st_size > 0 && fs_pread_full(fd, &last, 1, before->st_size - 1) != 1) {
		msg_error("read %s: %s", txt, strerror(errno));
		goto out;
	}
	off_t size = created ? 0 : before->st_size;
	str_printf(&j, JOURNAL_MAGIC " %lld %zu\n", (long long)size, n + (last != '\n'));
	if (last != '\n')
		str_putc(&j, '\n');
	size_t head = j.len - (last != '\n');
	str_append(&j, data, n);
	str_printf(&j, "end %016" PRIx64 "\n", fnv1a(j.s, j.len));
	/* named as the index builder's temps, so that its sweep removes the
	 * temp of a journal whose writer died */
	char prefix[128];
	if (fs_path(prefix, sizeof prefix, ".%s.db.journal", file) < 0 ||
	    safefile_open(&sf, jdir, prefix) != ST_OK)
		goto out;
	if (safefile_write(&sf, j.s, j.len) != ST_OK) {
		safefile_abort(&sf);
		goto out;
	}
	if (safefile_commit(&sf, jpath) != ST_OK)
		goto out;
	/* an edit by hand since BEFORE (it takes no lock) would not be an
	 * append: then the append log gets no line */
	struct stat pre;
	int unchanged = created || (fstat(fd, &pre) == 0 && members_same_stat(before, &pre));
	/* from here a crash is replayed by the next run */
	if ((st = put_data(fd, txt, size, j.s + head, j.len - head - 21)) != ST_OK)
		goto out;
	if (fstat(fd, after) < 0) {
		msg_error("stat %s: %s", txt, strerror(errno));
		st = ST_TEMPFAIL;
	} else if (unchanged) {
		log_append(jdir, file, before, after);
	}
out:
	close(fd);
	str_free(&j);
	return st;
}

void membersjournal_done(const char *dir, const char *file)
{
	char txt[PATH_MAX], jdir[PATH_MAX], jpath[PATH_MAX];
	if (jpaths(dir, file, txt, sizeof txt, jdir, sizeof jdir, jpath, sizeof jpath) != ST_OK)
		return;
	/* not fsynced: a journal that comes back after a crash is replayed
	 * once more, which changes nothing but the stamp */
	if (unlink(jpath) < 0 && errno != ENOENT)
		msg_warn("unlink %s: %s", jpath, strerror(errno));
}

/* Parse journal J: 1 complete (SIZE, DATA, N set), 0 torn. */
static int parse(const str *j, long long *size, const char **data, size_t *n)
{
	const char *s = str_c(j);
	char *end;
	size_t ml = strlen(JOURNAL_MAGIC);
	if (j->len < ml + 1 || memcmp(s, JOURNAL_MAGIC " ", ml + 1) != 0)
		return 0;
	errno = 0;
	*size = strtoll(s + ml + 1, &end, 10);
	if (errno || *size < 0 || *end != ' ')
		return 0;
	unsigned long long len = strtoull(end + 1, &end, 10);
	if (errno || *end != '\n')
		return 0;
	size_t head = (size_t)(end + 1 - s);
	if (len > j->len || j->len - head - len != 21)
		return 0;
	char want[32];
	snprintf(want, sizeof want, "end %016" PRIx64 "\n", fnv1a(s, head + len));
	if (memcmp(s + head + len, want, 21) != 0)
		return 0;
	*data = s + head;
	*n = (size_t)len;
	return 1;
}

fml_status membersjournal_recover(const char *dir, const char *file)
{
	char txt[PATH_MAX], jdir[PATH_MAX], jpath[PATH_MAX];
	str j = STR_INIT;
	long long size;
	const char *data;
	size_t n;
	int created;
	fml_status st;

	if (jpaths(dir, file, txt, sizeof txt, jdir, sizeof jdir, jpath, sizeof jpath) != ST_OK)
		return ST_TEMPFAIL;
	/* the common case, one system call: no journal (or no var/db at all) */
	if (access(jpath, F_OK) < 0 && (errno == ENOENT || errno == ENOTDIR))
		return ST_OK;
	if ((st = fs_read(jpath, &j, 0)) != ST_OK) {
		str_free(&j);
		return st == ST_NOINPUT ? ST_OK : st;
	}
	if (!parse(&j, &size, &data, &n)) {
		msg_warn("%s: torn journal, %s was not touched: removing it", jpath, file);
	} else {
		int fd = open_member_file(txt, &created);
		struct stat sb;
		st = fd < 0 ? ST_TEMPFAIL : ST_OK;
		if (st == ST_OK && (fstat(fd, &sb) < 0 || sb.st_size < size)) {
			/* shorter than before the append: someone cut it by hand */
			msg_warn("%s: %s is shorter than the journal says: not replayed", jpath,
				 txt);
		} else if (st == ST_OK) {
			st = put_data(fd, txt, (off_t)size, data, n);
			if (st == ST_OK)
				msg_info("%s: finished an interrupted append (%zu bytes)", txt, n);
		}
		if (fd >= 0)
			close(fd);
	}
	str_free(&j);
	if (st != ST_OK)
		return st;
	if (unlink(jpath) < 0 && errno != ENOENT) {
		msg_error("unlink %s: %s", jpath, strerror(errno));
		return ST_TEMPFAIL;
	}
	return fs_fsync_dir(jdir);
}

fml_status membersjournal_recover_all(const char *dir)
{
	/* the files an add appends to (roster, addadmin) */
	static const char *const files[] = {"members", "actives", "members-admin", "moderators"};
	fml_status st = ST_OK;
	for (size_t i = 0; i < sizeof files / sizeof files[0] && st == ST_OK; i++)
		st = membersjournal_recover(dir, files[i]);
	return st;
}
