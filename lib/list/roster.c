/*
 * roster: add, bye and chaddr over members and actives.  See roster.h.
 * actives is edited first when adding, since it also judges the option
 * words: a bad option refuses the whole add before anything changed.
 *
 * A bulk add (roster_add_many) judges every line as a single add would
 * (address policy, option words, "already a member" through the indexes,
 * a second line for the same address, MAX_MEMBER_LIMIT), then appends the
 * accepted lines to actives and to members in one journaled append each
 * (one fsync each) and updates each index in one pass.  Refused lines are
 * reported with their numbers and the others are still added: an admin
 * importing a list fixes the few bad lines and feeds them again, and
 * "already a member" makes a second run of the same input harmless.
 */
#include "roster.h"
#include "digeststate.h"
#include "mail/addr.h"
#include "util/fs.h"
#include "util/lines.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/safefile.h"
#include "membersdb.h"
#include "membersedit.h"
#include "membersjournal.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int is(const str *err, const char *what)
{
	return strcmp(str_c(err), what) == 0;
}

static void set_where(str *where, fml_status sm, fml_status sa)
{
	str_clear(where);
	str_printf(where, "%s%s%s", sm == ST_OK ? "members" : "",
		   sm == ST_OK && sa == ST_OK ? " and " : "", sa == ST_OK ? "actives" : "");
}

fml_status roster_check_limit(const char *dir, const config *cf, str *err)
{
	char path[PATH_MAX];
	long n = 0, limit = (long)config_int(cf, CF_MAX_MEMBER_LIMIT);
	if (limit <= 0 || fs_path(path, sizeof path, "%s/members", dir) < 0)
		return ST_OK;
	if (members_count(path, &n) != ST_OK)
		return ST_TEMPFAIL;
	if (n < limit)
		return ST_OK;
	return status_why(err, ST_DATAERR, "the list is full (MAX_MEMBER_LIMIT %ld)", limit);
}

fml_status roster_add(const char *dir, const config *cf, const char *addr, const char *opts,
		      str *err, str *where)
{
	int fuzzy = (int)config_int(cf, CF_ADDR_CHECK_MAX);
	const char *why = addr_check(addr, strlen(addr));
	str e2 = STR_INIT;
	fml_status st;

	if (why)
		return status_why(err, ST_DATAERR, "bad address: %s", why);
	if ((st = roster_check_limit(dir, cf, err)) != ST_OK)
		return st;
	fml_status sa = membersedit_apply(dir, "actives", MEM_ADD, addr,
					  opts && *opts ? opts : NULL, fuzzy, err);
	if (sa != ST_OK && !(sa == ST_DATAERR && is(err, MEMBERSEDIT_ALREADY)))
		return sa;
	fml_status sm = membersedit_apply(dir, "members", MEM_ADD, addr, NULL, fuzzy, &e2);
	if (sm != ST_OK && !(sm == ST_DATAERR && is(&e2, MEMBERSEDIT_ALREADY))) {
		str_set(err, e2.s, e2.len);
		st = sm;
	} else if (sa != ST_OK && sm != ST_OK) {
		st = ST_DATAERR; /* already in both: ERR says so */
	} else {
		set_where(where, sm, sa);
		st = ST_OK;
	}
	str_free(&e2);
	return st;
}

fml_status roster_both(const char *dir, const config *cf, membersedit_op op, const char *addr,
		       const char *arg, str *err, str *where)
{
	int fuzzy = (int)config_int(cf, CF_ADDR_CHECK_MAX);
	str e2 = STR_INIT;
	fml_status sm = membersedit_apply(dir, "members", op, addr, arg, fuzzy, err);
	if (sm != ST_OK && !(sm == ST_DATAERR && is(err, MEMBERSEDIT_NOT_MEMBER)))
		return sm;
	fml_status sa = membersedit_apply(dir, "actives", op, addr, arg, fuzzy, &e2);
	fml_status st = ST_OK;
	if (sa != ST_OK && !(sa == ST_DATAERR && is(&e2, MEMBERSEDIT_NOT_MEMBER))) {
		str_set(err, e2.s, e2.len);
		st = sa;
	} else if (sm != ST_OK && sa != ST_OK) {
		st = ST_DATAERR;
	} else {
		set_where(where, sm, sa);
		if (sa == ST_OK && op == MEM_CHADDR)
			st = digeststate_chaddr(dir, addr, arg);
	}
	str_free(&e2);
	return st;
}

/* ---- bulk add */

#define BULK_REINDEX 4096 /* lines: from here a rebuild is cheaper than updating */

typedef struct item {
	long lineno;
	const char *addr; /* NUL-terminated copies in the batch's arena */
	const char *opts;
	const char *why; /* refused: the reason, else NULL */
} item;

typedef struct batch {
	item *v;
	size_t n, cap;
	str arena;   /* addr\0opts\0 ... (offsets until the arena is final) */
	str reasons; /* reason\0 ... */
	size_t *aoff, *ooff, *roff;
} batch;

static size_t arena_put(str *a, const char *p, size_t n)
{
	size_t off = a->len;
	str_append(a, p, n);
	str_putc(a, 0);
	return off;
}

static void batch_refuse(batch *b, size_t i, const char *why, const char *detail)
{
	str r = STR_INIT;
	str_printf(&r, "%s%s", why, detail);
	b->roff[i] = arena_put(&b->reasons, r.s, r.len) + 1; /* 0 = not refused */
	str_free(&r);
}

static int is_blank(int c)
{
	return c == ' ' || c == '\t';
}

/* One line of the input into the batch (or nothing: blank, comment). */
static void batch_line(batch *b, const char *line, size_t len, long lineno)
{
	const char *p = line, *end = line + len, *why;
	str opts = STR_INIT, e = STR_INIT;
	if (end > p && end[-1] == '\r')
		end--;
	while (p < end && is_blank(*p))
		p++;
	while (end > p && is_blank(end[-1]))
		end--;
	if (p == end || *p == '#')
		return;
	if (b->n == b->cap) {
		b->cap = b->cap ? 2 * b->cap : 1024;
		b->v = mem_reallocarray(b->v, b->cap, sizeof *b->v);
		b->aoff = mem_reallocarray(b->aoff, b->cap, sizeof *b->aoff);
		b->ooff = mem_reallocarray(b->ooff, b->cap, sizeof *b->ooff);
		b->roff = mem_reallocarray(b->roff, b->cap, sizeof *b->roff);
	}
	size_t i = b->n++;
	b->v[i].lineno = lineno;
	b->roff[i] = 0;
	const char *a = p;
	while (p < end && !is_blank(*p))
		p++;
	size_t alen = (size_t)(p - a);
	b->aoff[i] = arena_put(&b->arena, a, alen);
	for (;;) { /* the option words, one blank apart, as a single add joins them */
		while (p < end && is_blank(*p))
			p++;
		if (p == end)
			break;
		const char *w = p;
		while (p < end && !is_blank(*p))
			p++;
		if (opts.len)
			str_putc(&opts, ' ');
		str_append(&opts, w, (size_t)(p - w));
	}
	b->ooff[i] = arena_put(&b->arena, opts.s ? opts.s : "", opts.len);
	/* a tab between the words is a blank; any other control byte is not */
	int ctl = 0;
	for (const char *q = line; q < end; q++)
		ctl |= *q != '\t' && members_has_ctl(q, 1);
	if (ctl)
		batch_refuse(b, i, "control character", "");
	else if ((why = addr_check(a, alen)))
		batch_refuse(b, i, "bad address: ", why);
	else if (opts.len && members_opts_problem(str_c(&opts), &e))
		batch_refuse(b, i, str_c(&e), "");
	str_free(&opts);
	str_free(&e);
}

/* Refuse the second and later lines of one address (the same index key):
 * an open-addressing table of the keys, kept in one arena. */
static void batch_dedupe(batch *b, int fuzzy)
{
	size_t cap = 16;
	while (cap < 2 * b->n)
		cap *= 2;
	size_t *slot = mem_reallocarray(NULL, cap, sizeof *slot); /* item + 1, 0 = empty */
	size_t *koff = mem_reallocarray(NULL, b->n + 1, sizeof *koff);
	str keys = STR_INIT, key = STR_INIT;
	memset(slot, 0, cap * sizeof *slot);
	for (size_t i = 0; i < b->n; i++) {
		koff[i] = keys.len;
		if (b->v[i].why)
			continue;
		membersdb_key(&key, b->v[i].addr, fuzzy);
		str_append(&keys, key.s, key.len);
		str_putc(&keys, 0);
		uint64_t h = 14695981039346656037ULL;
		for (size_t k = 0; k < key.len; k++)
			h = (h ^ (unsigned char)key.s[k]) * 1099511628211ULL;
		for (size_t j = (size_t)h & (cap - 1);; j = (j + 1) & (cap - 1)) {
			if (!slot[j]) {
				slot[j] = i + 1;
				break;
			}
			if (strcmp(keys.s + koff[slot[j] - 1], str_c(&key)) == 0) {
				b->v[i].why = "listed twice in the input";
				break;
			}
		}
	}
	str_free(&keys);
	str_free(&key);
	free(koff);
	free(slot);
}

/* Which of the batch's addresses FILE already has: PRESENT[i] 1.  The
 * index is made fresh first (one rebuild at most). */
static fml_status batch_known(const char *dir, const char *file, int fuzzy, const batch *b,
			      const char **addrs, unsigned char *present)
{
	char path[PATH_MAX];
	struct stat st;
	fml_status s;
	memset(present, 0, b->n);
	if ((s = membersjournal_recover(dir, file)) != ST_OK ||
	    (s = members_path(path, sizeof path, dir, file)) != ST_OK)
		return s;
	if (stat(path, &st) < 0) {
		if (errno == ENOENT)
			return ST_OK;
		msg_error("stat %s: %s", path, strerror(errno));
		return ST_TEMPFAIL;
	}
	if (!membersdb_fresh(dir, file, fuzzy) &&
	    ((s = membersdb_reindex(dir, file, fuzzy)) != ST_OK || stat(path, &st) < 0))
		return ST_TEMPFAIL;
	if (membersdb_probe_many(dir, file, fuzzy, &st, addrs, b->n, present) < 0) {
		msg_error("%s: no usable index for a bulk add", path);
		return ST_TEMPFAIL;
	}
	for (size_t i = 0; i < b->n; i++)
		present[i] = present[i] == 1;
	return ST_OK;
}

/* Append the new lines of FILE (MINE[i] set) and bring its index along. */
static fml_status batch_append(const char *dir, const char *file, int fuzzy, const batch *b,
			       const unsigned char *mine, int with_opts)
{
	str data = STR_INIT;
	const char **added = mem_reallocarray(NULL, b->n ? b->n : 1, sizeof *added);
	size_t nadded = 0;
	struct stat before, after;
	for (size_t i = 0; i < b->n; i++) {
		if (!mine[i])
			continue;
		str_puts(&data, b->v[i].addr);
		if (with_opts && *b->v[i].opts) {
			str_putc(&data, ' ');
			str_puts(&data, b->v[i].opts);
		}
		str_putc(&data, '\n');
		added[nadded++] = b->v[i].addr;
	}
	fml_status st = ST_OK;
	if (nadded) {
		st = membersjournal_append(dir, file, data.s, data.len, &before, &after);
		if (st == ST_OK) {
			/* a large import is indexed afresh (buckets sized for the new
			 * total); a small one updates the buckets it touches */
			if (nadded < BULK_REINDEX)
				membersdb_update(dir, file, fuzzy, &before, &after, NULL, 0, added,
						 nadded, NULL, 0);
			membersjournal_done(dir, file);
			/* no index yet (a file made by this add) or a large import: one
			 * pass now, not at the first post */
			if (!membersdb_fresh(dir, file, fuzzy))
				(void)membersdb_reindex(dir, file, fuzzy);
		}
	}
	free(added);
	str_free(&data);
	return st;
}

fml_status roster_add_many(const char *dir, const config *cf, const char *text, size_t len,
			   roster_refuse_fn refuse, void *arg, long *nadded)
{
	int fuzzy = (int)config_int(cf, CF_ADDR_CHECK_MAX);
	long limit = (long)config_int(cf, CF_MAX_MEMBER_LIMIT), count = 0;
	batch b;
	lines it;
	const char *line;
	size_t n;
	long lineno = 0, refused = 0;
	char path[PATH_MAX];
	fml_status st = ST_OK;

	memset(&b, 0, sizeof b);
	str_init(&b.arena);
	str_init(&b.reasons);
	*nadded = 0;
	if (fuzzy < 0)
		fuzzy = 0;
	for (lines_init(&it, text, len); lines_next(&it, &line, &n);)
		batch_line(&b, line, n, ++lineno);
	/* the arena is final: pointers into it now */
	const char **addrs = mem_reallocarray(NULL, b.n ? b.n : 1, sizeof *addrs);
	for (size_t i = 0; i < b.n; i++) {
		b.v[i].addr = addrs[i] = b.arena.s + b.aoff[i];
		b.v[i].opts = b.arena.s + b.ooff[i];
		b.v[i].why = b.roff[i] ? b.reasons.s + b.roff[i] - 1 : NULL;
	}
	batch_dedupe(&b, fuzzy);
	unsigned char *in_a = mem_reallocarray(NULL, b.n ? b.n : 1, 1);
	unsigned char *in_m = mem_reallocarray(NULL, b.n ? b.n : 1, 1);
	if ((st = batch_known(dir, "actives", fuzzy, &b, addrs, in_a)) != ST_OK ||
	    (st = batch_known(dir, "members", fuzzy, &b, addrs, in_m)) != ST_OK)
		goto out;
	if (limit > 0 && (fs_path(path, sizeof path, "%s/members", dir) < 0 ||
			  members_count(path, &count) != ST_OK)) {
		st = ST_TEMPFAIL;
		goto out;
	}
	for (size_t i = 0; i < b.n; i++) {
		if (!b.v[i].why && in_a[i] && in_m[i])
			b.v[i].why = MEMBERSEDIT_ALREADY;
		else if (!b.v[i].why && !in_m[i] && limit > 0 && count >= limit)
			b.v[i].why = "the list is full (MAX_MEMBER_LIMIT)";
		else if (!b.v[i].why && !in_m[i])
			count++;
		if (b.v[i].why) {
			in_a[i] = in_m[i] = 1; /* nothing to append */
			refused++;
			refuse(b.v[i].lineno, b.v[i].addr, b.v[i].why, arg);
		} else {
			(*nadded)++;
		}
		in_a[i] = !in_a[i]; /* now: to append */
		in_m[i] = !in_m[i];
	}
	if ((st = batch_append(dir, "actives", fuzzy, &b, in_a, 1)) == ST_OK)
		st = batch_append(dir, "members", fuzzy, &b, in_m, 0);
	if (st != ST_OK)
		*nadded = 0;
	else if (refused)
		st = ST_DATAERR;
out:
	free(in_a);
	free(in_m);
	free(addrs);
	free(b.v);
	free(b.aoff);
	free(b.ooff);
	free(b.roff);
	str_free(&b.arena);
	str_free(&b.reasons);
	return st;
}

typedef struct keyed_addr {
	str key;
	size_t i;
} keyed_addr;

/* by key, then by input order (qsort is not stable) */
static int dup_cmp(const void *a, const void *b)
{
	const keyed_addr *x = a, *y = b;
	int c = strcmp(x->key.s, y->key.s);
	return c ? c : x->i < y->i ? -1 : x->i > y->i;
}

fml_status roster_bye_many(const char *dir, const config *cf, const char *text, size_t len,
			   roster_refuse_fn refuse, void *arg, long *nremoved)
{
	int fuzzy = (int)config_int(cf, CF_ADDR_CHECK_MAX);
	str arena = STR_INIT;
	size_t n = 0, *off = NULL;
	long *lineno = NULL, ln = 0, refused = 0;
	lines it;
	const char *line;
	size_t l;
	*nremoved = 0;
	if (fuzzy < 0)
		fuzzy = 0;
	/* the first word of each line that is not blank nor a comment */
	for (lines_init(&it, text, len); lines_next(&it, &line, &l);) {
		ln++;
		const char *p = line, *end = line + l;
		while (p < end && (is_blank(*p) || *p == '\r'))
			p++;
		if (p == end || *p == '#')
			continue;
		size_t w = 0;
		while (p + w < end && !is_blank(p[w]) && p[w] != '\r')
			w++;
		const char *why = addr_check(p, w);
		str a = STR_INIT;
		str_append(&a, p, w);
		if (why) {
			refuse(ln, a.s, "bad address", arg);
			refused++;
		} else {
			off = mem_reallocarray(off, n + 1, sizeof *off);
			lineno = mem_reallocarray(lineno, n + 1, sizeof *lineno);
			off[n] = arena_put(&arena, a.s, a.len);
			lineno[n++] = ln;
		}
		str_free(&a);
	}
	const char **addrs = mem_reallocarray(NULL, n ? n : 1, sizeof *addrs);
	unsigned char *want = mem_reallocarray(NULL, n ? n : 1, 1);
	unsigned char *in_a = mem_reallocarray(NULL, n ? n : 1, 1);
	unsigned char *in_m = mem_reallocarray(NULL, n ? n : 1, 1);
	/* a second line for an address: the first one's (sorted by key) */
	keyed_addr *d = mem_reallocarray(NULL, n ? n : 1, sizeof *d);
	for (size_t i = 0; i < n; i++) {
		addrs[i] = arena.s + off[i];
		want[i] = 1;
		str_init(&d[i].key);
		membersdb_key(&d[i].key, addrs[i], 0);
		d[i].i = i;
	}
	qsort(d, n, sizeof *d, dup_cmp);
	for (size_t i = 1; i < n; i++)
		if (strcmp(d[i].key.s, d[i - 1].key.s) == 0)
			want[d[i].i] = 0; /* the sort keeps input order among equals */
	for (size_t i = 0; i < n; i++)
		str_free(&d[i].key);
	free(d);
	fml_status st = membersedit_bye_many(dir, "actives", addrs, want, n, fuzzy, in_a);
	if (st == ST_OK)
		st = membersedit_bye_many(dir, "members", addrs, want, n, fuzzy, in_m);
	for (size_t i = 0; st == ST_OK && i < n; i++) {
		if (want[i] && (in_a[i] || in_m[i])) {
			(*nremoved)++;
		} else {
			refuse(lineno[i], addrs[i],
			       want[i] ? MEMBERSEDIT_NOT_MEMBER : "the same address again", arg);
			refused++;
		}
	}
	if (st == ST_OK && refused)
		st = ST_DATAERR;
	free(addrs);
	free(want);
	free(in_a);
	free(in_m);
	free(off);
	free(lineno);
	str_free(&arena);
	return st;
}
