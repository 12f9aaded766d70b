/*
 * Unit tests for the admin-side modules behind makefml: lib/list/newml.c (list
 * creation from a skeleton, template substitution, retirement),
 * lib/list/cfedit.c (setting one variable in config.cf) and lib/list/homecheck.c
 * (the list home check).  Each works in a private temporary directory;
 * a failing case prints "got X, want Y".
 */
#include "unit.h"

#include "list/cfedit.h"
#include "list/config.h"
#include "list/home.h"
#include "list/homecheck.h"
#include "util/msg.h"
#include "list/newml.h"
#include "util/safefile.h"
#include "util/str.h"
#include "util/fs.h"

#include <dirent.h>
#include <ftw.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[PATH_MAX];
static char skel[PATH_MAX], exec_dir[PATH_MAX], etc_dir[PATH_MAX];

static void put(const char *dir, const char *name, const char *text)
{
	char path[PATH_MAX];
	PATHF(path, "%s/%s", dir, name);
	assert_int_equal(safefile_replace(path, text, strlen(text), 0), ST_OK);
}

static void get(const char *dir, const char *name, str *out)
{
	char path[PATH_MAX];
	PATHF(path, "%s/%s", dir, name);
	if (fs_read(path, out, 0) != ST_OK)
		fail_msg("cannot read %s", path);
	str_putc(out, 0); /* fs_read leaves an empty file's buffer unterminated */
	out->len--;
}

static mode_t mode_of(const char *dir, const char *name)
{
	char path[PATH_MAX];
	struct stat st;
	PATHF(path, "%s/%s", dir, name);
	if (lstat(path, &st) < 0)
		fail_msg("%s: missing", path);
	return st.st_mode & 07777;
}

static const char skel_config[] = "# config of $ML_NAME\n"
				  "DOMAINNAME = $DOMAIN\n"
				  "MAIL_LIST = $MAIL_LIST\n"
				  "CONTROL_ADDRESS = $CONTROL_ADDRESS\n"
				  "MAINTAINER = $MAINTAINER\n"
				  "# $DIR in $ML_DIR, fml in ${EXEC_DIR}; $FQDN stays\n";

static int setup(void **state)
{
	if (unit_tmpdir(root, sizeof root, "newml") < 0)
		return -1;
	msg_set_stderr(0);
	/* a skeleton: a template, a plain text, a sub-directory, junk to skip */
	PATHF(skel, "%s/skel", root);
	PATHF(exec_dir, "%s/libexec", root);
	PATHF(etc_dir, "%s/etc", root);
	char sub[PATH_MAX];
	PATHF(sub, "%s/skel/sub", root);
	if (fs_mkdirs(sub, 0700) != ST_OK || fs_mkdirs(exec_dir, 0700) != ST_OK ||
	    fs_mkdirs(etc_dir, 0700) != ST_OK)
		return -1;
	put(skel, "config.cf.in", skel_config);
	put(skel, "help", "Post to $MAIL_LIST.\n");
	put(sub, "note.in", "list $ML_NAME\n");
	put(skel, ".hidden", "never copied\n");
	put(exec_dir, "fml", "#!/bin/sh\nexit 75\n");
	char fml[PATH_MAX];
	PATHF(fml, "%s/fml", exec_dir);
	chmod(fml, 0755);
	return 0;
}

static int teardown(void **state)
{
	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* A fresh empty ML_DIR under ROOT. */
static void fresh_ml_dir(char *dir, size_t size, const char *name)
{
	int n = snprintf(dir, size, "%s/%s", root, name);
	assert_true(n > 0 && (size_t)n < size);
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	assert_int_equal(mkdir(dir, 0755), 0);
}

/* Names in DIR starting with PREFIX. */
static int count_prefix(const char *dir, const char *prefix)
{
	int n = 0;
	DIR *d = opendir(dir);
	struct dirent *de;
	assert_non_null(d);
	while ((de = readdir(d)))
		if (strncmp(de->d_name, prefix, strlen(prefix)) == 0)
			n++;
	closedir(d);
	return n;
}

/* ------------------------------------------------------------------ */

static void test_subst(void **state)
{
	static const char *const names[] = {"ML_NAME", "DOMAIN", "MAIL_LIST"};
	static const char *const values[] = {"elena", "example.org", "elena@example.org"};
	static const struct {
		const char *in, *want;
	} cases[] = {
	    {"", ""},
	    {"plain", "plain"},
	    {"$ML_NAME", "elena"},
	    {"${ML_NAME}x", "elenax"},
	    {"$ML_NAME-ctl@$DOMAIN", "elena-ctl@example.org"},
	    {"$MAIL_LIST.", "elena@example.org."},
	    {"$DOMAINNAME", "$DOMAINNAME"}, /* a longer name is another variable */
	    {"$FQDN $UNKNOWN", "$FQDN $UNKNOWN"},
	    {"$$ML_NAME", "$elena"},
	    {"a$", "a$"},
	    {"${ML_NAME", "${ML_NAME"},
	    {"${}", "${}"},
	    {"$ml_name", "$ml_name"},
	};
	str out = STR_INIT;
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		newml_subst(&out, cases[i].in, strlen(cases[i].in), names, values, 3);
		if (strcmp(str_c(&out), cases[i].want) != 0)
			fail_msg("subst \"%s\": got \"%s\", want \"%s\"", cases[i].in, str_c(&out),
				 cases[i].want);
	}
	str_free(&out);
}

static void test_create(void **state)
{
	char ml[PATH_MAX], home[PATH_MAX], want[4 * PATH_MAX];
	str aliases = STR_INIT, err = STR_INIT, text = STR_INIT;
	fresh_ml_dir(ml, sizeof ml, "create");
	char *real = realpath(ml, NULL);
	assert_non_null(real);
	PATHF(home, "%s/elena", real);

	newml_args a = {ml, "elena", "Example.ORG", "jane", skel, exec_dir, NULL};
	fml_status st = newml_create(&a, &aliases, &err);
	if (st != ST_OK)
		fail_msg("newml_create: got %d \"%s\", want 0", st, str_c(&err));

	/* the template, substituted; other '$' text kept */
	get(home, "config.cf", &text);
	PATHF(want,
	      "# config of elena\n"
	      "DOMAINNAME = example.org\n"
	      "MAIL_LIST = elena@example.org\n"
	      "CONTROL_ADDRESS = elena-ctl@example.org\n"
	      "MAINTAINER = elena-admin@example.org\n"
	      "# %s in %s, fml in %s; $FQDN stays\n",
	      home, real, exec_dir);
	if (strcmp(text.s, want) != 0)
		fail_msg("config.cf: got\n%s\nwant\n%s", text.s, want);
	get(home, "help", &text);
	assert_string_equal(text.s, "Post to $MAIL_LIST.\n"); /* not a template */
	get(home, "sub/note", &text);
	assert_string_equal(text.s, "list elena\n");
	assert_int_equal(count_prefix(home, ".hidden"), 0);
	assert_int_equal(count_prefix(home, "config.cf.in"), 0);

	/* include files */
	get(home, "include", &text);
	PATHF(want, "\"|%s/fml %s\"\n", exec_dir, home);
	assert_string_equal(text.s, want);
	get(home, "include-ctl", &text);
	PATHF(want, "\"|%s/fml %s --ctladdr\"\n", exec_dir, home);
	assert_string_equal(text.s, want);
	get(home, "include-bounces", &text);
	PATHF(want, "\"|%s/fml %s --bounce\"\n", exec_dir, home);
	assert_string_equal(text.s, want);

	/* the secret: 64 hex digits, private */
	get(home, "etc/secret", &text);
	assert_int_equal(text.len, 65);
	assert_int_equal(strspn(text.s, "0123456789abcdef"), 64);
	assert_int_equal(mode_of(home, "etc/secret"), 0600);

	/* empty files, seq, directories, modes */
	static const char *const empty[] = {"members",	  "actives", "members-admin",
					    "moderators", "summary", "log"};
	for (size_t i = 0; i < N_ELEMS(empty); i++) {
		get(home, empty[i], &text);
		if (text.len != 0)
			fail_msg("%s: got %zu bytes, want empty", empty[i], text.len);
	}
	get(home, "seq", &text);
	assert_string_equal(text.s, "0\n");
	for (int i = 0; home_dirs[i]; i++)
		assert_int_equal(mode_of(home, home_dirs[i]) & 0777, 0700);
	assert_int_equal(mode_of(real, "elena"), 0711);
	assert_int_equal(mode_of(home, "include"), 0644);
	assert_int_equal(mode_of(home, "include-bounces"), 0644);
	assert_int_equal(mode_of(home, "members"), 0600);
	assert_int_equal(count_prefix(real, ".newml"), 0);

	/* the aliases lines */
	PATHF(want,
	      "# the elena list: add to /etc/aliases (or your MTA's alias map), then run "
	      "newaliases\n"
	      "elena: :include:%s/include\n"
	      "elena-ctl: :include:%s/include-ctl\n"
	      "elena-bounces: :include:%s/include-bounces\n"
	      "elena-request: elena-admin\n"
	      "# elena-admin: replace jane with the address of the list's maintainer\n"
	      "elena-admin: jane\n"
	      "owner-elena: elena-admin\n"
	      "owner-elena-ctl: elena-admin\n",
	      home, home, home);
	assert_string_equal(aliases.s, want);

	/* the config loads and says what newml wrote */
	config *cf = config_new();
	config_args ca = {home, NULL, 0, NULL, 0, etc_dir, exec_dir};
	assert_int_equal(config_load(cf, &ca, &err), ST_OK);
	assert_string_equal(config_str(cf, CF_MAIL_LIST), "elena@example.org");
	assert_string_equal(config_str(cf, CF_MAINTAINER), "elena-admin@example.org");
	config_free(cf);

	/* a second newml refuses and leaves the list alone */
	put(home, "members", "a@example.com\n");
	st = newml_create(&a, &aliases, &err);
	assert_int_equal(st, ST_DATAERR);
	get(home, "members", &text);
	assert_string_equal(text.s, "a@example.com\n");
	assert_int_equal(count_prefix(real, ".newml"), 0);

	free(real);
	str_free(&aliases);
	str_free(&err);
	str_free(&text);
}

static void test_create_refusals(void **state)
{
	char ml[PATH_MAX], bad_skel[PATH_MAX], missing[PATH_MAX];
	str aliases = STR_INIT, err = STR_INIT;
	fresh_ml_dir(ml, sizeof ml, "refuse");
	PATHF(missing, "%s/no/such/dir", root);
	PATHF(bad_skel, "%s/badskel", root);
	assert_int_equal(fs_mkdirs(bad_skel, 0700), ST_OK);
	put(bad_skel, "config.cf.in", "MAIL_LIST = not an address\n");
	const struct {
		const char *ml_dir, *name, *domain, *skel;
		fml_status want;
		const char *why;
	} cases[] = {
	    {NULL, "Elena", "example.org", NULL, ST_USAGE, "bad list name"},
	    {NULL, "../x", "example.org", NULL, ST_USAGE, "bad list name"},
	    {NULL, "", "example.org", NULL, ST_USAGE, "bad list name"},
	    {NULL, "elena", "localhost", NULL, ST_USAGE, "bad domain"},
	    {NULL, "elena", "exa mple.org", NULL, ST_USAGE, "bad domain"},
	    {NULL, "elena", "example.org\n", NULL, ST_USAGE, "bad domain"},
	    {missing, "elena", "example.org", NULL, ST_NOINPUT, ""},
	    {NULL, "elena", "example.org", bad_skel, ST_TEMPFAIL, "the new config.cf"},
	};
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		newml_args a = {cases[i].ml_dir ? cases[i].ml_dir : ml,
				cases[i].name,
				cases[i].domain,
				NULL,
				cases[i].skel ? cases[i].skel : skel,
				exec_dir,
				NULL};
		fml_status st = newml_create(&a, &aliases, &err);
		if (st != cases[i].want || strncmp(str_c(&err), cases[i].why, strlen(cases[i].why)))
			fail_msg("case %zu: got %d \"%s\", want %d \"%s...\"", i, st, str_c(&err),
				 cases[i].want, cases[i].why);
	}
	/* nothing was left behind by any refusal */
	DIR *d = opendir(ml);
	struct dirent *de;
	assert_non_null(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			fail_msg("left behind: %s", de->d_name);
	closedir(d);
	str_free(&aliases);
	str_free(&err);
}

/* Without a config.cf.in, newml writes a minimal config.cf; with no admin
 * the aliases say to replace "root". */
static void test_create_minimal(void **state)
{
	char ml[PATH_MAX], empty_skel[PATH_MAX], home[PATH_MAX];
	str aliases = STR_INIT, err = STR_INIT, text = STR_INIT;
	fresh_ml_dir(ml, sizeof ml, "minimal");
	PATHF(empty_skel, "%s/emptyskel", root);
	assert_int_equal(fs_mkdirs(empty_skel, 0700), ST_OK);
	newml_args a = {ml, "x.y-z_1", "example.net", NULL, empty_skel, exec_dir, NULL};
	assert_int_equal(newml_create(&a, &aliases, &err), ST_OK);
	PATHF(home, "%s/x.y-z_1", ml);
	get(home, "config.cf", &text);
	assert_non_null(strstr(text.s, "MAIL_LIST = x.y-z_1@example.net\n"));
	assert_non_null(strstr(aliases.s, "# x.y-z_1-admin: replace root with the address"));
	assert_non_null(strstr(aliases.s, "\nx.y-z_1-admin: root\n"));
	str_free(&aliases);
	str_free(&err);
	str_free(&text);
}

static void test_destruct(void **state)
{
	char ml[PATH_MAX];
	str aliases = STR_INIT, err = STR_INIT, where = STR_INIT, text = STR_INIT;
	fresh_ml_dir(ml, sizeof ml, "destruct");
	newml_args a = {ml, "gone", "example.org", "jane", skel, exec_dir, NULL};
	assert_int_equal(newml_create(&a, &aliases, &err), ST_OK);
	assert_int_equal(newml_destruct(ml, "gone", &where, &err), ST_OK);
	assert_non_null(strstr(where.s, "/.destructed.gone."));
	get(where.s, "include", &text); /* everything is still there */
	assert_true(text.len > 0);
	assert_int_equal(count_prefix(ml, "gone"), 0);
	assert_int_equal(newml_destruct(ml, "gone", &where, &err), ST_NOINPUT);
	assert_int_equal(newml_destruct(ml, "../etc", &where, &err), ST_USAGE);
	/* and the name is free again */
	assert_int_equal(newml_create(&a, &aliases, &err), ST_OK);
	newml_alias_names("gone", &text);
	assert_string_equal(text.s,
			    "gone gone-ctl gone-request gone-admin owner-gone owner-gone-ctl");
	str_free(&aliases);
	str_free(&err);
	str_free(&where);
	str_free(&text);
}

/* ------------------------------------------------------------------ */

static void test_cfedit_replace(void **state)
{
	static const struct {
		const char *in, *name, *value, *want;
	} cases[] = {
	    {"", "A", "1", "A = 1\n"},
	    {"A = 0\n", "A", "1", "A = 1\n"},
	    {"A=0", "A", "1", "A = 1\n"},
	    {"A\t=  0\n", "A", "", "A = \n"},
	    {"# c\nA = 0\nB = 2\n", "A", "1", "# c\nA = 1\nB = 2\n"},
	    {"A = 0\nB = 2\nA = 5\n", "A", "1", "A = 0\nB = 2\nA = 1\n"},
	    {"A = x\n  continued\n# kept\n  more\nB = 1\n", "A", "1", "A = 1\n# kept\nB = 1\n"},
	    {"A = x\n\n  stray\n", "A", "1", "A = 1\n\n  stray\n"},
	    {"AB = 0\n", "A", "1", "AB = 0\nA = 1\n"},
	    {"A_B = 0\n", "A", "1", "A_B = 0\nA = 1\n"},
	    {"#A = 0\n", "A", "1", "#A = 0\nA = 1\n"},
	    {"  A = 0\n", "A", "1", "  A = 0\nA = 1\n"},
	    {"B = 1", "A", "1", "B = 1\nA = 1\n"},
	    {"B = $A\n  A = 3\n", "A", "1", "B = $A\n  A = 3\nA = 1\n"},
	    {"X = 1\r\nA = 0\r\n", "A", "2", "X = 1\r\nA = 2\n"},
	};
	str out = STR_INIT;
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		cfedit_replace(cases[i].in, strlen(cases[i].in), cases[i].name, cases[i].value,
			       &out);
		if (strcmp(str_c(&out), cases[i].want) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, str_c(&out),
				 cases[i].want);
	}
	str_free(&out);
}

static void test_cfedit_set(void **state)
{
	char dir[PATH_MAX], path[PATH_MAX];
	str err = STR_INIT, text = STR_INIT;
	fresh_ml_dir(dir, sizeof dir, "cfedit");
	PATHF(path, "%s/config.cf", dir);
	/* a missing file is created */
	assert_int_equal(cfedit_set(path, "SUBJECT_TAG_TYPE", "[:]", &err), ST_OK);
	get(dir, "config.cf", &text);
	assert_string_equal(text.s, "SUBJECT_TAG_TYPE = [:]\n");
	/* the mode is kept */
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(cfedit_set(path, "SUBJECT_TAG_TYPE", "(:)", &err), ST_OK);
	assert_int_equal(mode_of(dir, "config.cf"), 0640);
	get(dir, "config.cf", &text);
	assert_string_equal(text.s, "SUBJECT_TAG_TYPE = (:)\n");
	/* refusals change nothing */
	assert_int_equal(cfedit_set(path, "A", "x\nB = 1", &err), ST_DATAERR);
	assert_int_equal(cfedit_set(path, "A", "x\tB", &err), ST_DATAERR);
	assert_int_equal(cfedit_set(path, "1A", "x", &err), ST_DATAERR);
	assert_int_equal(cfedit_set(path, "A-B", "x", &err), ST_DATAERR);
	assert_int_equal(cfedit_set(path, "", "x", &err), ST_DATAERR);
	get(dir, "config.cf", &text);
	assert_string_equal(text.s, "SUBJECT_TAG_TYPE = (:)\n");
	assert_int_equal(count_prefix(dir, ".config.cf.tmp"), 0);
	str_free(&err);
	str_free(&text);
}

/* ------------------------------------------------------------------ */

static void test_homecheck(void **state)
{
	char ml[PATH_MAX], home[PATH_MAX], path[PATH_MAX];
	str aliases = STR_INIT, err = STR_INIT, report = STR_INIT;
	fresh_ml_dir(ml, sizeof ml, "check");
	newml_args a = {ml, "elena", "example.org", "jane", skel, exec_dir, NULL};
	assert_int_equal(newml_create(&a, &aliases, &err), ST_OK);
	PATHF(home, "%s/elena", ml);
	config_args ca = {home, NULL, 0, NULL, 0, etc_dir, exec_dir};

	int n = homecheck_run(&ca, &report);
	if (n != 0)
		fail_msg("fresh list: got %d problems:\n%s\nwant 0", n, str_c(&report));

	static const struct {
		const char *file, *text; /* written before the check */
		mode_t mode;		 /* chmod'ed when not 0 */
		const char *want;	 /* a line of the report */
	} cases[] = {
	    {"members", "a@example.com\njunk\nb@example.com m=x\n", 0,
	     "problem: members:2: not an address\n"},
	    {"members", "a@example.com\njunk\nb@example.com m=x\n", 0,
	     "problem: members:3: bad option m=x\n"},
	    {"actives", "a@@example.com\n", 0, "problem: actives:1: bad address"},
	    {"actives", "a@example.com\n", 0666,
	     "problem: actives: mode 0666 is group or "
	     "world writable\n"},
	    {"etc/secret", "0123\n", 0644, "problem: etc/secret: mode 0644 lets others read it"},
	    {"config.cf", "MAIL_LIST = nonsense\n", 0, "problem: config: "},
	    {"seq", "12x\n", 0, "problem: seq: not a number\n"},
	    {"include", "\"|/nonexistent/fml /tmp\"\n", 0, "problem: include: /nonexistent/fml:"},
	    {"include", "\"|/nonexistent/fml /tmp\"\n", 0, "problem: include: runs fml on /tmp"},
	};
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		str saved = STR_INIT;
		PATHF(path, "%s/%s", home, cases[i].file);
		mode_t old = mode_of(home, cases[i].file);
		get(home, cases[i].file, &saved);
		put(home, cases[i].file, cases[i].text);
		if (cases[i].mode)
			assert_int_equal(chmod(path, cases[i].mode), 0);
		str_clear(&report);
		n = homecheck_run(&ca, &report);
		if (n == 0 || !strstr(str_c(&report), cases[i].want))
			fail_msg("case %zu: got %d problems:\n%s\nwant a line \"%s\"", i, n,
				 str_c(&report), cases[i].want);
		put(home, cases[i].file, saved.s ? saved.s : "");
		assert_int_equal(chmod(path, old), 0);
		str_free(&saved);
	}
	str_clear(&report);
	n = homecheck_run(&ca, &report);
	if (n != 0)
		fail_msg("restored list: got %d problems:\n%s\nwant 0", n, str_c(&report));

	/* a missing include file and a missing directory */
	PATHF(path, "%s/include-ctl", home);
	assert_int_equal(unlink(path), 0);
	PATHF(path, "%s/var/hold", home);
	assert_int_equal(rmdir(path), 0);
	str_clear(&report);
	n = homecheck_run(&ca, &report);
	assert_true(n >= 2);
	assert_non_null(strstr(report.s, "problem: include-ctl: "));
	assert_non_null(strstr(report.s, "problem: var/hold: "));
	str_free(&aliases);
	str_free(&err);
	str_free(&report);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_subst),	    cmocka_unit_test(test_create),
	    cmocka_unit_test(test_create_refusals), cmocka_unit_test(test_create_minimal),
	    cmocka_unit_test(test_destruct),	    cmocka_unit_test(test_cfedit_replace),
	    cmocka_unit_test(test_cfedit_set),	    cmocka_unit_test(test_homecheck),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
