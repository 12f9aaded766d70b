/*
 * dkimcheck: a post's aligned DKIM signature.  See dkimcheck.h.
 */
#include "dkimcheck.h"
#include "mail/addr.h"
#include "mail/dkimsig.h"
#include "util/msg.h"

int dkimcheck_post(action_ctx *c, action_mail *m, int strict)
{
	const char *domain = addr_domain(str_c(&m->from));
	str why = STR_INIT;
	if (!domain)
		return 0;
	/* from the first field on: the mbox From_ line is no header field */
	int r = dkimsig_verify(m->it->fd, m->env->header_off, m->env->end_off, domain, strict,
			       config_str(c->l.cf, CF_DNS_SERVERS),
			       (int)config_int(c->l.cf, CF_DNS_TIMEOUT), &m->dkim_h, &why);
	if (r != 1)
		msg_info("post from %s: its DKIM signature does not verify: %s", str_c(&m->from),
			 str_c(&why));
	str_free(&why);
	return r;
}
