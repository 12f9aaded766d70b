/*
 * action: the context every action module takes (action_ctx: the list,
 * embedded, and what this run of the drain is doing) and the mail in hand
 * (action_mail).  proc/ fills them; actions/ and cmd/ use them.
 */
#ifndef FML_ACTION_H
#define FML_ACTION_H

#include "list/incoming.h"
#include "list/list.h"
#include "mail/envelope.h"
#include "util/status.h"
#include "util/str.h"

typedef struct action_ctx {
	list_ctx l;	  /* the list: home, configuration, clock */
	int debug;	  /* -d: process, but write no queue item */
	const char *only; /* process only this item (a debug run leaves others be) */
	long articles;	  /* articles made by this run */
	int processed;	  /* items handled by this run */
	int again;	  /* a held post was released into var/incoming: list again */
	str *report;	  /* if set, command reports are copied here (makefml command) */
	/* if set, the queue name (into BUF) of a mail reply.c writes to RCPTS
	 * (NUL-separated, N) with SUBJECT, 0 when it has none: a command mail
	 * names its answers after itself, so that a run after a failure finds
	 * those already queued (qitem_exists) and skips them; unset, each gets
	 * a unique name */
	int (*reply_name)(void *arg, const char *rcpts, size_t n, const char *subject, char *buf,
			  size_t size);
	void *reply_name_arg;
} action_ctx;

/* What the current item is, shared by the action modules. */
typedef struct action_mail {
	incoming_item *it;
	envelope *env;
	str from;   /* From: addr-spec, normalized; "" if none or bad */
	str reply;  /* where answers go: Reply-To, else From */
	str sender; /* envelope sender; "" for <> or unknown */
	int has_sender;
	int member; /* from is in members */
	int dmarc;  /* how it leaves: a dmarc_plan (dmarc.h), DMARC_AS_IS (0) unless set */
	str dkim_h; /* DMARC_UNMODIFIED: h= of the author's signature */
} action_mail;

/* Move the current item out of var/incoming into var/log/KIND.ID (kept for
 * the bounce handler or the admin) or var/hold/ID: the file is synced first
 * (accepting does not sync it), then the directory it moved to. */
fml_status action_save(action_ctx *c, action_mail *m, const char *area, const char *kind,
		       str *path);

/* Is ADDR one of the list's own addresses (posting, command, maintainer,
 * bounce address, or a VERP form of that)? */
int action_is_ours(action_ctx *c, const char *addr);
/* Fill M's from, reply and sender from its envelope and item. */
void action_addresses(action_mail *m);
/* Free what action_addresses() filled (not the item or the envelope). */
void action_mail_free(action_mail *m);

#endif
