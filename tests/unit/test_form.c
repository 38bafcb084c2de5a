/* test_form.c - tables for form_append (x-www-form-urlencoded). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "form.h"
#include "suites.h"

/* Generous: CI runs the suite under sanitizers and valgrind, maybe on a loaded machine. */
#define TCASE_TIMEOUT_S 60

struct form_case {
	const char *start; /* initial *buf; NULL = no buffer yet */
	const char *name, *value;
	const char *want;
};

static const struct form_case form_cases[] = {
	{ NULL, "token", "abc", "token=abc" },
	{ "", "token", "abc", "token=abc" },
	{ "x=1", "a", "b", "x=1&a=b" },
	{ "x=1", "a", "", "x=1&a=" },
	{ NULL, "", "", "=" },
	{ NULL, "a", "hello world", "a=hello+world" },
	{ NULL, "a", " ", "a=+" },
	{ NULL, "a", "x&y=z", "a=x%26y%3Dz" },
	{ NULL, "a&b", "c", "a%26b=c" },
	{ NULL, "a=b", "c", "a%3Db=c" },
	{ NULL, "a", "1+1", "a=1%2B1" },
	{ NULL, "a", "100%", "a=100%25" },
	{ NULL, "a", "%41", "a=%2541" },
	{ NULL, "a", "-._*", "a=-._*" },
	{ NULL, "a", "~!'()", "a=%7E%21%27%28%29" },
	{ NULL, "a", "AZaz09", "a=AZaz09" },
	{ NULL, "a", "/+=", "a=%2F%2B%3D" }, /* base64 tokens */
	{ NULL, "a", "caf\xC3\xA9", "a=caf%C3%A9" },
	{ NULL, "a", "\xE2\x80\xA6", "a=%E2%80%A6" },
	{ NULL, "a", "\xFF\xFE\x80", "a=%FF%FE%80" }, /* invalid UTF-8: bytes as they are */
	{ NULL, "a", "\x01\x1F\x7F", "a=%01%1F%7F" },
	{ NULL, "a", "\r\n", "a=%0D%0A" },
	{ NULL, "a", "\t", "a=%09" },
	{ NULL, "a", "\"<>#?[]{}|\\^`", "a=%22%3C%3E%23%3F%5B%5D%7B%7D%7C%5C%5E%60" },
	{ NULL, "fingerprint", "my fp/1", "fingerprint=my+fp%2F1" },
	{ NULL, NULL, "v", "=v" },
	{ NULL, "n", NULL, "n=" },
	{ "token=a&fingerprint=b", "ciclo", "1", "token=a&fingerprint=b&ciclo=1" },
};

START_TEST(test_form_table)
{
	const struct form_case *c = &form_cases[_i];
	char *buf = c->start != NULL ? strdup(c->start) : NULL;

	ck_assert(c->start == NULL || buf != NULL);
	ck_assert_int_eq(form_append(&buf, c->name, c->value), 0);
	ck_assert_ptr_nonnull(buf);
	ck_assert_str_eq(buf, c->want);
	free(buf);
}
END_TEST

/* Decodes x-www-form-urlencoded in place: '+' to space, %XX to a byte. Returns the length. */
static size_t form_decode(char *s)
{
	char *o = s;

	for (char *p = s; *p != '\0'; p++) {
		if (*p == '+')
			*o++ = ' ';
		else if (*p == '%' && p[1] != '\0' && p[2] != '\0') {
			char hex[3] = { p[1], p[2], '\0' };

			*o++ = (char)strtol(hex, NULL, 16);
			p += 2;
		} else
			*o++ = *p;
	}
	*o = '\0';
	return (size_t)(o - s);
}

/* Every byte 1..255 survives encoding, and only the allowed bytes appear unescaped. */
START_TEST(test_form_all_bytes_roundtrip)
{
	char value[256];
	char *buf = NULL;

	for (int b = 1; b < 256; b++)
		value[b - 1] = (char)b;
	value[255] = '\0';
	ck_assert_int_eq(form_append(&buf, "v", value), 0);
	ck_assert_ptr_nonnull(buf);
	for (const char *p = buf; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		ck_assert_msg(c > 0x20 && c < 0x7F, "byte 0x%02x not escaped", c);
		ck_assert_msg(strchr("&;\"'<>\\", c) == NULL, "raw '%c'", c);
	}
	ck_assert_int_eq(strncmp(buf, "v=", 2), 0);
	ck_assert_uint_eq(form_decode(buf + 2), 255);
	ck_assert_int_eq(memcmp(buf + 2, value, 255), 0);
	free(buf);
}
END_TEST

/* A long value: exact length (3 bytes per escaped byte), no truncation. */
START_TEST(test_form_large)
{
	size_t n = 300000;
	char *value = malloc(n + 1);
	char *buf = NULL;

	ck_assert_ptr_nonnull(value);
	for (size_t i = 0; i < n; i++)
		value[i] = (i % 2) ? '&' : 'a';
	value[n] = '\0';
	ck_assert_int_eq(form_append(&buf, "token", value), 0);
	ck_assert_uint_eq(strlen(buf), strlen("token=") + n / 2 + 3 * (n / 2));
	ck_assert_int_eq(form_append(&buf, "x", "y"), 0);
	ck_assert_str_eq(buf + strlen(buf) - 4, "&x=y");
	free(buf);
	free(value);
}
END_TEST

/* Many appends in a row keep order and separators. */
START_TEST(test_form_many_appends)
{
	char *buf = NULL;
	char name[16];

	for (int i = 0; i < 1000; i++) {
		(void)snprintf(name, sizeof name, "k%d", i);
		ck_assert_int_eq(form_append(&buf, name, "v v"), 0);
	}
	ck_assert_int_eq(strncmp(buf, "k0=v+v&k1=v+v&", 14), 0);
	ck_assert_str_eq(buf + strlen(buf) - 9, "&k999=v+v");
	free(buf);
}
END_TEST

START_TEST(test_form_null_buf)
{
	ck_assert_int_eq(form_append(NULL, "a", "b"), -1);
}
END_TEST

Suite *form_suite(void)
{
	Suite *s = suite_create("form");
	TCase *tc = tcase_create("encode");
	tcase_set_timeout(tc, TCASE_TIMEOUT_S);

	tcase_add_loop_test(tc, test_form_table, 0, (int)(sizeof form_cases / sizeof form_cases[0]));
	tcase_add_test(tc, test_form_all_bytes_roundtrip);
	tcase_add_test(tc, test_form_large);
	tcase_add_test(tc, test_form_many_appends);
	tcase_add_test(tc, test_form_null_buf);
	suite_add_tcase(s, tc);
	return s;
}
