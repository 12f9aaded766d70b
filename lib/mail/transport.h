/*
 * transport: how a queue item's message reaches the next hop.  A transport
 * is chosen by the URI scheme of an SMTP_SERVERS entry:
 *   smtp:host[:port]          RFC 5321 client (EHLO/HELO, PIPELINING, SIZE,
 *                             8BITMIME, dot-stuffing, CRLF on the wire)
 *   lmtp:host:port, lmtp:unix:/path   RFC 2033 (LHLO; a reply per
 *                             recipient after the final dot)
 *   qmqp:host[:port]          QMQP (netstrings; K/Z/D answers), body streamed
 *   maildir:/path             local delivery: /path/<recipient>/{tmp,new,cur}
 *
 * One connection carries any number of transactions (tp_send), so a runner
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

typedef struct tp_opts {
	const char *helo;     /* our name in EHLO/LHLO */
	long connect_timeout; /* seconds */
	long command_timeout; /* MAIL, RCPT, RSET, greeting (RFC 5321: 5 min) */
	long data_timeout;    /* DATA block / final dot (RFC 5321: 3 / 10 min) */
} tp_opts;

typedef struct tp_message {
	int fd;
	off_t start, end; /* the message bytes in FD */
} tp_message;

typedef struct tp_result {
	int code;	/* 250, 451, 550 ...; 0 = not attempted */
	char text[256]; /* the reply (or why), one line, no control bytes */
} tp_result;

typedef struct tp_conn tp_conn;

typedef struct tp_ops {
	const char *scheme;
	/* REST is the URI after "scheme:".  NULL with a reason in ERR when the
	 * peer cannot be reached or greets with an error (callers treat that as
	 * a temporary failure of every recipient). */
	tp_conn *(*connect)(const char *rest, const tp_opts *o, str *err);
	/* One transaction: fill RES[i] for each of the N recipients.  Returns 0
	 * when the connection can be reused, -1 when it is gone (recipients
	 * without a final answer then carry a 4xx). */
	int (*send)(tp_conn *c, const char *sender, const char *const *rcpts, size_t n,
		    const tp_message *m, tp_result *res);
	void (*close)(tp_conn *c); /* QUIT and free */
} tp_ops;

/* Every tp_conn starts with this, so the generic calls find their ops. */
struct tp_conn {
	const tp_ops *ops;
};

extern const tp_ops tp_smtp_ops, tp_lmtp_ops, tp_qmqp_ops, tp_maildir_ops;

/* Connect to URI ("smtp:127.0.0.1:2525"; a bare "host[:port]" is smtp). */
tp_conn *tp_connect(const char *uri, const tp_opts *o, str *err);
int tp_send(tp_conn *c, const char *sender, const char *const *rcpts, size_t n, const tp_message *m,
	    tp_result *res);
void tp_close(tp_conn *c);

#endif
