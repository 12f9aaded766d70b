/*
 * dsn: who a bounce says could not be reached, and why.
 *
 * A bounce is parsed with GMime.  When it carries a delivery-status report
 * (RFC 3464 message/delivery-status, or RFC 6533's UTF-8
 * message/global-delivery-status), the report alone is believed: one
 * result per per-recipient block whose Action is failed or delayed
 * (delivered, relayed and expanded are not failures).  Otherwise its
 * readable text (the text parts outside any returned message, up to the
 * line that starts an inline copy of it) goes through a table of
 * recognizers for what MTAs write without a report: qmail, Postfix's old
 * text, Exim, Sendmail, Exchange/Outlook, Yahoo, GroupWise, then simple
 * "ADDRESS: user unknown" texts.  The first recognizer that finds an
 * address wins.  The returned original is never read for addresses: its
 * From: and To: are the list's, not the failed member's.
 *
 * A result has the address (Final-Recipient, with the domain lower-cased),
 * the Original-Recipient when the report gives one (the address the list
 * sent to, before any forwarding), the status (x.y.z: the report's Status,
 * else the enhanced code in the diagnostic text, else 5.0.0 or 4.0.0 from
 * an SMTP reply code or from the kind of failure), and its kind:
 *   DSN_HARD   permanent failure (status 5.x.x)
 *   DSN_SOFT   given up after transient failures (Action failed, 4.x.x),
 *              or a full mailbox (x.2.2, or the words, when no code says
 *              more): the address is alive
 *   DSN_DELAY  not given up yet (Action delayed, a warning): never scored
 * POLICY is set when the refusal is about the message, not the mailbox,
 * so that it must not count against the member: 5.7.20-5.7.27 (RFC 7372:
 * DKIM, SPF, DMARC, reverse DNS), any other x.7.x whose text names DMARC,
 * SPF, DKIM, a policy, spam, a block list or reputation, and any failure
 * whose text says the content was refused (spam, virus, content policy).
 */
#ifndef FML_DSN_H
#define FML_DSN_H

#include <stddef.h>

#include "util/status.h"
#include "util/str.h"

#define DSN_MAX_RESULTS 500 /* addresses kept from one bounce */
#define DSN_DIAG_MAX 300    /* bytes of diagnostic text kept */
#define DSN_MAX_DEPTH 20    /* MIME nesting walked */
#define DSN_MAX_PARTS 200   /* MIME parts walked */

typedef enum { DSN_HARD = 'H', DSN_SOFT = 'S', DSN_DELAY = 'W' } dsn_kind;

typedef struct dsn_result {
	str addr;	 /* the failed address (Final-Recipient) */
	str orig;	 /* Original-Recipient, or empty */
	char status[16]; /* "5.1.1" */
	dsn_kind kind;
	int policy;	 /* about the message, not the recipient */
	const char *how; /* "dsn", or the recognizer's name */
	str diag;	 /* one printable line, at most DSN_DIAG_MAX bytes */
} dsn_result;

typedef struct dsn_report {
	dsn_result *r;
	size_t n;
	int report; /* a delivery-status part was found */
	str envid;  /* its Original-Envelope-Id, or empty */
} dsn_report;

void dsn_init(dsn_report *rep);
void dsn_free(dsn_report *rep);
/* Parse the bounce P..N (a whole mail, header and body).  ST_OK with
 * REP->n = 0 when nothing was recognized. */
fml_status dsn_parse(const char *p, size_t n, dsn_report *rep);

/* Is the failure STATUS with diagnostic TEXT about the message (a DMARC,
 * SPF, DKIM, policy, spam or content refusal) rather than the mailbox? */
int dsn_is_policy(const char *status, const char *text, size_t len);

#endif
