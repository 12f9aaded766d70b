/*
 * rewrite: article header rewrite on raw header lines.  See rewrite.h.
 * Nothing here can fail: the input was bounded by the envelope parser and
 * the output is a str.
 */
#include "rewrite.h"
#include "dmarc.h"
#include "list/oneclick.h"
#include "mail/addr.h"
#include "mail/rfc2047.h"
#include "util/date.h"
#include "util/msg.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Fields that fml sets itself: a poster's copies are dropped. */
static const char *const own_fields[] = {
    "X-ML-Name",  "X-MLServer",	   "X-ML-Info",	     "List-Id",
    "List-Post",  "List-Help",	   "List-Subscribe", "List-Unsubscribe",
    "List-Owner", "List-Software", "List-Archive",   NULL,
};

static int in_bar_list(const char *list, const char *name, size_t nlen)
{
	const char *p = list;
	while (p && *p) {
		const char *bar = strchr(p, '|');
		size_t l = bar ? (size_t)(bar - p) : strlen(p);
		while (l && isspace((unsigned char)*p)) {
			p++;
			l--;
		}
		while (l && isspace((unsigned char)p[l - 1]))
			l--;
		if (l == nlen && strncasecmp(p, name, nlen) == 0)
			return 1;
		p = bar ? bar + 1 : NULL;
	}
	return 0;
}

static int name_is(const envelope *e, const hfield *f, const char *name)
{
	size_t l = strlen(name);
	return f->name_len == l && strncasecmp(e->header.s + f->off, name, l) == 0;
}

void rewrite_tag(const char *tag_type, const char *bracket, int digits, long article, str *out)
{
	str_clear(out);
	if (!tag_type || !*tag_type)
		return;
	if (digits < 1 || digits > 20)
		digits = 5;
	char open = tag_type[0], close = tag_type[strlen(tag_type) - 1];
	const char *mid = tag_type + 1;
	str_putc(out, open);
	if (strncmp(mid, "ID", 2) == 0) {
		str_printf(out, "%0*ld", digits, article);
	} else if (mid[0] == close) { /* "[]" "()" */
		str_puts(out, bracket);
	} else { /* "[:]" "[,]" "[ ]" */
		str_puts(out, bracket);
		str_putc(out, mid[0]);
		str_printf(out, "%0*ld", digits, article);
	}
	str_putc(out, close);
}

static size_t skip_ws(const char *p, size_t i, size_t n)
{
	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
		i++;
	return i;
}

static size_t skip_digits(const char *p, size_t i, size_t n)
{
	while (i < n && isdigit((unsigned char)p[i]))
		i++;
	return i;
}

/* "Re:", "Re2:", "Re[2]:", "Re(2):", "Re^2:", "Re*2:" at I: length or 0 */
static size_t match_re(const char *p, size_t i, size_t n)
{
	if (i + 2 >= n || (p[i] != 'R' && p[i] != 'r') || (p[i + 1] != 'E' && p[i + 1] != 'e'))
		return 0;
	size_t j = i + 2;
	if (j < n && (p[j] == '[' || p[j] == '(')) {
		char close = p[j] == '[' ? ']' : ')';
		size_t k = skip_digits(p, j + 1, n);
		if (k == j + 1 || k >= n || p[k] != close)
			return 0;
		j = k + 1;
	} else if (j < n && (p[j] == '^' || p[j] == '*')) {
		size_t k = skip_digits(p, j + 1, n);
		if (k == j + 1)
			return 0;
		j = k;
	} else {
		j = skip_digits(p, j, n);
	}
	if (j < n && p[j] == ':')
		return j + 1 - i;
	return 0;
}

/* A tag of this list at I ([elena:00123], (elena,12), [elena 1], [elena],
 * and, when ID_FORMS, [00123]): length or 0. */
static size_t match_tag(const char *p, size_t i, size_t n, const char *bracket, int id_forms)
{
	if (i >= n || (p[i] != '[' && p[i] != '('))
		return 0;
	char close = p[i] == '[' ? ']' : ')';
	size_t j = i + 1, bl = strlen(bracket);
	if (id_forms) {
		size_t k = skip_digits(p, j, n);
		if (k > j && k < n && p[k] == close)
			return k + 1 - i;
	}
	if (bl == 0 || j + bl > n || strncasecmp(p + j, bracket, bl) != 0)
		return 0;
	j += bl;
	if (j < n && p[j] == close)
		return j + 1 - i;
	if (j < n && (p[j] == ':' || p[j] == ',' || p[j] == ' ')) {
		size_t k = skip_digits(p, j + 1, n);
		if (k > j + 1 && k < n && p[k] == close)
			return k + 1 - i;
	}
	return 0;
}

#define REWRITE_WORDS_MAX 4096 /* bytes of decoded subject encoded again */

/* The Re: forms of Japanese mail readers (fml 4's list), in UTF-8, at I:
 * length or 0. */
static size_t match_re_ja(const char *p, size_t i, size_t n)
{
	static const char *const forms[] = {
	    "Re\xef\xbc\x9a",			    /* Re + fullwidth colon */
	    "RE\xef\xbc\x9a",			    /* RE + fullwidth colon */
	    "\xef\xbc\xb2\xef\xbd\x85:",	    /* fullwidth Re + colon */
	    "\xef\xbc\xb2\xef\xbd\x85\xef\xbc\x9a", /* fullwidth Re, colon */
	    "\xef\xbc\xb2\xef\xbc\xa5\xef\xbc\x9a", /* fullwidth RE, colon */
	    "\xe8\xbf\x94\xe4\xbf\xa1:",	    /* henshin (reply) */
	    "\xe8\xbf\x94\xe4\xbf\xa1\xef\xbc\x9a",
	};
	for (size_t k = 0; k < sizeof forms / sizeof forms[0]; k++) {
		size_t l = strlen(forms[k]);
		if (i + l <= n && memcmp(p + i, forms[k], l) == 0)
			return l;
	}
	return 0;
}

/* Strip the Re: forms and tags at the start of P..N from I on, counting
 * them into *RES and *TAGS (JA: the Japanese forms too); where it stopped. */
static size_t strip_prefix(const char *p, size_t i, size_t n, const char *bracket, int id_forms,
			   int ja, size_t *res, size_t *tags)
{
	for (;;) {
		i = skip_ws(p, i, n);
		size_t m;
		if ((m = match_re(p, i, n)) > 0 || (ja && (m = match_re_ja(p, i, n)) > 0)) {
			(*res)++;
			i += m;
		} else if ((m = match_tag(p, i, n, bracket, id_forms)) > 0) {
			(*tags)++;
			i += m;
		} else {
			return i;
		}
	}
}

/* The run of encoded-words at I (blanks between them belong to the run,
 * RFC 2047 6.2) decoded into U, the first one's charset and encoding into
 * CS and *ENC: where the run ends, or I when there is none. */
static size_t word_run(const char *raw, size_t i, size_t end, str *u, char cs[64], int *enc)
{
	size_t j = i, e = i;
	char cs2[64];
	int enc2;
	str_clear(u);
	for (;;) {
		size_t w =
		    rfc2047_word(raw + j, end - j, u, e == i ? cs : cs2, e == i ? enc : &enc2);
		if (!w)
			return e;
		e = j + w;
		j = e;
		while (j < end &&
		       (raw[j] == ' ' || raw[j] == '\t' || raw[j] == '\r' || raw[j] == '\n'))
			j++;
	}
}

int rewrite_subject(const char *raw, size_t len, const char *tag_type, const char *bracket,
		    int digits, long article, const char *eol, str *out)
{
	int id_forms = tag_type && strstr(tag_type, "ID") != NULL;
	size_t end = len;
	while (end > 0 && (raw[end - 1] == '\n' || raw[end - 1] == '\r'))
		end--;
	size_t i = 0, res = 0, tags = 0;
	/* what an encoded-word held after the tags and Re: forms inside it,
	 * encoded again in its charset, in front of the rest */
	str again = STR_INIT, u = STR_INIT;
	for (;;) {
		i = strip_prefix(raw, i, end, bracket, id_forms, 0, &res, &tags);
		char cs[64];
		int enc = 'B';
		size_t e = word_run(raw, i, end, &u, cs, &enc);
		if (e == i)
			break;
		size_t r0 = res, t0 = tags;
		size_t k = strip_prefix(u.s, 0, u.len, bracket, id_forms, 1, &res, &tags);
		/* nothing of ours inside, or more text than a subject has (the
		 * encoding is quadratic in a word's length): left as it is */
		if (k == 0 || u.len - k > REWRITE_WORDS_MAX) {
			res = r0;
			tags = t0;
			break;
		}
		i = e;
		if (k < u.len) {
			str sep = STR_INIT;
			str_printf(&sep, "%s ", eol);
			rfc2047_encode(u.s + k, u.len - k, cs, enc, str_c(&sep), &again);
			str_free(&sep);
			break;
		}
	}
	str_free(&u);
	str tag = STR_INIT;
	if (article >= 0)
		rewrite_tag(tag_type, bracket, digits, article, &tag);
	str_clear(out);
	if (tag.len == 0 && tags == 0 && res <= 1 && !again.len) {
		str_append(out, raw, len);
		str_free(&tag);
		return 0;
	}
	int rest = i < end || again.len;
	str_putc(out, ' ');
	if (tag.len) {
		str_append(out, tag.s, tag.len);
		if (res || rest)
			str_putc(out, ' ');
	}
	if (res)
		str_puts(out, rest ? "Re: " : "Re:");
	str_append(out, again.s, again.len);
	str_append(out, raw + i, end - i);
	str_puts(out, eol);
	str_free(&tag);
	str_free(&again);
	return 1;
}

static void add_field(str *out, const char *eol, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void add_field(str *out, const char *eol, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	str_vprintf(out, fmt, ap);
	va_end(ap);
	str_puts(out, eol);
}

/* DATE_TYPE "received-date+x-posted" -> base "received", keep field name
 * for the original Date ("Posted", "X-Posted", "X-Original-Date" or NULL). */
static const char *date_keep_as(const char *type)
{
	const char *plus = strchr(type, '+');
	if (!plus)
		return NULL;
	plus++;
	if (strcmp(plus, "posted") == 0)
		return "Posted";
	if (strcmp(plus, "x-posted") == 0)
		return "X-Posted";
	if (strcmp(plus, "x-original-date") == 0)
		return "X-Original-Date";
	return NULL;
}

void rewrite_list_fields(const config *cf, const char *eol, str *out)
{
	const char *ml = config_str(cf, CF_MAIL_LIST);
	const char *ctl = config_str(cf, CF_CONTROL_ADDRESS);

	if (config_int(cf, CF_USE_RFC2919))
		add_field(out, eol, "List-Id: %s <%s>", config_str(cf, CF_ML_FN),
			  config_str(cf, CF_LIST_ID));
	if (config_int(cf, CF_USE_RFC2369)) {
		add_field(out, eol, "List-Post: <mailto:%s>", ml);
		add_field(out, eol, "List-Help: <mailto:%s?body=help>", ctl);
		add_field(out, eol, "List-Subscribe: <mailto:%s?body=subscribe>", ctl);
		/* with one-click, each recipient's own comes from the runner */
		if (!oneclick_enabled(cf))
			add_field(out, eol, "List-Unsubscribe: <mailto:%s?body=unsubscribe>", ctl);
		add_field(out, eol, "List-Owner: <mailto:%s>", config_str(cf, CF_MAINTAINER));
	}
}

/* ---- DMARC (rewrite.h) */

/* Is NAME (NLEN bytes) in the ':'-separated list H? */
static int in_colon_list(const char *h, const char *name, size_t nlen)
{
	for (const char *p = h; p && *p;) {
		size_t l = strcspn(p, ":");
		if (l == nlen && strncasecmp(p, name, nlen) == 0)
			return 1;
		p += l + (p[l] == ':');
	}
	return 0;
}

/* BLOCK's fields (each "Name: value" ending in EOL, continuations after)
 * whose names are not in H, appended to OUT. */
static void add_unsigned(const str *block, const char *h, str *out)
{
	const char *p = str_c(block), *end = p + block->len;
	while (p < end) {
		const char *q = p;
		do {
			q = memchr(q, '\n', (size_t)(end - q));
			q = q ? q + 1 : end;
		} while (q < end && (*q == ' ' || *q == '\t'));
		size_t nlen = strcspn(p, ":");
		if (!in_colon_list(h, p, nlen))
			str_append(out, p, (size_t)(q - p));
		p = q;
	}
}

/* The display name of the first mailbox of the From: value V, as UTF-8
 * without control bytes; "" when there is none. */
static void display_name(const char *v, size_t n, str *out)
{
	str raw = STR_INIT;
	int quoted = 0;
	size_t lt = n;
	for (size_t i = 0; i < n; i++) {
		if (v[i] == '\\' && quoted && i + 1 < n)
			i++;
		else if (v[i] == '"')
			quoted = !quoted;
		else if (v[i] == '<' && !quoted) {
			lt = i;
			break;
		}
	}
	if (lt < n) {
		for (size_t i = 0; i < lt; i++) { /* unquote, keep encoded-words */
			if (v[i] == '"')
				continue;
			if (v[i] == '\\' && i + 1 < lt)
				i++;
			str_putc(&raw, v[i]);
		}
	} else {
		const char *o = memchr(v, '(', n),
			   *c = o ? memchr(o, ')', n - (size_t)(o - v)) : NULL;
		if (o && c)
			str_append(&raw, o + 1, (size_t)(c - o - 1));
	}
	str dec = STR_INIT;
	rfc2047_decode(raw.s ? raw.s : "", raw.len, &dec);
	str_clear(out);
	int space = 1;
	for (size_t i = 0; i < dec.len; i++) {
		unsigned char ch = (unsigned char)dec.s[i];
		if (ch < 0x20 || ch == 0x7f || ch == ' ') {
			if (!space)
				str_putc(out, ' ');
			space = 1;
		} else {
			str_putc(out, (char)ch);
			space = 0;
		}
	}
	while (out->len && out->s[out->len - 1] == ' ')
		str_truncate(out, out->len - 1);
	str_free(&raw);
	str_free(&dec);
}

/* From: "NAME via LIST" <MAIL_LIST> for the author's From: value V */
static void munged_from(const config *cf, const char *v, size_t n, const char *eol, str *out)
{
	str name = STR_INIT, addr = STR_INIT;
	display_name(v, n, &name);
	if (!name.len && addr_parse_first(v, n, &addr) == ST_OK) /* the local part */
		str_append(&name, addr.s, strcspn(addr.s, "@"));
	str_free(&addr);
	str_printf(&name, " via %s", config_get(cf, "ML_NAME"));
	int ascii = 1;
	for (size_t i = 0; i < name.len; i++)
		ascii &= (unsigned char)name.s[i] < 0x80;
	str_puts(out, "From: ");
	if (ascii) {
		str_putc(out, '"');
		for (size_t i = 0; i < name.len; i++) {
			if (name.s[i] == '"' || name.s[i] == '\\')
				str_putc(out, '\\');
			str_putc(out, name.s[i]);
		}
		str_putc(out, '"');
	} else {
		str sep = STR_INIT;
		str_printf(&sep, "%s ", eol);
		rfc2047_encode(name.s, name.len, "UTF-8", 'B', str_c(&sep), out);
		str_free(&sep);
	}
	/* folded before the address when the line would pass 78 bytes */
	const char *ml = config_str(cf, CF_MAIL_LIST);
	const char *last = out->len ? memrchr(out->s, '\n', out->len) : NULL;
	size_t col = out->len - (last ? (size_t)(last - out->s) + 1 : 0);
	str_printf(out, "%s <%s>%s", col + strlen(ml) + 3 > 78 ? eol : "", ml, eol);
	str_free(&name);
}

static int is_mime_field(const envelope *e, const hfield *f)
{
	return name_is(e, f, "MIME-Version") ||
	       (f->name_len > 8 && strncasecmp(e->header.s + f->off, "Content-", 8) == 0);
}

/* The poster's fields as they came, but SKIP_FIELDS (the MTA's) and the
 * bad ones, onto OUT; whether a Message-ID was among them */
static int posters_fields(const envelope *e, const config *cf, str *out)
{
	const char *skip = config_str(cf, CF_SKIP_FIELDS);
	int have_msgid = 0;
	for (size_t k = 0; k < e->nfields; k++) {
		const hfield *f = &e->fields[k];
		const char *raw = e->header.s + f->off;
		if (f->bad || in_bar_list(skip, raw, f->name_len))
			continue;
		have_msgid |= name_is(e, f, "Message-ID");
		str_append(out, raw, f->len);
		if (f->len == 0 || raw[f->len - 1] != '\n')
			str_puts(out, e->crlf ? "\r\n" : "\n");
	}
	return have_msgid;
}

void rewrite_wrapped_header(const envelope *e, const config *cf, str *out)
{
	str_clear(out);
	posters_fields(e, cf, out);
	str_puts(out, e->crlf ? "\r\n" : "\n");
}

/* The fields fml adds to every article after the poster's */
static void our_fields(const config *cf, const rewrite_info *ri, const char *eol, str *out)
{
	const char *xmlname = config_str(cf, CF_XMLNAME);
	const char *xmlcount = config_str(cf, CF_XMLCOUNT);
	const char *precedence = config_str(cf, CF_PRECEDENCE);
	if (*xmlname)
		add_field(out, eol, "%s", xmlname);
	if (config_int(cf, CF_APPEND_MAIL_COUNT) && *xmlcount)
		add_field(out, eol, "%s: %0*ld", xmlcount,
			  (int)config_int(cf, CF_SUBJECT_FORM_LONG_ID), ri->article);
	if (*config_str(cf, CF_X_MLSERVER))
		add_field(out, eol, "X-MLServer: %s", config_str(cf, CF_X_MLSERVER));
	const char *ctl = config_str(cf, CF_CONTROL_ADDRESS);
	const char *info = config_str(cf, CF_X_ML_INFO_MESSAGE);
	if (*info)
		add_field(out, eol, "X-ML-Info: %s", info);
	else
		add_field(out, eol,
			  "X-ML-Info: If you have a question, send e-mail with the body%s"
			  "\t\"help\" (without quotes) to the address %s;%s"
			  "\thelp=<mailto:%s?body=help>",
			  eol, ctl, eol, ctl);
	rewrite_list_fields(cf, eol, out);
	if (*precedence)
		add_field(out, eol, "Precedence: %s", precedence);
}

/* DMARC_UNMODIFIED: the poster's fields, then ours that her signature
 * does not cover */
static void unmodified_header(const envelope *e, const config *cf, const rewrite_info *ri, str *out)
{
	const char *eol = e->crlf ? "\r\n" : "\n";
	str ours = STR_INIT;
	str_clear(out);
	int have_msgid = posters_fields(e, cf, out);
	if (!have_msgid)
		add_field(&ours, eol, "Message-ID: <%lld.%ld.%s>", (long long)ri->now, ri->article,
			  config_str(cf, CF_MAIL_LIST));
	our_fields(cf, ri, eol, &ours);
	add_unsigned(&ours, ri->signed_fields ? ri->signed_fields : "", out);
	str_puts(out, eol);
	str_free(&ours);
}

void rewrite_header(const envelope *e, const config *cf, const rewrite_info *ri, str *out)
{
	if (ri->dmarc == DMARC_UNMODIFIED) {
		unmodified_header(e, cf, ri, out);
		return;
	}
	const char *eol = e->crlf ? "\r\n" : "\n";
	const char *date_type = config_str(cf, CF_DATE_TYPE);
	int keep_date = strcmp(date_type, "original-date") == 0;
	const char *keep_as = date_keep_as(date_type);
	const char *skip = config_str(cf, CF_SKIP_FIELDS);
	const char *xmlcount = config_str(cf, CF_XMLCOUNT);
	const char *reply_to = config_str(cf, CF_REPLY_TO);
	const char *precedence = config_str(cf, CF_PRECEDENCE);
	const char *ml = config_str(cf, CF_MAIL_LIST);
	const char *ml_fn = config_str(cf, CF_ML_FN);
	long rewrite_to = config_int(cf, CF_REWRITE_TO);
	int have_subject = 0, have_msgid = 0, have_date = 0, have_to = 0, have_reply_to = 0;
	int munge = ri->dmarc == DMARC_MUNGE || ri->dmarc == DMARC_WRAP;
	int wrap = ri->dmarc == DMARC_WRAP;
	const hfield *from = munge ? envelope_get(e, "From", 0) : NULL;
	/* the author's signatures: the wrapper has none (the post inside keeps
	 * them); an article the list changes keeps them unless removed */
	int drop_sigs = wrap || strcmp(config_str(cf, CF_DKIM_AUTHOR_SIGNATURE), "remove") == 0;
	str tmp = STR_INIT, cc = STR_INIT;
	char date[64];

	str_clear(out);
	for (size_t k = 0; k < e->nfields; k++) {
		const hfield *f = &e->fields[k];
		const char *raw = e->header.s + f->off;
		const char *name = raw;
		size_t nlen = f->name_len;
		if (f->bad || in_bar_list(skip, name, nlen))
			continue;
		int own = 0;
		for (int j = 0; own_fields[j]; j++)
			own |= name_is(e, f, own_fields[j]);
		if (own || name_is(e, f, xmlcount))
			continue;
		if (*precedence && name_is(e, f, "Precedence"))
			continue;
		if (*reply_to && name_is(e, f, "Reply-To"))
			continue;
		have_reply_to |= name_is(e, f, "Reply-To");
		if (munge && name_is(e, f, "From")) {
			if (f == from)
				munged_from(cf, str_c(&f->value), f->value.len, eol, out);
			continue;
		}
		if ((wrap && is_mime_field(e, f)) || (munge && name_is(e, f, "Author")) ||
		    (drop_sigs && name_is(e, f, "DKIM-Signature")))
			continue;
		if (munge && *reply_to && name_is(e, f, "Cc")) {
			/* the author joins the Cc: added below */
			str_printf(&cc, ",%s\t%s", eol, str_c(&f->value));
			continue;
		}
		if (name_is(e, f, "Message-ID"))
			have_msgid = 1;
		if (name_is(e, f, "Date")) {
			if (have_date++)
				continue; /* a second Date: is invalid; keep the first */
			if (!keep_date) {
				if (keep_as)
					add_field(out, eol, "%s: %s", keep_as, str_c(&f->value));
				continue;
			}
		}
		if (name_is(e, f, "To") && rewrite_to > 0) {
			if (have_to++)
				continue;
			if (rewrite_to == 2 || !strcasestr(str_c(&f->value), ml)) {
				str_clear(&tmp);
				str_printf(&tmp, "To: %s %s", ml, ml_fn);
				if (rewrite_to == 1 && f->value.len)
					str_printf(&tmp, ",%s\t%s", eol, str_c(&f->value));
				add_field(out, eol, "%s", str_c(&tmp));
				continue;
			}
		}
		/* the raw bytes of the field, with a line ending for sure */
		size_t len = f->len;
		const char *tail = NULL;
		if (len == 0 || raw[len - 1] != '\n')
			tail = eol;
		if (name_is(e, f, "Subject") && !have_subject++) {
			rewrite_subject(
			    raw + nlen + 1, len - nlen - 1, config_str(cf, CF_SUBJECT_TAG_TYPE),
			    config_str(cf, CF_BRACKET),
			    (int)config_int(cf, CF_SUBJECT_FORM_LONG_ID), ri->article, eol, &tmp);
			str_append(out, raw, nlen + 1);
			str_append(out, tmp.s, tmp.len);
			if (tmp.len == 0 || tmp.s[tmp.len - 1] != '\n')
				str_puts(out, eol);
			continue;
		}
		str_append(out, raw, len);
		if (tail)
			str_puts(out, tail);
	}

	if (!have_subject && *config_str(cf, CF_SUBJECT_TAG_TYPE)) {
		rewrite_tag(config_str(cf, CF_SUBJECT_TAG_TYPE), config_str(cf, CF_BRACKET),
			    (int)config_int(cf, CF_SUBJECT_FORM_LONG_ID), ri->article, &tmp);
		add_field(out, eol, "Subject: %s", str_c(&tmp));
	}
	if (!keep_date || !have_date) {
		date_rfc5322(strncmp(date_type, "received", 8) == 0 ? ri->arrival : ri->now, date,
			     sizeof date);
		add_field(out, eol, "Date: %s", date);
	}
	if (rewrite_to > 0 && !have_to)
		add_field(out, eol, "To: %s %s", ml, ml_fn);
	if (!have_msgid) {
		struct tm tm;
		char stamp[32];
		localtime_r(&ri->now, &tm);
		strftime(stamp, sizeof stamp, "%Y%m%d%H%M%S", &tm);
		add_field(out, eol, "Message-ID: <%s.%ld.%s>", stamp, ri->article, ml);
	}
	if (*reply_to)
		add_field(out, eol, "Reply-To: %s", reply_to);
	if (munge && from) {
		/* the author: where replies go, and who wrote it */
		const char *v = e->header.s + from->off + from->name_len + 1;
		size_t vl = from->len - from->name_len - 1;
		while (vl && (v[vl - 1] == '\n' || v[vl - 1] == '\r'))
			vl--;
		if (*reply_to)
			add_field(out, eol, "Cc:%.*s%s", (int)vl, v, str_c(&cc));
		else if (!have_reply_to)
			add_field(out, eol, "Reply-To:%.*s", (int)vl, v);
		add_field(out, eol, "Author:%.*s", (int)vl, v);
	}
	our_fields(cf, ri, eol, out);
	if (wrap)
		add_field(out, eol,
			  "MIME-Version: 1.0%sContent-Type: message/rfc822%s"
			  "Content-Transfer-Encoding: 8bit%sContent-Disposition: inline",
			  eol, eol, eol);
	str_puts(out, eol);
	str_free(&tmp);
	str_free(&cc);
}
