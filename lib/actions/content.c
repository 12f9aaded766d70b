/*
 * content: content rules and decoration on the MIME structure.  See
 * content.h.  Failure policy: I/O trouble and a CONTENT_HANDLER that does
 * not parse are ST_TEMPFAIL (the post waits); a mail GMime cannot make
 * sense of is judged as the single part it then is; a text whose charset
 * cannot be read exactly is never re-encoded (it is wrapped instead).
 */
#include "content.h"
#include "contentrule.h"
#include "mail/html2text.h"
#include "mail/mimetext.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/sha256.h"

#include <errno.h>
#include <gmime/gmime.h>
#include <magic.h>
#include <string.h>
#include <unistd.h>

#define MAGIC_BYTES 65536 /* decoded bytes of a leaf that libmagic sees */

typedef struct walk {
	const config *cf;
	contentrule_set rules;
	char bodytype[128];
	int html; /* 0 allow, 1 strip, 2 reject */
	long long max_parts, max_depth, max_size;
	int parts;
	int frozen; /* inside a signed or encrypted part */
	int changed, reject;
	content_result *r;
} walk;

/* The magic database: loaded once per process, on the first leaf that
 * needs it; NULL (logged) when it cannot be, and parts are then judged by
 * their declared type alone. */
static magic_t magic_db(void)
{
	static magic_t m;
	static int tried;
	if (!tried) {
		tried = 1;
		m = magic_open(MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS | MAGIC_NO_CHECK_TAR);
		if (m && magic_load(m, NULL) != 0) {
			msg_warn("libmagic: %s: parts are judged by their declared type only",
				 magic_error(m));
			magic_close(m);
			m = NULL;
		}
	}
	return m;
}

static char *lower_type(GMimeObject *o)
{
	GMimeContentType *ct = g_mime_object_get_content_type(o);
	char *t = ct ? g_mime_content_type_get_mime_type(ct) : g_strdup("text/plain");
	for (char *p = t; *p; p++)
		*p = g_ascii_tolower(*p);
	return t;
}

/* The decoded content of leaf P as a stream (unref it), at its start. */
static GMimeStream *decoded(GMimePart *p)
{
	GMimeDataWrapper *w = g_mime_part_get_content(p);
	if (!w)
		return NULL;
	GMimeStream *raw = g_mime_data_wrapper_get_stream(w);
	g_mime_stream_reset(raw);
	GMimeStream *f = g_mime_stream_filter_new(raw);
	GMimeContentEncoding enc = g_mime_data_wrapper_get_encoding(w);
	if (enc == GMIME_CONTENT_ENCODING_BASE64 || enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ||
	    enc == GMIME_CONTENT_ENCODING_UUENCODE) {
		GMimeFilter *d = g_mime_filter_basic_new(enc, FALSE);
		g_mime_stream_filter_add(GMIME_STREAM_FILTER(f), d);
		g_object_unref(d);
	}
	return f;
}

/* Decoded size of leaf P; its first CAP bytes into HEAD (when HEAD). */
static long long leaf_read(GMimePart *p, str *head, size_t cap)
{
	GMimeStream *s = decoded(p);
	long long total = 0;
	if (!s)
		return 0;
	char buf[16384];
	ssize_t n;
	while ((n = g_mime_stream_read(s, buf, sizeof buf)) > 0) {
		if (head && head->len < cap)
			str_append(head, buf,
				   (size_t)n < cap - head->len ? (size_t)n : cap - head->len);
		total += n;
	}
	g_object_unref(s);
	g_mime_stream_reset(g_mime_data_wrapper_get_stream(g_mime_part_get_content(p)));
	return total;
}

/* A line of what was removed, for the poster's notice. */
static void note(walk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(walk *w, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	str_vprintf(&w->r->report, fmt, ap);
	va_end(ap);
	str_putc(&w->r->report, '\n');
	w->r->tell = 1;
}

static void refuse(walk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void refuse(walk *w, const char *fmt, ...)
{
	if (w->reject)
		return;
	va_list ap;
	va_start(ap, fmt);
	str_clear(&w->r->report); /* the reason is all the poster needs */
	str_vprintf(&w->r->report, fmt, ap);
	va_end(ap);
	str_putc(&w->r->report, '\n');
	w->r->tell = 1;
	w->reject = 1;
}

/* A text/plain part holding UTF-8 TEXT, 7bit-safe. */
static GMimeObject *text_part(const char *text)
{
	GMimeTextPart *tp = g_mime_text_part_new_with_subtype("plain");
	g_mime_text_part_set_text(tp, text);
	g_mime_part_set_content_encoding(
	    GMIME_PART(tp),
	    g_mime_part_get_best_content_encoding(GMIME_PART(tp), GMIME_ENCODING_CONSTRAINT_7BIT));
	return GMIME_OBJECT(tp);
}

static const char *part_name(GMimePart *p)
{
	const char *n = g_mime_part_get_filename(p);
	return n && *n ? n : "(no name)";
}

enum { KEEP, REMOVE, REPLACE, KEEP_MULTIPART };

/* One leaf: judged, then kept, removed or replaced (*REPL). */
static int leaf(walk *w, GMimePart *p, GMimeObject **repl)
{
	char *type = lower_type(GMIME_OBJECT(p));
	int text = strncmp(type, "text/", 5) == 0;
	str head = STR_INIT;
	const char *magic_type = NULL;
	long long size = leaf_read(p, text ? NULL : &head, MAGIC_BYTES);
	if (!text) {
		magic_t m = magic_db();
		magic_type = m ? magic_buffer(m, head.s ? head.s : "", head.len) : NULL;
		/* nothing known: the declared type is all there is */
		if (magic_type && (strcmp(magic_type, "application/octet-stream") == 0 ||
				   strcmp(magic_type, "application/x-empty") == 0 ||
				   strcmp(magic_type, type) == 0))
			magic_type = NULL;
	}
	str_free(&head);
	int ret = KEEP;
	if (w->max_size > 0 && size > w->max_size) {
		refuse(w,
		       "a part (%s, %s) is %lld bytes; the list takes parts of at most %lld bytes",
		       part_name(p), type, size, w->max_size);
		goto out;
	}
	content_action a1, a2 = CA_ALLOW;
	int m1 = contentrule_match(&w->rules, w->bodytype, type, &a1), m2 = 0;
	if (magic_type)
		m2 = contentrule_match(&w->rules, w->bodytype, magic_type, &a2);
	content_action act = a2 > a1 ? a2 : a1;
	if (m1 || m2)
		msg_info("content: part %s, declared %s%s%s: rule for %s: %s", part_name(p), type,
			 magic_type ? ", libmagic " : "", magic_type ? magic_type : "",
			 a2 > a1 ? magic_type : type, contentrule_action_name(act));
	if (act == CA_ALLOW && strcmp(type, "text/html") == 0 && w->html) {
		if (w->html == 2) {
			refuse(w, "the mail is HTML without a plain text version; the list takes "
				  "plain text");
			goto out;
		}
		if (w->frozen) {
			refuse(w, "the mail is signed or encrypted and holds HTML, which the list "
				  "does not carry; it cannot be changed without breaking it");
			goto out;
		}
		char *html = g_mime_text_part_get_text(GMIME_TEXT_PART(p));
		str t = STR_INIT;
		html2text(html ? html : "", html ? strlen(html) : 0, &t);
		g_free(html);
		*repl = text_part(str_c(&t));
		str_free(&t);
		msg_info("content: HTML part %s turned into text", part_name(p));
		ret = REPLACE;
		goto out;
	}
	if (act == CA_REJECT) {
		refuse(w, "a part of type %s%s%s (%s) is not carried by this list",
		       a2 > a1 ? magic_type : type, a2 > a1 ? ", sent as " : "",
		       a2 > a1 ? type : "", part_name(p));
		goto out;
	}
	if ((act == CA_STRIP || act == CA_STRIP_NOTICE) && w->frozen) {
		refuse(w,
		       "the mail is signed or encrypted and holds a part of type %s (%s), which "
		       "the list does not carry; it cannot be changed without breaking it",
		       a2 > a1 ? magic_type : type, part_name(p));
		goto out;
	}
	if (act == CA_STRIP || act == CA_STRIP_NOTICE) {
		note(w, "removed: %s, %s%s%s%s, %lld bytes", part_name(p), type,
		     magic_type ? " (libmagic: " : "", magic_type ? magic_type : "",
		     magic_type ? ")" : "", size);
		if (act == CA_STRIP_NOTICE) {
			char *t =
			    g_strdup_printf("[The list removed an attachment here: %s, %s, %lld "
					    "bytes.]\n",
					    part_name(p), a2 > a1 ? magic_type : type, size);
			*repl = text_part(t);
			g_free(t);
			ret = REPLACE;
		} else {
			ret = REMOVE;
		}
		goto out;
	}
	if (act == CA_ALLOW_MULTIPART)
		ret = KEEP_MULTIPART;
out:
	g_free(type);
	return ret;
}

static int is_frozen(GMimeObject *o)
{
	return GMIME_IS_MULTIPART_SIGNED(o) || GMIME_IS_MULTIPART_ENCRYPTED(o) ||
	       GMIME_IS_APPLICATION_PKCS7_MIME(o);
}

static int obj(walk *w, GMimeObject *o, int depth, GMimeObject **repl);

static int multipart(walk *w, GMimeMultipart *mp, int depth, GMimeObject **repl)
{
	int removed = 0, keep = 0;
	char *type = lower_type(GMIME_OBJECT(mp));
	/* HTML not carried: the text/plain of an alternative is the mail */
	if (w->html && !w->frozen && strcmp(type, "multipart/alternative") == 0) {
		int plain = 0;
		for (int i = 0; i < g_mime_multipart_get_count(mp); i++) {
			char *t = lower_type(g_mime_multipart_get_part(mp, i));
			plain |= strcmp(t, "text/plain") == 0;
			g_free(t);
		}
		for (int i = g_mime_multipart_get_count(mp) - 1; plain && i >= 0; i--) {
			char *t = lower_type(g_mime_multipart_get_part(mp, i));
			if (strcmp(t, "text/plain") != 0) {
				g_object_unref(g_mime_multipart_remove_at(mp, i));
				removed++;
				msg_info(
				    "content: %s alternative removed (HTML_MAIL_DEFAULT_HANDLER)",
				    t);
			}
			g_free(t);
		}
	}
	g_free(type);
	for (int i = g_mime_multipart_get_count(mp) - 1; i >= 0 && !w->reject; i--) {
		GMimeObject *rep = NULL;
		int r = obj(w, g_mime_multipart_get_part(mp, i), depth + 1, &rep);
		if (r == REMOVE) {
			g_object_unref(g_mime_multipart_remove_at(mp, i));
			removed++;
		} else if (r == REPLACE) {
			g_object_unref(g_mime_multipart_replace(mp, i, rep));
			g_object_unref(rep);
			w->changed = 1;
		} else if (r == KEEP_MULTIPART) {
			keep = 1;
		}
	}
	if (w->reject || !removed)
		return keep ? KEEP_MULTIPART : KEEP;
	w->changed = 1;
	int left = g_mime_multipart_get_count(mp);
	if (left == 0)
		return REMOVE;
	if (left == 1 && !keep) {
		*repl = g_object_ref(g_mime_multipart_get_part(mp, 0));
		return REPLACE;
	}
	return KEEP;
}

static int obj(walk *w, GMimeObject *o, int depth, GMimeObject **repl)
{
	if (++w->parts > w->max_parts && w->max_parts > 0) {
		refuse(w, "the mail has more than %lld MIME parts; the list takes at most %lld",
		       w->max_parts, w->max_parts);
		return KEEP;
	}
	if (w->max_depth > 0 && depth > w->max_depth) {
		refuse(
		    w,
		    "the mail's MIME parts nest more than %lld deep; the list takes at most %lld",
		    w->max_depth, w->max_depth);
		return KEEP;
	}
	int frozen = is_frozen(o);
	w->frozen += frozen;
	int r = KEEP;
	if (GMIME_IS_MULTIPART(o)) {
		r = multipart(w, GMIME_MULTIPART(o), depth, repl);
	} else if (GMIME_IS_MESSAGE_PART(o)) {
		GMimeMessage *msg = g_mime_message_part_get_message(GMIME_MESSAGE_PART(o));
		GMimeObject *in = msg ? g_mime_message_get_mime_part(msg) : NULL;
		content_action act;
		char *type = lower_type(o);
		contentrule_match(&w->rules, w->bodytype, type, &act);
		if (act == CA_REJECT) {
			refuse(w, "a part of type %s is not carried by this list", type);
		} else if (act == CA_STRIP || act == CA_STRIP_NOTICE) {
			note(w, "removed: a forwarded message (%s)", type);
			r = REMOVE;
		} else if (in) {
			GMimeObject *rep = NULL;
			int ri = obj(w, in, depth + 1, &rep);
			if (ri == REMOVE) {
				r = REMOVE;
			} else if (ri == REPLACE) {
				g_mime_message_set_mime_part(msg, rep);
				g_object_unref(rep);
				w->changed = 1;
			}
		}
		g_free(type);
	} else if (GMIME_IS_PART(o)) {
		r = leaf(w, GMIME_PART(o), repl);
		if (r == REMOVE || r == REPLACE)
			w->changed = 1;
	}
	w->frozen -= frozen;
	return r;
}

/* "\n" in a configured text is a line break; the text ends with one. */
static char *config_text(const config *cf, int var)
{
	const char *v = config_str(cf, var);
	if (!*v)
		return NULL;
	str s = STR_INIT;
	for (; *v; v++) {
		if (v[0] == '\\' && v[1] == 'n') {
			str_putc(&s, '\n');
			v++;
		} else {
			str_putc(&s, (unsigned char)*v);
		}
	}
	if (s.len && s.s[s.len - 1] != '\n')
		str_putc(&s, '\n');
	char *r = g_strdup(str_c(&s));
	str_free(&s);
	return r;
}

/* A text/plain leaf decoded, extended and encoded again: in its own
 * charset when it holds the text, else UTF-8; its transfer encoding, or
 * quoted-printable when 7bit cannot carry it.  0 when its text cannot be
 * read exactly in its charset (the caller wraps it instead). */
static int decorate_text(GMimePart *p, const char *pre, const char *post)
{
	const char *cs = g_mime_object_get_content_type_parameter(GMIME_OBJECT(p), "charset");
	if (!cs || !*cs)
		cs = "us-ascii";
	str raw = STR_INIT;
	GMimeStream *s = decoded(p);
	char buf[16384];
	ssize_t n;
	while (s && (n = g_mime_stream_read(s, buf, sizeof buf)) > 0)
		str_append(&raw, buf, (size_t)n);
	if (s)
		g_object_unref(s);
	g_mime_stream_reset(g_mime_data_wrapper_get_stream(g_mime_part_get_content(p)));
	gsize got = 0;
	GError *err = NULL;
	char *text = g_convert(raw.s ? raw.s : "", (gssize)raw.len, "UTF-8", cs, NULL, &got, &err);
	str_free(&raw);
	if (!text) {
		msg_info("content: the body's charset %s cannot be read exactly (%s): wrapped", cs,
			 err ? err->message : "?");
		g_clear_error(&err);
		return 0;
	}
	str all = STR_INIT;
	if (pre) {
		str_puts(&all, pre);
		str_putc(&all, '\n');
	}
	str_append(&all, text, got);
	if (got && text[got - 1] != '\n')
		str_putc(&all, '\n');
	if (post) {
		str_putc(&all, '\n');
		str_puts(&all, post);
	}
	g_free(text);
	const char *out_cs = cs;
	char *bytes = g_convert(all.s, (gssize)all.len, cs, "UTF-8", NULL, &got, NULL);
	if (!bytes) {
		out_cs = "utf-8";
		bytes = g_strndup(all.s, all.len);
		got = all.len;
	}
	str_free(&all);
	GMimeContentEncoding enc = g_mime_part_get_content_encoding(p);
	int eight = 0;
	for (gsize i = 0; i < got; i++)
		eight |= (unsigned char)bytes[i] >= 0x80;
	if (eight && (enc == GMIME_CONTENT_ENCODING_DEFAULT || enc == GMIME_CONTENT_ENCODING_7BIT))
		g_mime_part_set_content_encoding(p, GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
	GMimeStream *ms = g_mime_stream_mem_new_with_buffer(bytes, got);
	g_free(bytes);
	GMimeDataWrapper *dw =
	    g_mime_data_wrapper_new_with_stream(ms, GMIME_CONTENT_ENCODING_DEFAULT);
	g_mime_part_set_content(p, dw);
	g_object_unref(dw);
	g_object_unref(ms);
	if (out_cs != cs || !g_mime_object_get_content_type_parameter(GMIME_OBJECT(p), "charset"))
		g_mime_object_set_content_type_parameter(GMIME_OBJECT(p), "charset", out_cs);
	return 1;
}

/* The boundary of a multipart fml makes: from the mail's checksum, so the
 * same post gives the same article. */
static void set_boundary(GMimeMultipart *mp, const char *sha)
{
	char b[64];
	snprintf(b, sizeof b, "=_fml_%.24s", sha);
	g_mime_multipart_set_boundary(mp, b);
}

static void decorate(walk *w, GMimeMessage *msg, const char *sha)
{
	char *pre = config_text(w->cf, CF_PREAMBLE_MAILBODY);
	char *post = config_text(w->cf, CF_TRAILER_MAILBODY);
	GMimeObject *top = g_mime_message_get_mime_part(msg);
	if ((!pre && !post) || !top) {
		/* nothing to add */
	} else if (is_frozen(top)) {
		msg_info("content: signed or encrypted mail: no preamble or trailer");
	} else {
		char *type = lower_type(top);
		if (strcmp(type, "text/plain") == 0 && GMIME_IS_PART(top) &&
		    decorate_text(GMIME_PART(top), pre, post)) {
			w->changed = 1;
		} else if (strcmp(type, "multipart/mixed") == 0) {
			/* the multipart takes its own reference */
			if (pre) {
				GMimeObject *t = text_part(pre);
				g_mime_multipart_insert(GMIME_MULTIPART(top), 0, t);
				g_object_unref(t);
			}
			if (post) {
				GMimeObject *t = text_part(post);
				g_mime_multipart_add(GMIME_MULTIPART(top), t);
				g_object_unref(t);
			}
			w->changed = 1;
		} else {
			GMimeMultipart *mixed = g_mime_multipart_new_with_subtype("mixed");
			set_boundary(mixed, sha);
			if (pre) {
				GMimeObject *t = text_part(pre);
				g_mime_multipart_add(mixed, t);
				g_object_unref(t);
			}
			g_mime_multipart_add(mixed, top);
			if (post) {
				GMimeObject *t = text_part(post);
				g_mime_multipart_add(mixed, t);
				g_object_unref(t);
			}
			g_mime_message_set_mime_part(msg, GMIME_OBJECT(mixed));
			g_object_unref(mixed);
			w->changed = 1;
		}
		g_free(type);
	}
	g_free(pre);
	g_free(post);
}

static fml_status apply(const config *cf, GMimeStream *in, const char *sha, content_result *r)
{
	walk w;
	memset(&w, 0, sizeof w);
	w.cf = cf;
	w.r = r;
	r->verdict = CONTENT_KEEP;
	str err = STR_INIT;
	if (contentrule_parse(config_str(cf, CF_CONTENT_HANDLER), &w.rules, &err) < 0) {
		msg_error("%s", str_c(&err));
		str_free(&err);
		return ST_TEMPFAIL;
	}
	const char *h = config_str(cf, CF_HTML_MAIL_DEFAULT_HANDLER);
	w.html = strcmp(h, "strip") == 0 ? 1 : strcmp(h, "reject") == 0 ? 2 : 0;
	w.max_parts = config_int(cf, CF_CONTENT_MAX_PARTS);
	w.max_depth = config_int(cf, CF_CONTENT_MAX_DEPTH);
	w.max_size = config_int(cf, CF_CONTENT_MAX_PART_SIZE);

	mimetext_init();
	GMimeParser *parser = g_mime_parser_new_with_stream(in);
	GMimeMessage *msg = g_mime_parser_construct_message(parser, NULL);
	g_object_unref(parser);
	GMimeObject *top = msg ? g_mime_message_get_mime_part(msg) : NULL;
	if (!top) {
		if (msg)
			g_object_unref(msg);
		contentrule_free(&w.rules);
		return ST_OK; /* nothing GMime can see: goes as it came */
	}
	char *type = lower_type(top);
	if (g_mime_object_get_header(GMIME_OBJECT(msg), "MIME-Version"))
		snprintf(w.bodytype, sizeof w.bodytype, "%s", type);
	else
		snprintf(w.bodytype, sizeof w.bodytype, "!mime");
	g_free(type);

	GMimeObject *rep = NULL;
	int res = obj(&w, top, 1, &rep);
	if (!w.reject && res == REMOVE)
		refuse(&w, "nothing the list carries is left of the mail");
	if (!w.reject && res == REPLACE) {
		g_mime_message_set_mime_part(msg, rep);
		g_object_unref(rep);
	}
	if (!w.reject)
		decorate(&w, msg, sha);
	if (w.reject) {
		r->verdict = CONTENT_REJECT;
	} else if (w.changed) {
		r->verdict = CONTENT_CHANGED;
		GMimeStream *ms = g_mime_stream_mem_new();
		GMimeFormatOptions *fo = g_mime_format_options_new();
		g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_UNIX);
		g_mime_object_write_to_stream(g_mime_message_get_mime_part(msg), fo, ms);
		g_mime_format_options_free(fo);
		GByteArray *ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(ms));
		str_set(&r->mime, ba->data, ba->len);
		g_object_unref(ms);
		/* a part taken out of a multipart ends where its boundary began */
		if (r->mime.len && r->mime.s[r->mime.len - 1] != '\n')
			str_putc(&r->mime, '\n');
	}
	g_object_unref(msg);
	contentrule_free(&w.rules);
	return ST_OK;
}

fml_status content_apply(action_ctx *c, action_mail *m, content_result *r)
{
	int fd = dup(m->it->fd);
	if (fd < 0) {
		msg_error("dup: %s", strerror(errno));
		return ST_TEMPFAIL;
	}
	GMimeStream *fs = g_mime_stream_fs_new_with_bounds(fd, m->env->header_off, m->env->end_off);
	fml_status st = apply(c->l.cf, fs, m->it->sha256, r);
	g_object_unref(fs); /* closes FD */
	return st;
}

fml_status content_apply_mem(const config *cf, const char *mail, size_t len, content_result *r)
{
	sha256 h;
	char hex[SHA256_HEX];
	sha256_init(&h);
	sha256_update(&h, mail, len);
	sha256_hex(&h, hex);
	GMimeStream *ms = g_mime_stream_mem_new_with_buffer(mail, len);
	fml_status st = apply(cf, ms, hex, r);
	g_object_unref(ms);
	return st;
}
