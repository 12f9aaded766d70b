/*
 * home: the list home layout.  See home.h and doc/fml-list.5.
 */
#include "home.h"
#include "config.h"
#include "util/fs.h"
#include "util/msg.h"
#include "util/safefile.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef FML_LIBEXEC
#define FML_LIBEXEC "/usr/local/libexec/fml"
#endif
#ifndef FML_ML_DIR
#define FML_ML_DIR "/var/spool/ml"
#endif
#ifndef FML_SHAREDIR
#define FML_SHAREDIR "/usr/local/share/fml"
#endif
#ifndef FML_ETCDIR
#define FML_ETCDIR "/usr/local/etc/fml"
#endif

const char *const home_dirs[] = {
    "spool",
    "etc",
    "var",
    "var/incoming",
    "var/queue",
    "var/queue/tmp",
    "var/queue/new",
    "var/queue/active",
    "var/queue/deferred",
    "var/queue/sent",
    "var/queue/drop",
    "var/queue/corrupt",
    "var/queue/journal",
    "var/hold",
    "var/archive",
    "var/db",
    "var/run",
    "var/log",
    NULL,
};

fml_status home_create_dirs(const char *dir)
{
	char path[PATH_MAX];
	if (fs_mkdirs(dir, 0700) != ST_OK)
		return ST_TEMPFAIL;
	for (int i = 0; home_dirs[i]; i++) {
		if (fs_path(path, sizeof path, "%s/%s", dir, home_dirs[i]) < 0 ||
		    fs_mkdirs(path, 0700) != ST_OK)
			return ST_TEMPFAIL;
	}
	return ST_OK;
}

int home_valid_name(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > 64)
		return 0;
	if (!((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= '0' && name[0] <= '9')))
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return 0;
		if (c == '.' && name[i + 1] == '.')
			return 0;
	}
	return 1;
}

const char *home_name(const char *dir)
{
	static char name[256];
	size_t n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	size_t s = n;
	while (s > 0 && dir[s - 1] != '/')
		s--;
	snprintf(name, sizeof name, "%.*s", (int)(n - s), dir + s);
	return name;
}

const char *home_ml_dir(const char *opt)
{
	if (opt && *opt)
		return opt;
	const char *env = getenv("FML_ML_DIR");
	if (env && *env)
		return env;
	return FML_ML_DIR;
}

const char *home_exec_dir(void)
{
	static char dir[PATH_MAX];
	if (!dir[0]) {
		ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 1);
		if (n <= 0 || (size_t)n >= sizeof dir - 1) {
			snprintf(dir, sizeof dir, "%s", FML_LIBEXEC);
		} else {
			dir[n] = 0;
			char *slash = strrchr(dir, '/');
			if (slash && slash != dir)
				*slash = 0;
		}
	}
	return dir;
}

static const char *tree_or(const char *sub, const char *installed, char *buf, size_t size)
{
	char probe[PATH_MAX];
	if (fs_path(probe, sizeof probe, "%s/../spool-skel", home_exec_dir()) == 0 &&
	    access(probe, F_OK) == 0 && fs_path(buf, size, "%s/../%s", home_exec_dir(), sub) == 0) {
		char *real = realpath(buf, NULL);
		if (real) {
			snprintf(buf, size, "%s", real);
			free(real);
		}
		return buf;
	}
	return installed;
}

const char *home_skel_dir(void)
{
	static char buf[PATH_MAX];
	return tree_or("spool-skel", FML_SHAREDIR "/spool-skel", buf, sizeof buf);
}

const char *home_etc_dir(void)
{
	static char buf[PATH_MAX];
	return tree_or("etc", FML_ETCDIR, buf, sizeof buf);
}

/* Every list home under ML_DIR, NUL-separated. */
int home_all_lists(const char *ml_dir, str *out)
{
	char path[4096];
	struct stat st;
	int n = 0;
	DIR *d = opendir(ml_dir);
	struct dirent *de;
	while (d && (de = readdir(d)) != NULL) {
		if (!home_valid_name(de->d_name) ||
		    fs_path(path, sizeof path, "%s/%s/config.cf", ml_dir, de->d_name) < 0 ||
		    stat(path, &st) < 0)
			continue;
		fs_path(path, sizeof path, "%s/%s", ml_dir, de->d_name);
		str_append(out, path, strlen(path) + 1);
		n++;
	}
	if (d)
		closedir(d);
	return n;
}

config *home_config(const char *dir, const char *const *over, int n)
{
	str err = STR_INIT;
	char logpath[4096];
	config *cf = config_new();
	config_args ca = {dir, NULL, 0, over, n, home_etc_dir(), home_exec_dir()};

	if (config_load(cf, &ca, &err) != ST_OK) {
		msg_error("%s: %s", dir, str_c(&err));
		config_free(cf);
		cf = NULL;
	} else if (fs_path(logpath, sizeof logpath, "%s/log", dir) == 0) {
		msg_set_logfile(logpath);
	}
	str_free(&err);
	return cf;
}
