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

/* After fml queued new items: DELIVERY_MODE background (a detached child
 * delivers new/ and exits; the caller returns at once), queue (nothing) or
 * foreground (deliver new/ before returning). */
void runner_kick(const char *dir, config *cf);

#endif
