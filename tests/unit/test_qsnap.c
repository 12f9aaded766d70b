/*
 * Unit tests for lib/queue/qsnap.c: recipient snapshots as doc/fml-queue.5
 * describes them.  A written generation is read back (in order, through
 * the chunked iterator, and by lookups through the sparse index), found by
 * its stamp, refused in every way it can be damaged, linked per item, and
 * swept only when nothing needs it.  A failing case prints "got X, want Y".
 */
#include "unit.h"

#include "queue/qsnap.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/str.h"

#include <fcntl.h>
#include <ftw.h>
#include <glib.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[PATH_MAX];
static char qdir[PATH_MAX]; /* ROOT/queue */

static int setup(void **state)
{
	(void)state;
	if (unit_tmpdir(root, sizeof root, "qsnap") < 0)
		return -1;
	msg_set_stderr(0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static void fresh_queue(void)
{
	char path[PATH_MAX];
	PATHF(qdir, "%s/queue", root);
	nftw(qdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	assert_int_equal(mkdir(qdir, 0700), 0);
	PATHF(path, "%s/new", qdir);
	assert_int_equal(mkdir(path, 0700), 0);
}

static int by_snap(const void *a, const void *b)
{
	return qsnap_cmp(*(char *const *)a, *(char *const *)b);
}

/* N addresses over a few domains, sorted as fml sorts them, NUL-separated
 * in OUT; the I-th address in V[I] (caller frees). */
static char **make_rcpts(size_t n, str *out)
{
	char **v = mem_reallocarray(NULL, n, sizeof *v);
	for (size_t i = 0; i < n; i++) {
		char a[64];
		snprintf(a, sizeof a, "u%zu@d%zu.example", i * 7919 % 100003, i % 13);
		v[i] = mem_strdup(a);
	}
	qsort(v, n, sizeof *v, by_snap);
	str_clear(out);
	for (size_t i = 0; i < n; i++)
		str_append(out, v[i], strlen(v[i]) + 1);
	return v;
}

static void free_rcpts(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Every size around the index step and the read chunk: written, found by
 * the stamp, read in order, every address looked up. */
static void test_round_trip(void **state)
{
	(void)state;
	static const size_t sizes[] = {1, 2, QSNAP_STEP - 1, QSNAP_STEP, QSNAP_STEP + 1, 5000};
	int bad = 0;
	for (size_t k = 0; k < N_ELEMS(sizes); k++) {
		size_t n = sizes[k];
		str rcpts = STR_INIT, err = STR_INIT;
		char stamp[64];
		fresh_queue();
		char **v = make_rcpts(n, &rcpts);
		snprintf(stamp, sizeof stamp, "test stamp %zu", n);
		qsnap_ref ref, found;
		assert_int_equal(qsnap_write(qdir, stamp, rcpts.s, n, &ref), ST_OK);
		if (qsnap_find(qdir, stamp, &found) != 0 || strcmp(found.gen, ref.gen) != 0 ||
		    found.count != n || strcmp(found.sha, ref.sha) != 0) {
			print_error("%zu: qsnap_find: got another reference, want %s\n", n,
				    ref.gen);
			bad++;
		}
		if (qsnap_find(qdir, "another stamp", &found) == 0) {
			print_error("%zu: qsnap_find(another stamp): got 0, want -1\n", n);
			bad++;
		}
		qsnap s;
		WANT_ST("qsnap_open", qsnap_open(&s, qdir, "a1", &ref, &err), ST_OK);
		qsnap_iter it;
		const char *a;
		size_t len, i = 0;
		qsnap_iter_start(&it, &s);
		while (qsnap_iter_next(&it, &a, &len) == 1) {
			if (i >= n || strcmp(a, v[i]) != 0 || len != strlen(v[i])) {
				print_error("%zu: address %zu: got %s, want %s\n", n, i, a,
					    i < n ? v[i] : "(end)");
				bad++;
			}
			i++;
		}
		qsnap_iter_end(&it);
		if (i != n) {
			print_error("%zu: got %zu addresses, want %zu\n", n, i, n);
			bad++;
		}
		/* backwards: every lookup misses the block cache */
		for (size_t j = n; j-- > 0;) {
			long o = qsnap_lookup(&s, v[j]);
			if (o != (long)j) {
				print_error("%zu: qsnap_lookup(%s): got %ld, want %zu\n", n, v[j],
					    o, j);
				bad++;
			}
		}
		static const char *const absent[] = {"nobody@d1.example", "a@a", "zzz@zzz",
						     "u1@d99.example"};
		for (size_t j = 0; j < N_ELEMS(absent); j++)
			if (qsnap_lookup(&s, absent[j]) != -1) {
				print_error("%zu: qsnap_lookup(%s): got a recipient, want -1\n", n,
					    absent[j]);
				bad++;
			}
		qsnap_close(&s);
		free_rcpts(v, n);
		str_free(&rcpts);
		str_free(&err);
	}
	assert_int_equal(bad, 0);
}

static void test_parse_ref(void **state)
{
	(void)state;
	static const char sha[] =
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	struct {
		const char *value;
		int want;
	} cases[] = {
	    {"0123456789abcdef 12 SHA", 0},   {"0123456789abcde 12 SHA", -1}, /* gen too short */
	    {"0123456789abcdeF 12 SHA", -1},				      /* upper case */
	    {"0123456789abcdef -1 SHA", -1},				      /* negative */
	    {"0123456789abcdef  12 SHA", -1},				      /* two blanks */
	    {"0123456789abcdef 12 SHAx", -1},				      /* junk after */
	    {"0123456789abcdef 12", -1},				      /* no checksum */
	    {"0123456789abcdef 12 0123", -1},				      /* short checksum */
	};
	int bad = 0;
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		str v = STR_INIT;
		const char *p = cases[i].value, *at = strstr(p, "SHA");
		if (at) {
			str_append(&v, p, (size_t)(at - p));
			str_puts(&v, sha);
			str_puts(&v, at + 3);
		} else {
			str_puts(&v, p);
		}
		qsnap_ref ref;
		int got = qsnap_parse_ref(v.s, &ref);
		if (got != cases[i].want) {
			print_error("qsnap_parse_ref(%s): got %d, want %d\n", v.s, got,
				    cases[i].want);
			bad++;
		} else if (got == 0 && (ref.count != 12 || strcmp(ref.sha, sha) != 0 ||
					strcmp(ref.gen, "0123456789abcdef") != 0)) {
			print_error("qsnap_parse_ref(%s): wrong fields\n", v.s);
			bad++;
		}
		str_free(&v);
	}
	assert_int_equal(bad, 0);
}

/* Rewrite generation GEN's file with EDIT applied to its bytes. */
static void damage(const char *gen, void (*edit)(str *f))
{
	char path[PATH_MAX];
	str f = STR_INIT;
	PATHF(path, "%s/rcpt/g%s", qdir, gen);
	FILE *fp = fopen(path, "rb");
	assert_non_null(fp);
	char buf[65536];
	size_t r;
	while ((r = fread(buf, 1, sizeof buf, fp)) > 0)
		str_append(&f, buf, r);
	fclose(fp);
	edit(&f);
	fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(f.s, 1, f.len, fp), f.len);
	fclose(fp);
	str_free(&f);
}

static void flip_last_address(str *f)
{
	f->s[f->len - 3] ^= 1;
}
static void cut_last_lf(str *f)
{
	f->len--;
}
static void drop_last_address(str *f)
{
	f->len--;
	while (f->len && f->s[f->len - 1] != '\n')
		f->len--;
}
static void other_gen(str *f)
{
	char *g = strstr(f->s, "\ngen ");
	g[5] = g[5] == '0' ? '1' : '0';
}
/* the first two addresses swapped and the header's checksum made to fit:
 * consistent, but not in order */
static void swap_first_two(str *f)
{
	char *data = strstr(f->s, "\n\n") + 2;
	char *nl1 = strchr(data, '\n'), *nl2 = strchr(nl1 + 1, '\n');
	str t = STR_INIT;
	str_append(&t, nl1 + 1, (size_t)(nl2 - nl1));
	str_append(&t, data, (size_t)(nl1 - data) + 1);
	memcpy(data, t.s, t.len);
	str_free(&t);
	char *h = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)data,
					      (gsize)(f->s + f->len - data));
	memcpy(strstr(f->s, "\nsha256 ") + 8, h, 64);
	g_free(h);
}

static void test_damage(void **state)
{
	(void)state;
	struct {
		const char *what;
		void (*edit)(str *f);
		int bad_ref; /* the item's reference says another count */
		int missing;
	} cases[] = {
	    {"one address changed", flip_last_address, 0, 0},
	    {"last LF cut", cut_last_lf, 0, 0},
	    {"last address dropped", drop_last_address, 0, 0},
	    {"another generation's header", other_gen, 0, 0},
	    {"out of order, checksum fitted", swap_first_two, 0, 0},
	    {"count differs from the item's", NULL, 1, 0},
	    {"missing", NULL, 0, 1},
	};
	int bad = 0;
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		str rcpts = STR_INIT, err = STR_INIT;
		char path[PATH_MAX];
		fresh_queue();
		char **v = make_rcpts(600, &rcpts);
		qsnap_ref ref;
		assert_int_equal(qsnap_write(qdir, "s", rcpts.s, 600, &ref), ST_OK);
		if (cases[i].edit)
			damage(ref.gen, cases[i].edit);
		if (cases[i].bad_ref)
			ref.count++;
		if (cases[i].missing) {
			PATHF(path, "%s/rcpt/g%s", qdir, ref.gen);
			unlink(path);
		}
		qsnap s;
		fml_status got = qsnap_open(&s, qdir, "a1", &ref, &err);
		if (got != ST_DATAERR) {
			print_error("%s: got %s, want DATAERR\n", cases[i].what, status_name(got));
			bad++;
		}
		qsnap_close(&s);
		free_rcpts(v, 600);
		str_free(&rcpts);
		str_free(&err);
	}
	assert_int_equal(bad, 0);
}

/* Write an item NAME in new/ that names generation GEN. */
static void item_in_new(const char *name, const qsnap_ref *ref)
{
	char path[PATH_MAX];
	PATHF(path, "%s/new/%s", qdir, name);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fprintf(fp, "FMLQ 1\nsender a@b\ncreated 1\nlist l\narticle 1\nrcpts %s %zu %s\n\nbody",
		ref->gen, ref->count, ref->sha);
	fclose(fp);
}

static int gen_exists(const char *gen)
{
	char path[PATH_MAX];
	struct stat st;
	PATHF(path, "%s/rcpt/g%s", qdir, gen);
	return lstat(path, &st) == 0;
}

static void test_link_and_sweep(void **state)
{
	(void)state;
	str rcpts = STR_INIT, err = STR_INIT;
	char path[PATH_MAX], gpath[PATH_MAX];
	struct stat ls, gs;
	qsnap_ref old, linked, innew, cur;
	fresh_queue();
	char **v = make_rcpts(10, &rcpts);
	assert_int_equal(qsnap_write(qdir, "old", rcpts.s, 10, &old), ST_OK);
	assert_int_equal(qsnap_write(qdir, "linked", rcpts.s, 9, &linked), ST_OK);
	assert_int_equal(qsnap_write(qdir, "innew", rcpts.s, 8, &innew), ST_OK);
	assert_int_equal(qsnap_write(qdir, "cur", rcpts.s, 7, &cur), ST_OK);
	/* a link: the generation's inode, durable, idempotent */
	assert_int_equal(qsnap_link(qdir, "a1", linked.gen), ST_OK);
	assert_int_equal(qsnap_link(qdir, "a1", linked.gen), ST_OK);
	PATHF(path, "%s/rcpt/items/a1", qdir);
	PATHF(gpath, "%s/rcpt/g%s", qdir, linked.gen);
	assert_int_equal(lstat(path, &ls), 0);
	assert_int_equal(lstat(gpath, &gs), 0);
	assert_true(ls.st_ino == gs.st_ino && gs.st_nlink == 2);
	/* a stale link of the same name is replaced */
	assert_int_equal(qsnap_link(qdir, "a9", old.gen), ST_OK);
	assert_int_equal(qsnap_link(qdir, "a9", cur.gen), ST_OK);
	PATHF(path, "%s/rcpt/items/a9", qdir);
	PATHF(gpath, "%s/rcpt/g%s", qdir, cur.gen);
	assert_int_equal(lstat(path, &ls), 0);
	assert_int_equal(lstat(gpath, &gs), 0);
	assert_true(ls.st_ino == gs.st_ino);
	qsnap_unlink(qdir, "a9");
	item_in_new("a2", &innew);

	assert_true(qsnap_sweep_wanted(qdir, "cur"));
	qsnap_sweep(qdir, "cur", NULL);
	assert_false(gen_exists(old.gen));   /* nothing needs it */
	assert_true(gen_exists(linked.gen)); /* an item's link */
	assert_true(gen_exists(innew.gen));  /* named by an item in new/ */
	assert_true(gen_exists(cur.gen));    /* the current one */

	/* the name gone, the link still reads */
	qsnap s;
	PATHF(gpath, "%s/rcpt/g%s", qdir, linked.gen);
	unlink(gpath);
	assert_int_equal(qsnap_open(&s, qdir, "a1", &linked, &err), ST_OK);
	qsnap_close(&s);
	/* an item in new/ reads the generation's name */
	assert_int_equal(qsnap_open(&s, qdir, "a2", &innew, &err), ST_OK);
	qsnap_close(&s);
	/* the link removed with its item */
	qsnap_unlink(qdir, "a1");
	assert_int_equal(qsnap_open(&s, qdir, "a1", &linked, &err), ST_DATAERR);
	qsnap_close(&s);
	free_rcpts(v, 10);
	str_free(&rcpts);
	str_free(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_parse_ref),
	    cmocka_unit_test(test_damage),
	    cmocka_unit_test(test_link_and_sweep),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
