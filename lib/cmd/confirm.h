/*
 * confirm: confirmation IDs for subscribe, unsubscribe and chaddr.
 *
 * An ID is 32 lower-case hex digits: 8 of the issue time (seconds since the
 * epoch) and the first 24 of HMAC-SHA256(key, action "\n" addr "\n" arg "\n"
 * time), the key being the list's etc/secret (made with 32 random bytes if
 * it is missing).  Requests and their use are recorded in DIR/var/db/confirm,
 * a text file of lines
 *
 *   TIME issue ID ACTION ADDR ARG      (ARG %XX-escaped, "-" for none)
 *   TIME used ID
 *
 * appended with fsync (the caller holds the list lock).  Lines older than
 * CONFIRMATION_EXPIRE (plus a day) are dropped when the file is rewritten,
 * which happens when it grows past 64 KiB.
 *
 * chaddr asks both addresses: confirm_issue() is called once for each,
 * ACTION "chaddr" for the old address (ARG the new one) and "chaddr-new"
 * for the new address (ARG the old one); the change is made when both IDs
 * of the pair have been used (confirm_check() and confirm_redeem() report
 * it in pair_done).
 */
#ifndef FML_CONFIRM_H
#define FML_CONFIRM_H

#include <time.h>

#include "list/config.h"
#include "util/status.h"
#include "util/str.h"

#define CONFIRM_ID_LEN 32

typedef struct confirm_req {
	str action; /* "subscribe", "unsubscribe", "chaddr", "chaddr-new" */
	str addr;   /* the address the request was sent to */
	str arg;    /* subscribe: name; chaddr: the other address; else "" */
	time_t issued;
	int pair_done; /* chaddr: the other address's ID was used too */
	str id;	       /* the ID, lower-cased */
} confirm_req;

void confirm_req_init(confirm_req *r);
void confirm_req_free(confirm_req *r);

/* Issue and record an ID for ACTION on ADDR (ARG may be NULL).  ST_DATAERR
 * with a reason in WHY when CONFIRMATION_LIMIT requests went to ADDR in the
 * last 24 hours (subscription bombing); ST_TEMPFAIL on I/O trouble. */
fml_status confirm_issue(const char *dir, const config *cf, time_t now, const char *action,
			 const char *addr, const char *arg, str *id, str *why);

/* Redeem ID sent by SENDER (a normalized address): ST_OK fills REQ and
 * records the use; ST_DATAERR with a reason in WHY for an ID that is
 * malformed, unknown or forged (no record, or the HMAC does not match),
 * expired (older than CONFIRMATION_EXPIRE), already used, or issued for
 * another address than SENDER.  ST_TEMPFAIL on I/O trouble. */
fml_status confirm_redeem(const char *dir, const config *cf, time_t now, const char *id,
			  const char *sender, confirm_req *req, str *why);

/* confirm_redeem() without recording the use (REQ->id names the ID);
 * confirm_use() records it once the action is done, so that a failure or
 * a crash in between leaves the ID usable for the rerun. */
fml_status confirm_check(const char *dir, const config *cf, time_t now, const char *id,
			 const char *sender, confirm_req *req, str *why);
fml_status confirm_use(const char *dir, const config *cf, time_t now, const confirm_req *req);
/* confirm_check() for the rerun of a command mail whose earlier run passed
 * the check and failed part-way: an ID since used (by that run) or
 * expired still passes. */
fml_status confirm_recheck(const char *dir, const config *cf, time_t now, const char *id,
			   const char *sender, confirm_req *req, str *why);

/* confirm_check() for whoever holds ID (a confirmation link: the ID is
 * the proof), nothing recorded: what it would do, into REQ. */
fml_status confirm_lookup(const char *dir, const config *cf, time_t now, const char *id,
			  confirm_req *req, str *why);

/* Is S (LEN bytes) shaped like an ID (32 hex digits)? */
int confirm_id_shape(const char *s, size_t len);

#endif
