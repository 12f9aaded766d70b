/*
 * rfc2047: encoded-word decoding for display.  See rfc2047.h.  Linear in
 * the input; output bounded by a small multiple of it.
 */
#include "rfc2047.h"
#include "util/bytes.h"

#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <string.h>
#include <strings.h>

static int b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Decode the text of one word into BYTES; 0 on malformed input. */
static int decode_text(int enc, const char *p, size_t n, str *bytes)
{
	str_clear(bytes);
	if (enc == 'Q') {
		for (size_t i = 0; i < n; i++) {
			int hi, lo;
			if (p[i] == '_')
				str_putc(bytes, ' ');
			else if (p[i] == '=' && i + 2 < n &&
				 (hi = bytes_hex_value(p[i + 1])) >= 0 &&
				 (lo = bytes_hex_value(p[i + 2])) >= 0) {
				str_putc(bytes, hi * 16 + lo);
				i += 2;
			} else if (p[i] == '=')
				return 0;
			else
				str_putc(bytes, p[i]);
		}
		return 1;
	}
	unsigned acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '=')
			break;
		int v = b64val((unsigned char)p[i]);
		if (v < 0)
			return 0;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			str_putc(bytes, (int)((acc >> bits) & 0xff));
		}
	}
	return 1;
}

static int convert(const char *charset, const str *bytes, str *out)
{
	if (!strcasecmp(charset, "utf-8") || !strcasecmp(charset, "us-ascii")) {
		str_append(out, bytes->s ? bytes->s : "", bytes->len);
		return 1;
	}
	iconv_t cd = iconv_open("UTF-8", charset);
	if (cd == (iconv_t)-1)
		return 0;
	char *in = bytes->s ? bytes->s : (char *)"";
	size_t inleft = bytes->len, start = out->len;
	int ok = 1;
	while (inleft > 0) {
		str_reserve(out, inleft * 4 + 16);
		char *o = out->s + out->len;
		size_t oleft = out->cap - out->len - 1;
		size_t r = iconv(cd, &in, &inleft, &o, &oleft);
		out->len = (size_t)(o - out->s);
		if (r == (size_t)-1 && errno != E2BIG) {
			ok = 0;
			break;
		}
	}
	if (ok) { /* flush shift state (ISO-2022-JP) */
		str_reserve(out, 16);
		char *o = out->s + out->len;
		size_t oleft = out->cap - out->len - 1;
		iconv(cd, NULL, NULL, &o, &oleft);
		out->len = (size_t)(o - out->s);
	}
	iconv_close(cd);
	if (!ok)
		out->len = start;
	out->s[out->len] = 0;
	return ok;
}

/* One encoded-word at P (within N bytes): its length, or 0. */
static size_t word(const char *p, size_t n, str *out, str *bytes)
{
	if (n < 8 || p[0] != '=' || p[1] != '?')
		return 0;
	const char *cs = p + 2, *end = p + n;
	const char *q1 = memchr(cs, '?', (size_t)(end - cs));
	if (!q1 || q1 == cs || q1 + 3 > end || q1[2] != '?')
		return 0;
	int enc = toupper((unsigned char)q1[1]);
	if (enc != 'B' && enc != 'Q')
		return 0;
	const char *text = q1 + 3;
	const char *stop = NULL;
	for (const char *t = text; t + 1 < end; t++)
		if (t[0] == '?' && t[1] == '=') {
			stop = t;
			break;
		}
	if (!stop)
		return 0;
	char charset[64];
	size_t cl = (size_t)(q1 - cs);
	const char *star = memchr(cs, '*', cl);
	if (star)
		cl = (size_t)(star - cs);
	if (cl == 0 || cl >= sizeof charset)
		return 0;
	memcpy(charset, cs, cl);
	charset[cl] = 0;
	if (!decode_text(enc, text, (size_t)(stop - text), bytes) || !convert(charset, bytes, out))
		return 0;
	return (size_t)(stop + 2 - p);
}

void rfc2047_decode(const char *in, size_t len, str *out)
{
	str bytes = STR_INIT, scratch = STR_INIT;
	int after_word = 0;
	str_clear(out);
	for (size_t i = 0; i < len;) {
		size_t w = word(in + i, len - i, out, &bytes);
		if (w) {
			i += w;
			after_word = 1;
			continue;
		}
		size_t j = i;
		while (j < len && (in[j] == ' ' || in[j] == '\t'))
			j++;
		if (j > i) {
			/* blanks between two encoded-words vanish (RFC 2047 6.2) */
			str_clear(&scratch);
			if (!(after_word && j < len && word(in + j, len - j, &scratch, &bytes)))
				str_append(out, in + i, j - i);
			i = j;
			continue;
		}
		str_putc(out, in[i++]);
		after_word = 0;
	}
	str_free(&bytes);
	str_free(&scratch);
}
