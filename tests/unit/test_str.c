/*
 * Unit tests for lib/util/str.c: the length-carrying string (append, printf
 * growth, binary data, truncate) and the byte helpers bytes_casecmp and
 * bytes_has_ctl.  Each test is a table of cases; a failing case prints
 * "got X, want Y".
 */
#include "unit.h"

#include "util/msg.h"
#include "util/str.h"
#include "util/mem.h"
#include "util/bytes.h"
#include "util/lines.h"
#include "util/status.h"

/* Invariants every str must keep: s[len] == 0 and cap > len. */
static int check_invariants(const char *what, const str *s)
{
	if (s->s == NULL) {
		if (s->len != 0 || s->cap != 0) {
			print_error("%s: NULL buffer with len %zu cap %zu\n", what, s->len, s->cap);
			return 1;
		}
		return 0;
	}
	if (s->cap <= s->len) {
		print_error("%s: got cap %zu, want > len %zu\n", what, s->cap, s->len);
		return 1;
	}
	if (s->s[s->len] != 0) {
		print_error("%s: got safety byte 0x%02x, want 0\n", what,
			    (unsigned char)s->s[s->len]);
		return 1;
	}
	return 0;
}

static int check_bytes(const char *what, const str *s, const char *want, size_t wlen)
{
	int bad = check_invariants(what, s);
	if (s->len != wlen || (wlen && memcmp(s->s, want, wlen) != 0)) {
		print_error("%s: got %zu bytes \"%.*s\", want %zu bytes \"%.*s\"\n", what, s->len,
			    (int)s->len, str_c(s), wlen, (int)wlen, want);
		bad++;
	}
	return bad;
}

static void test_init_and_empty(void **state)
{
	str s = STR_INIT;
	int bad = 0;
	bad += check_bytes("STR_INIT", &s, "", 0);
	if (strcmp(str_c(&s), "") != 0) {
		print_error("str_c of a never-allocated str: got \"%s\", want \"\"\n", str_c(&s));
		bad++;
	}
	str_truncate(&s, 0); /* must not touch the NULL buffer */
	str_clear(&s);
	bad += check_bytes("clear/truncate of empty", &s, "", 0);
	str_append(&s, "", 0);
	bad += check_bytes("append 0 bytes", &s, "", 0);
	if (s.s == NULL || strcmp(str_c(&s), "") != 0) {
		print_error("append 0 bytes: got buffer %p, want an allocated \"\"\n", (void *)s.s);
		bad++;
	}
	str_free(&s);
	bad += check_bytes("after free", &s, "", 0);
	str_init(&s);
	bad += check_bytes("str_init", &s, "", 0);
	assert_int_equal(bad, 0);
}

static void test_append(void **state)
{
	static const struct {
		const char *const parts[4];
		const char *want;
	} c[] = {
	    {{"a", NULL}, "a"},
	    {{"a", "b", "c", NULL}, "abc"},
	    {{"", "x", "", NULL}, "x"},
	    {{"hello, ", "world", NULL}, "hello, world"},
	    {{"0123456789012345678901234567890123456789012345678901234567890", "0123456789", NULL},
	     "01234567890123456789012345678901234567890123456789012345678900123456789"},
	};
	int bad = 0;
	str s = STR_INIT;
	char what[64];
	for (size_t i = 0; i < N_ELEMS(c); i++) {
		str_clear(&s);
		for (size_t k = 0; c[i].parts[k]; k++) {
			if (k % 2)
				str_puts(&s, c[i].parts[k]);
			else
				str_append(&s, c[i].parts[k], strlen(c[i].parts[k]));
		}
		snprintf(what, sizeof what, "append case %zu", i);
		bad += check_bytes(what, &s, c[i].want, strlen(c[i].want));
	}
	/* putc, set, sets replace or extend as documented */
	str_clear(&s);
	for (int ch = 'a'; ch <= 'z'; ch++)
		str_putc(&s, ch);
	bad += check_bytes("putc a..z", &s, "abcdefghijklmnopqrstuvwxyz", 26);
	str_putc(&s, 0x100 + 'A'); /* an int: only the low byte is kept */
	bad += check_bytes("putc 0x141", &s, "abcdefghijklmnopqrstuvwxyzA", 27);
	str_set(&s, "xyz", 2);
	bad += check_bytes("set", &s, "xy", 2);
	str_sets(&s, "replaced");
	bad += check_bytes("sets", &s, "replaced", 8);
	str_clear(&s);
	bad += check_bytes("clear", &s, "", 0);
	/* appending a str to itself must not read freed memory: copy first */
	str_sets(&s, "ab");
	for (int k = 0; k < 10; k++) {
		char *copy = mem_strndup(s.s, s.len);
		size_t n = s.len;
		str_append(&s, copy, n);
		free(copy);
	}
	if (s.len != 2048 || memcmp(s.s + 2046, "ab", 2) != 0) {
		print_error("doubling: got len %zu, want 2048\n", s.len);
		bad++;
	}
	bad += check_invariants("doubling", &s);
	str_free(&s);
	assert_int_equal(bad, 0);
}

/* str_printf appends; its output must match snprintf at every size,
 * across the 64-byte start and each doubling of the buffer. */
static void test_printf_growth(void **state)
{
	static const size_t sizes[] = {0,    1,	   2,	 31,   62,    63,    64,     65,
				       126,  127,  128,	 129,  255,   256,   257,    1000,
				       4095, 4096, 4097, 8191, 65535, 65536, 100000, 1 << 20};
	static const char *const prefixes[] = {"", "p", "prefix-of-some-length:"};
	int bad = 0;
	size_t max = sizes[N_ELEMS(sizes) - 1];
	char *fill = mem_alloc(max + 1);
	for (size_t k = 0; k < max; k++)
		fill[k] = (char)('a' + k % 26);
	fill[max] = 0;
	char *want = mem_alloc(max + 200);
	str s = STR_INIT;
	char what[96];
	for (size_t p = 0; p < N_ELEMS(prefixes); p++) {
		for (size_t i = 0; i < N_ELEMS(sizes); i++) {
			size_t n = sizes[i];
			str_init(&s);
			str_puts(&s, prefixes[p]);
			str_printf(&s, "[%.*s|%d|%s]", (int)n, fill, (int)n, "end");
			int wl = snprintf(want, max + 200, "%s[%.*s|%d|%s]", prefixes[p], (int)n,
					  fill, (int)n, "end");
			snprintf(what, sizeof what, "printf prefix %zu size %zu", p, n);
			bad += check_bytes(what, &s, want, (size_t)wl);
			/* a second printf appends, it does not overwrite */
			str_printf(&s, "%s", "+tail");
			memcpy(want + wl, "+tail", 6);
			snprintf(what, sizeof what, "printf twice prefix %zu size %zu", p, n);
			bad += check_bytes(what, &s, want, (size_t)wl + 5);
			str_free(&s);
		}
	}
	/* an empty format on a fresh str gives an allocated "" */
	str_init(&s);
	str_printf(&s, "%s", "");
	bad += check_bytes("printf empty", &s, "", 0);
	str_free(&s);
	free(fill);
	free(want);
	assert_int_equal(bad, 0);
}

/* Everything from mail is binary: NULs, 8-bit bytes and CR are kept. */
static void test_binary(void **state)
{
	static const struct {
		const char *data;
		size_t len;
	} c[] = {
	    {"\0", 1}, {"a\0b", 3}, {"\0\0\0\0", 4}, {"x\0\r\n\xff\x80y", 7}, {"trailing\0", 9},
	};
	int bad = 0;
	str s = STR_INIT, all = STR_INIT;
	char what[64];
	size_t total = 0;
	for (size_t i = 0; i < N_ELEMS(c); i++) {
		str_set(&s, c[i].data, c[i].len);
		snprintf(what, sizeof what, "binary case %zu", i);
		bad += check_bytes(what, &s, c[i].data, c[i].len);
		str_append(&all, c[i].data, c[i].len);
		total += c[i].len;
	}
	if (all.len != total) {
		print_error("binary concat: got len %zu, want %zu\n", all.len, total);
		bad++;
	}
	bad += check_invariants("binary concat", &all);
	/* a NUL put with putc counts as a byte */
	str_clear(&s);
	str_putc(&s, 0);
	str_putc(&s, 'z');
	bad += check_bytes("putc NUL", &s, "\0z", 2);
	/* large binary block crossing the growth steps */
	str_clear(&s);
	unsigned char block[3000];
	for (size_t k = 0; k < sizeof block; k++)
		block[k] = (unsigned char)(k * 7);
	for (int r = 0; r < 50; r++)
		str_append(&s, block, sizeof block);
	int same = s.len == 50 * sizeof block;
	for (int r = 0; same && r < 50; r++)
		same = memcmp(s.s + (size_t)r * sizeof block, block, sizeof block) == 0;
	if (!same) {
		print_error("binary 50 x 3000: got len %zu, want %zu with the same bytes\n", s.len,
			    50 * sizeof block);
		bad++;
	}
	bad += check_invariants("binary 50 x 3000", &s);
	str_free(&s);
	str_free(&all);
	assert_int_equal(bad, 0);
}

static void test_truncate(void **state)
{
	static const struct {
		const char *init;
		size_t to;
		const char *want;
	} c[] = {
	    {"hello", 0, ""},	   {"hello", 1, "h"},	  {"hello", 4, "hell"},
	    {"hello", 5, "hello"}, {"hello", 6, "hello"}, {"hello", 1000, "hello"},
	    {"", 0, ""},	   {"", 3, ""},
	};
	int bad = 0;
	str s = STR_INIT;
	char what[64];
	for (size_t i = 0; i < N_ELEMS(c); i++) {
		str_sets(&s, c[i].init);
		str_truncate(&s, c[i].to);
		snprintf(what, sizeof what, "truncate \"%s\" to %zu", c[i].init, c[i].to);
		bad += check_bytes(what, &s, c[i].want, strlen(c[i].want));
		/* appending after a truncate continues at the new end */
		str_puts(&s, "!");
		size_t wl = strlen(c[i].want);
		char w[16];
		snprintf(w, sizeof w, "%s!", c[i].want);
		bad += check_bytes(what, &s, w, wl + 1);
	}
	str_free(&s);
	assert_int_equal(bad, 0);
}

static int sign(int v)
{
	return (v > 0) - (v < 0);
}

static void test_casecmp_n(void **state)
{
	static const struct {
		const char *a;
		size_t alen;
		const char *b;
		size_t blen;
		int want; /* sign */
	} c[] = {
	    {"", 0, "", 0, 0},
	    {"abc", 3, "abc", 3, 0},
	    {"ABC", 3, "abc", 3, 0},
	    {"Subject", 7, "sUBJECT", 7, 0},
	    {"abc", 3, "abd", 3, -1},
	    {"abd", 3, "ABC", 3, 1},
	    {"ab", 2, "abc", 3, -1},
	    {"abc", 3, "ab", 2, 1},
	    {"", 0, "a", 1, -1},
	    {"a", 1, "", 0, 1},
	    /* lengths, not NULs, bound the comparison */
	    {"abcXXX", 3, "ABCyyy", 3, 0},
	    {"abc", 2, "abd", 2, 0},
	    {"Sub\0ect", 7, "Subject", 7, -1}, /* a NUL in a field name never matches */
	    {"To", 2, "to", 2, 0},
	    {"x-ml-name", 9, "X-ML-Name", 9, 0},
	    {"x-ml-name", 9, "X-ML-Names", 10, -1},
	};
	int bad = 0;
	for (size_t i = 0; i < N_ELEMS(c); i++) {
		int got = sign(bytes_casecmp(c[i].a, c[i].alen, c[i].b, c[i].blen));
		if (got != c[i].want) {
			print_error(
			    "bytes_casecmp(\"%.*s\", %zu, \"%.*s\", %zu): got %d, want %d\n",
			    (int)c[i].alen, c[i].a, c[i].alen, (int)c[i].blen, c[i].b, c[i].blen,
			    got, c[i].want);
			bad++;
		}
		/* antisymmetric */
		int rev = sign(bytes_casecmp(c[i].b, c[i].blen, c[i].a, c[i].alen));
		if (rev != -c[i].want) {
			print_error("bytes_casecmp reversed case %zu: got %d, want %d\n", i, rev,
				    -c[i].want);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

static void test_bytes_has_ctl(void **state)
{
	static const struct {
		const char *p;
		size_t n;
		int want;
	} c[] = {
	    {"", 0, 0},
	    {"plain text", 10, 0},
	    {"tab\there", 8, 0},
	    {"\t", 1, 0},
	    {" ~", 2, 0},
	    {"caf\xc3\xa9", 5, 0}, /* 8-bit is not a control byte here */
	    {"\x80\xff", 2, 0},
	    {"cr\r", 3, 1},
	    {"lf\nx", 4, 1},
	    {"crlf\r\n", 6, 1},
	    {"nul\0x", 5, 1},
	    {"\0", 1, 1},
	    {"del\x7f", 4, 1},
	    {"\x01", 1, 1},
	    {"esc\x1b[0m", 7, 1},
	    {"\x1f", 1, 1},
	    {"\x0b", 1, 1}, /* VT */
	    {"\x0c", 1, 1}, /* FF */
	    /* only N bytes are examined */
	    {"ok\nbad", 2, 0},
	    {"ok\0", 2, 0},
	};
	int bad = 0;
	for (size_t i = 0; i < N_ELEMS(c); i++) {
		int got = bytes_has_ctl(c[i].p, c[i].n);
		if (got != c[i].want) {
			print_error("bytes_has_ctl case %zu (%zu bytes): got %d, want %d\n", i,
				    c[i].n, got, c[i].want);
			bad++;
		}
	}
	/* every byte value, one at a time */
	for (int b = 0; b < 256; b++) {
		char ch = (char)b;
		int want = (b < 0x20 && b != '\t') || b == 0x7f;
		int got = bytes_has_ctl(&ch, 1);
		if (got != want) {
			print_error("bytes_has_ctl(0x%02x): got %d, want %d\n", b, got, want);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

static void test_xalloc(void **state)
{
	int bad = 0;
	char *p = mem_strdup("hello");
	if (strcmp(p, "hello") != 0) {
		print_error("mem_strdup: got \"%s\", want \"hello\"\n", p);
		bad++;
	}
	free(p);
	p = mem_strndup("hello", 3);
	if (strcmp(p, "hel") != 0) {
		print_error("mem_strndup: got \"%s\", want \"hel\"\n", p);
		bad++;
	}
	free(p);
	p = mem_strndup("a\0b", 3); /* copies N bytes, NUL-terminated after them */
	if (memcmp(p, "a\0b\0", 4) != 0) {
		print_error("mem_strndup with NUL: wrong bytes\n");
		bad++;
	}
	free(p);
	int *v = mem_calloc(10, sizeof *v);
	for (int k = 0; k < 10; k++)
		bad += v[k] != 0;
	v = mem_reallocarray(v, 1000, sizeof *v);
	v[999] = 7;
	bad += v[999] != 7;
	free(v);
	free(mem_alloc(0)); /* a zero-byte request is not an error */
	assert_int_equal(bad, 0);
}

/* lines_next: got the lines joined by '|', want WANT. */
static void test_lines(void **state)
{
	static const struct {
		const char *in;
		const char *want;
		size_t count;
		int nl; /* the last line had its "\n" */
	} c[] = {
	    {"", "", 0, 0},
	    {"\n", "", 1, 1},
	    {"a", "a", 1, 0},
	    {"a\n", "a", 1, 1},
	    {"a\nb", "a|b", 2, 0},
	    {"a\n\nb\n", "a||b", 3, 1},
	    {"a\r\nb\r\n", "a\r|b\r", 2, 1},
	    {"\n\n", "|", 2, 1},
	};
	int bad = 0;
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		lines it;
		const char *l;
		size_t n, count = 0;
		str got = STR_INIT;
		for (lines_init(&it, c[i].in, strlen(c[i].in)); lines_next(&it, &l, &n); count++) {
			if (count)
				str_putc(&got, '|');
			str_append(&got, l, n);
		}
		if (strcmp(str_c(&got), c[i].want) != 0 || count != c[i].count) {
			fprintf(stderr, "lines case %zu: got \"%s\" (%zu), want \"%s\" (%zu)\n", i,
				str_c(&got), count, c[i].want, c[i].count);
			bad++;
		}
		if (lines_rest(&it) != c[i].in + strlen(c[i].in) || it.nl != c[i].nl)
			bad++;
		str_free(&got);
	}
	assert_int_equal(bad, 0);
}

static void test_status_why(void **state)
{
	str why = STR_INIT;
	str_sets(&why, "old reason");
	assert_int_equal(status_why(&why, ST_DATAERR, "bad %s %d", "line", 3), ST_DATAERR);
	assert_string_equal(str_c(&why), "bad line 3");
	assert_int_equal(status_why(NULL, ST_TEMPFAIL, "nobody asked"), ST_TEMPFAIL);
	str_free(&why);
}

int main(void)
{
	msg_set_stderr(0);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_init_and_empty), cmocka_unit_test(test_append),
	    cmocka_unit_test(test_printf_growth),  cmocka_unit_test(test_binary),
	    cmocka_unit_test(test_truncate),	   cmocka_unit_test(test_casecmp_n),
	    cmocka_unit_test(test_bytes_has_ctl),  cmocka_unit_test(test_xalloc),
	    cmocka_unit_test(test_lines),	   cmocka_unit_test(test_status_why),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
