/*
 * bundle: which articles a get/mget request or a digest sends back, in which
 * parts.  Interface in bundle.h; the ranges are artrange.c's, reading an
 * article is article.c's, writing a part in a format is bundlewrite.c's.
 *
 * bundle_plan() looks every article of the ranges up in the store (spool,
 * then archive units), keeps the sizes of those that exist, collects the
 * missing ones as compact ranges ("3 7 9-12") for the reply, and cuts the
 * list into parts at article boundaries so that a part stays under the size
 * limit (an article larger than the limit is a part of its own).
 *
 * Failure policy: a missing article is no failure (it is listed in
 * b->missing); any other trouble reading the store is returned as
 * article_open() returned it, with the bundle freed.
 */
#include "bundle.h"
#include "util/mem.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* ================================================================ modes */

static const struct {
	const char *name;
	bundle_mode mode;
} mode_names[] = {
    {"mp", BM_MP},   {"uf", BM_UF},	{"rfc1153", BM_RFC1153}, {"rfc934", BM_RFC934},
    {"tgz", BM_TGZ}, {"gz", BM_GZ}, /* fml4's other names */
    {"u", BM_UF},    {"unpack", BM_UF}, {"d", BM_RFC1153},	 {"b", BM_RFC934},
};

int bundle_mode_parse(const char *s, bundle_mode *m)
{
	for (size_t i = 0; i < sizeof mode_names / sizeof mode_names[0]; i++) {
		if (strcasecmp(s, mode_names[i].name) == 0) {
			*m = mode_names[i].mode;
			return 1;
		}
	}
	return 0;
}

const char *bundle_mode_name(bundle_mode m)
{
	for (size_t i = 0; i < sizeof mode_names / sizeof mode_names[0]; i++)
		if (mode_names[i].mode == m)
			return mode_names[i].name;
	return "?";
}

/* ================================================================ plan */

static void missing_flush(bundle *b, long lo, long hi)
{
	if (hi < lo)
		return;
	if (b->missing.len)
		str_putc(&b->missing, ' ');
	if (lo == hi)
		str_printf(&b->missing, "%ld", lo);
	else
		str_printf(&b->missing, "%ld-%ld", lo, hi);
}

static void plan_add(bundle *b, size_t *cap, long n, off_t size)
{
	if (b->n == *cap) {
		*cap = *cap ? 2 * *cap : 64;
		b->arts = mem_reallocarray(b->arts, *cap, sizeof *b->arts);
		b->sizes = mem_reallocarray(b->sizes, *cap, sizeof *b->sizes);
	}
	b->arts[b->n] = n;
	b->sizes[b->n] = size;
	b->n++;
}

static void plan_split(bundle *b, long long limit)
{
	long long cur = 0;
	size_t start = 0;

	b->part_end = mem_reallocarray(NULL, b->n ? b->n : 1, sizeof *b->part_end);
	b->nparts = 0;
	for (size_t i = 0; i < b->n; i++) {
		if (limit > 0 && i > start && cur + b->sizes[i] > limit) {
			b->part_end[b->nparts++] = i;
			start = i;
			cur = 0;
		}
		cur += b->sizes[i];
	}
	if (b->n)
		b->part_end[b->nparts++] = b->n;
}

fml_status bundle_plan(article_store *s, const artrange *r, long long limit, bundle *b)
{
	size_t cap = 0;
	long mlo = 1, mhi = 0; /* the current run of missing articles */

	memset(b, 0, sizeof *b);
	str_init(&b->missing);
	for (size_t i = 0; i < r->n; i++) {
		for (long n = r->iv[i][0];; n++) {
			int fd;
			off_t size;
			fml_status st = article_open(s, n, &fd, &size);
			if (st == ST_OK) {
				close(fd);
				plan_add(b, &cap, n, size);
			} else if (st == ST_NOINPUT) {
				if (mhi < mlo || n != mhi + 1) {
					missing_flush(b, mlo, mhi);
					mlo = n;
				}
				mhi = n;
			} else {
				bundle_free(b);
				return st;
			}
			if (n == r->iv[i][1])
				break;
		}
	}
	missing_flush(b, mlo, mhi);
	plan_split(b, limit);
	return ST_OK;
}

void bundle_free(bundle *b)
{
	free(b->arts);
	free(b->sizes);
	free(b->part_end);
	str_free(&b->missing);
	memset(b, 0, sizeof *b);
}
