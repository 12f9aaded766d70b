/*
 * envelope: one mail as fml sees it.  The header is read into memory (up to
 * a limit) and split into fields that keep their raw bytes, folding and line
 * endings included, plus an unfolded view of each value; the body is never
 * read here: it is an offset range in the accepted file.
 *
 * Handled (each has a golden test in tests/golden/envelope/):
 *   - a leading mbox "From " line (envelope sender; not a header field)
 *   - CRLF, bare LF and mixed line endings; lone CR is data
 *   - a header with no blank line before the body: the body starts at the
 *     first line that is neither a field nor a continuation
 *   - truncated mail (EOF inside the header, no final newline)
 *   - NUL and control bytes in a field: the field is marked bad
 *   - limits on header bytes and field count: flags, parsing stays linear
 */
#ifndef FML_ENVELOPE_H
#define FML_ENVELOPE_H

#include <stddef.h>
#include <sys/types.h>

#include "util/status.h"
#include "util/str.h"

typedef struct hfield {
	size_t off; /* raw bytes: header.s + off, including the final line ending */
	size_t len;
	size_t name_len; /* the name is header.s + off, name_len bytes */
	str value;	 /* unfolded value: leading blanks and line endings removed,
			    each fold (line ending + blanks) replaced by the blanks */
	int bad;	 /* NUL or other control bytes (not TAB) in name or value */
} hfield;

enum {
	ENV_NO_BLANK_LINE = 1 << 0,   /* body began without a blank line */
	ENV_TRUNCATED = 1 << 1,	      /* EOF inside the header */
	ENV_HEADER_TOO_BIG = 1 << 2,  /* header bytes over the limit */
	ENV_TOO_MANY_FIELDS = 1 << 3, /* field count over the limit */
	ENV_BAD_FIELD = 1 << 4,	      /* some field has bad bytes */
	ENV_NO_FINAL_NEWLINE = 1 << 5 /* the mail does not end with a line ending */
};

typedef struct envelope_limits {
	size_t header_bytes; /* 0 = 100 KiB */
	size_t fields;	     /* 0 = 1000 */
} envelope_limits;

typedef struct envelope {
	str from_line; /* the mbox "From " line without line ending, or empty */
	str sender;    /* envelope sender ("" for <>) when has_sender */
	int has_sender;
	str header; /* raw header bytes (fields only: no From_ line, no blank line) */
	hfield *fields;
	size_t nfields, cap;
	int crlf;	  /* the first header line ended in CRLF */
	unsigned flags;	  /* ENV_* */
	off_t header_off; /* file offset where the header starts (after From_) */
	off_t body_off;	  /* file offset of the first body byte */
	off_t end_off;	  /* file offset just past the mail */
} envelope;

void envelope_init(envelope *e);
void envelope_free(envelope *e);

/* Parse the mail held in FD between offsets START and END (END = -1: to
 * EOF).  Reads only the header.  ST_TEMPFAIL on I/O errors. */
fml_status envelope_parse_fd(envelope *e, int fd, off_t start, off_t end,
			     const envelope_limits *lim);
/* The same on a memory buffer (golden tests, fuzzing); offsets are relative
 * to BUF. */
fml_status envelope_parse_mem(envelope *e, const char *buf, size_t len, const envelope_limits *lim);

/* The NTH (0-based) field named NAME (case-insensitive), or NULL. */
const hfield *envelope_get(const envelope *e, const char *name, size_t nth);
size_t envelope_count(const envelope *e, const char *name);
/* Whether field F has the name NAME (case-insensitive). */
int envelope_hfield_is(const envelope *e, const hfield *f, const char *name);

/* Write a trace of every decision (golden tests; see tests/golden). */
void envelope_dump(const envelope *e, str *out);

/* Tests only: the pread() chunk of envelope_parse_fd() (0 = 64 KiB), so that
 * golden tests and fuzzing can split lines at every byte. */
void envelope_set_chunk_size(size_t n);

#endif
