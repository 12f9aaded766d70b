/*
 * lang: the language of what a list writes to people (LANGUAGE).  The
 * texts of a list home (help, guide, welcome, confirm, deny, objective)
 * come from spool-skel/LANGUAGE/ at makefml newml (the English skeleton
 * for the rest); the sentences fml composes itself (confirmation requests,
 * command reports, subjects) are looked up in a catalog: the list's own
 * DIR/messages when it has one, else spool-skel/LANGUAGE/messages.  A
 * catalog is pairs of lines, the English sentence then its translation
 * ("\n" for a line end, '#' lines and blank lines between pairs); a
 * translation whose printf conversions are not the English one's, in the
 * same order, is not used.  Another language is a folder more.
 */
#ifndef FML_LANG_H
#define FML_LANG_H

#include "config.h"

/* ENGLISH (a printf format) in the list's LANGUAGE, or ENGLISH itself. */
const char *lang_msg(const config *cf, const char *dir, const char *english)
    __attribute__((format_arg(3)));

/* LANGUAGE_CHARSET, for the body and subject of what fml writes:
 * "UTF-8" or "ISO-2022-JP". */
const char *lang_charset(const config *cf);

#endif
