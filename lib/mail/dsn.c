/*
 * dsn: who a bounce says could not be reached, and why.  See dsn.h.
 *
 * Two passes over one GMime parse: the walk collects the decoded content
 * of every delivery-status part and the text of the readable parts (never
 * below a message/rfc822, message/global or text/rfc822-headers part:
 * that is the returned original); then the report's per-recipient blocks
 * are read, or, when there are none, the text goes through the
 * recognizers.  Everything is bounded: DSN_MAX_PARTS parts, DSN_MAX_DEPTH
 * levels, TEXT_MAX bytes of text and of report, DSN_MAX_RESULTS results.
 *
 * Failure policy: nothing here fails but memory (which aborts); a bounce
 * GMime cannot parse is read as text.
 */
#include "dsn.h"
#include "addr.h"
#include "util/lines.h"

#include <gmime/gmime.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TEXT_MAX (256 * 1024) /* bytes of readable text and of report */
#define FIELD_MAX 4096	      /* bytes of one report field's value */

static void result_free(dsn_result *r);

void dsn_init(dsn_report *rep)
{
	memset(rep, 0, sizeof *rep);
}

void dsn_free(dsn_report *rep)
{
	for (size_t i = 0; i < rep->n; i++)
		result_free(&rep->r[i]);
	free(rep->r);
	str_free(&rep->envid);
	dsn_init(rep);
}

/* ---------------------------------------------------------------- text helpers */

/* The first case-insensitive occurrence of NEEDLE in P..N, or NULL. */
static const char *ci_find(const char *p, size_t n, const char *needle)
{
	size_t k = strlen(needle);
	for (size_t i = 0; k && i + k <= n; i++)
		if (strncasecmp(p + i, needle, k) == 0)
			return p + i;
	return NULL;
}

static int is_alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* NEEDLE in P..N as a word (no letter or digit right before or after). */
static int ci_word(const char *p, size_t n, const char *needle)
{
	size_t k = strlen(needle);
	for (const char *f = p; (f = ci_find(f, n - (size_t)(f - p), needle)) != NULL; f++)
		if ((f == p || !is_alnum((unsigned char)f[-1])) &&
		    (f + k == p + n || !is_alnum((unsigned char)f[k])))
			return 1;
	return 0;
}

static int any_of(const char *p, size_t n, const char *const *words)
{
	for (; *words; words++)
		if (ci_find(p, n, *words))
			return 1;
	return 0;
}

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* The first enhanced status code (RFC 3463: class.subject.detail, class
 * 2, 4 or 5, 1-3 digits each) in P..N into OUT; 0 when there is none. */
static int find_status(const char *p, size_t n, char out[16])
{
	for (size_t i = 0; i < n; i++) {
		if ((p[i] != '2' && p[i] != '4' && p[i] != '5') ||
		    (i > 0 && (is_digit(p[i - 1]) || p[i - 1] == '.')))
			continue;
		size_t j = i + 1, a, b;
		if (j >= n || p[j] != '.')
			continue;
		for (a = ++j; j < n && is_digit(p[j]) && j - a < 4; j++)
			;
		if (j == a || j - a > 3 || j >= n || p[j] != '.')
			continue;
		for (b = ++j; j < n && is_digit(p[j]) && j - b < 4; j++)
			;
		if (j == b || j - b > 3 || (j < n && (is_digit(p[j]) || p[j] == '.')))
			continue;
		memcpy(out, p + i, j - i);
		out[j - i] = 0;
		return 1;
	}
	return 0;
}

/* The class ('4' or '5') of the first SMTP reply code (a 4xx or 5xx
 * standing alone: after a blank, '#', '(', ':' or '\'' or at the start,
 * before a blank, '-' or the end) in P..N; 0 when there is none. */
static int find_reply_class(const char *p, size_t n)
{
	for (size_t i = 0; i + 3 <= n; i++) {
		if ((p[i] != '4' && p[i] != '5') || !is_digit(p[i + 1]) || !is_digit(p[i + 2]))
			continue;
		if (i > 0 && !strchr(" \t#(:'\"", p[i - 1]))
			continue;
		if (i + 3 < n && !strchr(" \t-", p[i + 3]))
			continue;
		return p[i];
	}
	return 0;
}

/* P..N as one printable line onto OUT: control bytes made blanks, runs of
 * blanks made one, at most DSN_DIAG_MAX bytes, never cut inside a UTF-8
 * sequence. */
static void put_line(str *out, const char *p, size_t n)
{
	for (size_t i = 0; i < n && out->len < DSN_DIAG_MAX; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c < 0x20 || c == 0x7f)
			c = ' ';
		if (c == ' ' && (out->len == 0 || out->s[out->len - 1] == ' '))
			continue;
		str_putc(out, c);
	}
	if (out->len >= DSN_DIAG_MAX) /* cut: drop a torn UTF-8 sequence */
		while (out->len && ((unsigned char)out->s[out->len - 1] & 0xc0) == 0x80)
			str_truncate(out, out->len - 1);
	if (out->len && ((unsigned char)out->s[out->len - 1] & 0xc0) == 0xc0)
		str_truncate(out, out->len - 1);
	while (out->len && out->s[out->len - 1] == ' ')
		str_truncate(out, out->len - 1);
}

static int addr_char(int c)
{
	return is_alnum(c) || (c && strchr("._%+=-", c));
}

static int domain_char(int c)
{
	return is_alnum(c) || c == '.' || c == '-';
}

/* The first address in P..N that passes addr_check (bare, in <>, or in
 * quotes): its start and length; 0 when there is none. */
static int find_addr(const char *p, size_t n, size_t *at, size_t *len)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] != '@')
			continue;
		size_t s = i, e = i + 1;
		while (s > 0 && addr_char((unsigned char)p[s - 1]))
			s--;
		while (e < n && domain_char((unsigned char)p[e]))
			e++;
		while (e > i + 1 && (p[e - 1] == '.' || p[e - 1] == '-'))
			e--;
		while (s < i && (p[s] == '.' || p[s] == '-'))
			s++;
		if (s < i && e > i + 1 && addr_check(p + s, e - s) == NULL) {
			*at = s;
			*len = e - s;
			return 1;
		}
	}
	return 0;
}

/* ---------------------------------------------------------------- results */

/* A full mailbox: given up on, but no dead address. */
static const char *const full_words[] = {
    "mailbox full",	 "mailbox is full",	   "over quota",
    "quota exceeded",	 "exceeded storage",	   "insufficient storage",
    "exceeds the quota", "over the allowed quota", NULL};

static const char *const content_words[] = {"spam",
					    "virus",
					    "malware",
					    "phish",
					    "blacklist",
					    "blocklist",
					    "block list",
					    "spamhaus",
					    "reputation",
					    "content rejected",
					    "message content",
					    "rejected due to policy",
					    "policy violation",
					    "not accepted due to policy",
					    "unsolicited",
					    NULL};
static const char *const auth_words[] = {"dmarc", "dkim", "spf", NULL};
static const char *const x7_words[] = {"policy", "blocked", "block", "refused", NULL};

int dsn_is_policy(const char *status, const char *text, size_t len)
{
	int x7 =
	    status && (status[0] == '4' || status[0] == '5') && strncmp(status + 1, ".7.", 3) == 0;
	if (x7) {
		int d = atoi(status + 4);
		if (d >= 20 && d <= 27) /* RFC 7372 */
			return 1;
	}
	for (const char *const *w = auth_words; *w; w++)
		if (ci_word(text, len, *w))
			return 1;
	return any_of(text, len, content_words) || (x7 && any_of(text, len, x7_words));
}

/* How much a result tells: a status read from the bounce beats a guessed
 * one, a failure beats a delay. */
static int weight(const dsn_result *r)
{
	int guessed = strcmp(r->status, "5.0.0") == 0 || strcmp(r->status, "4.0.0") == 0;
	return (guessed ? 0 : 2) + (r->kind != DSN_DELAY);
}

static void result_free(dsn_result *r)
{
	str_free(&r->addr);
	str_free(&r->orig);
	str_free(&r->diag);
}

/* ADDR..ALEN (bare or in <>) as a checked address with its domain
 * lower-cased into OUT; 0 when it is none. */
static int take_addr(const char *addr, size_t alen, str *out)
{
	if (addr_parse_path(addr, alen, out) == ST_OK && out->len &&
	    addr_check(out->s, out->len) == NULL) {
		addr_normalize(out);
		return 1;
	}
	str_free(out);
	return 0;
}

/* The status and kind of R from STATUS (NULL or "": none given) and the
 * diagnostic; DEF_KIND is the kind of failure the format reports.  0 when
 * it is no failure (a 2.x.x status). */
static int classify(dsn_result *r, const char *status, dsn_kind def_kind)
{
	char found[16];
	const char *d = r->diag.s ? r->diag.s : "";
	if ((!status || !*status) && find_status(d, r->diag.len, found))
		status = found;
	if (status && *status) {
		if (status[0] == '2')
			return 0;
		snprintf(r->status, sizeof r->status, "%s", status);
		/* X.2.2, mailbox full: the address is alive, whatever the class */
		r->kind = def_kind == DSN_DELAY					? DSN_DELAY
			  : strcmp(status + 1, ".2.2") == 0 || status[0] != '5' ? DSN_SOFT
										: DSN_HARD;
		return 1;
	}
	int cls = find_reply_class(d, r->diag.len);
	r->kind = def_kind == DSN_DELAY		       ? DSN_DELAY
		  : cls == '4'			       ? DSN_SOFT
		  : cls == '5'			       ? DSN_HARD
		  : any_of(d, r->diag.len, full_words) ? DSN_SOFT
						       : def_kind;
	snprintf(r->status, sizeof r->status, "%s",
		 r->kind == DSN_HARD		      ? "5.0.0"
		 : any_of(d, r->diag.len, full_words) ? "4.2.2"
						      : "4.0.0");
	return 1;
}

/*
 * One result: ADDR..ALEN failed with STATUS (NULL: none found) and
 * diagnostic DIAG..DLEN; ORIG..OLEN its Original-Recipient, if any.  An
 * address seen before is kept once, with what tells more.
 */
static void add(dsn_report *rep, const char *addr, size_t alen, const char *orig, size_t olen,
		const char *status, dsn_kind def_kind, const char *how, const char *diag,
		size_t dlen)
{
	dsn_result r;
	memset(&r, 0, sizeof r);
	if (!take_addr(addr, alen, &r.addr))
		return;
	r.how = how;
	put_line(&r.diag, diag, dlen);
	if (!classify(&r, status, def_kind)) {
		result_free(&r);
		return;
	}
	if (orig && olen)
		take_addr(orig, olen, &r.orig);
	r.policy = dsn_is_policy(r.status, r.diag.s ? r.diag.s : "", r.diag.len);
	for (size_t i = 0; i < rep->n; i++) {
		dsn_result *o = &rep->r[i];
		if (!addr_equal(str_c(&o->addr), str_c(&r.addr)))
			continue;
		if (weight(&r) > weight(o)) {
			result_free(o);
			*o = r;
		} else {
			result_free(&r);
		}
		return;
	}
	if (rep->n >= DSN_MAX_RESULTS) {
		result_free(&r);
		return;
	}
	rep->r = realloc(rep->r, (rep->n + 1) * sizeof *rep->r);
	if (!rep->r)
		abort();
	rep->r[rep->n++] = r;
}

/* ---------------------------------------------------------------- the report */

typedef struct field {
	const char *name;
	str value;
} field;

/* The value of "NAME: value" lines (continuations joined by a blank). */
static void field_take(field *f, size_t nf, const char *l, size_t n, field **cur)
{
	if (n && (l[0] == ' ' || l[0] == '\t')) {
		if (*cur && (*cur)->value.len < FIELD_MAX) {
			str_putc(&(*cur)->value, ' ');
			str_append(&(*cur)->value, l, n < FIELD_MAX ? n : FIELD_MAX);
		}
		return;
	}
	*cur = NULL;
	const char *colon = memchr(l, ':', n);
	if (!colon)
		return;
	for (size_t i = 0; i < nf; i++) {
		size_t k = strlen(f[i].name);
		if ((size_t)(colon - l) == k && strncasecmp(l, f[i].name, k) == 0) {
			*cur = &f[i];
			str_clear(&f[i].value);
			size_t v = (size_t)(colon + 1 - l);
			str_append(&f[i].value, colon + 1, n - v < FIELD_MAX ? n - v : FIELD_MAX);
			return;
		}
	}
}

/* "TYPE; ADDRESS" -> ADDRESS (the whole value when there is no type) */
static void typed_addr(const str *v, const char **p, size_t *n)
{
	const char *s = v->s ? v->s : "";
	const char *semi = memchr(s, ';', v->len);
	*p = semi ? semi + 1 : s;
	*n = v->len - (size_t)(*p - s);
	while (*n && (**p == ' ' || **p == '\t'))
		(*p)++, (*n)--;
	/* a comment after the address: "a@b (forwarded)" */
	const char *sp = memchr(*p, ' ', *n);
	if (sp)
		*n = (size_t)(sp - *p);
}

enum { F_FINAL, F_ORIG, F_ACTION, F_STATUS, F_DIAG, F_ENVID, F_N };

/* One block of the report (fields in F). */
static void report_block(dsn_report *rep, field *f)
{
	if (f[F_ENVID].value.len && !rep->envid.len)
		put_line(&rep->envid, f[F_ENVID].value.s, f[F_ENVID].value.len);
	const str *who = f[F_FINAL].value.len ? &f[F_FINAL].value : &f[F_ORIG].value;
	if (!who->len)
		return;
	char action[16] = "";
	const char *a = str_c(&f[F_ACTION].value);
	while (*a == ' ' || *a == '\t')
		a++;
	size_t k = strcspn(a, " \t(;");
	snprintf(action, sizeof action, "%.*s", (int)(k < 15 ? k : 15), a);
	char status[16] = "";
	find_status(str_c(&f[F_STATUS].value), f[F_STATUS].value.len, status);
	dsn_kind kind;
	if (strcasecmp(action, "failed") == 0)
		kind = DSN_HARD; /* the status class decides hard or soft */
	else if (strcasecmp(action, "delayed") == 0)
		kind = DSN_DELAY;
	else if (action[0] || status[0] != '5')
		return; /* delivered, relayed, expanded; or no action, not 5.x.x */
	else
		kind = DSN_HARD;
	const char *d = str_c(&f[F_DIAG].value), *ap, *op = NULL;
	size_t an, on = 0;
	typed_addr(who, &ap, &an);
	if (f[F_ORIG].value.len && who != &f[F_ORIG].value)
		typed_addr(&f[F_ORIG].value, &op, &on);
	/* the diagnostic's type ("smtp; 550 ...") is not part of its text */
	const char *semi = strchr(d, ';');
	if (semi && semi - d < 16)
		d = semi + 1;
	add(rep, ap, an, op, on, status, kind, "dsn", d, strlen(d));
}

/* The fields of a delivery-status part, block by block (RFC 3464 2.1). */
static void read_report(dsn_report *rep, const char *p, size_t n)
{
	field f[F_N] = {{"Final-Recipient", STR_INIT}, {"Original-Recipient", STR_INIT},
			{"Action", STR_INIT},	       {"Status", STR_INIT},
			{"Diagnostic-Code", STR_INIT}, {"Original-Envelope-Id", STR_INIT}};
	field *cur = NULL;
	lines it;
	const char *l;
	size_t k;
	int any = 0;
	lines_init(&it, p, n);
	for (int more = 1; more;) {
		more = lines_next(&it, &l, &k);
		if (more && k && l[k - 1] == '\r')
			k--;
		if (more && k) {
			field_take(f, F_N, l, k, &cur);
			any = 1;
			continue;
		}
		if (any) /* a blank line (or the end) ends a block */
			report_block(rep, f);
		for (int i = 0; i < F_N; i++)
			str_clear(&f[i].value);
		cur = NULL;
		any = 0;
	}
	for (int i = 0; i < F_N; i++)
		str_free(&f[i].value);
}

/* ---------------------------------------------------------------- the walk */

typedef struct walk {
	str report; /* decoded delivery-status parts, one after the other */
	str text;   /* decoded readable text */
	int parts;
	int reports; /* delivery-status parts seen */
} walk;

/* The decoded content of leaf O onto OUT, up to TEXT_MAX in all. */
static void leaf_bytes(GMimeObject *o, str *out)
{
	if (out->len >= TEXT_MAX)
		return;
	GMimeStream *mem = g_mime_stream_mem_new();
	if (GMIME_IS_PART(o)) {
		GMimeDataWrapper *w = g_mime_part_get_content(GMIME_PART(o));
		if (w)
			g_mime_data_wrapper_write_to_stream(w, mem);
	} else {
		g_mime_object_write_content_to_stream(o, NULL, mem);
	}
	GByteArray *b = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	size_t room = TEXT_MAX - out->len;
	if (b && b->len)
		str_append(out, b->data, b->len < room ? b->len : room);
	str_putc(out, '\n');
	g_object_unref(mem);
}

static int is_type(GMimeObject *o, const char *type, const char *sub)
{
	return g_mime_content_type_is_type(g_mime_object_get_content_type(o), type, sub);
}

static void walk_part(walk *w, GMimeObject *o, int depth)
{
	if (depth > DSN_MAX_DEPTH || w->parts >= DSN_MAX_PARTS)
		return;
	w->parts++;
	if (GMIME_IS_MULTIPART(o)) {
		int n = g_mime_multipart_get_count(GMIME_MULTIPART(o));
		for (int i = 0; i < n; i++)
			walk_part(w, g_mime_multipart_get_part(GMIME_MULTIPART(o), i), depth + 1);
		return;
	}
	if (is_type(o, "message", "delivery-status") ||
	    is_type(o, "message", "global-delivery-status")) {
		w->reports++;
		leaf_bytes(o, &w->report);
		str_putc(&w->report, '\n'); /* a block never runs into the next part's */
		return;
	}
	/* the returned original (message/rfc822, message/global,
	 * text/rfc822-headers) and attachments are not the bounce's text */
	if (GMIME_IS_MESSAGE_PART(o) || is_type(o, "text", "rfc822-headers") ||
	    !is_type(o, "text", "*"))
		return;
	const char *d = g_mime_object_get_disposition(o);
	if (d && g_ascii_strcasecmp(d, "attachment") == 0)
		return;
	leaf_bytes(o, &w->text);
}

/* ---------------------------------------------------------------- the recognizers */

typedef struct txt {
	const char **l; /* lines (no LF, no CR) */
	size_t *n;
	size_t count;
	const char *all; /* the whole text */
	size_t len;
	dsn_kind kind; /* DSN_DELAY when the text is a warning, else DSN_HARD */
} txt;

/* A line that starts an inline copy of the original: nothing after it is
 * the bounce's own text. */
static const char *const copy_marks[] = {
    "copy of the message",    "original message follows",	 "unsent message follows",
    "message follows",	      "original message headers",	 "returned message",
    "----- original message", "headers of the original message", NULL};

static const char *const warning_marks[] = {"this is a warning only",
					    "has not yet been delivered",
					    "delivery is delayed",
					    "delivery has been delayed",
					    "transient non-fatal errors",
					    "warning: could not send message",
					    "will continue trying",
					    "will be retried",
					    "message delayed",
					    "delayed mail",
					    "still trying",
					    "no action is required on your part",
					    NULL};

static void txt_make(txt *t, const str *text)
{
	lines it;
	const char *l;
	size_t k, cap = 0;
	memset(t, 0, sizeof *t);
	t->all = text->s ? text->s : "";
	t->len = text->len;
	lines_init(&it, t->all, t->len);
	while (lines_next(&it, &l, &k)) {
		if (k && l[k - 1] == '\r')
			k--;
		if (any_of(l, k, copy_marks)) {
			t->len = (size_t)(l - t->all);
			break;
		}
		if (t->count == cap) {
			cap = cap ? 2 * cap : 64;
			t->l = realloc(t->l, cap * sizeof *t->l);
			t->n = realloc(t->n, cap * sizeof *t->n);
			if (!t->l || !t->n)
				abort();
		}
		t->l[t->count] = l;
		t->n[t->count++] = k;
	}
	t->kind = any_of(t->all, t->len, warning_marks) ? DSN_DELAY : DSN_HARD;
}

static void txt_free(txt *t)
{
	free(t->l);
	free(t->n);
}

static int blank(const char *l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (l[i] != ' ' && l[i] != '\t')
			return 0;
	return 1;
}

static size_t indent(const char *l, size_t n)
{
	size_t i = 0;
	while (i < n && (l[i] == ' ' || l[i] == '\t'))
		i += l[i] == '\t' ? 8 : 1;
	return i;
}

static void trim(const char **l, size_t *n)
{
	while (*n && (**l == ' ' || **l == '\t'))
		(*l)++, (*n)--;
	while (*n && ((*l)[*n - 1] == ' ' || (*l)[*n - 1] == '\t'))
		(*n)--;
}

/* The index of the first line from FROM that holds any of MARKS, or
 * t->count. */
static size_t line_with(const txt *t, size_t from, const char *const *marks)
{
	for (size_t i = from; i < t->count; i++)
		if (any_of(t->l[i], t->n[i], marks))
			return i;
	return t->count;
}

/* Lines FROM.. up to (not including) a line for which STOP says so, joined
 * onto D. */
static size_t join_until(const txt *t, size_t from, str *d, int (*stop)(const char *, size_t))
{
	size_t i = from;
	for (; i < t->count && !stop(t->l[i], t->n[i]); i++) {
		str_putc(d, ' ');
		str_append(d, t->l[i], t->n[i]);
	}
	return i;
}

/* "<addr>: diag" (qmail, Postfix's old text, Yahoo): the address in <> at
 * the start of the line, then ':'; the diagnostic is the rest of the line
 * and the lines below it up to a blank line or the next such line. */
static int angle_colon(const char *l, size_t n, size_t *at, size_t *len, size_t *rest)
{
	/* at the start of the line: an indented one continues a diagnostic */
	if (n < 4 || l[0] != '<')
		return 0;
	const char *gt = memchr(l, '>', n);
	if (!gt || gt + 1 >= l + n || gt[1] != ':')
		return 0;
	*at = 0;
	*len = (size_t)(gt + 1 - l);
	*rest = (size_t)(gt + 2 - l);
	return 1;
}

static int stop_angle(const char *l, size_t n)
{
	size_t a, b, c;
	return blank(l, n) || angle_colon(l, n, &a, &b, &c);
}

static void rx_angle(const txt *t, dsn_report *rep, const char *how)
{
	str d = STR_INIT;
	for (size_t i = 0; i < t->count; i++) {
		size_t at, len, rest;
		if (!angle_colon(t->l[i], t->n[i], &at, &len, &rest))
			continue;
		str_clear(&d);
		str_append(&d, t->l[i] + rest, t->n[i] - rest);
		size_t j = join_until(t, i + 1, &d, stop_angle);
		dsn_kind kind = t->kind;
		/* qmail gave up on a transient failure: no code, these words */
		if (kind != DSN_DELAY && (ci_find(d.s, d.len, "too long") ||
					  ci_find(d.s, d.len, "retry timeout exceeded")))
			kind = DSN_SOFT;
		add(rep, t->l[i] + at, len, NULL, 0, kind == DSN_SOFT ? "4.4.7" : NULL, kind, how,
		    d.s ? d.s : "", d.len);
		i = j - 1;
	}
	str_free(&d);
}

static void rx_qmail(const txt *t, dsn_report *rep)
{
	rx_angle(t, rep, "qmail");
}

static void rx_postfix(const txt *t, dsn_report *rep)
{
	rx_angle(t, rep, "postfix");
}

static void rx_yahoo(const txt *t, dsn_report *rep)
{
	rx_angle(t, rep, "yahoo");
}

/* Exim: after "...address(es) failed:" (or the delay warning's list), an
 * address indented by two, its diagnostic indented deeper below it. */
static void rx_exim(const txt *t, dsn_report *rep)
{
	static const char *const starts[] = {"address(es) failed", "following address(es)",
					     "not yet been delivered is",
					     "not yet been delivered are", NULL};
	size_t i = line_with(t, 0, starts);
	str d = STR_INIT;
	for (i++; i < t->count; i++) {
		const char *l = t->l[i];
		size_t n = t->n[i], in = indent(l, n), at, len;
		if (blank(l, n))
			continue;
		if (in == 0)
			break; /* the list is over */
		if (in > 3 || !find_addr(l, n, &at, &len))
			continue;
		str_clear(&d);
		/* "  addr: text" on one line too */
		if (at + len + 1 < n)
			str_append(&d, l + at + len + 1, n - at - len - 1);
		size_t j = i + 1;
		for (; j < t->count && indent(t->l[j], t->n[j]) > 3 && !blank(t->l[j], t->n[j]);
		     j++) {
			str_putc(&d, ' ');
			str_append(&d, t->l[j], t->n[j]);
		}
		dsn_kind kind = t->kind;
		if (kind != DSN_DELAY && ci_find(d.s, d.len, "retry timeout exceeded"))
			kind = DSN_SOFT;
		add(rep, l + at, len, NULL, 0, kind == DSN_SOFT ? "4.4.7" : NULL, kind, "exim",
		    d.s ? d.s : "", d.len);
		i = j - 1;
	}
	str_free(&d);
}

/* Sendmail's text: "----- The following addresses had permanent fatal
 * errors -----", one address a line, each maybe followed by
 * "(reason: ...)", up to a blank line. */
static void rx_sendmail(const txt *t, dsn_report *rep)
{
	static const char *const fatal[] = {"addresses had permanent fatal errors", NULL};
	static const char *const transient[] = {"addresses had transient non-fatal errors", NULL};
	str d = STR_INIT;
	for (int pass = 0; pass < 2; pass++) {
		size_t i = line_with(t, 0, pass ? transient : fatal);
		for (i++; i < t->count && !blank(t->l[i], t->n[i]); i++) {
			size_t at, len;
			const char *l = t->l[i];
			size_t n = t->n[i];
			trim(&l, &n);
			if (n && l[0] == '(')
				continue; /* a reason line of the address above */
			if (!find_addr(l, n, &at, &len))
				continue;
			str_clear(&d);
			if (i + 1 < t->count) {
				const char *r = t->l[i + 1];
				size_t rn = t->n[i + 1];
				trim(&r, &rn);
				if (rn && r[0] == '(')
					str_append(&d, r, rn);
			}
			add(rep, l + at, len, NULL, 0, NULL, pass ? DSN_DELAY : t->kind, "sendmail",
			    d.s ? d.s : "", d.len);
		}
	}
	str_free(&d);
}

static int is_addr_line(const char *l, size_t n, size_t *at, size_t *len)
{
	const char *s = l;
	size_t k = n;
	trim(&s, &k);
	/* "addr", "<addr>", "'addr' on DATE", "Name (addr)", "addr on DATE" */
	if (!k || !find_addr(s, k, at, len))
		return 0;
	size_t before = *at, after = k - *at - *len;
	const char *tail = s + *at + *len;
	while (after && strchr(">')\"", *tail))
		tail++, after--;
	int dated = after > 4 && strncasecmp(tail, " on ", 4) == 0;
	*at += (size_t)(s - l);
	return (before <= 1 || (before < 60 && memchr(s, '(', before))) && (after == 0 || dated);
}

static int stop_exchange(const char *l, size_t n)
{
	size_t a, b;
	return is_addr_line(l, n, &a, &b);
}

/* Exchange/Outlook: after "Delivery has failed to these recipients or
 * groups:" (or the old "The following recipient(s) cannot be reached:",
 * or "Diagnostic information for administrators:"), a line that is an
 * address, then its text up to the next such line; "Your message to ADDR
 * couldn't be delivered." names one. */
static void rx_exchange(const txt *t, dsn_report *rep)
{
	static const char *const starts[] = {"delivery has failed to these recipients",
					     "following recipient(s) cannot be reached",
					     "delivery is delayed to these recipients",
					     "diagnostic information for administrators", NULL};
	str d = STR_INIT;
	for (size_t i = line_with(t, 0, starts); i < t->count; i = line_with(t, i, starts)) {
		for (i++; i < t->count && !any_of(t->l[i], t->n[i], starts); i++) {
			size_t at, len;
			if (!is_addr_line(t->l[i], t->n[i], &at, &len))
				continue;
			str_clear(&d);
			size_t j = join_until(t, i + 1, &d, stop_exchange);
			add(rep, t->l[i] + at, len, NULL, 0, NULL, t->kind, "exchange",
			    d.s ? d.s : "", d.len);
			i = j - 1;
		}
	}
	for (size_t i = 0; i < t->count; i++) {
		const char *l = t->l[i], *m = ci_find(l, t->n[i], "your message to ");
		const char *e =
		    m ? ci_find(m, t->n[i] - (size_t)(m - l), " couldn't be delivered") : NULL;
		size_t at, len;
		if (!e || !find_addr(m + 16, (size_t)(e - m - 16), &at, &len))
			continue;
		str_clear(&d);
		/* the administrators' part says why */
		size_t j = line_with(t, i, (const char *const[]){"remote server returned", NULL});
		if (j < t->count)
			str_append(&d, t->l[j], t->n[j]);
		add(rep, m + 16 + at, len, NULL, 0, NULL, t->kind, "exchange", d.s ? d.s : "",
		    d.len);
	}
	str_free(&d);
}

/* GroupWise: "The message that you sent was undeliverable to the
 * following:", then "addr (reason)" lines up to a blank line. */
static void rx_groupwise(const txt *t, dsn_report *rep)
{
	static const char *const starts[] = {"was undeliverable to the following", NULL};
	size_t i = line_with(t, 0, starts);
	for (i++; i < t->count && !blank(t->l[i], t->n[i]); i++) {
		size_t at, len;
		if (find_addr(t->l[i], t->n[i], &at, &len))
			add(rep, t->l[i] + at, len, NULL, 0, NULL, t->kind, "groupwise",
			    t->l[i] + at + len, t->n[i] - at - len);
	}
}

/* Simple texts: an address and, on its line or the next, words that say
 * the mailbox is unknown (hard) or full (soft). */
static void rx_simple(const txt *t, dsn_report *rep)
{
	static const char *const hard[] = {"user unknown",
					   "unknown user",
					   "no such user",
					   "no such recipient",
					   "user not found",
					   "recipient not found",
					   "mailbox unavailable",
					   "mailbox not found",
					   "mailbox does not exist",
					   "address does not exist",
					   "does not exist",
					   "invalid recipient",
					   "invalid mailbox",
					   "account disabled",
					   "account has been disabled",
					   "no mailbox",
					   "not a valid mailbox",
					   "unknown recipient",
					   "address rejected",
					   "unrouteable address",
					   "no longer available",
					   NULL};
	for (size_t i = 0; i < t->count; i++) {
		size_t at, len;
		if (!find_addr(t->l[i], t->n[i], &at, &len))
			continue;
		for (size_t j = i; j < t->count && j <= i + 1; j++) {
			const char *l = t->l[j];
			size_t n = t->n[j];
			if (!any_of(l, n, hard) && !any_of(l, n, full_words))
				continue;
			add(rep, t->l[i] + at, len, NULL, 0, NULL, t->kind, "simple", l, n);
			break;
		}
	}
}

typedef struct recognizer {
	const char *const *marks; /* any of these in the text: this format */
	void (*run)(const txt *t, dsn_report *rep);
} recognizer;

static const char *const m_qmail[] = {"this is the qmail-send program",
				      "i wasn't able to deliver your message", NULL};
static const char *const m_postfix[] = {"this is the postfix program",
					"this is the mail system at host", NULL};
static const char *const m_exim[] = {"created automatically by mail delivery software",
				     "address(es) failed", NULL};
static const char *const m_sendmail[] = {"addresses had permanent fatal errors",
					 "addresses had transient non-fatal errors", NULL};
static const char *const m_exchange[] = {
    "delivery has failed to these recipients", "following recipient(s) cannot be reached",
    "delivery is delayed to these recipients", "couldn't be delivered", NULL};
static const char *const m_yahoo[] = {"unable to deliver your message to the following address",
				      NULL};
static const char *const m_groupwise[] = {"was undeliverable to the following", NULL};
static const char *const m_simple[] = {"undeliver",	    "delivery fail",
				       "returned mail",	    "could not be delivered",
				       "failure notice",    "delivery status notification",
				       "non-delivery",	    "not delivered",
				       "delivery failure",  "permanent error",
				       "unable to deliver", NULL};

static const recognizer recognizers[] = {
    {m_qmail, rx_qmail},	 {m_postfix, rx_postfix},   {m_exim, rx_exim},
    {m_sendmail, rx_sendmail},	 {m_exchange, rx_exchange}, {m_yahoo, rx_yahoo},
    {m_groupwise, rx_groupwise}, {m_simple, rx_simple},
};

/* ---------------------------------------------------------------- entry */

static void init_gmime(void)
{
	static int done;
	if (!done) {
		g_mime_init();
		done = 1;
	}
}

fml_status dsn_parse(const char *p, size_t n, dsn_report *rep)
{
	walk w;
	memset(&w, 0, sizeof w);
	init_gmime();
	GMimeStream *s = g_mime_stream_mem_new_with_buffer(p, n);
	GMimeParser *ps = g_mime_parser_new_with_stream(s);
	GMimeMessage *msg = g_mime_parser_construct_message(ps, NULL);
	str subject = STR_INIT, failed = STR_INIT;
	if (msg) {
		const char *sub = g_mime_message_get_subject(msg);
		if (sub)
			str_puts(&subject, sub);
		const char *xf = g_mime_object_get_header(GMIME_OBJECT(msg), "X-Failed-Recipients");
		if (xf)
			str_puts(&failed, xf);
		GMimeObject *body = g_mime_message_get_mime_part(msg);
		if (body)
			walk_part(&w, body, 0);
		g_object_unref(msg);
	} else {
		str_append(&w.text, p, n < TEXT_MAX ? n : TEXT_MAX);
	}
	g_object_unref(ps);
	g_object_unref(s);

	rep->report = w.reports > 0;
	if (w.reports)
		read_report(rep, w.report.s ? w.report.s : "", w.report.len);
	if (!w.reports) {
		txt t;
		txt_make(&t, &w.text);
		for (size_t i = 0; i < sizeof recognizers / sizeof recognizers[0] && !rep->n; i++)
			if (any_of(t.all, t.len, recognizers[i].marks) ||
			    (recognizers[i].run == rx_simple &&
			     any_of(subject.s ? subject.s : "", subject.len, m_simple)))
				recognizers[i].run(&t, rep);
		txt_free(&t);
	}
	/* Exim names the addresses of a permanent failure in a field too */
	if (!rep->n && failed.len) {
		str list = STR_INIT;
		int k = addr_parse_list(failed.s, failed.len, &list);
		const char *a = list.s;
		for (int i = 0; i < k; i++, a += strlen(a) + 1)
			add(rep, a, strlen(a), NULL, 0, NULL, DSN_HARD, "x-failed-recipients", "",
			    0);
		str_free(&list);
	}
	str_free(&subject);
	str_free(&failed);
	str_free(&w.report);
	str_free(&w.text);
	return ST_OK;
}
