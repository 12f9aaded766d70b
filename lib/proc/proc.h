/*
 * proc: what one accepted mail means for a list.  proc_drain() runs under
 * the list lock and handles every item of var/incoming/ oldest first:
 * envelope, loop and duplicate checks, keyword traps, dispatch to guide /
 * commands / post / reject handler / moderation hold, and for a post the
 * distribution (distribute.c).  Every outcome removes the item (or moves it
 * to var/hold or var/log); only local trouble (ST_TEMPFAIL) leaves it for
 * the next run.
 */
#ifndef FML_PROC_H
#define FML_PROC_H

#include <time.h>

#include "list/config.h"
#include "mail/envelope.h"
#include "list/incoming.h"
#include "util/status.h"
#include "util/str.h"

typedef struct proc_ctx {
	const char *dir; /* list home */
	config *cf;
	int debug;	  /* -d: process, but write no queue item */
	const char *only; /* process only this item (a debug run leaves others be) */
	time_t now;
	long articles; /* articles made by this run */
	int processed; /* items handled by this run */
	int again;     /* a held post was released into var/incoming: list again */
	str *report;   /* if set, command reports are copied here (makefml command) */
} proc_ctx;

/* What the current item is, shared by the action modules. */
typedef struct proc_mail {
	incoming_item *it;
	envelope *env;
	str from;   /* From: addr-spec, normalized; "" if none or bad */
	str reply;  /* where answers go: Reply-To, else From */
	str sender; /* envelope sender; "" for <> or unknown */
	int has_sender;
	int member; /* from is in members */
} proc_mail;

fml_status proc_drain(proc_ctx *c);

/* Move the current item out of var/incoming into var/log/KIND.ID (kept for
 * the bounce handler or the admin) or var/hold/ID. */
fml_status proc_save(proc_ctx *c, proc_mail *m, const char *area, const char *kind, str *path);

/* Fill M's from, reply and sender from its envelope and item. */
void proc_addresses(proc_mail *m);
/* Free what proc_addresses() filled (not the item or the envelope). */
void proc_mail_free(proc_mail *m);

#endif
