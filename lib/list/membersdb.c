/*
 * membersdb: the gdbm index of a member file, and the lookups through it
 * (membersdb_lookup, membersdb_reindex, membersdb_fresh; members.c offers
 * them as members_*; membersdb_probe, _probe_many and _update for the
 * edits).  Every entry of the text file has a key: the normalized address
 * (addr_normalize: domain lower-cased, local part exact); with a fuzzy N > 0
 * instead " f:" + the lower-cased local part + '@' + the last N domain
 * labels, lower-cased, which serves fml's ADDR_CHECK_MAX match: two
 * addresses have the same fuzzy key exactly when addr_match(a, b, N), and
 * addresses equal under addr_equal always do, so one key per entry is
 * enough.  The keys are kept in buckets: the gdbm record "b<hex>" holds the
 * lines "L" + key (an entry that is not ##BYE) and "B" + key (a ##BYE line:
 * a hint for an add, which then replaces that line as fml4 does instead of
 * appending; a stale hint only costs a read of the file) of the keys whose
 * FNV-1a hash falls in that bucket.  A build makes about PER_BUCKET entries
 * per bucket (the count is the record " buckets"): a gdbm record per member
 * cost two system calls each, and a million-member build took many
 * seconds; with buckets it takes one.  Edits change the few buckets
 * concerned, each read and written once.  A '+' line is the record " plus".
 * The record " stamp" records the text file (device, inode, size, mtime and
 * ctime in ns) and the N the index was built for.
 *
 * A lookup whose stamp does not match the stat of the text file rebuilds the
 * index into a temp file in var/db, fsyncs it and renames it over the old
 * one, so a concurrent reader sees the old or the new index, never half of
 * one.  Rebuilds take no lock: two racing rebuilders both write a correct
 * index and the last rename wins.  The builder does not use mmap: gdbm
 * remaps the whole file each time it grows, which makes a million-entry
 * build several times slower.
 *
 * Exact stamps.  The stamp is (device, inode, size, mtime and ctime in ns),
 * taken by fstat after the text file was read or written, and compared
 * exactly: no time window.  A writer of fml (membersedit, under the list
 * lock) updates the index key by key and stores the file's new stamp in the
 * same step, so the next lookup finds the index fresh.  The one hole of a
 * stamp is a change that keeps the size and lands in the same timestamp
 * tick as the stat that took it.  Linux since 6.13 closes it on ext4, xfs,
 * btrfs and tmpfs (multigrain timestamps): once a stat has seen the ctime,
 * the next change of the file gets a fresh fine-grained ctime, and a hand
 * edit cannot set ctime back (utimensat sets mtime, which bumps ctime).  On
 * a file system with coarse timestamps only, a same-size in-place edit made
 * within one tick (a few ms) after fml's own stat goes unseen until the next
 * change of the file; editors that replace the file (a new inode) or change
 * its size are always seen.
 *
 * Failure policy.  The text file is the truth.  Any gdbm failure (cannot
 * open, corrupt, cannot build, fetch error) is logged as a warning and the
 * lookup falls back to a linear scan of the text file.  Only an unreadable
 * text file is an error (ST_TEMPFAIL).
 */
#include "membersdb.h"
#include "members.h"
#include "membersjournal.h"
#include "mail/addr.h"
#include "util/fs.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/randhex.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gdbm.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define KEY_STAMP " stamp"
#define KEY_PLUS " plus"
#define KEY_FUZZY " f:"
#define KEY_BYE " b:" /* + key: there is (or was) a ##BYE line for it */
#define INDEX_VERSION 3
#define KEY_NBUCKETS " buckets"
#define PER_BUCKET 16 /* entries per gdbm record at a build */
#define TAG_LIVE 'L'
#define TAG_BYE 'B'
#define CACHE_BUCKETS 4096 /* gdbm bucket cache: fewer re-reads while building */
#define STALE_TMP 3600	   /* a temp index this old has no live builder */

/* ------------------------------------------------------------------ */
/* keys                                                                */

/* The key of ADDR: with N > 0 " f:" + lower(local) + '@' + lower(last N
 * labels), else (or without an '@') the normalized address. */
static void make_key(str *key, const char *addr, size_t len, int n)
{
	const char *at = NULL;
	for (size_t i = 0; i < len; i++)
		if (addr[i] == '@')
			at = addr + i;
	if (!at || n <= 0) {
		str_set(key, addr, len);
		addr_normalize(key);
		return;
	}
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
}

static datum datc(const char *s)
{
	datum d = {(char *)s, (int)strlen(s)};
	return d;
}

static void make_stamp(str *s, const struct stat *st, int fuzzy)
{
	str_clear(s);
	str_printf(s, "fmlidx %d ", INDEX_VERSION);
	members_stamp(s, st);
	str_printf(s, " %d", fuzzy);
}

static int same_file(const struct stat *a, const struct stat *b)
{
	return members_same_stat(a, b);
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

static uint64_t hash(const char *p, size_t n)
{
	uint64_t h = 14695981039346656037ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211ULL;
	return h;
}

/* The gdbm key of bucket ID: "b" + hex (no leading space). */
static datum bucket_key(char *buf, size_t size, uint32_t id)
{
	int n = snprintf(buf, size, "b%x", (unsigned)id);
	datum d = {buf, n};
	return d;
}

static uint32_t bucket_of(const str *key, uint32_t nb)
{
	return (uint32_t)(hash(key->s, key->len) & (nb - 1));
}

/* The number of buckets recorded at the build: a power of two, 0 when
 * missing or bad (the index is then unusable). */
static uint32_t index_nbuckets(GDBM_FILE db)
{
	datum d = gdbm_fetch(db, datc(KEY_NBUCKETS));
	uint32_t nb = 0;
	if (d.dptr && d.dsize > 0 && d.dsize < 12) {
		char buf[12];
		memcpy(buf, d.dptr, (size_t)d.dsize);
		buf[d.dsize] = 0;
		unsigned long v = strtoul(buf, NULL, 10);
		if (v > 0 && v <= (1UL << 30) && (v & (v - 1)) == 0)
			nb = (uint32_t)v;
	}
	free(d.dptr);
	return nb;
}

/* Is the line TAG KEY in the bucket value V[0..N)? */
static int bucket_has(const char *v, size_t n, int tag, const str *key)
{
	const char *p = v, *end = v + n;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((nl ? nl : end) - p);
		if (len == key->len + 1 && p[0] == tag && memcmp(p + 1, key->s, key->len) == 0)
			return 1;
		p += len + 1;
	}
	return 0;
}

/* Is TAG KEY in the index: 1, 0, -1 gdbm trouble. */
static int index_has(GDBM_FILE db, uint32_t nb, int tag, const str *key)
{
	char kb[16];
	gdbm_errno = GDBM_NO_ERROR;
	datum d = gdbm_fetch(db, bucket_key(kb, sizeof kb, bucket_of(key, nb)));
	if (!d.dptr)
		return gdbm_errno != GDBM_NO_ERROR && gdbm_errno != GDBM_ITEM_NOT_FOUND ? -1 : 0;
	int r = bucket_has(d.dptr, (size_t)d.dsize, tag, key);
	free(d.dptr);
	return r;
}

/* 1 found, 0 not, -1 gdbm trouble. */
static int index_query(GDBM_FILE db, const char *addr, int fuzzy)
{
	str key = STR_INIT;
	uint32_t nb = index_nbuckets(db);
	int r = has_key(db, datc(KEY_PLUS));
	if (r == 0 && nb == 0)
		r = -1;
	if (r == 0) {
		make_key(&key, addr, strlen(addr), fuzzy);
		r = index_has(db, nb, TAG_LIVE, &key);
	}
	str_free(&key);
	return r;
}

/* The entries of a build, before they are stored bucket by bucket. */
struct build {
	GDBM_FILE db;
	str key;
	str val;
	int fuzzy;
	int failed;
	int plus;
	str arena; /* TAG KEY "\n", one after the other */
	size_t *off;
	size_t n, cap;
};

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
	if (plus) {
		b->plus = 1;
		return 0;
	}
	make_key(&b->key, e->addr.s, e->addr.len, b->fuzzy);
	if (b->n == b->cap) {
		b->cap = b->cap ? 2 * b->cap : 1024;
		b->off = mem_reallocarray(b->off, b->cap, sizeof *b->off);
	}
	b->off[b->n++] = b->arena.len;
	str_putc(&b->arena, e->bye ? TAG_BYE : TAG_LIVE);
	str_append(&b->arena, b->key.s, b->key.len);
	str_putc(&b->arena, '\n');
	return 0;
}

/* Store the entries gathered by build_cb: one gdbm record per bucket of
 * about PER_BUCKET entries (a record per member costs gdbm two system calls
 * each: a million of them made the build take many seconds), grouped by a
 * counting sort. */
static void build_store(struct build *b)
{
	uint32_t nb = 64;
	char kb[16], nbuf[16];
	while (nb < b->n / PER_BUCKET && nb < (1U << 30))
		nb *= 2;
	uint32_t *id = mem_reallocarray(NULL, b->n ? b->n : 1, sizeof *id);
	size_t *start = mem_reallocarray(NULL, (size_t)nb + 1, sizeof *start);
	size_t *order = mem_reallocarray(NULL, b->n ? b->n : 1, sizeof *order);
	memset(start, 0, ((size_t)nb + 1) * sizeof *start);
	for (size_t i = 0; i < b->n; i++) {
		str k = {b->arena.s + b->off[i] + 1, 0, 0};
		const char *nl = memchr(k.s, '\n', b->arena.len - b->off[i] - 1);
		k.len = (size_t)(nl - k.s);
		id[i] = bucket_of(&k, nb);
		start[id[i] + 1]++;
	}
	for (uint32_t j = 0; j < nb; j++)
		start[j + 1] += start[j];
	for (size_t i = 0; i < b->n; i++)
		order[start[id[i]]++] = i; /* start[j] ends as the start of j + 1 */
	size_t i = 0;
	for (uint32_t j = 0; j < nb && !b->failed; j++) {
		str_clear(&b->val);
		for (; i < start[j]; i++) {
			const char *e = b->arena.s + b->off[order[i]];
			const char *nl = memchr(e, '\n', b->arena.len - b->off[order[i]]);
			str_append(&b->val, e, (size_t)(nl - e) + 1);
		}
		if (b->val.len)
			store(b, bucket_key(kb, sizeof kb, j));
	}
	str_clear(&b->val);
	if (!b->failed && b->plus)
		store(b, datc(KEY_PLUS));
	snprintf(nbuf, sizeof nbuf, "%u", (unsigned)nb);
	str_sets(&b->val, nbuf);
	if (!b->failed)
		store(b, datc(KEY_NBUCKETS));
	free(id);
	free(start);
	free(order);
}

static void unlink_path(void *arg)
{
	const char *p = arg;
	if (p[0])
		unlink(p);
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
	struct build b;
	unsigned int r = randhex_nonce();

	memset(&b, 0, sizeof b);
	b.fuzzy = fuzzy;

	*st = members_open(txt, &fp, &st1);
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
	size_t cache = CACHE_BUCKETS;
	(void)gdbm_setopt(b.db, GDBM_SETCACHESIZE, &cache, sizeof cache);
	*st = members_scan(fp, txt, build_cb, &b);
	if (*st != ST_OK)
		goto fail;
	build_store(&b);
	if (b.failed)
		goto fail;
	/* a file that changed while it was read gets no stamp: the next
	 * lookup builds again */
	int changed = fstat(fileno(fp), &st2) < 0 || !same_file(&st1, &st2);
	str_clear(&b.val);
	if (changed)
		str_sets(&b.val, "changed while read");
	else
		make_stamp(&b.val, &st2, fuzzy);
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
	str_free(&b.arena);
	free(b.off);
	msg_debug("rebuilt %s (%s)", dbpath, changed ? "changed while read" : "stamped");
	return b.db;
fail:
	if (b.db)
		gdbm_close(b.db);
	unlink(tmp);
	msg_cleanup_pop(cleanup);
	fclose(fp);
	str_free(&b.key);
	str_free(&b.val);
	str_free(&b.arena);
	free(b.off);
	return NULL;
}

static fml_status paths(const char *dir, const char *file, char *txt, size_t ntxt, char *db,
			size_t ndb)
{
	fml_status st = members_path(txt, ntxt, dir, file);
	if (st == ST_OK && fs_path(db, ndb, "%s/var/db/%s.db", dir, file) < 0)
		st = ST_TEMPFAIL;
	return st;
}

fml_status membersdb_reindex(const char *dir, const char *file, int fuzzy)
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

int membersdb_fresh(const char *dir, const char *file, int fuzzy)
{
	char txt[PATH_MAX], dbpath[PATH_MAX];
	struct stat st;
	str want = STR_INIT;
	int fresh = 0;
	if (paths(dir, file, txt, sizeof txt, dbpath, sizeof dbpath) != ST_OK)
		return 0;
	if (stat(txt, &st) < 0)
		return errno == ENOENT;
	make_stamp(&want, &st, fuzzy < 0 ? 0 : fuzzy);
	GDBM_FILE db = index_open(dbpath);
	if (db) {
		fresh = index_stamp_ok(db, &want);
		gdbm_close(db);
	}
	str_free(&want);
	return fresh;
}

fml_status membersdb_lookup(const char *dir, const char *file, const char *addr, int fuzzy,
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
	if ((s = membersjournal_recover_all(dir)) != ST_OK)
		return s;
	if (stat(txt, &st) < 0) {
		if (errno == ENOENT)
			return ST_OK;
		msg_error("stat %s: %s", txt, strerror(errno));
		return ST_TEMPFAIL;
	}
	make_stamp(&want, &st, fuzzy);
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
	return members_scan_find(txt, addr, fuzzy, 1, NULL, found);
}

int membersdb_probe_many(const char *dir, const char *file, int fuzzy, const struct stat *now,
			 const char *const *addrs, size_t n, unsigned char *present)
{
	char txt[PATH_MAX], dbpath[PATH_MAX];
	str want = STR_INIT, key = STR_INIT;
	int r = -1;
	if (fuzzy < 0)
		fuzzy = 0;
	if (paths(dir, file, txt, sizeof txt, dbpath, sizeof dbpath) != ST_OK)
		return -1;
	make_stamp(&want, now, fuzzy);
	GDBM_FILE db = index_open(dbpath);
	if (db) {
		uint32_t nb = index_nbuckets(db);
		if (nb && index_stamp_ok(db, &want)) {
			r = 0;
			for (size_t i = 0; i < n && r == 0; i++) {
				make_key(&key, addrs[i], strlen(addrs[i]), fuzzy);
				int k = index_has(db, nb, TAG_LIVE, &key);
				if (k == 0 && (k = index_has(db, nb, TAG_BYE, &key)) > 0)
					k = 2;
				if (k < 0)
					r = -1;
				present[i] = k > 0 ? (unsigned char)k : 0;
			}
		}
		gdbm_close(db);
	}
	str_free(&want);
	str_free(&key);
	return r;
}

int membersdb_probe(const char *dir, const char *file, const char *addr, int fuzzy,
		    const struct stat *now)
{
	unsigned char present = 0;
	int r = membersdb_probe_many(dir, file, fuzzy, now, &addr, 1, &present);
	return r < 0 ? r : present;
}

void membersdb_key(str *key, const char *addr, int fuzzy)
{
	make_key(key, addr, strlen(addr), fuzzy);
}

/* One change of an update: drop (DEL) or put the line TAG KEY. */
typedef struct change {
	uint32_t bucket;
	size_t seq; /* the order of the changes within a bucket */
	int del, tag;
	size_t off, len; /* the key in the arena */
} change;

static int change_cmp(const void *x, const void *y)
{
	const change *a = x, *b = y;
	if (a->bucket != b->bucket)
		return a->bucket < b->bucket ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static void change_add(change **v, size_t *n, str *arena, const str *key, uint32_t nb, int del,
		       int tag)
{
	change *c = &(*v)[(*n)++];
	c->bucket = bucket_of(key, nb);
	c->seq = *n;
	c->del = del;
	c->tag = tag;
	c->off = arena->len;
	c->len = key->len;
	str_append(arena, key->s, key->len);
}

/* Apply C to the bucket value V: remove every line TAG KEY, or add one. */
static void change_apply(str *v, const change *c, const char *arena)
{
	str key = {(char *)arena + c->off, c->len, 0};
	if (!c->del) {
		if (!bucket_has(v->s, v->len, c->tag, &key)) {
			str_putc(v, c->tag);
			str_append(v, key.s, key.len);
			str_putc(v, '\n');
		}
		return;
	}
	size_t w = 0;
	for (size_t r = 0; r < v->len;) {
		const char *nl = memchr(v->s + r, '\n', v->len - r);
		size_t len = (size_t)((nl ? nl : v->s + v->len) - (v->s + r)) + (nl != NULL);
		int drop = len >= key.len + 1 && v->s[r] == c->tag &&
			   memcmp(v->s + r + 1, key.s, key.len) == 0 &&
			   (len == key.len + 1 || v->s[r + key.len + 1] == '\n');
		if (!drop) {
			memmove(v->s + w, v->s + r, len);
			w += len;
		}
		r += len;
	}
	str_truncate(v, w);
}

/* The changes of an update, grouped by bucket: each bucket read and
 * written once. */
static void update_buckets(struct build *b, uint32_t nb, const char *const *del, size_t ndel,
			   const char *const *add, size_t nadd, const char *const *bye, size_t nbye)
{
	size_t n = 0, total = ndel + nadd + nbye;
	change *v = mem_reallocarray(NULL, total ? total : 1, sizeof *v);
	char kb[16];
	for (size_t i = 0; i < ndel; i++) {
		make_key(&b->key, del[i], strlen(del[i]), b->fuzzy);
		change_add(&v, &n, &b->arena, &b->key, nb, 1, TAG_LIVE);
	}
	for (size_t i = 0; i < nadd; i++) {
		make_key(&b->key, add[i], strlen(add[i]), b->fuzzy);
		change_add(&v, &n, &b->arena, &b->key, nb, 0, TAG_LIVE);
	}
	for (size_t i = 0; i < nbye; i++) {
		make_key(&b->key, bye[i], strlen(bye[i]), b->fuzzy);
		change_add(&v, &n, &b->arena, &b->key, nb, 0, TAG_BYE);
	}
	qsort(v, n, sizeof *v, change_cmp);
	for (size_t i = 0; i < n && !b->failed;) {
		datum k = bucket_key(kb, sizeof kb, v[i].bucket);
		gdbm_errno = GDBM_NO_ERROR;
		datum d = gdbm_fetch(b->db, k);
		if (!d.dptr && gdbm_errno != GDBM_ITEM_NOT_FOUND && gdbm_errno != GDBM_NO_ERROR) {
			msg_warn("gdbm fetch: %s", gdbm_strerror(gdbm_errno));
			b->failed = 1;
			break;
		}
		str_set(&b->val, d.dptr ? d.dptr : "", d.dptr ? (size_t)d.dsize : 0);
		free(d.dptr);
		uint32_t bucket = v[i].bucket;
		for (; i < n && v[i].bucket == bucket; i++)
			change_apply(&b->val, &v[i], b->arena.s);
		if (b->val.len)
			store(b, k);
		else if (gdbm_delete(b->db, k) != 0 && gdbm_errno != GDBM_ITEM_NOT_FOUND) {
			msg_warn("gdbm delete: %s", gdbm_strerror(gdbm_errno));
			b->failed = 1;
		}
	}
	free(v);
}

/*
 * The index follows an edit made by fml: open it for writing, check that it
 * was fresh for the file as it was before the edit (BEFORE), delete and
 * store the keys, store the stamp of the file as it is now (AFTER), sync.
 * An index that was stale already, or any gdbm trouble, leaves it with a
 * stamp that does not match: the next lookup rebuilds it, as before.
 */
fml_status membersdb_update(const char *dir, const char *file, int fuzzy, const struct stat *before,
			    const struct stat *after, const char *const *del, size_t ndel,
			    const char *const *add, size_t nadd, const char *const *bye,
			    size_t nbye)
{
	char txt[PATH_MAX], dbpath[PATH_MAX];
	str want = STR_INIT;
	struct build b;
	memset(&b, 0, sizeof b);
	b.fuzzy = fuzzy < 0 ? 0 : fuzzy;
	fml_status st = paths(dir, file, txt, sizeof txt, dbpath, sizeof dbpath);
	if (st != ST_OK)
		return st;
	int fd = open(dbpath, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT)
			msg_warn("open %s: %s", dbpath, strerror(errno));
		return ST_OK;
	}
	b.db = gdbm_fd_open(fd, dbpath, 0, GDBM_WRITER | GDBM_NOLOCK | GDBM_CLOEXEC | GDBM_CLOERROR,
			    NULL);
	if (!b.db) {
		msg_warn("%s: %s: it will be rebuilt", dbpath, gdbm_strerror(gdbm_errno));
		return ST_OK;
	}
	int off = 0;
	(void)gdbm_setopt(b.db, GDBM_SETMMAP, &off, sizeof off);
	size_t cache = CACHE_BUCKETS;
	(void)gdbm_setopt(b.db, GDBM_SETCACHESIZE, &cache, sizeof cache);
	make_stamp(&want, before, b.fuzzy);
	uint32_t nb = index_nbuckets(b.db);
	if (!nb || !index_stamp_ok(b.db, &want))
		goto done; /* stale already: the next lookup rebuilds */
	update_buckets(&b, nb, del, ndel, add, nadd, bye, nbye);
	if (!b.failed) {
		make_stamp(&b.val, after, b.fuzzy);
		store(&b, datc(KEY_STAMP));
	}
	if (!b.failed && gdbm_sync(b.db) != 0) {
		msg_warn("gdbm sync %s: %s", dbpath, gdbm_strerror(gdbm_errno));
		b.failed = 1;
	}
	if (b.failed) /* the old stamp no longer matches the file: rebuilt later */
		msg_warn("%s: update failed: it will be rebuilt", dbpath);
done:
	gdbm_close(b.db);
	str_free(&want);
	str_free(&b.key);
	str_free(&b.val);
	str_free(&b.arena);
	return ST_OK;
}
