/*
 * randhex: random names and secrets.  See randhex.h.
 */
#include "randhex.h"
#include "msg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

fml_status randhex_secret(char *hex, size_t n)
{
	unsigned char raw[64];
	size_t done = 0;
	while (done < n) {
		size_t want = n - done < sizeof raw ? n - done : sizeof raw, got = 0;
		while (got < want) {
			ssize_t k = getrandom(raw + got, want - got, 0);
			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0) {
				msg_error("getrandom: %s", k < 0 ? strerror(errno) : "no bytes");
				explicit_bzero(raw, sizeof raw);
				return ST_TEMPFAIL;
			}
			got += (size_t)k;
		}
		for (size_t i = 0; i < want; i++)
			snprintf(hex + 2 * (done + i), 3, "%02x", raw[i]);
		done += want;
	}
	hex[2 * n] = 0;
	explicit_bzero(raw, sizeof raw);
	return ST_OK;
}

unsigned int randhex_nonce(void)
{
	unsigned int r = 0;
	if (getrandom(&r, sizeof r, GRND_NONBLOCK) != sizeof r)
		r = (unsigned)rand();
	return r;
}
