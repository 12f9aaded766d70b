/*
 * htmlarch: the list's HTML archive (HTML_ARCHIVE; fml 4's AUTO_HTML_GEN),
 * static files under HTML_ARCHIVE_DIR that any web server can serve:
 *
 *   index.html          the units (HTML_INDEX_UNIT: day, week, month, or N
 *                       articles), with their article counts; the feed
 *   atom.xml            the last 20 articles (RFC 4287)
 *   archive.css             the one style sheet
 *   UNIT/index.html     the unit's articles: number, subject, author, date
 *   UNIT/thread.html    the same as threads (In-Reply-To and References,
 *                       then the subject without Re: and tags); a unit's
 *                       pages hold HTML_INDEX_PAGE articles each: a full
 *                       one is written once as page-K.html and
 *                       thread-K.html, the last is also index.html and
 *                       thread.html; HTML_EXPIRE_LIMIT drops old units
 *   a/N.html            article N: subject, author, date, its place in the
 *                       thread; the text parts decoded to UTF-8 (text/html
 *                       shown as text, never as HTML), URLs made links,
 *                       quoted lines marked; the other parts saved as
 *                       a/N/K-NAME (a safe name; a type a browser would
 *                       run, such as .html or .svg, gets .txt or .bin
 *                       appended) and listed with their type and size
 *
 * Every value is escaped (util/html); each page carries a strict
 * Content-Security-Policy (no script at all, only archive.css); addresses are
 * shown as HTML_ADDRESS_POLICY says, in the header and in the text.  Only
 * articles are archived: commands, admin mail and held posts never are.
 *
 * State (var/db/html/): done (the last article made), units (KEY COUNT per
 * line), KEY.K.meta (a line per article of page K of the unit), feed,
 * msgid.db (a cache: Message-ID -> article, for threads).  Pages are replaced whole
 * (a temp file renamed) and never synced: a crash leaves the old page or
 * the new one, and the next update redoes what it had not recorded as
 * done.  The state and pages are rebuilt by htmlarch_rebuild().
 *
 * Cost per post: the article's page, the previous article's (for its
 * "next" link), the last page of the unit's index and thread view, the
 * top index (a line per unit) and the feed: it does not grow with the
 * archive (bench (h)).
 */
#ifndef FML_HTMLARCH_H
#define FML_HTMLARCH_H

#include "list/list.h"
#include "util/status.h"
#include "util/str.h"

#include <sys/types.h>

/* Make the pages of the articles past var/db/html/done, up to the list's
 * last.  Takes the archive's own lock (not the list lock); when another
 * process holds it, returns at once (that one goes on until it is done).
 * Nothing when HTML_ARCHIVE is off. */
fml_status htmlarch_update(list_ctx *l);

/* The whole archive made again from the spool and the archive units (into
 * new directories, then swapped in): makefml htmlify.  *N the articles. */
fml_status htmlarch_rebuild(list_ctx *l, long *n);

/* The page of article N (open as FD, SIZE bytes) into PAGE, its parts
 * saved under ROOT/a/N/; nothing else written (tests, fuzzing). */
fml_status htmlarch_page(list_ctx *l, const char *root, long n, int fd, off_t size, str *page);

#endif
