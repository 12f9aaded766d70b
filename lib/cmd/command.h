/*
 * command: the command-processor entry point.  fml calls it for command
 * mail (the -ctl address, or "# word" lines at the top of a post).  Until
 * the command language lands (issue 4) it answers every command mail with
 * the list's `help` file, in fml's "Command Status report" form.
 */
#ifndef FML_COMMAND_H
#define FML_COMMAND_H

#include "actions/action.h"

fml_status command_process(action_ctx *c, action_mail *m);

#endif
