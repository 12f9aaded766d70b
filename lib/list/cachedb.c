/*
 * cachedb: gdbm files used as caches.  See cachedb.h.
 */
#include "cachedb.h"
#include "util/fs.h"
#include "util/msg.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

GDBM_FILE cachedb_open(const char *path, int locked, time_t now, const char *what)
{
	int flags = GDBM_WRCREAT | GDBM_NOMMAP | (locked ? 0 : GDBM_NOLOCK);
	GDBM_FILE db = gdbm_open(path, 0, flags, 0600, NULL);
	struct stat st;
	if (db || (locked && gdbm_errno == GDBM_CANT_BE_WRITER))
		return db;
	if (lstat(path, &st) == 0 && (!S_ISREG(st.st_mode) || !gdbm_check_syserr(gdbm_errno))) {
		/* damaged: kept aside for inspection, and a new one started (an
		 * open that failed for I/O trouble is no damage: moving the file
		 * aside would forget all it holds) */
		char aside[4096];
		if (fs_path(aside, sizeof aside, "%s.damaged.%lld.%d", path, (long long)now,
			    (int)getpid()) == 0 &&
		    rename(path, aside) == 0) {
			msg_warn("%s %s damaged (%s): moved to %s, starting afresh", what, path,
				 gdbm_strerror(gdbm_errno), aside);
			db = gdbm_open(path, 0, flags, 0600, NULL);
		}
	}
	return db;
}

void cachedb_close(GDBM_FILE db)
{
	if (!db)
		return;
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && dup2(fd, gdbm_fdesc(db)) < 0)
		msg_warn("cache: dup2: %s", strerror(errno));
	if (fd >= 0)
		close(fd);
	gdbm_close(db);
}
