/*
 * bounce: a bounce analysed and acted on.  See bounce.h.
 *
 * Order, for crash safety: the records of an item are appended (fsynced)
 * after everything they cause is done (a member set off or removed, the
 * notices queued under names derived from the item, so that a rerun does
 * not queue them twice), and the item is removed by the caller after that.
 * A crash before the append reruns the item from the start and does the
 * same again (each step is idempotent); a crash after it finds the item's
 * name on its records and counts nothing twice.
 *
 * Failure policy: I/O trouble returns ST_TEMPFAIL before the append, and
 * the item waits for the next run.
 */
#include "bounce.h"
#include "reply.h"
#include "list/bouncedb.h"
#include "list/members.h"
#include "list/membersdb.h"
#include "list/membersedit.h"
#include "list/roster.h"
#include "mail/addr.h"
#include "mail/dsn.h"
#include "mail/verp.h"
#include "util/fs.h"
#include "util/lines.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/safefile.h"
#include "util/sha256.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define BOUNCE_READ_MAX (1024 * 1024) /* bytes of a bounce read */

/* Is ADDR the list's bounce address (verp_decode()): -1 when not. */
static int bounce_verp(action_ctx *c, const char *addr, str *member)
{
	return verp_decode(config_str(c->l.cf, CF_BOUNCE_ADDRESS),
			   config_str(c->l.cf, CF_VERP_DELIMITERS), addr, member);
}

/* ---------------------------------------------------------------- notices */

typedef struct naming {
	const char *id;
} naming;

/* The queue name of a mail this item makes: "b.ID.HASH" of its recipients
 * and subject, the same in a rerun (reply.c then skips it). */
static int reply_name(void *arg, const char *rcpts, size_t n, const char *subject, char *buf,
		      size_t size)
{
	const naming *nm = arg;
	sha256 h;
	char hex[SHA256_HEX];
	sha256_init(&h);
	const char *p = rcpts;
	for (size_t i = 0; p && i < n; i++, p += strlen(p) + 1)
		sha256_update(&h, p, strlen(p) + 1);
	sha256_update(&h, subject, strlen(subject));
	sha256_hex(&h, hex);
	int len = snprintf(buf, size, "b.%s.%.12s", nm->id, hex);
	return len > 0 && (size_t)len < size;
}

/* The member ADDR is told what was done and why (ACTION off or removed;
 * WARNING: the how-many-th reminder that delivery is off).  The
 * maintainer hears of it in the daily summary (bounce_daily). */
static fml_status tell(action_ctx *c, const char *addr, const char *action, int warning,
		       const bounce_rec *r, const char *diag)
{
	const char *list = config_str(c->l.cf, CF_MAIL_LIST);
	int off = strcmp(action, "off") == 0;
	str subj = STR_INIT, text = STR_INIT;
	if (strcmp(action, "reported") == 0)
		return ST_OK;
	str_printf(&subj, "%s%s %s", warning ? "Reminder: " : "",
		   off ? "Delivery to you is stopped" : "You are removed from",
		   config_str(c->l.cf, CF_ML_FN));
	str_printf(&text, "Mail from %s to you, %s, has been bouncing (last: %s %s).\n", list, addr,
		   r->status, diag);
	if (off)
		str_printf(&text,
			   "Delivery to you is stopped; you are still a member.\n"
			   "To receive the list again, send a mail with the line\n\n"
			   "    on\n\nto %s.\n",
			   config_str(c->l.cf, CF_CONTROL_ADDRESS));
	else
		str_printf(&text, "You are no longer a member.  To join again, write to %s.\n",
			   config_str(c->l.cf, CF_CONTROL_ADDRESS));
	if (off && warning)
		str_printf(&text,
			   "\nThis is reminder %d of %ld; after the last one you are removed.\n",
			   warning, (long)config_int(c->l.cf, CF_BOUNCE_WARNINGS));
	/* no reply_suppressed(): the mail in hand is a bounce; the notice goes
	 * to the member once (its queue name is derived from the work) */
	fml_status st = reply_send(c, NULL, addr, str_c(&subj), str_c(&text));
	str_free(&subj);
	str_free(&text);
	return st;
}

/* ---------------------------------------------------------------- one bounce */

typedef struct event {
	const dsn_result *r; /* what the bounce said (NULL: VERP alone) */
	str addr;	     /* whom it is about */
	int verp;	     /* VERP said so */
} event;

/* The result that tells most of a VERP bounce: a failure over a delay, a
 * hard over a soft one, the mailbox over the message. */
static const dsn_result *strongest(const dsn_report *rep)
{
	const dsn_result *best = NULL;
	int bw = -1;
	for (size_t i = 0; i < rep->n; i++) {
		const dsn_result *r = &rep->r[i];
		int w = (r->kind == DSN_HARD ? 4 : r->kind == DSN_SOFT ? 2 : 0) + !r->policy;
		if (w > bw) {
			best = r;
			bw = w;
		}
	}
	return best;
}

static int in_actives(action_ctx *c, const char *addr, int *found)
{
	return membersdb_lookup(c->l.dir, "actives", addr, 0, found) == ST_OK;
}

/* The threshold's action on ADDR: "off", "removed" or "reported". */
static fml_status act(action_ctx *c, const char *addr, const char *action)
{
	str err = STR_INIT, where = STR_INIT;
	fml_status st = ST_OK;
	if (strcmp(action, "off") == 0)
		st = membersedit_apply(c->l.dir, "actives", MEM_OFF, addr, NULL, 0, &err);
	else if (strcmp(action, "removed") == 0)
		st = roster_both(c->l.dir, c->l.cf, MEM_BYE, addr, NULL, &err, &where);
	/* done by a run before a crash (or by the member): as good */
	if (st == ST_DATAERR)
		st = ST_OK;
	str_free(&err);
	str_free(&where);
	return st;
}

/* ---------------------------------------------------------------- incidents */

/* Many members at one receiving domain failing alike within a window is the
 * list's trouble (its mail refused by a provider, a provider's outage), not
 * theirs.  var/db/bounce-window keeps the recent failures, "TIME STATUS
 * ADDR" a line (a cache: never synced, pruned when rewritten). */
typedef struct window {
	char path[4096];
	str old; /* the file's lines */
	str add; /* this bounce's */
} window;

static void window_open(action_ctx *c, window *w)
{
	str_init(&w->old);
	str_init(&w->add);
	if (fs_path(w->path, sizeof w->path, "%s/var/db/bounce-window", c->l.dir) < 0 ||
	    fs_read(w->path, &w->old, 4 << 20) != ST_OK)
		str_clear(&w->old);
}

/* The lines added, appended (or the file rewritten without the old ones). */
static void window_close(action_ctx *c, window *w)
{
	time_t keep = c->l.now - (time_t)config_int(c->l.cf, CF_BOUNCE_INCIDENT_WINDOW);
	if (w->add.len && w->old.len < 256 * 1024) {
		fs_append_line(w->path, w->add.s, w->add.len);
	} else if (w->add.len) {
		str kept = STR_INIT;
		lines it;
		const char *l;
		size_t k;
		lines_init(&it, w->old.s, w->old.len);
		while (lines_next(&it, &l, &k))
			if (it.nl && atoll(l) >= (long long)keep) {
				str_append(&kept, l, k);
				str_putc(&kept, '\n');
			}
		str_append(&kept, w->add.s, w->add.len);
		safefile_replace(w->path, kept.s, kept.len, 0);
		str_free(&kept);
	}
	str_free(&w->old);
	str_free(&w->add);
}

/* Distinct addresses at ADDR's domain that failed with STATUS within the
 * window, ADDR's failure (just added) included. */
static long window_count(action_ctx *c, const window *w, const char *addr, const char *status)
{
	time_t from = c->l.now - (time_t)config_int(c->l.cf, CF_BOUNCE_INCIDENT_WINDOW);
	const char *dom = addr_domain(addr);
	str seen = STR_INIT; /* "\nA\nB\n...": the addresses counted */
	long n = 0;
	str_putc(&seen, '\n');
	for (int part = 0; part < 2; part++) {
		const str *t = part ? &w->add : &w->old;
		lines it;
		const char *l;
		size_t k;
		lines_init(&it, t->s, t->len);
		while (lines_next(&it, &l, &k)) {
			char st[16], a[256];
			long long when;
			str line = STR_INIT;
			str_set(&line, l, k);
			if (it.nl && sscanf(str_c(&line), "%lld %15s %255s", &when, st, a) == 3 &&
			    when >= (long long)from && strcmp(st, status) == 0 &&
			    strcasecmp(addr_domain(a), dom) == 0) {
				str key = STR_INIT;
				str_printf(&key, "\n%s\n", a);
				if (!memmem(seen.s, seen.len, key.s, key.len)) {
					str_append(&seen, key.s + 1, key.len - 1);
					n++;
				}
				str_free(&key);
			}
			str_free(&line);
		}
	}
	str_free(&seen);
	return n;
}

/* Is ADDR's failure with STATUS part of a list incident?  Then it is logged,
 * the maintainer alerted (once a NOTIFY_INTERVAL for the domain and code),
 * and it counts nothing.  Only failures that say nothing of the mailbox
 * are looked at: a status X.1.Y (a bad address) or X.2.Y (a mailbox
 * disabled or full) is the member's own. */
static int incident(action_ctx *c, window *w, const char *id, const char *addr, const char *status)
{
	long limit = (long)config_int(c->l.cf, CF_BOUNCE_INCIDENT_LIMIT);
	int subject = atoi(status + 2);
	if (limit <= 0 || subject == 1 || subject == 2)
		return 0;
	str_printf(&w->add, "%lld %s %s\n", (long long)c->l.now, status, addr);
	long n = window_count(c, w, addr, status);
	if (n < limit)
		return 0;
	const char *dom = addr_domain(addr);
	msg_warn("bounce %s: %s %s: %ld members at %s failed with %s within %s: a list incident, "
		 "not counted",
		 id, addr, status, n, dom, status, config_str(c->l.cf, CF_BOUNCE_INCIDENT_WINDOW));
	str kind = STR_INIT, subj = STR_INIT, text = STR_INIT;
	str_printf(&kind, "incident-%s-%s", dom, status);
	str_printf(&subj, "bounces of %s: %s refuses the list's mail (%s)",
		   config_str(c->l.cf, CF_ML_FN), dom, status);
	str_printf(
	    &text,
	    "%ld members at %s had the list's mail refused with %s within %s.\n"
	    "That is the list's trouble (a provider refusing its mail, or an outage), not\n"
	    "the members': their bounces are not counted while it lasts.\n"
	    "The last one: %s.\n"
	    "Look at the list's log (\"list incident\") and at what the provider publishes.\n",
	    n, dom, status, config_str(c->l.cf, CF_BOUNCE_INCIDENT_WINDOW), addr);
	reply_notice(c, NULL, str_c(&kind), NULL, 0, 0, str_c(&subj), str_c(&text));
	str_free(&kind);
	str_free(&subj);
	str_free(&text);
	return 1;
}

/* var/db/bounce-refused: the refusals of the message rather than the
 * mailbox since the last daily summary, "TIME STATUS ADDR DIAG" a line
 * (for the summary only: not synced, emptied when summarised). */
static int refused_path(action_ctx *c, char *buf, size_t size)
{
	return fs_path(buf, size, "%s/var/db/bounce-refused", c->l.dir);
}

static void refused(action_ctx *c, const char *addr, const char *status, const char *diag)
{
	char path[4096];
	str line = STR_INIT;
	str_printf(&line, "%lld %s %s ", (long long)c->l.now, status, addr);
	str_puts(&line, diag); /* one printable line (mail/dsn.h) */
	str_putc(&line, '\n');
	if (!c->debug && refused_path(c, path, sizeof path) == 0)
		fs_append_line(path, line.s, line.len);
	str_free(&line);
}

/* The refusals onto SUM, one line per domain and status (the first
 * DSN_MAX_RESULTS of them) with a count and the first diagnostic. */
static void refused_summary(action_ctx *c, str *sum)
{
	typedef struct {
		str key, example;
		long n;
	} group;
	char path[4096];
	str text = STR_INIT, line = STR_INIT;
	group *g = NULL;
	size_t ng = 0;
	if (refused_path(c, path, sizeof path) < 0 || fs_read(path, &text, 4 << 20) != ST_OK) {
		str_free(&text);
		return;
	}
	lines it;
	const char *l;
	size_t k;
	lines_init(&it, text.s, text.len);
	while (lines_next(&it, &l, &k)) {
		char st[16], a[256];
		int off = 0;
		str_set(&line, l, k);
		if (!it.nl || sscanf(str_c(&line), "%*s %15s %255s %n", st, a, &off) != 2 || !off)
			continue;
		str key = STR_INIT;
		str_printf(&key, "%s %s", addr_domain(a), st);
		size_t i = 0;
		while (i < ng && strcasecmp(str_c(&g[i].key), str_c(&key)) != 0)
			i++;
		if (i == ng && ng < DSN_MAX_RESULTS) {
			g = realloc(g, (ng + 1) * sizeof *g);
			if (!g)
				abort();
			str_init(&g[ng].example);
			str_printf(&g[ng].example, "%s: %s", a, str_c(&line) + off);
			g[ng].key = key;
			g[ng++].n = 0;
			str_init(&key);
		}
		if (i < ng)
			g[i].n++;
		str_free(&key);
	}
	for (size_t i = 0; i < ng; i++) {
		str_printf(sum, "  refused by %s %ld time(s), not counted; e.g. %s\n",
			   str_c(&g[i].key), g[i].n, str_c(&g[i].example));
		str_free(&g[i].key);
		str_free(&g[i].example);
	}
	free(g);
	str_free(&text);
	str_free(&line);
}

/* Apply EV to DB (its record line onto RECS); ST_TEMPFAIL on trouble. */
static fml_status count(action_ctx *c, action_mail *m, bouncedb *db, window *w, const event *ev,
			str *recs)
{
	const char *addr = str_c(&ev->addr), *id = m->it->id;
	const dsn_result *r = ev->r;
	const char *status = r ? r->status : "5.0.0";
	char how[40];
	snprintf(how, sizeof how, "%s%s%s", ev->verp ? "verp" : "", ev->verp && r ? "+" : "",
		 r ? r->how : "");
	const char *diag = r && r->diag.len ? str_c(&r->diag) : "(no reason given)";
	dsn_kind kind = r ? r->kind : DSN_HARD;
	int found = 0;
	if (kind == DSN_DELAY) {
		msg_info("bounce %s: %s %s, a delay (%s): not counted", id, addr, status, how);
		return ST_OK;
	}
	if (r && r->policy) {
		msg_warn("bounce %s: %s %s refused the message, not the address (%s: %s): not "
			 "counted",
			 id, addr, status, how, diag);
		refused(c, addr, status, diag);
		return ST_OK;
	}
	if (action_is_ours(c, addr)) {
		msg_info("bounce %s: %s is the list's own address: not counted", id, addr);
		return ST_OK;
	}
	if (!in_actives(c, addr, &found))
		return ST_TEMPFAIL;
	if (!found) {
		msg_info("bounce %s: %s %s (%s) receives no articles: not counted", id, addr,
			 status, how);
		return ST_OK;
	}
	bounce_rec rec, *old = bouncedb_get(db, addr);
	if (old && strcmp(old->item, id) == 0) {
		msg_info("bounce %s: %s counted already (a run before a crash)", id, addr);
		return ST_OK;
	}
	if (incident(c, w, id, addr, status))
		return ST_OK;
	memset(&rec, 0, sizeof rec);
	if (old)
		rec = *old;
	else
		snprintf(rec.state, sizeof rec.state, "scoring");
	snprintf(rec.addr, sizeof rec.addr, "%s", addr);
	snprintf(rec.item, sizeof rec.item, "%s", id);
	snprintf(rec.status, sizeof rec.status, "%s", status);
	time_t now = c->l.now;
	long day = (long)(now / 86400);
	const char *action = NULL;
	if (strcmp(rec.state, "scoring") == 0) {
		if (rec.last &&
		    now - rec.last > (time_t)config_int(c->l.cf, CF_BOUNCE_INFO_STALE_AFTER))
			rec.score = 0; /* stale: a new start */
		int counts = rec.score == 0 || rec.day != day;
		if (counts) {
			rec.score += kind == DSN_HARD ? 1 : 0.5;
			rec.day = day;
		}
		msg_info("bounce %s: %s %s %s (%s): score %g%s", id, addr, status,
			 kind == DSN_HARD ? "hard" : "soft", how, rec.score,
			 counts ? "" : " (counted once a day)");
		if (rec.score >= (double)config_int(c->l.cf, CF_BOUNCE_SCORE_THRESHOLD)) {
			const char *a = config_str(c->l.cf, CF_BOUNCE_ACTION);
			action = strcmp(a, "off") == 0	 ? "off"
				 : strcmp(a, "bye") == 0 ? "removed"
							 : "reported";
			snprintf(rec.state, sizeof rec.state, "%s", action);
			rec.acted = now;
		}
	} else {
		msg_info("bounce %s: %s %s (%s): %s already", id, addr, status, how, rec.state);
	}
	rec.last = now;
	if (action) {
		msg_warn("bounce %s: %s reached the bounce threshold: %s", id, addr, action);
		if (act(c, addr, action) != ST_OK || tell(c, addr, action, 0, &rec, diag) != ST_OK)
			return ST_TEMPFAIL;
	}
	bouncedb_put(db, &rec, recs);
	return ST_OK;
}

/* Does M come from a mail system: the null sender (RFC 5321 bounces),
 * MAILER-DAEMON, or a daemon or role address in From:? */
static int from_mailer(const action_mail *m)
{
	if (m->has_sender && (m->sender.len == 0 || addr_is_daemon(str_c(&m->sender))))
		return 1;
	return m->from.len && addr_is_daemon(str_c(&m->from));
}

/* The address the bounce was sent to, VERP-decoded into MEMBER: the first
 * Delivered-To: (our MTA puts it on top), else X-Original-To:. */
static void verp_member(action_ctx *c, const envelope *e, str *member)
{
	static const char *const names[] = {"Delivered-To", "X-Original-To"};
	str a = STR_INIT;
	str_clear(member);
	for (size_t i = 0; i < 2 && !member->len; i++) {
		const hfield *f = envelope_get(e, names[i], 0);
		if (f && addr_parse_path(f->value.s, f->value.len, &a) == ST_OK && a.len)
			bounce_verp(c, str_c(&a), member);
	}
	str_free(&a);
}

fml_status bounce_handle(action_ctx *c, action_mail *m)
{
	const envelope *e = m->env;
	off_t from = e->header_off, to = e->end_off;
	if (to - from > BOUNCE_READ_MAX)
		to = from + BOUNCE_READ_MAX; /* the report comes first */
	size_t n = (size_t)(to - from);
	char *buf = mem_alloc(n + 1);
	if (fs_pread_full(m->it->fd, buf, n, from) != (ssize_t)n) {
		msg_error("bounce %s: read: %m", m->it->id);
		free(buf);
		return ST_TEMPFAIL;
	}
	dsn_report rep;
	dsn_init(&rep);
	dsn_parse(buf, n, &rep);
	free(buf);
	if (rep.envid.len) /* the ENVID fmlqueue asked for: the queue item */
		msg_info("bounce %s: a report on %s", m->it->id, str_c(&rep.envid));

	/* whom it is about: the VERP member, else every address it names
	 * (the one the list sent to, when a forward changed it) */
	size_t nev = 0;
	event *ev = mem_alloc((rep.n + 1) * sizeof *ev);
	str verp = STR_INIT;
	verp_member(c, e, &verp);
	/* VERP with nothing recognized counts only when the mail comes from a
	 * mail system: a vacation answer or a person writing to the envelope
	 * sender is no bounce */
	if (verp.len && rep.n == 0 && !from_mailer(m)) {
		msg_info(
		    "bounce %s: to the VERP address of %s but from %s, no report: not a bounce",
		    m->it->id, str_c(&verp), m->from.len ? str_c(&m->from) : "?");
		str_clear(&verp);
	}
	if (verp.len) {
		ev[nev].r = strongest(&rep);
		ev[nev].verp = 1;
		ev[nev++].addr = verp;
	} else {
		str_free(&verp);
		for (size_t i = 0; i < rep.n; i++) {
			int found = 0;
			const str *a = &rep.r[i].addr;
			if (rep.r[i].orig.len && in_actives(c, str_c(&rep.r[i].orig), &found) &&
			    found)
				a = &rep.r[i].orig;
			ev[nev].r = &rep.r[i];
			ev[nev].verp = 0;
			str_init(&ev[nev].addr);
			str_set(&ev[nev++].addr, a->s, a->len);
		}
	}

	fml_status st = ST_OK;
	if (nev == 0) {
		str saved = STR_INIT;
		st = action_save(c, m, "var/log", "bounce", &saved);
		if (st == ST_OK)
			msg_warn("bounce %s from %s: no address recognized: saved as %s", m->it->id,
				 m->from.len ? str_c(&m->from) : "?", str_c(&saved));
		str_free(&saved);
	} else {
		bouncedb db;
		window w;
		str recs = STR_INIT;
		naming nm = {m->it->id};
		c->reply_name = reply_name;
		c->reply_name_arg = &nm;
		window_open(c, &w);
		st = bouncedb_load(c->l.dir, &db);
		for (size_t i = 0; st == ST_OK && i < nev; i++)
			st = count(c, m, &db, &w, &ev[i], &recs);
		if (st == ST_OK && !c->debug)
			st = bouncedb_append(c->l.dir, &db, &recs);
		if (st == ST_OK && !c->debug)
			window_close(c, &w);
		else
			str_free(&w.old), str_free(&w.add);
		c->reply_name = NULL;
		c->reply_name_arg = NULL;
		bouncedb_free(&db);
		str_free(&recs);
	}
	for (size_t i = 0; i < nev; i++)
		str_free(&ev[i].addr);
	free(ev);
	dsn_free(&rep);
	return st;
}

/* ---------------------------------------------------------------- the daily work */

/* Is ADDR in actives, and off there?  1 off, 0 not off or not there, -1
 * trouble. */
static int still_off(action_ctx *c, const char *addr)
{
	char path[4096];
	member_entry e;
	if (fs_path(path, sizeof path, "%s/actives", c->l.dir) < 0)
		return -1;
	members_entry_init(&e);
	int found = members_find(path, addr, 0, &e);
	int off = found < 0 ? -1 : found && e.off;
	members_entry_free(&e);
	return off;
}

static void summary_line(str *out, const bounce_rec *r, const char *what)
{
	str_printf(out, "  %s: %s (score %g, last %s)\n", r->addr, what, r->score, r->status);
}

/* One record's daily step: a reminder every BOUNCE_WARNING_INTERVAL after
 * the member was set off, removal one interval after the last; a record
 * whose member came back on (or left) is taken back.  The new record goes
 * onto RECS, what was done onto SUM. */
static fml_status daily_one(action_ctx *c, bouncedb *db, bounce_rec *r, time_t since, str *recs,
			    str *sum, long *mails)
{
	time_t now = c->l.now, every = (time_t)config_int(c->l.cf, CF_BOUNCE_WARNING_INTERVAL);
	bounce_rec n = *r;
	snprintf(n.item, sizeof n.item, "daily.%lld", (long long)since);
	/* set off (not a reminder: those are said below), removed, reported
	 * since the last summary */
	int off_now = strcmp(r->state, "off") == 0;
	if (r->acted > since && r->acted <= now && strcmp(r->state, "scoring") != 0 &&
	    (!off_now || r->warned == 0))
		summary_line(sum, r, off_now ? "delivery stopped" : r->state);
	if (strcmp(r->state, "off") != 0 || now - r->acted < every)
		return ST_OK;
	int off = still_off(c, r->addr);
	if (off < 0)
		return ST_TEMPFAIL;
	if (!off) { /* on again, or gone, by other means */
		snprintf(n.state, sizeof n.state, "-");
		bouncedb_put(db, &n, recs);
		return ST_OK;
	}
	const char *diag = "see the list's log";
	if (r->warned < (int)config_int(c->l.cf, CF_BOUNCE_WARNINGS)) {
		n.warned++;
		n.acted = now;
		if (tell(c, r->addr, "off", n.warned, &n, diag) != ST_OK)
			return ST_TEMPFAIL;
		(*mails)++;
		str_printf(sum, "  %s: reminder %d sent (delivery stopped since %ld days)\n",
			   r->addr, n.warned, (long)((now - r->acted) / 86400 + 1));
	} else {
		snprintf(n.state, sizeof n.state, "removed");
		n.acted = now;
		if (act(c, r->addr, "removed") != ST_OK ||
		    tell(c, r->addr, "removed", 0, &n, diag) != ST_OK)
			return ST_TEMPFAIL;
		(*mails)++;
		summary_line(sum, &n, "removed after the last reminder");
	}
	bouncedb_put(db, &n, recs);
	return ST_OK;
}

fml_status bounce_daily(action_ctx *c, long *mails)
{
	char stamp[4096], id[64];
	str seen = STR_INIT, recs = STR_INIT, sum = STR_INIT;
	time_t since = 0;
	if (fs_path(stamp, sizeof stamp, "%s/var/run/bounce-daily", c->l.dir) < 0)
		return ST_TEMPFAIL;
	if (fs_read(stamp, &seen, 64) == ST_OK)
		since = (time_t)atoll(str_c(&seen));
	str_free(&seen);
	/* once a day; an hourly job may run a little early */
	if (since && c->l.now - since < 86400 - 3600)
		return ST_OK;
	bouncedb db;
	if (bouncedb_load(c->l.dir, &db) != ST_OK)
		return ST_TEMPFAIL;
	/* the names of this run's mails and records: the same in a rerun
	 * after a crash (the stamp is written last), new the next day */
	snprintf(id, sizeof id, "daily.%lld", (long long)since);
	naming nm = {id};
	c->reply_name = reply_name;
	c->reply_name_arg = &nm;
	fml_status st = ST_OK;
	size_t n = db.n; /* records put below are not walked again */
	for (size_t i = 0; st == ST_OK && i < n; i++)
		if (strcmp(db.r[i].state, "-") != 0) {
			bounce_rec r = db.r[i];
			st = daily_one(c, &db, &r, since, &recs, &sum, mails);
		}
	if (st == ST_OK)
		refused_summary(c, &sum);
	if (st == ST_OK && sum.len) {
		str text = STR_INIT, subj = STR_INIT;
		str_printf(&text,
			   "What the bounces of %s changed since the last summary:\n\n%s\n"
			   "`makefml bounces` shows every bounce record; fml-bounce(7) tells the "
			   "rules.\n",
			   config_str(c->l.cf, CF_MAIL_LIST), str_c(&sum));
		str_printf(&subj, "bounces of %s: daily summary", config_str(c->l.cf, CF_ML_FN));
		st = reply_notice(c, NULL, NULL, NULL, 0, 0, str_c(&subj), str_c(&text));
		(*mails)++;
		str_free(&text);
		str_free(&subj);
	}
	if (st == ST_OK && !c->debug)
		st = bouncedb_append(c->l.dir, &db, &recs);
	c->reply_name = NULL;
	c->reply_name_arg = NULL;
	char path[4096];
	if (st == ST_OK && !c->debug && refused_path(c, path, sizeof path) == 0)
		unlink(path); /* summarised */
	if (st == ST_OK) {
		char now[32];
		int k = snprintf(now, sizeof now, "%lld\n", (long long)c->l.now);
		fs_overwrite(stamp, now, (size_t)k); /* lost in a crash: done again, named alike */
	}
	bouncedb_free(&db);
	str_free(&recs);
	str_free(&sum);
	return st;
}

/* ---------------------------------------------------------------- makefml */

fml_status bounce_show(const char *dir, FILE *out)
{
	bouncedb db;
	if (bouncedb_load(dir, &db) != ST_OK)
		return ST_TEMPFAIL;
	for (size_t i = 0; i < db.n; i++) {
		const bounce_rec *r = &db.r[i];
		char date[32] = "-";
		struct tm tm;
		if (strcmp(r->state, "-") == 0)
			continue;
		if (r->last && localtime_r(&r->last, &tm))
			strftime(date, sizeof date, "%Y-%m-%d", &tm);
		if (strcmp(r->state, "off") == 0 && r->warned > 0) /* "warned N" */
			fprintf(out, "%s %g %s %s warned %d\n", r->addr, r->score, r->status, date,
				r->warned);
		else
			fprintf(out, "%s %g %s %s %s\n", r->addr, r->score, r->status, date,
				r->state);
	}
	bouncedb_free(&db);
	return ST_OK;
}

fml_status bounce_reset(const char *dir, const char *addr)
{
	bouncedb db;
	str line = STR_INIT;
	if (bouncedb_load(dir, &db) != ST_OK)
		return ST_TEMPFAIL;
	bounce_rec *r = bouncedb_get(&db, addr);
	fml_status st = ST_NOINPUT;
	if (r) {
		bounce_rec gone = *r;
		snprintf(gone.state, sizeof gone.state, "-");
		gone.score = 0;
		bouncedb_put(&db, &gone, &line);
		st = bouncedb_append(dir, &db, &line);
		if (st == ST_OK)
			msg_info("bounce record of %s taken back", addr);
	}
	bouncedb_free(&db);
	str_free(&line);
	return st;
}
