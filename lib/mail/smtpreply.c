/*
 * smtpreply: parse SMTP/LMTP replies from a socket.  See smtpreply.h.
 *
 * A reply is one or more lines "NNN-text" ending with "NNN text" (or a
 * bare "NNN"), every line with the same code.  The parser works on the
 * bytes buffered so far and either finds a whole reply, asks for more, or
 * gives up; it checks the bytes in the order they arrive, so reading in
 * any chunking gives the same replies.
 *
 * Failure policy: nothing a server sends can make us read or write out of
 * bounds or wait forever.  Anything malformed, a timeout, EOF or a read
 * error makes smtpreply_read() return -1: the caller treats that as a
 * temporary failure (SMTPREPLY_LOST) and drops the connection.
 */
#include "smtpreply.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* The text of a final line, printable ASCII only. */
static void set_text(str *text, const char *p, size_t n)
{
	str_clear(text);
	str_reserve(text, n);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		str_putc(text, c < 0x20 || c >= 0x7f ? '?' : c);
	}
}

int smtpreply_parse(const char *buf, size_t len, int *code, str *text, size_t *consumed)
{
	size_t pos = 0;
	int first = -1;

	*consumed = 0;
	while (pos < len) {
		const char *line = buf + pos;
		size_t avail = len - pos;
		size_t look = avail < SMTPREPLY_LINE_MAX ? avail : SMTPREPLY_LINE_MAX;
		const char *nl = memchr(line, '\n', look);
		size_t n = nl ? (size_t)(nl - line) : avail; /* bytes before the LF */

		/* checks that need only the bytes seen so far */
		for (size_t i = 0; i < n && i < 3; i++)
			if (!is_digit(line[i]))
				return -1;
		if (memchr(line, '\0', n))
			return -1;
		if (!nl)
			return avail >= SMTPREPLY_LINE_MAX ? -1 : 0;

		size_t clen = n > 0 && line[n - 1] == '\r' ? n - 1 : n;
		if (clen < 3 || line[0] < '2' || line[0] > '5')
			return -1;
		int c = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
		if (first >= 0 && c != first)
			return -1;
		first = c;
		int last;
		if (clen == 3)
			last = 1;
		else if (line[3] == ' ')
			last = 1;
		else if (line[3] == '-')
			last = 0;
		else
			return -1;
		pos += n + 1;
		if (last) {
			set_text(text, clen > 4 ? line + 4 : "", clen > 4 ? clen - 4 : 0);
			*code = c;
			*consumed = pos;
			return 1;
		}
		if (pos >= SMTPREPLY_MAX)
			return -1;
	}
	return 0;
}

long long smtpreply_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long long smtpreply_deadline(long secs)
{
	if (secs <= 0)
		secs = 1;
	return smtpreply_now() + (long long)secs * 1000;
}

int smtpreply_wait(int fd, short events, long long deadline)
{
	for (;;) {
		long long left = deadline - smtpreply_now();
		if (left <= 0)
			return 0;
		struct pollfd p = {.fd = fd, .events = events};
		int r = poll(&p, 1, left > 60000 ? 60000 : (int)left);
		if (r > 0)
			return 1; /* ready, or POLLERR/POLLHUP: the read/write says which */
		if (r < 0 && errno != EINTR)
			return -1;
	}
}

void smtpreply_init(smtpreply_reader *r, int fd)
{
	r->fd = fd;
	r->off = r->len = 0;
	r->raw = NULL;
	r->rawlen = 0;
}

int smtpreply_read(smtpreply_reader *r, long timeout, str *text)
{
	long long deadline = smtpreply_deadline(timeout);
	int code = 0;
	size_t used;

	r->raw = NULL;
	r->rawlen = 0;
	for (;;) {
		int st = smtpreply_parse(r->buf + r->off, r->len - r->off, &code, text, &used);
		if (st > 0) {
			r->raw = r->buf + r->off;
			r->rawlen = used;
			r->off += used;
			return code;
		}
		if (st < 0 || r->len - r->off == sizeof r->buf) {
			str_sets(text, "malformed reply");
			return -1;
		}
		if (r->off > 0) { /* make room: drop the replies already returned */
			memmove(r->buf, r->buf + r->off, r->len - r->off);
			r->len -= r->off;
			r->off = 0;
		}
		int w = smtpreply_wait(r->fd, POLLIN, deadline);
		if (w == 0) {
			str_sets(text, "timeout waiting for a reply");
			return -1;
		}
		ssize_t got = w < 0 ? -1 : read(r->fd, r->buf + r->len, sizeof r->buf - r->len);
		if (got < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (got < 0) {
			str_clear(text);
			str_printf(text, "read error: %s", strerror(errno));
			return -1;
		}
		if (got == 0) {
			str_sets(text, r->len ? "connection closed in the middle of a reply"
					      : "connection closed by the server");
			return -1;
		}
		r->len += (size_t)got;
	}
}
