/*
 * qsnap: recipient snapshots ("generations") of the outgoing queue.  An
 * article's queue item names the snapshot of the actives it goes to
 * ("rcpts GEN COUNT SHA256" in its envelope) instead of copying them.
 * Formats and lifetime in doc/fml-queue.5:
 *
 *   QUEUE_DIR/rcpt/gGEN          one generation: GEN is 16 hex digits of
 *                                the SHA-256 of its stamp; written once,
 *                                fsynced, never changed
 *   QUEUE_DIR/rcpt/gGEN.base     a delta generation's base: a hard link
 *                                to the base's inode, made before the delta
 *   QUEUE_DIR/rcpt/items/NAME    hard link to the generation of item NAME,
 *   QUEUE_DIR/rcpt/items/NAME.base  and to its base when it is a delta:
 *                                made when the item first leaves new/ and
 *                                removed with the item
 *
 *   FMLR 1\n
 *   gen GEN\n
 *   base BGEN\n                 a delta only: the adds below go with BGEN
 *   stamp STAMP\n               actives' exact stamp; list addresses
 *   count N\n                   recipients (a delta: BGEN's and the adds)
 *   sha256 HHHH(64)\n           of the address lines below; a delta: of
 *                               "fmlr-delta BGEN BCOUNT BSHA256\n" and
 *                               the address lines below
 *   \n
 *   ADDR\n ...                  sorted by domain then address, each once;
 *                               a delta: the adds, none of them in BGEN
 *
 * A delta (written by qdelta.h) has the recipients of its base and its
 * adds, merged in the same order: readers (qsnap_iter, qsnap_lookup) see
 * one list of COUNT.
 * The base of a delta is always a full generation.
 *
 * Lifetime: a generation's name is removed only under the list lock (no
 * writer can be committing an item that names it), only when it has no
 * other link, is not the current one, and no item in new/ names it (items
 * in new/ are the only ones without a link: the runner links before it
 * moves an item out of new/).  A delta's gGEN.base goes with its name; a
 * base's name has that link, so it outlives every delta on it.  Data lives
 * on as long as any item link (NAME and NAME.base).
 */
#ifndef FML_QSNAP_H
#define FML_QSNAP_H

#include <sys/stat.h>
#include <sys/types.h>

#include "list/config.h"
#include "util/sha256.h"
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

/* One sorted file of addresses: a full generation, a delta's base or its adds. */
typedef struct qsnap_part {
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
} qsnap_part;

/* An open, verified snapshot: part 0, and for a delta its adds in part 1. */
typedef struct qsnap {
	qsnap_part p[2];
	int delta;
	size_t count;
} qsnap;

typedef struct qsnap_piter {
	const qsnap_part *p;
	off_t off; /* file offset of buf[0] */
	str buf;
	size_t pos;
} qsnap_piter;

/* Walking the addresses in order (a delta: the merge of its two parts). */
typedef struct qsnap_iter {
	const qsnap *s;
	qsnap_piter it[2];
	const char *head[2];
	size_t hlen[2];
	int have[2], want[2];
} qsnap_iter;

/* The stamp of LIST_DIR's actives under CF: a generation is current when
 * its stamp is this.  Exact (list/members.h, members_stamp): actives'
 * stat, then the list's own addresses, which are left out of the
 * recipients.  *ST gets the stat (all zero when there is no actives). */
fml_status qsnap_stamp(const char *list_dir, config *cf, str *stamp, struct stat *st);
/* The same for a file stamp FSTAMP of actives (from its append log). */
void qsnap_stamp_of(config *cf, const char *fstamp, str *stamp);
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
/* Make rcpt/items/NAME a durable link to generation GEN unless it is one
 * (and rcpt/items/NAME.base to its base when it is a delta). */
fml_status qsnap_link(const char *qdir, const char *name, const char *gen);
/* Remove rcpt/items/NAME and NAME.base (with its item). */
void qsnap_unlink(const char *qdir, const char *name);

/* Open item NAME's snapshot (its link, else the generation's name; a
 * delta's base likewise) and check it against REF: header, count, SHA-256,
 * order (a delta: its base's own too, and no add in the base).  ST_DATAERR with
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

/* ---- for qdelta.c */

/* GEN of the generation of STAMP. */
void qsnap_gen_of(const char *stamp, char gen[QSNAP_GEN_LEN + 1]);
/* The header of the generation open as FD: REF, BASE ("" for a full one),
 * STAMP (if not NULL); the header's length, -1 not a header, -2 a read
 * error. */
long qsnap_read_head(int fd, qsnap_ref *ref, char base[QSNAP_GEN_LEN + 1], str *stamp);
/* Start the checksum of a delta on BASE (its first line). */
void qsnap_delta_sha_start(sha256 *sha, const qsnap_ref *base);
/* Commit generation FINAL in DIR (rcpt/): HEAD, then DATA; the file and
 * DIR synced. */
fml_status qsnap_commit(const char *dir, const char *final, const str *head, const str *data);
/* Link the file at PATH as DIR/NAME, replacing one of that name (not synced). */
fml_status qsnap_relink(const char *path, const char *dir, const char *name);
void qsnap_piter_start(qsnap_piter *it, const qsnap_part *p);
/* The next address of one part, as qsnap_iter_next. */
int qsnap_piter_next(qsnap_piter *it, const char **addr, size_t *len);

#endif
