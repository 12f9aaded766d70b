/*
 * addr: mail addresses.
 *
 * Parsing is in two passes, as Postfix's tok822 does it.  The tokenizer
 * turns a header value into atoms, quoted strings, domain literals and
 * single-character specials; whitespace and comments are dropped (comments
 * nest up to ADDR_COMMENT_DEPTH, counted iteratively: no recursion on input).
 * Raw ISO-2022-JP runs (ESC $ B ... ESC ( B) are opaque atom bytes, so their
 * 7-bit codes ('(', '"', '<') never act as specials.  The parser then walks
 * the token list once: address-list elements separated by ',', groups
 * "name: ... ;", name-addr "phrase <[@route:]addr-spec>" and bare addr-specs,
 * with the obsolete forms (dots in phrases, CFWS around dots, empty list
 * elements, source routes).  The result is a bare addr-spec: comments and
 * routes dropped, a quoted local part unquoted when it is a plain dot-atom.
 *
 * The parser is lenient where the RFC's obsolete syntax or common practice
 * is (a..b@docomo.ne.jp, a local part without a domain, "@" inside a display
 * name); whatever it accepts still has to pass addr_check(), which is strict.
 *
 * Failure policy: malformed input (unterminated quote/comment/literal,
 * comments nested over 32, more than ADDR_TOKEN_LIMIT tokens, a mailbox that
 * is not local-part["@"domain], a NUL byte in a mailbox) anywhere in the
 * value is ST_DATAERR or -1, also for addr_parse_first(): a From: that is
 * malformed after its first mailbox (a@b;reboot) names no sender.  Memory
 * is bounded by the token count; nothing here logs or exits.
 */
#include "addr.h"
#include "util/mem.h"

#include <stdlib.h>
#include <string.h>

#define ADDR_TOKEN_LIMIT 10240 /* Postfix header_address_token_limit */
#define ADDR_COMMENT_DEPTH 32  /* deepest nesting of comments */
#define ADDR_LOCAL_MAX 64
#define ADDR_DOMAIN_MAX 253
#define ADDR_LABEL_MAX 63

#define ESC 0x1b

enum { T_ATOM, T_QSTR, T_DLIT, T_SPECIAL };

typedef struct tok {
	unsigned char type;
	unsigned char ch; /* T_SPECIAL: the character */
	size_t off, len;  /* T_QSTR: between the quotes; T_DLIT: with brackets */
} tok;

typedef struct toklist {
	const unsigned char *p;
	tok *v;
	size_t n, cap;
} toklist;

static int is_wsp(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int is_special(unsigned char c)
{
	switch (c) {
	case '(':
	case ')':
	case '<':
	case '>':
	case '[':
	case ']':
	case ':':
	case ';':
	case '@':
	case ',':
	case '.':
	case '"':
		return 1;
	default:
		return 0;
	}
}

static int is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static unsigned char lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 'a' - 'A') : c;
}

/* RFC 5322 atext (ASCII only). */
static int is_atext(unsigned char c)
{
	return is_alnum(c) || (c && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* Skip one ISO-2022-JP escape at P[I] == ESC.  "ESC $ ..." starts a
 * two-byte run that lasts to the next "ESC ( X" (or the end); "ESC ( X" is
 * three bytes; any other ESC is one byte.  Returns the index after it. */
static size_t skip_jis(const unsigned char *p, size_t i, size_t len)
{
	if (i + 1 < len && p[i + 1] == '$') {
		for (i += 2; i < len; i++)
			if (p[i] == ESC && i + 1 < len && p[i + 1] == '(')
				return i + 3 < len ? i + 3 : len;
		return len;
	}
	if (i + 1 < len && p[i + 1] == '(')
		return i + 3 < len ? i + 3 : len;
	return i + 1;
}

static int tok_push(toklist *tl, int type, unsigned char ch, size_t off, size_t len)
{
	if (tl->n >= ADDR_TOKEN_LIMIT)
		return -1;
	if (tl->n == tl->cap) {
		tl->cap = tl->cap ? tl->cap * 2 : 16;
		tl->v = mem_reallocarray(tl->v, tl->cap, sizeof *tl->v);
	}
	tl->v[tl->n].type = (unsigned char)type;
	tl->v[tl->n].ch = ch;
	tl->v[tl->n].off = off;
	tl->v[tl->n].len = len;
	tl->n++;
	return 0;
}

/* Scan a comment starting at P[I] == '('; iterative, depth-counted.
 * Returns the index after the closing ')', or 0 when malformed. */
static size_t scan_comment(const unsigned char *p, size_t i, size_t len)
{
	int depth = 0;

	while (i < len) {
		unsigned char c = p[i];
		if (c == '\\') {
			i += 2;
		} else if (c == ESC) {
			i = skip_jis(p, i, len);
		} else if (c == '(') {
			if (++depth > ADDR_COMMENT_DEPTH)
				return 0;
			i++;
		} else if (c == ')') {
			i++;
			if (--depth == 0)
				return i;
		} else {
			i++;
		}
	}
	return 0; /* unterminated */
}

/* Scan a quoted string or domain literal opened at P[I] and closed by
 * CLOSE.  Returns the index of the closing byte, or 0 when unterminated. */
static size_t scan_quoted(const unsigned char *p, size_t i, size_t len, unsigned char close)
{
	for (i++; i < len;) {
		unsigned char c = p[i];
		if (c == '\\')
			i += 2;
		else if (c == ESC && close == '"')
			i = skip_jis(p, i, len);
		else if (c == close)
			return i;
		else if (c == '[' && close == ']')
			return 0;
		else
			i++;
	}
	return 0;
}

/* Split P into tokens.  Comments count against the token limit too. */
static int tokenize(toklist *tl, const unsigned char *p, size_t len)
{
	size_t i = 0, ncomments = 0, e;

	tl->p = p;
	while (i < len) {
		unsigned char c = p[i];
		if (is_wsp(c)) {
			i++;
		} else if (c == '(') {
			if ((e = scan_comment(p, i, len)) == 0)
				return -1;
			if (++ncomments + tl->n > ADDR_TOKEN_LIMIT)
				return -1;
			i = e;
		} else if (c == ')') {
			return -1;
		} else if (c == '"') {
			if ((e = scan_quoted(p, i, len, '"')) == 0)
				return -1;
			if (tok_push(tl, T_QSTR, 0, i + 1, e - i - 1) < 0)
				return -1;
			i = e + 1;
		} else if (c == '[') {
			if ((e = scan_quoted(p, i, len, ']')) == 0)
				return -1;
			if (tok_push(tl, T_DLIT, 0, i, e - i + 1) < 0)
				return -1;
			i = e + 1;
		} else if (is_special(c)) {
			if (tok_push(tl, T_SPECIAL, c, i, 1) < 0)
				return -1;
			i++;
		} else {
			size_t s = i;
			while (i < len && !is_wsp(p[i]) && !is_special(p[i]))
				i = p[i] == ESC ? skip_jis(p, i, len) : i + 1;
			if (tok_push(tl, T_ATOM, 0, s, i - s) < 0)
				return -1;
		}
		if (ncomments + tl->n > ADDR_TOKEN_LIMIT)
			return -1;
	}
	return 0;
}

static int is_sp(const toklist *tl, size_t i, unsigned char ch)
{
	return i < tl->n && tl->v[i].type == T_SPECIAL && tl->v[i].ch == ch;
}

/* Whether P[0..N) is a dot-atom-text: atext runs joined by single dots. */
static int is_dot_atom(const unsigned char *p, size_t n)
{
	if (n == 0 || p[0] == '.' || p[n - 1] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '.') {
			if (p[i + 1] == '.')
				return 0;
		} else if (!is_atext(p[i])) {
			return 0;
		}
	}
	return 1;
}

/* Append the local-part word T: atoms as they are; a quoted string decoded,
 * then written bare when it is a dot-atom, else re-quoted minimally. */
static void put_word(const toklist *tl, const tok *t, str *out)
{
	const unsigned char *p = tl->p + t->off;

	if (t->type != T_QSTR) {
		str_append(out, p, t->len);
		return;
	}
	str dec = STR_INIT;
	for (size_t i = 0; i < t->len; i++) {
		if (p[i] == '\\' && i + 1 < t->len)
			i++;
		str_putc(&dec, p[i]);
	}
	if (is_dot_atom((const unsigned char *)str_c(&dec), dec.len)) {
		str_append(out, dec.s, dec.len);
	} else {
		str_putc(out, '"');
		for (size_t i = 0; i < dec.len; i++) {
			if (dec.s[i] == '"' || dec.s[i] == '\\')
				str_putc(out, '\\');
			str_putc(out, dec.s[i]);
		}
		str_putc(out, '"');
	}
	str_free(&dec);
}

/* Parse toks [A, B) as an addr-spec (local-part ["@" domain]) into OUT.
 * Obsolete forms accepted: CFWS around dots, empty dot-separated words
 * (a..b); a local part alone (MAILER-DAEMON).  Two words without a dot
 * between them, a quoted domain or a second '@' are malformed. */
static int addr_spec(const toklist *tl, size_t a, size_t b, str *out)
{
	size_t i = a;
	int words = 0, last_word = 0;

	str_clear(out);
	for (; i < b && !is_sp(tl, i, '@'); i++) {
		const tok *t = &tl->v[i];
		if (t->type == T_ATOM || t->type == T_QSTR) {
			if (last_word)
				return -1;
			put_word(tl, t, out);
			last_word = 1;
			words++;
		} else if (is_sp(tl, i, '.')) {
			str_putc(out, '.');
			last_word = 0;
		} else {
			return -1;
		}
	}
	if (words == 0)
		return -1;
	if (i == b)
		return memchr(out->s, 0, out->len) ? -1 : 0;
	str_putc(out, '@');
	words = last_word = 0;
	for (i++; i < b; i++) {
		const tok *t = &tl->v[i];
		if (t->type == T_ATOM || t->type == T_DLIT) {
			if (last_word)
				return -1;
			str_append(out, tl->p + t->off, t->len);
			last_word = 1;
			words++;
		} else if (is_sp(tl, i, '.')) {
			str_putc(out, '.');
			last_word = 0;
		} else {
			return -1;
		}
	}
	/* a NUL would cut the address short wherever it is used as a C string */
	return words && !memchr(out->s, 0, out->len) ? 0 : -1;
}

/* A display name: words and dots (obs-phrase); '@' tolerated, as in the
 * common "a@b <a@b>".  Group names must be a strict (obs-)phrase. */
static int is_phrase(const toklist *tl, size_t a, size_t b, int allow_at)
{
	for (size_t i = a; i < b; i++) {
		const tok *t = &tl->v[i];
		if (t->type == T_ATOM || t->type == T_QSTR || is_sp(tl, i, '.'))
			continue;
		if (allow_at && is_sp(tl, i, '@'))
			continue;
		return 0;
	}
	return 1;
}

/* Skip an obsolete source route "@a,@b:" at A inside an angle address;
 * returns the index after the ':' or 0 when malformed. */
static size_t skip_route(const toklist *tl, size_t a)
{
	for (size_t i = a; i < tl->n; i++) {
		const tok *t = &tl->v[i];
		if (i > a && is_sp(tl, i - 1, '@') && t->type != T_ATOM && t->type != T_DLIT)
			return 0; /* "@" without a domain */
		if (is_sp(tl, i, ':'))
			return i + 1;
		if (t->type == T_ATOM || t->type == T_DLIT || is_sp(tl, i, '@') ||
		    is_sp(tl, i, ',') || is_sp(tl, i, '.'))
			continue;
		return 0;
	}
	return 0;
}

typedef void (*mbox_fn)(void *arg, const str *addr);

/* Walk an address list; call FN for each mailbox.  Returns the number of
 * mailboxes or -1 when malformed. */
static int walk_list(const char *value, size_t len, mbox_fn fn, void *arg)
{
	toklist tl = {0};
	str addr = STR_INIT;
	int count = -1, in_group = 0, n = 0;
	size_t i = 0;

	if (tokenize(&tl, (const unsigned char *)value, len) < 0)
		goto out;
	while (i < tl.n) {
		if (is_sp(&tl, i, ',')) {
			i++;
			continue;
		}
		if (is_sp(&tl, i, ';')) {
			if (!in_group)
				goto out;
			in_group = 0;
			i++;
			continue;
		}
		size_t k = i;
		while (k < tl.n && !is_sp(&tl, k, ',') && !is_sp(&tl, k, ';') &&
		       !is_sp(&tl, k, '<') && !is_sp(&tl, k, ':'))
			k++;
		if (is_sp(&tl, k, ':')) {
			/* group "name:" (no nesting) */
			if (in_group || k == i || !is_phrase(&tl, i, k, 0))
				goto out;
			in_group = 1;
			i = k + 1;
			continue;
		}
		int found = 0;
		if (is_sp(&tl, k, '<')) {
			if (!is_phrase(&tl, i, k, 1))
				goto out;
			size_t a = k + 1, b;
			if (is_sp(&tl, a, '@') && (a = skip_route(&tl, a)) == 0)
				goto out;
			for (b = a; b < tl.n && !is_sp(&tl, b, '>'); b++)
				if (is_sp(&tl, b, '<'))
					goto out;
			if (b >= tl.n)
				goto out;
			if (b > a) { /* "<>" is no mailbox */
				if (addr_spec(&tl, a, b, &addr) < 0)
					goto out;
				found = 1;
			}
			i = b + 1;
			if (i < tl.n && !is_sp(&tl, i, ',') && !is_sp(&tl, i, ';'))
				goto out;
		} else {
			if (addr_spec(&tl, i, k, &addr) < 0)
				goto out;
			found = 1;
			i = k;
		}
		if (found) {
			n++;
			fn(arg, &addr);
		}
	}
	count = n; /* a group left open at the end is tolerated */
out:
	free(tl.v);
	str_free(&addr);
	return count;
}

/* The first mailbox; the rest of the list is still walked, so that a
 * value malformed anywhere (a@b;reboot) gives no sender at all. */
static void take_first(void *arg, const str *addr)
{
	str *out = arg;
	if (!out->len)
		str_set(out, addr->s, addr->len);
}

static void take_all(void *arg, const str *addr)
{
	str *out = arg;
	str_append(out, addr->s, addr->len);
	str_putc(out, 0);
}

fml_status addr_parse_first(const char *value, size_t len, str *out)
{
	str_clear(out);
	if (walk_list(value, len, take_first, out) > 0)
		return ST_OK;
	str_clear(out);
	return ST_DATAERR;
}

int addr_parse_list(const char *value, size_t len, str *out)
{
	size_t mark = out->len;
	int n = walk_list(value, len, take_all, out);
	if (n < 0)
		str_truncate(out, mark);
	return n;
}

fml_status addr_parse_path(const char *value, size_t len, str *out)
{
	toklist tl = {0};
	fml_status st = ST_DATAERR;
	size_t a = 0, b;

	str_clear(out);
	if (tokenize(&tl, (const unsigned char *)value, len) < 0 || tl.n == 0)
		goto out;
	b = tl.n;
	if (is_sp(&tl, 0, '<')) {
		if (!is_sp(&tl, b - 1, '>') || b < 2)
			goto out;
		a = 1;
		b--;
		if (is_sp(&tl, a, '@') && ((a = skip_route(&tl, a)) == 0 || a >= b))
			goto out;
		if (a == b) { /* "<>" */
			st = ST_OK;
			goto out;
		}
	}
	if (addr_spec(&tl, a, b, out) == 0)
		st = ST_OK;
	else
		str_clear(out);
out:
	free(tl.v);
	return st;
}

static int local_char_ok(unsigned char c)
{
	return is_alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '=' || c == '-';
}

static const char *check_domain(const unsigned char *d, size_t n)
{
	size_t labels = 0;

	if (n == 0)
		return "empty domain";
	if (d[0] == '[')
		return "domain literal refused";
	if (n > ADDR_DOMAIN_MAX)
		return "domain too long";
	for (size_t i = 0; i <= n;) {
		size_t j = i;
		while (j < n && d[j] != '.')
			j++;
		if (j == i)
			return "empty domain label";
		if (j - i > ADDR_LABEL_MAX)
			return "domain label too long";
		if (d[i] == '-' || d[j - 1] == '-')
			return "domain label starts or ends with '-'";
		for (size_t k = i; k < j; k++)
			if (!is_alnum(d[k]) && d[k] != '-')
				return "bad character in domain";
		labels++;
		i = j + 1;
	}
	if (labels < 2)
		return "domain needs at least two labels";
	return NULL;
}

const char *addr_check(const char *addr, size_t len)
{
	const unsigned char *p = (const unsigned char *)addr;
	const unsigned char *at = NULL;

	if (len == 0)
		return "empty address";
	if (len > ADDR_MAX)
		return "address too long";
	for (size_t i = 0; i < len; i++) {
		if (p[i] < 0x20 || p[i] == 0x7f)
			return "control character";
		if (p[i] == ' ')
			return "space";
		if (p[i] > 0x7f)
			return "non-ASCII byte";
		if (p[i] == '"')
			return "quoted local part";
		if (p[i] == '@') {
			if (at)
				return "more than one '@'";
			at = p + i;
		}
	}
	if (!at)
		return "no domain";
	size_t llen = (size_t)(at - p);
	if (llen == 0)
		return "empty local part";
	if (llen > ADDR_LOCAL_MAX)
		return "local part too long";
	if (p[0] == '-')
		return "local part starts with '-'";
	if (p[0] == '.')
		return "local part starts with '.'";
	if (p[llen - 1] == '.')
		return "local part ends with '.'";
	for (size_t i = 0; i < llen; i++) {
		if (!local_char_ok(p[i]))
			return "bad character in local part";
		if (p[i] == '.' && p[i + 1] == '.')
			return "\"..\" in local part";
	}
	return check_domain(at + 1, len - llen - 1);
}

/* The '@' that separates local part and domain (the last one), or NULL. */
static const char *last_at(const char *a)
{
	return strrchr(a, '@');
}

void addr_normalize(str *addr)
{
	size_t i = addr->len;

	while (i > 0 && addr->s[i - 1] != '@')
		i--;
	if (i == 0)
		return;
	for (; i < addr->len; i++)
		addr->s[i] = (char)lower((unsigned char)addr->s[i]);
}

static int ascii_casecmp(const char *a, size_t alen, const char *b, size_t blen)
{
	if (alen != blen)
		return 1;
	for (size_t i = 0; i < alen; i++)
		if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
			return 1;
	return 0;
}

int addr_equal(const char *a, const char *b)
{
	const char *aa = last_at(a), *ba = last_at(b);

	if (!aa || !ba)
		return !aa && !ba && strcmp(a, b) == 0;
	if ((size_t)(aa - a) != (size_t)(ba - b) || memcmp(a, b, (size_t)(aa - a)) != 0)
		return 0;
	return ascii_casecmp(aa + 1, strlen(aa + 1), ba + 1, strlen(ba + 1)) == 0;
}

int addr_match(const char *a, const char *b, int n_labels)
{
	if (addr_equal(a, b))
		return 1;
	if (n_labels <= 0)
		return 0;
	const char *aa = last_at(a), *ba = last_at(b);
	if (!aa || !ba)
		return 0;
	if (ascii_casecmp(a, (size_t)(aa - a), b, (size_t)(ba - b)) != 0)
		return 0;
	/* fml4 AddressMatch: count equal labels from the right */
	const char *ae = aa + strlen(aa), *be = ba + strlen(ba);
	int same = 0;
	while (same < n_labels) {
		const char *as = ae, *bs = be;
		while (as > aa + 1 && as[-1] != '.')
			as--;
		while (bs > ba + 1 && bs[-1] != '.')
			bs--;
		if (ascii_casecmp(as, (size_t)(ae - as), bs, (size_t)(be - bs)) != 0)
			break; /* an empty label (x..y) is a label too, as in members' key */
		same++;
		if (as == aa + 1 && bs == ba + 1)
			return 1; /* whole domains equal */
		if (as == aa + 1 || bs == ba + 1)
			break;
		ae = as - 1;
		be = bs - 1;
	}
	return same >= n_labels;
}

const char *addr_domain(const char *addr)
{
	const char *at = last_at(addr);
	return at ? at + 1 : "";
}

static int has_prefix(const char *p, size_t n, const char *pre)
{
	size_t m = strlen(pre);
	return n >= m && ascii_casecmp(p, m, pre, m) == 0;
}

static int has_suffix(const char *p, size_t n, const char *suf)
{
	size_t m = strlen(suf);
	return n >= m && ascii_casecmp(p + n - m, m, suf, m) == 0;
}

static int has_infix(const char *p, size_t n, const char *in)
{
	size_t m = strlen(in);
	for (size_t i = 0; i + m <= n; i++)
		if (ascii_casecmp(p + i, m, in, m) == 0)
			return 1;
	return 0;
}

int addr_is_daemon(const char *addr)
{
	static const char *const roles[] = {
	    "mailer-daemon", "postmaster", "root",    "nobody",	  "news",	  "majordomo",
	    "listserv",	     "listproc",   "noreply", "no-reply", "do-not-reply",
	};
	const char *at = last_at(addr);
	size_t n = at ? (size_t)(at - addr) : strlen(addr);

	if (n == 0)
		return 1;
	for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++)
		if (ascii_casecmp(addr, n, roles[i], strlen(roles[i])) == 0)
			return 1;
	return has_suffix(addr, n, "-request") || has_prefix(addr, n, "owner-") ||
	       has_suffix(addr, n, "-owner") || has_infix(addr, n, "-bounces");
}
