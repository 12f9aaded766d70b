/*
 * membersfile: the text format of a member file (see members.h), inside
 * lib/list only: parsing a line into a member_entry and formatting one
 * back, the option words, and reading a file entry by entry.  The index
 * (membersdb) and the edits (membersedit) sit on it; members.c is the
 * public face.
 */
#ifndef FML_MEMBERSFILE_H
#define FML_MEMBERSFILE_H

#include "members.h"

#include <stdio.h>
#include <sys/stat.h>

void membersfile_entry_init(member_entry *e);
void membersfile_entry_free(member_entry *e);

/* Parse LINE into E: 1 for an entry (normal, off, bye), 0 for anything else
 * (*PLUS, when not NULL, set for a '+' line).  WHY, when not NULL, receives
 * what is wrong with an entry: no or a bad address, a bad option. */
int membersfile_parse(const char *line, size_t len, member_entry *e, int *plus, str *why);
/* members_line_problem(): 1 with the reason in WHY, else 0. */
int membersfile_problem(const char *line, size_t len, str *why);
/* Is there a control character (tab included) in P[0..N)? */
int membersfile_has_ctl(const char *p, size_t n);
/* Option words ARG as an add gives them: 1 with the reason in WHY when one
 * is malformed or unknown (or ARG has a control character), else 0. */
int membersfile_opts_problem(const char *arg, str *why);
/* Is P[0..N) a digest setting "N[mode]" (N 0..99, a digest mode of fml)? */
int membersfile_digest_ok(const char *p, size_t n);

/* E as a line of the file, without the terminator, appended to OUT. */
void membersfile_format(str *out, const member_entry *e);
/* Remove the skip words of OPTS, or with DIGEST its digest ones ("m=..",
 * "matome N"); append one word. */
void membersfile_opts_remove(str *opts, int digest);
void membersfile_opts_add(str *opts, const char *word);

/* DIR/FILE into BUF; FILE must be a plain name (no '/', no leading dot).
 * ST_TEMPFAIL (logged) when it is not or the path is too long. */
fml_status membersfile_path(char *buf, size_t size, const char *dir, const char *file);
/* Open PATH for reading, with its stat: *FP NULL and ST_OK when there is
 * no such file, ST_TEMPFAIL (logged) when it cannot be opened. */
fml_status membersfile_open(const char *path, FILE **fp, struct stat *st);

/* Called for every entry (PLUS 0) and every '+' line (PLUS 1, E's address
 * empty); non-zero stops the scan. */
typedef int (*membersfile_fn)(const member_entry *e, int plus, void *arg);
/* FN for the lines of FP (read from PATH); ST_TEMPFAIL (logged) on a read
 * error. */
fml_status membersfile_scan(FILE *fp, const char *path, membersfile_fn fn, void *arg);
/* The same for the file PATH; a missing file has no lines. */
fml_status membersfile_scan_path(const char *path, membersfile_fn fn, void *arg);
/* The first entry of PATH for ADDR that is not ##BYE (addr_match at FUZZY),
 * or with PLUS also a '+' line: *FOUND 1 or 0, the entry copied into OUT
 * (addr, opts, off, skip, digest) when OUT is not NULL. */
fml_status membersfile_find(const char *path, const char *addr, int fuzzy, int plus,
			    member_entry *out, int *found);

#endif
