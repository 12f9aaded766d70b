/*
 * proc: what one accepted mail means for a list.  proc_drain() runs under
 * the list lock and handles every item of var/incoming/ oldest first:
 * envelope, loop and duplicate checks, keyword traps, dispatch to guide /
 * commands / post / reject handler / moderation hold, and for a post the
 * distribution (distribute.c).  Every outcome removes the item (or moves it
 * to var/hold or var/log); only local trouble (ST_TEMPFAIL) leaves it for
 * the next run, and stops the drain there: the items after it wait too, so
 * that posts become articles in the order they arrived.
 */
#ifndef FML_PROC_H
#define FML_PROC_H

#include "actions/action.h"

fml_status proc_drain(action_ctx *c);

#endif
