/* test_parse.c - tables of inputs and results for the bounded parsers of parse.c. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "defaults.h"
#include "parse.h"
#include "suites.h"

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static const struct {
	const char *s;
	long min, max;
	int ok;
	long want;
} long_cases[] = {
	{ "0", 0, 10, 1, 0 },
	{ "10", 0, 10, 1, 10 },
	{ "11", 0, 10, 0, 0 },
	{ "-1", 0, 10, 0, 0 },
	{ "-5", -10, 10, 1, -5 },
	{ "-0", 0, 10, 1, 0 },
	{ "007", 0, 10, 1, 7 },
	{ "9223372036854775807", 0, LONG_MAX, 1, LONG_MAX },
	{ "9223372036854775808", 0, LONG_MAX, 0, 0 },
	{ "-9223372036854775808", LONG_MIN, 0, 1, LONG_MIN },
	{ "-9223372036854775809", LONG_MIN, 0, 0, 0 },
	{ "99999999999999999999999999", 0, LONG_MAX, 0, 0 },
	{ "", 0, 10, 0, 0 },
	{ " 1", 0, 10, 0, 0 },
	{ "1 ", 0, 10, 0, 0 },
	{ "+1", 0, 10, 0, 0 },
	{ "1x", 0, 10, 0, 0 },
	{ "0x10", 0, 100, 0, 0 },
	{ "1.0", 0, 10, 0, 0 },
	{ "1e3", 0, 10000, 0, 0 },
	{ "-", 0, 10, 0, 0 },
	{ "--1", -10, 10, 0, 0 },
	{ "- 1", -10, 10, 0, 0 },
	{ "\t1", 0, 10, 0, 0 },
	{ "1\n", 0, 10, 0, 0 },
	{ "5", 10, 0, 0, 0 }, /* min > max */
};

START_TEST(test_parse_long)
{
	long out = 12345;
	int r = parse_long(long_cases[_i].s, long_cases[_i].min, long_cases[_i].max, &out);

	ck_assert_msg((r == 0) == long_cases[_i].ok, "parse_long('%s') returned %d",
	    long_cases[_i].s, r);
	ck_assert_int_eq(out, long_cases[_i].ok ? long_cases[_i].want : 12345);
}
END_TEST

START_TEST(test_parse_long_null)
{
	long out = 7;
	ck_assert_int_eq(parse_long(NULL, 0, 10, &out), -1);
	ck_assert_int_eq(out, 7);
}
END_TEST

static const struct {
	const char *s;
	double min, max;
	int ok;
	double want;
} double_cases[] = {
	{ "0", 0, 10, 1, 0.0 },
	{ "0.2", 0, 10, 1, 0.2 },
	{ "10", 0, 10, 1, 10.0 },
	{ "10.0", 0, 10, 1, 10.0 },
	{ "10.000001", 0, 10, 0, 0 },
	{ ".5", 0, 10, 1, 0.5 },
	{ "5.", 0, 10, 1, 5.0 },
	{ "-0.5", -1, 1, 1, -0.5 },
	{ "-0.5", 0, 1, 0, 0 },
	{ "0.1", 0, 1, 1, 0.1 },
	{ "3.14159", 0, 10, 1, 3.14159 },
	{ "100000", 0, 100000, 1, 100000.0 },
	{ "0.123456789012345", 0, 1, 1, 0.123456789012345 },
	{ "0.30000000000000004", 0, 1, 0, 0 }, /* 17 digits: more than a double holds */
	{ "", 0, 10, 0, 0 },
	{ ".", 0, 10, 0, 0 },
	{ "-", 0, 10, 0, 0 },
	{ "1..2", 0, 10, 0, 0 },
	{ "1.2.3", 0, 10, 0, 0 },
	{ "1e3", 0, 1e6, 0, 0 },
	{ "inf", 0, 1e300, 0, 0 },
	{ "nan", 0, 10, 0, 0 },
	{ "0x1p3", 0, 100, 0, 0 },
	{ "+1", 0, 10, 0, 0 },
	{ " 1", 0, 10, 0, 0 },
	{ "1 ", 0, 10, 0, 0 },
	{ "0,5", 0, 10, 0, 0 },
	{ "99999999999999999999", 0, 1e30, 0, 0 }, /* more digits than a double holds */
	{ "0.00000000000000000000001", 0, 1, 0, 0 },
};

START_TEST(test_parse_double)
{
	double out = -42.0;
	int r = parse_double(double_cases[_i].s, double_cases[_i].min, double_cases[_i].max, &out);

	ck_assert_msg((r == 0) == double_cases[_i].ok, "parse_double('%s') returned %d",
	    double_cases[_i].s, r);
	/* Exact: the parser is correctly rounded, like strtod. */
	ck_assert_msg(out == (double_cases[_i].ok ? double_cases[_i].want : -42.0),
	    "parse_double('%s') gave %.17g", double_cases[_i].s, out);
}
END_TEST

static const struct {
	const char *s;
	int ok;
	long want;
} duration_cases[] = {
	{ "0", 1, 0 },
	{ "500ms", 1, 500 },
	{ "15s", 1, 15000 },
	{ "15m", 1, 900000 },
	{ "1h", 1, 3600000 },
	{ "1d", 1, 86400000 },
	{ "1h30m", 1, 5400000 },
	{ "1d2h3m4s5ms", 1, 93784005 },
	{ "90m", 1, 5400000 },
	{ "0s", 1, 0 },
	{ "0ms", 1, 0 },
	{ "1m1ms", 1, 60001 },
	{ "30d", 1, MAX_DURATION_MS },
	{ "2592000000ms", 1, MAX_DURATION_MS },
	{ "2592000001ms", 0, 0 },
	{ "29d23h59m59s1000ms", 1, MAX_DURATION_MS },
	{ "29d23h59m59s1001ms", 0, 0 },
	{ "31d", 0, 0 },
	{ "720h", 1, MAX_DURATION_MS },
	{ "721h", 0, 0 },
	{ "99999999999999999999999s", 0, 0 },
	{ "9223372036854775807ms", 0, 0 },
	{ "", 0, 0 },
	{ "00", 0, 0 },
	{ "15", 0, 0 },
	{ "15x", 0, 0 },
	{ "15S", 0, 0 },
	{ "-1s", 0, 0 },
	{ "+1s", 0, 0 },
	{ "1.5h", 0, 0 },
	{ " 15s", 0, 0 },
	{ "15s ", 0, 0 },
	{ "1h 30m", 0, 0 },
	{ "h", 0, 0 },
	{ "ms", 0, 0 },
	{ "1hm", 0, 0 },
	{ "30m1h", 0, 0 }, /* units must come largest first */
	{ "1m1m", 0, 0 },
	{ "1s500ms1s", 0, 0 },
	{ "1mss", 0, 0 },
	{ "1h30", 0, 0 },
	{ "1w", 0, 0 },
	{ "1y", 0, 0 },
	{ "1us", 0, 0 },
};

START_TEST(test_parse_duration)
{
	long out = 777;
	int r = parse_duration_ms(duration_cases[_i].s, &out);

	ck_assert_msg((r == 0) == duration_cases[_i].ok, "parse_duration_ms('%s') returned %d",
	    duration_cases[_i].s, r);
	ck_assert_int_eq(out, duration_cases[_i].ok ? duration_cases[_i].want : 777);
}
END_TEST

START_TEST(test_parse_duration_null)
{
	long out = 1;
	ck_assert_int_eq(parse_duration_ms(NULL, &out), -1);
	ck_assert_int_eq(out, 1);
}
END_TEST

static const struct {
	const char *s;
	int ok, index, count;
} shard_cases[] = {
	{ "0/1", 1, 0, 1 },
	{ "0/4", 1, 0, 4 },
	{ "3/4", 1, 3, 4 },
	{ "65535/65536", 1, 65535, 65536 },
	{ "4/4", 0, 0, 0 },
	{ "0/0", 0, 0, 0 },
	{ "0/65537", 0, 0, 0 },
	{ "-1/4", 0, 0, 0 },
	{ "1/-4", 0, 0, 0 },
	{ "+1/4", 0, 0, 0 },
	{ "1/+4", 0, 0, 0 },
	{ "1", 0, 0, 0 },
	{ "/4", 0, 0, 0 },
	{ "1/", 0, 0, 0 },
	{ "/", 0, 0, 0 },
	{ "", 0, 0, 0 },
	{ "1/2/3", 0, 0, 0 },
	{ " 1/4", 0, 0, 0 },
	{ "1 /4", 0, 0, 0 },
	{ "1/ 4", 0, 0, 0 },
	{ "1/4 ", 0, 0, 0 },
	{ "a/4", 0, 0, 0 },
	{ "99999999999999999999/4", 0, 0, 0 },
	{ "1/99999999999999999999", 0, 0, 0 },
};

START_TEST(test_parse_shard)
{
	int idx = -7, cnt = -7;
	int r = parse_shard(shard_cases[_i].s, &idx, &cnt);

	ck_assert_msg((r == 0) == shard_cases[_i].ok, "parse_shard('%s') returned %d",
	    shard_cases[_i].s, r);
	ck_assert_int_eq(idx, shard_cases[_i].ok ? shard_cases[_i].index : -7);
	ck_assert_int_eq(cnt, shard_cases[_i].ok ? shard_cases[_i].count : -7);
}
END_TEST

static const struct {
	long ms;
	const char *want;
} format_cases[] = {
	{ 0, "0s" },
	{ 1, "1ms" },
	{ 500, "500ms" },
	{ 1000, "1s" },
	{ 1500, "1s500ms" },
	{ 60000, "1m" },
	{ 5400000, "1h30m" },
	{ 86400000, "1d" },
	{ 93784005, "1d2h3m4s5ms" },
	{ MAX_DURATION_MS, "30d" },
	{ -1500, "-1s500ms" },
	{ LONG_MIN, "-106751991167d7h12m55s808ms" },
};

START_TEST(test_format_duration)
{
	char buf[64];

	ck_assert_str_eq(format_duration(buf, sizeof buf, format_cases[_i].ms),
	    format_cases[_i].want);
}
END_TEST

/* What format_duration writes, parse_duration_ms reads back. */
START_TEST(test_duration_round_trip)
{
	char buf[64];
	long out = -1;

	if (format_cases[_i].ms < 0)
		return;
	ck_assert_int_eq(parse_duration_ms(format_duration(buf, sizeof buf, format_cases[_i].ms),
			     &out), 0);
	ck_assert_int_eq(out, format_cases[_i].ms);
}
END_TEST

START_TEST(test_format_duration_small_buffer)
{
	char buf[4];

	ck_assert_str_eq(format_duration(buf, sizeof buf, 5400000), "1h");
	ck_assert_str_eq(format_duration(buf, 1, 5400000), "");
	ck_assert_ptr_eq(format_duration(buf, 0, 5), buf);
	ck_assert_str_eq(format_duration(buf, sizeof buf, 1500), "1s");
}
END_TEST

Suite *parse_suite(void)
{
	Suite *s = suite_create("parse");
	TCase *tc = tcase_create("tables");

	tcase_add_loop_test(tc, test_parse_long, 0, N(long_cases));
	tcase_add_test(tc, test_parse_long_null);
	tcase_add_loop_test(tc, test_parse_double, 0, N(double_cases));
	tcase_add_loop_test(tc, test_parse_duration, 0, N(duration_cases));
	tcase_add_test(tc, test_parse_duration_null);
	tcase_add_loop_test(tc, test_parse_shard, 0, N(shard_cases));
	tcase_add_loop_test(tc, test_format_duration, 0, N(format_cases));
	tcase_add_loop_test(tc, test_duration_round_trip, 0, N(format_cases));
	tcase_add_test(tc, test_format_duration_small_buffer);
	suite_add_tcase(s, tc);
	return s;
}
