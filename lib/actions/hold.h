/*
 * hold: posts held in var/hold/ID, for the moderators (PERMIT_POST_FROM
 * moderator, REJECT_POST_HANDLER moderate) or as a quarantine of suspicious
 * mail for the maintainer (var/hold/suspect.ID, which approve cannot
 * release: the maintainer looks at it by hand).  The ID is the incoming
 * item's name.
 *
 * Releasing a post ("approve ID") appends ID to var/db/approved (fsynced),
 * then renames var/hold/ID back to var/incoming/ID: the drain finds it
 * there, sees the approval and distributes it whatever the posting policy
 * says (the loop and duplicate checks still apply).  A crash between the
 * two steps leaves the post held and approved: approving again finishes
 * it.  Refusing ("reject ID") moves it to var/log/rejected.ID.  Held posts
 * older than MODERATOR_EXPIRE_LIMIT are removed by hold_expire().
 */
#ifndef FML_HOLD_H
#define FML_HOLD_H

#include "action.h"

/* Hold M (the current item) in var/hold and tell the moderators
 * (MODERATE) or the maintainer, with the post attached. */
fml_status hold_post(action_ctx *c, action_mail *m, const char *why, int moderate);

/* ST_NOINPUT when no post is held as ID. */
fml_status hold_release(action_ctx *c, const char *id);
/* Refuse var/hold/ID, telling its poster (REASON if not empty) where
 * RFC 3834 allows an answer. */
fml_status hold_refuse(action_ctx *c, const char *id, const char *reason);

/* Was the incoming item ID released by a moderator?  1 yes, 0 no, -1 when
 * var/db/approved cannot be read. */
int hold_approved(action_ctx *c, const char *id);

/* Remove held posts older than MODERATOR_EXPIRE_LIMIT, and approvals whose
 * post has left var/incoming; posts held longer than MODERATOR_REMIND are
 * listed to the moderators (hold ID, days, poster, subject) in one reminder,
 * at most one a MODERATOR_REMIND (var/run/hold-reminded). */
void hold_expire(action_ctx *c);

#endif
