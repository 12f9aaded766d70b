/*
 * Unit tests for lib/queue/qsnap.c: recipient snapshots as doc/fml-queue.5
 * describes them.  A written generation is read back (in order, through
 * the chunked iterator, and by lookups through the sparse index), found by
 * its stamp, refused in every way it can be damaged, linked per item, and
 * swept only when nothing needs it.  A failing case prints "got X, want Y".
 */
#include "unit.h"

#include "queue/qdelta.h"
#include "queue/qsnap.h"
#include "util/fs.h"
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

/* Check that the snapshot REF (item NAME) reads as V[0..N): in order, and
 * every address looked up at its ordinal; the errors counted. */
static int reads_as(const char *what, const char *name, const qsnap_ref *ref, char **v, size_t n)
{
	int bad = 0;
	str err = STR_INIT;
	qsnap s;
	fml_status st = qsnap_open(&s, qdir, name, ref, &err);
	if (st != ST_OK) {
		print_error("%s: qsnap_open: got %s (%s), want OK\n", what, status_name(st),
			    str_c(&err));
		qsnap_close(&s);
		str_free(&err);
		return 1;
	}
	qsnap_iter it;
	const char *a;
	size_t len, i = 0;
	qsnap_iter_start(&it, &s);
	while (qsnap_iter_next(&it, &a, &len) == 1) {
		if (i >= n || strcmp(a, v[i]) != 0 || len != strlen(v[i])) {
			print_error("%s: address %zu: got %s, want %s\n", what, i, a,
				    i < n ? v[i] : "(end)");
			bad++;
		}
		i++;
	}
	qsnap_iter_end(&it);
	if (i != n) {
		print_error("%s: got %zu addresses, want %zu\n", what, i, n);
		bad++;
	}
	for (size_t j = n; j-- > 0;) {
		long o = qsnap_lookup(&s, v[j]);
		if (o != (long)j) {
			print_error("%s: qsnap_lookup(%s): got %ld, want %zu\n", what, v[j], o, j);
			bad++;
		}
	}
	static const char *const absent[] = {"nobody@d1.example", "a@a", "zzz@zzz",
					     "u1@d99.example"};
	for (size_t j = 0; j < N_ELEMS(absent); j++)
		if (qsnap_lookup(&s, absent[j]) != -1) {
			print_error("%s: qsnap_lookup(%s): got a recipient, want -1\n", what,
				    absent[j]);
			bad++;
		}
	qsnap_close(&s);
	str_free(&err);
	return bad;
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
		char what[32];
		snprintf(what, sizeof what, "%zu", n);
		bad += reads_as(what, "a1", &ref, v, n);
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

/* V[0..N) split: every K-th address (from the J-th) into ADDS, the rest
 * into BASE (NUL-separated); counts returned. */
static void split(char **v, size_t n, size_t k, size_t j, str *base, size_t *nb, str *adds,
		  size_t *na)
{
	str_clear(base);
	str_clear(adds);
	*nb = *na = 0;
	for (size_t i = 0; i < n; i++) {
		int add = k && i % k == j;
		str_append(add ? adds : base, v[i], strlen(v[i]) + 1);
		(*(add ? na : nb))++;
	}
}

/* A delta on a base reads as the full generation of the same list: same
 * addresses in the same order, same count, every lookup at its ordinal;
 * adds already in the base are left out; a delta on a delta takes the
 * base and the adds of both. */
static void test_delta_round_trip(void **state)
{
	(void)state;
	static const struct {
		size_t n, k, j; /* every K-th of N from the J-th is added */
	} cases[] = {
	    {2, 2, 0},	     {2, 2, 1},	   {QSNAP_STEP + 1, 3, 2}, {600, 5, 0},
	    {600, 600, 599}, {5000, 7, 3}, {5000, 1000, 0},	   {20000, 9, 4},
	};
	int bad = 0;
	for (size_t c = 0; c < N_ELEMS(cases); c++) {
		size_t n = cases[c].n, nb, na, nb2, na2;
		str all = STR_INIT, base = STR_INIT, adds = STR_INIT, b2 = STR_INIT, a2 = STR_INIT;
		char what[64];
		snprintf(what, sizeof what, "case %zu (%zu)", c, n);
		fresh_queue();
		char **v = make_rcpts(n, &all);
		split(v, n, cases[c].k, cases[c].j, &base, &nb, &adds, &na);
		qsnap_ref bref, dref, fref, found;
		assert_int_equal(qsnap_write(qdir, "base", base.s, nb, &bref), ST_OK);
		assert_int_equal(qsnap_write(qdir, "full", all.s, n, &fref), ST_OK);
		/* the adds and every 10th address of the base, left out: one
		 * binary search each for a few, one pass over the base for many */
		str mixed = STR_INIT;
		size_t nm = 0;
		for (size_t i = 0; i < n; i++)
			if (i % cases[c].k == cases[c].j || i % 10 == 0) {
				str_append(&mixed, v[i], strlen(v[i]) + 1);
				nm++;
			}
		WANT_ST("qdelta_write", qdelta_write(qdir, "delta", bref.gen, mixed.s, nm, &dref),
			ST_OK);
		str_free(&mixed);
		if (dref.count != fref.count || qsnap_find(qdir, "delta", &found) != 0 ||
		    strcmp(found.sha, dref.sha) != 0 || found.count != n) {
			print_error("%s: delta: count %zu, want %zu\n", what, dref.count, n);
			bad++;
		}
		bad += reads_as(what, "a1", &dref, v, n);
		bad += reads_as(what, "a2", &fref, v, n);
		/* a delta on that delta: its base, both adds */
		split(v, n, cases[c].k, (cases[c].j + 1) % cases[c].k, &b2, &nb2, &a2, &na2);
		qsnap_ref d0, d2;
		assert_int_equal(qsnap_write(qdir, "base2", b2.s, nb2, &bref), ST_OK);
		/* half the adds, then a delta from it with the rest */
		str half = STR_INIT;
		const char *p = a2.s;
		size_t nh = 0;
		for (size_t i = 0; i < na2; i++, p += strlen(p) + 1)
			if (i % 2 == 0) {
				str_append(&half, p, strlen(p) + 1);
				nh++;
			}
		WANT_ST("first delta", qdelta_write(qdir, "d0", bref.gen, half.s, nh, &d0), ST_OK);
		WANT_ST("second delta", qdelta_write(qdir, "d2", d0.gen, a2.s, na2, &d2), ST_OK);
		char path[PATH_MAX];
		PATHF(path, "%s/rcpt/g%s", qdir, d2.gen);
		str f = STR_INIT;
		assert_int_equal(fs_read(path, &f, 1 << 24), ST_OK);
		char want[64];
		snprintf(want, sizeof want, "\nbase %s\n", bref.gen);
		if (!strstr(str_c(&f), want)) {
			print_error("%s: a delta on a delta: not on the full base\n", what);
			bad++;
		}
		bad += reads_as(what, "a3", &d2, v, n);
		qsnap_link(qdir, "a4", d2.gen);
		bad += reads_as(what, "a4", &d2, v, n); /* through the item's links */
		str_free(&f);
		str_free(&half);
		free_rcpts(v, n);
		str_free(&all);
		str_free(&base);
		str_free(&adds);
		str_free(&b2);
		str_free(&a2);
	}
	assert_int_equal(bad, 0);
}

/* Too many adds for a delta: ST_NOINPUT (the caller writes a full one). */
static void test_delta_bound(void **state)
{
	(void)state;
	str all = STR_INIT, base = STR_INIT, adds = STR_INIT;
	size_t nb, na;
	qsnap_ref bref, dref;
	fresh_queue();
	char **v = make_rcpts(9000, &all);
	split(v, 9000, 2, 0, &base, &nb, &adds, &na); /* 4500 adds on 4500 */
	assert_int_equal(qsnap_write(qdir, "base", base.s, nb, &bref), ST_OK);
	assert_int_equal(qdelta_write(qdir, "d", bref.gen, adds.s, na, &dref), ST_NOINPUT);
	assert_int_equal(qdelta_write(qdir, "d", bref.gen, adds.s, 4096, &dref), ST_OK);
	assert_int_equal(qdelta_write(qdir, "d", "0123456789abcdef", adds.s, 1, &dref), ST_NOINPUT);
	free_rcpts(v, 9000);
	str_free(&all);
	str_free(&base);
	str_free(&adds);
}

/* Rewrite the file at rcpt/NAME with EDIT applied. */
static void damage_name(const char *name, void (*edit)(str *f))
{
	char path[PATH_MAX];
	str f = STR_INIT;
	PATHF(path, "%s/rcpt/%s", qdir, name);
	assert_int_equal(fs_read(path, &f, 1 << 24), ST_OK);
	edit(&f);
	FILE *fp = fopen(path, "wb"); /* in place: every link sees it */
	assert_non_null(fp);
	assert_int_equal(fwrite(f.s, 1, f.len, fp), f.len);
	fclose(fp);
	str_free(&f);
}

static void flip_first_address(str *f)
{
	strstr(f->s, "\n\n")[2] ^= 1;
}

static void test_delta_damage(void **state)
{
	(void)state;
	static const struct {
		const char *what;
		int in_base; /* damage the base, else the delta */
		void (*edit)(str *f);
		int unlink_base;
	} cases[] = {
	    {"base: one address changed", 1, flip_last_address, 0},
	    {"base: first address changed", 1, flip_first_address, 0},
	    {"base: last address dropped", 1, drop_last_address, 0},
	    {"delta: one address changed", 0, flip_last_address, 0},
	    {"delta: last LF cut", 0, cut_last_lf, 0},
	    {"delta: another generation's header", 0, other_gen, 0},
	    {"base link missing", 0, NULL, 1},
	};
	int bad = 0;
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		str all = STR_INIT, base = STR_INIT, adds = STR_INIT, err = STR_INIT;
		size_t nb, na;
		char name[64], path[PATH_MAX];
		qsnap_ref bref, dref;
		fresh_queue();
		char **v = make_rcpts(600, &all);
		split(v, 600, 3, 1, &base, &nb, &adds, &na);
		assert_int_equal(qsnap_write(qdir, "base", base.s, nb, &bref), ST_OK);
		assert_int_equal(qdelta_write(qdir, "d", bref.gen, adds.s, na, &dref), ST_OK);
		snprintf(name, sizeof name, "g%s", cases[i].in_base ? bref.gen : dref.gen);
		if (cases[i].edit)
			damage_name(name, cases[i].edit);
		if (cases[i].unlink_base) {
			PATHF(path, "%s/rcpt/g%s.base", qdir, dref.gen);
			unlink(path);
		}
		qsnap s;
		fml_status got = qsnap_open(&s, qdir, "a1", &dref, &err);
		if (got != ST_DATAERR) {
			print_error("%s: got %s, want DATAERR\n", cases[i].what, status_name(got));
			bad++;
		}
		qsnap_close(&s);
		free_rcpts(v, 600);
		str_free(&all);
		str_free(&base);
		str_free(&adds);
		str_free(&err);
	}
	assert_int_equal(bad, 0);
}

/* A delta whose adds repeat an address of its base (checksum fitted) is
 * refused: its merge would name that member twice. */
static void test_delta_repeats_base(void **state)
{
	(void)state;
	str all = STR_INIT, base = STR_INIT, adds = STR_INIT, err = STR_INIT, f = STR_INIT;
	size_t nb, na;
	char path[PATH_MAX];
	qsnap_ref bref, dref;
	fresh_queue();
	char **v = make_rcpts(10, &all);
	split(v, 10, 10, 9, &base, &nb, &adds, &na); /* the last one added */
	assert_int_equal(qsnap_write(qdir, "base", base.s, nb, &bref), ST_OK);
	assert_int_equal(qdelta_write(qdir, "d", bref.gen, adds.s, na, &dref), ST_OK);
	/* forge: the delta's adds are the base's last address and the add */
	PATHF(path, "%s/rcpt/g%s", qdir, dref.gen);
	assert_int_equal(fs_read(path, &f, 1 << 20), ST_OK);
	char *data = strstr(f.s, "\n\n") + 2;
	str forged = STR_INIT, lines = STR_INIT;
	str_printf(&lines, "%s\n%s\n", v[8], v[9]);
	str seed = STR_INIT;
	str_printf(&seed, "fmlr-delta %s %zu %s\n%s", bref.gen, bref.count, bref.sha, lines.s);
	char *h =
	    g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)seed.s, (gsize)seed.len);
	str_append(&forged, f.s, (size_t)(data - f.s));
	memcpy(strstr(forged.s, "\nsha256 ") + 8, h, 64);
	char *cnt = strstr(forged.s, "\ncount ");
	cnt[7] = '1', cnt[8] = '1'; /* "count 10" -> "count 11" */
	str_append(&forged, lines.s, lines.len);
	g_free(h);
	FILE *fp = fopen(path, "wb");
	fwrite(forged.s, 1, forged.len, fp);
	fclose(fp);
	memcpy(dref.sha, strstr(forged.s, "\nsha256 ") + 8, 64);
	dref.count = 11;
	qsnap s;
	assert_int_equal(qsnap_open(&s, qdir, "a1", &dref, &err), ST_DATAERR);
	assert_non_null(strstr(str_c(&err), "added again"));
	qsnap_close(&s);
	free_rcpts(v, 10);
	str_free(&all);
	str_free(&base);
	str_free(&adds);
	str_free(&err);
	str_free(&f);
	str_free(&forged);
	str_free(&lines);
	str_free(&seed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),	     cmocka_unit_test(test_parse_ref),
	    cmocka_unit_test(test_damage),	     cmocka_unit_test(test_link_and_sweep),
	    cmocka_unit_test(test_delta_round_trip), cmocka_unit_test(test_delta_bound),
	    cmocka_unit_test(test_delta_damage),     cmocka_unit_test(test_delta_repeats_base),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
