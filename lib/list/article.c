/*
 * article: the articles of a list: ranges of article numbers, as get, mget
 * and digests ask for them, and opening article N from the spool or the
 * archive units (the article store, below).  See article.h.
 *
 * The range parser is hand-written: digits are read with an overflow
 * check, every number is clipped to 1..LAST, and memory grows with the
 * number of comma-separated items only, never with the numbers.  A range
 * that cannot be parsed is ST_DATAERR with a reason fit for the user (no
 * byte of the user's text in it).
 */
#include "article.h"
#include "seq.h"
#include "util/fs.h"
#include "util/mem.h"
#include "util/msg.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* ================================================================ articles */

/*
 * The store.  An article is read from the spool; when the spool no longer
 * has it (expired), from the archive unit that holds it: the unit file
 * E.tar.gz with the smallest E >= N, found by listing ARCHIVE_DIR (a few
 * hundred names at most), read with libarchive.  The unit last read is
 * cached in memory: all its entries while their total stays within
 * STORE_CACHE_MAX (so "mget 1-250" decompresses each unit once); beyond
 * that budget the rest is not cached and a miss streams the unit again for
 * the one entry.  An article from the archive is handed out as a fresh
 * memfd holding its bytes, so the caller treats it like a spool file.
 *
 * Hostile or broken units: entries that are not regular files named
 * "spool/N" are skipped; an entry over STORE_ENTRY_MAX, a truncated or
 * corrupt gzip/tar stream, or an unreadable file is logged and ST_TEMPFAIL
 * (the request is retried later, the admin looks at the log).
 */
#define STORE_CACHE_MAX (32L << 20) /* bytes of one unit held in memory */
#define STORE_ENTRY_MAX (64L << 20) /* the largest article read from a unit */
#define STORE_BUF 65536

struct store_entry {
	long n;
	size_t off, len; /* in the cache buffer */
};

void article_store_init(article_store *s, const char *spool_dir, const char *archive_dir)
{
	memset(s, 0, sizeof *s);
	s->spool_dir = spool_dir;
	s->archive_dir = archive_dir;
	str_init(&s->cache);
}

static void cache_drop(article_store *s)
{
	s->unit = 0;
	s->complete = 0;
	s->nent = 0;
	str_free(&s->cache);
}

void article_store_free(article_store *s)
{
	cache_drop(s);
	free(s->ent);
	memset(s, 0, sizeof *s);
}

static fml_status spool_open(const char *spool_dir, long n, int *fd, off_t *size)
{
	char path[PATH_MAX];
	struct stat st;
	int len = snprintf(path, sizeof path, "%s/%ld", spool_dir, n);

	if (len < 0 || (size_t)len >= sizeof path) {
		msg_error("spool path too long: %.60s...", spool_dir);
		return ST_TEMPFAIL;
	}
	/* O_NONBLOCK: a FIFO must not block the open; reads of files ignore it */
	int f = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (f < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return ST_NOINPUT;
		if (errno == ELOOP) {
			msg_warn("%s: a symbolic link, not an article", path);
			return ST_NOINPUT;
		}
		msg_error("open %s: %s", path, strerror(errno));
		return ST_TEMPFAIL;
	}
	if (fstat(f, &st) < 0) {
		msg_error("fstat %s: %s", path, strerror(errno));
		close(f);
		return ST_TEMPFAIL;
	}
	if (!S_ISREG(st.st_mode)) {
		msg_warn("%s: not a regular file", path);
		close(f);
		return ST_NOINPUT;
	}
	*fd = f;
	*size = st.st_size;
	return ST_OK;
}

/* ---------------------------------------------------------------- reading a unit */

/* A memfd holding P[0..N). */
static fml_status memfd_of(const char *p, size_t n, int *fd)
{
	int f = memfd_create("fml-article", MFD_CLOEXEC);
	size_t done = 0;
	if (f < 0) {
		msg_error("memfd_create: %s", strerror(errno));
		return ST_TEMPFAIL;
	}
	while (done < n) {
		ssize_t w = write(f, p + done, n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			msg_error("writing an article to memory: %s", strerror(errno));
			close(f);
			return ST_TEMPFAIL;
		}
		done += (size_t)w;
	}
	*fd = f;
	return ST_OK;
}

/* A unit being read: libarchive does not close the fd it reads. */
typedef struct unit_reader {
	struct archive *a;
	int fd;
	char path[PATH_MAX];
} unit_reader;

static fml_status unit_open(unit_reader *u, const char *dir, long e)
{
	struct stat st;
	int len = snprintf(u->path, sizeof u->path, "%s/%ld.tar.gz", dir, e);

	u->a = NULL;
	u->fd = -1;
	if (len < 0 || (size_t)len >= sizeof u->path) {
		msg_error("archive path too long: %.60s...", dir);
		return ST_TEMPFAIL;
	}
	u->fd = open(u->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (u->fd < 0 || fstat(u->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		msg_error("open %s: %s", u->path,
			  u->fd < 0 ? strerror(errno) : "not a regular file");
		return ST_TEMPFAIL;
	}
	u->a = archive_read_new();
	archive_read_support_format_tar(u->a);
	archive_read_support_filter_gzip(u->a);
	if (archive_read_open_fd(u->a, u->fd, STORE_BUF) != ARCHIVE_OK) {
		msg_error("%s: %s", u->path, archive_error_string(u->a));
		return ST_TEMPFAIL;
	}
	return ST_OK;
}

static void unit_close(unit_reader *u)
{
	if (u->a)
		archive_read_free(u->a);
	if (u->fd >= 0)
		close(u->fd);
}

/* The next entry "spool/K" (a regular file) of U: 1 and *K, 0 at the end,
 * -1 on a corrupt stream (logged).  Other entries are skipped. */
static int unit_next(unit_reader *u, long *k)
{
	struct archive_entry *ae;
	for (;;) {
		int r = archive_read_next_header(u->a, &ae);
		if (r == ARCHIVE_EOF)
			return 0;
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
			msg_error("%s: %s", u->path, archive_error_string(u->a));
			return -1;
		}
		const char *name = archive_entry_pathname(ae);
		if (archive_entry_filetype(ae) == AE_IFREG && name &&
		    strncmp(name, "spool/", 6) == 0 && (*k = seq_name_number(name + 6, "")) > 0)
			return 1;
		msg_warn("%s: entry %.80s skipped: not an article", u->path, name ? name : "?");
	}
}

/* The data of the current entry appended to OUT, at most MAX bytes. */
static fml_status unit_data(unit_reader *u, long k, str *out, long max)
{
	char buf[STORE_BUF];
	long total = 0;
	for (;;) {
		la_ssize_t r = archive_read_data(u->a, buf, sizeof buf);
		if (r == 0)
			return ST_OK;
		if (r < 0) {
			msg_error("%s: article %ld: %s", u->path, k, archive_error_string(u->a));
			return ST_TEMPFAIL;
		}
		if ((total += r) > max) {
			msg_error("%s: article %ld: larger than %ld bytes", u->path, k, max);
			return ST_TEMPFAIL;
		}
		str_append(out, buf, (size_t)r);
	}
}

static void cache_add(article_store *s, long k, size_t off)
{
	if (s->nent == s->capent) {
		s->capent = s->capent ? 2 * s->capent : 128;
		s->ent = mem_reallocarray(s->ent, s->capent, sizeof *s->ent);
	}
	s->ent[s->nent].n = k;
	s->ent[s->nent].off = off;
	s->ent[s->nent].len = s->cache.len - off;
	s->nent++;
}

/* Read unit E into the cache, as much as fits in STORE_CACHE_MAX (and
 * entry N in any case). */
static fml_status cache_load(article_store *s, long e, long n)
{
	unit_reader u;
	fml_status st = unit_open(&u, s->archive_dir, e);
	long k;
	int r = 0;

	cache_drop(s);
	s->complete = 1;
	while (st == ST_OK && (r = unit_next(&u, &k)) > 0) {
		size_t off = s->cache.len;
		if ((long)off >= STORE_CACHE_MAX && k != n) {
			s->complete = 0; /* over the budget: not cached */
			continue;
		}
		if ((st = unit_data(&u, k, &s->cache, STORE_ENTRY_MAX)) == ST_OK)
			cache_add(s, k, off);
	}
	if (r < 0)
		st = ST_TEMPFAIL;
	unit_close(&u);
	if (st != ST_OK)
		cache_drop(s);
	else
		s->unit = e;
	return st;
}

/* Entry N of unit E, not cached (the cache is over its budget). */
static fml_status unit_extract(article_store *s, long e, long n, int *fd, off_t *size)
{
	unit_reader u;
	str data = STR_INIT;
	fml_status st = unit_open(&u, s->archive_dir, e);
	long k;
	int r = 0;

	while (st == ST_OK && (r = unit_next(&u, &k)) > 0 && k != n)
		;
	if (st == ST_OK && r < 0)
		st = ST_TEMPFAIL;
	else if (st == ST_OK && r == 0)
		st = ST_NOINPUT;
	if (st == ST_OK && (st = unit_data(&u, n, &data, STORE_ENTRY_MAX)) == ST_OK &&
	    (st = memfd_of(data.s, data.len, fd)) == ST_OK)
		*size = (off_t)data.len;
	unit_close(&u);
	str_free(&data);
	return st;
}

static const store_entry *cache_find(const article_store *s, long n)
{
	for (size_t i = 0; i < s->nent; i++)
		if (s->ent[i].n == n)
			return &s->ent[i];
	return NULL;
}

static fml_status archive_open(article_store *s, long n, int *fd, off_t *size)
{
	const store_entry *hit = s->unit ? cache_find(s, n) : NULL;
	long e, max;
	fml_status st;

	if (!hit) {
		if ((st = seq_units(s->archive_dir, n, &e, &max)) != ST_OK)
			return st;
		if (e == 0)
			return ST_NOINPUT;
		if (e == s->unit && !s->complete)
			return unit_extract(s, e, n, fd, size);
		if (e != s->unit && (st = cache_load(s, e, n)) != ST_OK)
			return st;
		if ((hit = cache_find(s, n)) == NULL)
			return ST_NOINPUT; /* a hole: never made, or lost before archiving */
	}
	if ((st = memfd_of(s->cache.s + hit->off, hit->len, fd)) != ST_OK)
		return st;
	*size = (off_t)hit->len;
	return ST_OK;
}

fml_status article_open(article_store *s, long n, int *fd, off_t *size)
{
	*fd = -1;
	if (n <= 0)
		return ST_NOINPUT;
	fml_status st = spool_open(s->spool_dir, n, fd, size);
	if (st != ST_NOINPUT || !s->archive_dir || !*s->archive_dir)
		return st;
	return archive_open(s, n, fd, size);
}

fml_status article_tar_entry(struct archive *a, long n, int fd, off_t size,
			     const struct timespec *mtime, char *buf, size_t bufsize)
{
	char name[32];
	struct archive_entry *ae = archive_entry_new();
	snprintf(name, sizeof name, "spool/%ld", n);
	archive_entry_set_pathname(ae, name);
	archive_entry_set_filetype(ae, AE_IFREG);
	archive_entry_set_perm(ae, 0644);
	archive_entry_set_size(ae, size);
	archive_entry_set_mtime(ae, mtime->tv_sec, mtime->tv_nsec);
	int r = archive_write_header(a, ae);
	archive_entry_free(ae);
	if (r != ARCHIVE_OK) {
		msg_error("archive article %ld: %s", n, archive_error_string(a));
		return ST_TEMPFAIL;
	}
	for (off_t pos = 0; pos < size;) {
		size_t want = (size_t)(size - pos) > bufsize ? bufsize : (size_t)(size - pos);
		ssize_t got = pread(fd, buf, want, pos);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			msg_error("read article %ld: %s", n,
				  got < 0 ? strerror(errno) : "file shrank");
			return ST_TEMPFAIL;
		}
		if (archive_write_data(a, buf, (size_t)got) != got) {
			msg_error("archive article %ld: %s", n, archive_error_string(a));
			return ST_TEMPFAIL;
		}
		pos += got;
	}
	return ST_OK;
}
