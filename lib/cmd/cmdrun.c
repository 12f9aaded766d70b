/*
 * cmdrun: what the command modules share while one command mail runs: the
 * report they append to, the list's text files, membership lookups.  See
 * cmdrun.h.  Failure policy: I/O trouble is returned (ST_TEMPFAIL, or -1
 * from cmdrun_listed) and leaves the whole mail for a later run.
 */
#include "cmdrun.h"
#include "actions/reply.h"
#include "list/members.h"
#include "list/membersdb.h"

#include <stdarg.h>

void cmdrun_say(cmd_run *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	str_vprintf(r->out, fmt, ap);
	va_end(ap);
}

fml_status cmdrun_file(cmd_run *r, const char *name)
{
	str text = STR_INIT;
	fml_status st = reply_template(r->c, name, &text);
	if (st == ST_OK) {
		str_append(r->out, text.s, text.len);
		if (text.len && text.s[text.len - 1] != '\n')
			str_putc(r->out, '\n');
	} else if (st == ST_NOINPUT) {
		cmdrun_say(r, "This list has no %s file.\n", name);
		st = ST_OK;
	}
	str_free(&text);
	return st;
}

int cmdrun_listed(cmd_run *r, const char *file, const char *addr)
{
	int found = 0;
	if (membersdb_lookup(r->c->l.dir, file, addr,
			     (int)config_int(r->c->l.cf, CF_ADDR_CHECK_MAX), &found) != ST_OK)
		return -1;
	return found;
}
