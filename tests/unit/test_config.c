/*
 * Unit tests for lib/list/config.c: syntax, cascade order, search path,
 * expansion, types, errors with file:line, config_source().
 * Each test is a table of cases; a failing case prints "got X, want Y".
 * Files are written under a private temporary directory:
 *   ROOT/ml/elena   DIR            ROOT/etc   the installed etc dir
 *   ROOT/ml/etc/fml ML_DIR/etc/fml ROOT/x1, ROOT/x2  extra search dirs
 */
#include "unit.h"

#include "list/config.h"
#include "util/msg.h"
#include "util/str.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char root[PATH_MAX];
static char dir_home[PATH_MAX], dir_mletc[PATH_MAX], dir_etc[PATH_MAX];
static char dir_x1[PATH_MAX], dir_x2[PATH_MAX], ml_dir[PATH_MAX];
static char host[256];

#define EXEC_DIR "/opt/fml/libexec"

/* snprintf into a fixed buffer; truncation fails the test. */
/* ---- fixture */

static void mkdir_p(const char *path)
{
	char buf[PATH_MAX];
	PATHF(buf, "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p == '/') {
			*p = 0;
			mkdir(buf, 0700);
			*p = '/';
		}
	}
	if (mkdir(buf, 0700) != 0 && errno != EEXIST)
		fail_msg("mkdir %s: %s", buf, strerror(errno));
}

static void write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
}

/* Remove every *.cf under ROOT (and anything else a test made), keep dirs. */
static void clean_files(void)
{
	static const char *const names[] = {"site_init.cf", "config.cf", "sitedef.cf"};
	const char *dirs[] = {dir_home, dir_mletc, dir_etc, dir_x1, dir_x2};
	char path[PATH_MAX];
	for (size_t d = 0; d < N_ELEMS(dirs); d++)
		for (size_t n = 0; n < N_ELEMS(names); n++) {
			PATHF(path, "%s/%s", dirs[d], names[n]);
			if (unlink(path) != 0 && errno != ENOENT)
				nftw(path, rm_one, 8, FTW_DEPTH | FTW_PHYS);
		}
}

static int setup(void **state)
{
	if (unit_tmpdir(root, sizeof root, "config") < 0)
		return -1;
	PATHF(ml_dir, "%s/ml", root);
	PATHF(dir_home, "%s/ml/elena", root);
	PATHF(dir_mletc, "%s/ml/etc/fml", root);
	PATHF(dir_etc, "%s/etc", root);
	PATHF(dir_x1, "%s/x1", root);
	PATHF(dir_x2, "%s/x2", root);
	mkdir_p(dir_home);
	mkdir_p(dir_mletc);
	mkdir_p(dir_etc);
	mkdir_p(dir_x1);
	mkdir_p(dir_x2);
	if (gethostname(host, sizeof host) != 0 || !*host)
		PATHF(host, "localhost");
	msg_set_stderr(0);
	return 0;
}

static int teardown(void **state)
{
	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static fml_status load_with(config *cf, const char *const *ovr, int novr, str *err)
{
	static const char *search[2];
	search[0] = dir_x1;
	search[1] = dir_x2;
	config_args a = {.dir = dir_home,
			 .search = search,
			 .nsearch = 2,
			 .overrides = ovr,
			 .noverrides = novr,
			 .etc_dir = dir_etc,
			 .exec_dir = EXEC_DIR};
	return config_load(cf, &a, err);
}

static config *load_ok(void)
{
	config *cf = config_new();
	str err = STR_INIT;
	fml_status st = load_with(cf, NULL, 0, &err);
	if (st != ST_OK)
		fail_msg("config_load: got %s (%s), want ST_OK", status_name(st), str_c(&err));
	str_free(&err);
	return cf;
}

/* "@DIR@", "@ML_DIR@", "@FQDN@", "@ROOT@" in a wanted string. */
static const char *subst(const char *want, str *buf)
{
	const char *vals[] = {dir_home, ml_dir, host, root};
	static const char *const names[] = {"@DIR@", "@ML_DIR@", "@FQDN@", "@ROOT@"};
	str_clear(buf);
	for (const char *p = want; *p;) {
		size_t k;
		for (k = 0; k < N_ELEMS(names); k++)
			if (strncmp(p, names[k], strlen(names[k])) == 0)
				break;
		if (k < N_ELEMS(names)) {
			str_puts(buf, vals[k]);
			p += strlen(names[k]);
		} else {
			str_putc(buf, *p++);
		}
	}
	return str_c(buf);
}

/* Compare a result with a case; print "got X, want Y" and count failures. */
static int check(const char *what, fml_status st, const str *err, const char *got, const char *want,
		 const char *want_err)
{
	str w = STR_INIT, we = STR_INIT;
	int bad = 0;
	if (want_err) {
		const char *wanted = subst(want_err, &we);
		if (st != ST_TEMPFAIL || !strstr(str_c(err), wanted)) {
			print_error("%s: got %s \"%s\", want ST_TEMPFAIL with \"%s\"\n", what,
				    status_name(st), str_c(err), wanted);
			bad = 1;
		}
	} else if (st != ST_OK) {
		print_error("%s: got %s \"%s\", want ST_OK\n", what, status_name(st), str_c(err));
		bad = 1;
	} else if (want) {
		const char *wanted = subst(want, &w);
		if (!got || strcmp(got, wanted) != 0) {
			print_error("%s: got \"%s\", want \"%s\"\n", what, got ? got : "(null)",
				    wanted);
			bad = 1;
		}
	}
	str_free(&w);
	str_free(&we);
	return bad;
}

/* ---- the table itself */

static void test_table_sane(void **state)
{
	int bad = 0;
	for (int i = 0; i < CF__COUNT; i++) {
		const cf_decl *d = &config_table[i];
		size_t n = strlen(d->name);
		if (n == 0 || strspn(d->name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != n) {
			print_error("%s: name not [A-Z0-9_]\n", d->name);
			bad++;
		}
		if (config_id(d->name) != i) {
			print_error("%s: config_id got %d, want %d\n", d->name, config_id(d->name),
				    i);
			bad++;
		}
		if (!*d->doc || strchr(d->doc, '\n')) {
			print_error("%s: doc must be one non-empty line\n", d->name);
			bad++;
		}
		if ((d->type == CFT_ENUM) != (*d->extra != 0)) {
			print_error("%s: enum words iff type enum\n", d->name);
			bad++;
		}
		static const char *const builtin[] = {"DIR", "ML_DIR", "ML_NAME", "EXEC_DIR",
						      "FQDN"};
		for (size_t b = 0; b < N_ELEMS(builtin); b++)
			if (strcmp(d->name, builtin[b]) == 0) {
				print_error("%s: a built-in name in the table\n", d->name);
				bad++;
			}
	}
	assert_int_equal(bad, 0);
}

/* A bad default is a programming error: loading no file at all must work,
 * every value must be fully expanded and typed. */
static void test_defaults(void **state)
{
	clean_files();
	config *cf = load_ok();
	int bad = 0;
	for (int i = 0; i < CF__COUNT; i++) {
		const char *name = config_table[i].name;
		bad += check(name, ST_OK, NULL, config_source(cf, name), "default", NULL);
		if (strchr(config_str(cf, (cf_id)i), '$')) {
			print_error("%s: got \"%s\", unexpanded\n", name, config_str(cf, (cf_id)i));
			bad++;
		}
	}
	static const struct {
		cf_id id;
		const char *want;
	} s[] = {
	    {CF_DOMAINNAME, "@FQDN@"},
	    {CF_MAIL_LIST, "elena@@FQDN@"},
	    {CF_CONTROL_ADDRESS, "elena-ctl@@FQDN@"},
	    {CF_MAINTAINER, "elena-admin@@FQDN@"},
	    {CF_ML_FN, "(elena ML)"},
	    {CF_XMLNAME, "X-ML-Name: elena"},
	    {CF_SPOOL_DIR, "@DIR@/spool"},
	    {CF_QUEUE_DIR, "@DIR@/var/queue"},
	    {CF_SUBJECT_TAG_TYPE, ""},
	    {CF_PERMIT_POST_FROM, "members_only"},
	};
	for (size_t k = 0; k < N_ELEMS(s); k++)
		bad += check(config_table[s[k].id].name, ST_OK, NULL, config_str(cf, s[k].id),
			     s[k].want, NULL);
	static const struct {
		cf_id id;
		long long want;
	} n[] = {
	    {CF_GUIDE_CHECK_LIMIT, 3},
	    {CF_COMMAND_CHECK_LIMIT, 3},
	    {CF_INCOMING_MAIL_SIZE_LIMIT, 10LL * 1024 * 1024},
	    {CF_INCOMING_HEADER_SIZE_LIMIT, 100LL * 1024},
	    {CF_USE_FLOCK, 1},
	    {CF_LOCK_TIMEOUT, 300},
	    {CF_DUPLICATE_CACHE_EXPIRE, 30LL * 86400},
	    {CF_NOTIFY_INTERVAL, 3600},
	    {CF_PERMIT_POST_FROM, 1}, /* index in anyone|members_only|moderator */
	    {CF_REWRITE_TO, 0},
	};
	for (size_t k = 0; k < N_ELEMS(n); k++) {
		long long got = config_int(cf, n[k].id);
		if (got != n[k].want) {
			print_error("%s: got %lld, want %lld\n", config_table[n[k].id].name, got,
				    n[k].want);
			bad++;
		}
	}
	config_free(cf);
	assert_int_equal(bad, 0);
}

/* config_new() alone: every typed default is there (DIR is empty, so only
 * the addresses differ from a loaded configuration). */
static void test_new_defaults(void **state)
{
	clean_files();
	config *loaded = load_ok();
	config *plain = config_new();
	int bad = 0;
	for (int i = 0; i < CF__COUNT; i++) {
		cf_id id = (cf_id)i;
		cf_type t = config_table[i].type;
		if (t == CFT_ADDR)
			continue;
		if (t != CFT_STR && config_int(plain, id) != config_int(loaded, id)) {
			print_error("%s: got %lld, want %lld\n", config_table[i].name,
				    config_int(plain, id), config_int(loaded, id));
			bad++;
		}
		if (t != CFT_STR || !strstr(config_table[i].def, "$"))
			bad += check(config_table[i].name, ST_OK, NULL, config_str(plain, id),
				     config_str(loaded, id), NULL);
	}
	bad += check("ML_FN", ST_OK, NULL, config_str(plain, CF_ML_FN), "( ML)", NULL);
	bad += check("DOMAINNAME", ST_OK, NULL, config_str(plain, CF_DOMAINNAME), "@FQDN@", NULL);
	bad += check("DIR", ST_OK, NULL, config_get(plain, "DIR"), "", NULL);
	config_free(plain);
	config_free(loaded);
	assert_int_equal(bad, 0);
}

/* ---- syntax */

typedef struct text_case {
	const char *text;
	size_t len; /* 0: strlen(text) */
	const char *name;
	const char *want;     /* value of NAME */
	const char *want_err; /* substring of the error, or NULL */
} text_case;

static int run_text_cases(const text_case *c, size_t n)
{
	int bad = 0;
	str err = STR_INIT, what = STR_INIT;
	clean_files();
	for (size_t i = 0; i < n; i++) {
		config *cf = load_ok();
		size_t len = c[i].len ? c[i].len : strlen(c[i].text);
		fml_status st = config_parse_text(cf, "t.cf", c[i].text, len, &err);
		str_clear(&what);
		str_printf(&what, "case %zu %s", i, c[i].name ? c[i].name : "");
		bad += check(str_c(&what), st, &err, c[i].name ? config_get(cf, c[i].name) : NULL,
			     c[i].want, c[i].want_err);
		config_free(cf);
	}
	str_free(&err);
	str_free(&what);
	return bad;
}

static void test_syntax(void **state)
{
	static const text_case c[] = {
	    {"A = b\n", 0, "A", "b", NULL},
	    {"A=b\n", 0, "A", "b", NULL},
	    {"A\t=\tb\n", 0, "A", "b", NULL},
	    {"A = b   \t\n", 0, "A", "b", NULL},
	    {"A =    b  c  \n", 0, "A", "b  c", NULL},
	    {"A = b", 0, "A", "b", NULL}, /* no final newline */
	    {"A =\n", 0, "A", "", NULL},
	    {"A=\n", 0, "A", "", NULL},
	    {"# comment\nA = b\n# A = c\n", 0, "A", "b", NULL},
	    {"   # indented comment\nA = b\n", 0, "A", "b", NULL},
	    {"\n\n  \t\nA = b\n\n\n", 0, "A", "b", NULL},
	    {"A = x # not a comment\n", 0, "A", "x # not a comment", NULL},
	    {"A = 1\nA = 2\n", 0, "A", "2", NULL},
	    {"A = b\n  c\n\td  \n", 0, "A", "b c d", NULL},
	    {"A = b\n# between\n  c\nB = z\n", 0, "A", "b c", NULL},
	    {"A = b\n  c\nB = z\n", 0, "B", "z", NULL},
	    {"lower_case9 = v\n", 0, "lower_case9", "v", NULL},
	    {"_X = v\n", 0, "_X", "v", NULL},
	    {"A = a=b=c\n", 0, "A", "a=b=c", NULL},
	    {"A = \"quoted\"\n", 0, "A", "\"quoted\"", NULL},
	    {"A = b\t c\n", 0, "A", "b\t c", NULL},
	    {"MAIL_LIST=list@example.org\n", 0, "MAIL_LIST", "list@example.org", NULL},
	    {"", 0, "MAIL_LIST", "elena@@FQDN@", NULL},
	    /* errors, with file:line */
	    {"A b\n", 0, NULL, NULL, "t.cf:1: expected NAME = value"},
	    {"\n\nA\n", 0, NULL, NULL, "t.cf:3: expected NAME = value"},
	    {"= b\n", 0, NULL, NULL, "t.cf:1: expected NAME = value"},
	    {"1A = b\n", 0, NULL, NULL, "t.cf:1: expected NAME = value"},
	    {"A-B = c\n", 0, NULL, NULL, "t.cf:1: expected NAME = value"},
	    {"  A = b\n", 0, NULL, NULL, "t.cf:1: indented line continues nothing"},
	    {"A = b\n\n  c\n", 0, NULL, NULL, "t.cf:3: indented line continues nothing"},
	    {"A = b\r\n", 0, NULL, NULL, "t.cf:1: carriage return"},
	    {"A = b\nB = c\rd\n", 0, NULL, NULL, "t.cf:2: carriage return"},
	    {"A = b\0c\n", 8, NULL, NULL, "t.cf:1: NUL byte"},
	    {"# \0\n", 4, NULL, NULL, "t.cf:1: NUL byte"},
	    {"A = b\x01\n", 0, NULL, NULL, "t.cf:1: control character"},
	    {"A = b\n  c\x7f\n", 0, NULL, NULL, "t.cf:2: control character"},
	    {"A = b\nB =\n  x\nA b c\n", 0, NULL, NULL, "t.cf:4: expected NAME = value"},
	    {"DIR = /x\n", 0, NULL, NULL, "t.cf:1: DIR is built in"},
	    {"ML_DIR = /x\n", 0, NULL, NULL, "t.cf:1: ML_DIR is built in"},
	    {"ML_NAME = x\n", 0, NULL, NULL, "t.cf:1: ML_NAME is built in"},
	    {"\nEXEC_DIR = /x\n", 0, NULL, NULL, "t.cf:2: EXEC_DIR is built in"},
	    {"FQDN=x.example\n", 0, NULL, NULL, "t.cf:1: FQDN is built in"},
	};
	assert_int_equal(run_text_cases(c, N_ELEMS(c)), 0);
}

/* ---- expansion */

static void test_expansion(void **state)
{
	static const text_case c[] = {
	    {"A = $DIR\n", 0, "A", "@DIR@", NULL},
	    {"A = ${DIR}/spool\n", 0, "A", "@DIR@/spool", NULL},
	    {"A = $DIR/spool\n", 0, "A", "@DIR@/spool", NULL},
	    {"A = $ML_DIR\n", 0, "A", "@ML_DIR@", NULL},
	    {"A = $ML_NAME\n", 0, "A", "elena", NULL},
	    {"A = $EXEC_DIR/x\n", 0, "A", EXEC_DIR "/x", NULL},
	    {"A = $FQDN\n", 0, "A", "@FQDN@", NULL},
	    {"A = $ML_NAME-admin\n", 0, "A", "elena-admin", NULL},
	    {"A = $B-x\nB = y\n", 0, "A", "y-x", NULL}, /* forward reference */
	    {"A = ${B}x\nB = y\n", 0, "A", "yx", NULL},
	    {"A = $B$B.$B\nB = y\n", 0, "A", "yy.y", NULL},
	    {"A = $B\nB = $C\nC = $D/z\nD = $ML_NAME\n", 0, "A", "elena/z", NULL},
	    {"A = $$B\n", 0, "A", "$B", NULL},
	    {"A = $$\n", 0, "A", "$", NULL},
	    {"A = 5$\n", 0, "A", "5$", NULL},
	    {"A = $ x\n", 0, "A", "$ x", NULL},
	    {"A = $5\n", 0, "A", "$5", NULL},
	    {"A = a$-b\n", 0, "A", "a$-b", NULL},
	    {"A = $B\nB =\n", 0, "A", "", NULL},
	    {"A = pre $B post\nB = mid\n", 0, "A", "pre mid post", NULL},
	    {"A = $DOMAINNAME\n", 0, "A", "@FQDN@", NULL},
	    {"DOMAINNAME = example.org\n", 0, "MAIL_LIST", "elena@example.org", NULL},
	    {"DOMAINNAME = example.org\n", 0, "MAINTAINER", "elena-admin@example.org", NULL},
	    {"MAINTAINER = $X\nX = fml@$DOMAINNAME\nDOMAINNAME = example.net\n", 0, "MAINTAINER",
	     "fml@example.net", NULL},
	    {"A = $B\n B\nB = y\n", 0, "A", "y B", NULL},
	    /* unknown names: an error, not an empty string */
	    {"A = $NOPE\n", 0, NULL, NULL, "t.cf:1: A: unknown variable $NOPE"},
	    {"A = ${NOPE}\n", 0, NULL, NULL, "t.cf:1: A: unknown variable $NOPE"},
	    {"A = $Bx\nB = y\n", 0, NULL, NULL, "t.cf:1: A: unknown variable $Bx"},
	    {"A = $dir\n", 0, NULL, NULL, "unknown variable $dir"},
	    {"\nA = $B\nB = $NOPE\n", 0, NULL, NULL, "t.cf:3: B: unknown variable $NOPE"},
	    {"A = ${B\nB = y\n", 0, NULL, NULL, "t.cf:1: A: bad ${NAME}"},
	    {"A = ${}\n", 0, NULL, NULL, "t.cf:1: A: bad ${NAME}"},
	    {"A = ${B C}\nB = y\n", 0, NULL, NULL, "t.cf:1: A: bad ${NAME}"},
	    /* loops: an error, never a hang */
	    {"A = $A\n", 0, NULL, NULL, "t.cf:1: A: expansion loop through $A"},
	    {"A = ${A}x\n", 0, NULL, NULL, "expansion loop through $A"},
	    {"A = $B\nB = $A\n", 0, NULL, NULL, "t.cf:2: B: expansion loop through $A"},
	    {"A = $B\nB = $C\nC = $A\n", 0, NULL, NULL, "t.cf:3: C: expansion loop through $A"},
	    {"MAIL_LIST = $X\nX = $MAIL_LIST\n", 0, NULL, NULL, "expansion loop through $"},
	    {"DOMAINNAME = $MAIL_LIST\n", 0, NULL, NULL, "expansion loop through $DOMAINNAME"},
	};
	assert_int_equal(run_text_cases(c, N_ELEMS(c)), 0);
}

/* Deep chains and values that double at each step end in an error. */
static void test_expansion_limits(void **state)
{
	str t = STR_INIT, err = STR_INIT, want = STR_INIT;
	int bad = 0;
	clean_files();

	/* V0 = x, Vi = $V(i-1), TOP = $Vn: TOP is n + 1 deep; up to 32 is
	 * fine, in whatever order the lines come */
	static const struct {
		int depth;
		int reverse;
		const char *want_err;
	} chain[] = {
	    {20, 0, NULL},
	    {20, 1, NULL},
	    {31, 0, NULL},
	    {31, 1, NULL},
	    {32, 0, "nested more than 32 deep"},
	    {32, 1, "nested more than 32 deep"},
	    {1000, 0, "nested more than 32 deep"},
	    {1000, 1, "nested more than 32 deep"},
	};
	for (size_t k = 0; k < N_ELEMS(chain); k++) {
		int n = chain[k].depth;
		str_clear(&t);
		if (chain[k].reverse)
			str_printf(&t, "TOP = $V%d\n", n);
		for (int j = 0; j <= n; j++) {
			int i = chain[k].reverse ? n - j : j;
			if (i == 0)
				str_puts(&t, "V0 = x\n");
			else
				str_printf(&t, "V%d = $V%d\n", i, i - 1);
		}
		if (!chain[k].reverse)
			str_printf(&t, "TOP = $V%d\n", n);
		config *cf = load_ok();
		fml_status st = config_parse_text(cf, "t.cf", t.s, t.len, &err);
		bad += check("chain", st, &err, config_get(cf, "TOP"), "x", chain[k].want_err);
		config_free(cf);
	}

	/* A0 = 1000 bytes, Ai = 8 x A(i-1): A2 = 64000 fits, A3 does not */
	static const struct {
		int levels;
		const char *want_err;
	} grow[] = {{2, NULL}, {3, "longer than 65536 bytes"}};
	for (size_t k = 0; k < N_ELEMS(grow); k++) {
		str_sets(&t, "A0 = ");
		for (int i = 0; i < 1000; i++)
			str_putc(&t, 'a' + i % 26);
		str_putc(&t, '\n');
		for (int i = 1; i <= grow[k].levels; i++)
			str_printf(&t, "A%d = $A%d$A%d$A%d$A%d$A%d$A%d$A%d$A%d\n", i, i - 1, i - 1,
				   i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
		config *cf = load_ok();
		fml_status st = config_parse_text(cf, "t.cf", t.s, t.len, &err);
		const char *got = config_get(cf, "A2");
		char lenbuf[32];
		PATHF(lenbuf, "%zu", got ? strlen(got) : 0);
		bad += check("growth", st, &err, lenbuf, "64000", grow[k].want_err);
		config_free(cf);
	}

	/* many values of 64000 bytes each: the load as a whole is bounded */
	str_sets(&t, "A0 = ");
	for (int i = 0; i < 8000; i++)
		str_putc(&t, 'x');
	str_puts(&t, "\nA1 = $A0$A0$A0$A0$A0$A0$A0$A0\n");
	for (int i = 0; i < 100; i++)
		str_printf(&t, "B%d = $A1\n", i);
	config *cf = load_ok();
	fml_status st = config_parse_text(cf, "t.cf", t.s, t.len, &err);
	bad += check("budget", st, &err, NULL, NULL, "longer than 65536 bytes after expansion");
	config_free(cf);

	str_free(&t);
	str_free(&err);
	str_free(&want);
	assert_int_equal(bad, 0);
}

/* ---- types */

#define NO_NUM (-1) /* an address: only whether it is accepted */

typedef struct type_case {
	const char *text;
	int id; /* cf_id whose config_int() is compared, or NO_NUM */
	long long want;
	const char *want_err;
} type_case;

static void test_types(void **state)
{
	static const type_case c[] = {
	    /* integer */
	    {"GUIDE_CHECK_LIMIT = 10\n", CF_GUIDE_CHECK_LIMIT, 10, NULL},
	    {"GUIDE_CHECK_LIMIT = 0\n", CF_GUIDE_CHECK_LIMIT, 0, NULL},
	    {"GUIDE_CHECK_LIMIT = 007\n", CF_GUIDE_CHECK_LIMIT, 7, NULL},
	    {"GUIDE_CHECK_LIMIT = 9223372036854775807\n", CF_GUIDE_CHECK_LIMIT,
	     9223372036854775807LL, NULL},
	    {"N = 12\nGUIDE_CHECK_LIMIT = $N\n", CF_GUIDE_CHECK_LIMIT, 12, NULL},
	    {"GUIDE_CHECK_LIMIT = -1\n", 0, 0, "t.cf:1: GUIDE_CHECK_LIMIT: bad integer '-1'"},
	    {"GUIDE_CHECK_LIMIT = abc\n", 0, 0, "t.cf:1: GUIDE_CHECK_LIMIT: bad integer 'abc'"},
	    {"\nGUIDE_CHECK_LIMIT = 1.5\n", 0, 0, "t.cf:2: GUIDE_CHECK_LIMIT: bad integer"},
	    {"GUIDE_CHECK_LIMIT =\n", 0, 0, "t.cf:1: GUIDE_CHECK_LIMIT: bad integer ''"},
	    {"GUIDE_CHECK_LIMIT = 3 lines\n", 0, 0, "t.cf:1: GUIDE_CHECK_LIMIT: bad integer"},
	    {"GUIDE_CHECK_LIMIT = 9223372036854775808\n", 0, 0, "bad integer"},
	    {"N = x\nGUIDE_CHECK_LIMIT = $N\n", 0, 0, "t.cf:2: GUIDE_CHECK_LIMIT: bad integer 'x'"},
	    /* boolean */
	    {"USE_FLOCK = 0\n", CF_USE_FLOCK, 0, NULL},
	    {"USE_FLOCK = 1\n", CF_USE_FLOCK, 1, NULL},
	    {"USE_FLOCK = yes\n", CF_USE_FLOCK, 1, NULL},
	    {"USE_FLOCK = No\n", CF_USE_FLOCK, 0, NULL},
	    {"USE_FLOCK = TRUE\n", CF_USE_FLOCK, 1, NULL},
	    {"USE_FLOCK = false\n", CF_USE_FLOCK, 0, NULL},
	    {"USE_FLOCK = on\n", CF_USE_FLOCK, 1, NULL},
	    {"USE_FLOCK = off\n", CF_USE_FLOCK, 0, NULL},
	    {"USE_FLOCK = maybe\n", 0, 0, "t.cf:1: USE_FLOCK: bad boolean 'maybe'"},
	    {"\n\n\nUSE_FLOCK = 2\n", 0, 0, "t.cf:4: USE_FLOCK: bad boolean '2'"},
	    {"USE_FLOCK =\n", 0, 0, "t.cf:1: USE_FLOCK: bad boolean ''"},
	    /* size */
	    {"INCOMING_MAIL_SIZE_LIMIT = 1024\n", CF_INCOMING_MAIL_SIZE_LIMIT, 1024, NULL},
	    {"INCOMING_MAIL_SIZE_LIMIT = 2K\n", CF_INCOMING_MAIL_SIZE_LIMIT, 2048, NULL},
	    {"INCOMING_MAIL_SIZE_LIMIT = 2k\n", CF_INCOMING_MAIL_SIZE_LIMIT, 2048, NULL},
	    {"INCOMING_MAIL_SIZE_LIMIT = 3M\n", CF_INCOMING_MAIL_SIZE_LIMIT, 3LL << 20, NULL},
	    {"INCOMING_MAIL_SIZE_LIMIT = 1G\n", CF_INCOMING_MAIL_SIZE_LIMIT, 1LL << 30, NULL},
	    {"INCOMING_MAIL_SIZE_LIMIT = 5KB\n", CF_INCOMING_MAIL_SIZE_LIMIT, 5120, NULL},
	    {"INCOMING_MAIL_SIZE_LIMIT = 0\n", CF_INCOMING_MAIL_SIZE_LIMIT, 0, NULL},
	    {"INCOMING_MAIL_SIZE_LIMIT = 5X\n", 0, 0,
	     "t.cf:1: INCOMING_MAIL_SIZE_LIMIT: bad size '5X'"},
	    {"INCOMING_MAIL_SIZE_LIMIT = 5KK\n", 0, 0,
	     "t.cf:1: INCOMING_MAIL_SIZE_LIMIT: bad size"},
	    {"INCOMING_MAIL_SIZE_LIMIT = M\n", 0, 0, "t.cf:1: INCOMING_MAIL_SIZE_LIMIT: bad size"},
	    {"INCOMING_MAIL_SIZE_LIMIT = 1.5M\n", 0, 0, "INCOMING_MAIL_SIZE_LIMIT: bad size"},
	    {"INCOMING_MAIL_SIZE_LIMIT = 10 M\n", 0, 0, "INCOMING_MAIL_SIZE_LIMIT: bad size"},
	    {"INCOMING_MAIL_SIZE_LIMIT = 9999999999G\n", 0, 0,
	     "INCOMING_MAIL_SIZE_LIMIT: bad size"},
	    /* time */
	    {"LOCK_TIMEOUT = 90\n", CF_LOCK_TIMEOUT, 90, NULL},
	    {"LOCK_TIMEOUT = 30s\n", CF_LOCK_TIMEOUT, 30, NULL},
	    {"LOCK_TIMEOUT = 5m\n", CF_LOCK_TIMEOUT, 300, NULL},
	    {"LOCK_TIMEOUT = 2h\n", CF_LOCK_TIMEOUT, 7200, NULL},
	    {"LOCK_TIMEOUT = 1d\n", CF_LOCK_TIMEOUT, 86400, NULL},
	    {"LOCK_TIMEOUT = 1w\n", CF_LOCK_TIMEOUT, 604800, NULL},
	    {"LOCK_TIMEOUT = 7days\n", CF_LOCK_TIMEOUT, 604800, NULL},
	    {"LOCK_TIMEOUT = 1day\n", CF_LOCK_TIMEOUT, 86400, NULL},
	    {"LOCK_TIMEOUT = 2 weeks\n", CF_LOCK_TIMEOUT, 1209600, NULL},
	    {"LOCK_TIMEOUT = 10min\n", CF_LOCK_TIMEOUT, 600, NULL},
	    {"LOCK_TIMEOUT = 3Hours\n", CF_LOCK_TIMEOUT, 10800, NULL},
	    {"LOCK_TIMEOUT = 45seconds\n", CF_LOCK_TIMEOUT, 45, NULL},
	    {"LOCK_TIMEOUT = soon\n", 0, 0, "t.cf:1: LOCK_TIMEOUT: bad time 'soon'"},
	    {"LOCK_TIMEOUT = 5x\n", 0, 0, "t.cf:1: LOCK_TIMEOUT: bad time '5x'"},
	    {"LOCK_TIMEOUT = 5 fortnights\n", 0, 0, "t.cf:1: LOCK_TIMEOUT: bad time"},
	    {"LOCK_TIMEOUT = 1h30m\n", 0, 0, "t.cf:1: LOCK_TIMEOUT: bad time"},
	    {"LOCK_TIMEOUT = -5\n", 0, 0, "t.cf:1: LOCK_TIMEOUT: bad time"},
	    {"LOCK_TIMEOUT = 99999999999999999w\n", 0, 0, "t.cf:1: LOCK_TIMEOUT: bad time"},
	    /* enum: the index of the word */
	    {"PERMIT_POST_FROM = anyone\n", CF_PERMIT_POST_FROM, 0, NULL},
	    {"PERMIT_POST_FROM = moderator\n", CF_PERMIT_POST_FROM, 2, NULL},
	    {"PERMIT_POST_FROM = everyone\n", 0, 0,
	     "t.cf:1: PERMIT_POST_FROM: bad value 'everyone' (one of: "
	     "anyone|members_only|moderator)"},
	    {"PERMIT_POST_FROM = Anyone\n", 0, 0, "t.cf:1: PERMIT_POST_FROM: bad value"},
	    {"PERMIT_POST_FROM =\n", 0, 0, "t.cf:1: PERMIT_POST_FROM: bad value ''"},
	    {"SUBJECT_TAG_TYPE =\n", CF_SUBJECT_TAG_TYPE, 0, NULL},
	    {"SUBJECT_TAG_TYPE = [:]\n", CF_SUBJECT_TAG_TYPE, 1, NULL},
	    {"SUBJECT_TAG_TYPE = [ ]\n", CF_SUBJECT_TAG_TYPE, 5, NULL},
	    {"SUBJECT_TAG_TYPE = (ID)\n", CF_SUBJECT_TAG_TYPE, 10, NULL},
	    {"SUBJECT_TAG_TYPE = <:>\n", 0, 0, "t.cf:1: SUBJECT_TAG_TYPE: bad value '<:>'"},
	    {"REWRITE_TO = 2\n", CF_REWRITE_TO, 2, NULL},
	    {"REWRITE_TO = 3\n", 0, 0, "t.cf:1: REWRITE_TO: bad value '3'"},
	    {"DATE_TYPE = distribute-date+x-posted\n", CF_DATE_TYPE, 7, NULL},
	    /* address: no number, accepted or not */
	    {"MAINTAINER = owner@example.org\n", NO_NUM, 0, NULL},
	    {"MAINTAINER = owner+x.y@[192.0.2.1]\n", NO_NUM, 0, "bad address"},
	    {"MAINTAINER = o.w-n_e+r@sub.ex-ample.org\n", NO_NUM, 0, NULL},
	    {"MAINTAINER = owner@localhost\n", NO_NUM, 0, NULL},
	    {"MAINTAINER =\n", NO_NUM, 0, NULL},
	    {"MAINTAINER = not an address\n", 0, 0, "t.cf:1: MAINTAINER: bad address"},
	    {"MAINTAINER = example.org\n", 0, 0, "t.cf:1: MAINTAINER: bad address"},
	    {"MAINTAINER = @example.org\n", 0, 0, "t.cf:1: MAINTAINER: bad address"},
	    {"MAINTAINER = owner@\n", 0, 0, "t.cf:1: MAINTAINER: bad address"},
	    {"MAINTAINER = a@b@c\n", 0, 0, "t.cf:1: MAINTAINER: bad address"},
	    {"MAINTAINER = <a@b.c>\n", 0, 0, "t.cf:1: MAINTAINER: bad address"},
	    {"MAINTAINER = a@b..c\n", 0, 0, "t.cf:1: MAINTAINER: bad address"},
	    {"MAINTAINER = a@b/c\n", 0, 0, "t.cf:1: MAINTAINER: bad address"},
	    {"DOMAINNAME = bad domain\n", 0, 0, "default: MAIL_LIST: bad address"},
	};
	int bad = 0;
	str err = STR_INIT;
	clean_files();
	for (size_t i = 0; i < N_ELEMS(c); i++) {
		config *cf = load_ok();
		fml_status st = config_parse_text(cf, "t.cf", c[i].text, strlen(c[i].text), &err);
		char got[32], want[32], what[64];
		PATHF(what, "case %zu", i);
		long long num =
		    st == ST_OK && c[i].id != NO_NUM ? config_int(cf, (cf_id)c[i].id) : 0;
		PATHF(got, "%lld", num);
		PATHF(want, "%lld", c[i].want);
		bad += check(what, st, &err, got, want, c[i].want_err);
		config_free(cf);
	}
	str_free(&err);
	assert_int_equal(bad, 0);
}

/* ---- cascade and search path */

enum { F_SI = 1, F_CONF = 2, F_SD = 4, F_OVR = 8 };

static void test_cascade(void **state)
{
	static const struct {
		int files;
		const char *want;
		const char *want_source;
	} c[] = {
	    {0, "bulk", "default"},
	    {F_SI, "si", "@ROOT@/etc/site_init.cf:2"},
	    {F_CONF, "conf", "@DIR@/config.cf:3"},
	    {F_SD, "sd", "@ROOT@/etc/sitedef.cf:1"},
	    {F_SI | F_CONF, "conf", "@DIR@/config.cf:3"},
	    {F_SI | F_SD, "sd", "@ROOT@/etc/sitedef.cf:1"},
	    {F_CONF | F_SD, "sd", "@ROOT@/etc/sitedef.cf:1"},
	    {F_SI | F_CONF | F_SD, "sd", "@ROOT@/etc/sitedef.cf:1"},
	    {F_OVR, "cmd", "command line"},
	    {F_SI | F_OVR, "cmd", "command line"},
	    {F_SI | F_CONF | F_OVR, "cmd", "command line"},
	    {F_SI | F_CONF | F_SD | F_OVR, "cmd", "command line"},
	};
	char path[PATH_MAX];
	str err = STR_INIT;
	int bad = 0;
	static const char *const ovr[] = {"PRECEDENCE=cmd", "OVR = 1"};
	for (size_t i = 0; i < N_ELEMS(c); i++) {
		clean_files();
		if (c[i].files & F_SI) {
			PATHF(path, "%s/site_init.cf", dir_etc);
			write_file(path, "SI = 1\nPRECEDENCE = si\n");
		}
		if (c[i].files & F_CONF) {
			PATHF(path, "%s/config.cf", dir_home);
			write_file(path, "# the list\nCONF = 1\nPRECEDENCE = conf\n");
		}
		if (c[i].files & F_SD) {
			PATHF(path, "%s/sitedef.cf", dir_etc);
			write_file(path, "PRECEDENCE = sd\nSD = 1\n");
		}
		config *cf = config_new();
		fml_status st = load_with(cf, ovr, c[i].files & F_OVR ? 2 : 0, &err);
		char what[64];
		PATHF(what, "case %zu value", i);
		bad += check(what, st, &err, config_str(cf, CF_PRECEDENCE), c[i].want, NULL);
		PATHF(what, "case %zu source", i);
		bad +=
		    check(what, st, &err, config_source(cf, "PRECEDENCE"), c[i].want_source, NULL);
		/* every layer present was read */
		static const struct {
			int file;
			const char *name;
		} marks[] = {{F_SI, "SI"}, {F_CONF, "CONF"}, {F_SD, "SD"}, {F_OVR, "OVR"}};
		for (size_t m = 0; m < N_ELEMS(marks); m++) {
			const char *got = config_get(cf, marks[m].name);
			int want = (c[i].files & marks[m].file) != 0;
			if ((got != NULL) != want) {
				print_error("case %zu: %s got %s, want %s\n", i, marks[m].name,
					    got ? got : "(unset)", want ? "1" : "(unset)");
				bad++;
			}
		}
		config_free(cf);
	}
	/* late binding: site_init.cf may use a variable set in config.cf */
	clean_files();
	PATHF(path, "%s/site_init.cf", dir_etc);
	write_file(path, "PRECEDENCE = $P\nP = list\n");
	PATHF(path, "%s/config.cf", dir_home);
	write_file(path, "P = bulk-$ML_NAME\n");
	config *cf = config_new();
	fml_status st = load_with(cf, NULL, 0, &err);
	bad += check("late binding", st, &err, config_str(cf, CF_PRECEDENCE), "bulk-elena", NULL);
	config_free(cf);
	clean_files();
	str_free(&err);
	assert_int_equal(bad, 0);
}

enum { D_HOME = 1, D_MLETC = 2, D_ETC = 4, D_X1 = 8, D_X2 = 16 };

static void test_search_path(void **state)
{
	static const struct {
		int dirs;  /* where the file exists */
		int first; /* which one is read; 0: none */
	} c[] = {
	    {0, 0},
	    {D_HOME, D_HOME},
	    {D_MLETC, D_MLETC},
	    {D_ETC, D_ETC},
	    {D_X1, D_X1},
	    {D_X2, D_X2},
	    {D_HOME | D_MLETC | D_ETC | D_X1 | D_X2, D_HOME},
	    {D_MLETC | D_ETC | D_X1 | D_X2, D_MLETC},
	    {D_ETC | D_X1 | D_X2, D_ETC},
	    {D_X1 | D_X2, D_X1},
	    {D_HOME | D_X2, D_HOME},
	    {D_MLETC | D_X2, D_MLETC},
	};
	static const char *const files[] = {"site_init.cf", "sitedef.cf"};
	const struct {
		int bit;
		const char *dir;
		const char *label;
	} d[] = {{D_HOME, dir_home, "home"},
		 {D_MLETC, dir_mletc, "mletc"},
		 {D_ETC, dir_etc, "etc"},
		 {D_X1, dir_x1, "x1"},
		 {D_X2, dir_x2, "x2"}};
	char path[PATH_MAX], text[128], want_src[PATH_MAX + 16];
	str err = STR_INIT;
	int bad = 0;
	for (size_t f = 0; f < N_ELEMS(files); f++)
		for (size_t i = 0; i < N_ELEMS(c); i++) {
			clean_files();
			const char *want = "bulk", *src = "default";
			for (size_t k = 0; k < N_ELEMS(d); k++) {
				if (!(c[i].dirs & d[k].bit))
					continue;
				PATHF(path, "%s/%s", d[k].dir, files[f]);
				PATHF(text, "SEEN_%s = 1\nPRECEDENCE = %s\n", d[k].label,
				      d[k].label);
				write_file(path, text);
				if (d[k].bit == c[i].first) {
					want = d[k].label;
					PATHF(want_src, "%s:2", path);
					src = want_src;
				}
			}
			config *cf = config_new();
			fml_status st = load_with(cf, NULL, 0, &err);
			char what[64];
			PATHF(what, "%s case %zu", files[f], i);
			bad += check(what, st, &err, config_str(cf, CF_PRECEDENCE), want, NULL);
			bad += check(what, st, &err, config_source(cf, "PRECEDENCE"), src, NULL);
			/* only the first file found is read */
			for (size_t k = 0; k < N_ELEMS(d); k++) {
				char name[32];
				PATHF(name, "SEEN_%s", d[k].label);
				int wanted = d[k].bit == c[i].first;
				if ((config_get(cf, name) != NULL) != wanted) {
					print_error("%s: %s got %s, want %s\n", what, name,
						    config_get(cf, name) ? "set" : "unset",
						    wanted ? "set" : "unset");
					bad++;
				}
			}
			config_free(cf);
		}
	clean_files();
	str_free(&err);
	assert_int_equal(bad, 0);
}

/* DIR, ML_DIR and ML_NAME from the directory argument. */
static void test_dir_names(void **state)
{
	static const struct {
		const char *dir;
		const char *want_dir, *want_ml_dir, *want_ml_name;
	} c[] = {
	    {"/nonexistent-fml/ml/elena", "/nonexistent-fml/ml/elena", "/nonexistent-fml/ml",
	     "elena"},
	    {"/nonexistent-fml/ml/elena/", "/nonexistent-fml/ml/elena", "/nonexistent-fml/ml",
	     "elena"},
	    {"/nonexistent-fml/ml/elena//", "/nonexistent-fml/ml/elena", "/nonexistent-fml/ml",
	     "elena"},
	    {"/nonexistent-fml", "/nonexistent-fml", "/", "nonexistent-fml"},
	    {"nonexistent-fml/elena", "nonexistent-fml/elena", "nonexistent-fml", "elena"},
	    {"nonexistent-fml-elena", "nonexistent-fml-elena", ".", "nonexistent-fml-elena"},
	};
	str err = STR_INIT;
	int bad = 0;
	char none[PATH_MAX];
	PATHF(none, "%s/none", root);
	for (size_t i = 0; i < N_ELEMS(c); i++) {
		config_args a = {.dir = c[i].dir, .etc_dir = none};
		config *cf = config_new();
		fml_status st = config_load(cf, &a, &err);
		bad += check(c[i].dir, st, &err, config_get(cf, "DIR"), c[i].want_dir, NULL);
		bad += check(c[i].dir, st, &err, config_get(cf, "ML_DIR"), c[i].want_ml_dir, NULL);
		bad +=
		    check(c[i].dir, st, &err, config_get(cf, "ML_NAME"), c[i].want_ml_name, NULL);
		bad += check(c[i].dir, st, &err, config_get(cf, "EXEC_DIR"), "", NULL);
		config_free(cf);
	}
	/* no DIR, or a DIR with a newline, is an error */
	static const char *const baddir[] = {"", "/x/a\nb"};
	for (size_t i = 0; i < N_ELEMS(baddir); i++) {
		config_args a = {.dir = baddir[i], .etc_dir = none};
		config *cf = config_new();
		fml_status st = config_load(cf, &a, &err);
		bad += check("bad DIR", st, &err, NULL, NULL, i ? "DIR: control" : "no list dir");
		config_free(cf);
	}
	str_free(&err);
	assert_int_equal(bad, 0);
}

/* ---- command line and config_set */

static void test_overrides(void **state)
{
	static const struct {
		const char *arg;
		const char *name, *want, *want_err;
	} c[] = {
	    {"PRECEDENCE=list", "PRECEDENCE", "list", NULL},
	    {"PRECEDENCE = list ", "PRECEDENCE", "list", NULL},
	    {"PRECEDENCE=", "PRECEDENCE", "", NULL},
	    {"MY_VAR=$ML_NAME-x", "MY_VAR", "elena-x", NULL},
	    {"DOMAINNAME=example.org", "MAIL_LIST", "elena@example.org", NULL},
	    {"A=b=c", "A", "b=c", NULL},
	    {"PRECEDENCE", NULL, NULL, "command line: expected NAME = value, got 'PRECEDENCE'"},
	    {"=x", NULL, NULL, "command line: expected NAME = value"},
	    {"--PRECEDENCE=x", NULL, NULL, "command line: expected NAME = value"},
	    {"DIR=/tmp", NULL, NULL, "command line: DIR is built in"},
	    {"FQDN=x", NULL, NULL, "command line: FQDN is built in"},
	    {"A=b\nc", NULL, NULL, "command line: control character"},
	    {"GUIDE_CHECK_LIMIT=x", NULL, NULL, "command line: GUIDE_CHECK_LIMIT: bad integer"},
	    {"A=$NOPE", NULL, NULL, "command line: A: unknown variable $NOPE"},
	};
	str err = STR_INIT;
	int bad = 0;
	clean_files();
	for (size_t i = 0; i < N_ELEMS(c); i++) {
		const char *ovr[] = {c[i].arg};
		config *cf = config_new();
		fml_status st = load_with(cf, ovr, 1, &err);
		bad += check(c[i].arg, st, &err, c[i].name ? config_get(cf, c[i].name) : NULL,
			     c[i].want, c[i].want_err);
		if (!c[i].want_err && c[i].name &&
		    strcmp(config_source(cf, c[i].name), "command line") != 0 &&
		    strcmp(c[i].name, "MAIL_LIST") != 0) {
			print_error("%s: source got %s, want command line\n", c[i].arg,
				    config_source(cf, c[i].name));
			bad++;
		}
		config_free(cf);
	}
	str_free(&err);
	assert_int_equal(bad, 0);
}

static void test_config_set(void **state)
{
	static const struct {
		const char *name, *value;
		const char *get, *want, *want_err;
	} c[] = {
	    {"DOMAINNAME", "example.org", "MAIL_LIST", "elena@example.org", NULL},
	    {"PRECEDENCE", "list", "PRECEDENCE", "list", NULL},
	    {"NEW_VAR", "$ML_NAME", "NEW_VAR", "elena", NULL},
	    {"LOCK_TIMEOUT", "soon", "LOCK_TIMEOUT", "300", "command line: LOCK_TIMEOUT: bad time"},
	    {"PRECEDENCE", "$NOPE", "PRECEDENCE", "bulk", "unknown variable $NOPE"},
	    {"X", "$X", "X", NULL, "expansion loop through $X"},
	    {"ML_NAME", "x", "ML_NAME", "elena", "ML_NAME is built in"},
	    {"bad name", "x", "PRECEDENCE", "bulk", "bad variable name"},
	    {"", "x", "PRECEDENCE", "bulk", "bad variable name"},
	    {"PRECEDENCE", "a\rb", "PRECEDENCE", "bulk", "control character"},
	};
	str err = STR_INIT;
	int bad = 0;
	clean_files();
	for (size_t i = 0; i < N_ELEMS(c); i++) {
		config *cf = load_ok();
		fml_status st = config_set(cf, c[i].name, c[i].value, &err);
		bad +=
		    check(c[i].name, st, &err, config_get(cf, c[i].get), c[i].want, c[i].want_err);
		/* after a refused set the old value is still in force */
		if (c[i].want_err && c[i].want)
			bad += check(c[i].name, ST_OK, &err, config_get(cf, c[i].get), c[i].want,
				     NULL);
		if (c[i].want_err && !c[i].want && config_get(cf, c[i].get)) {
			print_error("%s: got a value after a refused set\n", c[i].name);
			bad++;
		}
		config_free(cf);
	}
	/* a refused set keeps the typed value too */
	config *cf = load_ok();
	assert_int_equal(config_set(cf, "LOCK_TIMEOUT", "2h", &err), ST_OK);
	assert_int_equal(config_int(cf, CF_LOCK_TIMEOUT), 7200);
	assert_int_equal(config_set(cf, "LOCK_TIMEOUT", "x", &err), ST_TEMPFAIL);
	assert_int_equal(config_int(cf, CF_LOCK_TIMEOUT), 7200);
	config_free(cf);
	str_free(&err);
	assert_int_equal(bad, 0);
}

/* ---- sources, ids, foreach */

static void test_source(void **state)
{
	char path[PATH_MAX];
	str err = STR_INIT;
	int bad = 0;
	clean_files();
	PATHF(path, "%s/config.cf", dir_home);
	write_file(path, "# list config\n\nPRECEDENCE = list\nSKIP_FIELDS = A\n  |B\n"
			 "\n# mine\nMINE = x\n");
	const char *ovr[] = {"X_MLSERVER=test"};
	config *cf = config_new();
	fml_status st = load_with(cf, ovr, 1, &err);
	static const struct {
		const char *name, *want;
	} c[] = {
	    {"PRECEDENCE", "@DIR@/config.cf:3"},
	    {"SKIP_FIELDS", "@DIR@/config.cf:4"}, /* where the logical line starts */
	    {"MINE", "@DIR@/config.cf:8"},
	    {"X_MLSERVER", "command line"},
	    {"MAIL_LIST", "default"},
	    {"DIR", "built-in"},
	    {"ML_DIR", "built-in"},
	    {"ML_NAME", "built-in"},
	    {"EXEC_DIR", "built-in"},
	    {"FQDN", "built-in"},
	    {"NOT_SET", NULL},
	};
	for (size_t i = 0; i < N_ELEMS(c); i++) {
		const char *got = config_source(cf, c[i].name);
		if (!c[i].want) {
			if (got) {
				print_error("%s: got \"%s\", want NULL\n", c[i].name, got);
				bad++;
			}
			continue;
		}
		bad += check(c[i].name, st, &err, got, c[i].want, NULL);
	}
	bad += check("SKIP_FIELDS", st, &err, config_str(cf, CF_SKIP_FIELDS), "A |B", NULL);
	if (config_get(cf, "NOT_SET")) {
		print_error("NOT_SET: got a value, want NULL\n");
		bad++;
	}

	static const struct {
		const char *name;
		int want;
	} ids[] = {
	    {"DOMAINNAME", CF_DOMAINNAME},
	    {"MAIL_LIST", CF_MAIL_LIST},
	    {"LANGUAGE", CF_LANGUAGE},
	    {"mail_list", -1},
	    {"DIR", -1},
	    {"FQDN", -1},
	    {"MINE", -1},
	    {"", -1},
	};
	for (size_t i = 0; i < N_ELEMS(ids); i++)
		if (config_id(ids[i].name) != ids[i].want) {
			print_error("config_id(%s): got %d, want %d\n", ids[i].name,
				    config_id(ids[i].name), ids[i].want);
			bad++;
		}
	config_free(cf);
	clean_files();
	str_free(&err);
	assert_int_equal(bad, 0);
}

struct visit {
	int n, declared, builtin, mine, order_ok;
};

static void visit(const char *name, const char *value, const char *source, void *arg)
{
	struct visit *v = arg;
	if (v->n < CF__COUNT && strcmp(name, config_table[v->n].name) != 0)
		v->order_ok = 0;
	v->n++;
	if (config_id(name) >= 0 && strcmp(value, "") >= 0)
		v->declared++;
	if (strcmp(source, "built-in") == 0)
		v->builtin++;
	if (strcmp(name, "MINE") == 0 && strcmp(value, "elena!") == 0)
		v->mine++;
}

static void test_foreach(void **state)
{
	clean_files();
	config *cf = load_ok();
	str err = STR_INIT;
	assert_int_equal(config_parse_text(cf, "t.cf", "MINE = $ML_NAME!\n", 17, &err), ST_OK);
	struct visit v = {0, 0, 0, 0, 1};
	config_foreach(cf, visit, &v);
	assert_int_equal(v.n, CF__COUNT + 5 + 1);
	assert_int_equal(v.declared, CF__COUNT);
	assert_int_equal(v.builtin, 5);
	assert_int_equal(v.mine, 1);
	assert_true(v.order_ok);
	config_free(cf);
	str_free(&err);
}

/* ---- files: errors name the file */

static void test_file_errors(void **state)
{
	char path[PATH_MAX], target[PATH_MAX];
	str err = STR_INIT;
	int bad = 0;
	static const struct {
		const char *what;
		int kind; /* 0 text, 1 symlink, 2 directory, 3 too big */
		const char *text;
		const char *want_err;
	} c[] = {
	    {"syntax", 0, "A = 1\n\nnot an assignment\n",
	     "@DIR@/config.cf:3: expected NAME = value"},
	    {"type", 0, "# x\nUSE_FLOCK = perhaps\n", "@DIR@/config.cf:2: USE_FLOCK: bad boolean"},
	    {"symlink", 1, NULL, "@DIR@/config.cf: cannot read"},
	    {"directory", 2, NULL, "@DIR@/config.cf: cannot read"},
	    {"too big", 3, NULL, "@DIR@/config.cf: larger than 1048576 bytes"},
	};
	PATHF(path, "%s/config.cf", dir_home);
	PATHF(target, "%s/target.cf", root);
	write_file(target, "PRECEDENCE = list\n");
	for (size_t i = 0; i < N_ELEMS(c); i++) {
		clean_files();
		if (c[i].kind == 0)
			write_file(path, c[i].text);
		else if (c[i].kind == 1)
			assert_int_equal(symlink(target, path), 0);
		else if (c[i].kind == 2)
			assert_int_equal(mkdir(path, 0700), 0);
		else {
			FILE *fp = fopen(path, "w");
			assert_non_null(fp);
			for (int k = 0; k < 41000; k++)
				fputs("# padding padding padding\n", fp);
			fclose(fp);
		}
		config *cf = config_new();
		fml_status st = load_with(cf, NULL, 0, &err);
		bad += check(c[i].what, st, &err, NULL, NULL, c[i].want_err);
		config_free(cf);
	}
	clean_files();
	unlink(target);
	str_free(&err);
	assert_int_equal(bad, 0);
}

/* etc/default_config.cf (generated by fml/cfgen) parses and gives back
 * every default. */
static void test_default_config_file(void **state)
{
	FILE *fp = fopen("etc/default_config.cf", "r");
	if (!fp)
		skip();
	str text = STR_INIT, err = STR_INIT;
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, fp)) > 0)
		str_append(&text, buf, n);
	fclose(fp);
	clean_files();
	config *def = load_ok();
	config *cf = load_ok();
	fml_status st = config_parse_text(cf, "etc/default_config.cf", text.s, text.len, &err);
	int bad = check("parse", st, &err, NULL, NULL, NULL);
	for (int i = 0; i < CF__COUNT && st == ST_OK; i++) {
		const char *name = config_table[i].name;
		bad += check(name, st, &err, config_str(cf, (cf_id)i), config_str(def, (cf_id)i),
			     NULL);
		const char *src = config_source(cf, name);
		if (strncmp(src, "etc/default_config.cf:", 22) != 0) {
			print_error("%s: source got %s, want etc/default_config.cf:N\n", name, src);
			bad++;
		}
	}
	config_free(cf);
	config_free(def);
	str_free(&text);
	str_free(&err);
	assert_int_equal(bad, 0);
}

/* config_int() on a string variable is a programming error: msg_panic(). */
static void test_cf_int_on_string_panics(void **state)
{
	clean_files();
	config *cf = load_ok();
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);
		dup2(fd, 2);
		(void)config_int(cf, CF_MAIL_LIST);
		_exit(0);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_not_equal(WEXITSTATUS(status), 0);
	config_free(cf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table_sane),
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_new_defaults),
	    cmocka_unit_test(test_syntax),
	    cmocka_unit_test(test_expansion),
	    cmocka_unit_test(test_expansion_limits),
	    cmocka_unit_test(test_types),
	    cmocka_unit_test(test_cascade),
	    cmocka_unit_test(test_search_path),
	    cmocka_unit_test(test_dir_names),
	    cmocka_unit_test(test_overrides),
	    cmocka_unit_test(test_config_set),
	    cmocka_unit_test(test_source),
	    cmocka_unit_test(test_foreach),
	    cmocka_unit_test(test_file_errors),
	    cmocka_unit_test(test_default_config_file),
	    cmocka_unit_test(test_cf_int_on_string_panics),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
