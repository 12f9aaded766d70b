/*
 * psl: the organizational domain of a name (RFC 7489 §3.2): its public
 * suffix by the Public Suffix List (publicsuffix.org's algorithm: the
 * longest matching rule, "*." wildcards, "!" exceptions, "*" when none
 * matches), plus one label.  The list is read once per process from PATH
 * (Debian's publicsuffix package: PSL_PATH below).  Names are compared as
 * ASCII without case; the list's Unicode rules never match (a mail domain
 * in IDNA form is its xn-- labels).
 */
#ifndef FML_PSL_H
#define FML_PSL_H

#include "util/str.h"

#define PSL_PATH "/usr/share/publicsuffix/public_suffix_list.dat"

/* DOMAIN's organizational domain into OUT (lowercase); DOMAIN itself when
 * it is a public suffix.  -1 (OUT: DOMAIN, lowercase) when no list could
 * be read: the caller treats every name as its own organization. */
int psl_org_domain(const char *path, const char *domain, str *out);

/* DMARC identifier alignment (RFC 7489 §3.1): A and B equal when STRICT,
 * else of the same organizational domain. */
int psl_aligned(const char *a, const char *b, int strict);

#endif
