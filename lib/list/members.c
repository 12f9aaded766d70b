/*
 * members: fml's member files (members, actives, members-admin, moderators)
 * and their gdbm index, the interface of members.h for the rest of fml.
 *
 * The work is done by three modules below this one, each its own concept:
 * membersfile.c the line format (parse, format, option words, reading a file
 * entry by entry), membersdb.c the index and the lookups through it,
 * membersedit.c the edits.  The index and the edits both read the format,
 * so the format is the lowest of the three and the public names, which
 * span all of them, live here on top: most of this file passes a call on.
 * What is here on its own is reading a whole file for a caller (every
 * entry, every line, the count, the first entry of an address).
 *
 * Failure policy: that of the module doing the work.  Reading a file that
 * is missing gives no entries; one that cannot be read is logged and
 * ST_TEMPFAIL (members_find(): -1).
 */
#include "members.h"
#include "membersdb.h"
#include "membersedit.h"
#include "membersfile.h"
#include "util/msg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

fml_status members_edit(const char *dir, const char *file, members_op op, const char *addr,
			const char *arg, int fuzzy, str *err)
{
	return membersedit_apply(dir, file, op, addr, arg, fuzzy, err);
}
