/*
 * procrun: the list lock as the alias pipe (fml) and the full processor
 * (fmlproc) take it before a drain, after a mail is accepted: on a timeout
 * the maintainer is told.  The caller drains (proc_drain) and releases.
 */
#ifndef FML_PROCRUN_H
#define FML_PROCRUN_H

#include "proc.h"
#include "util/lock.h"

/* ST_OK with LK held, else the lock was not had (the mail waits in
 * var/incoming for the next run of fml or fmlqueue). */
fml_status procrun_lock(action_ctx *c, fml_lock *lk);

#endif
