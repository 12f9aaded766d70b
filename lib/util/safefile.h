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
	int linked;    /* safefile_link() made FINAL: the temp name is the caller's */
} safefile;

/* Create DIR/PREFIX.<sec>.<usec>.<pid>.<rand>; PREFIX should start with a
 * dot or "tmp" so that readers skip it. */
fml_status safefile_open(safefile *sf, const char *dir, const char *prefix);
/* Create exactly TMPPATH (must not exist). */
fml_status safefile_open_path(safefile *sf, const char *tmppath);
/* TMPPATH, made empty beforehand (the inode allocated outside a lock:
 * that is where the cost of making a file is) or made here: opened, and
 * emptied, if it is a regular file with one link; ST_TEMPFAIL if not (a
 * second link makes it someone's data). */
fml_status safefile_open_reuse(safefile *sf, const char *tmppath);
fml_status safefile_write(safefile *sf, const void *p, size_t n);
fml_status safefile_puts(safefile *sf, const char *s);
/* Flush the buffer and start the write-back of what was written (Linux
 * sync_file_range), without waiting: the fsyncs of several files started
 * so, one after the other, wait for their writes together.  The file
 * stays open for safefile_write() or a commit. */
fml_status safefile_start_sync(safefile *sf);
/* Flush, fsync and close; the file stays under its temp name. */
fml_status safefile_sync(safefile *sf);
/* sync, rename to FINAL (any directory of the same file system), fsync
 * FINAL's directory. */
fml_status safefile_commit(safefile *sf, const char *final);
/* sync, link to FINAL, fsync the directory.  ST_DATAERR: FINAL exists
 * (EEXIST), nothing linked.  Once the link is made, sf->linked is set and
 * stays set whatever follows: ST_OK, or ST_TEMPFAIL when the directory
 * could not be fsynced (FINAL exists but may not survive a crash).  Either
 * way the temp name is kept, with a link count of 2, for the caller to
 * finish or recover and unlink later; safefile_abort() leaves it. */
fml_status safefile_link(safefile *sf, const char *final);
/* The same without the directory fsync: the caller fsyncs FINAL's
 * directory (fs_fsync_dir) before it reports the file committed, once for
 * several names made in one step (an article and its queue item).  Until
 * then FINAL exists but may not survive a crash. */
fml_status safefile_commit_nodir(safefile *sf, const char *final);
/* safefile_link() with neither fsync: FINAL exists but neither its data
 * nor its name may survive a crash of the machine, for a file that a
 * durable copy stands for (an article and its queue item). */
fml_status safefile_link_nosync(safefile *sf, const char *final);
/* Flush and close (checked) without any fsync, rename to FINAL: atomic but
 * not durable.  For caches, and for a file whose durability is decided
 * later (var/incoming: incoming_sync()). */
fml_status safefile_rename(safefile *sf, const char *final);
/* close and unlink the temp file (unless safefile_link() linked it) */
void safefile_abort(safefile *sf);

/* Replace PATH whole with N bytes: a temp file beside it, renamed over it;
 * DURABLE adds the fsyncs (file, then directory). */
fml_status safefile_replace(const char *path, const void *p, size_t n, int durable);

#endif
