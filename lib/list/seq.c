/*
 * seq: the article numbers of a list: the last one (DIR/seq) and the floor
 * the archive units set.  See seq.h.  Apart from article.c and archunit.c
 * because the post path needs these and nothing of libarchive: the alias
 * pipe links without it.
 */
#include "seq.h"
#include "artrange.h"
#include "util/fs.h"
#include "util/msg.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

long seq_name_number(const char *name, const char *suffix)
{
	const char *p = name;
	long v;
	if (*p == '0' || artrange_parse_number(&p, &v) <= 0 || strcmp(p, suffix) != 0)
		return 0;
	return v;
}

fml_status seq_units(const char *archive_dir, long n, long *ge, long *max)
{
	*ge = *max = 0;
	if (!archive_dir || !*archive_dir)
		return ST_OK;
	int dfd = open(archive_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) {
		if (errno == ENOENT)
			return ST_OK;
		msg_error("open %s: %s", archive_dir, strerror(errno));
		return ST_TEMPFAIL;
	}
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return ST_TEMPFAIL;
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		long e = seq_name_number(de->d_name, ".tar.gz");
		struct stat st;
		/* never a symlink, a directory or a FIFO */
		if (e <= 0 || fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (e >= n && (*ge == 0 || e < *ge))
			*ge = e;
		if (e > *max)
			*max = e;
	}
	closedir(d);
	return ST_OK;
}

/* Is ARCHIVE_DIR/E.tar.gz there (a regular file)? */
static int unit_exists(list_ctx *c, long e)
{
	char path[4096];
	struct stat st;
	return fs_path(path, sizeof path, "%s/%ld.tar.gz", config_str(c->cf, CF_ARCHIVE_DIR), e) ==
		   0 &&
	       lstat(path, &st) == 0 && S_ISREG(st.st_mode);
}

long seq_floor(list_ctx *c, long seq)
{
	long u = (long)config_int(c->cf, CF_ARCHIVE_UNIT), ge, max;
	if (seq > 0 && u > 0 && !unit_exists(c, (seq / u + 1) * u))
		return 0;
	if (seq_units(config_str(c->cf, CF_ARCHIVE_DIR), 1, &ge, &max) != ST_OK)
		return 0;
	return max > seq ? max : 0;
}

long seq_last(const char *dir)
{
	char path[PATH_MAX];
	str s = STR_INIT;
	long n = 0;
	if (fs_path(path, sizeof path, "%s/seq", dir) == 0 && fs_read(path, &s, 64) == ST_OK)
		n = strtol(str_c(&s), NULL, 10);
	str_free(&s);
	return n > 0 ? n : 0;
}

void seq_raise(const char *dir, long n)
{
	char path[PATH_MAX], buf[32];
	if (seq_last(dir) >= n)
		return;
	int l = snprintf(buf, sizeof buf, "%ld\n", n);
	/* seq is a hint (spool/N is the truth): in place, not fsynced */
	if (fs_path(path, sizeof path, "%s/seq", dir) == 0)
		fs_overwrite(path, buf, (size_t)l);
}
