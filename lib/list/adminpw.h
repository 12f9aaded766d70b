/*
 * adminpw: remote administration passwords and the lockout.
 *
 * DIR/etc/passwd holds "addr hash" lines, the hash made by crypt(3) with
 * yescrypt ("$y$", a fresh random salt from crypt_gensalt_rn).  The file is
 * rewritten atomically (safefile_replace, mode 0600).  A check runs crypt_rn on
 * the candidate and compares the result with the stored hash in constant
 * time; an address without an entry is checked against a dummy hash so the
 * time does not tell which addresses exist.  Passwords are never logged.
 *
 * Lockout: DIR/var/db/adminauth holds "START COUNT UNTIL": failures counted
 * since START; ADMIN_LOCKOUT_FAILURES of them within ADMIN_LOCKOUT_TIME lock
 * admin commands of the list until UNTIL (ADMIN_LOCKOUT_TIME later).  The
 * caller holds the list lock.
 */
#ifndef FML_ADMINPW_H
#define FML_ADMINPW_H

#include <time.h>

#include "config.h"
#include "util/status.h"

/* Set (or replace) ADDR's password. */
fml_status adminpw_set(const char *dir, const char *addr, const char *password);
/* Remove ADDR's entry; ST_OK also when there was none. */
fml_status adminpw_remove(const char *dir, const char *addr);
/* 1: PASSWORD is ADDR's; 0: it is not, or ADDR has none; -1: I/O error. */
int adminpw_check(const char *dir, const char *addr, const char *password);

/* Are admin commands locked?  *UNTIL (may be NULL) gets the end time. */
int adminpw_locked(const char *dir, const config *cf, time_t now, time_t *until);
/* Record a failed password; returns 1 when this failure starts a lock. */
int adminpw_failed(const char *dir, const config *cf, time_t now);

#endif
