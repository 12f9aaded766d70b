/*
 * members: fml's member files (members, actives, members-admin, moderators)
 * and their gdbm index.  See members.h for the line format.
 *
 * The line format is membersfile.c's; the index and the lookups through it
 * are membersdb.c's.  Here: reading a whole file for a caller, and the
 * edits.
 *
 * Edits read the whole file, change the lines of the entry concerned and
 * write the rest back byte for byte through safefile (temp + fsync + rename
 * + directory fsync).  The caller holds the list lock.
 */
#include "members.h"
#include "membersdb.h"
#include "membersfile.h"
#include "mail/addr.h"
#include "util/fs.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/safefile.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define FUZZY_MAX 10 /* edits escalate N up to this (fml4) */

/* ------------------------------------------------------------------ */
/* entries and reading                                                 */

void members_entry_init(member_entry *e)
{
	membersfile_entry_init(e);
}

void members_entry_free(member_entry *e)
{
	membersfile_entry_free(e);
}

int members_parse_line(const char *line, size_t len, member_entry *e, int *plus)
{
	return membersfile_parse(line, len, e, plus, NULL);
}

int members_line_problem(const char *line, size_t len, str *why)
{
	return membersfile_problem(line, len, why);
}

struct foreach_arg {
	int (*fn)(const member_entry *e, void *arg);
	void *arg;
};

static int foreach_cb(const member_entry *e, int plus, void *arg)
{
	struct foreach_arg *fa = arg;
	return plus ? 0 : fa->fn(e, fa->arg);
}

fml_status members_foreach(const char *path, int (*fn)(const member_entry *e, void *arg), void *arg)
{
	struct foreach_arg fa = {fn, arg};
	return membersfile_scan_path(path, foreach_cb, &fa);
}

static int count_cb(const member_entry *e, int plus, void *arg)
{
	if (!plus && !e->bye)
		++*(long *)arg;
	return 0;
}

fml_status members_count(const char *path, long *n)
{
	*n = 0;
	return membersfile_scan_path(path, count_cb, n);
}

int members_find(const char *path, const char *addr, int fuzzy, member_entry *out)
{
	int found;
	if (membersfile_find(path, addr, fuzzy, 0, out, &found) != ST_OK)
		return -1;
	return found;
}

fml_status members_foreach_line(const char *path,
				int (*fn)(const char *line, size_t len, long lineno, void *arg),
				void *arg)
{
	FILE *fp;
	struct stat st;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	long lineno = 0;
	fml_status s = membersfile_open(path, &fp, &st);
	if (s != ST_OK || !fp)
		return s;
	errno = 0;
	while ((n = getline(&line, &cap, fp)) >= 0) {
		size_t len = (size_t)n;
		if (len > 0 && line[len - 1] == '\n')
			len--;
		if (len > 0 && line[len - 1] == '\r' && (size_t)n > len)
			len--;
		if (fn(line, len, ++lineno, arg))
			break;
	}
	if (ferror(fp)) {
		msg_error("read %s: %s", path, strerror(errno));
		s = ST_TEMPFAIL;
	}
	free(line);
	fclose(fp);
	return s;
}

fml_status members_lookup(const char *dir, const char *file, const char *addr, int fuzzy,
			  int *found)
{
	return membersdb_lookup(dir, file, addr, fuzzy, found);
}

fml_status members_reindex(const char *dir, const char *file, int fuzzy)
{
	return membersdb_reindex(dir, file, fuzzy);
}

int members_index_fresh(const char *dir, const char *file, int fuzzy)
{
	return membersdb_fresh(dir, file, fuzzy);
}

/* ------------------------------------------------------------------ */
/* edits                                                               */

/* A line of the file that concerns the edit. */
typedef struct cand {
	long lineno;
	int which; /* 0: ADDR, 1: the new address of chaddr */
	int bye, off, skip, digest;
	int exact; /* addr_equal, not only a fuzzy match */
	str addr;
} cand;

typedef struct cands {
	cand *v;
	size_t n, cap;
} cands;

static void cands_free(cands *c)
{
	for (size_t i = 0; i < c->n; i++)
		str_free(&c->v[i].addr);
	free(c->v);
}

/* Iterate the lines of BUF: *LINE and *LEN without the terminator, *EOL its
 * length (0 for a last line without newline).  Returns 0 at the end. */
static int next_line(const str *buf, size_t *pos, const char **line, size_t *len, size_t *eol)
{
	if (*pos >= buf->len)
		return 0;
	const char *p = buf->s + *pos;
	const char *nl = memchr(p, '\n', buf->len - *pos);
	size_t n = nl ? (size_t)(nl - p) : buf->len - *pos;
	*eol = nl ? 1 : 0;
	if (n > 0 && p[n - 1] == '\r' && nl) {
		n--;
		(*eol)++;
	}
	*line = p;
	*len = n;
	*pos += n + *eol;
	return 1;
}

static void collect(const str *buf, const char *const addrs[2], int fuzzy, cands *c)
{
	member_entry e;
	const char *line;
	size_t pos = 0, len, eol;
	long lineno = 0;

	membersfile_entry_init(&e);
	while (next_line(buf, &pos, &line, &len, &eol)) {
		lineno++;
		if (!membersfile_parse(line, len, &e, NULL, NULL))
			continue;
		for (int w = 0; w < 2; w++) {
			if (!addrs[w] || !addr_match(e.addr.s, addrs[w], fuzzy))
				continue;
			if (c->n == c->cap) {
				c->cap = c->cap ? 2 * c->cap : 8;
				c->v = mem_reallocarray(c->v, c->cap, sizeof *c->v);
			}
			cand *k = &c->v[c->n++];
			memset(k, 0, sizeof *k);
			k->lineno = lineno;
			k->which = w;
			k->bye = e.bye;
			k->off = e.off;
			k->skip = e.skip;
			k->digest = e.digest;
			k->exact = addr_equal(e.addr.s, addrs[w]);
			str_init(&k->addr);
			str_set(&k->addr, e.addr.s, e.addr.len);
		}
	}
	membersfile_entry_free(&e);
}

static int cand_hits(const cand *k, int w, const char *addr, int level)
{
	if (k->which != w || k->bye)
		return 0;
	return level == 0 ? k->exact : addr_match(k->addr.s, addr, level);
}

/*
 * Mark (which = 2) the live lines of address W the edit applies to: the
 * exact matches when there are any, else the fuzzy matches at the smallest
 * N from FUZZY up that leaves a single address (fml4 retries a member-list
 * edit that hits several lines with ADDR_CHECK_MAX + 1, up to 10).  Returns
 * the number of lines marked, or -1 when still ambiguous.
 */
static int pick(cands *c, int w, int fuzzy, const char *addr)
{
	int level = 0, n = 0;
	for (size_t i = 0; i < c->n; i++)
		n += cand_hits(&c->v[i], w, addr, 0);
	if (n == 0) {
		if (fuzzy <= 0)
			return 0;
		for (level = fuzzy;; level++) {
			const char *first = NULL;
			int distinct = 1;
			for (size_t i = 0; i < c->n; i++) {
				if (!cand_hits(&c->v[i], w, addr, level))
					continue;
				n++;
				if (!first)
					first = c->v[i].addr.s;
				else if (!addr_equal(first, c->v[i].addr.s))
					distinct = 0;
			}
			if (n == 0 || distinct)
				break;
			if (level >= FUZZY_MAX)
				return -1;
			n = 0;
		}
	}
	int marked = 0;
	for (size_t i = 0; i < c->n; i++)
		if (cand_hits(&c->v[i], w, addr, level)) {
			c->v[i].which = 2;
			marked++;
		}
	return marked;
}

static int is_target(const cands *c, long lineno)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i].lineno == lineno && c->v[i].which == 2)
			return 1;
	return 0;
}

static void apply(member_entry *e, members_op op, const char *arg)
{
	switch (op) {
	case MEM_BYE:
		e->bye = 1;
		break;
	case MEM_OFF:
		e->off = 1;
		break;
	case MEM_ON:
		e->off = 0;
		break;
	case MEM_SKIP:
		membersfile_opts_add(&e->opts, "s=skip");
		break;
	case MEM_NOSKIP:
		membersfile_opts_remove(&e->opts, 0);
		break;
	case MEM_DIGEST:
		membersfile_opts_remove(&e->opts, 1);
		if (strcmp(arg, "0") != 0) {
			membersfile_opts_add(&e->opts, "m=");
			str_puts(&e->opts, arg);
		}
		break;
	case MEM_CHADDR:
		str_sets(&e->addr, arg);
		break;
	case MEM_ADD:
		break;
	}
}

static fml_status refuse(str *err, const char *why)
{
	str_sets(err, why);
	return ST_DATAERR;
}

/* Validate ARG for OP before anything is read. */
static fml_status check_args(members_op op, const char *addr, const char *arg, str *err)
{
	const char *why;
	if (!addr || !*addr || membersfile_has_ctl(addr, strlen(addr)) || strchr(addr, ' '))
		return refuse(err, "bad address");
	if (op == MEM_ADD && (why = addr_check(addr, strlen(addr)))) {
		str_printf(err, "bad address: %s", why);
		return ST_DATAERR;
	}
	if (op == MEM_ADD && arg && *arg && membersfile_opts_problem(arg, err))
		return ST_DATAERR;
	if (op == MEM_DIGEST) {
		if (!arg || !membersfile_digest_ok(arg, strlen(arg)))
			return refuse(err, "bad digest argument: N[mode] expected (0 to stop)");
	}
	if (op == MEM_CHADDR) {
		if (!arg || !*arg)
			return refuse(err, "new address missing");
		if ((why = addr_check(arg, strlen(arg)))) {
			str_printf(err, "bad new address: %s", why);
			return ST_DATAERR;
		}
	}
	return ST_OK;
}

/* Decide which lines change; ST_DATAERR with the reason when the edit does
 * not apply.  *REPLACE_BYE is the ##BYE line an add replaces, 0 for none. */
static fml_status plan(cands *c, members_op op, const char *addr, const char *arg, int fuzzy,
		       long *replace_bye, str *err)
{
	*replace_bye = 0;
	if (op == MEM_ADD) {
		for (size_t i = 0; i < c->n; i++)
			if (!c->v[i].bye)
				return refuse(err, MEMBERS_ALREADY);
		for (size_t i = 0; i < c->n; i++)
			if (c->v[i].bye && c->v[i].exact) {
				*replace_bye = c->v[i].lineno;
				break;
			}
		return ST_OK;
	}
	int n = pick(c, 0, fuzzy, addr);
	if (n < 0)
		return refuse(err, "ambiguous address: it matches several members");
	if (n == 0)
		return refuse(err, MEMBERS_NOT_MEMBER);
	if (op == MEM_CHADDR) {
		for (size_t i = 0; i < c->n; i++)
			if (c->v[i].which == 1 && !c->v[i].bye && !is_target(c, c->v[i].lineno))
				return refuse(err, "the new address is already a member");
	}
	int todo = 0;
	for (size_t i = 0; i < c->n; i++) {
		cand *k = &c->v[i];
		if (k->which != 2)
			continue;
		int change = op == MEM_OFF	? !k->off
			     : op == MEM_ON	? k->off
			     : op == MEM_SKIP	? !k->skip
			     : op == MEM_NOSKIP ? k->skip
						: 1;
		if (!change)
			k->which = 3; /* matched, nothing to do */
		todo += change;
	}
	if (todo == 0) {
		static const char *const already[] = {
		    [MEM_OFF] = "already off",
		    [MEM_ON] = "not off",
		    [MEM_SKIP] = "already skip",
		    [MEM_NOSKIP] = "not skip",
		};
		return refuse(err, (size_t)op < (sizeof already / sizeof already[0]) && already[op]
				       ? already[op]
				       : "nothing to do");
	}
	return ST_OK;
}

/* Write BUF with the planned changes to DIR/FILE through safefile. */
static fml_status rewrite(const char *dir, const char *file, const char *path, const str *buf,
			  const cands *c, members_op op, const char *addr, const char *arg,
			  long replace_bye, const struct stat *old)
{
	char prefix[128];
	safefile sf;
	member_entry e;
	str out = STR_INIT;
	const char *line;
	size_t pos = 0, len, eol;
	long lineno = 0;
	fml_status st = ST_OK;

	if (fs_path(prefix, sizeof prefix, ".%s.tmp", file) < 0 ||
	    safefile_open(&sf, dir, prefix) != ST_OK)
		return ST_TEMPFAIL;
	if (old && fchmod(sf.fd, old->st_mode & 0755) < 0)
		msg_warn("chmod %s: %s", sf.tmp, strerror(errno));
	membersfile_entry_init(&e);
	while (st == ST_OK && next_line(buf, &pos, &line, &len, &eol)) {
		lineno++;
		if (lineno == replace_bye) {
			str_clear(&out);
			str_puts(&out, addr);
			if (arg && *arg) {
				str_putc(&out, ' ');
				str_puts(&out, arg);
			}
		} else if (is_target(c, lineno) && membersfile_parse(line, len, &e, NULL, NULL)) {
			apply(&e, op, arg);
			str_clear(&out);
			membersfile_format(&out, &e);
		} else {
			st = safefile_write(&sf, line, len + eol);
			continue;
		}
		str_append(&out, eol ? line + len : "\n", eol ? eol : 1);
		st = safefile_write(&sf, out.s, out.len);
	}
	if (st == ST_OK && op == MEM_ADD && !replace_bye) {
		str_clear(&out);
		if (buf->len && buf->s[buf->len - 1] != '\n')
			str_putc(&out, '\n');
		str_puts(&out, addr);
		if (arg && *arg) {
			str_putc(&out, ' ');
			str_puts(&out, arg);
		}
		str_putc(&out, '\n');
		st = safefile_write(&sf, out.s, out.len);
	}
	membersfile_entry_free(&e);
	str_free(&out);
	if (st != ST_OK) {
		safefile_abort(&sf);
		return ST_TEMPFAIL;
	}
	return safefile_commit(&sf, path);
}

fml_status members_edit(const char *dir, const char *file, members_op op, const char *addr,
			const char *arg, int fuzzy, str *err)
{
	char path[PATH_MAX];
	str buf = STR_INIT;
	cands c = {NULL, 0, 0};
	struct stat old;
	long replace_bye;
	fml_status st;

	str_clear(err);
	if (fuzzy < 0)
		fuzzy = 0;
	if ((st = membersfile_path(path, sizeof path, dir, file)) != ST_OK) {
		str_sets(err, "bad member file name");
		return st;
	}
	if ((st = check_args(op, addr, arg, err)) != ST_OK)
		return st;
	int exists = stat(path, &old) == 0;
	st = fs_read(path, &buf, 0);
	if (st == ST_NOINPUT)
		st = ST_OK;
	if (st != ST_OK) {
		str_printf(err, "cannot read %s", file);
		str_free(&buf);
		return st;
	}
	const char *addrs[2] = {addr, op == MEM_CHADDR ? arg : NULL};
	collect(&buf, addrs, fuzzy, &c);
	st = plan(&c, op, addr, arg, fuzzy, &replace_bye, err);
	if (st == ST_OK) {
		st = rewrite(dir, file, path, &buf, &c, op, addr, arg, replace_bye,
			     exists ? &old : NULL);
		if (st != ST_OK)
			str_printf(err, "cannot rewrite %s", file);
	}
	cands_free(&c);
	str_free(&buf);
	return st;
}
