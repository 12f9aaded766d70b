/*
 * Golden driver for lib/mail/dsn.c: a bounce (a whole mail) on stdin; out,
 * one line for the report, then one per failed address:
 *
 *   report=yes|no envid=<...>
 *   <addr> orig=<addr>|- status=X.Y.Z kind=hard|soft|delay policy=yes|no how=NAME
 *     diag=<text>
 *
 * Every byte that is not printable ASCII, and '\', is written as \xNN.
 */
#include <stdio.h>
#include <stdlib.h>

#include "mail/dsn.h"
#include "util/str.h"

static void put_escaped(const str *s)
{
	for (size_t i = 0; i < s->len; i++) {
		unsigned char c = (unsigned char)s->s[i];
		if (c < 0x20 || c >= 0x7f || c == '\\')
			printf("\\x%02x", c);
		else
			putchar(c);
	}
}

int main(void)
{
	str in = STR_INIT;
	char buf[65536];
	size_t k;
	while ((k = fread(buf, 1, sizeof buf, stdin)) > 0)
		str_append(&in, buf, k);
	dsn_report rep;
	dsn_init(&rep);
	if (dsn_parse(in.s ? in.s : "", in.len, &rep) != ST_OK) {
		printf("error\n");
		return 1;
	}
	printf("report=%s envid=", rep.report ? "yes" : "no");
	put_escaped(&rep.envid);
	putchar('\n');
	for (size_t i = 0; i < rep.n; i++) {
		const dsn_result *r = &rep.r[i];
		put_escaped(&r->addr);
		printf(" orig=");
		if (r->orig.len)
			put_escaped(&r->orig);
		else
			putchar('-');
		printf(" status=%s kind=%s policy=%s how=%s\n  diag=", r->status,
		       r->kind == DSN_HARD   ? "hard"
		       : r->kind == DSN_SOFT ? "soft"
					     : "delay",
		       r->policy ? "yes" : "no", r->how);
		put_escaped(&r->diag);
		putchar('\n');
	}
	dsn_free(&rep);
	str_free(&in);
	return 0;
}
