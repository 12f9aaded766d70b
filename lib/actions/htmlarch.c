/*
 * htmlarch: the list's HTML archive.  See htmlarch.h.
 */
#include "htmlarch.h"
#include "list/article.h"
#include "list/cachedb.h"
#include "list/home.h"
#include "list/seq.h"
#include "mail/mimetext.h"
#include "util/fs.h"
#include "util/html.h"
#include "util/mem.h"
#include "util/msg.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gmime/gmime.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FEED_ENTRIES 20
#define CHECKPOINT 1000 /* articles between two records of "done" */
#define THREAD_DEPTH 40 /* deeper replies are shown at this depth */
#define NAME_MAX_SHOWN 80
#define CSP                                                                                        \
	"default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "                  \
	"form-action 'none'"

static const char css[] =
    "body{font-family:system-ui,sans-serif;line-height:1.4;margin:0 auto;max-width:50rem;"
    "padding:0 1rem;color:#222;background:#fff}\n"
    "nav{margin:1rem 0;font-size:.95rem}\n"
    "pre.text{white-space:pre-wrap;overflow-wrap:anywhere;font-family:ui-monospace,monospace;"
    "font-size:.95rem}\n"
    ".q{color:#555}\n"
    "table{border-collapse:collapse;width:100%}\n"
    "td,th{text-align:left;padding:.2rem .4rem;vertical-align:top;border-bottom:1px solid #ddd}\n"
    "dl.fields{display:grid;grid-template-columns:max-content 1fr;gap:.1rem 1rem}\n"
    "dl.fields dt{font-weight:bold}\n"
    "dl.fields dd{margin:0;overflow-wrap:anywhere}\n"
    "ul.thread ul{padding-left:1.2rem}\n"
    "@media (prefers-color-scheme:dark){body{color:#ddd;background:#111}a{color:#8cf}"
    ".q{color:#aaa}}\n";

/* what the indexes keep of an article: a line of KEY.meta */
typedef struct art {
	long n, parent;
	long long t;
	str from, subject;
} art;

typedef struct arts {
	art *v;
	size_t n, cap;
} arts;

typedef struct arch {
	list_ctx *l;
	char root[PATH_MAX], state[PATH_MAX];
	const char *list; /* the list's name */
	long seq;	  /* the last article when the run began */
	GDBM_FILE ids;	  /* msgid.db, or NULL */
	str touched;	  /* unit keys changed, NUL-separated */
} arch;

static void arts_free(arts *a)
{
	for (size_t i = 0; i < a->n; i++) {
		str_free(&a->v[i].from);
		str_free(&a->v[i].subject);
	}
	free(a->v);
	*a = (arts){0};
}

static art *arts_add(arts *a)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? 2 * a->cap : 64;
		a->v = mem_reallocarray(a->v, a->cap, sizeof *a->v);
	}
	art *x = &a->v[a->n++];
	*x = (art){0};
	str_init(&x->from);
	str_init(&x->subject);
	return x;
}

/* ---- files */

/* CONTENT as PATH: a temp file beside it (mode 0644, a reader's), then
 * renamed over it; not synced (the archive can be made again). */
static fml_status put_file(const char *path, const void *p, size_t n)
{
	char tmp[PATH_MAX];
	const char *slash = strrchr(path, '/');
	if (fs_path(tmp, sizeof tmp, "%.*s/.tmp.%d.%s", slash ? (int)(slash - path) : 0, path,
		    (int)getpid(), slash ? slash + 1 : path) < 0)
		return ST_TEMPFAIL;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		msg_error("html archive: %s: %m", tmp);
		return ST_TEMPFAIL;
	}
	int ok = fchmod(fd, 0644) == 0 && fs_pwrite_full(fd, p, n, 0) == (ssize_t)n;
	ok = close(fd) == 0 && ok;
	if (!ok || rename(tmp, path) < 0) {
		msg_error("html archive: writing %s: %m", path);
		unlink(tmp);
		return ST_TEMPFAIL;
	}
	return ST_OK;
}

static fml_status put_str(const char *path, const str *s)
{
	return put_file(path, s->s ? s->s : "", s->len);
}

static fml_status mkdir_public(const char *path)
{
	if (mkdir(path, 0755) < 0 && errno != EEXIST) {
		msg_error("html archive: mkdir %s: %m", path);
		return ST_TEMPFAIL;
	}
	chmod(path, 0755);
	return ST_OK;
}

/* DIR and everything in it removed (the trees of this module only) */
static void remove_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[PATH_MAX];
	while (d && (e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (fs_path(p, sizeof p, "%s/%s", dir, e->d_name) < 0)
			continue;
		struct stat st;
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
			remove_tree(p);
		else
			unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

/* ---- text in pages */

static void put_text(str *o, const char *s)
{
	html_puts(o, s);
}

/* "Name <local@domain>" (as decoded) into NAME and ADDR */
static void split_from(const char *v, str *name, str *addr)
{
	const char *lt = strrchr(v, '<'), *gt = lt ? strchr(lt, '>') : NULL;
	str_clear(name);
	str_clear(addr);
	if (lt && gt) {
		str_append(addr, lt + 1, (size_t)(gt - lt - 1));
		const char *e = lt;
		while (e > v && (e[-1] == ' ' || e[-1] == '"'))
			e--;
		const char *b = v;
		while (b < e && (*b == ' ' || *b == '"'))
			b++;
		str_append(name, b, (size_t)(e - b));
	} else {
		size_t l = strcspn(v, " (");
		str_append(addr, v, l);
		const char *c = strchr(v, '(');
		if (c) {
			const char *e = strchr(c, ')');
			str_append(name, c + 1, e ? (size_t)(e - c - 1) : strlen(c + 1));
		}
	}
}

/* ADDR (N bytes) as HTML_ADDRESS_POLICY shows it, as plain text */
static void policy_addr(const config *cf, const char *a, size_t n, str *out)
{
	const char *pol = config_str(cf, CF_HTML_ADDRESS_POLICY);
	const char *at = memchr(a, '@', n);
	if (strcmp(pol, "show") == 0 || !at)
		str_append(out, a, n);
	else if (strcmp(pol, "obfuscate") == 0)
		str_printf(out, "%.*s at %.*s", (int)(at - a), a, (int)(n - (size_t)(at - a) - 1),
			   at + 1);
	else
		str_printf(out, "%.*s@...", (int)(at - a), a);
}

/* The author as the pages show it (plain text) */
static void show_from(const config *cf, const char *v, str *out)
{
	str name = STR_INIT, addr = STR_INIT;
	split_from(v, &name, &addr);
	str_clear(out);
	if (name.len && strcmp(config_str(cf, CF_HTML_ADDRESS_POLICY), "hide") == 0) {
		str_append(out, name.s, name.len);
	} else {
		if (name.len)
			str_printf(out, "%s (", name.s);
		policy_addr(cf, addr.s ? addr.s : "", addr.len, out);
		if (name.len)
			str_putc(out, ')');
	}
	str_free(&name);
	str_free(&addr);
}

static int url_char(unsigned char c)
{
	return c > ' ' && c != '<' && c != '>' && c != '"' && c != '\'' && c != '`' && c != 0x7f;
}

static int addr_char(unsigned char c)
{
	return isalnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}

/* One line of text into HTML: escaped, http(s) URLs made links, addresses
 * as the policy says, a quoted line marked. */
static void put_line(const config *cf, const char *p, size_t n, str *o)
{
	size_t i = 0, plain = 0;
	int quoted = n > 0 && (p[0] == '>' || (n > 1 && p[0] == ' ' && p[1] == '>'));
	str tmp = STR_INIT;
	if (quoted)
		str_puts(o, "<span class=\"q\">");
	while (i < n) {
		size_t ul = 0;
		if ((n - i > 7 && strncasecmp(p + i, "http://", 7) == 0) ||
		    (n - i > 8 && strncasecmp(p + i, "https://", 8) == 0)) {
			if (i == 0 || !isalnum((unsigned char)p[i - 1]))
				while (i + ul < n && url_char((unsigned char)p[i + ul]))
					ul++;
			while (ul > 0 && strchr(".,;:!?)]}", p[i + ul - 1]))
				ul--;
			if (ul <= 8)
				ul = 0;
		}
		if (ul) {
			html_escape(o, p + plain, i - plain);
			str_puts(o, "<a href=\"");
			html_escape(o, p + i, ul);
			str_puts(o, "\" rel=\"nofollow noopener noreferrer\">");
			html_escape(o, p + i, ul);
			str_puts(o, "</a>");
			i += ul;
			plain = i;
			continue;
		}
		if (p[i] == '@' && i > 0 && addr_char((unsigned char)p[i - 1])) {
			size_t b = i, e = i + 1;
			while (b > plain && addr_char((unsigned char)p[b - 1]))
				b--;
			while (e < n &&
			       (isalnum((unsigned char)p[e]) || p[e] == '.' || p[e] == '-'))
				e++;
			while (e > i + 1 && p[e - 1] == '.')
				e--;
			if (memchr(p + i + 1, '.', e - i - 1)) {
				html_escape(o, p + plain, b - plain);
				str_clear(&tmp);
				policy_addr(cf, p + b, e - b, &tmp);
				html_escape(o, tmp.s, tmp.len);
				i = plain = e;
				continue;
			}
		}
		i++;
	}
	html_escape(o, p + plain, n - plain);
	if (quoted)
		str_puts(o, "</span>");
	str_putc(o, '\n');
	str_free(&tmp);
}

static void page_head(str *o, const char *title, const char *up)
{
	str_puts(o, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		    "<meta http-equiv=\"Content-Security-Policy\" content=\"" CSP "\">\n"
		    "<meta name=\"referrer\" content=\"no-referrer\">\n<title>");
	put_text(o, title);
	str_printf(o, "</title>\n<link rel=\"stylesheet\" href=\"%sarchive.css\">\n", up);
	str_printf(o,
		   "<link rel=\"alternate\" type=\"application/atom+xml\" title=\"Atom feed\" "
		   "href=\"%satom.xml\">\n</head>\n<body>\n",
		   up);
}

static void page_tail(str *o)
{
	str_puts(o, "</body>\n</html>\n");
}

/* T onto O: local "YYYY-MM-DD hh:mm" for a page, or (RFC3339) UTC for the
 * feed */
static void put_time(long long t, int rfc3339, str *o)
{
	char buf[64];
	time_t tt = (time_t)t;
	struct tm tm;
	if ((rfc3339 ? gmtime_r(&tt, &tm) : localtime_r(&tt, &tm)) &&
	    strftime(buf, sizeof buf, rfc3339 ? "%Y-%m-%dT%H:%M:%SZ" : "%Y-%m-%d %H:%M", &tm))
		str_puts(o, buf);
}

static void when(long long t, str *o)
{
	put_time(t, 0, o);
}

/* ---- units */

static void unit_key(const config *cf, long n, long long t, char *key, size_t size)
{
	const char *u = config_str(cf, CF_HTML_INDEX_UNIT);
	time_t tt = (time_t)t;
	struct tm tm;
	long per = strtol(u, NULL, 10);
	if (per > 0) {
		long first = (n - 1) / per * per + 1;
		snprintf(key, size, "%05ld-%05ld", first, first + per - 1);
		return;
	}
	localtime_r(&tt, &tm);
	strftime(key, size,
		 strcmp(u, "day") == 0	  ? "%Y-%m-%d"
		 : strcmp(u, "week") == 0 ? "%G-W%V"
					  : "%Y-%m",
		 &tm);
}

/* ---- state */

static long read_long(const char *path)
{
	str s = STR_INIT;
	long v = fs_read(path, &s, 64) == ST_OK ? strtol(str_c(&s), NULL, 10) : 0;
	str_free(&s);
	return v < 0 ? 0 : v;
}

static void meta_line(const art *a, str *o)
{
	str_printf(o, "%ld\t%lld\t%ld\t", a->n, a->t, a->parent);
	for (size_t i = 0; i < a->from.len; i++)
		str_putc(o, a->from.s[i] == '\t' || a->from.s[i] == '\n' ? ' ' : a->from.s[i]);
	str_putc(o, '\t');
	for (size_t i = 0; i < a->subject.len; i++)
		str_putc(o, a->subject.s[i] == '\t' || a->subject.s[i] == '\n' ? ' '
									       : a->subject.s[i]);
	str_putc(o, '\n');
}

static int by_n(const void *x, const void *y)
{
	const art *a = x, *b = y;
	return a->n < b->n ? -1 : a->n > b->n;
}

/* The lines of PATH into A: sorted by number, a number once (the last
 * line for it: an article made again after a crash). */
static void meta_read(const char *path, arts *a)
{
	str s = STR_INIT;
	if (fs_read(path, &s, (size_t)1 << 30) != ST_OK) {
		str_free(&s);
		return;
	}
	for (char *p = s.s; p && p < s.s + s.len;) {
		char *nl = memchr(p, '\n', (size_t)(s.s + s.len - p));
		if (!nl)
			break;
		*nl = 0;
		char *f[5];
		int k = 0;
		for (char *q = p; k < 5; k++) {
			f[k] = q;
			char *tab = k < 4 ? strchr(q, '\t') : NULL;
			if (k < 4 && !tab)
				break;
			if (tab) {
				*tab = 0;
				q = tab + 1;
			}
		}
		if (k == 5 && strtol(f[0], NULL, 10) > 0) {
			art *x = arts_add(a);
			x->n = strtol(f[0], NULL, 10);
			x->t = strtoll(f[1], NULL, 10);
			x->parent = strtol(f[2], NULL, 10);
			str_puts(&x->from, f[3]);
			str_puts(&x->subject, f[4]);
		}
		p = nl + 1;
	}
	str_free(&s);
	qsort(a->v, a->n, sizeof *a->v, by_n);
	size_t w = 0;
	for (size_t i = 0; i < a->n; i++) {
		if (w > 0 && a->v[w - 1].n == a->v[i].n) {
			str_free(&a->v[w - 1].from);
			str_free(&a->v[w - 1].subject);
			a->v[w - 1] = a->v[i];
			continue;
		}
		a->v[w++] = a->v[i];
	}
	a->n = w;
}

/* HTML_INDEX_PAGE, at least 1 */
static long page_size(const arch *A)
{
	long long p = config_int(A->l->cf, CF_HTML_INDEX_PAGE);
	return p < 1 ? 1 : p > 1000000 ? 1000000 : (long)p;
}

/* ---- one article */

static fml_status count_unit(arch *A, const char *key, int add, long *before);

typedef struct render {
	arch *A;
	const config *cf;
	long n;
	str out, line, attach, name, from, subject, date, msgid, irt, refs;
	int in_text, nparts;
	fml_status st;
} render;

static const char *const page_fields[] = {"Date",	 "From",       "Subject", "Message-ID",
					  "In-Reply-To", "References", NULL};

static void r_field(void *arg, const char *name, const char *value)
{
	render *r = arg;
	str *to = strcmp(name, "Date") == 0	     ? &r->date
		  : strcmp(name, "From") == 0	     ? &r->from
		  : strcmp(name, "Subject") == 0     ? &r->subject
		  : strcmp(name, "Message-ID") == 0  ? &r->msgid
		  : strcmp(name, "In-Reply-To") == 0 ? &r->irt
						     : &r->refs;
	str_sets(to, value);
}

static void text_close(render *r)
{
	if (r->line.len) {
		put_line(r->cf, r->line.s, r->line.len, &r->out);
		str_clear(&r->line);
	}
	if (r->in_text)
		str_puts(&r->out, "</pre>\n");
	r->in_text = 0;
}

static fml_status r_sink(void *arg, const void *p, size_t n)
{
	render *r = arg;
	const char *s = p;
	if (!r->in_text) { /* text before any part: the body of a mail GMime could not parse */
		str_puts(&r->out, "<pre class=\"text\">");
		r->in_text = 1;
	}
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n') {
			put_line(r->cf, r->line.s ? r->line.s : "", r->line.len, &r->out);
			str_clear(&r->line);
		} else {
			str_putc(&r->line, s[i]);
		}
	}
	return ST_OK;
}

/* A file name for a saved part: [A-Za-z0-9._-] only, no leading dot, a
 * type a browser would run made inert. */
static void safe_name(const char *name, int k, str *out)
{
	static const char *const inert[] = {
	    "pdf", "png", "jpg",   "jpeg", "gif", "webp", "txt", "csv",	 "zip", "gz",	"tgz",
	    "tar", "bz2", "xz",	   "7z",   "doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt",
	    "ods", "odp", "patch", "diff", "mp3", "ogg",  "mp4", "webm", "ics", "vcf",	NULL};
	str_printf(out, "%d-", k);
	size_t start = out->len;
	for (const char *p = name ? name : ""; *p && out->len - start < NAME_MAX_SHOWN; p++) {
		unsigned char c = (unsigned char)*p;
		str_putc(out, isalnum(c) || c == '.' || c == '_' || c == '-' ? c : '_');
	}
	while (out->len > start && out->s[start] == '.')
		out->s[start] = '_';
	if (out->len == start)
		str_puts(out, "part");
	const char *dot = strrchr(out->s + start, '.');
	int ok = 0;
	for (int i = 0; dot && inert[i]; i++)
		ok |= strcasecmp(dot + 1, inert[i]) == 0;
	if (!ok)
		str_puts(out, ".bin");
}

static void r_part(void *arg, int kind, const char *name, const char *type, long long size,
		   mimetext_leaf *leaf)
{
	render *r = arg;
	text_close(r);
	r->nparts++;
	if (kind == MIMETEXT_TEXT) {
		str_puts(&r->out, "<pre class=\"text\">");
		r->in_text = 1;
		return;
	}
	if (kind == MIMETEXT_LIMIT) {
		str_puts(&r->out, "<p class=\"note\">");
		put_text(&r->out, type);
		str_puts(&r->out, "</p>\n");
		return;
	}
	char dir[PATH_MAX], path[PATH_MAX];
	str_clear(&r->name);
	safe_name(name, r->nparts, &r->name);
	if (fs_path(dir, sizeof dir, "%s/a/%ld", r->A->root, r->n) < 0 ||
	    fs_path(path, sizeof path, "%s/%s", dir, r->name.s) < 0 || mkdir_public(dir) != ST_OK) {
		r->st = ST_TEMPFAIL;
		return;
	}
	char tmp[PATH_MAX];
	fs_path(tmp, sizeof tmp, "%s/.tmp.%d", dir, (int)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	int ok = fd >= 0 && fchmod(fd, 0644) == 0 && mimetext_leaf_save(leaf, fd) == ST_OK;
	if (fd >= 0)
		ok = close(fd) == 0 && ok;
	if (!ok || rename(tmp, path) < 0) {
		msg_error("html archive: saving %s: %m", path);
		unlink(tmp);
		r->st = ST_TEMPFAIL;
		return;
	}
	str_printf(&r->attach, "<li><a href=\"%ld/", r->n);
	html_puts(&r->attach, r->name.s);
	str_puts(&r->attach, "\">");
	put_text(&r->attach, name && *name ? name : r->name.s);
	str_puts(&r->attach, "</a> (");
	put_text(&r->attach, type);
	str_printf(&r->attach, ", %lld bytes)</li>\n", size);
}

/* The first "<...>" of S (In-Reply-To), or the last (References). */
static void msg_id(const char *s, int last, str *out)
{
	str_clear(out);
	for (const char *p = s; (p = strchr(p, '<'));) {
		const char *e = strchr(p, '>');
		if (!e)
			break;
		str_set(out, p, (size_t)(e - p + 1));
		if (!last)
			break;
		p = e;
	}
}

static long lookup_id(arch *A, const str *id)
{
	if (!A->ids || !id->len)
		return 0;
	datum k = {id->s, (int)id->len}, v = gdbm_fetch(A->ids, k);
	long n = 0;
	if (v.dptr) {
		char buf[32];
		snprintf(buf, sizeof buf, "%.*s", v.dsize < 31 ? v.dsize : 31, v.dptr);
		n = strtol(buf, NULL, 10);
		free(v.dptr);
	}
	return n;
}

/* The page of article N (open as FD, SIZE bytes) into a/N.html; what the
 * indexes keep of it into A (parent, time, author, subject). */
static fml_status render_article(arch *A, long n, int fd, off_t size, int has_next, int filed,
				 art *a, str *page)
{
	render r = {.A = A, .cf = A->l->cf, .n = n, .st = ST_OK};
	str *ss[] = {&r.out,	 &r.line, &r.attach, &r.name, &r.from,
		     &r.subject, &r.date, &r.msgid,  &r.irt,  &r.refs};
	for (size_t i = 0; i < sizeof ss / sizeof *ss; i++)
		str_init(ss[i]);
	str body = STR_INIT, id = STR_INIT;
	mimetext_hooks h = {page_fields, r_field, r_part, 1};
	/* the body first (its attachments are saved as it goes), then the
	 * page around it */
	fml_status st = mimetext_fd_hooks(fd, size, &h, r_sink, &r);
	text_close(&r);
	str_append(&body, r.out.s ? r.out.s : "", r.out.len);
	str_clear(&r.out);
	if (st == ST_OK)
		st = r.st;
	/* when, whom, which thread */
	struct stat sb;
	a->n = n;
	a->t = fstat(fd, &sb) == 0 ? (long long)sb.st_mtime : 0;
	GDateTime *dt = r.date.len ? g_mime_utils_header_decode_date(r.date.s) : NULL;
	if (dt) {
		a->t = g_date_time_to_unix(dt);
		g_date_time_unref(dt);
	}
	show_from(r.cf, str_c(&r.from), &a->from);
	str_sets(&a->subject, r.subject.len ? r.subject.s : "(no subject)");
	msg_id(str_c(&r.irt), 0, &id);
	if (!id.len)
		msg_id(str_c(&r.refs), 1, &id);
	a->parent = lookup_id(A, &id);
	if (a->parent >= n)
		a->parent = 0;
	msg_id(str_c(&r.msgid), 0, &id);
	if (A->ids && id.len) {
		char num[32];
		int l = snprintf(num, sizeof num, "%ld", n);
		datum k = {id.s, (int)id.len}, v = {num, l};
		gdbm_store(A->ids, k, v, GDBM_REPLACE);
	}
	char key[64];
	unit_key(r.cf, n, a->t, key, sizeof key);
	/* the unit's page it is (or will be) on: its thread view's name */
	long count = 0;
	count_unit(A, key, 0, &count);
	long pg = filed ? (count ? (count - 1) / page_size(A) + 1 : 1) : count / page_size(A) + 1;
	/* the page */
	str *o = &r.out;
	page_head(o, str_c(&a->subject), "../");
	str_puts(o, "<header>\n<nav aria-label=\"Archive\"><a href=\"../index.html\">");
	put_text(o, A->list);
	str_printf(o, "</a> &rsaquo; <a href=\"../%s/index.html\">%s</a> &middot; ", key, key);
	if (n > 1)
		str_printf(o, "<a rel=\"prev\" href=\"%ld.html\">previous</a> &middot; ", n - 1);
	if (has_next)
		str_printf(o, "<a rel=\"next\" href=\"%ld.html\">next</a> &middot; ", n + 1);
	str_printf(o, "<a href=\"../%s/thread-%ld.html#a%ld\">thread</a></nav>\n</header>\n", key,
		   pg, n);
	str_puts(o, "<main>\n<article>\n<h1>");
	put_text(o, str_c(&a->subject));
	str_puts(o, "</h1>\n<dl class=\"fields\">\n<dt>From</dt><dd>");
	put_text(o, str_c(&a->from));
	str_puts(o, "</dd>\n<dt>Date</dt><dd>");
	put_text(o, str_c(&r.date));
	str_printf(o, "</dd>\n<dt>Article</dt><dd>%ld</dd>\n", n);
	if (a->parent)
		str_printf(o, "<dt>In reply to</dt><dd><a href=\"%ld.html\">article %ld</a></dd>\n",
			   a->parent, a->parent);
	str_puts(o, "</dl>\n");
	str_append(o, body.s ? body.s : "", body.len);
	if (r.attach.len) {
		str_puts(
		    o,
		    "<section aria-labelledby=\"att\">\n<h2 id=\"att\">Attachments</h2>\n<ul>\n");
		str_append(o, r.attach.s, r.attach.len);
		str_puts(o, "</ul>\n</section>\n");
	}
	str_puts(o, "</article>\n</main>\n");
	page_tail(o);
	char path[PATH_MAX];
	if (page)
		str_append(page, o->s, o->len);
	else if (st == ST_OK && fs_path(path, sizeof path, "%s/a/%ld.html", A->root, n) == 0)
		st = put_str(path, o);
	for (size_t i = 0; i < sizeof ss / sizeof *ss; i++)
		str_free(ss[i]);
	str_free(&body);
	str_free(&id);
	return st;
}

/* ---- indexes */

static void index_row(const art *a, str *o)
{
	str_printf(o,
		   "<tr><td><a href=\"../a/%ld.html\">%ld</a></td><td><a href=\"../a/%ld.html\">",
		   a->n, a->n, a->n);
	put_text(o, str_c(&a->subject));
	str_puts(o, "</a></td><td>");
	put_text(o, str_c(&a->from));
	str_puts(o, "</td><td>");
	when(a->t, o);
	str_puts(o, "</td></tr>\n");
}

static void nav_unit(arch *A, const char *key, const char *other, const char *other_name, str *o)
{
	str_puts(o, "<header>\n<nav aria-label=\"Archive\"><a href=\"../index.html\">");
	put_text(o, A->list);
	str_printf(o, "</a> &rsaquo; %s &middot; <a href=\"%s\">%s</a></nav>\n</header>\n", key,
		   other, other_name);
}

/* Subject for threading: no "Re:", "Fwd:" nor "[tag]" in front, lower case */
static void thread_subject(const char *s, str *out)
{
	str_clear(out);
	for (int again = 1; again;) {
		again = 0;
		while (*s == ' ')
			s++;
		if (*s == '[') {
			const char *e = strchr(s, ']');
			if (e) {
				s = e + 1;
				again = 1;
			}
		} else if (strncasecmp(s, "re:", 3) == 0 || strncasecmp(s, "aw:", 3) == 0) {
			s += 3;
			again = 1;
		} else if (strncasecmp(s, "fwd:", 4) == 0) {
			s += 4;
			again = 1;
		}
	}
	for (; *s; s++)
		str_putc(out, tolower((unsigned char)*s));
}

/* The threads as nested lists, depth-first without recursion: replies
 * deeper than THREAD_DEPTH are shown at that depth. */
static void thread_list(const arts *a, const long *first, const long *next, long root, str *o)
{
	long *stack = mem_reallocarray(NULL, a->n + 1, sizeof *stack);
	size_t sp = 0;
	int prev = -1;
	for (long cur = root; cur >= 0;) {
		const art *x = &a->v[cur];
		int vd = (int)(sp < THREAD_DEPTH ? sp : THREAD_DEPTH);
		if (vd > prev) {
			if (prev >= 0)
				str_puts(o, "\n<ul>\n");
		} else {
			str_puts(o, "</li>\n");
			for (int d = prev; d > vd; d--)
				str_puts(o, "</ul>\n</li>\n");
		}
		prev = vd;
		str_printf(o, "<li id=\"a%ld\"><a href=\"../a/%ld.html\">", x->n, x->n);
		put_text(o, str_c(&x->subject));
		str_puts(o, "</a> &mdash; ");
		put_text(o, str_c(&x->from));
		if (x->parent && sp == 0)
			str_printf(o, " (in reply to <a href=\"../a/%ld.html\">%ld</a>)", x->parent,
				   x->parent);
		/* next: the first reply, else the next sibling of this or of an
		 * ancestor */
		if (first[cur] >= 0) {
			stack[sp++] = cur;
			cur = first[cur];
			continue;
		}
		cur = next[cur];
		while (cur < 0 && sp > 0)
			cur = next[stack[--sp]];
	}
	if (prev >= 0)
		str_puts(o, "</li>\n");
	for (int d = prev; d > 0; d--)
		str_puts(o, "</ul>\n</li>\n");
	free(stack);
}

/* The names of page K of a unit: page-K.html and thread-K.html (the last
 * page is index.html and thread.html as well; an article links to the
 * numbered name, which never changes). */
static void page_names(long k, char *idx, char *thr, size_t size)
{
	snprintf(idx, size, "page-%ld.html", k);
	snprintf(thr, size, "thread-%ld.html", k);
}

/* Links to the other pages of the unit (THREADS: to their thread views):
 * the full pages before the last, and the last as "latest" (a full page is
 * written once, when it fills up, so its links never need to change). */
static void page_links(long k, long npages, int threads, int rev, str *o)
{
	char idx[64], thr[64];
	if (npages < 2)
		return;
	str_puts(o, "<nav aria-label=\"Pages\"><p>Pages:");
	for (long i = 1; i <= npages; i++) {
		long j = rev ? npages + 1 - i : i;
		page_names(j, idx, thr, sizeof idx);
		if (j == k && j == npages)
			str_puts(o, " <strong>latest</strong>");
		else if (j == k)
			str_printf(o, " <strong>%ld</strong>", j);
		else if (j == npages)
			str_printf(o, " <a href=\"%s\">latest</a>",
				   threads ? "thread.html" : "index.html");
		else
			str_printf(o, " <a href=\"%s\">%ld</a>", threads ? thr : idx, j);
	}
	str_puts(o, "</p></nav>\n");
}

/* The threads of A (sorted by number) as first-reply / next-sibling links
 * (FIRST, NEXT, -1 for none): a reply under its parent when the parent is
 * here, else under the first article of the same subject.  The first root,
 * or -1. */
static long thread_links(const arts *a, long *first, long *next)
{
	long *last = mem_reallocarray(NULL, a->n + 1, sizeof *last);
	str *subj = mem_reallocarray(NULL, a->n + 1, sizeof *subj);
	long root_first = -1, root_last = -1;
	for (size_t i = 0; i < a->n; i++) {
		first[i] = next[i] = last[i] = -1;
		str_init(&subj[i]);
		thread_subject(str_c(&a->v[i].subject), &subj[i]);
		long up = -1;
		if (a->v[i].parent) {
			art want = {.n = a->v[i].parent};
			art *p = bsearch(&want, a->v, i, sizeof *a->v, by_n);
			if (p)
				up = p - a->v;
		} else {
			for (size_t j = 0; j < i && up < 0; j++)
				if (subj[j].len && strcmp(subj[j].s, subj[i].s) == 0)
					up = (long)j;
		}
		long *tail = up < 0 ? &root_last : &last[up];
		if (*tail >= 0)
			next[*tail] = (long)i;
		else if (up < 0)
			root_first = (long)i;
		else
			first[up] = (long)i;
		*tail = (long)i;
	}
	for (size_t i = 0; i < a->n; i++)
		str_free(&subj[i]);
	free(subj);
	free(last);
	return root_first;
}

/* The top of a unit's page titled TITLE: head, the unit's nav with a link
 * to OTHER, the heading, the links to the unit's pages. */
static void unit_top(arch *A, const char *key, const char *title, const char *other,
		     const char *other_name, long k, long npages, int threads, int rev, str *o)
{
	page_head(o, title, "../");
	nav_unit(A, key, other, other_name, o);
	str_puts(o, "<main>\n<h1>");
	put_text(o, title);
	str_puts(o, "</h1>\n");
	page_links(k, npages, threads, rev, o);
}

/* O as DIR/NAME, and as DIR/LATEST too when it is the unit's last page */
static fml_status put_page(const char *dir, const char *name, const char *latest, int last,
			   const str *o)
{
	char path[PATH_MAX];
	fml_status st =
	    fs_path(path, sizeof path, "%s/%s", dir, name) == 0 ? put_str(path, o) : ST_TEMPFAIL;
	if (st == ST_OK && last)
		st = fs_path(path, sizeof path, "%s/%s", dir, latest) == 0 ? put_str(path, o)
									   : ST_TEMPFAIL;
	return st;
}

/* Page K of unit KEY (HTML_INDEX_PAGE articles each, in the order they came) of
 * NPAGES: its index and its thread view. */
static fml_status write_page(arch *A, const char *key, long k, long npages)
{
	char path[PATH_MAX], dir[PATH_MAX], idx[64], thr[64];
	arts a = {0};
	str o = STR_INIT, t = STR_INIT, ts = STR_INIT;
	if (fs_path(path, sizeof path, "%s/%s.%ld.meta", A->state, key, k) < 0 ||
	    fs_path(dir, sizeof dir, "%s/%s", A->root, key) < 0)
		return ST_TEMPFAIL;
	page_names(k, idx, thr, sizeof idx);
	meta_read(path, &a);
	fml_status st = mkdir_public(dir);
	int rev = (int)config_int(A->l->cf, CF_HTML_INDEX_REVERSE_ORDER);
	str_printf(&t, "%s %s", A->list, key);
	if (npages > 1)
		str_printf(&t, ", page %ld", k);
	unit_top(A, key, t.s, thr, "threads", k, npages, 0, rev, &o);
	str_puts(&o, "<table>\n<thead><tr><th scope=\"col\">#</th>"
		     "<th scope=\"col\">Subject</th><th scope=\"col\">From</th>"
		     "<th scope=\"col\">Date</th></tr></thead>\n<tbody>\n");
	for (size_t i = 0; i < a.n; i++)
		index_row(&a.v[rev ? a.n - 1 - i : i], &o);
	str_puts(&o, "</tbody>\n</table>\n</main>\n");
	page_tail(&o);
	if (st == ST_OK)
		st = put_page(dir, idx, "index.html", k == npages, &o);
	long *first = mem_reallocarray(NULL, a.n + 1, sizeof *first);
	long *next = mem_reallocarray(NULL, a.n + 1, sizeof *next);
	long root = thread_links(&a, first, next);
	str_clear(&o);
	str_printf(&ts, "%s: threads", t.s);
	unit_top(A, key, ts.s, idx, "by number", k, npages, 1, rev, &o);
	str_puts(&o, "<ul class=\"thread\">\n");
	thread_list(&a, first, next, root, &o);
	str_puts(&o, "</ul>\n</main>\n");
	page_tail(&o);
	if (st == ST_OK)
		st = put_page(dir, thr, "thread.html", k == npages, &o);
	free(first);
	free(next);
	arts_free(&a);
	str_free(&o);
	str_free(&t);
	str_free(&ts);
	return st;
}

/* units: "KEY COUNT" lines, in the order they began */
static fml_status count_unit(arch *A, const char *key, int add, long *before)
{
	char path[PATH_MAX];
	str s = STR_INIT, o = STR_INIT;
	if (fs_path(path, sizeof path, "%s/units", A->state) < 0)
		return ST_TEMPFAIL;
	fs_read(path, &s, (size_t)1 << 26);
	int found = 0;
	for (char *p = s.s; p && p < s.s + s.len;) {
		char *nl = memchr(p, '\n', (size_t)(s.s + s.len - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(s.s + s.len - p);
		size_t kl = strcspn(p, " \n");
		if (kl == strlen(key) && strncmp(p, key, kl) == 0) {
			*before = strtol(p + kl, NULL, 10);
			str_printf(&o, "%s %ld\n", key, *before + add);
			found = 1;
		} else if (l) {
			str_append(&o, p, l);
			str_putc(&o, '\n');
		}
		p += l + 1;
	}
	if (!found) {
		*before = 0;
		str_printf(&o, "%s %d\n", key, add);
	}
	fml_status st = add ? put_str(path, &o) : ST_OK;
	str_free(&s);
	str_free(&o);
	return st;
}

static fml_status write_top(arch *A)
{
	char path[PATH_MAX];
	str s = STR_INIT, o = STR_INIT, t = STR_INIT;
	if (fs_path(path, sizeof path, "%s/units", A->state) < 0)
		return ST_TEMPFAIL;
	fs_read(path, &s, (size_t)1 << 26);
	/* lines into an array, to be shown in either order */
	size_t n = 0;
	char **line = NULL;
	for (char *p = s.s; p && p < s.s + s.len;) {
		char *nl = memchr(p, '\n', (size_t)(s.s + s.len - p));
		if (!nl)
			break;
		*nl = 0;
		line = mem_reallocarray(line, n + 1, sizeof *line);
		line[n++] = p;
		p = nl + 1;
	}
	int rev = (int)config_int(A->l->cf, CF_HTML_INDEX_REVERSE_ORDER);
	str_printf(&t, "%s archive", A->list);
	page_head(&o, t.s, "");
	str_puts(&o, "<main>\n<h1>");
	put_text(&o, t.s);
	str_puts(&o, "</h1>\n<p><a href=\"atom.xml\">Atom feed</a></p>\n<ul>\n");
	for (size_t i = 0; i < n; i++) {
		char *l = line[rev ? n - 1 - i : i];
		size_t kl = strcspn(l, " ");
		str_printf(&o,
			   "<li><a href=\"%.*s/index.html\">%.*s</a> (%ld articles, <a "
			   "href=\"%.*s/thread.html\">threads</a>)</li>\n",
			   (int)kl, l, (int)kl, l, strtol(l + kl, NULL, 10), (int)kl, l);
	}
	str_puts(&o, "</ul>\n</main>\n");
	page_tail(&o);
	fml_status st = ST_TEMPFAIL;
	if (fs_path(path, sizeof path, "%s/index.html", A->root) == 0)
		st = put_str(path, &o);
	free(line);
	str_free(&s);
	str_free(&o);
	str_free(&t);
	return st;
}

static void rfc3339(long long t, str *o)
{
	put_time(t, 1, o);
}

/* feed: the meta lines of the last FEED_ENTRIES articles, and atom.xml */
static fml_status write_feed(arch *A, const arts *added)
{
	char path[PATH_MAX];
	arts a = {0};
	str o = STR_INIT;
	if (fs_path(path, sizeof path, "%s/feed", A->state) < 0)
		return ST_TEMPFAIL;
	meta_read(path, &a);
	for (size_t i = 0; i < added->n; i++) {
		art *x = arts_add(&a);
		x->n = added->v[i].n;
		x->t = added->v[i].t;
		x->parent = added->v[i].parent;
		str_set(&x->from, added->v[i].from.s, added->v[i].from.len);
		str_set(&x->subject, added->v[i].subject.s, added->v[i].subject.len);
	}
	long long limit = config_int(A->l->cf, CF_HTML_EXPIRE_LIMIT);
	size_t from = a.n > FEED_ENTRIES ? a.n - FEED_ENTRIES : 0;
	while (limit > 0 && from < a.n && a.v[from].t < (long long)A->l->now - limit)
		from++; /* expired: its page is gone */
	for (size_t i = from; i < a.n; i++)
		meta_line(&a.v[i], &o);
	fml_status st = put_str(path, &o);
	str_clear(&o);
	const char *dom = config_str(A->l->cf, CF_DOMAINNAME);
	str_puts(&o, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
		     "<feed xmlns=\"http://www.w3.org/2005/Atom\">\n<title>");
	put_text(&o, A->list);
	str_puts(&o, "</title>\n<id>tag:");
	put_text(&o, dom);
	str_puts(&o, ",2000:");
	put_text(&o, A->list);
	str_puts(&o, "</id>\n<updated>");
	rfc3339(a.n ? a.v[a.n - 1].t : 0, &o);
	str_puts(&o, "</updated>\n<link rel=\"alternate\" href=\"index.html\"/>\n");
	for (size_t i = a.n; i-- > from;) {
		const art *x = &a.v[i];
		str_puts(&o, "<entry>\n<title>");
		put_text(&o, str_c(&x->subject));
		str_puts(&o, "</title>\n<id>tag:");
		put_text(&o, dom);
		str_printf(&o, ",2000:");
		put_text(&o, A->list);
		str_printf(&o,
			   "/%ld</id>\n<link rel=\"alternate\" href=\"a/%ld.html\"/>\n<updated>",
			   x->n, x->n);
		rfc3339(x->t, &o);
		str_puts(&o, "</updated>\n<author><name>");
		put_text(&o, str_c(&x->from));
		str_puts(&o, "</name></author>\n</entry>\n");
	}
	str_puts(&o, "</feed>\n");
	if (st == ST_OK && fs_path(path, sizeof path, "%s/atom.xml", A->root) == 0)
		st = put_str(path, &o);
	arts_free(&a);
	str_free(&o);
	return st;
}

/* ---- the run */

static fml_status one(arch *A, article_store *as, long n, int has_next, int filed, art *a)
{
	int fd = -1;
	off_t size = 0;
	fml_status st = article_open(as, n, &fd, &size);
	if (st != ST_OK)
		return st; /* ST_NOINPUT: a number with no article (removed by hand) */
	st = render_article(A, n, fd, size, has_next, filed, a, NULL);
	close(fd);
	return st;
}

static void touch(arch *A, const char *key)
{
	for (const char *p = str_c(&A->touched); p < str_c(&A->touched) + A->touched.len;
	     p += strlen(p) + 1)
		if (strcmp(p, key) == 0)
			return;
	str_append(&A->touched, key, strlen(key) + 1);
}

/* Is article N among the lines of PATH? */
static int meta_has(const char *path, long n)
{
	arts a = {0};
	meta_read(path, &a);
	art k = {.n = n};
	int has = bsearch(&k, a.v, a.n, sizeof *a.v, by_n) != NULL;
	arts_free(&a);
	return has;
}

/* Article A into unit KEY: a line of the unit's last page (a page that
 * fills up is written as it is, once), the unit's count, the unit marked
 * for its pages.  An article filed already (a run after a crash) is not
 * counted twice. */
static fml_status file_article(arch *A, const char *key, const art *a)
{
	char path[PATH_MAX];
	long before;
	if (count_unit(A, key, 0, &before) != ST_OK)
		return ST_TEMPFAIL;
	long k = before ? (before - 1) / page_size(A) + 1 : 1; /* the last page so far */
	if (fs_path(path, sizeof path, "%s/%s.%ld.meta", A->state, key, k) < 0)
		return ST_TEMPFAIL;
	if (before && meta_has(path, a->n)) {
		touch(A, key);
		return ST_OK;
	}
	fml_status st = ST_OK;
	if (before && before % page_size(A) == 0) { /* page K is full: for good */
		st = write_page(A, key, k, k + 1);
		k++;
		if (st == ST_OK &&
		    fs_path(path, sizeof path, "%s/%s.%ld.meta", A->state, key, k) < 0)
			st = ST_TEMPFAIL;
	}
	str line = STR_INIT;
	meta_line(a, &line);
	if (st == ST_OK && (fs_append_line(path, line.s, line.len) != ST_OK ||
			    count_unit(A, key, 1, &before) != ST_OK))
		st = ST_TEMPFAIL;
	str_free(&line);
	touch(A, key);
	return st;
}

/* The last page of unit KEY */
static fml_status write_unit(arch *A, const char *key)
{
	long count;
	if (count_unit(A, key, 0, &count) != ST_OK)
		return ST_TEMPFAIL;
	long npages = count ? (count - 1) / page_size(A) + 1 : 1;
	return write_page(A, key, npages, npages);
}

/* HTML_EXPIRE_LIMIT: the oldest units whose newest article is older than
 * the limit removed, pages, parts and state (only from the oldest on, so
 * that a post costs no look at every unit).  1 when one was. */
static int expire(arch *A)
{
	long long limit = config_int(A->l->cf, CF_HTML_EXPIRE_LIMIT);
	char path[PATH_MAX], key[64];
	int removed = 0;
	for (int again = limit > 0; again;) {
		str s = STR_INIT;
		again = 0;
		if (fs_path(path, sizeof path, "%s/units", A->state) < 0 ||
		    fs_read(path, &s, (size_t)1 << 26) != ST_OK || !s.len) {
			str_free(&s);
			break;
		}
		size_t kl = strcspn(s.s, " \n");
		snprintf(key, sizeof key, "%.*s", (int)(kl < sizeof key ? kl : sizeof key - 1),
			 s.s);
		long count = strtol(s.s + kl, NULL, 10);
		long npages = count ? (count - 1) / page_size(A) + 1 : 1;
		arts a = {0};
		long long newest = 0;
		if (fs_path(path, sizeof path, "%s/%s.%ld.meta", A->state, key, npages) == 0)
			meta_read(path, &a);
		size_t had = a.n;
		for (size_t i = 0; i < a.n; i++)
			newest = a.v[i].t > newest ? a.v[i].t : newest;
		arts_free(&a);
		if (had == 0 || newest >= (long long)A->l->now - limit) {
			str_free(&s);
			break;
		}
		for (long k = 1; k <= npages; k++) {
			if (fs_path(path, sizeof path, "%s/%s.%ld.meta", A->state, key, k) < 0)
				continue;
			meta_read(path, &a);
			for (size_t i = 0; i < a.n; i++) {
				char p[PATH_MAX];
				if (fs_path(p, sizeof p, "%s/a/%ld.html", A->root, a.v[i].n) == 0)
					unlink(p);
				if (fs_path(p, sizeof p, "%s/a/%ld", A->root, a.v[i].n) == 0)
					remove_tree(p);
			}
			arts_free(&a);
			unlink(path);
		}
		if (fs_path(path, sizeof path, "%s/%s", A->root, key) == 0)
			remove_tree(path);
		/* the units without it */
		const char *rest = memchr(s.s, '\n', s.len);
		str r = STR_INIT;
		if (rest)
			str_append(&r, rest + 1, s.len - (size_t)(rest + 1 - s.s));
		if (fs_path(path, sizeof path, "%s/units", A->state) == 0 &&
		    put_str(path, &r) == ST_OK) {
			msg_info("html archive: unit %s expired (HTML_EXPIRE_LIMIT)", key);
			removed = again = 1;
		}
		str_free(&r);
		str_free(&s);
	}
	return removed;
}

/* The pages the articles since the last checkpoint changed (units, feed,
 * top index), then DONE recorded: a crash before it makes them again. */
static fml_status checkpoint(arch *A, arts *added, long done)
{
	char path[PATH_MAX];
	fml_status st = ST_OK;
	for (const char *p = str_c(&A->touched);
	     st == ST_OK && p < str_c(&A->touched) + A->touched.len; p += strlen(p) + 1)
		st = write_unit(A, p);
	str_clear(&A->touched);
	int gone = st == ST_OK && expire(A);
	if (st == ST_OK && added->n)
		st = write_feed(A, added);
	if (st == ST_OK && (added->n || gone))
		st = write_top(A);
	arts_free(added);
	str s = STR_INIT;
	str_printf(&s, "%ld\n", done);
	if (st == ST_OK && fs_path(path, sizeof path, "%s/done", A->state) == 0)
		st = put_str(path, &s);
	str_free(&s);
	return st;
}

/* Articles DONE+1 .. A->seq into the archive; *DONE raised as they are
 * recorded (every CHECKPOINT articles and at the end). */
static fml_status run(arch *A, long *done)
{
	char key[64];
	article_store as;
	arts added = {0};
	fml_status st = ST_OK;
	article_store_init(&as, config_str(A->l->cf, CF_SPOOL_DIR),
			   config_str(A->l->cf, CF_ARCHIVE_DIR));
	/* the page before the first new one gets its "next" link */
	if (*done > 0 && *done < A->seq) {
		art prev = {0};
		str_init(&prev.from);
		str_init(&prev.subject);
		if (one(A, &as, *done, 1, 1, &prev) == ST_TEMPFAIL)
			st = ST_TEMPFAIL;
		str_free(&prev.from);
		str_free(&prev.subject);
	}
	for (long n = *done + 1; n <= A->seq && st == ST_OK; n++) {
		art *a = arts_add(&added);
		fml_status r = one(A, &as, n, n < A->seq, 0, a);
		if (r == ST_NOINPUT) { /* a number with no article: nothing to show */
			str_free(&a->from);
			str_free(&a->subject);
			added.n--;
		} else if (r != ST_OK) {
			st = r;
		} else {
			unit_key(A->l->cf, n, a->t, key, sizeof key);
			st = file_article(A, key, a);
		}
		if (added.n > FEED_ENTRIES) { /* the feed takes the last ones only */
			str_free(&added.v[0].from);
			str_free(&added.v[0].subject);
			memmove(added.v, added.v + 1, (added.n - 1) * sizeof *added.v);
			added.n--;
		}
		if (st == ST_OK && (n % CHECKPOINT == 0 || n == A->seq)) {
			st = checkpoint(A, &added, n);
			if (st == ST_OK)
				*done = n;
		}
	}
	arts_free(&added);
	article_store_free(&as);
	return st;
}

/* Is DIR missing, empty, or an archive (its archive.css)? */
static int ours(const char *dir)
{
	char css_path[PATH_MAX];
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n == 0 || (fs_path(css_path, sizeof css_path, "%s/archive.css", dir) == 0 &&
			  fs_exists(css_path));
}

static fml_status open_arch(arch *A, list_ctx *l, const char *root, const char *state)
{
	memset(A, 0, sizeof *A);
	A->l = l;
	A->list = home_name(l->dir);
	snprintf(A->root, sizeof A->root, "%s", root);
	snprintf(A->state, sizeof A->state, "%s", state);
	char path[PATH_MAX];
	str_init(&A->touched);
	if (!ours(root)) { /* never written into: HTML_ARCHIVE_DIR is wrong */
		msg_error("html archive: %s holds files that are not an HTML archive of fml "
			  "(no archive.css): not written (HTML_ARCHIVE_DIR?)",
			  root);
		return ST_DATAERR;
	}
	if (fs_mkdirs(A->state, 0700) != ST_OK || mkdir_public(A->root) != ST_OK ||
	    fs_path(path, sizeof path, "%s/archive.css", A->root) < 0 ||
	    (!fs_exists(path) && put_file(path, css, sizeof css - 1) != ST_OK) ||
	    fs_path(path, sizeof path, "%s/a", A->root) < 0 || mkdir_public(path) != ST_OK)
		return ST_TEMPFAIL;
	if (fs_path(path, sizeof path, "%s/msgid.db", A->state) == 0)
		A->ids = cachedb_open(path, 0, l->now, "the HTML archive's Message-ID cache");
	return ST_OK;
}

static void close_arch(arch *A)
{
	cachedb_close(A->ids);
	A->ids = NULL;
	str_free(&A->touched);
}

/* The archive's lock, var/db/html.lock: an fd, -1 when another holds it
 * (WAIT 0) or on trouble. */
static int lock_arch(const char *dir, int wait)
{
	char path[PATH_MAX];
	if (fs_path(path, sizeof path, "%s/var/db/html.lock", dir) < 0)
		return -1;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd >= 0 && flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

fml_status htmlarch_update(list_ctx *l)
{
	if (!config_int(l->cf, CF_HTML_ARCHIVE))
		return ST_OK;
	int lk = lock_arch(l->dir, 0);
	if (lk < 0)
		return ST_OK; /* the holder goes on until the archive is up to date */
	char state[PATH_MAX], path[PATH_MAX];
	arch A;
	fml_status st = ST_TEMPFAIL;
	if (fs_path(state, sizeof state, "%s/var/db/html", l->dir) == 0 &&
	    (st = open_arch(&A, l, config_str(l->cf, CF_HTML_ARCHIVE_DIR), state)) == ST_OK) {
		/* posts that came while this run worked are this run's too */
		for (;;) {
			fs_path(path, sizeof path, "%s/done", state);
			long done = read_long(path);
			A.seq = seq_last(l->dir);
			if (done >= A.seq || st != ST_OK)
				break;
			st = run(&A, &done);
		}
		close_arch(&A);
	}
	close(lk);
	return st;
}

fml_status htmlarch_rebuild(list_ctx *l, long *n)
{
	*n = 0;
	int lk = lock_arch(l->dir, 1);
	if (lk < 0)
		return ST_TEMPFAIL;
	const char *root = config_str(l->cf, CF_HTML_ARCHIVE_DIR);
	char state[PATH_MAX], nroot[PATH_MAX], nstate[PATH_MAX], old[PATH_MAX];
	arch A;
	fml_status st = ST_TEMPFAIL;
	if (fs_path(state, sizeof state, "%s/var/db/html", l->dir) < 0 ||
	    fs_path(nroot, sizeof nroot, "%s.new", root) < 0 ||
	    fs_path(nstate, sizeof nstate, "%s.new", state) < 0 ||
	    fs_path(old, sizeof old, "%s.old", root) < 0) {
		close(lk);
		return ST_TEMPFAIL;
	}
	/* a tree this module did not make is never moved nor removed */
	if (!ours(root) || !ours(nroot) || !ours(old)) {
		msg_error("html archive: %s (or .new, .old) holds files that are not an HTML "
			  "archive of fml: not rebuilt (HTML_ARCHIVE_DIR?)",
			  root);
		close(lk);
		return ST_DATAERR;
	}
	remove_tree(nroot);
	remove_tree(nstate);
	if ((st = open_arch(&A, l, nroot, nstate)) == ST_OK) {
		long done = 0;
		A.seq = seq_last(l->dir);
		st = run(&A, &done);
		*n = done;
	}
	close_arch(&A);
	/* swapped in: the old tree goes once the new one is in its place */
	if (st == ST_OK) {
		remove_tree(old);
		if ((rename(root, old) < 0 && errno != ENOENT) || rename(nroot, root) < 0) {
			msg_error("html archive: cannot move %s into place: %m", nroot);
			st = ST_TEMPFAIL;
		}
		remove_tree(old);
		remove_tree(state);
		if (st == ST_OK && rename(nstate, state) < 0)
			st = ST_TEMPFAIL;
	}
	close(lk);
	return st;
}

fml_status htmlarch_page(list_ctx *l, const char *root, long n, int fd, off_t size, str *page)
{
	arch A;
	art a = {0};
	str_init(&a.from);
	str_init(&a.subject);
	memset(&A, 0, sizeof A);
	A.l = l;
	A.list = home_name(l->dir);
	snprintf(A.root, sizeof A.root, "%s", root);
	snprintf(A.state, sizeof A.state, "%s", root);
	char path[PATH_MAX];
	fml_status st =
	    fs_path(path, sizeof path, "%s/a", root) == 0 ? mkdir_public(path) : ST_TEMPFAIL;
	if (st == ST_OK)
		st = render_article(&A, n, fd, size, 0, 0, &a, page);
	str_free(&a.from);
	str_free(&a.subject);
	return st;
}
