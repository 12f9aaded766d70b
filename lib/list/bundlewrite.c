/*
 * bundlewrite: a part of a bundle (bundle.h) written as one mail body in
 * one of the formats of bundlewrite.h (mp, uf, rfc1153, rfc934, tgz, gz),
 * or as a plain mboxrd stream.  Which articles go into which part is
 * bundle.c's.
 *
 * Articles are streamed from their files through one 64 KiB buffer; only
 * the header of an article (up to 64 KiB, by envelope_parse_fd()) is held
 * in memory, for the table of contents and the From_ line.  Our own lines
 * end in LF: the queue file is LF-based and the SMTP client turns every line
 * ending into CRLF, so "\n--boundary" is the CRLF delimiter of RFC 2046.
 * Article bytes are never changed, except the quoting the format asks for
 * and rfc1153, which shows each article decoded (mimetext.c).
 *
 * Failure policy: an article that cannot be read, or that vanished between
 * bundle_plan() and bundlewrite() and is in no archive unit either (an
 * expired one is read from its unit), is logged and ST_TEMPFAIL; a sink error
 * is returned as the sink returned it.
 */
#include "bundlewrite.h"
#include "mail/addr.h"
#include "mail/envelope.h"
#include "mail/mimetext.h"
#include "mail/rfc2047.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/randhex.h"

#include <archive.h>
#include <archive_entry.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <gmime/gmime.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BUNDLE_BUF 65536	/* read and write buffers */
#define BUNDLE_HEADER_MAX 65536 /* header bytes read for the contents */
#define BUNDLE_TOC_TEXT 200	/* bytes of a subject or author shown */
#define BUNDLE_B64_IN 12288	/* base64 input per encode step */

/* ================================================================ output */

/* A buffered writer in front of a sink; the first error sticks. */
typedef struct bout {
	bundlewrite_sink sink;
	void *arg;
	fml_status st;
	size_t len;
	char buf[BUNDLE_BUF];
} bout;

static void out_flush(bout *o)
{
	if (o->st == ST_OK && o->len)
		o->st = o->sink(o->arg, o->buf, o->len);
	o->len = 0;
}

/* A new writer in front of SINK; out_done() flushes and frees it. */
static bout *out_new(bundlewrite_sink sink, void *arg)
{
	bout *o = mem_alloc(sizeof *o);
	o->sink = sink;
	o->arg = arg;
	o->st = ST_OK;
	o->len = 0;
	return o;
}

/* Flush O and free it; ST is the status of what wrote into it. */
static fml_status out_done(bout *o, fml_status st)
{
	out_flush(o);
	if (st == ST_OK)
		st = o->st;
	free(o);
	return st;
}

static void out_put(bout *o, const void *p, size_t n)
{
	const char *s = p;
	while (n && o->st == ST_OK) {
		if (o->len == sizeof o->buf)
			out_flush(o);
		size_t k = sizeof o->buf - o->len < n ? sizeof o->buf - o->len : n;
		memcpy(o->buf + o->len, s, k);
		o->len += k;
		s += k;
		n -= k;
	}
}

static void out_putc(bout *o, char c)
{
	if (o->len == sizeof o->buf)
		out_flush(o);
	if (o->st == ST_OK)
		o->buf[o->len++] = c;
}

static void out_puts(bout *o, const char *s)
{
	out_put(o, s, strlen(s));
}

static void out_str(bout *o, const str *s)
{
	out_put(o, s->s, s->len);
}

static void out_repeat(bout *o, char c, size_t n)
{
	while (n--)
		out_putc(o, c);
}

/* ---------------------------------------------------------------- quoting */

enum { Q_NONE, Q_MBOXRD, Q_DASH };

/* Line-start quoting across buffer boundaries: mboxrd holds the '>' run and
 * the part of "From " seen so far at the start of a line. */
typedef struct quoter {
	int mode;
	int bol;   /* at the beginning of a line */
	long gt;   /* mboxrd: '>' held */
	size_t m;  /* mboxrd: bytes of "From " held after them */
	int lastc; /* the last article byte, -1 before any */
} quoter;

static void quote_init(quoter *q, int mode)
{
	q->mode = mode;
	q->bol = 1;
	q->gt = 0;
	q->m = 0;
	q->lastc = -1;
}

static void quote_release(bout *o, quoter *q)
{
	out_repeat(o, '>', (size_t)q->gt);
	out_put(o, "From ", q->m);
	q->gt = 0;
	q->m = 0;
	q->bol = 0;
}

static void quote_put(bout *o, quoter *q, const char *p, size_t n)
{
	if (n)
		q->lastc = (unsigned char)p[n - 1];
	if (q->mode == Q_NONE) {
		out_put(o, p, n);
		return;
	}
	for (size_t i = 0; i < n && o->st == ST_OK; i++) {
		char c = p[i];
		if (q->bol && q->mode == Q_DASH) {
			if (c == '-')
				out_put(o, "- ", 2);
			q->bol = 0;
		} else if (q->bol) {
			if (q->m == 0 && c == '>') {
				q->gt++;
				continue;
			}
			if (c == "From "[q->m]) {
				if (++q->m < 5)
					continue;
				out_putc(o, '>');
				quote_release(o, q);
				continue;
			}
			quote_release(o, q);
		}
		out_putc(o, c);
		if (c == '\n')
			q->bol = 1;
	}
}

/* The end of an article: what is held, and a newline if it lacks one. */
static void quote_end(bout *o, quoter *q)
{
	if (q->mode == Q_MBOXRD && q->bol)
		quote_release(o, q);
	if (q->lastc != '\n')
		out_putc(o, '\n');
}

/* ================================================================ writing */

typedef struct wctx {
	const bundle *b;
	size_t first, end; /* arts[first .. end) */
	article_store *store;
	const char *title;
	char boundary[64];
	str tmp;
	char *buf; /* BUNDLE_BUF read buffer */
} wctx;

/* Article I of the part: open it, fstat it, and parse its header into E
 * (when E is not NULL). */
static fml_status art_open(wctx *w, size_t i, int *fd, struct stat *st, envelope *e)
{
	long n = w->b->arts[i];
	off_t size;
	/* one expired since bundle_plan() is read from its archive unit */
	fml_status s = article_open(w->store, n, fd, &size);

	if (s == ST_NOINPUT) {
		msg_error("article %ld vanished from %s", n, w->store->spool_dir);
		return ST_TEMPFAIL;
	}
	if (s != ST_OK)
		return s;
	if (fstat(*fd, st) < 0) {
		msg_error("fstat article %ld: %s", n, strerror(errno));
		close(*fd);
		return ST_TEMPFAIL;
	}
	if (e) {
		envelope_limits lim = {BUNDLE_HEADER_MAX, 0};
		if ((s = envelope_parse_fd(e, *fd, 0, -1, &lim)) != ST_OK) {
			close(*fd);
			return s;
		}
	}
	return ST_OK;
}

/* Stream bytes FROM..TO of article N through Q into O. */
static fml_status art_stream(wctx *w, bout *o, quoter *q, int fd, off_t from, off_t to, long n)
{
	off_t pos = from;
	while (pos < to && o->st == ST_OK) {
		size_t want = to - pos > BUNDLE_BUF ? BUNDLE_BUF : (size_t)(to - pos);
		ssize_t got = pread(fd, w->buf, want, pos);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			msg_error("reading article %ld: %s", n,
				  got < 0 ? strerror(errno) : "file shrank");
			return ST_TEMPFAIL;
		}
		quote_put(o, q, w->buf, (size_t)got);
		pos += got;
	}
	return o->st;
}

/* Text for the contents: valid UTF-8, no control bytes, at most MAX bytes
 * (cut at a character boundary), blanks trimmed. */
static void put_text(str *out, const char *p, size_t n, size_t max)
{
	gchar *v = g_utf8_make_valid(p, (gssize)n);
	size_t len = strlen(v), start = out->len;

	if (len > max) {
		len = max;
		while (len > 0 && ((unsigned char)v[len] & 0xc0) == 0x80)
			len--;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];
		if (c < 0x20 || c == 0x7f)
			c = ' ';
		if (c == ' ' && (out->len == start || out->s[out->len - 1] == ' '))
			continue;
		str_putc(out, (char)c);
	}
	while (out->len > start && out->s[out->len - 1] == ' ')
		out->len--;
	out->s[out->len] = 0;
	g_free(v);
}

static void toc_author(const envelope *e, str *line, str *tmp)
{
	const hfield *f = envelope_get(e, "From", 0);
	size_t start = line->len;

	if (!f || f->bad) {
		str_puts(line, "?");
		return;
	}
	const char *v = str_c(&f->value);
	const char *lt = memchr(v, '<', f->value.len);
	if (lt) { /* display name before the angle address */
		const char *a = v, *z = lt;
		while (a < z && (*a == ' ' || *a == '\t' || *a == '"'))
			a++;
		while (z > a && (z[-1] == ' ' || z[-1] == '\t' || z[-1] == '"'))
			z--;
		str_clear(tmp);
		rfc2047_decode(a, (size_t)(z - a), tmp);
		put_text(line, str_c(tmp), tmp->len, BUNDLE_TOC_TEXT);
		if (line->len > start)
			return;
	}
	str_clear(tmp);
	if (addr_parse_first(v, f->value.len, tmp) == ST_OK && tmp->len)
		put_text(line, tmp->s, tmp->len, BUNDLE_TOC_TEXT);
	else
		put_text(line, v, f->value.len, BUNDLE_TOC_TEXT);
	if (line->len == start)
		str_puts(line, "?");
}

/* "N: Subject (Author)" for every article of the part, each after INDENT. */
static fml_status toc_build(wctx *w, const char *indent, str *toc)
{
	envelope e;
	str dec = STR_INIT;
	fml_status st = ST_OK;

	envelope_init(&e);
	for (size_t i = w->first; i < w->end; i++) {
		int fd;
		struct stat sb;
		if ((st = art_open(w, i, &fd, &sb, &e)) != ST_OK)
			break;
		close(fd);
		str_printf(toc, "%s%ld: ", indent, w->b->arts[i]);
		const hfield *f = envelope_get(&e, "Subject", 0);
		size_t before = toc->len;
		if (f && !f->bad) {
			str_clear(&dec);
			rfc2047_decode(str_c(&f->value), f->value.len, &dec);
			put_text(toc, str_c(&dec), dec.len, BUNDLE_TOC_TEXT);
		}
		if (toc->len == before)
			str_puts(toc, "(no subject)");
		str_puts(toc, " (");
		toc_author(&e, toc, &dec);
		str_puts(toc, ")\n");
	}
	envelope_free(&e);
	str_free(&dec);
	return st;
}

/* The title for the text: no control bytes. */
static void title_text(const char *title, str *out)
{
	str_clear(out);
	put_text(out, title, strlen(title), 64);
	if (out->len == 0)
		str_puts(out, "fml");
}

/* "TITLE-A-B.EXT" with TITLE reduced to [A-Za-z0-9._-] for a header. */
static void attach_name(wctx *w, const char *ext, str *out)
{
	str_clear(out);
	for (const char *p = w->title; *p && out->len < 64; p++)
		str_putc(out, isalnum((unsigned char)*p) || *p == '.' || *p == '-' ? *p : '_');
	if (out->len == 0 || out->s[0] == '.')
		str_sets(out, "fml");
	str_printf(out, "-%ld-%ld.%s", w->b->arts[w->first], w->b->arts[w->end - 1], ext);
}

static fml_status make_boundary(wctx *w)
{
	char hex[16 * 2 + 1];
	if (randhex_secret(hex, 16) != ST_OK)
		return ST_TEMPFAIL;
	/* "=_" cannot occur in base64 or quoted-printable text */
	snprintf(w->boundary, sizeof w->boundary, "=_fml_%s", hex);
	return ST_OK;
}

static void put_delim(wctx *w, bout *o, int close_delim)
{
	out_puts(o, "\n--");
	out_puts(o, w->boundary);
	out_puts(o, close_delim ? "--\n" : "\n");
}

static const char text_plain[] = "Content-Type: text/plain; charset=UTF-8\n"
				 "Content-Transfer-Encoding: 8bit\n";

/* ---------------------------------------------------------------- mp */

static fml_status write_mp(wctx *w, bout *o)
{
	str toc = STR_INIT;
	fml_status st;

	if ((st = make_boundary(w)) != ST_OK || (st = toc_build(w, "", &toc)) != ST_OK) {
		str_free(&toc);
		return st;
	}
	out_puts(o, "Content-Type: multipart/digest; boundary=\"");
	out_puts(o, w->boundary);
	out_puts(o, "\"\nContent-Transfer-Encoding: 8bit\n\n");
	title_text(w->title, &w->tmp);
	out_str(o, &w->tmp);
	str_clear(&w->tmp);
	str_printf(&w->tmp, ": %zu articles in MIME digest format.\n", w->end - w->first);
	out_str(o, &w->tmp);
	put_delim(w, o, 0);
	out_puts(o, text_plain);
	out_puts(o, "\n");
	out_str(o, &toc);
	str_free(&toc);
	for (size_t i = w->first; i < w->end && o->st == ST_OK; i++) {
		int fd;
		struct stat sb;
		quoter q;
		if ((st = art_open(w, i, &fd, &sb, NULL)) != ST_OK)
			return st;
		put_delim(w, o, 0);
		out_putc(o, '\n'); /* no fields: message/rfc822 by default */
		quote_init(&q, Q_NONE);
		st = art_stream(w, o, &q, fd, 0, sb.st_size, w->b->arts[i]);
		close(fd);
		if (st != ST_OK)
			return st;
		/* the delimiter's own line ending ends the part: the body is the
		 * article's bytes exactly, with or without a final newline */
	}
	put_delim(w, o, 1);
	return o->st;
}

/* ---------------------------------------------------------------- uf */

/* RFC 5322 date-time to a time_t; -1 when it cannot be read. */
static time_t parse_date(const char *v)
{
	struct tm tm;
	const char *p = v, *comma = strchr(v, ',');

	if (comma && comma - v < 16)
		p = comma + 1;
	memset(&tm, 0, sizeof tm);
	if (!strptime(p, " %d %b %Y %H:%M:%S %z", &tm)) {
		memset(&tm, 0, sizeof tm);
		if (!strptime(p, " %d %b %Y %H:%M %z", &tm))
			return -1;
	}
	long off = tm.tm_gmtoff;
	time_t t = timegm(&tm);
	return t == -1 ? -1 : t - off;
}

/* The address in field NAME of E into OUT when it passes addr_check(). */
static int from_addr(const envelope *e, const char *name, str *out)
{
	const hfield *f = envelope_get(e, name, 0);
	fml_status st;

	if (!f || f->bad)
		return 0;
	str_clear(out);
	if (strcasecmp(name, "Return-Path") == 0)
		st = addr_parse_path(str_c(&f->value), f->value.len, out);
	else
		st = addr_parse_first(str_c(&f->value), f->value.len, out);
	return st == ST_OK && out->len && !addr_check(out->s, out->len);
}

/* "From ADDR DATE" (asctime, UTC) for article E. */
static void from_line(const envelope *e, const struct stat *sb, str *line, str *tmp)
{
	const hfield *f;
	char date[64];
	struct tm tm;
	time_t t = -1;

	if (!from_addr(e, "Return-Path", tmp) && !from_addr(e, "From", tmp))
		str_sets(tmp, "fml");
	if ((f = envelope_get(e, "Date", 0)) && !f->bad)
		t = parse_date(str_c(&f->value));
	if (t == -1)
		t = sb->st_mtime;
	if (!gmtime_r(&t, &tm) || !strftime(date, sizeof date, "%a %b %e %H:%M:%S %Y", &tm))
		snprintf(date, sizeof date, "Thu Jan  1 00:00:00 1970");
	str_clear(line);
	str_printf(line, "From %s %s\n", str_c(tmp), date);
}

/* The mboxrd text of the part (the body of uf, the file of gz). */
static fml_status write_mbox(wctx *w, bout *o)
{
	envelope e;
	str line = STR_INIT;
	fml_status st = ST_OK;

	envelope_init(&e);
	for (size_t i = w->first; i < w->end && o->st == ST_OK; i++) {
		int fd;
		struct stat sb;
		quoter q;
		if ((st = art_open(w, i, &fd, &sb, &e)) != ST_OK)
			break;
		from_line(&e, &sb, &line, &w->tmp);
		out_str(o, &line);
		quote_init(&q, Q_MBOXRD);
		st = art_stream(w, o, &q, fd, 0, sb.st_size, w->b->arts[i]);
		close(fd);
		if (st != ST_OK)
			break;
		quote_end(o, &q);
		out_putc(o, '\n');
	}
	envelope_free(&e);
	str_free(&line);
	return st != ST_OK ? st : o->st;
}

/* ---------------------------------------------------------------- rfc1153, rfc934 */

/* RFC 1153: each article as its readable text (mimetext.c: decoded header
 * fields and text parts, one line per attachment), dash-stuffed.  The text
 * is spilled to a temp file (memfd) first, because the part's header
 * depends on all of it: charset=UTF-8 when a byte is non-ASCII (else
 * us-ascii, 7bit), and quoted-printable when a line is over 998 octets
 * (RFC 5322 2.1.1), else 8bit. */
typedef struct spill {
	int fd;
	int high;	/* some byte >= 0x80 */
	size_t col;	/* bytes since the last LF */
	size_t longest; /* the longest line, LF excluded */
} spill;

static fml_status spill_sink(void *arg, const void *p, size_t n)
{
	spill *s = arg;
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++) {
		s->high |= c[i] >= 0x80;
		s->col = c[i] == '\n' ? 0 : s->col + 1;
		if (s->col > s->longest)
			s->longest = s->col;
	}
	while (n) {
		ssize_t k = write(s->fd, c, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			msg_error("writing a digest temp file: %s",
				  k < 0 ? strerror(errno) : "short");
			return ST_TEMPFAIL;
		}
		c += k;
		n -= (size_t)k;
	}
	return ST_OK;
}

/* The spill file: a memfd, so that no directory has to be writable by the
 * list owner and nothing is left behind; its size is the part's text, at
 * most about the part size limit. */
static int spill_open(void)
{
	int fd = memfd_create("fml-rfc1153", MFD_CLOEXEC);

	if (fd < 0)
		msg_error("digest temp file: %s", strerror(errno));
	return fd;
}

/* mimetext's output through the dash quoter. */
typedef struct dashout {
	bout *o;
	quoter q;
} dashout;

static fml_status dash_sink(void *arg, const void *p, size_t n)
{
	dashout *d = arg;
	quote_put(d->o, &d->q, p, n);
	return d->o->st;
}

/* The digest text (contents, articles, trailer) into T. */
static fml_status rfc1153_text(wctx *w, bout *t, str *title)
{
	str toc = STR_INIT;
	dashout d = {t, {0}};
	fml_status st;

	if ((st = toc_build(w, "   ", &toc)) != ST_OK) {
		str_free(&toc);
		return st;
	}
	out_str(t, title);
	out_puts(t, " Digest\n\nToday's Topics:\n\n");
	out_str(t, &toc);
	str_free(&toc);
	out_putc(t, '\n');
	out_repeat(t, '-', 70);
	out_putc(t, '\n');
	for (size_t i = w->first; i < w->end && t->st == ST_OK; i++) {
		int fd;
		struct stat sb;
		if ((st = art_open(w, i, &fd, &sb, NULL)) != ST_OK)
			return st;
		out_putc(t, '\n');
		quote_init(&d.q, Q_DASH);
		st = mimetext_fd(fd, sb.st_size, dash_sink, &d);
		close(fd);
		if (st != ST_OK)
			return st;
		quote_end(t, &d.q);
		out_putc(t, '\n');
		out_repeat(t, '-', 30);
		out_putc(t, '\n');
	}
	str_puts(title, " Digest");
	out_puts(t, "\nEnd of ");
	out_str(t, title);
	out_putc(t, '\n');
	out_repeat(t, '*', strlen("End of ") + title->len);
	out_putc(t, '\n');
	out_flush(t);
	return t->st;
}

/* The header for what S holds, then its bytes, quoted-printable if need be. */
static fml_status rfc1153_copy(wctx *w, bout *o, const spill *s)
{
	int qp = s->longest > 998;
	GMimeEncoding enc;
	char *qbuf = NULL;
	off_t pos = 0;

	out_puts(o, s->high ? "Content-Type: text/plain; charset=UTF-8\n"
			    : "Content-Type: text/plain; charset=us-ascii\n");
	out_puts(o, qp	      ? "Content-Transfer-Encoding: quoted-printable\n\n"
		    : s->high ? "Content-Transfer-Encoding: 8bit\n\n"
			      : "Content-Transfer-Encoding: 7bit\n\n");
	if (qp) {
		g_mime_encoding_init_encode(&enc, GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
		qbuf = mem_alloc(g_mime_encoding_outlen(&enc, BUNDLE_BUF));
	}
	for (;;) {
		ssize_t got = pread(s->fd, w->buf, BUNDLE_BUF, pos);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			msg_error("reading a digest temp file: %s", strerror(errno));
			free(qbuf);
			return ST_TEMPFAIL;
		}
		if (got == 0)
			break;
		pos += got;
		if (qp)
			out_put(o, qbuf, g_mime_encoding_step(&enc, w->buf, (size_t)got, qbuf));
		else
			out_put(o, w->buf, (size_t)got);
	}
	if (qp)
		out_put(o, qbuf, g_mime_encoding_flush(&enc, NULL, 0, qbuf));
	free(qbuf);
	return o->st;
}

static fml_status write_rfc1153(wctx *w, bout *o)
{
	str title = STR_INIT;
	spill s = {spill_open(), 0, 0, 0};
	fml_status st;

	if (s.fd < 0)
		return ST_TEMPFAIL;
	bout *t = out_new(spill_sink, &s);
	title_text(w->title, &title);
	st = rfc1153_text(w, t, &title);
	if (st == ST_OK)
		st = rfc1153_copy(w, o, &s);
	free(t);
	str_free(&title);
	close(s.fd);
	return st;
}

static fml_status write_rfc934(wctx *w, bout *o)
{
	fml_status st = ST_OK;

	out_puts(o, text_plain);
	out_puts(o, "\n");
	title_text(w->title, &w->tmp);
	out_str(o, &w->tmp);
	str_clear(&w->tmp);
	str_printf(&w->tmp, ": %zu articles, RFC 934 encapsulation.\n\n", w->end - w->first);
	out_str(o, &w->tmp);
	out_repeat(o, '-', 30);
	out_putc(o, '\n');
	for (size_t i = w->first; i < w->end && o->st == ST_OK; i++) {
		int fd;
		struct stat sb;
		quoter q;
		if ((st = art_open(w, i, &fd, &sb, NULL)) != ST_OK)
			break;
		out_putc(o, '\n');
		quote_init(&q, Q_DASH);
		st = art_stream(w, o, &q, fd, 0, sb.st_size, w->b->arts[i]);
		close(fd);
		if (st != ST_OK)
			break;
		quote_end(o, &q);
		out_putc(o, '\n');
		out_repeat(o, '-', 30);
		out_putc(o, '\n');
	}
	return st != ST_OK ? st : o->st;
}

/* ---------------------------------------------------------------- tgz, gz */

/* libarchive's output, base64-encoded on the fly into the mail. */
typedef struct b64 {
	bout *o;
	gint state, save;
} b64;

static la_ssize_t b64_write(struct archive *a, void *arg, const void *buf, size_t n)
{
	b64 *e = arg;
	const guchar *p = buf;
	char enc[(BUNDLE_B64_IN / 3 + 1) * 4 + 4 + ((BUNDLE_B64_IN / 3 + 1) * 4 + 4) / 72 + 1];

	for (size_t done = 0; done < n;) {
		size_t k = n - done > BUNDLE_B64_IN ? BUNDLE_B64_IN : n - done;
		gsize m = g_base64_encode_step(p + done, k, TRUE, enc, &e->state, &e->save);
		out_put(e->o, enc, m);
		done += k;
	}
	if (e->o->st != ST_OK) {
		archive_set_error(a, EIO, "writing the mail failed");
		return -1;
	}
	return (la_ssize_t)n;
}

static void b64_close(b64 *e)
{
	char enc[8];
	gsize m = g_base64_encode_close(TRUE, enc, &e->state, &e->save);
	out_put(e->o, enc, m);
	if (m == 0 || enc[m - 1] != '\n')
		out_putc(e->o, '\n');
}

static fml_status arch_err(struct archive *a, const char *what)
{
	msg_error("bundle %s: %s", what, archive_error_string(a));
	return ST_TEMPFAIL;
}

/* A sink for write_mbox() that feeds the raw+gzip archive. */
static fml_status arch_sink(void *arg, const void *p, size_t n)
{
	struct archive *a = arg;
	if (archive_write_data(a, p, n) < 0)
		return arch_err(a, "gzip");
	return ST_OK;
}

static fml_status tar_entries(wctx *w, struct archive *a)
{
	fml_status st = ST_OK;
	for (size_t i = w->first; i < w->end && st == ST_OK; i++) {
		int fd;
		struct stat sb;
		if ((st = art_open(w, i, &fd, &sb, NULL)) != ST_OK)
			return st;
		st = article_tar_entry(a, w->b->arts[i], fd, sb.st_size, &sb.st_mtim, w->buf,
				       BUNDLE_BUF);
		close(fd);
	}
	return st;
}

static fml_status gz_entry(wctx *w, struct archive *a, const char *name)
{
	struct archive_entry *ae = archive_entry_new();
	archive_entry_set_pathname(ae, name);
	archive_entry_set_filetype(ae, AE_IFREG);
	archive_entry_set_perm(ae, 0644);
	int r = archive_write_header(a, ae);
	archive_entry_free(ae);
	if (r != ARCHIVE_OK)
		return arch_err(a, "gzip header");

	bout *g = out_new(arch_sink, a);
	return out_done(g, write_mbox(w, g));
}

/* multipart/mixed: the list of articles, then the archive. */
static fml_status write_archive(wctx *w, bout *o, int tgz)
{
	str toc = STR_INIT, name = STR_INIT;
	fml_status st;
	b64 e = {o, 0, 0};

	if ((st = make_boundary(w)) != ST_OK || (st = toc_build(w, "", &toc)) != ST_OK)
		goto done;
	attach_name(w, tgz ? "tar.gz" : "gz", &name);
	out_puts(o, "Content-Type: multipart/mixed; boundary=\"");
	out_puts(o, w->boundary);
	out_puts(o, "\"\nContent-Transfer-Encoding: 8bit\n\n--");
	out_puts(o, w->boundary);
	out_putc(o, '\n');
	out_puts(o, text_plain);
	out_putc(o, '\n');
	title_text(w->title, &w->tmp);
	out_str(o, &w->tmp);
	out_puts(o, tgz ? ": the articles in the attached tar.gz file (spool/N):\n\n"
			: ": the articles in the attached gzipped mbox file:\n\n");
	out_str(o, &toc);
	put_delim(w, o, 0);
	str_clear(&w->tmp);
	str_printf(&w->tmp,
		   "Content-Type: application/gzip; name=\"%s\"\n"
		   "Content-Disposition: attachment; filename=\"%s\"\n"
		   "Content-Transfer-Encoding: base64\n\n",
		   name.s, name.s);
	out_str(o, &w->tmp);

	struct archive *a = archive_write_new();
	if ((tgz ? archive_write_set_format_ustar(a) : archive_write_set_format_raw(a)) !=
		ARCHIVE_OK ||
	    archive_write_add_filter_gzip(a) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
	    archive_write_open(a, &e, NULL, b64_write, NULL) != ARCHIVE_OK) {
		st = arch_err(a, "archive set-up");
		archive_write_free(a);
		goto done;
	}
	if (tgz) {
		st = tar_entries(w, a);
	} else {
		str_truncate(&name, name.len - 3); /* the file inside: no ".gz" */
		st = gz_entry(w, a, name.s);
	}
	if (archive_write_close(a) != ARCHIVE_OK && st == ST_OK)
		st = o->st != ST_OK ? o->st : arch_err(a, "archive close");
	archive_write_free(a);
	if (st != ST_OK)
		goto done;
	b64_close(&e);
	out_puts(o, "--");
	out_puts(o, w->boundary);
	out_puts(o, "--\n");
	st = o->st;
done:
	str_free(&toc);
	str_free(&name);
	return st;
}

/* ---------------------------------------------------------------- entry */

/* The writing context for part PART of B (freed by wctx_free()). */
static bout *wctx_init(wctx *w, const bundle *b, size_t part, article_store *s, const char *title,
		       bundlewrite_sink sink, void *arg)
{
	if (part >= b->nparts)
		msg_panic("bundlewrite: part %zu of %zu", part, b->nparts);
	memset(w, 0, sizeof *w);
	w->b = b;
	w->first = part ? b->part_end[part - 1] : 0;
	w->end = b->part_end[part];
	w->store = s;
	w->title = title;
	str_init(&w->tmp);
	w->buf = mem_alloc(BUNDLE_BUF);
	return out_new(sink, arg);
}

/* Flush O and free it and W's buffers; ST is the writer's status. */
static fml_status wctx_free(wctx *w, bout *o, fml_status st)
{
	free(w->buf);
	str_free(&w->tmp);
	return out_done(o, st);
}

fml_status bundlewrite(const bundle *b, size_t part, bundle_mode mode, article_store *s,
		       const char *title, bundlewrite_sink sink, void *arg)
{
	wctx w;
	fml_status st;
	bout *o = wctx_init(&w, b, part, s, title, sink, arg);

	switch (mode) {
	case BM_MP:
		st = write_mp(&w, o);
		break;
	case BM_UF:
		out_puts(o, text_plain);
		out_putc(o, '\n');
		st = write_mbox(&w, o);
		break;
	case BM_RFC1153:
		st = write_rfc1153(&w, o);
		break;
	case BM_RFC934:
		st = write_rfc934(&w, o);
		break;
	case BM_TGZ:
	case BM_GZ:
		st = write_archive(&w, o, mode == BM_TGZ);
		break;
	default:
		msg_panic("bundlewrite: mode %d", (int)mode);
	}
	return wctx_free(&w, o, st);
}

fml_status bundlewrite_mbox(const bundle *b, size_t part, article_store *s, bundlewrite_sink sink,
			    void *arg)
{
	wctx w;
	bout *o = wctx_init(&w, b, part, s, "", sink, arg);
	return wctx_free(&w, o, write_mbox(&w, o));
}
