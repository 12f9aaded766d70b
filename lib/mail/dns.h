/*
 * dns: TXT lookups (DMARC policies, DKIM keys), a stub resolver of our own
 * over UDP with TCP when the answer is truncated: only libc, so the alias
 * pipe can ask (glibc's res_* keeps its servers in global state read from
 * resolv.conf, without ports).
 *
 * SERVERS is DNS_SERVERS: "ADDR[:PORT]" or "[ADDR6]:PORT", several
 * separated by spaces or commas; empty means the nameserver lines of
 * /etc/resolv.conf.  Each server is tried in turn, TRIES rounds, TIMEOUT
 * seconds per try.  Queries carry a random ID from a fresh socket (random
 * source port) and EDNS0 (a 1232-byte UDP answer); an answer whose ID,
 * question or source does not match is ignored, not taken.
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
