/*
 * privs: drop root to the owner of a directory.  See privs.h.
 */
#include "privs.h"

#include <errno.h>
#include <grp.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

fml_status privs_drop_to_owner(const char *path, str *err)
{
	if (geteuid() != 0 && getuid() != 0)
		return ST_OK;
	struct stat st;
	if (stat(path, &st) < 0)
		return status_why(err, ST_NOPERM, "%s: %m", path);
	if (st.st_uid == 0)
		return status_why(err, ST_NOPERM, "refusing to run as root: %s is owned by root",
				  path);
	if (setgroups(0, NULL) < 0 || setgid(st.st_gid) < 0 || setuid(st.st_uid) < 0)
		return status_why(err, ST_NOPERM, "cannot switch to uid %u: %m",
				  (unsigned)st.st_uid);
	if (setuid(0) == 0)
		return status_why(err, ST_NOPERM, "could regain root after dropping privileges");
	return ST_OK;
}
