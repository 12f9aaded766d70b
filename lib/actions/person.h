/*
 * person: everything a list keeps about one person, shown (makefml
 * export-member) or forgotten (makefml forget), as a privacy request asks.
 *
 * What is looked at, for ADDR (the domain in any case, the local part too:
 * a person's own address in another case is theirs):
 *   members, actives, members-admin   their lines (forget: removed, the
 *                                     ##BYE ones too; the index rebuilt)
 *   etc/passwd                        an admin password (never shown;
 *                                     forget: removed)
 *   var/db/digest, var/db/bounces,    their lines (forget: removed)
 *   var/db/confirm
 *   var/hold/, var/log/ mails         held posts and kept mails from them
 *                                     (forget: removed)
 *   log, summary                      lines that name them (forget: the
 *                                     address replaced by "(forgotten)")
 *   ban                               lines that name them (kept: a ban
 *                                     protects the list)
 * The articles themselves (spool/, archive units, the HTML archive) are the
 * list's record and are not changed; the report says so.
 */
#ifndef FML_PERSON_H
#define FML_PERSON_H

#include "action.h"

/* The report of what the list keeps about ADDR into OUT. */
fml_status person_export(action_ctx *c, const char *addr, str *out);

/* Forget ADDR (the caller holds the list lock); DID gets a line per file
 * changed.  ST_DATAERR when nothing named them. */
fml_status person_forget(action_ctx *c, const char *addr, str *did);

#endif
