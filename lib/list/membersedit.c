/*
 * membersedit: the edits of a member file (add, bye, off, on, skip, noskip,
 * digest, chaddr; membersedit_apply, offered as membersedit_apply()).  An edit
 * reads the whole file, finds the lines of the address concerned (exactly,
 * else fuzzily at the smallest ADDR_CHECK_MAX level that names a single
 * member, as fml4 retries), changes those lines and writes the rest back
 * byte for byte through safefile (temp + fsync + rename + directory fsync).
 * An add that replaces no ##BYE line does not rewrite: it appends its line
 * through membersjournal (crash-safe), and asks the index first when it is
 * fresh, so it reads nothing of a large file.  After either, the index is
 * updated key by key and stamped with the file's new stamp (membersdb_update),
 * so the next lookup does not rebuild it.  The caller holds the list lock.
 *
 * Failure policy.  An edit that does not apply (a bad address or argument,
 * "already a member", "not a member", an ambiguous address, nothing to do)
 * is ST_DATAERR with a one-line reason in ERR and the file untouched.  A
 * bad file name, or a file that cannot be read or rewritten, is logged and
 * returned (ST_TEMPFAIL) with a reason in ERR; the file stays the old one.
 */
#include "membersedit.h"
#include "membersdb.h"
#include "membersjournal.h"
#include "mail/addr.h"
#include "util/fs.h"
#include "util/lines.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/safefile.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define FUZZY_MAX 10 /* edits escalate N up to this (fml4) */

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

/* The next line of IT: *LINE and *LEN without the terminator, *EOL its
 * length ("\n" 1, "\r\n" 2, 0 for a last line without one).  Returns 0 at
 * the end. */
static int next_line(lines *it, const char **line, size_t *len, size_t *eol)
{
	if (!lines_next(it, line, len))
		return 0;
	*eol = lines_rest(it) > *line + *len; /* a "\n" was walked over */
	if (*eol && *len > 0 && (*line)[*len - 1] == '\r') {
		(*len)--;
		(*eol)++;
	}
	return 1;
}

static void collect(const str *buf, const char *const addrs[2], int fuzzy, cands *c)
{
	member_entry e;
	lines it;
	const char *line;
	size_t len, eol;
	long lineno = 0;

	members_entry_init(&e);
	for (lines_init(&it, str_c(buf), buf->len); next_line(&it, &line, &len, &eol);) {
		lineno++;
		if (!members_parse_line(line, len, &e, NULL, NULL))
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
	members_entry_free(&e);
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

static void change_entry(member_entry *e, membersedit_op op, const char *arg)
{
	switch (op) {
	case MEM_BYE:
		e->bye = 1;
		break;
	case MEM_OFF:
		e->off = 1;
		members_opts_drop(&e->opts, "u=");
		if (arg && *arg) { /* a vacation: back on from that day */
			members_opts_add(&e->opts, "u=");
			str_puts(&e->opts, arg);
		}
		break;
	case MEM_ON:
		e->off = 0;
		members_opts_drop(&e->opts, "u=");
		break;
	case MEM_SKIP:
		members_opts_add(&e->opts, "s=skip");
		break;
	case MEM_NOSKIP:
		members_opts_remove(&e->opts, 0);
		break;
	case MEM_DIGEST:
		members_opts_remove(&e->opts, 1);
		if (strcmp(arg, "0") != 0) {
			members_opts_add(&e->opts, "m=");
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

/* Validate ARG for OP before anything is read. */
static fml_status check_args(membersedit_op op, const char *addr, const char *arg, str *err)
{
	const char *why;
	if (!addr || !*addr || members_has_ctl(addr, strlen(addr)) || strchr(addr, ' '))
		return status_why(err, ST_DATAERR, "bad address");
	if (op == MEM_ADD && (why = addr_check(addr, strlen(addr))))
		return status_why(err, ST_DATAERR, "bad address: %s", why);
	if (op == MEM_ADD && arg && *arg && members_opts_problem(arg, err))
		return ST_DATAERR;
	if (op == MEM_DIGEST && (!arg || !members_digest_ok(arg, strlen(arg))))
		return status_why(err, ST_DATAERR,
				  "bad digest argument: N[mode] expected (0 to stop)");
	if (op == MEM_OFF && arg && *arg && !members_date_ok(arg, strlen(arg)))
		return status_why(err, ST_DATAERR, "bad date: YYYY-MM-DD expected");
	if (op == MEM_CHADDR && (!arg || !*arg))
		return status_why(err, ST_DATAERR, "new address missing");
	if (op == MEM_CHADDR && (why = addr_check(arg, strlen(arg))))
		return status_why(err, ST_DATAERR, "bad new address: %s", why);
	return ST_OK;
}

/* Decide which lines change; ST_DATAERR with the reason when the edit does
 * not apply.  *REPLACE_BYE is the ##BYE line an add replaces, 0 for none. */
static fml_status plan(cands *c, membersedit_op op, const char *addr, const char *arg, int fuzzy,
		       long *replace_bye, str *err)
{
	*replace_bye = 0;
	if (op == MEM_ADD) {
		for (size_t i = 0; i < c->n; i++)
			if (!c->v[i].bye)
				return status_why(err, ST_DATAERR, MEMBERSEDIT_ALREADY);
		for (size_t i = 0; i < c->n; i++)
			if (c->v[i].bye && c->v[i].exact) {
				*replace_bye = c->v[i].lineno;
				break;
			}
		return ST_OK;
	}
	int n = pick(c, 0, fuzzy, addr);
	if (n < 0)
		return status_why(err, ST_DATAERR, "ambiguous address: it matches several members");
	if (n == 0)
		return status_why(err, ST_DATAERR, MEMBERSEDIT_NOT_MEMBER);
	if (op == MEM_CHADDR) {
		for (size_t i = 0; i < c->n; i++)
			if (c->v[i].which == 1 && !c->v[i].bye && !is_target(c, c->v[i].lineno))
				return status_why(err, ST_DATAERR,
						  "the new address is already a member");
	}
	int todo = 0;
	for (size_t i = 0; i < c->n; i++) {
		cand *k = &c->v[i];
		if (k->which != 2)
			continue;
		int change = op == MEM_OFF	? !k->off || (arg && *arg)
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
		return status_why(err, ST_DATAERR, "%s",
				  (size_t)op < (sizeof already / sizeof already[0]) && already[op]
				      ? already[op]
				      : "nothing to do");
	}
	return ST_OK;
}

/* The line an add writes: "ADDR[ ARG]". */
static void new_entry(str *out, const char *addr, const char *arg)
{
	str_puts(out, addr);
	if (arg && *arg) {
		str_putc(out, ' ');
		str_puts(out, arg);
	}
}

/* Write BUF with the planned changes to DIR/FILE through safefile. */
static fml_status rewrite(const char *dir, const char *file, const char *path, const str *buf,
			  const cands *c, membersedit_op op, const char *addr, const char *arg,
			  long replace_bye, const struct stat *old)
{
	char prefix[128];
	safefile sf;
	member_entry e;
	str out = STR_INIT;
	lines it;
	const char *line;
	size_t len, eol;
	long lineno = 0;
	fml_status st = ST_OK;

	if (fs_path(prefix, sizeof prefix, ".%s.tmp", file) < 0 ||
	    safefile_open(&sf, dir, prefix) != ST_OK)
		return ST_TEMPFAIL;
	if (old && fchmod(sf.fd, old->st_mode & 0755) < 0)
		msg_warn("chmod %s: %s", sf.tmp, strerror(errno));
	members_entry_init(&e);
	lines_init(&it, str_c(buf), buf->len);
	while (st == ST_OK && next_line(&it, &line, &len, &eol)) {
		lineno++;
		str_clear(&out);
		if (lineno == replace_bye) {
			new_entry(&out, addr, arg);
		} else if (is_target(c, lineno) && members_parse_line(line, len, &e, NULL, NULL)) {
			change_entry(&e, op, arg);
			members_format(&out, &e);
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
		new_entry(&out, addr, arg);
		str_putc(&out, '\n');
		st = safefile_write(&sf, out.s, out.len);
	}
	members_entry_free(&e);
	str_free(&out);
	if (st != ST_OK) {
		safefile_abort(&sf);
		return ST_TEMPFAIL;
	}
	st = safefile_commit(&sf, path);
	if (st == ST_OK)
		membersjournal_forget(dir, file); /* a new inode: no append follows it */
	return st;
}

static int same_stat(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* Append "ADDR[ ARG]" to DIR/FILE through the journal; the index follows. */
static fml_status append(const char *dir, const char *file, const char *addr, const char *arg,
			 int fuzzy)
{
	str line = STR_INIT;
	struct stat before, after;
	new_entry(&line, addr, arg);
	str_putc(&line, '\n');
	fml_status st = membersjournal_append(dir, file, line.s, line.len, &before, &after);
	if (st == ST_OK) {
		membersdb_update(dir, file, fuzzy, &before, &after, NULL, 0, &addr, 1, NULL, 0);
		membersjournal_done(dir, file);
	}
	str_free(&line);
	return st;
}

/* The index after a rewrite: the keys of the addresses that left (unless
 * another live line keeps the same key) and of the one that came. */
static void follow(const char *dir, const char *file, int fuzzy, const cands *c, membersedit_op op,
		   const char *addr, const char *arg, long replace_bye, const struct stat *before,
		   const struct stat *after)
{
	const char **del = mem_reallocarray(NULL, c->n + 1, sizeof *del);
	const char *add = NULL;
	size_t ndel = 0;
	if (op == MEM_BYE || op == MEM_CHADDR) {
		for (size_t i = 0; i < c->n; i++) {
			const cand *k = &c->v[i];
			int kept = 0;
			if (k->which != 2)
				continue;
			for (size_t m = 0; m < c->n && !kept; m++)
				kept = c->v[m].which != 2 && c->v[m].which != 1 && !c->v[m].bye &&
				       addr_match(c->v[m].addr.s, k->addr.s, fuzzy);
			if (!kept)
				del[ndel++] = k->addr.s;
		}
	}
	if (op == MEM_CHADDR)
		add = arg;
	else if (op == MEM_ADD && replace_bye)
		add = addr;
	/* every line a bye touched gets its hint, kept or not */
	size_t nbye = 0;
	const char **bye = mem_reallocarray(NULL, c->n + 1, sizeof *bye);
	for (size_t i = 0; op == MEM_BYE && i < c->n; i++)
		if (c->v[i].which == 2)
			bye[nbye++] = c->v[i].addr.s;
	membersdb_update(dir, file, fuzzy, before, after, del, ndel, &add, add ? 1 : 0, bye, nbye);
	free(del);
	free(bye);
}

fml_status membersedit_apply(const char *dir, const char *file, membersedit_op op, const char *addr,
			     const char *arg, int fuzzy, str *err)
{
	char path[PATH_MAX];
	str buf = STR_INIT;
	cands c = {NULL, 0, 0};
	struct stat old, now;
	long replace_bye;
	fml_status st;

	str_clear(err);
	if (fuzzy < 0)
		fuzzy = 0;
	if ((st = members_path(path, sizeof path, dir, file)) != ST_OK)
		return status_why(err, st, "bad member file name");
	if ((st = check_args(op, addr, arg, err)) != ST_OK)
		return st;
	if ((st = membersjournal_recover(dir, file)) != ST_OK)
		return status_why(err, st, "cannot recover %s", file);
	int exists = stat(path, &old) == 0;
	/* an add asks the index when it is fresh: no read of the whole file */
	int known = op == MEM_ADD && exists ? membersdb_probe(dir, file, addr, fuzzy, &old) : -1;
	if (known < 0 && op == MEM_ADD && exists && membersdb_reindex(dir, file, fuzzy) == ST_OK &&
	    stat(path, &old) == 0) /* once, so the next adds are O(1) too */
		known = membersdb_probe(dir, file, addr, fuzzy, &old);
	if (known == 1)
		return status_why(err, ST_DATAERR, MEMBERSEDIT_ALREADY);
	/* known == 2: a ##BYE line to replace, found by reading the file */
	if (known == 0 || (op == MEM_ADD && !exists)) {
		st = append(dir, file, addr, arg && *arg ? arg : NULL, fuzzy);
		return st == ST_OK ? st : status_why(err, st, "cannot append to %s", file);
	}
	st = fs_read(path, &buf, 0);
	if (st == ST_NOINPUT)
		st = ST_OK;
	if (st != ST_OK) {
		str_free(&buf);
		return status_why(err, st, "cannot read %s", file);
	}
	struct stat read_st; /* a hand edit between the stat and the read: no update */
	int steady = exists && stat(path, &read_st) == 0 && same_stat(&old, &read_st);
	const char *addrs[2] = {addr, op == MEM_CHADDR ? arg : NULL};
	collect(&buf, addrs, fuzzy, &c);
	st = plan(&c, op, addr, arg, fuzzy, &replace_bye, err);
	if (st == ST_OK && op == MEM_ADD && !replace_bye) {
		st = append(dir, file, addr, arg && *arg ? arg : NULL, fuzzy);
		if (st != ST_OK)
			status_why(err, st, "cannot append to %s", file);
	} else if (st == ST_OK) {
		st = rewrite(dir, file, path, &buf, &c, op, addr, arg, replace_bye,
			     exists ? &old : NULL);
		if (st != ST_OK)
			status_why(err, st, "cannot rewrite %s", file);
		else if (steady && stat(path, &now) == 0)
			follow(dir, file, fuzzy, &c, op, addr, arg, replace_bye, &old, &now);
	}
	cands_free(&c);
	str_free(&buf);
	return st;
}

/* ---- bye for many */

typedef struct keyed {
	str key;
	size_t i;
} keyed;

static int keyed_cmp(const void *a, const void *b)
{
	const keyed *x = a, *y = b;
	return strcmp(x->key.s, y->key.s);
}

fml_status membersedit_bye_many(const char *dir, const char *file, const char *const *addrs,
				const unsigned char *want, size_t n, int fuzzy, unsigned char *hit)
{
	char path[PATH_MAX], prefix[128];
	str buf = STR_INIT, out = STR_INIT, k = STR_INIT;
	struct stat old, now;
	fml_status st;
	keyed *v = mem_reallocarray(NULL, n ? n : 1, sizeof *v);
	size_t nv = 0;
	const char **gone = NULL;
	size_t ngone = 0;
	member_entry e;
	members_entry_init(&e);
	memset(hit, 0, n);
	if ((st = members_path(path, sizeof path, dir, file)) != ST_OK ||
	    (st = membersjournal_recover(dir, file)) != ST_OK)
		goto out;
	if (stat(path, &old) < 0 || (st = fs_read(path, &buf, 0)) != ST_OK) {
		st = errno == ENOENT || st == ST_NOINPUT ? ST_OK : ST_TEMPFAIL;
		goto out;
	}
	struct stat read_st; /* a hand edit between the stat and the read: no update */
	int steady = stat(path, &read_st) == 0 && same_stat(&old, &read_st);
	for (size_t i = 0; i < n; i++)
		if (want[i]) {
			str_init(&v[nv].key);
			membersdb_key(&v[nv].key, addrs[i], 0);
			v[nv++].i = i;
		}
	qsort(v, nv, sizeof *v, keyed_cmp);
	/* which lines: a live entry of a wanted address */
	lines it;
	const char *line;
	size_t len, eol;
	long lineno = 0;
	unsigned char *mark = NULL;
	size_t nmark = 0;
	for (lines_init(&it, str_c(&buf), buf.len); next_line(&it, &line, &len, &eol);) {
		lineno++;
		mark = mem_reallocarray(mark, (size_t)lineno, 1);
		mark[lineno - 1] = 0;
		if (!members_parse_line(line, len, &e, NULL, NULL) || e.bye)
			continue;
		keyed want_k = {STR_INIT, 0};
		membersdb_key(&want_k.key, e.addr.s, 0);
		keyed *f = bsearch(&want_k, v, nv, sizeof *v, keyed_cmp);
		str_free(&want_k.key);
		if (f) {
			mark[lineno - 1] = 1;
			hit[f->i] = 1;
			gone = mem_reallocarray(gone, ngone + 1, sizeof *gone);
			gone[ngone++] = addrs[f->i];
			nmark++;
		}
	}
	if (nmark == 0)
		goto out_mark;
	safefile sf;
	if (fs_path(prefix, sizeof prefix, ".%s.tmp", file) < 0 ||
	    safefile_open(&sf, dir, prefix) != ST_OK) {
		st = ST_TEMPFAIL;
		goto out_mark;
	}
	if (fchmod(sf.fd, old.st_mode & 0755) < 0)
		msg_warn("chmod %s: %s", sf.tmp, strerror(errno));
	lineno = 0;
	for (lines_init(&it, str_c(&buf), buf.len);
	     st == ST_OK && next_line(&it, &line, &len, &eol);) {
		if (!mark[lineno++] || !members_parse_line(line, len, &e, NULL, NULL)) {
			st = safefile_write(&sf, line, len + eol);
			continue;
		}
		str_clear(&out);
		change_entry(&e, MEM_BYE, NULL);
		members_format(&out, &e);
		str_append(&out, eol ? line + len : "\n", eol ? eol : 1);
		st = safefile_write(&sf, out.s, out.len);
	}
	if (st != ST_OK) {
		safefile_abort(&sf);
		st = ST_TEMPFAIL;
		goto out_mark;
	}
	if ((st = safefile_commit(&sf, path)) == ST_OK) {
		membersjournal_forget(dir, file); /* a new inode: no append follows it */
		if (steady && stat(path, &now) == 0)
			membersdb_update(dir, file, fuzzy, &old, &now, gone, ngone, NULL, 0, gone,
					 ngone);
	}
out_mark:
	free(mark);
out:
	for (size_t i = 0; i < nv; i++)
		str_free(&v[i].key);
	free(v);
	free(gone);
	members_entry_free(&e);
	str_free(&buf);
	str_free(&out);
	str_free(&k);
	return st;
}
