/*
 * dkimsig: signing and checking with libopendkim.  See dkim.h.
 */
#include "dkimsig.h"
#include "dns.h"
#include "psl.h"
#include "util/fs.h"
#include "util/mem.h"

#include <opendkim/dkim.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define CHUNK 65536

/* what a list's mail carries that matters to readers and filters */
static const char *sign_fields[] = {"from",
				    "sender",
				    "reply-to",
				    "subject",
				    "date",
				    "message-id",
				    "to",
				    "cc",
				    "mime-version",
				    "content-type",
				    "content-transfer-encoding",
				    "in-reply-to",
				    "references",
				    "list-id",
				    "list-help",
				    "list-unsubscribe",
				    "list-unsubscribe-post",
				    "list-subscribe",
				    "list-post",
				    "list-owner",
				    "list-archive",
				    "author",
				    NULL};
static const char *oversign_fields[] = {"from", NULL};

/* the key lookup's DNS, for this process (one list at a time) */
static struct {
	const char *servers;
	int timeout;
	int tempfail;
} dns;

static DKIM_CBSTAT key_lookup(DKIM *d, DKIM_SIGINFO *sig, u_char *buf, size_t buflen)
{
	(void)d;
	const char *sel = (const char *)dkim_sig_getselector(sig);
	const char *dom = (const char *)dkim_sig_getdomain(sig);
	str name = STR_INIT, err = STR_INIT;
	dns_answer a;
	dns_answer_init(&a);
	str_printf(&name, "%s._domainkey.%s", sel ? sel : "", dom ? dom : "");
	fml_status st = dns_txt(dns.servers, dns.timeout, 2, name.s, &a, &err);
	DKIM_CBSTAT rc = DKIM_CBSTAT_NOTFOUND;
	if (st == ST_OK && a.txt.len + 1 <= buflen) {
		memcpy(buf, a.txt.s, strlen(a.txt.s) + 1); /* the first record */
		rc = DKIM_CBSTAT_CONTINUE;
	} else if (st == ST_TEMPFAIL) {
		dns.tempfail = 1;
		rc = DKIM_CBSTAT_TRYAGAIN;
	}
	dns_answer_free(&a);
	str_free(&name);
	str_free(&err);
	return rc;
}

static DKIM_LIB *lib_open(void)
{
	DKIM_LIB *lib = dkim_init(NULL, NULL);
	if (!lib)
		return NULL;
	unsigned int flags = DKIM_LIBFLAGS_FIXCRLF;
	dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags, sizeof flags);
	dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_SIGNHDRS, sign_fields, sizeof(char **));
	dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_OVERSIGNHDRS, oversign_fields, sizeof(char **));
	dkim_set_key_lookup(lib, key_lookup);
	return lib;
}

/* the message through dkim_chunk() */
static DKIM_STAT feed(DKIM *d, int fd, off_t start, off_t end)
{
	unsigned char *buf = mem_alloc(CHUNK);
	DKIM_STAT st = DKIM_STAT_OK;
	for (off_t at = start; at < end && st == DKIM_STAT_OK;) {
		size_t want = (size_t)(end - at) < CHUNK ? (size_t)(end - at) : CHUNK;
		ssize_t r = pread(fd, buf, want, at);
		if (r <= 0) {
			st = DKIM_STAT_INTERNAL;
			break;
		}
		st = dkim_chunk(d, buf, (size_t)r);
		at += r;
	}
	if (st == DKIM_STAT_OK)
		st = dkim_chunk(d, NULL, 0);
	free(buf);
	return st;
}

fml_status dkimsig_sign(const dkimsig_key *keys, size_t n, int fd, off_t start, off_t end,
			const char *eol, str *out, str *err)
{
	DKIM_LIB *lib = lib_open();
	if (!lib) {
		str_sets(err, "libopendkim: cannot start");
		return ST_TEMPFAIL;
	}
	fml_status rc = ST_OK;
	for (size_t i = 0; i < n && rc == ST_OK; i++) {
		DKIM_STAT st;
		DKIM *d = dkim_sign(
		    lib, (const unsigned char *)"fml", NULL, (unsigned char *)keys[i].pem,
		    (const unsigned char *)keys[i].selector, (const unsigned char *)keys[i].domain,
		    DKIM_CANON_RELAXED, DKIM_CANON_RELAXED,
		    keys[i].ed25519 ? DKIM_SIGN_ED25519SHA256 : DKIM_SIGN_RSASHA256, -1, &st);
		unsigned char *sig = NULL;
		size_t len = 0;
		if (d)
			st = feed(d, fd, start, end);
		if (d && st == DKIM_STAT_OK)
			st = dkim_eom(d, NULL);
		if (d && st == DKIM_STAT_OK)
			st = dkim_getsighdr_d(d, strlen(DKIM_SIGNHEADER) + 2, &sig, &len);
		if (!d || st != DKIM_STAT_OK) {
			str_printf(err, "DKIM signing with %s._domainkey.%s failed: %s",
				   keys[i].selector, keys[i].domain,
				   d ? dkim_geterror(d) ? dkim_geterror(d) : dkim_getresultstr(st)
				     : dkim_getresultstr(st));
			rc = ST_TEMPFAIL;
		} else {
			str_printf(out, "%s: ", DKIM_SIGNHEADER);
			for (size_t k = 0; k < len; k++) {
				if (sig[k] == '\r')
					continue;
				if (sig[k] == '\n')
					str_puts(out, eol);
				else
					str_putc(out, (char)sig[k]);
			}
			str_puts(out, eol);
		}
		if (d)
			dkim_free(d);
	}
	dkim_close(lib);
	return rc;
}

int dkimsig_verify(int fd, off_t start, off_t end, const char *domain, int strict,
		   const char *dns_servers, int dns_timeout, str *h, str *why)
{
	DKIM_LIB *lib = lib_open();
	if (!lib) {
		str_sets(why, "libopendkim: cannot start");
		return -1;
	}
	dns.servers = dns_servers;
	dns.timeout = dns_timeout;
	dns.tempfail = 0;
	DKIM_STAT st;
	DKIM *d = dkim_verify(lib, (const unsigned char *)"fml", NULL, &st);
	int result = 0;
	if (d) {
		st = feed(d, fd, start, end);
		if (st == DKIM_STAT_OK || st == DKIM_STAT_NOSIG)
			st = dkim_eom(d, NULL);
		DKIM_SIGINFO **sigs = NULL;
		int nsigs = 0;
		if (dkim_getsiglist(d, &sigs, &nsigs) == DKIM_STAT_OK)
			for (int i = 0; i < nsigs && result != 1; i++) {
				const char *sd = (const char *)dkim_sig_getdomain(sigs[i]);
				if (!sd || !psl_aligned(sd, domain, strict))
					continue;
				if (DKIM_SIG_CHECK(sigs[i])) {
					u_char *hv =
					    dkim_sig_gettagvalue(sigs[i], false, (u_char *)"h");
					str_clear(h);
					for (const u_char *p = hv; p && *p; p++)
						if (*p != ' ' && *p != '\t' && *p != '\r' &&
						    *p != '\n')
							str_putc(h, (char)*p);
					result = 1;
				} else {
					str_printf(why, "d=%s: %s", sd,
						   dkim_sig_geterrorstr(
						       (DKIM_SIGERROR)dkim_sig_geterror(sigs[i])));
				}
			}
		if (result != 1 && dns.tempfail)
			result = -1;
		if (result == 0 && !why->len)
			str_printf(why, "no signature aligned with %s (%s)", domain,
				   dkim_getresultstr(st));
		dkim_free(d);
	} else {
		str_printf(why, "libopendkim: %s", dkim_getresultstr(st));
		result = -1;
	}
	dkim_close(lib);
	return result;
}
