/*
 * bundle: articles sent back by mail: the article ranges of get/mget (and
 * of digests), reading articles from the spool, and the formats
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
 *            ustar) of spool/N files
 *   gz       application/gzip attachment (base64): a gzipped mboxrd file
 *
 * A request is split into parts of at most a size limit (at article
 * boundaries; an article larger than the limit is a part of its own); each
 * part is a mail of its own, and a tgz part is a complete archive.
 */
#ifndef FML_BUNDLE_H
#define FML_BUNDLE_H

#include <sys/types.h>

#include "article.h"
#include "artrange.h"
#include "util/status.h"
#include "util/str.h"

/* ---------------------------------------------------------------- modes */

typedef enum bundle_mode { BM_MP, BM_UF, BM_RFC1153, BM_RFC934, BM_TGZ, BM_GZ } bundle_mode;
/* 1 and *M set when S names a mode ("mp", "uf", ...; case-insensitive). */
int bundle_mode_parse(const char *s, bundle_mode *m);
const char *bundle_mode_name(bundle_mode m);

/* ---------------------------------------------------------------- bundles */

typedef struct bundle {
	long *arts;   /* the requested articles that exist, in order */
	off_t *sizes; /* their sizes */
	size_t n;
	size_t *part_end; /* part i is arts[part_end[i-1] .. part_end[i]) */
	size_t nparts;
	str missing; /* requested but not found: "3 7 9-12", "" if none */
} bundle;

/* Find the articles of R in the store S (spool or archive) and split them
 * into parts of at most LIMIT bytes (0 = one part). */
fml_status bundle_plan(article_store *s, const artrange *r, long long limit, bundle *b);
void bundle_free(bundle *b);

/* Where bundle_write() puts its bytes (e.g. reply_write on a queue item). */
typedef fml_status (*bundle_sink)(void *arg, const void *p, size_t n);

/* Write part I (0-based) in MODE: the MIME header fields ("Content-Type:",
 * "Content-Transfer-Encoding:"), the blank line and the body.  The caller
 * has written the other header fields (From, To, Subject, MIME-Version...).
 * TITLE (e.g. "elena") names the digest in the table of contents. */
fml_status bundle_write(const bundle *b, size_t part, bundle_mode mode, article_store *s,
			const char *title, bundle_sink sink, void *arg);

/* Part I as a plain mboxrd stream (RFC 4155), no MIME header: per article
 * a "From " line, the article with ">*From " lines quoted, a newline if it
 * lacks a final one, and a blank line (makefml archive). */
fml_status bundle_mbox(const bundle *b, size_t part, article_store *s, bundle_sink sink, void *arg);

#endif
