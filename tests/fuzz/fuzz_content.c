/*
 * libFuzzer target for lib/actions/content.c: any bytes as a post, judged
 * by a fixed rule set (strip executables and archives, HTML to text, limits,
 * a preamble and a trailer).  Beyond "no crash, no leak, no UB":
 *   - the verdict is one of the three, a refusal says why, a change gives
 *     a body with its MIME fields;
 *   - a changed mail parses again (GMime) and, judged again, is no longer
 *     refused for a part or a limit it was changed to meet (no loop: the
 *     second judgement changes at most the decoration);
 *   - the same input gives the same verdict and bytes twice.
 */
#include <gmime/gmime.h>
#include <string.h>

#include "actions/content.h"
#include "actions/contentrule.h"
#include "fuzz.h"
#include "list/config.h"
#include "mail/envelope.h"

static config *cf;

static const char rules[] =
    "CONTENT_HANDLER = multipart/* application/x-dosexec strip; * application/zip strip+notice;"
    " * application/x-executable reject\n"
    "HTML_MAIL_DEFAULT_HANDLER = strip\n"
    "CONTENT_MAX_PARTS = 50\n"
    "CONTENT_MAX_DEPTH = 8\n"
    "CONTENT_MAX_PART_SIZE = 200K\n"
    "PREAMBLE_MAILBODY = [$ML_NAME]\n"
    "TRAILER_MAILBODY = --\\nTo leave: $CONTROL_ADDRESS\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1 << 20)
		return 0;
	if (!cf) {
		str err = STR_INIT;
		cf = config_new();
		config_args ca = {"/nonexistent/ml/elena", NULL,	  0, NULL, 0,
				  "/nonexistent",	   "/nonexistent"};
		CHECK(config_load(cf, &ca, &err) == ST_OK);
		CHECK(config_parse_text(cf, "fuzz", rules, sizeof rules - 1, &err) == ST_OK);
		str_free(&err);
	}
	content_result a, b;
	content_result_init(&a);
	content_result_init(&b);
	CHECK(content_apply_mem(cf, (const char *)data, size, &a) == ST_OK);
	CHECK(a.verdict == CONTENT_KEEP || a.verdict == CONTENT_CHANGED ||
	      a.verdict == CONTENT_REJECT);
	CHECK(a.verdict != CONTENT_REJECT || (a.report.len > 0 && a.tell));
	CHECK(a.verdict != CONTENT_CHANGED || a.mime.len > 0);
	CHECK(content_apply_mem(cf, (const char *)data, size, &b) == ST_OK);
	CHECK(a.verdict == b.verdict && a.mime.len == b.mime.len &&
	      (a.mime.len == 0 || memcmp(a.mime.s, b.mime.s, a.mime.len) == 0));
	if (a.verdict == CONTENT_CHANGED) {
		envelope e;
		envelope_init(&e);
		envelope_parse_mem(&e, (const char *)data, size, NULL);
		str mail = STR_INIT;
		contentrule_mail(&e, &a.mime, &mail);
		content_result c;
		content_result_init(&c);
		CHECK(content_apply_mem(cf, mail.s, mail.len, &c) == ST_OK);
		/* what was removed is gone: nothing left to strip or refuse for */
		CHECK(c.verdict != CONTENT_REJECT || strstr(str_c(&c.report), "MIME parts") ||
		      strstr(str_c(&c.report), "nest"));
		content_result_free(&c);
		str_free(&mail);
		envelope_free(&e);
	}
	content_result_free(&a);
	content_result_free(&b);
	return 0;
}
