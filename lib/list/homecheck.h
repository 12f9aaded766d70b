/*
 * homecheck: the sanity check of one list home (makefml check): layout,
 * owner and modes, config, include files, member files, indexes, seq.
 */
#ifndef FML_HOMECHECK_H
#define FML_HOMECHECK_H

#include "config.h"
#include "util/str.h"

/* Check the list home CA->dir, loading its configuration with CA.  Appends
 * one line per finding to REPORT: "problem: ..." for what needs the
 * admin's hand, "note: ..." for what was fine or was put right (a stale
 * index is rebuilt).  Returns the number of problems. */
int homecheck_run(const config_args *ca, str *report);

#endif
