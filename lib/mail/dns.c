/*
 * dns: TXT lookups with glibc's resolver, answers read here.  See dns.h.
 * RFC 1035 (format), RFC 2308 (negative TTL), RFC 6891 (EDNS0).
 */
#include "dns.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#define UDP_SIZE 1232 /* the EDNS0 size of the query we parse answers against */

void dns_answer_init(dns_answer *a)
{
	str_init(&a->txt);
	a->n = 0;
	a->ttl = -1;
}

void dns_answer_free(dns_answer *a)
{
	str_free(&a->txt);
	a->n = 0;
}

/* "ADDR[:PORT]", an IPv4 address (glibc's resolver keeps only those with
 * a port of their own) */
static int parse_server(const char *s, size_t len, struct sockaddr_in *in)
{
	char host[64];
	unsigned long port = 53;
	const char *colon = memchr(s, ':', len);
	size_t hl = colon ? (size_t)(colon - s) : len;
	if (hl == 0 || hl >= sizeof host)
		return -1;
	memcpy(host, s, hl);
	host[hl] = 0;
	if (colon) {
		char *end;
		port = strtoul(colon + 1, &end, 10);
		if (end != s + len || colon + 1 == end)
			return -1;
	}
	memset(in, 0, sizeof *in);
	in->sin_family = AF_INET;
	in->sin_port = htons((uint16_t)port);
	return port == 0 || port > 65535 || inet_pton(AF_INET, host, &in->sin_addr) != 1 ? -1 : 0;
}

/* SERVERS into RS's name servers (an IPv4 ADDR[:PORT] each, at most
 * MAXNS); empty: resolv.conf's, which res_ninit() read.  How many, or -1. */
static int servers_of(const char *list, struct __res_state *rs, str *err)
{
	int n = 0;
	const char *p = list ? list : "";
	p += strspn(p, " \t,");
	if (!*p)
		return rs->nscount;
	while (*p) {
		size_t l = strcspn(p, " \t,");
		struct sockaddr_in in;
		if (parse_server(p, l, &in) < 0) {
			str_printf(err, "DNS_SERVERS: not an IPv4 address[:port]: %.*s", (int)l, p);
			return -1;
		}
		if (n < MAXNS)
			rs->nsaddr_list[n++] = in;
		p += l;
		p += strspn(p, " \t,");
	}
	rs->nscount = n;
	return n;
}

/* The query for NAME's TXT records, with ID; its length, or -1 when NAME
 * is no domain name. */
int dns_make_query(const char *name, unsigned id, unsigned char *q, size_t size)
{
	size_t n = 12;
	memset(q, 0, 12);
	q[0] = (unsigned char)(id >> 8);
	q[1] = (unsigned char)id;
	q[2] = 0x01; /* RD */
	q[5] = 1;    /* QDCOUNT */
	q[11] = 1;   /* ARCOUNT: the OPT record */
	size_t total = strlen(name);
	if (total > 0 && name[total - 1] == '.')
		total--;
	if (total == 0 || total > 253)
		return -1;
	for (size_t i = 0; i < total;) {
		size_t l = strcspn(name + i, ".");
		if (l > total - i)
			l = total - i;
		if (l == 0 || l > 63 || n + l + 1 + 16 > size)
			return -1;
		q[n++] = (unsigned char)l;
		memcpy(q + n, name + i, l);
		n += l;
		i += l + 1;
	}
	q[n++] = 0;
	q[n++] = 0;
	q[n++] = ns_t_txt;
	q[n++] = 0;
	q[n++] = 1; /* IN */
	/* OPT: root name, type 41, class = UDP size, TTL 0, no data */
	q[n++] = 0;
	q[n++] = 0;
	q[n++] = ns_t_opt;
	q[n++] = UDP_SIZE >> 8;
	q[n++] = UDP_SIZE & 0xff;
	memset(q + n, 0, 6);
	n += 6;
	return (int)n;
}

/* Past the name at OFF (labels, or a compression pointer); -1 if malformed. */
static long skip_name(const unsigned char *m, size_t len, size_t off)
{
	for (int hops = 0; off < len && hops < 128; hops++) {
		unsigned c = m[off];
		if (c == 0)
			return (long)off + 1;
		if ((c & 0xc0) == 0xc0)
			return off + 2 <= len ? (long)off + 2 : -1;
		if (c & 0xc0)
			return -1;
		off += c + 1;
	}
	return -1;
}

static unsigned get16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static unsigned long get32(const unsigned char *p)
{
	return (unsigned long)p[0] << 24 | (unsigned long)p[1] << 16 | (unsigned long)p[2] << 8 |
	       p[3];
}

/* Is M (LEN bytes) the answer to the query Q (QLEN), and what does it say? */
int dns_parse_answer(const unsigned char *m, size_t len, const unsigned char *q, size_t qlen,
		     dns_answer *a)
{
	if (len < 12 || m[0] != q[0] || m[1] != q[1] || !(m[2] & 0x80))
		return DNS_ANS_NOTOURS;
	/* the question must be ours, name compared without case */
	long qend = skip_name(m, len, 12);
	size_t myq = qlen - 11; /* the question's end in Q: before the OPT record */
	if (qend < 0 || get16(m + 4) != 1 || (size_t)qend + 4 != myq ||
	    strncasecmp((const char *)m + 12, (const char *)q + 12, myq - 12) != 0 ||
	    memcmp(m + qend, q + qend, 4) != 0)
		return DNS_ANS_NOTOURS;
	if (m[2] & 0x02)
		return DNS_ANS_TRUNC;
	unsigned rcode = m[3] & 0x0f;
	if (rcode == 3) /* NXDOMAIN */
		a->n = 0;
	else if (rcode != 0)
		return DNS_ANS_BAD;
	unsigned an = get16(m + 6), ns = get16(m + 8);
	size_t off = (size_t)qend + 4;
	long minttl = -1;
	str_clear(&a->txt);
	a->n = 0;
	for (unsigned i = 0; i < an + ns; i++) {
		long e = skip_name(m, len, off);
		if (e < 0 || (size_t)e + 10 > len)
			return DNS_ANS_BAD;
		unsigned type = get16(m + e), class = get16(m + e + 2);
		unsigned long ttl = get32(m + e + 4);
		unsigned rdlen = get16(m + e + 8);
		size_t rd = (size_t)e + 10;
		if (rd + rdlen > len)
			return DNS_ANS_BAD;
		if (ttl > 0x7fffffffUL)
			ttl = 0;
		if (i < an && type == ns_t_txt && class == 1 && rcode == 0) {
			size_t was = a->txt.len;
			int nul = 0;
			for (size_t k = rd; k < rd + rdlen;) {
				unsigned sl = m[k];
				if (k + 1 + sl > rd + rdlen)
					return DNS_ANS_BAD;
				nul |= memchr(m + k + 1, 0, sl) != NULL;
				str_append(&a->txt, m + k + 1, sl);
				k += 1 + sl;
			}
			if (nul) { /* no record we read holds a NUL: not one of them */
				str_truncate(&a->txt, was);
			} else {
				str_putc(&a->txt, 0);
				a->n++;
				if (minttl < 0 || (long)ttl < minttl)
					minttl = (long)ttl;
			}
		} else if (i >= an && type == ns_t_soa && a->n == 0) {
			/* RFC 2308 §5: the smaller of the SOA's TTL and MINIMUM */
			long mname = skip_name(m, len, rd);
			long rname = mname < 0 ? -1 : skip_name(m, len, (size_t)mname);
			if (rname >= 0 && (size_t)rname + 20 <= rd + rdlen) {
				unsigned long min = get32(m + rname + 16);
				minttl = (long)(min < ttl ? min : ttl);
			}
		}
		off = rd + rdlen;
	}
	a->ttl = minttl;
	return a->n ? DNS_ANS_OK : DNS_ANS_NEG;
}

fml_status dns_txt(const char *servers, int timeout, int tries, const char *name, dns_answer *a,
		   str *err)
{
	unsigned char m[65536], q[512];
	struct __res_state rs;
	memset(&rs, 0, sizeof rs);
	a->n = 0;
	a->ttl = -1;
	str_clear(&a->txt);
	if (res_ninit(&rs) < 0) {
		str_printf(err, "res_ninit: %s", strerror(errno));
		return ST_TEMPFAIL;
	}
	fml_status st = ST_TEMPFAIL;
	int n = servers_of(servers, &rs, err);
	if (n < 0)
		goto out;
	rs.retrans = timeout < 1 ? 1 : timeout;
	rs.retry = tries < 1 ? 1 : tries;
	rs.options |= RES_USE_EDNS0; /* a 1232-byte answer over UDP; TCP past that */
	rs.options &= ~(unsigned long)(RES_DEFNAMES | RES_DNSRCH);
	int len = res_nquery(&rs, name, ns_c_in, ns_t_txt, m, sizeof m);
	if (len < 0) {
		/* NXDOMAIN or no TXT record: negative; else no usable answer */
		if (rs.res_h_errno == HOST_NOT_FOUND || rs.res_h_errno == NO_DATA) {
			st = ST_NOINPUT;
		} else {
			str_printf(err, "no answer for %s TXT (%s) from %s", name,
				   hstrerror(rs.res_h_errno),
				   servers && *servers ? servers : "/etc/resolv.conf's servers");
		}
		goto out;
	}
	/* the resolver matched it to its query; the records are ours to read */
	int qlen = dns_make_query(name, len >= 2 ? (unsigned)m[0] << 8 | m[1] : 0, q, sizeof q);
	int rc = qlen < 0 ? DNS_ANS_BAD : dns_parse_answer(m, (size_t)len, q, (size_t)qlen, a);
	if (rc == DNS_ANS_OK)
		st = ST_OK;
	else if (rc == DNS_ANS_NEG)
		st = ST_NOINPUT;
	else
		str_printf(err, "a malformed answer for %s TXT", name);
out:
	res_nclose(&rs);
	return st;
}
