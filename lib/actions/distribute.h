/*
 * distribute: turn an accepted post into article N.
 *
 *   0. (fml, right after it accepted the post, outside the list lock:
 *      distribute_prepare) spool/.tmp.ID and QUEUE_DIR/tmp/p.ID made empty,
 *      so that the steps under the lock make no file: on ext4 the inode
 *      allocation is most of what making a file costs, and a burst of
 *      posts waits on the lock
 *   1. N = seq + 1 (or past the batch's last), moved past any spool/N or
 *      queue item aN that exists (seq is a hint)
 *   2. spool/.tmp.ID = rewritten header + the body bytes (not fsynced); a
 *      spool/.tmp.ID with one link (made empty at 0, or left by a run that
 *      died before 3) is emptied and used
 *   3. link(spool/.tmp.ID, spool/N): creation is the allocation (EEXIST ->
 *      N+1).  No gap, no reuse, whatever crashes.
 *   4. the queue item for the actives (a copy of spool/N) written in
 *      QUEUE_DIR/tmp/p.ID and its write-back started; the article is
 *      pending in the caller's batch (distribute_post returns here)
 *   5. distribute_commit(), for every article of the batch (group commit:
 *      the drain makes the articles of a burst durable together): each
 *      item fsynced and renamed to new/aN, then new/ fsynced once: the
 *      articles are durable, one flush each and one for all (spool/N is
 *      synced later: aN stands for it until then, queue/qspool.h).  If a
 *      sync fails, every N is still its post's: they are left as a crash
 *      leaves them.
 *   6. then for each: duplicate cache (only now: list/incoming.c; until
 *      then dedupe_hold() keeps it for the drain), summary line, seq, log;
 *      var/incoming/ID removed, then spool/.tmp.ID and tmp/p.ID
 *      (distribute_done, for every item that leaves var/incoming)
 * A crash after 3 (or a failure after the link) leaves spool/.tmp.ID with a
 * link count of 2 and the item in var/incoming: the next run finds it
 * (distribute_recover) and redoes the idempotent steps of 4 to 6 (the
 * summary line and the queue item are not made twice).  A batch's
 * articles lie above seq until their commit: the recovery looks that far.
 */
#ifndef FML_DISTRIBUTE_H
#define FML_DISTRIBUTE_H

#include "action.h"
#include "list/dedupe.h"

/* Articles linked but not yet durable, for one group commit; at most
 * DISTRIBUTE_BATCH (each holds its queue item's temp open). */
#define DISTRIBUTE_BATCH 32
typedef struct distribute_batch distribute_batch;
distribute_batch *distribute_batch_new(void);
int distribute_batch_full(const distribute_batch *b);
/* The IDs of the items whose articles wait in B, a line each. */
void distribute_batch_ids(const distribute_batch *b, str *out);
/* Panics unless every article was committed. */
void distribute_batch_free(distribute_batch *b);

/* Steps 1-4 for post M into B (not full): *ARTICLE is its number.  The
 * post's item stays in var/incoming until B's commit removes it. */
fml_status distribute_post(action_ctx *c, action_mail *m, dedupe *dd, distribute_batch *b,
			   long *article);
/* Steps 5-6 for every article of B, which is empty afterwards, whatever
 * the outcome: ST_TEMPFAIL leaves the articles for distribute_recover(). */
fml_status distribute_commit(action_ctx *c, distribute_batch *b, dedupe *dd);
/* ST_NOINPUT: no article was started for this item; ST_OK: finished the
 * article whose number is in *ARTICLE.  ABANDON (the poison guard gave up
 * on the item): only the summary line and seq, no queue item, so that the
 * steps that kept crashing are not tried again. */
fml_status distribute_recover(action_ctx *c, incoming_item *it, dedupe *dd, long *article,
			      int abandon);
/* Step 0 for the post var/incoming/ID (errors are left to steps 2 and 4,
 * which make what is missing; what exists already is left alone).  The two
 * paths are left in SPOOL_TMP and QUEUE_TMP (SIZE bytes each; "" when too
 * long) for a clean-up that cannot format them (fml's, on a signal): once
 * the item is gone, whatever became of it, they may go. */
void distribute_prepare(const config *cf, const char *id, char *spool_tmp, char *queue_tmp,
			size_t size);
/* Remove spool/.tmp.ID and QUEUE_DIR/tmp/p.ID once var/incoming/ID is
 * gone, whatever became of it (while it waits, a linked spool/.tmp.ID is
 * the recovery data of its article). */
void distribute_done(action_ctx *c, const incoming_item *it);
/* Recipients of articles: actives entries not off, skip, digest or bye,
 * valid, not ours; sorted by domain, duplicates removed.  NUL-separated. */
fml_status distribute_recipients(action_ctx *c, str *rcpts, size_t *n);

#endif
