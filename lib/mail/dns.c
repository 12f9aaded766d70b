/*
 * dns: a stub resolver for TXT records.  See dns.h.  RFC 1035 (format),
 * RFC 2308 (negative TTL), RFC 6891 (EDNS0), RFC 7766 (TCP).
 */
#include "dns.h"
#include "util/fs.h"
#include "util/randhex.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SERVERS 8
#define UDP_SIZE 1232 /* the EDNS0 size DNS flag day 2020 settled on */
#define T_TXT 16
#define T_SOA 6
#define T_OPT 41

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

/* "ADDR[:PORT]", "[ADDR6]:PORT" or a bare IPv6 address */
static int parse_server(const char *s, size_t len, struct sockaddr_storage *ss, socklen_t *sl)
{
	char host[64];
	unsigned long port = 53;
	const char *colon = memchr(s, ':', len);
	if (len == 0 || len >= sizeof host)
		return -1;
	if (s[0] == '[') {
		const char *close = memchr(s, ']', len);
		if (!close || close - s - 1 >= (long)sizeof host)
			return -1;
		memcpy(host, s + 1, (size_t)(close - s - 1));
		host[close - s - 1] = 0;
		if (close + 1 < s + len) {
			if (close[1] != ':')
				return -1;
			char *end;
			port = strtoul(close + 2, &end, 10);
			if (end != s + len)
				return -1;
		}
	} else if (colon && !memchr(colon + 1, ':', len - (size_t)(colon + 1 - s))) {
		memcpy(host, s, (size_t)(colon - s));
		host[colon - s] = 0;
		char *end;
		port = strtoul(colon + 1, &end, 10);
		if (end != s + len)
			return -1;
	} else {
		memcpy(host, s, len);
		host[len] = 0;
	}
	if (port == 0 || port > 65535)
		return -1;
	memset(ss, 0, sizeof *ss);
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		*sl = sizeof *in4;
		return 0;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		*sl = sizeof *in6;
		return 0;
	}
	return -1;
}

typedef struct server {
	struct sockaddr_storage ss;
	socklen_t len;
} server;

/* SERVERS, or resolv.conf's nameservers; how many */
static int servers_of(const char *list, server *out, str *err)
{
	int n = 0;
	str conf = STR_INIT;
	const char *p = list ? list : "";
	while (*p == ' ' || *p == '\t' || *p == ',')
		p++;
	if (!*p) {
		/* resolv.conf: "nameserver ADDR" lines */
		if (fs_read("/etc/resolv.conf", &conf, 65536) != ST_OK)
			str_clear(&conf);
		for (const char *l = str_c(&conf); *l && n < MAX_SERVERS;
		     l += strcspn(l, "\n"), l += *l == '\n') {
			if (strncmp(l, "nameserver", 10) != 0 || (l[10] != ' ' && l[10] != '\t'))
				continue;
			const char *a = l + 11;
			a += strspn(a, " \t");
			size_t al = strcspn(a, " \t\n#%");
			if (parse_server(a, al, &out[n].ss, &out[n].len) == 0)
				n++;
		}
		str_free(&conf);
		if (n == 0) { /* resolv.conf(5): none given means the local host */
			parse_server("127.0.0.1", 9, &out[0].ss, &out[0].len);
			n = 1;
		}
		return n;
	}
	while (*p && n < MAX_SERVERS) {
		size_t l = strcspn(p, " \t,");
		if (parse_server(p, l, &out[n].ss, &out[n].len) < 0) {
			str_printf(err, "DNS_SERVERS: not an address: %.*s", (int)l, p);
			return -1;
		}
		n++;
		p += l;
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
	}
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
	q[n++] = T_TXT;
	q[n++] = 0;
	q[n++] = 1; /* IN */
	/* OPT: root name, type 41, class = UDP size, TTL 0, no data */
	q[n++] = 0;
	q[n++] = 0;
	q[n++] = T_OPT;
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
		if (i < an && type == T_TXT && class == 1 && rcode == 0) {
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
		} else if (i >= an && type == T_SOA && a->n == 0) {
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

static double now_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Wait for FD to be ready for EVENTS until DEADLINE: 1 ready, 0 not */
static int wait_fd(int fd, short events, double deadline)
{
	for (;;) {
		double left = deadline - now_mono();
		if (left <= 0)
			return 0;
		struct pollfd p = {fd, events, 0};
		int r = poll(&p, 1, (int)(left * 1000) + 1);
		if (r > 0)
			return 1;
		if (r < 0 && errno != EINTR)
			return 0;
	}
}

static int read_full(int fd, unsigned char *b, size_t n, double deadline)
{
	for (size_t got = 0; got < n;) {
		if (!wait_fd(fd, POLLIN, deadline))
			return -1;
		ssize_t r = read(fd, b + got, n - got);
		if (r <= 0) {
			if (r < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			return -1;
		}
		got += (size_t)r;
	}
	return 0;
}

/* The query over TCP (RFC 7766): two length bytes, then the message. */
static int ask_tcp(const server *sv, const unsigned char *q, size_t qlen, dns_answer *a,
		   double deadline)
{
	int fd = socket(sv->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return DNS_ANS_BAD;
	int rc = DNS_ANS_BAD;
	unsigned char len2[2], *m = NULL;
	unsigned char out[2 + 512];
	out[0] = (unsigned char)(qlen >> 8);
	out[1] = (unsigned char)qlen;
	memcpy(out + 2, q, qlen);
	int err = 0;
	socklen_t el = sizeof err;
	if ((connect(fd, (const struct sockaddr *)&sv->ss, sv->len) < 0 && errno != EINPROGRESS) ||
	    !wait_fd(fd, POLLOUT, deadline) ||
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err != 0 ||
	    write(fd, out, qlen + 2) != (ssize_t)(qlen + 2) || read_full(fd, len2, 2, deadline) < 0)
		goto out;
	size_t mlen = get16(len2);
	m = malloc(mlen ? mlen : 1);
	if (m && read_full(fd, m, mlen, deadline) == 0) {
		rc = dns_parse_answer(m, mlen, q, qlen, a);
		if (rc == DNS_ANS_TRUNC || rc == DNS_ANS_NOTOURS)
			rc = DNS_ANS_BAD;
	}
out:
	free(m);
	close(fd);
	return rc;
}

/* One try at SV over UDP (then TCP if truncated) until DEADLINE. */
static int ask(const server *sv, const unsigned char *q, size_t qlen, dns_answer *a,
	       double deadline)
{
	int fd = socket(sv->ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return DNS_ANS_BAD;
	/* connected: the kernel drops datagrams from anyone else */
	if (connect(fd, (const struct sockaddr *)&sv->ss, sv->len) < 0 ||
	    send(fd, q, qlen, 0) != (ssize_t)qlen) {
		close(fd);
		return DNS_ANS_BAD;
	}
	unsigned char m[UDP_SIZE + 512];
	int rc = DNS_ANS_BAD;
	while (wait_fd(fd, POLLIN, deadline)) {
		ssize_t r = recv(fd, m, sizeof m, 0);
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			break; /* ICMP unreachable: nobody there */
		}
		rc = dns_parse_answer(m, (size_t)r, q, qlen, a);
		if (rc != DNS_ANS_NOTOURS)
			break;
		rc = DNS_ANS_BAD; /* a stray datagram: wait on */
	}
	close(fd);
	if (rc == DNS_ANS_TRUNC)
		rc = ask_tcp(sv, q, qlen, a, deadline);
	return rc;
}

fml_status dns_txt(const char *servers, int timeout, int tries, const char *name, dns_answer *a,
		   str *err)
{
	server sv[MAX_SERVERS];
	unsigned char q[512];
	int n = servers_of(servers, sv, err);
	a->n = 0;
	a->ttl = -1;
	str_clear(&a->txt);
	if (n < 0)
		return ST_TEMPFAIL;
	int qlen = dns_make_query(name, (uint16_t)randhex_nonce(), q, sizeof q);
	if (qlen < 0) {
		a->ttl = -1;
		return ST_NOINPUT; /* no such name can exist */
	}
	if (timeout < 1)
		timeout = 1;
	if (tries < 1)
		tries = 1;
	for (int t = 0; t < tries; t++)
		for (int i = 0; i < n; i++) {
			int rc = ask(&sv[i], q, (size_t)qlen, a, now_mono() + timeout);
			if (rc == DNS_ANS_OK)
				return ST_OK;
			if (rc == DNS_ANS_NEG)
				return ST_NOINPUT;
		}
	str_printf(err, "no answer for %s TXT from %d server(s) in %d round(s)", name, n, tries);
	return ST_TEMPFAIL;
}
