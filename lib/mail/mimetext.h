/*
 * mimetext: the readable text of one article, as UTF-8, for text digests
 * (RFC 1153): the fields Date, From, Subject, To, Cc, Message-ID, Keywords
 * and Summary (RFC 2047 decoded, unfolded, one line each), a blank line,
 * then the body: text/plain parts decoded (transfer encoding and charset),
 * every other leaf one line "[attachment: NAME, TYPE, N bytes, not
 * included]".  Lines end in LF; no control bytes but TAB.  Built on GMime.
 */
#ifndef FML_MIMETEXT_H
#define FML_MIMETEXT_H

#include <stddef.h>
#include <sys/types.h>

#include "util/status.h"

#define MIMETEXT_MAX_DEPTH 20  /* MIME nesting walked */
#define MIMETEXT_MAX_PARTS 200 /* MIME parts walked */

/* Where the text goes (the same shape as bundlewrite_sink). */
typedef fml_status (*mimetext_sink)(void *arg, const void *p, size_t n);

/* g_mime_init() once; mimetext_fd() and mimetext_mem() call it. */
void mimetext_init(void);

/* The text of the article held in FD, bytes 0..SIZE (FD is not closed, its
 * offset is not used).  ST_TEMPFAIL on a read error, else what SINK
 * returned when it failed. */
fml_status mimetext_fd(int fd, off_t size, mimetext_sink sink, void *arg);

/* The same for an article in memory (tests, fuzzing). */
fml_status mimetext_mem(const char *p, size_t n, mimetext_sink sink, void *arg);

#endif
