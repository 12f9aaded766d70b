/*
 * procrun: the list lock before a drain.  See procrun.h.  Failure policy:
 * nothing here exits; the caller keeps its exit status (0 after the commit
 * point).
 */
#include "procrun.h"
#include "actions/reply.h"

fml_status procrun_lock(action_ctx *c, fml_lock *lk)
{
	const config *cf = c->l.cf;
	if (lock_acquire(lk, c->l.dir, (int)config_int(cf, CF_USE_FLOCK),
			 config_int(cf, CF_LOCK_TIMEOUT),
			 config_int(cf, CF_LOCK_STALE_AGE)) == ST_OK)
		return ST_OK;
	/* a timeout means a stuck holder: the maintainer is told; I/O trouble
	 * is in the log like every other (a notice would say something false) */
	if (lk->timed_out)
		reply_notice(c, NULL, "lock-timeout", NULL, 0, 0, "fml: list lock timed out",
			     "fml could not get the list lock in time.  The mail waits in "
			     "var/incoming and is processed by the next run of fml or "
			     "fmlqueue.\n");
	return ST_TEMPFAIL;
}
