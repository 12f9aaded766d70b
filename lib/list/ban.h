/*
 * ban: DIR/ban, the addresses that may neither post to the list nor use
 * its command address (subscribe, confirm, anything): their mail is not
 * answered, only logged and kept in var/log/banned.ID.  One rule a line:
 *   alice@example.com      that address (case-insensitive)
 *   @example.net           every address at that domain or under it
 *   ^spam[0-9]+@           an extended regular expression (POSIX ERE,
 *                          case-insensitive) an address must match
 * Blank lines and lines starting with '#' are comments.  The file is read
 * at each check (an edit takes effect at once).  makefml's own add is not
 * bound by it: the admin decides.
 */
#ifndef FML_BAN_H
#define FML_BAN_H

#include "util/str.h"

/* Is ADDR or ADDR2 (either may be NULL) banned by DIR/ban?  1 (the rule
 * into RULE), 0 (or no file), -1 when the file cannot be read (logged: the
 * caller keeps the mail for a later run).  A line that is no valid rule is
 * skipped with a warning. */
int ban_match(const char *dir, const char *addr, const char *addr2, str *rule);
/* The invalid lines of DIR/ban, one "line N: TEXT: why" a line onto OUT;
 * how many (-1: unreadable). */
int ban_check(const char *dir, str *out);

#endif
