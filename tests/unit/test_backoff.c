/* test_backoff.c - tables for full-jitter backoff bounds and distribution, and Retry-After parsing. */
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "backoff.h"
#include "defaults.h"
#include "suites.h"

/* Generous: CI runs the suite under sanitizers and valgrind, maybe on a loaded machine. */
#define TCASE_TIMEOUT_S 60

#define DRAWS 2000

/* xorshift64 from seed 1, reference values computed independently. */
START_TEST(test_rand_known_sequence)
{
	uint64_t s = 1;

	ck_assert_uint_eq(backoff_rand(&s), 0x40822041ULL);
	ck_assert_uint_eq(backoff_rand(&s), 0x100041060c011441ULL);
	ck_assert_uint_eq(backoff_rand(&s), 0x9b1e842f6e862629ULL);
	ck_assert_uint_eq(s, 0x9b1e842f6e862629ULL);
}
END_TEST

/* A zero state must not get stuck at zero. */
START_TEST(test_rand_zero_state)
{
	uint64_t s = 0;

	for (int i = 0; i < 100; i++) {
		ck_assert_uint_ne(backoff_rand(&s), 0);
		ck_assert_uint_ne(s, 0);
	}
}
END_TEST

struct delay_case {
	int retry;
	long base, max;
	long cap; /* expected ceiling: every draw in [0, cap] */
};

static const struct delay_case delay_cases[] = {
	{ 1, 500, 30000, 500 }, /* first retry: cap = base */
	{ 2, 500, 30000, 1000 },
	{ 3, 500, 30000, 2000 },
	{ 6, 500, 30000, 16000 },
	{ 7, 500, 30000, 30000 }, /* 32000 capped */
	{ 8, 500, 30000, 30000 },
	{ 0, 500, 30000, 500 }, /* nonsense retry numbers count as the first */
	{ -7, 500, 30000, 500 },
	{ INT_MIN, 500, 30000, 500 },
	{ 31, 500, 30000, 30000 },
	{ 32, 500, 30000, 30000 },
	{ 63, 500, 30000, 30000 },
	{ 64, 500, 30000, 30000 },
	{ 65, 500, 30000, 30000 },
	{ 1000, 500, 30000, 30000 },
	{ INT_MAX, 500, 30000, 30000 },
	{ 1, 3, 100, 3 },
	{ 2, 1, 100, 2 },
	{ 1, 1, 1, 1 },
	{ 1000, 1, 1, 1 },
	{ 1, 0, 30000, 0 }, /* no base: no delay */
	{ 5, 500, 0, 0 }, /* no max: no delay */
	{ 5, -500, 30000, 0 },
	{ 5, 500, -1, 0 },
	{ 1, 50000, 30000, 30000 }, /* base above max */
	{ 2, LONG_MAX / 2 + 1, LONG_MAX, LONG_MAX },
	{ 1000, LONG_MAX / 2, LONG_MAX, LONG_MAX },
	{ 1000, LONG_MAX, LONG_MAX, LONG_MAX },
	{ 1, LONG_MAX, LONG_MAX, LONG_MAX },
	{ 62, 2, LONG_MAX, LONG_MAX / 2 + 1 }, /* 2^62 */
	{ 100, MAX_DURATION_MS, MAX_DURATION_MS, MAX_DURATION_MS },
	{ 40, DEFAULT_BASE_DELAY_MS, MAX_DURATION_MS, MAX_DURATION_MS },
};

/*
 * Over DRAWS draws: never negative, never above cap; small caps hit every
 * value in [0, cap]; larger ones hit both halves (the jitter really spreads).
 */
START_TEST(test_delay_table)
{
	const struct delay_case *c = &delay_cases[_i];
	uint64_t rng = 0x12345678ULL + (uint64_t)_i;
	int hit[16] = { 0 };
	int low = 0, high = 0;
	long maxseen = -1;

	for (int i = 0; i < DRAWS; i++) {
		long d = backoff_delay_ms(c->retry, c->base, c->max, &rng);

		ck_assert_msg(d >= 0 && d <= c->cap, "case %d: %ld outside [0, %ld]", _i, d, c->cap);
		if (d > maxseen)
			maxseen = d;
		if (c->cap < 16)
			hit[d]++;
		if (d <= c->cap / 2)
			low++;
		else
			high++;
	}
	if (c->cap == 0) {
		ck_assert_int_eq(maxseen, 0);
	} else if (c->cap < 16) {
		for (long v = 0; v <= c->cap; v++)
			ck_assert_msg(hit[v] > 0, "case %d: value %ld never drawn", _i, v);
	} else {
		ck_assert_msg(low > DRAWS / 4 && high > DRAWS / 4, "case %d: low %d high %d", _i, low,
		    high);
		/* With 2000 draws, the top 5% of the range is reached. */
		ck_assert_msg(maxseen >= c->cap - c->cap / 20, "case %d: max seen %ld of %ld", _i,
		    maxseen, c->cap);
	}
}
END_TEST

/* Same seed, same delays; different seeds, different delays. */
START_TEST(test_delay_deterministic)
{
	uint64_t a = 42, b = 42, c = 43;
	int differ = 0;

	for (int i = 1; i <= 50; i++) {
		long da = backoff_delay_ms(i, 500, 30000, &a);
		long db = backoff_delay_ms(i, 500, 30000, &b);
		long dc = backoff_delay_ms(i, 500, 30000, &c);

		ck_assert_int_eq(da, db);
		differ += da != dc;
	}
	ck_assert_int_gt(differ, 40);
}
END_TEST

/* A NULL or zero rng state does not crash and stays in bounds. */
START_TEST(test_delay_bad_rng)
{
	uint64_t zero = 0;

	for (int i = 0; i < 100; i++) {
		long d1 = backoff_delay_ms(3, 500, 30000, NULL);
		long d2 = backoff_delay_ms(3, 500, 30000, &zero);

		ck_assert(d1 >= 0 && d1 <= 2000);
		ck_assert(d2 >= 0 && d2 <= 2000);
	}
}
END_TEST

/* 2015-10-21T07:28:00Z, the date of RFC 9110's example. */
#define NOW ((time_t)1445412480)
#define MAXMS MAX_DURATION_MS

struct ra_case {
	const char *value;
	long want;
};

static const struct ra_case ra_cases[] = {
	{ "120", 120000 },
	{ "0", 0 },
	{ "1", 1000 },
	{ "00007", 7000 },
	{ " 5 ", 5000 },
	{ "5\r\n", 5000 },
	{ "\t30\t", 30000 },
	{ "2592000", MAXMS }, /* exactly 30 days */
	{ "2591999", MAXMS - 1000 },
	{ "2592001", MAXMS },
	{ "9223372036854775807", MAXMS },
	{ "99999999999999999999999999999999999999999", MAXMS },
	{ "", -1 },
	{ "   ", -1 },
	{ "-5", -1 },
	{ "+5", -1 },
	{ "1.5", -1 },
	{ "5s", -1 },
	{ "5 5", -1 },
	{ "0x10", -1 },
	{ "abc", -1 },
	{ "1e3", -1 },
	{ "\xff\xfe", -1 },
	{ "Wed, 21 Oct 2015 07:28:00 GMT", 0 }, /* now */
	{ "Wed, 21 Oct 2015 07:28:30 GMT", 30000 },
	{ "Wed, 21 Oct 2015 08:28:00 GMT", 3600000 },
	{ "Thu, 22 Oct 2015 07:28:00 GMT", 86400000 },
	{ "  Wed, 21 Oct 2015 07:28:01 GMT\r\n", 1000 },
	{ "Tue, 20 Oct 2015 07:28:00 GMT", 0 }, /* past */
	{ "Thu, 01 Jan 1970 00:00:00 GMT", 0 },
	{ "Wed, 21 Oct 2099 07:28:00 GMT", MAXMS }, /* far future: capped */
	{ "Fri, 31 Dec 9999 23:59:59 GMT", MAXMS },
	{ "Wed, 21 Oct 2015 07:28:30 UTC", -1 },
	{ "Wed, 21 Oct 2015 07:28:30", -1 },
	{ "Wed, 21 Oct 2015 07:28:30 GMT junk", -1 },
	{ "Wednesday, 21-Oct-15 07:28:30 GMT", -1 }, /* RFC 850: obsolete, refused */
	{ "Wed Oct 21 07:28:30 2015", -1 }, /* asctime */
	{ "Wed, 32 Oct 2015 07:28:30 GMT", -1 },
	{ "Wed, 21 Foo 2015 07:28:30 GMT", -1 },
	{ "Wed, 21 Oct 2015 25:28:30 GMT", -1 },
	{ "Wed, 21 Oct 2015 07:60:30 GMT", -1 },
	{ "2015-10-21T07:28:30Z", -1 },
	{ "Wed, 21 Oct 2015 07:28:30 GMT Wed, 21 Oct 2015 07:28:30 GMT Wed, 21 Oct", -1 },
	{ NULL, -1 },
};

START_TEST(test_retry_after_table)
{
	const struct ra_case *c = &ra_cases[_i];

	ck_assert_msg(retry_after_ms(c->value, NOW) == c->want, "case %d (%s): got %ld want %ld", _i,
	    c->value ? c->value : "NULL", retry_after_ms(c->value, NOW), c->want);
}
END_TEST

/* A very long digit string and a very long junk string are bounded. */
START_TEST(test_retry_after_huge)
{
	static char big[100001];

	memset(big, '9', sizeof big - 1);
	ck_assert_int_eq(retry_after_ms(big, NOW), MAXMS);
	memset(big, 'x', sizeof big - 1);
	ck_assert_int_eq(retry_after_ms(big, NOW), -1);
}
END_TEST

Suite *backoff_suite(void)
{
	Suite *s = suite_create("backoff");
	TCase *tc = tcase_create("backoff");
	tcase_set_timeout(tc, TCASE_TIMEOUT_S);

	tcase_add_test(tc, test_rand_known_sequence);
	tcase_add_test(tc, test_rand_zero_state);
	tcase_add_loop_test(tc, test_delay_table, 0, (int)(sizeof delay_cases / sizeof delay_cases[0]));
	tcase_add_test(tc, test_delay_deterministic);
	tcase_add_test(tc, test_delay_bad_rng);
	suite_add_tcase(s, tc);

	tc = tcase_create("retry_after");
	tcase_set_timeout(tc, TCASE_TIMEOUT_S);
	tcase_add_loop_test(tc, test_retry_after_table, 0, (int)(sizeof ra_cases / sizeof ra_cases[0]));
	tcase_add_test(tc, test_retry_after_huge);
	suite_add_tcase(s, tc);
	return s;
}
