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

/* The same walk for a page that shows the parts in its own way (the HTML
 * archive): with hooks, the fields go to FIELD (name, decoded value) and
 * not to the sink; each item of the body starts with a call of PART (no
 * blank line between items): for a text shown, KIND MIMETEXT_TEXT, its
 * type, then its lines go to the sink (text/html turned into text by
 * html2text when HTML_AS_TEXT); for a leaf not shown, MIMETEXT_LEAF with
 * its file name (NULL if none), type and decoded size, and LEAF, which
 * mimetext_leaf_save() may write out during the call; for a limit, KIND
 * MIMETEXT_LIMIT and its sentence as the type. */
enum { MIMETEXT_TEXT, MIMETEXT_LEAF, MIMETEXT_LIMIT };
typedef struct mimetext_leaf mimetext_leaf;
typedef struct mimetext_hooks {
	const char *const *fields; /* the fields for FIELD, NULL-terminated */
	void (*field)(void *arg, const char *name, const char *value);
	void (*part)(void *arg, int kind, const char *name, const char *type, long long size,
		     mimetext_leaf *leaf);
	int html_as_text;
} mimetext_hooks;
fml_status mimetext_fd_hooks(int fd, off_t size, const mimetext_hooks *h, mimetext_sink sink,
			     void *arg);
/* LEAF's decoded bytes into FD: ST_OK or ST_TEMPFAIL. */
fml_status mimetext_leaf_save(mimetext_leaf *leaf, int fd);

#endif
