/* Common includes for cmocka unit tests: tables of cases, "got X, want Y". */
#ifndef FML_UNIT_H
#define FML_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

#endif
