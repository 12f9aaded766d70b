/*
 * privs: never run as root.  A program started as root (cron, an admin's
 * shell, an MTA configured to run pipes as root) switches to the owner of
 * the list home (or ML_DIR) before touching anything, as Postfix local(8)
 * does with the owner of the alias file; if that owner is root itself, it
 * refuses.
 */
#ifndef FML_PRIVS_H
#define FML_PRIVS_H

#include "status.h"
#include "str.h"

/* If running as root, become the owner of PATH (uid, gid, no supplementary
 * groups).  ST_NOPERM with a reason in ERR when PATH is owned by root or
 * cannot be examined. */
fml_status privs_drop_to_owner(const char *path, str *err);

#endif
