/*
 * dmarc: how a post leaves the list so that it passes DMARC at the
 * members' providers (RFC 7489).  A list that resends Alice's yahoo.com
 * post with its subject tag and footer breaks her DKIM signature, and its
 * own SPF is not her domain's: a p=reject domain's post then fails DMARC
 * everywhere.  The plan for a post:
 *   - DMARC_AS_IS: the list's usual rewrite (DMARC_MITIGATION never, a
 *     domain that does not enforce DMARC, or an auto-mode list whose
 *     author's domain publishes p=none or nothing);
 *   - DMARC_UNMODIFIED: the author's own valid DKIM signature, aligned
 *     with her From: domain, keeps passing if the list changes nothing it
 *     covers (DMARC_UNMODIFIED_WHEN_SIGNED): no subject tag, no decoration,
 *     only fields that signature does not cover are added (the List-*);
 *   - DMARC_MUNGE or DMARC_WRAP (DMARC_MITIGATE_ACTION): From: becomes the
 *     list's, or the post becomes an attachment of a mail from the list;
 *     either way the article is the list's own mail, which the list's DKIM
 *     signature (queue/dkimsign.h) makes pass DMARC.
 */
#ifndef FML_DMARC_H
#define FML_DMARC_H

#include "action.h"

typedef enum { DMARC_AS_IS, DMARC_UNMODIFIED, DMARC_MUNGE, DMARC_WRAP } dmarc_plan;

typedef struct dmarc_decision {
	dmarc_plan plan;    /* DMARC_AS_IS, DMARC_MUNGE or DMARC_WRAP */
	int signed_aligned; /* the plan mitigates and M carries a DKIM-Signature
			     * aligned with its From: domain (with
			     * DMARC_UNMODIFIED_WHEN_SIGNED on): if it verifies
			     * (proc_ops.dkim_check), the post may go unmodified */
	int strict;	    /* the domain's adkim=s */
	str why;	    /* what decided, for the log */
} dmarc_decision;

/* The plan for post M, the unmodified case left to the caller. */
void dmarc_decide(action_ctx *c, const action_mail *m, dmarc_decision *d);
void dmarc_decision_free(dmarc_decision *d);

/* For the accepted post var/incoming/ID, before the list lock (fml): its
 * From: domain's policy looked up into the cache (DMARC_MITIGATION auto),
 * so that DNS waits happen in parallel, not while the list is locked. */
void dmarc_prefetch(action_ctx *c, const char *id);

/* The h= list of the first DKIM-Signature of E whose d= is aligned (as
 * above) with DOMAIN ("" if none has h=): the fields an unmodified article
 * must not add.  0 when there is no such signature. */
int dmarc_signed_fields(const envelope *e, const char *domain, int strict, str *h);

#endif
