/*
 * html: text into HTML.  Everything a page shows that came from outside
 * (a subject, an address, a list name, a report) goes through here.
 */
#ifndef FML_HTML_H
#define FML_HTML_H

#include <stddef.h>

#include "str.h"

/* P (N bytes) escaped for an element's text or a quoted attribute value
 * (& < > " '), appended to OUT; control bytes but TAB and LF, and bytes
 * that are not UTF-8, become U+FFFD. */
void html_escape(str *out, const char *p, size_t n);
/* The same for a NUL-terminated S. */
void html_puts(str *out, const char *s);

#endif
