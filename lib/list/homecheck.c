/*
 * homecheck: is a list home fit for fml?  See homecheck.h.
 *
 * Read-only but for one thing: a stale member index is rebuilt (what the
 * next lookup would do anyway).  Findings are lines of text for the admin;
 * the count of problems decides makefml's exit status.
 */
#include "homecheck.h"
#include "archunit.h"
#include "home.h"
#include "members.h"
#include "util/fs.h"
#include "util/msg.h"
#include "util/safefile.h"
#include "membersdb.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_LINE_REPORTS 20

typedef struct check {
	const char *dir;
	str *report;
	int problems;
	uid_t owner;
} check;

static void say(check *c, int problem, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(check *c, int problem, const char *fmt, ...)
{
	va_list ap;
	str_puts(c->report, problem ? "problem: " : "note: ");
	va_start(ap, fmt);
	str_vprintf(c->report, fmt, ap);
	va_end(ap);
	str_putc(c->report, '\n');
	c->problems += problem;
}

/* Owner and mode of DIR/REL.  WANT_DIR: a directory, else a regular file.
 * PRIVATE: no group or world access at all. */
static int check_node(check *c, const char *rel, int want_dir, int private, int required)
{
	char path[PATH_MAX];
	struct stat st;
	if (fs_path(path, sizeof path, "%s/%s", c->dir, rel) < 0) {
		say(c, 1, "%s: path too long", rel);
		return 0;
	}
	if (lstat(path, &st) < 0) {
		if (errno == ENOENT && !required) {
			say(c, 0, "%s: absent (an empty list)", rel);
			return 0;
		}
		say(c, 1, "%s: %s", rel, strerror(errno));
		return 0;
	}
	if (want_dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) {
		say(c, 1, "%s: not a %s", rel, want_dir ? "directory" : "regular file");
		return 0;
	}
	if (st.st_uid != c->owner)
		say(c, 1, "%s: owned by uid %u, not by the list owner (uid %u)", rel,
		    (unsigned)st.st_uid, (unsigned)c->owner);
	if (st.st_mode & 022)
		say(c, 1, "%s: mode %04o is group or world writable", rel,
		    (unsigned)(st.st_mode & 07777));
	else if (private && (st.st_mode & 077))
		say(c, 1, "%s: mode %04o lets others read it (want 0600)", rel,
		    (unsigned)(st.st_mode & 07777));
	return 1;
}

static void check_layout(check *c)
{
	static const char *const files[] = {"config.cf",     "members",	   "actives",
					    "members-admin", "moderators", "seq",
					    "summary",	     "log",	   NULL};
	for (int i = 0; home_dirs[i]; i++)
		check_node(c, home_dirs[i], 1, 0, 1);
	for (int i = 0; files[i]; i++)
		check_node(c, files[i], 0, 0, 0);
	check_node(c, "etc/secret", 0, 1, 1);
	char path[PATH_MAX];
	if (fs_path(path, sizeof path, "%s/etc/passwd", c->dir) == 0 && fs_exists(path))
		check_node(c, "etc/passwd", 0, 1, 1);
}

/* include, include-ctl and include-bounces: "|EXEC/fml DIR [FLAG]" with
 * EXEC/fml there and DIR this home. */
static void check_include(check *c, const char *name, const char *flag)
{
	char path[PATH_MAX];
	str text = STR_INIT;
	if (!check_node(c, name, 0, 0, 1))
		return;
	if (fs_path(path, sizeof path, "%s/%s", c->dir, name) < 0 ||
	    fs_read(path, &text, 4096) != ST_OK) {
		say(c, 1, "%s: cannot read", name);
		str_free(&text);
		return;
	}
	str_putc(&text, 0); /* an empty file's buffer is not terminated */
	const char *p = text.s;
	if (strncmp(p, "\"|", 2) != 0) {
		say(c, 1, "%s: not a \"|program DIR\" line", name);
		str_free(&text);
		return;
	}
	p += 2;
	size_t n = strcspn(p, " \"\n");
	char prog[PATH_MAX], arg[PATH_MAX];
	snprintf(prog, sizeof prog, "%.*s", (int)n, p);
	p += n;
	while (*p == ' ')
		p++;
	n = strcspn(p, " \"\n");
	snprintf(arg, sizeof arg, "%.*s", (int)n, p);
	if (access(prog, X_OK) < 0)
		say(c, 1, "%s: %s: %s", name, prog, strerror(errno));
	char *a = realpath(arg, NULL), *d = realpath(c->dir, NULL);
	if (!a || !d || strcmp(a, d) != 0)
		say(c, 1, "%s: runs fml on %s, not on this list", name, arg);
	if (flag && !strstr(p, flag))
		say(c, 1, "%s: %s missing", name, flag);
	free(a);
	free(d);
	str_free(&text);
}

typedef struct line_check {
	check *c;
	const char *file;
	long bad;
	str why;
} line_check;

static int line_cb(const char *line, size_t len, long lineno, void *arg)
{
	line_check *lc = arg;
	if (members_line_problem(line, len, &lc->why)) {
		if (++lc->bad <= MAX_LINE_REPORTS)
			say(lc->c, 1, "%s:%ld: %s", lc->file, lineno, lc->why.s);
	}
	return 0;
}

static void check_members(check *c, const char *file, int fuzzy, int indexed)
{
	char path[PATH_MAX];
	line_check lc = {c, file, 0, STR_INIT};
	if (fs_path(path, sizeof path, "%s/%s", c->dir, file) < 0)
		return;
	if (members_foreach_line(path, line_cb, &lc) != ST_OK)
		say(c, 1, "%s: cannot read", file);
	if (lc.bad > MAX_LINE_REPORTS)
		say(c, 1, "%s: %ld more lines with problems", file, lc.bad - MAX_LINE_REPORTS);
	str_free(&lc.why);
	if (!indexed || !fs_exists(path))
		return;
	if (membersdb_fresh(c->dir, file, fuzzy))
		return;
	if (membersdb_reindex(c->dir, file, fuzzy) != ST_OK)
		say(c, 1, "var/db/%s.db: cannot build the index (lookups scan the file)", file);
	else if (membersdb_fresh(c->dir, file, fuzzy))
		say(c, 0, "var/db/%s.db was stale: rebuilt", file);
	else
		say(c, 0,
		    "var/db/%s.db rebuilt; %s changed while it was read, so the next "
		    "lookup rebuilds it once more",
		    file, file);
}

/* Temp files a crash (SIGKILL, power loss) left in the home. */
static void check_leftovers(check *c)
{
	DIR *d = opendir(c->dir);
	struct dirent *de;
	if (!d)
		return;
	while ((de = readdir(d)))
		if (de->d_name[0] == '.' &&
		    (strstr(de->d_name, ".tmp.") || strncmp(de->d_name, ".tmp", 4) == 0))
			say(c, 0,
			    "%s: a temp file left by a crash; remove it when the list is idle",
			    de->d_name);
	closedir(d);
}

static void check_seq(check *c)
{
	char path[PATH_MAX];
	str text = STR_INIT;
	if (fs_path(path, sizeof path, "%s/seq", c->dir) == 0 &&
	    fs_read(path, &text, 64) == ST_OK) {
		str_putc(&text, 0);
		const char *p = text.s;
		size_t n = strspn(p, "0123456789");
		if (n == 0 || strspn(p + n, "\n") != strlen(p + n))
			say(c, 1, "seq: not a number");
	}
	str_free(&text);
}

/* Expiry removes only archived articles: without the archive it does
 * nothing, which an admin who turned it on would not expect. */
static void check_expire(check *c, config *cf)
{
	long n;
	int days;
	if (!config_int(cf, CF_USE_EXPIRE))
		return;
	if (archunit_parse_limit(config_str(cf, CF_EXPIRE_LIMIT), &n, &days) != ST_OK)
		say(c, 1, "EXPIRE_LIMIT: want N (articles kept) or Ndays; nothing is expired");
	if (!config_int(cf, CF_USE_ARCHIVE))
		say(c, 0,
		    "warning: USE_EXPIRE is on but USE_ARCHIVE is off: only articles in an "
		    "archive unit are expired, so none is");
}

int homecheck_run(const config_args *ca, str *report)
{
	check c = {ca->dir, report, 0, 0};
	struct stat st;
	str err = STR_INIT;

	if (lstat(ca->dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		say(&c, 1, "%s: not a list home", ca->dir);
		return c.problems;
	}
	c.owner = st.st_uid;
	if (st.st_mode & 022)
		say(&c, 1, "%s: mode %04o is group or world writable", ca->dir,
		    (unsigned)(st.st_mode & 07777));
	check_layout(&c);

	config *cf = config_new();
	int fuzzy = 0;
	if (config_load(cf, ca, &err) != ST_OK)
		say(&c, 1, "config: %s", str_c(&err));
	else {
		fuzzy = (int)config_int(cf, CF_ADDR_CHECK_MAX);
		check_expire(&c, cf);
	}
	config_free(cf);

	check_include(&c, "include", NULL);
	check_include(&c, "include-ctl", "--ctladdr");
	check_include(&c, "include-bounces", "--bounce");
	check_members(&c, "members", fuzzy, 1);
	check_members(&c, "actives", fuzzy, 1);
	check_members(&c, "members-admin", fuzzy, 1);
	check_members(&c, "moderators", fuzzy, 0);
	check_seq(&c);
	check_leftovers(&c);
	str_free(&err);
	return c.problems;
}
