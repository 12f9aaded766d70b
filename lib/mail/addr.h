/*
 * addr: mail addresses.  A header value is parsed per RFC 5322 (comments,
 * nested up to 32 deep, quoted strings, angle addresses, route addresses,
 * groups, obsolete forms) into addr-specs; then a policy stricter than the
 * RFC decides what fml will store, write into a header or a queue file:
 *   local part: [A-Za-z0-9._%+=-], not starting with '-' or '.', no "..",
 *               no quoted local parts, 1..64 bytes
 *   domain:     LDH labels (IDNA A-labels included), at least two labels
 *               or a [literal] is refused, 1..253 bytes
 *   total <= 254 bytes; never CR, LF, NUL or any control byte
 * Comparison: local part exact, domain case-insensitive; fml's fuzzy match
 * (ADDR_CHECK_MAX: the last N domain labels) as an option.
 */
#ifndef FML_ADDR_H
#define FML_ADDR_H

#include <stddef.h>

#include "util/status.h"
#include "util/str.h"

#define ADDR_MAX 254

/* Parse an address-list header value (From:, Reply-To:, Sender:, To:) and
 * return its first mailbox as a bare addr-spec in OUT (route and comments
 * dropped; not yet policy-checked).  ST_DATAERR when there is none or the
 * value is malformed beyond the token/nesting limits. */
fml_status addr_parse_first(const char *value, size_t len, str *out);
/* All mailboxes of an address-list, each appended to OUT as a NUL-terminated
 * addr-spec; returns the count, or -1 when malformed. */
int addr_parse_list(const char *value, size_t len, str *out);
/* Parse an SMTP path "<a@b>" or bare "a@b" (envelope sender, From_ line);
 * "<>" gives an empty OUT and ST_OK. */
fml_status addr_parse_path(const char *value, size_t len, str *out);

/* NULL when ADDR passes the storage policy, else a short reason. */
const char *addr_check(const char *addr, size_t len);
/* Lower-case the domain in place (the local part is kept as is). */
void addr_normalize(str *addr);
/* Local part exact, domain case-insensitive. */
int addr_equal(const char *a, const char *b);
/* fml's fuzzy match: equal, or local parts equal (case-insensitive) and the
 * last N domain labels equal (case-insensitive).  N <= 0 means addr_equal. */
int addr_match(const char *a, const char *b, int n_labels);
/* The part after the last '@', or "" */
const char *addr_domain(const char *addr);
/* Senders that are bounces or role accounts never answered automatically:
 * "", MAILER-DAEMON, postmaster, root, nobody, *-request, owner-* ... */
int addr_is_daemon(const char *addr);

#endif
