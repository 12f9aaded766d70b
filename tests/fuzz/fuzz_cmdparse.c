/*
 * libFuzzer target for lib/cmd/cmdparse.c.  The first input byte picks the
 * limits (MAXNUM 1..8, MAXLEN 8..128 or the real 1000), the rest is the
 * text, parsed in ctl mode and in post mode.  Beyond "no crash, no leak,
 * no UB" it checks:
 *   - at most MAXNUM entries; SKIPPED >= 0;
 *   - every echo is at most MAXLEN bytes and holds no byte < 0x20 or 0x7f;
 *   - an error entry has a reason, a command has none; every name is set;
 *   - arguments hold no control byte; ADDR arguments pass addr_check();
 *     NUM arguments are 1..999999999; confirmation IDs are 32 lower-case
 *     hex digits, each ID once;
 *   - an entry with a password has its echo masked.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "cmd/cmdparse.h"
#include "mail/addr.h"
#include "util/str.h"

/* Which arguments of ID are addresses: a bit per argument. */
static unsigned addr_args(cmd_id id)
{
	switch (id) {
	case CMD_CHADDR:
	case CMD_ADMIN_CHADDR:
		return 3;
	case CMD_STATUS:
	case CMD_ADMIN_ADD:
	case CMD_ADMIN_BYE:
	case CMD_ADMIN_OFF:
	case CMD_ADMIN_ON:
	case CMD_ADMIN_SKIP:
	case CMD_ADMIN_NOSKIP:
	case CMD_ADMIN_DIGEST:
	case CMD_ADMIN_ADDADMIN:
	case CMD_ADMIN_BYEADMIN:
		return 1;
	default:
		return 0;
	}
}

static void check_entry(const cmd_script *s, size_t k, long maxlen)
{
	const cmd_line *c = &s->v[k];

	CHECK(c->name != NULL);
	CHECK(c->id >= CMD_NONE && c->id < CMD__COUNT);
	CHECK((c->id == CMD_NONE) == (c->error != NULL));
	CHECK(c->echo.len <= (size_t)maxlen);
	for (size_t i = 0; i < c->echo.len; i++)
		CHECK((unsigned char)c->echo.s[i] >= 0x20 && (unsigned char)c->echo.s[i] != 0x7f);
	CHECK(c->nargs <= CMD_MAXARGS);
	if (c->password.len)
		CHECK(strstr(str_c(&c->echo), "********") != NULL ||
		      c->echo.len + 8 > (size_t)maxlen);
	if (c->id == CMD_NONE)
		return;
	for (size_t a = 0; a < c->nargs; a++) {
		const str *v = &c->args[a];
		for (size_t i = 0; i < v->len; i++)
			CHECK((unsigned char)v->s[i] >= 0x20 && (unsigned char)v->s[i] != 0x7f);
		if (addr_args(c->id) & (1u << a))
			CHECK(addr_check(v->s, v->len) == NULL);
	}
	if (c->id == CMD_GET) {
		CHECK(c->nargs == 1);
		long n = strtol(c->args[0].s, NULL, 10);
		CHECK(n >= 1 && n <= 999999999);
		CHECK(strspn(c->args[0].s, "0123456789") == c->args[0].len);
	}
	if (c->id == CMD_CONFIRM) {
		CHECK(c->nargs == 1 && c->args[0].len == 32);
		CHECK(strspn(c->args[0].s, "0123456789abcdef") == 32);
		for (size_t j = 0; j < k; j++)
			CHECK(s->v[j].id != CMD_CONFIRM ||
			      strcmp(s->v[j].args[0].s, c->args[0].s) != 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	long maxnum = 1 + (data[0] & 7);
	long maxlen = (data[0] & 0x80) ? 1000 : 8 + ((data[0] >> 3) & 15) * 8;
	const char *text = (const char *)data + 1;
	size_t len = size - 1;

	for (int ctl = 0; ctl <= 1; ctl++) {
		cmd_script s;
		cmdparse_script_init(&s);
		cmdparse_script(text, len, ctl, maxnum, maxlen, &s);
		CHECK((long)s.n <= maxnum);
		CHECK(s.skipped >= 0);
		for (size_t k = 0; k < s.n; k++)
			check_entry(&s, k, maxlen);
		cmdparse_script_free(&s);
		CHECK(s.n == 0 && s.v == NULL);
	}
	return 0;
}
