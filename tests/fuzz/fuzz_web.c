/*
 * libFuzzer target for lib/web/web.c: what a web client sends fmlweb.  The
 * input is "METHOD\nPATH_INFO\nCONTENT_TYPE\nbody".  Beyond "no crash, no
 * leak, no UB": the answer starts with a Status line and the fixed
 * headers, and a path that names no list (there is none here) is a 404
 * (or 405 for another method), whatever the body.
 */
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "util/str.h"
#include "web/web.h"

static const char *line(const char **p, const char *end, str *out)
{
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	str_clear(out);
	str_append(out, *p, nl ? (size_t)(nl - *p) : (size_t)(end - *p));
	*p = nl ? nl + 1 : end;
	return str_c(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1 << 16)
		return 0;
	const char *p = (const char *)data, *end = p + size;
	str m = STR_INIT, path = STR_INIT, ct = STR_INIT, out = STR_INIT;
	line(&p, end, &m);
	line(&p, end, &path);
	line(&p, end, &ct);
	web_request req = {"/nonexistent/fuzz-ml", str_c(&m), str_c(&path), str_c(&ct), p,
			   (size_t)(end - p)};
	/* the multipart and form parsers on their own */
	(void)web_one_click_body(str_c(&ct), p, (size_t)(end - p));
	web_answer(&req, &out);
	CHECK(strncmp(str_c(&out), "Status: 40", 10) == 0);
	CHECK(strstr(str_c(&out), "\nContent-Security-Policy: default-src 'none'"));
	str_free(&m);
	str_free(&path);
	str_free(&ct);
	str_free(&out);
	return 0;
}
