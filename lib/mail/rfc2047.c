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

/* One encoded-word at P (within N bytes): its length, or 0; its charset
 * into CS and encoding into *ENC when they are not NULL. */
static size_t word_cs(const char *p, size_t n, str *out, str *bytes, char *cs64, int *encp)
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
	if (cs64)
		memcpy(cs64, charset, cl + 1);
	if (encp)
		*encp = enc;
	return (size_t)(stop + 2 - p);
}

static size_t word(const char *p, size_t n, str *out, str *bytes)
{
	return word_cs(p, n, out, bytes, NULL, NULL);
}

size_t rfc2047_word(const char *p, size_t n, str *out, char charset[64], int *enc)
{
	str bytes = STR_INIT;
	size_t w = word_cs(p, n, out, &bytes, charset, enc);
	str_free(&bytes);
	return w;
}

/* UTF-8 P..N through CD (UTF-8 to the charset; (iconv_t)-1: UTF-8 itself)
 * into OUT (cleared): 0 when a character has no place in the charset.  CD
 * is reset first and its shift state flushed at the end, so each call
 * stands alone (ISO-2022-JP ends in ASCII). */
static int from_utf8(iconv_t cd, const char *p, size_t n, str *out)
{
	str_clear(out);
	if (cd == (iconv_t)-1) {
		str_append(out, p, n);
		return 1;
	}
	iconv(cd, NULL, NULL, NULL, NULL);
	char *in = (char *)p;
	size_t inleft = n;
	int ok = 1;
	for (int flush = 0; ok && flush < 2; flush++) {
		do {
			str_reserve(out, inleft * 8 + 16);
			char *o = out->s + out->len;
			size_t oleft = out->cap - out->len - 1;
			size_t rv = flush ? iconv(cd, NULL, NULL, &o, &oleft)
					  : iconv(cd, &in, &inleft, &o, &oleft);
			out->len = (size_t)(o - out->s);
			if (rv == (size_t)-1 && errno != E2BIG)
				ok = 0;
		} while (ok && !flush && inleft > 0);
	}
	if (out->s)
		out->s[out->len] = 0;
	return ok;
}

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* One encoded-word of BYTES onto OUT. */
static void put_word(const char *charset, int enc, const str *bytes, str *out)
{
	const unsigned char *b = (const unsigned char *)(bytes->s ? bytes->s : "");
	str_printf(out, "=?%s?%c?", charset, enc);
	if (enc == 'B') {
		for (size_t i = 0; i < bytes->len; i += 3) {
			unsigned v = (unsigned)b[i] << 16;
			if (i + 1 < bytes->len)
				v |= (unsigned)b[i + 1] << 8;
			if (i + 2 < bytes->len)
				v |= b[i + 2];
			str_putc(out, b64chars[v >> 18 & 63]);
			str_putc(out, b64chars[v >> 12 & 63]);
			str_putc(out, i + 1 < bytes->len ? b64chars[v >> 6 & 63] : '=');
			str_putc(out, i + 2 < bytes->len ? b64chars[v & 63] : '=');
		}
	} else {
		for (size_t i = 0; i < bytes->len; i++) {
			if (b[i] == ' ')
				str_putc(out, '_');
			else if (isalnum(b[i]) || strchr("!*+-/", b[i]))
				str_putc(out, b[i]);
			else
				str_printf(out, "=%02X", b[i]);
		}
	}
	str_puts(out, "?=");
}

/* The length of the UTF-8 character at P (1 for a stray byte). */
static size_t utf8_len(const char *p, size_t n)
{
	unsigned char c = (unsigned char)p[0];
	size_t k = c < 0xc0 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
	return k > n ? n : k;
}

void rfc2047_encode(const char *text, size_t n, const char *charset, int enc, const char *sep,
		    str *out)
{
	str bytes = STR_INIT, word1 = STR_INIT;
	if (enc != 'Q')
		enc = 'B';
	iconv_t cd = strcasecmp(charset, "utf-8") == 0 ? (iconv_t)-1 : iconv_open(charset, "UTF-8");
	if ((cd == (iconv_t)-1 && strcasecmp(charset, "utf-8") != 0) ||
	    !from_utf8(cd, text, n, &bytes)) {
		if (cd != (iconv_t)-1)
			iconv_close(cd);
		cd = (iconv_t)-1;
		charset = "UTF-8"; /* it cannot hold the text: UTF-8 can */
	}
	/* greedy, a character at a time: each word at most 75 bytes
	 * (RFC 2047 2), each converted alone (ISO-2022-JP ends in ASCII) */
	size_t from = 0, first = 1;
	while (from < n) {
		size_t to = from, good = from;
		str_clear(&word1);
		while (to < n) {
			size_t k = utf8_len(text + to, n - to);
			str w = STR_INIT;
			from_utf8(cd, text + from, to + k - from, &bytes);
			put_word(charset, enc, &bytes, &w);
			int fits = w.len <= 75;
			if (fits || good == from) {
				str_set(&word1, w.s, w.len);
				good = to + k;
			}
			str_free(&w);
			if (!fits)
				break;
			to += k;
		}
		if (!first)
			str_puts(out, sep);
		str_append(out, word1.s, word1.len);
		first = 0;
		from = good;
	}
	if (cd != (iconv_t)-1)
		iconv_close(cd);
	str_free(&bytes);
	str_free(&word1);
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
