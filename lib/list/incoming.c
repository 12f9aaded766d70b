/*
 * incoming: accept (the commit point) and the items in var/incoming.
 * See incoming.h for the item format.  Failure policy: before the rename
 * every error returns ST_TEMPFAIL and the temp file is removed (also on
 * SIGTERM, via the safefile clean-up); the size limit returns ST_TOOBIG.
 *
 * Durability.  The item is written, closed and renamed, but not fsynced:
 * until fml exits 0 the MTA still holds the mail, and a run that goes on
 * to make the article commits the article durably (distribute.c), which is
 * all an exit 0 needs.  Only a program that exits 0 (or reports success)
 * with the item still waiting makes it durable first: incoming_sync(),
 * file then var/incoming.  A crash before that may leave the item torn,
 * complete, or not at all, while the MTA delivers the mail again:
 *
 *   - torn: incoming_open() checks the first line, the trailer, the length
 *     and the SHA-256 of the mail against the trailer, so zeroed or missing
 *     blocks anywhere make it ST_DATAERR (moved to var/log as malformed,
 *     never distributed); the MTA's copy is the mail.
 *   - complete: two items with the same bytes.  The older is processed
 *     first; if it becomes an article, the duplicate cache holds its
 *     SHA-256 and Message-ID and the MTA's copy is dropped as a duplicate.
 *
 * The duplicate cache is not synced either, so the order of the durable
 * events is what keeps "one article" true: distribute.c records a mail in
 * the cache only after its article and queue item are durable.  A cache
 * entry that survives a crash therefore always stands for an article that
 * did, and a lost entry is harmless while the item it came from survives:
 * spool/.tmp.ID (linked to spool/N, durable with it) lets the next run
 * finish that article instead of making another, and records the entry
 * again before the MTA's copy is looked at.  What remains is a crash after
 * the article was durable that loses both the entry and the item (neither
 * was synced) before fml exits 0: the MTA's copy then finds no trace and
 * becomes a second article.  The same window was there before (the item's
 * unlink and the cache were never ordered); closing it needs the cache or
 * var/incoming synced on every post.
 */
#include "incoming.h"
#include "util/bytes.h"
#include "util/fs.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/safefile.h"
#include "util/sha256.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#define CHUNK 65536
#define TMP_MAX_AGE 3600

void incoming_escape(const char *in, str *out)
{
	static const char hex[] = "0123456789ABCDEF";
	str_clear(out);
	for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
		if (*p <= 0x20 || *p >= 0x7f || *p == '%' || *p == '<' || *p == '>') {
			str_putc(out, '%');
			str_putc(out, hex[*p >> 4]);
			str_putc(out, hex[*p & 15]);
		} else {
			str_putc(out, *p);
		}
	}
}

static void unescape(const char *in, size_t n, str *out)
{
	str_clear(out);
	for (size_t i = 0; i < n; i++) {
		int hi, lo;
		if (in[i] == '%' && i + 2 < n && (hi = bytes_hex_value(in[i + 1])) >= 0 &&
		    (lo = bytes_hex_value(in[i + 2])) >= 0) {
			str_putc(out, hi * 16 + lo);
			i += 2;
		} else {
			str_putc(out, in[i]);
		}
	}
}

static fml_status check_space(const char *dir, long long limit)
{
	struct statvfs vfs;
	if (statvfs(dir, &vfs) < 0)
		return ST_OK; /* cannot tell: let the writes fail if they must */
	unsigned long long avail = (unsigned long long)vfs.f_bavail * vfs.f_frsize;
	unsigned long long reserve = limit > 0 ? 2ULL * (unsigned long long)limit : 20ULL << 20;
	if (avail < reserve) {
		msg_error("%s: only %llu bytes free, below the reserve of %llu", dir, avail,
			  reserve);
		return ST_TEMPFAIL;
	}
	return ST_OK;
}

fml_status incoming_sync(const char *dir, const char *id)
{
	char idir[4096], path[4096];
	if (fs_path(idir, sizeof idir, "%s/var/incoming", dir) < 0 ||
	    fs_path(path, sizeof path, "%s/%s", idir, id) < 0)
		return ST_TEMPFAIL;
	if (fs_fsync_path(path) < 0) {
		if (errno == ENOENT)
			return ST_NOINPUT;
		msg_error("fsync %s: %s", path, strerror(errno));
		return ST_TEMPFAIL;
	}
	return fs_fsync_dir(idir);
}

/* Fill BUF up to N bytes or end of input: whole chunks make the number of
 * writes a function of the size alone, not of how the pipe happened to
 * deliver the bytes (the crash tests count them). */
fml_status incoming_accept(const char *dir, int fd_in, incoming_mode mode, const char *sender,
			   long long limit, void (*committed)(void), str *id)
{
	char idir[4096], final[4096];
	safefile sf;
	str line = STR_INIT, esc = STR_INIT;
	fml_status st = ST_TEMPFAIL;

	str_clear(id);
	if (fs_path(idir, sizeof idir, "%s/var/incoming", dir) < 0)
		return ST_TEMPFAIL;
	if (check_space(idir, limit) != ST_OK)
		return ST_TEMPFAIL;
	if (safefile_open(&sf, idir, "tmp") != ST_OK)
		return ST_TEMPFAIL;

	if (sender && strlen(sender) > INCOMING_SENDER_MAX) {
		msg_warn("envelope sender longer than %d bytes: recorded as unknown",
			 INCOMING_SENDER_MAX);
		sender = NULL;
	}
	if (!sender) {
		str_sets(&esc, "-");
	} else {
		str line2 = STR_INIT;
		incoming_escape(sender, &line2);
		str_printf(&esc, "<%s>", str_c(&line2));
		str_free(&line2);
	}
	str_printf(&line, "fml-incoming 1 %s %s\n",
		   mode == IN_CTL      ? "ctl"
		   : mode == IN_BOUNCE ? "bounce"
				       : "post",
		   str_c(&esc));
	if (safefile_write(&sf, line.s, line.len) != ST_OK)
		goto out;

	sha256 sha;
	char hex[SHA256_HEX];
	sha256_init(&sha);
	char *buf = mem_alloc(CHUNK);
	long long total = 0;
	for (;;) {
		ssize_t n = fs_read_full(fd_in, buf, CHUNK);
		if (n < 0) {
			msg_error("read standard input: %s", strerror(errno));
			break;
		}
		if (n == 0) {
			st = ST_OK;
			break;
		}
		total += n;
		if (limit > 0 && total > limit) {
			st = ST_TOOBIG;
			break;
		}
		sha256_update(&sha, buf, (size_t)n);
		if (safefile_write(&sf, buf, (size_t)n) != ST_OK)
			break;
	}
	free(buf);
	if (st == ST_OK && total > 0) {
		str_clear(&line);
		sha256_hex(&sha, hex);
		str_printf(&line, "\nfml-trailer %020lld %s\n", total, hex);
		if (line.len != INCOMING_TRAILER_LEN)
			msg_panic("trailer length %zu", line.len);
		st = safefile_write(&sf, line.s, line.len);
	}
	if (st != ST_OK || total == 0) {
		safefile_abort(&sf);
		if (st == ST_OK)
			msg_info("empty input ignored");
		goto out;
	}

	/* Final name: arrival time + pid + the temp name's random part. */
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	const char *rnd = strrchr(sf.tmp, '.');
	if (fs_path(final, sizeof final, "%s/%010lld.%06ld.%d%s", idir, (long long)ts.tv_sec,
		    ts.tv_nsec / 1000, (int)getpid(), rnd ? rnd : "") < 0) {
		safefile_abort(&sf);
		st = ST_TEMPFAIL;
		goto out;
	}
	/* The commit and what the caller makes of it (fml: the exit status a
	 * signal gives) change together: no signal is taken in between. */
	sigset_t all, old;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	st = safefile_rename(&sf, final); /* not synced: see the top */
	if (st == ST_OK) {
		str_sets(id, strrchr(final, '/') + 1);
		if (committed)
			committed();
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
out:
	str_free(&line);
	str_free(&esc);
	return st;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int incoming_list(const char *dir, str *names)
{
	char idir[4096], path[4096];
	str_clear(names);
	if (fs_path(idir, sizeof idir, "%s/var/incoming", dir) < 0)
		return -1;
	DIR *d = opendir(idir);
	if (!d) {
		msg_error("opendir %s: %s", idir, strerror(errno));
		return -1;
	}
	char **v = NULL;
	size_t n = 0, cap = 0;
	time_t now = time(NULL);
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		const char *name = de->d_name;
		if (name[0] == '.')
			continue;
		if (strncmp(name, "tmp.", 4) == 0) {
			struct stat st;
			if (fs_path(path, sizeof path, "%s/%s", idir, name) == 0 &&
			    lstat(path, &st) == 0 && now - st.st_mtime > TMP_MAX_AGE) {
				msg_warn("removing stale temp file %s", path);
				unlink(path);
			}
			continue;
		}
		if (name[0] < '0' || name[0] > '9')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			v = mem_reallocarray(v, cap, sizeof *v);
		}
		v[n++] = mem_strdup(name);
	}
	closedir(d);
	if (n > 1) /* v is NULL when the directory is empty */
		qsort(v, n, sizeof *v, cmp_names);
	for (size_t i = 0; i < n; i++) {
		str_append(names, v[i], strlen(v[i]) + 1);
		free(v[i]);
	}
	free(v);
	return (int)n;
}

static fml_status check_sha(const incoming_item *it)
{
	sha256 sha;
	char hex[SHA256_HEX];
	sha256_init(&sha);
	char *buf = mem_alloc(CHUNK);
	fml_status st = ST_OK;
	for (off_t off = it->mail_start; off < it->mail_end && st == ST_OK;) {
		size_t want = it->mail_end - off < CHUNK ? (size_t)(it->mail_end - off) : CHUNK;
		ssize_t n = fs_pread_full(it->fd, buf, want, off);
		if (n < 0) {
			msg_error("read %s: %s", it->path, strerror(errno));
			st = ST_TEMPFAIL;
		} else if ((size_t)n < want) {
			st = ST_DATAERR;
		} else {
			sha256_update(&sha, buf, (size_t)n);
			off += n;
		}
	}
	sha256_hex(&sha, hex);
	if (st == ST_OK && strcmp(hex, it->sha256) != 0)
		st = ST_DATAERR;
	free(buf);
	return st;
}

fml_status incoming_open(const char *dir, const char *id, incoming_item *it)
{
	return incoming_open_in(dir, "var/incoming", id, it);
}

static fml_status open_item(const char *dir, const char *area, const char *id, incoming_item *it,
			    int check)
{
	memset(it, 0, sizeof *it);
	it->fd = -1;
	if (fs_path(it->path, sizeof it->path, "%s/%s/%s", dir, area, id) < 0 ||
	    snprintf(it->id, sizeof it->id, "%s", id) >= (int)sizeof it->id)
		return ST_DATAERR;
	it->arrival = strtoll(id, NULL, 10);
	it->fd = open(it->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (it->fd < 0)
		return errno == ENOENT ? ST_NOINPUT : ST_TEMPFAIL;
	struct stat st;
	char head[INCOMING_SENDER_MAX * 3 + 64], trailer[INCOMING_TRAILER_LEN + 1];
	if (fstat(it->fd, &st) < 0 || !S_ISREG(st.st_mode))
		return ST_TEMPFAIL;
	ssize_t n = pread(it->fd, head, sizeof head - 1, 0);
	if (n <= 0)
		return ST_DATAERR;
	head[n] = 0;
	char *nl = memchr(head, '\n', (size_t)n);
	if (!nl)
		return ST_DATAERR;
	*nl = 0;
	/* "fml-incoming 1 post|ctl|bounce -|<escaped>" exactly */
	const char *p = head;
	if (strncmp(p, "fml-incoming 1 ", 15) != 0)
		return ST_DATAERR;
	p += 15;
	if (strncmp(p, "post ", 5) == 0) {
		it->mode = IN_POST;
		p += 5;
	} else if (strncmp(p, "ctl ", 4) == 0) {
		it->mode = IN_CTL;
		p += 4;
	} else if (strncmp(p, "bounce ", 7) == 0) {
		it->mode = IN_BOUNCE;
		p += 7;
	} else {
		return ST_DATAERR;
	}
	size_t sl = strlen(p);
	if (sl == 0 || strpbrk(p, " \t\r") != NULL)
		return ST_DATAERR;
	if (strcmp(p, "-") != 0) {
		if (sl < 2 || p[0] != '<' || p[sl - 1] != '>')
			return ST_DATAERR;
		it->has_sender = 1;
		unescape(p + 1, sl - 2, &it->sender);
	}
	it->mail_start = nl - head + 1;
	if (st.st_size < it->mail_start + INCOMING_TRAILER_LEN)
		return ST_DATAERR;
	off_t toff = st.st_size - INCOMING_TRAILER_LEN;
	if (pread(it->fd, trailer, INCOMING_TRAILER_LEN, toff) != INCOMING_TRAILER_LEN)
		return ST_DATAERR;
	trailer[INCOMING_TRAILER_LEN] = 0;
	/* "\nfml-trailer " 20 digits ' ' 64 lower-case hex "\n" */
	if (memcmp(trailer, "\nfml-trailer ", 13) != 0 || trailer[33] != ' ' ||
	    trailer[98] != '\n' || strspn(trailer + 13, "0123456789") != 20 ||
	    strspn(trailer + 34, "0123456789abcdef") != 64)
		return ST_DATAERR;
	long long len = strtoll(trailer + 13, NULL, 10);
	if (len != (long long)(toff - it->mail_start))
		return ST_DATAERR;
	memcpy(it->sha256, trailer + 34, 64);
	it->sha256[64] = 0;
	it->mail_end = toff;
	/* the item is not synced when it is written: a crash can leave the
	 * right length with blocks of zeros; the checksum is the only proof */
	return check ? check_sha(it) : ST_OK;
}

fml_status incoming_open_in(const char *dir, const char *area, const char *id, incoming_item *it)
{
	return open_item(dir, area, id, it, 1);
}

fml_status incoming_peek(const char *dir, const char *id, incoming_item *it)
{
	return open_item(dir, "var/incoming", id, it, 0);
}

void incoming_close(incoming_item *it)
{
	if (it->fd >= 0)
		close(it->fd);
	it->fd = -1;
	str_free(&it->sender);
}
