/* Common includes for cmocka unit tests: tables of cases, "got X, want Y". */
#ifndef FML_UNIT_H
#define FML_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ftw.h>
#include <limits.h>
#include <sys/stat.h>

#include "util/status.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* snprintf into a fixed buffer; truncation fails the test. */
#define PATHF(buf, ...)                                                                            \
	do {                                                                                       \
		int n_ = snprintf(buf, sizeof buf, __VA_ARGS__);                                   \
		if (n_ < 0 || (size_t)n_ >= sizeof buf)                                            \
			fail_msg("%s: truncated", #buf);                                           \
	} while (0)

/* In a table test with a local "int bad": count a wrong status. */
#define WANT_ST(what, got, want)                                                                   \
	do {                                                                                       \
		fml_status g_ = (got);                                                             \
		if (g_ != (want)) {                                                                \
			print_error("%s: got %s, want %s\n", what, status_name(g_),                \
				    status_name(want));                                            \
			bad++;                                                                     \
		}                                                                                  \
	} while (0)

/* A fresh directory $TMPDIR/fml-test-NAME.XXXXXX in BUF; -1 on failure. */
static int unit_tmpdir(char *buf, size_t size, const char *name) __attribute__((unused));
static int unit_tmpdir(char *buf, size_t size, const char *name)
{
	const char *tmp = getenv("TMPDIR");
	int n = snprintf(buf, size, "%s/fml-test-%s.XXXXXX", tmp && *tmp ? tmp : "/tmp", name);
	if (n < 0 || (size_t)n >= size || !mkdtemp(buf))
		return -1;
	return 0;
}

/* unit_tmpdir() with the list home's etc/, var/ and var/db/ in it. */
static int unit_tmphome(char *buf, size_t size, const char *name) __attribute__((unused));
static int unit_tmphome(char *buf, size_t size, const char *name)
{
	static const char *const dirs[] = {"etc", "var", "var/db"};
	char path[PATH_MAX];
	if (unit_tmpdir(buf, size, name) < 0)
		return -1;
	for (size_t i = 0; i < N_ELEMS(dirs); i++) {
		int n = snprintf(path, sizeof path, "%s/%s", buf, dirs[i]);
		if (n < 0 || (size_t)n >= sizeof path || mkdir(path, 0700) != 0)
			return -1;
	}
	return 0;
}

/* nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS) removes a temp tree. */
static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
    __attribute__((unused));
static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

#endif
