/*
 * libFuzzer target for lib/mail/dns.c's answer parser: what a DNS server
 * (or anyone who can send UDP datagrams to a resolver) sends back.  The
 * input's first 12 bytes are the header (the ID is forced to the query's,
 * the QR bit set), then the query's own question is put in, then the rest
 * of the input: every input is "an answer to our query", so the fuzzer
 * spends its time in the records.  Beyond "no crash, no leak, no UB":
 *   - an answer is ours, malformed, truncated, negative or records;
 *   - records: at least one, as many NUL-terminated strings in txt, and a
 *     TTL of 0..2^31-1;
 *   - a negative answer has no record.
 */
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "mail/dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char q[512], m[70000];
	int qlen = dns_make_query("_dmarc.Example.COM", 0x1234, q, sizeof q);
	CHECK(qlen > 12);
	size_t qend = (size_t)qlen - 11; /* the question ends before the OPT record */
	if (size < 12 || size - 12 + qend > sizeof m)
		return 0;
	memcpy(m, data, 12);
	m[0] = 0x12;
	m[1] = 0x34;
	m[2] |= 0x80;
	memcpy(m + 12, q + 12, qend - 12);
	memcpy(m + qend, data + 12, size - 12);
	size_t len = qend + size - 12;
	dns_answer a;
	dns_answer_init(&a);
	int rc = dns_parse_answer(m, len, q, (size_t)qlen, &a);
	CHECK(rc >= DNS_ANS_OK && rc <= DNS_ANS_NOTOURS);
	if (rc == DNS_ANS_OK) {
		size_t nul = 0;
		for (size_t i = 0; i < a.txt.len; i++)
			nul += a.txt.s[i] == 0;
		CHECK(a.n >= 1 && nul == a.n);
		CHECK(a.ttl >= 0 && a.ttl <= 0x7fffffffL);
	}
	if (rc == DNS_ANS_NEG)
		CHECK(a.n == 0);
	dns_answer_free(&a);
	return 0;
}
