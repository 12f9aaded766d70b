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

/* File-system helpers with the same policy. */
fml_status fs_fsync_dir(const char *dir);
fml_status fs_replace(const char *path, const void *p, size_t n, int durable);
/* Overwrite PATH in place (created if need be), mtime set to now: for
 * small hints that are rewritten often (seq, var/run/current), where a
 * create-and-rename per post costs more than a torn write could (readers
 * treat them as hints). */
fml_status fs_overwrite(const char *path, const void *p, size_t n);
fml_status fs_read(const char *path, str *out, size_t limit); /* ST_NOINPUT if absent */
/* The whole lines within the last LIMIT bytes of PATH (ST_NOINPUT if absent). */
fml_status fs_read_tail(const char *path, str *out, size_t limit);
fml_status fs_append_line(const char *path, const char *line, size_t n);
/* fs_append_line, then fsync the file (and its directory when the append
 * created it): for records that must survive a crash once reported done. */
fml_status fs_append_sync(const char *path, const char *line, size_t n);
fml_status fs_mkdirs(const char *path, mode_t mode);
int fs_exists(const char *path);
/* snprintf into a fixed path buffer; a truncated path is fatal-free error. */
int fs_path(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
