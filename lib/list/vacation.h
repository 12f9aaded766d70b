/*
 * vacation: "off 14d", a member off for a while and back on by itself.
 * The member's line in actives is off with u=YYYY-MM-DD (the day delivery
 * starts again); var/db/vacation holds the first such day of the list, so
 * that the drain's sweep (every 10 minutes, under the list lock) reads
 * actives only when someone is due, and a list without vacations has no
 * file more.  A u= an admin writes by hand is found by the next full look:
 * an import, or the next due day.
 */
#ifndef FML_VACATION_H
#define FML_VACATION_H

#include <time.h>

#include "config.h"
#include "util/status.h"
#include "util/str.h"

/* "off for DAYS days" (a vacation): ADDR off in actives with u=UNTIL (today
 * + DAYS, YYYY-MM-DD into UNTIL), var/db/vacation holding the first day
 * anyone comes back.  ST_DATAERR with the reason in ERR (not a member, a
 * bad number of days). */
fml_status vacation_begin(const char *dir, const config *cf, const char *addr, long days,
			  time_t now, char until[11], str *err);
/* Members whose vacation is over (u= today or earlier) back on, logged;
 * var/db/vacation set to the next day due.  Reads actives only when that
 * day has come, or when SCAN (an import: u= lines it wrote).
 * The caller holds the list lock. */
fml_status vacation_end_due(const char *dir, const config *cf, time_t now, int scan);

/* "14", "14d" or "2w" (P, N bytes) as days, 1 to 366; 0 when it is not. */
long vacation_days(const char *p, size_t n);

#endif
