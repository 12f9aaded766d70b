/*
 * members: fml's member files (members, actives, members-admin, moderators)
 * and their gdbm index.  See members.h for the line format.
 *
 * Index.  DIR/var/db/FILE.db holds a key (with an empty value) for every
 * entry that is not ##BYE.  The key is the normalized address
 * (addr_normalize: domain lower-cased, local part exact); with a fuzzy N > 0
 * it is instead " f:" + the lower-cased local part + '@' + the last N domain
 * labels, lower-cased, which serves fml's ADDR_CHECK_MAX match: two
 * addresses have the same fuzzy key exactly when addr_match(a, b, N), and
 * addresses equal under addr_equal always do, so one key per entry is
 * enough (one gdbm record per member halves the build time).  A '+' line is
 * the key " plus".  The key " stamp" records the text file (device, inode,
 * size, mtime in ns) and the N the index was built for.  Keys starting with
 * a space cannot be addresses: an address is one blank-free token.
 *
 * A lookup whose stamp does not match the stat of the text file rebuilds the
 * index into a temp file in var/db, fsyncs it and renames it over the old
 * one, so a concurrent reader sees the old or the new index, never half of
 * one.  Rebuilds take no lock: two racing rebuilders both write a correct
 * index and the last rename wins.  The builder does not use mmap: gdbm
 * remaps the whole file each time it grows, which makes a million-entry
 * build several times slower.
 *
 * Racy stamps.  A file modified in place within the same clock tick with the
 * same size would keep its stamp; so an index built from a file modified less
 * than a second ago (or that changed while it was read) gets a stamp that
 * never matches, and the next lookup rebuilds once more (as git does for its
 * "racily clean" index entries).
 *
 * Failure policy.  The text file is the truth.  Any gdbm failure (cannot
 * open, corrupt, cannot build, fetch error) is logged as a warning and the
 * lookup falls back to a linear scan of the text file.  Only an unreadable
 * text file is an error (ST_TEMPFAIL).
 *
 * Edits read the whole file, change the lines of the entry concerned and
 * write the rest back byte for byte through safefile (temp + fsync + rename
 * + directory fsync).  The caller holds the list lock.
 *
 * The line format (parse, format, option words, reading a file entry by
 * entry) is membersfile.c's.
 */
#include "members.h"
#include "membersfile.h"
#include "mail/addr.h"
#include "util/fs.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/randhex.h"
#include "util/safefile.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gdbm.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define KEY_STAMP " stamp"
#define KEY_PLUS " plus"
#define KEY_FUZZY " f:"
#define INDEX_VERSION 1
#define FUZZY_MAX 10	     /* edits escalate N up to this (fml4) */
#define RACY_NS 1000000000LL /* mtime this recent: stamp not trusted */
#define STALE_TMP 3600	     /* a temp index this old has no live builder */

/* ------------------------------------------------------------------ */
/* entries and reading                                                 */

void members_entry_init(member_entry *e)
{
	membersfile_entry_init(e);
}

void members_entry_free(member_entry *e)
{
	membersfile_entry_free(e);
}

int members_parse_line(const char *line, size_t len, member_entry *e, int *plus)
{
	return membersfile_parse(line, len, e, plus, NULL);
}

int members_line_problem(const char *line, size_t len, str *why)
{
	return membersfile_problem(line, len, why);
}

struct foreach_arg {
	int (*fn)(const member_entry *e, void *arg);
	void *arg;
};

static int foreach_cb(const member_entry *e, int plus, void *arg)
{
	struct foreach_arg *fa = arg;
	return plus ? 0 : fa->fn(e, fa->arg);
}

fml_status members_foreach(const char *path, int (*fn)(const member_entry *e, void *arg), void *arg)
{
	struct foreach_arg fa = {fn, arg};
	return membersfile_scan_path(path, foreach_cb, &fa);
}

static int count_cb(const member_entry *e, int plus, void *arg)
{
	if (!plus && !e->bye)
		++*(long *)arg;
	return 0;
}

fml_status members_count(const char *path, long *n)
{
	*n = 0;
	return membersfile_scan_path(path, count_cb, n);
}

int members_find(const char *path, const char *addr, int fuzzy, member_entry *out)
{
	int found;
	if (membersfile_find(path, addr, fuzzy, 0, out, &found) != ST_OK)
		return -1;
	return found;
}

fml_status members_foreach_line(const char *path,
				int (*fn)(const char *line, size_t len, long lineno, void *arg),
				void *arg)
{
	FILE *fp;
	struct stat st;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	long lineno = 0;
	fml_status s = membersfile_open(path, &fp, &st);
	if (s != ST_OK || !fp)
		return s;
	errno = 0;
	while ((n = getline(&line, &cap, fp)) >= 0) {
		size_t len = (size_t)n;
		if (len > 0 && line[len - 1] == '\n')
			len--;
		if (len > 0 && line[len - 1] == '\r' && (size_t)n > len)
			len--;
		if (fn(line, len, ++lineno, arg))
			break;
	}
	if (ferror(fp)) {
		msg_error("read %s: %s", path, strerror(errno));
		s = ST_TEMPFAIL;
	}
	free(line);
	fclose(fp);
	return s;
}

/* ------------------------------------------------------------------ */
/* keys                                                                */

static void key_exact(str *key, const char *addr, size_t len)
{
	str_set(key, addr, len);
	addr_normalize(key);
}

/* " f:" + lower(local) + '@' + lower(last N labels); 0 when not applicable. */
static int key_fuzzy(str *key, const char *addr, size_t len, int n)
{
	const char *at = NULL;
	for (size_t i = 0; i < len; i++)
		if (addr[i] == '@')
			at = addr + i;
	if (!at || n <= 0)
		return 0;
	const char *end = addr + len, *d = end;
	int labels = 0;
	while (d > at + 1) {
		if (d[-1] == '.' && ++labels == n)
			break;
		d--;
	}
	str_sets(key, KEY_FUZZY);
	for (const char *p = addr; p < at; p++)
		str_putc(key, tolower((unsigned char)*p));
	str_putc(key, '@');
	for (const char *p = d; p < end; p++)
		str_putc(key, tolower((unsigned char)*p));
	return 1;
}

static datum dat(const str *s)
{
	datum d = {s->s, (int)s->len};
	return d;
}

static datum datc(const char *s)
{
	datum d = {(char *)s, (int)strlen(s)};
	return d;
}

static long long mtime_ns(const struct stat *st)
{
	return (long long)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
}

static void make_stamp(str *s, const struct stat *st, int fuzzy, int racy)
{
	str_printf(s, "fmlidx %d %llu %llu %lld %lld %d%s", INDEX_VERSION,
		   (unsigned long long)st->st_dev, (unsigned long long)st->st_ino,
		   (long long)st->st_size, mtime_ns(st), fuzzy, racy ? " racy" : "");
}

static int same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       mtime_ns(a) == mtime_ns(b);
}

/* ------------------------------------------------------------------ */
/* the index                                                           */

static GDBM_FILE index_open(const char *dbpath)
{
	int fd = open(dbpath, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT)
			msg_warn("open %s: %s", dbpath, strerror(errno));
		return NULL;
	}
	GDBM_FILE db = gdbm_fd_open(
	    fd, dbpath, 0, GDBM_READER | GDBM_NOLOCK | GDBM_CLOEXEC | GDBM_CLOERROR | GDBM_XVERIFY,
	    NULL);
	if (!db)
		msg_warn("%s: %s: rebuilding it", dbpath, gdbm_strerror(gdbm_errno));
	return db;
}

static int index_stamp_ok(GDBM_FILE db, const str *want)
{
	datum d = gdbm_fetch(db, datc(KEY_STAMP));
	int ok = d.dptr && (size_t)d.dsize == want->len && memcmp(d.dptr, want->s, want->len) == 0;
	free(d.dptr);
	return ok;
}

static int has_key(GDBM_FILE db, datum k)
{
	gdbm_errno = GDBM_NO_ERROR;
	if (gdbm_exists(db, k))
		return 1;
	if (gdbm_errno != GDBM_NO_ERROR && gdbm_errno != GDBM_ITEM_NOT_FOUND)
		return -1;
	return 0;
}

/* 1 found, 0 not, -1 gdbm trouble. */
static int index_query(GDBM_FILE db, const char *addr, int fuzzy)
{
	str key = STR_INIT;
	int r = has_key(db, datc(KEY_PLUS));
	if (r == 0) {
		if (!key_fuzzy(&key, addr, strlen(addr), fuzzy))
			key_exact(&key, addr, strlen(addr));
		r = has_key(db, dat(&key));
	}
	str_free(&key);
	return r;
}

struct build {
	GDBM_FILE db;
	str key;
	str val;
	int fuzzy;
	int failed;
};

/* Values are empty (one write less per entry in gdbm) but for the stamp. */
static int store(struct build *b, datum k)
{
	datum v = {b->val.len ? b->val.s : (char *)"", (int)b->val.len};
	if (gdbm_store(b->db, k, v, GDBM_REPLACE) != 0) {
		msg_warn("gdbm store: %s", gdbm_strerror(gdbm_errno));
		b->failed = 1;
		return 1;
	}
	return 0;
}

static int build_cb(const member_entry *e, int plus, void *arg)
{
	struct build *b = arg;
	if (plus)
		return store(b, datc(KEY_PLUS));
	if (e->bye)
		return 0;
	if (!key_fuzzy(&b->key, e->addr.s, e->addr.len, b->fuzzy))
		key_exact(&b->key, e->addr.s, e->addr.len);
	return store(b, dat(&b->key));
}

static void unlink_path(void *arg)
{
	const char *p = arg;
	if (p[0])
		unlink(p);
}

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Remove the temp files of builders that died (SIGKILL, power loss) more
 * than STALE_TMP seconds ago: ".members.db.PID.RAND" in var/db. */
static void sweep_tmp(const char *dbdir, const char *base)
{
	char path[PATH_MAX];
	size_t n = strlen(base);
	DIR *d = opendir(dbdir);
	struct dirent *de;
	if (!d)
		return;
	time_t now = time(NULL);
	while ((de = readdir(d))) {
		struct stat st;
		if (de->d_name[0] != '.' || strncmp(de->d_name + 1, base, n) != 0 ||
		    de->d_name[n + 1] != '.' ||
		    fs_path(path, sizeof path, "%s/%s", dbdir, de->d_name) < 0 ||
		    lstat(path, &st) < 0 || !S_ISREG(st.st_mode) || now - st.st_mtime < STALE_TMP)
			continue;
		if (unlink(path) == 0)
			msg_info("removed %s, left by a dead index builder", path);
	}
	closedir(d);
}

/*
 * Build the index of TXT into DBPATH.  Returns the open (writer) handle of
 * the new index, already renamed into place, or NULL: with *ST == ST_OK when
 * TXT does not exist or gdbm failed (warning logged), else the error reading
 * TXT.
 */
static GDBM_FILE index_build(const char *dir, const char *txt, const char *dbpath, int fuzzy,
			     fml_status *st)
{
	char dbdir[PATH_MAX], tmp[PATH_MAX];
	struct stat st1, st2;
	FILE *fp;
	struct build b = {NULL, STR_INIT, STR_INIT, fuzzy, 0};
	unsigned int r = randhex_nonce();

	*st = membersfile_open(txt, &fp, &st1);
	if (*st != ST_OK || !fp)
		return NULL;
	if (fs_path(dbdir, sizeof dbdir, "%s/var/db", dir) < 0 ||
	    fs_path(tmp, sizeof tmp, "%s/.%s.%d.%08x", dbdir, strrchr(dbpath, '/') + 1,
		    (int)getpid(), r) < 0 ||
	    fs_mkdirs(dbdir, 0700) != ST_OK) {
		fclose(fp);
		return NULL;
	}
	sweep_tmp(dbdir, strrchr(dbpath, '/') + 1);
	/* the clean-up first: a signal right after open() must not leave the
	 * file (unlinking a name that was never made is harmless) */
	int cleanup = msg_cleanup_push(unlink_path, tmp);
	int fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		msg_warn("create %s: %s", tmp, strerror(errno));
		msg_cleanup_pop(cleanup);
		fclose(fp);
		return NULL;
	}
	b.db =
	    gdbm_fd_open(fd, tmp, 0, GDBM_NEWDB | GDBM_NOLOCK | GDBM_CLOEXEC | GDBM_CLOERROR, NULL);
	if (!b.db) {
		msg_warn("gdbm create %s: %s", tmp, gdbm_strerror(gdbm_errno));
		goto fail;
	}
	int off = 0; /* gdbm_fd_open does not honour GDBM_NOMMAP */
	(void)gdbm_setopt(b.db, GDBM_SETMMAP, &off, sizeof off);
	*st = membersfile_scan(fp, txt, build_cb, &b);
	if (*st != ST_OK || b.failed)
		goto fail;
	int racy = fstat(fileno(fp), &st2) < 0 || !same_file(&st1, &st2) ||
		   now_ns() - mtime_ns(&st2) < RACY_NS;
	str_clear(&b.val);
	make_stamp(&b.val, &st2, fuzzy, racy);
	if (store(&b, datc(KEY_STAMP)))
		goto fail;
	if (gdbm_sync(b.db) != 0) {
		msg_warn("gdbm sync %s: %s", tmp, gdbm_strerror(gdbm_errno));
		goto fail;
	}
	if (rename(tmp, dbpath) < 0) {
		msg_warn("rename %s to %s: %s", tmp, dbpath, strerror(errno));
		goto fail;
	}
	msg_cleanup_pop(cleanup);
	fclose(fp);
	str_free(&b.key);
	str_free(&b.val);
	msg_debug("rebuilt %s (%s)", dbpath, racy ? "racy" : "stamped");
	return b.db;
fail:
	if (b.db)
		gdbm_close(b.db);
	unlink(tmp);
	msg_cleanup_pop(cleanup);
	fclose(fp);
	str_free(&b.key);
	str_free(&b.val);
	return NULL;
}

static fml_status paths(const char *dir, const char *file, char *txt, size_t ntxt, char *db,
			size_t ndb)
{
	fml_status st = membersfile_path(txt, ntxt, dir, file);
	if (st == ST_OK && fs_path(db, ndb, "%s/var/db/%s.db", dir, file) < 0)
		st = ST_TEMPFAIL;
	return st;
}

fml_status members_reindex(const char *dir, const char *file, int fuzzy)
{
	char txt[PATH_MAX], dbpath[PATH_MAX];
	fml_status st = paths(dir, file, txt, sizeof txt, dbpath, sizeof dbpath);
	if (st != ST_OK)
		return st;
	GDBM_FILE db = index_build(dir, txt, dbpath, fuzzy, &st);
	if (db) {
		gdbm_close(db);
		return ST_OK;
	}
	return st != ST_OK ? st : (fs_exists(txt) ? ST_TEMPFAIL : ST_OK);
}

int members_index_fresh(const char *dir, const char *file, int fuzzy)
{
	char txt[PATH_MAX], dbpath[PATH_MAX];
	struct stat st;
	str want = STR_INIT;
	int fresh = 0;
	if (paths(dir, file, txt, sizeof txt, dbpath, sizeof dbpath) != ST_OK)
		return 0;
	if (stat(txt, &st) < 0)
		return errno == ENOENT;
	make_stamp(&want, &st, fuzzy < 0 ? 0 : fuzzy, 0);
	GDBM_FILE db = index_open(dbpath);
	if (db) {
		fresh = index_stamp_ok(db, &want);
		gdbm_close(db);
	}
	str_free(&want);
	return fresh;
}

fml_status members_lookup(const char *dir, const char *file, const char *addr, int fuzzy,
			  int *found)
{
	char txt[PATH_MAX], dbpath[PATH_MAX];
	struct stat st;
	str want = STR_INIT;
	fml_status s;
	int r = -1;

	*found = 0;
	if (fuzzy < 0)
		fuzzy = 0;
	if (!addr || !*addr)
		return ST_OK;
	if ((s = paths(dir, file, txt, sizeof txt, dbpath, sizeof dbpath)) != ST_OK)
		return s;
	if (stat(txt, &st) < 0) {
		if (errno == ENOENT)
			return ST_OK;
		msg_error("stat %s: %s", txt, strerror(errno));
		return ST_TEMPFAIL;
	}
	make_stamp(&want, &st, fuzzy, 0);
	GDBM_FILE db = index_open(dbpath);
	if (db) {
		if (index_stamp_ok(db, &want)) {
			r = index_query(db, addr, fuzzy);
			if (r < 0)
				msg_warn("%s: %s: rebuilding it", dbpath,
					 gdbm_strerror(gdbm_errno));
		}
		gdbm_close(db);
	}
	str_free(&want);
	if (r < 0) {
		db = index_build(dir, txt, dbpath, fuzzy, &s);
		if (s != ST_OK)
			return s;
		if (db) {
			r = index_query(db, addr, fuzzy);
			gdbm_close(db);
		}
	}
	if (r >= 0) {
		*found = r;
		return ST_OK;
	}
	msg_warn("%s: index unusable, scanning %s", dbpath, txt);
	return membersfile_find(txt, addr, fuzzy, 1, NULL, found);
}

/* ------------------------------------------------------------------ */
/* edits                                                               */

/* A line of the file that concerns the edit. */
typedef struct cand {
	long lineno;
	int which; /* 0: ADDR, 1: the new address of chaddr */
	int bye, off, skip, digest;
	int exact; /* addr_equal, not only a fuzzy match */
	str addr;
} cand;

typedef struct cands {
	cand *v;
	size_t n, cap;
} cands;

static void cands_free(cands *c)
{
	for (size_t i = 0; i < c->n; i++)
		str_free(&c->v[i].addr);
	free(c->v);
}

/* Iterate the lines of BUF: *LINE and *LEN without the terminator, *EOL its
 * length (0 for a last line without newline).  Returns 0 at the end. */
static int next_line(const str *buf, size_t *pos, const char **line, size_t *len, size_t *eol)
{
	if (*pos >= buf->len)
		return 0;
	const char *p = buf->s + *pos;
	const char *nl = memchr(p, '\n', buf->len - *pos);
	size_t n = nl ? (size_t)(nl - p) : buf->len - *pos;
	*eol = nl ? 1 : 0;
	if (n > 0 && p[n - 1] == '\r' && nl) {
		n--;
		(*eol)++;
	}
	*line = p;
	*len = n;
	*pos += n + *eol;
	return 1;
}

static void collect(const str *buf, const char *const addrs[2], int fuzzy, cands *c)
{
	member_entry e;
	const char *line;
	size_t pos = 0, len, eol;
	long lineno = 0;

	membersfile_entry_init(&e);
	while (next_line(buf, &pos, &line, &len, &eol)) {
		lineno++;
		if (!membersfile_parse(line, len, &e, NULL, NULL))
			continue;
		for (int w = 0; w < 2; w++) {
			if (!addrs[w] || !addr_match(e.addr.s, addrs[w], fuzzy))
				continue;
			if (c->n == c->cap) {
				c->cap = c->cap ? 2 * c->cap : 8;
				c->v = mem_reallocarray(c->v, c->cap, sizeof *c->v);
			}
			cand *k = &c->v[c->n++];
			memset(k, 0, sizeof *k);
			k->lineno = lineno;
			k->which = w;
			k->bye = e.bye;
			k->off = e.off;
			k->skip = e.skip;
			k->digest = e.digest;
			k->exact = addr_equal(e.addr.s, addrs[w]);
			str_init(&k->addr);
			str_set(&k->addr, e.addr.s, e.addr.len);
		}
	}
	membersfile_entry_free(&e);
}

static int cand_hits(const cand *k, int w, const char *addr, int level)
{
	if (k->which != w || k->bye)
		return 0;
	return level == 0 ? k->exact : addr_match(k->addr.s, addr, level);
}

/*
 * Mark (which = 2) the live lines of address W the edit applies to: the
 * exact matches when there are any, else the fuzzy matches at the smallest
 * N from FUZZY up that leaves a single address (fml4 retries a member-list
 * edit that hits several lines with ADDR_CHECK_MAX + 1, up to 10).  Returns
 * the number of lines marked, or -1 when still ambiguous.
 */
static int pick(cands *c, int w, int fuzzy, const char *addr)
{
	int level = 0, n = 0;
	for (size_t i = 0; i < c->n; i++)
		n += cand_hits(&c->v[i], w, addr, 0);
	if (n == 0) {
		if (fuzzy <= 0)
			return 0;
		for (level = fuzzy;; level++) {
			const char *first = NULL;
			int distinct = 1;
			for (size_t i = 0; i < c->n; i++) {
				if (!cand_hits(&c->v[i], w, addr, level))
					continue;
				n++;
				if (!first)
					first = c->v[i].addr.s;
				else if (!addr_equal(first, c->v[i].addr.s))
					distinct = 0;
			}
			if (n == 0 || distinct)
				break;
			if (level >= FUZZY_MAX)
				return -1;
			n = 0;
		}
	}
	int marked = 0;
	for (size_t i = 0; i < c->n; i++)
		if (cand_hits(&c->v[i], w, addr, level)) {
			c->v[i].which = 2;
			marked++;
		}
	return marked;
}

static int is_target(const cands *c, long lineno)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i].lineno == lineno && c->v[i].which == 2)
			return 1;
	return 0;
}

static void apply(member_entry *e, members_op op, const char *arg)
{
	switch (op) {
	case MEM_BYE:
		e->bye = 1;
		break;
	case MEM_OFF:
		e->off = 1;
		break;
	case MEM_ON:
		e->off = 0;
		break;
	case MEM_SKIP:
		membersfile_opts_add(&e->opts, "s=skip");
		break;
	case MEM_NOSKIP:
		membersfile_opts_remove(&e->opts, 0);
		break;
	case MEM_DIGEST:
		membersfile_opts_remove(&e->opts, 1);
		if (strcmp(arg, "0") != 0) {
			membersfile_opts_add(&e->opts, "m=");
			str_puts(&e->opts, arg);
		}
		break;
	case MEM_CHADDR:
		str_sets(&e->addr, arg);
		break;
	case MEM_ADD:
		break;
	}
}

static fml_status refuse(str *err, const char *why)
{
	str_sets(err, why);
	return ST_DATAERR;
}

/* Validate ARG for OP before anything is read. */
static fml_status check_args(members_op op, const char *addr, const char *arg, str *err)
{
	const char *why;
	if (!addr || !*addr || membersfile_has_ctl(addr, strlen(addr)) || strchr(addr, ' '))
		return refuse(err, "bad address");
	if (op == MEM_ADD && (why = addr_check(addr, strlen(addr)))) {
		str_printf(err, "bad address: %s", why);
		return ST_DATAERR;
	}
	if (op == MEM_ADD && arg && *arg && membersfile_opts_problem(arg, err))
		return ST_DATAERR;
	if (op == MEM_DIGEST) {
		if (!arg || !membersfile_digest_ok(arg, strlen(arg)))
			return refuse(err, "bad digest argument: N[mode] expected (0 to stop)");
	}
	if (op == MEM_CHADDR) {
		if (!arg || !*arg)
			return refuse(err, "new address missing");
		if ((why = addr_check(arg, strlen(arg)))) {
			str_printf(err, "bad new address: %s", why);
			return ST_DATAERR;
		}
	}
	return ST_OK;
}

/* Decide which lines change; ST_DATAERR with the reason when the edit does
 * not apply.  *REPLACE_BYE is the ##BYE line an add replaces, 0 for none. */
static fml_status plan(cands *c, members_op op, const char *addr, const char *arg, int fuzzy,
		       long *replace_bye, str *err)
{
	*replace_bye = 0;
	if (op == MEM_ADD) {
		for (size_t i = 0; i < c->n; i++)
			if (!c->v[i].bye)
				return refuse(err, MEMBERS_ALREADY);
		for (size_t i = 0; i < c->n; i++)
			if (c->v[i].bye && c->v[i].exact) {
				*replace_bye = c->v[i].lineno;
				break;
			}
		return ST_OK;
	}
	int n = pick(c, 0, fuzzy, addr);
	if (n < 0)
		return refuse(err, "ambiguous address: it matches several members");
	if (n == 0)
		return refuse(err, MEMBERS_NOT_MEMBER);
	if (op == MEM_CHADDR) {
		for (size_t i = 0; i < c->n; i++)
			if (c->v[i].which == 1 && !c->v[i].bye && !is_target(c, c->v[i].lineno))
				return refuse(err, "the new address is already a member");
	}
	int todo = 0;
	for (size_t i = 0; i < c->n; i++) {
		cand *k = &c->v[i];
		if (k->which != 2)
			continue;
		int change = op == MEM_OFF	? !k->off
			     : op == MEM_ON	? k->off
			     : op == MEM_SKIP	? !k->skip
			     : op == MEM_NOSKIP ? k->skip
						: 1;
		if (!change)
			k->which = 3; /* matched, nothing to do */
		todo += change;
	}
	if (todo == 0) {
		static const char *const already[] = {
		    [MEM_OFF] = "already off",
		    [MEM_ON] = "not off",
		    [MEM_SKIP] = "already skip",
		    [MEM_NOSKIP] = "not skip",
		};
		return refuse(err, (size_t)op < (sizeof already / sizeof already[0]) && already[op]
				       ? already[op]
				       : "nothing to do");
	}
	return ST_OK;
}

/* Write BUF with the planned changes to DIR/FILE through safefile. */
static fml_status rewrite(const char *dir, const char *file, const char *path, const str *buf,
			  const cands *c, members_op op, const char *addr, const char *arg,
			  long replace_bye, const struct stat *old)
{
	char prefix[128];
	safefile sf;
	member_entry e;
	str out = STR_INIT;
	const char *line;
	size_t pos = 0, len, eol;
	long lineno = 0;
	fml_status st = ST_OK;

	if (fs_path(prefix, sizeof prefix, ".%s.tmp", file) < 0 ||
	    safefile_open(&sf, dir, prefix) != ST_OK)
		return ST_TEMPFAIL;
	if (old && fchmod(sf.fd, old->st_mode & 0755) < 0)
		msg_warn("chmod %s: %s", sf.tmp, strerror(errno));
	membersfile_entry_init(&e);
	while (st == ST_OK && next_line(buf, &pos, &line, &len, &eol)) {
		lineno++;
		if (lineno == replace_bye) {
			str_clear(&out);
			str_puts(&out, addr);
			if (arg && *arg) {
				str_putc(&out, ' ');
				str_puts(&out, arg);
			}
		} else if (is_target(c, lineno) && membersfile_parse(line, len, &e, NULL, NULL)) {
			apply(&e, op, arg);
			str_clear(&out);
			membersfile_format(&out, &e);
		} else {
			st = safefile_write(&sf, line, len + eol);
			continue;
		}
		str_append(&out, eol ? line + len : "\n", eol ? eol : 1);
		st = safefile_write(&sf, out.s, out.len);
	}
	if (st == ST_OK && op == MEM_ADD && !replace_bye) {
		str_clear(&out);
		if (buf->len && buf->s[buf->len - 1] != '\n')
			str_putc(&out, '\n');
		str_puts(&out, addr);
		if (arg && *arg) {
			str_putc(&out, ' ');
			str_puts(&out, arg);
		}
		str_putc(&out, '\n');
		st = safefile_write(&sf, out.s, out.len);
	}
	membersfile_entry_free(&e);
	str_free(&out);
	if (st != ST_OK) {
		safefile_abort(&sf);
		return ST_TEMPFAIL;
	}
	return safefile_commit(&sf, path);
}

fml_status members_edit(const char *dir, const char *file, members_op op, const char *addr,
			const char *arg, int fuzzy, str *err)
{
	char path[PATH_MAX];
	str buf = STR_INIT;
	cands c = {NULL, 0, 0};
	struct stat old;
	long replace_bye;
	fml_status st;

	str_clear(err);
	if (fuzzy < 0)
		fuzzy = 0;
	if ((st = membersfile_path(path, sizeof path, dir, file)) != ST_OK) {
		str_sets(err, "bad member file name");
		return st;
	}
	if ((st = check_args(op, addr, arg, err)) != ST_OK)
		return st;
	int exists = stat(path, &old) == 0;
	st = fs_read(path, &buf, 0);
	if (st == ST_NOINPUT)
		st = ST_OK;
	if (st != ST_OK) {
		str_printf(err, "cannot read %s", file);
		str_free(&buf);
		return st;
	}
	const char *addrs[2] = {addr, op == MEM_CHADDR ? arg : NULL};
	collect(&buf, addrs, fuzzy, &c);
	st = plan(&c, op, addr, arg, fuzzy, &replace_bye, err);
	if (st == ST_OK) {
		st = rewrite(dir, file, path, &buf, &c, op, addr, arg, replace_bye,
			     exists ? &old : NULL);
		if (st != ST_OK)
			str_printf(err, "cannot rewrite %s", file);
	}
	cands_free(&c);
	str_free(&buf);
	return st;
}
