/*
 * digeststate: the digest state of a list, var/db/digest ("ADDR LAST"
 * lines: the last article each digest member has been sent) and the run
 * file var/db/digest.run (the new state plus the queue items a run makes,
 * "item NAME MODE FROM TO" and their "to ADDR" lines).  fmldigest's run
 * (actions/digest.c) writes them; membership changes (roster's chaddr)
 * carry a member's state along.  Failure policy: errors are logged and
 * returned as ST_TEMPFAIL; files are replaced whole (safefile).
 */
#include "digeststate.h"
#include "mail/addr.h"
#include "util/fs.h"
#include "util/msg.h"
#include "util/safefile.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void digeststate_item_free(gpointer p)
{
	digeststate_item *it = p;
	str_free(&it->rcpts);
	g_free(it);
}

digeststate_item *digeststate_item_new(GPtrArray *items, bundle_mode mode, long from, long to)
{
	digeststate_item *it = g_new0(digeststate_item, 1);
	it->mode = mode;
	it->from = from;
	it->to = to;
	str_init(&it->rcpts);
	g_ptr_array_add(items, it);
	return it;
}

void digeststate_item_add(digeststate_item *it, const char *addr)
{
	str_append(&it->rcpts, addr, strlen(addr) + 1);
	it->n++;
}

GHashTable *digeststate_new(void)
{
	return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}

void digeststate_put(GHashTable *h, const char *addr, long last)
{
	g_hash_table_insert(h, g_strdup(addr), GSIZE_TO_POINTER((gsize)last));
}

int digeststate_get(GHashTable *h, const char *addr, long *last)
{
	gpointer v;
	if (!g_hash_table_lookup_extended(h, addr, NULL, &v))
		return 0;
	*last = (long)GPOINTER_TO_SIZE(v);
	return 1;
}

int digeststate_path(const char *dir, const char *name, char *buf, size_t size)
{
	return fs_path(buf, size, "%s/%s", dir, name);
}

/* Read a state or run file: "ADDR LAST" lines into STATE, "item NAME MODE
 * FROM TO" and "to ADDR" lines into ITEMS (when not NULL).  A missing file
 * is empty; a malformed line is skipped with a warning. */
fml_status digeststate_load(const char *path, GHashTable *state, GPtrArray *items)
{
	FILE *f = fopen(path, "re");
	char *line = NULL, w[4][256];
	size_t cap = 0;
	ssize_t len;
	long lineno = 0;
	digeststate_item *cur = NULL;

	if (!f) {
		if (errno == ENOENT)
			return ST_OK;
		msg_error("open %s: %s", path, strerror(errno));
		return ST_TEMPFAIL;
	}
	while ((len = getline(&line, &cap, f)) > 0) {
		lineno++;
		long a, b;
		bundle_mode m;
		char end;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (len < 600 &&
		    sscanf(line, "item %95s %15s %ld %ld %c", w[0], w[1], &a, &b, &end) == 4 &&
		    bundle_mode_parse(w[1], &m) && a > 0 && b >= a) {
			if (items) {
				cur = digeststate_item_new(items, m, a, b);
				g_strlcpy(cur->name, w[0], sizeof cur->name);
			}
		} else if (len < 600 && sscanf(line, "to %255s %c", w[0], &end) == 1) {
			if (cur && !addr_check(w[0], strlen(w[0])))
				digeststate_item_add(cur, w[0]);
		} else if (len < 600 && sscanf(line, "%255s %ld %c", w[0], &a, &end) == 2 &&
			   a >= 0 && strchr(w[0], '@')) {
			digeststate_put(state, w[0], a);
		} else {
			msg_warn("%s:%ld: malformed line skipped", path, lineno);
		}
	}
	int bad = ferror(f);
	free(line);
	fclose(f);
	if (bad) {
		msg_error("read %s: %s", path, strerror(errno));
		return ST_TEMPFAIL;
	}
	return ST_OK;
}

static gint by_str(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Write STATE (and ITEMS, for a run file) as DIR/NAME, durably. */
fml_status digeststate_write(const char *home, const char *name, GHashTable *state,
			     GPtrArray *items)
{
	char dir[4096], final[4096];
	safefile sf;
	str s = STR_INIT;

	if (fs_path(dir, sizeof dir, "%s/var/db", home) < 0 ||
	    digeststate_path(home, name, final, sizeof final) < 0 ||
	    safefile_open(&sf, dir, ".tmp.digest") != ST_OK)
		return ST_TEMPFAIL;
	str_puts(&s, "# fmldigest: ADDR LAST (the last article sent to ADDR in a digest)\n");
	for (guint i = 0; items && i < items->len; i++) {
		const digeststate_item *it = g_ptr_array_index(items, i);
		str_printf(&s, "item %s %s %ld %ld\n", it->name, bundle_mode_name(it->mode),
			   it->from, it->to);
		for (const char *p = it->rcpts.s; p && p < it->rcpts.s + it->rcpts.len;
		     p += strlen(p) + 1)
			str_printf(&s, "to %s\n", p);
	}
	guint n;
	gpointer *keys = g_hash_table_get_keys_as_array(state, &n);
	qsort(keys, n, sizeof *keys, (int (*)(const void *, const void *))by_str);
	fml_status st = safefile_write(&sf, s.s, s.len);
	for (guint i = 0; i < n && st == ST_OK; i++) {
		long last = 0;
		digeststate_get(state, keys[i], &last);
		str_clear(&s);
		str_printf(&s, "%s %ld\n", (const char *)keys[i], last);
		st = safefile_write(&sf, s.s, s.len);
	}
	g_free(keys);
	str_free(&s);
	if (st == ST_OK)
		return safefile_commit(&sf, final);
	safefile_abort(&sf);
	return ST_TEMPFAIL;
}

fml_status digeststate_chaddr(const char *dir, const char *from, const char *to)
{
	static const char *const files[] = {DIGESTSTATE_FILE, DIGESTSTATE_RUN};
	char path[4096];
	fml_status st = ST_OK;

	for (size_t i = 0; i < 2 && st == ST_OK; i++) {
		GHashTable *state = digeststate_new();
		GPtrArray *items = g_ptr_array_new_with_free_func(digeststate_item_free);
		GHashTableIter it;
		gpointer key, val;
		int found = 0;
		if (digeststate_path(dir, files[i], path, sizeof path) < 0)
			st = ST_TEMPFAIL;
		else if (fs_exists(path) && (st = digeststate_load(path, state, items)) == ST_OK) {
			g_hash_table_iter_init(&it, state);
			while (!found && g_hash_table_iter_next(&it, &key, &val))
				if ((found = addr_equal(key, from)))
					g_hash_table_iter_remove(&it);
		}
		if (found) {
			digeststate_put(state, to, (long)GPOINTER_TO_SIZE(val));
			st = digeststate_write(dir, files[i], state, i ? items : NULL);
		}
		g_hash_table_destroy(state);
		g_ptr_array_free(items, TRUE);
	}
	return st;
}

int digeststate_spec(const char *s, int *n, char mode[16])
{
	size_t i = 0;
	int v = 0;
	while (isdigit((unsigned char)s[i]) && i < 2)
		v = v * 10 + (s[i++] - '0');
	if (i == 0)
		return 0;
	size_t mlen = strlen(s + i);
	bundle_mode m;
	if (mlen && (mlen >= 16 || !bundle_mode_parse(s + i, &m)))
		return 0;
	for (size_t k = 0; k < mlen; k++)
		mode[k] = (char)tolower((unsigned char)s[i + k]);
	mode[mlen] = '\0';
	*n = v;
	return 1;
}
