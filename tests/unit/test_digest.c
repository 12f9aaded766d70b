/*
 * Unit tests for lib/actions/digest.c: fml's digest schedule (msend's rule), as a
 * table of "m=N at hour H: due or not", and every hour of a day for the
 * members the issue names (m=1, m=2, m=3, m=17, m=29).
 */
#include "unit.h"

#include "actions/digest.h"

typedef struct due_case {
	int n, hour, want;
} due_case;

static const due_case due_cases[] = {
    {1, 1, 1},	 {1, 24, 1},  {1, 0, 1}, /* 0 is 24 */
    {2, 1, 0},	 {2, 2, 1},   {2, 24, 1}, {3, 3, 1},   {3, 4, 0},  {3, 24, 1}, {3, 0, 1},
    {12, 12, 1}, {12, 24, 1}, {12, 6, 0}, {17, 17, 1}, {17, 5, 0}, /* daily at 17:00 */
    {24, 24, 1}, {24, 12, 0}, {29, 5, 1}, {29, 17, 0},		   /* N > 24: at N-24 */
    {48, 24, 1}, {48, 23, 0}, {0, 24, 0}, {-1, 1, 0},		   /* m=0: no digest */
    {99, 75, 1}, {99, 3, 0},
};

static void test_due_table(void **state)
{
	(void)state;
	int bad = 0;
	for (size_t i = 0; i < N_ELEMS(due_cases); i++) {
		const due_case *c = &due_cases[i];
		int got = digest_due(c->n, c->hour);
		if (got != c->want) {
			print_error("m=%d at %d: got %d, want %d\n", c->n, c->hour, got, c->want);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

/* How often each m=N is due in one day of hours 1..24. */
static void test_times_a_day(void **state)
{
	(void)state;
	static const struct {
		int n, times;
	} want[] = {{1, 24}, {2, 12}, {3, 8}, {5, 4}, {7, 3}, {13, 1}, {17, 1}, {24, 1}, {29, 1}};
	for (size_t i = 0; i < N_ELEMS(want); i++) {
		int times = 0;
		for (int h = 1; h <= 24; h++)
			times += digest_due(want[i].n, h);
		if (times != want[i].times)
			print_error("m=%d: due %d times a day, want %d\n", want[i].n, times,
				    want[i].times);
		assert_int_equal(times, want[i].times);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_due_table),
	    cmocka_unit_test(test_times_a_day),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
