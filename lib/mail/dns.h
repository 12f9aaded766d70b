/*
 * dns: TXT lookups (DMARC policies, DKIM keys) with glibc's stub resolver
 * (res_nquery, in libc since 2.34: the alias pipe links nothing more), its
 * answers read by a parser of our own (fuzzed: tests/fuzz/fuzz_dns.c).
 *
 * SERVERS is DNS_SERVERS: "ADDR[:PORT]" (IPv4; at most 3 are used),
 * several separated by spaces or commas; empty means those of
 * /etc/resolv.conf (IPv6 ones too).  Each server is tried in turn, TRIES
 * rounds, TIMEOUT seconds the first, twice that the next (glibc's
 * back-off).  The query asks for EDNS0; the resolver matches the answer to
 * its query (ID, question, source) and goes to TCP for a truncated one.
 */
#ifndef FML_DNS_H
#define FML_DNS_H

#include "util/status.h"
#include "util/str.h"

typedef struct dns_answer {
	str txt;  /* each TXT record's strings joined, records NUL-terminated */
	size_t n; /* how many records */
	long ttl; /* smallest TTL of the records; negative answer: the SOA's
		   * minimum (RFC 2308), or -1 when none came with it */
} dns_answer;

void dns_answer_init(dns_answer *a);
void dns_answer_free(dns_answer *a);

/* TXT records of NAME.  ST_OK: N >= 1 records; ST_NOINPUT: NXDOMAIN or no
 * TXT record (a negative answer); ST_TEMPFAIL: no usable answer from any
 * server (timeout, SERVFAIL, REFUSED, malformed), with the reason in ERR. */
fml_status dns_txt(const char *servers, int timeout, int tries, const char *name, dns_answer *a,
		   str *err);

/* The parts, for tests and fuzzing: the query for NAME's TXT records with
 * ID into Q (SIZE bytes), its length or -1 (no domain name); whether M
 * (LEN bytes) answers the query Q (QLEN) and what it says, into A. */
enum { DNS_ANS_OK, DNS_ANS_NEG, DNS_ANS_BAD, DNS_ANS_TRUNC, DNS_ANS_NOTOURS };
int dns_make_query(const char *name, unsigned id, unsigned char *q, size_t size);
int dns_parse_answer(const unsigned char *m, size_t len, const unsigned char *q, size_t qlen,
		     dns_answer *a);

#endif
