/*
 * maildir: local delivery transport (maildir_ops, "maildir:/path"), for
 * the demo and the tests.  Each recipient's mail goes to the maildir
 * /path/<recipient address>/ (https://cr.yp.to/proto/maildir.html): the
 * message is written to tmp/<unique>, fsynced and closed, renamed into
 * new/<unique>, and new/ is fsynced (lib/safefile does the temp file).
 *
 * Decisions:
 * - /path must exist (a missing mount is a temporary failure, not a reason
 *   to create a new tree); the per-recipient maildir and its tmp/ new/
 *   cur/ are created when missing, mode 0700.
 * - A recipient is a file name: the address passed fml's strict policy, but
 *   an empty name, one with '/', a leading '.', or control bytes is
 *   refused anyway with 550 (retrying would not help).
 * - Each delivered file starts with "Delivered-To: <rcpt>" and
 *   "Return-Path: <sender>" (what qmail-local and Postfix's local add),
 *   then the message bytes exactly as stored.  The two added lines end the
 *   way the message's first line ends (CRLF or LF), so a file never mixes
 *   line endings.
 * - The unique name is "<sec>.M<usec>P<pid>Q<counter>.<host>" (the Maildir
 *   spec; '/' and ':' in the host name written as \057 and \072).
 * - Results: 250 per delivered recipient; 451 with the errno text (ENOSPC,
 *   EDQUOT, EACCES ...) when a step fails.  send() always returns 0: there
 *   is no connection to lose.
 */
#include "transport.h"
#include "util/bytes.h"
#include "util/fs.h"
#include "util/mem.h"
#include "util/safefile.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#define MAILDIR_CHUNK 65536

typedef struct maildir_conn {
	transport_conn base;
	char root[PATH_MAX];
	char host[256];
	unsigned long counter;
} maildir_conn;

static void set_result(transport_result *r, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_result(transport_result *r, int code, const char *fmt, ...)
{
	va_list ap;
	r->code = code;
	va_start(ap, fmt);
	vsnprintf(r->text, sizeof r->text, fmt, ap);
	va_end(ap);
	for (char *p = r->text; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
}

static int safe_name(const char *rcpt)
{
	if (!*rcpt || rcpt[0] == '.' || strlen(rcpt) > NAME_MAX)
		return 0;
	for (const char *p = rcpt; *p; p++)
		if (*p == '/' || (unsigned char)*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

/* The host part of unique names: '/' and ':' written as \057 and \072. */
static void host_name(char *out, size_t size)
{
	char h[128];
	size_t o = 0;
	if (gethostname(h, sizeof h) < 0 || !h[0])
		snprintf(h, sizeof h, "localhost");
	h[sizeof h - 1] = 0;
	for (const char *p = h; *p && o + 5 < size; p++) {
		if (*p == '/' || *p == ':') {
			snprintf(out + o, size - o, "\\%03o", (unsigned)*p);
			o += 4;
		} else {
			out[o++] = *p;
		}
	}
	out[o] = 0;
}

static int make_dir(const char *path)
{
	if (mkdir(path, 0700) == 0 || errno == EEXIST)
		return 0;
	return -1;
}

/* "\r\n" when the message's first line ends in CRLF, else "\n". */
static const char *line_end(const transport_msg *m)
{
	char buf[1024];
	ssize_t r = pread(m->fd, buf, sizeof buf, m->start);
	if (r <= 0)
		return "\n";
	if (m->end - m->start < r)
		r = (ssize_t)(m->end - m->start);
	char *nl = memchr(buf, '\n', (size_t)r);
	return nl && nl > buf && nl[-1] == '\r' ? "\r\n" : "\n";
}

static int copy_message(safefile *sf, const transport_msg *m, char *buf)
{
	off_t pos = m->start;
	if (m->prefix_len && safefile_write(sf, m->prefix, m->prefix_len) != ST_OK)
		return -1;
	while (pos < m->end) {
		size_t want = (size_t)(m->end - pos < MAILDIR_CHUNK ? m->end - pos : MAILDIR_CHUNK);
		ssize_t r = pread(m->fd, buf, want, pos);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			errno = EIO; /* the item file is shorter than its index says */
		if (r <= 0)
			return -1;
		if (safefile_write(sf, buf, (size_t)r) != ST_OK)
			return -1;
		pos += r;
	}
	return 0;
}

/* Deliver to one maildir; 0, or -1 with errno and the failing step. */
static int deliver(maildir_conn *c, const char *sender, const char *rcpt, const transport_msg *m,
		   char *buf, const char **step)
{
	char dir[PATH_MAX], sub[PATH_MAX], tmp[PATH_MAX], final[PATH_MAX], newdir[PATH_MAX];
	static const char *const subs[] = {"tmp", "new", "cur"};
	*step = "path";
	if (fs_path(dir, sizeof dir, "%s/%s", c->root, rcpt) < 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	*step = "mkdir";
	if (make_dir(dir) < 0)
		return -1;
	for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
		if (fs_path(sub, sizeof sub, "%s/%s", dir, subs[i]) < 0) {
			errno = ENAMETOOLONG;
			return -1;
		}
		if (make_dir(sub) < 0)
			return -1;
	}
	struct timeval tv;
	gettimeofday(&tv, NULL);
	char unique[400];
	snprintf(unique, sizeof unique, "%lld.M%06ldP%dQ%lu.%s", (long long)tv.tv_sec,
		 (long)tv.tv_usec, (int)getpid(), ++c->counter, c->host);
	if (fs_path(tmp, sizeof tmp, "%s/tmp/%s", dir, unique) < 0 ||
	    fs_path(final, sizeof final, "%s/new/%s", dir, unique) < 0 ||
	    fs_path(newdir, sizeof newdir, "%s/new", dir) < 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	safefile sf;
	*step = "create";
	errno = 0;
	if (safefile_open_path(&sf, tmp) != ST_OK)
		return -1;
	const char *eol = line_end(m);
	*step = "write";
	errno = 0;
	if (safefile_puts(&sf, "Delivered-To: ") != ST_OK || safefile_puts(&sf, rcpt) != ST_OK ||
	    safefile_puts(&sf, eol) != ST_OK || safefile_puts(&sf, "Return-Path: <") != ST_OK ||
	    safefile_puts(&sf, sender) != ST_OK || safefile_puts(&sf, ">") != ST_OK ||
	    safefile_puts(&sf, eol) != ST_OK || copy_message(&sf, m, buf) < 0) {
		int err = errno ? errno : EIO;
		safefile_abort(&sf);
		errno = err;
		return -1;
	}
	*step = "commit";
	errno = 0;
	if (safefile_commit(&sf, final) != ST_OK) {
		if (!errno)
			errno = EIO;
		return -1;
	}
	*step = "fsync new";
	errno = 0;
	if (fs_fsync_dir(newdir) != ST_OK) {
		if (!errno)
			errno = EIO;
		return -1;
	}
	return 0;
}

static int maildir_send(transport_conn *tc, const char *sender, const char *const *rcpts, size_t n,
			const transport_msg *m, transport_result *res)
{
	maildir_conn *c = (maildir_conn *)tc;
	int bad_sender = bytes_has_ctl(sender, strlen(sender));
	char *buf = mem_alloc(MAILDIR_CHUNK);
	for (size_t i = 0; i < n; i++) {
		const char *step;
		if (bad_sender) {
			set_result(&res[i], 554, "5.1.7 maildir: unsafe sender address");
		} else if (!safe_name(rcpts[i])) {
			set_result(&res[i], 550, "5.1.3 maildir: unsafe mailbox name");
		} else if (deliver(c, sender, rcpts[i], m, buf, &step) < 0) {
			int err = errno;
			set_result(&res[i], 451, "4.3.0 maildir %s: %s: %s", rcpts[i], step,
				   strerror(err));
		} else {
			set_result(&res[i], 250, "2.0.0 delivered to maildir %s", rcpts[i]);
		}
	}
	free(buf);
	return 0;
}

static transport_conn *maildir_connect(const char *rest, const transport_opts *o, str *err)
{
	(void)o;
	struct stat st;
	if (rest[0] != '/') {
		str_printf(err, "maildir:%.200s: want an absolute path", rest);
		return NULL;
	}
	if (stat(rest, &st) < 0) {
		str_printf(err, "maildir:%.200s: %s", rest, strerror(errno));
		return NULL;
	}
	if (!S_ISDIR(st.st_mode)) {
		str_printf(err, "maildir:%.200s: not a directory", rest);
		return NULL;
	}
	maildir_conn *c = mem_calloc(1, sizeof *c);
	if (fs_path(c->root, sizeof c->root, "%s", rest) < 0) {
		str_sets(err, "maildir: path too long");
		free(c);
		return NULL;
	}
	c->base.ops = &maildir_ops;
	host_name(c->host, sizeof c->host);
	return &c->base;
}

static void maildir_close(transport_conn *c)
{
	free(c);
}

const transport_ops maildir_ops = {"maildir", maildir_connect, maildir_send, maildir_close};
