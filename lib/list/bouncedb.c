/*
 * bouncedb: the bounce records of a list.  See bouncedb.h.
 * Failure policy: I/O trouble is logged and ST_TEMPFAIL; a malformed line
 * is skipped (logged once per load).
 */
#include "bouncedb.h"
#include "mail/addr.h"
#include "util/fs.h"
#include "util/lines.h"
#include "util/msg.h"
#include "util/safefile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BOUNCEDB_READ_MAX (512L * 1024 * 1024)

static int db_path(const char *dir, char *buf, size_t size)
{
	return fs_path(buf, size, "%s/var/db/bounces", dir);
}

static size_t hash(const char *s)
{
	size_t h = 5381;
	for (; *s; s++)
		h = h * 33 + (unsigned char)*s;
	return h;
}

/* R[I] into the index (grown, and rebuilt, when it is half full). */
static void index_add(bouncedb *db, size_t i)
{
	if (2 * (i + 1) >= db->tabsize) {
		size_t want = db->tabsize ? 2 * db->tabsize : 64;
		while (2 * (i + 1) >= want)
			want *= 2;
		free(db->tab);
		db->tab = malloc(want * sizeof *db->tab);
		if (!db->tab)
			abort();
		db->tabsize = want;
		for (size_t k = 0; k < want; k++)
			db->tab[k] = (size_t)-1;
		for (size_t k = 0; k < i; k++)
			index_add(db, k);
	}
	size_t h = hash(db->r[i].addr) & (db->tabsize - 1);
	while (db->tab[h] != (size_t)-1)
		h = (h + 1) & (db->tabsize - 1);
	db->tab[h] = i;
}

/* The index of ADDR (normalized) in DB, or DB->n. */
static size_t find(const bouncedb *db, const char *addr)
{
	if (!db->tabsize)
		return db->n;
	for (size_t h = hash(addr) & (db->tabsize - 1); db->tab[h] != (size_t)-1;
	     h = (h + 1) & (db->tabsize - 1))
		if (strcmp(db->r[db->tab[h]].addr, addr) == 0)
			return db->tab[h];
	return db->n;
}

/* R into DB: replaces the record of its address, or is added. */
static void store(bouncedb *db, const bounce_rec *r)
{
	size_t i = find(db, r->addr);
	if (i < db->n) {
		db->r[i] = *r;
		return;
	}
	db->r = realloc(db->r, (db->n + 1) * sizeof *db->r);
	if (!db->r)
		abort();
	db->r[db->n] = *r;
	index_add(db, db->n++);
}

static int parse_line(const char *l, size_t n, bounce_rec *r)
{
	char buf[1024];
	if (n >= sizeof buf || n == 0 || l[0] == '#')
		return 0;
	memcpy(buf, l, n);
	buf[n] = 0;
	long long last, acted;
	int end = 0;
	memset(r, 0, sizeof *r);
	if (sscanf(buf, "%255s %lf %ld %lld %15s %11s %d %lld %127s%n", r->addr, &r->score, &r->day,
		   &last, r->status, r->state, &r->warned, &acted, r->item, &end) != 9 ||
	    buf[end] != 0)
		return 0;
	r->last = (time_t)last;
	r->acted = (time_t)acted;
	return 1;
}

fml_status bouncedb_load(const char *dir, bouncedb *db)
{
	char path[4096];
	str text = STR_INIT;
	memset(db, 0, sizeof *db);
	if (db_path(dir, path, sizeof path) < 0)
		return ST_TEMPFAIL;
	fml_status st = fs_read(path, &text, BOUNCEDB_READ_MAX);
	if (st == ST_NOINPUT)
		return ST_OK;
	if (st != ST_OK) {
		str_free(&text);
		return ST_TEMPFAIL;
	}
	lines it;
	const char *l;
	size_t k, bad = 0;
	lines_init(&it, text.s, text.len);
	while (lines_next(&it, &l, &k)) {
		bounce_rec r;
		if (!it.nl) /* torn by a crash */
			break;
		db->lines++;
		if (parse_line(l, k, &r))
			store(db, &r);
		else if (k && l[0] != '#')
			bad++;
	}
	if (bad)
		msg_warn("%s: %zu malformed line(s) skipped", path, bad);
	str_free(&text);
	return ST_OK;
}

void bouncedb_free(bouncedb *db)
{
	free(db->r);
	free(db->tab);
	memset(db, 0, sizeof *db);
}

bounce_rec *bouncedb_get(bouncedb *db, const char *addr)
{
	str a = STR_INIT;
	str_sets(&a, addr);
	addr_normalize(&a);
	size_t i = find(db, str_c(&a));
	str_free(&a);
	return i < db->n && strcmp(db->r[i].state, "-") != 0 ? &db->r[i] : NULL;
}

static void format(const bounce_rec *r, str *out)
{
	str_printf(out, "%s %g %ld %lld %s %s %d %lld %s\n", r->addr, r->score, r->day,
		   (long long)r->last, r->status[0] ? r->status : "-", r->state, r->warned,
		   (long long)r->acted, r->item[0] ? r->item : "-");
}

void bouncedb_put(bouncedb *db, const bounce_rec *r, str *out)
{
	bounce_rec c = *r;
	str a = STR_INIT;
	str_sets(&a, c.addr);
	addr_normalize(&a);
	snprintf(c.addr, sizeof c.addr, "%s", str_c(&a));
	str_free(&a);
	format(&c, out);
	store(db, &c);
	db->lines++;
}

/* The file rewritten with one line per record (taken-back ones dropped). */
static fml_status compact(const char *path, const bouncedb *db)
{
	str all = STR_INIT;
	size_t n = 0;
	str_puts(&all,
		 "# fml bounce records: ADDR SCORE DAY LAST STATUS STATE WARNED ACTED ITEM\n");
	for (size_t i = 0; i < db->n; i++)
		if (strcmp(db->r[i].state, "-") != 0) {
			format(&db->r[i], &all);
			n++;
		}
	fml_status st = safefile_replace(path, all.s, all.len, 1);
	if (st == ST_OK)
		msg_info("%s rewritten: %zu record(s)", path, n);
	str_free(&all);
	return st;
}

fml_status bouncedb_append(const char *dir, bouncedb *db, const str *add)
{
	char path[4096];
	if (db_path(dir, path, sizeof path) < 0)
		return ST_TEMPFAIL;
	if (add->len && fs_append_sync(path, add->s, add->len) != ST_OK)
		return ST_TEMPFAIL;
	/* the records are durable either way: a failed rewrite is only
	 * logged, and tried again after the next append */
	if (db->lines > 1000 && db->lines > 4 * db->n && compact(path, db) == ST_OK)
		db->lines = db->n + 1;
	return ST_OK;
}
