/*
 * cmdrecord: the per-mail record of commands done.  See cmdrecord.h.
 * Everything here runs under the list lock (the drain).
 */
#include "cmdrecord.h"
#include "util/bytes.h"
#include "util/fs.h"
#include "util/lines.h"
#include "util/msg.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CMDRECORD_READ_LIMIT (4 * 1024 * 1024)

fml_status cmdrecord_open(cmdrecord *r, const char *dir, const char *id)
{
	memset(r, 0, sizeof *r);
	str_init(&r->raw);
	if (fs_path(r->path, sizeof r->path, "%s/var/db/cmd/%s", dir, id) < 0)
		return ST_TEMPFAIL;
	fml_status st = fs_read(r->path, &r->raw, CMDRECORD_READ_LIMIT);
	if (st == ST_NOINPUT)
		return ST_OK;
	if (st != ST_OK)
		return ST_TEMPFAIL;
	/* after a torn line, the next append starts a fresh one */
	r->fresh = r->raw.len && r->raw.s[r->raw.len - 1] != '\n';
	return ST_OK;
}

void cmdrecord_free(cmdrecord *r)
{
	str_free(&r->raw);
}

/* The first whole line "WORD I" or "WORD I TEXT"; its TEXT (or "") in
 * *TEXT, *TLEN. */
static int find(const cmdrecord *r, const char *word, size_t i, const char **text, size_t *tlen)
{
	char head[64];
	int hn = snprintf(head, sizeof head, "%s %zu", word, i);
	lines it;
	const char *p;
	size_t n;
	for (lines_init(&it, r->raw.s, r->raw.len); lines_next(&it, &p, &n);) {
		if (p + n == r->raw.s + r->raw.len)
			break; /* a torn last line */
		if (n < (size_t)hn || memcmp(p, head, (size_t)hn) != 0 ||
		    (n > (size_t)hn && p[hn] != ' '))
			continue;
		*text = n > (size_t)hn ? p + hn + 1 : p + n;
		*tlen = n > (size_t)hn ? n - (size_t)hn - 1 : 0;
		return 1;
	}
	return 0;
}

int cmdrecord_done(const cmdrecord *r, size_t i, str *out, int *state)
{
	const char *t;
	size_t n;
	if (!find(r, "done", i, &t, &n) || n < 2 || t[0] < '0' || t[0] > '9' || t[1] != ' ')
		return 0;
	*state = t[0] - '0';
	t += 2;
	n -= 2;
	for (size_t k = 0; k < n; k++) {
		int hi, lo;
		if (t[k] == '%' && k + 2 < n &&
		    (hi = bytes_hex_value((unsigned char)t[k + 1])) >= 0 &&
		    (lo = bytes_hex_value((unsigned char)t[k + 2])) >= 0) {
			str_putc(out, (char)(hi * 16 + lo));
			k += 2;
		} else {
			str_putc(out, t[k]);
		}
	}
	return 1;
}

int cmdrecord_begun(const cmdrecord *r, size_t i)
{
	const char *t;
	size_t n;
	return find(r, "begin", i, &t, &n) && !find(r, "done", i, &t, &n);
}

static fml_status append(cmdrecord *r, const str *line, int durable)
{
	char dir[4096];
	str out = STR_INIT;
	if (r->fresh)
		str_putc(&out, '\n');
	str_append(&out, line->s, line->len);
	fs_dirname(r->path, dir, sizeof dir);
	fml_status st = fs_mkdirs(dir, 0700);
	if (st == ST_OK)
		st = durable ? fs_append_sync(r->path, out.s, out.len)
			     : fs_append_line(r->path, out.s, out.len);
	if (st == ST_OK) {
		str_append(&r->raw, out.s, out.len);
		r->fresh = 0;
	}
	str_free(&out);
	return st;
}

fml_status cmdrecord_begin(cmdrecord *r, size_t i)
{
	str line = STR_INIT;
	str_printf(&line, "begin %zu\n", i);
	fml_status st = append(r, &line, 1);
	str_free(&line);
	return st;
}

fml_status cmdrecord_add(cmdrecord *r, size_t i, int state, const char *text, size_t len,
			 int durable)
{
	str line = STR_INIT;
	str_printf(&line, "done %zu %d ", i, state < 0 || state > 9 ? 0 : state);
	for (size_t k = 0; k < len; k++) {
		unsigned char ch = (unsigned char)text[k];
		if (ch < 0x20 || ch == '%' || ch == 0x7f)
			str_printf(&line, "%%%02X", ch);
		else
			str_putc(&line, (char)ch);
	}
	str_putc(&line, '\n');
	fml_status st = append(r, &line, durable);
	str_free(&line);
	return st;
}

fml_status cmdrecord_remove(const char *dir, const char *id)
{
	char path[4096];
	if (fs_path(path, sizeof path, "%s/var/db/cmd/%s", dir, id) < 0)
		return ST_TEMPFAIL;
	if (unlink(path) < 0 && errno != ENOENT) {
		msg_warn("unlink %s: %s", path, strerror(errno));
		return ST_TEMPFAIL;
	}
	return ST_OK;
}

void cmdrecord_sweep(const char *dir, time_t now, long age)
{
	char area[4096], path[4096];
	struct stat st;
	if (fs_path(area, sizeof area, "%s/var/db/cmd", dir) < 0)
		return;
	DIR *d = opendir(area);
	struct dirent *de;
	while (d && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' ||
		    fs_path(path, sizeof path, "%s/var/incoming/%s", dir, de->d_name) < 0 ||
		    fs_exists(path) || fs_path(path, sizeof path, "%s/%s", area, de->d_name) < 0 ||
		    lstat(path, &st) < 0 || !S_ISREG(st.st_mode) || now - st.st_mtime <= age)
			continue;
		msg_warn("removing the record of a finished command mail: %s", path);
		unlink(path);
	}
	if (d)
		closedir(d);
}
