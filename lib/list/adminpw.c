/*
 * adminpw: remote administration passwords (DIR/etc/passwd) and the
 * lockout state (DIR/var/db/adminauth).  See adminpw.h.
 *
 * Hashes are yescrypt from libcrypt, made and checked with crypt_rn() on a
 * heap struct crypt_data (it is large), which is wiped afterwards, as is
 * every copy of a password.  The stored and the computed hash are compared
 * in constant time; an address without an entry costs the same crypt_rn()
 * on a dummy setting.  Both files are rewritten with safefile_replace(), whose
 * temp file is made 0600 and renamed: the mode is 0600 whatever the umask.
 * On rewrite the other lines of etc/passwd (comments, blank lines, other
 * addresses) are kept as they were.
 *
 * Failure policy: I/O errors are logged and ST_TEMPFAIL (-1 from the
 * check).  adminpw_locked() fails closed: when the state cannot be read,
 * admin commands are locked.  A damaged state line is logged and read as
 * no failures.
 */
#include "adminpw.h"
#include "mail/addr.h"
#include "util/fs.h"
#include "util/lines.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/safefile.h"
#include "util/str.h"

#include <crypt.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ADMINPW_FILE_MAX (1024 * 1024)

static int ct_streq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), n = la > lb ? la : lb;
	unsigned char d = la != lb;
	for (size_t i = 0; i < n; i++)
		d |= (unsigned char)((i < la ? a[i] : 0) ^ (i < lb ? b[i] : 0));
	return d == 0;
}

static int addr_ok(const char *addr)
{
	if (!*addr)
		return 0;
	for (const unsigned char *p = (const unsigned char *)addr; *p; p++)
		if (*p < '!' || *p > '~')
			return 0;
	return 1;
}

/* crypt_rn(PASSWORD, SETTING) into OUT; 0 when crypt refuses. */
static int hash_with(const char *password, const char *setting, str *out)
{
	struct crypt_data *cd = mem_calloc(1, sizeof *cd);
	const char *h = crypt_rn(password, setting, cd, (int)sizeof *cd);
	int ok = h && h[0] != '*';
	if (ok)
		str_sets(out, h);
	explicit_bzero(cd, sizeof *cd);
	free(cd);
	return ok;
}

static int new_setting(char *buf, size_t size)
{
	if (!crypt_gensalt_rn("$y$", 0, NULL, 0, buf, (int)size)) {
		msg_error("crypt_gensalt_rn: %s", strerror(errno));
		return 0;
	}
	return 1;
}

static fml_status passwd_path(const char *dir, char *buf, size_t size)
{
	return fs_path(buf, size, "%s/etc/passwd", dir) < 0 ? ST_TEMPFAIL : ST_OK;
}

/* The first word of LINE (LEN bytes) is ADDR? */
static int line_is(const char *line, size_t len, const char *addr)
{
	if (len == 0 || line[0] == '#')
		return 0;
	size_t w = 0;
	while (w < len && line[w] != ' ' && line[w] != '\t')
		w++;
	char *word = mem_strndup(line, w);
	int eq = addr_equal(word, addr);
	free(word);
	return eq;
}

/* Rewrite etc/passwd: ADDR's line(s) dropped, NEWLINE (may be NULL) put in
 * place of the first one or appended. */
static fml_status rewrite(const char *dir, const char *addr, const str *newline)
{
	char path[PATH_MAX], etc[PATH_MAX];
	str old = STR_INIT, out = STR_INIT;
	fml_status st;
	int placed = 0, changed = 0;

	if (passwd_path(dir, path, sizeof path) != ST_OK)
		return ST_TEMPFAIL;
	st = fs_read(path, &old, ADMINPW_FILE_MAX);
	if (st != ST_OK && st != ST_NOINPUT) {
		str_free(&old);
		return ST_TEMPFAIL;
	}
	lines it;
	const char *p;
	size_t len;
	for (lines_init(&it, old.s, old.len); lines_next(&it, &p, &len);) {
		if (!line_is(p, len, addr)) {
			str_append(&out, p, len);
			str_putc(&out, '\n');
		} else {
			changed = 1;
			if (newline && !placed)
				str_append(&out, newline->s, newline->len);
			placed = 1;
		}
	}
	if (newline && !placed) {
		str_append(&out, newline->s, newline->len);
		changed = 1;
	}
	st = ST_OK;
	if (changed) {
		if (fs_path(etc, sizeof etc, "%s/etc", dir) < 0 || fs_mkdirs(etc, 0700) != ST_OK ||
		    safefile_replace(path, out.s ? out.s : "", out.len, 1) != ST_OK)
			st = ST_TEMPFAIL;
	}
	if (old.s)
		explicit_bzero(old.s, old.cap);
	if (out.s)
		explicit_bzero(out.s, out.cap);
	str_free(&old);
	str_free(&out);
	return st;
}

fml_status adminpw_set(const char *dir, const char *addr, const char *password)
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	str hash = STR_INIT, line = STR_INIT;
	fml_status st = ST_TEMPFAIL;

	if (!addr_ok(addr) || !*password)
		return ST_DATAERR;
	if (!new_setting(setting, sizeof setting))
		return ST_TEMPFAIL;
	if (!hash_with(password, setting, &hash)) {
		msg_error("crypt_rn: cannot hash with %s", setting);
		return ST_TEMPFAIL;
	}
	str_printf(&line, "%s %s\n", addr, hash.s);
	st = rewrite(dir, addr, &line);
	str_free(&hash);
	str_free(&line);
	return st;
}

fml_status adminpw_remove(const char *dir, const char *addr)
{
	if (!addr_ok(addr))
		return ST_DATAERR;
	return rewrite(dir, addr, NULL);
}

/* ADDR's stored hash into HASH: 1 found, 0 none, -1 I/O error. */
static int find_hash(const char *dir, const char *addr, str *hash)
{
	char path[PATH_MAX];
	str text = STR_INIT;
	int found = 0;
	if (passwd_path(dir, path, sizeof path) != ST_OK)
		return -1;
	fml_status st = fs_read(path, &text, ADMINPW_FILE_MAX);
	if (st == ST_NOINPUT)
		return 0;
	if (st != ST_OK) {
		str_free(&text);
		return -1;
	}
	lines it;
	const char *p;
	size_t len;
	for (lines_init(&it, text.s, text.len); !found && lines_next(&it, &p, &len);) {
		if (line_is(p, len, addr)) {
			const char *h = p;
			while (h < p + len && *h != ' ' && *h != '\t')
				h++;
			while (h < p + len && (*h == ' ' || *h == '\t'))
				h++;
			const char *e = p + len;
			while (e > h && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
				e--;
			str_set(hash, h, (size_t)(e - h));
			found = 1;
		}
	}
	str_free(&text);
	return found;
}

int adminpw_check(const char *dir, const char *addr, const char *password)
{
	char dummy[CRYPT_GENSALT_OUTPUT_SIZE];
	str stored = STR_INIT, got = STR_INIT;
	int found = find_hash(dir, addr, &stored);
	if (found < 0)
		return -1;
	/* no entry: the same work on a fresh setting, then a refusal */
	if (!found && !new_setting(dummy, sizeof dummy))
		return -1;
	const char *setting = found ? str_c(&stored) : dummy;
	int ok = hash_with(password, setting, &got) && found && stored.len > 0 &&
		 ct_streq(str_c(&got), str_c(&stored));
	str_free(&stored);
	str_free(&got);
	return ok ? 1 : 0;
}

/* ---- lockout: DIR/var/db/adminauth = "START COUNT UNTIL" */

typedef struct lockstate {
	long long start, count, until;
} lockstate;

static fml_status state_path(const char *dir, char *buf, size_t size)
{
	return fs_path(buf, size, "%s/var/db/adminauth", dir) < 0 ? ST_TEMPFAIL : ST_OK;
}

static fml_status state_read(const char *dir, lockstate *ls)
{
	char path[PATH_MAX];
	str text = STR_INIT;
	memset(ls, 0, sizeof *ls);
	if (state_path(dir, path, sizeof path) != ST_OK)
		return ST_TEMPFAIL;
	fml_status st = fs_read(path, &text, 4096);
	if (st == ST_NOINPUT)
		return ST_OK;
	if (st != ST_OK) {
		str_free(&text);
		return ST_TEMPFAIL;
	}
	char nl;
	if (sscanf(str_c(&text), "%lld %lld %lld%c", &ls->start, &ls->count, &ls->until, &nl) !=
		4 ||
	    nl != '\n' || ls->start < 0 || ls->count < 0 || ls->until < 0) {
		msg_warn("%s: damaged, read as no failures", path);
		memset(ls, 0, sizeof *ls);
	}
	str_free(&text);
	return ST_OK;
}

static fml_status state_write(const char *dir, const lockstate *ls)
{
	char path[PATH_MAX], db[PATH_MAX], line[96];
	if (state_path(dir, path, sizeof path) != ST_OK ||
	    fs_path(db, sizeof db, "%s/var/db", dir) < 0 || fs_mkdirs(db, 0700) != ST_OK)
		return ST_TEMPFAIL;
	int n = snprintf(line, sizeof line, "%lld %lld %lld\n", ls->start, ls->count, ls->until);
	return safefile_replace(path, line, (size_t)n, 1);
}

int adminpw_locked(const char *dir, const config *cf, time_t now, time_t *until)
{
	lockstate ls;
	if (until)
		*until = 0;
	if (state_read(dir, &ls) != ST_OK)
		return 1; /* fail closed */
	if (ls.until > (long long)now) {
		if (until)
			*until = (time_t)ls.until;
		return 1;
	}
	return 0;
}

int adminpw_failed(const char *dir, const config *cf, time_t now)
{
	long long limit = config_int(cf, CF_ADMIN_LOCKOUT_FAILURES);
	long long window = config_int(cf, CF_ADMIN_LOCKOUT_TIME);
	lockstate ls;
	if (limit <= 0 || state_read(dir, &ls) != ST_OK)
		return 0;
	if (ls.until > (long long)now)
		return 0; /* locked already: the lock is not extended */
	if (ls.until || ls.count == 0 || (long long)now - ls.start > window ||
	    ls.start > (long long)now) {
		ls.start = now; /* a new window */
		ls.count = 0;
		ls.until = 0;
	}
	ls.count++;
	int locks = ls.count >= limit;
	if (locks)
		ls.until = (long long)now + window;
	if (state_write(dir, &ls) != ST_OK)
		return 0;
	if (locks)
		msg_warn("%lld wrong admin passwords since %lld: admin commands locked until %lld",
			 ls.count, ls.start, ls.until);
	return locks;
}
