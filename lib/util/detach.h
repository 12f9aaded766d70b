/*
 * detach: a child that outlives its caller's caller: work started after
 * the answer to the MTA (delivery, the HTML archive) that nobody waits on.
 */
#ifndef FML_DETACH_H
#define FML_DETACH_H

#include <sys/types.h>

/* fork(): in the child (0 returned) a session of its own, stdin, stdout
 * and stderr on /dev/null, no logging to stderr; the child's pid in the
 * parent; -1 (logged) when it could not fork. */
pid_t detach_fork(void);

#endif
