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
#include "distribute.h"
#include "rewrite.h"
#include "queue/qitem.h"
#include "list/bundle.h"
#include "list/bundlewrite.h"
#include "list/digeststate.h"
#include "list/members.h"
#include "list/seq.h"
#include "mail/addr.h"
#include "util/date.h"
#include "util/fs.h"
#include "util/msg.h"
#include "util/safefile.h"
#include "list/membersedit.h"

#include <errno.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PROGRESS_EVERY 4096

int digest_due(int n, int hour)
{
	if (hour <= 0)
		hour = 24;
	return n > 0 && (hour % n == 0 || (n > 24 && hour == n - 24));
}

/* ================================================================ items */

static fml_status qsink(void *arg, const void *p, size_t n)
{
	return qitem_write(arg, p, n);
}

/* The header of part P of IT, up to the MIME fields bundlewrite() adds. */
static void part_header(action_ctx *c, const digeststate_item *it, const bundle *b, size_t p,
			str *h)
{
	const char *ml = config_str(c->l.cf, CF_MAIL_LIST);
	size_t first = p ? b->part_end[p - 1] : 0, end = b->part_end[p];
	char date[64];

	date_rfc5322(c->l.now, date, sizeof date);
	str_printf(h, "From: %s\nTo: %s\nReply-To: %s\n", ml, ml, ml);
	str_printf(h, "Subject: %s Digest, articles %ld-%ld", config_get(c->l.cf, "ML_NAME"),
		   b->arts[first], b->arts[end - 1]);
	if (b->nparts > 1)
		str_printf(h, " (%zu/%zu)", p + 1, b->nparts);
	str_printf(h, "\nDate: %s\nMessage-ID: <%ld.%s.%zu@%s>\n", date, (long)c->l.now, it->name,
		   p + 1, config_str(c->l.cf, CF_DOMAINNAME));
	if (*config_str(c->l.cf, CF_XMLNAME))
		str_printf(h, "%s\n", config_str(c->l.cf, CF_XMLNAME));
	rewrite_list_fields(c->l.cf, "\n", h);
	str_puts(h, "Precedence: list\nMIME-Version: 1.0\n");
}

/* Queue part P of IT as NAME.P+1 unless a queue item of that name exists
 * (made before a crash). */
static fml_status part_make(action_ctx *c, const digeststate_item *it, article_store *as,
			    const bundle *b, size_t p)
{
	const char *qdir = config_str(c->l.cf, CF_QUEUE_DIR);
	char name[128];
	qitem_writer w;
	str h = STR_INIT;

	snprintf(name, sizeof name, "%s.%zu", it->name, p + 1);
	if (qitem_exists(qdir, name))
		return ST_OK;
	if (qitem_begin(&w, qdir, name) != ST_OK)
		return ST_TEMPFAIL;
	part_header(c, it, b, p, &h);
	fml_status st = qitem_envelope(&w, config_str(c->l.cf, CF_BOUNCE_ADDRESS),
				       config_get(c->l.cf, "ML_NAME"), 0, it->rcpts.s, it->n);
	if (st == ST_OK)
		st = qitem_write(&w, h.s, h.len);
	if (st == ST_OK)
		st = bundlewrite(b, p, it->mode, as, config_get(c->l.cf, "ML_NAME"), qsink, &w);
	str_free(&h);
	if (st == ST_OK)
		st = qitem_commit(&w);
	else
		qitem_abort(&w);
	return st;
}

/* Make the queue items of IT that are not there yet. */
static fml_status item_make(action_ctx *c, const digeststate_item *it)
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
	article_store_init(&as, config_str(c->l.cf, CF_SPOOL_DIR),
			   config_str(c->l.cf, CF_ARCHIVE_DIR));
	fml_status st = bundle_plan(&as, &r, config_int(c->l.cf, CF_DIGEST_SIZE_LIMIT), &b);
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
static fml_status items_finish(action_ctx *c, GPtrArray *items, int progress)
{
	char run[4096], state[4096], dir[4096];
	fml_status st = ST_OK;

	for (guint i = 0; i < items->len && st == ST_OK; i++) {
		st = item_make(c, g_ptr_array_index(items, i));
		if (progress)
			fprintf(stderr, "\r%s: digest %u/%u", config_get(c->l.cf, "ML_NAME"), i + 1,
				items->len);
	}
	if (progress && items->len)
		fputc('\n', stderr);
	if (st != ST_OK)
		return st;
	if (digeststate_path(c->l.dir, DIGESTSTATE_RUN, run, sizeof run) < 0 ||
	    digeststate_path(c->l.dir, DIGESTSTATE_FILE, state, sizeof state) < 0 ||
	    fs_path(dir, sizeof dir, "%s/var/db", c->l.dir) < 0)
		return ST_TEMPFAIL;
	if (rename(run, state) < 0) {
		msg_error("rename %s: %s", run, strerror(errno));
		return ST_TEMPFAIL;
	}
	return fs_fsync_dir(dir);
}

fml_status digest_recover(action_ctx *c)
{
	char run[4096];
	if (digeststate_path(c->l.dir, DIGESTSTATE_RUN, run, sizeof run) < 0)
		return ST_TEMPFAIL;
	if (!fs_exists(run))
		return ST_OK;
	GHashTable *ignored = digeststate_new();
	GPtrArray *items = g_ptr_array_new_with_free_func(digeststate_item_free);
	fml_status st = digeststate_load(run, ignored, items);
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
	action_ctx *c;
	const digest_opts *o;
	long seq;
	GHashTable *state; /* as it was */
	GHashTable *next;  /* as it will be */
	GPtrArray *items;
	GHashTable *groups; /* "FROM MODE" -> digeststate_item */
	int changed;
	long members, due;
} plan;

/* The format of a member's m=N[MODE]. */
static bundle_mode member_mode(action_ctx *c, const char *m)
{
	bundle_mode mode = BM_MP;
	if (!*m)
		m = config_str(c->l.cf, CF_DIGEST_DEFAULT_MODE);
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
	if (!digeststate_get(pl->state, addr, &last) || last > pl->seq) {
		last = pl->seq;
		pl->changed = 1;
	}
	if (pl->o->progress && ++pl->members % PROGRESS_EVERY == 0)
		fprintf(stderr, "\r%s: %ld digest members", config_get(pl->c->l.cf, "ML_NAME"),
			pl->members);
	if (last >= pl->seq || !(pl->o->force || digest_due(e->digest, pl->o->hour))) {
		digeststate_put(pl->next, addr, last);
		return 0;
	}
	bundle_mode mode = member_mode(pl->c, e->digest_mode);
	char key[64];
	snprintf(key, sizeof key, "%ld %d", last + 1, (int)mode);
	digeststate_item *it = g_hash_table_lookup(pl->groups, key);
	if (!it) {
		it = digeststate_item_new(pl->items, mode, last + 1, pl->seq);
		/* unique across runs to the microsecond (a later run in the
		 * same second may get the same pid back), fixed once written in
		 * digest.run */
		char base[64];
		qitem_unique_name("dg", base, sizeof base);
		snprintf(it->name, sizeof it->name, "%s.%u", base, pl->items->len);
		g_hash_table_insert(pl->groups, g_strdup(key), it);
	}
	digeststate_item_add(it, addr);
	digeststate_put(pl->next, addr, pl->seq);
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

fml_status digest_run(action_ctx *c, const digest_opts *o, long *nitems)
{
	char path[4096];
	plan pl = {.c = c, .o = o};
	fml_status st = ST_OK;

	if (nitems)
		*nitems = 0;
	if (!o->dry && (st = digest_recover(c)) != ST_OK)
		return st;
	pl.seq = seq_last(c->l.dir);
	pl.state = digeststate_new();
	pl.next = digeststate_new();
	pl.groups = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	pl.items = g_ptr_array_new_with_free_func(digeststate_item_free);
	/* a dry run after a crash shows the state the interrupted run made */
	if (digeststate_path(c->l.dir, DIGESTSTATE_RUN, path, sizeof path) < 0 ||
	    (!(o->dry && fs_exists(path)) &&
	     digeststate_path(c->l.dir, DIGESTSTATE_FILE, path, sizeof path) < 0) ||
	    (st = digeststate_load(path, pl.state, NULL)) != ST_OK ||
	    fs_path(path, sizeof path, "%s/actives", c->l.dir) < 0 ||
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
		if ((st = digeststate_write(c->l.dir, DIGESTSTATE_RUN, pl.next, pl.items)) == ST_OK)
			st = items_finish(c, pl.items, o->progress);
	} else if (pl.changed) {
		st = digeststate_write(c->l.dir, DIGESTSTATE_FILE, pl.next, NULL);
	}
	if (nitems && st == ST_OK && !o->dry)
		*nitems = pl.items->len;
done:
	plan_free(&pl);
	return st;
}

/* ================================================================ switching */

/* Mail ADDR what was pending for it (articles after LAST) at once. */
static fml_status rehash(action_ctx *c, const member_entry *e, long last, long seq)
{
	digeststate_item it = {.mode = member_mode(c, e->digest_mode), .from = last + 1, .to = seq};
	gchar *h = g_compute_checksum_for_string(G_CHECKSUM_SHA256, str_c(&e->addr), -1);

	/* a name fixed by who and what: a rerun after a crash finds it */
	snprintf(it.name, sizeof it.name, "dr%.16s.%ld-%ld", h, last + 1, seq);
	g_free(h);
	str_init(&it.rcpts);
	digeststate_item_add(&it, str_c(&e->addr));
	fml_status st = item_make(c, &it);
	str_free(&it.rcpts);
	return st;
}

fml_status digest_set(action_ctx *c, const char *addr, const char *spec, str *err)
{
	char path[4096];
	member_entry e; /* ADDR's actives entry */
	long last, seq = seq_last(c->l.dir);
	int n, found = 0;
	char mode[16];
	fml_status st;

	if (!spec || !digeststate_spec(spec, &n, mode))
		return status_why(err, ST_DATAERR,
				  "bad digest argument: N[mode] expected (0 to stop)");
	GHashTable *state = digeststate_new();
	members_entry_init(&e);
	if ((st = digest_recover(c)) != ST_OK ||
	    fs_path(path, sizeof path, "%s/actives", c->l.dir) < 0 ||
	    (found = members_find(path, addr, (int)config_int(c->l.cf, CF_ADDR_CHECK_MAX), &e)) <
		0 ||
	    digeststate_path(c->l.dir, DIGESTSTATE_FILE, path, sizeof path) < 0 ||
	    (st = digeststate_load(path, state, NULL)) != ST_OK) {
		st = st == ST_OK ? ST_TEMPFAIL : st;
		goto done;
	}
	const char *who = str_c(&e.addr);
	int was = found && e.digest > 0;
	if (found && n > 0 && !was && !c->debug) {
		/* the state first: from now on, articles are this member's */
		digeststate_put(state, who, seq);
		if ((st = digeststate_write(c->l.dir, DIGESTSTATE_FILE, state, NULL)) != ST_OK)
			goto done;
	}
	if (was && n == 0 && !e.off && !e.skip && digeststate_get(state, who, &last) &&
	    last < seq && (st = rehash(c, &e, last, seq)) != ST_OK)
		goto done;
	st = membersedit_apply(c->l.dir, "actives", MEM_DIGEST, addr, spec,
			       (int)config_int(c->l.cf, CF_ADDR_CHECK_MAX), err);
	if (st == ST_OK && was && n == 0 && !c->debug && g_hash_table_remove(state, who))
		st = digeststate_write(c->l.dir, DIGESTSTATE_FILE, state, NULL);
done:
	g_hash_table_destroy(state);
	members_entry_free(&e);
	return st;
}
