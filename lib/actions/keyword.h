/*
 * keyword: fml's keyword traps on the first body lines.  Within the first
 * GUIDE_CHECK_LIMIT non-blank lines "# guide" (GUIDE_KEYWORD; bare "guide"
 * too for command mail) is a guide request; within COMMAND_CHECK_LIMIT
 * lines "# word" (word = [A-Za-z0-9_-]+, then blank or end of line) makes
 * the mail command mail.  MIME-aware: in a multipart mail the preamble and
 * the part headers are skipped (nested multiparts up to MIME_DEPTH_LIMIT)
 * and only the first part is examined, decoded per its
 * Content-Transfer-Encoding (quoted-printable, base64; others as they are).
 * Reads at most 64 KiB of the body.
 */
#ifndef FML_KEYWORD_H
#define FML_KEYWORD_H

#include "list/config.h"
#include "mail/envelope.h"
#include "util/status.h"

/* The part of a body read by the traps and by keyword_text(). */
#define KEYWORD_SCAN_BYTES 65536

typedef struct keyword_result {
	int guide;
	int command;
} keyword_result;

fml_status keyword_scan(int fd, const envelope *e, const config *cf, int ctladdr,
			keyword_result *r);
/* The same on body text in memory (tests). */
void keyword_scan_text(const char *body, size_t len, const char *content_type, const config *cf,
		       int ctladdr, keyword_result *r);
/* The text of the mail's first text part (the body itself when it is not
 * multipart), decoded, from the same first 64 KiB and the same MIME walk as
 * keyword_scan(); empty when the first part is not text.  ST_TEMPFAIL on a
 * read error. */
fml_status keyword_text(int fd, const envelope *e, const config *cf, str *out);
/* The same on body text in memory (tests); CTE is the top-level
 * Content-Transfer-Encoding value (NULL: none). */
void keyword_text_mem(const char *body, size_t len, const char *content_type, const char *cte,
		      const config *cf, str *out);
/* The boundary parameter of a multipart Content-Type value, or 0. */
int keyword_boundary(const char *ctype, size_t len, str *out);

#endif
