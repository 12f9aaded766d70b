/*
 * newml: making and retiring list homes (makefml newml, destructml).
 *
 * A new home is built from the skeleton (home_skel_dir()) in
 * ML_DIR/.newml.LIST.PID and renamed to ML_DIR/LIST when complete, so a
 * crash leaves either no list or a whole one (plus, at worst, a .newml
 * directory to remove).  A retired home is renamed aside, never removed.
 */
#ifndef FML_NEWML_H
#define FML_NEWML_H

#include "util/status.h"
#include "util/str.h"

typedef struct newml_args {
	const char *ml_dir;   /* parent of the list homes; must exist */
	const char *name;     /* the list name (home_valid_name) */
	const char *domain;   /* mail domain; NULL or "": the host's FQDN */
	const char *admin;    /* where LIST-admin forwards; NULL: "root" + a note */
	const char *skel;     /* skeleton dir; NULL: home_skel_dir() */
	const char *exec;     /* where fml is; NULL: newml_fml_dir() */
	const char *language; /* LANGUAGE: spool-skel/LANGUAGE/'s texts; NULL: English */
} newml_args;

/* Create ML_DIR/NAME: the skeleton's files (NAME.in templates written as
 * NAME with $ML_NAME, $DOMAIN, $ML_DIR, $DIR, $EXEC_DIR, $MAIL_LIST,
 * $CONTROL_ADDRESS and $MAINTAINER substituted), the directories of
 * home_dirs, include and include-ctl, a random etc/secret, empty member
 * files, seq, summary and log.  ALIASES receives the lines for
 * /etc/aliases.  ST_USAGE for a bad name or domain, ST_NOINPUT when ML_DIR
 * does not exist, ST_DATAERR when the list exists, ST_TEMPFAIL for I/O
 * trouble; ERR says which. */
fml_status newml_create(const newml_args *a, str *aliases, str *err);

/* Make the fml 4 list home ML_DIR/NAME one of fml's, in place (makefml
 * migrate; its config.cf is migrate.h's): the directories, include,
 * include-ctl and include-bounces (fml 4's kept as NAME.fml4), etc/secret,
 * the member files and seq where missing, the skeleton's texts where fml 4
 * had none.  DID gets a line per step, ALIASES the lines for /etc/aliases.
 * Everything else (members, actives, seq, summary, spool, log, config.ph)
 * is left as it is. */
fml_status newml_adopt(const char *ml_dir, const char *name, const char *exec, str *did,
		       str *aliases, str *err);

/* Rename ML_DIR/NAME to ML_DIR/.destructed.NAME.<time>; WHERE receives the
 * new path.  ST_NOINPUT when there is no such list. */
fml_status newml_destruct(const char *ml_dir, const char *name, str *where, str *err);

/* The alias names of list NAME, space separated ("elena elena-ctl ..."). */
void newml_alias_names(const char *name, str *out);

/* Where the fml program is: the directory of the running program when it
 * runs from the source tree, else the compiled FML_LIBEXEC. */
const char *newml_fml_dir(void);

/* The host's fully qualified name from gethostname(2) (no DNS), lower-cased;
 * ST_DATAERR when it has no dot. */
fml_status newml_fqdn(str *out);

/* Substitute $NAME / ${NAME} for the NAMES[i] = VALUES[i] pairs in TEXT;
 * other '$' text is kept as is. */
void newml_subst(str *out, const char *text, size_t len, const char *const *names,
		 const char *const *values, int n);

#endif
