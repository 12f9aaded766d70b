/*
 * fml: the alias pipe.  "|/usr/local/libexec/fml/fml /var/spool/ml/elena"
 *
 *   fml DIR [LIBDIR...] [--ctladdr|--bounce] [-d] [--NAME=value]... < mail
 *
 * Accepts one mail from stdin into DIR/var/incoming (the commit point),
 * then, under the list lock, processes every waiting item oldest
 * first.  Lean (Postfix's way, one small program per role): it links only
 * libc and gdbm, and does plain posts, guide requests and the drops; at the
 * first item that needs more (command mail: cmd/ with GMime, crypt,
 * libarchive) or a due archive unit, it releases the lock and execs the
 * full processor, LIBEXEC/fmlproc, with the same arguments, in the same
 * process, which the MTA waits on (doc/fmlproc.8).  Exit status
 * (doc/fml.8): 0 once the mail is accepted, whatever happens next (fmlproc
 * keeps that); 75 for any local trouble before that (the MTA retries); 65
 * with "5.3.4 message too big for this list" over the size limit.
 *
 * The accepted item is not synced (list/incoming.c says why that is safe):
 * an exit 0 needs the mail durable somewhere, so a run that ends with its
 * item still waiting (lock timeout, a drain that stopped or handed over, a
 * fatal error or a signal) syncs it first, and exits 75 if it cannot.
 */
#include "proc/procrun.h"
#include "actions/distribute.h"
#include "actions/dmarc.h"
#include "cmd/cmdrecord.h"
#include "queue/runner.h"
#include "list/config.h"
#include "list/home.h"
#include "list/incoming.h"
#include "util/detach.h"
#include "util/fs.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/privs.h"
#include "util/safefile.h"
#include "util/status.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#define MAX_ARGS 64

static void usage(void)
{
	fprintf(stderr,
		"usage: fml DIR [LIBDIR...] [--ctladdr|--bounce] [-d] [--NAME=value]... < mail\n");
	exit(EX_TEMPFAIL); /* an MTA must keep the mail even when the alias is wrong */
}

/* The MTA reads our first output line as the DSN text (Postfix local(8)). */
static void __attribute__((noreturn)) fail(fml_status st, const char *dsn, const char *why)
{
	printf("%s %s\n", dsn, why);
	fflush(stdout);
	msg_error("%s", why);
	exit(status_exit_code(st));
}

/* The accepted item and where a run may move it, for keep_item(): paths
 * made at the commit point, so that the clean-up needs no formatting. */
static struct {
	char item[4096], idir[4096], hold[4096], log[4096];
	char stmp[4096], qtmp[4096]; /* distribute_prepare()'s temps, or "" */
} keep;

/* The temps made for the accepted post, once its item is gone (whatever
 * became of it): the run that finished it may have removed them before
 * they were made.  Async-signal-safe. */
static void forget_temps(void)
{
	struct stat st;
	if (!keep.stmp[0] || lstat(keep.item, &st) == 0 || errno != ENOENT)
		return;
	unlink(keep.stmp);
	if (keep.qtmp[0])
		unlink(keep.qtmp);
}

/*
 * Make the accepted mail durable wherever it is: the item in var/incoming
 * (file, then directory); if it is gone and ANY_RUN, another run (or this
 * one, interrupted) may have just moved it to var/hold or var/log without
 * syncing that directory yet, so those are synced too.  Gone without
 * ANY_RUN: this run finished it, and every way of finishing an item is
 * durable by itself.  0, or -1 with errno.  Async-signal-safe.
 */
static int keep_durable(int any_run)
{
	if (fs_fsync_path(keep.item) == 0)
		return fs_fsync_path(keep.idir);
	if (errno != ENOENT)
		return -1;
	if (!any_run)
		return 0;
	if (fs_fsync_path(keep.hold) < 0 && errno != ENOENT)
		return -1;
	if (fs_fsync_path(keep.log) < 0 && errno != ENOENT)
		return -1;
	return 0;
}

/* The clean-up of msg_fatal() and the signals after the commit point: they
 * exit 0, which is true only once the mail is durable. */
static void keep_item(void *arg)
{
	(void)arg;
	if (keep_durable(1) < 0)
		msg_set_fatal_exit(EX_TEMPFAIL);
	forget_temps();
}

/* Called by incoming_accept() at the commit point, signals held: from now
 * on the mail is ours, and even a fatal error or SIGTERM exits 0 (the rest
 * is finished by a later run from var/incoming) once keep_item() made the
 * item durable. */
static const char *accept_dir;
static const str *accept_id;
static void accepted(void)
{
	if (fs_path(keep.idir, sizeof keep.idir, "%s/var/incoming", accept_dir) < 0 ||
	    fs_path(keep.item, sizeof keep.item, "%s/%s", keep.idir, str_c(accept_id)) < 0 ||
	    fs_path(keep.hold, sizeof keep.hold, "%s/var/hold", accept_dir) < 0 ||
	    fs_path(keep.log, sizeof keep.log, "%s/var/log", accept_dir) < 0)
		return; /* cannot happen (accept built longer paths): 75 stays */
	msg_cleanup_push(keep_item, NULL);
	msg_set_fatal_exit(EX_OK);
}

/* The exit status of a run that accepted ID: 0 once the mail is durable.
 * Else 75, and the MTA keeps the mail: under the lock (not ANY_RUN) the
 * item is taken back, or its copy from the MTA's retry would make it twice;
 * after a lock timeout the holder may be in the middle of it, so it stays. */
static int leave(int any_run, const str *id)
{
	if (!id->len || keep_durable(any_run) == 0)
		return EX_OK;
	int err = errno;
	if (!any_run)
		unlink(keep.item);
	msg_error("cannot make %s durable: %s", keep.item, strerror(err));
	printf("4.3.0 cannot accept the mail now; try again later\n");
	fflush(stdout);
	return EX_TEMPFAIL;
}

/* The lean table: no command mail, no unit writing, so neither cmd/'s
 * commands nor GMime, libarchive or crypt are linked.  The command
 * records are plain files (cmd/cmdrecord, libc only): fml sweeps the
 * orphaned ones as before. */
static const proc_ops lean_ops = {
    .command = NULL,
    .command_done = cmdrecord_remove,
    .command_sweep = cmdrecord_sweep,
    .archive = NULL,
};

/* fmlproc beside this program (the build tree, tests), else in LIBEXEC. */
static void fmlproc_path(char *path, size_t size)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n > 0) {
		self[n] = '\0';
		char *slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			if (fs_path(path, size, "%s/fmlproc", self) == 0 && access(path, X_OK) == 0)
				return;
		}
	}
	if (fs_path(path, size, "%s/fmlproc", FML_LIBEXEC) < 0)
		path[0] = '\0';
}

/* Hand the list to the full processor: fmlproc DIR [LIBDIR...] [-d -i ID]
 * [--NAME=value]..., this program's arguments without --ctladdr or --bounce (the mail
 * is accepted: its mode is in its item), and the environment this program
 * was started with (fmlproc clears it as fml does; a test's LD_PRELOAD
 * shim goes on in it).  Returns only when the exec failed: the items wait
 * in var/incoming for the next run of fml or fmlqueue (the mail is ours:
 * exit 0 stays). */
static void handover(char **argv, int argc, char **env, int debug, const char *id, int html)
{
	char path[PATH_MAX];
	const char *args[MAX_ARGS * 2 + 8];
	int n = 0;
	fmlproc_path(path, sizeof path);
	args[n++] = "fmlproc";
	for (int i = 1; i < argc && n < (int)(sizeof args / sizeof args[0]) - 4; i++)
		if (strcmp(argv[i], "--ctladdr") != 0 && strcmp(argv[i], "--bounce") != 0 &&
		    strncmp(argv[i], "-d", 2) != 0)
			args[n++] = argv[i];
	if (debug) {
		args[n++] = "-d";
		args[n++] = "-i";
		args[n++] = id;
	}
	if (html)
		args[n++] = "-H";
	args[n] = NULL;
	msg_debug("handing over to %s", path);
	fflush(stdout);
	execve(path, (char *const *)args, env);
	msg_error("cannot run %s: %s; the mail waits in var/incoming", path[0] ? path : "fmlproc",
		  strerror(errno));
}

int main(int argc, char **argv)
{
	const char *dir = NULL, *search[MAX_ARGS], *over[MAX_ARGS];
	int nsearch = 0, nover = 0, debug = 0;
	incoming_mode mode = IN_POST;
	str err = STR_INIT, id = STR_INIT;

	msg_startup("fml");
	const char *env_sender = getenv("SENDER");
	char *sender = env_sender ? mem_strdup(env_sender) : NULL;
	/* for fmlproc: clearenv() drops the array, not the strings */
	size_t nenv = 0;
	while (environ && environ[nenv])
		nenv++;
	char **env0 = mem_alloc((nenv + 1) * sizeof *env0);
	for (size_t i = 0; i <= nenv; i++)
		env0[i] = i < nenv ? environ[i] : NULL;
	clearenv();
	setenv("PATH", "/usr/bin:/bin", 1);

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--ctladdr") == 0)
			mode = IN_CTL;
		else if (strcmp(a, "--bounce") == 0)
			mode = IN_BOUNCE;
		else if (strncmp(a, "-d", 2) == 0 && strspn(a + 2, "0123456789") == strlen(a + 2))
			debug = 1;
		else if (strncmp(a, "--", 2) == 0 && strchr(a, '=') && nover < MAX_ARGS)
			over[nover++] = a + 2;
		else if (a[0] == '-')
			usage();
		else if (!dir)
			dir = a;
		else if (nsearch < MAX_ARGS)
			search[nsearch++] = a;
	}
	if (!dir)
		usage();
	if (debug) {
		msg_set_stderr(1);
		msg_set_verbose(1);
	}
	if (privs_drop_to_owner(dir, &err) != ST_OK)
		fail(ST_TEMPFAIL, "4.3.0", str_c(&err));

	config *cf = config_new();
	config_args ca = {dir, search, nsearch, over, nover, home_etc_dir(), home_exec_dir()};
	if (config_load(cf, &ca, &err) != ST_OK)
		fail(ST_TEMPFAIL, "4.3.5", str_c(&err));
	char logpath[4096];
	if (fs_path(logpath, sizeof logpath, "%s/log", dir) == 0)
		msg_set_logfile(logpath);

	/* ---- accept: the commit point */
	accept_dir = dir;
	accept_id = &id;
	fml_status st = incoming_accept(dir, 0, mode, sender,
					config_int(cf, CF_INCOMING_MAIL_SIZE_LIMIT), accepted, &id);
	if (st == ST_TOOBIG)
		fail(ST_TOOBIG, "5.3.4", "message too big for this list");
	if (st != ST_OK)
		fail(ST_TEMPFAIL, "4.3.0", "cannot accept the mail now; try again later");
	if (id.len)
		msg_debug("accepted %s", id.s);
	/* a post's spool and queue temps, made now, outside the list lock: the
	 * run that makes the article (this one, or the holder of the lock,
	 * which takes every waiting item) then makes no file under it */
	if (id.len && mode == IN_POST && !debug)
		distribute_prepare(cf, str_c(&id), keep.stmp, keep.qtmp, sizeof keep.stmp);

	/* ---- process everything waiting, under the list lock */
	/* a debug run (-d) never touches mail that other runs left waiting */
	action_ctx c = {.l = {.dir = dir, .cf = cf, .now = time(NULL)},
			.debug = debug,
			.only = debug ? str_c(&id) : NULL};
	/* the author's DMARC policy into the cache while no lock is held */
	if (id.len && mode == IN_POST)
		dmarc_prefetch(&c, str_c(&id));
	fml_lock lk;
	if (procrun_lock(&c, &lk) != ST_OK)
		return leave(1, &id); /* the holder may be moving this very item */
	/* a holder takes every waiting item: when one took this one, the
	 * others wait for the lock behind this run, which has nothing to do
	 * (the holder swept and kicked the queue runner) */
	struct stat taken;
	if (id.len && !debug && lstat(keep.item, &taken) < 0 && errno == ENOENT) {
		lock_release(&lk);
		msg_debug("%s was taken by the run that held the lock", id.s);
		return leave(0, &id);
	}
	int full = 0;
	proc_drain(&c, &lean_ops, &full);
	forget_temps();
	int rc = leave(0, &id); /* under the lock: no other run moves it meanwhile */
	lock_release(&lk);
	if (full && rc == EX_OK) /* fmlproc may not get the lock: the item is durable */
		handover(argv, argc, env0, debug, str_c(&id), 0); /* returns when the exec failed */
	/* a list that signs its mail: fmlproc delivers (libopendkim is not
	 * ours); runner_kick() would leave it to fmlqueue */
	if (!debug && rc == EX_OK && runner_wants_signer(cf) &&
	    strcmp(config_str(cf, CF_DELIVERY_MODE), "queue") != 0)
		handover(argv, argc, env0, debug, str_c(&id), 0);
	if (!debug)
		runner_kick(dir, cf); /* DELIVERY_MODE: background, foreground or queue */
	/* the HTML archive's pages for the new articles: fmlproc -H, detached
	 * (GMime is not ours; nobody waits on it) */
	if (!debug && c.articles > 0 && config_int(cf, CF_HTML_ARCHIVE) && detach_fork() == 0) {
		handover(argv, argc, env0, 0, NULL, 1);
		_exit(0);
	}
	free(sender);
	free(env0);
	str_free(&err);
	str_free(&id);
	config_free(cf);
	return rc;
}
