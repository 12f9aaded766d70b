/*
 * procrun: one drain of a list under its lock, as the alias pipe (fml) and
 * the full processor (fmlproc) run it after a mail is accepted: the lock
 * taken (on a timeout the maintainer is told), proc_drain(), the lock
 * released.
 */
#ifndef FML_PROCRUN_H
#define FML_PROCRUN_H

#include "proc.h"

/* 0 when the lock was not had (the mail waits in var/incoming for the
 * next run of fml or fmlqueue), else 1 and *HANDOVER set as proc_drain()
 * sets it.  A drain's local trouble is logged by proc and left for the next
 * run; the caller's course is the same. */
int procrun_locked(action_ctx *c, const proc_ops *ops, int *handover);

#endif
