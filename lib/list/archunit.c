/*
 * archunit: archive units and expiry.  See archunit.h.
 *
 * Cost per post: the directories are the only memory.  Units are made in
 * increasing order and never removed by fml, so "the highest existing
 * unit" is found by probing unit names downward from the last complete
 * block (one stat() when nothing is due), and only blocks above it are
 * written.  Expiry removes articles in increasing order, so the lowest
 * article still in the spool is found by probing block boundaries
 * downward from the highest archived block, and the walk stops at the
 * first article that must stay: a few stat() calls per post.
 *
 * Units: ustar + gzip (libarchive), entries "spool/N" with the spool
 * file's mtime, mode 0644, written by unitwrite.c, which the caller hands
 * in: without it (the alias pipe links no libarchive) a due unit is only
 * reported, for a program that has it.  Written through safefile (O_EXCL|O_NOFOLLOW
 * temp ".tmp.E.*" in ARCHIVE_DIR, fsync, checked close, rename, fsync of
 * the directory), so E.tar.gz is complete or absent.  Every writer holds
 * the list lock, so a temp file found when a unit is due was left by a
 * dead writer and is removed.  An article missing from the spool when its
 * block is written (a hole left by a crash, a file removed by hand) is
 * logged and left out: waiting for it could block the archive forever.
 *
 * Failure policy: errors are logged and returned; proc_drain() ignores
 * them (archunit_run), as the posts are already distributed, and the next
 * run tries again.  A failed write leaves no unit, so nothing is expired.
 */
#include "archunit.h"
#include "seq.h"
#include "util/fs.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/safefile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---------------------------------------------------------------- names */

static const char *arch_dir(list_ctx *c)
{
	return config_str(c->cf, CF_ARCHIVE_DIR);
}

static const char *spool_dir(list_ctx *c)
{
	return config_str(c->cf, CF_SPOOL_DIR);
}

/* Is DIR/E.tar.gz there (a regular file)? */
static int unit_exists(list_ctx *c, long e)
{
	char path[4096];
	struct stat st;
	return fs_path(path, sizeof path, "%s/%ld.tar.gz", arch_dir(c), e) == 0 &&
	       lstat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Is spool/N there?  *ST gets its lstat(). */
static int spool_has(list_ctx *c, long n, struct stat *st)
{
	char path[4096];
	struct stat tmp;
	if (!st)
		st = &tmp;
	return fs_path(path, sizeof path, "%s/%ld", spool_dir(c), n) == 0 && lstat(path, st) == 0 &&
	       S_ISREG(st->st_mode);
}

/* The highest K <= TOP with unit K*U present; 0 if none. */
static long top_block(list_ctx *c, long u, long top)
{
	while (top > 0 && !unit_exists(c, top * u))
		top--;
	return top;
}

static long unit_size(list_ctx *c)
{
	long u = (long)config_int(c->cf, CF_ARCHIVE_UNIT);
	if (u <= 0)
		msg_warn("ARCHIVE_UNIT %ld: not a positive number; no archive units made", u);
	return u;
}

/* ---------------------------------------------------------------- writing a unit */

/* Temp files of writers that died: every writer holds the list lock. */
static void sweep_temps(list_ctx *c)
{
	DIR *d = opendir(arch_dir(c));
	struct dirent *de;
	char path[4096];
	struct stat st;
	while (d && (de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, ".tmp.", 5) != 0 ||
		    fs_path(path, sizeof path, "%s/%s", arch_dir(c), de->d_name) < 0 ||
		    lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		msg_warn("removing %s, left by an interrupted archive run", path);
		unlink(path);
	}
	if (d)
		closedir(d);
}

fml_status archunit_update(list_ctx *c, archunit_writer w, int *due)
{
	*due = 0;
	if (!config_int(c->cf, CF_USE_ARCHIVE))
		return ST_OK;
	long u = unit_size(c), top;
	if (u <= 0)
		return ST_DATAERR;
	top = seq_last(c->dir) / u;
	long k = top_block(c, u, top);
	if (k == top)
		return ST_OK; /* the usual case: nothing due */
	if (!w) {
		*due = 1;
		return ST_OK;
	}
	if (fs_mkdirs(arch_dir(c), 0700) != ST_OK)
		return ST_TEMPFAIL;
	sweep_temps(c);
	for (k++; k <= top; k++) {
		fml_status st = w(c, k * u, u);
		if (st != ST_OK)
			return st;
	}
	return ST_OK;
}

/* ---------------------------------------------------------------- expiry */

fml_status archunit_parse_limit(const char *s, long *n, int *days)
{
	const char *p = s;
	long v = 0;
	if (*p < '0' || *p > '9')
		return ST_DATAERR;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (*p - '0');
		if (v > ARCHUNIT_LIMIT_MAX)
			return ST_DATAERR;
	}
	if (v < 1)
		return ST_DATAERR;
	*days = *p != 0;
	if (*p && strcasecmp(p, "days") != 0 && strcasecmp(p, "day") != 0 &&
	    strcasecmp(p, "d") != 0)
		return ST_DATAERR;
	*n = v;
	return ST_OK;
}

/* Block K (articles (K-1)*U+1 .. K*U) still has articles in the spool
 * (its first or its last: expiry goes in order, holes are rare). */
static int block_present(list_ctx *c, long k, long u)
{
	return spool_has(c, (k - 1) * u + 1, NULL) || spool_has(c, k * u, NULL);
}

/* Remove spool/N for N from the lowest present up to MAX, each only when
 * its unit exists; with DAYS, stop at the first article younger than
 * LIMIT days.  KTOP is the highest archived block. */
static long expire_walk(list_ctx *c, long u, long ktop, long max, int days, long limit)
{
	long k = ktop, removed = 0;
	char path[4096];
	while (k > 1 && block_present(c, k - 1, u))
		k--;
	for (long n = (k - 1) * u + 1; n <= max; n++) {
		struct stat st;
		if ((n - 1) % u == 0 && !unit_exists(c, (n - 1) / u * u + u)) {
			msg_warn("archive unit %ld.tar.gz is missing: articles %ld-%ld not expired",
				 (n - 1) / u * u + u, n, n + u - 1);
			n += u - 1;
			continue;
		}
		if (!spool_has(c, n, &st))
			continue;
		if (days && c->now - st.st_mtime < (time_t)limit * 86400)
			break;
		if (fs_path(path, sizeof path, "%s/%ld", spool_dir(c), n) < 0 ||
		    (unlink(path) < 0 && errno != ENOENT)) {
			msg_error("expire %s: %s", path, strerror(errno));
			break;
		}
		removed++;
	}
	return removed;
}

fml_status archunit_expire(list_ctx *c)
{
	long limit, u, seq;
	int days;
	if (!config_int(c->cf, CF_USE_EXPIRE))
		return ST_OK;
	const char *spec = config_str(c->cf, CF_EXPIRE_LIMIT);
	if (archunit_parse_limit(spec, &limit, &days) != ST_OK) {
		msg_warn("EXPIRE_LIMIT \"%.40s\": want N or Ndays; nothing expired", spec);
		return ST_DATAERR;
	}
	if (!config_int(c->cf, CF_USE_ARCHIVE)) {
		msg_warn("USE_EXPIRE without USE_ARCHIVE: only archived articles are expired, "
			 "so none is");
		return ST_OK;
	}
	if ((u = unit_size(c)) <= 0 || (seq = seq_last(c->dir)) < 2)
		return u <= 0 ? ST_DATAERR : ST_OK;
	long ktop = top_block(c, u, seq / u);
	long max = ktop * u < seq - 1 ? ktop * u : seq - 1; /* never the newest */
	if (!days && seq - limit < max)
		max = seq - limit;
	if (max < 1)
		return ST_OK;
	long removed = expire_walk(c, u, ktop, max, days, limit);
	if (removed) {
		char dir[4096];
		if (fs_path(dir, sizeof dir, "%s", spool_dir(c)) == 0)
			fs_fsync_dir(dir);
		msg_info("expired %ld article%s from the spool (EXPIRE_LIMIT %s)", removed,
			 removed == 1 ? "" : "s", spec);
	}
	return ST_OK;
}

int archunit_run(list_ctx *c, archunit_writer w)
{
	int due;
	archunit_update(c, w, &due);
	archunit_expire(c);
	return due;
}
