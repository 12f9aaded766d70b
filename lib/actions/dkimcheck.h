/*
 * dkimcheck: does a post's own DKIM signature, aligned with its From:
 * domain, verify (mail/dkimsig.h with the list's DNS_SERVERS)?  For
 * dmarc.h's unmodified delivery; proc_ops.dkim_check of the full
 * processor (libopendkim is not the alias pipe's).
 */
#ifndef FML_DKIMCHECK_H
#define FML_DKIMCHECK_H

#include "action.h"

/* 1: it verifies (its h= into M->dkim_h); 0: no; -1: unknown (no DNS
 * answer for the key). */
int dkimcheck_post(action_ctx *c, action_mail *m, int strict);

#endif
