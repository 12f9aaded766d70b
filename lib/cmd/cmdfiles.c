/*
 * cmdfiles: the commands that read the list's files and articles for the
 * sender: members, actives, summary, status, index, get, mget (user and
 * admin forms of members/actives).  Article numbers and ranges arrive
 * parsed; paths are built from integers and fixed names only.  Articles
 * go back in separate mails through the queue, split at MGET_SIZE_LIMIT;
 * the report says what was sent.
 */
#include "cmdfiles.h"
#include "cmdrun.h"
#include "actions/distribute.h"
#include "actions/reply.h"
#include "list/article.h"
#include "list/seq.h"
#include "list/bundle.h"
#include "list/bundlewrite.h"
#include "list/members.h"
#include "mail/addr.h"
#include "util/fs.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/safefile.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUMMARY_MAX_LINES 1000

/* ---------------------------------------------------------------- member files */

typedef struct listing {
	cmd_run *r;
	int full; /* admin: off entries marked, options shown */
	long n;
} listing;

static int list_entry(const member_entry *e, void *arg)
{
	listing *l = arg;
	if (e->bye || (e->off && !l->full))
		return 0;
	cmdrun_say(l->r, "%s", str_c(&e->addr));
	if (l->full && e->opts.len)
		cmdrun_say(l->r, " %s", str_c(&e->opts));
	if (l->full && e->off)
		cmdrun_say(l->r, " (off)");
	cmdrun_say(l->r, "\n");
	l->n++;
	return 0;
}

static fml_status list_file(cmd_run *r, const char *file, int full)
{
	char path[4096];
	listing l = {r, full, 0};
	if (fs_path(path, sizeof path, "%s/%s", r->c->l.dir, file) < 0)
		return ST_TEMPFAIL;
	fml_status st = members_foreach(path, list_entry, &l);
	if (st == ST_OK)
		cmdrun_say(r, "(%ld address%s)\n", l.n, l.n == 1 ? "" : "es");
	return st;
}

/* ---------------------------------------------------------------- summary */

/* The article number of a summary line "DATE TIME [N:from] subject". */
static long summary_number(const char *line)
{
	const char *p = strstr(line, " [");
	return p ? strtol(p + 2, NULL, 10) : 0;
}

static int in_range(const artrange *a, long n)
{
	for (size_t i = 0; i < a->n; i++)
		if (n >= a->iv[i][0] && n <= a->iv[i][1])
			return 1;
	return 0;
}

static fml_status do_summary(cmd_run *r, const char *spec)
{
	char path[4096];
	artrange a;
	str why = STR_INIT;
	long last = seq_last(r->c->l.dir), shown = 0;
	fml_status st = ST_OK;
	artrange_init(&a);
	if (*spec && artrange_parse(spec, last, 0, &a, &why) != ST_OK) {
		cmdrun_say(r, "Error: %s.\n", str_c(&why));
		goto out;
	}
	if (!*spec) { /* the whole summary, but at most its newest lines */
		char newest[32];
		snprintf(newest, sizeof newest, "last:%d", SUMMARY_MAX_LINES);
		artrange_parse(newest, last, 0, &a, &why);
	}
	if (a.n == 0) {
		cmdrun_say(r, "There are no articles yet.\n");
		goto out;
	}
	if (fs_path(path, sizeof path, "%s/summary", r->c->l.dir) < 0) {
		st = ST_TEMPFAIL;
		goto out;
	}
	FILE *fp = fopen(path, "re");
	if (!fp) {
		cmdrun_say(r, "There are no articles yet.\n");
		goto out;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	while ((n = getline(&line, &cap, fp)) > 0 && shown < SUMMARY_MAX_LINES) {
		if (!in_range(&a, summary_number(line)))
			continue;
		str_append(r->out, line, (size_t)n);
		if (line[n - 1] != '\n')
			str_putc(r->out, '\n');
		shown++;
	}
	free(line);
	fclose(fp);
	if (shown == SUMMARY_MAX_LINES)
		cmdrun_say(r, "(at most %d lines are sent; ask for a range, e.g. summary 1-100)\n",
			   SUMMARY_MAX_LINES);
out:
	artrange_free(&a);
	str_free(&why);
	return st;
}

/* ---------------------------------------------------------------- status */

static fml_status do_status(cmd_run *r, const char *addr)
{
	char path[4096];
	member_entry e;
	int member = cmdrun_listed(r, "members", addr), found = -1;
	members_entry_init(&e);
	if (member >= 0 && fs_path(path, sizeof path, "%s/actives", r->c->l.dir) == 0)
		found =
		    members_find(path, addr, (int)config_int(r->c->l.cf, CF_ADDR_CHECK_MAX), &e);
	if (found < 0) {
		members_entry_free(&e);
		return ST_TEMPFAIL;
	}
	cmdrun_say(r, "%s: %s", addr, member ? "a member (may post)" : "not a member");
	if (!found)
		cmdrun_say(r, ", receives no articles\n");
	else if (e.off)
		cmdrun_say(r, ", delivery off\n");
	else if (e.skip)
		cmdrun_say(r, ", skip (receives nothing)\n");
	else if (e.digest)
		cmdrun_say(r, ", digest mode %s\n", str_c(&e.opts));
	else
		cmdrun_say(r, ", receives every article\n");
	members_entry_free(&e);
	return ST_OK;
}

/* ---------------------------------------------------------------- index */

static int cmp_num(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;
	return (x > y) - (x < y);
}

static fml_status do_index(cmd_run *r)
{
	char path[4096];
	long last = seq_last(r->c->l.dir);
	if (last == 0)
		cmdrun_say(r, "There are no articles yet.\n");
	else
		cmdrun_say(r, "Articles 1-%ld (\"summary\" lists them, \"get N\" sends one).\n",
			   last);
	if (fs_path(path, sizeof path, "%s", config_str(r->c->l.cf, CF_ARCHIVE_DIR)) < 0)
		return ST_TEMPFAIL;
	DIR *d = opendir(path);
	if (!d)
		return ST_OK;
	long *units = NULL;
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		char *end;
		long u = strtol(de->d_name, &end, 10);
		if (u > 0 && strcmp(end, ".tar.gz") == 0) {
			units = mem_reallocarray(units, n + 1, sizeof *units);
			units[n++] = u;
		}
	}
	closedir(d);
	qsort(units, n, sizeof *units, cmp_num);
	if (n)
		cmdrun_say(r, "Archive units (articles up to the number, tar.gz):\n");
	for (size_t i = 0; i < n; i++)
		cmdrun_say(r, "  %ld.tar.gz\n", units[i]);
	free(units);
	return ST_OK;
}

/* ---------------------------------------------------------------- get, mget */

static fml_status send_articles(cmd_run *r, const char *what, const char *spec, bundle_mode mode)
{
	action_ctx *c = r->c;
	artrange a;
	bundle b;
	str why = STR_INIT, subj = STR_INIT;
	fml_status st = ST_OK;
	article_store store;
	article_store_init(&store, config_str(c->l.cf, CF_SPOOL_DIR),
			   config_str(c->l.cf, CF_ARCHIVE_DIR));
	artrange_init(&a);
	memset(&b, 0, sizeof b);
	if (artrange_parse(spec, seq_last(c->l.dir), (long)config_int(c->l.cf, CF_MGET_LIMIT), &a,
			   &why) != ST_OK) {
		cmdrun_say(r, "Error: %s.\n", str_c(&why));
		goto out;
	}
	if ((st = bundle_plan(&store, &a, config_int(c->l.cf, CF_MGET_SIZE_LIMIT), &b)) != ST_OK)
		goto out;
	if (b.n == 0) {
		cmdrun_say(r, "Error: no such article%s.\n", artrange_count(&a) == 1 ? "" : "s");
		goto out;
	}
	size_t i;
	const char *stop = NULL;
	for (i = 0; i < b.nparts && st == ST_OK; i++) {
		reply_writer rw;
		/* every mail counts against REPLY_LIMIT, not only the report */
		if ((stop = reply_suppressed(c, NULL, r->to)) != NULL)
			break;
		str_clear(&subj);
		str_printf(&subj, "result for %s %s %s", what, spec, bundle_mode_name(mode));
		if (b.nparts > 1)
			str_printf(&subj, " (%zu/%zu)", i + 1, b.nparts);
		str_printf(&subj, " %s", config_str(c->l.cf, CF_ML_FN));
		st = reply_begin(c, r->m, r->to, 1, r->to, str_c(&subj), &rw);
		if (st != ST_OK)
			break;
		st = bundlewrite(&b, i, mode, &store, config_get(c->l.cf, "ML_NAME"), reply_sink,
				 &rw);
		st = st == ST_OK ? reply_commit(&rw) : (reply_abort(&rw), st);
	}
	if (st == ST_OK && stop) {
		cmdrun_say(r, "Stopped after %zu of %zu mails: %s.\n", i, b.nparts, stop);
		msg_info("%s %s to %s: stopped after %zu of %zu mails: %s", what, spec, r->to, i,
			 b.nparts, stop);
	} else if (st == ST_OK) {
		cmdrun_say(r, "Sent %zu article%s in %zu mail%s (mode %s).\n", b.n,
			   b.n == 1 ? "" : "s", b.nparts, b.nparts == 1 ? "" : "s",
			   bundle_mode_name(mode));
		if (b.missing.len)
			cmdrun_say(r, "Not found: %s.\n", str_c(&b.missing));
		msg_info("%s %s (%s) to %s: %zu articles", what, spec, bundle_mode_name(mode),
			 r->to, b.n);
	}
out:
	bundle_free(&b);
	article_store_free(&store);
	artrange_free(&a);
	str_free(&why);
	str_free(&subj);
	return st;
}

fml_status cmdfiles_run(cmd_run *r, const cmd_line *l)
{
	bundle_mode mode;
	switch (l->id) {
	case CMD_MEMBERS:
	case CMD_ADMIN_MEMBERS:
		return list_file(r, "members", l->admin);
	case CMD_ACTIVES:
	case CMD_ADMIN_ACTIVES:
		return list_file(r, "actives", l->admin);
	case CMD_SUMMARY:
		return do_summary(r, l->nargs ? str_c(&l->args[0]) : "");
	case CMD_STATUS:
		/* another address's status would tell who is a member */
		if (l->nargs && !addr_equal(str_c(&l->args[0]), r->from)) {
			cmdrun_say(r, "Refused: status tells only about your own address.\n");
			return ST_OK;
		}
		return do_status(r, r->from);
	case CMD_INDEX:
		return do_index(r);
	case CMD_GET:
		return send_articles(r, "get", str_c(&l->args[0]), BM_MP);
	case CMD_MGET:
		if (!bundle_mode_parse(l->nargs > 1 ? str_c(&l->args[1])
						    : config_str(r->c->l.cf, CF_MGET_DEFAULT_MODE),
				       &mode))
			mode = BM_MP;
		return send_articles(r, "mget", str_c(&l->args[0]), mode);
	default:
		msg_panic("cmdfiles: command %d", (int)l->id);
	}
}
