/*
 * contentrule: the list's content rules (CONTENT_HANDLER, fml 4's
 * ADD_CONTENT_HANDLER) and what the lean alias pipe can decide without
 * reading the MIME structure.  libc only: the lean fml links it; the work
 * on the structure is content.h's, in fmlproc.
 *
 *   CONTENT_HANDLER = BODYTYPE PARTTYPE ACTION; BODYTYPE PARTTYPE ACTION; ...
 *
 * BODYTYPE is matched against the mail's own Content-Type (its media type,
 * lower case), or "!MIME" for a mail without MIME-Version; PARTTYPE against
 * a part's type.  Both are globs (fnmatch, case-insensitive: "*",
 * "multipart/" followed by "*").  ACTION: allow, strip, strip+notice, reject,
 * allow+multipart.  For each part the first matching rule gives the action;
 * a part no rule matches is allowed.
 */
#ifndef FML_CONTENTRULE_H
#define FML_CONTENTRULE_H

#include "list/config.h"
#include "mail/envelope.h"
#include "util/str.h"

/* In order of strictness: of two judgements of one part, the larger wins. */
typedef enum {
	CA_ALLOW,
	CA_ALLOW_MULTIPART, /* allow; and keep the multipart it is in */
	CA_STRIP,	    /* remove the part; the poster is told */
	CA_STRIP_NOTICE,    /* the same, and a line in the article says so */
	CA_REJECT	    /* the whole mail is not distributed; the poster is told */
} content_action;

typedef struct contentrule {
	char body[128], part[128];
	content_action act;
} contentrule;

typedef struct contentrule_set {
	contentrule *v;
	size_t n;
} contentrule_set;

/* Parse SPEC; -1 with the reason in ERR on a syntax error. */
int contentrule_parse(const char *spec, contentrule_set *r, str *err);
void contentrule_free(contentrule_set *r);
/* The action of the first rule matching BODYTYPE and PARTTYPE; 0 when no
 * rule matches (then *ACT is CA_ALLOW). */
int contentrule_match(const contentrule_set *r, const char *bodytype, const char *parttype,
		      content_action *act);
const char *contentrule_action_name(content_action a);

/* Is any content step configured: rules, HTML handling, limits or
 * decoration?  Without one, fml never looks at the MIME structure. */
int contentrule_configured(const config *cf);
/* The media type ("type/subtype", lower case, no parameters) of a
 * Content-Type value into OUT; "text/plain" when VALUE is NULL or has no
 * valid type (RFC 2045 5.2). */
void contentrule_media_type(const char *value, char *out, size_t size);
/* The lean alias pipe's question: can post E (the body BODY_SIZE bytes)
 * go as it came without a look at its structure?  1 yes, 0 the full
 * processor must look (multipart, a non-text body, decoration, a rule
 * that does not allow it), -1 CONTENT_HANDLER does not parse (logged). */
int contentrule_lean_keep(const config *cf, const envelope *e, off_t body_size);

/* The mail a changed body makes: E's header without its Content-* fields
 * and MIME-Version (line ends LF, as the body's), "MIME-Version: 1.0",
 * then MIME (content.h: the body with its MIME fields), into OUT. */
void contentrule_mail(const envelope *e, const str *mime, str *out);

#endif
