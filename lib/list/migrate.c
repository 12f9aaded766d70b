/*
 * migrate: an fml 4 config.ph as an fml config.cf.  See migrate.h.
 */
#include "migrate.h"

#include <ctype.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* fml 4's bare numbers for these are days or hours, not seconds */
static const struct {
	const char *name, *unit;
} units[] = {
    {"MODERATOR_EXPIRE_LIMIT", "d"}, {"HTML_EXPIRE_LIMIT", "d"}, {"CONFIRMATION_EXPIRE", "h"}};

/* fml 4's 0 for these is "no limit": fml keeps its own */
static const char *const zero_unlimited[] = {"MAXNUM_COMMAND_INPUT", "MAXLEN_COMMAND_INPUT",
					     "INCOMING_MAIL_SIZE_LIMIT"};

/* fml 4's name -> fml's */
static const struct {
	const char *old, *now;
} renames[] = {{"AUTO_HTML_GEN", "HTML_ARCHIVE"}};

typedef struct mig {
	config *cf;
	str *out;
	str handlers; /* CONTENT_HANDLER rules */
	str notes;    /* "# ..." lines of what was not taken */
	migrate_result *r;
} mig;

/* One statement (without its ';'), trimmed, for a note. */
static void note(mig *m, const char *stmt, size_t n, const char *why)
{
	str_puts(&m->notes, "#   ");
	for (size_t i = 0; i < n; i++) { /* one comment line, no control bytes */
		unsigned char ch = (unsigned char)stmt[i];
		str_putc(&m->notes, ch == '\n' || ch == '\r' || ch == '\t' ? ' '
				    : ch < 0x20 || ch == 0x7f		   ? '?'
									   : ch);
	}
	str_printf(&m->notes, ";   (%s)\n", why);
	m->r->skipped++;
}

/* A Perl scalar at *P (before END): "..." (\@ \" \\ \$ unescaped; $VAR
 * kept), '...', a number, or $OTHER (as "$OTHER"), into OUT; the rest
 * after it in *P.  0 when it is none of those. */
static int scalar(const char **p, const char *end, str *out)
{
	const char *s = *p;
	str_clear(out);
	while (s < end && isspace((unsigned char)*s))
		s++;
	if (s < end && (*s == '"' || *s == '\'')) {
		char q = *s++;
		for (; s < end && *s != q; s++) {
			if (*s == '\\' && s + 1 < end) {
				s++;
				if (q == '"' && *s == 'n')
					return 0; /* a line end: not a config value */
				if (q == '\'' && *s != '\'' && *s != '\\')
					str_putc(out, '\\');
			}
			str_putc(out, *s);
		}
		if (s == end)
			return 0;
		*p = s + 1;
		return 1;
	}
	if (s < end && *s == '$') {
		const char *b = s++;
		while (s < end && (isalnum((unsigned char)*s) || *s == '_'))
			s++;
		if (s - b < 2)
			return 0;
		str_append(out, b, (size_t)(s - b));
		*p = s;
		return 1;
	}
	const char *b = s;
	while (s < end && (isdigit((unsigned char)*s) || *s == '.' || *s == '-'))
		s++;
	if (s == b)
		return 0;
	str_append(out, b, (size_t)(s - b));
	*p = s;
	return 1;
}

static int only_blank(const char *p, const char *end)
{
	while (p < end && isspace((unsigned char)*p))
		p++;
	return p == end;
}

/* NAME = VALUE into the configuration, if fml knows it and takes it */
static void set_var(mig *m, const char *stmt, size_t n, const char *name, const str *value)
{
	char nm[128], val[4096];
	snprintf(nm, sizeof nm, "%s", name);
	for (size_t i = 0; i < sizeof renames / sizeof *renames; i++)
		if (strcmp(nm, renames[i].old) == 0)
			snprintf(nm, sizeof nm, "%s", renames[i].now);
	if (config_id(nm) < 0) {
		note(m, stmt, n, "not a variable of fml");
		return;
	}
	snprintf(val, sizeof val, "%s", str_c(value));
	for (size_t i = 0; i < sizeof zero_unlimited / sizeof *zero_unlimited; i++)
		if (strcmp(nm, zero_unlimited[i]) == 0 && strcmp(val, "0") == 0) {
			note(m, stmt, n, "0 is no limit in fml 4: fml keeps its own");
			return;
		}
	for (size_t i = 0; i < sizeof units / sizeof *units; i++) {
		size_t l = strlen(val);
		if (strcmp(nm, units[i].name) == 0 && l > 0 && l < 20 &&
		    strspn(val, "0123456789") == l)
			snprintf(val + l, sizeof val - l, "%s", units[i].unit);
	}
	const char *before = config_get(m->cf, nm);
	char *was = strdup(before ? before : "");
	str err = STR_INIT;
	if (config_set(m->cf, nm, val, &err) != ST_OK) {
		const char *why = strstr(str_c(&err), ": ");
		note(m, stmt, n, why ? why + 2 : "a value fml refuses");
	} else if (strcmp(was, config_get(m->cf, nm) ? config_get(m->cf, nm) : "") == 0) {
		m->r->same++;
	} else {
		str_printf(m->out, "%s = %s\n", nm, val);
		m->r->set++;
	}
	free(was);
	str_free(&err);
}

/* fml 4's regular expressions of types, the simple ones, as globs */
static int type_glob(const str *re, str *out)
{
	str_clear(out);
	for (size_t i = 0; i < re->len; i++) {
		char c = re->s[i];
		if (c == '.' && i + 1 < re->len && re->s[i + 1] == '*') {
			str_putc(out, '*');
			i++;
		} else if (isalnum((unsigned char)c) || c == '/' || c == '-' || c == '+' ||
			   c == '.' || (c == '!' && i == 0)) {
			str_putc(out, c);
		} else {
			return 0;
		}
	}
	return out->len > 0;
}

/* &NAME(ARGS) */
static void call(mig *m, const char *stmt, size_t n, const char *p, const char *end)
{
	const char *paren = memchr(p, '(', (size_t)(end - p));
	const char *close = end;
	while (close > p && close[-1] != ')')
		close--;
	if (!paren || close <= paren) {
		note(m, stmt, n, "not understood");
		return;
	}
	str fn = STR_INIT, a[3] = {STR_INIT, STR_INIT, STR_INIT}, g[2] = {STR_INIT, STR_INIT};
	str_append(&fn, p, (size_t)(paren - p));
	while (fn.len && isspace((unsigned char)fn.s[fn.len - 1]))
		str_truncate(&fn, fn.len - 1);
	const char *q = paren + 1, *qe = close - 1;
	int k = 0;
	while (k < 3 && scalar(&q, qe, &a[k])) {
		k++;
		while (q < qe && isspace((unsigned char)*q))
			q++;
		if (q < qe && *q == ',')
			q++;
	}
	int whole = only_blank(q, qe);
	if (strcmp(fn.s, "ADD_CONTENT_HANDLER") == 0 && k == 3 && whole &&
	    type_glob(&a[0], &g[0]) && type_glob(&a[1], &g[1])) {
		str_printf(&m->handlers, "%s%s %s %s", m->handlers.len ? "; " : "", g[0].s, g[1].s,
			   a[2].s);
	} else if (strcmp(fn.s, "DEFINE_FIELD_FORCED") == 0 && k == 2 && whole &&
		   strcasecmp(a[0].s, "reply-to") == 0) {
		set_var(m, stmt, n, "REPLY_TO", &a[1]);
	} else {
		note(m, stmt, n, "not understood");
	}
	str_free(&fn);
	for (int i = 0; i < 3; i++)
		str_free(&a[i]);
	str_free(&g[0]);
	str_free(&g[1]);
}

static void statement(mig *m, const char *s, size_t n)
{
	const char *p = s, *end = s + n;
	while (p < end && isspace((unsigned char)*p))
		p++;
	while (end > p && isspace((unsigned char)end[-1]))
		end--;
	if (p == end || (end - p == 1 && *p == '1'))
		return;
	if (*p == '&') {
		call(m, p, (size_t)(end - p), p + 1, end);
		return;
	}
	if (*p == '$') {
		const char *b = ++p;
		while (p < end && (isalnum((unsigned char)*p) || *p == '_'))
			p++;
		char name[128];
		snprintf(name, sizeof name, "%.*s", (int)(p - b), b);
		while (p < end && isspace((unsigned char)*p))
			p++;
		str v = STR_INIT;
		if (p < end && *p == '=' && p[1] != '=' && p - b > 0) {
			p++;
			if (scalar(&p, end, &v) && only_blank(p, end)) {
				set_var(m, b - 1, (size_t)(end - b + 1), name, &v);
				str_free(&v);
				return;
			}
		}
		str_free(&v);
		note(m, b - 1, (size_t)(end - b + 1), "not understood");
		return;
	}
	note(m, p, (size_t)(end - p), "not understood");
}

void migrate_config(const char *ph, size_t len, const config *defaults, str *out, migrate_result *r)
{
	memset(r, 0, sizeof *r);
	mig m = {(config *)defaults, out, STR_INIT, STR_INIT, r};
	str_puts(out, "# config.cf, made by makefml migrate from fml 4's config.ph (kept beside "
		      "it);\n# see fml.cf(5).  What config.ph set that fml does not use, or that "
		      "was not\n# understood, is listed at the end.\n");
	/* statements end with ';' outside quotes; '#' to the line's end is a
	 * comment outside quotes */
	const char *p = ph, *end = ph + len;
	char q = 0;
	str stmt = STR_INIT;
	for (; p < end; p++) {
		if (q) {
			if (*p == '\\' && p + 1 < end)
				str_putc(&stmt, *p++);
			else if (*p == q)
				q = 0;
			str_putc(&stmt, *p);
			continue;
		}
		if (*p == '#') {
			while (p < end && *p != '\n')
				p++;
			str_putc(&stmt, '\n');
			continue;
		}
		if (*p == '"' || *p == '\'')
			q = *p;
		/* Perl's q#...#, qq{...} (hooks): a quote up to its delimiter */
		if (*p == 'q' && (p == ph || !isalnum((unsigned char)p[-1])) && p + 2 < end) {
			const char *d = p + 1 + (p[1] == 'q');
			if (d < end && !isalnum((unsigned char)*d) && !isspace((unsigned char)*d) &&
			    *d != '_' && *d != '=' && *d != ';') {
				q = *d == '('	? ')'
				    : *d == '{' ? '}'
				    : *d == '[' ? ']'
				    : *d == '<' ? '>'
						: *d;
				str_append(&stmt, p, (size_t)(d - p + 1));
				p = d;
				continue;
			}
		}
		if (*p == ';') {
			statement(&m, stmt.s ? stmt.s : "", stmt.len);
			str_clear(&stmt);
			continue;
		}
		str_putc(&stmt, *p);
	}
	if (stmt.len && !only_blank(stmt.s, stmt.s + stmt.len))
		note(&m, stmt.s, stmt.len, "no ';' at its end");
	if (m.handlers.len) {
		str v = STR_INIT;
		str_sets(&v, m.handlers.s);
		set_var(&m, "&ADD_CONTENT_HANDLER(...)", 25, "CONTENT_HANDLER", &v);
		str_free(&v);
	}
	if (m.notes.len)
		str_printf(out, "\n# From config.ph, not taken (%d):\n%s", r->skipped, m.notes.s);
	str_free(&stmt);
	str_free(&m.handlers);
	str_free(&m.notes);
}

static int valid_utf8(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned c = p[i];
		size_t l = c < 0x80		? 1
			   : (c & 0xe0) == 0xc0 ? 2
			   : (c & 0xf0) == 0xe0 ? 3
			   : (c & 0xf8) == 0xf0 ? 4
						: 0;
		if (l == 0 || i + l > n || (l == 2 && c < 0xc2))
			return 0;
		for (size_t k = 1; k < l; k++)
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
		i += l;
	}
	return 1;
}

const char *migrate_utf8(str *text)
{
	static const char *const from[] = {"EUC-JP", "ISO-2022-JP", "SHIFT_JIS", NULL};
	if (!text->len || valid_utf8((const unsigned char *)text->s, text->len))
		return "UTF-8";
	for (int i = 0; from[i]; i++) {
		iconv_t cd = iconv_open("UTF-8", from[i]);
		if (cd == (iconv_t)-1)
			continue;
		str out = STR_INIT;
		str_reserve(&out, 4 * text->len + 16);
		char *in = text->s, *o = out.s;
		size_t il = text->len, ol = out.cap - 1;
		size_t r = iconv(cd, &in, &il, &o, &ol);
		iconv_close(cd);
		if (r != (size_t)-1 && il == 0) {
			out.len = (size_t)(o - out.s);
			out.s[out.len] = 0;
			str_set(text, out.s, out.len);
			str_free(&out);
			return from[i];
		}
		str_free(&out);
	}
	return NULL;
}
