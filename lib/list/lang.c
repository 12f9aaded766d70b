/*
 * lang: the list's language.  See lang.h.
 */
#include "lang.h"
#include "home.h"
#include "util/fs.h"
#include "util/mem.h"
#include "util/msg.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* one catalog per process: the one of the list being processed */
static struct {
	char path[PATH_MAX];
	char **en, **tr;
	size_t n;
} cat;

static void unescape(str *s)
{
	size_t w = 0;
	for (size_t i = 0; i < s->len; i++) {
		if (s->s[i] == '\\' && i + 1 < s->len &&
		    (s->s[i + 1] == 'n' || s->s[i + 1] == '\\')) {
			s->s[w++] = s->s[i + 1] == 'n' ? '\n' : '\\';
			i++;
		} else {
			s->s[w++] = s->s[i];
		}
	}
	str_truncate(s, w);
}

/* The printf conversions of F, in order ("%s" "%lld" ...), into OUT */
static void conversions(const char *f, str *out)
{
	str_clear(out);
	for (const char *p = f; (p = strchr(p, '%'));) {
		if (p[1] == '%') {
			p += 2;
			continue;
		}
		size_t n = 1 + strcspn(p + 1, "diouxXcsfgeEp");
		str_append(out, p, n + (p[n] != 0));
		p += n;
	}
}

static void load(const char *path)
{
	for (size_t i = 0; i < cat.n; i++) {
		free(cat.en[i]);
		free(cat.tr[i]);
	}
	free(cat.en);
	free(cat.tr);
	cat.en = cat.tr = NULL;
	cat.n = 0;
	snprintf(cat.path, sizeof cat.path, "%s", path);
	str text = STR_INIT, a = STR_INIT, b = STR_INIT, ca = STR_INIT, cb = STR_INIT;
	if (fs_read(path, &text, 1 << 20) != ST_OK) {
		str_free(&text);
		return;
	}
	int have = 0; /* 0: awaiting English, 1: awaiting its translation */
	for (char *p = text.s; p && p < text.s + text.len;) {
		char *nl = memchr(p, '\n', (size_t)(text.s + text.len - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(text.s + text.len - p);
		if (l && p[0] != '#') {
			str *s = have ? &b : &a;
			str_set(s, p, l);
			unescape(s);
			if (have) {
				conversions(a.s, &ca);
				conversions(b.s, &cb);
				if (strcmp(str_c(&ca), str_c(&cb)) == 0) {
					cat.en =
					    mem_reallocarray(cat.en, cat.n + 1, sizeof *cat.en);
					cat.tr =
					    mem_reallocarray(cat.tr, cat.n + 1, sizeof *cat.tr);
					cat.en[cat.n] = mem_strdup(a.s);
					cat.tr[cat.n++] = mem_strdup(b.s);
				} else {
					msg_warn("%s: the translation of \"%.40s\" has other %% "
						 "conversions: not used",
						 path, a.s);
				}
			}
			have = !have;
		}
		p += l + 1;
	}
	str_free(&text);
	str_free(&a);
	str_free(&b);
	str_free(&ca);
	str_free(&cb);
}

const char *lang_msg(const config *cf, const char *dir, const char *english)
{
	const char *lang = config_str(cf, CF_LANGUAGE);
	char path[PATH_MAX];
	if (!*lang || strcmp(lang, "English") == 0 || strchr(lang, '/') || lang[0] == '.')
		return english;
	if (!dir || fs_path(path, sizeof path, "%s/messages", dir) < 0 || !fs_exists(path))
		if (fs_path(path, sizeof path, "%s/%s/messages", home_skel_dir(), lang) < 0)
			return english;
	if (strcmp(path, cat.path) != 0)
		load(path);
	for (size_t i = 0; i < cat.n; i++)
		if (strcmp(cat.en[i], english) == 0)
			return cat.tr[i];
	return english;
}

const char *lang_charset(const config *cf)
{
	return config_str(cf, CF_LANGUAGE_CHARSET);
}
