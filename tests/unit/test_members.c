/*
 * Unit tests for lib/list/members.c: the line format, lookups (exact, fuzzy,
 * through the gdbm index and through the linear scan), every edit and its
 * refusals, byte-for-byte preservation of untouched lines, and the index
 * rebuild cases (stale stamp, corrupt file, unusable var/db) on a
 * 100,000-member list.  Tables of cases; a failing case prints
 * "got X, want Y".
 */
#include "unit.h"

#include "list/members.h"
#include "util/msg.h"
#include "util/safefile.h"
#include "util/str.h"
#include "util/fs.h"
#include "list/membersedit.h"
#include "list/membersdb.h"
#include "list/membersjournal.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdint.h>
#include <limits.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char root[PATH_MAX];

static int setup(void **state)
{
	if (unit_tmpdir(root, sizeof root, "members") < 0)
		return -1;
	msg_set_stderr(0);
	return 0;
}

static int teardown(void **state)
{
	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* A fresh list home ROOT/NAME with var/db. */
static void fresh_home(char *dir, size_t size, const char *name)
{
	char db[PATH_MAX];
	int n = snprintf(dir, size, "%s/%s", root, name);
	assert_true(n > 0 && (size_t)n < size);
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	PATHF(db, "%s/var/db", dir);
	assert_int_equal(fs_mkdirs(db, 0700), ST_OK);
}

static void write_file(const char *dir, const char *file, const char *text)
{
	char path[PATH_MAX];
	PATHF(path, "%s/%s", dir, file);
	assert_int_equal(safefile_replace(path, text, strlen(text), 0), ST_OK);
}

static void read_file(const char *dir, const char *file, str *out)
{
	char path[PATH_MAX];
	PATHF(path, "%s/%s", dir, file);
	fml_status st = fs_read(path, out, 0);
	assert_true(st == ST_OK || st == ST_NOINPUT);
}

/* Set the mtime of DIR/FILE SECS seconds in the past (plus NSEC), so that
 * the index stamp is not "racy". */
static void backdate(const char *dir, const char *file, long secs, long nsec)
{
	char path[PATH_MAX];
	struct timespec ts[2];
	PATHF(path, "%s/%s", dir, file);
	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec -= secs;
	ts[0].tv_nsec = nsec;
	ts[1] = ts[0];
	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static ino_t db_ino(const char *dir, const char *file)
{
	char path[PATH_MAX];
	struct stat st;
	PATHF(path, "%s/var/db/%s.db", dir, file);
	if (stat(path, &st) < 0)
		return 0;
	return st.st_ino;
}

/* ------------------------------------------------------------------ */
/* line parsing                                                        */

static void test_parse_lines(void **state)
{
	static const struct {
		const char *line;
		int ret, plus;
		const char *addr, *opts, *comment;
		int off, bye, skip, digest;
		const char *mode;
	} cases[] = {
	    {"user@example.com", 1, 0, "user@example.com", "", "", 0, 0, 0, 0, ""},
	    {"user@example.com\n", 1, 0, "user@example.com", "", "", 0, 0, 0, 0, ""},
	    {"user@example.com\r\n", 1, 0, "user@example.com", "", "", 0, 0, 0, 0, ""},
	    {"User@Example.COM", 1, 0, "User@Example.COM", "", "", 0, 0, 0, 0, ""},
	    {"  user@example.com \t m=3  ", 1, 0, "user@example.com", "m=3", "", 0, 0, 0, 3, ""},
	    {"user@example.com m=3mp", 1, 0, "user@example.com", "m=3mp", "", 0, 0, 0, 3, "mp"},
	    {"user@example.com m=17rfc1153", 1, 0, "user@example.com", "m=17rfc1153", "", 0, 0, 0,
	     17, "rfc1153"},
	    {"user@example.com s=skip", 1, 0, "user@example.com", "s=skip", "", 0, 0, 1, 0, ""},
	    {"user@example.com skip", 1, 0, "user@example.com", "skip", "", 0, 0, 1, 0, ""},
	    {"user@example.com matome 3", 1, 0, "user@example.com", "matome 3", "", 0, 0, 0, 3, ""},
	    {"user@example.com matome 6u", 1, 0, "user@example.com", "matome 6u", "", 0, 0, 0, 6,
	     "u"},
	    {"user@example.com r=relay.example.net", 1, 0, "user@example.com",
	     "r=relay.example.net", "", 0, 0, 0, 0, ""},
	    {"user@example.com m=3 s=skip # Jane Doe", 1, 0, "user@example.com", "m=3 s=skip",
	     "Jane Doe", 0, 0, 1, 3, ""},
	    {"user@example.com # only a comment", 1, 0, "user@example.com", "", "only a comment", 0,
	     0, 0, 0, ""},
	    {"user@example.com unknown-opt", 1, 0, "user@example.com", "unknown-opt", "", 0, 0, 0,
	     0, ""},
	    {"#\tuser@example.com m=2", 1, 0, "user@example.com", "m=2", "", 1, 0, 0, 2, ""},
	    {"# user@example.com", 1, 0, "user@example.com", "", "", 1, 0, 0, 0, ""},
	    {"# \t  user@example.com s=skip # away", 1, 0, "user@example.com", "s=skip", "away", 1,
	     0, 1, 0, ""},
	    {"#user@example.com", 1, 0, "user@example.com", "", "", 1, 0, 0, 0, ""},
	    {"##BYE user@example.com", 1, 0, "user@example.com", "", "", 0, 1, 0, 0, ""},
	    {"##bye   user@example.com # moved", 1, 0, "user@example.com", "", "moved", 0, 1, 0, 0,
	     ""},
	    {"##BYEuser@example.com", 0, 0, "", "", "", 0, 0, 0, 0, ""},
	    {"## user@example.com", 0, 0, "", "", "", 0, 0, 0, 0, ""},
	    {"# a comment line", 0, 0, "", "", "", 0, 0, 0, 0, ""},
	    {"# contact the owner for help", 0, 0, "", "", "", 0, 0, 0, 0, ""},
	    {"#.FML HEADER", 0, 0, "", "", "", 0, 0, 0, 0, ""},
	    {"#", 0, 0, "", "", "", 0, 0, 0, 0, ""},
	    {"", 0, 0, "", "", "", 0, 0, 0, 0, ""},
	    {" \t \n", 0, 0, "", "", "", 0, 0, 0, 0, ""},
	    {"+", 0, 1, "", "", "", 0, 0, 0, 0, ""},
	    {"+\n", 0, 1, "", "", "", 0, 0, 0, 0, ""},
	    {"+ # anyone may post", 0, 1, "", "", "", 0, 0, 0, 0, ""},
	    {"+tag@example.com", 1, 0, "+tag@example.com", "", "", 0, 0, 0, 0, ""},
	    {"+ junk", 0, 0, "", "", "", 0, 0, 0, 0, ""},
	    {"nonsense", 0, 0, "", "", "", 0, 0, 0, 0, ""},
	    {"nonsense m=3", 0, 0, "", "", "", 0, 0, 0, 0, ""},
	};
	member_entry e;
	members_entry_init(&e);
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		int plus = -1;
		int ret = members_parse_line(cases[i].line, strlen(cases[i].line), &e, &plus, NULL);
		const char *addr = ret ? str_c(&e.addr) : "";
		const char *opts = ret ? str_c(&e.opts) : "";
		const char *comment = ret ? str_c(&e.comment) : "";
		int off = ret ? e.off : 0, bye = ret ? e.bye : 0, skip = ret ? e.skip : 0;
		int digest = ret ? e.digest : 0;
		const char *mode = ret ? e.digest_mode : "";
		if (ret != cases[i].ret || plus != cases[i].plus || strcmp(addr, cases[i].addr) ||
		    strcmp(opts, cases[i].opts) || strcmp(comment, cases[i].comment) ||
		    off != cases[i].off || bye != cases[i].bye || skip != cases[i].skip ||
		    digest != cases[i].digest || strcmp(mode, cases[i].mode))
			fail_msg(
			    "line %zu \"%s\": got ret=%d plus=%d addr=\"%s\" opts=\"%s\" "
			    "comment=\"%s\" off=%d bye=%d skip=%d digest=%d mode=\"%s\", "
			    "want ret=%d plus=%d addr=\"%s\" opts=\"%s\" comment=\"%s\" off=%d "
			    "bye=%d skip=%d digest=%d mode=\"%s\"",
			    i, cases[i].line, ret, plus, addr, opts, comment, off, bye, skip,
			    digest, mode, cases[i].ret, cases[i].plus, cases[i].addr, cases[i].opts,
			    cases[i].comment, cases[i].off, cases[i].bye, cases[i].skip,
			    cases[i].digest, cases[i].mode);
	}
	members_entry_free(&e);
}

static void test_line_problems(void **state)
{
	static const struct {
		const char *line;
		const char *want; /* prefix of the reason, NULL when fine */
	} cases[] = {
	    {"user@example.com", NULL},
	    {"user@example.com m=3mp s=skip # Jane", NULL},
	    {"#\tuser@example.com m=3", NULL},
	    {"##BYE user@example.com", NULL},
	    {"# a comment", NULL},
	    {"+", NULL},
	    {"", NULL},
	    {"user@example.com matome 3", NULL},
	    {"user@example.com r=relay.example.net", NULL},
	    {"user@example.com relay.example.net", NULL},
	    {"nonsense", "not an address"},
	    {"+ junk", "not an address"},
	    {"user@@example.com", "bad address"},
	    {"user@localhost", "bad address"},
	    {"-user@example.com", "bad address"},
	    {"user@example.com m=x", "bad option m=x"},
	    {"user@example.com m=3zz", "bad option m=3zz"},
	    {"user@example.com m=123", "bad option m=123"},
	    {"user@example.com matome", "bad option matome"},
	    {"user@example.com frobnicate", "unknown option frobnicate"},
	    {"user@example.com r=", "bad option r="},
	    {"user\001x@example.com", "not an address"},
	    {"user@example.com # bell\007", "control character"},
	};
	str why = STR_INIT;
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		int bad = members_line_problem(cases[i].line, strlen(cases[i].line), &why);
		int ok = cases[i].want
			     ? bad && strncmp(why.s, cases[i].want, strlen(cases[i].want)) == 0
			     : !bad;
		if (!ok)
			fail_msg("line \"%s\": got %d \"%s\", want \"%s\"", cases[i].line, bad,
				 str_c(&why), cases[i].want ? cases[i].want : "(fine)");
	}
	str_free(&why);
}

/* ------------------------------------------------------------------ */
/* lookups                                                             */

static const char lookup_file[] = "# members of the test list\n"
				  "alice@example.com\n"
				  "Bob@Example.ORG m=3\n"
				  "#\tcarol@example.net\n"
				  "##BYE dave@example.com\n"
				  "erin@a.example.co.jp s=skip # Erin\n"
				  "frank@mail.example.com\n"
				  "not-an-address\n";

static const struct {
	const char *addr;
	int fuzzy;
	int want;
} lookup_cases[] = {
    {"alice@example.com", 0, 1},
    {"alice@EXAMPLE.COM", 0, 1}, /* the domain is case-insensitive */
    {"Alice@example.com", 0, 0}, /* the local part is exact */
    {"Alice@example.com", 3, 1}, /* ... but not in fml's fuzzy match */
    {"alice@example.org", 3, 0},
    {"bob@example.org", 0, 0},
    {"Bob@example.org", 0, 1},
    {"BOB@EXAMPLE.ORG", 3, 1},
    {"carol@example.net", 0, 1}, /* off members may post */
    {"dave@example.com", 0, 0},	 /* ##BYE is not a member */
    {"dave@example.com", 3, 0},
    {"erin@a.example.co.jp", 0, 1},
    {"erin@b.example.co.jp", 0, 0},
    {"erin@b.example.co.jp", 3, 1}, /* last 3 labels equal */
    {"erin@b.example.co.jp", 4, 0},
    {"erin@example.co.jp", 3, 1},
    {"erin@co.jp", 3, 0},
    {"frank@example.com", 3, 0}, /* mail.example.com vs example.com */
    {"frank@example.com", 2, 1},
    {"frank@other.example.com", 2, 1},
    {"frank@other.example.com", 3, 0},
    {"not-an-address", 0, 0},
    {"nobody@example.com", 0, 0},
    {"", 0, 0},
};

static void run_lookup_table(const char *dir, const char *what)
{
	for (size_t i = 0; i < N_ELEMS(lookup_cases); i++) {
		int found = -1;
		fml_status st = membersdb_lookup(dir, "members", lookup_cases[i].addr,
						 lookup_cases[i].fuzzy, &found);
		if (st != ST_OK || found != lookup_cases[i].want)
			fail_msg("%s: lookup \"%s\" N=%d: got st=%d found=%d, want st=0 found=%d",
				 what, lookup_cases[i].addr, lookup_cases[i].fuzzy, st, found,
				 lookup_cases[i].want);
	}
}

static void test_lookup_index(void **state)
{
	char dir[PATH_MAX];
	fresh_home(dir, sizeof dir, "lookup");
	write_file(dir, "members", lookup_file);
	backdate(dir, "members", 100, 0);
	run_lookup_table(dir, "index");
	assert_true(db_ino(dir, "members") != 0);
	/* once more, now from a stamped index */
	run_lookup_table(dir, "index, second pass");
}

static void test_lookup_linear(void **state)
{
	char dir[PATH_MAX], db[PATH_MAX];
	fresh_home(dir, sizeof dir, "linear");
	write_file(dir, "members", lookup_file);
	backdate(dir, "members", 100, 0);
	/* var/db is a plain file: no index can be opened or built */
	PATHF(db, "%s/var/db", dir);
	assert_int_equal(rmdir(db), 0);
	write_file(dir, "var/db", "not a directory\n");
	run_lookup_table(dir, "linear scan");
}

static void test_lookup_plus_and_missing(void **state)
{
	char dir[PATH_MAX];
	int found = -1;
	fresh_home(dir, sizeof dir, "plus");
	assert_int_equal(membersdb_lookup(dir, "members", "a@example.com", 0, &found), ST_OK);
	assert_int_equal(found, 0); /* a missing file is an empty list */
	write_file(dir, "members", "# anyone\nx@example.com\n+\n");
	backdate(dir, "members", 100, 0);
	assert_int_equal(membersdb_lookup(dir, "members", "a@example.com", 0, &found), ST_OK);
	assert_int_equal(found, 1);
	assert_int_equal(membersdb_lookup(dir, "members", "b@example.org", 3, &found), ST_OK);
	assert_int_equal(found, 1);
	/* a bad file name is refused, never turned into a path */
	assert_int_not_equal(membersdb_lookup(dir, "../members", "a@example.com", 0, &found),
			     ST_OK);
	assert_int_not_equal(membersdb_lookup(dir, ".hidden", "a@example.com", 0, &found), ST_OK);
}

static int count_off(const member_entry *e, void *arg)
{
	if (e->off)
		++*(int *)arg;
	return 0;
}

static void test_count_and_foreach(void **state)
{
	char dir[PATH_MAX], path[PATH_MAX];
	long n = -1;
	int off = 0;
	fresh_home(dir, sizeof dir, "count");
	write_file(dir, "members", lookup_file);
	PATHF(path, "%s/members", dir);
	assert_int_equal(members_count(path, &n), ST_OK);
	assert_int_equal(n, 5); /* alice, Bob, carol (off), erin, frank */
	assert_int_equal(members_foreach(path, count_off, &off), ST_OK);
	assert_int_equal(off, 1);
	PATHF(path, "%s/nothing", dir);
	assert_int_equal(members_count(path, &n), ST_OK);
	assert_int_equal(n, 0);
}

/* ------------------------------------------------------------------ */
/* edits                                                               */

static const char edit_file[] = "# members\n"
				"alice@example.com m=3 # Alice A.\n"
				"#\tcarol@example.net\n"
				"##BYE dave@example.com\n"
				"erin@a.example.co.jp skip\n"
				"frank@example.org   matome 3   r=relay.example.net\n";

static void test_edits(void **state)
{
	static const struct {
		const char *before; /* NULL: no file */
		membersedit_op op;
		const char *addr, *arg;
		int fuzzy;
		fml_status want_st;
		const char *want; /* the file afterwards, or the reason */
	} cases[] = {
	    /* add */
	    {NULL, MEM_ADD, "new@example.com", NULL, 0, ST_OK, "new@example.com\n"},
	    {"", MEM_ADD, "new@example.com", "m=3mp", 0, ST_OK, "new@example.com m=3mp\n"},
	    {"a@example.com", MEM_ADD, "new@example.com", NULL, 0, ST_OK,
	     "a@example.com\nnew@example.com\n"},
	    {edit_file, MEM_ADD, "alice@example.com", NULL, 0, ST_DATAERR, "already a member"},
	    {edit_file, MEM_ADD, "alice@EXAMPLE.com", NULL, 0, ST_DATAERR, "already a member"},
	    {edit_file, MEM_ADD, "carol@example.net", NULL, 0, ST_DATAERR, "already a member"},
	    {edit_file, MEM_ADD, "erin@b.example.co.jp", NULL, 3, ST_DATAERR, "already a member"},
	    {edit_file, MEM_ADD, "not-an-address", NULL, 0, ST_DATAERR, "bad address"},
	    {edit_file, MEM_ADD, "a@localhost", NULL, 0, ST_DATAERR, "bad address"},
	    {edit_file, MEM_ADD, "x@example.com", "m=x", 0, ST_DATAERR, "bad option m=x"},
	    {edit_file, MEM_ADD, "x@example.com", "s=skip\nevil@example.com", 0, ST_DATAERR,
	     "bad options"},
	    {edit_file, MEM_ADD, "dave@example.com", "s=skip", 0, ST_OK,
	     "# members\n"
	     "alice@example.com m=3 # Alice A.\n"
	     "#\tcarol@example.net\n"
	     "dave@example.com s=skip\n"
	     "erin@a.example.co.jp skip\n"
	     "frank@example.org   matome 3   r=relay.example.net\n"},
	    /* bye */
	    {edit_file, MEM_BYE, "alice@example.com", NULL, 0, ST_OK,
	     "# members\n"
	     "##BYE alice@example.com # Alice A.\n"
	     "#\tcarol@example.net\n"
	     "##BYE dave@example.com\n"
	     "erin@a.example.co.jp skip\n"
	     "frank@example.org   matome 3   r=relay.example.net\n"},
	    {edit_file, MEM_BYE, "carol@EXAMPLE.NET", NULL, 0, ST_OK,
	     "# members\n"
	     "alice@example.com m=3 # Alice A.\n"
	     "##BYE carol@example.net\n"
	     "##BYE dave@example.com\n"
	     "erin@a.example.co.jp skip\n"
	     "frank@example.org   matome 3   r=relay.example.net\n"},
	    {edit_file, MEM_BYE, "erin@b.example.co.jp", NULL, 3, ST_OK,
	     "# members\n"
	     "alice@example.com m=3 # Alice A.\n"
	     "#\tcarol@example.net\n"
	     "##BYE dave@example.com\n"
	     "##BYE erin@a.example.co.jp\n"
	     "frank@example.org   matome 3   r=relay.example.net\n"},
	    {edit_file, MEM_BYE, "erin@b.example.co.jp", NULL, 0, ST_DATAERR, "not a member"},
	    {edit_file, MEM_BYE, "Alice@example.com", NULL, 0, ST_DATAERR, "not a member"},
	    {edit_file, MEM_BYE, "dave@example.com", NULL, 0, ST_DATAERR, "not a member"},
	    {NULL, MEM_BYE, "dave@example.com", NULL, 0, ST_DATAERR, "not a member"},
	    /* off / on */
	    {edit_file, MEM_OFF, "alice@example.com", NULL, 0, ST_OK,
	     "# members\n"
	     "#\talice@example.com m=3 # Alice A.\n"
	     "#\tcarol@example.net\n"
	     "##BYE dave@example.com\n"
	     "erin@a.example.co.jp skip\n"
	     "frank@example.org   matome 3   r=relay.example.net\n"},
	    {edit_file, MEM_OFF, "carol@example.net", NULL, 0, ST_DATAERR, "already off"},
	    {edit_file, MEM_OFF, "nobody@example.net", NULL, 0, ST_DATAERR, "not a member"},
	    {edit_file, MEM_ON, "carol@example.net", NULL, 0, ST_OK,
	     "# members\n"
	     "alice@example.com m=3 # Alice A.\n"
	     "carol@example.net\n"
	     "##BYE dave@example.com\n"
	     "erin@a.example.co.jp skip\n"
	     "frank@example.org   matome 3   r=relay.example.net\n"},
	    {"#  carol@example.net s=skip\n", MEM_ON, "carol@example.net", NULL, 0, ST_OK,
	     "carol@example.net s=skip\n"},
	    {edit_file, MEM_ON, "alice@example.com", NULL, 0, ST_DATAERR, "not off"},
	    /* skip / noskip */
	    {edit_file, MEM_SKIP, "alice@example.com", NULL, 0, ST_OK,
	     "# members\n"
	     "alice@example.com m=3 s=skip # Alice A.\n"
	     "#\tcarol@example.net\n"
	     "##BYE dave@example.com\n"
	     "erin@a.example.co.jp skip\n"
	     "frank@example.org   matome 3   r=relay.example.net\n"},
	    {edit_file, MEM_SKIP, "erin@a.example.co.jp", NULL, 0, ST_DATAERR, "already skip"},
	    {edit_file, MEM_NOSKIP, "erin@a.example.co.jp", NULL, 0, ST_OK,
	     "# members\n"
	     "alice@example.com m=3 # Alice A.\n"
	     "#\tcarol@example.net\n"
	     "##BYE dave@example.com\n"
	     "erin@a.example.co.jp\n"
	     "frank@example.org   matome 3   r=relay.example.net\n"},
	    {"a@example.com s=skip m=2 skip\n", MEM_NOSKIP, "a@example.com", NULL, 0, ST_OK,
	     "a@example.com m=2\n"},
	    {edit_file, MEM_NOSKIP, "alice@example.com", NULL, 0, ST_DATAERR, "not skip"},
	    /* digest */
	    {edit_file, MEM_DIGEST, "alice@example.com", "6mp", 0, ST_OK,
	     "# members\n"
	     "alice@example.com m=6mp # Alice A.\n"
	     "#\tcarol@example.net\n"
	     "##BYE dave@example.com\n"
	     "erin@a.example.co.jp skip\n"
	     "frank@example.org   matome 3   r=relay.example.net\n"},
	    {edit_file, MEM_DIGEST, "alice@example.com", "0", 0, ST_OK,
	     "# members\n"
	     "alice@example.com # Alice A.\n"
	     "#\tcarol@example.net\n"
	     "##BYE dave@example.com\n"
	     "erin@a.example.co.jp skip\n"
	     "frank@example.org   matome 3   r=relay.example.net\n"},
	    {edit_file, MEM_DIGEST, "frank@example.org", "12", 0, ST_OK,
	     "# members\n"
	     "alice@example.com m=3 # Alice A.\n"
	     "#\tcarol@example.net\n"
	     "##BYE dave@example.com\n"
	     "erin@a.example.co.jp skip\n"
	     "frank@example.org r=relay.example.net m=12\n"},
	    {edit_file, MEM_DIGEST, "alice@example.com", "x", 0, ST_DATAERR, "bad digest"},
	    {edit_file, MEM_DIGEST, "alice@example.com", "3zz", 0, ST_DATAERR, "bad digest"},
	    {edit_file, MEM_DIGEST, "alice@example.com", NULL, 0, ST_DATAERR, "bad digest"},
	    /* chaddr */
	    {edit_file, MEM_CHADDR, "alice@example.com", "alice@example.org", 0, ST_OK,
	     "# members\n"
	     "alice@example.org m=3 # Alice A.\n"
	     "#\tcarol@example.net\n"
	     "##BYE dave@example.com\n"
	     "erin@a.example.co.jp skip\n"
	     "frank@example.org   matome 3   r=relay.example.net\n"},
	    {edit_file, MEM_CHADDR, "carol@example.net", "carol@example.com", 0, ST_OK,
	     "# members\n"
	     "alice@example.com m=3 # Alice A.\n"
	     "#\tcarol@example.com\n"
	     "##BYE dave@example.com\n"
	     "erin@a.example.co.jp skip\n"
	     "frank@example.org   matome 3   r=relay.example.net\n"},
	    {edit_file, MEM_CHADDR, "alice@example.com", "carol@example.net", 0, ST_DATAERR,
	     "the new address is already a member"},
	    {edit_file, MEM_CHADDR, "alice@example.com", "bad address", 0, ST_DATAERR,
	     "bad new address"},
	    {edit_file, MEM_CHADDR, "alice@example.com", NULL, 0, ST_DATAERR,
	     "new address missing"},
	    {edit_file, MEM_CHADDR, "nobody@example.com", "x@example.com", 0, ST_DATAERR,
	     "not a member"},
	    /* fuzzy edits narrow down as fml4 does: N+1 while ambiguous */
	    {"u@a.example.co.jp\nu@b.example.co.jp\n", MEM_BYE, "u@a.example.co.jp", NULL, 3, ST_OK,
	     "##BYE u@a.example.co.jp\nu@b.example.co.jp\n"},
	    {"u@a.example.co.jp\nu@b.example.co.jp\n", MEM_BYE, "u@c.example.co.jp", NULL, 3,
	     ST_DATAERR, "not a member"},
	    /* duplicates of one address are all changed */
	    {"a@example.com\n#\ta@example.com\n", MEM_BYE, "a@example.com", NULL, 0, ST_OK,
	     "##BYE a@example.com\n##BYE a@example.com\n"},
	    /* bad input never reaches the file */
	    {edit_file, MEM_BYE, "a@example.com\nb@example.com", NULL, 0, ST_DATAERR,
	     "bad address"},
	};
	char dir[PATH_MAX];
	str got = STR_INIT, err = STR_INIT;
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		fresh_home(dir, sizeof dir, "edit");
		if (cases[i].before)
			write_file(dir, "members", cases[i].before);
		fml_status st = membersedit_apply(dir, "members", cases[i].op, cases[i].addr,
						  cases[i].arg, cases[i].fuzzy, &err);
		read_file(dir, "members", &got);
		if (st != cases[i].want_st)
			fail_msg("case %zu (op %d %s): got status %d \"%s\", want %d", i,
				 cases[i].op, cases[i].addr, st, str_c(&err), cases[i].want_st);
		if (st == ST_OK && strcmp(str_c(&got), cases[i].want) != 0)
			fail_msg("case %zu (op %d %s): got file\n%s\nwant\n%s", i, cases[i].op,
				 cases[i].addr, str_c(&got), cases[i].want);
		if (st != ST_OK) {
			if (strncmp(str_c(&err), cases[i].want, strlen(cases[i].want)) != 0)
				fail_msg("case %zu: got reason \"%s\", want \"%s\"", i, str_c(&err),
					 cases[i].want);
			const char *before = cases[i].before ? cases[i].before : "";
			if (strcmp(str_c(&got), before) != 0)
				fail_msg("case %zu: refused edit changed the file:\n%s", i,
					 str_c(&got));
		}
	}
	str_free(&got);
	str_free(&err);
}

/* Every line but the one edited keeps its bytes: comments, odd spacing,
 * unknown options, CRLF endings, a last line without newline. */
static void test_edit_preserves_bytes(void **state)
{
	static const char before[] = "#.FML HEADER\n"
				     "# NEW FORMAT FOR FURTHER EXTENSION\n"
				     "#.endFML HEADER\n"
				     "\n"
				     "   spaced@example.com\t\tm=3   # odd  spacing  \n"
				     "crlf@example.com s=skip\r\n"
				     "target@example.com\n"
				     "x@example.com futureopt=1 # keep me\n"
				     "#\t\toff@example.com\n"
				     "##BYE gone@example.com  trailing\n"
				     "last@example.com";
	static const char after[] = "#.FML HEADER\n"
				    "# NEW FORMAT FOR FURTHER EXTENSION\n"
				    "#.endFML HEADER\n"
				    "\n"
				    "   spaced@example.com\t\tm=3   # odd  spacing  \n"
				    "crlf@example.com s=skip\r\n"
				    "#\ttarget@example.com\n"
				    "x@example.com futureopt=1 # keep me\n"
				    "#\t\toff@example.com\n"
				    "##BYE gone@example.com  trailing\n"
				    "last@example.com\n"
				    "new@example.com\n";
	char dir[PATH_MAX], path[PATH_MAX];
	str got = STR_INIT, err = STR_INIT;
	struct stat st;
	fresh_home(dir, sizeof dir, "preserve");
	write_file(dir, "members", before);
	PATHF(path, "%s/members", dir);
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(
	    membersedit_apply(dir, "members", MEM_OFF, "target@example.com", NULL, 0, &err), ST_OK);
	assert_int_equal(
	    membersedit_apply(dir, "members", MEM_ADD, "new@example.com", NULL, 0, &err), ST_OK);
	read_file(dir, "members", &got);
	if (strcmp(got.s, after) != 0)
		fail_msg("got\n%s\nwant\n%s", got.s, after);
	/* the CRLF line keeps its CR when it is the one edited */
	assert_int_equal(
	    membersedit_apply(dir, "members", MEM_NOSKIP, "crlf@example.com", NULL, 0, &err),
	    ST_OK);
	read_file(dir, "members", &got);
	assert_non_null(strstr(got.s, "\ncrlf@example.com\r\n#\ttarget"));
	/* mode kept, no temp file left */
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	DIR *d = opendir(dir);
	struct dirent *de;
	assert_non_null(d);
	while ((de = readdir(d)))
		if (strstr(de->d_name, ".tmp"))
			fail_msg("temp file left: %s", de->d_name);
	closedir(d);
	str_free(&got);
	str_free(&err);
}

/* An edit is seen by the next lookup (the index follows the file). */
static void test_edit_then_lookup(void **state)
{
	char dir[PATH_MAX];
	str err = STR_INIT;
	int found = -1;
	fresh_home(dir, sizeof dir, "editlookup");
	write_file(dir, "members", "a@example.com\n");
	backdate(dir, "members", 100, 0);
	assert_int_equal(membersdb_lookup(dir, "members", "b@example.com", 0, &found), ST_OK);
	assert_int_equal(found, 0);
	assert_int_equal(membersedit_apply(dir, "members", MEM_ADD, "b@example.com", NULL, 0, &err),
			 ST_OK);
	assert_int_equal(membersdb_lookup(dir, "members", "b@example.com", 0, &found), ST_OK);
	assert_int_equal(found, 1);
	assert_int_equal(membersedit_apply(dir, "members", MEM_BYE, "a@example.com", NULL, 0, &err),
			 ST_OK);
	assert_int_equal(membersdb_lookup(dir, "members", "a@example.com", 0, &found), ST_OK);
	assert_int_equal(found, 0);
	str_free(&err);
}

/* ------------------------------------------------------------------ */
/* the index at 100,000 members                                        */

#define BIG 100000

static void make_big(const char *dir)
{
	char path[PATH_MAX];
	PATHF(path, "%s/members", dir);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fprintf(fp, "# a big list\n");
	for (int i = 0; i < BIG; i++)
		fprintf(fp, "%suser%d@Host%d.example.com%s\n", i % 97 == 0 ? "#\t" : "", i, i % 500,
			i % 10 == 0 ? " m=3" : "");
	assert_int_equal(fclose(fp), 0);
	backdate(dir, "members", 1000, 0);
}

static void expect(const char *dir, const char *addr, int fuzzy, int want, const char *when)
{
	int found = -1;
	fml_status st = membersdb_lookup(dir, "members", addr, fuzzy, &found);
	if (st != ST_OK || found != want)
		fail_msg("%s: lookup %s N=%d: got st=%d found=%d, want found=%d", when, addr, fuzzy,
			 st, found, want);
}

static void big_checks(const char *dir, const char *when)
{
	expect(dir, "user77777@host277.example.com", 0, 1, when);
	expect(dir, "user0@HOST0.EXAMPLE.COM", 0, 1, when);
	expect(dir, "user97@host97.example.com", 0, 1, when); /* an off line */
	expect(dir, "User77777@host277.example.com", 0, 0, when);
	expect(dir, "user77777@host278.example.com", 0, 0, when);
	expect(dir, "user100000@host0.example.com", 0, 0, when);
}

static void test_index_big(void **state)
{
	char dir[PATH_MAX], path[PATH_MAX];
	fresh_home(dir, sizeof dir, "big");
	make_big(dir);

	/* first lookup builds the index */
	big_checks(dir, "first build");
	ino_t ino1 = db_ino(dir, "members");
	assert_true(ino1 != 0);

	/* unchanged file: the index is used as is */
	big_checks(dir, "stamped index");
	assert_true(db_ino(dir, "members") == ino1);

	/* an append (same inode, new size and mtime) triggers a rebuild */
	PATHF(path, "%s/members", dir);
	FILE *fp = fopen(path, "a");
	assert_non_null(fp);
	fprintf(fp, "late@example.net\n");
	assert_int_equal(fclose(fp), 0);
	backdate(dir, "members", 900, 0);
	expect(dir, "late@example.net", 0, 1, "after append");
	ino_t ino2 = db_ino(dir, "members");
	assert_true(ino2 != 0 && ino2 != ino1);
	big_checks(dir, "after append");

	/* same size, new mtime (an in-place edit): rebuild too */
	int fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	off_t end = lseek(fd, 0, SEEK_END);
	assert_int_equal(pwrite(fd, "LATE", 4, end - 17), 4); /* "LATE@example.net" */
	close(fd);
	backdate(dir, "members", 800, 0);
	expect(dir, "late@example.net", 0, 0, "after in-place edit");
	expect(dir, "LATE@example.net", 0, 1, "after in-place edit");
	assert_true(db_ino(dir, "members") != ino2);

	/* a different fuzzy N rebuilds with that N */
	expect(dir, "USER77777@mail.host277.example.com", 3, 1, "fuzzy 3");
	expect(dir, "USER77777@mail.host277.example.com", 0, 0, "exact again");
}

static void test_index_corrupt(void **state)
{
	char dir[PATH_MAX], db[PATH_MAX];
	fresh_home(dir, sizeof dir, "corrupt");
	make_big(dir);
	big_checks(dir, "build");
	PATHF(db, "%s/var/db/members.db", dir);

	/* garbage bytes in place of the index */
	char junk[8192];
	for (size_t i = 0; i < sizeof junk; i++)
		junk[i] = (char)(i * 131 + 7);
	assert_int_equal(safefile_replace(db, junk, sizeof junk, 0), ST_OK);
	ino_t bad = db_ino(dir, "members");
	big_checks(dir, "garbage index");
	assert_true(db_ino(dir, "members") != bad); /* rebuilt */

	/* a truncated index */
	assert_int_equal(truncate(db, 1000), 0);
	big_checks(dir, "truncated index");

	/* an empty index file */
	assert_int_equal(truncate(db, 0), 0);
	big_checks(dir, "empty index");

	/* an index that cannot be rebuilt (var/db read-only): the scan still
	 * answers; skipped as root, who may write anyway */
	if (geteuid() != 0) {
		char dbdir[PATH_MAX];
		PATHF(dbdir, "%s/var/db", dir);
		assert_int_equal(truncate(db, 10), 0);
		assert_int_equal(chmod(dbdir, 0500), 0);
		big_checks(dir, "read-only var/db");
		assert_int_equal(chmod(dbdir, 0700), 0);
	}

	/* a stale index whose stamp matches another file: a copy from
	 * elsewhere is detected by the inode and device */
	big_checks(dir, "final");
}

/* The stamp is exact: a fresh index is used as it is, however recent the
 * file, and a hand edit is seen even when it keeps the size and puts the
 * mtime back (the ctime still moves). */
static void test_index_exact_stamp(void **state)
{
	char dir[PATH_MAX], path[PATH_MAX];
	struct stat st;
	fresh_home(dir, sizeof dir, "exact");
	write_file(dir, "members", "a@example.com\n");
	expect(dir, "a@example.com", 0, 1, "build");
	ino_t i1 = db_ino(dir, "members");
	expect(dir, "a@example.com", 0, 1, "fresh at once");
	assert_true(i1 != 0 && db_ino(dir, "members") == i1);
	assert_true(membersdb_fresh(dir, "members", 0));
	/* same size, same mtime, in place */
	PATHF(path, "%s/members", dir);
	assert_int_equal(stat(path, &st), 0);
	int fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "b", 1, 0), 1);
	close(fd);
	struct timespec ts[2] = {st.st_atim, st.st_mtim};
	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
	assert_false(membersdb_fresh(dir, "members", 0));
	expect(dir, "a@example.com", 0, 0, "hand edit");
	expect(dir, "b@example.com", 0, 1, "hand edit");
	assert_true(membersdb_fresh(dir, "members", 0));
	assert_int_equal(membersdb_reindex(dir, "members", 0), ST_OK);
	assert_true(membersdb_fresh(dir, "members", 0));
}

/* Edits keep the index equal to a fresh rebuild: after each step of a
 * sequence of adds, byes, option changes and chaddrs, every address ever
 * seen is looked up through the updated index (which must still be fresh:
 * no rebuild) and then through a rebuilt one; both must agree. */
static void test_index_follows_edits(void **state)
{
	static const struct {
		membersedit_op op;
		const char *addr, *arg;
		fml_status want;
	} steps[] = {
	    {MEM_ADD, "new1@example.com", NULL, ST_OK},
	    {MEM_ADD, "new2@Example.COM", "s=skip", ST_OK},
	    {MEM_ADD, "new1@example.com", NULL, ST_DATAERR}, /* through the index */
	    {MEM_ADD, "NEW2@example.com", NULL, ST_OK},	     /* local part is exact */
	    {MEM_BYE, "a@example.com", NULL, ST_OK},
	    {MEM_ADD, "a@example.com", "m=3", ST_OK}, /* replaces its ##BYE line */
	    {MEM_OFF, "b@example.com", NULL, ST_OK},
	    {MEM_SKIP, "new1@example.com", NULL, ST_OK},
	    {MEM_DIGEST, "b@example.com", "6mp", ST_OK},
	    {MEM_CHADDR, "new1@example.com", "moved@example.org", ST_OK},
	    {MEM_BYE, "dup@example.com", NULL, ST_OK}, /* two lines */
	    {MEM_BYE, "nobody@example.com", NULL, ST_DATAERR},
	    {MEM_ADD, "last@example.net", NULL, ST_OK},
	};
	static const char *const seen[] = {
	    "a@example.com",	"b@example.com",      "c@example.com",	  "dup@example.com",
	    "new1@example.com", "new2@example.com",   "NEW2@example.com", "moved@example.org",
	    "last@example.net", "nobody@example.com", "A@EXAMPLE.COM",	  "new2@EXAMPLE.com",
	};
	char dir[PATH_MAX], db[PATH_MAX];
	str err = STR_INIT;
	fresh_home(dir, sizeof dir, "follow");
	write_file(dir, "members",
		   "a@example.com\nb@example.com\n#\tc@example.com\ndup@example.com\n"
		   "#\tdup@example.com\n");
	expect(dir, "a@example.com", 0, 1, "first build");
	PATHF(db, "%s/var/db/members.db", dir);
	for (size_t i = 0; i < N_ELEMS(steps); i++) {
		fml_status st = membersedit_apply(dir, "members", steps[i].op, steps[i].addr,
						  steps[i].arg, 0, &err);
		if (st != steps[i].want)
			fail_msg("step %zu: got %d (%s), want %d", i, st, str_c(&err),
				 steps[i].want);
		if (!membersdb_fresh(dir, "members", 0))
			fail_msg("step %zu: the index is stale after the edit", i);
		int got[N_ELEMS(seen)];
		for (size_t k = 0; k < N_ELEMS(seen); k++)
			assert_int_equal(membersdb_lookup(dir, "members", seen[k], 0, &got[k]),
					 ST_OK);
		assert_int_equal(membersdb_reindex(dir, "members", 0), ST_OK);
		for (size_t k = 0; k < N_ELEMS(seen); k++) {
			int want = -1;
			assert_int_equal(membersdb_lookup(dir, "members", seen[k], 0, &want),
					 ST_OK);
			if (got[k] != want)
				fail_msg("step %zu: %s: updated index says %d, rebuilt says %d", i,
					 seen[k], got[k], want);
		}
	}
	str_free(&err);
}

/* A journal left by a run that died is replayed (complete) or dropped
 * (torn) by the next edit or lookup. */
static void test_journal_recovery(void **state)
{
	static const char body[] = "new@example.com\n";
	char dir[PATH_MAX], j[256];
	str got = STR_INIT, err = STR_INIT;
	fresh_home(dir, sizeof dir, "journal");
	write_file(dir, "members", "a@example.com\n");
	expect(dir, "a@example.com", 0, 1, "build");
	/* died after the journal, with half of the line appended */
	write_file(dir, "members", "a@example.com\nnew@ex");
	/* the journal as membersjournal_append writes it */
	int n = snprintf(j, sizeof j, "fmljournal 1 14 %zu\n%s", strlen(body), body);
	uint64_t h = 14695981039346656037ULL;
	for (int i = 0; i < n; i++) {
		h ^= (unsigned char)j[i];
		h *= 1099511628211ULL;
	}
	snprintf(j + n, sizeof j - (size_t)n, "end %016" PRIx64 "\n", h);
	write_file(dir, "var/db/members.journal", j);
	expect(dir, "new@example.com", 0, 1, "replayed by a lookup");
	read_file(dir, "members", &got);
	assert_string_equal(got.s, "a@example.com\nnew@example.com\n");
	char jpath[PATH_MAX];
	PATHF(jpath, "%s/var/db/members.journal", dir);
	assert_false(fs_exists(jpath));
	/* a torn journal: the file is left as it is */
	j[n + 5] = 'X';
	write_file(dir, "var/db/members.journal", j);
	assert_int_equal(membersedit_apply(dir, "members", MEM_ADD, "z@example.com", NULL, 0, &err),
			 ST_OK);
	read_file(dir, "members", &got);
	assert_string_equal(got.s, "a@example.com\nnew@example.com\nz@example.com\n");
	assert_false(fs_exists(jpath));
	expect(dir, "z@example.com", 0, 1, "after the torn journal");
	str_free(&got);
	str_free(&err);
}

/* Temp files of dead index builders are swept after an hour; a live
 * builder's (recent) temp file is left alone. */
static void test_index_sweeps_dead_temps(void **state)
{
	char dir[PATH_MAX], old[PATH_MAX], young[PATH_MAX], other[PATH_MAX];
	fresh_home(dir, sizeof dir, "sweep");
	write_file(dir, "members", "a@example.com\n");
	write_file(dir, "var/db/.members.db.999.deadbeef", "junk");
	write_file(dir, "var/db/.members.db.998.cafecafe", "junk");
	write_file(dir, "var/db/.members-admin.db.997.00000000", "junk");
	backdate(dir, "var/db/.members.db.999.deadbeef", 7200, 0);
	backdate(dir, "var/db/.members-admin.db.997.00000000", 7200, 0);
	backdate(dir, "members", 100, 0);
	expect(dir, "a@example.com", 0, 1, "sweep");
	PATHF(old, "%s/var/db/.members.db.999.deadbeef", dir);
	PATHF(young, "%s/var/db/.members.db.998.cafecafe", dir);
	PATHF(other, "%s/var/db/.members-admin.db.997.00000000", dir);
	assert_false(fs_exists(old));
	assert_true(fs_exists(young));
	assert_true(fs_exists(other)); /* another file's builder */
}

/* The append log of actives: a line per add made through the journal,
 * whose stamps are those of the file before and after and chain up; only
 * the last lines kept past its bound; nothing for a hand edit; gone when
 * fml rewrites the file. */
static void test_append_log(void **state)
{
	char dir[PATH_MAX], path[PATH_MAX], addr[64];
	struct stat st0, st;
	str err = STR_INIT, want = STR_INIT;
	membersjournal_link *v;
	size_t n;
	(void)state;
	fresh_home(dir, sizeof dir, "applog");
	write_file(dir, "actives", "a@example.com\n");
	PATHF(path, "%s/actives", dir);
	assert_int_equal(stat(path, &st0), 0);
	assert_int_equal(membersedit_apply(dir, "actives", MEM_ADD, "b@example.com", NULL, 0, &err),
			 ST_OK);
	assert_int_equal(stat(path, &st), 0);
	membersjournal_links(dir, "actives", &v, &n);
	assert_int_equal(n, 1);
	members_stamp(&want, &st0);
	assert_string_equal(str_c(&v[0].before), str_c(&want));
	str_clear(&want);
	members_stamp(&want, &st);
	assert_string_equal(str_c(&v[0].after), str_c(&want));
	assert_true(v[0].off == 14 && v[0].len == 14);
	membersjournal_links_free(v, n);
	/* past the bound: the last lines only, still a chain to now */
	for (int i = 0; i < 700; i++) {
		snprintf(addr, sizeof addr, "u%d@example.com", i);
		assert_int_equal(membersedit_apply(dir, "actives", MEM_ADD, addr, NULL, 0, &err),
				 ST_OK);
	}
	assert_int_equal(stat(path, &st), 0);
	membersjournal_links(dir, "actives", &v, &n);
	assert_true(n > 10 && n < 700);
	str_clear(&want);
	members_stamp(&want, &st);
	assert_string_equal(str_c(&v[n - 1].after), str_c(&want));
	for (size_t i = 1; i < n; i++) {
		assert_string_equal(str_c(&v[i].before), str_c(&v[i - 1].after));
		assert_true(v[i].off == v[i - 1].off + v[i - 1].len);
	}
	membersjournal_links_free(v, n);
	/* a hand append: no line */
	FILE *fp = fopen(path, "a");
	assert_non_null(fp);
	fputs("hand@example.com\n", fp);
	fclose(fp);
	membersjournal_links(dir, "actives", &v, &n);
	size_t before_n = n;
	assert_int_equal(stat(path, &st), 0);
	str_clear(&want);
	members_stamp(&want, &st);
	assert_string_not_equal(str_c(&v[n - 1].after), str_c(&want));
	membersjournal_links_free(v, n);
	assert_true(before_n > 0);
	/* a rewrite (bye): the log goes; members files other than actives
	 * have none */
	assert_int_equal(membersedit_apply(dir, "actives", MEM_BYE, "a@example.com", NULL, 0, &err),
			 ST_OK);
	membersjournal_links(dir, "actives", &v, &n);
	assert_int_equal(n, 0);
	membersjournal_links_free(v, n);
	write_file(dir, "members", "a@example.com\n");
	assert_int_equal(membersedit_apply(dir, "members", MEM_ADD, "b@example.com", NULL, 0, &err),
			 ST_OK);
	PATHF(path, "%s/var/db/members.appends", dir);
	assert_false(fs_exists(path));
	str_free(&err);
	str_free(&want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_lines),
	    cmocka_unit_test(test_line_problems),
	    cmocka_unit_test(test_lookup_index),
	    cmocka_unit_test(test_lookup_linear),
	    cmocka_unit_test(test_lookup_plus_and_missing),
	    cmocka_unit_test(test_count_and_foreach),
	    cmocka_unit_test(test_edits),
	    cmocka_unit_test(test_edit_preserves_bytes),
	    cmocka_unit_test(test_edit_then_lookup),
	    cmocka_unit_test(test_index_big),
	    cmocka_unit_test(test_index_corrupt),
	    cmocka_unit_test(test_index_exact_stamp),
	    cmocka_unit_test(test_index_follows_edits),
	    cmocka_unit_test(test_journal_recovery),
	    cmocka_unit_test(test_index_sweeps_dead_temps),
	    cmocka_unit_test(test_append_log),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
