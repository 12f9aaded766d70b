/*
 * Unit tests for lib/cmdparse.c: the command language of command mail.
 * Tables of lines, each parsed alone (ctl mode unless said), checked as
 * "got X, want Y": the command, its canonical name, its arguments (joined
 * by '|'), the error, the echo.  Then the whole-text rules: skipped lines,
 * post mode, the end, confirm anywhere, MAXNUM, MAXLEN, passwords.
 */
#include "unit.h"

#include "mail/addr.h"
#include "cmd/cmdparse.h"
#include "list/digeststate.h"
#include "util/msg.h"
#include "util/str.h"

#define MAXNUM 100
#define MAXLEN 128

typedef struct line_case {
	const char *line;
	cmd_id id;
	const char *name;  /* NULL: do not check */
	const char *args;  /* joined by '|' */
	const char *error; /* CMD_NONE: the reason */
} line_case;

static void parse(const char *text, size_t len, int ctladdr, cmd_script *s)
{
	cmdparse_script_init(s);
	cmdparse_script(text, len, ctladdr, MAXNUM, MAXLEN, s);
}

static void join_args(const cmd_line *c, str *out)
{
	str_clear(out);
	for (size_t i = 0; i < c->nargs; i++) {
		if (i)
			str_putc(out, '|');
		str_append(out, c->args[i].s, c->args[i].len);
	}
}

static int check_line(const line_case *c, int ctladdr)
{
	cmd_script s;
	str a = STR_INIT;
	int bad = 0;

	parse(c->line, strlen(c->line), ctladdr, &s);
	if (s.n != 1) {
		print_error("\"%s\": got %zu entries, want 1\n", c->line, s.n);
		cmdparse_script_free(&s);
		return 1;
	}
	const cmd_line *l = &s.v[0];
	join_args(l, &a);
	if (l->id != c->id) {
		print_error("\"%s\": got id %d (%s), want %d\n", c->line, l->id,
			    l->error ? l->error : "-", c->id);
		bad++;
	} else if (c->id == CMD_NONE) {
		if (!l->error || strcmp(l->error, c->error) != 0) {
			print_error("\"%s\": got error \"%s\", want \"%s\"\n", c->line,
				    l->error ? l->error : "(null)", c->error);
			bad++;
		}
	} else {
		if (l->error) {
			print_error("\"%s\": error \"%s\" on a good line\n", c->line, l->error);
			bad++;
		}
		if (strcmp(str_c(&a), c->args ? c->args : "") != 0) {
			print_error("\"%s\": got args \"%s\", want \"%s\"\n", c->line, str_c(&a),
				    c->args ? c->args : "");
			bad++;
		}
	}
	if (c->name && strcmp(l->name, c->name) != 0) {
		print_error("\"%s\": got name \"%s\", want \"%s\"\n", c->line, l->name, c->name);
		bad++;
	}
	if (!l->name) {
		print_error("\"%s\": NULL name\n", c->line);
		bad++;
	}
	str_free(&a);
	cmdparse_script_free(&s);
	return bad;
}

static int run_lines(const line_case *c, size_t n, int ctladdr)
{
	int bad = 0;
	for (size_t i = 0; i < n; i++)
		bad += check_line(&c[i], ctladdr);
	return bad;
}

/* ---- every user command and alias */

static void test_user_commands(void **state)
{
	static const line_case c[] = {
	    {"help", CMD_HELP, "help", NULL, NULL},
	    {"HELP", CMD_HELP, "help", NULL, NULL},
	    {"Help   ", CMD_HELP, "help", NULL, NULL},
	    {"  \thelp", CMD_HELP, "help", NULL, NULL},
	    {"# help", CMD_HELP, "help", NULL, NULL},
	    {"#help", CMD_HELP, "help", NULL, NULL},
	    {"guide", CMD_GUIDE, "guide", NULL, NULL},
	    {"info", CMD_GUIDE, "guide", NULL, NULL},
	    {"objective", CMD_OBJECTIVE, "objective", NULL, NULL},
	    {"subscribe", CMD_SUBSCRIBE, "subscribe", NULL, NULL},
	    {"subscribe Elena Ivanova", CMD_SUBSCRIBE, "subscribe", "Elena Ivanova", NULL},
	    {"subscribe Elena\tIvanova  ", CMD_SUBSCRIBE, "subscribe", "Elena Ivanova", NULL},
	    {"subscribe \"|/bin/sh\"@x", CMD_SUBSCRIBE, "subscribe", "\"|/bin/sh\"@x", NULL},
	    {"unsubscribe", CMD_UNSUBSCRIBE, "unsubscribe", NULL, NULL},
	    {"bye", CMD_UNSUBSCRIBE, "unsubscribe", NULL, NULL},
	    {"chaddr a@b.example x@Y.Example", CMD_CHADDR, "chaddr", "a@b.example|x@y.example",
	     NULL},
	    {"change-address <a@b.example> x@y.example", CMD_CHADDR, "chaddr",
	     "a@b.example|x@y.example", NULL},
	    {"change a@b.example x@y.example", CMD_CHADDR, "chaddr", "a@b.example|x@y.example",
	     NULL},
	    {"members", CMD_MEMBERS, "members", NULL, NULL},
	    {"member", CMD_MEMBERS, "members", NULL, NULL},
	    {"actives", CMD_ACTIVES, "actives", NULL, NULL},
	    {"active", CMD_ACTIVES, "actives", NULL, NULL},
	    {"summary", CMD_SUMMARY, "summary", NULL, NULL},
	    {"summary last:10", CMD_SUMMARY, "summary", "last:10", NULL},
	    {"summary 1-20", CMD_SUMMARY, "summary", "1-20", NULL},
	    {"status", CMD_STATUS, "status", NULL, NULL},
	    {"stat Elena@Example.ORG", CMD_STATUS, "status", "Elena@example.org", NULL},
	    {"index", CMD_INDEX, "index", NULL, NULL},
	    {"get 1", CMD_GET, "get", "1", NULL},
	    {"get 007", CMD_GET, "get", "7", NULL},
	    {"send 999999999", CMD_GET, "get", "999999999", NULL},
	    {"getfile 2", CMD_GET, "get", "2", NULL},
	    {"sendfile 3", CMD_GET, "get", "3", NULL},
	    {"mget 1-10", CMD_MGET, "mget", "1-10", NULL},
	    {"mget 1,2,5-7 mp", CMD_MGET, "mget", "1,2,5-7|mp", NULL},
	    {"mget2 first-LAST UF", CMD_MGET, "mget", "first-last|uf", NULL},
	    {"mget3 last:5 tgz", CMD_MGET, "mget", "last:5|tgz", NULL},
	    {"msend 3 rfc1153", CMD_MGET, "mget", "3|rfc1153", NULL},
	    {"mget 3 rfc934", CMD_MGET, "mget", "3|rfc934", NULL},
	    {"mget 3 gz", CMD_MGET, "mget", "3|gz", NULL},
	    {"digest 3mp", CMD_DIGEST, "digest", "3mp", NULL},
	    {"matome 0", CMD_DIGEST, "digest", "0", NULL},
	    {"digest 99UF", CMD_DIGEST, "digest", "99uf", NULL},
	    {"digest 12rfc1153", CMD_DIGEST, "digest", "12rfc1153", NULL},
	    {"digest 3rfc1153x", CMD_NONE, "digest", NULL, "bad digest spec"},
	    {"digest 3mpmpmpmpmpmpmpmpmpmpmpmp", CMD_NONE, "digest", NULL, "bad digest spec"},
	    {"undigest", CMD_UNDIGEST, "undigest", NULL, NULL},
	    {"unmatome", CMD_UNDIGEST, "undigest", NULL, NULL},
	    {"skip", CMD_SKIP, "skip", NULL, NULL},
	    {"noskip", CMD_NOSKIP, "noskip", NULL, NULL},
	    {"off", CMD_OFF, "off", NULL, NULL},
	    {"on", CMD_ON, "on", NULL, NULL},
	    {"end", CMD_END, "end", NULL, NULL},
	    {"quit", CMD_END, "end", NULL, NULL},
	    {"EXIT", CMD_END, "end", NULL, NULL},
	    {"approve 20261121.abc-1_2", CMD_APPROVE, "approve", "20261121.abc-1_2", NULL},
	    {"reject 42", CMD_REJECT, "reject", "42", NULL},
	    {"reject 42 off topic,\tsorry", CMD_REJECT, "reject", "42|off topic, sorry", NULL},
	};
	assert_int_equal(run_lines(c, N_ELEMS(c), 1), 0);
}

/* ---- admin commands, both forms */

static void test_admin_commands(void **state)
{
	static const line_case c[] = {
	    {"admin pass s3cret", CMD_ADMIN_PASS, "admin pass", NULL, NULL},
	    {"admin password s3cret", CMD_ADMIN_PASS, "admin pass", NULL, NULL},
	    {"ADMIN PASS s3cret", CMD_ADMIN_PASS, "admin pass", NULL, NULL},
	    {"admin add a@b.example", CMD_ADMIN_ADD, "admin add", "a@b.example", NULL},
	    {"admin add a@b.example m=3mp", CMD_ADMIN_ADD, "admin add", "a@b.example|m=3mp", NULL},
	    {"admin subscribe a@B.example M=3MP s=skip", CMD_ADMIN_ADD, "admin add",
	     "a@b.example|m=3mp|s=skip", NULL},
	    {"admin bye a@b.example", CMD_ADMIN_BYE, "admin bye", "a@b.example", NULL},
	    {"admin unsubscribe a@b.example", CMD_ADMIN_BYE, "admin bye", "a@b.example", NULL},
	    {"admin chaddr a@b.example c@d.example", CMD_ADMIN_CHADDR, "admin chaddr",
	     "a@b.example|c@d.example", NULL},
	    {"admin change a@b.example c@d.example", CMD_ADMIN_CHADDR, "admin chaddr",
	     "a@b.example|c@d.example", NULL},
	    {"admin change-address a@b.example c@d.example", CMD_ADMIN_CHADDR, "admin chaddr",
	     "a@b.example|c@d.example", NULL},
	    {"admin off a@b.example", CMD_ADMIN_OFF, "admin off", "a@b.example", NULL},
	    {"admin on a@b.example", CMD_ADMIN_ON, "admin on", "a@b.example", NULL},
	    {"admin skip a@b.example", CMD_ADMIN_SKIP, "admin skip", "a@b.example", NULL},
	    {"admin noskip a@b.example", CMD_ADMIN_NOSKIP, "admin noskip", "a@b.example", NULL},
	    {"admin digest a@b.example 3mp", CMD_ADMIN_DIGEST, "admin digest", "a@b.example|3mp",
	     NULL},
	    {"admin matome a@b.example 0", CMD_ADMIN_DIGEST, "admin digest", "a@b.example|0", NULL},
	    {"admin members", CMD_ADMIN_MEMBERS, "admin members", NULL, NULL},
	    {"admin member", CMD_ADMIN_MEMBERS, "admin members", NULL, NULL},
	    {"admin actives", CMD_ADMIN_ACTIVES, "admin actives", NULL, NULL},
	    {"admin active", CMD_ADMIN_ACTIVES, "admin actives", NULL, NULL},
	    {"admin log", CMD_ADMIN_LOG, "admin log", NULL, NULL},
	    {"admin log -20", CMD_ADMIN_LOG, "admin log", "-20", NULL},
	    {"admin log -100000", CMD_ADMIN_LOG, "admin log", "-100000", NULL},
	    {"admin log ALL", CMD_ADMIN_LOG, "admin log", "all", NULL},
	    {"admin help", CMD_ADMIN_HELP, "admin help", NULL, NULL},
	    {"admin addadmin a@b.example", CMD_ADMIN_ADDADMIN, "admin addadmin", "a@b.example",
	     NULL},
	    {"admin addpriv a@b.example", CMD_ADMIN_ADDADMIN, "admin addadmin", "a@b.example",
	     NULL},
	    {"admin byeadmin a@b.example", CMD_ADMIN_BYEADMIN, "admin byeadmin", "a@b.example",
	     NULL},
	    {"admin byepriv a@b.example", CMD_ADMIN_BYEADMIN, "admin byeadmin", "a@b.example",
	     NULL},
	    /* the one-line form */
	    {"approve s3cret add a@b.example m=3mp", CMD_ADMIN_ADD, "admin add",
	     "a@b.example|m=3mp", NULL},
	    {"approve s3cret help", CMD_ADMIN_HELP, "admin help", NULL, NULL},
	    {"approve s3cret log all", CMD_ADMIN_LOG, "admin log", "all", NULL},
	    {"Approve s3cret BYE a@b.example", CMD_ADMIN_BYE, "admin bye", "a@b.example", NULL},
	    /* admin errors */
	    {"admin", CMD_NONE, NULL, NULL, "missing admin command"},
	    {"admin frobnicate", CMD_NONE, NULL, NULL, "unknown command"},
	    {"admin pass", CMD_NONE, "admin pass", NULL, "missing argument"},
	    {"admin pass a b", CMD_NONE, "admin pass", NULL, "too many arguments"},
	    {"admin add", CMD_NONE, "admin add", NULL, "missing argument"},
	    {"admin add \"|/bin/sh\"@x", CMD_NONE, "admin add", NULL,
	     "bad address: quoted local part"},
	    {"admin add a@b.example M=3;MP", CMD_NONE, "admin add", NULL, "bad option"},
	    {"admin add a@b.example xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", CMD_NONE, "admin add", NULL,
	     "bad option"},
	    {"admin add a@b.example 1 2 3 4 5 6 7", CMD_ADMIN_ADD, "admin add",
	     "a@b.example|1|2|3|4|5|6|7", NULL},
	    {"admin add a@b.example 1 2 3 4 5 6 7 8", CMD_NONE, "admin add", NULL,
	     "too many arguments"},
	    {"admin bye a@b.example c@d.example", CMD_NONE, "admin bye", NULL,
	     "too many arguments"},
	    {"admin digest a@b.example", CMD_NONE, "admin digest", NULL, "missing argument"},
	    {"admin digest a@b.example 100", CMD_NONE, "admin digest", NULL, "bad digest spec"},
	    {"admin log 20", CMD_NONE, "admin log", NULL, "bad log count"},
	    {"admin log -0", CMD_NONE, "admin log", NULL, "bad log count"},
	    {"admin log -100001", CMD_NONE, "admin log", NULL, "bad log count"},
	    {"admin log -", CMD_NONE, "admin log", NULL, "bad log count"},
	    {"admin log -1x", CMD_NONE, "admin log", NULL, "bad log count"},
	    {"approve s3cret frobnicate", CMD_NONE, NULL, NULL, "unknown command"},
	    {"approve s3cret pass other", CMD_NONE, NULL, NULL, "unknown command"},
	    {"approve s3cret add", CMD_NONE, "admin add", NULL, "missing argument"},
	};
	assert_int_equal(run_lines(c, N_ELEMS(c), 1), 0);
}

/* ---- bad arguments and hostile lines */

static void test_bad_lines(void **state)
{
	static const line_case c[] = {
	    {"frobnicate", CMD_NONE, "", NULL, "unknown command"},
	    {"# this is a comment", CMD_NONE, "", NULL, "unknown command"},
	    {"helpme", CMD_NONE, "", NULL, "unknown command"},
	    {"help me", CMD_NONE, "help", NULL, "too many arguments"},
	    {"get", CMD_NONE, "get", NULL, "missing argument"},
	    {"get ../../etc/passwd", CMD_NONE, "get", NULL, "not an article number"},
	    {"get -1", CMD_NONE, "get", NULL, "not an article number"},
	    {"get 0", CMD_NONE, "get", NULL, "not an article number"},
	    {"get 000", CMD_NONE, "get", NULL, "not an article number"},
	    {"get 1000000000", CMD_NONE, "get", NULL, "not an article number"},
	    {"get 99999999999999999999", CMD_NONE, "get", NULL, "not an article number"},
	    {"get 1x", CMD_NONE, "get", NULL, "not an article number"},
	    {"get +1", CMD_NONE, "get", NULL, "not an article number"},
	    {"get 1 2", CMD_NONE, "get", NULL, "too many arguments"},
	    {"mget", CMD_NONE, "mget", NULL, "missing argument"},
	    {"mget ../../etc/passwd", CMD_NONE, "mget", NULL, "bad range"},
	    {"mget 1-10 zip", CMD_NONE, "mget", NULL, "bad mode"},
	    {"mget 1-10 mp x", CMD_NONE, "mget", NULL, "too many arguments"},
	    {"mget firstlast", CMD_NONE, "mget", NULL, "bad range"},
	    {"mget 1;rm", CMD_NONE, "mget", NULL, "bad range"},
	    {"mget 11111111112222222222333333333344444444445555555555666666666677777", CMD_NONE,
	     "mget", NULL, "bad range"},
	    {"summary none", CMD_NONE, "summary", NULL, "bad range"},
	    {"digest", CMD_NONE, "digest", NULL, "missing argument"},
	    {"digest 100", CMD_NONE, "digest", NULL, "bad digest spec"},
	    {"digest 3zip", CMD_NONE, "digest", NULL, "bad digest spec"},
	    {"digest mp", CMD_NONE, "digest", NULL, "bad digest spec"},
	    {"digest -1", CMD_NONE, "digest", NULL, "bad digest spec"},
	    {"approve ../x", CMD_NONE, "approve", NULL, "bad id"},
	    {"approve", CMD_NONE, "approve", NULL, "missing argument"},
	    {"approve "
	     "12345678901234567890123456789012345678901234567890123456789012345",
	     CMD_NONE, "approve", NULL, "bad id"},
	    {"reject", CMD_NONE, "reject", NULL, "missing argument"},
	    {"confirm xyz", CMD_NONE, "confirm", NULL, "bad confirmation id"},
	    {"confirm", CMD_NONE, "confirm", NULL, "bad confirmation id"},
	    {"chaddr a@b.example", CMD_NONE, "chaddr", NULL, "missing argument"},
	    {"chaddr a@b.example x@y", CMD_NONE, "chaddr", NULL,
	     "bad address: domain needs at least two labels"},
	    {"chaddr a@b.example x@y.example Bcc: evil@z.example", CMD_NONE, "chaddr", NULL,
	     "too many arguments"},
	    {"chaddr a@b.example x@y.example\rBcc: evil@z.example", CMD_NONE, NULL, NULL,
	     "control character in line"},
	    {"status \"|/bin/sh\"@x", CMD_NONE, "status", NULL, "bad address: quoted local part"},
	    {"status <a@b.example", CMD_NONE, "status", NULL,
	     "bad address: bad character in local part"},
	    {"status <>", CMD_NONE, "status", NULL, "bad address: empty address"},
	    {"status a@[127.0.0.1]", CMD_NONE, "status", NULL,
	     "bad address: domain literal refused"},
	    {"help\x1b[31m", CMD_NONE, NULL, NULL, "control character in line"},
	    {"help\x7f", CMD_NONE, NULL, NULL, "control character in line"},
	    {"subscribe Elena\x01", CMD_NONE, NULL, NULL, "control character in line"},
	};
	assert_int_equal(run_lines(c, N_ELEMS(c), 1), 0);
}

/* ---- whole texts: the entries wanted, as "name" or "!error", by ',' */

typedef struct text_case {
	const char *name;
	const char *text;
	size_t len; /* 0: strlen */
	int ctladdr;
	const char *want;
	int ended;
} text_case;

static void describe(const cmd_script *s, str *out)
{
	str_clear(out);
	for (size_t i = 0; i < s->n; i++) {
		if (i)
			str_putc(out, ',');
		if (s->v[i].id == CMD_NONE)
			str_printf(out, "!%s", s->v[i].error);
		else
			str_puts(out, s->v[i].name);
	}
}

static void test_texts(void **state)
{
	static const char nul_text[] = "help\nget 1\0\nmembers\n";
	static const text_case c[] = {
	    {"blank and quoted lines", "\n  \n> help\n  >> get 1\nhelp\n\t\n", 0, 1, "help", 0},
	    {"CRLF", "help\r\nget 1\r\n\r\nmembers\r\n", 0, 1, "help,get,members", 0},
	    {"no final newline", "help\nget 1", 0, 1, "help,get", 0},
	    {"signature --", "help\n--\nget 1\n", 0, 1, "help", 1},
	    {"signature -- ", "help\n-- \nget 1\n", 0, 1, "help", 1},
	    {"signature -- name", "help\n-- Elena\nget 1\n", 0, 1, "help", 1},
	    {"signature CRLF", "help\r\n-- \r\nget 1\r\n", 0, 1, "help", 1},
	    {"not a signature: ---", "help\n---\n", 0, 1, "help,!unknown command", 0},
	    {"not a signature: --x", "--x\n", 0, 1, "!unknown command", 0},
	    {"end", "help\nend\nget 1\n", 0, 1, "help,end", 1},
	    {"quit", "quit\nget 1\n", 0, 1, "end", 1},
	    {"# exit", "# exit\nget 1\n", 0, 1, "end", 1},
	    {"end with args is an error", "end now\nhelp\n", 0, 1, "!too many arguments,help", 0},
	    {"errors go on", "frob\nget x\nhelp\n", 0, 1,
	     "!unknown command,!not an article number,help", 0},
	    {"# alone skipped", "#\n# \nhelp\n", 0, 1, "help", 0},
	    /* post mode: only "#" lines */
	    {"post: text skipped", "Hello all,\nhelp\n# help\nthanks\n", 0, 0, "help", 0},
	    {"post: # get", "#get 3\n#  mget 1-3 mp\n", 0, 0, "get,mget", 0},
	    {"post: bare end is text", "end\n# help\n", 0, 0, "help", 0},
	    {"post: # end", "# end\n# help\n", 0, 0, "end", 1},
	    {"post: signature", "# help\n-- \n# get 1\n", 0, 0, "help", 1},
	    {"post: quoted #", "> # help\n", 0, 0, "", 0},
	    {"post: # unknown", "# frob\n", 0, 0, "!unknown command", 0},
	    {"post: long text line skipped",
	     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	     "x"
	     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n# help\n",
	     0, 0, "help", 0},
	    {"NUL in a line", nul_text, sizeof nul_text - 1, 1,
	     "help,!control character in line,members", 0},
	    {"lone CR", "help\rget 1\n", 0, 1, "!control character in line", 0},
	    {"chaddr then a header line",
	     "chaddr a@b.example x@y.example\r\nBcc: evil@z.example\r\n", 0, 1,
	     "chaddr,!unknown command", 0},
	};
	int bad = 0;
	str d = STR_INIT;
	for (size_t i = 0; i < N_ELEMS(c); i++) {
		cmd_script s;
		parse(c[i].text, c[i].len ? c[i].len : strlen(c[i].text), c[i].ctladdr, &s);
		describe(&s, &d);
		if (strcmp(str_c(&d), c[i].want) != 0 || s.ended != c[i].ended) {
			print_error("%s: got \"%s\" ended %d, want \"%s\" ended %d\n", c[i].name,
				    str_c(&d), s.ended, c[i].want, c[i].ended);
			bad++;
		}
		cmdparse_script_free(&s);
	}
	str_free(&d);
	assert_int_equal(bad, 0);
}

/* ---- confirm ID anywhere, each once */

#define ID1 "0123456789abcdef0123456789abcdef"
#define ID2 "fedcba9876543210fedcba9876543210"

static void test_confirm(void **state)
{
	static const text_case c[] = {
	    {"bare", "confirm " ID1 "\n", 0, 1, "confirm", 0},
	    {"# form", "# confirm " ID1 "\n", 0, 0, "confirm", 0},
	    {"post mode, not #", "please confirm " ID1 " thanks\n", 0, 0, "confirm", 0},
	    {"quoted", "yes\n> confirm " ID1 "\n", 0, 0, "confirm", 0},
	    {"quoted, ctl", "> > confirm " ID1 "\n", 0, 1, "confirm", 0},
	    {"upper case",
	     "CONFIRM "
	     "0123456789ABCDEF0123456789ABCDEF"
	     "\n",
	     0, 1, "confirm", 0},
	    {"twice, once", "confirm " ID1 "\n> confirm " ID1 "\n", 0, 1, "confirm", 0},
	    {"two IDs", "confirm " ID1 "\n> confirm " ID2 "\n", 0, 1, "confirm,confirm", 0},
	    {"two in a line", "x confirm " ID1 " and confirm " ID2 "\n", 0, 0, "confirm,confirm",
	     0},
	    {"after signature", "-- \nElena\n> confirm " ID1 "\n", 0, 1, "confirm", 1},
	    {"after end", "end\n> confirm " ID1 "\n", 0, 1, "end,confirm", 1},
	    {"31 digits", "confirm 0123456789abcdef0123456789abcde\n", 0, 1, "!bad confirmation id",
	     0},
	    {"33 digits", "confirm " ID1 "0\n", 0, 1, "!bad confirmation id", 0},
	    {"not hex", "confirm 0123456789abcdef0123456789abcdeg\n", 0, 1, "!bad confirmation id",
	     0},
	    {"reconfirm is not confirm", "reconfirm " ID1 "\n", 0, 0, "", 0},
	    {"no blank", "confirm:" ID1 "\n", 0, 0, "", 0},
	    {"with help", "help\n> confirm " ID1 "\nget 2\n", 0, 1, "help,confirm,get", 0},
	    {"CRLF", "confirm " ID1 "\r\n", 0, 1, "confirm", 0},
	};
	int bad = 0;
	str d = STR_INIT;
	for (size_t i = 0; i < N_ELEMS(c); i++) {
		cmd_script s;
		parse(c[i].text, strlen(c[i].text), c[i].ctladdr, &s);
		describe(&s, &d);
		if (strcmp(str_c(&d), c[i].want) != 0 || s.ended != c[i].ended) {
			print_error("%s: got \"%s\" ended %d, want \"%s\" ended %d\n", c[i].name,
				    str_c(&d), s.ended, c[i].want, c[i].ended);
			bad++;
		}
		for (size_t k = 0; k < s.n; k++) {
			const cmd_line *l = &s.v[k];
			if (l->id == CMD_CONFIRM &&
			    (l->nargs != 1 || l->args[0].len != 32 ||
			     strspn(l->args[0].s, "0123456789abcdef") != 32)) {
				print_error("%s: confirm entry %zu: bad arg \"%s\"\n", c[i].name, k,
					    str_c(&l->args[0]));
				bad++;
			}
		}
		cmdparse_script_free(&s);
	}
	/* the ID itself */
	cmd_script s;
	const char *t = "> confirm " ID2 "\n";
	parse(t, strlen(t), 0, &s);
	assert_int_equal(s.n, 1);
	assert_string_equal(str_c(&s.v[0].args[0]), ID2);
	assert_string_equal(str_c(&s.v[0].echo), "confirm " ID2);
	cmdparse_script_free(&s);
	str_free(&d);
	assert_int_equal(bad, 0);
}

/* ---- limits */

static void test_maxnum(void **state)
{
	str t = STR_INIT;
	cmd_script s;
	for (int i = 0; i < 10000; i++)
		str_puts(&t, "help\n");
	parse(t.s, t.len, 1, &s);
	assert_int_equal(s.n, 100);
	assert_int_equal(s.skipped, 9900);
	assert_int_equal(s.ended, 0);
	cmdparse_script_free(&s);

	/* error entries count; blank lines are not counted as skipped */
	str_clear(&t);
	str_puts(&t, "frob\nhelp\n\n  \nhelp\n> quoted\nend\n");
	cmdparse_script_init(&s);
	cmdparse_script(t.s, t.len, 1, 2, MAXLEN, &s);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.v[0].id, CMD_NONE);
	assert_int_equal(s.skipped, 3);
	cmdparse_script_free(&s);

	/* maxnum 0: nothing parsed */
	cmdparse_script_init(&s);
	cmdparse_script(t.s, t.len, 1, 0, MAXLEN, &s);
	assert_int_equal(s.n, 0);
	assert_int_equal(s.skipped, 5);
	cmdparse_script_free(&s);

	/* confirm IDs count too */
	str_clear(&t);
	str_puts(&t, "> confirm " ID1 " confirm " ID2 "\nhelp\n");
	cmdparse_script_init(&s);
	cmdparse_script(t.s, t.len, 1, 1, MAXLEN, &s);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.v[0].id, CMD_CONFIRM);
	assert_int_equal(s.skipped, 1);
	cmdparse_script_free(&s);
	str_free(&t);
}

static void test_maxlen(void **state)
{
	str t = STR_INIT;
	cmd_script s;
	/* "subscribe " + 118 = 128 bytes: fits; one more does not */
	str_puts(&t, "subscribe ");
	for (int i = 0; i < 118; i++)
		str_putc(&t, 'x');
	parse(t.s, t.len, 1, &s);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.v[0].id, CMD_SUBSCRIBE);
	cmdparse_script_free(&s);
	str_putc(&t, 'x');
	parse(t.s, t.len, 1, &s);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.v[0].id, CMD_NONE);
	assert_string_equal(s.v[0].error, "line too long");
	assert_int_equal(s.v[0].echo.len, MAXLEN);
	cmdparse_script_free(&s);
	/* with a CRLF: the CR is not counted */
	str_truncate(&t, 128);
	str_puts(&t, "\r\nhelp\r\n");
	parse(t.s, t.len, 1, &s);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.v[0].id, CMD_SUBSCRIBE);
	cmdparse_script_free(&s);
	/* a huge line, then more commands: parsing goes on */
	str_clear(&t);
	for (int i = 0; i < 100000; i++)
		str_puts(&t, "get ");
	str_puts(&t, "\nhelp\n");
	parse(t.s, t.len, 1, &s);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.v[0].error, "line too long");
	assert_int_equal(s.v[1].id, CMD_HELP);
	cmdparse_script_free(&s);
	str_free(&t);
}

/* ---- echo: as written, passwords masked, control bytes '?' */

static void test_echo(void **state)
{
	static const struct {
		const char *text;
		const char *echo;
		const char *password; /* NULL: empty */
	} c[] = {
	    {"# Get   7  ", "Get   7", NULL},
	    {"  help\t", "help", NULL},
	    {"admin pass s3cret", "admin pass ********", "s3cret"},
	    {"admin PASSWORD s3cret", "admin PASSWORD ********", "s3cret"},
	    {"admin pass s3cret s3cret", "admin pass ********", NULL},
	    {"admin pass s3cret\x01", "admin pass ********", NULL},
	    {"approve s3cret add a@b.example", "approve ******** add a@b.example", "s3cret"},
	    {"approve s3cret frob", "approve ******** frob", "s3cret"},
	    {"approve s3cret pass s3cret", "approve ******** pass ********", "s3cret"},
	    {"approve s3cret add a@b.example\x01", "approve ******** add a@b.example?", NULL},
	    {"approve 42", "approve 42", NULL},
	    {"help\x1b[1m\x7f", "help?[1m?", NULL},
	    {"frob\tx", "frob x", NULL},
	};
	int bad = 0;
	for (size_t i = 0; i < N_ELEMS(c); i++) {
		cmd_script s;
		parse(c[i].text, strlen(c[i].text), 1, &s);
		if (s.n != 1) {
			print_error("\"%s\": got %zu entries, want 1\n", c[i].text, s.n);
			bad++;
		} else {
			if (strcmp(str_c(&s.v[0].echo), c[i].echo) != 0) {
				print_error("\"%s\": got echo \"%s\", want \"%s\"\n", c[i].text,
					    str_c(&s.v[0].echo), c[i].echo);
				bad++;
			}
			const char *pw = c[i].password ? c[i].password : "";
			if (strcmp(str_c(&s.v[0].password), pw) != 0) {
				print_error("\"%s\": got password \"%s\", want \"%s\"\n", c[i].text,
					    str_c(&s.v[0].password), pw);
				bad++;
			}
			if (strstr(str_c(&s.v[0].echo), "s3cret")) {
				print_error("\"%s\": password in echo\n", c[i].text);
				bad++;
			}
		}
		cmdparse_script_free(&s);
	}
	/* a too-long admin line is masked too */
	str t = STR_INIT;
	str_puts(&t, "admin pass ");
	for (int i = 0; i < 200; i++)
		str_putc(&t, 'p');
	cmd_script s;
	parse(t.s, t.len, 1, &s);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.v[0].error, "line too long");
	assert_string_equal(str_c(&s.v[0].echo), "admin pass ********");
	cmdparse_script_free(&s);
	assert_null(s.v);
	assert_int_equal(s.n, 0);
	str_free(&t);
	assert_int_equal(bad, 0);
}

/* Every accepted ADDR argument passes the policy. */
static void test_addr_args_checked(void **state)
{
	const char *t = "chaddr <Elena@Example.ORG> x@y.example\nadmin add <A@B.EXAMPLE> m=3\n";
	cmd_script s;
	parse(t, strlen(t), 1, &s);
	assert_int_equal(s.n, 2);
	assert_string_equal(str_c(&s.v[0].args[0]), "Elena@example.org");
	assert_string_equal(str_c(&s.v[1].args[0]), "A@b.example");
	for (size_t i = 0; i < s.n; i++)
		assert_null(addr_check(s.v[i].args[0].s, s.v[i].args[0].len));
	cmdparse_script_free(&s);
}

static void test_digest_spec(void **state)
{
	static const struct {
		const char *s;
		int ok, n;
		const char *mode;
	} c[] = {
	    {"0", 1, 0, ""},	 {"3", 1, 3, ""},     {"99", 1, 99, ""},
	    {"3mp", 1, 3, "mp"}, {"3MP", 1, 3, "mp"}, {"12rfc1153", 1, 12, "rfc1153"},
	    {"1gz", 1, 1, "gz"}, {"100", 0, 0, ""},   {"", 0, 0, ""},
	    {"mp", 0, 0, ""},	 {"3x", 0, 0, ""},    {"-1", 0, 0, ""},
	    {"3 mp", 0, 0, ""},	 {"3mpmp", 0, 0, ""},
	};
	int bad = 0;
	for (size_t i = 0; i < N_ELEMS(c); i++) {
		int n = -1;
		char mode[16] = "?";
		int ok = digeststate_spec(c[i].s, &n, mode);
		if (ok != c[i].ok || (ok && (n != c[i].n || strcmp(mode, c[i].mode) != 0))) {
			print_error("\"%s\": got %d %d \"%s\", want %d %d \"%s\"\n", c[i].s, ok, n,
				    mode, c[i].ok, c[i].n, c[i].mode);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_user_commands),
	    cmocka_unit_test(test_admin_commands),
	    cmocka_unit_test(test_bad_lines),
	    cmocka_unit_test(test_texts),
	    cmocka_unit_test(test_confirm),
	    cmocka_unit_test(test_maxnum),
	    cmocka_unit_test(test_maxlen),
	    cmocka_unit_test(test_echo),
	    cmocka_unit_test(test_addr_args_checked),
	    cmocka_unit_test(test_digest_spec),
	};
	msg_set_stderr(0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
