/*
 * roster: add, bye and chaddr over members and actives.  See roster.h.
 * actives is edited first when adding, since it also judges the option
 * words: a bad option refuses the whole add before anything changed.
 */
#include "roster.h"
#include "digeststate.h"
#include "mail/addr.h"
#include "util/fs.h"
#include "util/safefile.h"
#include "membersedit.h"

#include <limits.h>
#include <string.h>

static int is(const str *err, const char *what)
{
	return strcmp(str_c(err), what) == 0;
}

static void set_where(str *where, fml_status sm, fml_status sa)
{
	str_clear(where);
	str_printf(where, "%s%s%s", sm == ST_OK ? "members" : "",
		   sm == ST_OK && sa == ST_OK ? " and " : "", sa == ST_OK ? "actives" : "");
}

fml_status roster_check_limit(const char *dir, const config *cf, str *err)
{
	char path[PATH_MAX];
	long n = 0, limit = (long)config_int(cf, CF_MAX_MEMBER_LIMIT);
	if (limit <= 0 || fs_path(path, sizeof path, "%s/members", dir) < 0)
		return ST_OK;
	if (members_count(path, &n) != ST_OK)
		return ST_TEMPFAIL;
	if (n < limit)
		return ST_OK;
	return status_why(err, ST_DATAERR, "the list is full (MAX_MEMBER_LIMIT %ld)", limit);
}

fml_status roster_add(const char *dir, const config *cf, const char *addr, const char *opts,
		      str *err, str *where)
{
	int fuzzy = (int)config_int(cf, CF_ADDR_CHECK_MAX);
	const char *why = addr_check(addr, strlen(addr));
	str e2 = STR_INIT;
	fml_status st;

	if (why)
		return status_why(err, ST_DATAERR, "bad address: %s", why);
	if ((st = roster_check_limit(dir, cf, err)) != ST_OK)
		return st;
	fml_status sa = membersedit_apply(dir, "actives", MEM_ADD, addr,
					  opts && *opts ? opts : NULL, fuzzy, err);
	if (sa != ST_OK && !(sa == ST_DATAERR && is(err, MEMBERSEDIT_ALREADY)))
		return sa;
	fml_status sm = membersedit_apply(dir, "members", MEM_ADD, addr, NULL, fuzzy, &e2);
	if (sm != ST_OK && !(sm == ST_DATAERR && is(&e2, MEMBERSEDIT_ALREADY))) {
		str_set(err, e2.s, e2.len);
		st = sm;
	} else if (sa != ST_OK && sm != ST_OK) {
		st = ST_DATAERR; /* already in both: ERR says so */
	} else {
		set_where(where, sm, sa);
		st = ST_OK;
	}
	str_free(&e2);
	return st;
}

fml_status roster_both(const char *dir, const config *cf, membersedit_op op, const char *addr,
		       const char *arg, str *err, str *where)
{
	int fuzzy = (int)config_int(cf, CF_ADDR_CHECK_MAX);
	str e2 = STR_INIT;
	fml_status sm = membersedit_apply(dir, "members", op, addr, arg, fuzzy, err);
	if (sm != ST_OK && !(sm == ST_DATAERR && is(err, MEMBERSEDIT_NOT_MEMBER)))
		return sm;
	fml_status sa = membersedit_apply(dir, "actives", op, addr, arg, fuzzy, &e2);
	fml_status st = ST_OK;
	if (sa != ST_OK && !(sa == ST_DATAERR && is(&e2, MEMBERSEDIT_NOT_MEMBER))) {
		str_set(err, e2.s, e2.len);
		st = sa;
	} else if (sm != ST_OK && sa != ST_OK) {
		st = ST_DATAERR;
	} else {
		set_where(where, sm, sa);
		if (sa == ST_OK && op == MEM_CHADDR)
			st = digeststate_chaddr(dir, addr, arg);
	}
	str_free(&e2);
	return st;
}
