/*
 * status: map library results to <sysexits.h>.  The mapping is the one
 * documented in doc/fml.8 (EXIT STATUS): 75 is the only "try again" code
 * every MTA agrees on; 65 is used only for deliberate refusals.  Never 1.
 */
#include "status.h"
#include "str.h"

#include <stdarg.h>
#include <sysexits.h>

fml_status status_why(str *why, fml_status st, const char *fmt, ...)
{
	if (why) {
		va_list ap;
		va_start(ap, fmt);
		str_clear(why);
		str_vprintf(why, fmt, ap);
		va_end(ap);
	}
	return st;
}

int status_exit_code(fml_status st)
{
	switch (st) {
	case ST_OK:
		return EX_OK;
	case ST_TOOBIG:
	case ST_DATAERR:
		return EX_DATAERR;
	case ST_USAGE:
		return EX_USAGE;
	case ST_NOINPUT:
		return EX_NOINPUT;
	case ST_NOPERM:
		return EX_NOPERM;
	case ST_TEMPFAIL:
	default:
		return EX_TEMPFAIL;
	}
}

const char *status_name(fml_status st)
{
	static const char *const names[] = {"ok",    "tempfail", "toobig", "dataerr",
					    "usage", "noinput",	 "noperm"};
	return (unsigned)st < sizeof names / sizeof names[0] ? names[st] : "unknown";
}
