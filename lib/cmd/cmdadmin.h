/*
 * cmdadmin: admin commands ("admin pass PASSWORD", "admin add ...") and
 * moderation (approve, reject), for command.c.  Each appends its result
 * lines to the report.
 */
#ifndef FML_CMDADMIN_H
#define FML_CMDADMIN_H

#include "cmdrun.h"

fml_status cmdadmin_run(cmd_run *r, const cmd_line *l);

#endif
