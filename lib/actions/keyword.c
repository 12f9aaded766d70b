/*
 * keyword: the guide and command traps.  See keyword.h.  Linear in the
 * bytes examined; no recursion (a small stack of boundaries).
 */
#include "keyword.h"
#include "util/bytes.h"
#include "util/lines.h"
#include "util/msg.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define SCAN_BYTES KEYWORD_SCAN_BYTES
#define MAX_DEPTH 100

/* Parameters are parsed in order, quoted strings whole, so a "boundary="
 * inside another parameter's quoted value is not taken for the boundary. */
int keyword_boundary(const char *ctype, size_t len, str *out)
{
	size_t i = 0;
	while (i < len && isspace((unsigned char)ctype[i]))
		i++;
	if (len - i < 10 || strncasecmp(ctype + i, "multipart/", 10) != 0)
		return 0;
	while (i < len && ctype[i] != ';')
		i++;
	while (i < len) {
		i++; /* the ';' */
		while (i < len && isspace((unsigned char)ctype[i]))
			i++;
		size_t name = i;
		while (i < len && ctype[i] != '=' && ctype[i] != ';' &&
		       !isspace((unsigned char)ctype[i]))
			i++;
		int is_boundary = i - name == 8 && strncasecmp(ctype + name, "boundary", 8) == 0;
		while (i < len && isspace((unsigned char)ctype[i]))
			i++;
		if (i >= len || ctype[i] != '=')
			continue;
		i++;
		while (i < len && isspace((unsigned char)ctype[i]))
			i++;
		str_clear(out);
		if (i < len && ctype[i] == '"') {
			for (i++; i < len && ctype[i] != '"'; i++) {
				if (ctype[i] == '\\' && i + 1 < len)
					i++;
				str_putc(out, ctype[i]);
			}
			if (i < len)
				i++; /* closing quote */
		} else {
			for (; i < len && ctype[i] != ';' && !isspace((unsigned char)ctype[i]); i++)
				str_putc(out, ctype[i]);
		}
		if (is_boundary)
			return out->len > 0 && out->len <= 200;
		while (i < len && ctype[i] != ';')
			i++;
	}
	return 0;
}

static int blank(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isspace((unsigned char)p[i]))
			return 0;
	return 1;
}

/* "#" blanks KEYWORD blanks end; bare KEYWORD too when BARE_OK */
static int is_guide(const char *p, size_t n, const char *kw, int bare_ok)
{
	size_t i = 0, kl = strlen(kw);
	while (i < n && isspace((unsigned char)p[i]))
		i++;
	if (i < n && p[i] == '#') {
		i++;
		while (i < n && (p[i] == ' ' || p[i] == '\t'))
			i++;
	} else if (!bare_ok) {
		return 0;
	}
	if (n - i < kl || strncasecmp(p + i, kw, kl) != 0)
		return 0;
	return blank(p + i + kl, n - i - kl);
}

static int is_command(const char *p, size_t n)
{
	size_t i = 0;
	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	if (i == n || p[i] != '#')
		return 0;
	i++;
	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	size_t w = i;
	while (i < n && (isalnum((unsigned char)p[i]) || p[i] == '_' || p[i] == '-'))
		i++;
	return i > w && (i == n || isspace((unsigned char)p[i]));
}

/* Does LINE open (or close) a part of boundary B? */
static int is_delim(const char *p, size_t n, const str *b)
{
	return n >= b->len + 2 && p[0] == '-' && p[1] == '-' && memcmp(p + 2, b->s, b->len) == 0 &&
	       (blank(p + 2 + b->len, n - 2 - b->len) ||
		(n >= b->len + 4 && p[2 + b->len] == '-' && p[3 + b->len] == '-'));
}

enum { PREAMBLE, PARTHDR, BODY };
enum { CTE_AS_IS, CTE_QP, CTE_BASE64 };

static int is_text_type(const str *ctype)
{
	const char *v = str_c(ctype);
	v += strspn(v, " \t");
	return *v == '\0' || strncasecmp(v, "text/", 5) == 0;
}

static int cte_kind(const str *cte)
{
	const char *v = str_c(cte);
	size_t n;
	v += strspn(v, " \t");
	n = strcspn(v, " \t;(");
	if (n == 16 && strncasecmp(v, "quoted-printable", 16) == 0)
		return CTE_QP;
	if (n == 6 && strncasecmp(v, "base64", 6) == 0)
		return CTE_BASE64;
	return CTE_AS_IS;
}

/* Quoted-printable (RFC 2045 6.7): "=XX", soft line breaks, transport
 * padding (trailing blanks) dropped; a bad "=" is kept as it is. */
static void qp_decode(const char *p, size_t len, str *out)
{
	lines it;
	const char *l;
	size_t n;
	for (lines_init(&it, p, len); lines_next(&it, &l, &n);) {
		int nl = it.nl;
		int crlf = n && l[n - 1] == '\r';
		size_t end = n - crlf;
		while (end && (l[end - 1] == ' ' || l[end - 1] == '\t'))
			end--;
		int soft = end && l[end - 1] == '=';
		if (soft)
			end--;
		for (size_t i = 0; i < end; i++) {
			int hi, lo;
			if (l[i] == '=' && i + 2 < end && (hi = bytes_hex_value(l[i + 1])) >= 0 &&
			    (lo = bytes_hex_value(l[i + 2])) >= 0) {
				str_putc(out, hi << 4 | lo);
				i += 2;
			} else {
				str_putc(out, l[i]);
			}
		}
		if (!soft && nl)
			str_append(out, crlf ? "\r\n" : "\n", crlf ? 2 : 1);
	}
}

/* Base64 as GLib's g_base64_decode_step() decoded it in one call, so the
 * traps decide as before: bytes outside the alphabet are skipped, "=" is
 * a digit of value 0 that drops the bytes it pads, a last group of fewer
 * than four digits is dropped. */
static void b64_decode(const char *p, size_t len, str *out)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned char rank[256];
	unsigned long v = 0;
	int i = 0, last0 = 0, last1 = 0;
	memset(rank, 0xff, sizeof rank);
	for (int k = 0; k < 64; k++)
		rank[(unsigned char)alphabet[k]] = (unsigned char)k;
	rank['='] = 0;
	for (size_t k = 0; k < len; k++) {
		unsigned char c = (unsigned char)p[k];
		if (rank[c] == 0xff)
			continue;
		last1 = last0;
		last0 = c;
		v = (v << 6 | rank[c]) & 0xffffff;
		if (++i < 4)
			continue;
		str_putc(out, (int)(v >> 16 & 0xff));
		if (last1 != '=')
			str_putc(out, (int)(v >> 8 & 0xff));
		if (last0 != '=')
			str_putc(out, (int)(v & 0xff));
		i = 0;
	}
}

/* The one MIME walk: the first part of BODY (the body itself when it is not
 * multipart) if it is text, decoded per its Content-Transfer-Encoding, into
 * OUT; OUT is empty when the first part is not text.  CTYPE and CTE are the
 * top-level header values (NULL: none). */
static void first_text(const char *body, size_t len, const char *content_type, const char *top_cte,
		       const config *cf, str *out)
{
	long depth_limit = config_int(cf, CF_MIME_DEPTH_LIMIT);
	str bounds[MAX_DEPTH];
	int depth = 0, state = BODY, in_field = 0; /* 1 Content-Type, 2 C-T-E */
	str ctype = STR_INIT, cte = STR_INIT, raw = STR_INIT;
	int text = 1;

	str_clear(out);
	if (depth_limit > MAX_DEPTH)
		depth_limit = MAX_DEPTH;
	for (int i = 0; i < MAX_DEPTH; i++)
		str_init(&bounds[i]);
	if (content_type)
		str_sets(&ctype, content_type);
	if (top_cte)
		str_sets(&cte, top_cte);
	if (content_type && keyword_boundary(content_type, strlen(content_type), &bounds[0])) {
		depth = 1;
		state = PREAMBLE;
	} else if (!is_text_type(&ctype) &&
		   strncasecmp(str_c(&ctype) + strspn(str_c(&ctype), " \t"), "multipart/", 10) !=
		       0) {
		text = 0;
	}
	lines it;
	const char *p;
	size_t n;
	for (lines_init(&it, body, len); text && lines_next(&it, &p, &n);) {
		size_t raw_n = n + (size_t)it.nl; /* with its "\n" */
		if (n && p[n - 1] == '\r')
			n--;
		if (state == PREAMBLE) {
			if (is_delim(p, n, &bounds[depth - 1])) {
				state = PARTHDR;
				str_clear(&ctype);
				str_clear(&cte);
				in_field = 0;
			}
			continue;
		}
		if (state == PARTHDR) {
			if (n == 0) {
				if (depth < depth_limit &&
				    keyword_boundary(str_c(&ctype), ctype.len, &bounds[depth])) {
					depth++;
					state = PREAMBLE;
				} else if (!is_text_type(&ctype)) {
					text = 0; /* the first part is not text */
				} else {
					state = BODY;
				}
			} else if (n >= 13 && strncasecmp(p, "Content-Type:", 13) == 0) {
				str_set(&ctype, p + 13, n - 13);
				in_field = 1;
			} else if (n >= 26 &&
				   strncasecmp(p, "Content-Transfer-Encoding:", 26) == 0) {
				str_set(&cte, p + 26, n - 26);
				in_field = 2;
			} else if (p[0] == ' ' || p[0] == '\t') {
				if (in_field)
					str_append(in_field == 1 ? &ctype : &cte, p, n);
			} else {
				in_field = 0;
			}
			continue;
		}
		if (depth > 0 && is_delim(p, n, &bounds[depth - 1]))
			break; /* end of the first part */
		str_append(&raw, p, raw_n);
	}
	if (text) {
		switch (cte_kind(&cte)) {
		case CTE_QP:
			qp_decode(str_c(&raw), raw.len, out);
			break;
		case CTE_BASE64:
			b64_decode(str_c(&raw), raw.len, out);
			break;
		default:
			str_append(out, str_c(&raw), raw.len);
		}
	}
	for (int i = 0; i < MAX_DEPTH; i++)
		str_free(&bounds[i]);
	str_free(&ctype);
	str_free(&cte);
	str_free(&raw);
}

/* The traps on decoded text. */
static void scan_lines(const char *t, size_t len, const config *cf, int ctladdr, keyword_result *r)
{
	long glimit = config_int(cf, CF_GUIDE_CHECK_LIMIT),
	     climit = config_int(cf, CF_COMMAND_CHECK_LIMIT);
	const char *kw = config_str(cf, CF_GUIDE_KEYWORD);
	long seen = 0;
	lines it;
	const char *p;
	size_t n;

	for (lines_init(&it, t, len);
	     (seen < glimit || seen < climit) && lines_next(&it, &p, &n);) {
		if (n && p[n - 1] == '\r')
			n--;
		if (blank(p, n))
			continue;
		seen++;
		if (seen <= glimit && is_guide(p, n, kw, ctladdr))
			r->guide = 1;
		if (seen <= climit && is_command(p, n))
			r->command = 1;
	}
}

static void scan_text(const char *body, size_t len, const char *content_type, const char *cte,
		      const config *cf, int ctladdr, keyword_result *r)
{
	str t = STR_INIT;
	r->guide = r->command = 0;
	first_text(body, len, content_type, cte, cf, &t);
	scan_lines(str_c(&t), t.len, cf, ctladdr, r);
	str_free(&t);
}

void keyword_scan_text(const char *body, size_t len, const char *content_type, const config *cf,
		       int ctladdr, keyword_result *r)
{
	scan_text(body, len, content_type, NULL, cf, ctladdr, r);
}

void keyword_text_mem(const char *body, size_t len, const char *content_type, const char *cte,
		      const config *cf, str *out)
{
	first_text(body, len, content_type, cte, cf, out);
}

/* The first SCAN_BYTES of the body of the mail in FD into BODY. */
static fml_status read_body(int fd, const envelope *e, str *body)
{
	size_t want = (size_t)(e->end_off - e->body_off);
	if (want > SCAN_BYTES)
		want = SCAN_BYTES;
	str_reserve(body, want);
	ssize_t n = 0;
	while (body->len < want) {
		n = pread(fd, body->s + body->len, want - body->len,
			  e->body_off + (off_t)body->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		body->len += (size_t)n;
	}
	body->s[body->len] = '\0';
	if (n < 0) {
		msg_error("read body: %s", strerror(errno));
		return ST_TEMPFAIL;
	}
	return ST_OK;
}

static const char *field(const envelope *e, const char *name)
{
	const hfield *f = envelope_get(e, name, 0);
	return f ? str_c(&f->value) : NULL;
}

fml_status keyword_text(int fd, const envelope *e, const config *cf, str *out)
{
	str body = STR_INIT;
	fml_status st = read_body(fd, e, &body);
	str_clear(out);
	if (st == ST_OK)
		first_text(str_c(&body), body.len, field(e, "Content-Type"),
			   field(e, "Content-Transfer-Encoding"), cf, out);
	str_free(&body);
	return st;
}

fml_status keyword_scan(int fd, const envelope *e, const config *cf, int ctladdr, keyword_result *r)
{
	str body = STR_INIT;
	fml_status st = read_body(fd, e, &body);
	r->guide = r->command = 0;
	if (st == ST_OK)
		scan_text(str_c(&body), body.len, field(e, "Content-Type"),
			  field(e, "Content-Transfer-Encoding"), cf, ctladdr, r);
	str_free(&body);
	return st;
}
