/*
 * action: what every action module shares about the mail in hand: its
 * addresses (action_addresses, action_is_ours) and where it goes when it leaves
 * var/incoming other than by being removed (action_save).  Failure policy:
 * errors are logged and returned as ST_TEMPFAIL; the item then stays in
 * var/incoming for the next run.
 */
#include "action.h"
#include "mail/addr.h"
#include "mail/verp.h"
#include "util/fs.h"
#include "util/msg.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

fml_status action_save(action_ctx *c, action_mail *m, const char *area, const char *kind, str *path)
{
	char to[4096];
	if (fs_path(to, sizeof to, "%s/%s/%s%s%s", c->l.dir, area, kind ? kind : "",
		    kind ? "." : "", m->it->id) < 0)
		return ST_TEMPFAIL;
	/* the item was not synced when accepted (list/incoming.c): it must be
	 * before it leaves var/incoming for good */
	if (fs_fsync_path(m->it->path) < 0) {
		msg_error("fsync %s: %s", m->it->path, strerror(errno));
		return ST_TEMPFAIL;
	}
	if (rename(m->it->path, to) < 0) {
		msg_error("rename %s to %s: %s", m->it->path, to, strerror(errno));
		return ST_TEMPFAIL;
	}
	char dir[4096];
	if (fs_path(dir, sizeof dir, "%s/%s", c->l.dir, area) < 0 || fs_fsync_dir(dir) != ST_OK)
		return ST_TEMPFAIL;
	if (path)
		str_sets(path, to);
	return ST_OK;
}

void action_mail_free(action_mail *m)
{
	str_free(&m->from);
	str_free(&m->reply);
	str_free(&m->sender);
	str_free(&m->dkim_h);
}

void action_addresses(action_mail *m)
{
	const envelope *e = m->env;
	str tmp = STR_INIT;
	if (m->it->has_sender) {
		m->has_sender = 1;
		str_set(&m->sender, m->it->sender.s, m->it->sender.len);
	} else if (e->has_sender) {
		m->has_sender = 1;
		str_set(&m->sender, e->sender.s, e->sender.len);
	} else {
		const hfield *rp = envelope_get(e, "Return-Path", 0);
		if (rp && addr_parse_path(rp->value.s, rp->value.len, &tmp) == ST_OK) {
			m->has_sender = 1;
			str_set(&m->sender, tmp.s, tmp.len);
		}
	}
	const char *fields[] = {"From", "Reply-To"};
	str *dest[] = {&m->from, &m->reply};
	for (int i = 0; i < 2; i++) {
		const hfield *f = envelope_get(e, fields[i], 0);
		str_clear(dest[i]);
		if (f && !f->bad && addr_parse_first(f->value.s, f->value.len, &tmp) == ST_OK &&
		    !addr_check(tmp.s, tmp.len)) {
			addr_normalize(&tmp);
			str_set(dest[i], tmp.s, tmp.len);
		}
	}
	if (m->reply.len == 0)
		str_set(&m->reply, m->from.s, m->from.len);
	str_free(&tmp);
}

int action_is_ours(action_ctx *c, const char *addr)
{
	const cf_id ours[] = {CF_MAIL_LIST, CF_CONTROL_ADDRESS, CF_MAINTAINER, CF_BOUNCE_ADDRESS};
	for (size_t i = 0; i < sizeof ours / sizeof ours[0]; i++)
		if (addr_equal(addr, config_str(c->l.cf, ours[i])))
			return 1;
	return verp_decode(config_str(c->l.cf, CF_BOUNCE_ADDRESS),
			   config_str(c->l.cf, CF_VERP_DELIMITERS), addr, NULL) >= 0;
}
