/*
 * dedupe: gdbm cache of content hashes and Message-IDs.  See dedupe.h.
 *
 * A cache, never synced (list/cachedb.h): a post costs no flush here.
 * What a crash does to it: entries lost (list/incoming.c says why that is
 * safe: an entry is written only once its article is durable), or a torn
 * file, which is moved aside.
 */
#include "dedupe.h"
#include "cachedb.h"
#include "util/fs.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/safefile.h"
#include "util/str.h"

#include <fcntl.h>
#include <gdbm.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#define SWEEP_KEY "\001last-sweep"

/* an entry dedupe_hold() keeps in memory only */
typedef struct held {
	str key; /* "s:SHA" or "m:MSGID" */
	long article;
} held;

struct dedupe {
	GDBM_FILE db;
	time_t now;
	long expire;
	held *held;
	size_t nheld, maxheld;
};

static void key_of(str *key, const char *prefix, const char *k, size_t klen)
{
	str_clear(key);
	str_puts(key, prefix);
	str_append(key, k, klen);
}

static long fetch(dedupe *d, const char *prefix, const char *k, size_t klen)
{
	if (!d || !d->db)
		return 0;
	str key = STR_INIT;
	key_of(&key, prefix, k, klen);
	for (size_t i = 0; i < d->nheld; i++)
		if (d->held[i].key.len == key.len &&
		    memcmp(d->held[i].key.s, key.s, key.len) == 0) {
			str_free(&key);
			return d->held[i].article;
		}
	datum kd = {key.s, (int)key.len};
	datum v = gdbm_fetch(d->db, kd);
	str_free(&key);
	if (!v.dptr)
		return 0;
	char buf[64];
	snprintf(buf, sizeof buf, "%.*s", v.dsize, v.dptr);
	free(v.dptr);
	long long t;
	long art;
	if (sscanf(buf, "%lld %ld", &t, &art) != 2 || d->now - t > d->expire)
		return 0;
	return art > 0 ? art : 1;
}

static void sweep(dedupe *d)
{
	datum k = {SWEEP_KEY, (int)sizeof SWEEP_KEY - 1};
	datum v = gdbm_fetch(d->db, k);
	long long last = 0;
	if (v.dptr) {
		char buf[32];
		snprintf(buf, sizeof buf, "%.*s", v.dsize, v.dptr);
		last = atoll(buf);
		free(v.dptr);
	}
	if (d->now - last < 86400)
		return;
	/* collect first: deleting while iterating is undefined in gdbm */
	str dead = STR_INIT;
	size_t ndead = 0;
	for (datum key = gdbm_firstkey(d->db); key.dptr;) {
		datum val = gdbm_fetch(d->db, key);
		if (val.dptr && key.dptr[0] != '\001') {
			char buf[64];
			snprintf(buf, sizeof buf, "%.*s", val.dsize, val.dptr);
			if (d->now - atoll(buf) > d->expire) {
				str_printf(&dead, "%08x", (unsigned)key.dsize);
				str_append(&dead, key.dptr, (size_t)key.dsize);
				ndead++;
			}
		}
		free(val.dptr);
		datum next = gdbm_nextkey(d->db, key);
		free(key.dptr);
		key = next;
	}
	for (size_t off = 0; off < dead.len;) {
		unsigned len;
		sscanf(dead.s + off, "%8x", &len);
		datum key = {dead.s + off + 8, (int)len};
		gdbm_delete(d->db, key);
		off += 8 + len;
	}
	if (ndead)
		gdbm_reorganize(d->db);
	str_free(&dead);
	char buf[32];
	int n = snprintf(buf, sizeof buf, "%lld", (long long)d->now);
	datum nv = {buf, n};
	gdbm_store(d->db, k, nv, GDBM_REPLACE);
	if (ndead)
		msg_info("duplicate cache: %zu expired entries removed", ndead);
}

dedupe *dedupe_open(const char *dir, time_t now, long expire)
{
	char path[4096];
	dedupe *d = mem_calloc(1, sizeof *d);
	d->now = now;
	d->expire = expire > 0 ? expire : 30 * 86400;
	if (fs_path(path, sizeof path, "%s/var/db/dedupe.db", dir) < 0)
		return d;
	d->db = cachedb_open(path, 0, now, "duplicate cache");
	if (!d->db)
		msg_error("duplicate cache %s unavailable: %s (%s)", path,
			  gdbm_strerror(gdbm_errno), strerror(errno));
	else
		sweep(d);
	return d;
}

int dedupe_ok(const dedupe *d)
{
	return d && d->db;
}

void dedupe_close(dedupe *d)
{
	if (!d)
		return;
	cachedb_close(d->db); /* no sync (cachedb.h) */
	for (size_t i = 0; i < d->nheld; i++)
		str_free(&d->held[i].key);
	free(d->held);
	free(d);
}

long dedupe_seen_sha(dedupe *d, const char *sha)
{
	return fetch(d, "s:", sha, strlen(sha));
}

long dedupe_seen_msgid(dedupe *d, const char *msgid, size_t len)
{
	return len ? fetch(d, "m:", msgid, len) : 0;
}

static void store(dedupe *d, const char *prefix, const char *k, size_t klen, long article)
{
	str key = STR_INIT;
	char buf[64];
	key_of(&key, prefix, k, klen);
	int n = snprintf(buf, sizeof buf, "%lld %ld", (long long)d->now, article);
	datum kd = {key.s, (int)key.len}, vd = {buf, n};
	if (gdbm_store(d->db, kd, vd, GDBM_REPLACE) != 0)
		msg_warn("duplicate cache: store failed: %s", gdbm_strerror(gdbm_errno));
	str_free(&key);
}

void dedupe_record(dedupe *d, const char *sha, const char *msgid, size_t len, long article)
{
	if (!d || !d->db)
		return;
	store(d, "s:", sha, strlen(sha), article);
	if (len)
		store(d, "m:", msgid, len, article);
	/* what was held for ARTICLE is in the file now */
	for (size_t i = 0; i < d->nheld;) {
		if (d->held[i].article == article) {
			str_free(&d->held[i].key);
			d->held[i] = d->held[--d->nheld];
		} else {
			i++;
		}
	}
}

static void hold(dedupe *d, const char *prefix, const char *k, size_t klen, long article)
{
	if (d->nheld == d->maxheld) {
		d->maxheld = d->maxheld ? d->maxheld * 2 : 16;
		d->held = mem_reallocarray(d->held, d->maxheld, sizeof *d->held);
	}
	held *h = &d->held[d->nheld++];
	str_init(&h->key);
	key_of(&h->key, prefix, k, klen);
	h->article = article > 0 ? article : 1;
}

void dedupe_hold(dedupe *d, const char *sha, const char *msgid, size_t len, long article)
{
	if (!d || !d->db)
		return;
	hold(d, "s:", sha, strlen(sha), article);
	if (len)
		hold(d, "m:", msgid, len, article);
}
