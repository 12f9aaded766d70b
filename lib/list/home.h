/*
 * home: one list home ($DIR) and its fixed layout (doc/fml-list.5).
 * Paths inside it are built here from fixed names only.
 */
#ifndef FML_HOME_H
#define FML_HOME_H

#include "config.h"
#include "util/status.h"
#include "util/str.h"

/* The directories every list home has, relative to $DIR, parents first. */
extern const char *const home_dirs[];

/* Create every directory of home_dirs under DIR (mode 0700). */
fml_status home_create_dirs(const char *dir);
/* A list name fml accepts: [a-z0-9][a-z0-9._-]{0,63} (no "..", no '/'). */
int home_valid_name(const char *name);
/* DIR's last component. */
const char *home_name(const char *dir);
/* ML_DIR: the -D option, else $FML_ML_DIR, else the compiled default. */
const char *home_ml_dir(const char *opt);
/* Directory of the running program (readlink /proc/self/exe). */
const char *home_exec_dir(void);
/* Where installed data lives: the source tree when run from it (EXEC_DIR/..
 * has spool-skel/), else the compiled FML_SHAREDIR / FML_ETCDIR. */
const char *home_skel_dir(void);
const char *home_etc_dir(void);
/* Every list home under ML_DIR (a directory with a config.cf), as
 * NUL-separated paths appended to OUT; returns their number. */
int home_all_lists(const char *ml_dir, str *out);
/* The configuration of list home DIR for a periodic program (fmlqueue,
 * fmldigest): loaded as fml loads it, with OVER ("NAME=value", N of them)
 * on top, and DIR/log opened for the log.  NULL, logged, when it does not
 * load. */
config *home_config(const char *dir, const char *const *over, int n);

#endif
