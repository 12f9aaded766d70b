/*
 * digest: articles mailed in bundles to the members in digest mode (actives
 * lines with m=N[mode]), fml's msend.  fmldigest(8) runs digest_run() every
 * hour; the mode switches of makefml and the mail commands go through
 * digest_set().
 *
 * State: var/db/digest, one line "ADDR LAST" per digest member (the last
 * article that member has been sent), rewritten by rename.  A run writes
 * its whole outcome first, as var/db/digest.run (the new state plus one
 * "item NAME MODE FROM TO" line and its "to ADDR" lines per queue item to
 * make), commits it, then makes the queue items under those fixed names,
 * then renames digest.run over digest.  A run that dies in between is
 * finished by the next one from digest.run (items already in the queue are
 * not made twice), so nobody misses or repeats a digest.  Every function
 * here runs under the list lock.
 */
#ifndef FML_DIGEST_H
#define FML_DIGEST_H

#include <stdio.h>

#include "action.h"
#include "util/status.h"
#include "util/str.h"

typedef struct digest_opts {
	int hour;     /* 1..24: the hour this run acts for (0 counts as 24) */
	int force;    /* every digest member is due */
	FILE *dry;    /* non-NULL: change nothing, print who would get what */
	int progress; /* a progress line on stderr */
} digest_opts;

/* Is a member with m=N due at HOUR?  fml's rule: HOUR mod N == 0, or for
 * N > 24 once a day at hour N-24 (so m=17 is daily at 17:00). */
int digest_due(int n, int hour);

/* Send every due digest of list C->dir; *ITEMS (may be NULL) counts the
 * queue items made. */
fml_status digest_run(action_ctx *c, const digest_opts *o, long *items);

/* Finish a run that died (var/db/digest.run); ST_OK when there was none. */
fml_status digest_recover(action_ctx *c);

/* Set ADDR's digest mode in actives to SPEC ("N[mode]", "0" for real-time
 * delivery): a member entering digest mode starts after the current last
 * article; one leaving it is sent what was pending at once (fml's
 * "rehash").  ST_DATAERR with the reason in ERR when the edit does not
 * apply (not a member, bad spec). */
fml_status digest_set(action_ctx *c, const char *addr, const char *spec, str *err);

#endif
