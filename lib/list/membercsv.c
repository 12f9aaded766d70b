/*
 * membercsv: members as CSV.  See membercsv.h.
 */
#include "membercsv.h"
#include "bouncedb.h"
#include "members.h"
#include "membersdb.h"
#include "membersedit.h"
#include "vacation.h"
#include "util/mem.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- export */

typedef struct row {
	str key, addr, name, digest, until;
	int member, active, off, skip;
} row;

typedef struct rows {
	row *v;
	size_t n, cap;
	size_t *tab; /* open addressing by key: index + 1 */
	size_t tabsize;
} rows;

static size_t hash(const char *s)
{
	size_t h = 5381;
	for (; *s; s++)
		h = h * 33 + (unsigned char)*s;
	return h;
}

static row *find_or_add(rows *r, const char *addr)
{
	str key = STR_INIT;
	membersdb_key(&key, addr, 0);
	if (2 * (r->n + 1) > r->tabsize) {
		size_t ns = r->tabsize ? 2 * r->tabsize : 1024;
		free(r->tab);
		r->tab = mem_calloc(ns, sizeof *r->tab);
		r->tabsize = ns;
		for (size_t i = 0; i < r->n; i++) {
			size_t h = hash(r->v[i].key.s) & (ns - 1);
			while (r->tab[h])
				h = (h + 1) & (ns - 1);
			r->tab[h] = i + 1;
		}
	}
	size_t h = hash(key.s) & (r->tabsize - 1);
	for (; r->tab[h]; h = (h + 1) & (r->tabsize - 1))
		if (strcmp(r->v[r->tab[h] - 1].key.s, key.s) == 0) {
			str_free(&key);
			return &r->v[r->tab[h] - 1];
		}
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 256;
		r->v = mem_reallocarray(r->v, r->cap, sizeof *r->v);
	}
	row *x = &r->v[r->n];
	memset(x, 0, sizeof *x);
	x->key = key;
	str_sets(&x->addr, addr);
	r->tab[h] = ++r->n;
	return x;
}

static int take(const member_entry *e, void *arg, int active)
{
	if (e->bye)
		return 0;
	row *x = find_or_add(arg, str_c(&e->addr));
	if (active) {
		char until[11];
		x->active = 1;
		x->off = e->off;
		x->skip = e->skip;
		if (e->digest)
			str_printf(&x->digest, "%d%s", e->digest, e->digest_mode);
		if (e->off && members_until(e, until))
			str_sets(&x->until, until);
	} else {
		x->member = 1;
	}
	if (!x->name.len && e->comment.len)
		str_set(&x->name, e->comment.s, e->comment.len);
	return 0;
}

static int take_member(const member_entry *e, void *arg)
{
	return take(e, arg, 0);
}

static int take_active(const member_entry *e, void *arg)
{
	return take(e, arg, 1);
}

/* S as a CSV field */
static void field(FILE *out, const char *s, int last)
{
	if (strpbrk(s, ",\"\r\n")) {
		fputc('"', out);
		for (; *s; s++) {
			if (*s == '"')
				fputc('"', out);
			fputc(*s, out);
		}
		fputc('"', out);
	} else {
		fputs(s, out);
	}
	fputs(last ? "\r\n" : ",", out);
}

fml_status membercsv_export(const char *dir, FILE *out, long *n)
{
	char path[PATH_MAX];
	rows r = {0};
	bouncedb db;
	*n = 0;
	fml_status st = members_path(path, sizeof path, dir, "actives");
	if (st == ST_OK)
		st = members_foreach(path, take_active, &r);
	if (st == ST_OK && (st = members_path(path, sizeof path, dir, "members")) == ST_OK)
		st = members_foreach(path, take_member, &r);
	if (st == ST_OK)
		st = bouncedb_load(dir, &db);
	if (st == ST_OK) {
		fputs("address,name,mode,digest,bounce,date\r\n", out);
		for (size_t i = 0; i < r.n; i++) {
			row *x = &r.v[i];
			const char *mode = !x->active	? "post-only"
					   : !x->member ? "receive-only"
					   : x->off	? "off"
					   : x->skip	? "skip"
							: "normal";
			str b = STR_INIT;
			bounce_rec *br = bouncedb_get(&db, x->addr.s);
			if (br)
				str_printf(&b, "%g %s", br->score, br->state);
			field(out, x->addr.s, 0);
			field(out, str_c(&x->name), 0);
			field(out, mode, 0);
			field(out, str_c(&x->digest), 0);
			field(out, str_c(&b), 0);
			field(out, str_c(&x->until), 1);
			str_free(&b);
			(*n)++;
		}
		bouncedb_free(&db);
	}
	for (size_t i = 0; i < r.n; i++) {
		str *f[] = {&r.v[i].key, &r.v[i].addr, &r.v[i].name, &r.v[i].digest, &r.v[i].until};
		for (size_t k = 0; k < 5; k++)
			str_free(f[k]);
	}
	free(r.v);
	free(r.tab);
	return ferror(out) ? ST_TEMPFAIL : st;
}

/* ---- import */

/* The fields of the CSV record at *P (before END) into F (at most NF);
 * *P past it.  Returns the number of fields, -1 for a broken quote. */
static int record(const char **p, const char *end, str *f, int nf, long *lineno)
{
	int k = 0;
	for (int i = 0; i < nf; i++)
		str_clear(&f[i]);
	const char *s = *p;
	for (;;) {
		str *cur = k < nf ? &f[k] : NULL;
		if (s < end && *s == '"') {
			s++;
			for (;;) {
				if (s >= end)
					return -1;
				if (*s == '"' && s + 1 < end && s[1] == '"') {
					if (cur)
						str_putc(cur, '"');
					s += 2;
				} else if (*s == '"') {
					s++;
					break;
				} else {
					if (*s == '\n')
						(*lineno)++;
					if (cur)
						str_putc(cur, *s);
					s++;
				}
			}
		} else {
			while (s < end && *s != ',' && *s != '\n' && *s != '\r') {
				if (cur)
					str_putc(cur, *s);
				s++;
			}
		}
		k++;
		if (s < end && *s == ',') {
			s++;
			continue;
		}
		if (s < end && *s == '\r')
			s++;
		if (s < end && *s == '\n')
			s++;
		break;
	}
	*p = s;
	return k;
}

typedef struct fix {
	str addr, until;
	int mode; /* 0 nothing, 1 off, 2 post-only, 3 receive-only */
	long lineno;
} fix;

typedef struct imp {
	roster_refuse_fn refuse;
	void *arg;
	long *map; /* line of the add-many text -> CSV line */
	size_t nmap;
	long *refused; /* the CSV lines of refused adds */
	size_t nrefused;
} imp;

static void refused_add(long lineno, const char *addr, const char *why, void *arg)
{
	imp *m = arg;
	long csv = lineno >= 1 && (size_t)lineno <= m->nmap ? m->map[lineno - 1] : lineno;
	m->refused = mem_reallocarray(m->refused, m->nrefused + 1, sizeof *m->refused);
	m->refused[m->nrefused++] = csv;
	m->refuse(csv, addr, why, m->arg);
}

fml_status membercsv_import(const char *dir, const config *cf, const char *text, size_t len,
			    roster_refuse_fn refuse, void *arg, long *nadded)
{
	str f[6] = {STR_INIT, STR_INIT, STR_INIT, STR_INIT, STR_INIT, STR_INIT};
	str lines = STR_INIT, err = STR_INIT;
	imp m = {refuse, arg, NULL, 0, NULL, 0};
	fix *fx = NULL;
	size_t nfx = 0;
	long lineno = 0, bad = 0;
	*nadded = 0;
	const char *p = text, *end = text + len;
	while (p < end) {
		long at = ++lineno;
		int k = record(&p, end, f, 6, &lineno);
		if (k < 0) {
			refuse(at, "", "a quote is not closed", arg);
			bad++;
			break;
		}
		if (k == 1 && f[0].len == 0)
			continue; /* an empty line */
		if (at == 1 && strcasecmp(str_c(&f[0]), "address") == 0)
			continue; /* the header */
		const char *mode = str_c(&f[2]);
		int fixmode = !*mode || strcmp(mode, "normal") == 0 || strcmp(mode, "skip") == 0 ? 0
			      : strcmp(mode, "off") == 0					 ? 1
			      : strcmp(mode, "post-only") == 0					 ? 2
			      : strcmp(mode, "receive-only") == 0				 ? 3
								  : -1;
		if (fixmode < 0 || strpbrk(str_c(&f[0]), " \t#") ||
		    (f[3].len && !members_digest_ok(f[3].s, f[3].len)) ||
		    (f[5].len && !members_date_ok(f[5].s, f[5].len)) ||
		    strchr(str_c(&f[1]), '\n')) {
			refuse(at, str_c(&f[0]),
			       fixmode < 0 ? "bad mode (normal, off, skip, post-only, receive-only)"
					   : "bad address, digest, date or name",
			       arg);
			bad++;
			continue;
		}
		/* post-only and receive-only: a member of that file already is one */
		if (fixmode >= 2) {
			char path[PATH_MAX];
			member_entry e;
			members_entry_init(&e);
			int is = members_path(path, sizeof path, dir,
					      fixmode == 2 ? "members" : "actives") == ST_OK
				     ? members_find(path, f[0].s, 0, &e)
				     : -1;
			members_entry_free(&e);
			if (is != 0) {
				refuse(at, str_c(&f[0]),
				       is > 0 ? MEMBERSEDIT_ALREADY : "cannot read", arg);
				bad++;
				continue;
			}
		}
		/* "ADDR [s=skip] [m=N] [# name]": a line of roster_add_many */
		str_puts(&lines, str_c(&f[0]));
		if (strcmp(mode, "skip") == 0)
			str_puts(&lines, " s=skip");
		if (f[3].len)
			str_printf(&lines, " m=%s", f[3].s);
		if (f[1].len)
			str_printf(&lines, " # %s", f[1].s);
		str_putc(&lines, '\n');
		m.map = mem_reallocarray(m.map, m.nmap + 1, sizeof *m.map);
		m.map[m.nmap++] = at;
		if (fixmode) {
			fx = mem_reallocarray(fx, nfx + 1, sizeof *fx);
			str_init(&fx[nfx].addr);
			str_init(&fx[nfx].until);
			str_sets(&fx[nfx].addr, f[0].s);
			str_sets(&fx[nfx].until, str_c(&f[5]));
			fx[nfx].mode = fixmode;
			fx[nfx++].lineno = at;
		}
	}
	fml_status st = roster_add_many(dir, cf, str_c(&lines), lines.len, refused_add, &m, nadded);
	int fuzzy = (int)config_int(cf, CF_ADDR_CHECK_MAX);
	for (size_t i = 0; st != ST_TEMPFAIL && i < nfx; i++) {
		int was_refused = 0;
		for (size_t r = 0; r < m.nrefused; r++)
			was_refused |= m.refused[r] == fx[i].lineno;
		if (was_refused)
			continue;
		fml_status s2 =
		    fx[i].mode == 1   ? membersedit_apply(dir, "actives", MEM_OFF, fx[i].addr.s,
							  str_c(&fx[i].until), fuzzy, &err)
		    : fx[i].mode == 2 ? membersedit_apply(dir, "actives", MEM_BYE, fx[i].addr.s,
							  NULL, fuzzy, &err)
				      : membersedit_apply(dir, "members", MEM_BYE, fx[i].addr.s,
							  NULL, fuzzy, &err);
		if (s2 == ST_TEMPFAIL)
			st = ST_TEMPFAIL;
	}
	/* an off row with a day: var/db/vacation learns it (one look at actives) */
	if (st != ST_TEMPFAIL && nfx && vacation_end_due(dir, cf, time(NULL), 1) == ST_TEMPFAIL)
		st = ST_TEMPFAIL;
	if (st == ST_OK && bad)
		st = ST_DATAERR;
	for (size_t i = 0; i < nfx; i++) {
		str_free(&fx[i].addr);
		str_free(&fx[i].until);
	}
	free(fx);
	free(m.map);
	free(m.refused);
	for (int i = 0; i < 6; i++)
		str_free(&f[i]);
	str_free(&lines);
	str_free(&err);
	return st;
}
