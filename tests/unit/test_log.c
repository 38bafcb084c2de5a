/* test_log.c - tables for log lines (text and JSON, captured from fd 2), redaction and escaping. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "capture.h"
#include "log.h"
#include "suites.h"

/* Generous: CI runs the suite under sanitizers and valgrind, maybe on a loaded machine. */
#define TCASE_TIMEOUT_S 60

/* A string literal with its length, so that embedded NULs count. */
#define S(lit) lit, sizeof(lit) - 1
/* "2026-11-22T20:40:00.123Z" */
#define TS_LEN 24

struct emit {
	enum log_level level;
	const char *ctx;
	const char *msg; /* logged as "%s" */
	const char *raw; /* when set, log_raw(raw) instead */
};

/* Runs one log call with fd 2 redirected to a temp file; returns what it wrote (caller frees). */
static char *capture(const struct emit *e)
{
	struct capture c;

	capture_start(&c);
	if (e->raw != NULL)
		log_raw(e->raw);
	else
		log_msg(e->level, e->ctx, "%s", e->msg);
	return capture_end(&c);
}

/* Checks "YYYY-MM-DDTHH:MM:SS.mmmZ" at s. */
static void check_ts(const char *s)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";

	for (size_t i = 0; i < TS_LEN; i++) {
		if (shape[i] == 'd')
			ck_assert_msg(s[i] >= '0' && s[i] <= '9', "ts '%.24s' at %zu", s, i);
		else
			ck_assert_msg(s[i] == shape[i], "ts '%.24s' at %zu", s, i);
	}
}

/* Exactly one line: one '\n', at the end. */
static void check_one_line(const char *out)
{
	size_t n = strlen(out);

	ck_assert_uint_gt(n, 0);
	ck_assert_ptr_eq(strchr(out, '\n'), out + n - 1);
	ck_assert_ptr_null(strchr(out, '\r'));
}

struct text_case {
	enum log_level threshold, level;
	const char *ctx;
	const char *msg;
	const char *want; /* after "<ts> "; NULL: nothing written */
};

static const struct text_case text_cases[] = {
	{ LOG_LEVEL_INFO, LOG_LEVEL_WARN, NULL, "hello", "warn hello\n" },
	{ LOG_LEVEL_INFO, LOG_LEVEL_ERROR, "row-1", "x", "error [row-1] x\n" },
	{ LOG_LEVEL_INFO, LOG_LEVEL_INFO, "db", "", "info [db] \n" },
	{ LOG_LEVEL_INFO, LOG_LEVEL_INFO, "", "empty ctx", "info empty ctx\n" },
	{ LOG_LEVEL_INFO, LOG_LEVEL_DEBUG, NULL, "hidden", NULL },
	{ LOG_LEVEL_ERROR, LOG_LEVEL_WARN, NULL, "hidden", NULL },
	{ LOG_LEVEL_WARN, LOG_LEVEL_INFO, NULL, "hidden", NULL },
	{ LOG_LEVEL_WARN, LOG_LEVEL_WARN, NULL, "shown", "warn shown\n" },
	{ LOG_LEVEL_DEBUG, LOG_LEVEL_DEBUG, NULL, "d", "debug d\n" },
	{ LOG_LEVEL_ERROR, LOG_LEVEL_ERROR, NULL, "e", "error e\n" },
	/* one event is one line, whatever the message holds */
	{ LOG_LEVEL_INFO, LOG_LEVEL_INFO, NULL, "a\nb", "info a\\nb\n" },
	{ LOG_LEVEL_INFO, LOG_LEVEL_INFO, NULL, "a\r\nb\tc", "info a\\r\\nb\\tc\n" },
	{ LOG_LEVEL_INFO, LOG_LEVEL_INFO, NULL, "\x1b[31mred", "info \\x1b[31mred\n" },
	{ LOG_LEVEL_INFO, LOG_LEVEL_INFO, NULL, "\x01\x7f", "info \\x01\\x7f\n" },
	{ LOG_LEVEL_INFO, LOG_LEVEL_INFO, NULL, "bad \xff\xc3 utf8", "info bad \\xff\\xc3 utf8\n" },
	{ LOG_LEVEL_INFO, LOG_LEVEL_INFO, NULL, "\xed\xa0\x80", "info \\xed\\xa0\\x80\n" },
	{ LOG_LEVEL_INFO, LOG_LEVEL_INFO, NULL, "token 6923\xe2\x80\xa6(48) caf\xc3\xa9",
	    "info token 6923\xe2\x80\xa6(48) caf\xc3\xa9\n" },
	{ LOG_LEVEL_INFO, LOG_LEVEL_INFO, NULL, "say \"hi\" \\o/", "info say \"hi\" \\o/\n" },
	{ LOG_LEVEL_INFO, LOG_LEVEL_INFO, NULL, "100% done", "info 100% done\n" },
	/* ctx is escaped like any untrusted field */
	{ LOG_LEVEL_INFO, LOG_LEVEL_INFO, "a\nb", "m", "info [a\\x0ab] m\n" },
	{ LOG_LEVEL_INFO, LOG_LEVEL_INFO, "q\"b\\", "m", "info [q\\\"b\\\\] m\n" },
	{ LOG_LEVEL_INFO, LOG_LEVEL_INFO, "\xc3\xa9", "m", "info [\\xc3\\xa9] m\n" },
};

START_TEST(test_text_table)
{
	const struct text_case *c = &text_cases[_i];
	struct emit e = { c->level, c->ctx, c->msg, NULL };
	char *out;

	log_init(LOG_FORMAT_TEXT, c->threshold);
	ck_assert_int_eq(log_get_format(), LOG_FORMAT_TEXT);
	out = capture(&e);
	if (c->want == NULL) {
		ck_assert_str_eq(out, "");
	} else {
		check_one_line(out);
		ck_assert_uint_gt(strlen(out), TS_LEN + 1);
		check_ts(out);
		ck_assert_int_eq(out[TS_LEN], ' ');
		ck_assert_str_eq(out + TS_LEN + 1, c->want);
	}
	free(out);
	log_init(LOG_FORMAT_TEXT, LOG_LEVEL_INFO);
}
END_TEST

struct json_case {
	enum log_level level;
	const char *ctx;
	const char *msg;
	const char *want_msg; /* decoded */
	const char *want_ctx; /* decoded; NULL: no ctx key */
};

static const struct json_case json_cases[] = {
	{ LOG_LEVEL_WARN, NULL, "hello", "hello", NULL },
	{ LOG_LEVEL_ERROR, "row-1", "x", "x", "row-1" },
	{ LOG_LEVEL_INFO, "db", "", "", "db" },
	{ LOG_LEVEL_INFO, NULL, "say \"hi\" \\o/", "say \"hi\" \\o/", NULL },
	{ LOG_LEVEL_INFO, NULL, "a\nb\r\tc", "a\nb\r\tc", NULL },
	{ LOG_LEVEL_INFO, NULL, "\x01\x1b\x1f\x7f", "\x01\x1b\x1f\x7f", NULL },
	{ LOG_LEVEL_INFO, NULL, "6923\xe2\x80\xa6(48) caf\xc3\xa9 \xf0\x9f\x98\x80",
	    "6923\xe2\x80\xa6(48) caf\xc3\xa9 \xf0\x9f\x98\x80", NULL },
	{ LOG_LEVEL_INFO, NULL, "bad \xff utf8", "bad \\xff utf8", NULL },
	{ LOG_LEVEL_INFO, NULL, "\xc0\xaf", "\\xc0\\xaf", NULL },
	{ LOG_LEVEL_INFO, NULL, "</script>", "</script>", NULL },
	{ LOG_LEVEL_INFO, "q\"b", "m", "m", "q\\\"b" },
	{ LOG_LEVEL_INFO, "a\nb", "m", "m", "a\\x0ab" },
	{ LOG_LEVEL_DEBUG, NULL, "hidden", NULL, NULL },
};

/* Parses one JSON log line strictly (valid UTF-8 required). Caller puts. */
static struct json_object *parse_line(const char *out)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o;

	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	/* Everything but the final newline is one JSON object. */
	o = json_tokener_parse_ex(tok, out, (int)strlen(out) - 1);
	ck_assert_msg(o != NULL && json_tokener_get_error(tok) == json_tokener_success,
	    "not JSON: %s", out);
	ck_assert_uint_eq(json_tokener_get_parse_end(tok), strlen(out) - 1);
	json_tokener_free(tok);
	return o;
}

static const char *get_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return NULL;
	ck_assert(json_object_is_type(v, json_type_string));
	return json_object_get_string(v);
}

START_TEST(test_json_table)
{
	const struct json_case *c = &json_cases[_i];
	struct emit e = { c->level, c->ctx, c->msg, NULL };
	struct json_object *o;
	char *out;

	log_init(LOG_FORMAT_JSON, LOG_LEVEL_INFO);
	ck_assert_int_eq(log_get_format(), LOG_FORMAT_JSON);
	out = capture(&e);
	if (c->want_msg == NULL) {
		ck_assert_str_eq(out, "");
		free(out);
		return;
	}
	check_one_line(out);
	ck_assert_int_eq(strncmp(out, "{\"ts\":\"", 7), 0);
	o = parse_line(out);
	ck_assert_int_eq(json_object_object_length(o), c->want_ctx ? 4 : 3);
	check_ts(get_str(o, "ts"));
	ck_assert_uint_eq(strlen(get_str(o, "ts")), TS_LEN);
	ck_assert_str_eq(get_str(o, "level"), log_level_name(c->level));
	ck_assert_str_eq(get_str(o, "msg"), c->want_msg);
	if (c->want_ctx != NULL)
		ck_assert_str_eq(get_str(o, "ctx"), c->want_ctx);
	else
		ck_assert_ptr_null(get_str(o, "ctx"));
	json_object_put(o);
	free(out);
	log_init(LOG_FORMAT_TEXT, LOG_LEVEL_INFO);
}
END_TEST

/* Messages far over the 2 KiB cap: one bounded line, cut with "...", no broken UTF-8. */
START_TEST(test_long_messages)
{
	static const char *units[] = { "a", "\n", "\xc3\xa9", "\xe2\x80\xa6", "\"", "\x01", "\xff" };
	char *msg = malloc(30001);

	ck_assert_ptr_nonnull(msg);
	for (size_t u = 0; u < sizeof units / sizeof units[0]; u++) {
		size_t ul = strlen(units[u]), n = 0;
		struct emit e = { LOG_LEVEL_WARN, "ctx", msg, NULL };
		char *out;
		struct json_object *o;
		const char *m;

		while (n + ul <= 30000) {
			memcpy(msg + n, units[u], ul);
			n += ul;
		}
		msg[n] = '\0';

		log_init(LOG_FORMAT_TEXT, LOG_LEVEL_INFO);
		out = capture(&e);
		check_one_line(out);
		ck_assert_uint_lt(strlen(out), 16384);
		ck_assert_str_eq(out + strlen(out) - 4, "...\n");
		free(out);

		log_init(LOG_FORMAT_JSON, LOG_LEVEL_INFO);
		out = capture(&e);
		check_one_line(out);
		ck_assert_uint_lt(strlen(out), 16384);
		o = parse_line(out); /* valid UTF-8 even when cut inside a character */
		m = get_str(o, "msg");
		ck_assert_uint_le(strlen(m), 5 * 2048);
		ck_assert_str_eq(m + strlen(m) - 3, "...");
		json_object_put(o);
		free(out);
	}
	/* A huge ctx is cut too. */
	memset(msg, 'c', 30000);
	msg[30000] = '\0';
	{
		struct emit e = { LOG_LEVEL_WARN, msg, "m", NULL };
		char *out;

		log_init(LOG_FORMAT_TEXT, LOG_LEVEL_INFO);
		out = capture(&e);
		check_one_line(out);
		ck_assert_uint_lt(strlen(out), 400);
		ck_assert_ptr_nonnull(strstr(out, "...] m\n"));
		free(out);
	}
	free(msg);
	log_init(LOG_FORMAT_TEXT, LOG_LEVEL_INFO);
}
END_TEST

/* Every byte value 1..255 in a message: still one valid line in both forms. */
START_TEST(test_all_bytes)
{
	char msg[256];
	struct emit e = { LOG_LEVEL_ERROR, NULL, msg, NULL };
	struct json_object *o;
	char *out;

	for (int b = 1; b < 256; b++)
		msg[b - 1] = (char)b;
	msg[255] = '\0';
	log_init(LOG_FORMAT_TEXT, LOG_LEVEL_INFO);
	out = capture(&e);
	check_one_line(out);
	for (const char *p = out; *p != '\n'; p++)
		ck_assert_msg((unsigned char)*p >= 0x20 && (unsigned char)*p != 0x7f, "raw control byte");
	free(out);
	log_init(LOG_FORMAT_JSON, LOG_LEVEL_INFO);
	out = capture(&e);
	check_one_line(out);
	o = parse_line(out);
	json_object_put(o);
	free(out);
	log_init(LOG_FORMAT_TEXT, LOG_LEVEL_INFO);
}
END_TEST

/* Formatting really goes through printf; errno survives a log call. */
START_TEST(test_format_args)
{
	struct capture c;
	char *out;

	log_init(LOG_FORMAT_TEXT, LOG_LEVEL_INFO);
	capture_start(&c);
	errno = 42;
	log_info("ctx", "n=%d s=%s z=%zu", -5, "str", (size_t)7);
	ck_assert_int_eq(errno, 42);
	out = capture_end(&c);
	ck_assert_uint_gt(strlen(out), TS_LEN + 1);
	ck_assert_str_eq(out + TS_LEN + 1, "info [ctx] n=-5 s=str z=7\n");
	free(out);
}
END_TEST

struct raw_case {
	enum log_format format;
	enum log_level threshold;
	const char *line;
	const char *want;
};

static const struct raw_case raw_cases[] = {
	{ LOG_FORMAT_TEXT, LOG_LEVEL_INFO, "summary: due=1 refreshed=1", "summary: due=1 refreshed=1\n" },
	{ LOG_FORMAT_TEXT, LOG_LEVEL_ERROR, "summary: due=0", "summary: due=0\n" },
	{ LOG_FORMAT_JSON, LOG_LEVEL_ERROR, "{\"event\":\"summary\",\"due\":0}",
	    "{\"event\":\"summary\",\"due\":0}\n" },
	{ LOG_FORMAT_TEXT, LOG_LEVEL_INFO, "", "\n" },
	{ LOG_FORMAT_TEXT, LOG_LEVEL_INFO, NULL, "\n" },
};

START_TEST(test_raw_table)
{
	const struct raw_case *c = &raw_cases[_i];
	struct emit e = { LOG_LEVEL_INFO, NULL, NULL, c->line != NULL ? c->line : "" };
	char *out;

	log_init(c->format, c->threshold);
	if (c->line == NULL) {
		/* log_raw(NULL) writes an empty line rather than crash. */
		struct capture cap;

		capture_start(&cap);
		log_raw(NULL);
		out = capture_end(&cap);
		ck_assert_str_eq(out, c->want);
		free(out);
	} else {
		out = capture(&e);
		ck_assert_str_eq(out, c->want);
		free(out);
	}
	log_init(LOG_FORMAT_TEXT, LOG_LEVEL_INFO);
}
END_TEST

struct redact_case {
	const char *secret;
	size_t size;
	const char *want;
};

#define SECRET48 "692345678901234567890123456789012345678901234567"

static const struct redact_case redact_cases[] = {
	{ SECRET48, 64, "6923\xe2\x80\xa6(48)" },
	{ "abcdefghijkl", 64, "abcd\xe2\x80\xa6(12)" },
	{ "abcdefghijk", 64, "\xe2\x80\xa6(11)" },
	{ "short", 64, "\xe2\x80\xa6(5)" },
	{ "", 64, "\xe2\x80\xa6(0)" },
	{ NULL, 64, "(null)" },
	{ "\x01\x02\xff\xc3xxxxxxxxxx", 64, "????\xe2\x80\xa6(14)" },
	{ "ab\ncdefghijklm", 64, "ab?c\xe2\x80\xa6(14)" },
	{ " \x7f~!xxxxxxxx", 64, " ?~!\xe2\x80\xa6(12)" },
	/* small buffers: cut, never inside the ellipsis */
	{ SECRET48, 1, "" },
	{ SECRET48, 5, "6923" },
	{ SECRET48, 7, "6923" },
	{ SECRET48, 8, "6923\xe2\x80\xa6" },
	{ SECRET48, 11, "6923\xe2\x80\xa6(48" },
	{ SECRET48, 12, "6923\xe2\x80\xa6(48)" },
	{ "short", 3, "" },
	{ NULL, 3, "(n" },
};

START_TEST(test_redact_table)
{
	const struct redact_case *c = &redact_cases[_i];
	char buf[64];

	memset(buf, 'Z', sizeof buf);
	ck_assert_ptr_eq(log_redact(buf, c->size, c->secret), buf);
	ck_assert_str_eq(buf, c->want);
	ck_assert_uint_lt(strlen(buf), c->size);
	/* Nothing of the secret past its 4th byte ever shows. */
	if (c->secret != NULL && strlen(c->secret) > 4)
		ck_assert_ptr_null(strstr(buf, c->secret + 4));
}
END_TEST

/* A very long secret: length shown, content not. */
START_TEST(test_redact_long)
{
	size_t n = 100000;
	char *s = malloc(n + 1);
	char buf[64];

	memset(s, 'k', n);
	s[n] = '\0';
	s[0] = 'A';
	ck_assert_str_eq(log_redact(buf, sizeof buf, s), "Akkk\xe2\x80\xa6(100000)");
	free(s);
}
END_TEST

struct escape_case {
	const char *src;
	size_t srclen;
	size_t max, size;
	const char *want;
};

static const struct escape_case escape_cases[] = {
	{ S("abc"), 200, 64, "abc" },
	{ S("a b~"), 200, 64, "a b~" },
	{ S("a\"b\\c"), 200, 64, "a\\\"b\\\\c" },
	{ S("\n"), 200, 64, "\\x0a" },
	{ S("\r\t\x1b\x7f"), 200, 64, "\\x0d\\x09\\x1b\\x7f" },
	{ S("\0"), 200, 64, "\\x00" },
	{ S("a\0b"), 200, 64, "a\\x00b" },
	{ S("\xff\x80"), 200, 64, "\\xff\\x80" },
	{ S("caf\xc3\xa9"), 200, 64, "caf\\xc3\\xa9" },
	{ S(""), 200, 64, "" },
	{ NULL, 5, 200, 64, "" },
	{ "abcdef", 3, 200, 64, "abc" }, /* srclen, not strlen, counts */
	/* cut by max */
	{ S("abcdef"), 3, 64, "abc..." },
	{ S("abcdef"), 6, 64, "abcdef" },
	{ S("abcdef"), 5, 64, "abcde..." },
	{ S("abcdef"), 0, 64, "..." },
	{ S("\n\n\n\n"), 2, 64, "\\x0a\\x0a..." },
	/* cut by the buffer */
	{ S("abcdefgh"), 200, 6, "ab..." },
	{ S("abc"), 200, 4, "abc" },
	{ S("abcd"), 200, 4, "..." },
	{ S("abcd"), 200, 5, "abcd" },
	{ S("abcde"), 200, 5, "a..." },
	{ S("ab"), 200, 1, "" },
	{ S("ab"), 200, 2, "." },
	{ S("\n\n\n"), 200, 10, "\\x0a..." },
	{ S("\n"), 200, 4, "..." },
	{ S("\n"), 200, 5, "\\x0a" },
	{ S("x\"\"\"\""), 200, 8, "x\\\"..." },
};

START_TEST(test_escape_table)
{
	const struct escape_case *c = &escape_cases[_i];
	char buf[128];

	memset(buf, 'Z', sizeof buf);
	ck_assert_ptr_eq(log_escape(buf, c->size, c->src, c->srclen, c->max), buf);
	ck_assert_str_eq(buf, c->want);
	ck_assert_uint_lt(strlen(buf), c->size);
}
END_TEST

/* Random binary input: output is printable ASCII and bounded by the buffer. */
START_TEST(test_escape_binary)
{
	char src[1024], buf[96];
	uint64_t x = 0x9E3779B97F4A7C15ULL;

	for (int round = 0; round < 100; round++) {
		size_t n = (size_t)round * 10;

		for (size_t i = 0; i < n; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			src[i] = (char)(x & 0xFF);
		}
		log_escape(buf, sizeof buf, src, n, 200);
		ck_assert_uint_lt(strlen(buf), sizeof buf);
		for (const char *p = buf; *p != '\0'; p++)
			ck_assert((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
	}
}
END_TEST

START_TEST(test_level_names)
{
	ck_assert_str_eq(log_level_name(LOG_LEVEL_ERROR), "error");
	ck_assert_str_eq(log_level_name(LOG_LEVEL_WARN), "warn");
	ck_assert_str_eq(log_level_name(LOG_LEVEL_INFO), "info");
	ck_assert_str_eq(log_level_name(LOG_LEVEL_DEBUG), "debug");
	ck_assert_str_eq(log_level_name((enum log_level)99), "unknown");
}
END_TEST

Suite *log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("lines");
	tcase_set_timeout(tc, TCASE_TIMEOUT_S);

	tcase_add_loop_test(tc, test_text_table, 0, (int)(sizeof text_cases / sizeof text_cases[0]));
	tcase_add_loop_test(tc, test_json_table, 0, (int)(sizeof json_cases / sizeof json_cases[0]));
	tcase_add_test(tc, test_long_messages);
	tcase_add_test(tc, test_all_bytes);
	tcase_add_test(tc, test_format_args);
	tcase_add_loop_test(tc, test_raw_table, 0, (int)(sizeof raw_cases / sizeof raw_cases[0]));
	tcase_add_test(tc, test_level_names);
	suite_add_tcase(s, tc);

	tc = tcase_create("redact_escape");
	tcase_set_timeout(tc, TCASE_TIMEOUT_S);
	tcase_add_loop_test(tc, test_redact_table, 0, (int)(sizeof redact_cases / sizeof redact_cases[0]));
	tcase_add_test(tc, test_redact_long);
	tcase_add_loop_test(tc, test_escape_table, 0, (int)(sizeof escape_cases / sizeof escape_cases[0]));
	tcase_add_test(tc, test_escape_binary);
	suite_add_tcase(s, tc);
	return s;
}
