/*
 * Unit tests for lib/util/safefile.c: the temp + fsync + rename/link commit and
 * the fs_* helpers, in a private temporary directory.  What is asserted is
 * what a reader of the directory sees: the exact bytes under the final
 * name, and no temp file left behind.  A failing case prints
 * "got X, want Y".
 */
#include "unit.h"

#include "util/msg.h"
#include "util/safefile.h"
#include "util/str.h"
#include "util/mem.h"
#include "util/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[PATH_MAX];

static int setup(void **state)
{
	if (unit_tmpdir(root, sizeof root, "safefile") < 0)
		return -1;
	msg_set_stderr(0);
	return 0;
}

static int teardown(void **state)
{
	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* A fresh empty directory ROOT/NAME for one test. */
static void fresh_dir(char *dir, size_t size, const char *name)
{
	int n = snprintf(dir, size, "%s/%s", root, name);
	assert_true(n > 0 && (size_t)n < size);
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	assert_int_equal(mkdir(dir, 0700), 0);
}

/* The names in DIR, sorted, joined by spaces ("" when empty). */
static void list_dir(const char *dir, str *out)
{
	struct dirent **v;
	str_clear(out);
	int n = scandir(dir, &v, NULL, alphasort);
	assert_true(n >= 0);
	for (int i = 0; i < n; i++) {
		if (strcmp(v[i]->d_name, ".") != 0 && strcmp(v[i]->d_name, "..") != 0) {
			if (out->len)
				str_putc(out, ' ');
			str_puts(out, v[i]->d_name);
		}
		free(v[i]);
	}
	free(v);
	str_puts(out, ""); /* allocate: str_c is then never NULL-based */
}

static int check_dir(const char *what, const char *dir, const char *want)
{
	str got = STR_INIT;
	list_dir(dir, &got);
	int bad = strcmp(str_c(&got), want) != 0;
	if (bad)
		print_error("%s: directory holds \"%s\", want \"%s\"\n", what, str_c(&got), want);
	str_free(&got);
	return bad;
}

/* Raw read, independent of fs_read(). */
static int slurp(const char *path, str *out)
{
	str_clear(out);
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	char buf[8192];
	ssize_t n;
	while ((n = read(fd, buf, sizeof buf)) > 0)
		str_append(out, buf, (size_t)n);
	close(fd);
	return n < 0 ? -1 : 0;
}

static int check_file(const char *what, const char *path, const void *want, size_t wlen)
{
	str got = STR_INIT;
	int bad = 0;
	if (slurp(path, &got) < 0) {
		print_error("%s: cannot read %s: %s, want %zu bytes\n", what, path, strerror(errno),
			    wlen);
		bad = 1;
	} else if (got.len != wlen || (wlen && memcmp(got.s, want, wlen) != 0)) {
		print_error("%s: got %zu bytes \"%.40s\", want %zu bytes \"%.40s\"\n", what,
			    got.len, str_c(&got), wlen, wlen ? (const char *)want : "");
		bad = 1;
	}
	str_free(&got);
	return bad;
}

/* ---- open / write / commit */

static void test_commit_exact_bytes(void **state)
{
	/* sizes around the 64 KiB internal buffer, written in pieces */
	static const struct {
		size_t total;
		size_t piece;
	} c[] = {
	    {0, 1},	   {1, 1},	    {100, 7},	      {65535, 65535}, {65536, 65536},
	    {65537, 1000}, {200000, 65536}, {200001, 131072}, {300000, 1},
	};
	int bad = 0;
	char dir[PATH_MAX], final[PATH_MAX], tmp[PATH_MAX], what[96];
	fresh_dir(dir, sizeof dir, "commit");
	size_t max = 300001;
	unsigned char *data = mem_alloc(max);
	for (size_t k = 0; k < max; k++)
		data[k] = (unsigned char)(k * 31 + k / 256); /* includes NUL, CR, LF */
	for (size_t i = 0; i < N_ELEMS(c); i++) {
		safefile sf;
		snprintf(what, sizeof what, "commit %zu bytes in %zu-byte pieces", c[i].total,
			 c[i].piece);
		PATHF(final, "%s/final", dir);
		WANT_ST(what, safefile_open(&sf, dir, ".tmp"), ST_OK);
		PATHF(tmp, "%s", sf.tmp);
		if (strncmp(tmp, dir, strlen(dir)) != 0 || !strstr(tmp, "/.tmp.")) {
			print_error("%s: temp name %s, want %s/.tmp.*\n", what, tmp, dir);
			bad++;
		}
		struct stat st;
		if (lstat(tmp, &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 07777) != 0600) {
			print_error("%s: temp file mode %o, want a regular file 0600\n", what,
				    (unsigned)st.st_mode);
			bad++;
		}
		for (size_t off = 0; off < c[i].total; off += c[i].piece) {
			size_t n = c[i].total - off < c[i].piece ? c[i].total - off : c[i].piece;
			WANT_ST(what, safefile_write(&sf, data + off, n), ST_OK);
		}
		if (sf.written != (off_t)c[i].total) {
			print_error("%s: written got %lld, want %zu\n", what, (long long)sf.written,
				    c[i].total);
			bad++;
		}
		WANT_ST(what, safefile_commit(&sf, final), ST_OK);
		bad += check_file(what, final, data, c[i].total);
		if (fs_exists(tmp)) {
			print_error("%s: temp %s still there after commit\n", what, tmp);
			bad++;
		}
		bad += check_dir(what, dir, "final");
	}
	/* safefile_puts and a commit over an existing file replaces it */
	safefile sf;
	WANT_ST("puts", safefile_open(&sf, dir, "tmp"), ST_OK);
	WANT_ST("puts", safefile_puts(&sf, "line one\n"), ST_OK);
	WANT_ST("puts", safefile_puts(&sf, ""), ST_OK);
	WANT_ST("puts", safefile_puts(&sf, "line two\n"), ST_OK);
	WANT_ST("puts", safefile_commit(&sf, final), ST_OK);
	bad += check_file("puts", final, "line one\nline two\n", 18);
	bad += check_dir("puts", dir, "final");
	free(data);
	assert_int_equal(bad, 0);
}

static void test_abort(void **state)
{
	int bad = 0;
	char dir[PATH_MAX], tmp[PATH_MAX];
	fresh_dir(dir, sizeof dir, "abort");
	static const size_t sizes[] = {0, 10, 70000}; /* unflushed and flushed data */
	unsigned char *data = mem_calloc(70000, 1);
	for (size_t i = 0; i < N_ELEMS(sizes); i++) {
		safefile sf;
		WANT_ST("abort open", safefile_open(&sf, dir, ".tmp"), ST_OK);
		PATHF(tmp, "%s", sf.tmp);
		WANT_ST("abort write", safefile_write(&sf, data, sizes[i]), ST_OK);
		safefile_abort(&sf);
		if (fs_exists(tmp)) {
			print_error("abort after %zu bytes: temp %s still there\n", sizes[i], tmp);
			bad++;
		}
		bad += check_dir("abort", dir, "");
		/* a second abort is harmless */
		safefile_abort(&sf);
	}
	/* abort after sync (file closed, still under its temp name) */
	safefile sf;
	WANT_ST("sync", safefile_open(&sf, dir, ".tmp"), ST_OK);
	PATHF(tmp, "%s", sf.tmp);
	WANT_ST("sync", safefile_write(&sf, "abc", 3), ST_OK);
	WANT_ST("sync", safefile_sync(&sf), ST_OK);
	bad += check_file("sync keeps the temp name", tmp, "abc", 3);
	safefile_abort(&sf);
	if (fs_exists(tmp)) {
		print_error("abort after sync: temp %s still there\n", tmp);
		bad++;
	}
	bad += check_dir("abort after sync", dir, "");
	free(data);
	assert_int_equal(bad, 0);
}

/* msg_fatal() and SIGTERM run the clean-up: an uncommitted temp goes, a
 * committed file stays. */
static void test_cleanup(void **state)
{
	int bad = 0;
	char dir[PATH_MAX], tmp[PATH_MAX], final[PATH_MAX];
	fresh_dir(dir, sizeof dir, "cleanup");
	PATHF(final, "%s/final", dir);
	safefile a, b;
	WANT_ST("cleanup open", safefile_open(&a, dir, ".tmp"), ST_OK);
	PATHF(tmp, "%s", a.tmp);
	WANT_ST("cleanup write", safefile_write(&a, "partial", 7), ST_OK);
	WANT_ST("cleanup open 2", safefile_open(&b, dir, ".tmp"), ST_OK);
	WANT_ST("cleanup write 2", safefile_write(&b, "whole", 5), ST_OK);
	WANT_ST("cleanup commit 2", safefile_commit(&b, final), ST_OK);
	msg_cleanup_run();
	if (fs_exists(tmp)) {
		print_error("clean-up: uncommitted temp %s still there\n", tmp);
		bad++;
	}
	bad += check_file("clean-up keeps the committed file", final, "whole", 5);
	bad += check_dir("clean-up", dir, "final");
	safefile_abort(&a); /* after the clean-up ran: harmless */
	assert_int_equal(bad, 0);
}

/* ---- safefile_link: creation is allocation */

static void test_link(void **state)
{
	int bad = 0;
	char dir[PATH_MAX], final[PATH_MAX], tmp[PATH_MAX];
	fresh_dir(dir, sizeof dir, "link");
	PATHF(final, "%s/7", dir);

	/* a free name: linked, both names hold the bytes, temp kept */
	safefile sf;
	WANT_ST("link free", safefile_open(&sf, dir, ".tmp"), ST_OK);
	PATHF(tmp, "%s", sf.tmp);
	WANT_ST("link free", safefile_write(&sf, "first\n", 6), ST_OK);
	WANT_ST("link free", safefile_link(&sf, final), ST_OK);
	bad += check_file("link free: final", final, "first\n", 6);
	bad += check_file("link free: temp kept", tmp, "first\n", 6);
	/* once linked, the temp is the caller's recovery data: abort (what a
	 * caller does when the directory fsync failed) must leave it */
	if (!sf.linked) {
		print_error("link free: sf.linked not set\n");
		bad++;
	}
	safefile_abort(&sf);
	bad += check_file("link free: abort keeps the linked temp", tmp, "first\n", 6);
	unlink(tmp);

	/* a taken name: ST_DATAERR, the existing file untouched, temp kept */
	WANT_ST("link taken", safefile_open(&sf, dir, ".tmp"), ST_OK);
	PATHF(tmp, "%s", sf.tmp);
	WANT_ST("link taken", safefile_write(&sf, "second\n", 7), ST_OK);
	WANT_ST("link taken", safefile_link(&sf, final), ST_DATAERR);
	if (sf.linked) {
		print_error("link taken: sf.linked set\n");
		bad++;
	}
	bad += check_file("link taken: existing file", final, "first\n", 6);
	bad += check_file("link taken: temp kept", tmp, "second\n", 7);
	/* the caller may try the next name with the same temp file */
	char next[PATH_MAX];
	PATHF(next, "%s/8", dir);
	WANT_ST("link next", safefile_link(&sf, next), ST_OK);
	bad += check_file("link next", next, "second\n", 7);
	unlink(tmp);
	bad += check_dir("link", dir, "7 8");

	/* abort after a refused link removes the temp */
	WANT_ST("link abort", safefile_open(&sf, dir, ".tmp"), ST_OK);
	PATHF(tmp, "%s", sf.tmp);
	WANT_ST("link abort", safefile_write(&sf, "x", 1), ST_OK);
	WANT_ST("link abort", safefile_link(&sf, final), ST_DATAERR);
	safefile_abort(&sf);
	if (fs_exists(tmp)) {
		print_error("abort after refused link: temp %s still there\n", tmp);
		bad++;
	}
	bad += check_dir("link abort", dir, "7 8");
	assert_int_equal(bad, 0);
}

/* ---- O_EXCL | O_NOFOLLOW on the temp path */

static void test_open_path_refuses(void **state)
{
	int bad = 0;
	char dir[PATH_MAX], tmp[PATH_MAX], target[PATH_MAX], dangling[PATH_MAX];
	fresh_dir(dir, sizeof dir, "nofollow");
	PATHF(target, "%s/target", dir);
	PATHF(tmp, "%s/tmp.x", dir);
	PATHF(dangling, "%s/nowhere", dir);

	/* a symlink to an existing file: refused, the file untouched */
	FILE *fp = fopen(target, "w");
	assert_non_null(fp);
	fputs("precious\n", fp);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(symlink(target, tmp), 0);
	safefile sf;
	WANT_ST("symlink to a file", safefile_open_path(&sf, tmp), ST_TEMPFAIL);
	bad += check_file("symlink to a file: target", target, "precious\n", 9);
	safefile_abort(&sf); /* must not unlink what it did not create */
	struct stat st;
	if (lstat(tmp, &st) != 0 || !S_ISLNK(st.st_mode)) {
		print_error("symlink to a file: symlink removed, want it left alone\n");
		bad++;
	}
	unlink(tmp);

	/* a dangling symlink: refused, nothing created at its target */
	assert_int_equal(symlink(dangling, tmp), 0);
	WANT_ST("dangling symlink", safefile_open_path(&sf, tmp), ST_TEMPFAIL);
	if (fs_exists(dangling)) {
		print_error("dangling symlink: got %s created, want nothing\n", dangling);
		bad++;
	}
	unlink(tmp);

	/* an existing regular file: refused (O_EXCL), content kept */
	WANT_ST("existing file", safefile_open_path(&sf, target), ST_TEMPFAIL);
	bad += check_file("existing file", target, "precious\n", 9);

	/* a free name: created, 0600 */
	WANT_ST("free name", safefile_open_path(&sf, tmp), ST_OK);
	WANT_ST("free name", safefile_write(&sf, "ok", 2), ST_OK);
	char final[PATH_MAX];
	PATHF(final, "%s/final", dir);
	WANT_ST("free name", safefile_commit(&sf, final), ST_OK);
	bad += check_file("free name", final, "ok", 2);
	bad += check_dir("nofollow", dir, "final target");
	assert_int_equal(bad, 0);
}

/* ---- safefile_replace */

static void test_fs_replace(void **state)
{
	static const struct {
		const char *data;
		size_t len;
		int durable;
	} c[] = {
	    {"one\n", 4, 1}, {"two, longer\n", 12, 0}, {"", 0, 1},
	    {"", 0, 0},	     {"a\0b\r\n", 5, 0},       {"shorter\n", 8, 1},
	};
	int bad = 0;
	char dir[PATH_MAX], path[PATH_MAX], what[64];
	fresh_dir(dir, sizeof dir, "replace");
	PATHF(path, "%s/members", dir);
	for (size_t i = 0; i < N_ELEMS(c); i++) {
		snprintf(what, sizeof what, "safefile_replace case %zu durable=%d", i,
			 c[i].durable);
		WANT_ST(what, safefile_replace(path, c[i].data, c[i].len, c[i].durable), ST_OK);
		bad += check_file(what, path, c[i].data, c[i].len);
		bad += check_dir(what, dir, "members");
		struct stat st;
		if (lstat(path, &st) != 0 || (st.st_mode & 07777) != 0600) {
			print_error("%s: mode %o, want 0600\n", what, (unsigned)st.st_mode & 07777);
			bad++;
		}
	}
	/* a missing directory: ST_TEMPFAIL, nothing created */
	char nodir[PATH_MAX];
	PATHF(nodir, "%s/missing/file", dir);
	WANT_ST("safefile_replace missing dir", safefile_replace(nodir, "x", 1, 1), ST_TEMPFAIL);
	WANT_ST("safefile_replace missing dir", safefile_replace(nodir, "x", 1, 0), ST_TEMPFAIL);
	bad += check_dir("safefile_replace missing dir", dir, "members");
	assert_int_equal(bad, 0);
}

/* ---- fs_read */

static void test_fs_read(void **state)
{
	int bad = 0;
	char dir[PATH_MAX], path[PATH_MAX], big[PATH_MAX], link_path[PATH_MAX];
	fresh_dir(dir, sizeof dir, "read");
	PATHF(path, "%s/hundred", dir);
	PATHF(big, "%s/big", dir);
	PATHF(link_path, "%s/link", dir);
	char hundred[100];
	for (int k = 0; k < 100; k++)
		hundred[k] = (char)(k % 3 == 0 ? 0 : 'a' + k % 26);
	assert_int_equal(safefile_replace(path, hundred, sizeof hundred, 0), ST_OK);
	size_t biglen = 100000;
	char *bigdata = mem_alloc(biglen);
	for (size_t k = 0; k < biglen; k++)
		bigdata[k] = (char)(k * 13);
	assert_int_equal(safefile_replace(big, bigdata, biglen, 0), ST_OK);
	assert_int_equal(symlink(path, link_path), 0);

	static const struct {
		int file; /* 0 hundred, 1 big, 2 missing, 3 symlink */
		size_t limit;
		fml_status want;
	} c[] = {
	    {0, 0, ST_OK},	   {0, 100, ST_OK},    {0, 101, ST_OK},	    {0, 99, ST_DATAERR},
	    {0, 1, ST_DATAERR},	   {1, 0, ST_OK},      {1, 100000, ST_OK},  {1, 99999, ST_DATAERR},
	    {1, 8192, ST_DATAERR}, {2, 0, ST_NOINPUT}, {2, 10, ST_NOINPUT}, {3, 0, ST_TEMPFAIL},
	};
	char missing[PATH_MAX];
	PATHF(missing, "%s/missing", dir);
	const char *paths[] = {path, big, missing, link_path};
	str out = STR_INIT;
	char what[96];
	for (size_t i = 0; i < N_ELEMS(c); i++) {
		snprintf(what, sizeof what, "fs_read case %zu (file %d, limit %zu)", i, c[i].file,
			 c[i].limit);
		str_sets(&out, "stale contents");
		fml_status st = fs_read(paths[c[i].file], &out, c[i].limit);
		WANT_ST(what, st, c[i].want);
		if (st == ST_OK) {
			const char *want = c[i].file == 0 ? hundred : bigdata;
			size_t wlen = c[i].file == 0 ? sizeof hundred : biglen;
			if (out.len != wlen || memcmp(out.s, want, wlen) != 0 || out.s[out.len]) {
				print_error("%s: got %zu bytes, want the %zu bytes written\n", what,
					    out.len, wlen);
				bad++;
			}
		}
		if (st == ST_NOINPUT && out.len != 0) {
			print_error("%s: got %zu stale bytes, want an empty str\n", what, out.len);
			bad++;
		}
	}
	/* an empty file reads as an empty str */
	char empty[PATH_MAX];
	PATHF(empty, "%s/empty", dir);
	assert_int_equal(safefile_replace(empty, "", 0, 0), ST_OK);
	str_sets(&out, "stale");
	WANT_ST("fs_read empty", fs_read(empty, &out, 10), ST_OK);
	if (out.len != 0) {
		print_error("fs_read empty: got %zu bytes, want 0\n", out.len);
		bad++;
	}
	str_free(&out);
	free(bigdata);
	assert_int_equal(bad, 0);
}

/* ---- fs_append_line */

static void test_fs_append_line(void **state)
{
	static const struct {
		const char *line;
		size_t len;
		const char *want; /* whole file after the append */
		size_t wlen;
	} c[] = {
	    {"first\n", 6, "first\n", 6},
	    {"second\n", 7, "first\nsecond\n", 13},
	    {"", 0, "first\nsecond\n", 13},
	    {"no newline", 10, "first\nsecond\nno newline", 23},
	    {"\n", 1, "first\nsecond\nno newline\n", 24},
	    {"a\0b\n", 4, "first\nsecond\nno newline\na\0b\n", 28},
	};
	int bad = 0;
	char dir[PATH_MAX], path[PATH_MAX], what[64];
	fresh_dir(dir, sizeof dir, "append");
	PATHF(path, "%s/log", dir);
	for (size_t i = 0; i < N_ELEMS(c); i++) {
		snprintf(what, sizeof what, "fs_append_line case %zu", i);
		WANT_ST(what, fs_append_line(path, c[i].line, c[i].len), ST_OK);
		bad += check_file(what, path, c[i].want, c[i].wlen);
	}
	struct stat st;
	if (lstat(path, &st) != 0 || (st.st_mode & 07777) != 0600) {
		print_error("fs_append_line: mode %o, want 0600\n", (unsigned)st.st_mode & 07777);
		bad++;
	}
	/* never through a symlink */
	char link_path[PATH_MAX];
	PATHF(link_path, "%s/linked", dir);
	assert_int_equal(symlink(path, link_path), 0);
	WANT_ST("fs_append_line symlink", fs_append_line(link_path, "evil\n", 5), ST_TEMPFAIL);
	bad += check_file("fs_append_line symlink", path, c[N_ELEMS(c) - 1].want,
			  c[N_ELEMS(c) - 1].wlen);
	/* missing directory */
	char nodir[PATH_MAX];
	PATHF(nodir, "%s/missing/log", dir);
	WANT_ST("fs_append_line missing dir", fs_append_line(nodir, "x\n", 2), ST_TEMPFAIL);
	assert_int_equal(bad, 0);
}

/* ---- fs_mkdirs */

static void test_fs_mkdirs(void **state)
{
	static const struct {
		const char *rel; /* under ROOT/mkdirs */
		fml_status want;
		const char *check; /* a directory that must exist afterwards */
	} c[] = {
	    {"a", ST_OK, "a"},
	    {"a", ST_OK, "a"}, /* again: already there is fine */
	    {"b/c/d", ST_OK, "b/c/d"},
	    {"b/c/d/e/f/g", ST_OK, "b/c/d/e/f/g"},
	    {"trailing/slash/", ST_OK, "trailing/slash"},
	    {"double//slash", ST_OK, "double/slash"},
	    {"file/sub", ST_TEMPFAIL, NULL}, /* a file in the way */
	    {"file", ST_OK, NULL},	     /* EEXIST is taken as success */
	};
	int bad = 0;
	char dir[PATH_MAX], path[PATH_MAX], what[128];
	fresh_dir(dir, sizeof dir, "mkdirs");
	PATHF(path, "%s/file", dir);
	assert_int_equal(safefile_replace(path, "x", 1, 0), ST_OK);
	for (size_t i = 0; i < N_ELEMS(c); i++) {
		snprintf(what, sizeof what, "fs_mkdirs \"%s\"", c[i].rel);
		PATHF(path, "%s/%s", dir, c[i].rel);
		WANT_ST(what, fs_mkdirs(path, 0700), c[i].want);
		if (c[i].check) {
			struct stat st;
			PATHF(path, "%s/%s", dir, c[i].check);
			if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode) ||
			    (st.st_mode & 07777) != 0700) {
				print_error("%s: %s is not a 0700 directory\n", what, path);
				bad++;
			}
		}
	}
	/* relative path */
	char cwd[PATH_MAX];
	assert_non_null(getcwd(cwd, sizeof cwd));
	assert_int_equal(chdir(dir), 0);
	WANT_ST("fs_mkdirs relative", fs_mkdirs("rel/x", 0700), ST_OK);
	assert_int_equal(chdir(cwd), 0);
	PATHF(path, "%s/rel/x", dir);
	struct stat st;
	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
		print_error("fs_mkdirs relative: %s missing\n", path);
		bad++;
	}
	assert_int_equal(bad, 0);
}

/* ---- fs_path */

static void test_fs_path(void **state)
{
	static const struct {
		size_t size;
		const char *arg;
		int want;
		const char *want_buf;
	} c[] = {
	    {8, "", 0, ""},
	    {8, "1234567", 0, "1234567"}, /* exactly fits with its NUL */
	    {8, "12345678", -1, ""},	  /* one too many */
	    {8, "123456789abcdef", -1, ""},
	    {1, "", 0, ""},
	    {1, "x", -1, ""},
	    {64, "/var/spool/ml/elena", 0, "/var/spool/ml/elena"},
	};
	int bad = 0;
	char buf[64];
	for (size_t i = 0; i < N_ELEMS(c); i++) {
		memset(buf, 'Z', sizeof buf);
		int got = fs_path(buf, c[i].size, "%s", c[i].arg);
		if (got != c[i].want || strcmp(buf, c[i].want_buf) != 0) {
			print_error("fs_path(size %zu, \"%s\"): got %d \"%.*s\", want %d \"%s\"\n",
				    c[i].size, c[i].arg, got, (int)c[i].size, buf, c[i].want,
				    c[i].want_buf);
			bad++;
		}
		if (c[i].size < sizeof buf && buf[c[i].size] != 'Z') {
			print_error("fs_path(size %zu): wrote past the buffer\n", c[i].size);
			bad++;
		}
	}
	/* a long directory: every built path checks for truncation */
	char longdir[PATH_MAX + 10];
	memset(longdir, 'd', sizeof longdir - 1);
	longdir[0] = '/';
	longdir[sizeof longdir - 1] = 0;
	safefile sf;
	WANT_ST("safefile_open with a too long dir", safefile_open(&sf, longdir, ".tmp"),
		ST_TEMPFAIL);
	WANT_ST("fs_mkdirs too long", fs_mkdirs(longdir, 0700), ST_TEMPFAIL);
	/* formatted integers */
	if (fs_path(buf, sizeof buf, "%s/spool/%ld", "/x", 123L) != 0 ||
	    strcmp(buf, "/x/spool/123") != 0) {
		print_error("fs_path %%ld: got \"%s\", want \"/x/spool/123\"\n", buf);
		bad++;
	}
	assert_int_equal(bad, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_commit_exact_bytes),
	    cmocka_unit_test(test_abort),
	    cmocka_unit_test(test_cleanup),
	    cmocka_unit_test(test_link),
	    cmocka_unit_test(test_open_path_refuses),
	    cmocka_unit_test(test_fs_replace),
	    cmocka_unit_test(test_fs_read),
	    cmocka_unit_test(test_fs_append_line),
	    cmocka_unit_test(test_fs_mkdirs),
	    cmocka_unit_test(test_fs_path),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
