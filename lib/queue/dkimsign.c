/*
 * dkimsign: the list's DKIM signer.  See dkimsign.h.
 */
#include "dkimsign.h"
#include "mail/dkimsig.h"
#include "util/fs.h"

#include <string.h>
#include <time.h>

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

static void *begin(const char *dir, config *cf, int fd, off_t start, off_t end, str *err)
{
	str rsa = STR_INIT, ed = STR_INIT;
	dkimsig_key keys[2];
	size_t n = 0;
	dkimsig_signer *s = NULL;
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
		s = dkimsig_signer_new(keys, n, fd, start, end, err);
	if (rsa.s) /* the keys are not left in freed memory */
		explicit_bzero(rsa.s, rsa.len);
	if (ed.s)
		explicit_bzero(ed.s, ed.len);
	str_free(&rsa);
	str_free(&ed);
	return s;
}

static fml_status sign(void *h, const char *extra, size_t len, const char *eol, str *out, str *err)
{
	return dkimsig_signer_sign(h, extra, len, time(NULL), eol, out, err);
}

static void end(void *h)
{
	dkimsig_signer_free(h);
}

const runner_signer dkimsign_signer = {begin, sign, end};

fml_status dkimsign_item(const char *dir, config *cf, int fd, off_t start, off_t end_,
			 const char *eol, str *out, str *err)
{
	void *h = begin(dir, cf, fd, start, end_, err);
	if (!h)
		return ST_TEMPFAIL;
	fml_status st = sign(h, NULL, 0, eol, out, err);
	end(h);
	return st;
}
