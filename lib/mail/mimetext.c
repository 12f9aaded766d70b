/*
 * mimetext: the readable UTF-8 text of an article, for text digests.
 *
 * Why: RFC 1153 digests are plain text, so an article cannot be copied in
 * as bytes: base64 and quoted-printable bodies, ISO-2022-JP or Latin-1
 * text, multipart boundaries and RFC 2047 words would reach the reader
 * undecoded.  GMime parses the article; this module picks what to show.
 *
 * Interface (mimetext.h): mimetext_fd() / mimetext_mem() write, through a
 * sink, the lines "Date: ..." etc. (first occurrence of each field, RFC
 * 2047 decoded by GMime, unfolded, control bytes turned into blanks), a
 * blank line, then the body.  The body walk (at most MIMETEXT_MAX_DEPTH
 * levels and MIMETEXT_MAX_PARTS parts, one line says what was left out):
 *   - text/plain (not Content-Disposition: attachment) is shown, decoded
 *     from its transfer encoding and converted from its charset to UTF-8;
 *   - the body itself (the message's part, or the first part of a multipart
 *     that is the body) is shown whatever its text subtype: an HTML-only
 *     mail is shown as HTML source;
 *   - multipart/alternative: the first text/plain alternative, else the
 *     first other text part, else the first part;
 *   - every other leaf (attachments, images, message/rfc822) is one line
 *     "[attachment: NAME, TYPE, N bytes, not included]", N decoded bytes.
 * Text with no charset conversion (none declared, us-ascii, utf-8, or a
 * charset iconv does not know) is taken line by line: UTF-8 when the line
 * is valid UTF-8, else ISO-8859-1 (C1 controls dropped).  Converted text is
 * made valid with g_utf8_make_valid().  CR, NUL and other control bytes but
 * TAB are dropped; lines end in LF.
 *
 * Memory: GMime's parser, on a seekable stream, keeps headers and part
 * offsets only; content is read back from the file through filter streams
 * in 8 KiB steps.  A line is held whole up to MT_LINE_MAX bytes, then
 * written out in pieces.  A depth bomb is cut by the walk limits; GMime
 * itself parses the whole structure once.
 *
 * Failure policy: an article GMime cannot parse at all is shown as text,
 * headers included.  A read error is logged and ST_TEMPFAIL; a sink error
 * stops everything and is returned as the sink returned it.
 */
#include "mimetext.h"
#include "html2text.h"
#include "util/lines.h"
#include "util/msg.h"
#include "util/str.h"

#include <gmime/gmime.h>
#include <string.h>

#define MT_LINE_MAX 65536 /* bytes of a line held before writing a piece */
#define MT_NAME_MAX 200	  /* bytes of an attachment name or type shown */

static const char *const mt_fields[] = {"Date", "From",	      "Subject",  "To",
					"Cc",	"Message-ID", "Keywords", "Summary"};

typedef struct mt {
	mimetext_sink sink;
	void *arg;
	fml_status st;
	int parts;		 /* parts walked */
	int items;		 /* body items written (a blank line between two) */
	int deep, many;		 /* the "not shown" line for a limit was written */
	int guess;		 /* current text: UTF-8 if valid, else ISO-8859-1 */
	str line, tmp, out;	 /* line being collected, scratch, cleaned text */
	const mimetext_hooks *h; /* mimetext_fd_hooks(), else NULL */
	str *html;		 /* text/html collected for html2text, else NULL */
} mt;

struct mimetext_leaf {
	GMimeObject *o;
};

void mimetext_init(void)
{
	static int done;

	if (!done) {
		g_mime_init();
		done = 1;
	}
}

static void mt_put(mt *m, const char *p, size_t n)
{
	if (m->st == ST_OK && n)
		m->st = m->sink(m->arg, p, n);
}

static void mt_puts(mt *m, const char *s)
{
	mt_put(m, s, strlen(s));
}

/* ---------------------------------------------------------------- text */

/* P..N as valid UTF-8 into OUT: control bytes dropped (or made blanks when
 * BLANKS), then UTF-8 kept if valid (or made valid unless GUESS), else read
 * as ISO-8859-1. */
static void clean_text(mt *m, const char *p, size_t n, int guess, int blanks, str *out)
{
	str_clear(&m->tmp);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c == '\t' && blanks)
			c = ' ';
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			if (blanks)
				str_putc(&m->tmp, ' ');
			continue;
		}
		str_putc(&m->tmp, c);
	}
	if (g_utf8_validate(m->tmp.s ? m->tmp.s : "", (gssize)m->tmp.len, NULL)) {
		str_append(out, m->tmp.s, m->tmp.len);
	} else if (!guess) {
		gchar *v = g_utf8_make_valid(m->tmp.s, (gssize)m->tmp.len);
		str_puts(out, v);
		g_free(v);
	} else {
		for (size_t i = 0; i < m->tmp.len; i++) {
			unsigned char c = (unsigned char)m->tmp.s[i];
			if (c < 0x80) {
				str_putc(out, c);
			} else if (c >= 0xa0) {
				str_putc(out, 0xc0 | c >> 6);
				str_putc(out, 0x80 | (c & 0x3f));
			}
		}
	}
}

/* Write the first N bytes of the held line (cleaned), then NL if NL. */
static void line_emit(mt *m, size_t n, int nl)
{
	str_clear(&m->out);
	clean_text(m, m->line.s, n, m->guess, 0, &m->out);
	if (nl)
		str_putc(&m->out, '\n');
	mt_put(m, m->out.s, m->out.len);
	if (n == m->line.len) {
		str_clear(&m->line);
		return;
	}
	memmove(m->line.s, m->line.s + n, m->line.len - n);
	str_truncate(&m->line, m->line.len - n);
}

/* Where a long line can be cut: not inside a UTF-8 sequence. */
static size_t utf8_cut(const str *s)
{
	size_t n = s->len;
	for (size_t k = 0; k < 4 && n > 0; k++) {
		unsigned char c = (unsigned char)s->s[n - 1];
		if (c < 0x80)
			return s->len;
		n--;
		if (c >= 0xc0) /* a lead byte: cut before it */
			return n;
	}
	return s->len;
}

static void text_put(mt *m, const char *p, size_t n)
{
	if (m->html) { /* text/html for html2text: held whole (bounded by the article) */
		str_append(m->html, p, n);
		return;
	}
	lines it;
	const char *l;
	size_t k;
	for (lines_init(&it, p, n); m->st == ST_OK && lines_next(&it, &l, &k);) {
		str_append(&m->line, l, k);
		if (l + k < p + n) /* the line ends in "\n" */
			line_emit(m, m->line.len, 1);
		else if (m->line.len > MT_LINE_MAX)
			line_emit(m, utf8_cut(&m->line), 0);
	}
}

/* The end of a text: the last line, always with a newline. */
static void text_end(mt *m)
{
	if (m->line.len)
		line_emit(m, m->line.len, 1);
}

static void item_start(mt *m)
{
	if (m->items++ && !m->h)
		mt_puts(m, "\n");
}

/* Everything STREAM holds as text (after FILTERS were added to it). */
static void text_stream(mt *m, GMimeStream *s)
{
	char buf[8192];

	while (m->st == ST_OK && !g_mime_stream_eos(s)) {
		ssize_t k = g_mime_stream_read(s, buf, sizeof buf);
		if (k < 0) {
			msg_error("mimetext: reading an article: %s", g_strerror(errno));
			m->st = ST_TEMPFAIL;
			break;
		}
		text_put(m, buf, (size_t)k);
	}
	text_end(m);
}

/* ---------------------------------------------------------------- header */

/* S with runs of blanks made one and no blank at the end, onto OUT (which
 * ends in a blank). */
static void squeeze(const str *s, str *out)
{
	for (size_t i = 0; i < s->len; i++)
		if (s->s[i] != ' ' || out->s[out->len - 1] != ' ')
			str_putc(out, s->s[i]);
	while (out->len && out->s[out->len - 1] == ' ')
		str_truncate(out, out->len - 1);
}

/* "Name: value" of the first field NAME of the message, if any. */
static void put_field(mt *m, GMimeObject *msg, const char *name)
{
	GMimeHeader *h = g_mime_header_list_get_header(g_mime_object_get_header_list(msg), name);
	const char *raw = h ? g_mime_header_get_raw_value(h) : NULL;

	if (!raw)
		return;
	str_clear(&m->line);
	for (const char *p = raw; *p; p++) /* unfold */
		if (*p != '\r' && *p != '\n')
			str_putc(&m->line, *p);
	char *dec = g_mime_utils_header_decode_text(NULL, str_c(&m->line));
	str_clear(&m->line);
	clean_text(m, dec, strlen(dec), 0, 1, &m->line);
	g_free(dec);

	str_clear(&m->out);
	if (m->h) {
		str_putc(&m->out, ' ');
		squeeze(&m->line, &m->out);
		str_clear(&m->line);
		m->h->field(m->arg, name, m->out.len > 1 ? m->out.s + 1 : "");
		return;
	}
	str_printf(&m->out, "%s: ", name);
	squeeze(&m->line, &m->out);
	str_putc(&m->out, '\n');
	str_clear(&m->line);
	mt_put(m, m->out.s, m->out.len);
}

/* ---------------------------------------------------------------- body */

static int charset_is_utf8(const char *cs)
{
	const char *c = g_mime_charset_canon_name(cs);
	return !c || g_ascii_strcasecmp(c, "utf-8") == 0 || g_ascii_strcasecmp(c, "us-ascii") == 0;
}

/* A text part, decoded and converted. */
static void show_text(mt *m, GMimePart *part)
{
	GMimeDataWrapper *w = g_mime_part_get_content(part);
	const char *cs = g_mime_object_get_content_type_parameter(GMIME_OBJECT(part), "charset");

	item_start(m);
	int html = 0;
	if (m->h) {
		char *type = g_mime_content_type_get_mime_type(
		    g_mime_object_get_content_type(GMIME_OBJECT(part)));
		html = m->h->html_as_text && g_ascii_strcasecmp(type, "text/html") == 0;
		m->h->part(m->arg, MIMETEXT_TEXT, NULL, type, 0, NULL);
		g_free(type);
	}
	if (!w)
		return;
	GMimeStream *raw = g_mime_data_wrapper_get_stream(w);
	GMimeStream *fs = g_mime_stream_filter_new(raw);
	GMimeContentEncoding enc = g_mime_data_wrapper_get_encoding(w);
	GMimeFilter *f;

	g_mime_stream_reset(raw);
	if (enc == GMIME_CONTENT_ENCODING_BASE64 || enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ||
	    enc == GMIME_CONTENT_ENCODING_UUENCODE) {
		f = g_mime_filter_basic_new(enc, FALSE);
		g_mime_stream_filter_add(GMIME_STREAM_FILTER(fs), f);
		g_object_unref(f);
	}
	m->guess = 1;
	if (cs && !charset_is_utf8(cs) && (f = g_mime_filter_charset_new(cs, "UTF-8"))) {
		g_mime_stream_filter_add(GMIME_STREAM_FILTER(fs), f);
		g_object_unref(f);
		m->guess = 0;
	}
	f = g_mime_filter_dos2unix_new(FALSE);
	g_mime_stream_filter_add(GMIME_STREAM_FILTER(fs), f);
	g_object_unref(f);
	if (html) {
		str h = STR_INIT, t = STR_INIT;
		m->html = &h;
		text_stream(m, fs);
		m->html = NULL;
		/* html2text wants UTF-8: cleaned as any text first */
		clean_text(m, h.s ? h.s : "", h.len, m->guess, 0, &t);
		str_clear(&h);
		html2text(t.s ? t.s : "", t.len, &h);
		text_put(m, h.s ? h.s : "", h.len);
		text_end(m);
		str_free(&h);
		str_free(&t);
	} else {
		text_stream(m, fs);
	}
	g_object_unref(fs);
}

/* Decoded bytes of a leaf, -1 on a read error. */
static gint64 leaf_size(GMimeObject *o)
{
	GMimeStream *null = g_mime_stream_null_new();
	gint64 n = 0;

	if (GMIME_IS_PART(o)) {
		GMimeDataWrapper *w = g_mime_part_get_content(GMIME_PART(o));
		if (w)
			n = g_mime_data_wrapper_write_to_stream(w, null);
	} else {
		n = g_mime_object_write_content_to_stream(o, NULL, null);
	}
	g_object_unref(null);
	return n;
}

/* "[attachment: NAME, TYPE, N bytes, not included]" */
static void show_summary(mt *m, GMimeObject *o)
{
	char *type = g_mime_content_type_get_mime_type(g_mime_object_get_content_type(o));
	const char *name = GMIME_IS_PART(o) ? g_mime_part_get_filename(GMIME_PART(o)) : NULL;
	gint64 n = leaf_size(o);

	if (n < 0) {
		msg_error("mimetext: reading an article: %s", g_strerror(errno));
		m->st = ST_TEMPFAIL;
	}
	item_start(m);
	if (m->h) {
		mimetext_leaf leaf = {o};
		m->h->part(m->arg, MIMETEXT_LEAF, name, type, (long long)n, &leaf);
		g_free(type);
		return;
	}
	str_clear(&m->line);
	str_puts(&m->line, "[attachment: ");
	if (name && *name) {
		clean_text(m, name, strnlen(name, MT_NAME_MAX), 0, 1, &m->line);
		str_puts(&m->line, ", ");
	}
	clean_text(m, type, strnlen(type, MT_NAME_MAX), 0, 1, &m->line);
	str_printf(&m->line, ", %lld bytes, not included]\n", (long long)n);
	mt_put(m, m->line.s, m->line.len);
	str_clear(&m->line);
	g_free(type);
}

/* One line, once, for parts left out by a limit. */
static void show_limit(mt *m, int *done, const char *text)
{
	if (*done)
		return;
	*done = 1;
	item_start(m);
	if (m->h)
		m->h->part(m->arg, MIMETEXT_LIMIT, NULL, text, 0, NULL);
	else
		mt_puts(m, text);
}

static int is_type(GMimeObject *o, const char *type, const char *sub)
{
	return g_mime_content_type_is_type(g_mime_object_get_content_type(o), type, sub);
}

static int is_attachment(GMimeObject *o)
{
	const char *d = g_mime_object_get_disposition(o);
	return d && g_ascii_strcasecmp(d, "attachment") == 0;
}

/* The alternative to show: text/plain, else other text, else the first. */
static GMimeObject *pick_alternative(GMimeMultipart *mp)
{
	int n = g_mime_multipart_get_count(mp);

	for (int i = 0; i < n; i++) {
		GMimeObject *c = g_mime_multipart_get_part(mp, i);
		if (is_type(c, "text", "plain") && !is_attachment(c))
			return c;
	}
	for (int i = 0; i < n; i++) {
		GMimeObject *c = g_mime_multipart_get_part(mp, i);
		if (is_type(c, "text", "*") && !is_attachment(c))
			return c;
	}
	return n > 0 ? g_mime_multipart_get_part(mp, 0) : NULL;
}

/* Part O at DEPTH; BODY when O is the body of the message. */
static void walk(mt *m, GMimeObject *o, int depth, int body)
{
	if (m->st != ST_OK)
		return;
	if (depth > MIMETEXT_MAX_DEPTH) {
		show_limit(m, &m->deep, "[MIME parts nested too deeply, not shown]\n");
		return;
	}
	if (m->parts >= MIMETEXT_MAX_PARTS) {
		show_limit(m, &m->many, "[too many MIME parts, the rest not shown]\n");
		return;
	}
	m->parts++;
	if (GMIME_IS_MULTIPART(o)) {
		GMimeMultipart *mp = GMIME_MULTIPART(o);
		if (is_type(o, "multipart", "alternative")) {
			GMimeObject *c = pick_alternative(mp);
			if (c)
				walk(m, c, depth + 1, 1);
			return;
		}
		int n = g_mime_multipart_get_count(mp);
		for (int i = 0; i < n && m->st == ST_OK; i++)
			walk(m, g_mime_multipart_get_part(mp, i), depth + 1, body && i == 0);
		return;
	}
	if (GMIME_IS_PART(o) && is_type(o, "text", "*") && !is_attachment(o) &&
	    (body || is_type(o, "text", "plain")))
		show_text(m, GMIME_PART(o));
	else
		show_summary(m, o);
}

/* ---------------------------------------------------------------- entry */

static fml_status mt_run(GMimeStream *s, const mimetext_hooks *h, mimetext_sink sink, void *arg)
{
	mt m;
	GMimeParser *p = g_mime_parser_new_with_stream(s);
	GMimeMessage *msg = g_mime_parser_construct_message(p, NULL);

	memset(&m, 0, sizeof m);
	m.sink = sink;
	m.arg = arg;
	m.h = h;
	str_init(&m.line);
	str_init(&m.tmp);
	str_init(&m.out);
	if (msg) {
		if (h)
			for (const char *const *f = h->fields; *f; f++)
				put_field(&m, GMIME_OBJECT(msg), *f);
		else
			for (size_t i = 0; i < sizeof mt_fields / sizeof mt_fields[0]; i++)
				put_field(&m, GMIME_OBJECT(msg), mt_fields[i]);
		if (!h)
			mt_puts(&m, "\n");
		GMimeObject *body = g_mime_message_get_mime_part(msg);
		if (body)
			walk(&m, body, 0, 1);
		g_object_unref(msg);
	} else { /* not even a header: the bytes as text */
		if (h)
			h->part(arg, MIMETEXT_TEXT, NULL, "text/plain", 0, NULL);
		else
			mt_puts(&m, "\n");
		g_mime_stream_reset(s);
		m.guess = 1;
		text_stream(&m, s);
	}
	g_object_unref(p);
	str_free(&m.line);
	str_free(&m.tmp);
	str_free(&m.out);
	return m.st;
}

fml_status mimetext_fd_hooks(int fd, off_t size, const mimetext_hooks *h, mimetext_sink sink,
			     void *arg)
{
	mimetext_init();
	GMimeStream *s = g_mime_stream_fs_new_with_bounds(fd, 0, size);
	g_mime_stream_fs_set_owner(GMIME_STREAM_FS(s), FALSE);
	fml_status st = mt_run(s, h, sink, arg);
	g_object_unref(s);
	return st;
}

fml_status mimetext_fd(int fd, off_t size, mimetext_sink sink, void *arg)
{
	return mimetext_fd_hooks(fd, size, NULL, sink, arg);
}

fml_status mimetext_leaf_save(mimetext_leaf *leaf, int fd)
{
	GMimeStream *out = g_mime_stream_fs_new(fd);
	g_mime_stream_fs_set_owner(GMIME_STREAM_FS(out), FALSE);
	gint64 n;
	if (GMIME_IS_PART(leaf->o)) {
		GMimeDataWrapper *w = g_mime_part_get_content(GMIME_PART(leaf->o));
		n = w ? g_mime_data_wrapper_write_to_stream(w, out) : 0;
	} else {
		n = g_mime_object_write_content_to_stream(leaf->o, NULL, out);
	}
	int fl = g_mime_stream_flush(out);
	g_object_unref(out);
	return n < 0 || fl < 0 ? ST_TEMPFAIL : ST_OK;
}

fml_status mimetext_mem(const char *p, size_t n, mimetext_sink sink, void *arg)
{
	mimetext_init();
	GMimeStream *s = g_mime_stream_mem_new_with_buffer(p, n);
	fml_status st = mt_run(s, NULL, sink, arg);
	g_object_unref(s);
	return st;
}
