/*
 * dkimsign: the list's DKIM signer.  See dkimsign.h.
 */
#include "dkimsign.h"
#include "mail/dkimsig.h"
#include "util/fs.h"

#include <string.h>

/* PATH (relative: under DIR) into OUT */
static fml_status read_key(const char *dir, const char *path, str *out, str *err)
{
	char full[4096];
	if (fs_path(full, sizeof full, path[0] == '/' ? "%s%s" : "%s/%s", path[0] == '/' ? "" : dir,
		    path) < 0 ||
	    fs_read(full, out, 65536) != ST_OK) {
		str_printf(err, "cannot read the DKIM key %s", full);
		return ST_TEMPFAIL;
	}
	return ST_OK;
}

fml_status dkimsign_item(const char *dir, config *cf, int fd, off_t start, off_t end,
			 const char *eol, str *out, str *err)
{
	str rsa = STR_INIT, ed = STR_INIT;
	dkimsig_key keys[2];
	size_t n = 0;
	const char *domain = config_str(cf, CF_DKIM_DOMAIN);
	const char *edpath = config_str(cf, CF_DKIM_PRIVATE_KEY_ED25519);
	fml_status st = read_key(dir, config_str(cf, CF_DKIM_PRIVATE_KEY), &rsa, err);
	if (st == ST_OK) {
		keys[n++] = (dkimsig_key){domain, config_str(cf, CF_DKIM_SELECTOR), str_c(&rsa), 0};
		if (*edpath && (st = read_key(dir, edpath, &ed, err)) == ST_OK)
			keys[n++] = (dkimsig_key){domain, config_str(cf, CF_DKIM_SELECTOR_ED25519),
						  str_c(&ed), 1};
	}
	if (st == ST_OK)
		st = dkimsig_sign(keys, n, fd, start, end, eol, out, err);
	str_free(&rsa);
	str_free(&ed);
	return st;
}
