/*
 * libFuzzer target for the configuration parser: the input is layered on a
 * loaded configuration exactly as config_load() layers a file (the same
 * parse_text/expand/type-check code, through config_parse_text()), then
 * every accessor is exercised.  Nothing is read from disk that could
 * exist: DIR, ETC and the search path point at a missing directory.
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz.h"
#include "list/config.h"
#include "util/msg.h"
#include "util/str.h"

#define FUZZ_MAX (64 * 1024) /* bounded input: config files are small */

static volatile size_t sink; /* keeps the accessors' results alive */

static void visit(const char *name, const char *value, const char *source, void *arg)
{
	size_t *n = arg;
	*n += (size_t)(name[0] + value[0] + source[0]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const ovr[] = {"FUZZ_OVERRIDE=$ML_NAME"};
	static const config_args args = {
	    .dir = "/nonexistent-fml-fuzz/ml/elena",
	    .overrides = ovr,
	    .noverrides = 1,
	    .etc_dir = "/nonexistent-fml-fuzz/etc",
	    .exec_dir = "/nonexistent-fml-fuzz/bin",
	};
	if (size > FUZZ_MAX)
		return 0;
	msg_set_stderr(0);
	config *cf = config_new();
	str err = STR_INIT;
	if (config_load(cf, &args, &err) != ST_OK)
		__builtin_trap(); /* the defaults must always load */
	fml_status st = config_parse_text(cf, "fuzz.cf", (const char *)data, size, &err);
	if (st != ST_OK && err.len == 0)
		__builtin_trap(); /* every error says why */
	size_t sum = 0;
	for (int i = 0; i < CF__COUNT; i++) {
		sum += config_str(cf, (cf_id)i)[0];
		cf_type t = config_table[i].type;
		if (st == ST_OK && t != CFT_STR && t != CFT_ADDR && config_int(cf, (cf_id)i) < 0)
			__builtin_trap(); /* numbers are never negative */
	}
	config_foreach(cf, visit, &sum);
	(void)config_get(cf, "A");
	(void)config_source(cf, "A");
	if (st == ST_OK)
		(void)config_set(cf, "A", "$DIR", &err);
	sink = sum;
	str_free(&err);
	config_free(cf);
	return 0;
}
