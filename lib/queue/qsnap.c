/*
 * qsnap: the recipient snapshots of the outgoing queue (see qsnap.h and
 * doc/fml-queue.5).  fml writes a generation once per membership state
 * (qsnap_find, qsnap_write, qsnap_sweep under the list lock); fmlqueue links
 * it to each item it claims (qsnap_link) and reads it in chunks, never
 * whole: an open snapshot costs a lookup index of one address in
 * QSNAP_STEP, whatever the number of recipients.
 *
 * Failure policy: a generation is durable before any item can name it
 * (file and rcpt/ fsynced at creation); a per-item link is durable before
 * its item leaves new/.  A snapshot that is missing, or differs in any byte
 * from what its item says (count, SHA-256, order), is ST_DATAERR: the item
 * goes to corrupt/ and is never delivered to another list of recipients.
 */
#include "qsnap.h"
#include "mail/addr.h"
#include "util/fs.h"
#include "util/sha256.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/safefile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define CHUNK 65536
#define HEAD_MAX 4096
#define SETTLE 2	    /* seconds: a younger actives gets a stamp of its own */
#define TMP_ORPHAN_AGE 3600 /* a temp file older than this is a dead writer's */

int qsnap_cmp(const char *a, const char *b)
{
	int r = strcmp(addr_domain(a), addr_domain(b));
	return r ? r : strcmp(a, b);
}

fml_status qsnap_stamp(const char *list_dir, config *cf, time_t now, str *stamp)
{
	char actives[4096];
	struct stat st;
	if (fs_path(actives, sizeof actives, "%s/actives", list_dir) < 0)
		return ST_TEMPFAIL;
	if (stat(actives, &st) < 0)
		memset(&st, 0, sizeof st);
	str_clear(stamp);
	/* the list's own addresses are left out of the recipients: part of the key */
	str_printf(stamp, "fml-rcpt 2 %lld %lld %ld %llu %s %s", (long long)st.st_size,
		   (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec, (unsigned long long)st.st_ino,
		   config_str(cf, CF_MAIL_LIST), config_str(cf, CF_CONTROL_ADDRESS));
	if (now - st.st_mtim.tv_sec < SETTLE) {
		struct timeval tv;
		gettimeofday(&tv, NULL);
		str_printf(stamp, " unsettled %lld.%06ld.%ld", (long long)tv.tv_sec,
			   (long)tv.tv_usec, (long)getpid());
	}
	if (memchr(stamp->s, '\n', stamp->len) || stamp->len > 2000)
		return ST_TEMPFAIL;
	return ST_OK;
}

/* Make DIR (in PARENT) if missing, durably: a generation in a directory
 * whose own name a crash could lose is no better than none. */
static fml_status make_dir(const char *dir, const char *parent)
{
	if (mkdir(dir, 0700) == 0)
		return fs_fsync_dir(parent);
	if (errno == EEXIST)
		return ST_OK;
	msg_error("mkdir %s: %m", dir);
	return ST_TEMPFAIL;
}

static void gen_of(const char *stamp, char gen[QSNAP_GEN_LEN + 1])
{
	sha256 sha;
	char h[SHA256_HEX];
	sha256_init(&sha);
	sha256_update(&sha, stamp, strlen(stamp));
	sha256_hex(&sha, h);
	memcpy(gen, h, QSNAP_GEN_LEN);
	gen[QSNAP_GEN_LEN] = 0;
}

static int is_gen_name(const char *n)
{
	return n[0] == 'g' && strlen(n + 1) == QSNAP_GEN_LEN &&
	       strspn(n + 1, "0123456789abcdef") == QSNAP_GEN_LEN;
}

static int hex64(const char *p)
{
	return strspn(p, "0123456789abcdef") == 64;
}

/* Parse the header in BUF (N bytes): REF, the stamp (into STAMP if not
 * NULL) and the length of the header; -1 when it is not one. */
static long parse_head(char *buf, size_t n, qsnap_ref *ref, str *stamp)
{
	char *end = memmem(buf, n, "\n\n", 2);
	if (!end)
		return -1;
	*end = 0;
	char *gen = strstr(buf, "\ngen "), *st = strstr(buf, "\nstamp "),
	     *cnt = strstr(buf, "\ncount "), *sha = strstr(buf, "\nsha256 ");
	if (strncmp(buf, "FMLR 1\n", 7) != 0 || gen != buf + 6 || !st || !cnt || !sha ||
	    !(gen < st && st < cnt && cnt < sha))
		return -1;
	if (gen + 5 + QSNAP_GEN_LEN != st || strspn(gen + 5, "0123456789abcdef") != QSNAP_GEN_LEN)
		return -1;
	memcpy(ref->gen, gen + 5, QSNAP_GEN_LEN);
	ref->gen[QSNAP_GEN_LEN] = 0;
	char *e;
	errno = 0;
	unsigned long long c = strtoull(cnt + 7, &e, 10);
	if (e == cnt + 7 || e != sha || errno || cnt[7] == '-')
		return -1;
	ref->count = (size_t)c;
	if (!hex64(sha + 8) || sha + 8 + 64 != buf + strlen(buf))
		return -1;
	memcpy(ref->sha, sha + 8, 64);
	ref->sha[64] = 0;
	if (stamp)
		str_set(stamp, st + 7, (size_t)(cnt - st - 7));
	return (long)(end - buf) + 2;
}

int qsnap_find(const char *qdir, const char *stamp, qsnap_ref *ref)
{
	char path[4096], gen[QSNAP_GEN_LEN + 1], buf[HEAD_MAX + 1];
	gen_of(stamp, gen);
	if (fs_path(path, sizeof path, "%s/rcpt/g%s", qdir, gen) < 0)
		return -1;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t r = fs_pread_full(fd, buf, HEAD_MAX, 0);
	close(fd);
	if (r <= 0)
		return -1;
	buf[r] = 0;
	str have = STR_INIT;
	long hl = parse_head(buf, (size_t)r, ref, &have);
	int ok = hl > 0 && strcmp(ref->gen, gen) == 0 && strcmp(str_c(&have), stamp) == 0;
	str_free(&have);
	return ok ? 0 : -1;
}

fml_status qsnap_write(const char *qdir, const char *stamp, const char *rcpts, size_t n,
		       qsnap_ref *ref)
{
	char dir[4096], final[4096];
	memset(ref, 0, sizeof *ref);
	gen_of(stamp, ref->gen);
	ref->count = n;
	if (fs_path(dir, sizeof dir, "%s/rcpt", qdir) < 0 ||
	    fs_path(final, sizeof final, "%s/g%s", dir, ref->gen) < 0 ||
	    make_dir(dir, qdir) != ST_OK)
		return ST_TEMPFAIL;
	str data = STR_INIT, head = STR_INIT;
	const char *p = rcpts;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(p);
		str_append(&data, p, l);
		str_putc(&data, '\n');
		p += l + 1;
	}
	sha256 sha;
	sha256_init(&sha);
	sha256_update(&sha, data.s, data.len);
	sha256_hex(&sha, ref->sha);
	str_printf(&head, "FMLR 1\ngen %s\nstamp %s\ncount %zu\nsha256 %s\n\n", ref->gen, stamp, n,
		   ref->sha);
	safefile sf;
	fml_status st = safefile_open(&sf, dir, ".tmp");
	if (st == ST_OK) {
		st = safefile_write(&sf, head.s, head.len);
		if (st == ST_OK && data.len)
			st = safefile_write(&sf, data.s, data.len);
		if (st == ST_OK)
			st = safefile_commit(&sf, final); /* file and rcpt/ fsynced */
		else
			safefile_abort(&sf);
	}
	str_free(&data);
	str_free(&head);
	if (st != ST_OK)
		msg_error("cannot write the recipient snapshot %s", final);
	return st == ST_OK ? ST_OK : ST_TEMPFAIL;
}

int qsnap_parse_ref(const char *value, qsnap_ref *ref)
{
	const char *p = value;
	if (strspn(p, "0123456789abcdef") != QSNAP_GEN_LEN || p[QSNAP_GEN_LEN] != ' ')
		return -1;
	memcpy(ref->gen, p, QSNAP_GEN_LEN);
	ref->gen[QSNAP_GEN_LEN] = 0;
	p += QSNAP_GEN_LEN + 1;
	size_t nd = strspn(p, "0123456789");
	if (nd == 0 || nd > 19 || p[nd] != ' ')
		return -1;
	ref->count = (size_t)strtoull(p, NULL, 10);
	p += nd + 1;
	if (!hex64(p) || p[64])
		return -1;
	memcpy(ref->sha, p, 65);
	return 0;
}

int qsnap_item_gen(const char *path, char gen[QSNAP_GEN_LEN + 1])
{
	char buf[HEAD_MAX + 1];
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -1 : -2;
	ssize_t r = fs_pread_full(fd, buf, HEAD_MAX, 0);
	close(fd);
	if (r < 0)
		return -2;
	if (r == 0)
		return -1;
	buf[r] = 0;
	char *env_end = strstr(buf, "\n\n"), *l = strstr(buf, "\nrcpts ");
	qsnap_ref ref;
	if (!l || (env_end && l > env_end))
		return -1;
	char *nl = strchr(l + 1, '\n');
	if (!nl)
		return -1;
	*nl = 0;
	if (qsnap_parse_ref(l + 7, &ref) < 0)
		return -1;
	memcpy(gen, ref.gen, QSNAP_GEN_LEN + 1);
	return 0;
}

int qsnap_sweep_wanted(const char *qdir, const char *stamp)
{
	char dir[4096], path[4096], cur[QSNAP_GEN_LEN + 1];
	struct stat st;
	int want = 0;
	gen_of(stamp, cur);
	if (fs_path(dir, sizeof dir, "%s/rcpt", qdir) < 0)
		return 0;
	DIR *d = opendir(dir);
	struct dirent *de;
	while (d && !want && (de = readdir(d)) != NULL)
		want = is_gen_name(de->d_name) && strcmp(de->d_name + 1, cur) != 0 &&
		       fs_path(path, sizeof path, "%s/%s", dir, de->d_name) == 0 &&
		       lstat(path, &st) == 0 && st.st_nlink == 1;
	if (d)
		closedir(d);
	return want;
}

void qsnap_sweep(const char *qdir, const char *stamp, const char *keep)
{
	char dir[4096], path[4096], cur[QSNAP_GEN_LEN + 1] = "", gen[QSNAP_GEN_LEN + 1];
	str cand = STR_INIT;
	struct stat st;
	time_t now = time(NULL);
	if (stamp)
		gen_of(stamp, cur);
	if (fs_path(dir, sizeof dir, "%s/rcpt", qdir) < 0)
		return;
	DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d)) != NULL) {
		if (fs_path(path, sizeof path, "%s/%s", dir, de->d_name) < 0 ||
		    lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (strncmp(de->d_name, ".tmp.", 5) == 0 && now - st.st_mtime > TMP_ORPHAN_AGE) {
			unlink(path); /* a writer that died */
			continue;
		}
		if (!is_gen_name(de->d_name) || st.st_nlink != 1 ||
		    strcmp(de->d_name + 1, cur) == 0 || (keep && strcmp(de->d_name + 1, keep) == 0))
			continue;
		str_append(&cand, de->d_name + 1, QSNAP_GEN_LEN + 1);
	}
	if (d)
		closedir(d);
	if (!cand.len) {
		str_free(&cand);
		return;
	}
	/* items in new/ have no link yet: what they name stays */
	if (fs_path(path, sizeof path, "%s/new", qdir) == 0 && (d = opendir(path)) != NULL) {
		int trouble = 0;
		while (!trouble && (de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.' ||
			    fs_path(path, sizeof path, "%s/new/%s", qdir, de->d_name) < 0)
				continue;
			int r = qsnap_item_gen(path, gen);
			trouble = r == -2; /* cannot tell what it names: keep everything */
			if (r < 0)
				continue;
			for (size_t i = 0; i < cand.len; i += QSNAP_GEN_LEN + 1)
				if (strcmp(cand.s + i, gen) == 0)
					cand.s[i] = 0; /* needed */
		}
		closedir(d);
		if (trouble) {
			str_free(&cand);
			return;
		}
	} else {
		str_free(&cand);
		return; /* cannot tell: keep everything */
	}
	for (size_t i = 0; i < cand.len; i += QSNAP_GEN_LEN + 1) {
		if (!cand.s[i] || fs_path(path, sizeof path, "%s/g%s", dir, cand.s + i) < 0)
			continue;
		/* no fsync: a removal undone by a crash leaves garbage, not damage */
		if (unlink(path) == 0)
			msg_info("removed recipient snapshot g%s: no item needs it", cand.s + i);
	}
	str_free(&cand);
}

fml_status qsnap_link(const char *qdir, const char *name, const char *gen)
{
	char dir[4096], parent[4096], link_path[4096], gen_path[4096], tmp[4096];
	struct stat ls, gs;
	if (fs_path(dir, sizeof dir, "%s/rcpt/items", qdir) < 0 ||
	    fs_path(link_path, sizeof link_path, "%s/%s", dir, name) < 0 ||
	    fs_path(gen_path, sizeof gen_path, "%s/rcpt/g%s", qdir, gen) < 0 ||
	    fs_path(tmp, sizeof tmp, "%s/.tmp.%s.%ld", dir, name, (long)getpid()) < 0)
		return ST_TEMPFAIL;
	if (stat(gen_path, &gs) < 0)
		return ST_OK; /* gone or never there: qsnap_open() judges the link alone */
	if (lstat(link_path, &ls) == 0 && ls.st_ino == gs.st_ino && ls.st_dev == gs.st_dev)
		return ST_OK;
	fs_dirname(dir, parent, sizeof parent); /* rcpt/ */
	if (make_dir(dir, parent) != ST_OK)
		return ST_TEMPFAIL;
	unlink(tmp);
	/* a stale link of that name (an item deleted by a crash half-way) is
	 * replaced, atomically */
	if (link(gen_path, tmp) < 0 || rename(tmp, link_path) < 0) {
		msg_error("link %s to %s: %m", link_path, gen_path);
		unlink(tmp);
		return ST_TEMPFAIL;
	}
	return fs_fsync_dir(dir);
}

void qsnap_unlink(const char *qdir, const char *name)
{
	char path[4096];
	if (fs_path(path, sizeof path, "%s/rcpt/items/%s", qdir, name) == 0)
		unlink(path);
}

/* ---- reading */

void qsnap_iter_start(qsnap_iter *it, const qsnap *s)
{
	memset(it, 0, sizeof *it);
	it->s = s;
	it->off = s->data;
}

int qsnap_iter_next(qsnap_iter *it, const char **addr, size_t *len)
{
	for (;;) {
		char *b = it->buf.len > it->pos ? it->buf.s + it->pos : NULL;
		char *nl = b ? memchr(b, '\n', it->buf.len - it->pos) : NULL;
		if (nl) {
			*nl = 0;
			*addr = b;
			*len = (size_t)(nl - b);
			it->pos = (size_t)(nl - it->buf.s) + 1;
			return 1;
		}
		off_t have = it->off + (off_t)it->buf.len;
		if (have >= it->s->end)
			return it->pos < it->buf.len ? -1 : 0; /* a last line without LF */
		size_t rest = it->buf.len - it->pos;
		if (rest && it->pos)
			memmove(it->buf.s, it->buf.s + it->pos, rest);
		it->off += (off_t)it->pos;
		it->buf.len = rest;
		it->pos = 0;
		size_t want =
		    (size_t)(it->s->end - have) < CHUNK ? (size_t)(it->s->end - have) : CHUNK;
		str_reserve(&it->buf, want);
		if (fs_pread_full(it->s->fd, it->buf.s + it->buf.len, want, have) != (ssize_t)want)
			return -1;
		it->buf.len += want;
		it->buf.s[it->buf.len] = 0;
	}
}

void qsnap_iter_end(qsnap_iter *it)
{
	str_free(&it->buf);
}

/* Read every address once: count, SHA-256, order, the lookup index. */
static fml_status verify(qsnap *s, const qsnap_ref *ref, str *err)
{
	qsnap_iter it;
	const char *a;
	size_t len, n = 0;
	str prev = STR_INIT;
	int r;
	sha256 sha;
	char hex[SHA256_HEX];
	sha256_init(&sha);
	fml_status st = ST_OK;
	qsnap_iter_start(&it, s);
	while (st == ST_OK && (r = qsnap_iter_next(&it, &a, &len)) == 1) {
		if (len == 0 || len > 1000 || strpbrk(a, " \t\r") ||
		    (n > 0 && qsnap_cmp(prev.s, a) >= 0)) {
			st = status_why(err, ST_DATAERR, "recipient snapshot %s: bad address %zu",
					ref->gen, n + 1);
			break;
		}
		if (n % QSNAP_STEP == 0) {
			s->idx_off = mem_reallocarray(s->idx_off, s->nidx + 1, sizeof *s->idx_off);
			s->idx_addr =
			    mem_reallocarray(s->idx_addr, s->nidx + 1, sizeof *s->idx_addr);
			s->idx_off[s->nidx] = it.off + (off_t)(a - it.buf.s);
			s->idx_addr[s->nidx++] = mem_strdup(a);
		}
		sha256_update(&sha, a, len);
		sha256_update(&sha, "\n", 1);
		str_set(&prev, a, len);
		n++;
	}
	if (st == ST_OK && r < 0)
		st = status_why(err, ST_DATAERR, "recipient snapshot %s: cut short", ref->gen);
	if (st == ST_OK && n != ref->count)
		st = status_why(err, ST_DATAERR,
				"recipient snapshot %s: %zu recipients, item says %zu", ref->gen, n,
				ref->count);
	sha256_hex(&sha, hex);
	if (st == ST_OK && strcmp(hex, ref->sha) != 0)
		st = status_why(err, ST_DATAERR, "recipient snapshot %s: checksum does not match",
				ref->gen);
	qsnap_iter_end(&it);
	str_free(&prev);
	return st;
}

fml_status qsnap_open(qsnap *s, const char *qdir, const char *name, const qsnap_ref *ref, str *err)
{
	char path[4096], buf[HEAD_MAX + 1];
	struct stat st;
	memset(s, 0, sizeof *s);
	s->fd = -1;
	s->cblock = -1;
	if (fs_path(path, sizeof path, "%s/rcpt/items/%s", qdir, name) < 0)
		return status_why(err, ST_TEMPFAIL, "path too long");
	s->fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (s->fd < 0 && errno == ENOENT &&
	    fs_path(path, sizeof path, "%s/rcpt/g%s", qdir, ref->gen) == 0)
		s->fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (s->fd < 0)
		return status_why(err, errno == ENOENT ? ST_DATAERR : ST_TEMPFAIL,
				  "recipient snapshot %s: %m", ref->gen);
	if (fstat(s->fd, &st) < 0 || !S_ISREG(st.st_mode))
		return status_why(err, ST_DATAERR, "recipient snapshot %s: not a file", ref->gen);
	ssize_t r = fs_pread_full(s->fd, buf, HEAD_MAX, 0);
	if (r < 0)
		return status_why(err, ST_TEMPFAIL, "recipient snapshot %s: read: %m", ref->gen);
	buf[r] = 0;
	qsnap_ref have;
	long hl = parse_head(buf, (size_t)r, &have, NULL);
	if (hl < 0 || strcmp(have.gen, ref->gen) != 0 || have.count != ref->count ||
	    strcmp(have.sha, ref->sha) != 0)
		return status_why(err, ST_DATAERR, "recipient snapshot %s: bad header", ref->gen);
	s->data = (off_t)hl;
	s->end = st.st_size;
	s->count = ref->count;
	return verify(s, ref, err);
}

void qsnap_close(qsnap *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	for (size_t i = 0; i < s->nidx; i++)
		free(s->idx_addr[i]);
	free(s->idx_addr);
	free(s->idx_off);
	free(s->cline);
	str_free(&s->cbuf);
	s->idx_addr = NULL;
	s->idx_off = NULL;
	s->cline = NULL;
	s->nidx = s->cn = 0;
	s->cblock = -1;
}

/* Read block B of the index into the lookup cache. */
static int load_block(qsnap *s, size_t b)
{
	off_t from = s->idx_off[b], to = b + 1 < s->nidx ? s->idx_off[b + 1] : s->end;
	size_t n = (size_t)(to - from);
	str_clear(&s->cbuf);
	str_reserve(&s->cbuf, n);
	if (fs_pread_full(s->fd, s->cbuf.s, n, from) != (ssize_t)n)
		return -1;
	s->cbuf.len = n;
	s->cbuf.s[n] = 0;
	if (!s->cline)
		s->cline = mem_reallocarray(NULL, QSNAP_STEP, sizeof *s->cline);
	s->cn = 0;
	for (char *p = s->cbuf.s, *nl;
	     s->cn < QSNAP_STEP && (nl = memchr(p, '\n', (size_t)(s->cbuf.s + n - p))) != NULL;
	     p = nl + 1) {
		*nl = 0;
		s->cline[s->cn++] = p;
	}
	s->cblock = (long)b;
	return 0;
}

long qsnap_lookup(qsnap *s, const char *addr)
{
	if (!s->nidx)
		return -1;
	/* the last block whose first address is <= ADDR: the journal's lines
	 * come in the snapshot's order, so mostly the block in the cache */
	size_t lo = 0, hi = s->nidx;
	if (s->cblock >= 0 && qsnap_cmp(s->idx_addr[s->cblock], addr) <= 0 &&
	    ((size_t)s->cblock + 1 == s->nidx || qsnap_cmp(addr, s->idx_addr[s->cblock + 1]) < 0))
		lo = (size_t)s->cblock, hi = lo + 1;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (qsnap_cmp(s->idx_addr[mid], addr) <= 0)
			lo = mid;
		else
			hi = mid;
	}
	if (qsnap_cmp(s->idx_addr[lo], addr) > 0)
		return -1;
	if (s->cblock != (long)lo && load_block(s, lo) < 0) {
		s->cblock = -1;
		return -1;
	}
	size_t a = 0, b = s->cn;
	while (a < b) {
		size_t mid = a + (b - a) / 2;
		int c = qsnap_cmp(s->cline[mid], addr);
		if (c == 0)
			return (long)(lo * QSNAP_STEP + mid);
		if (c < 0)
			a = mid + 1;
		else
			b = mid;
	}
	return -1;
}
