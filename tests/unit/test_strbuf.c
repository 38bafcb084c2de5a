/* test_strbuf.c - the one string builder: appends, growth, hand-off. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "suites.h"

START_TEST(test_empty_take_is_empty_string)
{
	struct strbuf b = { 0 };
	char *s = strbuf_take(&b);
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, "");
	free(s);
	ck_assert_ptr_null(b.p);
	ck_assert_uint_eq(b.len, 0);
}
END_TEST

START_TEST(test_appends_and_growth)
{
	struct strbuf b = { 0 };
	char want[4096 + 1];
	size_t n = 0;
	strbuf_put(&b, "ab\0c", 4); /* bytes, NULs included */
	ck_assert_uint_eq(b.len, 4);
	ck_assert_int_eq(memcmp(b.p, "ab\0c", 5), 0);
	b.len = 0; /* start over in place */
	for (int i = 0; i < 512; i++) {
		strbuf_printf(&b, "%03d,", i % 1000);
		n += (size_t)snprintf(want + n, sizeof want - n, "%03d,", i % 1000);
		ck_assert_uint_eq(b.len, n);
		ck_assert_int_eq(b.p[b.len], '\0');
	}
	strbuf_puts(&b, "end");
	n += (size_t)snprintf(want + n, sizeof want - n, "end");
	ck_assert_uint_ge(b.cap, b.len + 1);
	char *s = strbuf_take(&b);
	ck_assert_str_eq(s, want);
	free(s);
	ck_assert_ptr_null(b.p);
}
END_TEST

/* One printf longer than the first allocation, and one exactly filling it. */
START_TEST(test_printf_sizes)
{
	struct strbuf b = { 0 };
	char big[300];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	strbuf_printf(&b, "%s|%d", big, 7);
	ck_assert_uint_eq(b.len, sizeof big - 1 + 2);
	ck_assert_str_eq(b.p + sizeof big - 1, "|7");
	char *s = strbuf_take(&b);
	free(s);
	strbuf_printf(&b, "%.*s", 63, big); /* 63 bytes + NUL = the first allocation */
	ck_assert_uint_eq(b.len, 63);
	strbuf_printf(&b, "%s", "");
	ck_assert_uint_eq(b.len, 63);
	s = strbuf_take(&b);
	ck_assert_uint_eq(strlen(s), 63);
	free(s);
}
END_TEST

/* Once an append failed, nothing more is kept and the result is NULL. */
START_TEST(test_oom_sticks)
{
	struct strbuf b = { 0 };
	strbuf_puts(&b, "kept so far");
	b.oom = 1; /* as after a failed realloc */
	strbuf_puts(&b, "more");
	strbuf_printf(&b, "%d", 1);
	ck_assert_uint_eq(b.len, strlen("kept so far"));
	ck_assert_ptr_null(strbuf_take(&b));
	ck_assert_int_eq(b.oom, 0); /* empty again */
	ck_assert_ptr_null(b.p);
}
END_TEST

Suite *strbuf_suite(void)
{
	Suite *s = suite_create("strbuf");
	TCase *tc = tcase_create("strbuf");
	tcase_add_test(tc, test_empty_take_is_empty_string);
	tcase_add_test(tc, test_appends_and_growth);
	tcase_add_test(tc, test_printf_sizes);
	tcase_add_test(tc, test_oom_sticks);
	suite_add_tcase(s, tc);
	return s;
}
