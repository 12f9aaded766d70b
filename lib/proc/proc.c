/*
 * proc: classify and dispatch accepted mail, oldest first, under the list
 * lock.  See proc.h.  The order of checks follows fml (fml4.md §1.4-1.7)
 * with its flaws fixed: loops and bounces are never answered, a duplicate
 * never becomes a second article, command mail is never distributed.
 */
#include "proc.h"
#include "actions/contentrule.h"
#include "actions/distribute.h"
#include "actions/dmarc.h"
#include "actions/hold.h"
#include "actions/keyword.h"
#include "actions/reply.h"
#include "list/vacation.h"
#include "list/ban.h"
#include "list/dedupe.h"
#include "list/members.h"
#include "mail/addr.h"
#include "mail/verp.h"
#include "util/fs.h"
#include "util/msg.h"
#include "util/safefile.h"
#include "list/membersdb.h"
#include "queue/qspool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* One drain: the duplicate cache, the articles waiting for their group
 * commit, the table of the heavy parts, and whether an item was left for
 * the full processor. */
typedef struct poison_guard poison_guard;
typedef struct drain_run {
	dedupe *dd;
	distribute_batch *batch;
	poison_guard *guard;
	const proc_ops *ops;
	int handover;
} drain_run;

static void poison_note(poison_guard *g, const str *ids);

/* The batch's articles made durable, their items removed; the guard names
 * them meanwhile (finish_dead_run) */
static fml_status commit(action_ctx *c, drain_run *run)
{
	str ids = STR_INIT;
	distribute_batch_ids(run->batch, &ids);
	if (ids.len)
		poison_note(run->guard, &ids);
	str_free(&ids);
	return distribute_commit(c, run->batch, run->dd);
}

/* Remove the item: the end of its life in var/incoming. */
static fml_status finish(action_ctx *c, action_mail *m)
{
	if (unlink(m->it->path) < 0 && errno != ENOENT) {
		msg_error("unlink %s: %s", m->it->path, strerror(errno));
		return ST_TEMPFAIL;
	}
	return ST_OK;
}

/* Does a field of ours come back?  Returns the reason or NULL. */
static const char *loop_reason(action_ctx *c, action_mail *m)
{
	const envelope *e = m->env;
	const hfield *f;
	const char *xmlname = config_str(c->l.cf, CF_XMLNAME);
	const char *colon = strchr(xmlname, ':');
	if (colon) {
		const char *v = colon + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		for (size_t i = 0; (f = envelope_get(e, "X-ML-Name", i)) != NULL; i++) {
			const char *x = str_c(&f->value);
			while (*x == ' ' || *x == '\t')
				x++;
			if (*v && strcasecmp(x, v) == 0)
				return "our X-ML-Name came back";
		}
	}
	for (size_t i = 0; (f = envelope_get(e, "List-Id", i)) != NULL; i++) {
		str needle = STR_INIT;
		str_printf(&needle, "<%s>", config_str(c->l.cf, CF_LIST_ID));
		int hit = strcasestr(str_c(&f->value), needle.s) != NULL;
		str_free(&needle);
		if (hit)
			return "our List-Id came back";
	}
	for (size_t i = 0; (f = envelope_get(e, "X-Loop", i)) != NULL; i++)
		if (strcasestr(str_c(&f->value), config_str(c->l.cf, CF_MAIL_LIST)))
			return "our X-Loop came back";
	if ((long)envelope_count(e, "Received") > config_int(c->l.cf, CF_RECEIVED_LIMIT))
		return "too many Received: fields";
	if (m->has_sender && m->sender.len &&
	    addr_equal(str_c(&m->sender), config_str(c->l.cf, CF_MAINTAINER)))
		return "the envelope sender is the maintainer";
	if (m->has_sender && m->sender.len &&
	    verp_decode(config_str(c->l.cf, CF_BOUNCE_ADDRESS),
			config_str(c->l.cf, CF_VERP_DELIMITERS), str_c(&m->sender), NULL) >= 0)
		return "the envelope sender is the list's bounce address";
	return NULL;
}

static int is_member(action_ctx *c, const char *file, const char *addr)
{
	int found = 0;
	if (!*addr)
		return 0;
	if (membersdb_lookup(c->l.dir, file, addr, (int)config_int(c->l.cf, CF_ADDR_CHECK_MAX),
			     &found) != ST_OK)
		return -1;
	return found;
}

/* The envelope sender as it may appear in a log line or a notice: only an
 * address that passes the policy, never raw bytes from the MTA. */
static const char *shown_sender(const action_mail *m)
{
	if (!m->has_sender)
		return "(unknown)";
	if (m->sender.len == 0)
		return "";
	return addr_check(m->sender.s, m->sender.len) ? "(invalid)" : str_c(&m->sender);
}

/* Not distributed, logged, saved under var/log, maintainer told (rate-limited;
 * not of an automatic reply). */
static fml_status drop(action_ctx *c, action_mail *m, const char *kind, const char *why)
{
	str text = STR_INIT, saved = STR_INIT;
	fml_status st = action_save(c, m, "var/log", kind, &saved);
	if (st != ST_OK)
		goto out;
	msg_warn("%s: %s from %s (sender <%s>): not distributed, saved as %s", kind, why,
		 m->from.len ? str_c(&m->from) : "?", shown_sender(m), str_c(&saved));
	str_printf(&text,
		   "fml did not distribute a mail to %s:\n  %s\n"
		   "From: %s, envelope sender <%s>.\nIt is saved as %s.\n"
		   "(Further %s notices are suppressed for an interval.)\n",
		   config_str(c->l.cf, CF_MAIL_LIST), why, m->from.len ? str_c(&m->from) : "?",
		   shown_sender(m), str_c(&saved), kind);
	/* loops and duplicates come in bursts: one notice an interval; an
	 * automatic reply is only logged (its author is away, nothing is
	 * wrong), and so is the mail of the banned (the admin banned them) */
	if (strcmp(kind, "autoreply") != 0 && strcmp(kind, "banned") != 0)
		reply_notice(c, NULL, strcmp(kind, "poison") == 0 ? NULL : kind, NULL, 0, 0, why,
			     str_c(&text));
out:
	str_free(&text);
	str_free(&saved);
	return st;
}

static fml_status reject_post(action_ctx *c, action_mail *m)
{
	const char *handler = config_str(c->l.cf, CF_REJECT_POST_HANDLER);
	if (strcmp(handler, "moderate") == 0)
		return hold_post(c, m, "the sender is not a member", 1);
	str subj = STR_INIT, text = STR_INIT;
	str_printf(&subj, "NOT MEMBER article from %s %s", str_c(&m->from),
		   config_str(c->l.cf, CF_ML_FN));
	str_printf(&text, "A post from %s, who is not a member of %s, was not distributed.\n",
		   str_c(&m->from), config_str(c->l.cf, CF_MAIL_LIST));
	fml_status st = reply_notice(c, m, NULL, NULL, 0, 1, str_c(&subj), str_c(&text));
	if (st == ST_OK && strcmp(handler, "reject") == 0) {
		const char *why = reply_suppressed(c, m, str_c(&m->reply));
		str body = STR_INIT;
		if (why) {
			msg_info("deny notice to %s not sent: %s", str_c(&m->reply), why);
		} else {
			if (reply_template(c, "deny", &body) != ST_OK)
				str_printf(&body, "You are not a member of %s.\n",
					   config_str(c->l.cf, CF_MAIL_LIST));
			str_clear(&subj);
			str_printf(&subj, "You are not a member %s", config_str(c->l.cf, CF_ML_FN));
			reply_send(c, m, str_c(&m->reply), str_c(&subj), str_c(&body));
		}
		str_free(&body);
	}
	if (st == ST_OK) {
		msg_info("rejected post from non-member %s (%s)", str_c(&m->from), handler);
		st = finish(c, m);
	}
	str_free(&subj);
	str_free(&text);
	return st;
}

static fml_status send_guide(action_ctx *c, action_mail *m)
{
	const char *why = reply_suppressed(c, m, str_c(&m->reply));
	if (why) {
		msg_info("guide request from %s not answered: %s", str_c(&m->from), why);
		return finish(c, m);
	}
	str body = STR_INIT, subj = STR_INIT;
	if (reply_template(c, "guide", &body) != ST_OK)
		str_printf(&body, "This is %s.\n", config_str(c->l.cf, CF_MAIL_LIST));
	str_printf(&subj, "Guide %s", config_str(c->l.cf, CF_ML_FN));
	fml_status st = reply_send(c, m, str_c(&m->reply), str_c(&subj), str_c(&body));
	if (st == ST_OK) {
		msg_info("guide sent to %s", str_c(&m->reply));
		st = finish(c, m);
	}
	str_free(&body);
	str_free(&subj);
	return st;
}

static int bad_subject_or_from(const envelope *e)
{
	const char *names[] = {"From", "Subject"};
	for (int i = 0; i < 2; i++) {
		const hfield *f = envelope_get(e, names[i], 0);
		if (f && f->bad)
			return 1;
	}
	return 0;
}

/* Is M a bounce: to the bounce address, from <> or MAILER-DAEMON, a
 * delivery report (multipart/report), or From: a daemon (fml 4's
 * REJECT_ADDR)?  Never distributed nor answered, but analysed. */
static int is_bounce(const action_mail *m)
{
	static const char *const daemons[] = {"mailer-daemon", "postmaster", "root", "nobody",
					      "msgs"};
	if (m->it->mode == IN_BOUNCE)
		return 1;
	if (m->has_sender &&
	    (m->sender.len == 0 || !strncasecmp(str_c(&m->sender), "mailer-daemon@", 14) ||
	     !strcasecmp(str_c(&m->sender), "mailer-daemon")))
		return 1;
	const hfield *ct = envelope_get(m->env, "Content-Type", 0);
	const char *v = ct ? str_c(&ct->value) : "";
	while (*v == ' ' || *v == '\t')
		v++;
	if (!strncasecmp(v, "multipart/report", 16))
		return 1;
	const char *at = strrchr(str_c(&m->from), '@');
	for (size_t i = 0; at && i < sizeof daemons / sizeof daemons[0]; i++)
		if ((size_t)(at - m->from.s) == strlen(daemons[i]) &&
		    !strncasecmp(m->from.s, daemons[i], strlen(daemons[i])))
			return 1;
	return 0;
}

/* An automatic answer to a post (RFC 3834 auto-replied, X-Autoreply,
 * X-Autorespond, Precedence: auto_reply): why, or NULL. */
static const char *auto_reply(const envelope *e)
{
	const hfield *f = envelope_get(e, "Auto-Submitted", 0);
	const char *v = f ? str_c(&f->value) : "";
	while (*v == ' ' || *v == '\t')
		v++;
	if (!strncasecmp(v, "auto-replied", 12))
		return "an automatic reply (Auto-Submitted: auto-replied)";
	if (envelope_get(e, "X-Autoreply", 0) || envelope_get(e, "X-Autorespond", 0))
		return "an automatic reply (X-Autoreply)";
	f = envelope_get(e, "Precedence", 0);
	v = f ? str_c(&f->value) : "";
	while (*v == ' ' || *v == '\t')
		v++;
	if (!strncasecmp(v, "auto_reply", 10))
		return "an automatic reply (Precedence: auto_reply)";
	return NULL;
}

/* The poster told what the content rules did to their post: ARTICLE 0 =
 * not distributed. */
static void tell_poster(action_ctx *c, action_mail *m, const content_result *r, long article)
{
	const char *to = str_c(&m->reply), *why = reply_suppressed(c, m, to);
	if (why) {
		msg_info("content notice to %s not sent: %s", to, why);
		return;
	}
	str subj = STR_INIT, body = STR_INIT;
	const hfield *s = envelope_get(m->env, "Subject", 0);
	const char *list = config_str(c->l.cf, CF_MAIL_LIST);
	if (article) {
		str_printf(&subj, "Your post to %s was changed", list);
		str_printf(&body,
			   "Your mail to %s (Subject: %.200s) was distributed as article %ld,\n"
			   "without what the list does not carry:\n\n%s",
			   list, s ? str_c(&s->value) : "", article, str_c(&r->report));
	} else {
		str_printf(&subj, "Your post to %s was not distributed", list);
		str_printf(&body,
			   "Your mail to %s (Subject: %.200s) was not distributed:\n\n%s\n"
			   "Please send it again without what the list does not carry.\n",
			   list, s ? str_c(&s->value) : "", str_c(&r->report));
	}
	reply_send(c, m, to, str_c(&subj), str_c(&body));
	str_free(&subj);
	str_free(&body);
}

/* Post M as the content rules changed it (R, contentrule_mail()), in an
 * unnamed file (a crash before the unlink leaves a .tmp. name for the
 * orphan sweep; after it, nothing: the next run starts from
 * the item again), distributed as if it had come so. */
static fml_status post_changed(action_ctx *c, action_mail *m, drain_run *run,
			       const content_result *r, long *article)
{
	char path[4096];
	if (fs_path(path, sizeof path, "%s/var/run/.tmp.content.XXXXXX", c->l.dir) < 0)
		return ST_TEMPFAIL;
	int fd = mkstemp(path);
	if (fd < 0) {
		msg_error("mkstemp %s: %s", path, strerror(errno));
		return ST_TEMPFAIL;
	}
	unlink(path);
	str out = STR_INIT;
	contentrule_mail(m->env, &r->mime, &out);
	fml_status st =
	    fs_pwrite_full(fd, out.s, out.len, 0) == (ssize_t)out.len ? ST_OK : ST_TEMPFAIL;
	str_free(&out);
	envelope e2;
	envelope_init(&e2);
	if (st != ST_OK)
		msg_error("write %s: %s", path, strerror(errno));
	else
		st = envelope_parse_fd(&e2, fd, 0, -1, NULL);
	if (st == ST_OK) {
		incoming_item it2 = *m->it;
		action_mail m2 = *m;
		it2.fd = fd;
		it2.mail_start = 0;
		it2.mail_end = e2.end_off;
		m2.it = &it2;
		m2.env = &e2;
		st = distribute_post(c, &m2, run->dd, run->batch, article);
	}
	envelope_free(&e2);
	close(fd);
	return st;
}

/* A post that may go: the content rules, then the article, which the
 * batch's commit makes durable (and removes the item).  MITIGATE: the
 * DMARC plan should the content rules change a post meant to go
 * unmodified. */
static fml_status post_as(action_ctx *c, action_mail *m, drain_run *run, int mitigate)
{
	long n = 0;
	fml_status st;
	/* nothing configured (keep: 1), or the lean pipe's own look */
	if (!run->ops->content || !contentrule_configured(c->l.cf)) {
		int keep =
		    contentrule_lean_keep(c->l.cf, m->env, m->env->end_off - m->env->body_off);
		if (keep < 0)
			return ST_TEMPFAIL;
		if (!keep) {
			run->handover = 1; /* nothing of it is written yet */
			return ST_OK;
		}
		return distribute_post(c, m, run->dd, run->batch, &n);
	}
	content_result r;
	content_result_init(&r);
	st = run->ops->content(c, m, &r);
	if (st == ST_OK && r.verdict == CONTENT_REJECT) {
		msg_info("post from %s refused by the content rules: %s", str_c(&m->from),
			 str_c(&r.report));
		tell_poster(c, m, &r, 0);
		st = action_save(c, m, "var/log", "content", NULL);
	} else if (st == ST_OK) {
		if (r.verdict == CONTENT_CHANGED && m->dmarc == DMARC_UNMODIFIED)
			m->dmarc = mitigate; /* changed: the author's signature breaks */
		st = r.verdict == CONTENT_CHANGED ? post_changed(c, m, run, &r, &n)
						  : distribute_post(c, m, run->dd, run->batch, &n);
		/* the poster hears of an article only once it is durable */
		if (st == ST_OK && r.verdict == CONTENT_CHANGED)
			st = commit(c, run);
		if (st == ST_OK && r.verdict == CONTENT_CHANGED) {
			msg_info("article %ld: changed by the content rules%s%s", n,
				 r.report.len ? ": " : "", str_c(&r.report));
			if (r.tell)
				tell_poster(c, m, &r, n);
		}
	}
	content_result_free(&r);
	return st;
}

/* A post: how it leaves to pass DMARC, then post_as(). */
static fml_status post(action_ctx *c, action_mail *m, drain_run *run)
{
	fml_status st;
	/* how it must leave to pass DMARC (actions/dmarc.h) */
	dmarc_decision d;
	dmarc_decide(c, m, &d);
	m->dmarc = d.plan;
	if (d.signed_aligned) {
		if (!run->ops->dkim_check) {
			dmarc_decision_free(&d);
			run->handover = 1; /* nothing of it is written yet */
			return ST_OK;
		}
		if (run->ops->dkim_check(c, m, d.strict) == 1)
			m->dmarc = DMARC_UNMODIFIED;
	}
	if (m->dmarc != DMARC_AS_IS)
		msg_info("post from %s: %s: %s", str_c(&m->from), str_c(&d.why),
			 m->dmarc == DMARC_UNMODIFIED ? "sent unmodified, its own DKIM signature "
							"aligned and valid"
			 : m->dmarc == DMARC_WRAP     ? "wrapped"
						      : "From: rewritten");
	st = post_as(c, m, run, d.plan);
	dmarc_decision_free(&d);
	return st;
}

static fml_status dispatch(action_ctx *c, action_mail *m, drain_run *run)
{
	dedupe *dd = run->dd;
	envelope *e = m->env;
	const char *why;

	action_addresses(m);
	if (is_bounce(m)) {
		if (!run->ops->bounce) {
			run->handover = 1; /* nothing of it is written yet */
			return ST_OK;
		}
		fml_status st = run->ops->bounce(c, m);
		return st == ST_OK ? finish(c, m) : st;
	}
	if ((why = loop_reason(c, m)) != NULL)
		return drop(c, m, "loop", why);
	/* a vacation answer to a post is for its author, not the list */
	if (m->it->mode == IN_POST && config_int(c->l.cf, CF_DROP_AUTO_REPLIES) &&
	    (why = auto_reply(e)) != NULL)
		return drop(c, m, "autoreply", why);
	/* the banned (DIR/ban) are neither answered nor distributed */
	str rule = STR_INIT;
	int banned = ban_match(c->l.dir, m->from.len ? str_c(&m->from) : NULL,
			       m->sender.len ? str_c(&m->sender) : NULL, &rule);
	if (banned) {
		str text = STR_INIT;
		str_printf(&text, "the sender is banned (ban: %s)", str_c(&rule));
		fml_status bst = banned < 0 ? ST_TEMPFAIL : drop(c, m, "banned", str_c(&text));
		str_free(&text);
		str_free(&rule);
		return bst;
	}
	str_free(&rule);
	/* command mail (it may hold a password) is never kept nor forwarded */
	const char *bad = e->flags & (ENV_HEADER_TOO_BIG | ENV_TOO_MANY_FIELDS)
			      ? "the header is over the size or field limit"
			  : bad_subject_or_from(e) ? "From: or Subject: holds control bytes"
						   : NULL;
	if (bad) {
		/* a post with "# cmd" lines is command mail too, if its body is
		 * where the parser found it */
		keyword_result k = {0, 0};
		if (m->it->mode != IN_CTL && !(e->flags & ENV_HEADER_TOO_BIG) &&
		    keyword_scan(m->it->fd, e, c->l.cf, 0, &k) != ST_OK)
			return ST_TEMPFAIL;
		if (m->it->mode != IN_CTL && !k.command)
			return hold_post(c, m, bad, 0);
		msg_warn("command mail from %s ignored: %s", m->from.len ? str_c(&m->from) : "?",
			 bad);
		return finish(c, m);
	}

	long dup = dedupe_seen_sha(dd, m->it->sha256);
	if (dup)
		return drop(c, m, "duplicate", "the same mail was already distributed");
	const hfield *mid = envelope_get(e, "Message-ID", 0);
	if (config_int(c->l.cf, CF_CHECK_MESSAGE_ID) && mid &&
	    (dup = dedupe_seen_msgid(dd, mid->value.s, mid->value.len)) != 0)
		return drop(c, m, "duplicate",
			    "a mail with this Message-ID was already distributed");

	int ctl = m->it->mode == IN_CTL;
	/* a moderator released it: a post, whatever the policy says */
	int approved = ctl ? 0 : hold_approved(c, m->it->id);
	if (approved < 0)
		return ST_TEMPFAIL;
	keyword_result kw = {0, 0};
	if (!approved && keyword_scan(m->it->fd, e, c->l.cf, ctl, &kw) != ST_OK)
		return ST_TEMPFAIL;
	if (m->from.len == 0) {
		if (ctl || kw.command || kw.guide) {
			msg_info("command mail without a valid From: ignored");
			return finish(c, m);
		}
		return hold_post(c, m, "no valid From: address", 0);
	}
	if ((m->member = is_member(c, "members", str_c(&m->from))) < 0)
		return ST_TEMPFAIL;
	if (!m->member && (m->member = is_member(c, "members-admin", str_c(&m->from))) < 0)
		return ST_TEMPFAIL;

	/* fml's guide trap for a non-member's post; on the command address
	 * "guide" is one command among others */
	if (kw.guide && !m->member && !ctl)
		return send_guide(c, m);
	if (ctl || kw.command) {
		if (!run->ops->command) {
			/* nothing of this item is written yet: it waits as it came */
			run->handover = 1;
			return ST_OK;
		}
		/* a command sees every article before it (get, summary) */
		fml_status st = commit(c, run);
		if (st == ST_OK)
			st = run->ops->command(c, m);
		if (st == ST_OK)
			st = finish(c, m);
		/* after the item: a crash in between leaves a record to sweep,
		 * never an item without its record */
		if (st == ST_OK)
			run->ops->command_done(c->l.dir, m->it->id);
		return st;
	}

	const char *policy = config_str(c->l.cf, CF_PERMIT_POST_FROM);
	if (!approved && strcmp(policy, "moderator") == 0)
		return hold_post(c, m, "the list is moderated", 1);
	if (!approved && strcmp(policy, "anyone") != 0 && !m->member)
		return reject_post(c, m);
	return post(c, m, run);
}

/* An MTA that frames the mail as mbox (a "From " line first) may end it
 * with the mbox separator, an empty line (Postfix local(8) 3.7 does for
 * commands): it is not the poster's, so one trailing empty line goes. */
static void drop_mbox_blank(envelope *e, int fd)
{
	char tail[4];
	if (!e->from_line.len || e->end_off - e->body_off < 2 ||
	    pread(fd, tail, sizeof tail, e->end_off - 4) != (ssize_t)sizeof tail)
		return;
	if (memcmp(tail, "\r\n\r\n", 4) == 0)
		e->end_off -= 2;
	else if (tail[2] == '\n' && tail[3] == '\n')
		e->end_off -= 1;
}

static fml_status proc_item(action_ctx *c, const char *id, drain_run *run)
{
	incoming_item it;
	envelope e;
	action_mail m;
	memset(&m, 0, sizeof m);
	envelope_init(&e);
	m.it = &it;
	m.env = &e;
	fml_status st = incoming_open(c->l.dir, id, &it);
	if (st == ST_NOINPUT) {
		incoming_close(&it);
		return ST_OK; /* another run took it */
	}
	if (st == ST_DATAERR) {
		msg_error("incoming item %s is malformed: moved to var/log", id);
		st = action_save(c, &m, "var/log", "malformed", NULL);
		if (st == ST_OK)
			distribute_done(c, &it);
		incoming_close(&it);
		return st;
	}
	if (st != ST_OK)
		goto out;
	long n = 0;
	st = distribute_recover(c, &it, run->dd, &n, 0);
	if (st == ST_OK) {
		st = finish(c, &m);
		goto out;
	}
	if (st != ST_NOINPUT)
		goto out;
	envelope_limits lim = {(size_t)config_int(c->l.cf, CF_INCOMING_HEADER_SIZE_LIMIT),
			       (size_t)config_int(c->l.cf, CF_INCOMING_HEADER_FIELD_LIMIT)};
	st = envelope_parse_fd(&e, it.fd, it.mail_start, it.mail_end, &lim);
	if (st == ST_OK)
		drop_mbox_blank(&e, it.fd);
	if (st == ST_OK)
		st = dispatch(c, &m, run);
out:
	if (st == ST_OK && run->handover) {
		msg_info("incoming item %s left for the full processor", id);
	} else if (st == ST_OK) {
		c->processed++;
		/* whatever became of it (article, command, hold, drop): once
		 * it is gone, its spool and queue temps go (while it waits,
		 * a linked spool/.tmp.ID is the recovery data of its article) */
		struct stat gone;
		if (lstat(it.path, &gone) < 0 && errno == ENOENT)
			distribute_done(c, &it);
	} else
		msg_warn("incoming item %s left for a later run (%s)", id, status_name(st));
	envelope_free(&e);
	incoming_close(&it);
	action_mail_free(&m);
	return st;
}

/*
 * Poison guard (Mailman's shunt): var/run/current names the item being
 * processed and how many runs started on it (and, while a batch of
 * articles is committed, the items of the batch: poison_note).  A run that dies on an item
 * (crash, panic) leaves the file; after POISON_TRIES such starts the item is
 * moved to var/log/poison.ID and the maintainer told, so one bad mail
 * cannot stop a list.  A normal return, even a temporary failure, removes
 * the file.
 */
#define POISON_TRIES 3

struct poison_guard {
	int fd;	     /* var/run/current, open for the whole drain; -1: no guard */
	str dead;    /* what a run that died left there: "ID TRIES" */
	size_t head; /* the length of the "ID TRIES" line written */
};

static void poison_open(action_ctx *c, poison_guard *g)
{
	char path[4096];
	if (fs_path(path, sizeof path, "%s/var/run/current", c->l.dir) < 0)
		return;
	g->fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (g->fd < 0) {
		msg_error("open %s: %s", path, strerror(errno));
		return;
	}
	char buf[256];
	ssize_t n = pread(g->fd, buf, sizeof buf, 0);
	if (n > 0)
		str_set(&g->dead, buf, (size_t)n);
}

/* "ID TRIES" (nothing when TRIES is 0), written in place: no open per item */
static void poison_write(poison_guard *g, const char *id, int tries)
{
	char buf[160] = "";
	int n = tries > 0 ? snprintf(buf, sizeof buf, "%s %d\n", id, tries) : 0;
	if (g->fd >= 0 && (pwrite(g->fd, buf, (size_t)n, 0) != n || ftruncate(g->fd, n) < 0))
		msg_error("write var/run/current: %s", strerror(errno));
	g->head = (size_t)n;
}

/* IDS (one per line) after the "ID TRIES" line: the items of a batch being
 * committed, whose temps finish_dead_run() removes if the run dies once
 * their items are gone */
static void poison_note(poison_guard *g, const str *ids)
{
	if (g->fd >= 0 && (pwrite(g->fd, ids->s, ids->len, (off_t)g->head) != (ssize_t)ids->len ||
			   ftruncate(g->fd, (off_t)(g->head + ids->len)) < 0))
		msg_error("write var/run/current: %s", strerror(errno));
}

/* This run's start on ID, counted; true when it is one too many.  The
 * name stays until the next item's (a run killed in between leaves the
 * name of an item it finished, which finish_dead_run() expects). */
static int poison_check(poison_guard *g, const char *id, int *tries_out)
{
	int tries = 1;
	size_t l = strlen(id);
	if (g->dead.len > l && strncmp(g->dead.s, id, l) == 0 && g->dead.s[l] == ' ')
		tries = atoi(g->dead.s + l + 1) + 1;
	poison_write(g, id, tries);
	*tries_out = tries;
	return tries > POISON_TRIES;
}

/* Emptied (not removed: cheaper), unless KEEP: a handed-over item's
 * count is for the full processor to go on with. */
static void poison_close(poison_guard *g, int keep)
{
	if (!keep)
		poison_write(g, "", 0);
	if (g->fd >= 0)
		close(g->fd);
	str_free(&g->dead);
}

static void poison(action_ctx *c, const char *id, dedupe *dd)
{
	action_mail m;
	incoming_item it, in;
	char sha[sizeof it.sha256] = "";
	memset(&m, 0, sizeof m);
	memset(&it, 0, sizeof it);
	m.it = &it;
	snprintf(it.id, sizeof it.id, "%s", id);
	if (fs_path(it.path, sizeof it.path, "%s/var/incoming/%s", c->l.dir, id) < 0)
		return;
	/* An article already made from it stays in the spool and the summary;
	 * the maintainer is told it was not queued. */
	long n = 0;
	str why = STR_INIT;
	int made = distribute_recover(c, &it, NULL, &n, 1) == ST_OK;
	if (made)
		str_printf(&why,
			   "processing this mail failed repeatedly (crash); it is article %ld "
			   "in the spool, NOT delivered",
			   n);
	else
		str_sets(&why, "processing this mail failed repeatedly (crash)");
	/* the MTA's copies of a mail that is article N must be duplicates; the
	 * runs that kept crashing never got as far as recording it (that comes
	 * after the queue item: distribute.c).  Only the checksum: the header
	 * is not parsed again here. */
	if (made) {
		if (incoming_open(c->l.dir, id, &in) == ST_OK)
			memcpy(sha, in.sha256, sizeof sha);
		incoming_close(&in);
	}
	/* recorded once the mail is kept (var/log/poison.ID, synced) */
	if (drop(c, &m, "poison", why.s) == ST_OK) {
		if (sha[0])
			dedupe_record(dd, sha, NULL, 0, n);
		distribute_done(c, &it);
	}
	str_free(&why);
}

/*
 * Orphans: temp files whose writer was killed (kill -9, power loss) before
 * it could remove them; nothing else finishes them.
 *
 * spool/.tmp.ID goes as soon as var/incoming/ID is gone: a run killed
 * between removing its item and the spool temp (distribute.h, step 6) left
 * var/run/current naming ID (for a batch's commit, every ID of the batch).  One whose unlink failed
 * is not named there: the scan removes it once older than ORPHAN_AGE if var/incoming/ID is gone
 * (while the item waits, it is the recovery data of an article and stays whatever its age).
 * Everything else goes once older than ORPHAN_AGE, as its writers need not hold the list lock (none
 * takes that long): QUEUE_DIR/tmp/ (qitem), the dot-temps of safefile_replace and of member file
 * rewrites (DIR/.tmp.*, DIR/.members.tmp.*, var/run/.tmp.*), of the member index
 * (var/db/.NAME.db.*) and the link lock's tokens (var/run/lockfile.PID.*, var/run/break.PID.*), and
 * var/db/.tmp.* (the recipients cache).  var/incoming/tmp.* are incoming_list()'s.
 */
#define ORPHAN_AGE 3600

static void finish_dead_run(action_ctx *c)
{
	char path[4096];
	str cur = STR_INIT;
	incoming_item it;
	memset(&it, 0, sizeof it);
	/* "ID TRIES", then the IDs of a batch being committed (poison_note) */
	if (fs_path(path, sizeof path, "%s/var/run/current", c->l.dir) == 0 &&
	    fs_read(path, &cur, 16384) == ST_OK) {
		for (const char *p = str_c(&cur); *p; p += strcspn(p, "\n"), p += *p == '\n') {
			size_t l = strcspn(p, " \n");
			if (l == 0 || l >= sizeof it.id || *p < '0' || *p > '9' ||
			    memchr(p, '/', l))
				continue;
			memcpy(it.id, p, l);
			it.id[l] = 0;
			if (fs_path(path, sizeof path, "%s/var/incoming/%s", c->l.dir, it.id) ==
				0 &&
			    !fs_exists(path))
				distribute_done(c, &it);
		}
	}
	str_free(&cur);
}

static int orphan_name(int area, const char *n)
{
	switch (area) {
	case 0: /* DIR */
		return n[0] == '.' && strstr(n, ".tmp.") != NULL;
	case 1: /* var/run */
		return strncmp(n, ".tmp.", 5) == 0 || strncmp(n, "break.", 6) == 0 ||
		       (strncmp(n, "lockfile.", 9) == 0 && strncmp(n, "lockfile.v7", 11) != 0);
	case 2: /* var/db: index builds and the recipients cache */
		return n[0] == '.' && (strstr(n, ".db.") != NULL || strncmp(n, ".tmp.", 5) == 0);
	case 3: /* SPOOL_DIR: distribute's temps, spool/.tmp.ID */
		return strncmp(n, ".tmp.", 5) == 0;
	default: /* QUEUE_DIR/tmp: anything (regular files only, below) */
		return 1;
	}
}

/* spool/.tmp.ID whose item var/incoming/ID still waits (or may: anything
 * but ENOENT) is recovery data, never an orphan */
static int spool_tmp_waits(action_ctx *c, const char *name)
{
	char path[4096];
	struct stat st;
	if (fs_path(path, sizeof path, "%s/var/incoming/%s", c->l.dir, name + 5) < 0)
		return 1;
	return lstat(path, &st) == 0 || errno != ENOENT;
}

#define SWEEP_INTERVAL 600

int proc_sweep_due(const char *dir, time_t now)
{
	char path[4096];
	struct stat st;
	return fs_path(path, sizeof path, "%s/var/run/swept", dir) < 0 || stat(path, &st) < 0 ||
	       now - st.st_mtime >= SWEEP_INTERVAL || st.st_mtime > now;
}

static void sweep_orphans(action_ctx *c, const proc_ops *ops)
{
	char dirs[5][4096], path[4096];
	struct stat st;
	time_t now = time(NULL);
	finish_dead_run(c);
	/* the directory scans at most every SWEEP_INTERVAL: not on every post */
	if (!proc_sweep_due(c->l.dir, now) ||
	    fs_path(path, sizeof path, "%s/var/run/swept", c->l.dir) < 0 ||
	    fs_overwrite(path, "", 0) != ST_OK)
		return;
	if (fs_path(dirs[0], sizeof dirs[0], "%s", c->l.dir) < 0 ||
	    fs_path(dirs[1], sizeof dirs[1], "%s/var/run", c->l.dir) < 0 ||
	    fs_path(dirs[2], sizeof dirs[2], "%s/var/db", c->l.dir) < 0 ||
	    fs_path(dirs[3], sizeof dirs[3], "%s", config_str(c->l.cf, CF_SPOOL_DIR)) < 0 ||
	    fs_path(dirs[4], sizeof dirs[4], "%s/tmp", config_str(c->l.cf, CF_QUEUE_DIR)) < 0)
		return;
	for (int a = 0; a < 5; a++) {
		DIR *d = opendir(dirs[a]);
		struct dirent *de;
		while (d && (de = readdir(d)) != NULL) {
			if (!orphan_name(a, de->d_name) ||
			    fs_path(path, sizeof path, "%s/%s", dirs[a], de->d_name) < 0 ||
			    lstat(path, &st) < 0 || !S_ISREG(st.st_mode) ||
			    now - st.st_mtime <= ORPHAN_AGE ||
			    (a == 3 && spool_tmp_waits(c, de->d_name)))
				continue;
			msg_warn("removing orphaned temp file %s", path);
			unlink(path);
		}
		if (d)
			closedir(d);
	}
	ops->command_sweep(c->l.dir, now, ORPHAN_AGE);
	hold_expire(c);
	/* vacations over: members back on (nothing read unless one is due) */
	vacation_end_due(c->l.dir, c->l.cf, now, 0);
}

fml_status proc_drain(action_ctx *c, const proc_ops *ops, int *handover)
{
	poison_guard guard = {-1, STR_INIT, 0};
	str names = STR_INIT;
	drain_run run = {NULL, NULL, &guard, ops, 0};
	if (handover)
		*handover = 0;
	/* after a reboot, spool files a crash of the machine took or damaged
	 * come back first (queue/qspool.h) */
	if (qspool_repair(c->l.dir, c->l.cf) != ST_OK)
		return ST_TEMPFAIL;
	sweep_orphans(c, ops);
	int n = incoming_list(c->l.dir, &names);
	if (n < 0) {
		str_free(&names);
		return ST_TEMPFAIL;
	}
	/* nothing waiting (a run whose mail an earlier holder took): no cache
	 * to open, and no pass below */
	dedupe *dd = run.dd = n == 0 ? NULL
				     : dedupe_open(c->l.dir, c->l.now,
						   config_int(c->l.cf, CF_DUPLICATE_CACHE_EXPIRE));
	/* no duplicate check, no article: the items wait for the next run */
	fml_status worst = n == 0 || dedupe_ok(dd) ? ST_OK : ST_TEMPFAIL;
	if (worst != ST_OK)
		n = 0;
	if (n > 0) {
		poison_open(c, &guard);
		run.batch = distribute_batch_new();
	}
	/* a released post goes back to var/incoming: one more pass takes it
	 * (bounded: a release needs a command mail, and this pass took it) */
	for (int pass = 0; pass < 3 && n > 0; pass++) {
		c->again = 0;
		const char *p = names.s;
		for (int i = 0; i < n; i++, p += strlen(p) + 1) {
			if (c->only && strcmp(p, c->only) != 0)
				continue;
			int tries = 0;
			if (poison_check(&guard, p, &tries)) {
				poison(c, p, dd);
			} else if (proc_item(c, p, &run) != ST_OK) {
				/* local trouble (disk, I/O): stop here, so that the
				 * items after this one keep their arrival order */
				worst = ST_TEMPFAIL;
			}
			/* a handed-over item was not started here: the full
			 * processor counts its own starts on it */
			if (run.handover)
				poison_write(&guard, p, tries - 1);
			if (worst == ST_OK && distribute_batch_full(run.batch) &&
			    commit(c, &run) != ST_OK)
				worst = ST_TEMPFAIL;
			if (worst != ST_OK || run.handover)
				break;
		}
		/* before anything lists var/incoming again: a pending article's
		 * item is still there */
		if (commit(c, &run) != ST_OK)
			worst = ST_TEMPFAIL;
		if (worst != ST_OK || run.handover || !c->again || c->only ||
		    (n = incoming_list(c->l.dir, &names)) < 0)
			break;
	}
	poison_close(&guard, run.handover);
	/* after the posts: they are out whatever happens to the archive; cheap
	 * (a few stat calls) when no unit is due and nothing expires */
	if (archunit_run(&c->l, ops->archive))
		run.handover = 1;
	if (handover)
		*handover = run.handover;
	else if (run.handover)
		msg_panic("proc_drain: a handover without a way to say so");
	distribute_batch_free(run.batch);
	dedupe_close(dd);
	str_free(&names);
	return worst;
}
