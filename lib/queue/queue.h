/*
 * queue: the areas of the outgoing queue and one item in them (reading
 * side; lib/queue/qitem.c writes items).  See doc/fml-queue.5.
 *
 *   QUEUE_DIR/{tmp,new,active,deferred,sent,drop,corrupt}/   the areas
 *   QUEUE_DIR/journal/NAME         per-item journal (the truth about
 *                                  recipients; state bytes are a cache)
 *   QUEUE_DIR/journal/NAME.wK      a delivery worker's part, merged later
 *
 * Journal lines (appended, fsynced after each transaction):
 *   D ADDR             a relay accepted ADDR (the recipient with ADDR: for a
 *                      snapshot item found by qsnap_lookup(), O(log n) and
 *                      one block of the snapshot, never all of it)
 *   F ADDR CODE TEXT   ADDR given up (5xx, or lifetime over)
 *   T ADDR CODE TEXT   ADDR failed temporarily in this attempt
 *   A N UNIXTIME       attempt N ended; next try at UNIXTIME
 *   P OFFSET           F lines before OFFSET were reported
 *   R PID UNIXTIME     runner PID died holding the item; put back
 *   K N                the maintainer was told of N deaths
 * A line without its LF (a crash mid-append) is ignored.
 */
#ifndef FML_QUEUE_H
#define FML_QUEUE_H

#include <sys/types.h>
#include <time.h>

#include "qsnap.h"
#include "util/status.h"
#include "util/str.h"

enum { QS_PENDING = '-', QS_DONE = 'D', QS_FAILED = 'F', QS_TEMP = 'T' };

typedef struct queue_item {
	char name[256];	    /* the item's name (no .PID) */
	char path[4096];    /* where it is now */
	int fd;		    /* open O_RDWR while claimed, else O_RDONLY */
	off_t size;	    /* file size */
	off_t msg_start;    /* the message: [msg_start, msg_end) */
	off_t msg_end;	    /* = size - QITEM_TRAILER_LEN */
	str env;	    /* the envelope bytes, NUL at every line end */
	const char *sender; /* "" for <> */
	const char *list;
	time_t created;
	long article;
	size_t nrcpt;
	const char **rcpt; /* into env; NULL for a snapshot item */
	off_t *state_off;  /* file offset of each state byte (rcpt lines only) */
	char *state;	   /* journal's view: QS_* per recipient, by ordinal */
	int snap;	   /* the recipients are a snapshot ("rcpts" line): */
	qsnap_ref ref;	   /* what the item says of it */
	qsnap s;	   /* the snapshot, open and verified */
	int attempts;	   /* from the journal */
	time_t next_try;   /* 0: never tried */
} queue_item;

/* Walking the recipients of an item in order (rcpt lines or snapshot). */
typedef struct queue_rcpt_iter {
	queue_item *q;
	size_t next; /* ordinal of the next one */
	qsnap_iter si;
} queue_rcpt_iter;

extern const char *const queue_areas[]; /* tmp new active ... corrupt, NULL */

/* Make the areas and journal/ under QDIR if missing. */
fml_status queue_init(const char *qdir);
/* Open and check PATH (trailer length, SHA-256, envelope).  ST_DATAERR with
 * ERR when the item is damaged; ST_TEMPFAIL on I/O trouble. */
fml_status queue_open(queue_item *q, const char *path, int rdwr, str *err);
void queue_close(queue_item *q);
/* The recipients of Q in order: 1 with ORD and ADDR (valid until the next
 * call), 0 at the end, -1 on a read error. */
void queue_rcpt_start(queue_item *q, queue_rcpt_iter *it);
int queue_rcpt_next(queue_rcpt_iter *it, size_t *ord, const char **addr);
void queue_rcpt_end(queue_rcpt_iter *it);
/* Call FN for each complete line of journal/NAME (PART < 0) or its part
 * .wPART, read in chunks: LINE without its LF, OFF its offset.  FN returns
 * nonzero to stop.  ST_NOINPUT when there is no such file. */
fml_status queue_journal_scan(const char *qdir, const char *name, int part,
			      int (*fn)(const char *line, size_t len, off_t off, void *arg),
			      void *arg);
/* Read the journal (main file and worker parts) into q->state, attempts,
 * next_try.  Recipients without D/F stay QS_PENDING. */
fml_status queue_journal_load(const char *qdir, queue_item *q);
/* The last "A N NEXT" line of NAME's journal: 0 and the values, or -1. */
int queue_journal_next(const char *qdir, const char *name, int *attempts, time_t *next);
/* Append worker parts to the main journal, fsync it, remove the parts. */
fml_status queue_journal_merge(const char *qdir, const char *name);
/* Open journal/NAME (PART < 0) or journal/NAME.wPART for appending. */
int queue_journal_open(const char *qdir, const char *name, int part);
/* Append TEXT (whole journal lines) and fsync. */
fml_status queue_journal_append(int fd, const str *text);
void queue_journal_remove(const char *qdir, const char *name);
/* The main journal of NAME (or of a part "NAME.wK") into J (cleared
 * first); ST_NOINPUT when there is none. */
fml_status queue_journal_read(const char *qdir, const char *name, str *j);

/* Claim AREA/NAME: rename to active/NAME.PID and open it.  ST_NOINPUT when
 * another runner took it first; ST_DATAERR when it was damaged (it is then
 * in corrupt/ and ERR says why). */
fml_status queue_claim(const char *qdir, const char *area, const char *name, queue_item *q,
		       str *err);
/* Move a claimed item from active/ to AREA (and close it). */
fml_status queue_release(const char *qdir, queue_item *q, const char *area);
/* Write the cached state bytes (pwrite) from q->state. */
void queue_cache_states(queue_item *q);

/* Names of AREA (NUL-separated, sorted); returns their count or -1. */
int queue_list(const char *qdir, const char *area, str *names);
/* The item called ID anywhere in the queue: its area and path. */
int queue_find(const char *qdir, const char *id, const char **area, char *path, size_t size);
/* The PID in active/NAME.PID, or -1. */
long queue_active_pid(const char *aname, char *name, size_t size);
/* Is the writer or runner PID gone?  Also 1 for no PID (<= 0) and for our
 * own: what such a process left is nobody's. */
int queue_pid_dead(long pid);
/* Does an item of envelope sender SENDER pass FILTER?  A NULL, "" or "@"
 * FILTER passes every item (and SENDER may then be NULL); else SENDER must
 * equal it, case-insensitively. */
int queue_sender_match(const char *filter, const char *sender);

/* Parse QUEUE_RETRY_SCHEDULE; the wait after attempt N (1-based). */
long queue_retry_wait(const char *schedule, int attempt);

#endif
