/*
 * cmdrecord: what a command mail has done so far, so that a run after a
 * temporary failure (the item stays in var/incoming and is run again)
 * neither repeats a command nor loses or falsifies its answer.
 *
 * One file per command mail, DIR/var/db/cmd/ID (ID: the incoming item),
 * of lines appended as the commands run:
 *
 *   begin I\n          command I (0-based) is about to change something
 *   done I S TEXT\n    command I is complete; S is what the mail's state
 *                      was after it (a number the caller gives: the admin
 *                      password's), TEXT its part of the report,
 *                      %XX-escaped (bytes below 0x20, '%', 0x7f)
 *
 * A torn last line (no newline) does not count.  A command with a "done"
 * line is not run again: its TEXT goes into the report.  A command with
 * only a "begin" line failed part-way: its handler is told (cmd_run's
 * retry) so that it can tell "done by my earlier attempt" from "done by
 * someone else".  The file goes when the item is finished; one whose item
 * is gone otherwise (poison, a crash in between) is swept.
 *
 * Failure policy: I/O trouble is logged and ST_TEMPFAIL (the whole mail
 * waits for a later run).  "done" lines of commands that change nothing
 * are appended without fsync (losing one only means running a read-only
 * command again); all others, and "begin", are fsynced.
 */
#ifndef FML_CMDRECORD_H
#define FML_CMDRECORD_H

#include <stddef.h>
#include <time.h>

#include "util/status.h"
#include "util/str.h"

typedef struct cmdrecord {
	char path[4096];
	str raw;   /* the file as read, then with our appends */
	int fresh; /* the next append starts a new line */
} cmdrecord;

/* Read DIR/var/db/cmd/ID if it exists (none: an empty record). */
fml_status cmdrecord_open(cmdrecord *r, const char *dir, const char *id);
void cmdrecord_free(cmdrecord *r);

/* Is command I done?  Then its report TEXT is appended to OUT and its
 * state is in *STATE. */
int cmdrecord_done(const cmdrecord *r, size_t i, str *out, int *state);
/* Was command I begun (and not done) by an earlier run? */
int cmdrecord_begun(const cmdrecord *r, size_t i);

fml_status cmdrecord_begin(cmdrecord *r, size_t i);
/* Command I is done with report TEXT (LEN bytes), leaving STATE (0..9);
 * DURABLE: fsync it. */
fml_status cmdrecord_add(cmdrecord *r, size_t i, int state, const char *text, size_t len,
			 int durable);

/* The item ID is finished: its record goes (ST_OK if there was none). */
fml_status cmdrecord_remove(const char *dir, const char *id);
/* Remove records older than AGE seconds whose item left var/incoming. */
void cmdrecord_sweep(const char *dir, time_t now, long age);

#endif
