/*
 * qsnap: the recipient snapshots of the outgoing queue (see qsnap.h and
 * doc/fml-queue.5).  fml writes a generation once per membership state
 * (qsnap_find, qsnap_write, qsnap_sweep under the list lock); fmlqueue links
 * it to each item it claims (qsnap_link) and reads it in chunks, never
 * whole: an open snapshot costs a lookup index of one address in
 * QSNAP_STEP, whatever the number of recipients.
 *
 * A delta generation (written by qdelta.c) holds only the addresses that
 * appends to actives added since a full generation, its base; a reader
 * here merges the two (qsnap_open checks both in full).
 *
 * Failure policy: a generation is durable before any item can name it
 * (file and rcpt/ fsynced at creation); a per-item link is durable before
 * its item leaves new/.  A snapshot that is missing, or differs in any byte
 * from what its item says (count, SHA-256, order), is ST_DATAERR: the item
 * goes to corrupt/ and is never delivered to another list of recipients.
 */
#include "qsnap.h"
#include "list/members.h"
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
#define TMP_ORPHAN_AGE 3600 /* a temp file older than this is a dead writer's */

int qsnap_cmp(const char *a, const char *b)
{
	int r = strcmp(addr_domain(a), addr_domain(b));
	return r ? r : strcmp(a, b);
}

void qsnap_stamp_of(config *cf, const char *fstamp, str *stamp)
{
	str_clear(stamp);
	/* the list's own addresses are left out of the recipients: part of the key */
	str_printf(stamp, "fml-rcpt 3 %s %s %s", fstamp, config_str(cf, CF_MAIL_LIST),
		   config_str(cf, CF_CONTROL_ADDRESS));
}

fml_status qsnap_stamp(const char *list_dir, config *cf, str *stamp, struct stat *st)
{
	char actives[4096];
	str fs = STR_INIT;
	if (fs_path(actives, sizeof actives, "%s/actives", list_dir) < 0)
		return ST_TEMPFAIL;
	if (stat(actives, st) < 0)
		memset(st, 0, sizeof *st);
	members_stamp(&fs, st);
	qsnap_stamp_of(cf, str_c(&fs), stamp);
	str_free(&fs);
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

void qsnap_gen_of(const char *stamp, char gen[QSNAP_GEN_LEN + 1])
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

/* "gGEN.base": a delta's link to its base */
static int is_base_name(const char *n)
{
	return n[0] == 'g' && strlen(n) == QSNAP_GEN_LEN + 6 &&
	       strspn(n + 1, "0123456789abcdef") == QSNAP_GEN_LEN &&
	       strcmp(n + 1 + QSNAP_GEN_LEN, ".base") == 0;
}

static int hex64(const char *p)
{
	return strspn(p, "0123456789abcdef") == 64;
}

/* Parse the header in BUF (N bytes): REF, the base of a delta (into BASE,
 * "" for a full generation), the stamp (into STAMP if not NULL) and the
 * length of the header; -1 when it is not one. */
static long parse_head(char *buf, size_t n, qsnap_ref *ref, char base[QSNAP_GEN_LEN + 1],
		       str *stamp)
{
	char *end = memmem(buf, n, "\n\n", 2);
	if (!end)
		return -1;
	*end = 0;
	char *gen = strstr(buf, "\ngen "), *bl = strstr(buf, "\nbase "),
	     *st = strstr(buf, "\nstamp "), *cnt = strstr(buf, "\ncount "),
	     *sha = strstr(buf, "\nsha256 ");
	if (strncmp(buf, "FMLR 1\n", 7) != 0 || gen != buf + 6 || !st || !cnt || !sha ||
	    !(gen < st && st < cnt && cnt < sha))
		return -1;
	char *after_gen = gen + 5 + QSNAP_GEN_LEN;
	base[0] = 0;
	if (bl && bl < st) {
		if (bl != after_gen || bl + 6 + QSNAP_GEN_LEN != st ||
		    strspn(bl + 6, "0123456789abcdef") != QSNAP_GEN_LEN)
			return -1;
		memcpy(base, bl + 6, QSNAP_GEN_LEN);
		base[QSNAP_GEN_LEN] = 0;
	} else if (after_gen != st) {
		return -1;
	}
	if (strspn(gen + 5, "0123456789abcdef") != QSNAP_GEN_LEN)
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

/* Read and parse the header of the file open as FD (see parse_head). */
long qsnap_read_head(int fd, qsnap_ref *ref, char base[QSNAP_GEN_LEN + 1], str *stamp)
{
	char buf[HEAD_MAX + 1];
	ssize_t r = fs_pread_full(fd, buf, HEAD_MAX, 0);
	if (r <= 0)
		return r < 0 ? -2 : -1;
	buf[r] = 0;
	return parse_head(buf, (size_t)r, ref, base, stamp);
}

/* The checksum of a delta on the base BASE starts with this line. */
void qsnap_delta_sha_start(sha256 *sha, const qsnap_ref *base)
{
	char line[128];
	int n = snprintf(line, sizeof line, "fmlr-delta %s %zu %s\n", base->gen, base->count,
			 base->sha);
	sha256_init(sha);
	sha256_update(sha, line, (size_t)n);
}

int qsnap_find(const char *qdir, const char *stamp, qsnap_ref *ref)
{
	char path[4096], gen[QSNAP_GEN_LEN + 1], base[QSNAP_GEN_LEN + 1];
	qsnap_gen_of(stamp, gen);
	if (fs_path(path, sizeof path, "%s/rcpt/g%s", qdir, gen) < 0)
		return -1;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	str have = STR_INIT;
	long hl = qsnap_read_head(fd, ref, base, &have);
	close(fd);
	int ok = hl > 0 && strcmp(ref->gen, gen) == 0 && strcmp(str_c(&have), stamp) == 0;
	str_free(&have);
	return ok ? 0 : -1;
}

/* Commit generation FINAL in DIR: HEAD, then DATA.  File and DIR synced. */
fml_status qsnap_commit(const char *dir, const char *final, const str *head, const str *data)
{
	safefile sf;
	fml_status st = safefile_open(&sf, dir, ".tmp");
	if (st == ST_OK) {
		st = safefile_write(&sf, head->s, head->len);
		if (st == ST_OK && data->len)
			st = safefile_write(&sf, data->s, data->len);
		if (st == ST_OK)
			st = safefile_commit(&sf, final); /* file and rcpt/ fsynced */
		else
			safefile_abort(&sf);
	}
	if (st != ST_OK)
		msg_error("cannot write the recipient snapshot %s", final);
	return st == ST_OK ? ST_OK : ST_TEMPFAIL;
}

fml_status qsnap_write(const char *qdir, const char *stamp, const char *rcpts, size_t n,
		       qsnap_ref *ref)
{
	char dir[4096], final[4096];
	memset(ref, 0, sizeof *ref);
	qsnap_gen_of(stamp, ref->gen);
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
	fml_status st = qsnap_commit(dir, final, &head, &data);
	str_free(&data);
	str_free(&head);
	return st;
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
	qsnap_gen_of(stamp, cur);
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

/* One pass of qsnap_sweep: 1 when it removed a delta's base link (its
 * base may have no other link left: worth another pass), else 0. */
static int sweep_pass(const char *qdir, const char *stamp, const char *keep)
{
	int bases = 0;
	char dir[4096], path[4096], cur[QSNAP_GEN_LEN + 1] = "", gen[QSNAP_GEN_LEN + 1];
	str cand = STR_INIT;
	struct stat st;
	time_t now = time(NULL);
	if (stamp)
		qsnap_gen_of(stamp, cur);
	if (fs_path(dir, sizeof dir, "%s/rcpt", qdir) < 0)
		return 0;
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
		if (is_base_name(de->d_name)) {
			/* a delta's base link whose delta is gone (a crash between
			 * the two unlinks below, or before the delta was written) */
			char gpath[4096];
			if (fs_path(gpath, sizeof gpath, "%s/%.*s", dir, QSNAP_GEN_LEN + 1,
				    de->d_name) == 0 &&
			    lstat(gpath, &st) < 0 && errno == ENOENT && unlink(path) == 0)
				bases = 1;
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
		return bases;
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
			return bases;
		}
	} else {
		str_free(&cand);
		return bases; /* cannot tell: keep everything */
	}
	for (size_t i = 0; i < cand.len; i += QSNAP_GEN_LEN + 1) {
		if (!cand.s[i] || fs_path(path, sizeof path, "%s/g%s", dir, cand.s + i) < 0)
			continue;
		/* no fsync: a removal undone by a crash leaves garbage, not damage */
		if (unlink(path) == 0)
			msg_info("removed recipient snapshot g%s: no item needs it", cand.s + i);
		/* then its base's link (a delta): the base outlived it */
		if (fs_path(path, sizeof path, "%s/g%s.base", dir, cand.s + i) == 0 &&
		    unlink(path) == 0)
			bases = 1;
	}
	str_free(&cand);
	return bases;
}

void qsnap_sweep(const char *qdir, const char *stamp, const char *keep)
{
	/* a base whose last delta goes in this sweep goes in it too */
	for (int pass = 0; pass < 3 && sweep_pass(qdir, stamp, keep); pass++)
		;
}

/* Link the file open at PATH as rcpt/NAME, replacing one of that name. */
fml_status qsnap_relink(const char *path, const char *dir, const char *name)
{
	char final[4096], tmp[4096];
	if (fs_path(final, sizeof final, "%s/%s", dir, name) < 0 ||
	    fs_path(tmp, sizeof tmp, "%s/.tmp.%s.%ld", dir, name, (long)getpid()) < 0)
		return ST_TEMPFAIL;
	unlink(tmp);
	if (link(path, tmp) < 0 || rename(tmp, final) < 0) {
		msg_error("link %s to %s: %m", final, path);
		unlink(tmp);
		return ST_TEMPFAIL;
	}
	return ST_OK;
}

/* Make DIR/LINK_NAME a link to the file at TARGET unless it is one: 0 it
 * is now (not yet synced: *MADE), 1 TARGET is missing, -1 trouble. */
static int link_one(const char *dir, const char *link_name, const char *target, int *made)
{
	char link_path[4096];
	struct stat ls, gs;
	if (fs_path(link_path, sizeof link_path, "%s/%s", dir, link_name) < 0)
		return -1;
	if (stat(target, &gs) < 0)
		return 1;
	if (lstat(link_path, &ls) == 0 && ls.st_ino == gs.st_ino && ls.st_dev == gs.st_dev)
		return 0;
	/* a stale link of that name (an item deleted by a crash half-way) is
	 * replaced, atomically */
	if (qsnap_relink(target, dir, link_name) != ST_OK)
		return -1;
	*made = 1;
	return 0;
}

fml_status qsnap_link(const char *qdir, const char *name, const char *gen)
{
	char dir[4096], parent[4096], gen_path[4096], base_path[4096], base_name[4096];
	int made = 0;
	if (fs_path(dir, sizeof dir, "%s/rcpt/items", qdir) < 0 ||
	    fs_path(gen_path, sizeof gen_path, "%s/rcpt/g%s", qdir, gen) < 0 ||
	    fs_path(base_path, sizeof base_path, "%s.base", gen_path) < 0 ||
	    fs_path(base_name, sizeof base_name, "%s.base", name) < 0)
		return ST_TEMPFAIL;
	if (!fs_exists(gen_path))
		return ST_OK; /* gone or never there: qsnap_open() judges the link alone */
	fs_dirname(dir, parent, sizeof parent); /* rcpt/ */
	if (make_dir(dir, parent) != ST_OK)
		return ST_TEMPFAIL;
	/* the base first: an item link to a delta always has its base */
	if (link_one(dir, base_name, base_path, &made) < 0 ||
	    link_one(dir, name, gen_path, &made) < 0)
		return ST_TEMPFAIL;
	return made ? fs_fsync_dir(dir) : ST_OK;
}

void qsnap_unlink(const char *qdir, const char *name)
{
	char path[4096];
	if (fs_path(path, sizeof path, "%s/rcpt/items/%s", qdir, name) == 0)
		unlink(path);
	if (fs_path(path, sizeof path, "%s/rcpt/items/%s.base", qdir, name) == 0)
		unlink(path);
}

/* ---- reading */

void qsnap_piter_start(qsnap_piter *it, const qsnap_part *p)
{
	memset(it, 0, sizeof *it);
	it->p = p;
	it->off = p->data;
}

int qsnap_piter_next(qsnap_piter *it, const char **addr, size_t *len)
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
		if (have >= it->p->end)
			return it->pos < it->buf.len ? -1 : 0; /* a last line without LF */
		size_t rest = it->buf.len - it->pos;
		if (rest && it->pos)
			memmove(it->buf.s, it->buf.s + it->pos, rest);
		it->off += (off_t)it->pos;
		it->buf.len = rest;
		it->pos = 0;
		size_t want =
		    (size_t)(it->p->end - have) < CHUNK ? (size_t)(it->p->end - have) : CHUNK;
		str_reserve(&it->buf, want);
		if (fs_pread_full(it->p->fd, it->buf.s + it->buf.len, want, have) != (ssize_t)want)
			return -1;
		it->buf.len += want;
		it->buf.s[it->buf.len] = 0;
	}
}

void qsnap_iter_start(qsnap_iter *it, const qsnap *s)
{
	memset(it, 0, sizeof *it);
	it->s = s;
	for (int k = 0; k < 1 + s->delta; k++) {
		qsnap_piter_start(&it->it[k], &s->p[k]);
		it->want[k] = 1;
	}
}

int qsnap_iter_next(qsnap_iter *it, const char **addr, size_t *len)
{
	if (!it->s->delta)
		return qsnap_piter_next(&it->it[0], addr, len);
	/* a delta: the merge of its base and its adds, both sorted */
	for (int k = 0; k < 2; k++) {
		if (!it->want[k])
			continue;
		it->have[k] = qsnap_piter_next(&it->it[k], &it->head[k], &it->hlen[k]);
		if (it->have[k] < 0)
			return -1;
		it->want[k] = 0;
	}
	if (!it->have[0] && !it->have[1])
		return 0;
	int k = !it->have[0]				   ? 1
		: !it->have[1]				   ? 0
		: qsnap_cmp(it->head[0], it->head[1]) <= 0 ? 0
							   : 1;
	*addr = it->head[k];
	*len = it->hlen[k];
	it->want[k] = 1;
	return 1;
}

void qsnap_iter_end(qsnap_iter *it)
{
	str_free(&it->it[0].buf);
	str_free(&it->it[1].buf);
}

/* Read every address of part P once: order, the lookup index, the count
 * (into *N) and the SHA-256 (SHA, started by the caller).  GEN names it. */
static fml_status verify_part(qsnap_part *p, sha256 *sha, size_t *np, const char *gen, str *err)
{
	qsnap_piter it;
	const char *a;
	size_t len, n = 0;
	str prev = STR_INIT;
	int r;
	fml_status st = ST_OK;
	qsnap_piter_start(&it, p);
	while (st == ST_OK && (r = qsnap_piter_next(&it, &a, &len)) == 1) {
		if (len == 0 || len > 1000 || strpbrk(a, " \t\r") ||
		    (n > 0 && qsnap_cmp(prev.s, a) >= 0)) {
			st = status_why(err, ST_DATAERR, "recipient snapshot %s: bad address %zu",
					gen, n + 1);
			break;
		}
		if (n % QSNAP_STEP == 0) {
			p->idx_off = mem_reallocarray(p->idx_off, p->nidx + 1, sizeof *p->idx_off);
			p->idx_addr =
			    mem_reallocarray(p->idx_addr, p->nidx + 1, sizeof *p->idx_addr);
			p->idx_off[p->nidx] = it.off + (off_t)(a - it.buf.s);
			p->idx_addr[p->nidx++] = mem_strdup(a);
		}
		sha256_update(sha, a, len);
		sha256_update(sha, "\n", 1);
		str_set(&prev, a, len);
		n++;
	}
	if (st == ST_OK && r < 0)
		st = status_why(err, ST_DATAERR, "recipient snapshot %s: cut short", gen);
	str_free(&it.buf);
	str_free(&prev);
	p->count = n;
	*np = n;
	return st;
}

/* Check a part's count and checksum against WANT. */
static fml_status check_sum(sha256 *sha, size_t n, const qsnap_ref *want, const char *what,
			    str *err)
{
	char hex[SHA256_HEX];
	sha256_hex(sha, hex);
	if (n != want->count)
		return status_why(err, ST_DATAERR,
				  "recipient snapshot %s: %zu recipients, %s says %zu", want->gen,
				  n, what, want->count);
	if (strcmp(hex, want->sha) != 0)
		return status_why(err, ST_DATAERR, "recipient snapshot %s: checksum does not match",
				  want->gen);
	return ST_OK;
}

static long part_rank(qsnap_part *p, const char *addr, int *found);

/* Open the part at PATH (else at ALT, when not NULL and PATH is missing;
 * *ALT_USED says which): its header into HAVE and BASE. */
static fml_status open_part(qsnap_part *p, const char *path, const char *alt, int *alt_used,
			    qsnap_ref *have, char base[QSNAP_GEN_LEN + 1], const char *gen,
			    str *err)
{
	struct stat st;
	p->fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	*alt_used = p->fd < 0 && errno == ENOENT && alt;
	if (*alt_used)
		p->fd = open(alt, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (p->fd < 0)
		return status_why(err, errno == ENOENT ? ST_DATAERR : ST_TEMPFAIL,
				  "recipient snapshot %s: %m", gen);
	if (fstat(p->fd, &st) < 0 || !S_ISREG(st.st_mode))
		return status_why(err, ST_DATAERR, "recipient snapshot %s: not a file", gen);
	long hl = qsnap_read_head(p->fd, have, base, NULL);
	if (hl == -2)
		return status_why(err, ST_TEMPFAIL, "recipient snapshot %s: read: %m", gen);
	if (hl < 0)
		return status_why(err, ST_DATAERR, "recipient snapshot %s: bad header", gen);
	p->data = (off_t)hl;
	p->end = st.st_size;
	return ST_OK;
}

fml_status qsnap_open(qsnap *s, const char *qdir, const char *name, const qsnap_ref *ref, str *err)
{
	char path[4096], gpath[4096], bpath[4096], gbpath[4096];
	char base[QSNAP_GEN_LEN + 1], bbase[QSNAP_GEN_LEN + 1];
	qsnap_ref have, bref;
	sha256 sha;
	size_t n0, n1;
	memset(s, 0, sizeof *s);
	s->p[0].fd = s->p[1].fd = -1;
	s->p[0].cblock = s->p[1].cblock = -1;
	if (fs_path(path, sizeof path, "%s/rcpt/items/%s", qdir, name) < 0 ||
	    fs_path(gpath, sizeof gpath, "%s/rcpt/g%s", qdir, ref->gen) < 0 ||
	    fs_path(bpath, sizeof bpath, "%s.base", path) < 0 ||
	    fs_path(gbpath, sizeof gbpath, "%s.base", gpath) < 0)
		return status_why(err, ST_TEMPFAIL, "path too long");
	int by_name, base_by_name;
	fml_status st = open_part(&s->p[0], path, gpath, &by_name, &have, base, ref->gen, err);
	if (st != ST_OK)
		return st;
	if (strcmp(have.gen, ref->gen) != 0 || have.count != ref->count ||
	    strcmp(have.sha, ref->sha) != 0)
		return status_why(err, ST_DATAERR, "recipient snapshot %s: bad header", ref->gen);
	s->count = ref->count;
	if (!base[0]) {
		sha256_init(&sha);
		st = verify_part(&s->p[0], &sha, &n0, ref->gen, err);
		return st == ST_OK ? check_sum(&sha, n0, ref, "item", err) : st;
	}
	/* a delta: its base in part 0 (its own header and checksum), its adds
	 * in part 1, and none of them in the base.  The base as the delta was
	 * found: the item's links, else the generation's names. */
	s->delta = 1;
	s->p[1] = s->p[0];
	s->p[0].fd = -1;
	st = by_name
		 ? open_part(&s->p[0], gbpath, NULL, &base_by_name, &bref, bbase, ref->gen, err)
		 : open_part(&s->p[0], bpath, gbpath, &base_by_name, &bref, bbase, ref->gen, err);
	if (st != ST_OK)
		return st;
	if (bbase[0] || strcmp(bref.gen, base) != 0)
		return status_why(err, ST_DATAERR, "recipient snapshot %s: base %s: bad header",
				  ref->gen, base);
	sha256_init(&sha);
	if ((st = verify_part(&s->p[0], &sha, &n0, bref.gen, err)) != ST_OK ||
	    (st = check_sum(&sha, n0, &bref, "its header", err)) != ST_OK)
		return st;
	qsnap_delta_sha_start(&sha, &bref);
	if ((st = verify_part(&s->p[1], &sha, &n1, ref->gen, err)) != ST_OK)
		return st;
	if ((st = check_sum(&sha, n0 + n1, ref, "item", err)) != ST_OK)
		return st;
	qsnap_piter it;
	const char *a;
	size_t len;
	int r, found = 0;
	long rank = 0;
	qsnap_piter_start(&it, &s->p[1]);
	while (!found && rank >= 0 && (r = qsnap_piter_next(&it, &a, &len)) == 1)
		rank = part_rank(&s->p[0], a, &found);
	str_free(&it.buf);
	if (found || r < 0 || rank < 0)
		return status_why(err, ST_DATAERR, "recipient snapshot %s: %s", ref->gen,
				  found ? "an address of its base added again" : "cut short");
	return ST_OK;
}

void qsnap_close(qsnap *s)
{
	for (int k = 0; k < 2; k++) {
		qsnap_part *p = &s->p[k];
		if (p->fd >= 0)
			close(p->fd);
		p->fd = -1;
		for (size_t i = 0; i < p->nidx; i++)
			free(p->idx_addr[i]);
		free(p->idx_addr);
		free(p->idx_off);
		free(p->cline);
		str_free(&p->cbuf);
		p->idx_addr = NULL;
		p->idx_off = NULL;
		p->cline = NULL;
		p->nidx = p->cn = 0;
		p->cblock = -1;
	}
}

/* Read block B of the index into the lookup cache. */
static int load_block(qsnap_part *s, size_t b)
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

/* How many addresses of part S sort before ADDR; *FOUND whether ADDR is
 * one.  -1 on a read error. */
static long part_rank(qsnap_part *s, const char *addr, int *found)
{
	*found = 0;
	if (!s->nidx)
		return 0;
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
		return 0;
	if (s->cblock != (long)lo && load_block(s, lo) < 0) {
		s->cblock = -1;
		return -1;
	}
	size_t a = 0, b = s->cn;
	while (a < b) {
		size_t mid = a + (b - a) / 2;
		int c = qsnap_cmp(s->cline[mid], addr);
		if (c == 0) {
			*found = 1;
			return (long)(lo * QSNAP_STEP + mid);
		}
		if (c < 0)
			a = mid + 1;
		else
			b = mid;
	}
	return (long)(lo * QSNAP_STEP + a);
}

long qsnap_lookup(qsnap *s, const char *addr)
{
	int f0, f1 = 0;
	long r0 = part_rank(&s->p[0], addr, &f0), r1 = 0;
	if (r0 < 0)
		return -1;
	if (!s->delta)
		return f0 ? r0 : -1;
	/* a delta: the rank in the merge is the rank in the base plus the
	 * rank in the adds */
	if ((r1 = part_rank(&s->p[1], addr, &f1)) < 0)
		return -1;
	return f0 || f1 ? r0 + r1 : -1;
}
