/*
 * migrate: an fml 4 config.ph as an fml config.cf (makefml migrate).
 *
 * config.ph is Perl; what fml 4's makefml writes and admins edit is a small
 * part of it, and that part is read here, statement by statement:
 *   $NAME = "text";  $NAME = 'text';  $NAME = 123;  $NAME = $OTHER;
 *                     (double-quoted text: \@ \" \\ \$ unescaped, $VAR and
 *                     ${VAR} kept for fml's own expansion)
 *   &ADD_CONTENT_HANDLER('BODY', 'PART', 'ACTION');   CONTENT_HANDLER rules
 *                     (".*" in a type becomes the glob "*")
 *   &DEFINE_FIELD_FORCED('reply-to', VALUE);            REPLY_TO
 *   1;  # comments  blank lines                         nothing
 * A variable fml knows (same name; AUTO_HTML_GEN is HTML_ARCHIVE) whose
 * value suits its type and differs from the default becomes "NAME = value";
 * fml 4's bare numbers of days (MODERATOR_EXPIRE_LIMIT, HTML_EXPIRE_LIMIT)
 * and hours (CONFIRMATION_EXPIRE) keep their meaning.  Everything else
 * (hooks, arrays, variables fml has no use for, values it refuses) is
 * listed, commented, at the end of the file with the reason.
 */
#ifndef FML_MIGRATE_H
#define FML_MIGRATE_H

#include <stddef.h>

#include "config.h"
#include "util/str.h"

typedef struct migrate_result {
	int set;     /* variables written */
	int same;    /* variables equal to fml's default: not written */
	int skipped; /* statements not understood or not used */
} migrate_result;

/* The config.cf text for config.ph PH (LEN bytes) into OUT; DEFAULTS is the
 * configuration the list would have without it (built-in, site files), used
 * to check each value and to leave out what equals it. */
void migrate_config(const char *ph, size_t len, const config *defaults, str *out,
		    migrate_result *r);

/* TEXT as UTF-8: converted in place from EUC-JP (fml 4's Japanese
 * files), else ISO-2022-JP or Shift_JIS, when it is not UTF-8 already.
 * The charset it was in, or NULL when none fits (TEXT unchanged). */
const char *migrate_utf8(str *text);

#endif
