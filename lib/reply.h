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

#include "proc.h"

/* NULL when an automatic reply to M's sender is allowed, else why not. */
const char *reply_suppressed(proc_ctx *c, proc_mail *m, const char *to);

/* Read DIR/NAME and substitute $VAR / ${VAR} with config values. */
fml_status reply_template(proc_ctx *c, const char *name, str *out);

/* Queue a text/plain mail to TO (after reply_suppressed() said yes) in
 * reply to M (may be NULL). */
fml_status reply_send(proc_ctx *c, proc_mail *m, const char *to, const char *subject,
		      const char *body);

/* Queue a notice to the maintainer (RCPTS NULL) or to the NUL-separated
 * RCPTS, with M's original mail attached when ATTACH.  KIND non-NULL makes
 * it "at most once per NOTIFY_INTERVAL" for that kind. */
fml_status reply_notice(proc_ctx *c, proc_mail *m, const char *kind, const char *rcpts,
			size_t nrcpts, int attach, const char *subject, const char *text);

#endif
