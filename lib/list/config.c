/*
 * config: the configuration cascade (config.h, doc/fml.cf.5).
 *
 * Every variable lives in one array: the declared ones first, at their
 * cf_id (so config_str() is an array index), then the built-ins, then names
 * that only files define.  A small open hash maps names to slots for the
 * parser and for $NAME expansion.
 *
 * Loading is two steps.  Files and overrides only record raw values and
 * their source ("file:line"); nothing is expanded while reading, so a
 * value may refer to a variable set later in the cascade (the defaults
 * rely on it: MAIL_LIST = $ML_NAME@$DOMAINNAME follows a DOMAINNAME set in
 * config.cf).  Then every value is expanded once (memoised) and each
 * declared variable is converted and checked against its type.  An unknown
 * $NAME, a loop, nesting deeper than CONFIG_DEPTH_MAX or a value longer
 * than CONFIG_VALUE_MAX after expansion is an error, never a hang.
 *
 * Failure policy: every error is returned as ST_TEMPFAIL with
 * "file:line: reason" in ERR, so fml exits 75 and the MTA keeps the mail.
 * Nothing here exits, except msg_panic() for a caller's programming error
 * (a bad cf_id, config_int() on a string variable).
 */
#include "config.h"
#include "util/bytes.h"
#include "util/fs.h"
#include "util/lines.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/safefile.h"

#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#ifndef FML_ETCDIR
#define FML_ETCDIR "/usr/local/etc/fml"
#endif

#define CONFIG_FILE_MAX (1024 * 1024)	    /* one file */
#define CONFIG_VALUE_MAX (64 * 1024)	    /* one value after expansion */
#define CONFIG_EXPAND_MAX (4 * 1024 * 1024) /* all expansions of one load */
#define CONFIG_DEPTH_MAX 32		    /* $A -> $B -> ... */

const cf_decl config_table[CF__COUNT] = {
#define CF(name, type, def, extra, doc) {#name, type, def, extra, doc},
#include "config_vars.def"
#undef CF
};

enum { B_DIR, B_ML_DIR, B_ML_NAME, B_EXEC_DIR, B_FQDN, B__COUNT };
static const char *const builtin_name[B__COUNT] = {"DIR", "ML_DIR", "ML_NAME", "EXEC_DIR", "FQDN"};
#define BUILTIN(b) ((size_t)CF__COUNT + (size_t)(b))
#define NBASE BUILTIN(B__COUNT) /* declared + built-in slots */

enum { X_TODO, X_BUSY, X_DONE };

typedef struct cf_var {
	const char *name; /* table or built-in name; owned for user names */
	char *raw;	  /* as written; NULL: no value */
	char *val;	  /* expanded; NULL until expanded */
	char *source;	  /* "default", "FILE:LINE", "command line", "built-in" */
	long long num;	  /* converted value of a declared variable */
	unsigned char state;
	unsigned char level; /* 0: no $NAME in it; else 1 + the deepest reference */
	unsigned char used;  /* some value refers to it ($NAME) */
} cf_var;

struct config {
	cf_var *var;
	size_t nvar, cap;
	uint32_t *slot; /* index + 1; 0 is empty */
	size_t nslot;	/* a power of two, more than twice nvar */
	size_t budget;	/* expansion bytes left in this pass */
};

/* ---- names and the hash */

static int ident_start(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int ident_char(int c)
{
	return ident_start(c) || (c >= '0' && c <= '9');
}

static size_t ident_len(const char *p, const char *end)
{
	const char *q = p;
	if (q < end && ident_start((unsigned char)*q))
		while (q < end && ident_char((unsigned char)*q))
			q++;
	return (size_t)(q - p);
}

static int is_builtin(const char *name, size_t n)
{
	for (int b = 0; b < B__COUNT; b++)
		if (strncmp(builtin_name[b], name, n) == 0 && builtin_name[b][n] == 0)
			return 1;
	return 0;
}

static uint32_t hash_name(const char *p, size_t n)
{
	uint32_t h = 2166136261u;
	while (n--) {
		h ^= (unsigned char)*p++;
		h *= 16777619u;
	}
	return h;
}

static long find_var(const config *cf, const char *name, size_t n)
{
	size_t mask = cf->nslot - 1;
	for (size_t i = hash_name(name, n) & mask;; i = (i + 1) & mask) {
		uint32_t s = cf->slot[i];
		if (s == 0)
			return -1;
		const char *vn = cf->var[s - 1].name;
		if (strncmp(vn, name, n) == 0 && vn[n] == 0)
			return (long)(s - 1);
	}
}

static void hash_insert(config *cf, size_t idx)
{
	const char *name = cf->var[idx].name;
	size_t mask = cf->nslot - 1;
	size_t i = hash_name(name, strlen(name)) & mask;
	while (cf->slot[i])
		i = (i + 1) & mask;
	cf->slot[i] = (uint32_t)(idx + 1);
}

static void hash_rebuild(config *cf, size_t nslot)
{
	free(cf->slot);
	cf->nslot = nslot;
	cf->slot = mem_calloc(nslot, sizeof *cf->slot);
	for (size_t i = 0; i < cf->nvar; i++)
		hash_insert(cf, i);
}

static size_t add_var(config *cf, const char *name)
{
	if (cf->nvar >= UINT32_MAX - 1)
		msg_fatal("config: too many variables");
	if (cf->nvar == cf->cap) {
		cf->cap = cf->cap ? cf->cap * 2 : 128;
		cf->var = mem_reallocarray(cf->var, cf->cap, sizeof *cf->var);
	}
	size_t idx = cf->nvar++;
	memset(&cf->var[idx], 0, sizeof cf->var[idx]);
	cf->var[idx].name = name;
	if (cf->nvar * 2 >= cf->nslot)
		hash_rebuild(cf, cf->nslot * 2);
	else
		hash_insert(cf, idx);
	return idx;
}

static void set_raw(config *cf, size_t i, const char *raw, size_t n, const char *source)
{
	cf_var *v = &cf->var[i];
	free(v->raw);
	free(v->source);
	v->raw = mem_strndup(raw, n);
	v->source = mem_strdup(source);
}

static void clear_var(cf_var *v)
{
	free(v->raw);
	free(v->val);
	free(v->source);
	v->raw = v->val = v->source = NULL;
	v->num = 0;
	v->state = X_TODO;
}

/* Back to the defaults: user names dropped, built-ins empty. */
static void reset(config *cf)
{
	for (size_t i = NBASE; i < cf->nvar; i++) {
		clear_var(&cf->var[i]);
		free((char *)cf->var[i].name);
	}
	cf->nvar = NBASE;
	size_t nslot = 256;
	while (nslot <= 2 * NBASE)
		nslot *= 2;
	hash_rebuild(cf, nslot);
	for (size_t i = 0; i < NBASE; i++)
		clear_var(&cf->var[i]);
	for (int i = 0; i < CF__COUNT; i++)
		set_raw(cf, (size_t)i, config_table[i].def, strlen(config_table[i].def), "default");
}

/* Built-ins are literal: never expanded, never set by files. */
static void set_builtin(config *cf, int b, const char *value, size_t n)
{
	cf_var *v = &cf->var[BUILTIN(b)];
	set_raw(cf, BUILTIN(b), value, n, "built-in");
	free(v->val);
	v->val = mem_strndup(value, n);
	v->state = X_DONE;
}

/* The host name as the kernel knows it (trailing dots dropped); no DNS,
 * ever.  A name that is empty, not [A-Za-z0-9._-] or has an empty label
 * gives "localhost", so the default addresses always check. */
static void set_fqdn(config *cf)
{
	char host[256];
	if (gethostname(host, sizeof host) != 0)
		host[0] = 0;
	host[sizeof host - 1] = 0;
	size_t n = strlen(host);
	for (size_t i = 0; i < n; i++)
		if (!ident_char((unsigned char)host[i]) && host[i] != '.' && host[i] != '-')
			n = 0;
	while (n > 0 && host[n - 1] == '.')
		host[--n] = 0;
	if (n == 0 || host[0] == '.' || strstr(host, ".."))
		snprintf(host, sizeof host, "localhost");
	set_builtin(cf, B_FQDN, host, strlen(host));
}

/* ---- expansion */

static int var_fail(const config *cf, size_t i, str *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int var_fail(const config *cf, size_t i, str *err, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		str_clear(err);
		str_printf(err, "%s: %s: ", cf->var[i].source, cf->var[i].name);
		str_vprintf(err, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Expand variable I into its val: $NAME, ${NAME}, $$ for '$'; a '$'
 * followed by anything else is kept as it is. */
static int expand_var(config *cf, size_t i, int depth, str *err)
{
	if (cf->var[i].state == X_DONE)
		return 0;
	if (depth > CONFIG_DEPTH_MAX)
		return var_fail(cf, i, err, "variables nested more than %d deep", CONFIG_DEPTH_MAX);
	cf->var[i].state = X_BUSY;
	cf->var[i].level = 0;
	str out = STR_INIT;
	const char *p = cf->var[i].raw;
	const char *end = p + strlen(p);
	while (p < end) {
		const char *d = memchr(p, '$', (size_t)(end - p));
		if (!d) {
			str_append(&out, p, (size_t)(end - p));
			break;
		}
		str_append(&out, p, (size_t)(d - p));
		const char *name;
		size_t n;
		if (d[1] == '$') {
			str_putc(&out, '$');
			p = d + 2;
			continue;
		} else if (d[1] == '{') {
			name = d + 2;
			n = ident_len(name, end);
			if (n == 0 || name[n] != '}') {
				str_free(&out);
				return var_fail(cf, i, err, "bad ${NAME} reference");
			}
			p = name + n + 1;
		} else if (ident_start((unsigned char)d[1])) {
			name = d + 1;
			n = ident_len(name, end);
			p = name + n;
		} else {
			str_putc(&out, '$');
			p = d + 1;
			continue;
		}
		long j = find_var(cf, name, n);
		if (j < 0 || !cf->var[j].raw) {
			str_free(&out);
			return var_fail(cf, i, err, "unknown variable $%.*s", (int)n, name);
		}
		if (cf->var[j].state == X_BUSY) {
			str_free(&out);
			return var_fail(cf, i, err, "expansion loop through $%.*s", (int)n, name);
		}
		cf->var[j].used = 1;
		if (expand_var(cf, (size_t)j, depth + 1, err) < 0) {
			str_free(&out);
			return -1;
		}
		if (cf->var[j].level >= CONFIG_DEPTH_MAX) {
			str_free(&out);
			return var_fail(cf, i, err, "variables nested more than %d deep",
					CONFIG_DEPTH_MAX);
		}
		if (cf->var[j].level >= cf->var[i].level)
			cf->var[i].level = cf->var[j].level + 1;
		size_t jn = strlen(cf->var[j].val);
		if (out.len + jn > CONFIG_VALUE_MAX || jn > cf->budget) {
			str_free(&out);
			return var_fail(cf, i, err, "value longer than %d bytes after expansion",
					CONFIG_VALUE_MAX);
		}
		cf->budget -= jn;
		str_append(&out, cf->var[j].val, jn);
	}
	if (out.len > CONFIG_VALUE_MAX) {
		str_free(&out);
		return var_fail(cf, i, err, "value longer than %d bytes", CONFIG_VALUE_MAX);
	}
	cf->var[i].val = out.s ? out.s : mem_strdup("");
	cf->var[i].state = X_DONE;
	return 0;
}

/* ---- types */

static int conv_uint(const char **pp, long long *out)
{
	const char *p = *pp;
	long long n = 0;
	if (*p < '0' || *p > '9')
		return 0;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (n > (LLONG_MAX - (*p - '0')) / 10)
			return 0;
		n = n * 10 + (*p - '0');
	}
	*pp = p;
	*out = n;
	return 1;
}

static int conv_int(const char *v, long long *out)
{
	return conv_uint(&v, out) && *v == 0;
}

static int conv_bool(const char *v, long long *out)
{
	static const char *const yes[] = {"1", "yes", "true", "on"};
	static const char *const no[] = {"0", "no", "false", "off"};
	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		if (strcasecmp(v, yes[i]) == 0 || strcasecmp(v, no[i]) == 0) {
			*out = strcasecmp(v, yes[i]) == 0;
			return 1;
		}
	}
	return 0;
}

static int scale(long long n, long long unit, long long *out)
{
	if (n > LLONG_MAX / unit)
		return 0;
	*out = n * unit;
	return 1;
}

/* N, NK, NM, NG (powers of 1024), case-insensitive, optional trailing B. */
static int conv_size(const char *v, long long *out)
{
	long long n, unit = 1;
	if (!conv_uint(&v, &n))
		return 0;
	switch (*v) {
	case 'k':
	case 'K':
		unit = 1024, v++;
		break;
	case 'm':
	case 'M':
		unit = 1024 * 1024, v++;
		break;
	case 'g':
	case 'G':
		unit = 1024 * 1024 * 1024, v++;
		break;
	}
	if (*v == 'b' || *v == 'B')
		v++;
	return *v == 0 && scale(n, unit, out);
}

/* N seconds, or N with a unit: s m h d w, or fml's words ("7days"). */
static int conv_time(const char *v, long long *out)
{
	static const struct {
		const char *word;
		long long sec;
	} units[] = {
	    {"", 1},	     {"s", 1},	      {"sec", 1},     {"secs", 1},	{"second", 1},
	    {"seconds", 1},  {"m", 60},	      {"min", 60},    {"mins", 60},	{"minute", 60},
	    {"minutes", 60}, {"h", 3600},     {"hour", 3600}, {"hours", 3600},	{"d", 86400},
	    {"day", 86400},  {"days", 86400}, {"w", 604800},  {"week", 604800}, {"weeks", 604800},
	};
	long long n;
	if (!conv_uint(&v, &n))
		return 0;
	while (*v == ' ' || *v == '\t')
		v++;
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
		if (strcasecmp(v, units[i].word) == 0)
			return scale(n, units[i].sec, out);
	return 0;
}

/* The index of V among the '|'-separated WORDS (an empty word allowed). */
static int conv_enum(const char *v, const char *words, long long *out)
{
	size_t vn = strlen(v);
	long long idx = 0;
	for (const char *w = words;; idx++) {
		const char *bar = strchr(w, '|');
		size_t wn = bar ? (size_t)(bar - w) : strlen(w);
		if (wn == vn && strncmp(w, v, vn) == 0) {
			*out = idx;
			return 1;
		}
		if (!bar)
			return 0;
		w = bar + 1;
	}
}

/* Empty, or local@domain with no blanks, controls or specials; the
 * stricter storage policy of addr.c applies where addresses are used. */
static int conv_addr(const char *v)
{
	if (*v == 0)
		return 1;
	const char *at = strchr(v, '@');
	if (!at || at == v || at[1] == 0 || strchr(at + 1, '@') || at[1] == '.')
		return 0;
	for (const char *p = v; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c <= ' ' || c == 0x7f || strchr("<>()[],;:\"\\", c))
			return 0;
		if (p > at && c < 0x80 && !ident_char(c) && c != '.' && c != '-')
			return 0;
	}
	return strstr(at, "..") == NULL && at[strlen(at) - 1] != '.';
}

static int check_type(config *cf, size_t i, str *err)
{
	const cf_decl *d = &config_table[i];
	const char *v = cf->var[i].val;
	long long n = 0;
	switch (d->type) {
	case CFT_STR:
		break;
	case CFT_INT:
		if (!conv_int(v, &n))
			return var_fail(cf, i, err, "bad integer '%.80s'", v);
		break;
	case CFT_BOOL:
		if (!conv_bool(v, &n))
			return var_fail(cf, i, err, "bad boolean '%.80s' (1/0, yes/no, on/off)", v);
		break;
	case CFT_SIZE:
		if (!conv_size(v, &n))
			return var_fail(cf, i, err, "bad size '%.80s' (a number, K, M or G)", v);
		break;
	case CFT_TIME:
		if (!conv_time(v, &n))
			return var_fail(cf, i, err, "bad time '%.80s' (a number, s, m, h, d or w)",
					v);
		break;
	case CFT_ENUM:
		if (!conv_enum(v, d->extra, &n))
			return var_fail(cf, i, err, "bad value '%.80s' (one of: %s)", v, d->extra);
		break;
	case CFT_ADDR:
		if (!conv_addr(v))
			return var_fail(cf, i, err, "bad address '%.80s'", v);
		break;
	}
	cf->var[i].num = n;
	return 0;
}

/* Expand every value again and check the declared ones. */
static fml_status finish(config *cf, str *err)
{
	for (size_t i = 0; i < cf->nvar; i++) {
		if (i >= CF__COUNT && i < NBASE)
			continue; /* built-ins are final */
		free(cf->var[i].val);
		cf->var[i].val = NULL;
		cf->var[i].state = X_TODO;
	}
	for (size_t i = 0; i < cf->nvar; i++)
		cf->var[i].used = 0;
	cf->budget = CONFIG_EXPAND_MAX;
	for (size_t i = 0; i < cf->nvar; i++)
		if (cf->var[i].raw && expand_var(cf, i, 0, err) < 0)
			return ST_TEMPFAIL;
	/* Convert every declared value even after a bad one (the first error
	 * is reported): a fresh config_new(), whose default addresses cannot
	 * check, still has every number. */
	fml_status st = ST_OK;
	for (size_t i = 0; i < CF__COUNT; i++)
		if (check_type(cf, i, st == ST_OK ? err : NULL) < 0)
			st = ST_TEMPFAIL;
	return st;
}

/* ---- syntax */

static int is_blank(int c)
{
	return c == ' ' || c == '\t';
}

/* One logical line "NAME = value" (or an override "NAME=value"); WHERE
 * is "file:line" or "command line" and becomes the value's source. */
static fml_status assign(config *cf, const char *p, size_t len, const char *where, str *err)
{
	const char *end = p + len;
	while (p < end && is_blank(*p))
		p++;
	while (end > p && is_blank(end[-1]))
		end--;
	if (bytes_has_ctl(p, (size_t)(end - p)))
		return status_why(err, ST_TEMPFAIL, "%s: control character", where);
	size_t n = ident_len(p, end);
	const char *q = p + n;
	while (q < end && is_blank(*q))
		q++;
	if (n == 0 || q == end || *q != '=')
		return status_why(err, ST_TEMPFAIL, "%s: expected NAME = value, got '%.*s'", where,
				  (int)(end - p > 60 ? 60 : end - p), p);
	for (q++; q < end && is_blank(*q);)
		q++;
	if (is_builtin(p, n))
		return status_why(err, ST_TEMPFAIL, "%s: %.*s is built in and cannot be set", where,
				  (int)n, p);
	long i = find_var(cf, p, n);
	if (i < 0)
		i = (long)add_var(cf, mem_strndup(p, n));
	set_raw(cf, (size_t)i, q, (size_t)(end - q), where);
	return ST_OK;
}

/* Record the assignments of TEXT, read from FILE.  A line starting with a
 * blank continues the previous one (joined by one space); '#' lines are
 * ignored anywhere; a blank line ends a logical line. */
static fml_status parse_text(config *cf, const char *file, const char *text, size_t len, str *err)
{
	str logical = STR_INIT, where = STR_INIT;
	size_t lineno = 0, start = 0; /* start: line of the logical line, 0 none */
	fml_status st = ST_OK;
	lines it;
	const char *p;
	size_t n;
	for (lines_init(&it, text, len); st == ST_OK && lines_next(&it, &p, &n);) {
		const char *le = p + n;
		const char *q = p, *e = le;
		lineno++;
		while (q < e && is_blank(*q))
			q++;
		while (e > q && is_blank(e[-1]))
			e--;
		if (memchr(p, '\0', (size_t)(le - p)))
			st = status_why(err, ST_TEMPFAIL, "%s:%zu: NUL byte", file, lineno);
		else if (memchr(p, '\r', (size_t)(le - p)))
			st = status_why(err, ST_TEMPFAIL,
					"%s:%zu: carriage return (CRLF line ends?)", file, lineno);
		else if (q < e && *q == '#')
			; /* comment */
		else if (bytes_has_ctl(q, (size_t)(e - q)))
			st =
			    status_why(err, ST_TEMPFAIL, "%s:%zu: control character", file, lineno);
		else if (q > p && q < e && !start)
			st = status_why(err, ST_TEMPFAIL, "%s:%zu: indented line continues nothing",
					file, lineno);
		else if (q > p && q < e) {
			str_putc(&logical, ' ');
			str_append(&logical, q, (size_t)(e - q));
		} else {
			if (start) {
				str_clear(&where);
				str_printf(&where, "%s:%zu", file, start);
				st = assign(cf, logical.s, logical.len, where.s, err);
			}
			start = q < e ? lineno : 0;
			str_set(&logical, q, (size_t)(e - q));
		}
	}
	if (st == ST_OK && start) {
		str_clear(&where);
		str_printf(&where, "%s:%zu", file, start);
		st = assign(cf, logical.s, logical.len, where.s, err);
	}
	str_free(&logical);
	str_free(&where);
	return st;
}

/* Read PATH if it exists: ST_OK, ST_NOINPUT (absent) or ST_TEMPFAIL. */
static fml_status load_file(config *cf, const char *path, str *err)
{
	str text = STR_INIT;
	fml_status st = fs_read(path, &text, CONFIG_FILE_MAX);
	if (st == ST_OK)
		st = parse_text(cf, path, str_c(&text), text.len, err);
	else if (st == ST_DATAERR)
		st =
		    status_why(err, ST_TEMPFAIL, "%s: larger than %d bytes", path, CONFIG_FILE_MAX);
	else if (st != ST_NOINPUT)
		st = status_why(err, ST_TEMPFAIL,
				"%s: cannot read (a symbolic link, a directory or no access?)",
				path);
	str_free(&text);
	return st;
}

/* The first NAME found in the search DIRS. */
static fml_status load_first(config *cf, const char *const *dirs, int ndirs, const char *name,
			     str *err)
{
	char path[PATH_MAX];
	for (int i = 0; i < ndirs; i++) {
		if (!dirs[i] || !*dirs[i])
			continue;
		if (fs_path(path, sizeof path, "%s/%s", dirs[i], name) < 0)
			return status_why(err, ST_TEMPFAIL, "%s/%s: path too long", dirs[i], name);
		fml_status st = load_file(cf, path, err);
		if (st != ST_NOINPUT)
			return st;
	}
	return ST_OK;
}

/* DIR, ML_DIR (its parent), ML_NAME (its last component), EXEC_DIR. */
static fml_status set_paths(config *cf, const config_args *args, str *err)
{
	const char *dir = args->dir;
	size_t n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (bytes_has_ctl(dir, n))
		return status_why(err, ST_TEMPFAIL, "DIR: control character in path");
	if (args->exec_dir && bytes_has_ctl(args->exec_dir, strlen(args->exec_dir)))
		return status_why(err, ST_TEMPFAIL, "EXEC_DIR: control character in path");
	set_builtin(cf, B_DIR, dir, n);
	const char *slash = NULL;
	for (const char *p = dir; p < dir + n; p++)
		if (*p == '/')
			slash = p;
	if (!slash) {
		set_builtin(cf, B_ML_DIR, ".", 1);
		set_builtin(cf, B_ML_NAME, dir, n);
	} else {
		set_builtin(cf, B_ML_DIR, dir, slash == dir ? 1 : (size_t)(slash - dir));
		set_builtin(cf, B_ML_NAME, slash + 1, n - (size_t)(slash + 1 - dir));
	}
	const char *exec = args->exec_dir ? args->exec_dir : "";
	set_builtin(cf, B_EXEC_DIR, exec, strlen(exec));
	return ST_OK;
}

/* ---- interface */

config *config_new(void)
{
	config *cf = mem_calloc(1, sizeof *cf);
	cf->nslot = 256;
	cf->slot = mem_calloc(cf->nslot, sizeof *cf->slot);
	for (int i = 0; i < CF__COUNT; i++)
		add_var(cf, config_table[i].name);
	for (int b = 0; b < B__COUNT; b++)
		add_var(cf, builtin_name[b]);
	reset(cf);
	for (int b = 0; b < B__COUNT; b++)
		set_builtin(cf, b, "", 0);
	set_fqdn(cf);
	(void)finish(cf, NULL); /* defaults with an empty DIR; not checked */
	return cf;
}

void config_free(config *cf)
{
	if (!cf)
		return;
	for (size_t i = 0; i < cf->nvar; i++) {
		clear_var(&cf->var[i]);
		if (i >= NBASE)
			free((char *)cf->var[i].name);
	}
	free(cf->var);
	free(cf->slot);
	free(cf);
}

fml_status config_load(config *cf, const config_args *args, str *err)
{
	char mletc[PATH_MAX];
	fml_status st;

	if (err)
		str_clear(err);
	reset(cf);
	set_fqdn(cf);
	if (!args || !args->dir || !*args->dir)
		return status_why(err, ST_TEMPFAIL, "config: no list directory");
	if ((st = set_paths(cf, args, err)) != ST_OK)
		return st;
	const char *dir = cf->var[BUILTIN(B_DIR)].val;
	if (fs_path(mletc, sizeof mletc, "%s/etc/fml", cf->var[BUILTIN(B_ML_DIR)].val) < 0)
		return status_why(err, ST_TEMPFAIL, "%s/etc/fml: path too long",
				  cf->var[BUILTIN(B_ML_DIR)].val);

	int nsearch = args->search && args->nsearch > 0 ? args->nsearch : 0;
	const char **dirs = mem_calloc((size_t)nsearch + 3, sizeof *dirs);
	dirs[0] = dir;
	dirs[1] = mletc;
	dirs[2] = args->etc_dir ? args->etc_dir : FML_ETCDIR;
	for (int i = 0; i < nsearch; i++)
		dirs[3 + i] = args->search[i];

	st = load_first(cf, dirs, nsearch + 3, "site_init.cf", err);
	if (st == ST_OK)
		st = load_first(cf, dirs, 1, "config.cf", err);
	if (st == ST_OK)
		st = load_first(cf, dirs, nsearch + 3, "sitedef.cf", err);
	free(dirs);
	for (int i = 0; st == ST_OK && args->overrides && i < args->noverrides; i++)
		st =
		    assign(cf, args->overrides[i], strlen(args->overrides[i]), "command line", err);
	if (st == ST_OK)
		st = finish(cf, err);
	return st;
}

fml_status config_parse_text(config *cf, const char *file, const char *text, size_t len, str *err)
{
	if (err)
		str_clear(err);
	fml_status st = parse_text(cf, file, text, len, err);
	return st == ST_OK ? finish(cf, err) : st;
}

fml_status config_set(config *cf, const char *name, const char *value, str *err)
{
	size_t n = strlen(name);
	if (err)
		str_clear(err);
	if (n == 0 || ident_len(name, name + n) != n)
		return status_why(err, ST_TEMPFAIL, "command line: '%.80s': bad variable name",
				  name);
	if (is_builtin(name, n))
		return status_why(err, ST_TEMPFAIL,
				  "command line: %s is built in and cannot be set", name);
	if (bytes_has_ctl(value, strlen(value)))
		return status_why(err, ST_TEMPFAIL, "command line: %s: control character in value",
				  name);
	long i = find_var(cf, name, n);
	if (i < 0)
		i = (long)add_var(cf, mem_strdup(name));
	cf_var *v = &cf->var[i];
	char *old_raw = v->raw, *old_source = v->source;
	v->raw = mem_strdup(value);
	v->source = mem_strdup("command line");
	if (finish(cf, err) == ST_OK) {
		free(old_raw);
		free(old_source);
		return ST_OK;
	}
	v = &cf->var[i];
	free(v->raw);
	free(v->source);
	v->raw = old_raw;
	v->source = old_source;
	(void)finish(cf, NULL);
	return ST_TEMPFAIL;
}

const char *config_str(const config *cf, cf_id id)
{
	if ((unsigned)id >= CF__COUNT)
		msg_panic("cf_str: bad variable id %d", (int)id);
	const char *v = cf->var[id].val;
	return v ? v : "";
}

long long config_int(const config *cf, cf_id id)
{
	if ((unsigned)id >= CF__COUNT)
		msg_panic("cf_int: bad variable id %d", (int)id);
	if (config_table[id].type == CFT_STR || config_table[id].type == CFT_ADDR)
		msg_panic("cf_int: %s is not a number", config_table[id].name);
	return cf->var[id].num;
}

const char *config_get(const config *cf, const char *name)
{
	long i = find_var(cf, name, strlen(name));
	if (i < 0 || !cf->var[i].raw)
		return NULL;
	return cf->var[i].val ? cf->var[i].val : "";
}

const char *config_source(const config *cf, const char *name)
{
	long i = find_var(cf, name, strlen(name));
	if (i < 0 || !cf->var[i].raw)
		return NULL;
	return cf->var[i].source;
}

int config_id(const char *name)
{
	for (int i = 0; i < CF__COUNT; i++)
		if (strcmp(config_table[i].name, name) == 0)
			return i;
	return -1;
}

void config_unused(const config *cf, void (*fn)(const char *name, const char *source, void *arg),
		   void *arg)
{
	for (size_t i = NBASE; i < cf->nvar; i++)
		if (cf->var[i].raw && !cf->var[i].used)
			fn(cf->var[i].name, cf->var[i].source, arg);
}

void config_foreach(const config *cf,
		    void (*fn)(const char *name, const char *value, const char *source, void *arg),
		    void *arg)
{
	for (size_t i = 0; i < cf->nvar; i++)
		if (cf->var[i].raw)
			fn(cf->var[i].name, cf->var[i].val ? cf->var[i].val : "", cf->var[i].source,
			   arg);
}
