/*
 * confirm: confirmation IDs for subscribe, unsubscribe and chaddr.  See
 * confirm.h for the ID and the store DIR/var/db/confirm.
 *
 * The MAC input is action "\n" addr "\n" arg "\n" time, time in decimal
 * seconds; the key is etc/secret without its trailing newline.  An ID is
 * found by its time: every issue record of that second is a candidate and
 * the one whose recomputed MAC equals the ID's (compared in constant time)
 * is the request, so a forged ID and a tampered record both fail, and the
 * lookup itself tells an attacker nothing.  Records written by a crashed
 * append (a torn last line) do not parse and are skipped.
 *
 * Failure policy: a refusal of the ID or of the request is ST_DATAERR with
 * a reason for the reply; every I/O problem is logged and ST_TEMPFAIL.
 * CONFIRMATION_LIMIT 0 turns the rate limit off.
 */
#include "confirm.h"
#include "list/secret.h"
#include "mail/addr.h"
#include "util/bytes.h"
#include "util/fs.h"
#include "util/lines.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/safefile.h"

#include <errno.h>
#include <glib.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define CONFIRM_STORE_MAX 65536		      /* rewrite past this size */
#define CONFIRM_READ_LIMIT (16 * 1024 * 1024) /* refuse a runaway store */
#define CONFIRM_DAY 86400L
#define CONFIRM_MAC_HEX 24

/* One parsed line of the store (pointers into a copy of the file). */
typedef struct rec {
	long long time;
	int issue;	    /* 1: issue line, 0: used line */
	const char *id;	    /* 32 hex digits */
	const char *action; /* issue only */
	const char *addr;
	const char *arg; /* escaped, "-" for none */
} rec;

void confirm_req_init(confirm_req *r)
{
	str_init(&r->action);
	str_init(&r->addr);
	str_init(&r->arg);
	str_init(&r->id);
	r->issued = 0;
	r->pair_done = 0;
}

void confirm_req_free(confirm_req *r)
{
	str_free(&r->action);
	str_free(&r->addr);
	str_free(&r->arg);
	str_free(&r->id);
}

int confirm_id_shape(const char *s, size_t len)
{
	if (len != CONFIRM_ID_LEN)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (bytes_hex_value((unsigned char)s[i]) < 0)
			return 0;
	return 1;
}

static int printable(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s < '!' || (unsigned char)*s > '~')
			return 0;
	return 1;
}

/* The first 24 hex digits of the MAC in OUT (NUL-terminated). */
static void mac_hex(const str *key, const char *action, const char *addr, const char *arg,
		    long long t, char out[CONFIRM_MAC_HEX + 1])
{
	guint8 digest[32];
	gsize dlen = sizeof digest;
	char num[32];
	GHmac *h = g_hmac_new(G_CHECKSUM_SHA256, (const guchar *)key->s, key->len);
	snprintf(num, sizeof num, "%lld", t);
	g_hmac_update(h, (const guchar *)action, (gssize)strlen(action));
	g_hmac_update(h, (const guchar *)"\n", 1);
	g_hmac_update(h, (const guchar *)addr, (gssize)strlen(addr));
	g_hmac_update(h, (const guchar *)"\n", 1);
	g_hmac_update(h, (const guchar *)arg, (gssize)strlen(arg));
	g_hmac_update(h, (const guchar *)"\n", 1);
	g_hmac_update(h, (const guchar *)num, (gssize)strlen(num));
	g_hmac_get_digest(h, digest, &dlen);
	g_hmac_unref(h);
	for (size_t i = 0; i < CONFIRM_MAC_HEX / 2; i++)
		snprintf(out + 2 * i, 3, "%02x", digest[i]);
	explicit_bzero(digest, sizeof digest);
}

static int ct_equal(const char *a, const char *b, size_t n)
{
	unsigned char d = 0;
	for (size_t i = 0; i < n; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

/* ---- the store */

static void escape_arg(const char *arg, str *out)
{
	str_clear(out);
	if (!arg || !*arg) {
		str_putc(out, '-');
		return;
	}
	if (strcmp(arg, "-") == 0) { /* not to be read back as "none" */
		str_puts(out, "%2D");
		return;
	}
	for (const unsigned char *p = (const unsigned char *)arg; *p; p++) {
		if (*p < '!' || *p > '~' || *p == '%')
			str_printf(out, "%%%02X", *p);
		else
			str_putc(out, (char)*p);
	}
}

static void unescape_arg(const char *s, str *out)
{
	str_clear(out);
	if (strcmp(s, "-") == 0)
		return;
	for (; *s; s++) {
		int hi, lo;
		if (*s == '%' && (hi = bytes_hex_value((unsigned char)s[1])) >= 0 &&
		    (lo = bytes_hex_value((unsigned char)s[2])) >= 0) {
			str_putc(out, hi * 16 + lo);
			s += 2;
		} else {
			str_putc(out, *s);
		}
	}
}

/* Split LINE (NUL-terminated, modified) into R; 0 for a line that is not a
 * well-formed record. */
static int parse_line(char *line, rec *r)
{
	char *f[6], *save = NULL;
	int n = 0;
	for (char *t = strtok_r(line, " ", &save); t && n < 6; t = strtok_r(NULL, " ", &save))
		f[n++] = t;
	if (n < 3 || strtok_r(NULL, " ", &save))
		return 0;
	char *end;
	errno = 0;
	r->time = strtoll(f[0], &end, 10);
	if (errno || *end || end == f[0] || r->time < 0 || !confirm_id_shape(f[2], strlen(f[2])))
		return 0;
	r->id = f[2];
	if (strcmp(f[1], "used") == 0 && n == 3) {
		r->issue = 0;
		r->action = r->addr = r->arg = NULL;
		return 1;
	}
	if (strcmp(f[1], "issue") != 0 || n != 6)
		return 0;
	r->issue = 1;
	r->action = f[3];
	r->addr = f[4];
	r->arg = f[5];
	return 1;
}

/* The store as parsed records; TEXT keeps the bytes they point into. */
typedef struct store {
	char path[PATH_MAX];
	str raw;  /* the file as read */
	str text; /* a copy, split into records */
	rec *r;
	size_t n;
} store;

static void store_free(store *s)
{
	str_free(&s->raw);
	str_free(&s->text);
	free(s->r);
}

static fml_status store_load(const char *dir, store *s)
{
	memset(s, 0, sizeof *s);
	if (fs_path(s->path, sizeof s->path, "%s/var/db/confirm", dir) < 0)
		return ST_TEMPFAIL;
	fml_status st = fs_read(s->path, &s->raw, CONFIRM_READ_LIMIT);
	if (st == ST_NOINPUT)
		return ST_OK;
	if (st != ST_OK)
		return ST_TEMPFAIL;
	str_set(&s->text, s->raw.s, s->raw.len);
	size_t cap = 0;
	char *p = s->text.s, *end = s->text.s + s->text.len;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			break; /* a torn last line */
		*nl = 0;
		if (s->n == cap) {
			cap = cap ? cap * 2 : 64;
			s->r = mem_reallocarray(s->r, cap, sizeof *s->r);
		}
		if (strlen(p) == (size_t)(nl - p) && parse_line(p, &s->r[s->n]))
			s->n++;
		p = nl + 1;
	}
	return ST_OK;
}

/* Append LINE; past CONFIRM_STORE_MAX, rewrite the store with the lines
 * still of use (not older than CONFIRMATION_EXPIRE plus a day) and LINE. */
static fml_status store_add(store *s, const config *cf, time_t now, const str *line)
{
	char dir[PATH_MAX];
	if (fs_path(dir, sizeof dir, "%s", s->path) < 0)
		return ST_TEMPFAIL;
	*strrchr(dir, '/') = 0;
	if (fs_mkdirs(dir, 0700) != ST_OK)
		return ST_TEMPFAIL;
	if (s->raw.len + line->len <= CONFIRM_STORE_MAX) {
		/* after a torn line, start a fresh one */
		if (s->raw.len && s->raw.s[s->raw.len - 1] != '\n' &&
		    fs_append_sync(s->path, "\n", 1) != ST_OK)
			return ST_TEMPFAIL;
		return fs_append_sync(s->path, line->s, line->len);
	}
	long long cutoff = (long long)now - config_int(cf, CF_CONFIRMATION_EXPIRE) - CONFIRM_DAY;
	str out = STR_INIT;
	lines it;
	const char *p;
	size_t n;
	for (lines_init(&it, s->raw.s, s->raw.len); lines_next(&it, &p, &n);) {
		if (!it.nl)
			break; /* a torn last line */
		char *e;
		long long t = strtoll(p, &e, 10);
		if (e != p && *e == ' ' && t >= cutoff)
			str_append(&out, p, n + 1);
	}
	str_append(&out, line->s, line->len);
	fml_status st = safefile_replace(s->path, out.s, out.len, 1);
	str_free(&out);
	return st;
}

/* ---- issue */

static fml_status check_rate(const store *s, const config *cf, time_t now, const char *addr,
			     str *why)
{
	long long limit = config_int(cf, CF_CONFIRMATION_LIMIT), n = 0;
	if (limit <= 0)
		return ST_OK;
	for (size_t i = 0; i < s->n; i++)
		if (s->r[i].issue && s->r[i].time > (long long)now - CONFIRM_DAY &&
		    addr_equal(s->r[i].addr, addr))
			n++;
	if (n >= limit)
		return status_why(why, ST_DATAERR, "too many confirmation requests for %s today",
				  addr);
	return ST_OK;
}

fml_status confirm_issue(const char *dir, const config *cf, time_t now, const char *action,
			 const char *addr, const char *arg, str *id, str *why)
{
	store s;
	str key = STR_INIT, esc = STR_INIT, line = STR_INIT;
	char mac[CONFIRM_MAC_HEX + 1];
	fml_status st;

	if (why)
		str_clear(why);
	if (!printable(action) || !printable(addr))
		return status_why(why, ST_DATAERR, "bad confirmation request for %s", addr);
	if (now < 0 || (long long)now > 0xffffffffLL) {
		msg_error("confirm: time %lld does not fit an ID", (long long)now);
		return ST_TEMPFAIL;
	}
	if ((st = store_load(dir, &s)) != ST_OK)
		return st;
	if ((st = check_rate(&s, cf, now, addr, why)) != ST_OK)
		goto out;
	if ((st = secret_load(dir, &key)) != ST_OK)
		goto out;
	mac_hex(&key, action, addr, arg ? arg : "", (long long)now, mac);
	str_clear(id);
	str_printf(id, "%08llx%s", (unsigned long long)now, mac);
	escape_arg(arg, &esc);
	str_printf(&line, "%lld issue %s %s %s %s\n", (long long)now, id->s, action, addr, esc.s);
	st = store_add(&s, cf, now, &line);
out:
	if (key.s)
		explicit_bzero(key.s, key.cap);
	str_free(&key);
	str_free(&esc);
	str_free(&line);
	store_free(&s);
	return st;
}

/* ---- redeem */

static int is_used(const store *s, const char *id)
{
	for (size_t i = 0; i < s->n; i++)
		if (!s->r[i].issue && strcmp(s->r[i].id, id) == 0)
			return 1;
	return 0;
}

/* The issue record of time T whose MAC is MAC (24 hex digits), or NULL. */
static const rec *find_issue(const store *s, const str *key, long long t, const char *mac)
{
	const rec *found = NULL;
	str arg = STR_INIT;
	char want[CONFIRM_MAC_HEX + 1];
	for (size_t i = 0; i < s->n; i++) {
		const rec *r = &s->r[i];
		if (!r->issue || r->time != t)
			continue;
		unescape_arg(r->arg, &arg);
		mac_hex(key, r->action, r->addr, str_c(&arg), r->time, want);
		if (ct_equal(want, mac, CONFIRM_MAC_HEX) && !found)
			found = r;
	}
	str_free(&arg);
	return found;
}

/* The other half of a chaddr pair: "chaddr" went to the old address,
 * "chaddr-new" to the new one; NULL for other actions. */
static const char *partner(const char *action)
{
	return strcmp(action, "chaddr") == 0	   ? "chaddr-new"
	       : strcmp(action, "chaddr-new") == 0 ? "chaddr"
						   : NULL;
}

/* chaddr: has the other address's ID of the pair been used? */
static int pair_used(const store *s, const rec *me, const char *my_arg)
{
	const char *other = partner(me->action);
	for (size_t i = 0; i < s->n; i++) {
		const rec *r = &s->r[i];
		if (other && r->issue && r != me && r->time == me->time &&
		    strcmp(r->action, other) == 0 && addr_equal(r->addr, my_arg)) {
			str arg = STR_INIT;
			unescape_arg(r->arg, &arg);
			int match = addr_equal(str_c(&arg), me->addr) && is_used(s, r->id);
			str_free(&arg);
			if (match)
				return 1;
		}
	}
	return 0;
}

/* MARK: record the use; AGAIN: a used or expired ID passes; SENDER NULL:
 * any sender (confirm_lookup). */
static fml_status redeem(const char *dir, const config *cf, time_t now, const char *id,
			 const char *sender, confirm_req *req, str *why, int mark, int again)
{
	char lid[CONFIRM_ID_LEN + 1], tpart[9];
	store s;
	str key = STR_INIT, line = STR_INIT;
	fml_status st;

	if (why)
		str_clear(why);
	if (!id || !confirm_id_shape(id, strlen(id)))
		return status_why(why, ST_DATAERR, "malformed confirmation ID");
	for (size_t i = 0; i < CONFIRM_ID_LEN; i++)
		lid[i] = "0123456789abcdef"[bytes_hex_value((unsigned char)id[i])];
	lid[CONFIRM_ID_LEN] = 0;
	memcpy(tpart, lid, 8);
	tpart[8] = 0;
	long long t = strtoll(tpart, NULL, 16);
	long long expire = config_int(cf, CF_CONFIRMATION_EXPIRE);

	if ((st = store_load(dir, &s)) != ST_OK)
		return st;
	if ((st = secret_load(dir, &key)) != ST_OK)
		goto out;
	const rec *r = find_issue(&s, &key, t, lid + 8);
	if (!r) {
		/* records are dropped a day after they expire */
		st = status_why(why, ST_DATAERR, "%s",
				(long long)now - t > expire ? "confirmation ID expired"
							    : "unknown confirmation ID");
		goto out;
	}
	if (!again && (long long)now - r->time > expire) {
		st = status_why(why, ST_DATAERR, "confirmation ID expired");
		goto out;
	}
	if (!again && is_used(&s, r->id)) {
		st = status_why(why, ST_DATAERR, "confirmation ID already used");
		goto out;
	}
	if (sender && !addr_equal(sender, r->addr)) {
		st = status_why(why, ST_DATAERR, "confirmation ID was sent to another address");
		goto out;
	}
	str_printf(&line, "%lld used %s\n", (long long)now, r->id);
	if (mark && (st = store_add(&s, cf, now, &line)) != ST_OK)
		goto out;
	str_sets(&req->id, r->id);
	str_sets(&req->action, r->action);
	str_sets(&req->addr, r->addr);
	unescape_arg(r->arg, &req->arg);
	req->issued = (time_t)r->time;
	req->pair_done = pair_used(&s, r, str_c(&req->arg));
out:
	if (key.s)
		explicit_bzero(key.s, key.cap);
	str_free(&key);
	str_free(&line);
	store_free(&s);
	return st;
}

fml_status confirm_redeem(const char *dir, const config *cf, time_t now, const char *id,
			  const char *sender, confirm_req *req, str *why)
{
	return sender ? redeem(dir, cf, now, id, sender, req, why, 1, 0)
		      : status_why(why, ST_DATAERR, "no sender");
}

fml_status confirm_check(const char *dir, const config *cf, time_t now, const char *id,
			 const char *sender, confirm_req *req, str *why)
{
	return sender ? redeem(dir, cf, now, id, sender, req, why, 0, 0)
		      : status_why(why, ST_DATAERR, "no sender");
}

fml_status confirm_recheck(const char *dir, const config *cf, time_t now, const char *id,
			   const char *sender, confirm_req *req, str *why)
{
	return sender ? redeem(dir, cf, now, id, sender, req, why, 0, 1)
		      : status_why(why, ST_DATAERR, "no sender");
}

fml_status confirm_use(const char *dir, const config *cf, time_t now, const confirm_req *req)
{
	store s;
	str line = STR_INIT;
	fml_status st = store_load(dir, &s);
	if (st == ST_OK && !is_used(&s, str_c(&req->id))) {
		str_printf(&line, "%lld used %s\n", (long long)now, str_c(&req->id));
		st = store_add(&s, cf, now, &line);
	}
	str_free(&line);
	store_free(&s);
	return st;
}

fml_status confirm_lookup(const char *dir, const config *cf, time_t now, const char *id,
			  confirm_req *req, str *why)
{
	return redeem(dir, cf, now, id, NULL, req, why, 0, 0);
}
