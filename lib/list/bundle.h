/*
 * bundle: articles sent back by mail (get, mget, digests): which of the
 * requested articles exist, and in which parts they go.  A request is split
 * into parts of at most a size limit (at article boundaries; an article
 * larger than the limit is a part of its own); each part is a mail of its
 * own.  The modes name the formats; bundlewrite.h writes a part in one.
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

#endif
