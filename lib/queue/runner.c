/*
 * runner: deliver a list's outgoing queue, recover what dead processes
 * left in it, expire old items.  Interface in runner.h; the areas, the item
 * format and the journal in doc/fml-queue.5.  What fmlqueue only shows
 * (list, show, stats) or removes by hand (delete) is qview.c's.
 *
 * One item: claim it (rename to active/NAME.PID), read the journal, send
 * the pending recipients in batches of SMTP_RECIPIENT_LIMIT over up to
 * SMTP_CONNECTIONS connections (one forked worker per connection, each
 * with its own journal part; one connection runs in-process; each worker
 * reads the recipients in order, in chunks, and sends every NCONN-th
 * batch, so no list of them is held), merge the
 * parts, then decide: every recipient final -> sent/ (all delivered) or
 * drop/ (some given up); else deferred/ with "A N NEXT" in the journal, or
 * drop/ once older than QUEUE_LIFETIME.  Given-up recipients and corrupt
 * items are reported to the maintainer in one message per pass (never for
 * an item with the null sender: no report about a report).  Runner deaths
 * on an item are counted (R lines) and told once (K line) but never strand
 * it: it is delivered on as usual.  A stop (runner_opts.stop, set by the
 * program's signal handler) ends the pass at a safe point: transactions in
 * flight are finished and journaled, the item goes back where it came from.
 *
 * Failure policy: a journal that cannot be written stops the delivery of
 * that item (it goes back, nothing is lost, some recipients may get the
 * message again); a worker's death is a temporary failure of whatever it
 * had not journaled.  Workers die with their parent (PR_SET_PDEATHSIG), so
 * a recovered item is never delivered by two processes.
 */
#include "runner.h"
#include "qitem.h"
#include "qspool.h"
#include "qsnap.h"
#include "queue.h"
#include "list/incoming.h"
#include "list/oneclick.h"
#include "list/secret.h"
#include "mail/addr.h"
#include "mail/transport.h"
#include "mail/verp.h"
#include "util/date.h"
#include "util/detach.h"
#include "util/fs.h"
#include "util/lines.h"
#include "util/lock.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/safefile.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_RELAYS 64
#define MAX_CONNS 64
#define TMP_ORPHAN_AGE 3600
#define DEATH_NOTICE 10	      /* runner deaths on one item before the maintainer is told */
#define STOP_POLL_NS 20000000 /* how often a stopping runner looks at its workers */
#define SWEEP_LOCK_WAIT 2     /* seconds the snapshot sweep waits for the list lock */
#define PER_RCPT_BATCH 32     /* one-click: transactions between two journal writes */

typedef struct run {
	const char *dir;
	config *cf;
	const runner_opts *o;
	char qdir[4096];
	char *relays[MAX_RELAYS];
	int nrelay;
	char dead[MAX_RELAYS];
	transport_opts tpo;
	str report;  /* lines for the maintainer */
	str held;    /* names of dropped items in active/ waiting for the report */
	str marks;   /* "NAME\0OFFSET\0" of deferred items whose F lines the report covers */
	str deaths;  /* "NAME\0N\0" of items whose N runner deaths the report covers */
	str bounces; /* delivery-status blocks of the list's given-up recipients */
	int gaveup;  /* the report says something was given up */
	int left;    /* a stop left work undone */
	long items, sent, dropped, deferred, corrupt, rcpt_ok, rcpt_fail;
} run;

static void run_init(run *r, const char *dir, config *cf, const runner_opts *o)
{
	memset(r, 0, sizeof *r);
	r->dir = dir;
	r->cf = cf;
	r->o = o;
	snprintf(r->qdir, sizeof r->qdir, "%s", config_str(cf, CF_QUEUE_DIR));
	const char *s = config_str(cf, CF_SMTP_SERVERS);
	str one = STR_INIT;
	while (*s && r->nrelay < MAX_RELAYS) {
		size_t sp = strspn(s, " \t\n"), l;
		s += sp;
		l = strcspn(s, " \t\n");
		if (l)
			r->relays[r->nrelay++] = mem_strndup(s, l);
		s += l;
	}
	if (r->nrelay == 0) {
		str_printf(&one, "smtp:%s:%lld", config_str(cf, CF_HOST), config_int(cf, CF_PORT));
		r->relays[r->nrelay++] = mem_strdup(one.s);
	}
	str_free(&one);
	r->tpo.helo = config_str(cf, CF_SMTP_HELO_NAME);
	r->tpo.connect_timeout = (long)config_int(cf, CF_SMTP_CONNECT_TIMEOUT);
	r->tpo.command_timeout = (long)config_int(cf, CF_SMTP_COMMAND_TIMEOUT);
	r->tpo.data_timeout = (long)config_int(cf, CF_SMTP_DATA_TIMEOUT);
}

static void run_free(run *r)
{
	for (int i = 0; i < r->nrelay; i++)
		free(r->relays[i]);
	str_free(&r->report);
	str_free(&r->held);
	str_free(&r->marks);
	str_free(&r->deaths);
	str_free(&r->bounces);
}

/* Asked to stop (SIGTERM & co., caught by the program): finish the
 * transaction in flight, journal it, put the item back. */
static int stopping(const run *r)
{
	return r->o->stop && *r->o->stop;
}

/* One journal line; TEXT made safe for a line (no control bytes). */
static void jline(str *out, char kind, const char *addr, int code, const char *text)
{
	str_putc(out, kind);
	str_putc(out, ' ');
	str_puts(out, addr);
	if (kind != QS_DONE) {
		str_printf(out, " %d ", code);
		for (const char *p = text; *p; p++)
			str_putc(out, ((unsigned char)*p < 32 || *p == 127) ? ' ' : *p);
	}
	str_putc(out, '\n');
}

/* ---- one worker: its share of the batches over one connection at a time */

typedef struct work {
	run *r;
	queue_item *q;
	size_t limit;
	int k, nconn, part, deadfd;
	int verp;	   /* VERP_NONE, VERP_OFFERED or VERP_ALWAYS (verp_wanted) */
	const str *prefix; /* the item's DKIM-Signature fields (runner_sign_with) */
	/* one-click (list/oneclick.h): each recipient its own transaction,
	 * its List-Unsubscribe fields and their signature */
	const str *key; /* etc/secret; NULL: the item goes as one message */
	void *signh;	/* the signer's handle for the item, or NULL */
	const char *eol;
} work;

static const runner_signer *signer;

void runner_sign_with(const runner_signer *s)
{
	signer = s;
}

int runner_wants_signer(const config *cf)
{
	return *config_str(cf, CF_DKIM_SELECTOR) && *config_str(cf, CF_DKIM_PRIVATE_KEY);
}

/* The line end Q's message uses. */
static const char *item_eol(const queue_item *q)
{
	char head[1024];
	ssize_t got = pread(q->fd, head, sizeof head, q->msg_start);
	const char *nl = got > 0 ? memchr(head, '\n', (size_t)got) : NULL;
	return nl && nl > head && nl[-1] == '\r' ? "\r\n" : "\n";
}

/* The signer's handle for Q, once per item and run (the body hashed once,
 * not per recipient or connection), and, unless each recipient gets its
 * own (PER_RCPT), the item's DKIM-Signature fields into OUT.  A failure is
 * logged and the item goes out unsigned (mail is not held back for a key
 * problem). */
static void *sign_item(run *r, queue_item *q, const char *eol, int per_rcpt, str *out)
{
	str err = STR_INIT;
	str_clear(out);
	if (!signer || !runner_wants_signer(r->cf))
		return NULL;
	void *h = signer->begin(r->dir, r->cf, q->fd, q->msg_start, q->msg_end, &err);
	if (h && !per_rcpt && signer->sign(h, NULL, 0, eol, out, &err) != ST_OK) {
		str_clear(out);
		signer->end(h);
		h = NULL;
	}
	if (!h)
		msg_error("%s: sent without the list's DKIM signature: %s", q->name, str_c(&err));
	str_free(&err);
	return h;
}

enum { VERP_NONE, VERP_OFFERED, VERP_ALWAYS };

/* Is Q the list's mail (articles, digests: sender BOUNCE_ADDRESS), whose
 * bounces the list reads?  Not the null sender's (replies, reports). */
static int list_mail(const run *r, const queue_item *q)
{
	return q->sender[0] && addr_equal(q->sender, config_str(r->cf, CF_BOUNCE_ADDRESS));
}

/* What VERP Q gets: the list's mail as VERP_MODE says. */
static int verp_wanted(const run *r, const queue_item *q)
{
	const char *mode = config_str(r->cf, CF_VERP_MODE);
	if (strcmp(mode, "off") == 0 || !list_mail(r, q))
		return VERP_NONE;
	if (strcmp(mode, "always") == 0)
		return VERP_ALWAYS;
	long long every = config_int(r->cf, CF_VERP_PROBE_INTERVAL);
	if (strcmp(mode, "probe") == 0 && q->article > 0 && every > 0 && q->article % every == 0)
		return VERP_ALWAYS;
	return VERP_OFFERED;
}

/* One-click: a transaction per recipient of RC (N), each copy with its
 * recipient's List-Unsubscribe fields before the message (signed, when the
 * list signs) and, with VERP wanted, its own sender. */
static int send_each(work *w, transport_conn *c, const char *const *rc, size_t n, transport_msg *m,
		     transport_result *res)
{
	const char *delims = config_str(w->r->cf, CF_VERP_DELIMITERS);
	str sender = STR_INIT, fields = STR_INIT, prefix = STR_INIT, err = STR_INIT;
	int rv = 0;
	m->xverp = NULL;
	for (size_t i = 0; i < n && rv == 0; i++) {
		str_clear(&fields);
		str_clear(&prefix);
		oneclick_fields(w->r->cf, w->r->dir, w->key, rc[i], w->eol, &fields);
		if (w->signh &&
		    signer->sign(w->signh, fields.s, fields.len, w->eol, &prefix, &err) != ST_OK) {
			msg_error("%s: %s: sent without the list's DKIM signature: %s", w->q->name,
				  rc[i], str_c(&err));
			str_clear(&prefix);
			str_clear(&err);
		}
		str_append(&prefix, fields.s, fields.len);
		m->prefix = prefix.s;
		m->prefix_len = prefix.len;
		if (w->verp != VERP_NONE)
			verp_encode(w->q->sender, delims, rc[i], &sender);
		else
			str_sets(&sender, w->q->sender);
		rv = transport_send(c, str_c(&sender), &rc[i], 1, m, &res[i]);
	}
	m->prefix = NULL;
	m->prefix_len = 0;
	str_free(&sender);
	str_free(&fields);
	str_free(&prefix);
	str_free(&err);
	return rv; /* the recipients not tried have no answer: deferred */
}

/* One batch over C: as it is, with XVERP when VERP is wanted and C offers
 * it (one transaction still, the relay makes each sender), or, when VERP is
 * required and C does not offer it, one transaction per recipient with its
 * own sender.  Returns as transport_send(). */
static int send_batch(work *w, transport_conn *c, const char *const *rc, size_t n, transport_msg *m,
		      transport_result *res)
{
	if (w->key)
		return send_each(w, c, rc, n, m, res);
	const char *delims = config_str(w->r->cf, CF_VERP_DELIMITERS);
	m->xverp = w->verp != VERP_NONE && c->xverp ? delims : NULL;
	if (w->verp != VERP_ALWAYS || c->xverp)
		return transport_send(c, w->q->sender, rc, n, m, res);
	str sender = STR_INIT;
	int rv = 0;
	for (size_t i = 0; i < n && rv == 0; i++) {
		verp_encode(w->q->sender, delims, rc[i], &sender);
		rv = transport_send(c, str_c(&sender), &rc[i], 1, m, &res[i]);
	}
	str_free(&sender);
	return rv; /* the recipients not tried have no answer: deferred */
}

static transport_conn *connect_any(work *w, int *relay, str *err)
{
	run *r = w->r;
	for (int t = 0; t < r->nrelay; t++) {
		int i = (*relay + t) % r->nrelay;
		if (r->dead[i])
			continue;
		str_clear(err);
		transport_conn *c = transport_connect(r->relays[i], &r->tpo, err);
		if (c) {
			*relay = i;
			return c;
		}
		msg_warn("%s: %s", r->relays[i], str_c(err));
		r->dead[i] = 1; /* skipped for the rest of the pass */
		if (w->deadfd >= 0) {
			unsigned char b = (unsigned char)i;
			if (write(w->deadfd, &b, 1) != 1)
				msg_warn("dead relay pipe: %m");
		}
	}
	if (!err->len)
		str_puts(err, "no relay reachable");
	return NULL;
}

/* The next batch of pending recipients (the LIMIT after those of the
 * batches before), read from IT; only if MINE are their addresses kept, in
 * BUF (NUL-separated, their offsets in AT) with RC pointing into it.  Returns how many, or -1 on
 * a read error; 0 at the end. */
static long next_batch(work *w, queue_rcpt_iter *it, int mine, str *buf, size_t *at,
		       const char **rc)
{
	size_t n = 0, ord;
	const char *a;
	int got = 0;
	str_clear(buf);
	while (n < w->limit && (got = queue_rcpt_next(it, &ord, &a)) == 1) {
		if (w->q->state[ord] == QS_DONE || w->q->state[ord] == QS_FAILED)
			continue;
		if (mine) {
			at[n] = buf->len;
			str_append(buf, a, strlen(a) + 1);
		}
		n++;
	}
	if (got < 0)
		return -1;
	for (size_t i = 0; mine && i < n; i++)
		rc[i] = buf->s + at[i];
	return (long)n;
}

static fml_status worker(work *w)
{
	run *r = w->r;
	queue_item *q = w->q;
	int jfd = queue_journal_open(r->qdir, q->name, w->part);
	if (jfd < 0)
		return ST_TEMPFAIL;
	/* the list's mail asks for failure reports naming the item and the
	 * member (RFC 3461), where the relay offers DSN */
	transport_msg m = {q->fd,
			   q->msg_start,
			   q->msg_end,
			   NULL,
			   list_mail(r, q) ? q->name : NULL,
			   w->prefix ? w->prefix->s : NULL,
			   w->prefix ? w->prefix->len : 0};
	const char **rc = mem_reallocarray(NULL, w->limit, sizeof *rc);
	size_t *at = mem_reallocarray(NULL, w->limit, sizeof *at);
	transport_result *res = mem_reallocarray(NULL, w->limit, sizeof *res);
	str jl = STR_INIT, err = STR_INIT, addrs = STR_INIT;
	transport_conn *c = NULL;
	int relay = w->k % r->nrelay, nobody = 0;
	fml_status st = ST_OK;
	queue_rcpt_iter it;
	queue_rcpt_start(q, &it);
	/* the pending recipients in batches of LIMIT; batch B is worker
	 * B % NCONN's: every worker reads the recipients, each sends its own */
	for (size_t b = 0; st == ST_OK; b++) {
		int mine = (int)(b % (size_t)w->nconn) == w->k;
		if (mine && stopping(r)) {
			/* stopped with batches left? */
			if (next_batch(w, &it, 0, &addrs, at, rc) != 0)
				st = ST_TEMPFAIL;
			break;
		}
		long got = next_batch(w, &it, mine, &addrs, at, rc);
		if (got < 0)
			st = ST_TEMPFAIL;
		if (got <= 0)
			break;
		if (!mine)
			continue;
		size_t n = (size_t)got;
		memset(res, 0, n * sizeof *res);
		if (!c && !nobody && !(c = connect_any(w, &relay, &err)))
			nobody = 1;
		if (c) {
			if (send_batch(w, c, rc, n, &m, res) < 0) {
				transport_close(c);
				c = NULL;
			}
		}
		str_clear(&jl);
		for (size_t i = 0; i < n; i++) {
			int code = res[i].code;
			const char *text = res[i].text;
			if (nobody) {
				code = 421;
				text = str_c(&err);
			} else if (code < 200 || code > 599) {
				code = 421;
				text = "no answer for this recipient";
			}
			res[i].text[sizeof res[i].text - 1] = 0;
			jline(&jl,
			      code < 300    ? QS_DONE
			      : code >= 500 ? QS_FAILED
					    : QS_TEMP,
			      rc[i], code, text);
		}
		st = queue_journal_append(jfd, &jl);
	}
	queue_rcpt_end(&it);
	if (c)
		transport_close(c);
	if (close(jfd) < 0)
		st = ST_TEMPFAIL;
	free(rc);
	free(at);
	free(res);
	str_free(&jl);
	str_free(&err);
	str_free(&addrs);
	return st;
}

/* Wait for the NKIDS workers in KIDS.  A stop asked of the runner is
 * passed on to them (each finishes its transaction in flight, journals it
 * and exits); the runner therefore looks at them every STOP_POLL_NS while
 * it may be asked to stop, and blocks in waitpid() otherwise. */
static fml_status wait_workers(run *r, pid_t *kids, int nkids)
{
	const struct timespec nap = {0, STOP_POLL_NS};
	fml_status st = ST_OK;
	int left = nkids, told = 0;
	while (left > 0) {
		if (!told && stopping(r)) {
			for (int k = 0; k < nkids; k++)
				if (kids[k] > 0)
					kill(kids[k], SIGTERM);
			told = 1;
		}
		int poll = r->o->stop && !told;
		for (int k = 0; k < nkids; k++) {
			int ws;
			pid_t got;
			if (kids[k] <= 0)
				continue;
			while ((got = waitpid(kids[k], &ws, poll ? WNOHANG : 0)) < 0 &&
			       errno == EINTR && !poll)
				;
			if (got == 0 || (got < 0 && errno == EINTR))
				continue;
			if (got < 0 || !WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
				st = ST_TEMPFAIL;
			kids[k] = 0;
			left--;
		}
		if (left > 0 && poll)
			nanosleep(&nap, NULL);
	}
	return st;
}

static size_t count_pending(const queue_item *q)
{
	size_t n = 0;
	for (size_t i = 0; i < q->nrcpt; i++)
		n += q->state[i] != QS_DONE && q->state[i] != QS_FAILED;
	return n;
}

/* Send every pending recipient of Q; the journal records the results. */
static fml_status send_pending(run *r, queue_item *q)
{
	size_t np = count_pending(q);
	long long limit = config_int(r->cf, CF_SMTP_RECIPIENT_LIMIT);
	long long conns = config_int(r->cf, CF_SMTP_CONNECTIONS);
	if (limit < 1)
		limit = 1;
	/* one-click: the list's mail, each copy its own fields, one transaction
	 * each; the journal is written after every batch, so a batch is kept
	 * short: a runner killed in between sends again to PER_RCPT_BATCH
	 * recipients per connection at most */
	int per_rcpt = list_mail(r, q) && oneclick_enabled(r->cf);
	if (per_rcpt && limit > PER_RCPT_BATCH)
		limit = PER_RCPT_BATCH;
	size_t nbatch = (np + (size_t)limit - 1) / (size_t)limit;
	int nconn = conns < 1 ? 1 : conns > MAX_CONNS ? MAX_CONNS : (int)conns;
	if ((size_t)nconn > nbatch)
		nconn = (int)nbatch;
	str prefix = STR_INIT, key = STR_INIT;
	if (per_rcpt && np > 0 && secret_load(r->dir, &key) != ST_OK) {
		msg_error("%s: no etc/secret for the one-click fields: left for later", q->name);
		return ST_TEMPFAIL;
	}
	const char *eol = item_eol(q);
	void *signh = np > 0 ? sign_item(r, q, eol, per_rcpt, &prefix) : NULL;
	work w = {r,	 q,  (size_t)limit,	0,	 nconn,
		  -1,	 -1, verp_wanted(r, q), &prefix, per_rcpt ? &key : NULL,
		  signh, eol};
	fml_status st = ST_OK;
	if (np == 0) {
		/* nothing to send */
	} else if (nconn <= 1) {
		w.nconn = 1;
		st = worker(&w);
	} else {
		int pfd[2];
		pid_t kids[MAX_CONNS];
		int nkids = 0;
		if (pipe2(pfd, O_CLOEXEC) < 0) {
			st = ST_TEMPFAIL;
			goto out;
		}
		pid_t parent = getpid();
		for (int k = 0; k < nconn && !stopping(r); k++) {
			pid_t pid = fork();
			if (pid == 0) {
				prctl(PR_SET_PDEATHSIG, SIGKILL);
				if (getppid() != parent)
					_exit(75);
				close(pfd[0]);
				w.k = k;
				w.part = k;
				w.deadfd = pfd[1];
				_exit(worker(&w) == ST_OK ? 0 : 75);
			}
			if (pid < 0) {
				msg_error("fork: %m");
				st = ST_TEMPFAIL;
				break;
			}
			kids[nkids++] = pid;
		}
		close(pfd[1]);
		if (wait_workers(r, kids, nkids) != ST_OK)
			st = ST_TEMPFAIL;
		unsigned char b;
		while (read(pfd[0], &b, 1) == 1)
			if (b < MAX_RELAYS)
				r->dead[b] = 1;
		close(pfd[0]);
		if (queue_journal_merge(r->qdir, q->name) != ST_OK)
			st = ST_TEMPFAIL;
	}
out:
	if (signh)
		signer->end(signh);
	str_free(&prefix);
	if (key.s)
		explicit_bzero(key.s, key.len);
	str_free(&key);
	return st;
}

typedef struct failed_ctx {
	off_t from, len; /* F lines at FROM or later are news; the journal's length */
	size_t n;
	str *out;
} failed_ctx;

static int last_mark(const char *l, size_t len, off_t off, void *arg)
{
	failed_ctx *fc = arg;
	if (len >= 2 && l[0] == 'P' && l[1] == ' ')
		fc->from = (off_t)strtoul(l + 2, NULL, 10);
	fc->len = off + (off_t)len + 1;
	return 0;
}

static int new_failure(const char *l, size_t len, off_t off, void *arg)
{
	failed_ctx *fc = arg;
	if (off >= fc->from && len >= 2 && l[0] == 'F' && l[1] == ' ') {
		str_puts(fc->out, "  ");
		str_append(fc->out, l + 2, len - 2);
		str_putc(fc->out, '\n');
		fc->n++;
	}
	return 0;
}

/* The status of a given-up recipient: the enhanced code that starts TEXT
 * (RFC 3463) when its class is CODE's, else CLASS.0.0; a recipient given
 * up when the queue lifetime ended (CODE 0) is 4.4.7. */
static void give_up_status(int code, const char *text, char out[16])
{
	int a, b, c, n = 0;
	if (code == 0)
		snprintf(out, 16, "4.4.7");
	else if (sscanf(text, "%1d.%3d.%3d%n", &a, &b, &c, &n) == 3 && a == code / 100 &&
		 (text[n] == ' ' || text[n] == 0))
		snprintf(out, 16, "%d.%d.%d", a, b, c);
	else
		snprintf(out, 16, "%d.0.0", code / 100);
}

/* The F lines JL ("  ADDR CODE TEXT") of the list's item Q as recipient blocks
 * of a delivery-status report (RFC 3464) for the list's bounce analysis: a
 * relay's refusal counts as a bounce that never comes by mail. */
static void bounce_blocks(run *r, const queue_item *q, const str *jl)
{
	lines it;
	const char *l;
	size_t n;
	lines_init(&it, jl->s, jl->len);
	while (lines_next(&it, &l, &n)) {
		char addr[256], status[16];
		int code = 0, off = 0;
		str line = STR_INIT;
		str_set(&line, l, n);
		if (sscanf(str_c(&line), " %255s %d %n", addr, &code, &off) >= 2 && off > 0) {
			const char *text = str_c(&line) + off;
			give_up_status(code, text, status);
			str_printf(&r->bounces,
				   "\nFinal-Recipient: rfc822; %s\nAction: failed\nStatus: %s\n",
				   addr, status);
			if (code)
				str_printf(&r->bounces, "Diagnostic-Code: smtp; %d %s\n", code,
					   text);
			else
				str_printf(&r->bounces, "Diagnostic-Code: x-fmlqueue; %s\n", text);
			str_printf(&r->bounces, "X-Fml-Queue-Item: %s\n", q->name);
		}
		str_free(&line);
	}
}

/* The report of this pass's bounce blocks, into var/incoming as a mail to
 * the bounce address (fml --bounce reads it at the next drain), synced. */
static fml_status feed_bounces(run *r)
{
	if (!r->bounces.len)
		return ST_OK;
	char date[64];
	const char *to = config_str(r->cf, CF_BOUNCE_ADDRESS);
	str m = STR_INIT, id = STR_INIT;
	date_rfc5322(time(NULL), date, sizeof date);
	str_printf(&m,
		   "From: MAILER-DAEMON@%s (fmlqueue)\nTo: %s\n"
		   "Subject: Undelivered Mail: the relay refused it\nDate: %s\n"
		   "Auto-Submitted: auto-replied\nMIME-Version: 1.0\n"
		   "Content-Type: multipart/report; report-type=delivery-status;\n"
		   " boundary=\"fmlqueue-report\"\n\n"
		   "--fmlqueue-report\nContent-Type: text/plain; charset=us-ascii\n\n"
		   "fmlqueue gave up on these recipients of articles.\n\n"
		   "--fmlqueue-report\nContent-Type: message/delivery-status\n\n"
		   "Reporting-MTA: x-local; fmlqueue\n%s\n--fmlqueue-report--\n",
		   config_str(r->cf, CF_DOMAINNAME), to, date, str_c(&r->bounces));
	int fd = memfd_create("fmlqueue-bounce", MFD_CLOEXEC);
	fml_status st = ST_TEMPFAIL;
	if (fd >= 0 && write(fd, m.s, m.len) == (ssize_t)m.len && lseek(fd, 0, SEEK_SET) == 0 &&
	    incoming_accept(r->dir, fd, IN_BOUNCE, "", 0, NULL, &id) == ST_OK && id.len)
		st = incoming_sync(r->dir, str_c(&id));
	if (fd >= 0)
		close(fd);
	if (st == ST_OK)
		msg_info("given-up recipients of articles handed to the bounce analysis as %s",
			 str_c(&id));
	else
		msg_error("cannot hand the given-up recipients to the bounce analysis; "
			  "they are in the maintainer's report only");
	str_free(&m);
	str_free(&id);
	str_clear(&r->bounces);
	return st;
}

/* Append to the report the F lines of Q's journal not reported yet (those
 * after the last "P OFFSET" line: a report already covered what lies before
 * OFFSET).  Returns how many; *JLEN gets the journal's length (its complete
 * lines).  The journal is read in chunks, twice. */
static size_t report_failed(run *r, queue_item *q, size_t *jlen)
{
	str jl = STR_INIT;
	failed_ctx fc = {0, 0, 0, &jl};
	*jlen = 0;
	if (queue_journal_scan(r->qdir, q->name, -1, last_mark, &fc) != ST_OK)
		return 0;
	if (fc.from > fc.len)
		fc.from = fc.len;
	if (queue_journal_scan(r->qdir, q->name, -1, new_failure, &fc) != ST_OK)
		fc.n = 0;
	if (fc.n) {
		r->gaveup = 1;
		str_printf(&r->report, "\nItem %s", q->name);
		if (q->article)
			str_printf(&r->report, " (article %ld)", q->article);
		str_puts(&r->report, ", given up for:\n");
		str_append(&r->report, jl.s, jl.len);
		/* the list's mail: the bounce analysis counts them */
		if (list_mail(r, q))
			bounce_blocks(r, q, &jl);
	}
	*jlen = (size_t)fc.len;
	str_free(&jl);
	return fc.n;
}

/* Every recipient final, or the next try set, or given up. */
static fml_status finish_item(run *r, queue_item *q)
{
	size_t pending = 0, failed = 0, done = 0;
	time_t now = time(NULL);
	for (size_t i = 0; i < q->nrcpt; i++) {
		if (q->state[i] == QS_FAILED)
			failed++;
		else if (q->state[i] == QS_DONE)
			done++;
		else
			pending++;
	}
	if (pending && now - q->created >= (time_t)config_int(r->cf, CF_QUEUE_LIFETIME)) {
		str jl = STR_INIT;
		queue_rcpt_iter it;
		size_t i;
		const char *a;
		int got = 0;
		int fd = queue_journal_open(r->qdir, q->name, -1);
		fml_status st = fd < 0 ? ST_TEMPFAIL : ST_OK;
		/* in chunks of lines: the recipients may be a million */
		queue_rcpt_start(q, &it);
		while (st == ST_OK && (got = queue_rcpt_next(&it, &i, &a)) == 1) {
			if (q->state[i] == QS_DONE || q->state[i] == QS_FAILED)
				continue;
			jline(&jl, QS_FAILED, a, 0, "given up: QUEUE_LIFETIME is over");
			q->state[i] = QS_FAILED;
			if (jl.len >= 65536) {
				st = queue_journal_append(fd, &jl);
				str_clear(&jl);
			}
		}
		queue_rcpt_end(&it);
		if (st == ST_OK && got < 0)
			st = ST_TEMPFAIL;
		if (st == ST_OK && jl.len)
			st = queue_journal_append(fd, &jl);
		if (fd >= 0)
			close(fd);
		str_free(&jl);
		if (st != ST_OK)
			return queue_release(r->qdir, q, "deferred"), ST_TEMPFAIL;
		failed += pending;
		pending = 0;
	}
	queue_cache_states(q);
	r->rcpt_ok += (long)done;
	if (pending) {
		int attempt = q->attempts + 1;
		long wait = queue_retry_wait(config_str(r->cf, CF_QUEUE_RETRY_SCHEDULE), attempt);
		str line = STR_INIT;
		str_printf(&line, "A %d %lld\n", attempt, (long long)(now + wait));
		int fd = queue_journal_open(r->qdir, q->name, -1);
		fml_status st = fd < 0 ? ST_TEMPFAIL : queue_journal_append(fd, &line);
		if (fd >= 0)
			close(fd);
		str_free(&line);
		msg_info("%s: %zu delivered, %zu deferred (attempt %d, next in %lds), %zu failed",
			 q->name, done, pending, attempt, wait, failed);
		/* given-up recipients are reported in this run's report, not when
		 * the item is final days later; a "P" line marks them reported */
		size_t jlen;
		if (failed && q->sender[0] && report_failed(r, q, &jlen)) {
			str_append(&r->marks, q->name, strlen(q->name) + 1);
			str_printf(&r->marks, "%zu", jlen);
			str_putc(&r->marks, 0);
		}
		r->deferred++;
		fml_status rs = queue_release(r->qdir, q, "deferred");
		return st != ST_OK ? st : rs;
	}
	r->rcpt_fail += (long)failed;
	msg_info("%s: %zu delivered, %zu failed: %s", q->name, done, failed,
		 failed ? "drop" : "sent");
	if (failed) {
		r->dropped++;
		if (!q->sender[0])
			return queue_release(r->qdir, q, "drop");
		/* held in active/ until the report is queued: a crash before
		 * that puts it back and a later run reports it again */
		size_t jlen;
		report_failed(r, q, &jlen);
		str_append(&r->held, q->name, strlen(q->name) + 1);
		fml_status st = fsync(q->fd) < 0 ? ST_TEMPFAIL : ST_OK;
		queue_close(q);
		return st;
	}
	r->sent++;
	return queue_release(r->qdir, q, "sent");
}

static int matches(const char *only, const char *name, const queue_item *q)
{
	if (queue_sender_match(only, NULL) || strcmp(only, name) == 0)
		return 1;
	return q && queue_sender_match(only, q->sender);
}

/* Worth claiming?  Checked on the journal alone: claiming means reading
 * the whole item for its checksum. */
static int due(run *r, const char *area, const char *name)
{
	int attempts;
	time_t next, now = time(NULL);
	const char *only = r->o->only;
	if (only && *only && !strchr(only, '@') && strcmp(only, name) != 0)
		return 0; /* flush ID: another item */
	if (r->o->flush || strcmp(area, "deferred") != 0 ||
	    queue_journal_next(r->qdir, name, &attempts, &next) < 0)
		return 1;
	return next <= now || next > now + 7 * 86400; /* a clock set back */
}

typedef struct tries_ctx {
	int tried, deaths, told;
} tries_ctx;

static int tries_line(const char *l, size_t len, off_t off, void *arg)
{
	tries_ctx *tc = arg;
	(void)off;
	if (len >= 2 && l[1] == ' ' && l[0] == 'A')
		tc->tried = 1;
	if (len >= 2 && l[1] == ' ' && l[0] == 'R')
		tc->deaths++;
	if (len >= 2 && l[1] == ' ' && l[0] == 'K')
		tc->told = atoi(l + 2);
	return 0;
}

/* Did NAME's journal record an attempt ("A" lines)?  How many runner
 * deaths ("R" lines), and how many of them was the maintainer told of (the
 * last "K N" line)?  Read in chunks. */
static void journal_tries(const char *qdir, const char *name, int *tried, int *deaths, int *told)
{
	tries_ctx tc = {0, 0, 0};
	queue_journal_scan(qdir, name, -1, tries_line, &tc);
	*tried = tc.tried;
	*deaths = tc.deaths;
	*told = tc.told;
}

/* An item that runners died on DEATH_NOTICE times or more (killed, or
 * crashing on it) is still delivered: the journal says who is done.  The
 * maintainer is told once; a "K N" line marks the N deaths told. */
static void death_notice(run *r, const queue_item *q)
{
	int tried, deaths, told;
	if (!q->sender[0])
		return;
	journal_tries(r->qdir, q->name, &tried, &deaths, &told);
	if (deaths < DEATH_NOTICE || told > 0)
		return;
	size_t done = 0;
	for (size_t i = 0; i < q->nrcpt; i++)
		done += q->state[i] == QS_DONE || q->state[i] == QS_FAILED;
	str_printf(&r->report, "\nItem %s", q->name);
	if (q->article)
		str_printf(&r->report, " (article %ld)", q->article);
	str_printf(&r->report,
		   ": its runner died %d times while delivering it (killed, or crashed on "
		   "it).\nIt is still being delivered: %zu of %zu recipients were done, the "
		   "rest are retried as usual.\n",
		   deaths, done, q->nrcpt);
	str_append(&r->deaths, q->name, strlen(q->name) + 1);
	str_printf(&r->deaths, "%d", deaths);
	str_putc(&r->deaths, 0);
}

static void deliver_one(run *r, const char *area, const char *name)
{
	queue_item q;
	str err = STR_INIT;
	if (stopping(r) || !due(r, area, name))
		return;
	fml_status st = queue_claim(r->qdir, area, name, &q, &err);
	if (st == ST_DATAERR) {
		msg_error("%s/%s: %s; moved to corrupt/", area, name, str_c(&err));
		str_printf(&r->report, "\nItem %s was damaged (%s) and moved to corrupt/.\n", name,
			   str_c(&err));
		r->gaveup = 1;
		r->corrupt++;
	} else if (st == ST_OK) {
		if (!matches(r->o->only, name, &q)) {
			queue_release(r->qdir, &q, area);
		} else {
			r->items++;
			death_notice(r, &q);
			/* a failed journal write: what it missed is sent again */
			fml_status ds = send_pending(r, &q);
			queue_journal_load(r->qdir, &q);
			size_t pending = count_pending(&q);
			if (stopping(r) && pending) {
				/* back where it came from, its retry state untouched:
				 * not an attempt, and not a death */
				queue_cache_states(&q);
				msg_info("%s: stopped; %zu pending, back to %s/", name, pending,
					 area);
				r->left = 1;
				queue_release(r->qdir, &q, area);
			} else {
				if (ds != ST_OK)
					msg_warn("%s: delivery incomplete; retried later", name);
				finish_item(r, &q);
			}
		}
	} else if (st != ST_NOINPUT) {
		msg_error("%s/%s: %s", area, name, str_c(&err));
	}
	str_free(&err);
	if (r->o->progress)
		fprintf(stderr,
			"\rfmlqueue: %ld items: %ld sent, %ld deferred, %ld dropped; %ld rcpts ok",
			r->items, r->sent, r->deferred, r->dropped, r->rcpt_ok);
}

static void deliver_area(run *r, const char *area)
{
	str names = STR_INIT;
	int n = queue_list(r->qdir, area, &names);
	const char *p = names.s;
	/* An article's item stands for its spool/N until that is synced
	 * (qspool.h): the spool files of every item listed here are made
	 * durable before any of them is retired.  Not done, nothing is
	 * delivered (the items wait, as with any local trouble). */
	if (n > 0 && qspool_sync(r->cf, names.s, n) != ST_OK) {
		r->left = 1;
		n = 0;
	}
	for (int i = 0; i < n; i++, p += strlen(p) + 1) {
		if (stopping(r)) {
			r->left |= due(r, area, p);
			continue;
		}
		deliver_one(r, area, p);
	}
	str_free(&names);
}

/* The report is queued: the dropped items it covers go to drop/. */
static void release_held(run *r)
{
	char from[4096], to[4096], dir[4096];
	for (const char *p = r->held.s; p && p < r->held.s + r->held.len; p += strlen(p) + 1) {
		if (fs_path(from, sizeof from, "%s/active/%s.%ld", r->qdir, p, (long)getpid()) <
			0 ||
		    fs_path(to, sizeof to, "%s/drop/%s", r->qdir, p) < 0)
			continue;
		if (rename(from, to) < 0)
			msg_error("rename %s: %m", from);
	}
	if (r->held.len && fs_path(dir, sizeof dir, "%s/drop", r->qdir) == 0)
		fs_fsync_dir(dir);
	str_clear(&r->held);
}

/* The report is queued: append "TAG VALUE" to the journal of each item of
 * PAIRS (NUL-separated NAME, VALUE), so that what it told is not told
 * again: "P OFFSET" for the failures of deferred items it covered, "K N"
 * for the runner deaths it told of. */
static void mark_told(run *r, const str *pairs, char tag, const char *what)
{
	for (const char *p = pairs->s; p && p < pairs->s + pairs->len;) {
		const char *name = p, *val = p + strlen(p) + 1;
		p = val + strlen(val) + 1;
		str line = STR_INIT;
		str_printf(&line, "%c %s\n", tag, val);
		int fd = queue_journal_open(r->qdir, name, -1);
		if (fd < 0 || queue_journal_append(fd, &line) != ST_OK)
			msg_warn("%s: cannot mark its %s reported; they may be reported again",
				 name, what);
		if (fd >= 0)
			close(fd);
		str_free(&line);
	}
}

/* The one report of this pass, queued to the maintainer with <> as sender. */
static void send_report(run *r)
{
	char name[256], date[64];
	/* before the marks: a crash between the two hands them over again
	 * (the analysis counts an address once a day) */
	feed_bounces(r);
	const char *maint = config_str(r->cf, CF_MAINTAINER);
	const char *list = config_get(r->cf, "ML_NAME");
	if (!r->report.len || !*maint) {
		release_held(r); /* nobody to tell */
		str_clear(&r->marks);
		str_clear(&r->deaths);
		return;
	}
	qitem_unique_name("r", name, sizeof name);
	date_rfc5322(time(NULL), date, sizeof date);
	str msg = STR_INIT;
	str_printf(&msg,
		   "From: %s\nTo: %s\nSubject: fml: %s %s\nDate: %s\n"
		   "Message-ID: <%s.fmlqueue@%s>\nAuto-Submitted: auto-generated\n"
		   "Precedence: bulk\nMIME-Version: 1.0\n"
		   "Content-Type: text/plain; charset=us-ascii\n\n"
		   "fmlqueue %s of the list %s.\n",
		   maint, maint, r->gaveup ? "undeliverable mail of" : "delivery trouble in",
		   list ? list : "", date, name, config_str(r->cf, CF_DOMAINNAME),
		   r->gaveup ? "gave up on some mail" : "had trouble delivering mail",
		   list ? list : "");
	for (size_t i = 0; i < r->report.len; i++)
		str_putc(&msg, (unsigned char)r->report.s[i] >= 128 ? '?' : r->report.s[i]);
	qitem_writer w;
	fml_status st = qitem_begin(&w, r->qdir, name);
	if (st == ST_OK) {
		st = qitem_envelope(&w, "", list ? list : "", 0, maint, 1);
		if (st == ST_OK)
			st = qitem_write(&w, msg.s, msg.len);
		st = st == ST_OK ? qitem_commit(&w) : (qitem_abort(&w), ST_TEMPFAIL);
	}
	if (st != ST_OK)
		msg_error("cannot queue the report to %s", maint);
	else
		msg_info("reported to %s in %s", maint, name);
	str_free(&msg);
	str_clear(&r->report);
	r->gaveup = 0;
	if (st == ST_OK) {
		mark_told(r, &r->marks, 'P', "failures");
		mark_told(r, &r->deaths, 'K', "runner deaths");
		release_held(r);
		deliver_one(r, "new", name);
		r->left |= stopping(r); /* the report waits in new/ */
	}
	str_clear(&r->marks);
	str_clear(&r->deaths);
}

fml_status runner_deliver(const char *dir, config *cf, const runner_opts *o)
{
	run r;
	run_init(&r, dir, cf, o);
	fml_status st = queue_init(r.qdir);
	/* after a reboot, before anything is retired: spool/N right for
	 * every pending aN */
	if (st == ST_OK)
		st = qspool_repair(dir, cf);
	if (st == ST_OK) {
		deliver_area(&r, "new");
		if (!o->new_only)
			deliver_area(&r, "deferred");
		send_report(&r);
		if (r.left)
			st = ST_TEMPFAIL; /* stopped: the next run goes on */
	}
	if (o->progress && r.items)
		fputc('\n', stderr);
	run_free(&r);
	return st;
}

/* ---- recover and expire */

/* tmp/NAME.SEC.USEC.PID.RAND: the writer's PID, or -1. */
static long tmp_pid(const char *name)
{
	const char *last = strrchr(name, '.');
	if (!last || last == name)
		return -1;
	const char *p = last - 1;
	while (p > name && *p != '.')
		p--;
	if (*p != '.' || p + 1 == last || strspn(p + 1, "0123456789") != (size_t)(last - p - 1))
		return -1;
	return strtol(p + 1, NULL, 10);
}

fml_status runner_recover(const char *dir, config *cf)
{
	char qdir[4096], path[4096], to[4096], base[256];
	str names = STR_INIT;
	struct stat st;
	time_t now = time(NULL);
	snprintf(qdir, sizeof qdir, "%s", config_str(cf, CF_QUEUE_DIR));
	if (queue_init(qdir) != ST_OK)
		return ST_TEMPFAIL;
	int n = queue_list(qdir, "tmp", &names);
	const char *p = names.s;
	for (int i = 0; i < n; i++, p += strlen(p) + 1) {
		if (fs_path(path, sizeof path, "%s/tmp/%s", qdir, p) < 0 || lstat(path, &st) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		long pid = tmp_pid(p);
		if (now - st.st_mtime > TMP_ORPHAN_AGE ||
		    (pid > 0 && pid != getpid() && queue_pid_dead(pid))) {
			msg_warn("removing %s of a dead writer", path);
			unlink(path);
		}
	}
	n = queue_list(qdir, "active", &names);
	p = names.s;
	for (int i = 0; i < n; i++, p += strlen(p) + 1) {
		long pid = queue_active_pid(p, base, sizeof base);
		if (pid < 0 || !queue_pid_dead(pid))
			continue;
		queue_journal_merge(qdir, base);
		int tried, deaths, told;
		journal_tries(qdir, base, &tried, &deaths, &told);
		/* never set aside for its deaths: the journal says who is done,
		 * the rest are retried; the maintainer is told (death_notice) */
		const char *area = tried ? "deferred" : "new";
		str line = STR_INIT;
		str_printf(&line, "R %ld %lld\n", pid, (long long)now);
		int fd = queue_journal_open(qdir, base, -1);
		if (fd >= 0) {
			queue_journal_append(fd, &line);
			close(fd);
		}
		str_free(&line);
		if (fs_path(path, sizeof path, "%s/active/%s", qdir, p) < 0 ||
		    fs_path(to, sizeof to, "%s/%s/%s", qdir, area, base) < 0)
			continue;
		if (rename(path, to) < 0) {
			msg_error("rename %s: %m", path);
			continue;
		}
		if (deaths + 1 >= DEATH_NOTICE)
			msg_error("%s: runner %ld is gone (death %d on it); back to %s/", base, pid,
				  deaths + 1, area);
		else
			msg_warn("%s: runner %ld is gone; back to %s/", base, pid, area);
	}
	str_free(&names);
	return ST_OK;
}

/* Remove the recipient snapshots no item needs any more.  Under the list
 * lock, as fml's own sweep: no item naming one can be in the making.  A
 * busy list is left for the next run. */
static void sweep_snapshots(const char *dir, config *cf, const char *qdir)
{
	fml_lock lk;
	str stamp = STR_INIT;
	struct stat st;
	if (qsnap_stamp(dir, cf, &stamp, &st) != ST_OK ||
	    !qsnap_sweep_wanted(qdir, str_c(&stamp)) ||
	    lock_acquire(&lk, dir, (int)config_int(cf, CF_USE_FLOCK), SWEEP_LOCK_WAIT,
			 config_int(cf, CF_LOCK_STALE_AGE)) != ST_OK) {
		str_free(&stamp);
		return;
	}
	/* the stamp again: actives may have changed while we waited */
	if (qsnap_stamp(dir, cf, &stamp, &st) == ST_OK)
		qsnap_sweep(qdir, str_c(&stamp), NULL);
	lock_release(&lk);
	str_free(&stamp);
}

fml_status runner_expire(const char *dir, config *cf)
{
	static const char *const areas[] = {"sent", "drop"};
	char qdir[4096], path[4096];
	str names = STR_INIT;
	struct stat st;
	time_t now = time(NULL), keep = (time_t)config_int(cf, CF_QUEUE_RETENTION);
	snprintf(qdir, sizeof qdir, "%s", config_str(cf, CF_QUEUE_DIR));
	for (size_t a = 0; a < 2; a++) {
		int n = queue_list(qdir, areas[a], &names);
		const char *p = names.s;
		for (int i = 0; i < n; i++, p += strlen(p) + 1) {
			if (fs_path(path, sizeof path, "%s/%s/%s", qdir, areas[a], p) < 0 ||
			    lstat(path, &st) < 0 || now - st.st_mtime < keep)
				continue;
			if (unlink(path) == 0) {
				queue_journal_remove(qdir, p);
				qsnap_unlink(qdir, p);
				msg_info("expired %s/%s", areas[a], p);
			}
		}
	}
	str_free(&names);
	sweep_snapshots(dir, cf, qdir);
	return ST_OK;
}

/* ---- the kick */

void runner_kick(const char *dir, config *cf)
{
	const char *mode = config_str(cf, CF_DELIVERY_MODE);
	runner_opts o = {0, 1, NULL, 0, NULL};
	/* a list that signs is never sent to unsigned: its mail waits for a
	 * program that can (fml hands it to fmlproc; fmlqueue's timer) */
	if (runner_wants_signer(cf) && !signer)
		return;
	if (strcmp(mode, "foreground") == 0) {
		runner_deliver(dir, cf, &o);
		return;
	}
	if (strcmp(mode, "background") != 0)
		return;
	pid_t pid = detach_fork();
	if (pid < 0)
		msg_warn("cannot start delivery; the next fmlqueue run delivers");
	if (pid != 0)
		return;
	/* the child: detached, no stdio, deliver, exit without returning */
	runner_deliver(dir, cf, &o);
	_exit(0);
}
