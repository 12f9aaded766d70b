/*
 * fmldigest: queue the digests of the members in digest mode (fmldigest(8)),
 * fml's msend.  Run every hour by cron or the systemd timer in etc/.
 *
 *   fmldigest [-D ML_DIR] [--now HOUR] [--force] [-n] [-v] [DIR|LIST...]
 *             [--NAME=value]...
 *
 * A word with a '/' is a list home, any other a list name under ML_DIR;
 * without lists, every list home under ML_DIR.  Each list is handled under
 * its lock by digest_run() (lib/actions/digest.c) and bounce_daily()
 * (lib/actions/bounce.c: reminders, removals, the summary, once a day), then
 * its queue is kicked as fml
 * does.  Exit statuses come from status_exit_code() only: 75 when a list
 * could not be done (locked, I/O trouble), so that cron mails the admin.
 */
#include "actions/bounce.h"
#include "actions/digest.h"
#include "queue/qspool.h"
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

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_ARGS 256

static void __attribute__((noreturn)) usage(void)
{
	fprintf(stderr, "usage: fmldigest [-D ML_DIR] [--now HOUR] [--force] [-n] [-v] "
			"[DIR|LIST...] [--NAME=value]...\n");
	exit(status_exit_code(ST_USAGE));
}

static fml_status one_list(const char *dir, const char *const *over, int nover, digest_opts *o)
{
	config *cf = home_config(dir, over, nover);
	if (!cf)
		return ST_TEMPFAIL;
	fml_lock lk;
	long items = 0;
	fml_status st = lock_acquire(&lk, dir, (int)config_int(cf, CF_USE_FLOCK),
				     (long)config_int(cf, CF_LOCK_TIMEOUT),
				     (long)config_int(cf, CF_LOCK_STALE_AGE));
	if (st == ST_OK) {
		action_ctx c = {.l = {.dir = dir, .cf = cf, .now = time(NULL)}};
		if (o->dry)
			fprintf(o->dry, "%s:\n", home_name(dir));
		/* after a reboot, spool files a crash of the machine took or
		 * damaged come back first (queue/qspool.h) */
		st = o->dry ? ST_OK : qspool_repair(dir, cf);
		if (st == ST_OK)
			st = digest_run(&c, o, &items);
		/* the bounces' reminders, removals and summary, once a day */
		if (st == ST_OK && !o->dry)
			st = bounce_daily(&c, &items);
		lock_release(&lk);
	} else {
		msg_error("%s: the list is locked; its digests wait for the next run", dir);
	}
	if (items > 0)
		runner_kick(dir, cf);
	msg_set_logfile(NULL);
	config_free(cf);
	return st;
}

int main(int argc, char **argv)
{
	const char *over[MAX_ARGS], *words[MAX_ARGS], *opt_d = NULL;
	int nover = 0, nwords = 0;
	digest_opts o = {0};
	str err = STR_INIT, lists = STR_INIT;

	msg_startup("fmldigest");
	runner_sign_with(&dkimsign_signer);
	/* cron and timers: their mail or journal is where an error is read */
	msg_set_stderr_errors(1);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		char *end;
		if (strcmp(a, "-D") == 0 && i + 1 < argc) {
			opt_d = argv[++i];
		} else if (strcmp(a, "--now") == 0 && i + 1 < argc) {
			o.hour = (int)strtol(argv[++i], &end, 10);
			if (*end || end == argv[i] || o.hour < 0 || o.hour > 24)
				usage();
			if (o.hour == 0)
				o.hour = 24;
		} else if (strcmp(a, "--force") == 0) {
			o.force = 1;
		} else if (strcmp(a, "-n") == 0) {
			o.dry = stdout;
		} else if (strcmp(a, "-v") == 0 || strcmp(a, "-d") == 0) {
			msg_set_verbose(1);
			msg_set_stderr(1);
		} else if (strncmp(a, "--", 2) == 0 && strchr(a, '=') && nover < MAX_ARGS) {
			over[nover++] = a + 2;
		} else if (a[0] == '-' || nwords == MAX_ARGS) {
			usage();
		} else {
			words[nwords++] = a;
		}
	}
	if (o.hour == 0) { /* fml's hours run 1..24: midnight is 24 */
		time_t now = time(NULL);
		struct tm tm;
		localtime_r(&now, &tm);
		o.hour = tm.tm_hour ? tm.tm_hour : 24;
	}
	o.progress = isatty(2) && !o.dry;
	char *ml_dir = mem_strdup(home_ml_dir(opt_d));
	clearenv();
	setenv("PATH", "/usr/bin:/bin", 1);
	for (int i = 0; i < nwords; i++) {
		char path[4096];
		if (strchr(words[i], '/'))
			str_append(&lists, words[i], strlen(words[i]) + 1);
		else if (home_valid_name(words[i]) &&
			 fs_path(path, sizeof path, "%s/%s", ml_dir, words[i]) == 0)
			str_append(&lists, path, strlen(path) + 1);
		else
			usage();
	}
	if (privs_drop_to_owner(lists.len ? lists.s : ml_dir, &err) != ST_OK) {
		msg_error("%s", str_c(&err));
		return status_exit_code(ST_NOPERM);
	}
	if (!lists.len && home_all_lists(ml_dir, &lists) == 0)
		msg_info("no list under %s", ml_dir);
	fml_status worst = ST_OK;
	for (const char *p = lists.s; p && p < lists.s + lists.len; p += strlen(p) + 1) {
		fml_status st = one_list(p, over, nover, &o);
		if (st != ST_OK && worst == ST_OK)
			worst = st;
	}
	str_free(&err);
	str_free(&lists);
	free(ml_dir);
	return status_exit_code(worst);
}
