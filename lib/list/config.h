/*
 * config: the configuration cascade, exactly fml's order:
 *   built-in defaults (lib/list/config_vars.def) < site_init.cf < $DIR/config.cf
 *   < sitedef.cf < command line (--NAME=value).
 * site_init.cf and sitedef.cf are the first found on the search path:
 *   $DIR, $ML_DIR/etc/fml, the installed etc dir, then extra directories.
 * Syntax: "NAME = value", '#' comments, indented continuation lines,
 * $NAME / ${NAME} expansion (DIR, ML_DIR, ML_NAME, EXEC_DIR, FQDN, any
 * variable).  Every variable is declared once in lib/list/config_vars.def.
 * Errors (syntax, bad value for its type) are reported as "file:line: why"
 * and returned as ST_TEMPFAIL so fml exits 75 and the MTA keeps the mail.
 */
#ifndef FML_CONFIG_H
#define FML_CONFIG_H

#include "util/status.h"
#include "util/str.h"

typedef enum cf_type {
	CFT_STR,  /* any text */
	CFT_INT,  /* decimal integer >= 0 */
	CFT_BOOL, /* 0/1, yes/no, true/false, on/off */
	CFT_SIZE, /* bytes, K/M/G suffix allowed */
	CFT_TIME, /* seconds, s/m/h/d/w suffix allowed ("7days" too) */
	CFT_ENUM, /* one of the '|'-separated words in the 'extra' column */
	CFT_ADDR, /* a mail address (may be empty) */
} cf_type;

typedef enum cf_id {
#define CF(name, type, def, extra, doc) CF_##name,
#include "config_vars.def"
#undef CF
	CF__COUNT
} cf_id;

typedef struct config config;

typedef struct config_args {
	const char *dir;	   /* list home ($DIR), required */
	const char *const *search; /* extra search directories */
	int nsearch;
	const char *const *overrides; /* "NAME=value" from the command line */
	int noverrides;
	const char *etc_dir;  /* installed etc dir; NULL = compiled default */
	const char *exec_dir; /* directory of the running program */
} config_args;

/* A configuration holding the defaults, expanded with DIR, ML_DIR, ML_NAME
 * and EXEC_DIR empty: every number and string is there (the addresses,
 * "@host", do not check until config_load()). */
config *config_new(void);
void config_free(config *cf);
/* Load the cascade.  On error, ERR holds "file:line: reason". */
fml_status config_load(config *cf, const config_args *args, str *err);
/* Set one value by name (after load; used by programs and tests). */
fml_status config_set(config *cf, const char *name, const char *value, str *err);
/* Layer TEXT (LEN bytes, need not be NUL-terminated) on CF as if it were the
 * file named FILE, then expand and check every value again: the same code
 * config_load() runs for each file (for the fuzz target and tests).  Use it
 * after config_load(); on a fresh config_new() DIR is empty, so the default
 * addresses do not check. */
fml_status config_parse_text(config *cf, const char *file, const char *text, size_t len, str *err);

/* Typed access to declared variables; values are expanded. */
const char *config_str(const config *cf, cf_id id);
long long config_int(const config *cf, cf_id id); /* INT, BOOL, SIZE (bytes), TIME (s) */
/* Any variable by name (declared, user-defined or built-in), or NULL. */
const char *config_get(const config *cf, const char *name);
/* Where the effective value came from: "default", "FILE:LINE",
 * "command line", "built-in". */
const char *config_source(const config *cf, const char *name);
int config_id(const char *name); /* cf_id or -1 */

/* The declaration table, for cfgen and makefml config. */
typedef struct cf_decl {
	const char *name;
	cf_type type;
	const char *def;
	const char *extra; /* enum words "a|b|c" */
	const char *doc;
} cf_decl;
extern const cf_decl config_table[CF__COUNT];

/* For `makefml check` (as Postfix's postconf warns of unused parameters):
 * visit every variable the files set that fml does not know and no value
 * refers to ($NAME): a misspelling, most likely. */
void config_unused(const config *cf, void (*fn)(const char *name, const char *source, void *arg),
		   void *arg);
/* For `makefml config`: visit every variable that has a value. */
void config_foreach(const config *cf,
		    void (*fn)(const char *name, const char *value, const char *source, void *arg),
		    void *arg);

#endif
