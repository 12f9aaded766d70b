/*
 * dedupe: the duplicate cache, DIR/var/db/dedupe.db (gdbm).  Keys are
 * "s:" + SHA-256 of the raw input and "m:" + Message-ID; values
 * "TIME ARTICLE".  An MTA that delivers the same mail twice never makes a
 * second article.  Entries older than DUPLICATE_CACHE_EXPIRE are removed by
 * a sweep at most once a day.  A damaged cache is moved aside and started
 * afresh; one that cannot be opened at all (I/O trouble) makes the drain
 * wait (dedupe_ok() is 0): a post is not made an article while its
 * duplicate check cannot run.
 */
#ifndef FML_DEDUPE_H
#define FML_DEDUPE_H

#include <time.h>

typedef struct dedupe dedupe;

dedupe *dedupe_open(const char *dir, time_t now, long expire);
void dedupe_close(dedupe *d);
/* Is the cache open (else the I/O trouble is logged)? */
int dedupe_ok(const dedupe *d);
/* Article number already made from this SHA-256 / Message-ID, or 0. */
long dedupe_seen_sha(dedupe *d, const char *sha);
long dedupe_seen_msgid(dedupe *d, const char *msgid, size_t len);
void dedupe_record(dedupe *d, const char *sha, const char *msgid, size_t len, long article);
/* ARTICLE is being made from this mail but is not durable yet: seen by
 * this handle from now on (dedupe_seen_*), never written; dedupe_record()
 * writes it once the article is durable (and lets go of what it held). */
void dedupe_hold(dedupe *d, const char *sha, const char *msgid, size_t len, long article);

#endif
