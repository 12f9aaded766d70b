/*
 * makefml: the list administrator's tool.
 *
 *   makefml [-D ML_DIR] [-d] [--NAME=value]... CMD LIST [ARGS]
 *
 *   newml LIST [DOMAIN]          make ML_DIR/LIST; print the aliases lines
 *   add LIST ADDR [OPTS...]      members and actives (OPTS go to actives)
 *   add LIST -                   the same for each line "ADDR [OPTS...]" of stdin
 *   bye LIST ADDR                both files: the line becomes "##BYE addr"
 *   on|off|skip|noskip LIST ADDR actives
 *   digest LIST ADDR N[mode]     actives: m=N[mode], 0 stops the digest
 *   chaddr LIST OLD NEW          both files
 *   addadmin|byeadmin LIST ADDR  members-admin (byeadmin drops the password)
 *   passwd LIST ADDR             admin password from stdin -> etc/passwd
 *   command LIST ADDR CMD...     run a mail command as ADDR (report printed)
 *   members|actives LIST         the entries that are not ##BYE
 *   config LIST [NAME [VALUE]]   effective values and their source; set one
 *   check LIST                   list home sanity (exit 65 with a report)
 *   archive LIST [RANGE]         the articles as one mboxrd file on stdout
 *   destructml LIST              rename the home aside (never deletes)
 *
 * Run as root, makefml becomes the owner of ML_DIR (newml) or of the list
 * home before touching anything.  Member files and config.cf are changed
 * under the list lock and replaced atomically; each change is logged in the
 * list's log as "makefml CMD ARGS".  Exit statuses (sysexits): 0 done, 64 bad
 * usage, 65 refused (bad address, already a member, a bad value, check found
 * problems), 66 no such list, 75 local trouble (lock, I/O, broken config),
 * 77 refused for privileges.  The logic lives in lib/ (members, newml,
 * cfedit, homecheck, adminpw); this file is options and dispatch.
 */
#include "proc/procfull.h"
#include "actions/htmlarch.h"
#include "actions/person.h"
#include "actions/contentrule.h"
#include "actions/bounce.h"
#include "actions/digest.h"
#include "actions/distribute.h"
#include "list/ban.h"
#include "mail/dkimkey.h"
#include "queue/dkimsign.h"
#include "queue/runner.h"
#include "list/adminpw.h"
#include "list/archunit.h"
#include "list/seq.h"
#include "list/bundle.h"
#include "list/bundlewrite.h"
#include "list/cfedit.h"
#include "list/config.h"
#include "list/home.h"
#include "list/oneclick.h"
#include "list/vacation.h"
#include "list/homecheck.h"
#include "list/incoming.h"
#include "list/members.h"
#include "list/membercsv.h"
#include "list/migrate.h"
#include "list/newml.h"
#include "list/roster.h"
#include "mail/addr.h"
#include "util/date.h"
#include "util/fs.h"
#include "util/lock.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/privs.h"
#include "util/safefile.h"
#include "util/status.h"
#include "list/membersedit.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <termios.h>
#include <unistd.h>

#define MAX_OVER 64

typedef struct ctx {
	const char *cmd;
	const char *ml_dir;
	const char *name;
	char dir[PATH_MAX];
	char **args;
	int nargs;
	config *cf;
	config_args ca;
	int fuzzy;
	str err;
} ctx;

typedef fml_status (*cmd_fn)(ctx *c);

static fml_status cmd_newml(ctx *c);
static fml_status cmd_add(ctx *c);
static fml_status cmd_bye(ctx *c);
static fml_status cmd_actives_op(ctx *c);
static fml_status cmd_chaddr(ctx *c);
static fml_status cmd_admin(ctx *c);
static fml_status cmd_passwd(ctx *c);
static fml_status cmd_print(ctx *c);
static fml_status cmd_config(ctx *c);
static fml_status cmd_check(ctx *c);
static fml_status cmd_destructml(ctx *c);
static fml_status cmd_command(ctx *c);
static fml_status cmd_archive(ctx *c);
static fml_status cmd_bounces(ctx *c);
static fml_status cmd_dkim(ctx *c);
static fml_status cmd_htmlify(ctx *c);
static fml_status cmd_migrate(ctx *c);
static fml_status cmd_export_member(ctx *c);
static fml_status cmd_export(ctx *c);
static fml_status cmd_import(ctx *c);
static fml_status cmd_forget(ctx *c);

static const struct command {
	const char *name;
	int min, max; /* ARGS after LIST */
	int lock;     /* changes the home: under the list lock */
	cmd_fn fn;
	const char *args;
} commands[] = {
    {"newml", 0, 1, 0, cmd_newml, "[DOMAIN]"},
    {"migrate", 0, 0, 0, cmd_migrate, ""}, /* an fml 4 home: no config.cf yet */
    {"add", 1, 8, 1, cmd_add, "ADDR [OPTS...] | -"},
    {"bye", 1, 1, 1, cmd_bye, "ADDR | -"},
    {"on", 1, 1, 1, cmd_actives_op, "ADDR"},
    {"off", 1, 2, 1, cmd_actives_op, "ADDR [DAYS]"},
    {"skip", 1, 1, 1, cmd_actives_op, "ADDR"},
    {"noskip", 1, 1, 1, cmd_actives_op, "ADDR"},
    {"digest", 2, 2, 1, cmd_actives_op, "ADDR N[mode]"},
    {"chaddr", 2, 2, 1, cmd_chaddr, "OLD NEW"},
    {"addadmin", 1, 1, 1, cmd_admin, "ADDR"},
    {"byeadmin", 1, 1, 1, cmd_admin, "ADDR"},
    {"passwd", 1, 1, 0, cmd_passwd, "ADDR"},		      /* locks after reading stdin */
    {"command", 2, 16, 0, cmd_command, "ADDR CMD [ARGS...]"}, /* locks in proc_drain's caller */
    {"members", 0, 0, 0, cmd_print, ""},
    {"actives", 0, 0, 0, cmd_print, ""},
    {"config", 0, 2, 0, cmd_config, "[NAME [VALUE]]"},
    {"check", 0, 0, 0, cmd_check, ""},
    {"archive", 0, 1, 0, cmd_archive, "[RANGE]"}, /* reads only: no lock */
    {"bounces", 0, 2, 1, cmd_bounces, "[--reset ADDR]"},
    {"dkim", 0, 1, 0, cmd_dkim, "[SELECTOR]"},		   /* locks to set the variables */
    {"htmlify", 0, 0, 0, cmd_htmlify, ""},		   /* the archive's own lock */
    {"export-member", 1, 1, 0, cmd_export_member, "ADDR"}, /* reads only */
    {"export", 0, 0, 0, cmd_export, ""},		   /* reads only */
    {"import", 0, 1, 1, cmd_import, "[-]"},
    {"forget", 1, 1, 1, cmd_forget, "ADDR"},
    {"destructml", 0, 0, 1, cmd_destructml, ""},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *fp)
{
	fprintf(fp, "usage: makefml [-D ML_DIR] [-d] [--NAME=value]... CMD LIST [ARGS]\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(fp, "       makefml %s LIST%s%s\n", commands[i].name,
			*commands[i].args ? " " : "", commands[i].args);
}

/* One line for the list's log (not echoed: the caller prints its own). */
static void log_change(ctx *c, const char *what)
{
	msg_set_stderr(0);
	msg_info("makefml %s", what);
	msg_set_stderr(1);
}

static fml_status refuse(ctx *c, fml_status st)
{
	if (c->nargs > 0 && strcmp(c->cmd, "newml") != 0 && strcmp(c->cmd, "config") != 0)
		msg_error("%s %s %s: %s", c->cmd, c->name, c->args[0], str_c(&c->err));
	else
		msg_error("%s %s: %s", c->cmd, c->name, str_c(&c->err));
	return st;
}

/* The list lock with the list's settings; ERR says why not. */
static fml_status lock_list(ctx *c, fml_lock *lk, const char *why)
{
	fml_status st = lock_acquire(lk, c->dir, (int)config_int(c->cf, CF_USE_FLOCK),
				     (long)config_int(c->cf, CF_LOCK_TIMEOUT),
				     (long)config_int(c->cf, CF_LOCK_STALE_AGE));
	if (st != ST_OK)
		str_sets(&c->err, why);
	return st;
}

/* ---- members and actives */

/* What roster_add/roster_both did, or why not. */
static fml_status report_roster(ctx *c, fml_status st, const char *addr, const char *arg,
				const str *where)
{
	if (st != ST_OK)
		return refuse(c, st);
	str line = STR_INIT;
	str_printf(&line, "%s %s%s%s", c->cmd, addr, arg && *arg ? " " : "", arg ? arg : "");
	log_change(c, line.s);
	if (strcmp(c->cmd, "add") == 0)
		printf("%s: added to %s\n", addr, str_c(where));
	else
		printf("%s: %s in %s\n", addr, c->cmd, str_c(where));
	str_free(&line);
	return ST_OK;
}

/* All of stdin into OUT. */
static fml_status read_stdin(str *out)
{
	for (;;) {
		str_reserve(out, 65536);
		ssize_t n = read(0, out->s + out->len, out->cap - out->len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			msg_error("read stdin: %s", strerror(errno));
			return ST_TEMPFAIL;
		}
		if (n == 0)
			return ST_OK;
		out->len += (size_t)n;
		out->s[out->len] = 0;
	}
}

static void report_refused(long lineno, const char *addr, const char *why, void *arg)
{
	ctx *c = arg;
	fprintf(stderr, "makefml: %s %s: line %ld: %s: %s\n", c->cmd, c->name, lineno, addr, why);
}

/* The lines of stdin through FN (roster_add_many, roster_bye_many,
 * membercsv_import: all under this one lock); WHAT names the run in the
 * log ("add -"), DONE what became of the lines ("added to", "removed
 * from"), AGAIN what feeding the same input again does. */
typedef fml_status (*bulk_fn)(const char *dir, const config *cf, const char *text, size_t len,
			      roster_refuse_fn refuse, void *arg, long *n);

static fml_status bulk(ctx *c, bulk_fn fn, const char *what, const char *done, const char *again)
{
	str in = STR_INIT, line = STR_INIT;
	long n = 0;
	fml_status st = read_stdin(&in);
	if (st == ST_OK)
		st = fn(c->dir, c->cf, in.s ? in.s : "", in.len, report_refused, c, &n);
	str_free(&in);
	if (st == ST_TEMPFAIL) {
		str_printf(&c->err,
			   "stopped by local trouble (see the log); the same input can be fed "
			   "again: %s",
			   again);
		return refuse(c, st);
	}
	str_printf(&line, "%s (%ld %.*s)", what, n, (int)strcspn(done, " "), done);
	log_change(c, line.s);
	printf("%ld %s members and actives%s\n", n, done,
	       st == ST_OK ? "" : "; the lines above were refused");
	str_free(&line);
	return st;
}

static fml_status cmd_add(ctx *c)
{
	if (c->nargs == 1 && strcmp(c->args[0], "-") == 0)
		return bulk(c, roster_add_many, "add -", "added to",
			    "what was added is refused as already a member");
	str opts = STR_INIT, where = STR_INIT;
	for (int i = 1; i < c->nargs; i++)
		str_printf(&opts, "%s%s", opts.len ? " " : "", c->args[i]);
	fml_status st = roster_add(c->dir, c->cf, c->args[0], str_c(&opts), &c->err, &where);
	/* a new member starts with no bounce record */
	if (st == ST_OK && bounce_reset(c->dir, c->args[0]) == ST_TEMPFAIL)
		st = ST_TEMPFAIL;
	st = report_roster(c, st, c->args[0], str_c(&opts), &where);
	str_free(&opts);
	str_free(&where);
	return st;
}

static fml_status cmd_bye(ctx *c)
{
	if (strcmp(c->args[0], "-") == 0)
		return bulk(c, roster_bye_many, "bye -", "removed from",
			    "what was removed is refused as not a member");
	str where = STR_INIT;
	fml_status st = roster_both(c->dir, c->cf, MEM_BYE, c->args[0], NULL, &c->err, &where);
	st = report_roster(c, st, c->args[0], NULL, &where);
	str_free(&where);
	return st;
}

static fml_status cmd_chaddr(ctx *c)
{
	const char *why = addr_check(c->args[1], strlen(c->args[1]));
	if (why) {
		str_printf(&c->err, "bad new address: %s", why);
		return refuse(c, ST_DATAERR);
	}
	str where = STR_INIT;
	fml_status st =
	    roster_both(c->dir, c->cf, MEM_CHADDR, c->args[0], c->args[1], &c->err, &where);
	st = report_roster(c, st, c->args[0], c->args[1], &where);
	str_free(&where);
	return st;
}

static fml_status cmd_actives_op(ctx *c)
{
	static const struct {
		const char *cmd;
		membersedit_op op;
	} ops[] = {{"on", MEM_ON},
		   {"off", MEM_OFF},
		   {"skip", MEM_SKIP},
		   {"noskip", MEM_NOSKIP},
		   {"digest", MEM_DIGEST}};
	membersedit_op op = MEM_ON;
	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
		if (strcmp(c->cmd, ops[i].cmd) == 0)
			op = ops[i].op;
	const char *arg = c->nargs > 1 ? c->args[1] : NULL;
	char until[11] = "";
	fml_status st;
	if (op == MEM_DIGEST) { /* the digest state too, and "digest 0" mails what was pending */
		action_ctx pc = {.l = {.dir = c->dir, .cf = c->cf, .now = time(NULL)}};
		if ((st = digest_set(&pc, c->args[0], arg, &c->err)) == ST_OK)
			runner_kick(c->dir, c->cf);
	} else if (op == MEM_OFF && arg) { /* off for a while: a vacation */
		long days = vacation_days(arg, strlen(arg));
		if (!days) {
			str_sets(&c->err, "bad number of days (1d to 366d, or 1w to 52w)");
			return refuse(c, ST_DATAERR);
		}
		st = vacation_begin(c->dir, c->cf, c->args[0], days, time(NULL), until, &c->err);
	} else {
		st = membersedit_apply(c->dir, "actives", op, c->args[0], arg, c->fuzzy, &c->err);
	}
	/* back on: its bounce record starts again */
	if (st == ST_OK && op == MEM_ON && bounce_reset(c->dir, c->args[0]) == ST_TEMPFAIL)
		st = ST_TEMPFAIL;
	if (st != ST_OK)
		return refuse(c, st);
	str line = STR_INIT;
	str_printf(&line, "%s %s%s%s", c->cmd, c->args[0], arg ? " " : "", arg ? arg : "");
	log_change(c, line.s);
	printf("%s: %s%s%s in actives%s%s%s\n", c->args[0], c->cmd, arg ? " " : "", arg ? arg : "",
	       *until ? " (until " : "", until, *until ? ")" : "");
	str_free(&line);
	return ST_OK;
}

/* ---- bounces: the records (actions/bounce.h) */

static fml_status cmd_bounces(ctx *c)
{
	if (c->nargs == 0)
		return bounce_show(c->dir, stdout) == ST_OK ? ST_OK : refuse(c, ST_TEMPFAIL);
	if (c->nargs != 2 || strcmp(c->args[0], "--reset") != 0) {
		str_sets(&c->err, "usage: bounces [--reset ADDR]");
		return refuse(c, ST_USAGE);
	}
	fml_status st = bounce_reset(c->dir, c->args[1]);
	if (st == ST_NOINPUT)
		str_printf(&c->err, "%s has no bounce record", c->args[1]);
	if (st != ST_OK)
		return refuse(c, st == ST_NOINPUT ? ST_DATAERR : st);
	str line = STR_INIT;
	str_printf(&line, "bounces --reset %s", c->args[1]);
	log_change(c, line.s);
	str_free(&line);
	printf("%s: bounce record taken back\n", c->args[1]);
	return ST_OK;
}

/* ---- remote administrators: members-admin and etc/passwd */

static fml_status cmd_admin(ctx *c)
{
	const char *addr = c->args[0], *why;
	int add = strcmp(c->cmd, "addadmin") == 0;
	if (add && (why = addr_check(addr, strlen(addr)))) {
		str_printf(&c->err, "bad address: %s", why);
		return refuse(c, ST_DATAERR);
	}
	/* the password goes first: a failure half-way leaves less power, not more */
	if (!add && adminpw_remove(c->dir, addr) != ST_OK) {
		str_sets(&c->err, "cannot remove the password from etc/passwd");
		return refuse(c, ST_TEMPFAIL);
	}
	fml_status st = membersedit_apply(c->dir, "members-admin", add ? MEM_ADD : MEM_BYE, addr,
					  NULL, c->fuzzy, &c->err);
	if (st != ST_OK)
		return refuse(c, st);
	str line = STR_INIT;
	str_printf(&line, "%s %s", c->cmd, addr);
	log_change(c, line.s);
	str_free(&line);
	printf("%s: %s members-admin%s\n", addr, add ? "added to" : "bye in",
	       add ? "" : " (password removed)");
	return ST_OK;
}

/* The first line of stdin, without echo on a terminal. */
static fml_status read_password(ctx *c, char **pw)
{
	struct termios old, quiet;
	int tty = isatty(0) && tcgetattr(0, &old) == 0;
	char *line = NULL;
	size_t cap = 0;
	if (tty) {
		fputs("Password: ", stderr);
		fflush(stderr);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		tcsetattr(0, TCSAFLUSH, &quiet);
	}
	ssize_t n = getline(&line, &cap, stdin);
	if (tty) {
		tcsetattr(0, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (n > 0 && line[n - 1] == '\n')
		line[--n] = 0;
	fml_status st = ST_OK;
	if (n <= 0)
		str_sets(&c->err, "empty password");
	else if ((size_t)n != strlen(line))
		str_sets(&c->err, "NUL byte in the password");
	if (n <= 0 || (size_t)n != strlen(line)) {
		st = ST_DATAERR;
		if (line)
			explicit_bzero(line, cap);
		free(line);
		line = NULL;
	}
	*pw = line;
	return st;
}

static fml_status cmd_passwd(ctx *c)
{
	const char *addr = c->args[0], *why;
	char *pw = NULL;
	if ((why = addr_check(addr, strlen(addr)))) {
		str_printf(&c->err, "bad address: %s", why);
		return refuse(c, ST_DATAERR);
	}
	fml_status st = read_password(c, &pw);
	if (st != ST_OK)
		return refuse(c, st);
	/* the terminal is read before the lock is taken, not while holding it */
	fml_lock lk;
	if ((st = lock_list(c, &lk, "the list is locked; try again later")) == ST_OK) {
		st = adminpw_set(c->dir, addr, pw);
		lock_release(&lk);
		if (st != ST_OK)
			str_sets(&c->err, "cannot write etc/passwd");
	}
	explicit_bzero(pw, strlen(pw));
	free(pw);
	if (st != ST_OK)
		return refuse(c, st);
	str line = STR_INIT;
	str_printf(&line, "passwd %s", addr); /* never the password */
	log_change(c, line.s);
	str_free(&line);
	printf("%s: password set\n", addr);
	return ST_OK;
}

static int print_entry(const char *line, size_t len, long lineno, void *arg)
{
	member_entry *e = arg;
	if (members_parse_line(line, len, e, NULL, NULL) && !e->bye) {
		fwrite(line, 1, len, stdout);
		putchar('\n');
	}
	return 0;
}

static fml_status cmd_print(ctx *c)
{
	char path[PATH_MAX];
	member_entry e;
	if (fs_path(path, sizeof path, "%s/%s", c->dir, c->cmd) < 0)
		return ST_TEMPFAIL;
	members_entry_init(&e);
	fml_status st = members_foreach_line(path, print_entry, &e);
	members_entry_free(&e);
	if (fflush(stdout) != 0)
		st = ST_TEMPFAIL;
	return st;
}

/* ---- config */

static void print_var(const char *name, const char *value, const char *source, void *arg)
{
	printf("%s = %s  # %s\n", name, value, source);
}

static fml_status show_var(ctx *c, const char *name)
{
	const char *v = config_get(c->cf, name);
	if (!v) {
		str_printf(&c->err, "unknown variable %s", name);
		return refuse(c, ST_DATAERR);
	}
	print_var(name, v, config_source(c->cf, name), NULL);
	return ST_OK;
}

/* CONTENT_HANDLER's rules parse (a list with rules that do not holds its
 * posts back); -1 with the reason in ERR. */
static int content_rules_ok(const char *rules, str *err)
{
	contentrule_set r;
	if (contentrule_parse(rules, &r, err) < 0)
		return -1;
	contentrule_free(&r);
	return 0;
}

static fml_status set_var(ctx *c, const char *name, const char *value)
{
	char path[PATH_MAX];
	str old = STR_INIT, why = STR_INIT;
	fml_status st;

	if (config_id(name) < 0) {
		if (config_get(c->cf, name))
			str_printf(&c->err, "%s is not a variable config.cf may set", name);
		else
			str_printf(&c->err, "unknown variable %s (see fml.cf(5))", name);
		return refuse(c, ST_DATAERR);
	}
	if (strcmp(name, "CONTENT_HANDLER") == 0 && content_rules_ok(value, &c->err) < 0)
		return refuse(c, ST_DATAERR);
	if (config_set(c->cf, name, value, &why) != ST_OK) {
		const char *w = str_c(&why);
		if (strncmp(w, "command line: ", 14) == 0)
			w += 14;
		str_printf(&c->err, "%s", w);
		str_free(&why);
		return refuse(c, ST_DATAERR);
	}
	if (fs_path(path, sizeof path, "%s/config.cf", c->dir) < 0)
		return ST_TEMPFAIL;
	st = fs_read(path, &old, 0);
	int had = st == ST_OK;
	if (st != ST_OK && st != ST_NOINPUT)
		return refuse(c, ST_TEMPFAIL);
	if ((st = cfedit_set(path, name, value, &c->err)) != ST_OK) {
		str_free(&old);
		return refuse(c, st);
	}
	/* the whole cascade must still load; else put the old file back */
	if (config_load(c->cf, &c->ca, &why) != ST_OK) {
		if (had)
			safefile_replace(path, old.s ? old.s : "", old.len, 1);
		else
			unlink(path);
		str_printf(&c->err, "config.cf no longer loads (%s): left as it was", str_c(&why));
		str_free(&old);
		str_free(&why);
		return refuse(c, ST_DATAERR);
	}
	str line = STR_INIT;
	str_printf(&line, "config %s %s", name, value);
	log_change(c, line.s);
	str_free(&line);
	show_var(c, name);
	const char *src = config_source(c->cf, name);
	if (!strstr(src, "/config.cf:"))
		msg_warn("%s is set by %s, which overrides config.cf", name, src);
	str_free(&old);
	str_free(&why);
	return ST_OK;
}

static fml_status cmd_config(ctx *c)
{
	if (c->nargs == 0) {
		config_foreach(c->cf, print_var, NULL);
		return fflush(stdout) == 0 ? ST_OK : ST_TEMPFAIL;
	}
	if (c->nargs == 1)
		return show_var(c, c->args[0]);
	fml_lock lk;
	fml_status st = lock_list(c, &lk, "the list is locked; try again later");
	if (st != ST_OK)
		return refuse(c, st);
	st = set_var(c, c->args[0], c->args[1]);
	lock_release(&lk);
	return st;
}

/* ---- dkim */

/* TXT as the strings of a DNS TXT record (at most 255 bytes each) */
static void print_txt(const char *name, const str *txt)
{
	printf("%s IN TXT (", name);
	for (size_t i = 0; i < txt->len; i += 250)
		printf(" \"%.*s\"", (int)(txt->len - i < 250 ? txt->len - i : 250), txt->s + i);
	printf(" )\n");
}

/* makefml dkim LIST [SELECTOR]: an RSA and an Ed25519 key pair under
 * etc/dkim/, the DKIM_* variables set, and the DNS records to publish. */
static fml_status cmd_dkim(ctx *c)
{
	char sel[64], dir[PATH_MAX], rsa[PATH_MAX], ed[PATH_MAX], edsel[80];
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	if (c->nargs)
		snprintf(sel, sizeof sel, "%s", c->args[0]);
	else
		strftime(sel, sizeof sel, "fml%Y%m", &tm);
	if (!sel[0] ||
	    strspn(sel, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") !=
		strlen(sel) ||
	    strlen(sel) > 50) {
		str_printf(&c->err, "selector %s: letters, digits and - only", sel);
		return refuse(c, ST_USAGE);
	}
	snprintf(edsel, sizeof edsel, "%s-ed", sel);
	if (fs_path(dir, sizeof dir, "%s/etc/dkim", c->dir) < 0 ||
	    fs_path(rsa, sizeof rsa, "%s/%s.rsa.pem", dir, sel) < 0 ||
	    fs_path(ed, sizeof ed, "%s/%s.ed25519.pem", dir, edsel) < 0)
		return refuse(c, ST_TEMPFAIL);
	if (fs_exists(rsa) || fs_exists(ed)) {
		str_printf(&c->err, "a key for selector %s exists already (%s): choose another",
			   sel, rsa);
		return refuse(c, ST_DATAERR);
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		str_printf(&c->err, "mkdir %s: %s", dir, strerror(errno));
		return refuse(c, ST_TEMPFAIL);
	}
	str pem = STR_INIT, txt = STR_INIT, edpem = STR_INIT, edtxt = STR_INIT;
	fml_status st = dkimkey_make(0, 2048, &pem, &txt, &c->err);
	if (st == ST_OK)
		st = dkimkey_make(1, 0, &edpem, &edtxt, &c->err);
	if (st == ST_OK)
		st = safefile_replace(rsa, pem.s, pem.len, 1);
	if (st == ST_OK)
		st = safefile_replace(ed, edpem.s, edpem.len, 1);
	fml_lock lk;
	int told = 0; /* set_var() said what failed */
	if (st == ST_OK &&
	    (st = lock_list(c, &lk, "the list is locked; try again later")) == ST_OK) {
		char rel[PATH_MAX];
		snprintf(rel, sizeof rel, "etc/dkim/%s.rsa.pem", sel);
		st = set_var(c, "DKIM_PRIVATE_KEY", rel);
		snprintf(rel, sizeof rel, "etc/dkim/%s.ed25519.pem", edsel);
		if (st == ST_OK)
			st = set_var(c, "DKIM_PRIVATE_KEY_ED25519", rel);
		if (st == ST_OK)
			st = set_var(c, "DKIM_SELECTOR_ED25519", edsel);
		if (st == ST_OK)
			st = set_var(c, "DKIM_SELECTOR", sel);
		told = st != ST_OK;
		lock_release(&lk);
	}
	if (st == ST_OK) {
		char name[512];
		const char *domain = config_str(c->cf, CF_DKIM_DOMAIN);
		printf("\nThe list signs its mail from now on.  Publish in the DNS of %s:\n\n",
		       domain);
		snprintf(name, sizeof name, "%s._domainkey.%s.", sel, domain);
		print_txt(name, &txt);
		snprintf(name, sizeof name, "%s._domainkey.%s.", edsel, domain);
		print_txt(name, &edtxt);
		printf("\nand, if %s has none yet, a DMARC record such as\n"
		       "_dmarc.%s. IN TXT \"v=DMARC1; p=none; rua=mailto:postmaster@%s\"\n",
		       domain, domain, domain);
	} else if (!c->err.len) {
		str_printf(&c->err, "cannot write the keys under %s", dir);
	}
	str_free(&pem);
	str_free(&txt);
	str_free(&edpem);
	str_free(&edtxt);
	return st == ST_OK || told ? st : refuse(c, st);
}

/* ---- check, destructml, newml */

/* Edit distance of A and B (both short names), for "did you mean". */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[128];
	if (la >= sizeof row || lb >= sizeof row)
		return (size_t)-1;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t prev = row[0]++;
		for (size_t j = 1; j <= lb; j++) {
			size_t cur = row[j];
			size_t best = prev + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = cur;
		}
	}
	return row[lb];
}

struct unused {
	str *report;
	int problems;
};

static void report_unused(const char *name, const char *source, void *arg)
{
	struct unused *u = arg;
	const char *near = NULL;
	size_t best = 3; /* at most two edits away */
	for (int i = 0; i < CF__COUNT; i++) {
		size_t d = distance(name, config_table[i].name);
		if (d < best) {
			best = d;
			near = config_table[i].name;
		}
	}
	str_printf(u->report,
		   "problem: %s: %s is not a variable of fml and no value uses it%s%s%s\n", source,
		   name, near ? " (did you mean " : "", near ? near : "", near ? "?)" : "");
	u->problems++;
}

static fml_status cmd_check(ctx *c)
{
	str report = STR_INIT, why = STR_INIT;
	int problems = homecheck_run(&c->ca, &report);
	struct unused u = {&report, 0};
	config_unused(c->cf, report_unused, &u);
	problems += u.problems;
	if (content_rules_ok(config_str(c->cf, CF_CONTENT_HANDLER), &why) < 0) {
		str_printf(&report, "problem: %s: posts wait in var/incoming until it is fixed\n",
			   str_c(&why));
		problems++;
	}
	/* the list's DKIM keys sign as fmlqueue would use them */
	if (runner_wants_signer(c->cf)) {
		static const char msg[] = "From: check@example.org\nSubject: check\n\ncheck\n";
		str sig = STR_INIT, err = STR_INIT;
		int fd = memfd_create("fml-dkim-check", MFD_CLOEXEC);
		if (fd < 0 || write(fd, msg, sizeof msg - 1) != (ssize_t)(sizeof msg - 1) ||
		    dkimsign_item(c->dir, c->cf, fd, 0, sizeof msg - 1, "\n", &sig, &err) !=
			ST_OK) {
			str_printf(&report,
				   "problem: DKIM: %s: the list's mail goes out unsigned\n",
				   err.len ? str_c(&err) : strerror(errno));
			problems++;
		}
		if (fd >= 0)
			close(fd);
		str_free(&sig);
		str_free(&err);
	}
	/* RFC 8058 section 4: receivers honour one-click only when signed */
	if (config_int(c->cf, CF_ONE_CLICK_UNSUBSCRIBE) && !*config_str(c->cf, CF_WEB_URL)) {
		str_puts(&report, "problem: ONE_CLICK_UNSUBSCRIBE is set but WEB_URL is not: "
				  "no one-click fields are sent\n");
		problems++;
	} else if (oneclick_enabled(c->cf) && !runner_wants_signer(c->cf)) {
		str_puts(&report,
			 "problem: ONE_CLICK_UNSUBSCRIBE without a DKIM key "
			 "(DKIM_SELECTOR, DKIM_PRIVATE_KEY): receivers ignore the one-click "
			 "fields of unsigned mail (RFC 8058); makefml dkim LIST makes a key\n");
		problems++;
	}
	/* ban lines that are no rule are skipped: the admin meant something */
	str bad = STR_INIT;
	int nbad = ban_check(c->dir, &bad);
	for (const char *l = str_c(&bad); nbad > 0 && *l; l += strcspn(l, "\n") + 1)
		str_printf(&report, "problem: ban %.*s (skipped)\n", (int)strcspn(l, "\n"), l);
	problems += nbad > 0 ? nbad : 0;
	str_free(&bad);
	str_free(&why);
	fputs(str_c(&report), stdout);
	if (problems)
		printf("%s: %d problem%s\n", c->name, problems, problems == 1 ? "" : "s");
	else
		printf("%s: ok\n", c->name);
	str_free(&report);
	return problems ? ST_DATAERR : ST_OK;
}

static fml_status cmd_destructml(ctx *c)
{
	str where = STR_INIT, names = STR_INIT;
	fml_status st = newml_destruct(c->ml_dir, c->name, &where, &c->err);
	if (st != ST_OK)
		return refuse(c, st);
	str line = STR_INIT;
	str_printf(&line, "destructml %s", c->name);
	log_change(c, line.s);
	str_free(&line);
	newml_alias_names(c->name, &names);
	printf("%s: moved to %s (remove it when you no longer need its files)\n"
	       "remove these aliases and run newaliases: %s\n",
	       c->name, where.s, names.s);
	str_free(&where);
	str_free(&names);
	return ST_OK;
}

static fml_status cmd_newml(ctx *c)
{
	str aliases = STR_INIT, err = STR_INIT;
	const char *admin = NULL;
	struct stat st;
	uid_t uid = getuid();

	if (uid != 0) {
		struct passwd *pw = getpwuid(uid);
		if (pw && pw->pw_name && *pw->pw_name)
			admin = pw->pw_name;
	}
	if (stat(c->ml_dir, &st) < 0) {
		if (uid == 0) {
			str_printf(&c->err, "%s does not exist: create it, owned by the list user",
				   c->ml_dir);
			return refuse(c, ST_NOINPUT);
		}
		if (fs_mkdirs(c->ml_dir, 0755) != ST_OK || chmod(c->ml_dir, 0755) < 0) {
			str_printf(&c->err, "cannot create %s", c->ml_dir);
			return refuse(c, ST_TEMPFAIL);
		}
	}
	if (privs_drop_to_owner(c->ml_dir, &err) != ST_OK) {
		str_set(&c->err, err.s, err.len);
		str_free(&err);
		return refuse(c, ST_NOPERM);
	}
	char *owner = admin ? mem_strdup(admin) : NULL;
	/* LANGUAGE (the command line's, or the site's): the texts to copy */
	char lang[64] = "";
	char newdir[PATH_MAX];
	config *site = config_new();
	config_args ca = c->ca;
	if (fs_path(newdir, sizeof newdir, "%s/%s", c->ml_dir, c->name) == 0) {
		ca.dir = newdir;
		if (config_load(site, &ca, &err) == ST_OK)
			snprintf(lang, sizeof lang, "%s", config_str(site, CF_LANGUAGE));
		str_clear(&err);
	}
	config_free(site);
	newml_args a = {c->ml_dir, c->name, c->nargs ? c->args[0] : NULL, owner, NULL, NULL, lang};
	fml_status s = newml_create(&a, &aliases, &c->err);
	free(owner);
	if (s != ST_OK)
		return refuse(c, s);
	char logpath[PATH_MAX];
	if (fs_path(logpath, sizeof logpath, "%s/%s/log", c->ml_dir, c->name) == 0)
		msg_set_logfile(logpath);
	/* a language of the command line stays the list's */
	for (int i = 0; i < c->ca.noverrides; i++)
		if (strncmp(c->ca.overrides[i], "LANGUAGE=", 9) == 0 &&
		    fs_path(logpath, sizeof logpath, "%s/%s/config.cf", c->ml_dir, c->name) == 0 &&
		    cfedit_set(logpath, "LANGUAGE", c->ca.overrides[i] + 9, &err) != ST_OK)
			msg_warn("cannot set LANGUAGE in %s: %s", logpath, str_c(&err));
	str line = STR_INIT;
	str_printf(&line, "newml %s %s", c->name, c->nargs ? c->args[0] : "(the host's domain)");
	log_change(c, line.s);
	str_free(&line);
	fputs(aliases.s, stdout);
	printf("# digests for members with m=N: run fmldigest every hour, e.g.\n"
	       "#   cp %s/fmldigest.cron /etc/cron.d/fmldigest\n"
	       "# or: systemctl enable --now fmldigest.timer\n",
	       FML_ETCDIR);
	str_free(&aliases);
	str_free(&err);
	return fflush(stdout) == 0 ? ST_OK : ST_TEMPFAIL;
}

/* ---- migrate: an fml 4 list home in place */

static fml_status cmd_migrate(ctx *c)
{
	char dir[PATH_MAX], ph[PATH_MAX], cfpath[PATH_MAX];
	str err = STR_INIT, text = STR_INIT, out = STR_INIT, did = STR_INIT, aliases = STR_INIT;
	fml_status st;
	if (fs_path(dir, sizeof dir, "%s/%s", c->ml_dir, c->name) < 0 ||
	    fs_path(ph, sizeof ph, "%s/config.ph", dir) < 0 ||
	    fs_path(cfpath, sizeof cfpath, "%s/config.cf", dir) < 0) {
		str_sets(&c->err, "path too long");
		return refuse(c, ST_TEMPFAIL);
	}
	if (privs_drop_to_owner(dir, &err) != ST_OK) {
		str_set(&c->err, err.s, err.len);
		str_free(&err);
		return refuse(c, ST_NOPERM);
	}
	if (fs_exists(cfpath)) {
		str_printf(&c->err, "%s has a config.cf: it is an fml list already (migrated once)",
			   dir);
		return refuse(c, ST_DATAERR);
	}
	if ((st = fs_read(ph, &text, 4 << 20)) != ST_OK) {
		str_printf(&c->err, "no fml 4 config.ph in %s", dir);
		return refuse(c, st == ST_NOINPUT ? ST_NOINPUT : ST_TEMPFAIL);
	}
	/* what the list would have without it: the cascade but config.cf */
	config *defaults = config_new();
	config_args ca = {dir, NULL, 0, NULL, 0, home_etc_dir(), home_exec_dir()};
	if (config_load(defaults, &ca, &err) != ST_OK) {
		str_printf(&c->err, "the site configuration does not load: %s", str_c(&err));
		config_free(defaults);
		return refuse(c, ST_TEMPFAIL);
	}
	const char *cs = migrate_utf8(&text);
	if (!cs) {
		str_sets(&c->err,
			 "config.ph is neither UTF-8 nor EUC-JP, ISO-2022-JP or Shift_JIS");
		config_free(defaults);
		str_free(&text);
		return refuse(c, ST_DATAERR);
	}
	migrate_result r;
	migrate_config(text.s ? text.s : "", text.len, defaults, &out, &r);
	config_free(defaults);
	if ((st = newml_adopt(c->ml_dir, c->name, NULL, &did, &aliases, &c->err)) != ST_OK)
		goto out;
	if (safefile_replace(cfpath, out.s, out.len, 1) != ST_OK) {
		str_sets(&c->err, "cannot write config.cf");
		st = ST_TEMPFAIL;
		goto out;
	}
	/* it must load as fml loads it, or it goes */
	config *check = config_new();
	if (config_load(check, &ca, &err) != ST_OK) {
		str_printf(&c->err, "the new config.cf does not load (%s): removed", str_c(&err));
		unlink(cfpath);
		st = ST_DATAERR;
	}
	config_free(check);
	if (st != ST_OK)
		goto out;
	char logpath[PATH_MAX];
	if (fs_path(logpath, sizeof logpath, "%s/log", dir) == 0)
		msg_set_logfile(logpath);
	str line = STR_INIT;
	str_printf(&line, "migrate (from fml 4: %d set, %d as fml's default, %d not taken)", r.set,
		   r.same, r.skipped);
	log_change(c, line.s);
	str_free(&line);
	printf("%s: migrated from fml 4 in place\n%s", dir, did.s);
	if (strcmp(cs, "UTF-8") != 0)
		printf("read config.ph as %s (config.cf is UTF-8)\n", cs);
	printf("wrote config.cf from config.ph: %d variables set, %d equal to fml's default, %d "
	       "statements not taken (listed at the end of config.cf); config.ph is kept\n",
	       r.set, r.same, r.skipped);
	printf("kept as they are: members, actives, seq, summary, spool/, log\n"
	       "next: makefml check %s; then point the aliases at fml:\n%s",
	       c->name, aliases.s);
out:
	str_free(&err);
	str_free(&text);
	str_free(&out);
	str_free(&did);
	str_free(&aliases);
	return st == ST_OK ? ST_OK : refuse(c, st);
}

/* ---- start-up */

/* DIR, owner, config and log of an existing list. */
/* ---- a mail command run as ADDR */

/* The command goes the way of a mail to the ctl address: accepted into
 * var/incoming, processed under the list lock with the same checks and
 * the same reply by mail; the report is printed as well. */
static fml_status cmd_command(ctx *c)
{
	const char *addr = c->args[0], *why;
	str text = STR_INIT, report = STR_INIT;
	if ((why = addr_check(addr, strlen(addr)))) {
		str_printf(&c->err, "bad address: %s", why);
		return refuse(c, ST_DATAERR);
	}
	for (int i = 1; i < c->nargs; i++)
		str_printf(&text, "%s%s", c->args[i], i + 1 < c->nargs ? " " : "");
	fml_status st = procfull_command(c->dir, c->cf, addr, "makefml command", str_c(&text),
					 &report, &c->err);
	if (st == ST_OK) {
		fwrite(report.s ? report.s : "", 1, report.len, stdout);
		if (!report.len)
			printf("(no report: the command was not run; see the list's log)\n");
	}
	str_free(&text);
	str_free(&report);
	return st == ST_OK ? ST_OK : refuse(c, st);
}

/* ---- archive: the list's history as one mboxrd file */

static fml_status stdout_sink(void *arg, const void *p, size_t n)
{
	if (fwrite(p, 1, n, stdout) != n) {
		msg_error("writing the mbox to stdout failed");
		return ST_TEMPFAIL;
	}
	return ST_OK;
}

/* No lock: articles only ever move from the spool into an archive unit
 * (the unit is written before the spool file goes), and article_open()
 * looks in the units for one that left the spool after the plan. */
/* ---- export, import: the members as CSV (list/membercsv.h) */

static fml_status cmd_export(ctx *c)
{
	long n = 0;
	fml_status st = membercsv_export(c->dir, stdout, &n);
	if (st == ST_OK && fflush(stdout) != 0)
		st = ST_TEMPFAIL;
	if (st != ST_OK)
		str_sets(&c->err, "the member files could not be read");
	return st == ST_OK ? ST_OK : refuse(c, st);
}

static fml_status cmd_import(ctx *c)
{
	return bulk(c, membercsv_import, "import", "added to",
		    "what was added is refused as already a member");
}

/* ---- export-member, forget: one person's records (actions/person.h) */

static fml_status cmd_export_member(ctx *c)
{
	action_ctx p = {.l = {.dir = c->dir, .cf = c->cf, .now = time(NULL)}};
	str out = STR_INIT;
	fml_status st = person_export(&p, c->args[0], &out);
	if (st == ST_OK)
		fwrite(out.s, 1, out.len, stdout);
	str_free(&out);
	if (st != ST_OK)
		str_sets(&c->err, "a file of the list could not be read");
	return st == ST_OK ? ST_OK : refuse(c, st);
}

static fml_status cmd_forget(ctx *c)
{
	action_ctx p = {.l = {.dir = c->dir, .cf = c->cf, .now = time(NULL)}};
	str did = STR_INIT;
	fml_status st = person_forget(&p, c->args[0], &did);
	if (st == ST_OK)
		printf(
		    "%s: forgotten\n%s(not changed: the articles of the spool, the archive units "
		    "and the HTML archive)\n",
		    c->args[0], did.s);
	else if (st == ST_DATAERR)
		str_sets(&c->err, "nothing of the list names this address");
	else
		str_sets(&c->err, "a file of the list could not be changed (see the log)");
	str_free(&did);
	return st == ST_OK ? ST_OK : refuse(c, st);
}

/* ---- htmlify: the HTML archive made again */

static fml_status cmd_htmlify(ctx *c)
{
	list_ctx l = {c->dir, c->cf, time(NULL)};
	long n = 0;
	if (!config_int(c->cf, CF_HTML_ARCHIVE))
		printf("note: HTML_ARCHIVE is off: posts will not update the archive\n");
	fml_status st = htmlarch_rebuild(&l, &n);
	if (st != ST_OK) {
		str_sets(&c->err, st == ST_DATAERR ? "HTML_ARCHIVE_DIR holds something else"
						   : "the HTML archive could not be made");
		return refuse(c, st);
	}
	printf("%ld articles into %s\n", n, config_str(c->cf, CF_HTML_ARCHIVE_DIR));
	return ST_OK;
}

static fml_status cmd_archive(ctx *c)
{
	action_ctx p = {.l = {.dir = c->dir, .cf = c->cf, .now = time(NULL)}};
	long seq = seq_last(p.l.dir), floor = seq_floor(&p.l, seq);
	long last = floor > seq ? floor : seq;
	const char *spec = c->nargs ? c->args[0] : "1-last";
	artrange r;
	bundle b;
	article_store s;
	fml_status st;

	if (last == 0) {
		msg_info("%s: no articles yet", c->name);
		return ST_OK;
	}
	artrange_init(&r);
	if (artrange_parse(spec, last, 0, &r, &c->err) != ST_OK) {
		artrange_free(&r);
		return refuse(c, ST_DATAERR);
	}
	article_store_init(&s, config_str(c->cf, CF_SPOOL_DIR), config_str(c->cf, CF_ARCHIVE_DIR));
	st = bundle_plan(&s, &r, 0, &b);
	if (st == ST_OK && b.n > 0)
		st = bundlewrite_mbox(&b, 0, &s, stdout_sink, NULL);
	if (st == ST_OK && fflush(stdout) != 0) {
		msg_error("writing the mbox to stdout failed");
		st = ST_TEMPFAIL;
	}
	if (st == ST_OK && b.missing.len)
		msg_warn("%s: not found: %s", c->name, str_c(&b.missing));
	if (st == ST_OK)
		msg_debug("archive %s %s: %zu articles", c->name, spec, b.n);
	if (st == ST_OK && b.n == 0) {
		str_sets(&c->err, "no such articles");
		st = refuse(c, ST_DATAERR);
	}
	bundle_free(&b);
	article_store_free(&s);
	artrange_free(&r);
	return st;
}

static fml_status open_list(ctx *c)
{
	struct stat st;
	str err = STR_INIT;
	if (!home_valid_name(c->name)) {
		str_sets(&c->err, "bad list name");
		return refuse(c, ST_USAGE);
	}
	if (fs_path(c->dir, sizeof c->dir, "%s/%s", c->ml_dir, c->name) < 0)
		return ST_USAGE;
	if (stat(c->dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		str_printf(&c->err, "no such list in %s", c->ml_dir);
		return refuse(c, ST_NOINPUT);
	}
	if (privs_drop_to_owner(c->dir, &err) != ST_OK) {
		str_set(&c->err, err.s, err.len);
		str_free(&err);
		return refuse(c, ST_NOPERM);
	}
	c->ca.dir = c->dir;
	c->cf = config_new();
	if (config_load(c->cf, &c->ca, &err) != ST_OK) {
		str_set(&c->err, err.s, err.len);
		str_free(&err);
		/* check reports it among the rest; the others cannot go on */
		return strcmp(c->cmd, "check") == 0 ? ST_OK : refuse(c, ST_TEMPFAIL);
	}
	c->fuzzy = (int)config_int(c->cf, CF_ADDR_CHECK_MAX);
	char logpath[PATH_MAX];
	if (fs_path(logpath, sizeof logpath, "%s/log", c->dir) == 0)
		msg_set_logfile(logpath);
	str_free(&err);
	return ST_OK;
}

static fml_status run(ctx *c, const struct command *cmd)
{
	if (cmd->fn == cmd_newml || cmd->fn == cmd_migrate)
		return cmd->fn(c);
	fml_status st = open_list(c);
	if (st != ST_OK)
		return st;
	if (!cmd->lock)
		return cmd->fn(c);
	fml_lock lk;
	if ((st = lock_list(c, &lk, "the list is locked; try again later")) != ST_OK)
		return refuse(c, st);
	st = cmd->fn(c);
	lock_release(&lk);
	return st;
}

int main(int argc, char **argv)
{
	const char *opt_dir = NULL, *over[MAX_OVER];
	char *pos[MAX_OVER];
	int nover = 0, npos = 0, dashdash = 0;
	ctx c;

	msg_startup("makefml");
	runner_sign_with(&dkimsign_signer);
	msg_set_stderr(1);

	for (int i = 1; i < argc; i++) {
		char *a = argv[i];
		if (dashdash || a[0] != '-' || a[1] == 0) {
			if (npos >= MAX_OVER)
				goto bad_usage;
			pos[npos++] = a;
		} else if (strcmp(a, "--") == 0) {
			dashdash = 1;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return status_exit_code(ST_OK);
		} else if (strcmp(a, "-D") == 0 && i + 1 < argc) {
			opt_dir = argv[++i];
		} else if (strncmp(a, "-D", 2) == 0 && a[2]) {
			opt_dir = a + 2;
		} else if (strcmp(a, "-d") == 0) {
			msg_set_verbose(1);
		} else if (strncmp(a, "--", 2) == 0 && strchr(a, '=') && nover < MAX_OVER) {
			over[nover++] = a + 2;
		} else {
			goto bad_usage;
		}
	}
	if (npos < 2)
		goto bad_usage;
	const struct command *cmd = NULL;
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(pos[0], commands[i].name) == 0)
			cmd = &commands[i];
	if (!cmd) {
		msg_error("unknown command %s", pos[0]);
		goto bad_usage;
	}
	if (npos - 2 < cmd->min || npos - 2 > cmd->max) {
		msg_error("%s: wrong number of arguments: makefml %s LIST %s", cmd->name, cmd->name,
			  cmd->args);
		return status_exit_code(ST_USAGE);
	}
	memset(&c, 0, sizeof c);
	c.cmd = cmd->name;
	c.ml_dir = home_ml_dir(opt_dir);
	c.name = pos[1];
	c.args = pos + 2;
	c.nargs = npos - 2;
	c.ca.overrides = over;
	c.ca.noverrides = nover;
	c.ca.etc_dir = home_etc_dir();
	c.ca.exec_dir = home_exec_dir();
	str_init(&c.err);
	fml_status st = run(&c, cmd);
	config_free(c.cf);
	str_free(&c.err);
	return status_exit_code(st);

bad_usage:
	usage(stderr);
	return status_exit_code(ST_USAGE);
}
