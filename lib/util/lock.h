/*
 * lock: the per-list lock, with a deadline on the monotonic clock.
 *   USE_FLOCK=1: flock(LOCK_EX|LOCK_NB) on DIR/var/run/lock, polled with a
 *     short back-off until the deadline (never a blocking flock that
 *     SA_RESTART would make deaf to an alarm).  The fd is O_CLOEXEC so
 *     children never inherit it.
 *   USE_FLOCK=0: fml's link(2) lock DIR/var/run/lockfile.v7.  The holder is
 *     recorded in it ("host boot_id pid start_time").  A lock is stale when
 *     it was made on this host and boot and its pid is gone or has another
 *     start time, or when it is older than STALE_AGE.  A stale lock is broken
 *     by renaming it to a unique name first, so two breakers cannot both win.
 * ST_TEMPFAIL on timeout (with timed_out set) or I/O trouble (logged); the
 * caller leaves the mail in var/incoming.
 */
#ifndef FML_LOCK_H
#define FML_LOCK_H

#include "status.h"

typedef struct fml_lock {
	int fd;			/* flock: the locked fd; -1 when not held */
	int v7;			/* held through lockfile.v7 */
	int cleanup;		/* msg clean-up handle removing lockfile.v7 on SIGTERM */
	unsigned long long ino; /* lockfile.v7's inode while we hold it */
	int timed_out;		/* after a failed acquire: the deadline passed (else I/O trouble) */
	char path[4096];
} fml_lock;

/* TIMEOUT and STALE_AGE in seconds.  TIMEOUT 0 = try once. */
fml_status lock_acquire(fml_lock *lk, const char *dir, int use_flock, long timeout, long stale_age);
void lock_release(fml_lock *lk);

#endif
