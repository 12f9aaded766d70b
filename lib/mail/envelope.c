/*
 * envelope: split one mail into an optional mbox From_ line, header fields
 * (raw bytes kept, plus an unfolded value) and a body offset.
 *
 * Interface: envelope_parse_fd() reads only the header, with pread() in
 * chunks of 64 KiB, and stops at the blank line, at END, or (once over the
 * header byte limit) keeps scanning without storing until it finds where
 * the body starts.  envelope_parse_mem() runs the same byte machine on a
 * buffer.  Memory is bounded by the limits, never by the mail size, and the
 * work is linear in the bytes scanned.
 *
 * Decisions, one per line kind (Postfix's is_header() rules):
 *   - A first line starting with "From " (exactly) is the mbox From_ line;
 *     its second token, parsed with addr_parse_path(), is the sender.
 *   - A field line is NAME *WSP ":" with NAME in ftext (printable ASCII but
 *     ':' and space).  A name with any other byte (control, 8-bit, CR) is no
 *     name: the line ends the header like any other non-field line.  So
 *     hfield.bad is only ever set by bytes in the value.
 *   - A line starting with SP or TAB continues the field before it.  One
 *     that comes before any field is malformed; as Postfix does, it is taken
 *     as the first body line (ENV_NO_BLANK_LINE).
 *   - An empty line ("\n" or "\r\n") ends the header; the body starts after
 *     it.  Any other line ends the header too and is the first body line
 *     (ENV_NO_BLANK_LINE, body_off at that line).
 *   - Line endings are "\r\n" or "\n"; a CR not followed by LF is data, and
 *     as a control byte it makes the field bad.
 *   - EOF before the end of the header: ENV_TRUNCATED, fields kept (also a
 *     partial last field), body_off = end_off.  A partial last line that has
 *     no colon yet is not a field: it is the body (ENV_NO_BLANK_LINE).
 *   - Over the byte limit (From_ line + fields): the field that crosses it
 *     and every later one are not stored (ENV_HEADER_TOO_BIG), scanning
 *     goes on.  Over the field limit: later fields not stored
 *     (ENV_TOO_MANY_FIELDS).  Stored fields tile e->header exactly.
 *   - ENV_BAD_FIELD is set iff some stored field has bad = 1.
 *
 * Failure policy: ST_TEMPFAIL for a read error; everything about the
 * content is a flag for the caller to judge, never an error here.
 */
#include "envelope.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "util/fs.h"
#include "util/mem.h"
#include "util/bytes.h"

#define ENV_DEFAULT_BYTES (100 * 1024)
#define ENV_DEFAULT_FIELDS 1000
#define ENV_CHUNK (64 * 1024)

static size_t chunk_size = ENV_CHUNK;

void envelope_set_chunk_size(size_t n)
{
	chunk_size = n ? n : ENV_CHUNK;
}

enum {
	S_LS,	  /* at the start of a line */
	S_FROM,	  /* matching "From " on the first line */
	S_NAME,	  /* in a field name */
	S_NAMEWS, /* blanks between the name and the colon */
	S_CR,	  /* a CR at the start of a line */
	S_VALUE,  /* in the rest of a From_, field or continuation line */
	S_DONE	  /* body found */
};

enum { K_FROM, K_FIELD, K_CONT };

/* ISO-2022-JP designations allowed in a value: ESC ( [BJI], ESC $ [@B],
 * ESC $ ( [DOPQ].  Any other ESC is a bad control byte. */
enum { E_NONE, E_ESC, E_DOLLAR, E_DOLLAR_PAREN, E_PAREN };

typedef struct parser {
	envelope *e;
	size_t max_bytes, max_fields;
	int state, kind;
	int first;	/* still on the first line of the mail */
	int storing;	/* under the byte limit */
	int have_field; /* a field is open (stored or not): continuations allowed */
	long cur;	/* its index in e->fields, -1 when not stored */
	int pending_cr; /* the last byte of the line so far was a CR */
	int leading;	/* still skipping leading blanks of the value */
	int crlf_set;	/* e->crlf decided by a header line */
	int from_crlf;	/* the From_ line ended in CRLF */
	int from_trunc; /* the From_ line was cut at the byte limit */
	int name_over;	/* a name so far went over the byte limit */
	int esc;	/* where in an ISO-2022 escape the value is (E_*) */
	size_t from_k;	/* bytes of "From " matched */
	size_t name_len;
	size_t mark;	/* e->header.len at the start of the line */
	off_t line_off; /* offset of the line start */
	off_t pos;	/* offset of the byte being looked at */
} parser;

void envelope_init(envelope *e)
{
	memset(e, 0, sizeof *e);
	str_init(&e->from_line);
	str_init(&e->sender);
	str_init(&e->header);
}

void envelope_free(envelope *e)
{
	for (size_t i = 0; i < e->nfields; i++)
		str_free(&e->fields[i].value);
	free(e->fields);
	str_free(&e->from_line);
	str_free(&e->sender);
	str_free(&e->header);
	envelope_init(e);
}

static int is_ftext(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != ':';
}

static int is_bad(unsigned char c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

static hfield *cur_field(parser *p)
{
	return p->cur >= 0 ? &p->e->fields[p->cur] : NULL;
}

/* Over the byte limit: drop the field being read (it is the last one),
 * forget tentative bytes of this line, store nothing more. */
static void over_limit(parser *p)
{
	envelope *e = p->e;
	hfield *f = cur_field(p);

	e->flags |= ENV_HEADER_TOO_BIG;
	p->storing = 0;
	if (p->state == S_VALUE && p->kind == K_FROM) {
		p->from_trunc = 1;
	} else if (p->state == S_VALUE && f) {
		str_truncate(&e->header, f->off);
		str_free(&f->value);
		e->nfields--;
		p->cur = -1;
		p->esc = E_NONE;
		if (f->bad) { /* only stored fields count (happens once) */
			e->flags &= ~(unsigned)ENV_BAD_FIELD;
			for (size_t i = 0; i < e->nfields; i++)
				if (e->fields[i].bad)
					e->flags |= ENV_BAD_FIELD;
		}
	} else {
		str_truncate(&e->header, p->mark);
	}
}

static int room(parser *p, size_t n)
{
	if (!p->storing)
		return 0;
	if (p->e->header.len + p->e->from_line.len + n > p->max_bytes) {
		over_limit(p);
		return 0;
	}
	return 1;
}

static void raw(parser *p, const void *s, size_t n)
{
	if (room(p, n))
		str_append(&p->e->header, s, n);
}

/* Bytes of a line not yet known to be a field: over the limit only counts
 * once the colon shows it is one (field_start). */
static void name_raw(parser *p, const void *s, size_t n)
{
	envelope *e = p->e;

	if (!p->storing || p->name_over)
		return;
	if (e->header.len + e->from_line.len + n > p->max_bytes) {
		p->name_over = 1;
		return;
	}
	str_append(&e->header, s, n);
}

/* From_ line bytes, within the byte limit. */
static void from_put(parser *p, const void *s, size_t n)
{
	envelope *e = p->e;

	if (n == 0 || p->from_trunc || !p->storing)
		return;
	size_t used = e->header.len + e->from_line.len;
	size_t fit = used < p->max_bytes ? p->max_bytes - used : 0;
	str_append(&e->from_line, s, n < fit ? n : fit);
	if (n > fit)
		over_limit(p); /* the same cut however the line was read */
}

/* Whether value byte C is fine: not a control byte, except TAB and the
 * ESC of an ISO-2022-JP designation (raw JIS headers are common and kept). */
static int value_byte_ok(parser *p, unsigned char c)
{
	int ok = 1;

	switch (p->esc) {
	case E_ESC:
		p->esc = c == '$' ? E_DOLLAR : c == '(' ? E_PAREN : E_NONE;
		if (p->esc != E_NONE)
			return 1;
		ok = 0;
		break;
	case E_DOLLAR:
		if (c == '@' || c == 'B') {
			p->esc = E_NONE;
			return 1;
		}
		if (c == '(') {
			p->esc = E_DOLLAR_PAREN;
			return 1;
		}
		ok = 0;
		break;
	case E_DOLLAR_PAREN:
	case E_PAREN:
		if (c && strchr(p->esc == E_PAREN ? "BJI" : "DOPQ", c)) {
			p->esc = E_NONE;
			return 1;
		}
		ok = 0;
		break;
	}
	p->esc = E_NONE;
	if (c == 0x1b) {
		p->esc = E_ESC;
		return ok;
	}
	return ok && !is_bad(c);
}

/* Value bytes of field F: leading blanks skipped, bad bytes noted. */
static void value_put(parser *p, hfield *f, const unsigned char *s, size_t n)
{
	size_t k = 0;

	while (p->leading && k < n && (s[k] == ' ' || s[k] == '\t'))
		k++;
	if (k == n)
		return;
	p->leading = 0;
	for (size_t i = k; i < n && !f->bad; i++)
		if (!value_byte_ok(p, s[i]))
			f->bad = 1;
	if (f->bad)
		p->e->flags |= ENV_BAD_FIELD;
	str_append(&f->value, s + k, n - k);
}

/* The field being read is complete: an escape left open makes it bad. */
static void close_field(parser *p)
{
	hfield *f = cur_field(p);

	if (f && p->esc != E_NONE) {
		f->bad = 1;
		p->e->flags |= ENV_BAD_FIELD;
	}
	p->esc = E_NONE;
}

/* Bytes S[0..N) of a From_, field or continuation line, no LF among them.
 * A CR at the end is held back: it may be the CR of CRLF. */
static void value_bytes(parser *p, const unsigned char *s, size_t n)
{
	hfield *f;
	int cr_data = p->pending_cr; /* a held CR not followed by LF is data */

	if (n == 0)
		return;
	if (p->kind != K_FROM && cur_field(p))
		raw(p, s, n);
	p->pending_cr = s[n - 1] == '\r';
	n -= (size_t)p->pending_cr;
	if (p->kind == K_FROM) {
		if (cr_data)
			from_put(p, "\r", 1);
		from_put(p, s, n);
	} else if ((f = cur_field(p)) != NULL) {
		if (cr_data)
			value_put(p, f, (const unsigned char *)"\r", 1);
		value_put(p, f, s, n);
	}
}

/* Body starts at the current line (no blank line before it). */
static void body_here(parser *p)
{
	envelope *e = p->e;

	close_field(p);
	if (p->storing)
		str_truncate(&e->header, p->mark);
	e->flags |= ENV_NO_BLANK_LINE;
	e->body_off = p->line_off;
	p->state = S_DONE;
}

static void set_crlf(parser *p, int crlf)
{
	if (!p->crlf_set) {
		p->e->crlf = crlf;
		p->crlf_set = 1;
	}
}

static void parse_from_line(parser *p)
{
	envelope *e = p->e;
	const char *s = str_c(&e->from_line) + 5, *end = str_c(&e->from_line) + e->from_line.len;

	if (p->from_trunc)
		return;
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	const char *t = s;
	if (t < end && *t == '"') /* quoted local part: may hold blanks */
		for (t++; t < end && *t != '"'; t++)
			if (*t == '\\' && t + 1 < end)
				t++;
	while (t < end && *t != ' ' && *t != '\t')
		t++;
	if (t > s && addr_parse_path(s, (size_t)(t - s), &e->sender) == ST_OK)
		e->has_sender = 1;
	else
		str_clear(&e->sender);
}

/* The LF at the end of a value line. */
static void end_of_line(parser *p)
{
	envelope *e = p->e;
	int crlf = p->pending_cr;
	hfield *f;

	p->pending_cr = 0;
	if (p->kind == K_FROM) {
		p->from_crlf = crlf;
		parse_from_line(p);
		e->header_off = p->pos + 1;
	} else {
		if (cur_field(p))
			raw(p, "\n", 1);
		set_crlf(p, crlf);
		if ((f = cur_field(p)) != NULL)
			f->len = e->header.len - f->off;
	}
	p->state = S_LS;
	p->line_off = p->pos + 1;
	p->mark = e->header.len;
	p->first = 0;
}

/* The colon of a field line: open a field, stored if the limits allow. */
static void field_start(parser *p)
{
	envelope *e = p->e;

	close_field(p);
	if (p->name_over) {
		p->name_over = 0;
		over_limit(p);
	}
	raw(p, ":", 1);
	p->have_field = 1;
	p->cur = -1;
	p->kind = K_FIELD;
	p->leading = 1;
	p->state = S_VALUE;
	if (!p->storing)
		return;
	if (e->nfields >= p->max_fields) {
		e->flags |= ENV_TOO_MANY_FIELDS;
		str_truncate(&e->header, p->mark);
		return;
	}
	if (e->nfields == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 16;
		if (e->cap > p->max_fields)
			e->cap = p->max_fields;
		e->fields = mem_reallocarray(e->fields, e->cap, sizeof *e->fields);
	}
	hfield *f = &e->fields[e->nfields];
	memset(f, 0, sizeof *f);
	str_init(&f->value);
	f->off = p->mark;
	f->name_len = p->name_len;
	f->len = e->header.len - f->off;
	p->cur = (long)e->nfields++;
}

/* Run the machine over BUF[0..N), whose first byte is at offset P->pos. */
static void feed(parser *p, const unsigned char *buf, size_t n)
{
	size_t i = 0;

	while (i < n && p->state != S_DONE) {
		unsigned char c = buf[i];
		switch (p->state) {
		case S_LS:
			if (c == '\n') {
				close_field(p);
				set_crlf(p, 0);
				p->e->body_off = p->pos + 1;
				p->state = S_DONE;
			} else if (c == '\r') {
				p->state = S_CR;
			} else if (c == ' ' || c == '\t') {
				if (!p->have_field) {
					body_here(p);
					continue;
				}
				p->kind = K_CONT;
				p->state = S_VALUE;
				continue; /* the blank is value: fold kept */
			} else if (p->first && c == 'F') {
				p->from_k = 1;
				p->state = S_FROM;
			} else if (is_ftext(c)) {
				name_raw(p, &c, 1);
				p->name_len = 1;
				p->state = S_NAME;
			} else {
				body_here(p);
				continue;
			}
			break;
		case S_FROM:
			if (c == "From "[p->from_k]) {
				if (++p->from_k == 5) {
					p->kind = K_FROM;
					p->state = S_VALUE;
					from_put(p, "From ", 5);
				}
				break;
			}
			/* not a From_ line: what matched is the start of a name */
			name_raw(p, "From", p->from_k);
			p->name_len = p->from_k;
			p->state = S_NAME;
			continue;
		case S_NAME:
			if (is_ftext(c)) {
				name_raw(p, &c, 1);
				p->name_len++;
			} else if (c == ':') {
				field_start(p);
			} else if (c == ' ' || c == '\t') {
				name_raw(p, &c, 1);
				p->state = S_NAMEWS;
			} else {
				body_here(p);
				continue;
			}
			break;
		case S_NAMEWS:
			if (c == ':') {
				field_start(p);
			} else if (c == ' ' || c == '\t') {
				name_raw(p, &c, 1);
			} else {
				body_here(p);
				continue;
			}
			break;
		case S_CR:
			if (c == '\n') {
				close_field(p);
				set_crlf(p, 1);
				p->e->body_off = p->pos + 1;
				p->state = S_DONE;
			} else {
				body_here(p); /* a line starting with a lone CR */
				continue;
			}
			break;
		case S_VALUE: {
			const unsigned char *nl = memchr(buf + i, '\n', n - i);
			size_t span = nl ? (size_t)(nl - (buf + i)) : n - i;
			value_bytes(p, buf + i, span);
			i += span;
			p->pos += (off_t)span;
			if (nl) {
				end_of_line(p);
				i++;
				p->pos++;
			}
			continue;
		}
		}
		i++;
		p->pos++;
	}
}

/* EOF (or END) before the body was found. */
static void finish(parser *p)
{
	envelope *e = p->e;
	hfield *f;

	switch (p->state) {
	case S_DONE:
		return;
	case S_VALUE:
		if (p->pending_cr) { /* a CR at EOF is data (raw has it already) */
			p->pending_cr = 0;
			if (p->kind == K_FROM)
				from_put(p, "\r", 1);
			else if ((f = cur_field(p)) != NULL)
				value_put(p, f, (const unsigned char *)"\r", 1);
		}
		if (p->kind == K_FROM) {
			parse_from_line(p);
			e->header_off = e->end_off;
		} else if ((f = cur_field(p)) != NULL) {
			f->len = e->header.len - f->off;
		}
		close_field(p);
		break;
	case S_LS:
		close_field(p);
		break;
	default: /* a partial line that is no field */
		body_here(p);
		return;
	}
	e->flags |= ENV_TRUNCATED;
	e->body_off = e->end_off;
}

static void parser_init(parser *p, envelope *e, off_t start, const envelope_limits *lim)
{
	envelope_free(e);
	memset(p, 0, sizeof *p);
	p->e = e;
	p->max_bytes = lim && lim->header_bytes ? lim->header_bytes : ENV_DEFAULT_BYTES;
	p->max_fields = lim && lim->fields ? lim->fields : ENV_DEFAULT_FIELDS;
	p->state = S_LS;
	p->first = 1;
	p->storing = 1;
	p->cur = -1;
	p->pos = p->line_off = start;
	e->header_off = start;
}

static void parser_done(parser *p)
{
	envelope *e = p->e;

	finish(p);
	if (!p->crlf_set)
		e->crlf = p->from_crlf;
}

fml_status envelope_parse_mem(envelope *e, const char *buf, size_t len, const envelope_limits *lim)
{
	parser p;

	parser_init(&p, e, 0, lim);
	e->end_off = (off_t)len;
	feed(&p, (const unsigned char *)buf, len);
	parser_done(&p);
	if (len > 0 && buf[len - 1] != '\n')
		e->flags |= ENV_NO_FINAL_NEWLINE;
	return ST_OK;
}

fml_status envelope_parse_fd(envelope *e, int fd, off_t start, off_t end,
			     const envelope_limits *lim)
{
	parser p;
	unsigned char *buf;
	off_t pos = start;

	parser_init(&p, e, start, lim);
	if (end < 0) {
		struct stat st;
		if (fstat(fd, &st) < 0)
			return ST_TEMPFAIL;
		end = st.st_size;
	}
	if (end < start)
		end = start;
	e->end_off = end;
	buf = mem_alloc(chunk_size);
	while (pos < end && p.state != S_DONE) {
		size_t want = (size_t)(end - pos) < chunk_size ? (size_t)(end - pos) : chunk_size;
		ssize_t r = fs_pread_full(fd, buf, want, pos);
		if (r < 0) {
			free(buf);
			return ST_TEMPFAIL;
		}
		if (r == 0) { /* the file is shorter than END */
			e->end_off = end = pos;
			break;
		}
		feed(&p, buf, (size_t)r);
		pos += r;
	}
	parser_done(&p);
	if (end > start) {
		ssize_t r = fs_pread_full(fd, buf, 1, end - 1);
		if (r < 0) {
			free(buf);
			return ST_TEMPFAIL;
		}
		if (r == 1 && buf[0] != '\n')
			e->flags |= ENV_NO_FINAL_NEWLINE;
	}
	free(buf);
	return ST_OK;
}

int envelope_hfield_is(const envelope *e, const hfield *f, const char *name)
{
	return bytes_casecmp(e->header.s + f->off, f->name_len, name, strlen(name)) == 0;
}

const hfield *envelope_get(const envelope *e, const char *name, size_t nth)
{
	for (size_t i = 0; i < e->nfields; i++)
		if (envelope_hfield_is(e, &e->fields[i], name) && nth-- == 0)
			return &e->fields[i];
	return NULL;
}

size_t envelope_count(const envelope *e, const char *name)
{
	size_t n = 0;
	for (size_t i = 0; i < e->nfields; i++)
		n += envelope_hfield_is(e, &e->fields[i], name) != 0;
	return n;
}

/* Printable ASCII as is, '\' and everything else as \xNN. */
static void put_escaped(str *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i = 0;

	while (i < n) {
		size_t j = i;
		while (j < n && (unsigned char)s[j] >= 0x20 && (unsigned char)s[j] < 0x7f &&
		       s[j] != '\\')
			j++;
		str_append(out, s + i, j - i);
		if (j < n) {
			unsigned char c = (unsigned char)s[j];
			char esc[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
			str_append(out, esc, 4);
			j++;
		}
		i = j;
	}
}

void envelope_dump(const envelope *e, str *out)
{
	static const struct {
		unsigned bit;
		const char *name;
	} flags[] = {
	    {ENV_NO_BLANK_LINE, "no_blank_line"},   {ENV_TRUNCATED, "truncated"},
	    {ENV_HEADER_TOO_BIG, "header_too_big"}, {ENV_TOO_MANY_FIELDS, "too_many_fields"},
	    {ENV_BAD_FIELD, "bad_field"},	    {ENV_NO_FINAL_NEWLINE, "no_final_newline"},
	};

	if (e->from_line.len) {
		str_puts(out, "from_line: ");
		put_escaped(out, e->from_line.s, e->from_line.len);
		str_puts(out, "\n");
	}
	if (e->has_sender) {
		str_puts(out, "sender: <");
		put_escaped(out, str_c(&e->sender), e->sender.len);
		str_puts(out, ">\n");
	} else if (e->from_line.len) {
		str_puts(out, "sender: none\n");
	}
	str_printf(out, "header_off=%lld header_len=%zu nfields=%zu\n", (long long)e->header_off,
		   e->header.len, e->nfields);
	for (size_t i = 0; i < e->nfields; i++) {
		const hfield *f = &e->fields[i];
		str_printf(out, "field[%zu] name=", i);
		put_escaped(out, e->header.s + f->off, f->name_len);
		str_printf(out, " off=%zu raw_len=%zu%s raw=", f->off, f->len,
			   f->bad ? " bad" : "");
		put_escaped(out, e->header.s + f->off, f->len);
		str_puts(out, " value=");
		put_escaped(out, str_c(&f->value), f->value.len);
		str_puts(out, "\n");
	}
	str_puts(out, "flags:");
	if (e->flags == 0)
		str_puts(out, " none");
	for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
		if (e->flags & flags[i].bit)
			str_printf(out, " %s", flags[i].name);
	str_puts(out, "\n");
	str_printf(out, "body_off=%lld end_off=%lld crlf=%d\n", (long long)e->body_off,
		   (long long)e->end_off, e->crlf);
}
