/*
 * libFuzzer target for lib/mail/rfc2047.c (encoded-word decoding for the summary
 * line).  Beyond "no crash, no leak, no UB": the output is bounded by a
 * small multiple of the input, and text without "=?" comes back unchanged.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "mail/rfc2047.h"
#include "util/str.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65536)
		return 0;
	str out = STR_INIT;
	rfc2047_decode((const char *)data, size, &out);
	if (out.len > size * 8 + 16)
		abort();
	if (size && !memmem(data, size, "=?", 2) &&
	    (out.len != size || memcmp(out.s, data, size) != 0))
		abort();
	str_free(&out);
	return 0;
}
