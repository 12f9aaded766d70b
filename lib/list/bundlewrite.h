/*
 * bundlewrite: one part of a bundle (bundle.h) as a mail body, in one of
 * the modes
 *
 *   mp       multipart/digest (RFC 2046): a text/plain table of contents,
 *            then one message/rfc822 part per article, its bytes untouched
 *   uf       text/plain: each article after a "From " line, mboxrd-quoted
 *            (RFC 4155: ">*From " lines get one more '>')
 *   rfc1153  text/plain digest (RFC 1153): table of contents, a line of 70
 *            '-', then per article its readable text (mimetext.h: decoded
 *            Date/From/Subject/To/Cc/Message-ID/Keywords/Summary lines, the
 *            text parts decoded to UTF-8, one line per attachment),
 *            dash-stuffed ("- " before lines starting with '-'), separated
 *            by lines of 30 '-', then "End of TITLE Digest"; charset UTF-8
 *            or us-ascii, quoted-printable when a line is over 998 octets
 *   rfc934   text/plain, RFC 934 encapsulation: whole articles,
 *            dash-stuffed, between lines of 30 '-'
 *   tgz      application/gzip attachment (base64): a tar.gz (libarchive,
 *            ustar) of spool/N files; every part a complete archive
 *   gz       application/gzip attachment (base64): a gzipped mboxrd file
 */
#ifndef FML_BUNDLEWRITE_H
#define FML_BUNDLEWRITE_H

#include <stddef.h>

#include "article.h"
#include "bundle.h"
#include "util/status.h"

/* Where bundlewrite() puts its bytes (e.g. reply_write on a queue item). */
typedef fml_status (*bundlewrite_sink)(void *arg, const void *p, size_t n);

/* Write part I (0-based) in MODE: the MIME header fields ("Content-Type:",
 * "Content-Transfer-Encoding:"), the blank line and the body.  The caller
 * has written the other header fields (From, To, Subject, MIME-Version...).
 * TITLE (e.g. "elena") names the digest in the table of contents. */
fml_status bundlewrite(const bundle *b, size_t part, bundle_mode mode, article_store *s,
		       const char *title, bundlewrite_sink sink, void *arg);

/* Part I as a plain mboxrd stream (RFC 4155), no MIME header: per article
 * a "From " line, the article with ">*From " lines quoted, a newline if it
 * lacks a final one, and a blank line (makefml archive). */
fml_status bundlewrite_mbox(const bundle *b, size_t part, article_store *s, bundlewrite_sink sink,
			    void *arg);

#endif
