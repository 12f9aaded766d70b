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
#include "util/sha256.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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

fml_status cmdrun_begin(cmd_run *r)
{
	if (r->retry)
		return ST_OK; /* begun already */
	return cmdrecord_begin(r->rec, r->index);
}

int cmdrun_reply_name(void *run, const char *rcpts, size_t n, const char *subject, char *buf,
		      size_t size)
{
	cmd_run *r = run;
	const char *id = r->m->it->id;
	int len;
	if (r->report) {
		len = snprintf(buf, size, "r.%s.report", id);
		return len > 0 && (size_t)len < size;
	}
	sha256 h;
	char hex[SHA256_HEX];
	sha256_init(&h);
	const char *p = rcpts;
	for (size_t i = 0; i < n; i++, p += strlen(p) + 1)
		sha256_update(&h, p, strlen(p) + 1);
	sha256_update(&h, subject, strlen(subject));
	sha256_hex(&h, hex);
	char key[14];
	snprintf(key, sizeof key, "%.12s\n", hex);
	int same = 0;
	for (const char *k = str_c(&r->names); (k = strstr(k, key)) != NULL; k += 13)
		same++;
	str_puts(&r->names, key);
	len = snprintf(buf, size, "r.%s.%zu.%.12s.%d", id, r->index, key, same);
	return len > 0 && (size_t)len < size;
}
