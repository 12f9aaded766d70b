/*
 * fuzz.h: what every fuzz target shares: CHECK(c) aborts with the failed
 * property, so that libFuzzer saves the input that broke it.
 */
#ifndef FML_FUZZ_H
#define FML_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "property failed: %s (line %d)\n", #c, __LINE__);          \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
