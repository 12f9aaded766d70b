/*
 * contentrule: CONTENT_HANDLER rules and the lean pipe's check.  See
 * contentrule.h.  Failure policy: a rule set that does not parse is the
 * caller's ST_TEMPFAIL (the mail waits for a fixed configuration).
 */
#include "contentrule.h"
#include "util/msg.h"

#include <ctype.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct {
	const char *name;
	content_action act;
} actions[] = {
    {"allow", CA_ALLOW},   {"allow+multipart", CA_ALLOW_MULTIPART},
    {"strip", CA_STRIP},   {"strip+notice", CA_STRIP_NOTICE},
    {"reject", CA_REJECT},
};

const char *contentrule_action_name(content_action a)
{
	for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++)
		if (actions[i].act == a)
			return actions[i].name;
	return "?";
}

static void lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

int contentrule_parse(const char *spec, contentrule_set *r, str *err)
{
	memset(r, 0, sizeof *r);
	const char *p = spec ? spec : "";
	for (int no = 1; *p; no++) {
		const char *end = strchr(p, ';');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char rule[512], w[4][256];
		if (len >= sizeof rule) {
			str_printf(err, "CONTENT_HANDLER rule %d is too long", no);
			contentrule_free(r);
			return -1;
		}
		memcpy(rule, p, len);
		rule[len] = 0;
		p += len + (end ? 1 : 0);
		int nw = 0;
		for (char *t = strtok(rule, " \t"); t; t = strtok(NULL, " \t")) {
			if (nw == 4 || strlen(t) >= 128) {
				nw = 4;
				break;
			}
			strcpy(w[nw++], t);
		}
		if (nw == 0)
			continue; /* an empty rule: "a; ; b" or a trailing ";" */
		content_action act = CA_ALLOW;
		size_t i = 0;
		for (; nw == 3 && i < sizeof actions / sizeof actions[0]; i++)
			if (strcasecmp(w[2], actions[i].name) == 0) {
				act = actions[i].act;
				break;
			}
		if (nw != 3 || i == sizeof actions / sizeof actions[0]) {
			str_printf(err,
				   "CONTENT_HANDLER rule %d: want BODYTYPE PARTTYPE ACTION (allow, "
				   "strip, strip+notice, reject, allow+multipart)",
				   no);
			contentrule_free(r);
			return -1;
		}
		r->v = realloc(r->v, (r->n + 1) * sizeof *r->v);
		if (!r->v)
			msg_fatal("out of memory");
		contentrule *c = &r->v[r->n++];
		strcpy(c->body, w[0]);
		strcpy(c->part, w[1]);
		lower(c->body);
		lower(c->part);
		c->act = act;
	}
	return 0;
}

void contentrule_free(contentrule_set *r)
{
	free(r->v);
	r->v = NULL;
	r->n = 0;
}

static int glob(const char *pat, const char *s)
{
	if (strcmp(pat, "!mime") == 0 || strcmp(s, "!mime") == 0)
		return strcmp(pat, s) == 0 || strcmp(pat, "*") == 0;
	return fnmatch(pat, s, FNM_CASEFOLD) == 0;
}

int contentrule_match(const contentrule_set *r, const char *bodytype, const char *parttype,
		      content_action *act)
{
	*act = CA_ALLOW;
	for (size_t i = 0; i < r->n; i++)
		if (glob(r->v[i].body, bodytype) && glob(r->v[i].part, parttype)) {
			*act = r->v[i].act;
			return 1;
		}
	return 0;
}

int contentrule_configured(const config *cf)
{
	return *config_str(cf, CF_CONTENT_HANDLER) ||
	       strcmp(config_str(cf, CF_HTML_MAIL_DEFAULT_HANDLER), "allow") != 0 ||
	       config_int(cf, CF_CONTENT_MAX_PARTS) > 0 ||
	       config_int(cf, CF_CONTENT_MAX_DEPTH) > 0 ||
	       config_int(cf, CF_CONTENT_MAX_PART_SIZE) > 0 ||
	       *config_str(cf, CF_PREAMBLE_MAILBODY) || *config_str(cf, CF_TRAILER_MAILBODY);
}

static int token_char(int c)
{
	return c > 0x20 && c < 0x7f && !strchr("()<>@,;:\\\"/[]?=", c);
}

void contentrule_media_type(const char *value, char *out, size_t size)
{
	snprintf(out, size, "text/plain");
	if (!value)
		return;
	while (*value == ' ' || *value == '\t')
		value++;
	size_t a = 0;
	while (token_char((unsigned char)value[a]))
		a++;
	if (a == 0 || value[a] != '/')
		return;
	size_t b = a + 1;
	while (token_char((unsigned char)value[b]))
		b++;
	if (b == a + 1 || b >= size)
		return;
	memcpy(out, value, b);
	out[b] = 0;
	lower(out);
}

int contentrule_lean_keep(const config *cf, const envelope *e, off_t body_size)
{
	if (!contentrule_configured(cf))
		return 1;
	if (*config_str(cf, CF_PREAMBLE_MAILBODY) || *config_str(cf, CF_TRAILER_MAILBODY))
		return 0;
	long long max = config_int(cf, CF_CONTENT_MAX_PART_SIZE);
	if (max > 0 && body_size > max)
		return 0;
	const hfield *ct = envelope_get(e, "Content-Type", 0);
	char type[256];
	contentrule_media_type(ct ? ct->value.s : NULL, type, sizeof type);
	/* a structure to walk, or a body libmagic has to look at */
	if (strncmp(type, "text/", 5) != 0)
		return 0;
	if (strcmp(type, "text/html") == 0 &&
	    strcmp(config_str(cf, CF_HTML_MAIL_DEFAULT_HANDLER), "allow") != 0)
		return 0;
	contentrule_set r;
	str err = STR_INIT;
	if (contentrule_parse(config_str(cf, CF_CONTENT_HANDLER), &r, &err) < 0) {
		msg_error("%s", str_c(&err));
		str_free(&err);
		return -1;
	}
	content_action act;
	contentrule_match(&r, envelope_get(e, "MIME-Version", 0) ? type : "!mime", type, &act);
	contentrule_free(&r);
	return act == CA_ALLOW || act == CA_ALLOW_MULTIPART;
}

void contentrule_mail(const envelope *e, const str *mime, str *out)
{
	for (size_t i = 0; i < e->nfields; i++) {
		const hfield *f = &e->fields[i];
		const char *name = e->header.s + f->off;
		if ((f->name_len > 8 && strncasecmp(name, "Content-", 8) == 0) ||
		    (f->name_len == 12 && strncasecmp(name, "MIME-Version", 12) == 0))
			continue;
		for (size_t k = 0; k < f->len; k++)
			if (name[k] != '\r' || k + 1 >= f->len || name[k + 1] != '\n')
				str_putc(out, (unsigned char)name[k]);
	}
	str_puts(out, "MIME-Version: 1.0\n");
	str_append(out, mime->s, mime->len);
}
