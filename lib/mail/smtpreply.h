/*
 * smtpreply: SMTP/LMTP server replies (RFC 5321 4.2), parsed from a
 * buffered reader over a socket, and the deadline-bounded waits that the
 * SMTP client shares with it.
 *
 * smtpreply_parse() is a pure function over bytes (it is what the fuzz
 * target drives): it never reads outside BUF[0, LEN), never writes outside
 * TEXT, and its answer for a prefix of the bytes is either "need more" or
 * the same answer as for the whole.
 */
#ifndef FML_SMTPREPLY_H
#define FML_SMTPREPLY_H

#include <stddef.h>

#include "util/str.h"

/* One line, up to and including its LF: longer is malformed (RFC 5321
 * allows 512; we are lenient, but never unbounded). */
#define SMTPREPLY_LINE_MAX 4096
/* A whole multi-line reply (an EHLO reply is a few hundred bytes). */
#define SMTPREPLY_MAX 65536

/* Code for a reply we did not get (timeout, EOF, I/O error, malformed):
 * a temporary failure, and the connection is unusable. */
#define SMTPREPLY_LOST 421

/* Parse one complete reply at the start of BUF[0, LEN).  Returns 1 with
 * *CODE (200..599), TEXT (the last line's text after "NNN " with control
 * and 8-bit bytes replaced by '?') and *CONSUMED (bytes through the last
 * line's LF); 0 when more bytes are needed; -1 when the bytes can never
 * become a valid reply (non-digit code, first digit not 2..5, mismatched
 * codes between lines, bad separator, NUL, a line or reply over the
 * limits).  Lines end with LF, optionally preceded by CR. */
int smtpreply_parse(const char *buf, size_t len, int *code, str *text, size_t *consumed);

/* Milliseconds on the monotonic clock, and a deadline SECS from now. */
long long smtpreply_now(void);
long long smtpreply_deadline(long secs);
/* Wait for EVENTS (POLLIN, POLLOUT) on FD until DEADLINE: 1 ready, 0 timed
 * out, -1 poll error (errno set).  EINTR is retried. */
int smtpreply_wait(int fd, short events, long long deadline);

typedef struct smtpreply_reader {
	int fd;
	size_t off, len; /* unread bytes are buf[off, len) */
	const char *raw; /* the last reply as received (for EHLO keywords), */
	size_t rawlen;	 /* valid until the next smtpreply_read() */
	char buf[SMTPREPLY_MAX + SMTPREPLY_LINE_MAX];
} smtpreply_reader;

void smtpreply_init(smtpreply_reader *r, int fd);
/* Read one reply, waiting at most TIMEOUT seconds for it.  Returns its
 * code with the text in TEXT, or -1 when the connection is unusable
 * (timeout, EOF, read error, malformed reply) with the reason in TEXT. */
int smtpreply_read(smtpreply_reader *r, long timeout, str *text);

#endif
