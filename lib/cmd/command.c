/*
 * command: command mail.  See command.h.
 *
 * The first text part of the mail is parsed (cmdparse.c); every command is
 * checked against the list's policy and run in order; one report goes
 * back.  Mail that must not be answered (RFC 3834: auto-submitted, bulk,
 * from a daemon, over REPLY_LIMIT) is not run either: an autoresponder
 * quoting a confirmation request must not confirm it.  Command mail is
 * never archived or distributed, and passwords never reach the report or
 * the log (the echo masks them).
 *
 * Failure policy: a handler's ST_TEMPFAIL (disk, lock-free I/O trouble)
 * abandons the whole mail before the report is queued: it stays in
 * var/incoming and runs again later.  What the earlier run completed is in
 * the mail's record (cmdrecord.h): a completed command is not run again,
 * its answer comes from the record, and every mail queued for this item
 * has a name derived from it (cmdrun_reply_name), so that the rerun skips
 * those already queued.  A command that failed part-way runs again knowing
 * it (r->retry), and answers as the first run would have.
 */
#include "command.h"
#include "cmdadmin.h"
#include "cmdfiles.h"
#include "cmdrecord.h"
#include "cmdrun.h"
#include "confirm.h"
#include "actions/digest.h"
#include "actions/keyword.h"
#include "actions/bounce.h"
#include "actions/reply.h"
#include "list/digeststate.h"
#include "list/oneclick.h"
#include "list/secret.h"
#include "list/lang.h"
#include "list/members.h"
#include "list/roster.h"
#include "list/vacation.h"
#include "mail/addr.h"
#include "util/msg.h"
#include "list/membersedit.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---------------------------------------------------------------- policy */

/* Commands a non-member may use under PERMIT_COMMAND_FROM=members_only.
 * approve/reject check the moderators themselves, admin commands the
 * administrators. */
static int open_to_all(cmd_id id)
{
	return id == CMD_HELP || id == CMD_GUIDE || id == CMD_SUBSCRIBE || id == CMD_CONFIRM ||
	       id == CMD_END || id == CMD_APPROVE || id == CMD_REJECT;
}

/* Is the user command NAME in DENY_PROCEDURE? */
static int denied(const config *cf, const char *name)
{
	const char *p = config_str(cf, CF_DENY_PROCEDURE);
	size_t n = strlen(name);
	while (*p) {
		p += strspn(p, " \t,|");
		size_t w = strcspn(p, " \t,|");
		if (w == n && strncasecmp(p, name, n) == 0)
			return 1;
		p += w;
	}
	return 0;
}

/* ENGLISH in the list's LANGUAGE (list/lang.h) */
#define L(c, english) lang_msg((c)->l.cf, (c)->l.dir, english)

/* ---------------------------------------------------------------- membership */

/* Mail a confirmation request for ACTION to ADDR (ARG: name or the other
 * address) and say so in the report. */
static fml_status ask(cmd_run *r, const char *action, const char *addr, const char *arg)
{
	action_ctx *c = r->c;
	str id = STR_INIT, why = STR_INIT, body = STR_INIT, subj = STR_INIT;
	fml_status st = confirm_issue(c->l.dir, c->l.cf, c->l.now, action, addr, arg, &id, &why);
	if (st == ST_DATAERR) {
		cmdrun_say(r, "Refused: %s.\n", str_c(&why));
		st = ST_OK;
		goto out;
	}
	if (st != ST_OK)
		goto out;
	str_printf(&body, "confirm %s\n\n", str_c(&id));
	if (strcmp(action, "subscribe") == 0)
		str_printf(&body, L(c, "You asked to join %s.\n"),
			   config_str(c->l.cf, CF_MAIL_LIST));
	else if (strcmp(action, "unsubscribe") == 0)
		str_printf(&body, L(c, "You asked to leave %s.\n"),
			   config_str(c->l.cf, CF_MAIL_LIST));
	else if (strcmp(action, "chaddr") == 0)
		str_printf(&body, L(c, "You asked to change your address on %s from %s to %s.\n"),
			   config_str(c->l.cf, CF_MAIL_LIST), addr, arg);
	else
		str_printf(&body,
			   L(c, "You asked to change an address on %s from %s to this one, %s.\n"),
			   config_str(c->l.cf, CF_MAIL_LIST), arg, addr);
	str_printf(&body,
		   L(c, "To confirm, send the \"confirm\" line above, unchanged, to %s\n"
			"(replying to this mail does it).  It expires in %lld days.\n\n"),
		   config_str(c->l.cf, CF_CONTROL_ADDRESS),
		   (config_int(c->l.cf, CF_CONFIRMATION_EXPIRE) + 86399) / 86400);
	if (*config_str(c->l.cf, CF_WEB_URL)) {
		str_puts(&body, L(c, "Or confirm on the web:\n\n  "));
		oneclick_link(c->l.cf, c->l.dir, "c", &body);
		str_printf(&body, "%s\n\n", str_c(&id));
	}
	str text = STR_INIT;
	if (reply_template(c, "confirm", &text) == ST_OK)
		str_append(&body, text.s, text.len);
	str_free(&text);
	str_printf(&subj, L(c, "Confirm %s %s"), strncmp(action, "chaddr", 6) ? action : "chaddr",
		   config_str(c->l.cf, CF_ML_FN));
	/* the request goes to the address itself, never to a Reply-To:; its
	 * answer, a reply, goes to the command address */
	st = reply_ask(c, addr, str_c(&subj), str_c(&body));
	if (st == ST_OK) {
		cmdrun_say(r, L(c, "A confirmation request was sent to %s.\n"), addr);
		msg_info("confirmation for %s of %s sent", action, addr);
	}
out:
	str_free(&id);
	str_free(&why);
	str_free(&body);
	str_free(&subj);
	return st;
}

/* Welcome the new member ADDR and tell the maintainer. */
static fml_status welcome(cmd_run *r, const char *addr, const char *how)
{
	action_ctx *c = r->c;
	str body = STR_INIT, subj = STR_INIT, text = STR_INIT;
	if (reply_template(c, "welcome", &body) != ST_OK)
		str_printf(&body, L(c, "You are now a member of %s.\n"),
			   config_str(c->l.cf, CF_MAIL_LIST));
	str_printf(&subj, L(c, "Welcome to %s %s"), config_str(c->l.cf, CF_MAIL_LIST),
		   config_str(c->l.cf, CF_ML_FN));
	fml_status st = reply_send(c, NULL, addr, str_c(&subj), str_c(&body));
	str_clear(&subj);
	str_printf(&subj, "New member: %s %s", addr, config_str(c->l.cf, CF_ML_FN));
	str_printf(&text, "%s was added to %s (%s).\n", addr, config_str(c->l.cf, CF_MAIL_LIST),
		   how);
	if (st == ST_OK)
		st = reply_notice(c, NULL, NULL, NULL, 0, 0, str_c(&subj), str_c(&text));
	str_free(&body);
	str_free(&subj);
	str_free(&text);
	return st;
}

/* Tell the maintainer about a change members made themselves. */
static fml_status tell_maintainer(cmd_run *r, const char *what)
{
	str subj = STR_INIT, text = STR_INIT;
	str_printf(&subj, "%s %s", what, config_str(r->c->l.cf, CF_ML_FN));
	str_printf(&text, "%s (by a command mail from %s, confirmed).\n", what, r->from);
	fml_status st = reply_notice(r->c, NULL, NULL, NULL, 0, 0, str_c(&subj), str_c(&text));
	str_free(&subj);
	str_free(&text);
	return st;
}

static fml_status do_subscribe(cmd_run *r)
{
	int is = cmdrun_listed(r, "members", r->from);
	if (is < 0)
		return ST_TEMPFAIL;
	if (is) {
		cmdrun_say(r, L(r->c, "%s is already a member.\n"), r->from);
		return ST_OK;
	}
	str err = STR_INIT;
	fml_status st = roster_check_limit(r->c->l.dir, r->c->l.cf, &err);
	if (st == ST_DATAERR)
		cmdrun_say(r, "Refused: %s.\n", str_c(&err));
	str_free(&err);
	if (st != ST_OK)
		return st == ST_DATAERR ? ST_OK : st;
	return ask(r, "subscribe", r->from, NULL);
}

static fml_status do_unsubscribe(cmd_run *r)
{
	int is = cmdrun_listed(r, "members", r->from);
	if (is < 0)
		return ST_TEMPFAIL;
	if (!is) {
		cmdrun_say(r, L(r->c, "%s is not a member.\n"), r->from);
		return ST_OK;
	}
	return ask(r, "unsubscribe", r->from, NULL);
}

static fml_status do_chaddr(cmd_run *r, const char *old, const char *new)
{
	if (!addr_equal(r->from, old) && !addr_equal(r->from, new)) {
		cmdrun_say(r, "Refused: send chaddr from the old or the new address.\n");
		return ST_OK;
	}
	if (addr_equal(old, new)) {
		cmdrun_say(r, "Refused: the two addresses are the same.\n");
		return ST_OK;
	}
	int o = cmdrun_listed(r, "members", old), n = cmdrun_listed(r, "members", new);
	if (o < 0 || n < 0)
		return ST_TEMPFAIL;
	if (!o || n) {
		cmdrun_say(r, "Refused: %s.\n",
			   !o ? "the old address is not a member"
			      : "the new address is already a member");
		return ST_OK;
	}
	fml_status st = ask(r, "chaddr", old, new);
	if (st == ST_OK)
		st = ask(r, "chaddr-new", new, old);
	if (st == ST_OK)
		cmdrun_say(r, "The change is made when both addresses have confirmed.\n");
	return st;
}

/* A rerun of this mail (r->retry) finding the member files already as
 * the action makes them (ERR is DONE): the earlier run changed them. */
static fml_status done_before(cmd_run *r, fml_status st, const str *err, const char *done,
			      str *where)
{
	if (r->retry && st == ST_DATAERR && strcmp(str_c(err), done) == 0) {
		str_sets(where, "members and actives");
		return ST_OK;
	}
	if (r->retry && st == ST_OK)
		str_sets(where, "members and actives");
	return st;
}

static fml_status do_confirm(cmd_run *r, const char *id)
{
	action_ctx *c = r->c;
	confirm_req q;
	str why = STR_INIT, err = STR_INIT, where = STR_INIT, what = STR_INIT;
	confirm_req_init(&q);
	/* the use is recorded once the action is done (or refused), so that a
	 * crash or a failure in between leaves the ID for the rerun: every
	 * action below can be repeated, and the rerun of this mail (r->retry)
	 * takes what it finds done for its own work and answers as the first
	 * run would have */
	fml_status st = r->retry
			    ? confirm_recheck(c->l.dir, c->l.cf, c->l.now, id, r->from, &q, &why)
			    : confirm_check(c->l.dir, c->l.cf, c->l.now, id, r->from, &q, &why);
	if (st == ST_DATAERR) {
		cmdrun_say(r, "Refused: %s.\n", str_c(&why));
		msg_info("confirm from %s refused: %s", r->from, str_c(&why));
		st = ST_OK;
		goto out;
	}
	if (st == ST_OK)
		st = cmdrun_begin(r);
	if (st != ST_OK)
		goto out;
	const char *action = str_c(&q.action), *addr = str_c(&q.addr);
	if (strcmp(action, "subscribe") == 0) {
		st = roster_add(c->l.dir, c->l.cf, addr,
				config_str(c->l.cf, CF_AUTO_REGISTRATION_DEFAULT_MODE), &err,
				&where);
		/* a new member starts with no bounce record */
		if (st == ST_OK && bounce_reset(c->l.dir, addr) == ST_TEMPFAIL)
			st = ST_TEMPFAIL;
		st = done_before(r, st, &err, MEMBERSEDIT_ALREADY, &where);
		if (st == ST_OK) {
			cmdrun_say(r, L(c, "%s is now a member (added to %s).\n"), addr,
				   str_c(&where));
			msg_info("subscribe %s: confirmed, added to %s", addr, str_c(&where));
			st = welcome(r, addr, "subscribed by mail, confirmed");
		}
	} else if (strcmp(action, "unsubscribe") == 0) {
		st = roster_both(c->l.dir, c->l.cf, MEM_BYE, addr, NULL, &err, &where);
		st = done_before(r, st, &err, MEMBERSEDIT_NOT_MEMBER, &where);
		if (st == ST_OK) {
			cmdrun_say(r, L(c, "%s has left the list (removed from %s).\n"), addr,
				   str_c(&where));
			msg_info("unsubscribe %s: confirmed", addr);
			str_printf(&what, "Member left: %s", addr);
			st = tell_maintainer(r, str_c(&what));
		}
	} else if (!q.pair_done) {
		cmdrun_say(r, "Confirmed for %s; waiting for the confirmation of %s.\n", addr,
			   str_c(&q.arg));
	} else {
		/* "chaddr" went to the old address, "chaddr-new" to the new one */
		int to_old = strcmp(action, "chaddr") == 0;
		const char *old = to_old ? addr : str_c(&q.arg),
			   *new = to_old ? str_c(&q.arg) : addr;
		st = roster_both(c->l.dir, c->l.cf, MEM_CHADDR, old, new, &err, &where);
		st = done_before(r, st, &err, MEMBERSEDIT_NOT_MEMBER, &where);
		if (st == ST_OK) {
			cmdrun_say(r, "The address %s is now %s (in %s).\n", old, new,
				   str_c(&where));
			msg_info("chaddr %s %s: confirmed", old, new);
			str_printf(&what, "Address changed: %s -> %s", old, new);
			st = tell_maintainer(r, str_c(&what));
		}
	}
	if (st == ST_OK || st == ST_DATAERR) {
		fml_status su = confirm_use(c->l.dir, c->l.cf, c->l.now, &q);
		if (su != ST_OK)
			st = su;
	}
	if (st == ST_DATAERR) {
		cmdrun_say(r, "Refused: %s.\n", str_c(&err));
		st = ST_OK;
	}
out:
	confirm_req_free(&q);
	str_free(&why);
	str_free(&err);
	str_free(&where);
	str_free(&what);
	return st;
}

/* "off 14d": off for a while, back on by itself (list/roster.h). */
static fml_status do_vacation(cmd_run *r, long days)
{
	char until[11];
	str err = STR_INIT;
	fml_status st =
	    vacation_begin(r->c->l.dir, r->c->l.cf, r->from, days, r->c->l.now, until, &err);
	if (st == ST_OK) {
		cmdrun_say(r,
			   "Done: delivery to you is off until %s; it starts again by itself "
			   "that day (\"on\" starts it sooner).\n",
			   until);
		msg_info("%s: off until %s", r->from, until);
	} else if (st == ST_DATAERR) {
		cmdrun_say(r, "Refused: %s.\n", str_c(&err));
		st = ST_OK;
	}
	str_free(&err);
	return st;
}

/* on, off, skip, noskip, digest for the sender, in actives. */
static fml_status do_self(cmd_run *r, membersedit_op op, const char *arg, const char *what)
{
	str err = STR_INIT;
	fml_status st =
	    op == MEM_DIGEST
		? digest_set(r->c, r->from, arg, &err)
		: membersedit_apply(r->c->l.dir, "actives", op, r->from, arg,
				    (int)config_int(r->c->l.cf, CF_ADDR_CHECK_MAX), &err);
	/* back on: its bounce record starts again */
	if (st == ST_OK && op == MEM_ON && bounce_reset(r->c->l.dir, r->from) == ST_TEMPFAIL)
		st = ST_TEMPFAIL;
	if (st == ST_OK) {
		cmdrun_say(r, "Done: %s.\n", what);
		msg_info("%s: %s", r->from, what);
	} else if (st == ST_DATAERR) {
		cmdrun_say(r, "Refused: %s.\n", str_c(&err));
		st = ST_OK;
	}
	str_free(&err);
	return st;
}

static fml_status do_digest(cmd_run *r, const char *spec)
{
	int n = 0;
	char mode[16];
	str what = STR_INIT;
	if (!digeststate_spec(spec, &n, mode)) {
		cmdrun_say(r, "Refused: bad digest mode.\n");
		return ST_OK;
	}
	if (n == 0)
		str_puts(&what, "real-time delivery, one mail per article");
	else
		str_printf(&what, "a digest every %d hour%s%s%s", n, n == 1 ? "" : "s",
			   *mode ? ", mode " : "", mode);
	fml_status st = do_self(r, MEM_DIGEST, n ? spec : "0", str_c(&what));
	str_free(&what);
	return st;
}

/* ---------------------------------------------------------------- dispatch */

static fml_status run_one(cmd_run *r, const cmd_line *l)
{
	switch (l->id) {
	case CMD_HELP:
		return cmdrun_file(r, "help");
	case CMD_GUIDE:
		return cmdrun_file(r, "guide");
	case CMD_OBJECTIVE:
		return cmdrun_file(r, "objective");
	case CMD_SUBSCRIBE:
		return do_subscribe(r);
	case CMD_CONFIRM:
		return do_confirm(r, str_c(&l->args[0]));
	case CMD_UNSUBSCRIBE:
		return do_unsubscribe(r);
	case CMD_CHADDR:
		return do_chaddr(r, str_c(&l->args[0]), str_c(&l->args[1]));
	case CMD_DIGEST:
		return do_digest(r, str_c(&l->args[0]));
	case CMD_UNDIGEST:
		return do_digest(r, "0");
	case CMD_SKIP:
		return do_self(r, MEM_SKIP, NULL, "you receive no articles, and may still post");
	case CMD_NOSKIP:
		return do_self(r, MEM_NOSKIP, NULL, "you receive articles again");
	case CMD_OFF:
		if (l->nargs > 0)
			return do_vacation(r, strtol(str_c(&l->args[0]), NULL, 10));
		return do_self(r, MEM_OFF, NULL, "delivery to you is off");
	case CMD_ON:
		return do_self(r, MEM_ON, NULL, "delivery to you is on");
	case CMD_END:
		cmdrun_say(r, "The rest of the mail is not read.\n");
		return ST_OK;
	default:
		if (l->admin || l->id == CMD_APPROVE || l->id == CMD_REJECT)
			return cmdadmin_run(r, l);
		return cmdfiles_run(r, l);
	}
}

/* Check the policy for L, then run it. */
static fml_status run_checked(cmd_run *r, const cmd_line *l)
{
	action_ctx *c = r->c;
	if (l->id == CMD_NONE) {
		cmdrun_say(r, "Error: %s.\n", l->error ? l->error : "not a command");
		return ST_OK;
	}
	if (!l->admin && denied(c->l.cf, l->name)) {
		cmdrun_say(r, "Refused: the command \"%s\" is not available on this list.\n",
			   l->name);
		return ST_OK;
	}
	if (!l->admin && !open_to_all(l->id) && !r->m->member &&
	    strcmp(config_str(c->l.cf, CF_PERMIT_COMMAND_FROM), "anyone") != 0) {
		cmdrun_say(r, "Refused: %s is not a member of this list.\n", r->from);
		return ST_OK;
	}
	return run_one(r, l);
}

/* Commands that change nothing but the report (and mail they send, which
 * a rerun finds by its name): their record need not be fsynced. */
static int changes_nothing(const cmd_line *l)
{
	switch (l->id) {
	case CMD_NONE:
	case CMD_HELP:
	case CMD_GUIDE:
	case CMD_OBJECTIVE:
	case CMD_MEMBERS:
	case CMD_ACTIVES:
	case CMD_SUMMARY:
	case CMD_STATUS:
	case CMD_INDEX:
	case CMD_GET:
	case CMD_MGET:
	case CMD_END:
	case CMD_ADMIN_MEMBERS:
	case CMD_ADMIN_ACTIVES:
	case CMD_ADMIN_LOG:
	case CMD_ADMIN_HELP:
		return !l->oneline; /* the one-line form checks a password */
	default:
		return 0;
	}
}

/* Command I of the mail: its report from the record when an earlier run
 * completed it, else run and recorded. */
static fml_status run_recorded(cmd_run *r, const cmd_line *l, size_t i)
{
	r->index = i;
	str_clear(&r->names);
	int state = 0;
	if (cmdrecord_done(r->rec, i, r->out, &state)) {
		/* an admin password accepted or refused holds for the commands
		 * after it */
		r->admin_ok = state & 1;
		r->admin_failed = (state & 2) != 0;
		msg_info("command from %s: %s (done by an earlier run)", r->from, str_c(&l->echo));
		return ST_OK;
	}
	r->retry = cmdrecord_begun(r->rec, i);
	size_t start = r->out->len;
	fml_status st = run_checked(r, l);
	if (st == ST_OK)
		st = cmdrecord_add(r->rec, i, (r->admin_ok ? 1 : 0) | (r->admin_failed ? 2 : 0),
				   r->out->s + start, r->out->len - start, !changes_nothing(l));
	r->retry = 0;
	if (st == ST_OK)
		msg_info("command from %s: %s", r->from, str_c(&l->echo));
	return st;
}

/* The commands of SCRIPT, with the report in OUT. */
static fml_status run_script(cmd_run *r, const cmd_script *s)
{
	for (size_t i = 0; i < s->n; i++) {
		const cmd_line *l = &s->v[i];
		cmdrun_say(r, ">>> %s\n", str_c(&l->echo));
		fml_status st = run_recorded(r, l, i);
		if (st != ST_OK)
			return st;
		cmdrun_say(r, "\n");
	}
	if (s->skipped)
		cmdrun_say(r,
			   "%ld more line%s not read: at most %lld commands are run from one "
			   "mail (MAXNUM_COMMAND_INPUT).\n",
			   s->skipped, s->skipped == 1 ? " was" : "s were",
			   config_int(r->c->l.cf, CF_MAXNUM_COMMAND_INPUT));
	if (r->m->env->end_off - r->m->env->body_off > KEYWORD_SCAN_BYTES)
		cmdrun_say(r, "Only the first %d KiB of the mail were read.\n",
			   KEYWORD_SCAN_BYTES / 1024);
	if (s->skipped || r->m->env->end_off - r->m->env->body_off > KEYWORD_SCAN_BYTES)
		cmdrun_say(r, "\n");
	return ST_OK;
}

fml_status command_leave(action_ctx *c, const char *addr, const char *how)
{
	str err = STR_INIT, where = STR_INIT, subj = STR_INIT, text = STR_INIT;
	fml_status st = roster_both(c->l.dir, c->l.cf, MEM_BYE, addr, NULL, &err, &where);
	if (st == ST_OK) {
		msg_info("unsubscribe %s: %s, removed from %s", addr, how, str_c(&where));
		str_printf(&subj, "Member left: %s %s", addr, config_str(c->l.cf, CF_ML_FN));
		str_printf(&text, "%s left %s (%s).\n", addr, config_str(c->l.cf, CF_MAIL_LIST),
			   how);
		st = reply_notice(c, NULL, NULL, NULL, 0, 0, str_c(&subj), str_c(&text));
	} else if (st == ST_DATAERR) {
		msg_info("unsubscribe %s: %s: %s", addr, how, str_c(&err));
	}
	str_free(&err);
	str_free(&where);
	str_free(&subj);
	str_free(&text);
	return st;
}

/* Is M sent to a member's one-click address (the first Delivered-To:,
 * else X-Original-To:)?  0 not; 1 done (the member, if the token is one's,
 * has left); -1 local trouble. */
static int one_click(action_ctx *c, action_mail *m)
{
	static const char *const names[] = {"Delivered-To", "X-Original-To"};
	char tok[ONECLICK_TOKEN_LEN + 1];
	str rcpt = STR_INIT, key = STR_INIT, who = STR_INIT;
	int done = 0;
	for (size_t i = 0; i < 2 && !done; i++) {
		const hfield *f = envelope_get(m->env, names[i], 0);
		if (f && addr_parse_path(f->value.s, f->value.len, &rcpt) == ST_OK && rcpt.len)
			done = oneclick_extension(c->l.cf, str_c(&rcpt), tok) != NULL;
	}
	if (!done)
		goto out;
	fml_status st = secret_load(c->l.dir, &key);
	/* the sender is the member, mostly; else every member is tried */
	if (st == ST_OK && m->from.len && oneclick_valid(&key, str_c(&m->from), tok))
		str_set(&who, m->from.s, m->from.len);
	else if (st == ST_OK && m->sender.len && oneclick_valid(&key, str_c(&m->sender), tok))
		str_set(&who, m->sender.s, m->sender.len);
	else if (st == ST_OK && (st = oneclick_find(c->l.dir, &key, tok, &who)) == ST_NOINPUT) {
		msg_info("one-click mail to %s from %s: no member has this token", str_c(&rcpt),
			 m->from.len ? str_c(&m->from) : "?");
		st = ST_OK;
	}
	if (st == ST_OK && who.len &&
	    command_leave(c, str_c(&who), "one-click unsubscribe by mail") == ST_TEMPFAIL)
		st = ST_TEMPFAIL;
	if (st != ST_OK)
		done = -1;
out:
	if (key.s)
		explicit_bzero(key.s, key.len);
	str_free(&key);
	str_free(&rcpt);
	str_free(&who);
	return done;
}

fml_status command_process(action_ctx *c, action_mail *m)
{
	str text = STR_INIT, report = STR_INIT, subject = STR_INIT;
	cmd_script s;
	cmdparse_script_init(&s);
	fml_status st = ST_OK;
	int oc = m->it->mode == IN_CTL ? one_click(c, m) : 0;
	if (oc != 0) {
		st = oc < 0 ? ST_TEMPFAIL : ST_OK;
		goto out;
	}
	const char *why = reply_suppressed(c, m, str_c(&m->reply));
	if (why) {
		msg_info("command mail from %s not run: %s", str_c(&m->from), why);
		goto out;
	}
	if ((st = keyword_text(m->it->fd, m->env, c->l.cf, &text)) != ST_OK)
		goto out;
	cmdparse_script(text.s ? text.s : "", text.len, m->it->mode == IN_CTL,
			(long)config_int(c->l.cf, CF_MAXNUM_COMMAND_INPUT),
			(long)config_int(c->l.cf, CF_MAXLEN_COMMAND_INPUT), &s);
	cmdrecord rec;
	cmd_run r = {c, m, str_c(&m->from), str_c(&m->reply), &report, 0, 0, &rec, 0,
		     0, 0, STR_INIT};
	if ((st = cmdrecord_open(&rec, c->l.dir, m->it->id)) != ST_OK)
		goto out_rec;
	/* every mail queued from here on is named after this item */
	c->reply_name = cmdrun_reply_name;
	c->reply_name_arg = &r;
	if (s.n == 0) {
		str_puts(&report,
			 L(c, "No command was found in your mail.  The help file follows.\n\n"));
		st = cmdrun_file(&r, "help");
	} else {
		st = run_script(&r, &s);
	}
	if (st != ST_OK)
		goto out_rec;
	r.report = 1;
	str_printf(&report,
		   L(c, "--\nCommands: %s (\"help\" for the list of commands)\n"
			"Maintainer: %s\n"),
		   config_str(c->l.cf, CF_CONTROL_ADDRESS), config_str(c->l.cf, CF_MAINTAINER));
	if (c->report)
		str_append(c->report, report.s, report.len);
	str_printf(&subject, L(c, "fml Command Status report %s"), config_str(c->l.cf, CF_ML_FN));
	st = reply_send(c, m, str_c(&m->reply), str_c(&subject), str_c(&report));
out_rec:
	c->reply_name = NULL;
	c->reply_name_arg = NULL;
	cmdrecord_free(&rec);
	str_free(&r.names);
out:
	cmdparse_script_free(&s);
	str_free(&text);
	str_free(&report);
	str_free(&subject);
	return st;
}
