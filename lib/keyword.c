/*
 * keyword: the guide and command traps.  See keyword.h.  Linear in the
 * bytes examined; no recursion (a small stack of boundaries).
 */
#include "keyword.h"
#include "msg.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define SCAN_BYTES 65536
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
	if (n == 0 || p[0] != '#')
		return 0;
	i = 1;
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

void keyword_scan_text(const char *body, size_t len, const char *content_type, const config *cf,
		       int ctladdr, keyword_result *r)
{
	long glimit = cf_int(cf, CF_GUIDE_CHECK_LIMIT), climit = cf_int(cf, CF_COMMAND_CHECK_LIMIT);
	long depth_limit = cf_int(cf, CF_MIME_DEPTH_LIMIT);
	const char *kw = cf_str(cf, CF_GUIDE_KEYWORD);
	str bounds[MAX_DEPTH];
	int depth = 0, state = BODY, in_ctype = 0;
	long seen = 0;
	str ctype = STR_INIT; /* Content-Type of the part being read */

	r->guide = r->command = 0;
	if (depth_limit > MAX_DEPTH)
		depth_limit = MAX_DEPTH;
	for (int i = 0; i < MAX_DEPTH; i++)
		str_init(&bounds[i]);
	if (content_type && keyword_boundary(content_type, strlen(content_type), &bounds[0])) {
		depth = 1;
		state = PREAMBLE;
	}
	size_t off = 0;
	while (off < len) {
		const char *p = body + off;
		const char *nl = memchr(p, '\n', len - off);
		size_t n = nl ? (size_t)(nl - p) : len - off;
		off += n + 1;
		if (n && p[n - 1] == '\r')
			n--;
		if (state == PREAMBLE) {
			if (is_delim(p, n, &bounds[depth - 1])) {
				state = PARTHDR;
				str_clear(&ctype);
				in_ctype = 0;
			}
			continue;
		}
		if (state == PARTHDR) {
			if (n == 0) {
				if (depth < depth_limit &&
				    keyword_boundary(ctype.s ? ctype.s : "", ctype.len,
						     &bounds[depth])) {
					depth++;
					state = PREAMBLE;
				} else if (ctype.len &&
					   strncasecmp(ctype.s + strspn(ctype.s, " \t"), "text/",
						       5) != 0) {
					break; /* the first part is not text: no keywords */
				} else {
					state = BODY;
				}
			} else if (n >= 13 && strncasecmp(p, "Content-Type:", 13) == 0) {
				str_set(&ctype, p + 13, n - 13);
				in_ctype = 1;
			} else if (p[0] == ' ' || p[0] == '\t') {
				if (in_ctype)
					str_append(&ctype, p, n);
			} else {
				in_ctype = 0;
			}
			continue;
		}
		if (depth > 0 && is_delim(p, n, &bounds[depth - 1]))
			break; /* end of the first part */
		if (blank(p, n))
			continue;
		seen++;
		if (seen <= glimit && is_guide(p, n, kw, ctladdr))
			r->guide = 1;
		if (seen <= climit && is_command(p, n))
			r->command = 1;
		if (seen >= glimit && seen >= climit)
			break;
	}
	for (int i = 0; i < MAX_DEPTH; i++)
		str_free(&bounds[i]);
	str_free(&ctype);
}

fml_status keyword_scan(int fd, const envelope *e, const config *cf, int ctladdr, keyword_result *r)
{
	size_t want = (size_t)(e->end_off - e->body_off);
	if (want > SCAN_BYTES)
		want = SCAN_BYTES;
	str body = STR_INIT;
	str_reserve(&body, want);
	ssize_t n = 0;
	while (body.len < want) {
		n = pread(fd, body.s + body.len, want - body.len, e->body_off + (off_t)body.len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		body.len += (size_t)n;
	}
	if (n < 0) {
		msg_error("read body: %s", strerror(errno));
		str_free(&body);
		return ST_TEMPFAIL;
	}
	const hfield *ct = envelope_get(e, "Content-Type", 0);
	keyword_scan_text(body.s ? body.s : "", body.len, ct ? str_c(&ct->value) : NULL, cf,
			  ctladdr, r);
	str_free(&body);
	return ST_OK;
}
