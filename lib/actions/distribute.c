/*
 * distribute: article allocation, spool, summary, queue item, seq.  See
 * distribute.h for the order of the steps and why a crash is harmless.
 * Failure policy: any local error returns ST_TEMPFAIL and the incoming item
 * stays; the steps already done are found again by distribute_recover().
 */
#include "distribute.h"
#include "dmarc.h"
#include "rewrite.h"
#include "queue/qitem.h"
#include "queue/qdelta.h"
#include "queue/qsnap.h"
#include "queue/qspool.h"
#include "queue/queue.h"
#include "list/seq.h"
#include "list/article.h"
#include "list/members.h"
#include "mail/addr.h"
#include "mail/rfc2047.h"
#include "util/fs.h"
#include "util/lines.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/safefile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

static int spool_path(action_ctx *c, long n, char *buf, size_t size)
{
	return fs_path(buf, size, "%s/%ld", config_str(c->l.cf, CF_SPOOL_DIR), n);
}

static int tmp_path_id(const config *cf, const char *id, char *buf, size_t size)
{
	return fs_path(buf, size, "%s/.tmp.%s", config_str(cf, CF_SPOOL_DIR), id);
}

static int tmp_path(action_ctx *c, const incoming_item *it, char *buf, size_t size)
{
	return tmp_path_id(c->l.cf, it->id, buf, size);
}

/* The queue item's temp file: QUEUE_DIR/tmp/p.ID */
static int qtmp_path(const config *cf, const char *id, char *buf, size_t size)
{
	return fs_path(buf, size, "%s/tmp/p.%s", config_str(cf, CF_QUEUE_DIR), id);
}

/* copy [FROM, TO) of FD into the safefile */
static fml_status copy_range(int fd, off_t from, off_t to, safefile *sf, qitem_writer *qw)
{
	char *buf = mem_alloc(65536);
	fml_status st = ST_OK;
	while (from < to && st == ST_OK) {
		size_t want = (size_t)(to - from) < 65536 ? (size_t)(to - from) : 65536;
		ssize_t r = pread(fd, buf, want, from);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			msg_error("read: %s", r < 0 ? strerror(errno) : "unexpected end of file");
			st = ST_TEMPFAIL;
			break;
		}
		st = sf ? safefile_write(sf, buf, (size_t)r) : qitem_write(qw, buf, (size_t)r);
		from += r;
	}
	free(buf);
	return st;
}

typedef struct rcpt_vec {
	action_ctx *c;
	char **v;
	size_t n, cap;
} rcpt_vec;

static int collect(const member_entry *e, void *arg)
{
	rcpt_vec *rv = arg;
	if (e->off || e->bye || e->skip || e->digest)
		return 0;
	const char *a = str_c(&e->addr);
	const char *why = addr_check(a, e->addr.len);
	if (why) {
		msg_warn("actives line %ld: %s: skipped", e->lineno, why);
		return 0;
	}
	if (addr_equal(a, config_str(rv->c->l.cf, CF_MAIL_LIST)) ||
	    addr_equal(a, config_str(rv->c->l.cf, CF_CONTROL_ADDRESS)))
		return 0;
	if (rv->n == rv->cap) {
		rv->cap = rv->cap ? rv->cap * 2 : 256;
		rv->v = mem_reallocarray(rv->v, rv->cap, sizeof *rv->v);
	}
	str norm = STR_INIT;
	str_set(&norm, e->addr.s, e->addr.len);
	addr_normalize(&norm);
	rv->v[rv->n++] = mem_strdup(norm.s);
	str_free(&norm);
	return 0;
}

static int by_domain(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;
	int r = strcmp(addr_domain(x), addr_domain(y));
	return r ? r : strcmp(x, y);
}

/* RV's addresses sorted as snapshots are, each once, NUL-separated into
 * RCPTS (*N of them); RV emptied. */
static void sorted_unique(rcpt_vec *rv, str *rcpts, size_t *n)
{
	str_clear(rcpts);
	*n = 0;
	qsort(rv->v, rv->n, sizeof *rv->v, by_domain);
	for (size_t i = 0; i < rv->n; i++) {
		if (i > 0 && strcmp(rv->v[i], rv->v[i - 1]) == 0)
			continue;
		str_append(rcpts, rv->v[i], strlen(rv->v[i]) + 1);
		(*n)++;
	}
}

static void rcpt_vec_free(rcpt_vec *rv)
{
	for (size_t i = 0; i < rv->n; i++)
		free(rv->v[i]);
	free(rv->v);
	rv->v = NULL;
	rv->n = rv->cap = 0;
}

fml_status distribute_recipients(action_ctx *c, str *rcpts, size_t *n)
{
	char path[4096];
	rcpt_vec rv = {c, NULL, 0, 0};
	str_clear(rcpts);
	*n = 0;
	if (fs_path(path, sizeof path, "%s/actives", c->l.dir) < 0)
		return ST_TEMPFAIL;
	fml_status st = members_foreach(path, collect, &rv);
	if (st == ST_OK)
		sorted_unique(&rv, rcpts, n);
	rcpt_vec_free(&rv);
	return st;
}

#define DELTA_READ_MAX (8 << 20) /* appended bytes worth a delta; more: a full snapshot */

/* The recipients added by the bytes [OFF, NOW's size) of actives, which
 * were only appended (qdelta_chain): each line taken as collect() takes the
 * lines of the whole file.  ST_NOINPUT when actives is no longer as NOW. */
static fml_status appended_rcpts(action_ctx *c, const struct stat *now, off_t off, str *rcpts,
				 size_t *n)
{
	char path[4096];
	struct stat st;
	if (now->st_size < off || now->st_size - off > DELTA_READ_MAX ||
	    fs_path(path, sizeof path, "%s/actives", c->l.dir) < 0)
		return ST_NOINPUT;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return ST_NOINPUT;
	size_t len = (size_t)(now->st_size - off);
	char *buf = mem_alloc(len + 1);
	fml_status rc = ST_NOINPUT;
	/* the stat after the read: the bytes read are those of the stamp */
	if (fs_pread_full(fd, buf, len, off) == (ssize_t)len && fstat(fd, &st) == 0 &&
	    members_same_stat(now, &st)) {
		rcpt_vec rv = {c, NULL, 0, 0};
		member_entry e;
		members_entry_init(&e);
		for (size_t i = 0, j; i < len; i = j) {
			const char *nl = memchr(buf + i, '\n', len - i);
			j = nl ? (size_t)(nl - buf) + 1 : len;
			if (members_parse_line(buf + i, j - i, &e, NULL, NULL)) {
				e.lineno = 0; /* its number in the file is not known here */
				collect(&e, &rv);
			}
		}
		members_entry_free(&e);
		sorted_unique(&rv, rcpts, n);
		rcpt_vec_free(&rv);
		rc = ST_OK;
	}
	close(fd);
	free(buf);
	return rc;
}

/* A stamp no other run and no other post of this run makes. */
static void changed_stamp(str *stamp)
{
	static unsigned serial;
	struct timeval tv;
	gettimeofday(&tv, NULL);
	str_printf(stamp, " changed-while-read %lld.%06ld %ld %u", (long long)tv.tv_sec,
		   (long)tv.tv_usec, (long)getpid(), ++serial);
}

/*
 * The recipients of articles are a snapshot in the queue (queue/qsnap.h),
 * one generation per state of actives: made when the exact stamp of
 * actives (and the list's own addresses, which are left out) has none,
 * then named by every article's item until actives changes.  A post to a
 * big list writes one line instead of a copy of the members.  When actives
 * was only appended to since a generation (its append log has the chain,
 * qdelta_chain), the new one is a delta: the appended lines only, whatever
 * the size of the list.  Under the list lock, as the sweep of the
 * generations nothing needs.
 */
static fml_status article_rcpts(action_ctx *c, const char *qdir, qsnap_ref *ref)
{
	char path[4096];
	str stamp = STR_INIT, rcpts = STR_INIT;
	struct stat now, after;
	qsnap_ref from;
	off_t off;
	fml_status st = qsnap_stamp(c->l.dir, c->l.cf, &stamp, &now);
	memset(ref, 0, sizeof *ref);
	if (st != ST_OK || qsnap_find(qdir, str_c(&stamp), ref) == 0) {
		str_free(&stamp);
		return st;
	}
	st = ST_NOINPUT;
	if (!c->debug && qdelta_chain(c->l.dir, c->l.cf, qdir, &now, &from, &off) == 0 &&
	    appended_rcpts(c, &now, off, &rcpts, &ref->count) == ST_OK)
		st = qdelta_write(qdir, str_c(&stamp), from.gen, rcpts.s, ref->count, ref);
	if (st == ST_NOINPUT) {
		st = distribute_recipients(c, &rcpts, &ref->count);
		/* changed while it was read: what was read is no state that a
		 * stamp names, so its generation gets one of its own */
		if (st == ST_OK && (fs_path(path, sizeof path, "%s/actives", c->l.dir) < 0 ||
				    stat(path, &after) < 0 || !members_same_stat(&now, &after)))
			changed_stamp(&stamp);
		if (st == ST_OK && ref->count > 0 && !c->debug)
			st = qsnap_write(qdir, str_c(&stamp), rcpts.s, ref->count, ref);
	}
	if (st == ST_OK && ref->count > 0 && !c->debug)
		qsnap_sweep(qdir, str_c(&stamp), ref->gen);
	str_free(&stamp);
	str_free(&rcpts);
	return st == ST_OK ? ST_OK : ST_TEMPFAIL;
}

/* The queue item aN for article N of item ID in QUEUE_DIR/tmp/p.ID,
 * sealed (qitem_seal: the trailer written, its write-back started) in W,
 * not renamed: the snapshot of the actives named, then a copy of spool/N.
 * *QUEUED 0: no item is needed (no recipients, or a debug run). */
static fml_status write_qitem(action_ctx *c, long n, const char *id, qitem_writer *w, int *queued)
{
	char name[64], path[4096], tmp[4096];
	const char *qdir = config_str(c->l.cf, CF_QUEUE_DIR);
	qsnap_ref ref;
	*queued = 0;
	if (article_rcpts(c, qdir, &ref) != ST_OK)
		return ST_TEMPFAIL;
	if (c->debug || ref.count == 0) {
		msg_info("%sarticle %ld: %zu recipient(s)", c->debug ? "debug: not queued: " : "",
			 n, ref.count);
		return ST_OK;
	}
	snprintf(name, sizeof name, "a%ld", n);
	int fd = -1;
	struct stat st;
	fml_status rc = ST_TEMPFAIL;
	if (spool_path(c, n, path, sizeof path) < 0 ||
	    (fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0) {
		msg_error("open %s: %s", path, strerror(errno));
	} else if (qtmp_path(c->l.cf, id, tmp, sizeof tmp) == 0 &&
		   qitem_begin_tmp(w, qdir, name, tmp) == ST_OK) {
		rc = qitem_envelope_head(w, config_str(c->l.cf, CF_BOUNCE_ADDRESS),
					 config_get(c->l.cf, "ML_NAME"), n);
		if (rc == ST_OK)
			rc = qitem_rcpts_line(w, ref.gen, ref.count, ref.sha);
		if (rc == ST_OK)
			rc = copy_range(fd, 0, st.st_size, NULL, w);
		if (rc == ST_OK)
			rc = qitem_seal(w); /* aborts on failure */
		else
			qitem_abort(w);
	}
	if (fd >= 0)
		close(fd);
	if (rc == ST_OK) {
		*queued = 1;
		msg_debug("queued a%ld for %zu recipient(s) (snapshot %s)", n, ref.count, ref.gen);
	}
	return rc;
}

/* The last step of making articles durable: new/ fsynced when QUEUED
 * (their items were renamed into it), else spool/N. */
static fml_status made_durable(action_ctx *c, int queued, long n, long last)
{
	if ((queued ? qitem_sync_new(config_str(c->l.cf, CF_QUEUE_DIR))
		    : qspool_sync_article(c->l.cf, n)) == ST_OK)
		return ST_OK;
	msg_warn("article %ld%s%.0ld is in the spool but not yet durable: left for the next run "
		 "to finish",
		 n, last > n ? "-" : "", last > n ? last : 0);
	return ST_TEMPFAIL;
}

/* Is aN in the queue (any area)?  Then N is taken even when spool/N is
 * not there: a crash took the name, which commit_article() left unsynced. */
static int article_queued(action_ctx *c, long n)
{
	char name[64];
	snprintf(name, sizeof name, "a%ld", n);
	return qitem_exists(config_str(c->l.cf, CF_QUEUE_DIR), name);
}

/* Decoded, single-line subject without tags for the summary. */
static void summary_subject(action_ctx *c, const envelope *e, str *out)
{
	str_clear(out);
	const hfield *f = envelope_get(e, "Subject", 0);
	if (!f)
		return;
	str clean = STR_INIT;
	rewrite_subject(f->value.s, f->value.len, config_str(c->l.cf, CF_SUBJECT_TAG_TYPE),
			config_str(c->l.cf, CF_BRACKET), 0, -1, "", &clean);
	str dec = STR_INIT;
	rfc2047_decode(clean.s, clean.len, &dec);
	const char *s = str_c(&dec);
	while (*s == ' ')
		s++;
	for (; *s && out->len < 500; s++)
		str_putc(out, ((unsigned char)*s < 0x20 || *s == 0x7f) ? ' ' : *s);
	str_free(&dec);
	str_free(&clean);
}

/*
 * Whether summary has article N's line, in its last 64 KiB.  A line is
 * "DATE TIME [N:from] subject" (fml 4 wrote a shorter date): the number
 * field is the line's first " [", so a subject that quotes "[N:" elsewhere
 * is not article N's line.
 */
static int summary_has(action_ctx *c, long n)
{
	char path[4096], num[32];
	if (fs_path(path, sizeof path, "%s/summary", c->l.dir) < 0)
		return 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return 0;
	struct stat st;
	char *buf = mem_alloc(65537);
	fstat(fd, &st);
	/* one byte before the window: whether it starts at a line */
	off_t from = st.st_size > 65536 ? st.st_size - 65537 : 0;
	ssize_t r = fs_pread_full(fd, buf, 65537, from);
	close(fd);
	int found = 0;
	size_t k = (size_t)snprintf(num, sizeof num, "%ld:", n);
	if (r > 0) {
		lines it;
		const char *l;
		size_t len;
		lines_init(&it, buf, (size_t)r);
		if (from > 0) /* the window's first line may be cut: skip it */
			lines_next(&it, &l, &len);
		while (!found && lines_next(&it, &l, &len)) {
			const char *b = memmem(l, len, " [", 2);
			found = b && (size_t)(l + len - (b + 2)) >= k && memcmp(b + 2, num, k) == 0;
		}
	}
	free(buf);
	return found;
}

/* Article N's line in summary: "DATE TIME [N:from] subject". */
static void summary_line(action_ctx *c, long n, const envelope *e, const char *from, str *line)
{
	char stamp[32];
	str subj = STR_INIT;
	struct tm tm;
	localtime_r(&c->l.now, &tm);
	strftime(stamp, sizeof stamp, "%Y/%m/%d %H:%M:%S", &tm);
	if (e)
		summary_subject(c, e, &subj);
	str_clear(line);
	str_printf(line, "%s [%ld:%s] %s\n", stamp, n, from, str_c(&subj));
	str_free(&subj);
}

/* How an article is finished: made now, found again after a crash, or
 * given up (the poison guard): summary and seq only, no queue item. */
enum { AL_NEW, AL_RECOVER, AL_ABANDON };

/* Article N is durable (or abandoned): the duplicate cache (only now: an
 * entry in the cache, which is not synced, must never stand for an
 * article that a crash can take away, list/incoming.c), its summary LINE
 * (a recovery checks it is not there yet), seq, the log. */
static fml_status record(action_ctx *c, dedupe *dd, long n, const char *sha, const str *mid,
			 const str *line, const char *from, int how)
{
	char path[4096];
	dedupe_record(dd, sha, str_c(mid), mid->len, n);
	if (how == AL_NEW || !summary_has(c, n)) {
		fml_status st = fs_path(path, sizeof path, "%s/summary", c->l.dir) == 0
				    ? fs_append_line(path, line->s, line->len)
				    : ST_TEMPFAIL;
		if (st != ST_OK)
			return st;
	}
	seq_raise(c->l.dir, n);
	if (how == AL_ABANDON) {
		msg_error("article %ld from %s is in the spool but was NOT queued for delivery", n,
			  from);
		return ST_OK;
	}
	c->articles++;
	msg_info("article %ld from %s%s", n, from, how == AL_RECOVER ? " (recovered)" : "");
	return ST_OK;
}

/*
 * Article N, whose link a dead run left (AL_RECOVER): its queue item
 * written and committed unless it is in the queue already, then
 * made_durable(), then record().  AL_ABANDON: spool/N synced, record().
 */
static fml_status after_link(action_ctx *c, long n, const envelope *e, const char *from,
			     const incoming_item *it, dedupe *dd, int how)
{
	char name[64];
	snprintf(name, sizeof name, "a%ld", n);
	int queued = 0;
	if (how == AL_RECOVER &&
	    !(queued = qitem_exists(config_str(c->l.cf, CF_QUEUE_DIR), name))) {
		qitem_writer w;
		if (write_qitem(c, n, it->id, &w, &queued) != ST_OK ||
		    (queued && qitem_commit_nodir(&w) != ST_OK))
			return ST_TEMPFAIL;
	}
	if (made_durable(c, queued, n, n) != ST_OK)
		return ST_TEMPFAIL;
	const hfield *f = e ? envelope_get(e, "Message-ID", 0) : NULL;
	str mid = STR_INIT, line = STR_INIT;
	if (f)
		str_set(&mid, f->value.s, f->value.len);
	summary_line(c, n, e, from, &line);
	fml_status st = record(c, dd, n, it->sha256, &mid, &line, from, how);
	str_free(&mid);
	str_free(&line);
	return st;
}

/* An article linked, its queue item sealed in tmp/: durable at the
 * batch's commit. */
typedef struct pending {
	long n;
	int queued; /* W holds aN; 0: no recipients, spool/N is synced instead */
	qitem_writer w;
	char id[128];
	char item[4096]; /* var/incoming/ID */
	char sha[65];
	str mid, from, line;
} pending;

struct distribute_batch {
	size_t n;
	long next; /* the number after the last one linked; 0: none yet */
	pending p[DISTRIBUTE_BATCH];
};

distribute_batch *distribute_batch_new(void)
{
	return mem_calloc(1, sizeof(distribute_batch));
}

int distribute_batch_full(const distribute_batch *b)
{
	return b->n == DISTRIBUTE_BATCH;
}

void distribute_batch_ids(const distribute_batch *b, str *out)
{
	for (size_t i = 0; b && i < b->n; i++)
		str_printf(out, "%s\n", b->p[i].id);
}

static void batch_clear(distribute_batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		str_free(&b->p[i].mid);
		str_free(&b->p[i].from);
		str_free(&b->p[i].line);
	}
	b->n = 0;
	b->next = 0;
}

void distribute_batch_free(distribute_batch *b)
{
	if (!b)
		return;
	if (b->n)
		msg_panic("distribute_batch_free: %zu article(s) not committed", b->n);
	free(b);
}

/* Article N of M is linked: its queue item sealed into the batch. */
static fml_status stage(action_ctx *c, distribute_batch *b, dedupe *dd, long n,
			const action_mail *m)
{
	pending *p = &b->p[b->n];
	const incoming_item *it = m->it;
	if (write_qitem(c, n, it->id, &p->w, &p->queued) != ST_OK)
		return ST_TEMPFAIL;
	p->n = n;
	snprintf(p->id, sizeof p->id, "%s", it->id);
	snprintf(p->item, sizeof p->item, "%s", it->path);
	memcpy(p->sha, it->sha256, sizeof p->sha);
	str_init(&p->mid);
	str_init(&p->from);
	str_init(&p->line);
	const hfield *f = envelope_get(m->env, "Message-ID", 0);
	if (f)
		str_set(&p->mid, f->value.s, f->value.len);
	str_sets(&p->from, str_c(&m->from));
	summary_line(c, n, m->env, str_c(&m->from), &p->line);
	dedupe_hold(dd, p->sha, str_c(&p->mid), p->mid.len, n);
	b->n++;
	b->next = n + 1;
	return ST_OK;
}

/* The temps of item ID, once it has left var/incoming (distribute_done) */
static void done_id(action_ctx *c, const char *id)
{
	char tmp[4096];
	if (tmp_path_id(c->l.cf, id, tmp, sizeof tmp) == 0)
		unlink(tmp);
	if (qtmp_path(c->l.cf, id, tmp, sizeof tmp) == 0)
		unlink(tmp);
}

fml_status distribute_commit(action_ctx *c, distribute_batch *b, dedupe *dd)
{
	if (!b || !b->n)
		return ST_OK;
	fml_status st = ST_OK;
	int queued = 0;
	size_t i;
	/* the items' fsyncs wait for writes started at qitem_seal() */
	for (i = 0; i < b->n && st == ST_OK; i++) {
		pending *p = &b->p[i];
		if (p->queued)
			st = qitem_commit_nodir(&p->w); /* aborts on failure */
		else
			st = made_durable(c, 0, p->n, p->n);
		queued |= p->queued;
	}
	for (; i < b->n; i++)
		if (b->p[i].queued)
			qitem_abort(&b->p[i].w);
	if (st == ST_OK && queued)
		st = made_durable(c, 1, b->p[0].n, b->p[b->n - 1].n);
	/* a failure leaves every item and its linked spool/.tmp.ID for
	 * distribute_recover(), as a crash does */
	for (i = 0; i < b->n && st == ST_OK; i++) {
		pending *p = &b->p[i];
		st = record(c, dd, p->n, p->sha, &p->mid, &p->line, str_c(&p->from), AL_NEW);
		if (st == ST_OK && unlink(p->item) < 0 && errno != ENOENT) {
			msg_error("unlink %s: %s", p->item, strerror(errno));
			st = ST_TEMPFAIL;
		}
		if (st == ST_OK)
			done_id(c, p->id);
	}
	batch_clear(b);
	return st;
}

fml_status distribute_post(action_ctx *c, action_mail *m, dedupe *dd, distribute_batch *b,
			   long *article)
{
	char tmp[4096], final[4096];
	incoming_item *it = m->it;
	const envelope *e = m->env;
	if (distribute_batch_full(b))
		msg_panic("distribute_post: the batch is full");
	if (tmp_path(c, it, tmp, sizeof tmp) < 0)
		return ST_TEMPFAIL;
	long seq = seq_last(c->l.dir), floor = seq_floor(&c->l, seq);
	/* seq lost or stale: never reuse a number that is in an archive unit
	 * (its spool file may have expired); past the batch's own */
	long n = (floor > seq ? floor : seq) + 1;
	if (b->next > n)
		n = b->next;
	str hdr = STR_INIT;
	for (int tries = 0;; tries++) {
		while (spool_path(c, n, final, sizeof final) == 0 &&
		       (fs_exists(final) || article_queued(c, n)))
			n++;
		rewrite_info ri = {n, c->l.now, (time_t)it->arrival, m->dmarc, str_c(&m->dkim_h)};
		rewrite_header(e, c->l.cf, &ri, &hdr);
		if (m->dmarc == DMARC_WRAP) { /* the post inside, as it came */
			str inner = STR_INIT;
			rewrite_wrapped_header(e, c->l.cf, &inner);
			str_append(&hdr, inner.s, inner.len);
			str_free(&inner);
		}
		safefile sf;
		/* made by distribute_prepare(), or a leftover that never got
		 * linked (not an article): emptied and used */
		if (safefile_open_reuse(&sf, tmp) != ST_OK)
			break;
		fml_status st = safefile_write(&sf, hdr.s, hdr.len);
		if (st == ST_OK)
			st = copy_range(it->fd, e->body_off, e->end_off, &sf, NULL);
		if (st != ST_OK) {
			safefile_abort(&sf);
			break;
		}
		/* not synced: aN stands for spool/N (distribute.h) */
		st = safefile_link_nosync(&sf, final);
		if (st == ST_DATAERR && tries < 100) { /* someone made spool/N: next */
			safefile_abort(&sf);
			n++;
			continue;
		}
		if (st != ST_OK) {
			safefile_abort(&sf);
			break;
		}
		str_free(&hdr);
		*article = n;
		return stage(c, b, dd, n, m);
	}
	str_free(&hdr);
	return ST_TEMPFAIL;
}

fml_status distribute_recover(action_ctx *c, incoming_item *it, dedupe *dd, long *article,
			      int abandon)
{
	char tmp[4096], path[4096];
	struct stat ts, ss;
	if (tmp_path(c, it, tmp, sizeof tmp) < 0 || lstat(tmp, &ts) < 0)
		return ST_NOINPUT;
	if (ts.st_nlink < 2)
		return ST_NOINPUT; /* never linked: no article was made */
	/* a batch links its articles above seq, which its commit raises */
	long seq = seq_last(c->l.dir);
	for (long n = seq > 2 ? seq - 2 : 1; n <= seq + DISTRIBUTE_BATCH + 2; n++) {
		if (spool_path(c, n, path, sizeof path) < 0 || lstat(path, &ss) < 0 ||
		    ss.st_ino != ts.st_ino || ss.st_dev != ts.st_dev)
			continue;
		envelope e;
		envelope_init(&e);
		int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		str from = STR_INIT;
		fml_status st = ST_TEMPFAIL;
		if (fd >= 0 && envelope_parse_fd(&e, fd, 0, -1, NULL) == ST_OK) {
			const hfield *f = envelope_get(&e, "From", 0);
			if (!f || addr_parse_first(f->value.s, f->value.len, &from) != ST_OK)
				str_clear(&from);
			*article = n;
			st = after_link(c, n, &e, str_c(&from), it, dd,
					abandon ? AL_ABANDON : AL_RECOVER);
		}
		if (fd >= 0)
			close(fd);
		envelope_free(&e);
		str_free(&from);
		return st;
	}
	msg_error("%s is linked but no article near seq %ld shares it; left for the admin", tmp,
		  seq);
	return ST_TEMPFAIL;
}

void distribute_prepare(const config *cf, const char *id, char *spool_tmp, char *queue_tmp,
			size_t size)
{
	int fd;
	spool_tmp[0] = queue_tmp[0] = 0;
	if (tmp_path_id(cf, id, spool_tmp, size) == 0 &&
	    (fd = open(spool_tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) >= 0)
		close(fd);
	if (qtmp_path(cf, id, queue_tmp, size) == 0 &&
	    (fd = open(queue_tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) >= 0)
		close(fd);
}

void distribute_done(action_ctx *c, const incoming_item *it)
{
	done_id(c, it->id);
}
