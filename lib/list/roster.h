/*
 * roster: membership changes that touch both member files the way a list
 * admin means them: "add" puts the address in members (may post) and
 * actives (receives), "bye" and "chaddr" change it in both.  Shared by
 * makefml and the commands by mail.  The caller holds the list lock.
 */
#ifndef FML_ROSTER_H
#define FML_ROSTER_H

#include "config.h"
#include "membersedit.h"
#include "util/status.h"
#include "util/str.h"

/* Add ADDR to actives (with the option words OPTS, may be NULL or "") and
 * to members, after checking MAX_MEMBER_LIMIT.  ST_OK when at least one
 * file changed, with WHERE set to "members", "actives" or "members and
 * actives"; ST_DATAERR with a reason in ERR when neither did (a bad
 * address or option, "already a member", the list is full); ST_TEMPFAIL
 * on I/O trouble. */
fml_status roster_add(const char *dir, const config *cf, const char *addr, const char *opts,
		      str *err, str *where);

/* OP (MEM_BYE, MEM_CHADDR with ARG the new address) on members and
 * actives: ST_OK when either changed (WHERE as above); ST_DATAERR with the
 * first file's reason when neither did. */
fml_status roster_both(const char *dir, const config *cf, membersedit_op op, const char *addr,
		       const char *arg, str *err, str *where);

/* A refused line of a bulk add: its number, its address (or what stood
 * first on the line), the reason. */
typedef void (*roster_refuse_fn)(long lineno, const char *addr, const char *why, void *arg);

/* Bulk add: every line of TEXT[0..LEN) is "ADDR [OPTS...]" as roster_add
 * takes them (blank lines and '#' lines skipped).  Each line is judged as
 * roster_add would judge it (and a second line for one address is
 * refused); refused lines go to REFUSE, the others are appended to actives
 * and members in one step each, the indexes updated in one pass.  *NADDED
 * the lines added.  ST_OK all added, ST_DATAERR some refused (the rest
 * added), ST_TEMPFAIL I/O trouble (*NADDED 0; actives may have its lines
 * and members not: feeding the same TEXT again completes the add). */
fml_status roster_add_many(const char *dir, const config *cf, const char *text, size_t len,
			   roster_refuse_fn refuse, void *arg, long *nadded);

/* Bulk bye: the first word of every line of TEXT[0..LEN) (blank lines and
 * '#' lines skipped) leaves members and actives, in one rewrite of each
 * file and one index update.  Lines that name no member, or a bad address,
 * or an address again, go to REFUSE; *NREMOVED the addresses removed.
 * ST_OK all removed, ST_DATAERR some refused, ST_TEMPFAIL I/O trouble
 * (actives may be changed and members not: feeding the same TEXT again
 * completes it). */
fml_status roster_bye_many(const char *dir, const config *cf, const char *text, size_t len,
			   roster_refuse_fn refuse, void *arg, long *nremoved);

/* ST_DATAERR with a reason in ERR when members already holds
 * MAX_MEMBER_LIMIT entries. */
fml_status roster_check_limit(const char *dir, const config *cf, str *err);

#endif
