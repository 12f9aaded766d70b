/*
 * fs: small file-system helpers (paths, reads, appends, directories) with
 * safefile's failure policy: errors are logged and returned as
 * ST_TEMPFAIL.  Whole-file commits are safefile's.
 */
#ifndef FML_FS_H
#define FML_FS_H

#include <stddef.h>
#include <sys/types.h>

#include "status.h"
#include "str.h"

fml_status fs_fsync_dir(const char *dir);
/* fsync PATH (a file or a directory) and close it: 0, or -1 with errno
 * (ENOENT: no such file).  No logging, nothing but open/fsync/close, so it
 * may run from a signal handler's clean-up (msg_cleanup_push). */
int fs_fsync_path(const char *path);
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

/* PATH's directory ("." for a bare name) into DIR. */
void fs_dirname(const char *path, char *dir, size_t size);
/* read(2) / pread(2) until N bytes, end of file or an error (EINTR is
 * retried): the bytes read, or -1 with errno set. */
ssize_t fs_read_full(int fd, void *buf, size_t n);
ssize_t fs_pread_full(int fd, void *buf, size_t n, off_t off);
/* All N bytes of BUF at OFF (EINTR retried): N, or -1 with errno set. */
ssize_t fs_pwrite_full(int fd, const void *buf, size_t n, off_t off);

#endif
