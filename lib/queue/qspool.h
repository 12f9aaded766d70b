/*
 * qspool: an article's spool file and its queue item.
 *
 * The post path (actions/distribute.c) syncs neither spool/N's data nor
 * its name: the queue item aN holds a copy of spool/N (its message part)
 * and is durable, so while aN is pending (new/, active/, deferred/) it
 * stands for spool/N.  Two rules keep that true:
 *
 *   - before any pending aN is retired (sent/, drop/) or deleted,
 *     qspool_sync() makes spool/N durable: the file, then spool/;
 *   - once per boot, before a program reads the spool or the queue
 *     retires anything, qspool_repair() makes each spool/N of a pending aN
 *     what aN says: restored when missing, rewritten when its bytes differ
 *     (a power loss can leave an unsynced file empty or with stale
 *     blocks).  A missing spool/N inside an archive unit is left alone: it
 *     may have expired on purpose.
 *
 * A crash of a process (not of the machine) loses nothing: the page cache
 * survives it.  The boot is told by /proc/sys/kernel/random/boot_id
 * against var/run/boot; without /proc every run looks.
 */
#ifndef FML_QSPOOL_H
#define FML_QSPOOL_H

#include "list/config.h"
#include "util/status.h"

/* Once per boot: spool/N right for every pending aN of the list in DIR.
 * ST_TEMPFAIL when one could not be made right (I/O trouble). */
fml_status qspool_repair(const char *dir, config *cf);
/* spool/N durable for each article item among the N NUL-separated item
 * NAMES (aN, or active/'s aN.PID; other names are skipped): each file
 * fsynced, then spool/ once.  A missing spool/N is not an error. */
fml_status qspool_sync(config *cf, const char *names, int n);
/* spool/N durable: the file, then spool/ (for an article no aN stands for). */
fml_status qspool_sync_article(config *cf, long n);

#endif
