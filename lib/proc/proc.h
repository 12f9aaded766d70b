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
#include "actions/content.h"
#include "list/archunit.h"

#include <time.h>

/*
 * The parts of a drain that need the heavy libraries come through this
 * table, so that a program links only what it sets (a static link pulls
 * only the objects it names): command mail (cmd/, with GMime, crypt and
 * libarchive behind it) and the writing of archive units (libarchive).
 * procfull.c's procfull_ops has them all.  The alias pipe's lean fml passes
 * a table without them: proc_drain() then stops at the first item that
 * needs one (command mail, a bounce), leaving it and every later item in var/incoming untouched,
 * and sets *HANDOVER, for the program to hand the list to the full processor (fmlproc), which
 * drains from there in the same order.  A due archive unit sets *HANDOVER too, after the drain.
 */
/* command, archive, bounce, content and dkim_check may be NULL (handed over); the
 * others are set.  Without content, a post that contentrule_lean_keep()
 * (actions/contentrule.h) cannot pass is handed over. */
typedef struct proc_ops {
	/* run command mail M; ST_OK when it is done (then the item goes) */
	fml_status (*command)(action_ctx *c, action_mail *m);
	/* after a command mail's item is gone: its record (cmdrecord) */
	fml_status (*command_done)(const char *dir, const char *id);
	/* the orphaned command records older than AGE seconds */
	void (*command_sweep)(const char *dir, time_t now, long age);
	/* write one archive unit (archunit_writer) */
	archunit_writer archive;
	/* analyse bounce M and act on it (actions/bounce.h); ST_OK when done */
	fml_status (*bounce)(action_ctx *c, action_mail *m);
	/* judge post M by the content rules (actions/content.h) */
	fml_status (*content)(action_ctx *c, action_mail *m, content_result *r);
	/* does post M carry a valid DKIM signature aligned with its From:
	 * domain (actions/dkimcheck.h)?  1 (its h= into M->dkim_h), 0, -1
	 * unknown (no DNS answer) */
	int (*dkim_check)(action_ctx *c, action_mail *m, int strict);
} proc_ops;

/* Is the drain's sweep due (orphans, held posts' expiry and reminders;
 * at most every 10 minutes)?  A run with nothing waiting (fmlqueue's
 * timer) drains anyway when it is, so that a quiet list is swept too. */
int proc_sweep_due(const char *dir, time_t now);

/* HANDOVER may be NULL when OPS has every member. */
fml_status proc_drain(action_ctx *c, const proc_ops *ops, int *handover);

#endif
