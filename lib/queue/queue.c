/*
 * queue: reading, checking and moving queue items; the per-item journal.
 * Interface in queue.h, formats in doc/fml-queue.5.
 *
 * An article's item names a recipient snapshot (qsnap.c) instead of
 * holding rcpt lines: it is checked whole when the item is opened, then
 * read in chunks (queue_rcpt_next) and looked up by address for the
 * journal's lines; the journal itself is read in chunks too
 * (queue_journal_scan), so that what a reader holds does not grow with
 * the list beyond one state byte per recipient.  Before a claim moves an
 * item out of its area, its snapshot is linked to it (qsnap_link).
 *
 * Failure policy: an item that fails any check, its snapshot's included,
 * is never delivered: the caller moves it to corrupt/.  I/O trouble returns ST_TEMPFAIL and leaves
 * the item where it was.  The journal is appended and fsynced; a torn last
 * line is ignored on reading, so a crash loses at most the transaction in
 * flight, which is then sent again.
 */
#include "queue.h"
#include "qitem.h"
#include "util/fs.h"
#include "util/lines.h"
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
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

const char *const queue_areas[] = {"tmp",  "new",  "active",  "deferred",
				   "sent", "drop", "corrupt", NULL};

#define ENV_CHUNK 65536

fml_status queue_init(const char *qdir)
{
	char path[4096];
	for (int i = 0; queue_areas[i]; i++) {
		if (fs_path(path, sizeof path, "%s/%s", qdir, queue_areas[i]) < 0 ||
		    fs_mkdirs(path, 0700) != ST_OK)
			return ST_TEMPFAIL;
	}
	if (fs_path(path, sizeof path, "%s/journal", qdir) < 0 || fs_mkdirs(path, 0700) != ST_OK)
		return ST_TEMPFAIL;
	return ST_OK;
}

static int digits(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return 0;
	return n > 0;
}

static int read_at(int fd, void *buf, size_t n, off_t off)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = pread(fd, (char *)buf + got, n - got, off + (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

/* Parse the envelope in q->env (LEN bytes, ending with the empty line):
 * ST_OK or ST_DATAERR. */
static fml_status parse_envelope(queue_item *q, size_t len, str *err)
{
	char *p = q->env.s, *end = p + len;
	size_t cap = 0;
	int line = 0;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		*nl = 0;
		if (nl == p)
			break; /* the empty line */
		line++;
		if (line == 1) {
			if (strcmp(p, "FMLQ 1") != 0)
				return status_why(err, ST_DATAERR, "not an FMLQ 1 item");
		} else if (strncmp(p, "sender ", 7) == 0 && line == 2) {
			q->sender = p + 7;
		} else if (strncmp(p, "created ", 8) == 0 && line == 3 &&
			   digits(p + 8, strlen(p + 8))) {
			q->created = (time_t)strtoll(p + 8, NULL, 10);
		} else if (strncmp(p, "list ", 5) == 0 && line == 4) {
			q->list = p + 5;
		} else if (strncmp(p, "article ", 8) == 0 && line == 5 &&
			   digits(p + 8, strlen(p + 8))) {
			q->article = strtol(p + 8, NULL, 10);
		} else if (strncmp(p, "rcpts ", 6) == 0 && line >= 5 && !q->snap && !q->nrcpt &&
			   qsnap_parse_ref(p + 6, &q->ref) == 0 && q->ref.count > 0) {
			q->snap = 1; /* a snapshot: doc/fml-queue.5 */
		} else if (strncmp(p, "rcpt ", 5) == 0 && line >= 5 && strlen(p) > 7 && !q->snap &&
			   p[6] == ' ' && strchr("-DFT", p[5]) && p[5] && !strchr(p + 7, ' ')) {
			if (q->nrcpt == cap) {
				cap = cap ? cap * 2 : 64;
				q->rcpt = mem_reallocarray(q->rcpt, cap, sizeof *q->rcpt);
				q->state_off =
				    mem_reallocarray(q->state_off, cap, sizeof *q->state_off);
			}
			q->rcpt[q->nrcpt] = p + 7;
			q->state_off[q->nrcpt++] = (off_t)(p + 5 - q->env.s);
		} else {
			return status_why(err, ST_DATAERR, "bad envelope line %d", line);
		}
		p = nl + 1;
	}
	if (q->snap)
		q->nrcpt = q->ref.count;
	if (!q->sender || !q->list || !q->created || q->nrcpt == 0)
		return status_why(err, ST_DATAERR, "incomplete envelope");
	q->state = mem_alloc(q->nrcpt);
	memset(q->state, QS_PENDING, q->nrcpt);
	return ST_OK;
}

/* Read the envelope (up to the empty line) into q->env, its length into
 * *LEN: ST_OK, ST_DATAERR (no end) or ST_TEMPFAIL. */
static fml_status read_envelope(queue_item *q, size_t *len, str *err)
{
	off_t off = 0;
	for (;;) {
		size_t want = ENV_CHUNK;
		if (off + (off_t)want > q->msg_end)
			want = (size_t)(q->msg_end - off);
		if (want == 0)
			return status_why(err, ST_DATAERR, "no end of envelope");
		str_reserve(&q->env, want);
		if (read_at(q->fd, q->env.s + q->env.len, want, off) < 0)
			return status_why(err, ST_TEMPFAIL, "read: %m");
		size_t from = q->env.len ? q->env.len - 1 : 0;
		q->env.len += want;
		q->env.s[q->env.len] = 0;
		off += (off_t)want;
		char *hit = memmem(q->env.s + from, q->env.len - from, "\n\n", 2);
		if (hit) {
			*len = (size_t)(hit - q->env.s) + 2;
			return ST_OK;
		}
	}
}

/* The snapshot of the item at PATH (QDIR/AREA/NAME, or active/NAME.PID). */
static fml_status open_snapshot(queue_item *q, const char *path, str *err)
{
	char qdir[4096], area[4096], name[256];
	fs_dirname(path, area, sizeof area);
	fs_dirname(area, qdir, sizeof qdir);
	const char *base = strrchr(path, '/'), *ab = strrchr(area, '/');
	base = base ? base + 1 : path;
	snprintf(name, sizeof name, "%s", base);
	if (ab && strcmp(ab + 1, "active") == 0)
		queue_active_pid(base, name, sizeof name);
	return qsnap_open(&q->s, qdir, name, &q->ref, err);
}

fml_status queue_open(queue_item *q, const char *path, int rdwr, str *err)
{
	char trailer[QITEM_TRAILER_LEN + 1], buf[65536];
	struct stat st;
	memset(q, 0, sizeof *q);
	q->fd = -1;
	q->s.p[0].fd = q->s.p[1].fd = -1;
	if (fs_path(q->path, sizeof q->path, "%s", path) < 0)
		return status_why(err, ST_TEMPFAIL, "path too long");
	const char *base = strrchr(path, '/');
	snprintf(q->name, sizeof q->name, "%s", base ? base + 1 : path);
	q->fd = open(path, (rdwr ? O_RDWR : O_RDONLY) | O_NOFOLLOW | O_CLOEXEC);
	if (q->fd < 0)
		return status_why(err, errno == ENOENT ? ST_NOINPUT : ST_TEMPFAIL, "open %s: %m",
				  path);
	if (fstat(q->fd, &st) < 0 || !S_ISREG(st.st_mode))
		return status_why(err, ST_DATAERR, "not a regular file");
	q->size = st.st_size;
	if (q->size < QITEM_TRAILER_LEN + 8)
		return status_why(err, ST_DATAERR, "too short for a trailer");
	q->msg_end = q->size - QITEM_TRAILER_LEN;
	if (read_at(q->fd, trailer, QITEM_TRAILER_LEN, q->msg_end) < 0)
		return status_why(err, ST_TEMPFAIL, "read: %m");
	trailer[QITEM_TRAILER_LEN] = 0;
	if (memcmp(trailer, "\nFMLQ-END ", 10) != 0 || !digits(trailer + 10, 20) ||
	    trailer[30] != ' ' || strspn(trailer + 31, "0123456789abcdef") != 64 ||
	    trailer[95] != '\n')
		return status_why(err, ST_DATAERR, "bad trailer");
	if (strtoll(trailer + 10, NULL, 10) != (long long)q->msg_end)
		return status_why(err, ST_DATAERR, "trailer length %.20s, item has %lld",
				  trailer + 10, (long long)q->msg_end);
	size_t envlen = 0; /* only ST_OK sets it; the compiler cannot see that */
	fml_status rs = read_envelope(q, &envlen, err);
	if (rs != ST_OK)
		return rs;
	q->msg_start = (off_t)envlen;
	/* SHA-256 of the envelope with '-' states, then of the rest */
	sha256 sha;
	char hex[SHA256_HEX];
	sha256_init(&sha);
	str canon = STR_INIT;
	str_set(&canon, q->env.s, envlen);
	if (parse_envelope(q, envlen, err) != ST_OK) {
		str_free(&canon);
		return ST_DATAERR;
	}
	for (size_t i = 0; !q->snap && i < q->nrcpt; i++)
		canon.s[q->state_off[i]] = '-';
	sha256_update(&sha, canon.s, canon.len);
	str_free(&canon);
	/* what read_envelope() read past the envelope is read again: simpler */
	for (off_t off = q->msg_start; off < q->msg_end;) {
		size_t n = sizeof buf;
		if ((off_t)n > q->msg_end - off)
			n = (size_t)(q->msg_end - off);
		if (read_at(q->fd, buf, n, off) < 0) {
			return status_why(err, ST_TEMPFAIL, "read: %m");
		}
		sha256_update(&sha, buf, n);
		off += (off_t)n;
	}
	sha256_hex(&sha, hex);
	int ok = memcmp(hex, trailer + 31, 64) == 0;
	if (!ok)
		return status_why(err, ST_DATAERR, "trailer checksum does not match");
	return q->snap ? open_snapshot(q, path, err) : ST_OK;
}

void queue_close(queue_item *q)
{
	if (q->fd >= 0)
		close(q->fd);
	q->fd = -1;
	str_free(&q->env);
	if (q->snap)
		qsnap_close(&q->s);
	q->snap = 0;
	free(q->rcpt);
	free(q->state_off);
	free(q->state);
	q->rcpt = NULL;
	q->state_off = NULL;
	q->state = NULL;
	q->nrcpt = 0;
}

/* ---- the recipients in order */

void queue_rcpt_start(queue_item *q, queue_rcpt_iter *it)
{
	memset(it, 0, sizeof *it);
	it->q = q;
	if (q->snap)
		qsnap_iter_start(&it->si, &q->s);
}

int queue_rcpt_next(queue_rcpt_iter *it, size_t *ord, const char **addr)
{
	if (it->next >= it->q->nrcpt)
		return 0;
	if (it->q->snap) {
		size_t len;
		int r = qsnap_iter_next(&it->si, addr, &len);
		if (r <= 0)
			return -1; /* fewer than its count: verified, so I/O trouble */
	} else {
		*addr = it->q->rcpt[it->next];
	}
	*ord = it->next++;
	return 1;
}

void queue_rcpt_end(queue_rcpt_iter *it)
{
	if (it->q && it->q->snap)
		qsnap_iter_end(&it->si);
}

/* ---- the journal */

static int journal_path(char *buf, size_t size, const char *qdir, const char *name, int part)
{
	if (part < 0)
		return fs_path(buf, size, "%s/journal/%s", qdir, name);
	return fs_path(buf, size, "%s/journal/%s.w%d", qdir, name, part);
}

int queue_journal_open(const char *qdir, const char *name, int part)
{
	char path[4096];
	if (journal_path(path, sizeof path, qdir, name, part) < 0)
		return -1;
	int fd = open(path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		/* a new journal: its name must be as durable as its lines */
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_NOFOLLOW | O_CLOEXEC,
			  0600);
		*strrchr(path, '/') = 0;
		if (fd >= 0 && fs_fsync_dir(path) != ST_OK) {
			close(fd);
			fd = -1;
		}
	}
	if (fd < 0)
		msg_error("journal of %s: %m", name);
	return fd;
}

fml_status queue_journal_append(int fd, const str *text)
{
	size_t done = 0;
	while (done < text->len) {
		ssize_t w = write(fd, text->s + done, text->len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			msg_error("journal write: %m");
			return ST_TEMPFAIL;
		}
		done += (size_t)w;
	}
	if (fsync(fd) < 0) {
		msg_error("journal fsync: %m");
		return ST_TEMPFAIL;
	}
	return ST_OK;
}

fml_status queue_journal_scan(const char *qdir, const char *name, int part,
			      int (*fn)(const char *line, size_t len, off_t off, void *arg),
			      void *arg)
{
	char path[4096];
	if (journal_path(path, sizeof path, qdir, name, part) < 0)
		return ST_TEMPFAIL;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? ST_NOINPUT : ST_TEMPFAIL;
	str buf = STR_INIT;
	off_t off = 0; /* file offset of buf.s[0] */
	fml_status st = ST_OK;
	int stop = 0;
	str_reserve(&buf, ENV_CHUNK);
	while (!stop) {
		ssize_t r = read(fd, buf.s + buf.len, ENV_CHUNK);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			st = ST_TEMPFAIL;
			break;
		}
		if (r == 0)
			break; /* what is left has no LF: a torn last line */
		buf.len += (size_t)r;
		size_t pos = 0;
		char *nl;
		while (!stop && (nl = memchr(buf.s + pos, '\n', buf.len - pos)) != NULL) {
			stop = fn(buf.s + pos, (size_t)(nl - buf.s) - pos, off + (off_t)pos, arg);
			pos = (size_t)(nl - buf.s) + 1;
		}
		memmove(buf.s, buf.s + pos, buf.len - pos);
		buf.len -= pos;
		off += (off_t)pos;
		str_reserve(&buf, ENV_CHUNK);
	}
	close(fd);
	str_free(&buf);
	return st;
}

static int rcpt_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

typedef struct apply_ctx {
	queue_item *q;
	const char **sorted; /* rcpt lines: sorted by address, with their index */
	size_t *idx;
} apply_ctx;

/* Apply one complete journal line to Q. */
static int journal_apply(const char *p, size_t len, off_t off, void *arg)
{
	apply_ctx *ac = arg;
	queue_item *q = ac->q;
	const char *nl = p + len;
	(void)off;
	if (len >= 2 && (p[0] == 'D' || p[0] == 'F') && p[1] == ' ') {
		const char *a = p + 2, *sp = memchr(a, ' ', (size_t)(nl - a));
		size_t al = (size_t)((sp ? sp : nl) - a);
		char addr[1024];
		if (al >= sizeof addr)
			return 0;
		memcpy(addr, a, al);
		addr[al] = 0;
		if (q->snap) {
			long o = qsnap_lookup(&q->s, addr);
			if (o >= 0)
				q->state[o] = p[0];
			return 0;
		}
		const char *key = addr;
		const char **hit =
		    bsearch(&key, ac->sorted, q->nrcpt, sizeof *ac->sorted, rcpt_cmp);
		/* every equal entry (a hand-made item may repeat one) */
		size_t lo = hit ? (size_t)(hit - ac->sorted) : 1, hi = lo;
		while (hit && lo > 0 && strcmp(ac->sorted[lo - 1], addr) == 0)
			lo--;
		while (hit && hi < q->nrcpt && strcmp(ac->sorted[hi], addr) == 0)
			q->state[ac->idx[hi++]] = p[0];
		while (hit && lo < (size_t)(hit - ac->sorted))
			q->state[ac->idx[lo++]] = p[0];
	} else if (len >= 2 && p[0] == 'A' && p[1] == ' ') {
		int n = 0;
		long long t = 0;
		char l[64];
		snprintf(l, sizeof l, "%.*s", (int)(len < 63 ? len : 63), p);
		if (sscanf(l + 2, "%d %lld", &n, &t) == 2) {
			q->attempts = n;
			q->next_try = (time_t)t;
		}
	}
	return 0;
}

static const char **sort_names; /* for the index sort below (single-threaded) */
static int idx_cmp(const void *a, const void *b)
{
	return strcmp(sort_names[*(const size_t *)a], sort_names[*(const size_t *)b]);
}

fml_status queue_journal_load(const char *qdir, queue_item *q)
{
	char dirp[4096];
	size_t nl = strlen(q->name);
	apply_ctx ac = {q, NULL, NULL};
	if (!q->snap) {
		/* recipients sorted by address, with their index, for lookups */
		ac.idx = mem_reallocarray(NULL, q->nrcpt, sizeof *ac.idx);
		ac.sorted = mem_reallocarray(NULL, q->nrcpt, sizeof *ac.sorted);
		for (size_t i = 0; i < q->nrcpt; i++)
			ac.idx[i] = i;
		sort_names = q->rcpt;
		qsort(ac.idx, q->nrcpt, sizeof *ac.idx, idx_cmp);
		for (size_t i = 0; i < q->nrcpt; i++)
			ac.sorted[i] = q->rcpt[ac.idx[i]];
	}
	memset(q->state, QS_PENDING, q->nrcpt);
	q->attempts = 0;
	q->next_try = 0;
	fml_status st = ST_OK;
	if (fs_path(dirp, sizeof dirp, "%s/journal", qdir) < 0)
		st = ST_TEMPFAIL;
	DIR *d = st == ST_OK ? opendir(dirp) : NULL;
	struct dirent *de;
	/* main file first, then the parts (order does not matter: D/F final) */
	fml_status r = queue_journal_scan(qdir, q->name, -1, journal_apply, &ac);
	if (r != ST_OK && r != ST_NOINPUT)
		st = ST_TEMPFAIL;
	while (d && (de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, q->name, nl) != 0 ||
		    strncmp(de->d_name + nl, ".w", 2) != 0 ||
		    !digits(de->d_name + nl + 2, strlen(de->d_name + nl + 2)))
			continue;
		queue_journal_scan(qdir, q->name, atoi(de->d_name + nl + 2), journal_apply, &ac);
	}
	if (d)
		closedir(d);
	free(ac.idx);
	free(ac.sorted);
	return st;
}

typedef struct next_ctx {
	int found, attempts;
	time_t next;
} next_ctx;

static int journal_next_line(const char *p, size_t len, off_t off, void *arg)
{
	next_ctx *nc = arg;
	char l[64];
	int n;
	long long t;
	(void)off;
	if (len < 2 || p[0] != 'A' || p[1] != ' ')
		return 0;
	snprintf(l, sizeof l, "%.*s", (int)(len < 63 ? len : 63), p);
	if (sscanf(l, "A %d %lld", &n, &t) == 2) {
		nc->attempts = n;
		nc->next = (time_t)t;
		nc->found = 1;
	}
	return 0;
}

int queue_journal_next(const char *qdir, const char *name, int *attempts, time_t *next)
{
	next_ctx nc = {0, 0, 0};
	if (queue_journal_scan(qdir, name, -1, journal_next_line, &nc) != ST_OK || !nc.found)
		return -1;
	*attempts = nc.attempts;
	*next = nc.next;
	return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			msg_error("journal write: %m");
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Copy the complete lines of the part at PATH to FD, in chunks. */
static fml_status merge_part(const char *path, int fd)
{
	int in = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0)
		return errno == ENOENT ? ST_OK : ST_TEMPFAIL;
	struct stat st;
	fml_status rs = fstat(in, &st) < 0 ? ST_TEMPFAIL : ST_OK;
	char *buf = mem_alloc(ENV_CHUNK);
	off_t off = 0, upto = 0;
	/* only up to the last LF: a torn last line is left out */
	for (off_t o = st.st_size; rs == ST_OK && o > 0 && !upto;) {
		size_t n = o < ENV_CHUNK ? (size_t)o : ENV_CHUNK;
		if (read_at(in, buf, n, o - (off_t)n) < 0)
			rs = ST_TEMPFAIL;
		char *lf = rs == ST_OK ? memrchr(buf, '\n', n) : NULL;
		if (lf)
			upto = o - (off_t)n + (lf - buf) + 1;
		o -= (off_t)n;
	}
	while (rs == ST_OK && off < upto) {
		size_t n = upto - off < ENV_CHUNK ? (size_t)(upto - off) : ENV_CHUNK;
		if (read_at(in, buf, n, off) < 0 || write_all(fd, buf, n) < 0)
			rs = ST_TEMPFAIL;
		off += (off_t)n;
	}
	free(buf);
	close(in);
	return rs;
}

fml_status queue_journal_merge(const char *qdir, const char *name)
{
	char path[4096], dirp[4096];
	size_t nl = strlen(name);
	str parts = STR_INIT;
	if (fs_path(dirp, sizeof dirp, "%s/journal", qdir) < 0)
		return ST_TEMPFAIL;
	DIR *d = opendir(dirp);
	struct dirent *de;
	struct stat ps;
	int any = 0;
	while (d && (de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, name, nl) != 0 || strncmp(de->d_name + nl, ".w", 2) != 0 ||
		    fs_path(path, sizeof path, "%s/%s", dirp, de->d_name) < 0)
			continue;
		str_append(&parts, path, strlen(path) + 1);
		any |= stat(path, &ps) == 0 && ps.st_size > 0;
	}
	if (d)
		closedir(d);
	fml_status st = ST_OK;
	if (any) {
		int fd = queue_journal_open(qdir, name, -1);
		st = fd < 0 ? ST_TEMPFAIL : ST_OK;
		for (const char *p = parts.s; st == ST_OK && p < parts.s + parts.len;
		     p += strlen(p) + 1)
			st = merge_part(p, fd);
		if (st == ST_OK && fsync(fd) < 0) {
			msg_error("journal fsync: %m");
			st = ST_TEMPFAIL;
		}
		if (fd >= 0 && close(fd) < 0)
			st = ST_TEMPFAIL;
	}
	if (st == ST_OK)
		for (const char *p = parts.s; p && p < parts.s + parts.len; p += strlen(p) + 1)
			unlink(p);
	str_free(&parts);
	return st;
}

void queue_journal_remove(const char *qdir, const char *name)
{
	char path[4096];
	if (journal_path(path, sizeof path, qdir, name, -1) == 0)
		unlink(path);
}

fml_status queue_journal_read(const char *qdir, const char *name, str *j)
{
	char path[4096];
	str_clear(j);
	if (journal_path(path, sizeof path, qdir, name, -1) < 0)
		return ST_TEMPFAIL;
	return fs_read(path, j, 0);
}

/* ---- moving items */

/* If the item at PATH names a snapshot, make its link (rcpt/items/NAME). */
static fml_status ensure_link(const char *qdir, const char *path, const char *name)
{
	char lpath[4096], gen[QSNAP_GEN_LEN + 1];
	struct stat st;
	if (fs_path(lpath, sizeof lpath, "%s/rcpt/items/%s", qdir, name) == 0 &&
	    lstat(lpath, &st) == 0)
		return ST_OK;
	int r = qsnap_item_gen(path, gen);
	if (r == -2)
		return ST_TEMPFAIL;
	if (r < 0)
		return ST_OK; /* none, gone, or damaged: queue_open() judges */
	return qsnap_link(qdir, name, gen);
}

fml_status queue_claim(const char *qdir, const char *area, const char *name, queue_item *q,
		       str *err)
{
	char from[4096], to[4096], bad[4096];
	memset(q, 0, sizeof *q);
	q->fd = -1;
	if (fs_path(from, sizeof from, "%s/%s/%s", qdir, area, name) < 0 ||
	    fs_path(to, sizeof to, "%s/active/%s.%ld", qdir, name, (long)getpid()) < 0 ||
	    fs_path(bad, sizeof bad, "%s/corrupt/%s", qdir, name) < 0)
		return ST_TEMPFAIL;
	/* a snapshot item gets its link before it leaves new/ (qsnap.h) */
	if (ensure_link(qdir, from, name) != ST_OK)
		return status_why(err, ST_TEMPFAIL, "cannot link the recipients of %s", name);
	if (rename(from, to) < 0) {
		if (errno == ENOENT)
			return ST_NOINPUT;
		return status_why(err, ST_TEMPFAIL, "rename %s: %m", from);
	}
	fml_status st = queue_open(q, to, 1, err);
	snprintf(q->name, sizeof q->name, "%s", name);
	if (st == ST_DATAERR) {
		queue_close(q);
		if (rename(to, bad) < 0)
			msg_error("rename %s: %m", to);
		return ST_DATAERR;
	}
	if (st == ST_OK)
		st = queue_journal_load(qdir, q);
	if (st != ST_OK) {
		queue_close(q);
		if (rename(to, from) < 0)
			msg_error("rename %s: %m", to);
	}
	return st;
}

fml_status queue_release(const char *qdir, queue_item *q, const char *area)
{
	char to[4096], dir[4096];
	fml_status st = ST_OK;
	if (q->fd >= 0 && fsync(q->fd) < 0)
		st = ST_TEMPFAIL;
	if (fs_path(to, sizeof to, "%s/%s/%s", qdir, area, q->name) < 0 ||
	    fs_path(dir, sizeof dir, "%s/%s", qdir, area) < 0)
		st = ST_TEMPFAIL;
	else if (rename(q->path, to) < 0) {
		msg_error("rename %s: %m", q->path);
		st = ST_TEMPFAIL;
	} else {
		snprintf(q->path, sizeof q->path, "%s", to);
		fs_fsync_dir(dir);
	}
	queue_close(q);
	return st;
}

/* The state bytes are a cache of the journal: written back with one
 * pread and one pwrite of the span that changed (the bytes between are
 * rewritten as the file holds them), not one system call per recipient.
 * q->env cannot be written back as it is: the parser cut it into strings. */
void queue_cache_states(queue_item *q)
{
	off_t lo = -1, hi = -1;
	if (q->snap)
		return; /* no state bytes: the journal alone */
	for (size_t i = 0; i < q->nrcpt; i++) {
		off_t o = q->state_off[i];
		if (q->env.s[o] == q->state[i])
			continue;
		if (lo < 0 || o < lo)
			lo = o;
		if (o > hi)
			hi = o;
	}
	if (lo < 0)
		return;
	size_t n = (size_t)(hi - lo + 1);
	char *span = mem_alloc(n);
	if (pread(q->fd, span, n, lo) != (ssize_t)n) {
		msg_warn("%s: cannot cache recipient states: %m (the journal has them)", q->name);
		free(span);
		return;
	}
	for (size_t i = 0; i < q->nrcpt; i++) {
		off_t o = q->state_off[i];
		if (o >= lo && o <= hi)
			span[o - lo] = q->state[i];
	}
	if (pwrite(q->fd, span, n, lo) == (ssize_t)n) {
		for (size_t i = 0; i < q->nrcpt; i++)
			q->env.s[q->state_off[i]] = q->state[i];
	} else {
		msg_warn("%s: cannot cache recipient states: %m (the journal has them)", q->name);
	}
	free(span);
}

/* ---- listing */

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int queue_list(const char *qdir, const char *area, str *names)
{
	char path[4096];
	str_clear(names);
	if (fs_path(path, sizeof path, "%s/%s", qdir, area) < 0)
		return -1;
	DIR *d = opendir(path);
	if (!d)
		return errno == ENOENT ? 0 : -1;
	size_t n = 0, cap = 0;
	char **v = NULL;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			v = mem_reallocarray(v, cap, sizeof *v);
		}
		v[n++] = mem_strdup(de->d_name);
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof *v, name_cmp);
	for (size_t i = 0; i < n; i++) {
		str_append(names, v[i], strlen(v[i]) + 1);
		free(v[i]);
	}
	free(v);
	return (int)n;
}

long queue_active_pid(const char *aname, char *name, size_t size)
{
	const char *dot = strrchr(aname, '.');
	if (!dot || !digits(dot + 1, strlen(dot + 1)) || strlen(dot + 1) > 9)
		return -1;
	if (name && (size_t)(dot - aname) < size) {
		memcpy(name, aname, (size_t)(dot - aname));
		name[dot - aname] = 0;
	}
	return strtol(dot + 1, NULL, 10);
}

int queue_pid_dead(long pid)
{
	if (pid <= 0 || pid == (long)getpid())
		return 1;
	return kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

int queue_sender_match(const char *filter, const char *sender)
{
	if (!filter || !*filter || strcmp(filter, "@") == 0)
		return 1;
	return sender && strcasecmp(filter, sender) == 0;
}

int queue_find(const char *qdir, const char *id, const char **area, char *path, size_t size)
{
	str names = STR_INIT;
	char base[256];
	if (strchr(id, '/') || id[0] == '.' || strlen(id) >= sizeof base)
		return 0;
	for (int i = 1; queue_areas[i]; i++) {
		int n = queue_list(qdir, queue_areas[i], &names);
		const char *p = names.s;
		for (int k = 0; k < n; k++, p += strlen(p) + 1) {
			const char *cmp = p;
			if (strcmp(queue_areas[i], "active") == 0 &&
			    queue_active_pid(p, base, sizeof base) >= 0)
				cmp = base;
			if (strcmp(cmp, id) == 0 &&
			    fs_path(path, size, "%s/%s/%s", qdir, queue_areas[i], p) == 0) {
				*area = queue_areas[i];
				str_free(&names);
				return 1;
			}
		}
	}
	str_free(&names);
	return 0;
}

long queue_retry_wait(const char *schedule, int attempt)
{
	long last = 300, n = 0;
	const char *p = schedule;
	while (*p) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		char *e;
		long v = strtol(p, &e, 10);
		if (e == p)
			break;
		switch (*e) {
		case 's':
			e++;
			break;
		case 'm':
			v *= 60, e++;
			break;
		case 'h':
			v *= 3600, e++;
			break;
		case 'd':
			v *= 86400, e++;
			break;
		default:
			break;
		}
		last = v > 0 ? v : 1;
		if (++n == attempt)
			return last;
		p = e;
		while (*p && *p != ' ' && *p != '\t')
			p++;
	}
	return last;
}
