/*
 * cmdfiles: the commands that send files and articles (help, guide,
 * objective, summary, status, get, mget, ...), for command.c and
 * cmdadmin.c.  Each appends its result lines to the report.
 */
#ifndef FML_CMDFILES_H
#define FML_CMDFILES_H

#include "cmdrun.h"

fml_status cmdfiles_run(cmd_run *r, const cmd_line *l);

#endif
