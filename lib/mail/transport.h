/*
 * transport: how a queue item's message reaches the next hop.  A transport
 * is chosen by the URI scheme of an SMTP_SERVERS entry:
 *   smtp:host[:port]          RFC 5321 client (EHLO/HELO, PIPELINING, SIZE,
 *                             8BITMIME, XVERP, DSN, dot-stuffing, CRLF on the wire)
 *   lmtp:host:port, lmtp:unix:/path   RFC 2033 (LHLO; a reply per
 *                             recipient after the final dot)
 *   qmqp:host[:port]          QMQP (netstrings; K/Z/D answers), body streamed
 *   maildir:/path             local delivery: /path/<recipient>/{tmp,new,cur}
 *
 * One connection carries any number of transactions (transport_send), so a runner
 * reuses it (RSET between) for the next batch.  Results are SMTP-like codes
 * per recipient: 2xx accepted, 4xx try again later, 5xx give up.  The
 * message is streamed from the item file (fd, [start, end)) and never held
 * in memory; stored line endings may be LF or CRLF, the wire gets CRLF.
 */
#ifndef FML_TRANSPORT_H
#define FML_TRANSPORT_H

#include <sys/types.h>

#include "util/status.h"
#include "util/str.h"

typedef struct transport_opts {
	const char *helo;     /* our name in EHLO/LHLO */
	long connect_timeout; /* seconds */
	long command_timeout; /* MAIL, RCPT, RSET, greeting (RFC 5321: 5 min) */
	long data_timeout;    /* DATA block / final dot (RFC 5321: 3 / 10 min) */
} transport_opts;

typedef struct transport_msg {
	int fd;
	off_t start, end;   /* the message bytes in FD */
	const char *xverp;  /* ask for XVERP with these delimiters (NULL: no);
			     * only where the connection offers it */
	const char *envid;  /* ask for DSNs (RFC 3461) with this ENVID, each
			     * recipient its ORCPT, NOTIFY=FAILURE,DELAY (NULL:
			     * no); only where the connection offers DSN */
	const char *prefix; /* header fields sent before the message (the
			     * list's DKIM-Signature), line ends as stored */
	size_t prefix_len;
} transport_msg;

typedef struct transport_result {
	int code;	/* 250, 451, 550 ...; 0 = not attempted */
	char text[256]; /* the reply (or why), one line, no control bytes */
} transport_result;

typedef struct transport_conn transport_conn;

typedef struct transport_ops {
	const char *scheme;
	/* REST is the URI after "scheme:".  NULL with a reason in ERR when the
	 * peer cannot be reached or greets with an error (callers treat that as
	 * a temporary failure of every recipient). */
	transport_conn *(*connect)(const char *rest, const transport_opts *o, str *err);
	/* One transaction: fill RES[i] for each of the N recipients.  Returns 0
	 * when the connection can be reused, -1 when it is gone (recipients
	 * without a final answer then carry a 4xx). */
	int (*send)(transport_conn *c, const char *sender, const char *const *rcpts, size_t n,
		    const transport_msg *m, transport_result *res);
	void (*close)(transport_conn *c); /* QUIT and free */
} transport_ops;

/* Every transport_conn starts with this, so the generic calls find their ops. */
struct transport_conn {
	const transport_ops *ops;
	int xverp; /* the server offers Postfix's XVERP (per-recipient senders) */
};

extern const transport_ops smtp_ops, smtp_lmtp_ops, qmqp_ops, maildir_ops;

/* Connect to URI ("smtp:127.0.0.1:2525"; a bare "host[:port]" is smtp). */
transport_conn *transport_connect(const char *uri, const transport_opts *o, str *err);
int transport_send(transport_conn *c, const char *sender, const char *const *rcpts, size_t n,
		   const transport_msg *m, transport_result *res);
void transport_close(transport_conn *c);

#endif
