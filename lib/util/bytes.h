/*
 * bytes: small helpers on (pointer, length) byte ranges, used across the
 * mail layers, where text is not NUL-terminated and may hold any byte.
 */
#ifndef FML_BYTES_H
#define FML_BYTES_H

#include <stddef.h>

/* Case-insensitive (ASCII) comparison of two ranges, as strcasecmp. */
int bytes_casecmp(const char *a, size_t alen, const char *b, size_t blen);
/* CR, LF, NUL, another C0 control but TAB, or DEL in P[0..N)? */
int bytes_has_ctl(const char *p, size_t n);
/* 0..15 for [0-9A-Fa-f], else -1. */
int bytes_hex_value(int c);

#endif
