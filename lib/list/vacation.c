/*
 * vacation: members off for a while.  See vacation.h.
 */
#include "vacation.h"
#include "members.h"
#include "membersedit.h"
#include "util/fs.h"
#include "util/msg.h"
#include "util/safefile.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

/* Today + DAYS (local time) as YYYY-MM-DD into OUT */
static void day_after(time_t now, long days, char out[11])
{
	struct tm tm;
	localtime_r(&now, &tm);
	tm.tm_mday += (int)days;
	tm.tm_hour = 12; /* no daylight saving edge */
	mktime(&tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

/* var/db/vacation: the first day one of them comes back, or "" */
static void vacation_next(const char *dir, str *out)
{
	char path[PATH_MAX];
	str_clear(out);
	if (fs_path(path, sizeof path, "%s/var/db/vacation", dir) == 0 &&
	    fs_read(path, out, 64) == ST_OK) {
		str_truncate(out, out->len > 10 ? 10 : out->len);
		if (!members_date_ok(out->s, out->len))
			str_clear(out);
	}
}

static fml_status vacation_set(const char *dir, const char *date)
{
	char path[PATH_MAX];
	if (fs_path(path, sizeof path, "%s/var/db/vacation", dir) < 0)
		return ST_TEMPFAIL;
	if (!date) {
		if (unlink(path) < 0 && errno != ENOENT)
			return ST_TEMPFAIL;
		return ST_OK;
	}
	str line = STR_INIT;
	str_printf(&line, "%s\n", date);
	fml_status st = safefile_replace(path, line.s, line.len, 0);
	str_free(&line);
	return st;
}

fml_status vacation_begin(const char *dir, const config *cf, const char *addr, long days,
			  time_t now, char until[11], str *err)
{
	if (days < 1 || days > 366)
		return status_why(err, ST_DATAERR, "a vacation is 1 to 366 days");
	day_after(now, days, until);
	fml_status st = membersedit_apply(dir, "actives", MEM_OFF, addr, until,
					  (int)config_int(cf, CF_ADDR_CHECK_MAX), err);
	str next = STR_INIT;
	vacation_next(dir, &next);
	if (st == ST_OK && (!next.len || strcmp(until, next.s) < 0) &&
	    vacation_set(dir, until) != ST_OK)
		st = status_why(err, ST_TEMPFAIL, "cannot write var/db/vacation");
	str_free(&next);
	return st;
}

typedef struct back {
	const char *today;
	char next[11];
	str due; /* addresses, NUL-separated */
} back;

static int vacation_scan(const member_entry *e, void *arg)
{
	back *b = arg;
	char date[11];
	if (e->bye || !e->off || !members_until(e, date))
		return 0;
	if (strcmp(date, b->today) <= 0)
		str_append(&b->due, e->addr.s, e->addr.len + 1);
	else if (!b->next[0] || strcmp(date, b->next) < 0)
		memcpy(b->next, date, sizeof b->next);
	return 0;
}

fml_status vacation_end_due(const char *dir, const config *cf, time_t now, int scan)
{
	char today[11], path[PATH_MAX];
	str next = STR_INIT, err = STR_INIT;
	day_after(now, 0, today);
	vacation_next(dir, &next);
	int due = next.len && strcmp(next.s, today) <= 0;
	str_free(&next);
	if (!due && !scan)
		return ST_OK;
	back b = {today, "", STR_INIT};
	fml_status st = members_path(path, sizeof path, dir, "actives");
	if (st == ST_OK)
		st = members_foreach(path, vacation_scan, &b);
	for (const char *a = str_c(&b.due); st == ST_OK && a < str_c(&b.due) + b.due.len;
	     a += strlen(a) + 1) {
		fml_status r = membersedit_apply(dir, "actives", MEM_ON, a, NULL,
						 (int)config_int(cf, CF_ADDR_CHECK_MAX), &err);
		if (r == ST_OK)
			msg_info("vacation of %s is over: delivery on", a);
		else if (r == ST_TEMPFAIL)
			st = r;
	}
	if (st == ST_OK)
		st = vacation_set(dir, b.next[0] ? b.next : NULL);
	str_free(&b.due);
	str_free(&err);
	return st;
}

long vacation_days(const char *p, size_t n)
{
	unsigned long v = 0;
	size_t i;
	for (i = 0; i < n && p[i] >= '0' && p[i] <= '9' && v <= 366; i++)
		v = v * 10 + (unsigned long)(p[i] - '0');
	if (i < n && (p[i] == 'w' || p[i] == 'W') && i + 1 == n)
		v *= 7, i++;
	else if (i < n && (p[i] == 'd' || p[i] == 'D') && i + 1 == n)
		i++;
	return i == 0 || i < n || v < 1 || v > 366 ? 0 : (long)v;
}
