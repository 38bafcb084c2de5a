/* test_cookies.c - tables for stored-cookie JSON, Set-Cookie parsing, the Cookie header and capture. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cookies.h"
#include "defaults.h"
#include "suites.h"

/* Generous: CI runs the suite under sanitizers and valgrind, maybe on a loaded machine. */
#define TCASE_TIMEOUT_S 60

/* A string literal with its length, so that embedded NULs count. */
#define S(lit) lit, sizeof(lit) - 1

struct json_case {
	const char *in;
	size_t len;
	int rc;
	const char *json; /* cookies_to_json after parsing (rc 0) */
	const char *header; /* cookies_header after parsing (rc 0) */
};

static const struct json_case json_cases[] = {
	/* empty jars */
	{ S(""), 0, "[]", "" },
	{ S("   \n\t"), 0, "[]", "" },
	{ S("null"), 0, "[]", "" },
	{ S("[]"), 0, "[]", "" },
	{ S("{}"), 0, "[]", "" },
	{ S(" [ ] \n"), 0, "[]", "" },
	{ S("{ }"), 0, "[]", "" },
	/* well-formed */
	{ S("[{\"name\":\"a\",\"value\":\"b\"}]"), 0, "[{\"name\":\"a\",\"value\":\"b\"}]", "a=b" },
	{ S("[{\"value\":\"b\",\"name\":\"a\"}]"), 0, "[{\"name\":\"a\",\"value\":\"b\"}]", "a=b" },
	{ S("[{\"name\":\"AWSALB\",\"value\":\"x/y+z==\"},{\"name\":\"s\",\"value\":\"\"}]"), 0,
	    "[{\"name\":\"AWSALB\",\"value\":\"x/y+z==\"},{\"name\":\"s\",\"value\":\"\"}]",
	    "AWSALB=x/y+z==; s=" },
	{ S("[ {\"name\" : \"a\" , \"value\" : \"b c\"} ]\n"), 0,
	    "[{\"name\":\"a\",\"value\":\"b c\"}]", "a=b c" },
	{ S("[{\"name\":\"a\",\"value\":\"caf\\u00e9\"}]"), 0,
	    "[{\"name\":\"a\",\"value\":\"caf\xC3\xA9\"}]", "a=caf\xC3\xA9" },
	{ S("[{\"name\":\"a\",\"value\":\"q\\\"b\\\\s\"}]"), 0,
	    "[{\"name\":\"a\",\"value\":\"q\\\"b\\\\s\"}]", "a=q\"b\\s" },
	{ S("[{\"name\":\"a\",\"value\":\"\\\"quoted\\\"\"}]"), 0,
	    "[{\"name\":\"a\",\"value\":\"\\\"quoted\\\"\"}]", "a=\"quoted\"" },
	/* extra keys: sent, and written back as they were */
	{ S("[{\"name\":\"a\",\"value\":\"b\",\"path\":\"/\",\"secure\":true}]"), 0,
	    "[{\"name\":\"a\",\"value\":\"b\",\"path\":\"/\",\"secure\":true}]", "a=b" },
	/* duplicate keys: the last one wins (as in JSON.parse) */
	{ S("[{\"name\":\"a\",\"name\":\"b\",\"value\":\"c\"}]"), 0,
	    "[{\"name\":\"b\",\"value\":\"c\"}]", "b=c" },
	/* entries kept raw and not sent */
	{ S("[{\"name\":\"a\"}]"), 0, "[{\"name\":\"a\"}]", "" },
	{ S("[{\"value\":\"v\"}]"), 0, "[{\"value\":\"v\"}]", "" },
	{ S("[{\"name\":\"a\",\"value\":1}]"), 0, "[{\"name\":\"a\",\"value\":1}]", "" },
	{ S("[{\"name\":\"a\",\"value\":null}]"), 0, "[{\"name\":\"a\",\"value\":null}]", "" },
	{ S("[{\"name\":1,\"value\":\"v\"}]"), 0, "[{\"name\":1,\"value\":\"v\"}]", "" },
	{ S("[{\"name\":\"a\",\"value\":{\"x\":[1,2]}}]"), 0,
	    "[{\"name\":\"a\",\"value\":{\"x\":[1,2]}}]", "" },
	{ S("[\"x=y\"]"), 0, "[\"x=y\"]", "" },
	{ S("[null,1,true,[2]]"), 0, "[null,1,true,[2]]", "" },
	{ S("[\"a/b\"]"), 0, "[\"a/b\"]", "" },
	{ S("[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]"), 0, "[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]", "" },
	{ S("[\"\\ud800\"]"), 0, "[\"\xEF\xBF\xBD\"]", "" }, /* lone surrogate: U+FFFD */
	{ S("[{\"name\":\"a\",\"value\":\"\\ud83d\\ude00\"}]"), 0,
	    "[{\"name\":\"a\",\"value\":\"\xF0\x9F\x98\x80\"}]", "a=\xF0\x9F\x98\x80" },
	{ S("[{\"name\":\"a\\u0000b\",\"value\":\"v\"}]"), 0,
	    "[{\"name\":\"a\\u0000b\",\"value\":\"v\"}]", "" },
	{ S("[{\"name\":\"a\",\"value\":\"v\\u0000evil\"}]"), 0,
	    "[{\"name\":\"a\",\"value\":\"v\\u0000evil\"}]", "" },
	/* raw entries keep their place among good ones */
	{ S("[{\"name\":\"a\",\"value\":\"1\"},42,{\"name\":\"b\",\"value\":\"2\"}]"), 0,
	    "[{\"name\":\"a\",\"value\":\"1\"},42,{\"name\":\"b\",\"value\":\"2\"}]", "a=1; b=2" },
	/* kept, but never put into the Cookie header (header injection) */
	{ S("[{\"name\":\"a\",\"value\":\"x; evil=1\"},{\"name\":\"ok\",\"value\":\"1\"}]"), 0,
	    "[{\"name\":\"a\",\"value\":\"x; evil=1\"},{\"name\":\"ok\",\"value\":\"1\"}]", "ok=1" },
	{ S("[{\"name\":\"a\",\"value\":\"x\\r\\nX-Evil: 1\"}]"), 0,
	    "[{\"name\":\"a\",\"value\":\"x\\u000d\\u000aX-Evil: 1\"}]", "" },
	{ S("[{\"name\":\"a\\nb\",\"value\":\"v\"}]"), 0, "[{\"name\":\"a\\u000ab\",\"value\":\"v\"}]",
	    "" },
	{ S("[{\"name\":\"a;b\",\"value\":\"v\"}]"), 0, "[{\"name\":\"a;b\",\"value\":\"v\"}]", "" },
	{ S("[{\"name\":\"a=b\",\"value\":\"v\"}]"), 0, "[{\"name\":\"a=b\",\"value\":\"v\"}]", "" },
	{ S("[{\"name\":\"\",\"value\":\"v\"}]"), 0, "[{\"name\":\"\",\"value\":\"v\"}]", "" },
	{ S("[{\"name\":\"a\",\"value\":\"tab\\there\"}]"), 0,
	    "[{\"name\":\"a\",\"value\":\"tab\\u0009here\"}]", "" },
	/* rejected */
	{ S("{\"a\":1}"), -1, NULL, NULL },
	{ S("{\"name\":\"a\",\"value\":\"b\"}"), -1, NULL, NULL },
	{ S("\"[{\\\"name\\\":\\\"a\\\",\\\"value\\\":\\\"b\\\"}]\""), -1, NULL, NULL },
	{ S("\"\""), -1, NULL, NULL },
	{ S("42"), -1, NULL, NULL },
	{ S("-1.5e3"), -1, NULL, NULL },
	{ S("true"), -1, NULL, NULL },
	{ S("["), -1, NULL, NULL },
	{ S("[{\"name\":\"a\",\"value\":\"b\"}"), -1, NULL, NULL },
	{ S("[1]]"), -1, NULL, NULL },
	{ S("[] x"), -1, NULL, NULL },
	{ S("[] []"), -1, NULL, NULL },
	{ S("[1,]"), -1, NULL, NULL },
	{ S("nul"), -1, NULL, NULL },
	{ S("<html>"), -1, NULL, NULL },
	{ S("[]\0"), -1, NULL, NULL },
	{ S("[\"a\0b\"]"), -1, NULL, NULL },
	{ S("\0[]"), -1, NULL, NULL },
	{ S("[\"\xff\xfe\"]"), -1, NULL, NULL }, /* invalid UTF-8 cannot be stored as jsonb */
	{ S("[\"\xC0\xAF\"]"), -1, NULL, NULL },
	{ S("\xEF\xBB\xBF[]"), -1, NULL, NULL }, /* a BOM is not JSON */
};

START_TEST(test_parse_json_table)
{
	const struct json_case *c = &json_cases[_i];
	struct cookie_jar *jar = cookies_new();
	char err[256] = "untouched";
	char *json, *header;
	int rc;

	ck_assert_ptr_nonnull(jar);
	rc = cookies_parse_json(jar, c->in, c->len, err, sizeof err);
	ck_assert_msg(rc == c->rc, "case %d: rc %d, want %d (%s)", _i, rc, c->rc, err);
	if (rc == 0) {
		json = cookies_to_json(jar);
		header = cookies_header(jar);
		ck_assert_ptr_nonnull(json);
		ck_assert_ptr_nonnull(header);
		ck_assert_str_eq(json, c->json);
		ck_assert_str_eq(header, c->header);
		free(json);
		free(header);
	} else {
		ck_assert_uint_gt(strlen(err), 0);
		ck_assert_ptr_null(strchr(err, '\n'));
		ck_assert_uint_eq(jar->n, 0);
	}
	cookies_free(jar);
}
END_TEST

/* Whatever to_json writes must parse back, as JSON, to the same jar. */
START_TEST(test_to_json_roundtrip)
{
	const struct json_case *c = &json_cases[_i];
	struct cookie_jar *a = cookies_new(), *b = cookies_new();
	char err[128];
	char *j1, *j2;

	if (c->rc != 0) {
		cookies_free(a);
		cookies_free(b);
		return;
	}
	ck_assert_int_eq(cookies_parse_json(a, c->in, c->len, err, sizeof err), 0);
	j1 = cookies_to_json(a);
	ck_assert_int_eq(cookies_parse_json(b, j1, strlen(j1), err, sizeof err), 0);
	j2 = cookies_to_json(b);
	ck_assert_str_eq(j1, j2);
	free(j1);
	free(j2);
	cookies_free(a);
	cookies_free(b);
}
END_TEST

/* Reasons never carry a cookie value. */
START_TEST(test_parse_json_err_no_values)
{
	static const char *bad[] = {
		"{\"name\":\"n\",\"value\":\"SECRETVALUE\"}",
		"\"SECRETVALUE\"",
		"[{\"name\":\"n\",\"value\":\"SECRETVALUE\"}",
		"[{\"name\":\"n\",\"value\":\"SECRETVALUE\"}] SECRETVALUE",
		"SECRETVALUE",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct cookie_jar *jar = cookies_new();
		char err[256];

		ck_assert_int_eq(cookies_parse_json(jar, bad[i], strlen(bad[i]), err, sizeof err), -1);
		ck_assert_ptr_null(strstr(err, "SECRET"));
		cookies_free(jar);
	}
}
END_TEST

/* Oversized input is refused before parsing; exactly the limit is fine. */
START_TEST(test_parse_json_size_limit)
{
	size_t n = MAX_COOKIES_JSON_BYTES;
	char *buf = malloc(n + 2);
	const char *entry = "{\"name\":\"SECRETNAME\",\"value\":\"SECRETVALUE\"}";
	struct cookie_jar *jar = cookies_new();
	char err[256];
	size_t o = 0;

	ck_assert_ptr_nonnull(buf);
	buf[o++] = '[';
	while (o + strlen(entry) + 2 < n) {
		if (o > 1)
			buf[o++] = ',';
		memcpy(buf + o, entry, strlen(entry));
		o += strlen(entry);
	}
	buf[o++] = ']';
	while (o < n)
		buf[o++] = ' ';
	ck_assert_int_eq(cookies_parse_json(jar, buf, n, err, sizeof err), 0);
	ck_assert_uint_gt(jar->n, 1000);
	cookies_free(jar);

	jar = cookies_new();
	buf[n] = ' ';
	ck_assert_int_eq(cookies_parse_json(jar, buf, n + 1, err, sizeof err), -1);
	ck_assert_ptr_null(strstr(err, "SECRET"));
	ck_assert_uint_eq(jar->n, 0);
	cookies_free(jar);
	free(buf);
}
END_TEST

/* 10000-deep nesting, as the whole input or inside an entry: refused, no crash. */
START_TEST(test_parse_json_deep)
{
	static const char head[] = "[{\"name\":\"a\",\"value\":\"b\"},";
	size_t depth = 10000, o = 0;
	char *buf = malloc(sizeof head + 6 * depth);
	struct cookie_jar *jar = cookies_new();
	char err[256];

	ck_assert_ptr_nonnull(buf);
	for (size_t i = 0; i < depth; i++)
		buf[o++] = '[';
	for (size_t i = 0; i < depth; i++)
		buf[o++] = ']';
	ck_assert_int_eq(cookies_parse_json(jar, buf, o, err, sizeof err), -1);
	ck_assert_uint_eq(jar->n, 0);

	/* {"k":{"k":...1...}} as the second entry */
	memcpy(buf, head, sizeof head - 1);
	o = sizeof head - 1;
	for (size_t i = 0; i < depth / 2; i++) {
		memcpy(buf + o, "{\"k\":", 5);
		o += 5;
	}
	buf[o++] = '1';
	for (size_t i = 0; i < depth / 2; i++)
		buf[o++] = '}';
	buf[o++] = ']';
	ck_assert_int_eq(cookies_parse_json(jar, buf, o, err, sizeof err), -1);
	ck_assert_uint_eq(jar->n, 0);
	cookies_free(jar);
	free(buf);
}
END_TEST

/* Binary garbage of every byte value: refused (or an empty jar), never a crash. */
START_TEST(test_parse_json_binary)
{
	char buf[4096];
	uint64_t x = 88172645463325252ULL;

	for (int round = 0; round < 200; round++) {
		struct cookie_jar *jar = cookies_new();
		char err[256];
		size_t n = (size_t)(round * 20) % sizeof buf;
		int rc;

		for (size_t i = 0; i < n; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			buf[i] = (char)(x & 0xFF);
		}
		if (n > 0)
			buf[0] = '[';
		rc = cookies_parse_json(jar, buf, n, err, sizeof err);
		ck_assert(rc == 0 || rc == -1);
		if (rc == -1)
			ck_assert_uint_eq(jar->n, 0);
		cookies_free(jar);
	}
}
END_TEST

/* A NULL err buffer is allowed; NULL input with length is refused. */
START_TEST(test_parse_json_null_args)
{
	struct cookie_jar *jar = cookies_new();

	ck_assert_int_eq(cookies_parse_json(jar, "x", 1, NULL, 0), -1);
	ck_assert_int_eq(cookies_parse_json(jar, NULL, 5, NULL, 0), -1);
	ck_assert_int_eq(cookies_parse_json(jar, NULL, 0, NULL, 0), 0);
	ck_assert_uint_eq(jar->n, 0);
	cookies_free(jar);
	cookies_free(NULL);
}
END_TEST

struct sc_case {
	const char *line;
	size_t len;
	int rc;
	const char *name, *value;
};

static const struct sc_case sc_cases[] = {
	{ S("AWSALB=abc; Expires=Tue, 01 Dec 2026 00:00:00 GMT; Path=/"), 0, "AWSALB", "abc" },
	{ S("AWSALBCORS=abc; Path=/; SameSite=None; Secure"), 0, "AWSALBCORS", "abc" },
	{ S("a=b"), 0, "a", "b" },
	{ S("a=b;"), 0, "a", "b" },
	{ S("  a  =  b c  ; Path=/"), 0, "a", "b c" },
	{ S("\ta=b\t"), 0, "a", "b" },
	{ S("a=b\r\n"), 0, "a", "b" },
	{ S("a="), 0, "a", "" },
	{ S("a=;Path=/"), 0, "a", "" },
	{ S("a=\"quoted\""), 0, "a", "\"quoted\"" },
	{ S("a=b=c"), 0, "a", "b=c" },
	{ S("a=x/y+z=="), 0, "a", "x/y+z==" },
	{ S("a=caf\xC3\xA9"), 0, "a", "caf\xC3\xA9" },
	{ S("__Host-x=1"), 0, "__Host-x", "1" },
	{ S("a=b; c=d"), 0, "a", "b" },
	{ S("a=b\0; Path=/"), -1, NULL, NULL }, /* NUL in the value */
	{ S("a\0=b"), -1, NULL, NULL },
	{ S("a=b\r\nSet-Cookie: evil=1"), -1, NULL, NULL },
	{ S("a=b\nc"), -1, NULL, NULL },
	{ S("a=b\x01"), -1, NULL, NULL },
	{ S("a=b\x7F"), -1, NULL, NULL },
	{ S("a=b\tc"), -1, NULL, NULL },
	{ S("a=\xFF"), -1, NULL, NULL },
	{ S("a=\xC3"), -1, NULL, NULL },
	{ S("a=\xED\xA0\x80"), -1, NULL, NULL }, /* a UTF-16 surrogate */
	{ S("\xC3\xA9=x"), -1, NULL, NULL },
	{ S(""), -1, NULL, NULL },
	{ S("   "), -1, NULL, NULL },
	{ S(";"), -1, NULL, NULL },
	{ S("; a=b"), -1, NULL, NULL },
	{ S("noequals"), -1, NULL, NULL },
	{ S("noequals; a=b"), -1, NULL, NULL },
	{ S("=b"), -1, NULL, NULL },
	{ S(" =b"), -1, NULL, NULL },
	{ S("a b=c"), -1, NULL, NULL },
	{ S("a(=c"), -1, NULL, NULL },
	{ S("a)=c"), -1, NULL, NULL },
	{ S("a<=c"), -1, NULL, NULL },
	{ S("a>=c"), -1, NULL, NULL },
	{ S("a@=c"), -1, NULL, NULL },
	{ S("a,=c"), -1, NULL, NULL },
	{ S("a:=c"), -1, NULL, NULL },
	{ S("a\\=c"), -1, NULL, NULL },
	{ S("a\"=c"), -1, NULL, NULL },
	{ S("a/=c"), -1, NULL, NULL },
	{ S("a[=c"), -1, NULL, NULL },
	{ S("a]=c"), -1, NULL, NULL },
	{ S("a?=c"), -1, NULL, NULL },
	{ S("a{=c"), -1, NULL, NULL },
	{ S("a}=c"), -1, NULL, NULL },
	{ S("a\x01=c"), -1, NULL, NULL },
	{ S("a\x7F=c"), -1, NULL, NULL },
};

START_TEST(test_set_cookie_table)
{
	const struct sc_case *c = &sc_cases[_i];
	char *name = (char *)"x", *value = (char *)"x";
	int rc = cookies_parse_set_cookie(c->line, c->len, &name, &value);

	ck_assert_msg(rc == c->rc, "case %d: rc %d want %d", _i, rc, c->rc);
	if (rc == 0) {
		ck_assert_str_eq(name, c->name);
		ck_assert_str_eq(value, c->value);
		free(name);
		free(value);
	} else {
		ck_assert_ptr_null(name);
		ck_assert_ptr_null(value);
	}
}
END_TEST

/* MAX_SET_COOKIE_BYTES is accepted, one byte more is not; NULL is refused. */
START_TEST(test_set_cookie_length)
{
	size_t n = MAX_SET_COOKIE_BYTES;
	char *line = malloc(n + 2);
	char *name, *value;

	memcpy(line, "a=", 2);
	memset(line + 2, 'v', n - 2);
	line[n] = 'v';
	line[n + 1] = '\0';
	ck_assert_int_eq(cookies_parse_set_cookie(line, n, &name, &value), 0);
	ck_assert_uint_eq(strlen(value), n - 2);
	free(name);
	free(value);
	ck_assert_int_eq(cookies_parse_set_cookie(line, n + 1, &name, &value), -1);
	ck_assert_int_eq(cookies_parse_set_cookie(NULL, 0, &name, &value), -1);
	free(line);
}
END_TEST

/* cookies_set: replaces the first of that name, appends otherwise, escapes on output. */
START_TEST(test_set_and_escape)
{
	struct cookie_jar *jar = cookies_new();
	char err[64];
	const char *in = "[{\"name\":\"a\",\"value\":\"1\",\"path\":\"/\"},{\"name\":\"a\",\"value\":\"2\"},7]";
	char *json;
	struct json_object *o;

	ck_assert_int_eq(cookies_parse_json(jar, in, strlen(in), err, sizeof err), 0);
	ck_assert_int_eq(cookies_set(jar, "a", "new"), 0);
	ck_assert_int_eq(cookies_set(jar, "q", "\"\\\x01\n/\xC3\xA9"), 0);
	ck_assert_int_eq(cookies_set(NULL, "a", "b"), -1);
	ck_assert_int_eq(cookies_set(jar, NULL, "b"), -1);
	json = cookies_to_json(jar);
	ck_assert_str_eq(json, "[{\"name\":\"a\",\"value\":\"new\"},{\"name\":\"a\",\"value\":\"2\"},7,"
			       "{\"name\":\"q\",\"value\":\"\\\"\\\\\\u0001\\u000a/\xC3\xA9\"}]");
	o = json_tokener_parse(json);
	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(json_object_array_get_idx(o, 3),
			     "value")),
	    "\"\\\x01\n/\xC3\xA9");
	json_object_put(o);
	free(json);
	cookies_free(jar);
}
END_TEST

struct cap_case {
	const char *stored;
	const char *lines[8];
	size_t nlines;
	int rc;
	const char *want;
};

static char *const capture_names[] = { "AWSALB", "AWSALBCORS" };

static const struct cap_case cap_cases[] = {
	/* replace one, append one, ignore others */
	{ "[{\"name\":\"AWSALB\",\"value\":\"old\"},{\"name\":\"sess\",\"value\":\"s\"}]",
	    { "AWSALB=new; Path=/", "other=x", "AWSALBCORS=c; SameSite=None; Secure" }, 3, 2,
	    "[{\"name\":\"AWSALB\",\"value\":\"new\"},{\"name\":\"sess\",\"value\":\"s\"},"
	    "{\"name\":\"AWSALBCORS\",\"value\":\"c\"}]" },
	/* the same name twice: the last one wins */
	{ "[]", { "AWSALB=first", "AWSALB=second" }, 2, 2, "[{\"name\":\"AWSALB\",\"value\":\"second\"}]" },
	/* names are case-sensitive */
	{ "[]", { "awsalb=x", "AWSALB =y" }, 2, 1, "[{\"name\":\"AWSALB\",\"value\":\"y\"}]" },
	/* malformed and hostile lines are ignored, the rest applied */
	{ "[{\"name\":\"AWSALB\",\"value\":\"old\"}]",
	    { NULL, "", "AWSALB", "AWSALB=x\r\nInjected: 1", "AWSALB=\xFF", "=AWSALB", "AWSALBCORS=ok" },
	    7, 1, "[{\"name\":\"AWSALB\",\"value\":\"old\"},{\"name\":\"AWSALBCORS\",\"value\":\"ok\"}]" },
	/* raw entries and extra keys of others stay where they are */
	{ "[1,{\"name\":\"x\",\"value\":\"y\",\"domain\":\"d\"},{\"name\":\"AWSALB\",\"value\":\"o\",\"path\":\"/\"}]",
	    { "AWSALB=n" }, 1, 1,
	    "[1,{\"name\":\"x\",\"value\":\"y\",\"domain\":\"d\"},{\"name\":\"AWSALB\",\"value\":\"n\"}]" },
	/* stored duplicates: the first is replaced, the second untouched */
	{ "[{\"name\":\"AWSALB\",\"value\":\"1\"},{\"name\":\"AWSALB\",\"value\":\"2\"}]", { "AWSALB=3" }, 1,
	    1, "[{\"name\":\"AWSALB\",\"value\":\"3\"},{\"name\":\"AWSALB\",\"value\":\"2\"}]" },
	/* nothing to capture */
	{ "[{\"name\":\"a\",\"value\":\"b\"}]", { "a=c" }, 1, 0, "[{\"name\":\"a\",\"value\":\"b\"}]" },
	{ "null", { 0 }, 0, 0, "[]" },
};

START_TEST(test_capture_table)
{
	const struct cap_case *c = &cap_cases[_i];
	struct cookie_jar *jar = cookies_new();
	char err[128];
	char *json;

	ck_assert_int_eq(cookies_parse_json(jar, c->stored, strlen(c->stored), err, sizeof err), 0);
	ck_assert_int_eq(cookies_capture(jar, (char *const *)c->lines, c->nlines, capture_names, 2),
	    c->rc);
	json = cookies_to_json(jar);
	ck_assert_str_eq(json, c->want);
	free(json);
	cookies_free(jar);
}
END_TEST

/* Only MAX_SET_COOKIES lines are looked at; an empty names list captures nothing. */
START_TEST(test_capture_limits)
{
	struct cookie_jar *jar = cookies_new();
	char *lines[MAX_SET_COOKIES + 10];
	char *header;

	for (int i = 0; i < MAX_SET_COOKIES + 10; i++)
		lines[i] = (char *)(i < MAX_SET_COOKIES ? "AWSALB=in" : "AWSALBCORS=beyond");
	ck_assert_int_eq(cookies_capture(jar, lines, MAX_SET_COOKIES + 10, capture_names, 2),
	    MAX_SET_COOKIES);
	header = cookies_header(jar);
	ck_assert_str_eq(header, "AWSALB=in");
	free(header);
	ck_assert_int_eq(cookies_capture(jar, lines, 3, NULL, 0), 0);
	ck_assert_int_eq(cookies_capture(jar, NULL, 0, capture_names, 2), 0);
	ck_assert_int_eq(cookies_capture(NULL, lines, 3, capture_names, 2), -1);
	cookies_free(jar);
}
END_TEST

/* A Set-Cookie line far over the limit (and not NUL-terminated within it) is ignored. */
START_TEST(test_capture_huge_line)
{
	struct cookie_jar *jar = cookies_new();
	size_t n = 1 << 20;
	char *line = malloc(n + 1);
	char *lines[1];
	char *json;

	memcpy(line, "AWSALB=", 7);
	memset(line + 7, 'x', n - 7);
	line[n] = '\0';
	lines[0] = line;
	ck_assert_int_eq(cookies_capture(jar, lines, 1, capture_names, 2), 0);
	json = cookies_to_json(jar);
	ck_assert_str_eq(json, "[]");
	free(json);
	free(line);
	cookies_free(jar);
}
END_TEST

/* The empty jar, and a jar of many cookies, in the header. */
START_TEST(test_header_many)
{
	struct cookie_jar *jar = cookies_new();
	char name[16], *header;

	header = cookies_header(jar);
	ck_assert_str_eq(header, "");
	free(header);
	header = cookies_header(NULL);
	ck_assert_str_eq(header, "");
	free(header);
	for (int i = 0; i < 500; i++) {
		(void)snprintf(name, sizeof name, "c%d", i);
		ck_assert_int_eq(cookies_set(jar, name, "v"), 0);
	}
	header = cookies_header(jar);
	ck_assert_int_eq(strncmp(header, "c0=v; c1=v; ", 12), 0);
	ck_assert_str_eq(header + strlen(header) - 8, "; c499=v");
	free(header);
	cookies_free(jar);
}
END_TEST

Suite *cookies_suite(void)
{
	Suite *s = suite_create("cookies");
	TCase *tc = tcase_create("json");
	tcase_set_timeout(tc, TCASE_TIMEOUT_S);

	tcase_add_loop_test(tc, test_parse_json_table, 0, (int)(sizeof json_cases / sizeof json_cases[0]));
	tcase_add_loop_test(tc, test_to_json_roundtrip, 0, (int)(sizeof json_cases / sizeof json_cases[0]));
	tcase_add_test(tc, test_parse_json_err_no_values);
	tcase_add_test(tc, test_parse_json_size_limit);
	tcase_add_test(tc, test_parse_json_deep);
	tcase_add_test(tc, test_parse_json_binary);
	tcase_add_test(tc, test_parse_json_null_args);
	suite_add_tcase(s, tc);

	tc = tcase_create("set_cookie");
	tcase_set_timeout(tc, TCASE_TIMEOUT_S);
	tcase_add_loop_test(tc, test_set_cookie_table, 0, (int)(sizeof sc_cases / sizeof sc_cases[0]));
	tcase_add_test(tc, test_set_cookie_length);
	suite_add_tcase(s, tc);

	tc = tcase_create("merge");
	tcase_set_timeout(tc, TCASE_TIMEOUT_S);
	tcase_add_test(tc, test_set_and_escape);
	tcase_add_loop_test(tc, test_capture_table, 0, (int)(sizeof cap_cases / sizeof cap_cases[0]));
	tcase_add_test(tc, test_capture_limits);
	tcase_add_test(tc, test_capture_huge_line);
	tcase_add_test(tc, test_header_many);
	suite_add_tcase(s, tc);
	return s;
}
