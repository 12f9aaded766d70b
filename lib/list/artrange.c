/*
 * artrange: sets of article numbers from a request ("1-10,last:5"), for
 * get, mget, summary and digests.  See artrange.h.  Failure policy: a bad
 * spec is ST_DATAERR with a reason for the report; nothing is logged.
 */
#include "artrange.h"
#include "util/mem.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

void artrange_init(artrange *r)
{
	r->iv = NULL;
	r->n = r->cap = 0;
}

void artrange_free(artrange *r)
{
	free(r->iv);
	artrange_init(r);
}

long artrange_count(const artrange *r)
{
	long n = 0;
	for (size_t i = 0; i < r->n; i++)
		n += r->iv[i][1] - r->iv[i][0] + 1;
	return n;
}

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* A decimal number at *PP: 1 (*PP advanced), 0 when there is none, -1 when
 * it does not fit in a long. */
int artrange_parse_number(const char **pp, long *v)
{
	const char *p = *pp;
	long n = 0;

	if (!is_digit(*p))
		return 0;
	for (; is_digit(*p); p++) {
		int d = *p - '0';
		if (n > (LONG_MAX - d) / 10)
			return -1;
		n = n * 10 + d;
	}
	*pp = p;
	*v = n;
	return 1;
}

/* The keyword W at *PP (case-insensitive, not followed by a letter). */
static int parse_word(const char **pp, const char *w)
{
	size_t n = strlen(w);
	if (strncasecmp(*pp, w, n) != 0 || is_alpha((*pp)[n]))
		return 0;
	*pp += n;
	return 1;
}

/* An end of an interval: a number, "first" or "last". */
static int parse_end(const char **pp, long last, long *v)
{
	if (parse_word(pp, "first")) {
		*v = 1;
		return 1;
	}
	if (parse_word(pp, "last")) {
		*v = last;
		return 1;
	}
	return artrange_parse_number(pp, v);
}

/* One item at *PP into IV (not yet clipped). */
static fml_status parse_item(const char **pp, long last, long iv[2], str *why)
{
	const char *p = *pp;
	long a, b;
	int k;

	if (*p == ',' || *p == 0)
		return status_why(why, ST_DATAERR, "empty item in range");
	int is_first = parse_word(&p, "first");
	if ((is_first || parse_word(&p, "last")) && *p == ':') {
		p++;
		if ((k = artrange_parse_number(&p, &b)) < 0)
			return status_why(why, ST_DATAERR, "number out of range");
		if (k == 0 || b == 0)
			return status_why(why, ST_DATAERR, "bad count after ':' in range");
		if (*p != ',' && *p != 0)
			return status_why(why, ST_DATAERR, "junk after item in range");
		iv[0] = is_first ? 1 : last - b + 1;
		iv[1] = is_first ? b : last;
		*pp = p;
		return ST_OK;
	}
	p = *pp;
	if ((k = parse_end(&p, last, &a)) <= 0)
		return status_why(why, ST_DATAERR, "%s",
				  k < 0 ? "number out of range" : "bad item in range");
	b = a;
	if (*p == '-') {
		p++;
		if ((k = parse_end(&p, last, &b)) <= 0)
			return status_why(why, ST_DATAERR, "%s",
					  k < 0 ? "number out of range" : "bad item in range");
		if (b < a)
			return status_why(why, ST_DATAERR, "range end before its start");
	}
	if (*p != ',' && *p != 0)
		return status_why(why, ST_DATAERR, "junk after item in range");
	iv[0] = a;
	iv[1] = b;
	*pp = p;
	return ST_OK;
}

static int iv_cmp(const void *x, const void *y)
{
	const long *a = x, *b = y;
	return a[0] < b[0] ? -1 : a[0] > b[0];
}

fml_status artrange_parse(const char *spec, long last, long max, artrange *r, str *why)
{
	size_t items = 1;
	const char *p;
	fml_status st;

	r->n = 0;
	for (p = spec; *p; p++)
		items += *p == ',';
	if (r->cap < items) {
		r->iv = mem_reallocarray(r->iv, items, sizeof *r->iv);
		r->cap = items;
	}
	for (p = spec;;) {
		long iv[2] = {0, 0}; /* only ST_OK sets it; the compiler cannot see that */
		if ((st = parse_item(&p, last, iv, why)) != ST_OK) {
			r->n = 0;
			return st;
		}
		if (iv[0] < 1)
			iv[0] = 1;
		if (iv[1] > last)
			iv[1] = last;
		if (iv[0] <= iv[1]) {
			r->iv[r->n][0] = iv[0];
			r->iv[r->n][1] = iv[1];
			r->n++;
		}
		if (*p == 0)
			break;
		p++; /* ',' */
	}
	qsort(r->iv, r->n, sizeof *r->iv, iv_cmp);
	size_t o = 0;
	for (size_t i = 0; i < r->n; i++) {
		/* merge overlapping and adjacent; lo >= 1 so lo - 1 cannot overflow */
		if (o > 0 && r->iv[i][0] - 1 <= r->iv[o - 1][1]) {
			if (r->iv[i][1] > r->iv[o - 1][1])
				r->iv[o - 1][1] = r->iv[i][1];
			continue;
		}
		r->iv[o][0] = r->iv[i][0];
		r->iv[o][1] = r->iv[i][1];
		o++;
	}
	r->n = o;
	if (r->n == 0)
		return status_why(why, ST_DATAERR, "no such articles");
	if (max > 0 && artrange_count(r) > max) {
		r->n = 0;
		return status_why(why, ST_DATAERR, "too many articles requested");
	}
	return ST_OK;
}
