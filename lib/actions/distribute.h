/*
 * distribute: turn an accepted post into article N.
 *
 *   0. (fml, right after it accepted the post, outside the list lock:
 *      distribute_prepare) spool/.tmp.ID and QUEUE_DIR/tmp/p.ID made empty,
 *      so that the steps under the lock make no file: on ext4 the inode
 *      allocation is most of what making a file costs, and a burst of
 *      posts waits on the lock
 *   1. N = seq + 1, moved past any spool/N or queue item aN that exists
 *      (seq is a hint)
 *   2. spool/.tmp.ID = rewritten header + the body bytes (not fsynced); a
 *      spool/.tmp.ID with one link (made empty at 0, or left by a run that
 *      died before 3) is emptied and used
 *   3. link(spool/.tmp.ID, spool/N): creation is the allocation (EEXIST ->
 *      N+1).  No gap, no reuse, whatever crashes.
 *   4. the queue item var/queue/new/aN for the actives (a copy of spool/N),
 *      written in tmp/p.ID, fsynced and renamed, then new/ fsynced: the article is durable,
 *      two flushes in all (spool/N is synced later: aN stands for it until
 *      then, queue/qspool.h).  If a sync fails, N is still this post's: it
 *      is left as a crash leaves it.
 *   5. duplicate cache (only now: list/incoming.c), summary line, seq, log
 *   6. the caller removes var/incoming/ID, then spool/.tmp.ID goes
 *      (distribute_done, for every item that leaves var/incoming)
 * A crash after 3 (or a failure after the link) leaves spool/.tmp.ID with a
 * link count of 2 and the item in var/incoming: the next run
 * finds it (distribute_recover) and redoes the idempotent steps of 4 and 5
 * (the summary line and the queue item are not made twice).
 */
#ifndef FML_DISTRIBUTE_H
#define FML_DISTRIBUTE_H

#include "action.h"
#include "list/dedupe.h"

fml_status distribute_post(action_ctx *c, action_mail *m, dedupe *dd, long *article);
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
