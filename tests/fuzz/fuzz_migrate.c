/*
 * libFuzzer target for lib/list/migrate.c: an fml 4 config.ph (any bytes)
 * read into a config.cf.  Beyond "no crash, no leak, no UB": the text it
 * writes loads as a config.cf (what it took, the configuration took too),
 * and every line is a comment, blank, or NAME = value.
 */
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "list/config.h"
#include "list/migrate.h"

static config *fresh(void)
{
	str err = STR_INIT;
	config *cf = config_new();
	config_args ca = {"/nonexistent/ml/elena", NULL,	  0, NULL, 0,
			  "/nonexistent",	   "/nonexistent"};
	CHECK(config_load(cf, &ca, &err) == ST_OK);
	str_free(&err);
	return cf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1 << 16)
		return 0;
	config *cf = fresh();
	str out = STR_INIT, err = STR_INIT;
	migrate_result r;
	migrate_config((const char *)data, size, cf, &out, &r);
	config_free(cf);
	for (const char *p = out.s; p && *p;) {
		const char *nl = strchr(p, '\n');
		CHECK(nl);
		CHECK(*p == '#' || *p == '\n' || strstr(p, " = ") < nl);
		p = nl + 1;
	}
	config *back = fresh();
	CHECK(config_parse_text(back, "config.cf", out.s ? out.s : "", out.len, &err) == ST_OK);
	config_free(back);
	str_free(&out);
	str_free(&err);
	return 0;
}
