/*
 * procfull: proc_drain() with everything (proc.h): for fmlproc, fmlqueue,
 * makefml.  Naming it links cmd/ and libarchive, GMime, crypt with it.
 */
#ifndef FML_PROCFULL_H
#define FML_PROCFULL_H

#include "proc.h"

extern const proc_ops procfull_ops;

#endif
