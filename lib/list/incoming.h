/*
 * incoming: the accept step and the items it leaves in DIR/var/incoming/.
 * Accepting is the commit point: stdin is streamed into a temp file (size
 * limit enforced, SHA-256 computed on the way), closed and renamed to its
 * final name.  Before that any failure means ST_TEMPFAIL and nothing left
 * behind; after it the mail is ours, but not yet durable: a program that
 * exits 0 with the item still waiting calls incoming_sync() first (why
 * this is safe: incoming.c).
 *
 * Item format (doc/fml-list.5):
 *   "fml-incoming 1 MODE SENDER\n"      MODE post|ctl; SENDER "-" (unknown),
 *                                       "<>" or "<addr>" with %XX escapes
 *   the mail, byte for byte as received
 *   "\nfml-trailer LLLLLLLLLLLLLLLLLLLL HHHH...(64)\n"   (fixed 99 bytes:
 *                                       mail length, SHA-256 of the mail)
 * Names "SSSSSSSSSS.UUUUUU.PID.RAND" sort in arrival order; "tmp.*" are
 * being written (a dead writer's are removed by incoming_list()).
 */
#ifndef FML_INCOMING_H
#define FML_INCOMING_H

#include <sys/types.h>

#include "util/status.h"
#include "util/str.h"

#define INCOMING_TRAILER_LEN 99
#define INCOMING_SENDER_MAX 512 /* longer SENDER values are recorded as unknown */

/* what the alias said the mail is: to the posting address, the command
 * address (--ctladdr) or the bounce address (--bounce) */
typedef enum incoming_mode { IN_POST = 0, IN_CTL = 1, IN_BOUNCE = 2 } incoming_mode;

typedef struct incoming_item {
	char id[128];
	char path[4096];
	int fd;
	incoming_mode mode;
	int has_sender;	  /* SENDER was given at accept time */
	str sender;	  /* "" for <> */
	off_t mail_start; /* first byte of the mail */
	off_t mail_end;	  /* just past the mail */
	char sha256[65];
	long long arrival; /* seconds since the epoch, from the name */
} incoming_item;

/* Stream FD_IN into DIR/var/incoming.  SENDER NULL = unknown.  LIMIT bytes
 * (0 = none).  On success ID holds the item name; an empty input gives
 * ST_OK with an empty ID (nothing to do).  ST_TOOBIG over the limit.
 * COMMITTED (may be NULL) runs right after the commit with every signal
 * held, so a program can change what a signal means at the commit point
 * (fml: SIGTERM gives 75 before it and 0 after it). */
fml_status incoming_accept(const char *dir, int fd_in, incoming_mode mode, const char *sender,
			   long long limit, void (*committed)(void), str *id);

/* Make item ID durable: fsync the file, then var/incoming.  ST_NOINPUT if
 * it is gone (a run took it), ST_TEMPFAIL (logged) if a sync failed. */
fml_status incoming_sync(const char *dir, const char *id);

/* Names of the complete items, oldest first, as NUL-separated strings in
 * NAMES; returns the count (-1 on error).  Temp files of dead writers
 * (older than an hour) are removed. */
int incoming_list(const char *dir, str *names);

/* Open and validate one item.  ST_DATAERR if malformed (trailer missing,
 * lengths or the SHA-256 disagree), ST_NOINPUT if gone. */
fml_status incoming_open(const char *dir, const char *id, incoming_item *it);
/* The same for an item moved to another AREA of DIR (var/hold). */
fml_status incoming_open_in(const char *dir, const char *area, const char *id, incoming_item *it);
/* incoming_open() without the checksum (a look at the header of a mail
 * this run just accepted; whatever processes it opens it again). */
fml_status incoming_peek(const char *dir, const char *id, incoming_item *it);
void incoming_close(incoming_item *it);

/* Hex-escape / unescape the SENDER token. */
void incoming_escape(const char *in, str *out);

#endif
