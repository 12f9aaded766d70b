/*
 * members: fml's member files (members, actives, members-admin,
 * moderators): the line format (parse a line into a member_entry and
 * format one back, judge a line or the option words of an add, change
 * option words) and reading a file entry by entry or line by line.  The
 * gdbm index is membersdb.c's, the edits are membersedit.c's; both read
 * the format through this module.
 *
 * A '#' line is an "off" entry when its first word after the '#' and any
 * blanks has an '@' (fml4 strips one '#' when it looks members up); other
 * '#' lines are comments, so a comment should not start with an address.
 *
 * Failure policy.  Parsing never fails: a line is an entry or it is not,
 * and the reason is given to the callers that ask for one.  A file that
 * cannot be opened or read is logged and ST_TEMPFAIL (members_find(): -1);
 * a missing file is an empty one.
 */
#include "members.h"
#include "mail/addr.h"
#include "util/fs.h"
#include "util/msg.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* entries                                                             */

void members_entry_init(member_entry *e)
{
	memset(e, 0, sizeof *e);
	str_init(&e->addr);
	str_init(&e->opts);
	str_init(&e->comment);
}

void members_entry_free(member_entry *e)
{
	str_free(&e->addr);
	str_free(&e->opts);
	str_free(&e->comment);
}

static void entry_reset(member_entry *e)
{
	str_clear(&e->addr);
	str_clear(&e->opts);
	str_clear(&e->comment);
	e->off = e->bye = e->skip = e->digest = 0;
	e->digest_mode[0] = 0;
}

static int is_blank(int c)
{
	return c == ' ' || c == '\t';
}

int members_has_ctl(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			return 1;
	return 0;
}

static int word_eq(const char *p, size_t n, const char *w)
{
	return strlen(w) == n && strncasecmp(p, w, n) == 0;
}

static int word_prefix(const char *p, size_t n, const char *w)
{
	size_t k = strlen(w);
	return n >= k && strncasecmp(p, w, k) == 0;
}

/* The next word of *P..END after any blanks: its start, with *N its length
 * (0 at the end); *P moves past it. */
static const char *next_word(const char **p, const char *end, size_t *n)
{
	const char *q = *p;
	while (q < end && is_blank(*q))
		q++;
	const char *w = q;
	while (q < end && !is_blank(*q))
		q++;
	*n = (size_t)(q - w);
	*p = q;
	return w;
}

/* ------------------------------------------------------------------ */
/* options                                                             */

/* The digest modes of fml (msend/mget, fml4 MSendModeSet). */
static const char *const digest_modes[] = {
    "gz",  "tgz", "u",	    "uf", "unpack", "mp", "b",	"rfc934", "d",	 "rfc1153", "i",
    "ish", "li",  "lhaish", "lu", "lhauu",  "uu", "ui", "uish",	  "zip", "base64",  NULL,
};

static int digest_mode_ok(const char *p, size_t n)
{
	if (n == 0)
		return 1;
	for (int i = 0; digest_modes[i]; i++)
		if (word_eq(p, n, digest_modes[i]))
			return 1;
	return 0;
}

/* "N[mode]": N 0..99.  Returns 0 when malformed. */
static int parse_digest(const char *p, size_t n, int *num, char *mode, size_t modesize)
{
	size_t i = 0;
	int v = 0;
	while (i < n && i < 2 && isdigit((unsigned char)p[i]))
		v = v * 10 + (p[i++] - '0');
	if (i == 0 || (i < n && isdigit((unsigned char)p[i])))
		return 0;
	if (n - i >= modesize || !digest_mode_ok(p + i, n - i))
		return 0;
	*num = v;
	memcpy(mode, p + i, n - i);
	mode[n - i] = 0;
	return 1;
}

int members_digest_ok(const char *p, size_t n)
{
	int num;
	char mode[16];
	return parse_digest(p, n, &num, mode, sizeof mode);
}

int members_date_ok(const char *p, size_t n)
{
	static const char shape[] = "dddd-dd-dd";
	if (n != sizeof shape - 1)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (shape[i] == 'd' ? !isdigit((unsigned char)p[i]) : p[i] != shape[i])
			return 0;
	int m = (p[5] - '0') * 10 + (p[6] - '0'), d = (p[8] - '0') * 10 + (p[9] - '0');
	return m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

const char *members_until(const member_entry *e, char date[11])
{
	const char *p = e->opts.s, *end = e->opts.s + e->opts.len;
	while (p && p < end) {
		size_t n;
		const char *w = next_word(&p, end, &n);
		if (n == 0)
			break;
		if (word_prefix(w, n, "u=") && members_date_ok(w + 2, n - 2)) {
			memcpy(date, w + 2, 10);
			date[10] = 0;
			return date;
		}
	}
	return NULL;
}

static int host_ok(const char *p, size_t n)
{
	int dot = 0;
	if (n == 0 || n > 253)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c == '.')
			dot = 1;
		else if (!isalnum(c) && c != '-' && c != '[' && c != ']' && c != ':')
			return 0;
	}
	return dot;
}

/* The words after the address: options, then an optional "# comment". */
static void parse_opts(const char *p, const char *end, member_entry *e, str *why)
{
	for (;;) {
		while (p < end && is_blank(*p))
			p++;
		if (p == end)
			break;
		if (*p == '#') {
			p++;
			while (p < end && is_blank(*p))
				p++;
			str_set(&e->comment, p, (size_t)(end - p));
			break;
		}
		size_t n;
		const char *w = next_word(&p, end, &n);
		if (e->opts.len)
			str_putc(&e->opts, ' ');
		str_append(&e->opts, w, n);
		if (word_eq(w, n, "s=skip") || word_eq(w, n, "skip")) {
			e->skip = 1;
		} else if (word_prefix(w, n, "m=")) {
			if (!parse_digest(w + 2, n - 2, &e->digest, e->digest_mode,
					  sizeof e->digest_mode) &&
			    why && !why->len)
				str_printf(why, "bad option %.*s", (int)n, w);
		} else if (word_eq(w, n, "matome")) {
			/* the old "matome N[mode]": two words */
			const char *q = p;
			size_t vn;
			const char *v = next_word(&q, end, &vn);
			if (vn > 0 && *v != '#' &&
			    parse_digest(v, vn, &e->digest, e->digest_mode,
					 sizeof e->digest_mode)) {
				str_putc(&e->opts, ' ');
				str_append(&e->opts, v, vn);
				p = q;
			} else if (why && !why->len) {
				str_sets(why, "bad option matome: N[mode] expected");
			}
		} else if (word_prefix(w, n, "u=")) {
			/* "off until": back on from that day (roster_vacations) */
			if (!members_date_ok(w + 2, n - 2) && why && !why->len)
				str_printf(why, "bad option %.*s", (int)n, w);
		} else if (word_prefix(w, n, "r=")) {
			if (!host_ok(w + 2, n - 2) && why && !why->len)
				str_printf(why, "bad option %.*s", (int)n, w);
		} else if (!host_ok(w, n) && why && !why->len) {
			/* a bare token is a relay host in fml; anything else is unknown */
			str_printf(why, "unknown option %.*s", (int)n, w);
		}
	}
}

int members_opts_problem(const char *arg, str *why)
{
	member_entry e;
	str_clear(why);
	if (members_has_ctl(arg, strlen(arg))) {
		str_sets(why, "bad options: control character");
		return 1;
	}
	members_entry_init(&e);
	parse_opts(arg, arg + strlen(arg), &e, why);
	members_entry_free(&e);
	return why->len > 0;
}

/* OPTS without the skip words, or (DIGEST) the digest ones, or (PREFIX) the
 * words starting with PREFIX */
static void opts_filter(str *opts, int digest, const char *prefix)
{
	str out = STR_INIT;
	const char *p = opts->s, *end = opts->s + opts->len;
	while (p && p < end) {
		size_t n, skipped;
		const char *w = next_word(&p, end, &n);
		if (n == 0)
			break;
		if (prefix) {
			if (word_prefix(w, n, prefix))
				continue;
		} else if (!digest && (word_eq(w, n, "s=skip") || word_eq(w, n, "skip"))) {
			continue;
		} else if (digest && word_prefix(w, n, "m=")) {
			continue;
		} else if (digest && word_eq(w, n, "matome")) {
			next_word(&p, end, &skipped);
			continue;
		}
		if (out.len)
			str_putc(&out, ' ');
		str_append(&out, w, n);
	}
	str_set(opts, out.s ? out.s : "", out.len);
	str_free(&out);
}

void members_opts_remove(str *opts, int digest)
{
	opts_filter(opts, digest, NULL);
}

void members_opts_drop(str *opts, const char *prefix)
{
	opts_filter(opts, 0, prefix);
}

void members_opts_add(str *opts, const char *word)
{
	if (opts->len)
		str_putc(opts, ' ');
	str_puts(opts, word);
}

/* ------------------------------------------------------------------ */
/* lines                                                               */

int members_parse_line(const char *line, size_t len, member_entry *e, int *plus, str *why)
{
	const char *p = line, *end = line + len;

	entry_reset(e);
	if (plus)
		*plus = 0;
	while (end > p && (end[-1] == '\n' || end[-1] == '\r' || is_blank(end[-1])))
		end--;
	while (p < end && is_blank(*p))
		p++;
	if (p == end)
		return 0;
	if (*p == '#') {
		if (end - p >= 5 && p[1] == '#' && strncasecmp(p + 2, "BYE", 3) == 0 &&
		    (p + 5 == end || is_blank(p[5]))) {
			e->bye = 1;
			p += 5;
		} else if (end - p >= 2 && p[1] == '#') {
			return 0;
		} else {
			const char *q = p + 1;
			while (q < end && is_blank(*q))
				q++;
			const char *t = q;
			while (t < end && !is_blank(*t))
				t++;
			if (!memchr(q, '@', (size_t)(t - q)))
				return 0; /* a comment */
			e->off = 1;
			p = q;
		}
		while (p < end && is_blank(*p))
			p++;
	} else if (*p == '+') {
		const char *q = p + 1;
		while (q < end && is_blank(*q))
			q++;
		if (q == end || *q == '#') {
			if (plus)
				*plus = 1;
			return 0;
		}
	}
	const char *a = p;
	while (p < end && !is_blank(*p))
		p++;
	if (p == a || !memchr(a, '@', (size_t)(p - a)) || members_has_ctl(a, (size_t)(p - a))) {
		if (why)
			str_sets(why, p == a ? "no address" : "not an address");
		return 0;
	}
	str_set(&e->addr, a, (size_t)(p - a));
	if (why) {
		const char *r = addr_check(a, (size_t)(p - a));
		if (r)
			str_printf(why, "bad address: %s", r);
	}
	parse_opts(p, end, e, why);
	return 1;
}

int members_line_problem(const char *line, size_t len, str *why)
{
	member_entry e;
	members_entry_init(&e);
	str_clear(why);
	members_parse_line(line, len, &e, NULL, why);
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	for (size_t i = 0; i < len && !why->len; i++)
		if (((unsigned char)line[i] < 0x20 && line[i] != '\t') || line[i] == 0x7f)
			str_sets(why, "control character");
	members_entry_free(&e);
	return why->len > 0;
}

void members_format(str *out, const member_entry *e)
{
	if (e->bye)
		str_puts(out, "##BYE ");
	else if (e->off)
		str_puts(out, "#\t");
	str_append(out, e->addr.s, e->addr.len);
	if (!e->bye && e->opts.len) {
		str_putc(out, ' ');
		str_append(out, e->opts.s, e->opts.len);
	}
	if (e->comment.len) {
		str_puts(out, " # ");
		str_append(out, e->comment.s, e->comment.len);
	}
}

/* ------------------------------------------------------------------ */
/* files                                                               */

/* A file name inside DIR: no '/', not empty, not starting with a dot. */
static int file_ok(const char *file)
{
	if (!file || !*file || *file == '.' || strlen(file) > 64)
		return 0;
	for (const char *p = file; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
			return 0;
	return 1;
}

fml_status members_path(char *buf, size_t size, const char *dir, const char *file)
{
	if (!file_ok(file)) {
		msg_error("members: bad file name");
		return ST_TEMPFAIL;
	}
	return fs_path(buf, size, "%s/%s", dir, file) < 0 ? ST_TEMPFAIL : ST_OK;
}

static long long ns(const struct timespec *t)
{
	return (long long)t->tv_sec * 1000000000LL + t->tv_nsec;
}

void members_stamp(str *s, const struct stat *st)
{
	str_printf(s, "%llu %llu %lld %lld %lld", (unsigned long long)st->st_dev,
		   (unsigned long long)st->st_ino, (long long)st->st_size, ns(&st->st_mtim),
		   ns(&st->st_ctim));
}

int members_same_stat(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       ns(&a->st_mtim) == ns(&b->st_mtim) && ns(&a->st_ctim) == ns(&b->st_ctim);
}

fml_status members_open(const char *path, FILE **fp, struct stat *st)
{
	*fp = NULL;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return ST_OK;
		msg_error("open %s: %s", path, strerror(errno));
		return ST_TEMPFAIL;
	}
	if (fstat(fd, st) < 0 || !(*fp = fdopen(fd, "r"))) {
		msg_error("open %s: %s", path, strerror(errno));
		close(fd);
		return ST_TEMPFAIL;
	}
	return ST_OK;
}

fml_status members_scan(FILE *fp, const char *path, members_scan_fn fn, void *arg)
{
	member_entry e;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	long lineno = 0;
	int stop = 0;

	members_entry_init(&e);
	errno = 0;
	while (!stop && (n = getline(&line, &cap, fp)) >= 0) {
		int plus;
		lineno++;
		if (members_parse_line(line, (size_t)n, &e, &plus, NULL)) {
			e.lineno = lineno;
			stop = fn(&e, 0, arg);
		} else if (plus) {
			e.lineno = lineno;
			stop = fn(&e, 1, arg);
		}
	}
	fml_status st = ST_OK;
	if (!stop && ferror(fp)) {
		msg_error("read %s: %s", path, strerror(errno));
		st = ST_TEMPFAIL;
	}
	free(line);
	members_entry_free(&e);
	return st;
}

fml_status members_scan_path(const char *path, members_scan_fn fn, void *arg)
{
	FILE *fp;
	struct stat st;
	fml_status s = members_open(path, &fp, &st);
	if (s != ST_OK || !fp)
		return s;
	s = members_scan(fp, path, fn, arg);
	fclose(fp);
	return s;
}

typedef struct finder {
	const char *addr;
	int fuzzy, plus, found;
	member_entry *out;
} finder;

static int find_cb(const member_entry *e, int plus, void *arg)
{
	finder *f = arg;
	if (plus) {
		if (f->plus)
			f->found = 1;
		return f->found;
	}
	if (e->bye || !addr_match(str_c(&e->addr), f->addr, f->fuzzy))
		return 0;
	if (f->out) {
		str_set(&f->out->addr, e->addr.s, e->addr.len);
		str_set(&f->out->opts, e->opts.s, e->opts.len);
		f->out->off = e->off;
		f->out->skip = e->skip;
		f->out->digest = e->digest;
		memcpy(f->out->digest_mode, e->digest_mode, sizeof f->out->digest_mode);
	}
	f->found = 1;
	return 1;
}

fml_status members_scan_find(const char *path, const char *addr, int fuzzy, int plus,
			     member_entry *out, int *found)
{
	finder f = {addr, fuzzy, plus, 0, out};
	fml_status st = members_scan_path(path, find_cb, &f);
	*found = f.found;
	return st;
}

struct foreach_arg {
	int (*fn)(const member_entry *e, void *arg);
	void *arg;
};

static int foreach_cb(const member_entry *e, int plus, void *arg)
{
	struct foreach_arg *fa = arg;
	return plus ? 0 : fa->fn(e, fa->arg);
}

fml_status members_foreach(const char *path, int (*fn)(const member_entry *e, void *arg), void *arg)
{
	struct foreach_arg fa = {fn, arg};
	return members_scan_path(path, foreach_cb, &fa);
}

static int count_cb(const member_entry *e, int plus, void *arg)
{
	if (!plus && !e->bye)
		++*(long *)arg;
	return 0;
}

fml_status members_count(const char *path, long *n)
{
	*n = 0;
	return members_scan_path(path, count_cb, n);
}

int members_find(const char *path, const char *addr, int fuzzy, member_entry *out)
{
	int found;
	if (members_scan_find(path, addr, fuzzy, 0, out, &found) != ST_OK)
		return -1;
	return found;
}

fml_status members_foreach_line(const char *path,
				int (*fn)(const char *line, size_t len, long lineno, void *arg),
				void *arg)
{
	FILE *fp;
	struct stat st;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	long lineno = 0;
	fml_status s = members_open(path, &fp, &st);
	if (s != ST_OK || !fp)
		return s;
	errno = 0;
	while ((n = getline(&line, &cap, fp)) >= 0) {
		size_t len = (size_t)n;
		if (len > 0 && line[len - 1] == '\n')
			len--;
		if (len > 0 && line[len - 1] == '\r' && (size_t)n > len)
			len--;
		if (fn(line, len, ++lineno, arg))
			break;
	}
	if (ferror(fp)) {
		msg_error("read %s: %s", path, strerror(errno));
		s = ST_TEMPFAIL;
	}
	free(line);
	fclose(fp);
	return s;
}
