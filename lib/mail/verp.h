/*
 * verp: variable envelope return paths.  A mail to RCPT is sent with the
 * envelope sender LOCAL D0 RCPTLOCAL D1 RCPTDOMAIN @ DOMAIN, where
 * LOCAL@DOMAIN is the bounce address and D0 D1 the two delimiters
 * ("+=", Postfix's default_verp_delimiters): a bounce to it names RCPT
 * whatever the bounce itself says.
 */
#ifndef FML_VERP_H
#define FML_VERP_H

#include "util/str.h"

/* Is ADDR the bounce address BOUNCE: 0 plain, 1 with a recipient encoded
 * after DELIMS[0] (decoded into RCPT when not NULL and it is a valid
 * address, else RCPT is left empty), -1 neither.  Domain and local part
 * compare case-insensitively. */
int verp_decode(const char *bounce, const char *delims, const char *addr, str *rcpt);
/* The envelope sender for RCPT into OUT: BOUNCE with RCPT encoded, or
 * BOUNCE itself when the encoded local part would be over 64 bytes (RFC
 * 5321's limit, which receivers enforce) or an address is malformed.
 * Returns 1 when encoded. */
int verp_encode(const char *bounce, const char *delims, const char *rcpt, str *out);

#endif
