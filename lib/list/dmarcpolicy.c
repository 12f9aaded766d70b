/*
 * dmarcpolicy: author domain policies, with their cache.  See dmarc.h.
 */
#include "dmarcpolicy.h"
#include "cachedb.h"
#include "mail/dns.h"
#include "mail/psl.h"
#include "util/fs.h"
#include "util/msg.h"

#include <ctype.h>
#include <fcntl.h>
#include <gdbm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define TTL_MIN 300
#define TTL_MAX 86400
#define TTL_NEGATIVE 3600 /* a negative answer without an SOA */
#define TTL_UNKNOWN                                                                                \
	60 /* no answer: the run that holds the lock does not                                      \
	    * wait for it again (dmarc_prefetch) */

const char *dmarcpolicy_name(dmarcpolicy_kind p)
{
	static const char *const names[] = {"none", "quarantine", "reject", "unknown"};
	return names[p];
}

static dmarcpolicy_kind policy_of(const char *v, size_t n)
{
	if (n == 6 && strncasecmp(v, "reject", 6) == 0)
		return DMARC_REJECT;
	if (n == 10 && strncasecmp(v, "quarantine", 10) == 0)
		return DMARC_QUARANTINE;
	return DMARC_NONE;
}

/* The one record of A that starts with v=DMARC1, or NULL (none, or two) */
static const char *dmarc_record(const dns_answer *a)
{
	const char *found = NULL, *p = str_c(&a->txt);
	for (size_t i = 0; i < a->n; i++, p += strlen(p) + 1) {
		const char *s = p + strspn(p, " \t");
		if (strncmp(s, "v=DMARC1", 8) != 0 ||
		    (s[8] && s[8] != ';' && s[8] != ' ' && s[8] != '\t'))
			continue;
		if (found)
			return NULL; /* RFC 7489 §6.6.3: more than one is none */
		found = s;
	}
	return found;
}

/* p= (or sp= for a subdomain, when there) and adkim= of RECORD */
static void parse_record(const char *rec, int subdomain, dmarcpolicy_result *r)
{
	dmarcpolicy_kind p = DMARC_NONE, sp = DMARC_NONE;
	int have_sp = 0;
	r->strict_dkim = 0;
	for (const char *t = rec; *t;) {
		size_t len = strcspn(t, ";");
		const char *eq = memchr(t, '=', len);
		if (eq) {
			const char *k = t, *v = eq + 1;
			size_t kl = (size_t)(eq - t), vl = len - kl - 1;
			while (kl && isspace((unsigned char)*k))
				k++, kl--;
			while (kl && isspace((unsigned char)k[kl - 1]))
				kl--;
			while (vl && isspace((unsigned char)*v))
				v++, vl--;
			while (vl && isspace((unsigned char)v[vl - 1]))
				vl--;
			if (kl == 1 && tolower((unsigned char)*k) == 'p')
				p = policy_of(v, vl);
			else if (kl == 2 && strncasecmp(k, "sp", 2) == 0) {
				sp = policy_of(v, vl);
				have_sp = 1;
			} else if (kl == 5 && strncasecmp(k, "adkim", 5) == 0)
				r->strict_dkim = vl == 1 && tolower((unsigned char)*v) == 's';
		}
		t += len + (t[len] == ';');
	}
	r->policy = subdomain && have_sp ? sp : p;
}

/* gdbm's own lock: lookups run outside the list lock too (prefetch); a
 * cache busy elsewhere is a miss */
static GDBM_FILE cache_open(list_ctx *l)
{
	char path[4096];
	if (fs_path(path, sizeof path, "%s/var/db/dmarc.db", l->dir) < 0)
		return NULL;
	return cachedb_open(path, 1, l->now, "DMARC cache");
}

/* "EXPIRES POLICY STRICT WHERE" */
static int cache_get(GDBM_FILE db, const char *domain, time_t now, dmarcpolicy_result *r)
{
	datum k = {(char *)domain, (int)strlen(domain)};
	datum v = db ? gdbm_fetch(db, k) : (datum){NULL, 0};
	if (!v.dptr)
		return 0;
	char buf[512], where[256];
	snprintf(buf, sizeof buf, "%.*s", v.dsize, v.dptr);
	free(v.dptr);
	long long exp;
	int pol, strict;
	if (sscanf(buf, "%lld %d %d %255s", &exp, &pol, &strict, where) != 4 || exp <= now ||
	    pol < DMARC_NONE || pol > DMARC_UNKNOWN)
		return 0;
	r->policy = (dmarcpolicy_kind)pol;
	r->strict_dkim = strict;
	snprintf(r->where, sizeof r->where, "%s", strcmp(where, "-") == 0 ? "" : where);
	r->cached = 1;
	return 1;
}

static void cache_put(GDBM_FILE db, const char *domain, time_t expires, const dmarcpolicy_result *r)
{
	char buf[512];
	int n = snprintf(buf, sizeof buf, "%lld %d %d %s", (long long)expires, (int)r->policy,
			 r->strict_dkim, r->where[0] ? r->where : "-");
	datum k = {(char *)domain, (int)strlen(domain)}, v = {buf, n};
	if (db && gdbm_store(db, k, v, GDBM_REPLACE) != 0)
		msg_warn("DMARC cache: store failed: %s", gdbm_strerror(gdbm_errno));
}

void dmarcpolicy_lookup(list_ctx *l, const char *domain_in, dmarcpolicy_result *r)
{
	char domain[256];
	size_t dl = strlen(domain_in);
	memset(r, 0, sizeof *r);
	r->policy = DMARC_NONE;
	if (dl == 0 || dl >= sizeof domain)
		return;
	for (size_t i = 0; i <= dl; i++)
		domain[i] = (char)tolower((unsigned char)domain_in[i]);
	GDBM_FILE db = cache_open(l);
	int hit = cache_get(db, domain, l->now, r);
	cachedb_close(db); /* not held over DNS waits */
	if (hit)
		return;
	str org = STR_INIT, name = STR_INIT, err = STR_INIT;
	psl_org_domain(PSL_PATH, domain, &org);
	const char *servers = config_str(l->cf, CF_DNS_SERVERS);
	int timeout = (int)config_int(l->cf, CF_DNS_TIMEOUT);
	long ttl = -1;
	int asked = 0;
	dns_answer a;
	dns_answer_init(&a);
	/* DOMAIN, then each parent down to the organizational domain */
	for (const char *cand = domain; cand && asked < DMARC_WALK; asked++) {
		str_clear(&name);
		str_printf(&name, "_dmarc.%s", cand);
		fml_status st = dns_txt(servers, timeout, 2, name.s, &a, &err);
		if (st == ST_TEMPFAIL) {
			msg_warn("DMARC policy of %s unknown (%s): treated as the strictest",
				 domain, str_c(&err));
			r->policy = DMARC_UNKNOWN;
			break;
		}
		long t = a.ttl >= 0 ? a.ttl : TTL_NEGATIVE;
		if (ttl < 0 || t < ttl)
			ttl = t;
		const char *rec = st == ST_OK ? dmarc_record(&a) : NULL;
		if (rec) {
			parse_record(rec, cand != domain, r);
			snprintf(r->where, sizeof r->where, "%s", cand);
			break;
		}
		if (strcmp(cand, str_c(&org)) == 0)
			break;
		cand = strchr(cand, '.');
		cand = cand ? cand + 1 : NULL;
	}
	if (r->policy == DMARC_UNKNOWN)
		ttl = TTL_UNKNOWN;
	else if (ttl < TTL_MIN)
		ttl = TTL_MIN;
	else if (ttl > TTL_MAX)
		ttl = TTL_MAX;
	db = cache_open(l);
	cache_put(db, domain, l->now + ttl, r);
	cachedb_close(db);
	dns_answer_free(&a);
	str_free(&org);
	str_free(&name);
	str_free(&err);
}
