/*
 * Golden driver for the header rewrite.  Input: directive lines, then the
 * mail after a line "#mail":
 *   #cf NAME=value     a config variable (the list is "elena")
 *   #article N         the article number (default 1)
 *   #now EPOCH         distribution and arrival time (default 1795251914)
 *   #dmarc PLAN [H]    munge, wrap, or unmodified with the author's h= H
 *                      (actions/dmarc.h); wrap prints the inner header too
 * Output: the new header exactly as it would be written (line endings shown
 * as \r where CRLF), then the envelope flags.  TZ is UTC.
 */
#include "actions/dmarc.h"
#include "actions/rewrite.h"
#include "list/config.h"
#include "mail/envelope.h"
#include "util/str.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
	str in = STR_INIT, err = STR_INIT, out = STR_INIT;
	char buf[65536];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, stdin)) > 0)
		str_append(&in, buf, n);
	setenv("TZ", "UTC", 1);
	config *cf = config_new();
	config_args ca = {"/nonexistent/ml/elena", NULL,	  0, NULL, 0,
			  "/nonexistent",	   "/nonexistent"};
	if (config_load(cf, &ca, &err) != ST_OK ||
	    config_set(cf, "DOMAINNAME", "example.org", &err) != ST_OK) {
		printf("config: %s\n", str_c(&err));
		return 0;
	}
	rewrite_info ri = {1, 1795251914, 1795251914, DMARC_AS_IS, NULL};
	char signed_fields[1024] = "";
	size_t off = 0;
	while (off < in.len) {
		char *nl = memchr(in.s + off, '\n', in.len - off);
		size_t len = nl ? (size_t)(nl - (in.s + off)) : in.len - off;
		char line[1024];
		snprintf(line, sizeof line, "%.*s", (int)len, in.s + off);
		off += len + 1;
		if (strcmp(line, "#mail") == 0)
			break;
		if (strncmp(line, "#cf ", 4) == 0) {
			char *eq = strchr(line + 4, '=');
			if (!eq)
				continue;
			*eq = 0;
			if (config_set(cf, line + 4, eq + 1, &err) != ST_OK)
				printf("config: %s\n", str_c(&err));
		} else if (strncmp(line, "#article ", 9) == 0) {
			ri.article = atol(line + 9);
		} else if (strncmp(line, "#dmarc ", 7) == 0) {
			const char *plan = line + 7;
			ri.dmarc = strncmp(plan, "munge", 5) == 0  ? DMARC_MUNGE
				   : strncmp(plan, "wrap", 4) == 0 ? DMARC_WRAP
								   : DMARC_UNMODIFIED;
			const char *sp = strchr(plan, ' ');
			snprintf(signed_fields, sizeof signed_fields, "%s", sp ? sp + 1 : "");
			ri.signed_fields = signed_fields;
		} else if (strncmp(line, "#now ", 5) == 0) {
			ri.now = ri.arrival = atol(line + 5);
		}
	}
	envelope e;
	envelope_init(&e);
	envelope_parse_mem(&e, in.s + off, off < in.len ? in.len - off : 0, NULL);
	rewrite_header(&e, cf, &ri, &out);
	if (ri.dmarc == DMARC_WRAP) {
		str inner = STR_INIT;
		rewrite_wrapped_header(&e, cf, &inner);
		str_puts(&out, "--- wrapped:\n");
		str_append(&out, inner.s, inner.len);
		str_free(&inner);
	}
	for (size_t i = 0; i < out.len; i++) {
		if (out.s[i] == '\r')
			fputs("\\r", stdout);
		else
			putchar(out.s[i]);
	}
	printf("--- body_off=%lld end_off=%lld flags=0x%x\n", (long long)e.body_off,
	       (long long)e.end_off, e.flags);
	envelope_free(&e);
	str_free(&in);
	str_free(&out);
	config_free(cf);
	return 0;
}
