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
 * ending.  Checking is libopendkim's.
 */
#ifndef FML_DKIMSIG_H
#define FML_DKIMSIG_H

#include <sys/types.h>
#include <time.h>

#include "util/status.h"
#include "util/str.h"

typedef struct dkimsig_key {
	const char *domain;   /* d= */
	const char *selector; /* s= */
	const char *pem;      /* the private key, PEM */
	int ed25519;	      /* ed25519-sha256, else rsa-sha256 */
} dkimsig_key;

/* A message made ready for signing: its header fields and body hash, read
 * once from FD [START, END), and the keys, parsed once; then any number of
 * signatures, each over extra fields put before the message (a recipient's
 * List-Unsubscribe) and the message's own.  Our own code with libcrypto
 * (RFC 6376 relaxed/relaxed; libopendkim cannot reuse a body hash). */
typedef struct dkimsig_signer dkimsig_signer;

/* NULL with the reason in ERR (a key that cannot be read, an I/O error). */
dkimsig_signer *dkimsig_signer_new(const dkimsig_key *keys, size_t n, int fd, off_t start,
				   off_t end, str *err);
/* One DKIM-Signature field per key, each ending in EOL ("\n" or "\r\n"),
 * appended to OUT; EXTRA (may be NULL) are whole header fields ending in
 * EOL that will go before the message and that the signatures cover (and
 * oversign: no further instance can be added).  T is the t= time. */
fml_status dkimsig_signer_sign(dkimsig_signer *s, const char *extra, size_t extra_len, time_t t,
			       const char *eol, str *out, str *err);
void dkimsig_signer_free(dkimsig_signer *s);

/* The DKIM-Signature fields for the message in FD [START, END), one per
 * key of KEYS (N), each ending in EOL, appended to OUT. */
fml_status dkimsig_sign(const dkimsig_key *keys, size_t n, int fd, off_t start, off_t end,
			const char *eol, str *out, str *err);

/* Relaxed body canonicalization (RFC 6376 3.4.4) of what is fed, the wire
 * form (LF, CR LF and a lone CR each end a line), into a SHA-256: exposed
 * for the unit test. */
typedef struct dkimsig_body {
	void *md;    /* EVP_MD_CTX */
	size_t crlf; /* line ends not yet written: only before more content */
	int wsp, cr, any;
} dkimsig_body;
int dkimsig_body_init(dkimsig_body *b);
void dkimsig_body_feed(dkimsig_body *b, const char *p, size_t n);
/* The base64 body hash into OUT (45 bytes with the NUL); frees B. */
int dkimsig_body_final(dkimsig_body *b, char out[45]);

/* Does a signature of the message in FD [START, END) with d= aligned to
 * DOMAIN (equal when STRICT, else the same organizational domain) verify?
 * 1 (its h= into H), 0 (WHY says what failed), -1 the key could not be had
 * (no DNS answer: the caller cannot tell). */
int dkimsig_verify(int fd, off_t start, off_t end, const char *domain, int strict,
		   const char *dns_servers, int dns_timeout, str *h, str *why);

#endif
