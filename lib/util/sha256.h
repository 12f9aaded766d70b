/*
 * sha256: SHA-256 (FIPS 180-4) for the checksums of incoming and queue
 * items, in util so that the alias pipe links without glib.  The hex
 * digest is lower case, 64 digits: the same text GChecksum gave, so items
 * written before still verify.  Streaming: init, any number of updates of
 * any size, then the digest.
 */
#ifndef FML_SHA256_H
#define FML_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_BYTES 32
#define SHA256_HEX (2 * SHA256_BYTES + 1) /* with the NUL */

typedef struct sha256 {
	uint32_t h[8];
	uint64_t bytes;	       /* message length so far */
	unsigned char buf[64]; /* a partial block */
	size_t nbuf;
} sha256;

void sha256_init(sha256 *s);
void sha256_update(sha256 *s, const void *p, size_t n);
/* Finish: the digest as bytes into OUT; S must be initialised again
 * before another use. */
void sha256_final(sha256 *s, unsigned char out[SHA256_BYTES]);
/* Finish: the digest as 64 lower-case hex digits and a NUL into HEX. */
void sha256_hex(sha256 *s, char hex[SHA256_HEX]);
/* HMAC-SHA256 (RFC 2104) of MSG with KEY into OUT. */
void sha256_hmac(const void *key, size_t klen, const void *msg, size_t mlen,
		 unsigned char out[SHA256_BYTES]);

#endif
