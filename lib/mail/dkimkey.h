/*
 * dkimkey: a new DKIM key pair (libcrypto): the private key as PEM and the
 * p= of its DNS record (RFC 6376 §3.6.1: the SubjectPublicKeyInfo of an
 * RSA key in base64; RFC 8463: the raw 32 bytes of an Ed25519 key).
 */
#ifndef FML_DKIMKEY_H
#define FML_DKIMKEY_H

#include "util/status.h"
#include "util/str.h"

/* RSA (BITS) or, with ED25519, an Ed25519 pair: PEM into PEM, the DNS
 * TXT value ("v=DKIM1; k=rsa; p=...") into TXT. */
fml_status dkimkey_make(int ed25519, int bits, str *pem, str *txt, str *err);

#endif
