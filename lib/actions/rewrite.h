/*
 * rewrite: the article header as fml distributes it.  Edits are made on the
 * raw header lines: fields we do not touch keep their bytes (folding, 8-bit
 * text, line endings); the body is never seen here.
 *   - SKIP_FIELDS removed; fields with NUL/control bytes dropped
 *   - Subject: old tags of this list stripped, Re: forms collapsed, the
 *     SUBJECT_TAG_TYPE tag put in front (folding of the rest kept)
 *   - Date: per DATE_TYPE (Posted:/X-Posted:/X-Original-Date: variants)
 *   - To: per REWRITE_TO; Reply-To: per REPLY_TO; Precedence: PRECEDENCE
 *   - Message-ID added when missing
 *   - X-ML-Name, X-Mail-Count, X-MLServer, X-ML-Info, List-Id (RFC 2919),
 *     List-Post/-Help/-Subscribe/-Unsubscribe/-Owner (RFC 2369) replace any
 *     copies the poster sent
 * New fields use the header's own line ending (CRLF or LF).
 */
#ifndef FML_REWRITE_H
#define FML_REWRITE_H

#include <time.h>

#include "list/config.h"
#include "mail/envelope.h"
#include "util/str.h"

typedef struct rewrite_info {
	long article;		   /* N */
	time_t now;		   /* distribution time */
	time_t arrival;		   /* when the mail was accepted */
	int dmarc;		   /* a dmarc_plan (dmarc.h): DMARC_AS_IS (0), the rest below */
	const char *signed_fields; /* DMARC_UNMODIFIED: h= of the author's signature */
} rewrite_info;

/*
 * DMARC (dmarc.h):
 *   - DMARC_MUNGE: From: becomes "NAME via LIST" <MAIL_LIST> (NAME the
 *     author's display name decoded, else her local part; RFC 2047 UTF-8
 *     when not ASCII), the author's From: value goes to Author: (RFC 9057)
 *     and to Reply-To: (kept if she set one), or to Cc: when REPLY_TO
 *     forces the list's Reply-To:
 *   - DMARC_WRAP: that header for a mail from the list whose body is the
 *     post (rewrite_wrapped); its Content-* and MIME-Version fields are the
 *     wrapper's
 *   - DMARC_UNMODIFIED: the poster's fields as they came (but SKIP_FIELDS,
 *     which the MTA adds), no subject tag, Date or To change; only fields
 *     whose names are not in SIGNED_FIELDS are added
 */

/* The whole new header, ending with the empty line before the body. */
void rewrite_header(const envelope *e, const config *cf, const rewrite_info *ri, str *out);
/* DMARC_WRAP's body: the post's header fields (but SKIP_FIELDS) and body,
 * the body read by the caller; OUT gets the header and the empty line. */
void rewrite_wrapped_header(const envelope *e, const config *cf, str *out);
/* The RFC 2919 List-Id and RFC 2369 List-* fields (as USE_RFC2919 and
 * USE_RFC2369 say), each line ended by EOL: for articles and digests. */
void rewrite_list_fields(const config *cf, const char *eol, str *out);
/* Subject value rewrite on raw bytes (after "Subject:", up to and
 * including the final line ending); OUT gets the new raw value.  Returns
 * 0 when nothing changes (OUT then equals the input).  ARTICLE < 0 strips
 * old tags (of TAG_TYPE's forms) and collapses Re: without adding a tag. */
int rewrite_subject(const char *raw, size_t len, const char *tag_type, const char *bracket,
		    int digits, long article, const char *eol, str *out);
/* The tag text for ARTICLE ("" when TAG_TYPE is empty). */
void rewrite_tag(const char *tag_type, const char *bracket, int digits, long article, str *out);

#endif
