/*
 * fmlproc: the full processor.  "LIBEXEC/fmlproc DIR [LIBDIR...] [-d]
 * [-i ID] [--NAME=value]..."
 *
 * Not run by hand: the lean alias pipe (fml) execs it, in the process the
 * MTA waits on, when its drain meets an item it does not link the code
 * for (command mail) or an archive unit is due.  It takes the list lock
 * again and drains var/incoming from the oldest item on with everything
 * (procfull_ops), then starts delivery as fml does.  With -d (fml -d) it
 * processes only item ID and starts no delivery.  With -H it only brings
 * the HTML archive up to date (fml starts it so, detached, after a post).
 * After a drain that made articles, the HTML archive is updated by a
 * detached child as well.
 *
 * Exit status (doc/fml.8): always 0.  The mail was accepted before fml
 * handed over; what is not done now waits in var/incoming for the next run
 * of fml or fmlqueue.
 */
#include "actions/htmlarch.h"
#include "proc/procfull.h"
#include "proc/procrun.h"
#include "queue/dkimsign.h"
#include "queue/runner.h"
#include "list/config.h"
#include "list/home.h"
#include "util/detach.h"
#include "util/fs.h"
#include "util/msg.h"
#include "util/privs.h"
#include "util/status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#define MAX_ARGS 64

/* Even a wrong command line: the MTA must not bounce an accepted mail. */
static void __attribute__((noreturn)) usage(void)
{
	msg_error("usage: fmlproc DIR [LIBDIR...] [-d] [-i ID] [-H] [--NAME=value]...");
	exit(EX_OK);
}

int main(int argc, char **argv)
{
	const char *dir = NULL, *only = NULL, *search[MAX_ARGS], *over[MAX_ARGS];
	int nsearch = 0, nover = 0, debug = 0, html = 0;
	str err = STR_INIT;

	msg_startup("fmlproc");
	runner_sign_with(&dkimsign_signer);
	msg_set_fatal_exit(EX_OK); /* the mail is accepted already */
	clearenv();
	setenv("PATH", "/usr/bin:/bin", 1);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-H") == 0)
			html = 1;
		else if (strcmp(a, "-d") == 0)
			debug = 1;
		else if (strcmp(a, "-i") == 0 && i + 1 < argc)
			only = argv[++i];
		else if (strncmp(a, "--", 2) == 0 && strchr(a, '=') && nover < MAX_ARGS)
			over[nover++] = a + 2;
		else if (a[0] == '-')
			usage();
		else if (!dir)
			dir = a;
		else if (nsearch < MAX_ARGS)
			search[nsearch++] = a;
	}
	if (!dir || (debug && !only))
		usage();
	if (debug) {
		msg_set_stderr(1);
		msg_set_verbose(1);
	}
	if (privs_drop_to_owner(dir, &err) != ST_OK)
		msg_fatal("%s", str_c(&err));
	config *cf = config_new();
	config_args ca = {dir, search, nsearch, over, nover, home_etc_dir(), home_exec_dir()};
	if (config_load(cf, &ca, &err) != ST_OK)
		msg_fatal("%s", str_c(&err));
	char logpath[4096];
	if (fs_path(logpath, sizeof logpath, "%s/log", dir) == 0)
		msg_set_logfile(logpath);

	action_ctx c = {.l = {.dir = dir, .cf = cf, .now = time(NULL)},
			.debug = debug,
			.only = debug ? only : NULL};
	fml_lock lk;
	if (html) {
		htmlarch_update(&c.l); /* its own lock, not the list's */
	} else if (procrun_lock(&c, &lk) == ST_OK) {
		proc_drain(&c, &procfull_ops, NULL);
		lock_release(&lk);
		if (!debug)
			runner_kick(dir, cf); /* DELIVERY_MODE: background, foreground or queue */
		if (!debug && c.articles > 0 && config_int(cf, CF_HTML_ARCHIVE) &&
		    detach_fork() == 0) {
			htmlarch_update(&c.l);
			_exit(0);
		}
	}
	str_free(&err);
	config_free(cf);
	return EX_OK;
}
