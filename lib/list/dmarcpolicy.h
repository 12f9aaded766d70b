/*
 * dmarcpolicy: the DMARC policy an author's domain publishes (RFC 7489 §6.6.3),
 * looked up by TXT at _dmarc.DOMAIN and then up the tree to the
 * organizational domain (the DMARCbis tree walk, bounded by the Public
 * Suffix List: mail/psl.h; at most DMARC_WALK queries), the first valid
 * record winning: its p= for the domain itself, its sp= (else p=) for a
 * subdomain.  "Valid" is exactly one record starting "v=DMARC1"; a p= that
 * is missing or unknown counts as none.  The answers, negative ones too,
 * are cached in DIR/var/db/dmarc.db (gdbm with its own lock, never synced:
 * a lost entry is asked again) for their TTL, kept between 5 minutes and a
 * day.  No answer at all (a timeout, SERVFAIL) is DMARC_UNKNOWN, logged,
 * and cached for a minute: the caller treats it as the strictest policy.
 */
#ifndef FML_DMARCPOLICY_H
#define FML_DMARCPOLICY_H

#include "list.h"

#define DMARC_WALK 8

typedef enum {
	DMARC_NONE,	  /* no record, or p=none */
	DMARC_QUARANTINE, /* p=quarantine */
	DMARC_REJECT,	  /* p=reject */
	DMARC_UNKNOWN	  /* no answer: treat as the strictest */
} dmarcpolicy_kind;

typedef struct dmarcpolicy_result {
	dmarcpolicy_kind policy;
	int strict_dkim; /* adkim=s: a signature's d= must equal the domain */
	int cached;	 /* answered from the cache */
	char where[256]; /* the domain whose record applies ("" for none) */
} dmarcpolicy_result;

/* DOMAIN's policy, by L's DNS_SERVERS and DNS_TIMEOUT and its cache. */
void dmarcpolicy_lookup(list_ctx *l, const char *domain, dmarcpolicy_result *r);
const char *dmarcpolicy_name(dmarcpolicy_kind p);

#endif
