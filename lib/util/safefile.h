/*
 * safefile: write a file so that a crash never leaves it half-written under
 * its final name.  A temp file is made beside the target with
 * O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC (mode 0600), written through a buffer,
 * fsynced and closed (both checked), then renamed (or hard-linked, for
 * "creation is allocation" names) and the directory fsynced.  Until it is
 * committed, the temp file is registered for clean-up by msg_fatal() and
 * SIGTERM.  A failed fsync is never retried: the caller abandons the file.
 */
#ifndef FML_SAFEFILE_H
#define FML_SAFEFILE_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

#include "status.h"
#include "str.h"

typedef struct safefile {
	int fd;
	int cleanup;
	char tmp[PATH_MAX];
	char dir[PATH_MAX];
	char *buf;
	size_t buflen;
	off_t written; /* bytes handed to safefile_write() */
	int failed;    /* a write failed: commit will refuse */
} safefile;

/* Create DIR/PREFIX.<sec>.<usec>.<pid>.<rand>; PREFIX should start with a
 * dot or "tmp" so that readers skip it. */
fml_status safefile_open(safefile *sf, const char *dir, const char *prefix);
/* Create exactly TMPPATH (must not exist). */
fml_status safefile_open_path(safefile *sf, const char *tmppath);
fml_status safefile_write(safefile *sf, const void *p, size_t n);
fml_status safefile_puts(safefile *sf, const char *s);
/* Flush, fsync and close; the file stays under its temp name. */
fml_status safefile_sync(safefile *sf);
/* sync, rename to FINAL (any directory of the same file system), fsync
 * FINAL's directory. */
fml_status safefile_commit(safefile *sf, const char *final);
/* sync, link to FINAL (EEXIST -> ST_DATAERR, temp kept), fsync the
 * directory.  The temp name is kept: the caller unlinks it later. */
fml_status safefile_link(safefile *sf, const char *final);
void safefile_abort(safefile *sf); /* close and unlink the temp file */

/* Replace PATH whole with N bytes: a temp file beside it, renamed over it;
 * DURABLE adds the fsyncs (file, then directory). */
fml_status safefile_replace(const char *path, const void *p, size_t n, int durable);

#endif
