/*
 * web: what fmlweb answers (doc/fmlweb.8), as a CGI response.
 *
 *   /u/LIST/ADDR/TOKEN   RFC 8058 one-click unsubscribe (list/oneclick.h):
 *                        GET shows the address and a button and changes
 *                        nothing (mail scanners fetch links); POST with
 *                        List-Unsubscribe=One-Click (form-urlencoded or
 *                        multipart/form-data) removes the member at once,
 *                        under the list lock, and answers 200 again when
 *                        repeated; a token that is not the address's: 403
 *   /c/LIST/ID           a confirmation (cmd/confirm.h) by link: GET shows
 *                        what it confirms, POST does it, as the "confirm ID"
 *                        reply from the address would (the same checks, the
 *                        same mails); an unknown, used or expired ID: 403
 *
 * LIST is a list home under ML_DIR.  Pages are small, escaped, with no
 * script and no style (Content-Security-Policy default-src 'none'), never
 * cached, and not for robots.
 */
#ifndef FML_WEB_H
#define FML_WEB_H

#include <stddef.h>

#include "util/str.h"

typedef struct web_request {
	const char *ml_dir;
	const char *method; /* REQUEST_METHOD */
	const char *path;   /* PATH_INFO */
	const char *ctype;  /* CONTENT_TYPE, may be NULL */
	const char *body;   /* the POST body, BODY_LEN bytes */
	size_t body_len;
} web_request;

/* The answer to REQ (the CGI header lines, "Status:" first, a blank line,
 * the page) into OUT. */
void web_answer(const web_request *req, str *out);

/* Does a POST body of content type CTYPE say List-Unsubscribe=One-Click? */
int web_one_click_body(const char *ctype, const char *body, size_t len);

#endif
