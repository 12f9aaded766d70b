/*
 * dkimsig: signing (our own, libcrypto) and checking (libopendkim).  See
 * dkimsig.h.
 */
#include "dkimsig.h"
#include "dns.h"
#include "psl.h"
#include "util/fs.h"
#include "util/mem.h"

#include <ctype.h>
#include <opendkim/dkim.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
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

/* ---- signing: our own, with libcrypto */

#define MAX_KEYS 4
#define HEADER_MAX (4 << 20) /* a header longer than this is not signed */

typedef struct field {
	str canon;   /* relaxed: "name:value\r\n", the name lower-cased */
	size_t nlen; /* the name's length */
} field;

typedef struct fields {
	field *f;
	size_t n, cap;
} fields;

struct dkimsig_signer {
	EVP_PKEY *pkey[MAX_KEYS];
	dkimsig_key key[MAX_KEYS];
	size_t nkeys;
	char bh[45];
	fields hdr; /* the message's header fields, top to bottom */
};

static int wsp(int c)
{
	return c == ' ' || c == '\t';
}

/* The raw field P (N bytes: name, colon, value and continuation lines with
 * their line ends) in relaxed form (RFC 6376 3.4.2) appended to F. */
static void add_field(fields *fs, const char *p, size_t n)
{
	const char *colon = memchr(p, ':', n);
	if (!colon)
		return; /* not a field: nothing a verifier would select either */
	if (fs->n == fs->cap) {
		fs->cap = fs->cap ? 2 * fs->cap : 32;
		fs->f = mem_reallocarray(fs->f, fs->cap, sizeof *fs->f);
	}
	field *f = &fs->f[fs->n++];
	str_init(&f->canon);
	size_t nl = (size_t)(colon - p);
	while (nl > 0 && wsp((unsigned char)p[nl - 1]))
		nl--;
	for (size_t i = 0; i < nl; i++)
		str_putc(&f->canon, tolower((unsigned char)p[i]));
	f->nlen = nl;
	str_putc(&f->canon, ':');
	int sp = 0, any = 0;
	for (const char *q = colon + 1; q < p + n; q++) {
		if (*q == '\r' || *q == '\n')
			continue;
		if (wsp((unsigned char)*q)) {
			sp = 1;
			continue;
		}
		if (sp && any)
			str_putc(&f->canon, ' ');
		sp = 0;
		any = 1;
		str_putc(&f->canon, *q);
	}
	str_append(&f->canon, "\r\n", 2);
}

static void fields_free(fields *fs)
{
	for (size_t i = 0; i < fs->n; i++)
		str_free(&fs->f[i].canon);
	free(fs->f);
	*fs = (fields){0};
}

/* The end of the line that starts at P (before END): the offset past its
 * line end (LF, CR LF, or a lone CR, as the wire makes of them), or 0 when
 * the line end is not in [P, END) yet (MORE: bytes may follow). */
static size_t line_len(const char *p, const char *end, int more)
{
	for (const char *q = p; q < end; q++) {
		if (*q == '\n')
			return (size_t)(q + 1 - p);
		if (*q == '\r') {
			if (q + 1 < end)
				return (size_t)(q + 1 - p) + (q[1] == '\n');
			return more ? 0 : (size_t)(q + 1 - p);
		}
	}
	return more ? 0 : (size_t)(end - p);
}

/* The header fields of P (N bytes, the whole header or more) into FS; the
 * offset of the body (past the empty line), or 0 when the header does not
 * end within N bytes and MORE may follow. */
static size_t split_header(const char *p, size_t n, int more, fields *fs)
{
	const char *end = p + n, *at = p, *fstart = NULL;
	while (at < end) {
		size_t l = line_len(at, end, more);
		if (l == 0)
			return 0;
		int blank = *at == '\r' || *at == '\n';
		if (fstart && (blank || !wsp((unsigned char)*at))) {
			add_field(fs, fstart, (size_t)(at - fstart));
			fstart = NULL;
		}
		if (blank)
			return (size_t)(at + l - p);
		if (!wsp((unsigned char)*at) || !fstart)
			fstart = fstart ? fstart : at;
		at += l;
	}
	if (more)
		return 0;
	if (fstart)
		add_field(fs, fstart, (size_t)(end - fstart));
	return n; /* a header without a body */
}

int dkimsig_body_init(dkimsig_body *b)
{
	*b = (dkimsig_body){0};
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(md);
		return -1;
	}
	b->md = md;
	return 0;
}

/* Relaxed (RFC 6376 3.4.4): WSP runs become one SP, WSP at a line's end
 * goes, empty lines at the end go; line ends are written only before more
 * content, and one at the very end of a body that has any. */
void dkimsig_body_feed(dkimsig_body *b, const char *p, size_t n)
{
	char out[8192];
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (b->cr) { /* after CR: CR LF is one line end, a lone CR another */
			b->cr = 0;
			if (c == '\n')
				continue;
		}
		if (c == '\r' || c == '\n') {
			b->cr = c == '\r';
			b->crlf++;
			b->wsp = 0;
			continue;
		}
		if (wsp((unsigned char)c)) {
			b->wsp = 1;
			continue;
		}
		if (o + 2 * b->crlf + 2 > sizeof out || b->crlf > 64) {
			EVP_DigestUpdate(b->md, out, o);
			o = 0;
			for (; b->crlf > 64; b->crlf--)
				EVP_DigestUpdate(b->md, "\r\n", 2);
		}
		for (; b->crlf > 0; b->crlf--) {
			out[o++] = '\r';
			out[o++] = '\n';
		}
		if (b->wsp)
			out[o++] = ' ';
		b->wsp = 0;
		out[o++] = c;
		b->any = 1;
	}
	EVP_DigestUpdate(b->md, out, o);
}

int dkimsig_body_final(dkimsig_body *b, char out[45])
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int dl = 0;
	if (b->any)
		EVP_DigestUpdate(b->md, "\r\n", 2);
	int ok = EVP_DigestFinal_ex(b->md, d, &dl) == 1 && dl == 32;
	EVP_MD_CTX_free(b->md);
	b->md = NULL;
	if (!ok)
		return -1;
	EVP_EncodeBlock((unsigned char *)out, d, 32);
	return 0;
}

/* The header of FD [START, END) into S->hdr and the body's hash into S->bh. */
static fml_status read_message(dkimsig_signer *s, int fd, off_t start, off_t end, str *err)
{
	str buf = STR_INIT;
	off_t at = start;
	size_t body = 0;
	fml_status st = ST_OK;
	for (;;) {
		size_t want = (size_t)(end - at) < CHUNK ? (size_t)(end - at) : CHUNK;
		str_reserve(&buf, want);
		ssize_t r = want ? pread(fd, buf.s + buf.len, want, at) : 0;
		if (r < 0 || (r == 0 && want)) {
			str_sets(err, "cannot read the message to sign it");
			st = ST_TEMPFAIL;
			goto out;
		}
		buf.len += (size_t)r;
		at += r;
		fields_free(&s->hdr);
		if ((body = split_header(buf.s, buf.len, at < end, &s->hdr)) > 0 || at >= end)
			break;
		if (buf.len > HEADER_MAX) {
			str_sets(err, "the header is too long to sign");
			st = ST_DATAERR;
			goto out;
		}
	}
	dkimsig_body b;
	if (dkimsig_body_init(&b) < 0) {
		str_sets(err, "libcrypto: no SHA-256");
		st = ST_TEMPFAIL;
		goto out;
	}
	dkimsig_body_feed(&b, buf.s + body, buf.len - body);
	while (at < end && st == ST_OK) {
		size_t want = (size_t)(end - at) < CHUNK ? (size_t)(end - at) : CHUNK;
		str_reserve(&buf, want);
		ssize_t r = pread(fd, buf.s, want, at);
		if (r <= 0) {
			str_sets(err, "cannot read the message to sign it");
			st = ST_TEMPFAIL;
		} else {
			dkimsig_body_feed(&b, buf.s, (size_t)r);
			at += r;
		}
	}
	if (dkimsig_body_final(&b, s->bh) < 0 && st == ST_OK) {
		str_sets(err, "libcrypto: SHA-256 failed");
		st = ST_TEMPFAIL;
	}
out:
	str_free(&buf);
	return st;
}

dkimsig_signer *dkimsig_signer_new(const dkimsig_key *keys, size_t n, int fd, off_t start,
				   off_t end, str *err)
{
	dkimsig_signer *s = mem_calloc(1, sizeof *s);
	for (size_t i = 0; i < n && i < MAX_KEYS; i++) {
		BIO *bio = BIO_new_mem_buf(keys[i].pem, -1);
		EVP_PKEY *k = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
		BIO_free(bio);
		int ed = k && EVP_PKEY_get_base_id(k) == EVP_PKEY_ED25519;
		if (!k || ed != !!keys[i].ed25519 ||
		    (!ed && EVP_PKEY_get_base_id(k) != EVP_PKEY_RSA)) {
			str_printf(err, "the key for %s._domainkey.%s is not a PEM %s private key",
				   keys[i].selector, keys[i].domain,
				   keys[i].ed25519 ? "Ed25519" : "RSA");
			EVP_PKEY_free(k);
			dkimsig_signer_free(s);
			return NULL;
		}
		s->pkey[s->nkeys] = k;
		s->key[s->nkeys++] = keys[i];
	}
	if (read_message(s, fd, start, end, err) != ST_OK) {
		dkimsig_signer_free(s);
		return NULL;
	}
	return s;
}

void dkimsig_signer_free(dkimsig_signer *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nkeys; i++)
		EVP_PKEY_free(s->pkey[i]);
	fields_free(&s->hdr);
	free(s);
}

static int sign_name(const field *f)
{
	for (const char **n = sign_fields; *n; n++)
		if (strlen(*n) == f->nlen && memcmp(*n, f->canon.s, f->nlen) == 0)
			return 1;
	return 0;
}

/* NAME (LEN bytes) to the h= list H, unless ONCE and it is there already */
static void h_add(str *h, const char *name, size_t len, int once)
{
	if (once)
		for (const char *p = str_c(h); *p;) {
			size_t l = strcspn(p, ":");
			if (l == len && memcmp(p, name, len) == 0)
				return;
			p += l + (p[l] == ':');
		}
	if (h->len)
		str_putc(h, ':');
	str_append(h, name, len);
}

/* The RFC 6376 5.4.2 selection: each name of H takes the last instance
 * not taken yet, from the bottom; a name with none left adds nothing. */
static void hash_fields(EVP_MD_CTX *md, const field *const *all, size_t n, const char *h)
{
	unsigned char *used = mem_calloc(n ? n : 1, 1);
	for (const char *p = h; *p;) {
		size_t l = strcspn(p, ":");
		for (size_t i = n; i-- > 0;)
			if (!used[i] && all[i]->nlen == l && memcmp(all[i]->canon.s, p, l) == 0) {
				used[i] = 1;
				EVP_DigestUpdate(md, all[i]->canon.s, all[i]->canon.len);
				break;
			}
		p += l + (p[l] == ':');
	}
	free(used);
}

/* SIG in base64 after "b=", folded */
static void put_b(str *out, const unsigned char *sig, size_t len, const char *eol)
{
	char *b64 = mem_alloc(4 * ((len + 2) / 3) + 1);
	int k = EVP_EncodeBlock((unsigned char *)b64, sig, (int)len);
	for (int i = 0; i < k; i += 64) {
		if (i)
			str_printf(out, "%s\t ", eol);
		str_append(out, b64 + i, (size_t)(k - i < 64 ? k - i : 64));
	}
	free(b64);
}

static int sign_digest(EVP_PKEY *k, int ed, const unsigned char *d, unsigned char *sig, size_t *len)
{
	int ok = 0;
	if (ed) {
		EVP_MD_CTX *c = EVP_MD_CTX_new();
		ok = c && EVP_DigestSignInit(c, NULL, NULL, NULL, k) == 1 &&
		     EVP_DigestSign(c, sig, len, d, 32) == 1;
		EVP_MD_CTX_free(c);
	} else {
		EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(k, NULL);
		ok = c && EVP_PKEY_sign_init(c) == 1 &&
		     EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) == 1 &&
		     EVP_PKEY_CTX_set_signature_md(c, EVP_sha256()) == 1 &&
		     EVP_PKEY_sign(c, sig, len, d, 32) == 1;
		EVP_PKEY_CTX_free(c);
	}
	return ok ? 0 : -1;
}

fml_status dkimsig_signer_sign(dkimsig_signer *s, const char *extra, size_t extra_len, time_t t,
			       const char *eol, str *out, str *err)
{
	fields ex = {0};
	if (extra && extra_len)
		split_header(extra, extra_len, 0, &ex);
	size_t n = ex.n + s->hdr.n;
	const field **all = mem_reallocarray(NULL, n ? n : 1, sizeof *all);
	for (size_t i = 0; i < ex.n; i++)
		all[i] = &ex.f[i];
	for (size_t i = 0; i < s->hdr.n; i++)
		all[ex.n + i] = &s->hdr.f[i];
	/* h=: the fields a reader sees, every extra one, then the oversigned */
	str h = STR_INIT, sig = STR_INIT;
	for (size_t i = 0; i < n; i++)
		if (i < ex.n || sign_name(all[i]))
			h_add(&h, all[i]->canon.s, all[i]->nlen, 0);
	str over = STR_INIT;
	for (const char **o = oversign_fields; *o; o++)
		h_add(&over, *o, strlen(*o), 1);
	for (size_t i = 0; i < ex.n; i++)
		h_add(&over, ex.f[i].canon.s, ex.f[i].nlen, 1);
	h_add(&h, over.s, over.len, 0);
	fml_status st = ST_OK;
	for (size_t i = 0; i < s->nkeys && st == ST_OK; i++) {
		str_clear(&sig);
		str_printf(
		    &sig,
		    "DKIM-Signature: v=1; a=%s; c=relaxed/relaxed; d=%s;%s\ts=%s; t=%lld;%s\th=",
		    s->key[i].ed25519 ? "ed25519-sha256" : "rsa-sha256", s->key[i].domain, eol,
		    s->key[i].selector, (long long)t, eol);
		size_t col = 3;
		for (const char *p = str_c(&h); *p;) { /* folded before a colon */
			size_t l = strcspn(p + 1, ":") + 1;
			if (col + l > 72 && col > 3) {
				str_printf(&sig, "%s\t", eol);
				col = 1;
			}
			str_append(&sig, p, l);
			col += l;
			p += l;
		}
		str_printf(&sig, ";%s\tbh=%s;%s\tb=", eol, s->bh, eol);
		fields me = {0};
		add_field(&me, sig.s, sig.len);
		EVP_MD_CTX *md = EVP_MD_CTX_new();
		unsigned char d[EVP_MAX_MD_SIZE], b[1024];
		unsigned int dl = 0;
		size_t blen = sizeof b;
		if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL) ||
		    (hash_fields(md, all, n, h.s), 0) ||
		    !EVP_DigestUpdate(md, me.f[0].canon.s, me.f[0].canon.len - 2) ||
		    !EVP_DigestFinal_ex(md, d, &dl) ||
		    sign_digest(s->pkey[i], s->key[i].ed25519, d, b, &blen) < 0) {
			const char *why = ERR_reason_error_string(ERR_get_error());
			str_printf(err, "DKIM signing with %s._domainkey.%s failed: %s",
				   s->key[i].selector, s->key[i].domain, why ? why : "libcrypto");
			st = ST_TEMPFAIL;
		} else {
			put_b(&sig, b, blen, eol);
			str_puts(&sig, eol);
			str_append(out, sig.s, sig.len);
		}
		EVP_MD_CTX_free(md);
		fields_free(&me);
	}
	fields_free(&ex);
	free(all);
	str_free(&h);
	str_free(&over);
	str_free(&sig);
	return st;
}

fml_status dkimsig_sign(const dkimsig_key *keys, size_t n, int fd, off_t start, off_t end,
			const char *eol, str *out, str *err)
{
	dkimsig_signer *s = dkimsig_signer_new(keys, n, fd, start, end, err);
	if (!s)
		return ST_TEMPFAIL;
	fml_status st = dkimsig_signer_sign(s, NULL, 0, time(NULL), eol, out, err);
	dkimsig_signer_free(s);
	return st;
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
