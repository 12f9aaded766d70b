/*
 * command: the command-processor entry point.  fml calls it for command
 * mail (the -ctl address, or "# word" lines at the top of a post): the
 * commands of its first lines are run (cmdparse.h) and answered in fml's
 * "Command Status report" form.  A mail to the one-click address of a
 * member (CTL+unsub-TOKEN, list/oneclick.h) unsubscribes that member at
 * once, whatever it says, and is not answered.
 */
#ifndef FML_COMMAND_H
#define FML_COMMAND_H

#include "actions/action.h"

fml_status command_process(action_ctx *c, action_mail *m);

/* ADDR leaves the list at once (one-click: the token was the proof):
 * removed from members and actives, logged with HOW, the maintainer told.
 * ST_OK removed, ST_DATAERR not a member (nothing done), ST_TEMPFAIL. */
fml_status command_leave(action_ctx *c, const char *addr, const char *how);

#endif
