/*
 * runner: delivery of one list's outgoing queue (fmlqueue(8)).  One pass
 * recovers what dead processes left, delivers every due item through the
 * transports of SMTP_SERVERS and expires old sent/ and drop/ items.
 * runner_kick() is what fml calls after it queued new items.  The admin's
 * views of the queue (list, show, stats, delete) are qview.h's.
 */
#ifndef FML_RUNNER_H
#define FML_RUNNER_H

#include <signal.h>
#include <stdio.h>

#include "list/config.h"
#include "util/status.h"
#include "util/str.h"

#include <sys/types.h>

typedef struct runner_opts {
	int flush;	  /* ignore the retry schedule */
	int new_only;	  /* only new/ (the kick) */
	const char *only; /* an item name or an envelope sender; NULL/"@" = all */
	int progress;	  /* a progress line on stderr */
	/* Set (by the program's signal handler) to ask for a stop: the
	 * transactions in flight finish and are journaled, the item goes back
	 * where it came from, nothing more is claimed; NULL: never asked. */
	volatile sig_atomic_t *stop;
} runner_opts;

/* Deliver every due item of DIR's queue.  ST_TEMPFAIL when a stop left
 * work for the next run. */
fml_status runner_deliver(const char *dir, config *cf, const runner_opts *o);
/* tmp/ orphans of dead writers removed, active/ items of dead runners put
 * back into new/ or deferred/. */
fml_status runner_recover(const char *dir, config *cf);
/* sent/ and drop/ items older than QUEUE_RETENTION removed. */
fml_status runner_expire(const char *dir, config *cf);

/* What signs the list's mail (queue/dkimsign.h).  begin() makes the
 * message in FD [START, END) ready (NULL with the reason in ERR); sign()
 * appends to OUT the fields to put before it, covering EXTRA (fields put
 * before it too, may be NULL) and the message, line ends EOL; end() lets
 * go.  A program that links it registers it; the alias pipe does not (it
 * links no libcrypto), so its runner_kick() leaves the delivery of a
 * signing list to fmlqueue. */
typedef struct runner_signer {
	void *(*begin)(const char *dir, config *cf, int fd, off_t start, off_t end, str *err);
	fml_status (*sign)(void *h, const char *extra, size_t len, const char *eol, str *out,
			   str *err);
	void (*end)(void *h);
} runner_signer;
void runner_sign_with(const runner_signer *s);
/* Does CF ask for signatures (DKIM_SELECTOR and DKIM_PRIVATE_KEY set)? */
int runner_wants_signer(const config *cf);

/* After fml queued new items: DELIVERY_MODE background (a detached child
 * delivers new/ and exits; the caller returns at once), queue (nothing) or
 * foreground (deliver new/ before returning). */
void runner_kick(const char *dir, config *cf);

#endif
