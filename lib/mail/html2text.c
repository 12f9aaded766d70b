/*
 * html2text: see html2text.h.  Failure policy: none; every input gives
 * some text.
 */
#include "html2text.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct h2t {
	str *out;
	int pre;      /* inside <pre> */
	int blank;    /* a blank is pending (folded) */
	int newlines; /* line ends at the end of OUT (0, 1, 2) */
	str href;     /* the link being written, if any */
	size_t link_at;
} h2t;

static void put_utf8(str *s, unsigned long c)
{
	if (c == 0 || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		c = 0xfffd;
	if (c < 0x80) {
		str_putc(s, (int)c);
	} else if (c < 0x800) {
		str_putc(s, (int)(0xc0 | c >> 6));
		str_putc(s, (int)(0x80 | (c & 0x3f)));
	} else if (c < 0x10000) {
		str_putc(s, (int)(0xe0 | c >> 12));
		str_putc(s, (int)(0x80 | ((c >> 6) & 0x3f)));
		str_putc(s, (int)(0x80 | (c & 0x3f)));
	} else {
		str_putc(s, (int)(0xf0 | c >> 18));
		str_putc(s, (int)(0x80 | ((c >> 12) & 0x3f)));
		str_putc(s, (int)(0x80 | ((c >> 6) & 0x3f)));
		str_putc(s, (int)(0x80 | (c & 0x3f)));
	}
}

/* Text (already decoded) into the output, blanks folded outside <pre>. */
static void text(h2t *h, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (h->pre) {
			if (c == '\r')
				continue;
			str_putc(h->out, c);
			h->newlines = c == '\n' ? h->newlines + 1 : 0;
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
			h->blank = 1;
			continue;
		}
		if (c < 0x20 || c == 0x7f)
			continue;
		if (h->blank && h->newlines == 0 && h->out->len > 0)
			str_putc(h->out, ' ');
		h->blank = 0;
		str_putc(h->out, c);
		h->newlines = 0;
	}
}

static void breaks(h2t *h, int want)
{
	if (h->out->len == 0)
		return;
	while (h->newlines < want) {
		str_putc(h->out, '\n');
		h->newlines++;
	}
	h->blank = 0;
}

static const struct {
	const char *name;
	const char *utf8;
} entities[] = {
    {"amp", "&"},
    {"lt", "<"},
    {"gt", ">"},
    {"quot", "\""},
    {"apos", "'"},
    {"nbsp", "\xc2\xa0"},
    {"copy", "\xc2\xa9"},
    {"reg", "\xc2\xae"},
    {"mdash", "\xe2\x80\x94"},
    {"ndash", "\xe2\x80\x93"},
    {"hellip", "\xe2\x80\xa6"},
    {"laquo", "\xc2\xab"},
    {"raquo", "\xc2\xbb"},
    {"ldquo", "\xe2\x80\x9c"},
    {"rdquo", "\xe2\x80\x9d"},
    {"lsquo", "\xe2\x80\x98"},
    {"rsquo", "\xe2\x80\x99"},
    {"euro", "\xe2\x82\xac"},
    {"yen", "\xc2\xa5"},
    {"middot", "\xc2\xb7"},
    {"bull", "\xe2\x80\xa2"},
    {"trade", "\xe2\x84\xa2"},
    {"times", "\xc3\x97"},
};

/* A character reference at P (after '&'): its UTF-8 into S and the bytes
 * it took (through ';'), or 0 when it is none. */
static size_t entity(const char *p, size_t n, str *s)
{
	size_t i = 0;
	if (n > 1 && p[0] == '#') {
		int hex = p[1] == 'x' || p[1] == 'X';
		i = hex ? 2 : 1;
		unsigned long v = 0;
		size_t d = i;
		while (i < n && i < d + 8 &&
		       (hex ? isxdigit((unsigned char)p[i]) : isdigit((unsigned char)p[i]))) {
			v = v * (hex ? 16 : 10) +
			    (unsigned long)(isdigit((unsigned char)p[i])
						? p[i] - '0'
						: (tolower((unsigned char)p[i]) - 'a' + 10));
			i++;
		}
		if (i == d)
			return 0;
		put_utf8(s, v);
		return i < n && p[i] == ';' ? i + 1 : i;
	}
	while (i < n && i < 10 && isalnum((unsigned char)p[i]))
		i++;
	if (i == 0 || i >= n || p[i] != ';')
		return 0;
	for (size_t k = 0; k < sizeof entities / sizeof entities[0]; k++)
		if (strlen(entities[k].name) == i && strncmp(entities[k].name, p, i) == 0) {
			str_puts(s, entities[k].utf8);
			return i + 1;
		}
	return 0;
}

/* Text with its character references decoded. */
static void decoded(h2t *h, const char *p, size_t n)
{
	str t = STR_INIT;
	for (size_t i = 0; i < n; i++) {
		size_t k;
		if (p[i] == '&' && (k = entity(p + i + 1, n - i - 1, &t)) > 0) {
			i += k;
			continue;
		}
		str_putc(&t, (unsigned char)p[i]);
	}
	text(h, t.s ? t.s : "", t.len);
	str_free(&t);
}

/* The value of attribute NAME in the tag text P..N (decoded), into OUT. */
static int attr(const char *p, size_t n, const char *name, str *out)
{
	size_t l = strlen(name);
	for (size_t i = 0; i + l < n; i++) {
		if (strncasecmp(p + i, name, l) != 0 ||
		    (i > 0 && !isspace((unsigned char)p[i - 1])))
			continue;
		size_t j = i + l;
		while (j < n && isspace((unsigned char)p[j]))
			j++;
		if (j >= n || p[j] != '=')
			continue;
		j++;
		while (j < n && isspace((unsigned char)p[j]))
			j++;
		char q = j < n && (p[j] == '"' || p[j] == '\'') ? p[j++] : 0;
		size_t s = j;
		while (j < n && (q ? p[j] != q : !isspace((unsigned char)p[j])))
			j++;
		str_clear(out);
		for (size_t k = s; k < j; k++) {
			size_t e;
			if (p[k] == '&' && (e = entity(p + k + 1, j - k - 1, out)) > 0) {
				k += e;
				continue;
			}
			if ((unsigned char)p[k] >= 0x20)
				str_putc(out, (unsigned char)p[k]);
		}
		return 1;
	}
	return 0;
}

/* Skip to the end of element NAME's content ("</NAME"), from P; the bytes
 * skipped. */
static size_t skip_element(const char *p, size_t n, const char *name)
{
	size_t l = strlen(name);
	for (size_t i = 0; i + 2 + l <= n; i++)
		if (p[i] == '<' && p[i + 1] == '/' && strncasecmp(p + i + 2, name, l) == 0)
			return i;
	return n;
}

void html2text(const char *html, size_t len, str *out)
{
	h2t h = {out, 0, 0, 0, STR_INIT, 0};
	size_t i = 0;
	while (i < len) {
		const char *lt = memchr(html + i, '<', len - i);
		size_t stop = lt ? (size_t)(lt - html) : len;
		decoded(&h, html + i, stop - i);
		if (!lt)
			break;
		i = stop + 1;
		if (i + 3 <= len && strncmp(html + i, "!--", 3) == 0) { /* comment */
			size_t k = i + 3;
			while (k + 3 <= len && memcmp(html + k, "-->", 3) != 0)
				k++;
			i = k + 3 <= len ? k + 3 : len;
			continue;
		}
		const char *gt = memchr(html + i, '>', len - i);
		size_t end = gt ? (size_t)(gt - html) : len;
		const char *tag = html + i;
		size_t tlen = end - i;
		i = gt ? end + 1 : len;
		int close = tlen > 0 && tag[0] == '/';
		size_t ns = close ? 1 : 0, ne = ns;
		while (ne < tlen && (isalnum((unsigned char)tag[ne])))
			ne++;
		char name[16] = "";
		if (ne - ns < sizeof name) {
			for (size_t k = ns; k < ne; k++)
				name[k - ns] = (char)tolower((unsigned char)tag[k]);
			name[ne - ns] = 0;
		}
		if (!close && (strcmp(name, "script") == 0 || strcmp(name, "style") == 0 ||
			       strcmp(name, "head") == 0 || strcmp(name, "title") == 0)) {
			i += skip_element(html + i, len - i, name);
			continue;
		}
		if (strcmp(name, "br") == 0) {
			str_putc(out, '\n');
			h.newlines++;
			h.blank = 0;
		} else if (strcmp(name, "p") == 0 || strcmp(name, "div") == 0 ||
			   strcmp(name, "table") == 0 || strcmp(name, "ul") == 0 ||
			   strcmp(name, "ol") == 0 || strcmp(name, "blockquote") == 0 ||
			   (name[0] == 'h' && name[1] >= '1' && name[1] <= '6' && !name[2])) {
			breaks(&h, 2);
		} else if (strcmp(name, "tr") == 0 || strcmp(name, "hr") == 0) {
			breaks(&h, 1);
		} else if (strcmp(name, "li") == 0 && !close) {
			breaks(&h, 1);
			text(&h, "* ", 2);
		} else if (strcmp(name, "td") == 0 || strcmp(name, "th") == 0) {
			h.blank = 1;
		} else if (strcmp(name, "pre") == 0) {
			breaks(&h, close ? 2 : 1);
			h.pre = !close;
		} else if (strcmp(name, "a") == 0) {
			if (!close && attr(tag, tlen, "href", &h.href)) {
				if (h.blank && h.newlines == 0 && out->len > 0) {
					str_putc(out, ' '); /* the text starts after it */
					h.blank = 0;
				}
				h.link_at = out->len;
			} else if (close && h.href.len) {
				/* the URL after the text, unless the text is the URL */
				const char *u = str_c(&h.href);
				size_t tl = out->len - h.link_at;
				if (strncasecmp(u, "mailto:", 7) == 0)
					u += 7;
				if (!(tl == strlen(u) && memcmp(out->s + h.link_at, u, tl) == 0) &&
				    strncasecmp(u, "javascript:", 11) != 0) {
					text(&h, " <", 2);
					h.blank = 0;
					text(&h, u, strlen(u));
					text(&h, ">", 1);
				}
				str_clear(&h.href);
			}
		} else if (strcmp(name, "img") == 0 && !close) {
			str alt = STR_INIT;
			if (attr(tag, tlen, "alt", &alt) && alt.len) {
				text(&h, "[", 1);
				text(&h, alt.s, alt.len);
				text(&h, "]", 1);
			}
			str_free(&alt);
		}
	}
	/* one line end at the end, no blank lines */
	while (out->len && (out->s[out->len - 1] == '\n' || out->s[out->len - 1] == ' '))
		str_truncate(out, out->len - 1);
	if (out->len)
		str_putc(out, '\n');
	str_free(&h.href);
}
