/*
 * qdelta: delta generations of the recipient snapshots (see qdelta.h,
 * qsnap.h and doc/fml-queue.5).  After appends to actives (the append log
 * of list/membersjournal.h), fml writes a generation that holds only the
 * addresses added since a full one, its base: qdelta_chain finds the
 * generation the appends start from, qdelta_write merges the adds of a
 * delta on that base (if it was one) with the new ones and leaves out
 * those the base has.  Writing reads the appended bytes and, per address,
 * a few blocks of the base (a binary search in the sorted file; one pass
 * over the base for many addresses), never the whole base: the first post
 * after an add costs about what a warm one does.  The checksum binds the
 * base's count and checksum and the adds, so the base is not hashed
 * either; qsnap_open checks both files in full when it reads the delta.
 *
 * Failure policy: a delta that cannot be made from what is there (no
 * usable base, too many adds, a damaged earlier delta) is ST_NOINPUT and
 * the caller writes a full generation; only trouble writing is
 * ST_TEMPFAIL.  The base's link is made before the delta and synced by
 * the delta's commit, so no delta is durable without its base.
 */
#include "qdelta.h"
#include "list/members.h"
#include "list/membersjournal.h"
#include "util/fs.h"
#include "util/msg.h"
#include "util/sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DELTA_MIN 4096 /* adds a delta may always hold; else 1/DELTA_FRAC of its base */
#define DELTA_FRAC 8
#define BISECT_WINDOW 16384 /* a binary search in a file reads this much at the end */
#define LINE_MAX_LEN 1001   /* an address line: at most 1000 bytes and its LF */

int qdelta_chain(const char *list_dir, config *cf, const char *qdir, const struct stat *now,
		 qsnap_ref *from, off_t *off)
{
	membersjournal_link *v;
	size_t n;
	str cur = STR_INIT, stamp = STR_INIT;
	int found = -1;
	membersjournal_links(list_dir, "actives", &v, &n);
	members_stamp(&cur, now);
	/* back from the stamp of now, one append at a time: each step is an
	 * append whose after-stamp is where we are */
	for (size_t hops = 0; found < 0 && hops < n; hops++) {
		size_t i = n;
		while (i > 0 && strcmp(str_c(&v[i - 1].after), str_c(&cur)) != 0)
			i--;
		if (i == 0)
			break; /* no append led here: a hand edit, a rewrite, a lost line */
		str_set(&cur, v[i - 1].before.s, v[i - 1].before.len);
		*off = v[i - 1].off;
		qsnap_stamp_of(cf, str_c(&cur), &stamp);
		if (qsnap_find(qdir, str_c(&stamp), from) == 0)
			found = 0;
	}
	membersjournal_links_free(v, n);
	str_free(&cur);
	str_free(&stamp);
	return found;
}

/* Is ADDR in the sorted address lines [DATA, END) of FD?  A binary search
 * on byte offsets, then one window read: 1, 0, or -1 (read error, or not
 * a file of address lines). */
static int file_has(int fd, off_t data, off_t end, const char *addr)
{
	char buf[2 * LINE_MAX_LEN + 2];
	off_t lo = data, hi = end; /* ADDR's line, if any, starts in [lo, hi) */
	while (hi - lo > BISECT_WINDOW) {
		off_t mid = lo + (hi - lo) / 2;
		size_t want =
		    (size_t)(end - mid) < sizeof buf - 1 ? (size_t)(end - mid) : sizeof buf - 1;
		if (fs_pread_full(fd, buf, want, mid) != (ssize_t)want)
			return -1;
		buf[want] = 0;
		char *nl = memchr(buf, '\n', want), *nl2;
		if (!nl)
			return -1; /* lines are shorter than that */
		off_t ls = mid + (nl + 1 - buf);
		if (ls >= hi)
			break;
		if (!(nl2 = memchr(nl + 1, '\n', want - (size_t)(nl + 1 - buf))))
			return -1;
		*nl2 = 0;
		if (qsnap_cmp(nl + 1, addr) <= 0)
			lo = ls;
		else
			hi = ls;
	}
	size_t w = (size_t)(hi - lo);
	if (w == 0)
		return 0;
	str win = STR_INIT;
	str_reserve(&win, w);
	int r = fs_pread_full(fd, win.s, w, lo) == (ssize_t)w ? 0 : -1;
	win.s[w] = 0;
	for (char *p = win.s, *nl; r == 0 && p < win.s + w; p = nl + 1) {
		if (!(nl = memchr(p, '\n', (size_t)(win.s + w - p)))) {
			r = -1;
			break;
		}
		*nl = 0;
		int c = qsnap_cmp(p, addr);
		if (c >= 0) {
			r = c == 0;
			break;
		}
	}
	str_free(&win);
	return r;
}

/* The adds of the delta open as FD (header length HL, on BASE), checked
 * against its header REF: 0 with the address lines in ADDS, -1 damaged. */
static int read_adds(int fd, long hl, const qsnap_ref *ref, const qsnap_ref *base, str *adds)
{
	struct stat st;
	sha256 sha;
	char hex[SHA256_HEX];
	if (fstat(fd, &st) < 0 || st.st_size < hl)
		return -1;
	size_t n = (size_t)(st.st_size - hl), lines = 0;
	str_clear(adds);
	str_reserve(adds, n);
	if (fs_pread_full(fd, adds->s, n, hl) != (ssize_t)n)
		return -1;
	adds->len = n;
	adds->s[n] = 0;
	for (size_t i = 0; i < n; i++)
		lines += adds->s[i] == '\n';
	qsnap_delta_sha_start(&sha, base);
	sha256_update(&sha, adds->s, n);
	sha256_hex(&sha, hex);
	if ((n && adds->s[n - 1] != '\n') || base->count + lines != ref->count ||
	    strcmp(hex, ref->sha) != 0)
		return -1;
	return 0;
}

/* The next line of the LF-terminated lines at *P (END): NUL-terminated in place. */
static char *next_line(char **p, char *end)
{
	if (*p >= end)
		return NULL;
	char *l = *p, *nl = memchr(l, '\n', (size_t)(end - l));
	*nl = 0;
	*p = nl + 1;
	return l;
}

/* "Is this address in the base?" for addresses asked in order: a binary
 * search each for a few, one pass over the base for many (cheaper once
 * they are more than a few hundred). */
typedef struct base_probe {
	qsnap_part part;
	int stream, have;
	qsnap_piter it;
	const char *cur;
} base_probe;

#define PROBE_STREAM 256 /* addresses from which one pass over the base is cheaper */

static void probe_start(base_probe *b, int fd, off_t data, off_t end, size_t n)
{
	memset(b, 0, sizeof *b);
	b->part.fd = fd;
	b->part.data = data;
	b->part.end = end;
	b->stream = n >= PROBE_STREAM;
	if (b->stream) {
		size_t len;
		qsnap_piter_start(&b->it, &b->part);
		b->have = qsnap_piter_next(&b->it, &b->cur, &len);
	}
}

static int probe_has(base_probe *b, const char *addr)
{
	size_t len;
	if (!b->stream)
		return file_has(b->part.fd, b->part.data, b->part.end, addr);
	while (b->have == 1 && qsnap_cmp(b->cur, addr) < 0)
		b->have = qsnap_piter_next(&b->it, &b->cur, &len);
	return b->have < 0 ? -1 : b->have == 1 && strcmp(b->cur, addr) == 0;
}

/* Merge OLD (the adds of the delta written before, LF-separated lines) and
 * the N new addresses ADDS (NUL-separated), both sorted, leaving out what
 * the base (FD, its lines [DATA, END)) has: into OUT as lines.  0, or -1
 * when the base cannot be read. */
static int merge_adds(str *old, const char *adds, size_t n, int fd, off_t data, off_t end, str *out,
		      size_t *count)
{
	char *p = old->s, *oend = old->s + old->len, *o = next_line(&p, oend);
	const char *a = adds;
	size_t i = 0;
	int r = 0;
	base_probe b;
	probe_start(&b, fd, data, end, n);
	*count = 0;
	while (r == 0 && (o || i < n)) {
		int c = !o ? 1 : i == n ? -1 : qsnap_cmp(o, a);
		const char *take = c <= 0 ? o : a;
		if (c >= 0) {
			int has = c == 0 ? 0 : probe_has(&b, a);
			if (has < 0)
				r = -1;
			if (has)
				take = NULL; /* a member already */
			a += strlen(a) + 1;
			i++;
		}
		if (c <= 0)
			o = next_line(&p, oend);
		if (take) {
			str_puts(out, take);
			str_putc(out, '\n');
			(*count)++;
		}
	}
	str_free(&b.it.buf);
	return r;
}

fml_status qdelta_write(const char *qdir, const char *stamp, const char *from, const char *adds,
			size_t n, qsnap_ref *ref)
{
	char dir[4096], fpath[4096], bpath[4096], final[4096], name[64];
	char fbase[QSNAP_GEN_LEN + 1], bbase[QSNAP_GEN_LEN + 1];
	qsnap_ref fref, bref;
	str old = STR_INIT, data = STR_INIT, head = STR_INIT;
	struct stat bst;
	fml_status st = ST_NOINPUT;
	int ffd = -1, bfd = -1;
	long hl;
	memset(ref, 0, sizeof *ref);
	qsnap_gen_of(stamp, ref->gen);
	if (fs_path(dir, sizeof dir, "%s/rcpt", qdir) < 0 ||
	    fs_path(fpath, sizeof fpath, "%s/g%s", dir, from) < 0 ||
	    fs_path(final, sizeof final, "%s/g%s", dir, ref->gen) < 0)
		return ST_TEMPFAIL;
	/* FROM: a full generation is the base; a delta gives its base and adds */
	if ((ffd = open(fpath, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
	    (hl = qsnap_read_head(ffd, &fref, fbase, NULL)) < 0 || strcmp(fref.gen, from) != 0)
		goto out;
	if (fbase[0] && fs_path(bpath, sizeof bpath, "%s.base", fpath) < 0)
		goto out;
	if (!fbase[0])
		memcpy(bpath, fpath, sizeof bpath);
	if ((bfd = open(bpath, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0 || fstat(bfd, &bst) < 0 ||
	    (hl = fbase[0] ? qsnap_read_head(bfd, &bref, bbase, NULL) : hl) < 0)
		goto out;
	if (!fbase[0])
		bref = fref, bbase[0] = 0;
	if (bbase[0] || (fbase[0] && strcmp(bref.gen, fbase) != 0))
		goto out; /* a base is a full generation */
	if (fbase[0]) {
		long fhl = qsnap_read_head(ffd, &fref, fbase, NULL);
		if (fhl < 0 || read_adds(ffd, fhl, &fref, &bref, &old) < 0) {
			msg_warn("recipient snapshot %s: damaged: not used for a delta", from);
			goto out;
		}
	}
	size_t count,
	    bound = bref.count / DELTA_FRAC > DELTA_MIN ? bref.count / DELTA_FRAC : DELTA_MIN;
	if (n > bound)
		goto out; /* a full generation reads better than a large delta */
	if (merge_adds(&old, adds, n, bfd, (off_t)hl, bst.st_size, &data, &count) < 0) {
		msg_warn("recipient snapshot %s: cannot be read: not used for a delta", bref.gen);
		goto out;
	}
	if (count > bound)
		goto out;
	sha256 sha;
	qsnap_delta_sha_start(&sha, &bref);
	sha256_update(&sha, data.s, data.len);
	sha256_hex(&sha, ref->sha);
	ref->count = bref.count + count;
	str_printf(&head, "FMLR 1\ngen %s\nbase %s\nstamp %s\ncount %zu\nsha256 %s\n\n", ref->gen,
		   bref.gen, stamp, ref->count, ref->sha);
	/* the base's link first: synced with the delta, by its commit */
	snprintf(name, sizeof name, "g%s.base", ref->gen);
	st = qsnap_relink(bpath, dir, name);
	if (st == ST_OK)
		st = qsnap_commit(dir, final, &head, &data);
	if (st == ST_OK)
		msg_info("recipient snapshot g%s: %zu added to g%s", ref->gen, count, bref.gen);
out:
	if (ffd >= 0)
		close(ffd);
	if (bfd >= 0)
		close(bfd);
	str_free(&old);
	str_free(&data);
	str_free(&head);
	return st;
}
