/*
 * membersjournal: appending to a member file with an intent record
 * (DIR/var/db/FILE.journal) written and fsynced first, so that a crash
 * half-way is finished by the next run that takes the list lock.  See
 * membersjournal.c.
 */
#ifndef FML_MEMBERSJOURNAL_H
#define FML_MEMBERSJOURNAL_H

#include <stddef.h>
#include <sys/stat.h>

#include "util/status.h"
#include "util/str.h"

/* Append DATA[0..N) (whole lines) to DIR/FILE (created if missing; a "\n"
 * is put first when the file does not end with one): the journal, then the
 * append and its fsync.  *BEFORE and *AFTER get the file's stat before and
 * after (BEFORE all zero when it did not exist).  The caller updates the
 * index, then calls membersjournal_done().  ST_TEMPFAIL (logged) on
 * trouble, the file untouched or the journal left for recovery. */
fml_status membersjournal_append(const char *dir, const char *file, const char *data, size_t n,
				 struct stat *before, struct stat *after);
/* The append is complete: remove the journal. */
void membersjournal_done(const char *dir, const char *file);
/* A journal left by a run that died: a complete one is replayed (the file
 * cut back to its size before the append, the data written again), a torn
 * one is removed (the file was not touched yet).  ST_OK also when there is
 * none; ST_TEMPFAIL (logged) when the replay fails. */
fml_status membersjournal_recover(const char *dir, const char *file);
/* membersjournal_recover() for every member file: for the readers under
 * the list lock (a post's lookup), so that distribute never reads a torn
 * actives. */
fml_status membersjournal_recover_all(const char *dir);

/*
 * The append log of actives, DIR/var/db/actives.appends: one line per
 * append made through membersjournal_append(), written once the append is
 * durable,
 *
 *   STAMP_BEFORE STAMP_AFTER OFFSET LEN\n
 *
 * (exact stamps, members_stamp()); past LOG_MAX bytes only its last lines
 * are kept.  A hint for the recipient snapshots
 * (queue/qsnap.h): a chain of lines from the stamp of a snapshot to the
 * stamp of actives now says that only the bytes [OFFSET, OFFSET + LEN) of
 * each were added since.  Not synced: a lost line only costs a full
 * snapshot.  Any other change of the file (a rewrite, a hand edit) gives a
 * stamp no line has, so it is never taken for an append.
 */
typedef struct membersjournal_link {
	str before, after; /* exact stamps */
	off_t off, len;
} membersjournal_link;

/* The append log of DIR/FILE: *V (N lines, oldest first; free with
 * membersjournal_links_free).  No log is no line. */
void membersjournal_links(const char *dir, const char *file, membersjournal_link **v, size_t *n);
void membersjournal_links_free(membersjournal_link *v, size_t n);
/* DIR/FILE was rewritten: its append log is of no further use. */
void membersjournal_forget(const char *dir, const char *file);

#endif
