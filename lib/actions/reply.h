/*
 * reply: mail fml writes itself (guide, help, deny, notices to the
 * maintainer and moderators), always through the outgoing queue, with the
 * null envelope sender and "Auto-Submitted: auto-replied" (RFC 3834).
 *
 * Automatic answers to a sender are never sent to <>, MAILER-DAEMON and
 * other role accounts, our own addresses, mail that is Auto-Submitted,
 * Precedence bulk/junk/list, carries a List-Id/X-ML-Name/X-Loop of ours,
 * or X-Auto-Response-Suppress; and at most REPLY_LIMIT per sender per hour.
 */
#ifndef FML_REPLY_H
#define FML_REPLY_H

#include "action.h"
#include "queue/qitem.h"

/* NULL when an automatic reply to M's sender is allowed, else why not. */
const char *reply_suppressed(action_ctx *c, action_mail *m, const char *to);

/* Read DIR/NAME and substitute $VAR / ${VAR} with config values. */
fml_status reply_template(action_ctx *c, const char *name, str *out);

/* Queue a text/plain mail to TO (after reply_suppressed() said yes) in
 * reply to M (may be NULL). */
fml_status reply_send(action_ctx *c, action_mail *m, const char *to, const char *subject,
		      const char *body);

/* Queue a request that TO answers by replying (a confirmation): as
 * reply_send(), with Reply-To: CONTROL_ADDRESS, since our mail comes From:
 * the maintainer and a plain reply would reach a person, not fml. */
fml_status reply_ask(action_ctx *c, const char *to, const char *subject, const char *body);

/* Queue a notice to the maintainer (RCPTS NULL) or to the NUL-separated
 * RCPTS, with M's original mail attached when ATTACH.  KIND non-NULL makes
 * it "at most once per NOTIFY_INTERVAL" for that kind. */
fml_status reply_notice(action_ctx *c, action_mail *m, const char *kind, const char *rcpts,
			size_t nrcpts, int attach, const char *subject, const char *text);

/* A mail of ours written in parts: reply_begin() queues the header every
 * mail of ours carries (From MAINTAINER, To TO_SHOWN, Subject, Date,
 * Message-ID, In-Reply-To/References from M (may be NULL), Auto-Submitted,
 * X-Loop, X-ML-Name, List-Id, MIME-Version) for the NUL-separated RCPTS
 * (N of them); the caller writes the remaining header fields, the blank
 * line and the body with reply_write(), then reply_commit() (the queue
 * item's commit) or reply_abort().  A debug run (c->debug) writes nothing;
 * nor does a mail whose name (c->reply_name) is queued already. */
typedef struct reply_writer {
	qitem_writer w;
	int debug; /* write nothing */
	long long bytes;
} reply_writer;
fml_status reply_begin(action_ctx *c, action_mail *m, const char *rcpts, size_t n,
		       const char *to_shown, const char *subject, reply_writer *rw);
fml_status reply_write(reply_writer *rw, const void *p, size_t len);
/* reply_write() with the signature of a bundlewrite_sink. */
fml_status reply_sink(void *rw, const void *p, size_t len);
fml_status reply_commit(reply_writer *rw);
void reply_abort(reply_writer *rw);

#endif
