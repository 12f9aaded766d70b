/*
 * qview: the admin's views of a list's outgoing queue, for fmlqueue(8)'s
 * list, show, stats and delete.  Interface in qview.h; the areas, the item
 * format and the journal in doc/fml-queue.5.  Delivery (run, flush,
 * recover, expire) is runner.c's.
 *
 * The views only read the queue, except delete, which removes one item and
 * its journal unless a live runner holds it in active/.
 *
 * Failure policy: a damaged item is shown as such ("(reason)" in the list,
 * "damaged:" in show), never skipped silently; an item or journal that
 * cannot be read is left out of the totals.  delete returns ST_NOINPUT for
 * an unknown item and ST_TEMPFAIL when it cannot remove it.
 */
#include "qview.h"
#include "queue.h"
#include "qspool.h"
#include "list/seq.h"
#include "util/date.h"
#include "util/fs.h"
#include "util/lines.h"
#include "util/msg.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void age_str(char *buf, size_t size, long s)
{
	if (s < 0)
		s = 0;
	if (s < 120)
		snprintf(buf, size, "%lds", s);
	else if (s < 7200)
		snprintf(buf, size, "%ldm", s / 60);
	else if (s < 172800)
		snprintf(buf, size, "%ldh", s / 3600);
	else
		snprintf(buf, size, "%ldd", s / 86400);
}

static void list_line(FILE *out, queue_item *q, const char *area, time_t now)
{
	size_t pend = 0, done = 0, fail = 0;
	char age[32], next[64] = "-";
	for (size_t i = 0; i < q->nrcpt; i++)
		q->state[i] == QS_DONE ? done++ : q->state[i] == QS_FAILED ? fail++ : pend++;
	age_str(age, sizeof age, (long)(now - q->created));
	if (q->next_try && strcmp(area, "deferred") == 0) {
		if (q->next_try <= now)
			snprintf(next, sizeof next, "due");
		else
			age_str(next, sizeof next, (long)(q->next_try - now)),
			    memmove(next + 3, next, strlen(next) + 1), memcpy(next, "in ", 3);
	}
	fprintf(out, "%-28s %5s %9lld <%s> => %zu (%zu/%zu/%zu) %s %s\n", q->name, age,
		(long long)q->size, q->sender, q->nrcpt, pend, done, fail, area, next);
}

fml_status qview_list(const char *dir, config *cf, const char *sender, FILE *out)
{
	char qdir[4096], path[4096], base[256];
	str names = STR_INIT, err = STR_INIT;
	time_t now = time(NULL);
	snprintf(qdir, sizeof qdir, "%s", config_str(cf, CF_QUEUE_DIR));
	for (int a = 1; queue_areas[a]; a++) {
		int n = queue_list(qdir, queue_areas[a], &names);
		const char *p = names.s;
		for (int i = 0; i < n; i++, p += strlen(p) + 1) {
			queue_item q;
			if (fs_path(path, sizeof path, "%s/%s/%s", qdir, queue_areas[a], p) < 0)
				continue;
			str_clear(&err);
			if (queue_open(&q, path, 0, &err) != ST_OK) {
				if (queue_sender_match(sender, NULL))
					fprintf(out, "%-28s %s (%s)\n", p, queue_areas[a],
						str_c(&err));
				queue_close(&q);
				continue;
			}
			if (strcmp(queue_areas[a], "active") == 0 &&
			    queue_active_pid(p, base, sizeof base) >= 0)
				snprintf(q.name, sizeof q.name, "%s", base);
			queue_journal_load(qdir, &q);
			if (queue_sender_match(sender, q.sender))
				list_line(out, &q, queue_areas[a], now);
			queue_close(&q);
		}
	}
	str_free(&names);
	str_free(&err);
	return ST_OK;
}

fml_status qview_show(const char *dir, config *cf, const char *id, FILE *out)
{
	char qdir[4096], path[4096];
	const char *area;
	str err = STR_INIT, j = STR_INIT;
	snprintf(qdir, sizeof qdir, "%s", config_str(cf, CF_QUEUE_DIR));
	if (!queue_find(qdir, id, &area, path, sizeof path))
		return ST_NOINPUT;
	queue_item q;
	fml_status st = queue_open(&q, path, 0, &err);
	fprintf(out, "item: %s\narea: %s\npath: %s\n", id, area, path);
	if (st != ST_OK) {
		fprintf(out, "damaged: %s\n", str_c(&err));
	} else {
		snprintf(q.name, sizeof q.name, "%s", id);
		queue_journal_load(qdir, &q);
		char date[64];
		date_rfc5322(q.created, date, sizeof date);
		fprintf(out, "sender: <%s>\ncreated: %s\nlist: %s\n", q.sender, date, q.list);
		if (q.article)
			fprintf(out, "article: %ld\n", q.article);
		fprintf(out, "size: %lld (message %lld)\nattempts: %d\n", (long long)q.size,
			(long long)(q.msg_end - q.msg_start), q.attempts);
		if (q.next_try) {
			date_rfc5322(q.next_try, date, sizeof date);
			fprintf(out, "next try: %s\n", date);
		}
		if (q.snap)
			fprintf(out, "snapshot: %s (%zu recipients)\n", q.ref.gen, q.nrcpt);
		queue_rcpt_iter it;
		size_t i;
		const char *a;
		queue_rcpt_start(&q, &it);
		while (queue_rcpt_next(&it, &i, &a) == 1)
			fprintf(out, "rcpt %c %s\n", q.state[i], a);
		queue_rcpt_end(&it);
	}
	queue_close(&q);
	if (queue_journal_read(qdir, id, &j) == ST_OK && j.len) {
		fputs("journal:\n", out);
		fwrite(j.s, 1, j.len, out);
	}
	str_free(&err);
	str_free(&j);
	return ST_OK;
}

fml_status qview_delete(const char *dir, config *cf, const char *id)
{
	char qdir[4096], path[4096];
	const char *area;
	snprintf(qdir, sizeof qdir, "%s", config_str(cf, CF_QUEUE_DIR));
	if (!queue_find(qdir, id, &area, path, sizeof path))
		return ST_NOINPUT;
	if (strcmp(area, "active") == 0 &&
	    !queue_pid_dead(queue_active_pid(strrchr(path, '/') + 1, NULL, 0))) {
		msg_error("%s is being delivered now", id);
		return ST_TEMPFAIL;
	}
	/* an item of a pending area may stand for its article's spool file
	 * (qspool.h) */
	if (strcmp(area, "sent") != 0 && strcmp(area, "drop") != 0 &&
	    qspool_sync(cf, id, 1) != ST_OK)
		return ST_TEMPFAIL;
	if (unlink(path) < 0) {
		msg_error("unlink %s: %m", path);
		return ST_TEMPFAIL;
	}
	queue_journal_remove(qdir, id);
	qsnap_unlink(qdir, id);
	msg_info("deleted %s from %s/", id, area);
	return ST_OK;
}

/* Recipients D and F in journals changed since MIDNIGHT. */
static void journal_today(const char *qdir, time_t midnight, long *ok, long *fail)
{
	char path[4096];
	str names = STR_INIT, j = STR_INIT;
	struct stat st;
	int n = queue_list(qdir, "journal", &names);
	const char *p = names.s;
	for (int i = 0; i < n; i++, p += strlen(p) + 1) {
		if (fs_path(path, sizeof path, "%s/journal/%s", qdir, p) < 0 ||
		    stat(path, &st) < 0 || st.st_mtime < midnight)
			continue;
		if (queue_journal_read(qdir, p, &j) != ST_OK)
			continue;
		lines it;
		const char *l;
		size_t len;
		for (lines_init(&it, j.s, j.len); lines_next(&it, &l, &len);)
			if (len >= 2 && l[1] == ' ')
				*ok += l[0] == 'D', *fail += l[0] == 'F';
	}
	str_free(&names);
	str_free(&j);
}

/* What stats and metrics tell: items and bytes per area (queue_areas'
 * order), the oldest waiting item, today's moves to sent/ and drop/ and
 * recipients delivered and failed. */
#define NAREAS 7
typedef struct qcounts {
	time_t now, oldest;
	int items[NAREAS];
	long long bytes[NAREAS];
	long sent_today, dropped_today, rok, rfail;
} qcounts;

static void count_queue(config *cf, qcounts *q)
{
	char qdir[4096], path[4096];
	str names = STR_INIT;
	struct stat st;
	struct tm tm;
	memset(q, 0, sizeof *q);
	q->now = time(NULL);
	localtime_r(&q->now, &tm);
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	time_t midnight = mktime(&tm);
	snprintf(qdir, sizeof qdir, "%s", config_str(cf, CF_QUEUE_DIR));
	for (int a = 0; queue_areas[a] && a < NAREAS; a++) {
		int n = queue_list(qdir, queue_areas[a], &names);
		const char *p = names.s;
		q->items[a] = n < 0 ? 0 : n;
		for (int i = 0; i < n; i++, p += strlen(p) + 1) {
			if (fs_path(path, sizeof path, "%s/%s/%s", qdir, queue_areas[a], p) < 0 ||
			    lstat(path, &st) < 0)
				continue;
			q->bytes[a] += st.st_size;
			if (a >= 1 && a <= 3 && (!q->oldest || st.st_mtime < q->oldest))
				q->oldest = st.st_mtime;
			if (a == 4 && st.st_ctime >= midnight)
				q->sent_today++;
			if (a == 5 && st.st_ctime >= midnight)
				q->dropped_today++;
		}
	}
	journal_today(qdir, midnight, &q->rok, &q->rfail);
	str_free(&names);
}

fml_status qview_stats(const char *dir, config *cf, FILE *out)
{
	char age[32];
	qcounts q;
	long long bytes = 0;
	count_queue(cf, &q);
	for (int a = 0; queue_areas[a] && a < NAREAS; a++) {
		bytes += q.bytes[a];
		fprintf(out, "%-9s %6d items %12lld bytes\n", queue_areas[a], q.items[a],
			q.bytes[a]);
	}
	age_str(age, sizeof age, q.oldest ? (long)(q.now - q.oldest) : 0);
	fprintf(out, "total     %lld bytes\n", bytes);
	fprintf(out, "oldest waiting item: %s\n", q.oldest ? age : "-");
	fprintf(out,
		"today: %ld messages sent, %ld dropped; %ld recipients delivered, %ld failed\n",
		q.sent_today, q.dropped_today, q.rok, q.rfail);
	return ST_OK;
}

/* ---- metrics */

/* var/log's kinds: "duplicate" of duplicate.ID */
typedef struct kind {
	char name[48];
	long n;
} kind;
#define MAX_KINDS 32

/* The entries of DIR/SUB (not dot or tmp. names); with KINDS, counted by
 * the part of their name before the first dot into KINDS (*NK of them). */
static long count_dir(const char *dir, const char *sub, kind *kinds, size_t *nk)
{
	char path[4096];
	if (fs_path(path, sizeof path, "%s/%s", dir, sub) < 0)
		return 0;
	DIR *d = opendir(path);
	if (!d)
		return 0;
	struct dirent *de;
	long n = 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || strncmp(de->d_name, "tmp.", 4) == 0)
			continue;
		n++;
		size_t kl = strcspn(de->d_name, ".");
		/* kinds are fml's words: nothing else goes into a label */
		if (!kinds || !de->d_name[kl] || kl >= sizeof kinds->name ||
		    strspn(de->d_name, "abcdefghijklmnopqrstuvwxyz0123456789-_") < kl)
			continue;
		size_t k = 0;
		while (k < *nk &&
		       (strlen(kinds[k].name) != kl || strncmp(kinds[k].name, de->d_name, kl) != 0))
			k++;
		if (k == *nk) {
			if (*nk == MAX_KINDS)
				continue;
			snprintf(kinds[k].name, sizeof kinds[k].name, "%.*s", (int)kl, de->d_name);
			kinds[k].n = 0;
			(*nk)++;
		}
		kinds[k].n++;
	}
	closedir(d);
	return n;
}

fml_status qview_metrics(const char *dir, config *cf, str *out)
{
	char path[4096];
	const char *list = config_get(cf, "ML_NAME");
	kind kinds[MAX_KINDS];
	size_t nk = 0;
	struct stat st;
	qcounts q;
	count_queue(cf, &q);
	str_printf(out,
		   "# TYPE fml_articles counter\n"
		   "# HELP fml_articles Articles made (the list's article number).\n"
		   "fml_articles_total{list=\"%s\"} %ld\n",
		   list, seq_last(dir));
	str_puts(out, "# TYPE fml_queue_items gauge\n"
		      "# HELP fml_queue_items Outgoing queue items by area.\n");
	for (int a = 1; queue_areas[a] && a < NAREAS; a++)
		str_printf(out, "fml_queue_items{list=\"%s\",area=\"%s\"} %d\n", list,
			   queue_areas[a], q.items[a]);
	str_puts(out, "# TYPE fml_queue_bytes gauge\n"
		      "# HELP fml_queue_bytes Bytes of the outgoing queue items by area.\n");
	for (int a = 1; queue_areas[a] && a < NAREAS; a++)
		str_printf(out, "fml_queue_bytes{list=\"%s\",area=\"%s\"} %lld\n", list,
			   queue_areas[a], q.bytes[a]);
	str_printf(out,
		   "# TYPE fml_queue_oldest_waiting_seconds gauge\n"
		   "# HELP fml_queue_oldest_waiting_seconds Age of the oldest item in new, "
		   "active or deferred (0: none).\n"
		   "fml_queue_oldest_waiting_seconds{list=\"%s\"} %ld\n",
		   list, q.oldest ? (long)(q.now - q.oldest) : 0L);
	str_printf(out,
		   "# TYPE fml_recipients_today gauge\n"
		   "# HELP fml_recipients_today Recipients delivered or given up on since "
		   "midnight.\n"
		   "fml_recipients_today{list=\"%s\",result=\"delivered\"} %ld\n"
		   "fml_recipients_today{list=\"%s\",result=\"failed\"} %ld\n",
		   list, q.rok, list, q.rfail);
	long incoming = count_dir(dir, "var/incoming", NULL, NULL);
	long held = count_dir(dir, "var/hold", NULL, NULL);
	count_dir(dir, "var/log", kinds, &nk);
	str_printf(out,
		   "# TYPE fml_waiting_mails gauge\n"
		   "# HELP fml_waiting_mails Mail accepted and not processed yet (incoming), "
		   "and posts held for a moderator (hold).\n"
		   "fml_waiting_mails{list=\"%s\",where=\"incoming\"} %ld\n"
		   "fml_waiting_mails{list=\"%s\",where=\"hold\"} %ld\n",
		   list, incoming, list, held);
	str_puts(out, "# TYPE fml_kept_mails gauge\n"
		      "# HELP fml_kept_mails Mail not distributed, kept in var/log, by reason "
		      "(banned, duplicate, loop, autoreply, content, poison, ...).\n");
	for (size_t k = 0; k < nk; k++)
		str_printf(out, "fml_kept_mails{list=\"%s\",reason=\"%s\"} %ld\n", list,
			   kinds[k].name, kinds[k].n);
	if (fs_path(path, sizeof path, "%s/var/run/queue-ok", dir) == 0 && stat(path, &st) == 0)
		str_printf(
		    out,
		    "# TYPE fml_queue_last_success_timestamp_seconds gauge\n"
		    "# HELP fml_queue_last_success_timestamp_seconds When a fmlqueue run last "
		    "ended without trouble.\n"
		    "fml_queue_last_success_timestamp_seconds{list=\"%s\"} %lld\n",
		    list, (long long)st.st_mtime);
	str_puts(out, "# EOF\n");
	return ST_OK;
}
