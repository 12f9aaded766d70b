/*
 * reply: replies and notices through the queue.  See reply.h.
 * Failure policy: a reply that cannot be queued is logged and reported as
 * ST_TEMPFAIL; callers treat replies as best effort only where losing one
 * cannot lose a post (a post forwarded to the maintainer is never best
 * effort: its failure keeps the item in var/incoming).
 */
#include "reply.h"
#include "list/lang.h"
#include "queue/qitem.h"
#include "mail/rfc2047.h"
#include "mail/addr.h"
#include "util/bytes.h"
#include "util/date.h"
#include "util/fs.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/randhex.h"
#include "util/safefile.h"

#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <gdbm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const hfield *get(action_mail *m, const char *name)
{
	return m && m->env ? envelope_get(m->env, name, 0) : NULL;
}

/* At most LIMIT automatic replies per address per hour (gdbm counter). */
static int rate_ok(action_ctx *c, const char *to)
{
	long limit = config_int(c->l.cf, CF_REPLY_LIMIT);
	if (limit <= 0)
		return 1;
	char path[4096];
	if (fs_path(path, sizeof path, "%s/var/db/replies.db", c->l.dir) < 0)
		return 1;
	GDBM_FILE db = gdbm_open(path, 0, GDBM_WRCREAT | GDBM_NOLOCK, 0600, NULL);
	if (!db) {
		msg_warn("open %s: %s", path, gdbm_strerror(gdbm_errno));
		return 1;
	}
	datum key = {(char *)to, (int)strlen(to)};
	datum val = gdbm_fetch(db, key);
	long long start = c->l.now;
	long count = 0;
	if (val.dptr) {
		char buf[64];
		snprintf(buf, sizeof buf, "%.*s", val.dsize, val.dptr);
		free(val.dptr);
		if (sscanf(buf, "%lld %ld", &start, &count) != 2 || c->l.now - start >= 3600) {
			start = c->l.now;
			count = 0;
		}
	}
	int ok = count < limit;
	char buf[64];
	int n = snprintf(buf, sizeof buf, "%lld %ld", start, count + 1);
	datum nv = {buf, n};
	gdbm_store(db, key, nv, GDBM_REPLACE);
	gdbm_close(db);
	return ok;
}

const char *reply_suppressed(action_ctx *c, action_mail *m, const char *to)
{
	if (!to || !*to)
		return "no address to answer";
	if (addr_check(to, strlen(to)))
		return "the address fails the address policy";
	if (addr_is_daemon(to))
		return "the address is a role account or MAILER-DAEMON";
	if (action_is_ours(c, to))
		return "the address is one of ours";
	if (m) {
		if (m->has_sender && m->sender.len == 0)
			return "the envelope sender is <>";
		const hfield *f = get(m, "Auto-Submitted");
		if (f && strncasecmp(str_c(&f->value), "no", 2) != 0)
			return "the mail is Auto-Submitted";
		if ((f = get(m, "Precedence")) != NULL) {
			const char *v = str_c(&f->value);
			while (*v == ' ' || *v == '\t')
				v++;
			if (!strncasecmp(v, "bulk", 4) || !strncasecmp(v, "junk", 4) ||
			    !strncasecmp(v, "list", 4))
				return "the mail has Precedence bulk/junk/list";
		}
		if (get(m, "X-Auto-Response-Suppress"))
			return "the mail has X-Auto-Response-Suppress";
		if (get(m, "List-Id") &&
		    strstr(str_c(&get(m, "List-Id")->value), config_str(c->l.cf, CF_LIST_ID)))
			return "the mail came from this list";
	}
	if (!rate_ok(c, to))
		return "too many replies to this address in the last hour";
	return NULL;
}

fml_status reply_template(action_ctx *c, const char *name, str *out)
{
	char path[4096];
	str raw = STR_INIT;
	if (fs_path(path, sizeof path, "%s/%s", c->l.dir, name) < 0)
		return ST_TEMPFAIL;
	fml_status st = fs_read(path, &raw, 1 << 20);
	if (st != ST_OK) {
		str_free(&raw);
		return st;
	}
	str_clear(out);
	for (size_t i = 0; i < raw.len; i++) {
		if (raw.s[i] != '$') {
			str_putc(out, raw.s[i]);
			continue;
		}
		size_t j = i + 1, k;
		int brace = j < raw.len && raw.s[j] == '{';
		if (brace)
			j++;
		for (k = j; k < raw.len && (isalnum((unsigned char)raw.s[k]) || raw.s[k] == '_');
		     k++)
			;
		char name2[64];
		const char *val = NULL;
		if (k > j && k - j < sizeof name2 && (!brace || (k < raw.len && raw.s[k] == '}'))) {
			snprintf(name2, sizeof name2, "%.*s", (int)(k - j), raw.s + j);
			val = config_get(c->l.cf, name2);
		}
		if (!val) {
			str_putc(out, '$');
			continue;
		}
		str_puts(out, val);
		i = brace ? k : k - 1;
	}
	str_free(&raw);
	return ST_OK;
}

static int is_8bit(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return 1;
	return 0;
}

/* The header every mail of ours carries. */
static void common_header(action_ctx *c, action_mail *m, str *h, const char *to,
			  const char *subject)
{
	char date[64], stamp[32];
	struct tm tm;
	localtime_r(&c->l.now, &tm);
	date_rfc5322(c->l.now, date, sizeof date);
	strftime(stamp, sizeof stamp, "%Y%m%d%H%M%S", &tm);
	static unsigned seq;
	str_printf(h, "From: %s\nTo: %s\nSubject: ", config_str(c->l.cf, CF_MAINTAINER), to);
	if (is_8bit(subject)) /* RFC 2047, in the list's charset */
		rfc2047_encode(subject, strlen(subject), lang_charset(c->l.cf), 'B', "\n ", h);
	else
		str_puts(h, subject);
	str_printf(h, "\nDate: %s\n", date);
	str_printf(h, "Message-ID: <%s.%d.%u.fml@%s>\n", stamp, (int)getpid(), ++seq,
		   config_str(c->l.cf, CF_DOMAINNAME));
	const hfield *mid = get(m, "Message-ID");
	if (mid && !mid->bad && mid->value.len < 900 &&
	    !bytes_has_ctl(mid->value.s, mid->value.len))
		str_printf(h, "In-Reply-To: %s\nReferences: %s\n", str_c(&mid->value),
			   str_c(&mid->value));
	str_printf(h, "Auto-Submitted: auto-replied\nX-Loop: %s\n%s\nList-Id: %s <%s>\n",
		   config_str(c->l.cf, CF_MAIL_LIST), config_str(c->l.cf, CF_XMLNAME),
		   config_str(c->l.cf, CF_ML_FN), config_str(c->l.cf, CF_LIST_ID));
	str_puts(h, "MIME-Version: 1.0\n");
}

/* A boundary no mail can contain by chance. */
static char boundary[64];
static void new_boundary(void)
{
	unsigned long long r = (unsigned long long)randhex_nonce() << 32 | randhex_nonce();
	snprintf(boundary, sizeof boundary, "=_fml_%llx_%lld", r, (long long)time(NULL));
}

fml_status reply_begin(action_ctx *c, action_mail *m, const char *rcpts, size_t n,
		       const char *to_shown, const char *subject, reply_writer *rw)
{
	str h = STR_INIT;
	memset(rw, 0, sizeof *rw);
	rw->debug = c->debug;
	char name[256];
	int named =
	    c->reply_name && c->reply_name(c->reply_name_arg, rcpts, n, subject, name, sizeof name);
	if (c->debug) {
		msg_info("debug: would send \"%s\" to %zu recipient(s)", subject, n);
		return ST_OK;
	}
	const char *qdir = config_str(c->l.cf, CF_QUEUE_DIR);
	if (named && qitem_exists(qdir, name)) {
		/* queued by an earlier run of the same work: not twice */
		msg_info("\"%s\" is queued already as %s", subject, name);
		rw->debug = 1;
		return ST_OK;
	}
	if (!named)
		qitem_unique_name("r", name, sizeof name);
	if (qitem_begin(&rw->w, qdir, name) != ST_OK)
		return ST_TEMPFAIL;
	fml_status st = qitem_envelope(&rw->w, "", config_get(c->l.cf, "ML_NAME"), 0, rcpts, n);
	common_header(c, m, &h, to_shown, subject);
	if (st == ST_OK)
		st = reply_write(rw, h.s, h.len);
	str_free(&h);
	if (st != ST_OK)
		qitem_abort(&rw->w);
	return st;
}

fml_status reply_write(reply_writer *rw, const void *p, size_t len)
{
	rw->bytes += (long long)len;
	return rw->debug ? ST_OK : qitem_write(&rw->w, p, len);
}

fml_status reply_sink(void *rw, const void *p, size_t len)
{
	return reply_write(rw, p, len);
}

fml_status reply_commit(reply_writer *rw)
{
	return rw->debug ? ST_OK : qitem_commit(&rw->w);
}

void reply_abort(reply_writer *rw)
{
	if (!rw->debug)
		qitem_abort(&rw->w);
}

/* Queue HEAD_REST (the fields after the common header, the blank line and
 * the text) to RCPTS, with the original of ATTACH_FROM streamed after it
 * and the closing boundary. */
static fml_status enqueue(action_ctx *c, action_mail *m, const char *rcpts, size_t n,
			  const char *to_shown, const char *subject, const str *rest,
			  action_mail *attach_from)
{
	reply_writer rw;
	fml_status st = reply_begin(c, m, rcpts, n, to_shown, subject, &rw);
	if (st != ST_OK)
		return st;
	st = reply_write(&rw, rest->s, rest->len);
	if (st == ST_OK && attach_from && !c->debug) {
		/* the original, streamed from the accepted file */
		incoming_item *it = attach_from->it;
		char buf[65536];
		for (off_t o = it->mail_start; st == ST_OK && o < it->mail_end;) {
			size_t want = (size_t)(it->mail_end - o) < sizeof buf
					  ? (size_t)(it->mail_end - o)
					  : sizeof buf;
			ssize_t r = pread(it->fd, buf, want, o);
			if (r <= 0) {
				msg_error("read %s: %s", it->path, r < 0 ? strerror(errno) : "EOF");
				st = ST_TEMPFAIL;
				break;
			}
			st = reply_write(&rw, buf, (size_t)r);
			o += r;
		}
		str tail = STR_INIT;
		str_printf(&tail, "\n--%s--\n", boundary);
		if (st == ST_OK)
			st = reply_write(&rw, tail.s, tail.len);
		str_free(&tail);
	}
	if (st == ST_OK)
		return reply_commit(&rw);
	reply_abort(&rw);
	return ST_TEMPFAIL;
}

/* UTF-8 TEXT in ISO-2022-JP (malloc'd), or NULL when it does not fit */
static char *to_jis(const char *text)
{
	iconv_t cd = iconv_open("ISO-2022-JP", "UTF-8");
	if (cd == (iconv_t)-1)
		return NULL;
	size_t il = strlen(text), cap = 4 * il + 16, ol = cap - 1;
	char *out = mem_alloc(cap), *in = (char *)text, *o = out;
	size_t r = iconv(cd, &in, &il, &o, &ol);
	if (r != (size_t)-1)
		r = iconv(cd, NULL, NULL, &o, &ol); /* back to ASCII at the end */
	iconv_close(cd);
	if (r == (size_t)-1 || il) {
		free(out);
		return NULL;
	}
	*o = 0;
	return out;
}

/* A text/plain mail to TO; REPLY_TO (may be NULL) where answers go. */
static fml_status send_text(action_ctx *c, action_mail *m, const char *to, const char *reply_to,
			    const char *subject, const char *body)
{
	str msg = STR_INIT;
	if (reply_to)
		str_printf(&msg, "Reply-To: %s\n", reply_to);
	/* ISO-2022-JP (LANGUAGE_CHARSET) when the text fits in it, else UTF-8 */
	char *jis = NULL;
	if (is_8bit(body) && strcmp(lang_charset(c->l.cf), "ISO-2022-JP") == 0)
		jis = to_jis(body);
	str_printf(&msg, "Content-Type: text/plain; charset=%s\nContent-Transfer-Encoding: %s\n\n",
		   jis		   ? "ISO-2022-JP"
		   : is_8bit(body) ? "UTF-8"
				   : "us-ascii",
		   is_8bit(body) && !jis ? "8bit" : "7bit");
	str_puts(&msg, jis ? jis : body);
	free(jis);
	if (msg.len && msg.s[msg.len - 1] != '\n')
		str_putc(&msg, '\n');
	fml_status st = enqueue(c, m, to, 1, to, subject, &msg, NULL);
	if (st == ST_OK)
		msg_info("reply \"%s\" to %s", subject, to);
	str_free(&msg);
	return st;
}

fml_status reply_send(action_ctx *c, action_mail *m, const char *to, const char *subject,
		      const char *body)
{
	return send_text(c, m, to, NULL, subject, body);
}

fml_status reply_ask(action_ctx *c, const char *to, const char *subject, const char *body)
{
	return send_text(c, NULL, to, config_str(c->l.cf, CF_CONTROL_ADDRESS), subject, body);
}

/* Once per NOTIFY_INTERVAL per KIND: the mtime of var/run/notified.KIND,
 * checked and renewed under a non-blocking flock so that runs racing on
 * the same event (20 lock timeouts at once) send one notice, not several. */
static int notice_due(action_ctx *c, const char *kind)
{
	char path[4096];
	struct stat st;
	if (fs_path(path, sizeof path, "%s/var/run/notified.%s", c->l.dir, kind) < 0)
		return 1;
	int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return 1;
	int due = 0;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0 && fstat(fd, &st) == 0) {
		/* a new file has size 0; a stamped one holds "1" */
		due = st.st_size == 0 ||
		      c->l.now - st.st_mtime >= config_int(c->l.cf, CF_NOTIFY_INTERVAL);
		if (due && (pwrite(fd, "1", 1, 0) != 1 || futimens(fd, NULL) < 0))
			msg_warn("cannot stamp %s: %s", path, strerror(errno));
	}
	close(fd);
	return due;
}

fml_status reply_notice(action_ctx *c, action_mail *m, const char *kind, const char *rcpts,
			size_t nrcpts, int attach, const char *subject, const char *text)
{
	if (kind && !notice_due(c, kind)) {
		msg_info("notice \"%s\" suppressed (sent in the last interval)", subject);
		return ST_OK;
	}
	const char *maint = config_str(c->l.cf, CF_MAINTAINER);
	if (!rcpts || nrcpts == 0) {
		rcpts = maint;
		nrcpts = 1;
	}
	str msg = STR_INIT;
	int with = attach && m && m->it;
	new_boundary();
	if (with)
		str_printf(&msg,
			   "Content-Type: multipart/mixed; boundary=\"%s\"\n\n"
			   "--%s\nContent-Type: text/plain; charset=UTF-8\n"
			   "Content-Transfer-Encoding: 8bit\n\n",
			   boundary, boundary);
	else
		str_puts(&msg, "Content-Type: text/plain; charset=UTF-8\n"
			       "Content-Transfer-Encoding: 8bit\n\n");
	str_puts(&msg, text);
	if (msg.len && msg.s[msg.len - 1] != '\n')
		str_putc(&msg, '\n');
	if (with)
		str_printf(&msg, "\n--%s\nContent-Type: message/rfc822\n\n", boundary);
	fml_status st = enqueue(c, m, rcpts, nrcpts, nrcpts == 1 ? rcpts : maint, subject, &msg,
				with ? m : NULL);
	if (st == ST_OK)
		msg_info("notice \"%s\" to %s%s", subject, rcpts, nrcpts > 1 ? " and others" : "");
	str_free(&msg);
	return st;
}
