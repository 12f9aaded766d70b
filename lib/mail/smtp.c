/*
 * smtp: the SMTP (RFC 5321) and LMTP (RFC 2033) transports, smtp_ops
 * and smtp_lmtp_ops of transport.h.  One code path for both: LMTP says LHLO
 * instead of EHLO and gives one reply per accepted recipient after the
 * final dot.
 *
 *   connect  "host[:port]", "[v6addr][:port]" (smtp: port 25 by default;
 *            lmtp: a port is required) or, for lmtp, "unix:/path".  Every
 *            address of the host is tried with a non-blocking connect
 *            bounded by connect_timeout.  The greeting must be 220; then
 *            EHLO (HELO after a 5xx, smtp only) and its keywords
 *            PIPELINING, SIZE, 8BITMIME, XVERP (Postfix: the server makes
 *            each recipient's sender, MAIL FROM ... XVERP when asked), DSN
 *            (RFC 3461: RET=HDRS ENVID= on MAIL, NOTIFY=FAILURE,DELAY
 *            ORCPT= on each RCPT, when asked).
 *   send     RSET when the connection carried a transaction before, then
 *            MAIL FROM (SIZE=, BODY=8BITMIME when offered and the message
 *            has 8-bit bytes: one read of it), RCPT TO for each recipient,
 *            DATA, the message and ".".  With PIPELINING the commands go out
 *            in windows of SMTP_PIPE_WINDOW (RFC 2920) and the replies are
 *            read in order; without it, one at a time.  DATA is not sent
 *            when no recipient was accepted (a pipelined DATA gets a 5xx
 *            then, which is read and ignored).  A message over the
 *            server's "SIZE n" gets 552 without a transaction; addresses
 *            with control bytes or '<' '>' get 553/554 and never reach the
 *            wire.
 *   close    QUIT, a short wait for its reply, close.
 *
 * The message is streamed from the item file: LF and CRLF become CRLF; a
 * CR that is not followed by LF also becomes CRLF, so no bare CR (nor bare
 * LF) ever reaches the wire (RFC 5321 2.3.8; the "SMTP smuggling" of
 * CVE-2023-51764 needs one), and a line that starts with '.' after it is
 * dot-stuffed like any other.  A missing final line end is added.
 *
 * Timeouts (RFC 5321 4.5.3.2): command_timeout for the greeting and every
 * command reply, data_timeout for each write of the message and for the
 * reply to the final dot.  Nothing waits without a deadline.
 *
 * Failure policy: a 421 reply, a timeout, a malformed reply, EOF or an I/O
 * error ends the connection: every recipient without a final answer gets a
 * 4xx (421 for our own failures) and send returns -1.  Replies are copied
 * into transport_result as one printable line.  Nothing here exits the process.
 */
#include "smtpreply.h"
#include "transport.h"
#include "util/bytes.h"
#include "util/lines.h"
#include "util/mem.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define SMTP_PIPE_WINDOW 100 /* commands written before reading replies */
#define SMTP_OUT_CHUNK 65536 /* message bytes buffered per write */
#define SMTP_QUIT_TIMEOUT 2  /* seconds to wait for the reply to QUIT */
#define SMTP_DEF_CONNECT 30  /* defaults when transport_opts says 0 */
#define SMTP_DEF_COMMAND 300
#define SMTP_DEF_DATA 600

typedef struct smtp_conn {
	transport_conn base;
	int fd; /* -1 once the connection is lost */
	int lmtp;
	int pipelining, eightbitmime, size, dsn;
	unsigned long long size_max; /* SIZE n: the server's limit, 0 = none */
	int used;		     /* a transaction may be open: RSET before the next */
	long cmd_to, data_to;
	char peer[300]; /* for messages: "host:port" or the socket path */
	str out;	/* commands and message bytes not yet written */
	str text;	/* the last reply's text */
	smtpreply_reader rd;
} smtp_conn;

/* The state of one transaction. */
/* RC_LOCAL: refused here, its RCPT never sent (and no reply to read) */
enum { RC_NONE, RC_ACCEPTED, RC_FINAL, RC_LOCAL };

typedef struct smtp_tx {
	transport_result *res;
	unsigned char *st; /* RC_* per recipient */
	size_t n;
	size_t accepted;
	int mail_failed;
} smtp_tx;

static void set_result(transport_result *r, int code, const char *text)
{
	size_t n = strnlen(text, sizeof r->text - 1); /* truncated to fit */

	r->code = code;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)text[i];
		r->text[i] = ch < 0x20 || ch >= 0x7f ? '?' : (char)ch;
	}
	r->text[n] = 0;
}

/* ---- the connection's bytes */

static void conn_drop(smtp_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	smtpreply_init(&c->rd, -1);
	str_clear(&c->out);
}

/* Write everything in c->out within TIMEOUT seconds: 0, or -1 with the
 * reason in c->text. */
static int conn_flush(smtp_conn *c, long timeout)
{
	long long deadline = smtpreply_deadline(timeout);
	size_t done = 0;

	while (done < c->out.len) {
		ssize_t w = send(c->fd, c->out.s + done, c->out.len - done, MSG_NOSIGNAL);
		if (w > 0) {
			done += (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			str_clear(&c->text);
			str_printf(&c->text, "write error: %s", strerror(errno));
			return -1;
		}
		int r = smtpreply_wait(c->fd, POLLOUT, deadline);
		if (r <= 0) {
			str_sets(&c->text, r == 0 ? "timeout sending to the server"
						  : "write error: poll failed");
			return -1;
		}
	}
	str_clear(&c->out);
	return 0;
}

/* Read one reply: its code, or -1 (connection unusable; reason in c->text). */
static int conn_reply(smtp_conn *c, long timeout)
{
	if (c->fd < 0) {
		str_sets(&c->text, "connection already lost");
		return -1;
	}
	return smtpreply_read(&c->rd, timeout, &c->text);
}

/* Send the command in c->out and read its reply. */
static int conn_command(smtp_conn *c)
{
	if (conn_flush(c, c->cmd_to) < 0)
		return -1;
	return conn_reply(c, c->cmd_to);
}

/* ---- connecting */

static int connect_fd(int fd, const struct sockaddr *sa, socklen_t salen, long timeout, str *why)
{
	if (connect(fd, sa, salen) == 0)
		return 0;
	if (errno != EINPROGRESS && errno != EINTR) {
		str_sets(why, strerror(errno));
		return -1;
	}
	int r = smtpreply_wait(fd, POLLOUT, smtpreply_deadline(timeout));
	if (r <= 0) {
		str_sets(why, r == 0 ? "connect timeout" : strerror(errno));
		return -1;
	}
	int err = 0;
	socklen_t len = sizeof err;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err) {
		str_sets(why, strerror(err));
		return -1;
	}
	return 0;
}

static int open_unix(const char *path, long timeout, str *why)
{
	struct sockaddr_un sun;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path || path[0] != '/') {
		str_sets(why, "bad socket path");
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		str_sets(why, strerror(errno));
		return -1;
	}
	if (connect_fd(fd, (struct sockaddr *)&sun, sizeof sun, timeout, why) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Split REST into HOST and PORT ("host", "host:port", "[v6]", "[v6]:port";
 * DEF_PORT when none, NULL = required).  0 or -1 with the reason. */
static int split_hostport(const char *rest, const char *def_port, char *host, size_t hsize,
			  char *port, size_t psize, str *why)
{
	const char *h = rest, *p = NULL;
	size_t hl;

	if (rest[0] == '[') {
		const char *e = strchr(rest, ']');
		if (!e || (e[1] && e[1] != ':')) {
			str_sets(why, "bad [address]");
			return -1;
		}
		h = rest + 1;
		hl = (size_t)(e - h);
		p = e[1] ? e + 2 : NULL;
	} else {
		const char *colon = strrchr(rest, ':');
		if (colon && strchr(rest, ':') != colon)
			colon = NULL; /* a bare IPv6 address */
		hl = colon ? (size_t)(colon - rest) : strlen(rest);
		p = colon ? colon + 1 : NULL;
	}
	if (!p)
		p = def_port;
	if (!p) {
		str_sets(why, "a port is required");
		return -1;
	}
	char *end;
	errno = 0;
	long v = strtol(p, &end, 10);
	if (hl == 0 || hl >= hsize || !*p || *end || errno || v < 1 || v > 65535) {
		str_sets(why, "bad host or port");
		return -1;
	}
	memcpy(host, h, hl);
	host[hl] = 0;
	snprintf(port, psize, "%ld", v);
	return 0;
}

static int open_inet(const char *host, const char *port, long timeout, str *why)
{
	struct addrinfo hints, *res, *ai;
	int fd = -1;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	int e = getaddrinfo(host, port, &hints, &res);
	if (e) {
		str_sets(why, e == EAI_SYSTEM ? strerror(errno) : gai_strerror(e));
		return -1;
	}
	for (ai = res; ai && fd < 0; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
			    ai->ai_protocol);
		if (fd < 0) {
			str_sets(why, strerror(errno));
			continue;
		}
		if (connect_fd(fd, ai->ai_addr, ai->ai_addrlen, timeout, why) < 0) {
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	return fd;
}

/* "SIZE n": n, capped; 0 when absent (no limit announced). */
static unsigned long long ehlo_number(const char *p, const char *le)
{
	unsigned long long v = 0;

	while (p < le && *p == ' ')
		p++;
	for (; p < le && *p >= '0' && *p <= '9'; p++)
		if (v < 1000000000000ULL)
			v = v * 10 + (unsigned)(*p - '0');
	return v;
}

/* The EHLO/LHLO keywords we use, from the raw reply lines after the first. */
static void parse_ehlo(smtp_conn *c)
{
	lines it;
	const char *p;
	size_t n;
	int first = 1;

	for (lines_init(&it, c->rd.raw, c->rd.rawlen); lines_next(&it, &p, &n); first = 0) {
		const char *le = p + n;
		const char *kw = le - p > 4 ? p + 4 : le;
		size_t kl = 0;
		while (kw + kl < le && kw[kl] != ' ' && kw[kl] != '\r')
			kl++;
		if (first)
			; /* "250-our.peer Hello" */
		else if (kl == 10 && strncasecmp(kw, "PIPELINING", 10) == 0)
			c->pipelining = 1;
		else if (kl == 8 && strncasecmp(kw, "8BITMIME", 8) == 0)
			c->eightbitmime = 1;
		else if (kl == 5 && strncasecmp(kw, "XVERP", 5) == 0)
			c->base.xverp = 1;
		else if (kl == 3 && strncasecmp(kw, "DSN", 3) == 0)
			c->dsn = 1;
		else if (kl == 4 && strncasecmp(kw, "SIZE", 4) == 0) {
			c->size = 1;
			c->size_max = ehlo_number(kw + kl, le);
		}
	}
}

/* Greeting and EHLO/LHLO (HELO): 0, or -1 with the reason in ERR. */
static int conn_hello(smtp_conn *c, const char *helo, str *err)
{
	int code = conn_reply(c, c->cmd_to);
	if (code != 220)
		goto fail;
	str_printf(&c->out, "%s %s\r\n", c->lmtp ? "LHLO" : "EHLO", helo);
	code = conn_command(c);
	if (code >= 200 && code < 300) {
		parse_ehlo(c);
		return 0;
	}
	if (c->lmtp || code < 500 || code > 599)
		goto fail;
	str_printf(&c->out, "HELO %s\r\n", helo);
	code = conn_command(c);
	if (code >= 200 && code < 300)
		return 0;
fail:
	str_clear(err);
	if (code < 0)
		str_printf(err, "%s: %s", c->peer, str_c(&c->text));
	else
		str_printf(err, "%s said: %d %s", c->peer, code, str_c(&c->text));
	return -1;
}

static transport_conn *smtp_connect_any(const char *rest, const transport_opts *o, str *err,
					int lmtp)
{
	char host[256], port[8];
	str why = STR_INIT;
	int fd;
	long cto = o->connect_timeout > 0 ? o->connect_timeout : SMTP_DEF_CONNECT;
	const char *helo = o->helo && *o->helo ? o->helo : "localhost";

	str_clear(err);
	if (bytes_has_ctl(helo, strlen(helo)) || strchr(helo, ' ')) {
		str_printf(err, "bad HELO name");
		return NULL;
	}
	if (lmtp && strncmp(rest, "unix:", 5) == 0) {
		fd = open_unix(rest + 5, cto, &why);
	} else if (split_hostport(rest, lmtp ? NULL : "25", host, sizeof host, port, sizeof port,
				  &why) < 0) {
		str_printf(err, "%s: %s", rest, str_c(&why));
		str_free(&why);
		return NULL;
	} else {
		fd = open_inet(host, port, cto, &why);
	}
	if (fd < 0) {
		str_printf(err, "connect to %s: %s", rest, str_c(&why));
		str_free(&why);
		return NULL;
	}
	str_free(&why);

	smtp_conn *c = mem_calloc(1, sizeof *c);
	c->base.ops = lmtp ? &smtp_lmtp_ops : &smtp_ops;
	c->fd = fd;
	c->lmtp = lmtp;
	c->cmd_to = o->command_timeout > 0 ? o->command_timeout : SMTP_DEF_COMMAND;
	c->data_to = o->data_timeout > 0 ? o->data_timeout : SMTP_DEF_DATA;
	snprintf(c->peer, sizeof c->peer, "%s", rest);
	str_init(&c->out);
	str_init(&c->text);
	smtpreply_init(&c->rd, fd);
	if (conn_hello(c, helo, err) < 0) {
		conn_drop(c);
		str_free(&c->out);
		str_free(&c->text);
		free(c);
		return NULL;
	}
	return &c->base;
}

static transport_conn *smtp_connect(const char *rest, const transport_opts *o, str *err)
{
	return smtp_connect_any(rest, o, err, 0);
}

static transport_conn *lmtp_connect(const char *rest, const transport_opts *o, str *err)
{
	return smtp_connect_any(rest, o, err, 1);
}

/* ---- one transaction */

/* The connection is gone: every recipient without a final answer gets a
 * 4xx (CODE if it is one, else 421) with the reason; returns -1. */
static int tx_lost(smtp_conn *c, smtp_tx *t, int code, const char *when)
{
	char why[512];

	if (code < 400 || code > 499)
		code = SMTPREPLY_LOST;
	snprintf(why, sizeof why, "%s: %s (%s)", c->peer, str_c(&c->text), when);
	for (size_t i = 0; i < t->n; i++)
		if (t->st[i] < RC_FINAL) {
			set_result(&t->res[i], code, why);
			t->st[i] = RC_FINAL;
		}
	conn_drop(c);
	return -1;
}

/* Message bytes with an 8th bit set?  Read once, before MAIL. */
static int body_8bit(const transport_msg *m, str *buf)
{
	off_t pos = m->start;

	str_reserve(buf, SMTP_OUT_CHUNK);
	while (pos < m->end) {
		size_t want =
		    m->end - pos > SMTP_OUT_CHUNK ? SMTP_OUT_CHUNK : (size_t)(m->end - pos);
		ssize_t got = pread(m->fd, buf->s, want, pos);
		if (got <= 0)
			return got < 0 ? -1 : 0;
		for (ssize_t i = 0; i < got; i++)
			if ((unsigned char)buf->s[i] & 0x80)
				return 1;
		pos += got;
	}
	return 0;
}

/* IN (GOT bytes) into the DATA block: CRLF line ends, dot-stuffing; *BOL
 * and *CR carry the state from one piece to the next. */
static int put_data(smtp_conn *c, const char *in, size_t got, int *bol, int *cr)
{
	str_reserve(&c->out, 2 * got + 8);
	char *o = c->out.s + c->out.len;
	for (size_t i = 0; i < got; i++) {
		char ch = in[i];
		if (*cr) { /* CR LF, or a lone CR: both end a line */
			*o++ = '\r';
			*o++ = '\n';
			*bol = 1;
			*cr = 0;
			if (ch == '\n')
				continue;
		}
		if (ch == '\r') {
			*cr = 1;
			continue;
		}
		if (ch == '\n') {
			*o++ = '\r';
			*o++ = '\n';
			*bol = 1;
			continue;
		}
		if (*bol && ch == '.')
			*o++ = '.';
		*o++ = ch;
		*bol = 0;
	}
	c->out.len = (size_t)(o - c->out.s);
	c->out.s[c->out.len] = 0;
	if (c->out.len >= SMTP_OUT_CHUNK && conn_flush(c, c->data_to) < 0)
		return -1;
	return 0;
}

/* Stream the message (its prefix first) into the DATA block, then the
 * final CRLF and ".".  0, or -1 with the reason in c->text. */
static int send_body(smtp_conn *c, const transport_msg *m)
{
	char in[SMTP_OUT_CHUNK];
	off_t pos = m->start;
	int bol = 1, cr = 0;

	if (m->prefix_len && put_data(c, m->prefix, m->prefix_len, &bol, &cr) < 0)
		return -1;
	while (pos < m->end) {
		size_t want = m->end - pos > (off_t)sizeof in ? sizeof in : (size_t)(m->end - pos);
		ssize_t got = pread(m->fd, in, want, pos);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			str_clear(&c->text);
			str_printf(&c->text, "local error: reading the message: %s",
				   got < 0 ? strerror(errno) : "file too short");
			return -1;
		}
		pos += got;
		if (put_data(c, in, (size_t)got, &bol, &cr) < 0)
			return -1;
	}
	if (cr || !bol)
		str_append(&c->out, "\r\n", 2);
	str_append(&c->out, ".\r\n", 3);
	return conn_flush(c, c->data_to);
}

/* S as RFC 3461 xtext: '+' and '=', and bytes outside '!'..'~', as +XX. */
static void put_xtext(str *out, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch < '!' || ch > '~' || ch == '+' || ch == '=')
			str_printf(out, "+%02X", ch);
		else
			str_putc(out, ch);
	}
}

/* Append command number I of the transaction (MAIL, RCPT..., DATA). */
static void put_command(smtp_conn *c, size_t i, const char *sender, const char *const *rcpts,
			size_t n, const transport_msg *m, int eight)
{
	if (i == 0) {
		str_printf(&c->out, "MAIL FROM:<%s>", sender);
		if (c->size)
			str_printf(&c->out, " SIZE=%lld",
				   (long long)(m->end - m->start + (off_t)m->prefix_len));
		if (eight)
			str_puts(&c->out, " BODY=8BITMIME");
		/* Postfix's default delimiters need no value */
		if (m->xverp && c->base.xverp)
			str_printf(&c->out, strcmp(m->xverp, "+=") == 0 ? " XVERP" : " XVERP=%s",
				   m->xverp);
		if (m->envid && c->dsn) { /* a failure report returns the header only */
			str_puts(&c->out, " RET=HDRS ENVID=");
			put_xtext(&c->out, m->envid);
		}
		str_puts(&c->out, "\r\n");
	} else if (i <= n) {
		str_printf(&c->out, "RCPT TO:<%s>", rcpts[i - 1]);
		if (m->envid && c->dsn) { /* the member, whatever a forward makes of it */
			str_puts(&c->out, " NOTIFY=FAILURE,DELAY ORCPT=rfc822;");
			put_xtext(&c->out, rcpts[i - 1]);
		}
		str_puts(&c->out, "\r\n");
	} else {
		str_puts(&c->out, "DATA\r\n");
	}
}

/* The reply to command I; 0, or -1 when the connection is gone. */
static int got_reply(smtp_conn *c, smtp_tx *t, size_t i, int code)
{
	if (code >= 300 && code < 400 && i <= t->n) { /* only DATA may say 3xx */
		str_clear(&c->text);
		str_printf(&c->text, "unexpected reply %d", code);
		code = -1;
	}
	if (code < 0 || code == 421)
		return tx_lost(c, t, code,
			       i == 0	   ? "after MAIL FROM"
			       : i <= t->n ? "after RCPT TO"
					   : "after DATA");
	if (i == 0) {
		if (code / 100 == 2)
			return 0;
		t->mail_failed = 1;
		for (size_t k = 0; k < t->n; k++)
			if (t->st[k] < RC_FINAL) {
				set_result(&t->res[k], code, str_c(&c->text));
				t->st[k] = RC_FINAL;
			}
	} else if (i <= t->n && !t->mail_failed) {
		if (code / 100 == 2) {
			t->st[i - 1] = RC_ACCEPTED;
			t->accepted++;
		} else {
			set_result(&t->res[i - 1], code, str_c(&c->text));
			t->st[i - 1] = RC_FINAL;
		}
	}
	return 0;
}

/* After 354: the message, ".", and the reply (LMTP: one per accepted
 * recipient, in order). */
static int tx_data(smtp_conn *c, smtp_tx *t, const transport_msg *m)
{
	if (send_body(c, m) < 0)
		return tx_lost(c, t, -1, "while sending the message");
	for (size_t i = 0; i < t->n; i++) {
		if (t->st[i] != RC_ACCEPTED)
			continue;
		int code = conn_reply(c, c->data_to);
		if (code >= 300 && code < 400) {
			str_clear(&c->text);
			str_printf(&c->text, "unexpected reply %d", code);
			code = -1;
		}
		if (code < 0 || code == 421)
			return tx_lost(c, t, code, "after the end of data");
		for (size_t k = i; k < t->n; k++) {
			if (t->st[k] != RC_ACCEPTED)
				continue;
			set_result(&t->res[k], code, str_c(&c->text));
			t->st[k] = RC_FINAL;
			if (c->lmtp)
				break;
		}
	}
	return 0;
}

static int bad_path(const char *a)
{
	return bytes_has_ctl(a, strlen(a)) || strpbrk(a, "<>") != NULL;
}

/* MAIL, RCPT for each recipient, DATA: pipelined in windows (at most
 * WINDOW replies outstanding, refilled when half are in), or lock-step. */
static int tx_commands(smtp_conn *c, smtp_tx *t, const char *sender, const char *const *rcpts,
		       const transport_msg *m, int eight, int *data_code)
{
	size_t n = t->n, ncmd = n + 2, sent = 0, done = 0;
	size_t window = c->pipelining ? SMTP_PIPE_WINDOW : 1;

	while (done < ncmd) {
		while (sent < ncmd && sent - done < window && !t->mail_failed) {
			if (sent >= 1 && sent <= n && t->st[sent - 1] == RC_LOCAL) {
				sent++; /* no command, no reply */
				continue;
			}
			if (sent == n + 1 && done == sent && t->accepted == 0)
				break; /* nobody accepted: no DATA */
			put_command(c, sent, sender, rcpts, n, m, eight);
			sent++;
		}
		if (sent == done)
			break;
		if (conn_flush(c, c->cmd_to) < 0)
			return tx_lost(c, t, -1, "while sending commands");
		size_t keep = sent < ncmd && !t->mail_failed ? window / 2 : 0;
		while (sent - done > keep) {
			if (done >= 1 && done <= n && t->st[done - 1] == RC_LOCAL) {
				done++;
				continue;
			}
			int code = conn_reply(c, c->cmd_to);
			if (got_reply(c, t, done, code) < 0)
				return -1;
			if (done == n + 1)
				*data_code = code;
			done++;
		}
	}
	return 0;
}

static int smtp_send(transport_conn *tc, const char *sender, const char *const *rcpts, size_t n,
		     const transport_msg *m, transport_result *res)
{
	smtp_conn *c = (smtp_conn *)tc;
	smtp_tx t = {res, mem_calloc(n ? n : 1, 1), n, 0, 0};
	int ret = -1, eight = 0, data_code = 0;

	for (size_t i = 0; i < n; i++)
		set_result(&res[i], 0, "");
	if (c->fd < 0) {
		str_sets(&c->text, "connection already lost");
		ret = tx_lost(c, &t, -1, "before MAIL FROM");
		goto out;
	}
	/* addresses come checked from the queue; never let CR/LF through */
	if (bad_path(sender)) {
		for (size_t i = 0; i < n; i++)
			set_result(&res[i], 554, "5.1.7 local error: bad sender address");
		ret = 0;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (bad_path(rcpts[i])) {
			set_result(&res[i], 553, "5.1.3 local error: bad recipient address");
			t.st[i] = RC_LOCAL;
		}
	/* RFC 1870: a message over the server's announced limit is refused
	 * without a transaction */
	if (c->size_max &&
	    (unsigned long long)(m->end - m->start + (off_t)m->prefix_len) > c->size_max) {
		char why[sizeof res->text];
		snprintf(why, sizeof why, "5.3.4 message size exceeds the limit of %s (%llu)",
			 c->lmtp ? "the LMTP server" : "the SMTP server", c->size_max);
		for (size_t i = 0; i < n; i++)
			if (t.st[i] != RC_LOCAL)
				set_result(&res[i], 552, why);
		ret = 0;
		goto out;
	}
	if (c->used) {
		str_puts(&c->out, "RSET\r\n");
		int code = conn_command(c);
		if (code / 100 != 2) {
			if (code > 0) {
				str_clear(&c->text);
				str_printf(&c->text, "RSET refused: %d", code);
			}
			ret = tx_lost(c, &t, -1, "after RSET");
			goto out;
		}
	}
	c->used = 1;
	if (c->eightbitmime)
		eight = body_8bit(m, &c->out) != 0; /* a read error shows in the body */
	str_clear(&c->out);
	if (tx_commands(c, &t, sender, rcpts, m, eight, &data_code) < 0)
		goto out;
	if (data_code == 354 && t.accepted == 0) {
		/* a pipelined DATA that should have failed: send nothing */
		str_puts(&c->out, ".\r\n");
		int code = conn_command(c);
		if (code < 0 || code == 421) {
			ret = tx_lost(c, &t, code, "after the end of data");
			goto out;
		}
	} else if (data_code == 354) {
		if (tx_data(c, &t, m) < 0)
			goto out;
		c->used = 0; /* the reply to the dot ended the transaction: no RSET */
	} else if (data_code / 100 == 3) {
		str_clear(&c->text);
		str_printf(&c->text, "unexpected reply %d", data_code);
		ret = tx_lost(c, &t, -1, "after DATA");
		goto out;
	} else if (data_code) {
		for (size_t i = 0; i < n; i++)
			if (t.st[i] == RC_ACCEPTED) {
				set_result(&res[i], data_code, str_c(&c->text));
				t.st[i] = RC_FINAL;
			}
	}
	ret = 0;
out:
	free(t.st);
	return ret;
}

static void smtp_close(transport_conn *tc)
{
	smtp_conn *c = (smtp_conn *)tc;

	if (!c)
		return;
	if (c->fd >= 0) {
		str_clear(&c->out);
		str_puts(&c->out, "QUIT\r\n");
		if (conn_flush(c, SMTP_QUIT_TIMEOUT) == 0)
			(void)conn_reply(c, SMTP_QUIT_TIMEOUT);
	}
	conn_drop(c);
	str_free(&c->out);
	str_free(&c->text);
	free(c);
}

const transport_ops smtp_ops = {"smtp", smtp_connect, smtp_send, smtp_close};
const transport_ops smtp_lmtp_ops = {"lmtp", lmtp_connect, smtp_send, smtp_close};
