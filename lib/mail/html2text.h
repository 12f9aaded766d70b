/*
 * html2text: readable plain text from an HTML document (UTF-8 in, UTF-8
 * out), for a list that carries no HTML: the text of the body, paragraphs
 * and line breaks kept, list items as "* ", links as "text <URL>", script,
 * style and head left out, character references decoded, blanks folded
 * (not inside <pre>).  Not an HTML parser: tags are recognised by their
 * names, so broken markup gives broken text, never a crash or a loop
 * (linear in the input).
 */
#ifndef FML_HTML2TEXT_H
#define FML_HTML2TEXT_H

#include <stddef.h>

#include "util/str.h"

void html2text(const char *html, size_t len, str *out);

#endif
