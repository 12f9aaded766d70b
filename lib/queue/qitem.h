/*
 * qitem: one item of the outgoing queue (var/queue/), written by fml,
 * fmlqueue and fmldigest, delivered by fmlqueue.  The format is documented
 * in doc/fml-queue.5:
 *
 *   FMLQ 1\n
 *   sender ADDR\n              envelope sender ("sender " alone for <>)
 *   created UNIXTIME\n
 *   list NAME\n
 *   [article N\n]
 *   rcpt S ADDR\n              one per recipient; S is a one-byte state the
 *   ...                         runner may overwrite in place ('-' pending)
 *   or instead:
 *   rcpts GEN COUNT SHA256\n   the recipients are snapshot GEN (qsnap.h):
 *                               articles; its checksum is covered here
 *   \n                         end of the envelope
 *   the message, byte for byte (LF or CRLF as stored; the transport puts
 *   CRLF and dot-stuffing on the wire)
 *   \nFMLQ-END LLLLLLLLLLLLLLLLLLLL HHHH(64)\n   trailer, fixed 96 bytes:
 *                              length of everything before it, SHA-256 of
 *                              it with every rcpt state byte read as '-'
 *
 * Writing: qitem_begin() opens tmp/NAME.<unique>, qitem_envelope() writes
 * the envelope, qitem_write() the message, qitem_commit() the trailer,
 * then fsync, rename to new/NAME and fsync new/: the rename is the commit.
 */
#ifndef FML_QITEM_H
#define FML_QITEM_H

#include "util/safefile.h"
#include "util/sha256.h"
#include "util/status.h"
#include "util/str.h"

#define QITEM_TRAILER_LEN 96

typedef struct qitem_writer {
	safefile sf;
	sha256 sha;
	char final[4096];
	long long len;
	int sealed; /* qitem_seal() wrote the trailer */
} qitem_writer;

/* NAME: [A-Za-z0-9._-]+ unique within the queue ("a123" for article 123). */
fml_status qitem_begin(qitem_writer *w, const char *queue_dir, const char *name);
/* The same, written in TMP (a file in QUEUE_DIR/tmp made empty beforehand,
 * or made here: safefile_open_reuse) instead of a temp of its own. */
fml_status qitem_begin_tmp(qitem_writer *w, const char *queue_dir, const char *name,
			   const char *tmp);
/* Recipients are NUL-separated in RCPTS (N of them); each must already
 * have passed addr_check().  ARTICLE 0 = none. */
fml_status qitem_envelope(qitem_writer *w, const char *sender, const char *list_name, long article,
			  const char *rcpts, size_t n);
/* The same in parts: the head lines, then the caller writes the rcpt
 * lines (qitem_rcpt_line) and the blank line with qitem_write(). */
fml_status qitem_envelope_head(qitem_writer *w, const char *sender, const char *list_name,
			       long article);
void qitem_rcpt_line(str *out, const char *addr, size_t len);
/* Or, after the head, the recipients as a snapshot (queue/qsnap.h): the
 * line "rcpts GEN COUNT SHA256" and the blank line. */
fml_status qitem_rcpts_line(qitem_writer *w, const char *gen, size_t count, const char *sha);
fml_status qitem_write(qitem_writer *w, const void *p, size_t n);
fml_status qitem_commit(qitem_writer *w);
/* The same without the fsync of new/: the caller commits several names in
 * one step (an article: spool/N and its item) and calls qitem_sync_new()
 * before it counts the item as queued. */
fml_status qitem_commit_nodir(qitem_writer *w);
fml_status qitem_sync_new(const char *queue_dir);
/* The trailer now, and the write-back started (safefile_start_sync), for
 * a caller that commits several items later, one after the other (their
 * fsyncs then overlap); what may follow is the commit or the abort. */
fml_status qitem_seal(qitem_writer *w);
void qitem_abort(qitem_writer *w);

/* Is there a committed item named NAME (or NAME.<pid> in active/)? */
int qitem_exists(const char *queue_dir, const char *name);
/* A unique name for a non-article item: PREFIX.SEC.USEC.PID */
void qitem_unique_name(const char *prefix, char *buf, size_t size);

#endif
