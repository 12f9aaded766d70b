/*
 * web: what fmlweb answers.  See web.h.
 */
#include "web.h"
#include "cmd/command.h"
#include "cmd/confirm.h"
#include "list/home.h"
#include "list/members.h"
#include "list/oneclick.h"
#include "list/secret.h"
#include "mail/addr.h"
#include "proc/procfull.h"
#include "queue/runner.h"
#include "util/html.h"
#include "util/lock.h"
#include "util/msg.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#define MAX_PARTS 5

typedef struct answer {
	str *out;
	int code;
	const char *title;
	str body; /* HTML of <main> after the heading */
} answer;

static const char *reason(int code)
{
	switch (code) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	default:
		return "Service Unavailable";
	}
}

/* The whole response of A into A->out. */
static void respond(answer *a, int head)
{
	str *o = a->out;
	str_printf(o, "Status: %d %s\n", a->code, reason(a->code));
	str_puts(o, "Content-Type: text/html; charset=utf-8\n"
		    "Content-Security-Policy: default-src 'none'; form-action 'self'; "
		    "frame-ancestors 'none'; base-uri 'none'\n"
		    "X-Content-Type-Options: nosniff\n"
		    "Referrer-Policy: no-referrer\n"
		    "Cache-Control: no-store\n"
		    "X-Robots-Tag: noindex, nofollow\n");
	if (a->code == 405)
		str_puts(o, "Allow: GET, HEAD, POST\n");
	if (a->code == 503)
		str_puts(o, "Retry-After: 300\n");
	str_puts(o, "\n");
	if (head)
		return;
	str_puts(o, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		    "<meta name=\"robots\" content=\"noindex, nofollow\">\n<title>");
	html_puts(o, a->title);
	str_puts(o, "</title>\n</head>\n<body>\n<main>\n<h1>");
	html_puts(o, a->title);
	str_puts(o, "</h1>\n");
	str_append(o, a->body.s, a->body.len);
	str_puts(o, "</main>\n</body>\n</html>\n");
}

static void say(answer *a, int code, const char *title, const char *text)
{
	a->code = code;
	a->title = title;
	if (text) {
		str_puts(&a->body, "<p>");
		html_puts(&a->body, text);
		str_puts(&a->body, "</p>\n");
	}
}

/* A form that POSTs to this very URL (no action: the page's own) with
 * the field NAME=VALUE, and a button saying LABEL. */
static void button(answer *a, const char *name, const char *value, const char *label)
{
	str_puts(&a->body, "<form method=\"post\">\n<input type=\"hidden\" name=\"");
	html_puts(&a->body, name);
	str_puts(&a->body, "\" value=\"");
	html_puts(&a->body, value);
	str_puts(&a->body, "\">\n<button type=\"submit\">");
	html_puts(&a->body, label);
	str_puts(&a->body, "</button>\n</form>\n");
}

/* "NAME=VALUE" among the '&'-separated pairs of P (N bytes), exactly (a
 * form field's value has no character that needs %-encoding here). */
static int form_has(const char *p, size_t n, const char *pair)
{
	size_t pl = strlen(pair);
	for (size_t i = 0; i < n;) {
		const char *amp = memchr(p + i, '&', n - i);
		size_t l = amp ? (size_t)(amp - (p + i)) : n - i;
		while (l > 0 && (p[i + l - 1] == '\r' || p[i + l - 1] == '\n'))
			l--;
		if (l == pl && memcmp(p + i, pair, pl) == 0)
			return 1;
		i += l + 1;
		if (!amp)
			break;
	}
	return 0;
}

/* In multipart/form-data (RFC 7578): a part whose Content-Disposition
 * names "List-Unsubscribe" and whose content is "One-Click". */
static int multipart_has(const char *ctype, const char *p, size_t n)
{
	const char *b = strcasestr(ctype, "boundary=");
	if (!b)
		return 0;
	b += 9;
	str delim = STR_INIT;
	str_puts(&delim, "--");
	if (*b == '"')
		str_append(&delim, b + 1, strcspn(b + 1, "\""));
	else
		str_append(&delim, b, strcspn(b, " ;\t"));
	int found = 0;
	const char *end = p + n, *at = p;
	while (!found && at < end) {
		const char *d = memmem(at, (size_t)(end - at), delim.s, delim.len);
		if (!d)
			break;
		const char *part = d + delim.len, *next;
		next = memmem(part, (size_t)(end - part), delim.s, delim.len);
		if (!next)
			break;
		const char *hend = memmem(part, (size_t)(next - part), "\r\n\r\n", 4);
		size_t hsep = 4;
		if (!hend) {
			hend = memmem(part, (size_t)(next - part), "\n\n", 2);
			hsep = 2;
		}
		if (hend) {
			str head = STR_INIT;
			str_append(&head, part, (size_t)(hend - part));
			const char *v = hend + hsep, *ve = next;
			while (ve > v && (ve[-1] == '\n' || ve[-1] == '\r'))
				ve--;
			found = strcasestr(str_c(&head), "name=\"List-Unsubscribe\"") &&
				ve - v == 9 && memcmp(v, "One-Click", 9) == 0;
			str_free(&head);
		}
		at = next;
	}
	str_free(&delim);
	return found;
}

int web_one_click_body(const char *ctype, const char *body, size_t len)
{
	if (ctype && strncasecmp(ctype, "multipart/form-data", 19) == 0)
		return multipart_has(ctype, body, len);
	return form_has(body, len, "List-Unsubscribe=One-Click");
}

/* Is ADDR in actives or members (not ##BYE)?  -1 when unreadable. */
static int subscribed(const char *dir, const char *addr)
{
	static const char *const files[] = {"actives", "members"};
	for (int i = 0; i < 2; i++) {
		char path[PATH_MAX];
		member_entry e;
		members_entry_init(&e);
		int r = members_path(path, sizeof path, dir, files[i]) == ST_OK
			    ? members_find(path, addr, 0, &e)
			    : -1;
		members_entry_free(&e);
		if (r != 0)
			return r;
	}
	return 0;
}

static void unsubscribe(answer *a, const web_request *req, const char *dir, config *cf,
			const char *enc, const char *token)
{
	str addr = STR_INIT, key = STR_INIT, text = STR_INIT;
	const char *list = config_str(cf, CF_MAIL_LIST);
	if (oneclick_addr_decode(enc, strlen(enc), &addr) < 0 || !addr.len ||
	    memchr(addr.s, 0, addr.len) || addr_check(addr.s, addr.len)) {
		say(a, 403, "Not a valid link", "This unsubscribe link is not valid.");
		goto out;
	}
	if (secret_load(dir, &key) != ST_OK) {
		say(a, 503, "Try again later", "The list cannot be reached just now.");
		goto out;
	}
	if (!oneclick_valid(&key, str_c(&addr), token)) {
		msg_info("one-click for %s refused: the token is not this address's", str_c(&addr));
		say(a, 403, "Not a valid link", "This unsubscribe link is not valid.");
		goto out;
	}
	if (strcmp(req->method, "POST") != 0) {
		int is = subscribed(dir, str_c(&addr));
		if (is < 0) {
			say(a, 503, "Try again later", "The list cannot be reached just now.");
		} else if (is == 0) {
			str_printf(&text, "%s is not subscribed to %s.", str_c(&addr), list);
			say(a, 200, "Not subscribed", str_c(&text));
		} else {
			str_printf(&text, "Unsubscribe %s from %s?", str_c(&addr), list);
			say(a, 200, "Unsubscribe", str_c(&text));
			button(a, "List-Unsubscribe", "One-Click", "Unsubscribe");
		}
		goto out;
	}
	if (!web_one_click_body(req->ctype, req->body, req->body_len)) {
		say(a, 400, "Bad request", "This request does not ask to unsubscribe.");
		goto out;
	}
	fml_lock lk;
	if (lock_acquire(&lk, dir, (int)config_int(cf, CF_USE_FLOCK),
			 (long)config_int(cf, CF_LOCK_TIMEOUT),
			 (long)config_int(cf, CF_LOCK_STALE_AGE)) != ST_OK) {
		say(a, 503, "Try again later", "The list is busy; please try again later.");
		goto out;
	}
	action_ctx c = {.l = {.dir = dir, .cf = cf, .now = time(NULL)}};
	fml_status st = command_leave(&c, str_c(&addr), "one-click unsubscribe on the web");
	lock_release(&lk);
	if (st == ST_TEMPFAIL) {
		say(a, 503, "Try again later", "The list cannot be changed just now.");
		goto out;
	}
	if (st == ST_OK)
		runner_kick(dir, cf); /* the maintainer's notice */
	str_printf(&text, "%s is no longer subscribed to %s.", str_c(&addr), list);
	say(a, 200, "Unsubscribed", str_c(&text));
out:
	if (key.s)
		explicit_bzero(key.s, key.len);
	str_free(&key);
	str_free(&addr);
	str_free(&text);
}

/* What REQ asks (ACTION, ADDR, ARG) in words */
static void describe(const confirm_req *q, const char *list, str *out)
{
	const char *action = str_c(&q->action), *addr = str_c(&q->addr), *arg = str_c(&q->arg);
	if (strcmp(action, "subscribe") == 0)
		str_printf(out, "Subscribe %s to %s.", addr, list);
	else if (strcmp(action, "unsubscribe") == 0)
		str_printf(out, "Unsubscribe %s from %s.", addr, list);
	else if (strcmp(action, "chaddr") == 0)
		str_printf(out, "Change the address %s on %s to %s.", addr, list, arg);
	else
		str_printf(out, "Change the address %s on %s to %s.", arg, list, addr);
}

static void confirm(answer *a, const web_request *req, const char *dir, config *cf, const char *id)
{
	confirm_req q;
	str why = STR_INIT, text = STR_INIT, cmd = STR_INIT, report = STR_INIT, err = STR_INIT;
	confirm_req_init(&q);
	fml_status st = confirm_lookup(dir, cf, time(NULL), id, &q, &why);
	if (st == ST_DATAERR) {
		str_printf(&text, "This confirmation link cannot be used: %s.", str_c(&why));
		say(a, 403, "Not a valid link", str_c(&text));
		goto out;
	}
	if (st != ST_OK) {
		say(a, 503, "Try again later", "The list cannot be reached just now.");
		goto out;
	}
	describe(&q, config_str(cf, CF_MAIL_LIST), &text);
	if (strcmp(req->method, "POST") != 0) {
		say(a, 200, "Confirm", str_c(&text));
		button(a, "confirm", "yes", "Confirm");
		goto out;
	}
	str_printf(&cmd, "confirm %s", str_c(&q.id));
	st = procfull_command(dir, cf, str_c(&q.addr), "confirmed on the web", str_c(&cmd), &report,
			      &err);
	if (st != ST_OK) {
		say(a, 503, "Try again later", str_c(&err));
		goto out;
	}
	say(a, 200, "Confirmed", str_c(&text));
	str_puts(&a->body, "<pre>");
	html_escape(&a->body, report.s ? report.s : "", report.len);
	str_puts(&a->body, "</pre>\n");
out:
	confirm_req_free(&q);
	str_free(&why);
	str_free(&text);
	str_free(&cmd);
	str_free(&report);
	str_free(&err);
}

void web_answer(const web_request *req, str *out)
{
	answer a = {out, 404, "Not found", STR_INIT};
	char *parts[MAX_PARTS], *copy = NULL;
	int n = 0, head = strcmp(req->method, "HEAD") == 0;
	config *cf = NULL;
	str dir = STR_INIT;
	if (!head && strcmp(req->method, "GET") != 0 && strcmp(req->method, "POST") != 0) {
		say(&a, 405, "Method not allowed", NULL);
		goto out;
	}
	/* "/KIND/LIST/..." */
	copy = strdup(req->path ? req->path : "");
	for (char *save = NULL, *p = strtok_r(copy, "/", &save); p && n < MAX_PARTS;
	     p = strtok_r(NULL, "/", &save))
		parts[n++] = p;
	int ok =
	    (n == 4 && strcmp(parts[0], "u") == 0 && strlen(parts[3]) == ONECLICK_TOKEN_LEN) ||
	    (n == 3 && strcmp(parts[0], "c") == 0 && confirm_id_shape(parts[2], strlen(parts[2])));
	struct stat st;
	if (ok) {
		str_printf(&dir, "%s/%s", req->ml_dir, parts[1]);
		str cfpath = STR_INIT;
		str_printf(&cfpath, "%s/config.cf", dir.s);
		ok = home_valid_name(parts[1]) && stat(cfpath.s, &st) == 0;
		str_free(&cfpath);
	}
	if (!ok) {
		say(&a, 404, "Not found", "There is nothing here.");
		goto out;
	}
	if (!(cf = home_config(dir.s, NULL, 0))) {
		say(&a, 503, "Try again later", "The list cannot be reached just now.");
		goto out;
	}
	if (parts[0][0] == 'u')
		unsubscribe(&a, req, dir.s, cf, parts[2], parts[3]);
	else
		confirm(&a, req, dir.s, cf, parts[2]);
out:
	respond(&a, head);
	if (cf)
		config_free(cf);
	free(copy);
	str_free(&dir);
	str_free(&a.body);
}
