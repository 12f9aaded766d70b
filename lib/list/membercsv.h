/*
 * membercsv: the members of a list as CSV (RFC 4180), for makefml export
 * and import:
 *
 *   address,name,mode,digest,bounce,date
 *
 * mode normal, off, skip, post-only (in members, not in actives) or
 * receive-only (in actives, not in members); digest the m= value ("3mp"),
 * empty for none; name the comment of the member's line; bounce the bounce
 * record ("SCORE STATE", export only); date the day an off member comes
 * back by itself (u=, "off 14d"), empty for none (fml keeps no date of
 * joining).  A first row "address,..." is a header.
 */
#ifndef FML_MEMBERCSV_H
#define FML_MEMBERCSV_H

#include <stdio.h>

#include "config.h"
#include "roster.h"
#include "util/status.h"

/* Every member of DIR as CSV onto OUT, a header first; *N the rows. */
fml_status membercsv_export(const char *dir, FILE *out, long *n);

/* The rows of TEXT (LEN bytes) added as roster_add_many() adds lines, then
 * their modes set; refused rows (bad address, mode or digest, already a
 * member) go to REFUSE with their line numbers.  *NADDED the rows added.
 * ST_OK, ST_DATAERR (some refused), ST_TEMPFAIL.  The caller holds the
 * list lock. */
fml_status membercsv_import(const char *dir, const config *cf, const char *text, size_t len,
			    roster_refuse_fn refuse, void *arg, long *nadded);

#endif
