/*
 * psl: Public Suffix List lookups.  See psl.h.
 */
#include "psl.h"
#include "util/fs.h"
#include "util/mem.h"
#include "util/msg.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* the rules, an open-addressing set of lowercase strings ("*.x", "!y") */
static struct {
	char **slot;
	size_t size;
	int loaded; /* 1 read, -1 could not be */
	char path[4096];
} set;

static uint32_t hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

static int has(const char *s, size_t n)
{
	if (set.loaded != 1)
		return 0;
	for (size_t i = hash(s, n) & (set.size - 1);; i = (i + 1) & (set.size - 1)) {
		const char *x = set.slot[i];
		if (!x)
			return 0;
		if (strlen(x) == n && memcmp(x, s, n) == 0)
			return 1;
	}
}

static void add(char *rule)
{
	size_t n = strlen(rule);
	for (size_t i = hash(rule, n) & (set.size - 1);; i = (i + 1) & (set.size - 1)) {
		if (!set.slot[i]) {
			set.slot[i] = rule;
			return;
		}
		if (strcmp(set.slot[i], rule) == 0)
			return;
	}
}

static void load(const char *path)
{
	str data = STR_INIT;
	if (set.loaded && strcmp(set.path, path) == 0)
		return;
	snprintf(set.path, sizeof set.path, "%s", path);
	set.loaded = -1;
	if (fs_read(path, &data, 16 << 20) != ST_OK) {
		msg_warn("public suffix list %s unreadable: every domain is its own organization",
			 path);
		str_free(&data);
		return;
	}
	size_t lines = 1;
	for (size_t i = 0; i < data.len; i++)
		lines += data.s[i] == '\n';
	set.size = 1;
	while (set.size < lines * 2)
		set.size <<= 1;
	set.slot = mem_calloc(set.size, sizeof *set.slot);
	char *p = data.s; /* kept: the rules point into it */
	while (p && *p) {
		char *nl = strchr(p, '\n');
		if (nl)
			*nl = 0;
		size_t l = strcspn(p, " \t\r");
		p[l] = 0;
		if (l > 0 && strncmp(p, "//", 2) != 0) {
			for (size_t i = 0; i < l; i++)
				p[i] = (char)tolower((unsigned char)p[i]);
			add(p);
		}
		p = nl ? nl + 1 : NULL;
	}
	set.loaded = 1;
}

int psl_org_domain(const char *path, const char *domain, str *out)
{
	load(path);
	str_clear(out);
	size_t len = strlen(domain);
	while (len > 0 && domain[len - 1] == '.')
		len--;
	for (size_t i = 0; i < len; i++)
		str_putc(out, tolower((unsigned char)domain[i]));
	if (set.loaded != 1)
		return -1;
	const char *d = str_c(out);
	/* label starts, left to right */
	size_t starts[128], nl = 0;
	for (size_t i = 0; i < out->len && nl < 128; i++)
		if (i == 0 || d[i - 1] == '.')
			starts[nl++] = i;
	if (nl == 0)
		return 0;
	/* the public suffix: the longest match; labels it covers */
	size_t suffix = 1; /* the "*" rule */
	str tmp = STR_INIT;
	for (size_t k = 1; k <= nl; k++) {
		const char *s = d + starts[nl - k]; /* the last K labels */
		size_t sl = out->len - starts[nl - k];
		str_clear(&tmp);
		str_putc(&tmp, '!');
		str_append(&tmp, s, sl);
		if (has(tmp.s, tmp.len)) {
			suffix = k - 1; /* an exception: its parent is the suffix */
			break;
		}
		int match = has(s, sl);
		if (!match && k >= 2) {
			const char *parent = d + starts[nl - k + 1];
			str_clear(&tmp);
			str_puts(&tmp, "*.");
			str_append(&tmp, parent, out->len - starts[nl - k + 1]);
			match = has(tmp.s, tmp.len);
		}
		if (match)
			suffix = k;
	}
	str_free(&tmp);
	if (suffix >= nl)
		return 0; /* DOMAIN is a public suffix (or under a wildcard): itself */
	size_t from = starts[nl - suffix - 1];
	memmove(out->s, out->s + from, out->len - from);
	str_truncate(out, out->len - from);
	return 0;
}

int psl_aligned(const char *a, const char *b, int strict)
{
	if (strcasecmp(a, b) == 0)
		return 1;
	if (strict)
		return 0;
	str x = STR_INIT, y = STR_INIT;
	psl_org_domain(PSL_PATH, a, &x);
	psl_org_domain(PSL_PATH, b, &y);
	int same = strcmp(str_c(&x), str_c(&y)) == 0;
	str_free(&x);
	str_free(&y);
	return same;
}
