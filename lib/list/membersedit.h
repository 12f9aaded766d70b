/*
 * membersedit: the edits of a member file (add, bye, off, on, skip,
 * noskip, digest, chaddr), rewriting the text file atomically (temp +
 * fsync + rename).  See membersedit.c.
 */
#ifndef FML_MEMBERSEDIT_H
#define FML_MEMBERSEDIT_H

#include "members.h"

/* Edits (caller holds the list lock).  Return ST_DATAERR with a one-line
 * reason in ERR for "already a member", "not a member", a bad address. */
#define MEMBERSEDIT_ALREADY "already a member"
#define MEMBERSEDIT_NOT_MEMBER "not a member"
typedef enum membersedit_op {
	MEM_ADD,    /* append "addr [ARG]"; a ##BYE line for addr is replaced */
	MEM_BYE,    /* entry -> "##BYE addr" */
	MEM_OFF,    /* entry -> "#\taddr opts" */
	MEM_ON,	    /* "#\taddr" -> "addr" */
	MEM_SKIP,   /* add s=skip */
	MEM_NOSKIP, /* remove s=skip */
	MEM_DIGEST, /* set m=ARG ("0" removes it) */
	MEM_CHADDR, /* replace addr by ARG, options kept */
} membersedit_op;
fml_status membersedit_apply(const char *dir, const char *file, membersedit_op op, const char *addr,
			     const char *arg, int fuzzy, str *err);

/* MEM_BYE for the N addresses ADDRS whose WANT[i] is set, in one rewrite
 * of DIR/FILE: every live line of one of them (exactly, domain case
 * aside) becomes ##BYE, the index follows; HIT[i] set for those found.
 * ST_OK (with nothing to change too), ST_TEMPFAIL (the file unchanged). */
fml_status membersedit_bye_many(const char *dir, const char *file, const char *const *addrs,
				const unsigned char *want, size_t n, int fuzzy, unsigned char *hit);

#endif
