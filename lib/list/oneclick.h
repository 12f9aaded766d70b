/*
 * oneclick: RFC 8058 one-click unsubscribe for a list's members.
 *
 * With ONE_CLICK_UNSUBSCRIBE and WEB_URL set, every copy of the list's mail
 * (articles and digests) carries, per recipient,
 *
 *   List-Unsubscribe: <WEB_URL/u/LIST/ADDR/TOKEN>,
 *    <mailto:CTL+unsub-TOKEN@DOMAIN>
 *   List-Unsubscribe-Post: List-Unsubscribe=One-Click
 *
 * LIST the list home's name, ADDR the recipient in base64url (RFC 4648 5,
 * no padding), CTL the local part of CONTROL_ADDRESS, '+' the first of
 * VERP_DELIMITERS (the MTA's recipient delimiter), TOKEN the first 16
 * bytes of HMAC-SHA256(etc/secret, "unsubscribe\n" ADDR) in lower-case
 * base32 (26 letters and digits: it survives an MTA that folds the case of
 * a local part).  No expiry: rotating etc/secret revokes every token.  The
 * web link names the address, so fmlweb checks a token in O(1) and answers
 * a repeated POST the same; the mailto address has room for the token only
 * (a local part is at most 64 bytes), so its mail is matched against the
 * sender first, then against every member.
 */
#ifndef FML_ONECLICK_H
#define FML_ONECLICK_H

#include "config.h"
#include "util/status.h"
#include "util/str.h"

#define ONECLICK_TOKEN_LEN 26

/* ONE_CLICK_UNSUBSCRIBE set, with a WEB_URL */
int oneclick_enabled(const config *cf);

/* The token of ADDR (domain case does not matter) under KEY. */
void oneclick_token(const str *key, const char *addr, char out[ONECLICK_TOKEN_LEN + 1]);

/* Is TOKEN (any case) ADDR's?  In constant time. */
int oneclick_valid(const str *key, const char *addr, const char *token);

/* The two fields for RCPT of the list home DIR, each ending in EOL,
 * appended to OUT. */
void oneclick_fields(const config *cf, const char *dir, const str *key, const char *rcpt,
		     const char *eol, str *out);

/* "WEB_URL/KIND/LIST/" (LIST the name of the list home DIR) appended to
 * OUT: the links fmlweb answers ("u" one-click, "c" confirmation). */
void oneclick_link(const config *cf, const char *dir, const char *kind, str *out);

/* The member (actives, then members) whose token TOKEN is, into ADDR:
 * ST_OK, ST_NOINPUT when none, ST_TEMPFAIL when a file cannot be read.
 * O(members): for the mailto form only. */
fml_status oneclick_find(const char *dir, const str *key, const char *token, str *addr);

/* "unsub-TOKEN" after the recipient delimiter of a local part: the token,
 * or NULL. */
const char *oneclick_extension(const config *cf, const char *rcpt,
			       char out[ONECLICK_TOKEN_LEN + 1]);

/* base64url without padding, for ADDR in the web link; decode returns 0,
 * or -1 for what is not base64url. */
void oneclick_addr_encode(const char *addr, str *out);
int oneclick_addr_decode(const char *s, size_t n, str *out);

#endif
