/*
 * content: the list's content rules applied to a post's MIME structure,
 * and its decoration (fml 4's ContentHandler, PREAMBLE/TRAILER_MAILBODY).
 * GMime for the structure, libmagic for what a part is.  In fmlproc only
 * (proc_ops.content): the lean pipe hands a post over when
 * contentrule_lean_keep() (contentrule.h) cannot say it goes as it came.
 *
 * Each leaf is judged by the rules (contentrule.h) twice: by the type it
 * declares and, unless it is text, by the type libmagic finds in its first
 * 64 KB decoded (the magic database is loaded once per process, and only
 * for a mail with a non-text leaf); the stricter action wins, so an
 * executable sent as image/png meets the rule for
 * application/x-dosexec.  HTML_MAIL_DEFAULT_HANDLER strip keeps the
 * text/plain of a multipart/alternative and turns an HTML-only part into
 * text (html2text); reject refuses a mail with HTML and no text
 * alternative.  CONTENT_MAX_PARTS/_DEPTH/_PART_SIZE refuse a mail over
 * them.  A multipart that loses parts to the rules keeps the others (one
 * left: it becomes that part, unless allow+multipart); none left: the mail
 * is refused.
 *
 * Decoration: a text/plain body is decoded, extended and encoded again in
 * its own charset and transfer encoding (UTF-8 when its charset cannot
 * hold the text; quoted-printable when 7bit cannot); a multipart/mixed gets
 * a text/plain part of its own at either end; anything else is wrapped in
 * a multipart/mixed with them.  A signed or encrypted mail
 * (multipart/signed, multipart/encrypted, application/pkcs7-mime) is never
 * changed: a rule that would strip from it refuses it instead.
 *
 * When nothing changes, the caller distributes the bytes that came (the
 * body byte for byte); when something does, GMime writes the parts it did
 * not touch as they were.
 */
#ifndef FML_CONTENT_H
#define FML_CONTENT_H

#include "action.h"

typedef enum { CONTENT_KEEP, CONTENT_CHANGED, CONTENT_REJECT } content_verdict;

typedef struct content_result {
	content_verdict verdict;
	str mime;   /* CHANGED: the new body with its MIME fields ("Content-Type:
		       ..." lines, a blank line, the body), MIME-Version not included */
	str report; /* what was removed or refused, and why: a line each */
	int tell;   /* the poster is told (a part removed, the mail refused) */
} content_result;

/* inline: the lean pipe's proc.c holds one without linking GMime */
static inline void content_result_init(content_result *r)
{
	r->verdict = CONTENT_KEEP;
	str_init(&r->mime);
	str_init(&r->report);
	r->tell = 0;
}

static inline void content_result_free(content_result *r)
{
	str_free(&r->mime);
	str_free(&r->report);
}
/* Judge post M (its item's bytes from the header to the end).  ST_OK with
 * R filled; ST_TEMPFAIL on I/O trouble or a CONTENT_HANDLER that does not
 * parse (logged: the post waits). */
fml_status content_apply(action_ctx *c, action_mail *m, content_result *r);
/* The same for a mail in memory with the configuration CF (tests, fuzzing). */
fml_status content_apply_mem(const config *cf, const char *mail, size_t len, content_result *r);

#endif
