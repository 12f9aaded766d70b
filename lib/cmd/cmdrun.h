/*
 * cmdrun: what the command modules share while one command mail runs
 * (command.c the user commands and the report, cmdfiles.c the commands that
 * send files and articles, cmdadmin.c admin commands and moderation, each
 * with its own header).
 * Handlers append their result lines to the report; they return
 * ST_TEMPFAIL only for local trouble, which leaves the whole mail in
 * var/incoming for a later run.
 */
#ifndef FML_CMDRUN_H
#define FML_CMDRUN_H

#include "cmdparse.h"
#include "cmdrecord.h"
#include "actions/action.h"

typedef struct cmd_run {
	action_ctx *c;
	action_mail *m;
	const char *from; /* the sender: From:, normalized */
	const char *to;	  /* where answers go: Reply-To:, else From: */
	str *out;	  /* the report */
	int admin_ok;	  /* an admin password was accepted in this mail */
	int admin_failed; /* a wrong one was given: the rest is refused */
	cmdrecord *rec;	  /* what earlier runs of this mail did */
	size_t index;	  /* the command running (0-based) */
	int retry;	  /* an earlier run began it and failed part-way */
	int report;	  /* the commands are done: the report is queued next */
	str names;	  /* the keys of the mails this command queued */
} cmd_run;

/* Append printf-formatted text to the report. */
void cmdrun_say(cmd_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The list's file NAME (help, guide, ...) with $VAR substituted, into the
 * report. */
fml_status cmdrun_file(cmd_run *r, const char *name);
/* Is ADDR listed in the list's FILE?  -1 on I/O trouble. */
int cmdrun_listed(cmd_run *r, const char *file, const char *addr);
/* The running command is about to change something: recorded (fsynced),
 * so that a run after a failure part-way knows (r->retry) that what it
 * finds done may be its own work. */
fml_status cmdrun_begin(cmd_run *r);
/* action_ctx's reply_name for the mails of a command mail:
 * "r.ID.I.KEY.N" (KEY from the recipients and subject, N counting equal
 * keys within command I), "r.ID.report" for the report. */
int cmdrun_reply_name(void *run, const char *rcpts, size_t n, const char *subject, char *buf,
		      size_t size);

#endif
