/*
 * person: what a list keeps about one person.  See person.h.
 */
#include "person.h"
#include "list/members.h"
#include "list/membersdb.h"
#include "util/fs.h"
#include "util/lines.h"
#include "util/msg.h"
#include "util/safefile.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define HEAD_READ 65536 /* of a kept mail: enough for its header */
#define FORGOTTEN "(forgotten)"

static int addr_char(unsigned char c)
{
	return isalnum(c) || strchr(".!#$%&'*+/=?^_`{|}~-@", c) != NULL;
}

/* Where ADDR is in P (N bytes), as a whole address (no address character
 * right before or after it), in any case; NULL when it is not. */
static const char *find_addr(const char *p, size_t n, const char *addr)
{
	size_t al = strlen(addr);
	for (size_t i = 0; al && i + al <= n; i++)
		if (strncasecmp(p + i, addr, al) == 0 &&
		    (i == 0 || !addr_char((unsigned char)p[i - 1])) &&
		    (i + al == n || !addr_char((unsigned char)p[i + al]) ||
		     (p[i + al] == '.' &&
		      (i + al + 1 == n || !addr_char((unsigned char)p[i + al + 1])))))
			return p + i;
	return NULL;
}

enum { KEEP, DROP, ANON };

/* The lines of DIR/NAME that name ADDR appended to OUT (under a heading);
 * with HOW DROP or ANON, the file rewritten without them, or with the
 * address replaced.  *CHANGED set when it was.  A missing file is empty. */
static fml_status lines_of(const char *dir, const char *name, const char *addr, int how, str *out,
			   int *changed)
{
	char path[PATH_MAX];
	str text = STR_INIT, kept = STR_INIT;
	*changed = 0;
	if (fs_path(path, sizeof path, "%s/%s", dir, name) < 0)
		return ST_TEMPFAIL;
	fml_status st = fs_read(path, &text, 0);
	if (st == ST_NOINPUT) {
		str_free(&text);
		return ST_OK;
	}
	if (st != ST_OK) {
		str_free(&text);
		return ST_TEMPFAIL;
	}
	lines it;
	const char *l;
	size_t n;
	int head = 0;
	for (lines_init(&it, text.s ? text.s : "", text.len); lines_next(&it, &l, &n);) {
		int eol = lines_rest(&it) > l + n;
		const char *at = find_addr(l, n, addr);
		if (!at) {
			str_append(&kept, l, n + (size_t)eol);
			continue;
		}
		if (!head++)
			str_printf(out, "== %s\n", name);
		str_append(out, l, n);
		str_putc(out, '\n');
		if (how == ANON) { /* every time the line names them */
			const char *from = l, *end = l + n;
			for (; at; at = find_addr(from, (size_t)(end - from), addr)) {
				str_append(&kept, from, (size_t)(at - from));
				str_puts(&kept, FORGOTTEN);
				from = at + strlen(addr);
			}
			str_append(&kept, from, (size_t)(end - from) + (size_t)eol);
		} else if (how == KEEP) {
			str_append(&kept, l, n + (size_t)eol);
		}
	}
	if (head && how != KEEP) {
		struct stat sb;
		if (stat(path, &sb) < 0 ||
		    safefile_replace(path, kept.s ? kept.s : "", kept.len, 1) != ST_OK ||
		    chmod(path, sb.st_mode & 07777) < 0)
			st = ST_TEMPFAIL;
		else
			*changed = 1;
	}
	str_free(&text);
	str_free(&kept);
	return st;
}

/* Mails kept in DIR/AREA (held posts, saved problem mails) whose header
 * names ADDR: listed into OUT; with FORGET, removed. */
static fml_status mails_in(const char *dir, const char *area, const char *addr, int forget,
			   str *out, int *changed)
{
	char d[PATH_MAX], path[PATH_MAX];
	char *buf = NULL;
	*changed = 0;
	if (fs_path(d, sizeof d, "%s/%s", dir, area) < 0)
		return ST_TEMPFAIL;
	DIR *dd = opendir(d);
	if (!dd)
		return errno == ENOENT ? ST_OK : ST_TEMPFAIL;
	struct dirent *de;
	fml_status st = ST_OK;
	int head = 0;
	buf = malloc(HEAD_READ);
	while (buf && (de = readdir(dd)) != NULL) {
		if (de->d_name[0] == '.' || fs_path(path, sizeof path, "%s/%s", d, de->d_name) < 0)
			continue;
		struct stat sb;
		if (lstat(path, &sb) < 0 || !S_ISREG(sb.st_mode))
			continue;
		int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		ssize_t got = fd >= 0 ? fs_read_full(fd, buf, HEAD_READ) : -1;
		if (fd >= 0)
			close(fd);
		if (got <= 0)
			continue;
		/* the header: up to the first empty line */
		size_t hl = (size_t)got;
		for (size_t i = 1; i < (size_t)got; i++)
			if (buf[i] == '\n' && buf[i - 1] == '\n') {
				hl = i;
				break;
			}
		if (!find_addr(buf, hl, addr))
			continue;
		if (!head++)
			str_printf(out, "== %s (mails)\n", area);
		str_printf(out, "%s/%s, %lld bytes\n", area, de->d_name, (long long)sb.st_size);
		if (forget) {
			if (unlink(path) < 0)
				st = ST_TEMPFAIL;
			else
				*changed = 1;
		}
	}
	closedir(dd);
	if (!buf)
		st = ST_TEMPFAIL;
	free(buf);
	return st;
}

static const struct {
	const char *name;
	int forget; /* what forgetting does */
} files[] = {
    {"members", DROP},	     {"actives", DROP},	       {"members-admin", DROP},
    {"var/db/digest", DROP}, {"var/db/bounces", DROP}, {"var/db/confirm", DROP},
    {"log", ANON},	     {"summary", ANON},	       {"ban", KEEP},
};

static fml_status walk(action_ctx *c, const char *addr, int forget, str *out, str *did)
{
	fml_status st = ST_OK;
	int changed, any = 0;
	for (size_t i = 0; i < sizeof files / sizeof *files && st == ST_OK; i++) {
		size_t before = out->len;
		st = lines_of(c->l.dir, files[i].name, addr, forget ? files[i].forget : KEEP, out,
			      &changed);
		any |= out->len > before;
		if (changed) {
			str_printf(did, "%s: %s\n", files[i].name,
				   files[i].forget == ANON ? "the address replaced by " FORGOTTEN
							   : "its lines removed");
			/* a member file's index is made again from it */
			if (i < 3)
				membersdb_reindex(c->l.dir, files[i].name,
						  (int)config_int(c->l.cf, CF_ADDR_CHECK_MAX));
		}
	}
	/* an admin password: said, never shown */
	str pw = STR_INIT;
	if (st == ST_OK)
		st = lines_of(c->l.dir, "etc/passwd", addr, forget ? DROP : KEEP, &pw, &changed);
	if (pw.len) {
		str_puts(out, "== etc/passwd\nan admin password is set (not shown)\n");
		any = 1;
	}
	if (changed)
		str_puts(did, "etc/passwd: the admin password removed\n");
	str_free(&pw);
	static const char *const areas[] = {"var/hold", "var/log"};
	for (size_t i = 0; i < 2 && st == ST_OK; i++) {
		size_t before = out->len;
		st = mails_in(c->l.dir, areas[i], addr, forget, out, &changed);
		any |= out->len > before;
		if (changed)
			str_printf(did, "%s: their mails removed\n", areas[i]);
	}
	return st != ST_OK ? st : any ? ST_OK : ST_DATAERR;
}

fml_status person_export(action_ctx *c, const char *addr, str *out)
{
	str ignored = STR_INIT;
	str_printf(out, "# what the list %s keeps about %s (makefml export-member)\n",
		   config_str(c->l.cf, CF_MAIL_LIST), addr);
	fml_status st = walk(c, addr, 0, out, &ignored);
	if (st == ST_DATAERR)
		str_puts(out, "(nothing names this address)\n");
	str_puts(out, "# not shown: the articles of the spool, the archive units and the HTML "
		      "archive, which carry what was posted\n");
	str_free(&ignored);
	return st == ST_DATAERR ? ST_OK : st;
}

fml_status person_forget(action_ctx *c, const char *addr, str *did)
{
	str shown = STR_INIT;
	fml_status st = walk(c, addr, 1, &shown, did);
	str_free(&shown);
	if (st == ST_OK) /* the log names nobody: the address is what was forgotten */
		msg_info("forget: the records of an address were removed");
	return st;
}
