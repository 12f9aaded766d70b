/*
 * dmarc: the plan for a post's author domain.  See dmarc.h.
 */
#include "dmarc.h"
#include "list/dmarcpolicy.h"
#include "list/incoming.h"
#include "mail/addr.h"
#include "mail/psl.h"
#include "util/msg.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

/* Is DOMAIN one of LIST's blank-separated domains, or under one? */
static int listed(const char *list, const char *domain)
{
	size_t dl = strlen(domain);
	for (const char *p = list; *p;) {
		p += strspn(p, " \t,");
		size_t l = strcspn(p, " \t,");
		if (l && l <= dl && strncasecmp(domain + dl - l, p, l) == 0 &&
		    (l == dl || domain[dl - l - 1] == '.'))
			return 1;
		p += l;
	}
	return 0;
}

/* The value of tag NAME in the tag-list V ("d=example.com; h=from:to"),
 * folding white space removed, into OUT; 0 if absent. */
static int tag(const char *v, const char *name, str *out)
{
	size_t nl = strlen(name);
	str_clear(out);
	for (const char *t = v; *t;) {
		size_t len = strcspn(t, ";");
		const char *k = t;
		while (k < t + len && isspace((unsigned char)*k))
			k++;
		if ((size_t)(t + len - k) > nl && strncasecmp(k, name, nl) == 0) {
			const char *e = k + nl;
			while (e < t + len && isspace((unsigned char)*e))
				e++;
			if (e < t + len && *e == '=') {
				for (e++; e < t + len; e++)
					if (!isspace((unsigned char)*e))
						str_putc(out, *e);
				return 1;
			}
		}
		t += len + (t[len] == ';');
	}
	return 0;
}

int dmarc_signed_fields(const envelope *e, const char *domain, int strict, str *h)
{
	const hfield *f;
	str d = STR_INIT, hv = STR_INIT;
	int found = 0;
	for (size_t i = 0; !found && (f = envelope_get(e, "DKIM-Signature", i)) != NULL; i++) {
		if (!tag(str_c(&f->value), "d", &d) || !psl_aligned(str_c(&d), domain, strict))
			continue;
		found = 1;
		if (h) {
			tag(str_c(&f->value), "h", &hv);
			str_clear(h);
			str_append(h, hv.s, hv.len);
		}
	}
	str_free(&d);
	str_free(&hv);
	return found;
}

void dmarc_decision_free(dmarc_decision *d)
{
	str_free(&d->why);
}

void dmarc_decide(action_ctx *c, const action_mail *m, dmarc_decision *d)
{
	const config *cf = c->l.cf;
	const char *mode = config_str(cf, CF_DMARC_MITIGATION);
	d->plan = DMARC_AS_IS;
	d->signed_aligned = d->strict = 0;
	str_init(&d->why);
	if (strcmp(mode, "never") == 0 || !m->from.len)
		return;
	const char *domain = addr_domain(str_c(&m->from));
	if (!domain || !*domain)
		return;
	/* the list signs for the author's own domain (a list of that domain's
	 * people): its signature passes DMARC as the post is, even under
	 * adkim=s (the domains are equal) */
	if (*config_str(cf, CF_DKIM_SELECTOR) && *config_str(cf, CF_DKIM_PRIVATE_KEY) &&
	    psl_aligned(domain, config_str(cf, CF_DKIM_DOMAIN), 1))
		return;
	if (strcmp(mode, "always") == 0) {
		str_sets(&d->why, "DMARC_MITIGATION always");
	} else if (listed(config_str(cf, CF_DMARC_ADDRESSES), domain)) {
		str_printf(&d->why, "%s is in DMARC_ADDRESSES", domain);
	} else {
		dmarcpolicy_result r;
		dmarcpolicy_lookup(&c->l, domain, &r);
		if (r.policy == DMARC_NONE)
			return;
		d->strict = r.strict_dkim;
		if (r.policy == DMARC_UNKNOWN)
			str_printf(&d->why, "the DMARC policy of %s is unknown (no DNS answer)",
				   domain);
		else
			str_printf(&d->why, "DMARC policy %s for %s (the record of %s)",
				   dmarcpolicy_name(r.policy), domain, r.where);
	}
	d->signed_aligned = config_int(cf, CF_DMARC_UNMODIFIED_WHEN_SIGNED) &&
			    dmarc_signed_fields(m->env, domain, d->strict, NULL);
	d->plan = strcmp(config_str(cf, CF_DMARC_MITIGATE_ACTION), "wrap") == 0 ? DMARC_WRAP
										: DMARC_MUNGE;
}

void dmarc_prefetch(action_ctx *c, const char *id)
{
	if (strcmp(config_str(c->l.cf, CF_DMARC_MITIGATION), "auto") != 0)
		return;
	incoming_item it;
	envelope e;
	envelope_init(&e);
	str from = STR_INIT;
	const hfield *f;
	if (incoming_peek(c->l.dir, id, &it) == ST_OK &&
	    envelope_parse_fd(&e, it.fd, it.mail_start, it.mail_end, NULL) == ST_OK &&
	    (f = envelope_get(&e, "From", 0)) != NULL &&
	    addr_parse_first(f->value.s, f->value.len, &from) == ST_OK) {
		const char *domain = addr_domain(str_c(&from));
		dmarcpolicy_result r;
		if (domain && *domain && !listed(config_str(c->l.cf, CF_DMARC_ADDRESSES), domain))
			dmarcpolicy_lookup(&c->l, domain, &r);
	}
	incoming_close(&it);
	envelope_free(&e);
	str_free(&from);
}
