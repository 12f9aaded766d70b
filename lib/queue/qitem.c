/*
 * qitem: write queue items (see qitem.h and doc/fml-queue.5).  Failure
 * policy: any error aborts the item (temp file removed) and returns
 * ST_TEMPFAIL; nothing appears in new/ unless it is complete and fsynced,
 * and its name is durable once qitem_commit() (or the caller's
 * qitem_sync_new() after qitem_commit_nodir()) returns ST_OK.
 */
#include "qitem.h"
#include "util/fs.h"
#include "util/msg.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static const char *const areas[] = {"new", "deferred", "sent", "drop", "corrupt"};

static int valid_name(const char *name)
{
	if (!*name || strlen(name) > 200)
		return 0;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-'))
			return 0;
	return name[0] != '.';
}

static fml_status begin(qitem_writer *w, const char *queue_dir, const char *name, const char *tmp)
{
	char tmpdir[4096];
	memset(w, 0, sizeof *w);
	if (!valid_name(name))
		msg_panic("qitem_begin: bad name");
	if (fs_path(tmpdir, sizeof tmpdir, "%s/tmp", queue_dir) < 0 ||
	    fs_path(w->final, sizeof w->final, "%s/new/%s", queue_dir, name) < 0)
		return ST_TEMPFAIL;
	if ((tmp ? safefile_open_reuse(&w->sf, tmp) : safefile_open(&w->sf, tmpdir, name)) != ST_OK)
		return ST_TEMPFAIL;
	sha256_init(&w->sha);
	return ST_OK;
}

fml_status qitem_begin(qitem_writer *w, const char *queue_dir, const char *name)
{
	return begin(w, queue_dir, name, NULL);
}

fml_status qitem_begin_tmp(qitem_writer *w, const char *queue_dir, const char *name,
			   const char *tmp)
{
	return begin(w, queue_dir, name, tmp);
}

fml_status qitem_write(qitem_writer *w, const void *p, size_t n)
{
	sha256_update(&w->sha, p, n);
	w->len += (long long)n;
	return safefile_write(&w->sf, p, n);
}

fml_status qitem_envelope_head(qitem_writer *w, const char *sender, const char *list_name,
			       long article)
{
	str s = STR_INIT;
	str_printf(&s, "FMLQ 1\nsender %s\ncreated %lld\nlist %s\n", sender, (long long)time(NULL),
		   list_name);
	if (article > 0)
		str_printf(&s, "article %ld\n", article);
	fml_status st = qitem_write(w, s.s, s.len);
	str_free(&s);
	return st;
}

void qitem_rcpt_line(str *out, const char *addr, size_t len)
{
	str_puts(out, "rcpt - ");
	str_append(out, addr, len);
	str_putc(out, '\n');
}

fml_status qitem_rcpts_line(qitem_writer *w, const char *gen, size_t count, const char *sha)
{
	str s = STR_INIT;
	str_printf(&s, "rcpts %s %zu %s\n\n", gen, count, sha);
	fml_status st = qitem_write(w, s.s, s.len);
	str_free(&s);
	return st;
}

fml_status qitem_envelope(qitem_writer *w, const char *sender, const char *list_name, long article,
			  const char *rcpts, size_t n)
{
	str s = STR_INIT;
	fml_status st = qitem_envelope_head(w, sender, list_name, article);
	const char *p = rcpts;
	for (size_t i = 0; i < n && st == ST_OK; i++) {
		size_t l = strlen(p);
		qitem_rcpt_line(&s, p, l);
		p += l + 1;
	}
	str_putc(&s, '\n');
	if (st == ST_OK)
		st = qitem_write(w, s.s, s.len);
	str_free(&s);
	return st;
}

static fml_status trailer(qitem_writer *w)
{
	char buf[QITEM_TRAILER_LEN + 1], hex[SHA256_HEX];
	sha256_hex(&w->sha, hex);
	int n = snprintf(buf, sizeof buf, "\nFMLQ-END %020lld %s\n", w->len, hex);
	if (n != QITEM_TRAILER_LEN)
		msg_panic("qitem trailer length %d", n);
	w->sealed = 1;
	return safefile_write(&w->sf, buf, (size_t)n);
}

fml_status qitem_seal(qitem_writer *w)
{
	if (trailer(w) == ST_OK && safefile_start_sync(&w->sf) == ST_OK)
		return ST_OK;
	safefile_abort(&w->sf);
	return ST_TEMPFAIL;
}

/* the trailer (unless sealed), then the file fsynced and renamed into
 * new/; new/ is fsynced when SYNC_DIR, else left to the caller
 * (qitem_sync_new) */
static fml_status commit(qitem_writer *w, int sync_dir)
{
	if (!w->sealed && trailer(w) != ST_OK) {
		safefile_abort(&w->sf);
		return ST_TEMPFAIL;
	}
	return sync_dir ? safefile_commit(&w->sf, w->final) /* tmp/ -> new/, new/ fsynced */
			: safefile_commit_nodir(&w->sf, w->final);
}

fml_status qitem_commit(qitem_writer *w)
{
	return commit(w, 1);
}

fml_status qitem_commit_nodir(qitem_writer *w)
{
	return commit(w, 0);
}

fml_status qitem_sync_new(const char *queue_dir)
{
	char path[4096];
	if (fs_path(path, sizeof path, "%s/new", queue_dir) < 0)
		return ST_TEMPFAIL;
	return fs_fsync_dir(path);
}

void qitem_abort(qitem_writer *w)
{
	safefile_abort(&w->sf);
}

int qitem_exists(const char *queue_dir, const char *name)
{
	char path[4096];
	size_t nl = strlen(name);
	for (size_t i = 0; i < sizeof areas / sizeof areas[0]; i++) {
		if (fs_path(path, sizeof path, "%s/%s/%s", queue_dir, areas[i], name) == 0 &&
		    fs_exists(path))
			return 1;
	}
	/* active/NAME.<pid>; tmp/ does not count: nothing there is committed */
	if (fs_path(path, sizeof path, "%s/active", queue_dir) < 0)
		return 0;
	DIR *d = opendir(path);
	if (!d)
		return 0;
	struct dirent *de;
	int found = 0;
	while (!found && (de = readdir(d)) != NULL)
		found = strncmp(de->d_name, name, nl) == 0 && de->d_name[nl] == '.';
	closedir(d);
	return found;
}

void qitem_unique_name(const char *prefix, char *buf, size_t size)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	snprintf(buf, size, "%s.%lld.%06ld.%d", prefix, (long long)tv.tv_sec, (long)tv.tv_usec,
		 (int)getpid());
}
