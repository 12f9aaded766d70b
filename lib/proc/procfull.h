/*
 * procfull: proc_drain() with everything (proc.h): for fmlproc, fmlqueue,
 * makefml.  Naming it links cmd/ and libarchive, GMime, crypt with it.
 */
#ifndef FML_PROCFULL_H
#define FML_PROCFULL_H

#include "proc.h"

extern const proc_ops procfull_ops;

/* A command mail from ADDR with the lines TEXT (SUBJECT its Subject:),
 * the way a mail to the ctl address goes: accepted into var/incoming,
 * processed at once under the list lock (LOCK_TIMEOUT) with the same checks
 * and the same reply by mail, its report copied into REPORT; then the rest
 * of var/incoming ("approve" releases a post) and a kick of the runner.
 * ST_OK; else the reason in ERR, and the mail, if it was accepted, waits
 * durably for the next run. */
fml_status procfull_command(const char *dir, config *cf, const char *addr, const char *subject,
			    const char *text, str *report, str *err);

#endif
