/*
 * dkimkey: DKIM key pairs.  See dkimkey.h.
 */
#include "dkimkey.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>

static void base64(const unsigned char *p, size_t n, str *out)
{
	unsigned char *b = malloc(4 * ((n + 2) / 3) + 1);
	if (!b)
		return;
	int k = EVP_EncodeBlock(b, p, (int)n);
	str_append(out, b, (size_t)k);
	free(b);
}

fml_status dkimkey_make(int ed25519, int bits, str *pem, str *txt, str *err)
{
	EVP_PKEY *key = ed25519 ? EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")
				: EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
	fml_status st = ST_TEMPFAIL;
	BIO *bio = NULL;
	unsigned char *der = NULL;
	if (!key) {
		str_printf(err, "key generation failed: %s",
			   ERR_reason_error_string(ERR_get_error()));
		return ST_TEMPFAIL;
	}
	bio = BIO_new(BIO_s_mem());
	char *data;
	long len;
	if (!bio || !PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) ||
	    (len = BIO_get_mem_data(bio, &data)) <= 0)
		goto out;
	str_clear(pem);
	str_append(pem, data, (size_t)len);
	str_clear(txt);
	if (ed25519) {
		unsigned char raw[32];
		size_t rl = sizeof raw;
		if (!EVP_PKEY_get_raw_public_key(key, raw, &rl))
			goto out;
		str_puts(txt, "v=DKIM1; k=ed25519; p=");
		base64(raw, rl, txt);
	} else {
		int dl = i2d_PUBKEY(key, &der);
		if (dl <= 0)
			goto out;
		str_puts(txt, "v=DKIM1; k=rsa; p=");
		base64(der, (size_t)dl, txt);
	}
	st = ST_OK;
out:
	if (st != ST_OK)
		str_printf(err, "key export failed: %s", ERR_reason_error_string(ERR_get_error()));
	OPENSSL_free(der);
	BIO_free(bio);
	EVP_PKEY_free(key);
	return st;
}
