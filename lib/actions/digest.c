/*
 * digest: fml's msend rebuilt: the digests of the members in digest mode
 * and their state.  See digest.h for the protocol.
 *
 * A plan is made from actives, seq and the state: every digest member that
 * is due and has articles past its LAST joins the item of its (FROM, mode);
 * members with the same range and format share one queue item (split into
 * parts at DIGEST_SIZE_LIMIT, each part a queue item "NAME.P").  Members
 * not due keep their LAST; a member new to digest mode without a state
 * line starts at the current last article (digest_set() writes the line
 * when the switch happens, so nothing posted since then is missed); lines
 * of addresses no longer in digest mode are dropped.
 *
 * Failure policy: anything that cannot be read or written is ST_TEMPFAIL
 * and leaves the state as it was (or digest.run, finished next time); an
 * item whose articles have all vanished is logged and skipped.
 */
#include "digest.h"
#include "mail/addr.h"
#include "list/bundle.h"
#include "cmd/cmdparse.h"
#include "distribute.h"
#include "list/members.h"
#include "util/msg.h"
#include "queue/qitem.h"
#include "rewrite.h"
#include "util/safefile.h"
#include "util/date.h"
#include "util/fs.h"

#include <errno.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define STATE_FILE "var/db/digest"
#define RUN_FILE "var/db/digest.run"
#define PROGRESS_EVERY 4096

/* One queue item to make (and its parts). */
typedef struct ditem {
	char name[96];
	bundle_mode mode;
	long from, to;
	str rcpts; /* NUL-separated */
	size_t n;
} ditem;

static void ditem_free(gpointer p)
{
	ditem *it = p;
	str_free(&it->rcpts);
	g_free(it);
}

static ditem *ditem_new(GPtrArray *items, bundle_mode mode, long from, long to)
{
	ditem *it = g_new0(ditem, 1);
	it->mode = mode;
	it->from = from;
	it->to = to;
	str_init(&it->rcpts);
	g_ptr_array_add(items, it);
	return it;
}

static void ditem_add(ditem *it, const char *addr)
{
	str_append(&it->rcpts, addr, strlen(addr) + 1);
	it->n++;
}

int digest_due(int n, int hour)
{
	if (hour <= 0)
		hour = 24;
	return n > 0 && (hour % n == 0 || (n > 24 && hour == n - 24));
}

/* ================================================================ files */

static GHashTable *state_new(void)
{
	return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}

static void state_put(GHashTable *h, const char *addr, long last)
{
	g_hash_table_insert(h, g_strdup(addr), GSIZE_TO_POINTER((gsize)last));
}

static int state_get(GHashTable *h, const char *addr, long *last)
{
	gpointer v;
	if (!g_hash_table_lookup_extended(h, addr, NULL, &v))
		return 0;
	*last = (long)GPOINTER_TO_SIZE(v);
	return 1;
}

static int state_path(const char *dir, const char *name, char *buf, size_t size)
{
	return fs_path(buf, size, "%s/%s", dir, name);
}

/* Read a state or run file: "ADDR LAST" lines into STATE, "item NAME MODE
 * FROM TO" and "to ADDR" lines into ITEMS (when not NULL).  A missing file
 * is empty; a malformed line is skipped with a warning. */
static fml_status state_load(const char *path, GHashTable *state, GPtrArray *items)
{
	FILE *f = fopen(path, "re");
	char *line = NULL, w[4][256];
	size_t cap = 0;
	ssize_t len;
	long lineno = 0;
	ditem *cur = NULL;

	if (!f) {
		if (errno == ENOENT)
			return ST_OK;
		msg_error("open %s: %s", path, strerror(errno));
		return ST_TEMPFAIL;
	}
	while ((len = getline(&line, &cap, f)) > 0) {
		lineno++;
		long a, b;
		bundle_mode m;
		char end;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (len < 600 &&
		    sscanf(line, "item %95s %15s %ld %ld %c", w[0], w[1], &a, &b, &end) == 4 &&
		    bundle_mode_parse(w[1], &m) && a > 0 && b >= a) {
			if (items) {
				cur = ditem_new(items, m, a, b);
				g_strlcpy(cur->name, w[0], sizeof cur->name);
			}
		} else if (len < 600 && sscanf(line, "to %255s %c", w[0], &end) == 1) {
			if (cur && !addr_check(w[0], strlen(w[0])))
				ditem_add(cur, w[0]);
		} else if (len < 600 && sscanf(line, "%255s %ld %c", w[0], &a, &end) == 2 &&
			   a >= 0 && strchr(w[0], '@')) {
			state_put(state, w[0], a);
		} else {
			msg_warn("%s:%ld: malformed line skipped", path, lineno);
		}
	}
	int bad = ferror(f);
	free(line);
	fclose(f);
	if (bad) {
		msg_error("read %s: %s", path, strerror(errno));
		return ST_TEMPFAIL;
	}
	return ST_OK;
}

static gint by_str(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Write STATE (and ITEMS, for a run file) as DIR/NAME, durably. */
static fml_status state_write(const char *home, const char *name, GHashTable *state,
			      GPtrArray *items)
{
	char dir[4096], final[4096];
	safefile sf;
	str s = STR_INIT;

	if (fs_path(dir, sizeof dir, "%s/var/db", home) < 0 ||
	    state_path(home, name, final, sizeof final) < 0 ||
	    safefile_open(&sf, dir, ".tmp.digest") != ST_OK)
		return ST_TEMPFAIL;
	str_puts(&s, "# fmldigest: ADDR LAST (the last article sent to ADDR in a digest)\n");
	for (guint i = 0; items && i < items->len; i++) {
		const ditem *it = g_ptr_array_index(items, i);
		str_printf(&s, "item %s %s %ld %ld\n", it->name, bundle_mode_name(it->mode),
			   it->from, it->to);
		for (const char *p = it->rcpts.s; p && p < it->rcpts.s + it->rcpts.len;
		     p += strlen(p) + 1)
			str_printf(&s, "to %s\n", p);
	}
	guint n;
	gpointer *keys = g_hash_table_get_keys_as_array(state, &n);
	qsort(keys, n, sizeof *keys, (int (*)(const void *, const void *))by_str);
	fml_status st = safefile_write(&sf, s.s, s.len);
	for (guint i = 0; i < n && st == ST_OK; i++) {
		long last = 0;
		state_get(state, keys[i], &last);
		str_clear(&s);
		str_printf(&s, "%s %ld\n", (const char *)keys[i], last);
		st = safefile_write(&sf, s.s, s.len);
	}
	g_free(keys);
	str_free(&s);
	if (st == ST_OK)
		return safefile_commit(&sf, final);
	safefile_abort(&sf);
	return ST_TEMPFAIL;
}

/* ================================================================ items */

static fml_status qsink(void *arg, const void *p, size_t n)
{
	return qitem_write(arg, p, n);
}

/* The header of part P of IT, up to the MIME fields bundle_write() adds. */
static void part_header(proc_ctx *c, const ditem *it, const bundle *b, size_t p, str *h)
{
	const char *ml = config_str(c->cf, CF_MAIL_LIST);
	size_t first = p ? b->part_end[p - 1] : 0, end = b->part_end[p];
	char date[64];

	date_rfc5322(c->now, date, sizeof date);
	str_printf(h, "From: %s\nTo: %s\nReply-To: %s\n", ml, ml, ml);
	str_printf(h, "Subject: %s Digest, articles %ld-%ld", config_get(c->cf, "ML_NAME"),
		   b->arts[first], b->arts[end - 1]);
	if (b->nparts > 1)
		str_printf(h, " (%zu/%zu)", p + 1, b->nparts);
	str_printf(h, "\nDate: %s\nMessage-ID: <%ld.%s.%zu@%s>\n", date, (long)c->now, it->name,
		   p + 1, config_str(c->cf, CF_DOMAINNAME));
	if (*config_str(c->cf, CF_XMLNAME))
		str_printf(h, "%s\n", config_str(c->cf, CF_XMLNAME));
	rewrite_list_fields(c->cf, "\n", h);
	str_puts(h, "Precedence: list\nMIME-Version: 1.0\n");
}

/* Queue part P of IT as NAME.P+1 unless a queue item of that name exists
 * (made before a crash). */
static fml_status part_make(proc_ctx *c, const ditem *it, article_store *as, const bundle *b,
			    size_t p)
{
	const char *qdir = config_str(c->cf, CF_QUEUE_DIR);
	char name[128];
	qitem_writer w;
	str h = STR_INIT;

	snprintf(name, sizeof name, "%s.%zu", it->name, p + 1);
	if (qitem_exists(qdir, name))
		return ST_OK;
	if (qitem_begin(&w, qdir, name) != ST_OK)
		return ST_TEMPFAIL;
	part_header(c, it, b, p, &h);
	fml_status st = qitem_envelope(&w, config_str(c->cf, CF_MAINTAINER),
				       config_get(c->cf, "ML_NAME"), 0, it->rcpts.s, it->n);
	if (st == ST_OK)
		st = qitem_write(&w, h.s, h.len);
	if (st == ST_OK)
		st = bundle_write(b, p, it->mode, as, config_get(c->cf, "ML_NAME"), qsink, &w);
	str_free(&h);
	if (st == ST_OK)
		st = qitem_commit(&w);
	else
		qitem_abort(&w);
	return st;
}

/* Make the queue items of IT that are not there yet. */
static fml_status item_make(proc_ctx *c, const ditem *it)
{
	artrange r;
	bundle b;
	long iv[1][2] = {{it->from, it->to}};

	if (c->debug) {
		msg_info("debug: would send a digest of articles %ld-%ld to %zu member(s)",
			 it->from, it->to, it->n);
		return ST_OK;
	}
	artrange_init(&r);
	r.iv = iv;
	r.n = 1;
	article_store as; /* expired articles come from the archive */
	article_store_init(&as, config_str(c->cf, CF_SPOOL_DIR), config_str(c->cf, CF_ARCHIVE_DIR));
	fml_status st = bundle_plan(&as, &r, config_int(c->cf, CF_DIGEST_SIZE_LIMIT), &b);
	if (st != ST_OK) {
		article_store_free(&as);
		return st;
	}
	if (b.n == 0)
		msg_warn("digest %s: articles %ld-%ld are gone; nothing sent", it->name, it->from,
			 it->to);
	for (size_t p = 0; p < b.nparts && st == ST_OK; p++)
		st = part_make(c, it, &as, &b, p);
	if (st == ST_OK && b.n)
		msg_info("digest %s: articles %ld-%ld (%s, %zu part%s) to %zu member(s)", it->name,
			 it->from, it->to, bundle_mode_name(it->mode), b.nparts,
			 b.nparts == 1 ? "" : "s", it->n);
	bundle_free(&b);
	article_store_free(&as);
	return st;
}

/* Make every item of ITEMS, then let the run file become the state. */
static fml_status items_finish(proc_ctx *c, GPtrArray *items, int progress)
{
	char run[4096], state[4096], dir[4096];
	fml_status st = ST_OK;

	for (guint i = 0; i < items->len && st == ST_OK; i++) {
		st = item_make(c, g_ptr_array_index(items, i));
		if (progress)
			fprintf(stderr, "\r%s: digest %u/%u", config_get(c->cf, "ML_NAME"), i + 1,
				items->len);
	}
	if (progress && items->len)
		fputc('\n', stderr);
	if (st != ST_OK)
		return st;
	if (state_path(c->dir, RUN_FILE, run, sizeof run) < 0 ||
	    state_path(c->dir, STATE_FILE, state, sizeof state) < 0 ||
	    fs_path(dir, sizeof dir, "%s/var/db", c->dir) < 0)
		return ST_TEMPFAIL;
	if (rename(run, state) < 0) {
		msg_error("rename %s: %s", run, strerror(errno));
		return ST_TEMPFAIL;
	}
	return fs_fsync_dir(dir);
}

fml_status digest_recover(proc_ctx *c)
{
	char run[4096];
	if (state_path(c->dir, RUN_FILE, run, sizeof run) < 0)
		return ST_TEMPFAIL;
	if (!fs_exists(run))
		return ST_OK;
	GHashTable *ignored = state_new();
	GPtrArray *items = g_ptr_array_new_with_free_func(ditem_free);
	fml_status st = state_load(run, ignored, items);
	if (st == ST_OK) {
		msg_warn("finishing an interrupted digest run (%u item%s)", items->len,
			 items->len == 1 ? "" : "s");
		st = items_finish(c, items, 0);
	}
	g_hash_table_destroy(ignored);
	g_ptr_array_free(items, TRUE);
	return st;
}

/* ================================================================ plan */

typedef struct plan {
	proc_ctx *c;
	const digest_opts *o;
	long seq;
	GHashTable *state; /* as it was */
	GHashTable *next;  /* as it will be */
	GPtrArray *items;
	GHashTable *groups; /* "FROM MODE" -> ditem */
	int changed;
	long members, due;
} plan;

/* The format of a member's m=N[MODE]. */
static bundle_mode member_mode(proc_ctx *c, const char *m)
{
	bundle_mode mode = BM_MP;
	if (!*m)
		m = config_str(c->cf, CF_DIGEST_DEFAULT_MODE);
	if (!bundle_mode_parse(m, &mode))
		msg_warn("digest mode \"%s\" is not supported; sending mp", m);
	return mode;
}

static int plan_member(const member_entry *e, void *arg)
{
	plan *pl = arg;
	const char *addr = str_c(&e->addr);
	long last;

	if (e->bye || e->off || e->skip || e->digest <= 0 || addr_check(addr, e->addr.len) ||
	    g_hash_table_contains(pl->next, addr))
		return 0;
	if (!state_get(pl->state, addr, &last) || last > pl->seq) {
		last = pl->seq;
		pl->changed = 1;
	}
	if (pl->o->progress && ++pl->members % PROGRESS_EVERY == 0)
		fprintf(stderr, "\r%s: %ld digest members", config_get(pl->c->cf, "ML_NAME"),
			pl->members);
	if (last >= pl->seq || !(pl->o->force || digest_due(e->digest, pl->o->hour))) {
		state_put(pl->next, addr, last);
		return 0;
	}
	bundle_mode mode = member_mode(pl->c, e->digest_mode);
	char key[64];
	snprintf(key, sizeof key, "%ld %d", last + 1, (int)mode);
	ditem *it = g_hash_table_lookup(pl->groups, key);
	if (!it) {
		it = ditem_new(pl->items, mode, last + 1, pl->seq);
		snprintf(it->name, sizeof it->name, "dg%ld.%d.%u", (long)pl->c->now, (int)getpid(),
			 pl->items->len);
		g_hash_table_insert(pl->groups, g_strdup(key), it);
	}
	ditem_add(it, addr);
	state_put(pl->next, addr, pl->seq);
	pl->changed = 1;
	pl->due++;
	if (pl->o->dry)
		fprintf(pl->o->dry, "%s: articles %ld-%ld, %s\n", addr, last + 1, pl->seq,
			bundle_mode_name(mode));
	return 0;
}

static void plan_free(plan *pl)
{
	g_hash_table_destroy(pl->state);
	g_hash_table_destroy(pl->next);
	g_hash_table_destroy(pl->groups);
	g_ptr_array_free(pl->items, TRUE);
}

fml_status digest_run(proc_ctx *c, const digest_opts *o, long *nitems)
{
	char path[4096];
	plan pl = {.c = c, .o = o};
	fml_status st = ST_OK;

	if (nitems)
		*nitems = 0;
	if (!o->dry && (st = digest_recover(c)) != ST_OK)
		return st;
	pl.seq = distribute_seq(c);
	pl.state = state_new();
	pl.next = state_new();
	pl.groups = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	pl.items = g_ptr_array_new_with_free_func(ditem_free);
	/* a dry run after a crash shows the state the interrupted run made */
	if (state_path(c->dir, RUN_FILE, path, sizeof path) < 0 ||
	    (!(o->dry && fs_exists(path)) &&
	     state_path(c->dir, STATE_FILE, path, sizeof path) < 0) ||
	    (st = state_load(path, pl.state, NULL)) != ST_OK ||
	    fs_path(path, sizeof path, "%s/actives", c->dir) < 0 ||
	    (st = members_foreach(path, plan_member, &pl)) != ST_OK)
		goto done;
	if (o->progress && pl.members >= PROGRESS_EVERY)
		fputc('\n', stderr);
	if (g_hash_table_size(pl.next) != g_hash_table_size(pl.state))
		pl.changed = 1;
	if (o->dry) {
		fprintf(o->dry, "%ld member(s) due, %u digest(s), last article %ld\n", pl.due,
			pl.items->len, pl.seq);
	} else if (c->debug) {
		for (guint i = 0; i < pl.items->len; i++)
			item_make(c, g_ptr_array_index(pl.items, i));
	} else if (pl.items->len) {
		/* the commit point: from here on the next run finishes this one */
		if ((st = state_write(c->dir, RUN_FILE, pl.next, pl.items)) == ST_OK)
			st = items_finish(c, pl.items, o->progress);
	} else if (pl.changed) {
		st = state_write(c->dir, STATE_FILE, pl.next, NULL);
	}
	if (nitems && st == ST_OK && !o->dry)
		*nitems = pl.items->len;
done:
	plan_free(&pl);
	return st;
}

/* ================================================================ switching */

/* Mail ADDR what was pending for it (articles after LAST) at once. */
static fml_status rehash(proc_ctx *c, const member_entry *e, long last, long seq)
{
	ditem it = {.mode = member_mode(c, e->digest_mode), .from = last + 1, .to = seq};
	gchar *h = g_compute_checksum_for_string(G_CHECKSUM_SHA256, str_c(&e->addr), -1);

	/* a name fixed by who and what: a rerun after a crash finds it */
	snprintf(it.name, sizeof it.name, "dr%.16s.%ld-%ld", h, last + 1, seq);
	g_free(h);
	str_init(&it.rcpts);
	ditem_add(&it, str_c(&e->addr));
	fml_status st = item_make(c, &it);
	str_free(&it.rcpts);
	return st;
}

fml_status digest_set(proc_ctx *c, const char *addr, const char *spec, str *err)
{
	char path[4096];
	member_entry e; /* ADDR's actives entry */
	long last, seq = distribute_seq(c);
	int n, found = 0;
	char mode[16];
	fml_status st;

	if (!spec || !digeststate_spec(spec, &n, mode)) {
		str_sets(err, "bad digest argument: N[mode] expected (0 to stop)");
		return ST_DATAERR;
	}
	GHashTable *state = state_new();
	members_entry_init(&e);
	if ((st = digest_recover(c)) != ST_OK ||
	    fs_path(path, sizeof path, "%s/actives", c->dir) < 0 ||
	    (found = members_find(path, addr, (int)config_int(c->cf, CF_ADDR_CHECK_MAX), &e)) < 0 ||
	    state_path(c->dir, STATE_FILE, path, sizeof path) < 0 ||
	    (st = state_load(path, state, NULL)) != ST_OK) {
		st = st == ST_OK ? ST_TEMPFAIL : st;
		goto done;
	}
	const char *who = str_c(&e.addr);
	int was = found && e.digest > 0;
	if (found && n > 0 && !was && !c->debug) {
		/* the state first: from now on, articles are this member's */
		state_put(state, who, seq);
		if ((st = state_write(c->dir, STATE_FILE, state, NULL)) != ST_OK)
			goto done;
	}
	if (was && n == 0 && !e.off && !e.skip && state_get(state, who, &last) && last < seq &&
	    (st = rehash(c, &e, last, seq)) != ST_OK)
		goto done;
	st = members_edit(c->dir, "actives", MEM_DIGEST, addr, spec,
			  (int)config_int(c->cf, CF_ADDR_CHECK_MAX), err);
	if (st == ST_OK && was && n == 0 && !c->debug && g_hash_table_remove(state, who))
		st = state_write(c->dir, STATE_FILE, state, NULL);
done:
	g_hash_table_destroy(state);
	members_entry_free(&e);
	return st;
}

fml_status digest_chaddr(const char *dir, const char *from, const char *to)
{
	static const char *const files[] = {STATE_FILE, RUN_FILE};
	char path[4096];
	fml_status st = ST_OK;

	for (size_t i = 0; i < 2 && st == ST_OK; i++) {
		GHashTable *state = state_new();
		GPtrArray *items = g_ptr_array_new_with_free_func(ditem_free);
		GHashTableIter it;
		gpointer key, val;
		int found = 0;
		if (state_path(dir, files[i], path, sizeof path) < 0)
			st = ST_TEMPFAIL;
		else if (fs_exists(path) && (st = state_load(path, state, items)) == ST_OK) {
			g_hash_table_iter_init(&it, state);
			while (!found && g_hash_table_iter_next(&it, &key, &val))
				if ((found = addr_equal(key, from)))
					g_hash_table_iter_remove(&it);
		}
		if (found) {
			state_put(state, to, (long)GPOINTER_TO_SIZE(val));
			st = state_write(dir, files[i], state, i ? items : NULL);
		}
		g_hash_table_destroy(state);
		g_ptr_array_free(items, TRUE);
	}
	return st;
}
