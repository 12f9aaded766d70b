/*
 * randhex: random names and secrets.  randhex_secret() is for what must not
 * be guessed (keys, cookies, MIME boundaries): getrandom(2) blocking until
 * the pool is ready, never a weaker fallback.  randhex_nonce() is for what
 * must only differ from its neighbours (temp and token file names, which
 * carry the time and pid beside it): it never blocks or fails.
 */
#ifndef FML_RANDHEX_H
#define FML_RANDHEX_H

#include <stddef.h>

#include "status.h"

/* N random bytes as 2N lower-case hex digits and a NUL into HEX (at least
 * 2N + 1 bytes).  ST_TEMPFAIL, logged, when the kernel gives none. */
fml_status randhex_secret(char *hex, size_t n);

/* 32 random bits, or a value from rand() when getrandom(2) would block. */
unsigned int randhex_nonce(void);

#endif
