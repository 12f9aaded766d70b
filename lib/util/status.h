/*
 * status: what library code returns, and the one place where a result
 * becomes a process exit status (<sysexits.h>).  Library code never exits;
 * mains call status_exit_code() once.
 */
#ifndef FML_STATUS_H
#define FML_STATUS_H

typedef enum fml_status {
	ST_OK = 0,   /* done */
	ST_TEMPFAIL, /* local transient trouble: lock, disk, I/O, config -> 75 */
	ST_TOOBIG,   /* deliberate permanent refusal: over the size limit -> 65 */
	ST_DATAERR,  /* other deliberate permanent refusal of the input -> 65 */
	ST_USAGE,    /* bad command line of an admin tool -> 64 */
	ST_NOINPUT,  /* unknown list or missing file (admin tools) -> 66 */
	ST_NOPERM,   /* refused for permissions (admin tools) -> 77 */
} fml_status;

struct str;

int status_exit_code(fml_status st);
/* The one way a library call says why it failed: WHY (may be NULL) is set
 * to the printf-formatted reason and ST is returned, so a failure reads
 * "return status_why(err, ST_DATAERR, "bad address %s", a);".  Reasons are
 * short, lower-case, without a final period; "%m" (or strerror() of a
 * saved errno) names the system error. */
fml_status status_why(struct str *why, fml_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
const char *status_name(fml_status st);

#endif
