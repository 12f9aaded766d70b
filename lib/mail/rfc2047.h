/*
 * rfc2047: decode encoded-words (=?charset?B|Q?text?=) in an unstructured
 * header value into UTF-8 for display (the summary line, logs), and, for the
 * subject tag (actions/rewrite.c), one word at a time and back: an old tag
 * inside an encoded-word is taken out and the rest encoded again in the
 * poster's charset.  Charsets go
 * through iconv(3); an encoded-word that cannot be decoded is kept as it
 * is.  White space between two adjacent encoded-words is dropped
 * (RFC 2047 §6.2); RFC 2231 language tags (charset*lang) are ignored.
 */
#ifndef FML_RFC2047_H
#define FML_RFC2047_H

#include <stddef.h>

#include "util/str.h"

void rfc2047_decode(const char *in, size_t len, str *out);
/* The encoded-word at P (N bytes available): its length (0: none), its
 * text as UTF-8 appended to OUT, its charset into CHARSET and its encoding
 * ('B' or 'Q') into *ENC. */
size_t rfc2047_word(const char *p, size_t n, str *out, char charset[64], int *enc);
/* UTF-8 TEXT..N as encoded-words in CHARSET (in UTF-8 when CHARSET cannot
 * hold it) with encoding ENC ('B' or 'Q'), each at most 75 bytes and
 * converted alone, joined by SEP, appended to OUT. */
void rfc2047_encode(const char *text, size_t n, const char *charset, int enc, const char *sep,
		    str *out);

#endif
