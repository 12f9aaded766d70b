/*
 * Golden driver for the content rules and decoration (actions/content.h).
 * Input: directive lines, then the mail after a line "#mail":
 *   #cf NAME=value     a config variable (the list is "elena")
 * Output: "lean: keep|look" (what the alias pipe decides without GMime),
 * "verdict: keep|changed|reject", "tell: 0|1", the report lines, and for
 * a changed mail a line "--" and the mail fml distributes (before the
 * header rewrite), byte for byte.
 */
#include "actions/content.h"
#include "actions/contentrule.h"
#include "list/config.h"
#include "mail/envelope.h"
#include "util/str.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
	str in = STR_INIT, err = STR_INIT;
	char buf[65536];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, stdin)) > 0)
		str_append(&in, buf, n);
	config *cf = config_new();
	config_args ca = {"/nonexistent/ml/elena", NULL,	  0, NULL, 0,
			  "/nonexistent",	   "/nonexistent"};
	if (config_load(cf, &ca, &err) != ST_OK ||
	    config_set(cf, "DOMAINNAME", "example.org", &err) != ST_OK) {
		printf("config: %s\n", str_c(&err));
		return 0;
	}
	size_t off = 0;
	str text = STR_INIT; /* the #cf lines, layered as a config file (expanded) */
	while (off < in.len) {
		char *nl = memchr(in.s + off, '\n', in.len - off);
		size_t len = nl ? (size_t)(nl - (in.s + off)) : in.len - off;
		char line[4096];
		snprintf(line, sizeof line, "%.*s", (int)len, in.s + off);
		off += len + 1;
		if (strcmp(line, "#mail") == 0)
			break;
		if (strncmp(line, "#cf ", 4) == 0)
			str_printf(&text, "%s\n", line + 4);
	}
	if (config_parse_text(cf, "golden", text.s ? text.s : "", text.len, &err) != ST_OK) {
		printf("config: %s\n", str_c(&err));
		return 0;
	}
	str_free(&text);
	const char *mail = in.s + off;
	size_t len = off < in.len ? in.len - off : 0;
	envelope e;
	envelope_init(&e);
	envelope_parse_mem(&e, mail, len, NULL);
	int lean = contentrule_lean_keep(cf, &e, e.end_off - e.body_off);
	printf("lean: %s\n", lean > 0 ? "keep" : lean == 0 ? "look" : "error");
	content_result r;
	content_result_init(&r);
	if (content_apply_mem(cf, mail, len, &r) != ST_OK) {
		printf("verdict: tempfail\n");
		return 0;
	}
	printf("verdict: %s\ntell: %d\n",
	       r.verdict == CONTENT_KEEP      ? "keep"
	       : r.verdict == CONTENT_CHANGED ? "changed"
					      : "reject",
	       r.tell);
	fwrite(r.report.s ? r.report.s : "", 1, r.report.len, stdout);
	if (r.verdict == CONTENT_CHANGED) {
		str out = STR_INIT;
		contentrule_mail(&e, &r.mime, &out);
		printf("--\n");
		fwrite(out.s, 1, out.len, stdout);
		str_free(&out);
	}
	content_result_free(&r);
	envelope_free(&e);
	config_free(cf);
	str_free(&in);
	str_free(&err);
	return 0;
}
