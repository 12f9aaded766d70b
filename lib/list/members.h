/*
 * members: the list's member files in fml's format, and their gdbm index.
 *
 *   addr [opts] [# comment]   an entry; opts: s=skip, m=N[mode], r=host,
 *                             or the old "skip", "matome N"
 *   #<blank>addr [opts]       "off": not delivered, still a member for posting
 *   ##BYE addr                unsubscribed; the line is kept
 *   other '#' lines, blanks   comments
 *   +                         (members only) anyone may post
 *
 * The text files are the truth an admin may edit; var/db/<file>.db (gdbm) is
 * an index rebuilt whenever the text file's (size, mtime, inode) changes, so
 * lookups stay O(1) at a million members.  Edits rewrite the text file
 * atomically (temp + fsync + rename) and must be made under the list lock.
 *
 * members.c is this interface; the work is done in membersfile.c (the line
 * format), membersdb.c (the index) and membersedit.c (the edits), whose
 * headers are for lib/list only.
 */
#ifndef FML_MEMBERS_H
#define FML_MEMBERS_H

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

/* Parse one line of a member file.  Returns 1 for an entry (normal, off or
 * bye), 0 for a comment, blank, '+' or unparsable line (with *PLUS set for
 * '+'). */
int members_parse_line(const char *line, size_t len, member_entry *e, int *plus);
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
 * members_lookup), copied into OUT (addr, opts, off, skip, digest): 1 found,
 * 0 not, -1 the file could not be read. */
int members_find(const char *path, const char *addr, int fuzzy, member_entry *out);

/* Is ADDR listed in DIR/FILE (not as ##BYE)?  Off entries count (they may
 * still post).  FUZZY is ADDR_CHECK_MAX (0 = exact).  Uses and, when stale,
 * rebuilds DIR/var/db/FILE.db.  *FOUND is 1 also when the file has '+'. */
fml_status members_lookup(const char *dir, const char *file, const char *addr, int fuzzy,
			  int *found);
/* Force a rebuild of the index of DIR/FILE. */
fml_status members_reindex(const char *dir, const char *file, int fuzzy);

/* Edits (caller holds the list lock).  Return ST_DATAERR with a one-line
 * reason in ERR for "already a member", "not a member", a bad address. */
#define MEMBERS_ALREADY "already a member"
#define MEMBERS_NOT_MEMBER "not a member"
typedef enum members_op {
	MEM_ADD,    /* append "addr [ARG]"; a ##BYE line for addr is replaced */
	MEM_BYE,    /* entry -> "##BYE addr" */
	MEM_OFF,    /* entry -> "#\taddr opts" */
	MEM_ON,	    /* "#\taddr" -> "addr" */
	MEM_SKIP,   /* add s=skip */
	MEM_NOSKIP, /* remove s=skip */
	MEM_DIGEST, /* set m=ARG ("0" removes it) */
	MEM_CHADDR, /* replace addr by ARG, options kept */
} members_op;
fml_status members_edit(const char *dir, const char *file, members_op op, const char *addr,
			const char *arg, int fuzzy, str *err);
/* Number of entries that are not ##BYE. */
fml_status members_count(const char *path, long *n);

/* Call FN for every line of PATH as it is in the file (terminator "\n" or
 * "\r\n" not included), with its number; FN returns non-zero to stop.  A
 * missing file has no lines.  For makefml members/actives and check. */
fml_status members_foreach_line(const char *path,
				int (*fn)(const char *line, size_t len, long lineno, void *arg),
				void *arg);
/* Is the index of DIR/FILE built for the file as it is now and for FUZZY?
 * 1 yes (or there is no text file), 0 no (missing, stale, unreadable). */
int members_index_fresh(const char *dir, const char *file, int fuzzy);

#endif
