/*
 * hold: held posts, their release and refusal, expiry.  See hold.h.
 * Everything here runs under the list lock (the drain, or a command mail
 * being processed by it).
 */
#include "hold.h"
#include "reply.h"
#include "list/incoming.h"
#include "list/members.h"
#include "mail/addr.h"
#include "mail/rfc2047.h"
#include "util/fs.h"
#include "util/lines.h"
#include "util/msg.h"
#include "util/safefile.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Collect a member file's deliverable addresses (moderators). */
static int add_addr(const member_entry *e, void *arg)
{
	str *out = arg;
	if (!e->off && !e->bye && !addr_check(e->addr.s, e->addr.len))
		str_append(out, e->addr.s, e->addr.len + 1);
	return 0;
}

fml_status hold_post(action_ctx *c, action_mail *m, const char *why, int moderate)
{
	char path[4096];
	str rcpts = STR_INIT, text = STR_INIT;
	size_t n = 0;
	if (moderate && fs_path(path, sizeof path, "%s/moderators", c->l.dir) == 0)
		members_foreach(path, add_addr, &rcpts);
	for (size_t i = 0; i < rcpts.len; i += strlen(rcpts.s + i) + 1)
		n++;
	str_printf(&text, "A post to %s from %s is held (%s).\nHold ID: %s\n\n",
		   config_str(c->l.cf, CF_MAIL_LIST),
		   m->from.len ? str_c(&m->from) : "(no valid From)", why, m->it->id);
	if (moderate)
		str_printf(&text,
			   "To distribute it, send this line to %s:\n\n    approve %s\n\n"
			   "To refuse it (the poster is told the reason, if you give one):\n\n"
			   "    reject %s [reason]\n\n"
			   "Without an answer it is removed after %lld days.\n\n",
			   config_str(c->l.cf, CF_CONTROL_ADDRESS), m->it->id, m->it->id,
			   (config_int(c->l.cf, CF_MODERATOR_EXPIRE_LIMIT) + 86399) / 86400);
	str_puts(&text, "The post is attached.\n");
	fml_status st = ST_OK;
	if (config_int(c->l.cf, CF_MODERATOR_NOTIFY))
		st = reply_notice(c, m, NULL, n ? rcpts.s : NULL, n, 1,
				  moderate ? "post held for moderation" : "suspicious mail held",
				  str_c(&text));
	/* a quarantined mail is "suspect.ID": no moderator can release it */
	if (st == ST_OK)
		st = action_save(c, m, "var/hold", moderate ? NULL : "suspect", NULL);
	if (st == ST_OK)
		msg_info("held %s from %s: %s", m->it->id, str_c(&m->from), why);
	str_free(&rcpts);
	str_free(&text);
	return st;
}

static int held_path(action_ctx *c, const char *id, char *path, size_t size)
{
	struct stat st;
	/* an incoming item's name ("SSSSSSSSSS.UUUUUU.PID.RAND"), never
	 * "suspect.ID", a dot file or a path */
	if (id[0] < '0' || id[0] > '9' || strchr(id, '/') ||
	    fs_path(path, size, "%s/var/hold/%s", c->l.dir, id) < 0)
		return 0;
	return lstat(path, &st) == 0 && S_ISREG(st.st_mode);
}

fml_status hold_release(action_ctx *c, const char *id)
{
	char held[4096], to[4096], list[4096], dir[4096];
	str line = STR_INIT;
	if (!held_path(c, id, held, sizeof held))
		return ST_NOINPUT;
	if (fs_path(to, sizeof to, "%s/var/incoming/%s", c->l.dir, id) < 0 ||
	    fs_path(list, sizeof list, "%s/var/db/approved", c->l.dir) < 0 ||
	    fs_path(dir, sizeof dir, "%s/var/incoming", c->l.dir) < 0)
		return ST_TEMPFAIL;
	fml_status st = ST_OK;
	int yes = hold_approved(c, id);
	if (yes < 0)
		return ST_TEMPFAIL;
	if (!yes) {
		str_printf(&line, "%s\n", id);
		st = fs_append_sync(list, line.s, line.len);
		str_free(&line);
	}
	if (st != ST_OK)
		return st;
	if (rename(held, to) < 0) {
		msg_error("rename %s to %s: %s", held, to, strerror(errno));
		return ST_TEMPFAIL;
	}
	if (fs_fsync_dir(dir) != ST_OK)
		return ST_TEMPFAIL;
	c->again = 1;
	return ST_OK;
}

int hold_approved(action_ctx *c, const char *id)
{
	char path[4096];
	str s = STR_INIT;
	int yes = 0;
	if (fs_path(path, sizeof path, "%s/var/db/approved", c->l.dir) < 0)
		return -1;
	fml_status st = fs_read(path, &s, 0);
	if (st != ST_OK && st != ST_NOINPUT) {
		str_free(&s);
		return -1; /* not "no": a post must not be held again for it */
	}
	if (st == ST_OK) {
		size_t n = strlen(id);
		for (const char *p = str_c(&s); *p; p += strcspn(p, "\n"), p += *p == '\n')
			if (strncmp(p, id, n) == 0 && (p[n] == '\n' || p[n] == 0))
				yes = 1;
	}
	str_free(&s);
	return yes;
}

fml_status hold_refuse(action_ctx *c, const char *id, const char *reason)
{
	char held[4096];
	incoming_item it;
	envelope e;
	action_mail m;
	if (!held_path(c, id, held, sizeof held))
		return ST_NOINPUT;
	memset(&m, 0, sizeof m);
	envelope_init(&e);
	m.it = &it;
	m.env = &e;
	fml_status st = incoming_open_in(c->l.dir, "var/hold", id, &it);
	envelope_limits lim = {(size_t)config_int(c->l.cf, CF_INCOMING_HEADER_SIZE_LIMIT),
			       (size_t)config_int(c->l.cf, CF_INCOMING_HEADER_FIELD_LIMIT)};
	if (st == ST_OK && envelope_parse_fd(&e, it.fd, it.mail_start, it.mail_end, &lim) == ST_OK)
		action_addresses(&m);
	if (st == ST_OK || st == ST_DATAERR)
		st = action_save(c, &m, "var/log", "rejected", NULL);
	if (st == ST_OK && m.reply.len) {
		const char *why = reply_suppressed(c, &m, str_c(&m.reply));
		str subj = STR_INIT, body = STR_INIT;
		str_printf(&subj, "Your post was not distributed %s",
			   config_str(c->l.cf, CF_ML_FN));
		str_printf(&body, "A moderator of %s refused your post%s%s%s\n",
			   config_str(c->l.cf, CF_MAIL_LIST), *reason ? ":\n\n    " : ".", reason,
			   *reason ? "\n" : "");
		if (why)
			msg_info("refusal notice to %s not sent: %s", str_c(&m.reply), why);
		else
			st = reply_send(c, &m, str_c(&m.reply), str_c(&subj), str_c(&body));
		str_free(&subj);
		str_free(&body);
	}
	envelope_free(&e);
	incoming_close(&it);
	action_mail_free(&m);
	return st;
}

/* Keep the approvals whose post still waits in var/incoming. */
static void prune_approved(action_ctx *c)
{
	char path[4096], item[4096];
	str s = STR_INIT, keep = STR_INIT;
	if (fs_path(path, sizeof path, "%s/var/db/approved", c->l.dir) < 0 ||
	    fs_read(path, &s, 0) != ST_OK || s.len == 0) {
		str_free(&s);
		return;
	}
	lines it;
	const char *p;
	size_t n;
	for (lines_init(&it, s.s, s.len); lines_next(&it, &p, &n);) {
		if (!it.nl || memchr(p, '\0', n))
			break; /* a torn last line or a NUL: the rest is dropped */
		if (n &&
		    fs_path(item, sizeof item, "%s/var/incoming/%.*s", c->l.dir, (int)n, p) == 0 &&
		    fs_exists(item))
			str_printf(&keep, "%.*s\n", (int)n, p);
	}
	if (keep.len != s.len)
		safefile_replace(path, keep.s ? keep.s : "", keep.len, 1);
	str_free(&s);
	str_free(&keep);
}

/* One line for the reminder: "ID  age  from  subject" of held post ID */
static void held_line(action_ctx *c, const char *id, long age, str *out)
{
	incoming_item it;
	envelope e;
	envelope_init(&e);
	str from = STR_INIT, subj = STR_INIT;
	const hfield *f;
	if (incoming_open_in(c->l.dir, "var/hold", id, &it) == ST_OK &&
	    envelope_parse_fd(&e, it.fd, it.mail_start, it.mail_end, NULL) == ST_OK) {
		if ((f = envelope_get(&e, "From", 0)) != NULL)
			addr_parse_first(f->value.s, f->value.len, &from);
		if ((f = envelope_get(&e, "Subject", 0)) != NULL)
			rfc2047_decode(f->value.s, f->value.len, &subj);
	}
	incoming_close(&it);
	envelope_free(&e);
	for (size_t i = 0; i < subj.len; i++) /* one line whatever it holds */
		if ((unsigned char)subj.s[i] < 0x20 || subj.s[i] == 0x7f)
			subj.s[i] = ' ';
	str_printf(out, "  %s  %ldd  %s  %.60s\n", id, age / 86400, from.len ? str_c(&from) : "?",
		   str_c(&subj));
	str_free(&from);
	str_free(&subj);
}

static void remind(action_ctx *c, const str *list, size_t n)
{
	char path[4096];
	struct stat st;
	long long every = config_int(c->l.cf, CF_MODERATOR_REMIND);
	if (!n || fs_path(path, sizeof path, "%s/var/run/hold-reminded", c->l.dir) < 0 ||
	    (stat(path, &st) == 0 && c->l.now - st.st_mtime < every))
		return;
	str rcpts = STR_INIT, text = STR_INIT;
	size_t nr = 0;
	if (fs_path(path, sizeof path, "%s/moderators", c->l.dir) == 0)
		members_foreach(path, add_addr, &rcpts);
	for (size_t i = 0; i < rcpts.len; i += strlen(rcpts.s + i) + 1)
		nr++;
	str_printf(&text,
		   "%zu post(s) to %s wait for a moderator (hold ID, days held, poster, "
		   "subject):\n\n%s\n"
		   "To distribute one, send \"approve ID\" to %s; to refuse it, "
		   "\"reject ID [reason]\".\nUnanswered posts are removed after %lld days.\n",
		   n, config_str(c->l.cf, CF_MAIL_LIST), str_c(list),
		   config_str(c->l.cf, CF_CONTROL_ADDRESS),
		   (config_int(c->l.cf, CF_MODERATOR_EXPIRE_LIMIT) + 86399) / 86400);
	if (reply_notice(c, NULL, NULL, nr ? rcpts.s : NULL, nr, 0, "posts held for moderation",
			 str_c(&text)) == ST_OK &&
	    fs_path(path, sizeof path, "%s/var/run/hold-reminded", c->l.dir) == 0) {
		fs_overwrite(path, "", 0);
		msg_info("reminded the moderators of %zu held post(s)", n);
	}
	str_free(&rcpts);
	str_free(&text);
}

void hold_expire(action_ctx *c)
{
	char dir[4096], path[4096];
	struct stat st;
	long long limit = config_int(c->l.cf, CF_MODERATOR_EXPIRE_LIMIT);
	long long every = config_int(c->l.cf, CF_MODERATOR_REMIND);
	str list = STR_INIT;
	size_t waiting = 0;
	prune_approved(c);
	if (fs_path(dir, sizeof dir, "%s/var/hold", c->l.dir) < 0)
		return;
	DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' ||
		    fs_path(path, sizeof path, "%s/%s", dir, de->d_name) < 0 ||
		    lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		long age = (long)(c->l.now - st.st_mtime);
		if (limit > 0 && age > limit) {
			if (unlink(path) == 0)
				msg_info("held post %s expired: removed", de->d_name);
		} else if (every > 0 && age > every && strncmp(de->d_name, "suspect.", 8) != 0) {
			held_line(c, de->d_name, age, &list);
			waiting++;
		}
	}
	if (d)
		closedir(d);
	remind(c, &list, waiting);
	str_free(&list);
}
