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
	if (stat(path, &st) < 0) {
		str_printf(err, "%s: %s", path, strerror(errno));
		return ST_NOPERM;
	}
	if (st.st_uid == 0) {
		str_printf(err, "refusing to run as root: %s is owned by root", path);
		return ST_NOPERM;
	}
	if (setgroups(0, NULL) < 0 || setgid(st.st_gid) < 0 || setuid(st.st_uid) < 0) {
		str_printf(err, "cannot switch to uid %u: %s", (unsigned)st.st_uid,
			   strerror(errno));
		return ST_NOPERM;
	}
	if (setuid(0) == 0) {
		str_printf(err, "could regain root after dropping privileges");
		return ST_NOPERM;
	}
	return ST_OK;
}
