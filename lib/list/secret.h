/*
 * secret: the list's HMAC key, etc/secret (64 hex digits and a newline,
 * mode 0600), for confirmation IDs and one-click unsubscribe tokens.
 * Made with 32 random bytes when missing; replacing it revokes every ID
 * and token issued with the old one.
 */
#ifndef FML_SECRET_H
#define FML_SECRET_H

#include "util/status.h"
#include "util/str.h"

/* The key of the list home DIR into KEY (without the newline): ST_OK, or
 * ST_TEMPFAIL (unreadable, empty, or cannot be made). */
fml_status secret_load(const char *dir, str *key);

#endif
