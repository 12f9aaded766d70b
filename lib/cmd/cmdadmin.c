/*
 * cmdadmin: admin commands by mail and moderation.
 *
 * Admin commands need REMOTE_ADMINISTRATION=1, a sender listed in
 * members-admin and that sender's password (adminpw.c): "admin pass P"
 * earlier in the same mail, or the one-line "approve P CMD ARGS".  A wrong
 * password refuses the rest of the mail's admin commands and counts
 * towards the lockout; the maintainer hears of a lockout.  A lockout does
 * not refuse a mail that carries a valid DKIM signature of its From:
 * domain (a forger who set the lockout off cannot make one): the admin
 * whose mail system signs keeps the list.  Passwords are never echoed or
 * logged (the parser masks them in the echo).
 *
 * Moderation: "approve ID" and "reject ID [reason]" from an address in
 * moderators (or members-admin) release or refuse the held post var/hold/ID
 * (proc.c owns the hold).  Both the sender and the ID are checked.
 */
#include "cmdadmin.h"
#include "cmdfiles.h"
#include "cmdrun.h"
#include "actions/bounce.h"
#include "actions/dkimcheck.h"
#include "actions/digest.h"
#include "actions/hold.h"
#include "actions/reply.h"
#include "list/adminpw.h"
#include "list/members.h"
#include "list/roster.h"
#include "mail/addr.h"
#include "util/date.h"
#include "util/fs.h"
#include "util/msg.h"
#include "util/safefile.h"
#include "list/membersedit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---------------------------------------------------------------- authentication */

static fml_status authenticate(cmd_run *r, const char *password)
{
	action_ctx *c = r->c;
	time_t until = 0;
	if (!config_int(c->l.cf, CF_REMOTE_ADMINISTRATION)) {
		cmdrun_say(r, "Refused: remote administration is not enabled on this list.\n");
		return ST_DATAERR;
	}
	int admin = cmdrun_listed(r, "members-admin", r->from);
	if (admin < 0)
		return ST_TEMPFAIL;
	if (!admin) {
		cmdrun_say(r, "Refused: %s is not an administrator of this list.\n", r->from);
		msg_warn("admin command from %s, who is not in members-admin", r->from);
		return ST_DATAERR;
	}
	/* the lockout stops guessing; anyone can forge an admin's From: to
	 * set it off, but nobody can forge the signature of the admin's own
	 * domain: a mail it verifies is judged by its password alone */
	int locked = adminpw_locked(c->l.dir, c->l.cf, c->l.now, &until);
	if (locked && dkimcheck_post(c, r->m, 0) == 1) {
		msg_info("admin commands are locked, but the mail of %s carries its domain's "
			 "valid DKIM signature: its password is checked",
			 r->from);
	} else if (locked) {
		char when[64];
		date_rfc5322(until, when, sizeof when);
		cmdrun_say(r,
			   "Refused: admin commands are locked until %s after wrong passwords.\n",
			   when);
		return ST_DATAERR;
	}
	if (r->admin_failed) {
		cmdrun_say(r, "Refused: a wrong password was given earlier in this mail.\n");
		return ST_DATAERR;
	}
	int ok = adminpw_check(c->l.dir, r->from, password);
	if (ok < 0)
		return ST_TEMPFAIL;
	if (ok) {
		r->admin_ok = 1;
		msg_info("admin password of %s accepted", r->from);
		return ST_OK;
	}
	r->admin_failed = 1;
	r->admin_ok = 0; /* a wrong one cancels an earlier right one */
	msg_warn("wrong admin password from %s", r->from);
	cmdrun_say(r, "Refused: wrong password.\n");
	if (adminpw_failed(c->l.dir, c->l.cf, c->l.now)) {
		str text = STR_INIT;
		long long mins = (config_int(c->l.cf, CF_ADMIN_LOCKOUT_TIME) + 59) / 60;
		cmdrun_say(r, "Admin commands of this list are now locked for %lld minutes.\n",
			   mins);
		str_printf(&text,
			   "Admin commands of %s are locked for %lld minutes after %lld wrong "
			   "passwords; the last one came from %s.\n",
			   config_str(c->l.cf, CF_MAIL_LIST), mins,
			   config_int(c->l.cf, CF_ADMIN_LOCKOUT_FAILURES), r->from);
		msg_warn("admin commands locked for %lld minutes", mins);
		fml_status st = reply_notice(c, NULL, "admin-lockout", NULL, 0, 0,
					     "fml: admin commands locked", str_c(&text));
		str_free(&text);
		if (st != ST_OK)
			return st;
	}
	return ST_DATAERR;
}

/* ---------------------------------------------------------------- member edits */

static fml_status said(cmd_run *r, fml_status st, const str *err, const char *done)
{
	if (st == ST_OK) {
		cmdrun_say(r, "Done: %s.\n", done);
		msg_info("admin %s: %s", r->from, done);
	} else if (st == ST_DATAERR) {
		cmdrun_say(r, "Refused: %s.\n", str_c(err));
		st = ST_OK;
	}
	return st;
}

static fml_status admin_edit(cmd_run *r, const cmd_line *l)
{
	action_ctx *c = r->c;
	const char *a0 = l->nargs ? str_c(&l->args[0]) : "";
	const char *a1 = l->nargs > 1 ? str_c(&l->args[1]) : NULL;
	int fuzzy = (int)config_int(c->l.cf, CF_ADDR_CHECK_MAX);
	str err = STR_INIT, where = STR_INIT, done = STR_INIT, opts = STR_INIT;
	fml_status st;
	membersedit_op op = MEM_ON;

	switch (l->id) {
	case CMD_ADMIN_ADD:
		for (size_t i = 1; i < l->nargs; i++)
			str_printf(&opts, "%s%s", opts.len ? " " : "", str_c(&l->args[i]));
		st = roster_add(c->l.dir, c->l.cf, a0, str_c(&opts), &err, &where);
		if (st == ST_OK && bounce_reset(c->l.dir, a0) == ST_TEMPFAIL)
			st = ST_TEMPFAIL; /* a new member starts with no bounce record */
		str_printf(&done, "%s added to %s", a0, str_c(&where));
		if (st == ST_OK && config_int(c->l.cf, CF_ADMIN_ADD_SEND_WELCOME_FILE)) {
			str body = STR_INIT, subj = STR_INIT;
			if (reply_template(c, "welcome", &body) == ST_OK) {
				str_printf(&subj, "Welcome to %s %s",
					   config_str(c->l.cf, CF_MAIL_LIST),
					   config_str(c->l.cf, CF_ML_FN));
				st = reply_send(c, NULL, a0, str_c(&subj), str_c(&body));
			}
			str_free(&body);
			str_free(&subj);
		}
		break;
	case CMD_ADMIN_BYE:
	case CMD_ADMIN_CHADDR:
		op = l->id == CMD_ADMIN_BYE ? MEM_BYE : MEM_CHADDR;
		st = roster_both(c->l.dir, c->l.cf, op, a0, a1, &err, &where);
		if (op == MEM_BYE)
			str_printf(&done, "%s removed from %s", a0, str_c(&where));
		else
			str_printf(&done, "%s changed to %s in %s", a0, a1, str_c(&where));
		break;
	case CMD_ADMIN_ADDADMIN:
	case CMD_ADMIN_BYEADMIN:
		op = l->id == CMD_ADMIN_ADDADMIN ? MEM_ADD : MEM_BYE;
		/* the password first: a crash in between leaves less access */
		st = op == MEM_BYE ? adminpw_remove(c->l.dir, a0) : ST_OK;
		if (st == ST_OK)
			st =
			    membersedit_apply(c->l.dir, "members-admin", op, a0, NULL, fuzzy, &err);
		str_printf(&done, "%s %s members-admin", a0,
			   op == MEM_ADD ? "added to" : "removed from");
		break;
	default:
		op = l->id == CMD_ADMIN_OFF	 ? MEM_OFF
		     : l->id == CMD_ADMIN_SKIP	 ? MEM_SKIP
		     : l->id == CMD_ADMIN_NOSKIP ? MEM_NOSKIP
		     : l->id == CMD_ADMIN_DIGEST ? MEM_DIGEST
						 : MEM_ON;
		st = op == MEM_DIGEST
			 ? digest_set(c, a0, a1, &err)
			 : membersedit_apply(c->l.dir, "actives", op, a0, a1, fuzzy, &err);
		str_printf(&done, "%s %s%s%s in actives", l->name + 6, a0, a1 ? " " : "",
			   a1 ? a1 : "");
		break;
	}
	st = said(r, st, &err, str_c(&done));
	str_free(&err);
	str_free(&where);
	str_free(&done);
	str_free(&opts);
	return st;
}

/* ---------------------------------------------------------------- log */

static fml_status admin_log(cmd_run *r, const cmd_line *l)
{
	char path[4096];
	long want = (long)config_int(r->c->l.cf, CF_ADMIN_LOG_DEFAULT_LINE_LIMIT);
	const char *arg = l->nargs ? str_c(&l->args[0]) : "";
	if (*arg == '-')
		want = strtol(arg + 1, NULL, 10);
	else if (strcmp(arg, "all") == 0)
		want = 0;
	if (fs_path(path, sizeof path, "%s/log", r->c->l.dir) < 0)
		return ST_TEMPFAIL;
	str log = STR_INIT;
	/* the newest megabyte at most */
	fml_status st = fs_read_tail(path, &log, 1 << 20);
	if (st == ST_NOINPUT) {
		cmdrun_say(r, "The log is empty.\n");
		str_free(&log);
		return ST_OK;
	}
	if (st != ST_OK) {
		str_free(&log);
		return st;
	}
	/* back from the end to the start of the WANT-th last line */
	size_t start = log.len;
	if (start && log.s[start - 1] == '\n')
		start--;
	for (long lines = 0; start > 0; start--)
		if (log.s[start - 1] == '\n' && want && ++lines >= want)
			break;
	str_append(r->out, log.s + start, log.len - start);
	if (log.len && log.s[log.len - 1] != '\n')
		str_putc(r->out, '\n');
	str_free(&log);
	return ST_OK;
}

/* ---------------------------------------------------------------- moderation */

static fml_status moderate(cmd_run *r, const cmd_line *l)
{
	const char *id = str_c(&l->args[0]);
	int ok = cmdrun_listed(r, "moderators", r->from);
	if (ok == 0)
		ok = cmdrun_listed(r, "members-admin", r->from);
	if (ok < 0)
		return ST_TEMPFAIL;
	if (!ok) {
		cmdrun_say(r, "Refused: %s is not a moderator of this list.\n", r->from);
		msg_warn("%s from %s, who is not a moderator", l->name, r->from);
		return ST_OK;
	}
	/* recorded before the post moves: a rerun of this mail after a failure
	 * part-way (r->retry) must not take its own earlier work for another
	 * moderator's */
	fml_status st = cmdrun_begin(r);
	if (st != ST_OK)
		return st;
	if (l->id == CMD_APPROVE) {
		st = hold_release(r->c, id);
		/* the earlier run moved the post back to var/incoming (where the
		 * drain distributes it) and failed after it */
		if (st == ST_NOINPUT && r->retry) {
			int yes = hold_approved(r->c, id);
			st = yes < 0 ? ST_TEMPFAIL : yes ? ST_OK : st;
		}
	} else {
		str reason = STR_INIT;
		for (size_t i = 1; i < l->nargs; i++)
			str_printf(&reason, "%s%s", reason.len ? " " : "", str_c(&l->args[i]));
		st = hold_refuse(r->c, id, str_c(&reason));
		str_free(&reason);
	}
	if (st == ST_NOINPUT) {
		cmdrun_say(r, "Error: no post is held with that ID (handled already, or "
			      "expired).\n");
		return ST_OK;
	}
	if (st == ST_OK) {
		cmdrun_say(r, l->id == CMD_APPROVE ? "Approved: the post is distributed.\n"
						   : "Rejected: the post is not distributed.\n");
		msg_info("held post %s %s by %s", id,
			 l->id == CMD_APPROVE ? "approved" : "rejected", r->from);
	}
	return st;
}

/* ---------------------------------------------------------------- dispatch */

fml_status cmdadmin_run(cmd_run *r, const cmd_line *l)
{
	if (l->id == CMD_APPROVE || l->id == CMD_REJECT)
		return moderate(r, l);
	if (l->id == CMD_ADMIN_PASS || l->oneline) {
		fml_status st = authenticate(r, str_c(&l->password));
		if (st == ST_DATAERR || (st == ST_OK && l->id == CMD_ADMIN_PASS)) {
			if (st == ST_OK)
				cmdrun_say(r, "Password accepted.\n");
			return ST_OK;
		}
		if (st != ST_OK)
			return st;
	} else if (!r->admin_ok) {
		cmdrun_say(r, "Refused: send \"admin pass PASSWORD\" first.\n");
		return ST_OK;
	}
	switch (l->id) {
	case CMD_ADMIN_MEMBERS:
	case CMD_ADMIN_ACTIVES:
		return cmdfiles_run(r, l);
	case CMD_ADMIN_LOG:
		return admin_log(r, l);
	case CMD_ADMIN_HELP:
		return cmdrun_file(r, "help-admin");
	default:
		return admin_edit(r, l);
	}
}
