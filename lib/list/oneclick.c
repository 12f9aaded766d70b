/*
 * oneclick: RFC 8058 one-click unsubscribe tokens and fields.  See
 * oneclick.h.
 */
#include "oneclick.h"
#include "home.h"
#include "members.h"
#include "mail/addr.h"
#include "util/fs.h"
#include "util/sha256.h"

#include <limits.h>
#include <string.h>
#include <strings.h>

static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";
static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int oneclick_enabled(const config *cf)
{
	return config_int(cf, CF_ONE_CLICK_UNSUBSCRIBE) && *config_str(cf, CF_WEB_URL);
}

void oneclick_token(const str *key, const char *addr, char out[ONECLICK_TOKEN_LEN + 1])
{
	str msg = STR_INIT;
	unsigned char mac[SHA256_BYTES];
	str_puts(&msg, "unsubscribe\n");
	size_t at = msg.len;
	str_puts(&msg, addr);
	str norm = {msg.s + at, msg.len - at, msg.cap - at};
	addr_normalize(&norm); /* the domain in place */
	sha256_hmac(key->s, key->len, msg.s, msg.len, mac);
	str_free(&msg);
	/* 16 bytes = 128 bits: 25 groups of 5 and 3 bits left */
	unsigned acc = 0;
	int bits = 0, o = 0;
	for (int i = 0; i < 16; i++) {
		acc = (acc << 8) | mac[i];
		bits += 8;
		while (bits >= 5) {
			out[o++] = b32[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	out[o++] = b32[(acc << (5 - bits)) & 31];
	out[o] = 0;
}

int oneclick_valid(const str *key, const char *addr, const char *token)
{
	char want[ONECLICK_TOKEN_LEN + 1];
	if (strlen(token) != ONECLICK_TOKEN_LEN)
		return 0;
	oneclick_token(key, addr, want);
	unsigned diff = 0;
	for (int i = 0; i < ONECLICK_TOKEN_LEN; i++) {
		unsigned char c = (unsigned char)token[i];
		diff |= (unsigned)((c >= 'A' && c <= 'Z' ? c + 32 : c) ^ (unsigned char)want[i]);
	}
	return diff == 0;
}

void oneclick_addr_encode(const char *addr, str *out)
{
	const unsigned char *p = (const unsigned char *)addr;
	size_t n = strlen(addr), i = 0;
	for (; i + 3 <= n; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
		for (int k = 18; k >= 0; k -= 6)
			str_putc(out, b64url[(v >> k) & 63]);
	}
	if (n - i == 1) {
		str_putc(out, b64url[p[i] >> 2]);
		str_putc(out, b64url[(p[i] & 3) << 4]);
	} else if (n - i == 2) {
		unsigned v = (unsigned)p[i] << 8 | p[i + 1];
		str_putc(out, b64url[v >> 10]);
		str_putc(out, b64url[(v >> 4) & 63]);
		str_putc(out, b64url[(v & 15) << 2]);
	}
}

int oneclick_addr_decode(const char *s, size_t n, str *out)
{
	unsigned acc = 0;
	int bits = 0;
	str_clear(out);
	if (n % 4 == 1)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const char *at = memchr(b64url, s[i], 64);
		if (!s[i] || !at)
			return -1;
		acc = (acc << 6) | (unsigned)(at - b64url);
		bits += 6;
		if (bits >= 8) {
			str_putc(out, (int)((acc >> (bits - 8)) & 255));
			bits -= 8;
		}
	}
	return 0;
}

void oneclick_link(const config *cf, const char *dir, const char *kind, str *out)
{
	const char *url = config_str(cf, CF_WEB_URL);
	size_t ul = strlen(url);
	while (ul > 0 && url[ul - 1] == '/')
		ul--;
	str_printf(out, "%.*s/%s/%s/", (int)ul, url, kind, home_name(dir));
}

void oneclick_fields(const config *cf, const char *dir, const str *key, const char *rcpt,
		     const char *eol, str *out)
{
	char tok[ONECLICK_TOKEN_LEN + 1];
	const char *ctl = config_str(cf, CF_CONTROL_ADDRESS), *at = strrchr(ctl, '@');
	const char *d = config_str(cf, CF_VERP_DELIMITERS);
	oneclick_token(key, rcpt, tok);
	str_puts(out, "List-Unsubscribe: <");
	oneclick_link(cf, dir, "u", out);
	oneclick_addr_encode(rcpt, out);
	str_printf(out, "/%s>,%s <mailto:%.*s%cunsub-%s%s>%s", tok, eol,
		   at ? (int)(at - ctl) : (int)strlen(ctl), ctl, *d ? *d : '+', tok, at ? at : "",
		   eol);
	str_printf(out, "List-Unsubscribe-Post: List-Unsubscribe=One-Click%s", eol);
}

const char *oneclick_extension(const config *cf, const char *rcpt, char out[ONECLICK_TOKEN_LEN + 1])
{
	const char *ctl = config_str(cf, CF_CONTROL_ADDRESS), *cat = strrchr(ctl, '@');
	const char *at = strrchr(rcpt, '@');
	size_t cl = cat ? (size_t)(cat - ctl) : strlen(ctl),
	       rl = at ? (size_t)(at - rcpt) : strlen(rcpt);
	char d = *config_str(cf, CF_VERP_DELIMITERS) ? *config_str(cf, CF_VERP_DELIMITERS) : '+';
	if (rl != cl + 1 + 6 + ONECLICK_TOKEN_LEN || strncasecmp(rcpt, ctl, cl) != 0 ||
	    rcpt[cl] != d || strncasecmp(rcpt + cl + 1, "unsub-", 6) != 0)
		return NULL;
	for (int i = 0; i < ONECLICK_TOKEN_LEN; i++) {
		char c = rcpt[cl + 7 + i];
		out[i] = c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
	}
	out[ONECLICK_TOKEN_LEN] = 0;
	return out;
}

typedef struct find {
	const str *key;
	const char *token;
	str *addr;
	int found;
} find;

static int find_one(const member_entry *e, void *arg)
{
	find *f = arg;
	if (e->bye || !oneclick_valid(f->key, str_c(&e->addr), f->token))
		return 0;
	str_set(f->addr, e->addr.s, e->addr.len);
	f->found = 1;
	return 1; /* stop */
}

fml_status oneclick_find(const char *dir, const str *key, const char *token, str *addr)
{
	static const char *const files[] = {"actives", "members"};
	find f = {key, token, addr, 0};
	for (int i = 0; i < 2 && !f.found; i++) {
		char path[PATH_MAX];
		if (members_path(path, sizeof path, dir, files[i]) != ST_OK)
			return ST_TEMPFAIL;
		fml_status st = members_foreach(path, find_one, &f);
		if (st != ST_OK && st != ST_NOINPUT)
			return ST_TEMPFAIL;
	}
	return f.found ? ST_OK : ST_NOINPUT;
}
