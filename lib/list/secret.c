/*
 * secret: the list's HMAC key.  See secret.h.
 */
#include "secret.h"
#include "util/fs.h"
#include "util/msg.h"
#include "util/randhex.h"
#include "util/safefile.h"

#include <limits.h>
#include <string.h>

#define SECRET_BYTES 32

static fml_status make_secret(const char *dir, const char *path, str *key)
{
	char hex[SECRET_BYTES * 2 + 2], etc[PATH_MAX];
	if (randhex_secret(hex, SECRET_BYTES) != ST_OK)
		return ST_TEMPFAIL;
	hex[SECRET_BYTES * 2] = '\n';
	hex[SECRET_BYTES * 2 + 1] = 0;
	fml_status st = ST_TEMPFAIL;
	/* safefile_replace's temp file is 0600 and renamed: the secret is never
	 * readable by others nor seen half-written */
	if (fs_path(etc, sizeof etc, "%s/etc", dir) == 0 && fs_mkdirs(etc, 0700) == ST_OK &&
	    safefile_replace(path, hex, SECRET_BYTES * 2 + 1, 1) == ST_OK) {
		msg_warn("%s was missing: made a new one", path);
		str_set(key, hex, SECRET_BYTES * 2);
		st = ST_OK;
	}
	explicit_bzero(hex, sizeof hex);
	return st;
}

fml_status secret_load(const char *dir, str *key)
{
	char path[PATH_MAX];
	if (fs_path(path, sizeof path, "%s/etc/secret", dir) < 0)
		return ST_TEMPFAIL;
	fml_status st = fs_read(path, key, 4096);
	if (st == ST_NOINPUT)
		return make_secret(dir, path, key);
	if (st != ST_OK)
		return ST_TEMPFAIL;
	while (key->len && (key->s[key->len - 1] == '\n' || key->s[key->len - 1] == '\r'))
		key->len--;
	if (key->len == 0) {
		msg_error("%s is empty", path);
		return ST_TEMPFAIL;
	}
	return ST_OK;
}
