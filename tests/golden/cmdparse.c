/*
 * Golden driver for lib/cmd/cmdparse.c: the whole input is one mail's command
 * text; per entry out
 *
 *   N name=<canonical>|error admin=0|1 oneline=0|1 echo=<echo>
 *     arg=<arg> ...  password=<set>|-  error=<reason>
 *
 * then "skipped=N ended=0|1".  CMDPARSE_CTL=0 parses in post mode ("# cmd"
 * lines only), CMDPARSE_MAXNUM and CMDPARSE_MAXLEN set the limits (100 and
 * 128).  Output escapes every byte that is not printable ASCII, and '\',
 * as \xNN; a password is never printed, only whether one was found.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cmd/cmdparse.h"
#include "util/str.h"

static void put(const str *s)
{
	for (size_t i = 0; i < s->len; i++) {
		unsigned char ch = (unsigned char)s->s[i];
		if (ch < 0x20 || ch >= 0x7f || ch == '\\')
			printf("\\x%02x", ch);
		else
			putchar(ch);
	}
}

static long env_long(const char *name, long dflt)
{
	const char *v = getenv(name);
	return v && *v ? strtol(v, NULL, 10) : dflt;
}

int main(void)
{
	str in = STR_INIT;
	char buf[65536];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, stdin)) > 0)
		str_append(&in, buf, n);
	cmd_script s;
	cmdparse_script_init(&s);
	cmdparse_script(in.s ? in.s : "", in.len, (int)env_long("CMDPARSE_CTL", 1),
			env_long("CMDPARSE_MAXNUM", 100), env_long("CMDPARSE_MAXLEN", 128), &s);
	for (size_t i = 0; i < s.n; i++) {
		const cmd_line *l = &s.v[i];
		printf("%zu name=%s admin=%d oneline=%d echo=", i + 1,
		       l->id == CMD_NONE ? "error" : l->name, l->admin, l->oneline);
		put(&l->echo);
		printf("\n ");
		for (size_t a = 0; a < l->nargs; a++) {
			printf(" arg=");
			put(&l->args[a]);
		}
		printf(" password=%s", l->password.len ? "<set>" : "-");
		if (l->error)
			printf(" error=%s", l->error);
		printf("\n");
	}
	printf("skipped=%ld ended=%d\n", s.skipped, s.ended);
	cmdparse_script_free(&s);
	str_free(&in);
	return 0;
}
