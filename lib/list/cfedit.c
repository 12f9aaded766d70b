/*
 * cfedit: set one variable in a config file.  See cfedit.h.
 *
 * The statement structure follows the config module's reader: a line that
 * starts with a non-blank begins a statement, a line that starts with a
 * blank continues it, '#' lines are skipped anywhere and a blank line ends
 * the statement.  The last statement for NAME is the effective one, so that
 * is the one replaced (its continuation lines dropped; comments between
 * them kept).  Every other byte of the file is kept.
 */
#include "cfedit.h"
#include "util/bytes.h"
#include "util/fs.h"
#include "util/lines.h"
#include "util/msg.h"
#include "util/safefile.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define CFEDIT_FILE_MAX (4 * 1024 * 1024)

static int is_blank(int c)
{
	return c == ' ' || c == '\t';
}

static int ident_char(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

typedef enum { L_BLANK, L_COMMENT, L_CONT, L_START } line_kind;

/* The kind of the line P[0..N) (terminator excluded). */
static line_kind kind_of(const char *p, size_t n)
{
	const char *le = p + n, *q = p;
	while (q < le && is_blank(*q))
		q++;
	if (q == le)
		return L_BLANK;
	if (*q == '#')
		return L_COMMENT;
	return q > p ? L_CONT : L_START;
}

static int names_var(const char *p, size_t n, const char *name)
{
	size_t k = strlen(name);
	if (n < k || memcmp(p, name, k) != 0 || (n > k && ident_char((unsigned char)p[k])))
		return 0;
	const char *q = p + k, *end = p + n;
	while (q < end && is_blank(*q))
		q++;
	return q < end && *q == '=';
}

void cfedit_replace(const char *text, size_t len, const char *name, const char *value, str *out)
{
	lines it;
	size_t ll;
	const char *lp;
	long lineno = 0, target = 0, target_end = 0, cur = 0, cur_end = 0;

	/* pass 1: the last statement for NAME, lines target..target_end */
	for (lines_init(&it, text, len); lines_next(&it, &lp, &ll);) {
		line_kind k = kind_of(lp, ll);
		lineno++;
		if (k == L_START || k == L_BLANK) {
			cur = 0;
			if (k == L_START && names_var(lp, ll, name)) {
				cur = cur_end = target = target_end = lineno;
			}
		} else if (k == L_CONT && cur) {
			cur_end = lineno;
			if (cur == target)
				target_end = cur_end;
		}
	}
	/* pass 2: copy, replacing the statement */
	str_clear(out);
	lineno = 0;
	for (lines_init(&it, text, len); lines_next(&it, &lp, &ll);) {
		line_kind k = kind_of(lp, ll);
		lineno++;
		if (target && lineno == target) {
			str_printf(out, "%s = %s\n", name, value);
			continue;
		}
		if (target && lineno > target && lineno <= target_end && k == L_CONT)
			continue;
		str_append(out, lp, (size_t)(lines_rest(&it) - lp)); /* with its "\n" */
	}
	if (!target) {
		if (out->len && out->s[out->len - 1] != '\n')
			str_putc(out, '\n');
		str_printf(out, "%s = %s\n", name, value);
	}
}

fml_status cfedit_set(const char *path, const char *name, const char *value, str *err)
{
	str text = STR_INIT, out = STR_INIT;
	struct stat st;
	fml_status s;

	str_clear(err);
	if (!*name || !((name[0] >= 'A' && name[0] <= 'Z') || (name[0] >= 'a' && name[0] <= 'z') ||
			name[0] == '_'))
		return status_why(err, ST_DATAERR, "bad variable name");
	for (const char *p = name; *p; p++)
		if (!ident_char((unsigned char)*p))
			return status_why(err, ST_DATAERR, "bad variable name");
	if (bytes_has_ctl(value, strlen(value)) || strchr(value, '\t'))
		return status_why(err, ST_DATAERR, "control character in the value");
	int exists = stat(path, &st) == 0;
	s = fs_read(path, &text, CFEDIT_FILE_MAX);
	if (s == ST_NOINPUT)
		s = ST_OK;
	if (s != ST_OK) {
		str_free(&text);
		return status_why(err, ST_TEMPFAIL, "cannot read %s", path);
	}
	cfedit_replace(str_c(&text), text.len, name, value, &out);
	char dir[PATH_MAX];
	if (fs_path(dir, sizeof dir, "%s", path) < 0) {
		s = status_why(err, ST_TEMPFAIL, "path too long");
		goto out;
	}
	char *slash = strrchr(dir, '/');
	if (!slash)
		snprintf(dir, sizeof dir, ".");
	else
		slash[slash == dir] = 0;
	safefile sf;
	if (safefile_open(&sf, dir, ".config.cf.tmp") != ST_OK) {
		s = status_why(err, ST_TEMPFAIL, "cannot write in %s", dir);
		goto out;
	}
	if (exists && fchmod(sf.fd, st.st_mode & 0755) < 0)
		msg_warn("chmod %s: %s", sf.tmp, strerror(errno));
	if (safefile_write(&sf, out.s ? out.s : "", out.len) != ST_OK) {
		safefile_abort(&sf);
		s = status_why(err, ST_TEMPFAIL, "cannot write %s", path);
		goto out;
	}
	if ((s = safefile_commit(&sf, path)) != ST_OK)
		s = status_why(err, s, "cannot commit %s", path);
out:
	str_free(&text);
	str_free(&out);
	return s;
}
