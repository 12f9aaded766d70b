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
#include "util/date.h"
#include "util/fs.h"
#include "util/lines.h"
#include "util/msg.h"

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

fml_status qview_stats(const char *dir, config *cf, FILE *out)
{
	char qdir[4096], path[4096], age[32];
	str names = STR_INIT;
	struct stat st;
	time_t now = time(NULL), oldest = 0, midnight;
	struct tm tm;
	localtime_r(&now, &tm);
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	midnight = mktime(&tm);
	long long bytes = 0;
	long today[2] = {0, 0};
	snprintf(qdir, sizeof qdir, "%s", config_str(cf, CF_QUEUE_DIR));
	for (int a = 0; queue_areas[a]; a++) {
		int n = queue_list(qdir, queue_areas[a], &names);
		long long ab = 0;
		const char *p = names.s;
		for (int i = 0; i < n; i++, p += strlen(p) + 1) {
			if (fs_path(path, sizeof path, "%s/%s/%s", qdir, queue_areas[a], p) < 0 ||
			    lstat(path, &st) < 0)
				continue;
			ab += st.st_size;
			if (a >= 1 && a <= 3 && (!oldest || st.st_mtime < oldest))
				oldest = st.st_mtime;
			if ((a == 4 || a == 5) && st.st_ctime >= midnight)
				today[a - 4]++;
		}
		bytes += ab;
		fprintf(out, "%-9s %6d items %12lld bytes\n", queue_areas[a], n < 0 ? 0 : n, ab);
	}
	long rok = 0, rfail = 0;
	journal_today(qdir, midnight, &rok, &rfail);
	age_str(age, sizeof age, oldest ? (long)(now - oldest) : 0);
	fprintf(out, "total     %lld bytes\n", bytes);
	fprintf(out, "oldest waiting item: %s\n", oldest ? age : "-");
	fprintf(out,
		"today: %ld messages sent, %ld dropped; %ld recipients delivered, %ld failed\n",
		today[0], today[1], rok, rfail);
	str_free(&names);
	return ST_OK;
}
