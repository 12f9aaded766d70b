/*
 * bouncedb: what the list knows of its members' bounces, DIR/var/db/bounces.
 *
 * One text file of records, a line each:
 *
 *   ADDR SCORE DAY LAST STATUS STATE WARNED ACTED ITEM
 *
 * ADDR the member's address; SCORE the sum of its counted bounces (hard
 * 1, soft 0.5); DAY the day (Unix time / 86400) of the last counted one;
 * LAST the Unix time of the last bounce seen; STATUS its code (x.y.z);
 * STATE scoring, off, removed or reported (what was done at the
 * threshold), or "-" for a record taken back (makefml bounces --reset, a
 * member's "on"); WARNED the warnings sent since; ACTED when STATE was set
 * (0: never); ITEM the incoming item whose bounce made this line.
 *
 * Appended, never edited: the last line of an address is its record.  An
 * item's lines go in one fsynced append, after what they cause is done,
 * so the append is the commit: a rerun of the item after a crash finds
 * its name on the records it already made and skips them (a bounce is
 * never counted twice), and an item is removed only after its lines are
 * durable (never lost).  A line without its LF (a crash mid-append) is
 * ignored.  When the file holds many more lines than records it is
 * rewritten whole (temp, fsync, rename) with the last line of each
 * address.  Caller holds the list lock.
 */
#ifndef FML_BOUNCEDB_H
#define FML_BOUNCEDB_H

#include <time.h>

#include "util/status.h"
#include "util/str.h"

#define BOUNCEDB_ITEM_MAX 128

typedef struct bounce_rec {
	char addr[256];
	double score;
	long day;
	time_t last;
	char status[16];
	char state[12]; /* scoring, off, removed, reported, "-" */
	int warned;
	time_t acted;
	char item[BOUNCEDB_ITEM_MAX];
} bounce_rec;

typedef struct bouncedb {
	bounce_rec *r; /* the records, in the order first seen */
	size_t n;
	size_t lines; /* complete lines read */
	size_t *tab;  /* open-addressing index of r by address */
	size_t tabsize;
} bouncedb;

/* Read DIR's records (none when the file is missing).  ST_TEMPFAIL on I/O
 * trouble. */
fml_status bouncedb_load(const char *dir, bouncedb *db);
void bouncedb_free(bouncedb *db);
/* ADDR's record (domain case-insensitive), NULL when it has none or it
 * was taken back. */
bounce_rec *bouncedb_get(bouncedb *db, const char *addr);
/* R as a line onto OUT (for one bouncedb_append()), and into DB. */
void bouncedb_put(bouncedb *db, const bounce_rec *r, str *out);
/* Append ADD (whole lines) and fsync; then, when the file has grown to
 * many times its records, rewrite it. */
fml_status bouncedb_append(const char *dir, bouncedb *db, const str *add);

#endif
