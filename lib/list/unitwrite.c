/*
 * unitwrite: writing one archive unit, ARCHIVE_DIR/E.tar.gz, with
 * libarchive (ustar + gzip, entries "spool/N").  See archunit.c for the
 * units and their policy; this is the part of it that needs libarchive,
 * handed to archunit_update() by the programs that link it.
 */
#include "unitwrite.h"
#include "article.h"
#include "util/fs.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/safefile.h"

#include <archive.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define UNIT_BUF 65536

static la_ssize_t unit_write(struct archive *a, void *arg, const void *p, size_t n)
{
	if (safefile_write(arg, p, n) != ST_OK) {
		archive_set_error(a, EIO, "write failed");
		return -1;
	}
	return (la_ssize_t)n;
}

/* Articles FIRST..LAST of the spool into A; the missing ones are logged. */
static fml_status add_block(list_ctx *c, struct archive *a, long first, long last)
{
	char *buf = mem_alloc(UNIT_BUF);
	long missing = 0;
	fml_status st = ST_OK;
	article_store spool; /* the spool alone: a unit is made of spool files */
	article_store_init(&spool, config_str(c->cf, CF_SPOOL_DIR), NULL);
	for (long n = first; n <= last && st == ST_OK; n++) {
		int fd;
		off_t size;
		struct stat sb;
		if ((st = article_open(&spool, n, &fd, &size)) == ST_NOINPUT) {
			missing++;
			st = ST_OK;
			continue;
		}
		if (st != ST_OK)
			break;
		if (fstat(fd, &sb) < 0) {
			msg_error("fstat article %ld: %s", n, strerror(errno));
			st = ST_TEMPFAIL;
		} else {
			st = article_tar_entry(a, n, fd, size, &sb.st_mtim, buf, UNIT_BUF);
		}
		close(fd);
	}
	if (missing)
		msg_warn("archive unit %ld.tar.gz: %ld of articles %ld-%ld not in the spool: "
			 "left out",
			 last, missing, first, last);
	article_store_free(&spool);
	free(buf);
	return st;
}

/* Write ARCHIVE_DIR/E.tar.gz for articles E-U+1 .. E. */
fml_status unitwrite_unit(list_ctx *c, long e, long u)
{
	char final[4096], prefix[64];
	safefile sf;
	snprintf(prefix, sizeof prefix, ".tmp.%ld", e);
	if (fs_path(final, sizeof final, "%s/%ld.tar.gz", config_str(c->cf, CF_ARCHIVE_DIR), e) <
		0 ||
	    safefile_open(&sf, config_str(c->cf, CF_ARCHIVE_DIR), prefix) != ST_OK)
		return ST_TEMPFAIL;
	struct archive *a = archive_write_new();
	fml_status st = ST_TEMPFAIL;
	if (archive_write_set_format_ustar(a) != ARCHIVE_OK ||
	    archive_write_add_filter_gzip(a) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
	    archive_write_open(a, &sf, NULL, unit_write, NULL) != ARCHIVE_OK)
		msg_error("archive unit %ld: %s", e, archive_error_string(a));
	else if ((st = add_block(c, a, e - u + 1, e)) == ST_OK &&
		 archive_write_close(a) != ARCHIVE_OK) {
		msg_error("archive unit %ld: %s", e, archive_error_string(a));
		st = ST_TEMPFAIL;
	}
	archive_write_free(a);
	if (st == ST_OK)
		st = safefile_commit(&sf, final);
	else
		safefile_abort(&sf);
	if (st == ST_OK)
		msg_info("archive unit %s written (articles %ld-%ld)", final, e - u + 1, e);
	return st;
}
