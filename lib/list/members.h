/*
 * members: the list's member files in fml's format, and their gdbm index.
 *
 *   addr [opts] [# comment]   an entry; opts: s=skip, m=N[mode], r=host,
 *                             u=YYYY-MM-DD (off until that day: a
 *                             vacation), or the old "skip", "matome N"
 *   #<blank>addr [opts]       "off": not delivered, still a member for posting
 *   ##BYE addr                unsubscribed; the line is kept
 *   other '#' lines, blanks   comments
 *   +                         (members only) anyone may post
 *
 * The text files are the truth an admin may edit; var/db/<file>.db (gdbm) is
 * an index rebuilt whenever the text file's (size, mtime, inode) changes, so
 * lookups stay O(1) at a million members.  Edits append to the text file
 * through a journal (an add) or rewrite it atomically (temp + fsync +
 * rename), update the index in the same step, and must be made under the
 * list lock.
 *
 * members.c reads and writes the format; the index is membersdb.h's, the
 * edits are membersedit.h's.
 */
#ifndef FML_MEMBERS_H
#define FML_MEMBERS_H

#include <stdio.h>
#include <sys/stat.h>

#include "util/status.h"
#include "util/str.h"

typedef struct member_entry {
	str addr;	      /* as written (domain case kept) */
	str opts;	      /* option words, space separated, as written */
	str comment;	      /* text after " # ", if any */
	int off;	      /* "#<blank>addr" line */
	int bye;	      /* "##BYE addr" line */
	int skip;	      /* s=skip or "skip" */
	int digest;	      /* m=N: N > 0 */
	char digest_mode[16]; /* mode suffix of m=N[mode], "" for the default */
	long lineno;
} member_entry;

void members_entry_init(member_entry *e);
void members_entry_free(member_entry *e);

/* Parse one line of a member file into E: 1 for an entry (normal, off or
 * bye), 0 for a comment, blank, '+' or unparsable line (*PLUS, when not
 * NULL, set for '+').  WHY, when not NULL, receives what is wrong with an
 * entry: no or a bad address, a bad option. */
int members_parse_line(const char *line, size_t len, member_entry *e, int *plus, str *why);
/* For `makefml check`: 1 with a short reason in WHY when LINE is not a
 * comment, blank or '+' line and is not a clean entry either (no address,
 * an address refused by addr_check, a malformed or unknown option, a
 * control character); 0 when it is fine. */
int members_line_problem(const char *line, size_t len, str *why);

/* Call FN for every entry (off and bye entries too; FN checks the flags).
 * FN returns non-zero to stop.  A missing file is an empty list. */
fml_status members_foreach(const char *path, int (*fn)(const member_entry *e, void *arg),
			   void *arg);

/* The first entry of PATH for ADDR that is not ##BYE (FUZZY as
 * membersdb_lookup), copied into OUT (addr, opts, off, skip, digest): 1 found,
 * 0 not, -1 the file could not be read. */
int members_find(const char *path, const char *addr, int fuzzy, member_entry *out);

/* Number of entries that are not ##BYE. */
fml_status members_count(const char *path, long *n);

/* Call FN for every line of PATH as it is in the file (terminator "\n" or
 * "\r\n" not included), with its number; FN returns non-zero to stop.  A
 * missing file has no lines.  For makefml members/actives and check. */
fml_status members_foreach_line(const char *path,
				int (*fn)(const char *line, size_t len, long lineno, void *arg),
				void *arg);

/* ---- for membersdb.c and membersedit.c */

/* Is there a control character (tab included) in P[0..N)? */
int members_has_ctl(const char *p, size_t n);
/* Option words ARG as an add gives them: 1 with the reason in WHY when one
 * is malformed or unknown (or ARG has a control character), else 0. */
int members_opts_problem(const char *arg, str *why);
/* Is P[0..N) a digest setting "N[mode]" (N 0..99, a digest mode of fml)? */
int members_digest_ok(const char *p, size_t n);

/* E as a line of the file, without the terminator, appended to OUT. */
void members_format(str *out, const member_entry *e);
/* Remove the skip words of OPTS, or with DIGEST its digest ones ("m=..",
 * "matome N"); append one word. */
void members_opts_remove(str *opts, int digest);
/* The option words starting with PREFIX ("u=") taken out of OPTS. */
void members_opts_drop(str *opts, const char *prefix);
/* Is P (N bytes) a date YYYY-MM-DD (u=, "off until")? */
int members_date_ok(const char *p, size_t n);
/* The u= date of E (an off entry back on from that day) into DATE, or NULL. */
const char *members_until(const member_entry *e, char date[11]);
void members_opts_add(str *opts, const char *word);

/* DIR/FILE into BUF; FILE must be a plain name (no '/', no leading dot).
 * ST_TEMPFAIL (logged) when it is not or the path is too long. */
fml_status members_path(char *buf, size_t size, const char *dir, const char *file);
/* Open PATH for reading, with its stat: *FP NULL and ST_OK when there is
 * no such file, ST_TEMPFAIL (logged) when it cannot be opened. */
fml_status members_open(const char *path, FILE **fp, struct stat *st);
/* The exact stamp of a member file as ST (taken by fstat or stat) gives it:
 * "DEV INO SIZE MTIME_NS CTIME_NS", appended to S (membersdb.c explains why
 * it tells two states of the file apart on Linux >= 6.13). */
void members_stamp(str *s, const struct stat *st);
/* Do A and B stamp the same state of a file? */
int members_same_stat(const struct stat *a, const struct stat *b);

/* Called for every entry (PLUS 0) and every '+' line (PLUS 1, E's address
 * empty); non-zero stops the scan. */
typedef int (*members_scan_fn)(const member_entry *e, int plus, void *arg);
/* FN for the lines of FP (read from PATH); ST_TEMPFAIL (logged) on a read
 * error. */
fml_status members_scan(FILE *fp, const char *path, members_scan_fn fn, void *arg);
/* The same for the file PATH; a missing file has no lines. */
fml_status members_scan_path(const char *path, members_scan_fn fn, void *arg);
/* The first entry of PATH for ADDR that is not ##BYE (addr_match at FUZZY),
 * or with PLUS also a '+' line: *FOUND 1 or 0, the entry copied into OUT
 * (addr, opts, off, skip, digest) when OUT is not NULL. */
fml_status members_scan_find(const char *path, const char *addr, int fuzzy, int plus,
			     member_entry *out, int *found);

#endif
