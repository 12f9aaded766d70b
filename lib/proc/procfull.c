/*
 * procfull: the full table of proc_drain()'s heavy parts (proc.h): command
 * mail and its records (cmd/), archive units (list/unitwrite), bounces
 * (actions/bounce, with GMime), content rules (actions/content, GMime and
 * libmagic), DKIM checks of posts (actions/dkimcheck, libopendkim).  Apart from
 * proc.c so that a program which does not name procfull_ops (the lean
 * alias pipe) links none of them.
 */
#include "procfull.h"
#include "cmd/cmdrecord.h"
#include "cmd/command.h"
#include "actions/bounce.h"
#include "actions/content.h"
#include "actions/dkimcheck.h"
#include "list/incoming.h"
#include "list/unitwrite.h"
#include "queue/runner.h"
#include "util/date.h"
#include "util/lock.h"

#include <stdio.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

const proc_ops procfull_ops = {
    .command = command_process,
    .command_done = cmdrecord_remove,
    .command_sweep = cmdrecord_sweep,
    .archive = unitwrite_unit,
    .bounce = bounce_handle,
    .content = content_apply,
    .dkim_check = dkimcheck_post,
};

fml_status procfull_command(const char *dir, config *cf, const char *addr, const char *subject,
			    const char *text, str *report, str *err)
{
	char date[64];
	str mail = STR_INIT, id = STR_INIT;
	fml_status st = ST_TEMPFAIL;
	date_rfc5322(time(NULL), date, sizeof date);
	str_printf(&mail,
		   "From: %s\nTo: %s\nSubject: %s\nDate: %s\n"
		   "Message-ID: <fml-command.%lld.%d@%s>\n\n%s\n",
		   addr, config_str(cf, CF_CONTROL_ADDRESS), subject, date, (long long)time(NULL),
		   (int)getpid(), config_str(cf, CF_DOMAINNAME), text);
	int fd = memfd_create("fml-command", MFD_CLOEXEC);
	if (fd < 0 || write(fd, mail.s, mail.len) != (ssize_t)mail.len || lseek(fd, 0, SEEK_SET)) {
		str_sets(err, "cannot write the command mail");
		goto out;
	}
	if (incoming_accept(dir, fd, IN_CTL, addr, 0, NULL, &id) != ST_OK) {
		str_sets(err, "cannot accept the command mail");
		goto out;
	}
	fml_lock lk;
	if (lock_acquire(&lk, dir, (int)config_int(cf, CF_USE_FLOCK),
			 (long)config_int(cf, CF_LOCK_TIMEOUT),
			 (long)config_int(cf, CF_LOCK_STALE_AGE)) != ST_OK) {
		str_sets(err, "the list is locked; the command waits in var/incoming");
		goto out;
	}
	action_ctx p = {
	    .l = {.dir = dir, .cf = cf, .now = time(NULL)}, .only = str_c(&id), .report = report};
	st = proc_drain(&p, &procfull_ops, NULL);
	if (st == ST_OK && p.again) { /* "approve": the released post too */
		p.only = NULL;
		p.report = NULL;
		proc_drain(&p, &procfull_ops, NULL);
	}
	lock_release(&lk);
	if (st == ST_OK)
		runner_kick(dir, cf);
	else
		str_sets(err, "the command could not be run");
out:
	/* accepting does not sync (list/incoming.c): a command reported as
	 * waiting must be durable (ST_NOINPUT: a run took it) */
	if (st != ST_OK && id.len)
		incoming_sync(dir, str_c(&id));
	if (fd >= 0)
		close(fd);
	str_free(&mail);
	str_free(&id);
	return st;
}
