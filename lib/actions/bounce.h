/*
 * bounce: what a bounce says of the list's members, and what the list does
 * about it (fml 4's mead, done right).  doc/fml-bounce.7 tells the whole.
 *
 * A bounce reaches fml on the list's bounce address (BOUNCE_ADDRESS, the
 * envelope sender of articles and digests: fml --bounce), or on the posting
 * address as a delivery report or a mail from a daemon (never distributed).
 * Who failed: the member VERP encoded in the address the bounce was sent
 * to (BOUNCE_ADDRESS's local part, VERP_DELIMITERS' first character, the
 * member with '@' as the second: elena-bounces+alice=example.com@...),
 * else the addresses the bounce names (mail/dsn.h).  How: a hard failure
 * scores 1, a soft one 0.5, once a day at most; a delay, a refusal of the
 * message rather than the mailbox (DMARC, SPF, spam: mail/dsn.h's policy),
 * an address that receives no articles, and the list's own addresses
 * score nothing and are only logged.  A score with no bounce for
 * BOUNCE_INFO_STALE_AFTER starts again from 0.  At BOUNCE_SCORE_THRESHOLD
 * the member is acted on (BOUNCE_ACTION): set off and told how to come back
 * (off; reminded, then removed, by bounce_daily()), removed (bye), or only
 * reported (report); the maintainer reads it in the daily summary.  The records are in
 * var/db/bounces (list/bouncedb.h), appended once per bounce after what it causes is done: a bounce
 * is never counted twice, nor lost.  A bounce that names no one is kept as var/log/bounce.ID for
 * the maintainer.
 */
#ifndef FML_BOUNCE_H
#define FML_BOUNCE_H

#include <stdio.h>

#include "action.h"

/* Analyse the bounce M and act on it, under the list lock.  ST_OK when
 * done: its item may go (it is gone when it was kept in var/log). */
fml_status bounce_handle(action_ctx *c, action_mail *m);
/* Once a day (fmldigest, under the list lock): a reminder to each member
 * set off every BOUNCE_WARNING_INTERVAL, BOUNCE_WARNINGS times, then the
 * member removed; and one summary to the maintainer of what changed since
 * the last one.  The times are in var/run/bounce-daily.  *MAILS counts
 * the mails queued. */
fml_status bounce_daily(action_ctx *c, long *mails);
/* The records, a line each: address, score, last status, last date,
 * state: scoring, off, "warned N" (off, N reminders sent), removed or
 * reported (makefml bounces). */
fml_status bounce_show(const char *dir, FILE *out);
/* Take back ADDR's record (makefml bounces --reset, "on", a new
 * subscription): ST_NOINPUT when it has none.  Under the list lock. */
fml_status bounce_reset(const char *dir, const char *addr);

#endif
