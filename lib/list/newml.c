/*
 * newml: making and retiring list homes.  See newml.h.
 *
 * Creation builds the whole home in ML_DIR/.newml.LIST.PID (every file
 * written through safefile_replace: temp + fsync + rename), checks that its
 * config.cf loads, then renames the directory to ML_DIR/LIST and fsyncs
 * ML_DIR: the rename is the commit.  On failure the half-built directory
 * (ours, made moments ago) is removed; an existing list is never touched.
 * Retirement renames the home aside and never deletes anything.
 *
 * Modes: the home is 0711 and include, include-ctl, include-bounces 0644, because an MTA
 * reads ":include:" files with the rights of the alias database's owner (or
 * Postfix's default_privs), not the list owner's; everything else stays
 * 0600/0700 under makefml's umask 077.
 */
#include "newml.h"
#include "config.h"
#include "home.h"
#include "mail/addr.h"
#include "util/fs.h"
#include "util/msg.h"
#include "util/randhex.h"
#include "util/safefile.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef FML_LIBEXEC
#define FML_LIBEXEC "/usr/local/libexec/fml"
#endif

#define SKEL_FILE_MAX (1024 * 1024)
#define SKEL_DEPTH 4

/* The files every home has, empty unless the skeleton provides them. */
static const char *const empty_files[] = {
    "members", "actives", "members-admin", "moderators", "summary", "log", NULL,
};

const char *newml_fml_dir(void)
{
	static char buf[PATH_MAX];
	char probe[PATH_MAX];
	if (!buf[0]) {
		if (fs_path(probe, sizeof probe, "%s/../spool-skel", home_exec_dir()) == 0 &&
		    access(probe, F_OK) == 0)
			snprintf(buf, sizeof buf, "%s", home_exec_dir());
		else
			snprintf(buf, sizeof buf, "%s", FML_LIBEXEC);
	}
	return buf;
}

fml_status newml_fqdn(str *out)
{
	char host[256];
	if (gethostname(host, sizeof host - 1) < 0)
		host[0] = 0;
	host[sizeof host - 1] = 0;
	str_sets(out, host);
	for (size_t i = 0; i < out->len; i++)
		out->s[i] = (char)tolower((unsigned char)out->s[i]);
	return strchr(host, '.') ? ST_OK : ST_DATAERR;
}

static int ident_char(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

void newml_subst(str *out, const char *text, size_t len, const char *const *names,
		 const char *const *values, int n)
{
	const char *p = text, *end = text + len;
	str_clear(out);
	while (p < end) {
		const char *d = memchr(p, '$', (size_t)(end - p));
		if (!d) {
			str_append(out, p, (size_t)(end - p));
			break;
		}
		str_append(out, p, (size_t)(d - p));
		int brace = d + 1 < end && d[1] == '{';
		const char *s = d + 1 + brace, *e = s;
		while (e < end && ident_char((unsigned char)*e))
			e++;
		int ok = e > s && (!brace || (e < end && *e == '}'));
		int hit = -1;
		for (int i = 0; ok && i < n; i++)
			if (strlen(names[i]) == (size_t)(e - s) &&
			    memcmp(names[i], s, (size_t)(e - s)) == 0)
				hit = i;
		if (hit < 0) {
			str_putc(out, '$');
			p = d + 1;
			continue;
		}
		str_puts(out, values[hit]);
		p = e + brace;
	}
}

void newml_alias_names(const char *name, str *out)
{
	str_clear(out);
	str_printf(out, "%s %s-ctl %s-request %s-admin owner-%s owner-%s-ctl", name, name, name,
		   name, name, name);
}

/* Characters a path may have inside the quoted command of an alias. */
static int alias_safe(const char *s)
{
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("/._+-", *s))
			return 0;
	return 1;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	if (remove(path) < 0)
		msg_warn("remove %s: %s", path, strerror(errno));
	return 0;
}

/* Everything a template may refer to. */
typedef struct vars {
	const char *names[8];
	const char *values[8];
	str mail_list, control, maintainer;
	const char *lang; /* copying a language's folder */
} vars;

static fml_status write_file(const char *dir, const char *name, const char *text, size_t len,
			     mode_t mode)
{
	char path[PATH_MAX];
	if (fs_path(path, sizeof path, "%s/%s", dir, name) < 0 ||
	    safefile_replace(path, text, len, 1) != ST_OK)
		return ST_TEMPFAIL;
	if (mode != 0600 && chmod(path, mode) < 0) {
		msg_error("chmod %s: %s", path, strerror(errno));
		return ST_TEMPFAIL;
	}
	return ST_OK;
}

static int skel_name_ok(const char *n)
{
	if (n[0] == '.' || strlen(n) > 128)
		return 0;
	for (; *n; n++)
		if (!isalnum((unsigned char)*n) && !strchr("._-", *n))
			return 0;
	return 1;
}

/* Copy the skeleton directory SRC into DST (recursively, regular files and
 * directories only; FOO.in -> FOO with substitution). */
static fml_status copy_skel(const char *src, const char *dst, const vars *v, int depth, str *err)
{
	char from[PATH_MAX], to[PATH_MAX];
	str text = STR_INIT, out = STR_INIT;
	fml_status st = ST_OK;
	DIR *d = opendir(src);
	if (!d)
		return status_why(err, ST_TEMPFAIL, "skeleton %s: %s", src, strerror(errno));
	struct dirent *de;
	while (st == ST_OK && (de = readdir(d))) {
		struct stat sb;
		const char *n = de->d_name;
		if (!skel_name_ok(n))
			continue;
		if (fs_path(from, sizeof from, "%s/%s", src, n) < 0 || lstat(from, &sb) < 0) {
			st = status_why(err, ST_TEMPFAIL, "skeleton %s: cannot read", from);
			break;
		}
		/* a language's folder (Japanese/): for LANGUAGE only */
		if (S_ISDIR(sb.st_mode) && depth == 0 && isupper((unsigned char)n[0]))
			continue;
		/* a language's catalog is read where it is (list/lang.h) */
		if (depth == 0 && v->lang && strcmp(n, "messages") == 0)
			continue;
		if (S_ISDIR(sb.st_mode) && depth < SKEL_DEPTH) {
			if (fs_path(to, sizeof to, "%s/%s", dst, n) < 0 ||
			    fs_mkdirs(to, 0700) != ST_OK)
				st = status_why(err, ST_TEMPFAIL, "cannot create %s/%s", dst, n);
			else
				st = copy_skel(from, to, v, depth + 1, err);
			continue;
		}
		if (!S_ISREG(sb.st_mode))
			continue;
		if (fs_read(from, &text, SKEL_FILE_MAX) != ST_OK) {
			st = status_why(err, ST_TEMPFAIL, "skeleton %s: cannot read", from);
			break;
		}
		size_t nl = strlen(n);
		if (nl > 3 && strcmp(n + nl - 3, ".in") == 0) {
			char base[PATH_MAX];
			snprintf(base, sizeof base, "%.*s", (int)(nl - 3), n);
			newml_subst(&out, text.s, text.len, v->names, v->values, 8);
			st = write_file(dst, base, out.s ? out.s : "", out.len, 0600);
		} else {
			st = write_file(dst, n, text.s ? text.s : "", text.len, 0600);
		}
		if (st != ST_OK)
			status_why(err, st, "cannot write %s/%s", dst, n);
	}
	closedir(d);
	str_free(&text);
	str_free(&out);
	return st;
}

static fml_status write_secret(const char *dir, str *err)
{
	enum { KEY_BYTES = 32 };
	char hex[KEY_BYTES * 2 + 2];
	if (randhex_secret(hex, KEY_BYTES) != ST_OK)
		return status_why(err, ST_TEMPFAIL, "no random bytes for etc/secret");
	hex[KEY_BYTES * 2] = '\n';
	hex[KEY_BYTES * 2 + 1] = 0;
	fml_status st = write_file(dir, "etc/secret", hex, KEY_BYTES * 2 + 1, 0600);
	explicit_bzero(hex, sizeof hex);
	return st == ST_OK ? ST_OK : status_why(err, st, "cannot write etc/secret");
}

/* The files makefml writes itself (after the skeleton, which may provide
 * texts and a config.cf.in, but not these). */
static fml_status write_own(const char *tmp, const char *dir, const char *exec, str *err)
{
	char path[PATH_MAX];
	str line = STR_INIT;
	fml_status st;

	str_printf(&line, "\"|%s/fml %s\"\n", exec, dir);
	st = write_file(tmp, "include", line.s, line.len, 0644);
	if (st == ST_OK) {
		str_clear(&line);
		str_printf(&line, "\"|%s/fml %s --ctladdr\"\n", exec, dir);
		st = write_file(tmp, "include-ctl", line.s, line.len, 0644);
	}
	if (st == ST_OK) {
		str_clear(&line);
		str_printf(&line, "\"|%s/fml %s --bounce\"\n", exec, dir);
		st = write_file(tmp, "include-bounces", line.s, line.len, 0644);
	}
	str_free(&line);
	if (st != ST_OK)
		return status_why(err, st, "cannot write the include files");
	if (fs_path(path, sizeof path, "%s/etc/secret", tmp) < 0)
		return status_why(err, ST_TEMPFAIL, "path too long");
	if (!fs_exists(path) && (st = write_secret(tmp, err)) != ST_OK)
		return st;
	for (int i = 0; empty_files[i]; i++) {
		if (fs_path(path, sizeof path, "%s/%s", tmp, empty_files[i]) < 0)
			return status_why(err, ST_TEMPFAIL, "path too long");
		if (!fs_exists(path) && write_file(tmp, empty_files[i], "", 0, 0600) != ST_OK)
			return status_why(err, ST_TEMPFAIL, "cannot write %s", empty_files[i]);
	}
	if (fs_path(path, sizeof path, "%s/seq", tmp) < 0)
		return status_why(err, ST_TEMPFAIL, "path too long");
	if (!fs_exists(path) && write_file(tmp, "seq", "0\n", 2, 0600) != ST_OK)
		return status_why(err, ST_TEMPFAIL, "cannot write seq");
	return ST_OK;
}

/* A config.cf when the skeleton has no config.cf.in. */
static fml_status write_min_config(const char *tmp, const vars *v, str *err)
{
	char path[PATH_MAX];
	if (fs_path(path, sizeof path, "%s/config.cf", tmp) < 0)
		return status_why(err, ST_TEMPFAIL, "path too long");
	if (fs_exists(path))
		return ST_OK;
	str text = STR_INIT;
	str_printf(&text,
		   "# config.cf of the %s list; see fml.cf(5) and makefml config.\n"
		   "DOMAINNAME = %s\n"
		   "MAIL_LIST = %s\n"
		   "CONTROL_ADDRESS = %s\n"
		   "MAINTAINER = %s\n",
		   v->values[0], v->values[1], v->mail_list.s, v->control.s, v->maintainer.s);
	fml_status st = write_file(tmp, "config.cf", text.s, text.len, 0600);
	str_free(&text);
	return st == ST_OK ? ST_OK : status_why(err, st, "cannot write config.cf");
}

static fml_status check_config(const char *tmp, const char *exec, str *err)
{
	config *cf = config_new();
	str why = STR_INIT;
	config_args ca = {tmp, NULL, 0, NULL, 0, home_etc_dir(), exec};
	fml_status st = config_load(cf, &ca, &why);
	if (st != ST_OK)
		status_why(err, ST_TEMPFAIL, "the new config.cf does not load: %s", str_c(&why));
	str_free(&why);
	config_free(cf);
	return st;
}

static void aliases_text(str *out, const char *name, const char *dir, const char *admin)
{
	str_clear(out);
	str_printf(out,
		   "# the %s list: add to /etc/aliases (or your MTA's alias map), then run "
		   "newaliases\n"
		   "%s: :include:%s/include\n"
		   "%s-ctl: :include:%s/include-ctl\n"
		   "%s-bounces: :include:%s/include-bounces\n"
		   "%s-request: %s-admin\n",
		   name, name, dir, name, dir, name, dir, name, name);
	/* root or the list user's own name: an account, not yet a person */
	const char *who = admin && *admin ? admin : "root";
	str_printf(out,
		   "# %s-admin: replace %s with the address of the list's maintainer\n"
		   "%s-admin: %s\n"
		   "owner-%s: %s-admin\n"
		   "owner-%s-ctl: %s-admin\n",
		   name, who, name, who, name, name, name, name);
}

fml_status newml_create(const newml_args *a, str *aliases, str *err)
{
	char final[PATH_MAX], tmp[PATH_MAX];
	str domain = STR_INIT;
	vars v;
	fml_status st;
	struct stat sb;

	str_clear(err);
	if (!a->name || !home_valid_name(a->name))
		return status_why(err, ST_USAGE,
				  "bad list name (want [a-z0-9][a-z0-9._-]*, at most 64)");
	char *ml_dir = realpath(a->ml_dir, NULL);
	if (!ml_dir)
		return status_why(err, ST_NOINPUT, "%s: %s", a->ml_dir, strerror(errno));
	const char *exec = a->exec ? a->exec : newml_fml_dir();
	if (!alias_safe(ml_dir) || !alias_safe(exec)) {
		st = status_why(err, ST_USAGE, "%s or %s has characters unsafe in an alias pipe",
				ml_dir, exec);
		free(ml_dir);
		return st;
	}
	if (a->domain && *a->domain) {
		str_sets(&domain, a->domain);
		for (size_t i = 0; i < domain.len; i++)
			domain.s[i] = (char)tolower((unsigned char)domain.s[i]);
	} else if (newml_fqdn(&domain) != ST_OK) {
		st = status_why(err, ST_USAGE,
				"the host name '%s' is not fully qualified: give a DOMAIN",
				str_c(&domain));
		goto out_free;
	}
	memset(&v, 0, sizeof v);
	str_init(&v.mail_list);
	str_init(&v.control);
	str_init(&v.maintainer);
	str_printf(&v.mail_list, "%s@%s", a->name, domain.s);
	str_printf(&v.control, "%s-ctl@%s", a->name, domain.s);
	str_printf(&v.maintainer, "%s-admin@%s", a->name, domain.s);
	const char *why = addr_check(v.control.s, v.control.len);
	if (!why)
		why = addr_check(v.maintainer.s, v.maintainer.len);
	if (why) {
		st = status_why(err, ST_USAGE, "bad domain '%s': %s", domain.s, why);
		goto out;
	}
	if (fs_path(final, sizeof final, "%s/%s", ml_dir, a->name) < 0 ||
	    fs_path(tmp, sizeof tmp, "%s/.newml.%s.%d", ml_dir, a->name, (int)getpid()) < 0) {
		st = status_why(err, ST_USAGE, "path too long");
		goto out;
	}
	if (lstat(final, &sb) == 0) {
		st = status_why(err, ST_DATAERR, "%s already exists", final);
		goto out;
	}
	if (mkdir(tmp, 0700) < 0) {
		st = status_why(err, ST_TEMPFAIL, "mkdir %s: %s", tmp, strerror(errno));
		goto out;
	}
	const char *names[8] = {"ML_NAME",  "DOMAIN",	 "ML_DIR",	    "DIR",
				"EXEC_DIR", "MAIL_LIST", "CONTROL_ADDRESS", "MAINTAINER"};
	const char *values[8] = {a->name, domain.s,	 ml_dir,      final,
				 exec,	  v.mail_list.s, v.control.s, v.maintainer.s};
	memcpy(v.names, names, sizeof names);
	memcpy(v.values, values, sizeof values);

	if (home_create_dirs(tmp) != ST_OK)
		st = status_why(err, ST_TEMPFAIL, "cannot create the directories of %s", tmp);
	else
		st = copy_skel(a->skel ? a->skel : home_skel_dir(), tmp, &v, 0, err);
	/* LANGUAGE: its texts over the English ones */
	char lang_dir[PATH_MAX];
	struct stat lsb;
	if (st == ST_OK && a->language && *a->language && strcmp(a->language, "English") != 0 &&
	    skel_name_ok(a->language) &&
	    fs_path(lang_dir, sizeof lang_dir, "%s/%s", a->skel ? a->skel : home_skel_dir(),
		    a->language) == 0) {
		if (stat(lang_dir, &lsb) < 0 || !S_ISDIR(lsb.st_mode))
			st = status_why(err, ST_USAGE, "no texts for LANGUAGE %s (%s)", a->language,
					lang_dir);
		else {
			v.lang = a->language;
			st = copy_skel(lang_dir, tmp, &v, 0, err);
		}
	}
	if (st == ST_OK)
		st = write_min_config(tmp, &v, err);
	if (st == ST_OK)
		st = write_own(tmp, final, exec, err);
	if (st == ST_OK)
		st = check_config(tmp, exec, err);
	if (st == ST_OK && chmod(tmp, 0711) < 0)
		st = status_why(err, ST_TEMPFAIL, "chmod %s: %s", tmp, strerror(errno));
	if (st == ST_OK && fs_fsync_dir(tmp) != ST_OK)
		st = status_why(err, ST_TEMPFAIL, "fsync %s", tmp);
	if (st == ST_OK && rename(tmp, final) < 0)
		st = status_why(err,
				errno == EEXIST || errno == ENOTEMPTY ? ST_DATAERR : ST_TEMPFAIL,
				"rename %s to %s: %s", tmp, final, strerror(errno));
	if (st == ST_OK && fs_fsync_dir(ml_dir) != ST_OK)
		st = status_why(err, ST_TEMPFAIL, "fsync %s", ml_dir);
	if (st != ST_OK && fs_exists(tmp))
		nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	if (st == ST_OK)
		aliases_text(aliases, a->name, final, a->admin);
out:
	str_free(&v.mail_list);
	str_free(&v.control);
	str_free(&v.maintainer);
out_free:
	str_free(&domain);
	free(ml_dir);
	return st;
}

fml_status newml_destruct(const char *ml_dir, const char *name, str *where, str *err)
{
	char home[PATH_MAX], aside[PATH_MAX];
	struct stat sb;

	str_clear(err);
	if (!home_valid_name(name))
		return status_why(err, ST_USAGE, "bad list name");
	if (fs_path(home, sizeof home, "%s/%s", ml_dir, name) < 0)
		return status_why(err, ST_USAGE, "path too long");
	if (lstat(home, &sb) < 0 || !S_ISDIR(sb.st_mode))
		return status_why(err, ST_NOINPUT, "no list %s in %s", name, ml_dir);
	long long now = (long long)time(NULL);
	if (fs_path(aside, sizeof aside, "%s/.destructed.%s.%lld", ml_dir, name, now) < 0)
		return status_why(err, ST_USAGE, "path too long");
	if (fs_exists(aside) && fs_path(aside, sizeof aside, "%s/.destructed.%s.%lld.%d", ml_dir,
					name, now, (int)getpid()) < 0)
		return status_why(err, ST_USAGE, "path too long");
	if (fs_exists(aside))
		return status_why(err, ST_TEMPFAIL, "%s exists; try again", aside);
	if (rename(home, aside) < 0)
		return status_why(err, ST_TEMPFAIL, "rename %s: %s", home, strerror(errno));
	if (fs_fsync_dir(ml_dir) != ST_OK)
		return status_why(err, ST_TEMPFAIL, "fsync %s", ml_dir);
	str_sets(where, aside);
	return ST_OK;
}

fml_status newml_adopt(const char *ml_dir, const char *name, const char *exec, str *did,
		       str *aliases, str *err)
{
	char dir[PATH_MAX], path[PATH_MAX], old[PATH_MAX];
	static const char *const includes[] = {"include", "include-ctl"};
	if (!exec)
		exec = newml_fml_dir();
	if (fs_path(dir, sizeof dir, "%s/%s", ml_dir, name) < 0)
		return status_why(err, ST_TEMPFAIL, "path too long");
	if (home_create_dirs(dir) != ST_OK)
		return status_why(err, ST_TEMPFAIL, "cannot make the directories of %s", dir);
	str_puts(did, "made the directories fml needs (var/, etc/ ...)\n");
	/* fml 4's include files point at fml.pl: kept as NAME.fml4 */
	for (size_t i = 0; i < sizeof includes / sizeof *includes; i++) {
		if (fs_path(path, sizeof path, "%s/%s", dir, includes[i]) < 0 ||
		    fs_path(old, sizeof old, "%s/%s.fml4", dir, includes[i]) < 0)
			return status_why(err, ST_TEMPFAIL, "path too long");
		if (fs_exists(path) && !fs_exists(old)) {
			if (rename(path, old) < 0)
				return status_why(err, ST_TEMPFAIL, "cannot rename %s: %s", path,
						  strerror(errno));
			str_printf(did, "kept fml 4's %s as %s.fml4\n", includes[i], includes[i]);
		}
	}
	fml_status st = write_own(dir, dir, exec, err);
	if (st != ST_OK)
		return st;
	str_puts(did, "wrote include, include-ctl and include-bounces for fml; made etc/secret, "
		      "and the member files and seq where missing\n");
	/* the texts fml 4 had are kept; the skeleton gives the missing ones */
	const char *sdir = home_skel_dir();
	str added = STR_INIT;
	{
		DIR *d = opendir(sdir);
		struct dirent *de;
		while (d && (de = readdir(d)) != NULL) {
			if (!skel_name_ok(de->d_name) || strchr(de->d_name, '.') ||
			    fs_path(path, sizeof path, "%s/%s", dir, de->d_name) < 0 ||
			    fs_exists(path) ||
			    fs_path(old, sizeof old, "%s/%s", sdir, de->d_name) < 0)
				continue;
			str text = STR_INIT;
			if (fs_read(old, &text, 1 << 20) == ST_OK &&
			    write_file(dir, de->d_name, text.s ? text.s : "", text.len, 0600) ==
				ST_OK)
				str_printf(&added, " %s", de->d_name);
			str_free(&text);
		}
		if (d)
			closedir(d);
	}
	if (added.len)
		str_printf(did, "added the texts fml 4 had not:%s\n", added.s);
	str_free(&added);
	aliases_text(aliases, name, dir, NULL);
	return ST_OK;
}
