/*
 * qsnap: recipient snapshots ("generations") of the outgoing queue.  An
 * article's queue item names the snapshot of the actives it goes to
 * ("rcpts GEN COUNT SHA256" in its envelope) instead of copying them.
 * Formats and lifetime in doc/fml-queue.5:
 *
 *   QUEUE_DIR/rcpt/gGEN          one generation: GEN is 16 hex digits of
 *                                the SHA-256 of its stamp; written once,
 *                                fsynced, never changed
 *   QUEUE_DIR/rcpt/items/NAME    hard link to the generation of item NAME,
 *                                made when the item first leaves new/ and
 *                                removed with the item
 *
 *   FMLR 1\n
 *   gen GEN\n
 *   stamp STAMP\n               actives' size, mtime, inode; list addresses
 *   count N\n
 *   sha256 HHHH(64)\n           of the address lines below
 *   \n
 *   ADDR\n ...                  N addresses, sorted by domain then address,
 *                               each once
 *
 * Lifetime: a generation's name is removed only under the list lock (no
 * writer can be committing an item that names it), only when it has no
 * other link, is not the current one, and no item in new/ names it (items
 * in new/ are the only ones without a link: the runner links before it
 * moves an item out of new/).  Its data lives on as long as any item link.
 */
#ifndef FML_QSNAP_H
#define FML_QSNAP_H

#include <sys/types.h>

#include "list/config.h"
#include "util/status.h"
#include "util/str.h"

#define QSNAP_GEN_LEN 16
#define QSNAP_STEP 256 /* recipients between two entries of the lookup index */

/* What an item says of its snapshot. */
typedef struct qsnap_ref {
	char gen[QSNAP_GEN_LEN + 1];
	size_t count;
	char sha[65];
} qsnap_ref;

/* An open, verified snapshot. */
typedef struct qsnap {
	int fd;
	off_t data, end; /* the address lines: [data, end) */
	size_t count;
	size_t nidx;	/* lookup index: every QSNAP_STEP-th address */
	off_t *idx_off; /* its offset */
	char **idx_addr;
	long cblock;  /* the block parsed for lookups (-1: none) */
	str cbuf;     /* its bytes, NUL at every line end */
	char **cline; /* its lines */
	size_t cn;
} qsnap;

/* Walking the addresses in order. */
typedef struct qsnap_iter {
	const qsnap *s;
	off_t off; /* file offset of buf[0] */
	str buf;
	size_t pos;
} qsnap_iter;

/* The stamp of LIST_DIR's actives under CF: a generation is current when
 * its stamp is this.  Shortly after a change of actives (two edits in one
 * clock tick could look alike) the stamp is unique and never current. */
fml_status qsnap_stamp(const char *list_dir, config *cf, time_t now, str *stamp);
/* The current generation for STAMP: 0 and REF, or -1 (none, or damaged). */
int qsnap_find(const char *qdir, const char *stamp, qsnap_ref *ref);
/* Write the generation of STAMP: N NUL-separated addresses in RCPTS,
 * sorted and unique.  Durable (file and rcpt/ synced) when it returns. */
fml_status qsnap_write(const char *qdir, const char *stamp, const char *rcpts, size_t n,
		       qsnap_ref *ref);
/* Remove the names of the generations nothing needs (see above); KEEP (or
 * NULL) and the current generation of STAMP (or NULL) stay.  Call it only
 * under the list lock. */
void qsnap_sweep(const char *qdir, const char *stamp, const char *keep);

/* Is there a generation, not the current one of STAMP, with no link but
 * its name (worth a sweep)?  Needs no lock. */
int qsnap_sweep_wanted(const char *qdir, const char *stamp);
/* The reference in an item's envelope line "rcpts GEN COUNT SHA256"
 * (VALUE is what follows "rcpts "): 0, or -1 when malformed. */
int qsnap_parse_ref(const char *value, qsnap_ref *ref);
/* The generation named in the envelope of the item at PATH: 0 and GEN; -1
 * when it names none (or is gone); -2 when it cannot be read. */
int qsnap_item_gen(const char *path, char gen[QSNAP_GEN_LEN + 1]);
/* Make rcpt/items/NAME a durable link to generation GEN unless it is one. */
fml_status qsnap_link(const char *qdir, const char *name, const char *gen);
/* Remove rcpt/items/NAME (with its item). */
void qsnap_unlink(const char *qdir, const char *name);

/* Open item NAME's snapshot (its link, else the generation's name) and
 * check it against REF: header, count, SHA-256, order.  ST_DATAERR with
 * ERR when it is missing or damaged; ST_TEMPFAIL on I/O trouble. */
fml_status qsnap_open(qsnap *s, const char *qdir, const char *name, const qsnap_ref *ref, str *err);
void qsnap_close(qsnap *s);
/* The ordinal of ADDR, or -1 when it is not a recipient. */
long qsnap_lookup(qsnap *s, const char *addr);

void qsnap_iter_start(qsnap_iter *it, const qsnap *s);
/* The next address (NUL-terminated, valid until the next call): 1, or 0 at
 * the end; -1 on a read error. */
int qsnap_iter_next(qsnap_iter *it, const char **addr, size_t *len);
void qsnap_iter_end(qsnap_iter *it);

/* The order of snapshots: by domain, then the whole address. */
int qsnap_cmp(const char *a, const char *b);

#endif
