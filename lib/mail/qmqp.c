/*
 * qmqp: the QMQP client transport (qmqp_ops, "qmqp:host[:port]", port
 * 628 by default), after https://cr.yp.to/proto/qmqp.html.  One request is
 * one netstring holding the message, the sender and each recipient as
 * netstrings; the server answers with one netstring starting with K
 * (accepted), Z (temporary failure) or D (permanent failure) and closes.
 *
 * Decisions:
 * - Line endings: QMQP hands the message to qmail-queue as it is, and qmail
 *   stores LF line endings, so every CRLF of the stored message is sent as
 *   LF (a lone CR is sent unchanged).  The outer netstring's length must be
 *   known first, so the message is read twice through the same converter:
 *   once to count, once to send; the bytes sent are checked against the
 *   count.  The message is read in 64 KB chunks and never held in memory.
 * - One message per connection: connect() opens the first connection (so a
 *   relay that is down fails at connect, like smtp), and each send() closes
 *   the connection after the answer; the next send() connects again.  So
 *   the transport_conn stays reusable across transactions (a first connection
 *   the server closed while it sat idle is replaced before use).  send() returns 0 after
 *   a K, Z or D answer and -1 when the relay could not be reached, the
 *   connection broke or the answer was malformed (every recipient then
 *   carries 451): a runner may then prefer another relay.
 * - K -> 250, Z -> 451, D -> 554 for every recipient; the result text is the
 *   server's answer (control bytes replaced).
 * Failure policy: nothing here is fatal; every failure is a 451 per
 * recipient with the reason, and the connect() reason in ERR.
 */
#include "transport.h"
#include "util/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define QMQP_PORT "628"
#define QMQP_CHUNK 65536
#define QMQP_ANSWER_MAX 1024 /* longest answer payload accepted */
#define QMQP_CONNECT_TIMEOUT 30
#define QMQP_DATA_TIMEOUT 600

typedef struct qmqp_conn {
	transport_conn base;
	char *host, *port;
	long connect_timeout, data_timeout;
	int fd;
	size_t olen;
	char ibuf[QMQP_CHUNK];
	char obuf[QMQP_CHUNK];
} qmqp_conn;

/* One line of at most 255 bytes, no control bytes, for a transport_result. */
static void set_result(transport_result *r, int code, const char *text, size_t n)
{
	size_t i;
	r->code = code;
	if (n > sizeof r->text - 1)
		n = sizeof r->text - 1;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)text[i];
		r->text[i] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
	}
	r->text[i] = 0;
}

static void fail_all(transport_result *res, size_t n, const char *why)
{
	for (size_t i = 0; i < n; i++)
		set_result(&res[i], 451, why, strlen(why));
}

/* "host", "host:port", "[v6]", "[v6]:port"; a bare v6 address has no port. */
static int parse_rest(const char *rest, char **host, char **port)
{
	const char *colon;
	if (rest[0] == '[') {
		const char *close = strchr(rest, ']');
		if (!close || close == rest + 1 || (close[1] && close[1] != ':'))
			return -1;
		*host = mem_strndup(rest + 1, (size_t)(close - rest - 1));
		colon = close[1] ? close + 1 : NULL;
	} else if ((colon = strchr(rest, ':')) && !strchr(colon + 1, ':')) {
		*host = mem_strndup(rest, (size_t)(colon - rest));
	} else {
		*host = mem_strdup(rest);
		colon = NULL;
	}
	*port = mem_strdup(colon ? colon + 1 : QMQP_PORT);
	char *end;
	errno = 0;
	long p = strtol(*port, &end, 10);
	if (!**host || !**port || *end || errno || p < 1 || p > 65535) {
		free(*host);
		free(*port);
		return -1;
	}
	return 0;
}

static long remaining_ms(const struct timespec *deadline)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	long ms = (long)(deadline->tv_sec - now.tv_sec) * 1000 +
		  (deadline->tv_nsec - now.tv_nsec) / 1000000;
	return ms < 0 ? 0 : ms;
}

/* Non-blocking connect to one address within TIMEOUT seconds. */
static int connect_one(const struct addrinfo *ai, long timeout, int *err)
{
	int fd =
	    socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0) {
		*err = errno;
		return -1;
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return fd;
	if (errno != EINPROGRESS) {
		*err = errno;
		close(fd);
		return -1;
	}
	struct pollfd p = {.fd = fd, .events = POLLOUT};
	struct timespec deadline;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout;
	int rc;
	while ((rc = poll(&p, 1, (int)remaining_ms(&deadline))) < 0 && errno == EINTR)
		;
	int soerr = 0;
	socklen_t len = sizeof soerr;
	if (rc == 0)
		soerr = ETIMEDOUT;
	else if (rc < 0)
		soerr = errno;
	else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		soerr = errno;
	if (soerr) {
		*err = soerr;
		close(fd);
		return -1;
	}
	return fd;
}

/* Open c->fd; 0, or -1 with the reason in WHY. */
static int qmqp_open(qmqp_conn *c, str *why)
{
	struct addrinfo hints, *list, *ai;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	int rc = getaddrinfo(c->host, c->port, &hints, &list);
	if (rc != 0) {
		str_printf(why, "qmqp %s: %s", c->host, gai_strerror(rc));
		return -1;
	}
	int err = ECONNREFUSED;
	c->fd = -1;
	for (ai = list; ai && c->fd < 0; ai = ai->ai_next)
		c->fd = connect_one(ai, c->connect_timeout, &err);
	freeaddrinfo(list);
	if (c->fd < 0) {
		str_printf(why, "qmqp %s:%s: connect: %s", c->host, c->port, strerror(err));
		return -1;
	}
	c->olen = 0;
	return 0;
}

static void qmqp_drop(qmqp_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

/*
 * The connection opened by connect() may have sat idle until the first
 * send(); a server that gave up on it has closed it (readable at EOF).
 * Nothing may be readable before our request, so reconnect then.
 */
static int stale(qmqp_conn *c)
{
	struct pollfd p = {.fd = c->fd, .events = POLLIN};
	return poll(&p, 1, 0) != 0;
}

/* Wait until FD is ready for EVENTS, at most data_timeout: 1 ready, 0 not. */
static int wait_fd(qmqp_conn *c, short events)
{
	struct pollfd p = {.fd = c->fd, .events = events};
	int rc;
	while ((rc = poll(&p, 1, (int)(c->data_timeout * 1000))) < 0 && errno == EINTR)
		;
	return rc > 0;
}

static int flush_out(qmqp_conn *c, str *why)
{
	size_t off = 0;
	while (off < c->olen) {
		ssize_t w = send(c->fd, c->obuf + off, c->olen - off, MSG_NOSIGNAL);
		if (w > 0) {
			off += (size_t)w;
		} else if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (errno == EAGAIN && !wait_fd(c, POLLOUT)) {
				str_sets(why, "qmqp: timeout sending the message");
				return -1;
			}
		} else {
			str_printf(why, "qmqp: lost connection while sending: %s",
				   w < 0 ? strerror(errno) : "short write");
			return -1;
		}
	}
	c->olen = 0;
	return 0;
}

static int put(qmqp_conn *c, const void *p, size_t n, str *why)
{
	const char *s = p;
	while (n > 0) {
		if (c->olen == sizeof c->obuf && flush_out(c, why) < 0)
			return -1;
		size_t k = sizeof c->obuf - c->olen;
		if (k > n)
			k = n;
		memcpy(c->obuf + c->olen, s, k);
		c->olen += k;
		s += k;
		n -= k;
	}
	return 0;
}

/*
 * Read the message [start, end) through the CRLF -> LF converter.  With
 * SEND 0 only count the bytes that would go out (into *WIRE); with SEND 1
 * put them into the output buffer and count them too.
 */
static int message_pass(qmqp_conn *c, const transport_msg *m, int send_it, off_t *wire, str *why)
{
	off_t pos = m->start, out = 0;
	int cr = 0; /* the previous chunk ended in a CR not yet decided */
	/* the prefix (header fields fml made: CRLF or LF ends, no lone CR) */
	for (size_t i = 0; i < m->prefix_len; i++) {
		if (m->prefix[i] == '\r')
			continue;
		out++;
		if (send_it && put(c, m->prefix + i, 1, why) < 0)
			return -1;
	}
	while (pos < m->end) {
		size_t want = (size_t)(m->end - pos < QMQP_CHUNK ? m->end - pos : QMQP_CHUNK);
		ssize_t r = pread(m->fd, c->ibuf, want, pos);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			str_printf(why, "qmqp: read message: %s",
				   r < 0 ? strerror(errno) : "file shorter than expected");
			return -1;
		}
		pos += r;
		const char *p = c->ibuf, *e = c->ibuf + r;
		if (cr) {
			cr = 0;
			if (*p != '\n') {
				out++;
				if (send_it && put(c, "\r", 1, why) < 0)
					return -1;
			}
		}
		while (p < e) {
			const char *q = memchr(p, '\r', (size_t)(e - p));
			size_t run = (size_t)((q ? q : e) - p);
			out += (off_t)run;
			if (send_it && put(c, p, run, why) < 0)
				return -1;
			if (!q)
				break;
			p = q + 1;
			if (p == e) {
				cr = 1;
			} else if (*p != '\n') {
				out++;
				if (send_it && put(c, "\r", 1, why) < 0)
					return -1;
			}
		}
	}
	if (cr) {
		out++;
		if (send_it && put(c, "\r", 1, why) < 0)
			return -1;
	}
	*wire = out;
	return 0;
}

static size_t digits(unsigned long long v)
{
	size_t d = 1;
	while (v >= 10) {
		v /= 10;
		d++;
	}
	return d;
}

static unsigned long long netstring_size(unsigned long long len)
{
	return digits(len) + 1 + len + 1;
}

static int put_len(qmqp_conn *c, unsigned long long len, str *why)
{
	char b[32];
	int k = snprintf(b, sizeof b, "%llu:", len);
	return put(c, b, (size_t)k, why);
}

static int put_netstring(qmqp_conn *c, const char *s, str *why)
{
	size_t n = strlen(s);
	if (put_len(c, n, why) < 0 || put(c, s, n, why) < 0 || put(c, ",", 1, why) < 0)
		return -1;
	return 0;
}

/*
 * Read the answer netstring.  0 and the payload in ANS, or -1 with WHY.
 * Bytes after the closing comma are ignored.
 */
static int read_answer(qmqp_conn *c, str *ans, str *why)
{
	char buf[QMQP_ANSWER_MAX + 16];
	size_t have = 0;
	for (;;) {
		/* parse what we have */
		size_t i = 0, len = 0;
		while (i < have && buf[i] >= '0' && buf[i] <= '9' && i < 5)
			len = len * 10 + (size_t)(buf[i++] - '0');
		if (i < have) {
			if (i == 0 || buf[i] != ':' || len > QMQP_ANSWER_MAX) {
				str_sets(why, "qmqp: malformed answer");
				return -1;
			}
			if (have >= i + 1 + len + 1) {
				if (buf[i + 1 + len] != ',') {
					str_sets(why, "qmqp: malformed answer");
					return -1;
				}
				str_set(ans, buf + i + 1, len);
				return 0;
			}
		}
		if (have == sizeof buf) {
			str_sets(why, "qmqp: malformed answer");
			return -1;
		}
		if (!wait_fd(c, POLLIN)) {
			str_sets(why, "qmqp: timeout waiting for the answer");
			return -1;
		}
		ssize_t r = recv(c->fd, buf + have, sizeof buf - have, 0);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0) {
			str_printf(why, "qmqp: connection closed before the answer%s%s",
				   r < 0 ? ": " : "", r < 0 ? strerror(errno) : "");
			return -1;
		}
		have += (size_t)r;
	}
}

/* Send the request and read the answer; 0 with ANS, or -1 with WHY. */
static int transaction(qmqp_conn *c, const char *sender, const char *const *rcpts, size_t n,
		       const transport_msg *m, str *ans, str *why)
{
	off_t wire = 0, sent = 0;
	if (message_pass(c, m, 0, &wire, why) < 0)
		return -1;
	unsigned long long total =
	    netstring_size((unsigned long long)wire) + netstring_size(strlen(sender));
	for (size_t i = 0; i < n; i++)
		total += netstring_size(strlen(rcpts[i]));
	if (put_len(c, total, why) < 0 || put_len(c, (unsigned long long)wire, why) < 0 ||
	    message_pass(c, m, 1, &sent, why) < 0)
		return -1;
	if (sent != wire) {
		str_sets(why, "qmqp: message changed while sending");
		return -1;
	}
	if (put(c, ",", 1, why) < 0 || put_netstring(c, sender, why) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (put_netstring(c, rcpts[i], why) < 0)
			return -1;
	if (put(c, ",", 1, why) < 0 || flush_out(c, why) < 0)
		return -1;
	return read_answer(c, ans, why);
}

static int qmqp_send(transport_conn *tc, const char *sender, const char *const *rcpts, size_t n,
		     const transport_msg *m, transport_result *res)
{
	qmqp_conn *c = (qmqp_conn *)tc;
	str why = STR_INIT, ans = STR_INIT;
	int rc = -1;
	if (n == 0)
		return 0;
	if (c->fd >= 0 && stale(c))
		qmqp_drop(c);
	if (c->fd < 0 && qmqp_open(c, &why) < 0) {
		fail_all(res, n, str_c(&why));
		goto out;
	}
	if (transaction(c, sender, rcpts, n, m, &ans, &why) < 0) {
		fail_all(res, n, str_c(&why));
	} else if (ans.len == 0 || (ans.s[0] != 'K' && ans.s[0] != 'Z' && ans.s[0] != 'D')) {
		str_sets(&why, "qmqp: malformed answer: ");
		str_append(&why, ans.s, ans.len);
		fail_all(res, n, str_c(&why));
	} else {
		int code = ans.s[0] == 'K' ? 250 : ans.s[0] == 'Z' ? 451 : 554;
		for (size_t i = 0; i < n; i++)
			set_result(&res[i], code, ans.s, ans.len);
		rc = 0;
	}
	qmqp_drop(c); /* one message per connection */
out:
	str_free(&why);
	str_free(&ans);
	return rc;
}

static transport_conn *qmqp_connect(const char *rest, const transport_opts *o, str *err)
{
	char *host, *port;
	if (parse_rest(rest, &host, &port) < 0) {
		str_printf(err, "qmqp:%.200s: want host[:port]", rest);
		return NULL;
	}
	qmqp_conn *c = mem_calloc(1, sizeof *c);
	c->base.ops = &qmqp_ops;
	c->host = host;
	c->port = port;
	c->connect_timeout =
	    o && o->connect_timeout > 0 ? o->connect_timeout : QMQP_CONNECT_TIMEOUT;
	c->data_timeout = o && o->data_timeout > 0 ? o->data_timeout : QMQP_DATA_TIMEOUT;
	c->fd = -1;
	if (qmqp_open(c, err) < 0) {
		free(c->host);
		free(c->port);
		free(c);
		return NULL;
	}
	return &c->base;
}

static void qmqp_close(transport_conn *tc)
{
	qmqp_conn *c = (qmqp_conn *)tc;
	if (!c)
		return;
	qmqp_drop(c);
	free(c->host);
	free(c->port);
	free(c);
}

const transport_ops qmqp_ops = {"qmqp", qmqp_connect, qmqp_send, qmqp_close};
