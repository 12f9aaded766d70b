/*
 * fmlqueue: deliver, inspect and repair the outgoing queues (fmlqueue(8)).
 *
 *   fmlqueue CMD [ARG] [-D ML_DIR] [-v] [DIR|LIST...] [--NAME=value]...
 *   CMD: run [--loop N] | list [SENDER] | flush [ID|SENDER] | show ID |
 *        delete ID | recover | expire | stats | metrics
 *
 * A word with a '/' is a list home; any other word is the command's
 * argument (the first one, for list/flush/show/delete) or a list name under
 * ML_DIR.  Without lists, every list home under ML_DIR.  The work is in
 * lib/queue/runner.c; exit statuses come from status_exit_code() only.
 */
#include "proc/procfull.h"
#include "queue/qview.h"
#include "actions/htmlarch.h"
#include "queue/dkimsign.h"
#include "queue/runner.h"
#include "list/config.h"
#include "list/home.h"
#include "util/fs.h"
#include "util/lock.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/privs.h"
#include "util/safefile.h"
#include "util/status.h"

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_ARGS 256
#define DRAIN_LOCK_WAIT 10

static const char *const cmds[] = {"run",     "list",	"flush", "show",    "delete",
				   "recover", "expire", "stats", "metrics", NULL};

static void __attribute__((noreturn)) usage(void)
{
	fprintf(stderr, "usage: fmlqueue run [--loop N] | list [SENDER] | flush [ID|SENDER] | "
			"show ID | delete ID | recover | expire | stats | metrics\n"
			"                [-D ML_DIR] [-v] [DIR...] [--NAME=value]...\n");
	exit(status_exit_code(ST_USAGE));
}

/* Mail left in var/incoming (a lock timeout of fml): process it as fml
 * does; with none, the drain's sweep when it is due (held posts expire and
 * are reminded of on a quiet list too). */
static fml_status drain_incoming(const char *dir, config *cf)
{
	char path[4096];
	int waiting = 0;
	if (fs_path(path, sizeof path, "%s/var/incoming", dir) < 0)
		return ST_TEMPFAIL;
	DIR *d = opendir(path);
	struct dirent *de;
	while (d && !waiting && (de = readdir(d)) != NULL)
		waiting = de->d_name[0] != '.' && strncmp(de->d_name, "tmp.", 4) != 0;
	if (d)
		closedir(d);
	if (!waiting && !proc_sweep_due(dir, time(NULL)))
		return ST_OK;
	fml_lock lk;
	long wait = (long)config_int(cf, CF_LOCK_TIMEOUT);
	if (lock_acquire(&lk, dir, (int)config_int(cf, CF_USE_FLOCK),
			 wait < DRAIN_LOCK_WAIT ? wait : DRAIN_LOCK_WAIT,
			 config_int(cf, CF_LOCK_STALE_AGE)) != ST_OK)
		return ST_OK; /* fml holds it and drains itself */
	action_ctx c = {.l = {.dir = dir, .cf = cf, .now = time(NULL)}};
	fml_status st = proc_drain(&c, &procfull_ops, NULL);
	lock_release(&lk);
	return st;
}

/* SIGTERM, SIGINT, SIGHUP while delivering: a stop at the next safe point
 * (runner_opts.stop), not an exit that leaves the item in active/ for the
 * next run to count as its runner's death.  Elsewhere they exit 75 as in
 * every program (msg_catch_signals). */
static volatile sig_atomic_t stop_asked;

static void on_stop(int sig)
{
	(void)sig;
	stop_asked = 1;
}

static void catch_stop(int on)
{
	static const int sigs[] = {SIGTERM, SIGINT, SIGHUP};
	struct sigaction sa;
	if (!on) {
		msg_catch_signals();
		return;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop;
	sigfillset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		sigaction(sigs[i], &sa, NULL); /* no SA_RESTART: waits end early */
}

/* After a pass: var/run/queue-ok touched when it went well, and
 * METRICS_FILE (if set) replaced whole (node_exporter reads it any time). */
static void write_metrics(const char *dir, config *cf, fml_status st)
{
	char path[4096];
	if (st == ST_OK && fs_path(path, sizeof path, "%s/var/run/queue-ok", dir) == 0)
		fs_overwrite(path, "", 0);
	const char *file = config_str(cf, CF_METRICS_FILE);
	if (!*file)
		return;
	str m = STR_INIT;
	if (qview_metrics(dir, cf, &m) != ST_OK ||
	    safefile_replace(file, m.s ? m.s : "", m.len, 0) != ST_OK)
		msg_warn("cannot write METRICS_FILE %s", file);
	str_free(&m);
}

/* run and flush: recover what dead runners left, deliver (stoppable). */
static fml_status deliver(const char *dir, config *cf, runner_opts *o)
{
	runner_recover(dir, cf);
	if (!o->flush)
		drain_incoming(dir, cf);
	if (stop_asked)
		return ST_TEMPFAIL;
	o->stop = &stop_asked;
	catch_stop(1);
	fml_status st = runner_deliver(dir, cf, o);
	catch_stop(0);
	if (stop_asked)
		return st;
	if (!o->flush) {
		runner_expire(dir, cf);
		/* the HTML archive catches up (a post whose update was lost) */
		list_ctx l = {dir, cf, time(NULL)};
		if (htmlarch_update(&l) != ST_OK)
			msg_warn("the HTML archive could not be brought up to date");
	}
	write_metrics(dir, cf, st);
	return st;
}

static fml_status one_list(const char *cmd, const char *arg, const char *dir,
			   const char *const *over, int nover)
{
	config *cf = home_config(dir, over, nover);
	if (!cf)
		return ST_TEMPFAIL;
	fml_status st;
	runner_opts o = {0, 0, arg, isatty(2), NULL};
	if (strcmp(cmd, "run") == 0) {
		st = deliver(dir, cf, &o);
	} else if (strcmp(cmd, "flush") == 0) {
		o.flush = 1;
		st = deliver(dir, cf, &o);
	} else if (strcmp(cmd, "list") == 0) {
		st = qview_list(dir, cf, arg, stdout);
	} else if (strcmp(cmd, "show") == 0) {
		st = qview_show(dir, cf, arg, stdout);
	} else if (strcmp(cmd, "delete") == 0) {
		st = qview_delete(dir, cf, arg);
	} else if (strcmp(cmd, "recover") == 0) {
		st = runner_recover(dir, cf);
		if (st == ST_OK)
			st = drain_incoming(dir, cf);
	} else if (strcmp(cmd, "expire") == 0) {
		st = runner_expire(dir, cf);
	} else if (strcmp(cmd, "metrics") == 0) {
		str m = STR_INIT;
		st = qview_metrics(dir, cf, &m);
		fputs(str_c(&m), stdout);
		str_free(&m);
	} else {
		st = qview_stats(dir, cf, stdout);
	}
	msg_set_logfile(NULL);
	config_free(cf);
	return st;
}

int main(int argc, char **argv)
{
	const char *over[MAX_ARGS], *words[MAX_ARGS], *opt_d = NULL, *arg = NULL;
	int nover = 0, nwords = 0;
	long loop = 0;
	str err = STR_INIT, lists = STR_INIT;

	msg_startup("fmlqueue");
	runner_sign_with(&dkimsign_signer);
	/* cron and timers: their mail or journal is where an error is read */
	msg_set_stderr_errors(1);
	if (argc < 2)
		usage();
	const char *cmd = argv[1];
	int known = 0;
	for (int i = 0; cmds[i]; i++)
		known |= strcmp(cmd, cmds[i]) == 0;
	if (!known)
		usage();
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-D") == 0 && i + 1 < argc)
			opt_d = argv[++i];
		else if (strcmp(a, "--loop") == 0 && i + 1 < argc && strcmp(cmd, "run") == 0)
			loop = strtol(argv[++i], NULL, 10);
		else if (strcmp(a, "-v") == 0 || strcmp(a, "-d") == 0)
			msg_set_verbose(1), msg_set_stderr(1);
		else if (strncmp(a, "--", 2) == 0 && strchr(a, '=') && nover < MAX_ARGS)
			over[nover++] = a + 2;
		else if (a[0] == '-' && a[1])
			usage();
		else if (nwords < MAX_ARGS)
			words[nwords++] = a;
	}
	int wants_arg = strcmp(cmd, "list") == 0 || strcmp(cmd, "flush") == 0 ||
			strcmp(cmd, "show") == 0 || strcmp(cmd, "delete") == 0;
	/* list and flush take their argument or not: a word that names a
	 * list under ML_DIR is the list, as makefml takes it */
	int optional = strcmp(cmd, "list") == 0 || strcmp(cmd, "flush") == 0;
	char *ml_dir = mem_strdup(home_ml_dir(opt_d));
	clearenv();
	setenv("PATH", "/usr/bin:/bin", 1);
	for (int i = 0; i < nwords; i++) {
		char path[4096];
		struct stat st;
		int is_list = home_valid_name(words[i]) &&
			      fs_path(path, sizeof path, "%s/%s", ml_dir, words[i]) == 0 &&
			      stat(path, &st) == 0 && S_ISDIR(st.st_mode);
		if (strchr(words[i], '/')) {
			str_append(&lists, words[i], strlen(words[i]) + 1);
		} else if (wants_arg && !arg && !(optional && is_list)) {
			arg = words[i];
		} else if (is_list) {
			str_append(&lists, path, strlen(path) + 1);
		} else if (home_valid_name(words[i])) {
			fprintf(stderr, "fmlqueue: no list %s under %s\n", words[i], ml_dir);
			return status_exit_code(ST_USAGE);
		} else {
			usage();
		}
	}
	if ((strcmp(cmd, "show") == 0 || strcmp(cmd, "delete") == 0) && !arg)
		usage();
	if (privs_drop_to_owner(lists.len ? lists.s : ml_dir, &err) != ST_OK) {
		msg_error("%s", str_c(&err));
		return status_exit_code(ST_NOPERM);
	}
	if (!lists.len && home_all_lists(ml_dir, &lists) == 0) {
		msg_info("no list under %s", ml_dir);
		free(ml_dir);
		return status_exit_code(ST_OK);
	}
	fml_status worst = ST_OK;
	int found = 0;
	for (;;) {
		for (const char *p = lists.s; p < lists.s + lists.len; p += strlen(p) + 1) {
			if (stop_asked) {
				worst = ST_TEMPFAIL; /* a list not visited */
				break;
			}
			fml_status st = one_list(cmd, arg, p, over, nover);
			if (st == ST_NOINPUT &&
			    (strcmp(cmd, "show") == 0 || strcmp(cmd, "delete") == 0))
				continue; /* the item is in another list's queue */
			found |= st == ST_OK;
			if (st != ST_OK && worst == ST_OK)
				worst = st;
		}
		if (loop <= 0 || stop_asked)
			break;
		catch_stop(1);
		sleep((unsigned)loop); /* run --loop N: a systemd service */
		catch_stop(0);
		if (stop_asked)
			break; /* stopped between passes: nothing left undone */
	}
	if ((strcmp(cmd, "show") == 0 || strcmp(cmd, "delete") == 0) && !found) {
		msg_error("%s: no such item", arg);
		worst = ST_NOINPUT;
	}
	str_free(&err);
	str_free(&lists);
	free(ml_dir);
	return status_exit_code(worst);
}
