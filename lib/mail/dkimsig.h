/*
 * dkimsig: DKIM signatures (RFC 6376; ed25519-sha256, RFC 8463) with Debian's
 * libopendkim.  Messages are streamed from a file (fd, [start, end)), LF
 * or CRLF (the wire form, CRLF, is what is signed and checked).  Keys of
 * signers are looked up as TXT at SELECTOR._domainkey.DOMAIN by mail/dns.h,
 * with the servers and timeout the caller gives.
 *
 * Signing: relaxed/relaxed, the fields a list's mail carries that readers
 * and filters look at (From oversigned: no second From can be added), the
 * whole body, no l=.  The signature's fold uses the message's own line
 * ending.
 */
#ifndef FML_DKIMSIG_H
#define FML_DKIMSIG_H

#include <sys/types.h>

#include "util/status.h"
#include "util/str.h"

typedef struct dkimsig_key {
	const char *domain;   /* d= */
	const char *selector; /* s= */
	const char *pem;      /* the private key, PEM */
	int ed25519;	      /* ed25519-sha256, else rsa-sha256 */
} dkimsig_key;

/* The DKIM-Signature fields for the message in FD [START, END), one per
 * key of KEYS (N), each ending in EOL ("\n" or "\r\n"), appended to OUT. */
fml_status dkimsig_sign(const dkimsig_key *keys, size_t n, int fd, off_t start, off_t end,
			const char *eol, str *out, str *err);

/* Does a signature of the message in FD [START, END) with d= aligned to
 * DOMAIN (equal when STRICT, else the same organizational domain) verify?
 * 1 (its h= into H), 0 (WHY says what failed), -1 the key could not be had
 * (no DNS answer: the caller cannot tell). */
int dkimsig_verify(int fd, off_t start, off_t end, const char *domain, int strict,
		   const char *dns_servers, int dns_timeout, str *h, str *why);

#endif
