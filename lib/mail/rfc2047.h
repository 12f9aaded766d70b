/*
 * rfc2047: decode encoded-words (=?charset?B|Q?text?=) in an unstructured
 * header value into UTF-8 for display (the summary line, logs).  Never used
 * to rewrite a header: articles keep the poster's bytes.  Charsets go
 * through iconv(3); an encoded-word that cannot be decoded is kept as it
 * is.  White space between two adjacent encoded-words is dropped
 * (RFC 2047 §6.2); RFC 2231 language tags (charset*lang) are ignored.
 */
#ifndef FML_RFC2047_H
#define FML_RFC2047_H

#include <stddef.h>

#include "util/str.h"

void rfc2047_decode(const char *in, size_t len, str *out);

#endif
