/* test_jsonprofile.c - tables for profile json: JSON Pointer lookups (RFC 6901), RFC 3339, templates, requests, judging answers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "config.h"
#include "jsonprofile.h"
#include "jsonutil.h"
#include "profile.h"
#include "suites.h"

/* A string literal with its length, so that embedded NULs count. */
#define S(lit) lit, sizeof(lit) - 1

#define NOW 1700000000LL
#define OLD "rt-OLD-0123456789"
/* {"alg":"none"}.{"exp":1700001800}.sig */
#define JWT "eyJhbGciOiJub25lIn0.eyJleHAiOjE3MDAwMDE4MDB9.c2ln"

/* --- JSON Pointer: RFC 6901 section 5's document, then edge cases ------------------------- */

static const char rfc_doc[] = "{\"foo\": [\"bar\", \"baz\"], \"\": 0, \"a/b\": 1, \"c%d\": 2,"
			      " \"e^f\": 3, \"g|h\": 4, \"i\\\\j\": 5, \"k\\\"l\": 6, \" \": 7,"
			      " \"m~n\": 8, \"n\": null, \"deep\": {\"data\": {\"tokens\": [{\"a\": \"x\"}]}},"
			      " \"01\": \"zero-one\", \"\\u00e9t\\u00e9\": \"summer\", \"a~1b\": \"literal\"}";

static const struct {
	const char *ptr;
	int found;
	const char *want; /* the value as JSON text (json-c, plain), when found */
} ptr_cases[] = {
	/* RFC 6901 section 5, every line */
	{ "", 1, NULL }, /* the whole document: checked apart */
	{ "/foo", 1, "[\"bar\",\"baz\"]" },
	{ "/foo/0", 1, "\"bar\"" },
	{ "/", 1, "0" },
	{ "/a~1b", 1, "1" },
	{ "/c%d", 1, "2" },
	{ "/e^f", 1, "3" },
	{ "/g|h", 1, "4" },
	{ "/i\\j", 1, "5" },
	{ "/k\"l", 1, "6" },
	{ "/ ", 1, "7" },
	{ "/m~0n", 1, "8" },
	/* ~1 is '/', and is not read again as an escape after ~0 ("~01" is "~1", a literal key) */
	{ "/a~01b", 1, "\"literal\"" },
	/* array indexes: decimal, no leading zeros, no '-', in range */
	{ "/foo/1", 1, "\"baz\"" },
	{ "/foo/2", 0, NULL },
	{ "/foo/-", 0, NULL },
	{ "/foo/01", 0, NULL },
	{ "/foo/-1", 0, NULL },
	{ "/foo/1e0", 0, NULL },
	{ "/foo/ 1", 0, NULL },
	{ "/foo/0x1", 0, NULL },
	{ "/foo/99999999999999999999", 0, NULL },
	/* "01" is a fine member name of an object */
	{ "/01", 1, "\"zero-one\"" },
	/* nesting, arrays of objects */
	{ "/deep/data/tokens/0/a", 1, "\"x\"" },
	{ "/deep/data/tokens/1/a", 0, NULL },
	{ "/deep/data/tokens/a", 0, NULL },
	/* descending into a scalar, a missing member, a wrong case */
	{ "/foo/0/x", 0, NULL },
	{ "/nosuch", 0, NULL },
	{ "/FOO", 0, NULL },
	{ "/foo/", 0, NULL },
	/* a JSON null resolves, to NULL */
	{ "/n", 1, "null" },
	/* non-ASCII member names are matched byte for byte (UTF-8) */
	{ "/\xC3\xA9t\xC3\xA9", 1, "\"summer\"" },
	/* an empty reference token below an array names no element (json-c 0.16 read it as 0) */
	{ "/foo//", 0, NULL },
	{ "/deep/data/tokens//a", 0, NULL },
	/* an escape that is not ~0 or ~1 names no member */
	{ "/m~2n", 0, NULL },
	{ "/m~", 0, NULL },
};

START_TEST(test_pointer_table)
{
	struct json_object *root = NULL, *v = (struct json_object *)1;
	const char *why = "";
	ck_assert_int_eq(jsonutil_parse_exact(rfc_doc, strlen(rfc_doc), &root, &why), 0);
	int found = jsonprofile_lookup(root, ptr_cases[_i].ptr, &v);
	ck_assert_msg(found == ptr_cases[_i].found, "'%s': found %d, want %d", ptr_cases[_i].ptr, found,
	    ptr_cases[_i].found);
	if (found && ptr_cases[_i].want != NULL) {
		const char *got = v == NULL ? "null" : json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
		ck_assert_msg(strcmp(got, ptr_cases[_i].want) == 0, "'%s': got %s, want %s", ptr_cases[_i].ptr,
		    got, ptr_cases[_i].want);
	}
	if (found && ptr_cases[_i].ptr[0] == '\0')
		ck_assert_ptr_eq(v, root);
	if (!found)
		ck_assert_ptr_null(v);
	json_object_put(root);
}
END_TEST

/* --- RFC 3339 ------------------------------------------------------------------------------- */

static const struct {
	const char *s;
	int ok;
	long long want;
} rfc3339_cases[] = {
	{ "1970-01-01T00:00:00Z", 1, 0 },
	{ "2026-12-03T23:06:30Z", 1, 1796339190 },
	{ "2026-12-03t23:06:30z", 1, 1796339190 },
	{ "2026-12-03T23:06:30.123456Z", 1, 1796339190 },
	{ "2026-12-04T01:06:30+02:00", 1, 1796339190 },
	{ "2026-12-03T17:36:30-05:30", 1, 1796339190 },
	{ "2026-12-03T23:06:30+00:00", 1, 1796339190 },
	{ "2026-12-03T23:06:30-00:00", 1, 1796339190 },
	{ "2024-02-29T00:00:00Z", 1, 1709164800 },
	{ "2000-03-01T00:00:00Z", 1, 951868800 },
	{ "2026-12-03T23:06:60Z", 1, 1796339220 }, /* a leap second: the next second */
	/* not RFC 3339 */
	{ "2023-02-29T00:00:00Z", 0, 0 },
	{ "1900-02-29T00:00:00Z", 0, 0 },
	{ "2026-13-01T00:00:00Z", 0, 0 },
	{ "2026-00-01T00:00:00Z", 0, 0 },
	{ "2026-04-31T00:00:00Z", 0, 0 },
	{ "2026-12-03T24:00:00Z", 0, 0 },
	{ "2026-12-03T23:60:00Z", 0, 0 },
	{ "2026-12-03T23:06:61Z", 0, 0 },
	{ "2026-12-03T23:06:30", 0, 0 },
	{ "2026-12-03 23:06:30Z", 0, 0 },
	{ "2026-12-03T23:06:30.Z", 0, 0 },
	{ "2026-12-03T23:06:30+0200", 0, 0 },
	{ "2026-12-03T23:06:30+24:00", 0, 0 },
	{ "2026-12-03T23:06:30+02:60", 0, 0 },
	{ "2026-12-03T23:06:30Z ", 0, 0 },
	{ " 2026-12-03T23:06:30Z", 0, 0 },
	{ "2026-12-3T23:06:30Z", 0, 0 },
	{ "+2026-12-03T23:06:30Z", 0, 0 },
	{ "2026-12-03T23:06:3aZ", 0, 0 },
	{ "1796339190", 0, 0 },
	{ "", 0, 0 },
};

/* A text that failed or stopped short leaves nothing behind for the next one (each text gets a
 * tokener of its own). */
START_TEST(test_parse_exact_sequence)
{
	static const struct {
		const char *in;
		int rc;
		const char *out; /* json-c's plain form of the value, when rc is 0 */
	} seq[] = {
		{ "{\"a\":[1,", -1, NULL },             /* unfinished, deep in an array */
		{ "{\"newToken\":\"t1\"}", 0, "{ \"newToken\": \"t1\" }" },
		{ "[{\"name\":\"x\",", -1, NULL },     /* unfinished object in an array */
		{ "12", 0, "12" },                        /* a number the NUL has to end */
		{ "{\"a\":1} x", -1, NULL },             /* trailing data */
		{ "\"abc", -1, NULL },                    /* unfinished string */
		{ "[\"abc\"]", 0, "[ \"abc\" ]" },
		{ "{\"a\":1,}", -1, NULL },              /* strict: no trailing comma */
		{ "{\"newToken\":\"t2\"}", 0, "{ \"newToken\": \"t2\" }" },
		/* A text that fails after a high surrogate: the next text's lone low surrogate must
		 * not pair with it. json-c 0.16's json_tokener_reset keeps the pending surrogate, so
		 * one tokener shared by all texts (tried for speed) decoded the next row's stored
		 * cookies as U+1F600; fuzz_cookies_json found it. */
		{ "[\"\\ud83d", -1, NULL },
		{ "[\"\\ude00\"]", 0, "[ \"\xef\xbf\xbd\" ]" },
		{ "[\"\\ud83d\\uzz\"]", -1, NULL }, /* a bad escape after a high surrogate */
		{ "[\"\\ude00\"]", 0, "[ \"\xef\xbf\xbd\" ]" },
	};
	for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
		struct json_object *root = NULL;
		const char *why = NULL;
		int rc = jsonutil_parse_exact(seq[i].in, strlen(seq[i].in), &root, &why);
		ck_assert_msg(rc == seq[i].rc, "%zu '%s': rc %d, want %d (%s)", i, seq[i].in, rc, seq[i].rc,
		    why ? why : "");
		if (rc == 0)
			ck_assert_str_eq(json_object_to_json_string_ext(root, JSON_C_TO_STRING_SPACED), seq[i].out);
		else
			ck_assert_ptr_null(root);
		json_object_put(root);
	}
}
END_TEST

START_TEST(test_rfc3339_table)
{
	long long got = -12345;
	const char *s = rfc3339_cases[_i].s;
	int rc = jsonprofile_rfc3339(s, strlen(s), &got);
	ck_assert_msg((rc == 0) == rfc3339_cases[_i].ok, "'%s': rc %d", s, rc);
	if (rc == 0)
		ck_assert_msg(got == rfc3339_cases[_i].want, "'%s': %lld, want %lld", s, got,
		    rfc3339_cases[_i].want);
	/* Exactly len bytes are read: a NUL inside ends nothing early. */
	ck_assert_int_eq(jsonprofile_rfc3339("2026-12-03T23:06:30Z\0junk", 25, &got), -1);
}
END_TEST

/* --- templates ------------------------------------------------------------------------------- */

START_TEST(test_templates)
{
	static const struct {
		const char *tmpl, *token, *access, *want;
	} cases[] = {
		{ "{token}", "abc", NULL, "abc" },
		{ "Bearer {access_token}", "abc", "AT", "Bearer AT" },
		{ "{token}:{access_token}:{token}", "t", "a", "t:a:t" },
		{ "{access_token}", "t", NULL, "" },
		{ "{tok}{token}}{", "t", NULL, "{tok}t}{" },
		/* a value is never read as a template again */
		{ "{token}", "{access_token}", "SECRET", "{access_token}" },
		{ "{access_token}", "x", "{token}", "{token}" },
		{ "", "t", "a", "" },
		{ "no placeholders", "t", "a", "no placeholders" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *got = jsonprofile_expand(cases[i].tmpl, cases[i].token, cases[i].access);
		ck_assert_ptr_nonnull(got);
		ck_assert_msg(strcmp(got, cases[i].want) == 0, "'%s': got '%s'", cases[i].tmpl, got);
		free(got);
	}
	static const struct {
		const char *tmpl, *unknown;
	} ph[] = {
		{ "{token}", NULL },
		{ "Bearer {access_token}", NULL },
		{ "{tokn}", "{tokn}" },
		{ "a {acess_token} b", "{acess_token}" },
		{ "{Token}", "{Token}" },
		{ "{ token }", NULL }, /* not an identifier: literal */
		{ "{\"a\":1}", NULL },
		{ "{}", NULL },
		{ "{{token}}", NULL },
		{ "${HOME}", "{HOME}" }, /* an unexpanded ${VAR} cannot reach here; a literal one is caught */
	};
	for (size_t i = 0; i < sizeof ph / sizeof ph[0]; i++) {
		char buf[64];
		const char *got = jsonprofile_unknown_placeholder(ph[i].tmpl, buf, sizeof buf);
		if (ph[i].unknown == NULL)
			ck_assert_msg(got == NULL, "'%s': got %s", ph[i].tmpl, got);
		else
			ck_assert_msg(got != NULL && strcmp(got, ph[i].unknown) == 0, "'%s': got %s",
			    ph[i].tmpl, got ? got : "NULL");
	}
}
END_TEST

/* --- configs -------------------------------------------------------------------------------- */

#define DB "database:\n  url: postgres://h/db\n  table: oauth_sessions\n"

/* A json config: DB, the columns, then upstream with its json section (json_yaml, indented 4). */
static struct config *load(const char *columns, const char *json_yaml)
{
	char doc[4096];
	struct errlist errs = { 0 };
	struct config *c = NULL;
	(void)snprintf(doc, sizeof doc,
	    DB "  columns: {token: refresh_token, access_token: access_token%s}\n"
	       "upstream:\n  profile: json\n  url: https://auth.example/refresh\n  json:\n%s",
	    columns, json_yaml);
	int rc = config_load_string("t.yaml", doc, strlen(doc), &c, &errs);
	ck_assert_msg(rc == 0, "%s: %s", doc, errs.n ? errs.msgs[0] : "?");
	errlist_clear(&errs);
	return c;
}

/* --- the request ---------------------------------------------------------------------------- */

START_TEST(test_build_escapes_and_headers)
{
	struct config *c = load("", "    body: {refreshToken: \"{token}\", \"k\\\"ey\": \"v {access_token}\","
				    " client: web}\n    headers: {Authorization: \"Bearer {access_token}\","
				    " X-App: \"${RT_JSON_APP:-app}\"}\n");
	static const char *const tokens[] = { "plain", "q\"uote\\back/slash", "tab\there\nnl\x01",
		"\xC3\xA9t\xC3\xA9 \xF0\x9F\x94\x91", "{token}{access_token}", "</script>" };
	for (size_t i = 0; i < sizeof tokens / sizeof tokens[0]; i++) {
		struct row row = { .id = "1", .token = (char *)tokens[i], .access_token = "AT-1" };
		struct request req;
		char err[160] = "";
		void *st = NULL;
		ck_assert_int_eq(profile_json.build(c, &row, &st, &req, err, sizeof err), 0);
		ck_assert_str_eq(req.content_type, "application/json");
		/* The body parses back to exactly the strings the templates make. */
		struct json_object *root = NULL, *v;
		const char *why = "";
		ck_assert_msg(jsonutil_parse_exact(req.body, strlen(req.body), &root, &why) == 0, "%s: %s",
		    req.body, why);
		ck_assert(json_object_is_type(root, json_type_object));
		ck_assert_int_eq(json_object_object_length(root), 3);
		ck_assert(json_object_object_get_ex(root, "refreshToken", &v));
		ck_assert_str_eq(json_object_get_string(v), tokens[i]);
		ck_assert_int_eq(json_object_get_string_len(v), (int)strlen(tokens[i]));
		ck_assert(json_object_object_get_ex(root, "k\"ey", &v));
		ck_assert_str_eq(json_object_get_string(v), "v AT-1");
		ck_assert(json_object_object_get_ex(root, "client", &v));
		ck_assert_str_eq(json_object_get_string(v), "web");
		json_object_put(root);
		ck_assert_uint_eq(req.nheaders, 2);
		ck_assert_str_eq(req.headers[0], "Authorization: Bearer AT-1");
		ck_assert_str_eq(req.headers[1], "X-App: app");
		ck_assert_ptr_null(req.cookie);
		ck_assert_ptr_null(req.authorization);
		request_clear(&req);
	}
	/* A row without an access token, under a template that uses one: failed, uncalled. */
	const char *no_access[] = { NULL, "" };
	for (size_t i = 0; i < 2; i++) {
		struct row row = { .id = "1", .token = "t", .access_token = (char *)no_access[i] };
		struct request req;
		char err[160] = "";
		void *st = NULL;
		ck_assert_int_eq(profile_json.build(c, &row, &st, &req, err, sizeof err), -1);
		ck_assert_str_eq(err, "no access token: the request uses {access_token}; not sent");
	}
	/* An access token with a line break would split the header: failed, uncalled. */
	struct row bad = { .id = "1", .token = "t", .access_token = "AT\r\nX-Evil: 1" };
	struct request req;
	char err[160] = "";
	void *st = NULL;
	ck_assert_int_eq(profile_json.build(c, &bad, &st, &req, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "header Authorization would hold a control character"));
	ck_assert_ptr_null(strstr(err, "Evil"));
	config_free(c);
}
END_TEST

/* --- the answer ----------------------------------------------------------------------------- */

/* The configs the judge table runs under. */
enum jcfg {
	J_DEFAULT, /* /refreshToken, /accessToken, no expiry pointers, no expires_at column */
	J_EXPIRY, /* + expires_in /expiresIn, expires_at /expiresAt, an expires_at column */
	J_NESTED, /* under /data/tokens, expires_in /data/tokens/expiresIn */
	J_NO_ROTATION, /* token "" */
	J_NO_ACCESS, /* access_token "", expires_in /ttl, the rotated token required */
	J_LOGOUT_403, /* logout_status [401, 403] */
	J_JWT_ONLY, /* an expires_at column, no expiry pointers: the JWT's exp */
	J_COUNT
};

static struct config *jcfg_load(enum jcfg k)
{
	switch (k) {
	case J_EXPIRY:
		return load(", expires_at: exp", "    expires_in: /expiresIn\n    expires_at: /expiresAt\n");
	case J_NESTED:
		return load("", "    token: /data/tokens/refreshToken\n    access_token: /data/tokens/accessToken\n"
				"    expires_in: /data/tokens/expiresIn\n");
	case J_NO_ROTATION:
		return load("", "    token: \"\"\n");
	case J_NO_ACCESS:
		return load(", expires_at: exp", "    access_token: \"\"\n    expires_in: /ttl\n");
	case J_LOGOUT_403:
		return load("", "    logout_status: [401, 403]\n");
	case J_JWT_ONLY:
		return load(", expires_at: exp", "    logout_status: [401]\n");
	default:
		return load("", "    body: {refreshToken: \"{token}\"}\n");
	}
}

#define R ANSWER_REFRESHED
#define L ANSWER_LOGOUT
#define TR ANSWER_TRANSIENT
#define F ANSWER_FAILED

static const struct judge_case {
	enum jcfg cfg;
	long status;
	const char *body;
	size_t len;
	enum answer_kind kind;
	const char *token, *access; /* REFRESHED: what is stored (NULL: no access token) */
	long long exp; /* REFRESHED */
	const char *reason; /* substring */
} judge_cases[] = {
	/* rotation, no rotation, null */
	{ J_DEFAULT, 200, S("{\"accessToken\":\"AT\",\"refreshToken\":\"NEW\",\"expiresIn\":900}"), R, "NEW", "AT", 0, "refreshed" },
	{ J_DEFAULT, 201, S("{\"accessToken\":\"AT\"}"), R, OLD, "AT", 0, "refreshed" },
	{ J_DEFAULT, 200, S("{\"accessToken\":\"AT\",\"refreshToken\":null}"), R, OLD, "AT", 0, "refreshed" },
	{ J_DEFAULT, 200, S("{\"refreshToken\":\"NEW\"}"), F, NULL, NULL, 0, "no access token at /accessToken" },
	{ J_DEFAULT, 200, S("{\"accessToken\":null,\"refreshToken\":\"NEW\"}"), F, NULL, NULL, 0, "no access token at /accessToken" },
	/* wrong types and invalid values at a pointer fail the row */
	{ J_DEFAULT, 200, S("{\"accessToken\":\"\"}"), F, NULL, NULL, 0, "access token" },
	{ J_DEFAULT, 200, S("{\"accessToken\":42}"), F, NULL, NULL, 0, "access token" },
	{ J_DEFAULT, 200, S("{\"accessToken\":[\"AT\"]}"), F, NULL, NULL, 0, "access token" },
	{ J_DEFAULT, 200, S("{\"accessToken\":{\"v\":\"AT\"}}"), F, NULL, NULL, 0, "access token" },
	{ J_DEFAULT, 200, S("{\"accessToken\":true}"), F, NULL, NULL, 0, "access token" },
	{ J_DEFAULT, 200, S("{\"accessToken\":\"AT\",\"refreshToken\":\"\"}"), F, NULL, NULL, 0, "token" },
	{ J_DEFAULT, 200, S("{\"accessToken\":\"AT\",\"refreshToken\":7}"), F, NULL, NULL, 0, "(at /refreshToken)" },
	{ J_DEFAULT, 200, S("{\"accessToken\":\"A\\u0000T\"}"), F, NULL, NULL, 0, "access token" },
	{ J_DEFAULT, 200, S("{\"accessToken\":\"A\\nT\"}"), F, NULL, NULL, 0, "access token" },
	{ J_DEFAULT, 200, S("{\"accessToken\":\"\xC3\xA9t\xC3\xA9\"}"), F, NULL, NULL, 0, "access token" },
	{ J_DEFAULT, 200, S("{\"accessToken\":\"AT\",\"refreshToken\":\"N\\u00e9W\"}"), F, NULL, NULL, 0, "token" },
	/* a token with a space is printable ASCII: fine */
	{ J_DEFAULT, 200, S("{\"accessToken\":\"A T\"}"), R, OLD, "A T", 0, "refreshed" },
	/* duplicate keys: json-c keeps the last */
	{ J_DEFAULT, 200, S("{\"accessToken\":\"A1\",\"accessToken\":\"A2\"}"), R, OLD, "A2", 0, "refreshed" },
	{ J_DEFAULT, 200, S("{\"accessToken\":\"A1\",\"accessToken\":null}"), F, NULL, NULL, 0, "no access token" },
	/* not a JSON object */
	{ J_DEFAULT, 200, S("[{\"accessToken\":\"AT\"}]"), F, NULL, NULL, 0, "not a JSON object" },
	{ J_DEFAULT, 200, S("\"AT\""), F, NULL, NULL, 0, "not a JSON object" },
	{ J_DEFAULT, 200, S("null"), F, NULL, NULL, 0, "not a JSON object" },
	{ J_DEFAULT, 200, S(""), F, NULL, NULL, 0, "not a JSON object" },
	{ J_DEFAULT, 200, S("<html>ok</html>"), F, NULL, NULL, 0, "not a JSON object" },
	{ J_DEFAULT, 200, S("{\"accessToken\":\"AT\"} x"), F, NULL, NULL, 0, "not a JSON object" },
	{ J_DEFAULT, 200, S("{\"accessToken\":\"AT\"}\0{\"x\":1}"), F, NULL, NULL, 0, "not a JSON object" },
	{ J_DEFAULT, 200, S("{\"accessToken\":\"AT\",}"), F, NULL, NULL, 0, "not a JSON object" },
	{ J_DEFAULT, 200, S("{'accessToken':'AT'}"), F, NULL, NULL, 0, "not a JSON object" },
	/* deep nesting: refused by the parser's depth cap, never a crash */
	{ J_DEFAULT, 200, S("{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]],\"accessToken\":\"AT\"}"), F, NULL, NULL, 0, "not a JSON object" },
	/* statuses: logout_status, transient, the rest */
	{ J_DEFAULT, 401, S("{\"accessToken\":\"AT\"}"), L, NULL, NULL, 0, "HTTP 401" },
	{ J_DEFAULT, 401, S(""), L, NULL, NULL, 0, "HTTP 401" },
	{ J_DEFAULT, 403, S("{\"error\":\"forbidden\"}"), F, NULL, NULL, 0, "HTTP 403" },
	{ J_LOGOUT_403, 403, S(""), L, NULL, NULL, 0, "HTTP 403" },
	{ J_LOGOUT_403, 401, S(""), L, NULL, NULL, 0, "HTTP 401" },
	{ J_LOGOUT_403, 400, S(""), F, NULL, NULL, 0, "HTTP 400" },
	{ J_DEFAULT, 408, S(""), TR, NULL, NULL, 0, "HTTP 408" },
	{ J_DEFAULT, 429, S("{\"accessToken\":\"AT\"}"), TR, NULL, NULL, 0, "HTTP 429" },
	{ J_DEFAULT, 500, S(""), TR, NULL, NULL, 0, "HTTP 500" },
	{ J_DEFAULT, 502, S(""), TR, NULL, NULL, 0, "HTTP 502" },
	{ J_DEFAULT, 503, S(""), TR, NULL, NULL, 0, "HTTP 503" },
	{ J_DEFAULT, 504, S(""), TR, NULL, NULL, 0, "HTTP 504" },
	{ J_DEFAULT, 501, S(""), F, NULL, NULL, 0, "HTTP 501" },
	{ J_DEFAULT, 302, S(""), F, NULL, NULL, 0, "HTTP 302" },
	{ J_DEFAULT, 400, S("{\"accessToken\":\"AT\"}"), F, NULL, NULL, 0, "HTTP 400" },
	{ J_DEFAULT, 199, S(""), F, NULL, NULL, 0, "HTTP 199" },
	/* expiry: expires_in number or digit string, else expires_at, else the JWT */
	{ J_EXPIRY, 200, S("{\"accessToken\":\"AT\",\"expiresIn\":900}"), R, OLD, "AT", NOW + 900, "refreshed" },
	{ J_EXPIRY, 200, S("{\"accessToken\":\"AT\",\"expiresIn\":\"900\"}"), R, OLD, "AT", NOW + 900, "refreshed" },
	{ J_EXPIRY, 200, S("{\"accessToken\":\"AT\",\"expiresIn\":900.9}"), R, OLD, "AT", NOW + 900, "refreshed" },
	{ J_EXPIRY, 200, S("{\"accessToken\":\"AT\",\"expiresIn\":900,\"expiresAt\":1}"), R, OLD, "AT", NOW + 900, "refreshed" },
	{ J_EXPIRY, 200, S("{\"accessToken\":\"AT\",\"expiresAt\":1796339190}"), R, OLD, "AT", 1796339190, "refreshed" },
	{ J_EXPIRY, 200, S("{\"accessToken\":\"AT\",\"expiresAt\":\"2026-12-04T01:06:30+02:00\"}"), R, OLD, "AT", 1796339190, "refreshed" },
	{ J_EXPIRY, 200, S("{\"accessToken\":\"AT\",\"expiresAt\":\"2026-12-03T23:06:30.5Z\"}"), R, OLD, "AT", 1796339190, "refreshed" },
	{ J_EXPIRY, 200, S("{\"accessToken\":\"" JWT "\"}"), R, OLD, JWT, 1700001800, "refreshed" },
	{ J_EXPIRY, 200, S("{\"accessToken\":\"" JWT "\",\"expiresIn\":null}"), R, OLD, JWT, 1700001800, "refreshed" },
	{ J_EXPIRY, 200, S("{\"accessToken\":\"AT\"}"), F, NULL, NULL, 0, "no expiry" },
	{ J_EXPIRY, 200, S("{\"accessToken\":\"AT\",\"expiresIn\":0}"), F, NULL, NULL, 0, "expires_in at /expiresIn" },
	{ J_EXPIRY, 200, S("{\"accessToken\":\"AT\",\"expiresIn\":-5}"), F, NULL, NULL, 0, "expires_in" },
	{ J_EXPIRY, 200, S("{\"accessToken\":\"AT\",\"expiresIn\":1e400}"), F, NULL, NULL, 0, "" },
	{ J_EXPIRY, 200, S("{\"accessToken\":\"AT\",\"expiresIn\":99999999999999999999999}"), F, NULL, NULL, 0, "" },
	{ J_EXPIRY, 200, S("{\"accessToken\":\"AT\",\"expiresIn\":31622400}"), R, OLD, "AT", NOW + 31622400, "refreshed" },
	{ J_EXPIRY, 200, S("{\"accessToken\":\"AT\",\"expiresIn\":31622401}"), F, NULL, NULL, 0, "expires_in" },
	{ J_EXPIRY, 200, S("{\"accessToken\":\"AT\",\"expiresIn\":\"\"}"), F, NULL, NULL, 0, "expires_in" },
	{ J_EXPIRY, 200, S("{\"accessToken\":\"AT\",\"expiresIn\":\"9e2\"}"), F, NULL, NULL, 0, "expires_in" },
	{ J_EXPIRY, 200, S("{\"accessToken\":\"AT\",\"expiresIn\":\"+900\"}"), F, NULL, NULL, 0, "expires_in" },
	{ J_EXPIRY, 200, S("{\"accessToken\":\"AT\",\"expiresIn\":\" 900\"}"), F, NULL, NULL, 0, "expires_in" },
	{ J_EXPIRY, 200, S("{\"accessToken\":\"AT\",\"expiresIn\":\"900\\u0000\"}"), F, NULL, NULL, 0, "expires_in" },
	{ J_EXPIRY, 200, S("{\"accessToken\":\"AT\",\"expiresIn\":true}"), F, NULL, NULL, 0, "expires_in" },
	{ J_EXPIRY, 200, S("{\"accessToken\":\"AT\",\"expiresIn\":{\"s\":900}}"), F, NULL, NULL, 0, "expires_in" },
	{ J_EXPIRY, 200, S("{\"accessToken\":\"AT\",\"expiresAt\":\"tomorrow\"}"), F, NULL, NULL, 0, "expires_at at /expiresAt" },
	{ J_EXPIRY, 200, S("{\"accessToken\":\"AT\",\"expiresAt\":\"1796339190\"}"), F, NULL, NULL, 0, "expires_at" },
	{ J_EXPIRY, 200, S("{\"accessToken\":\"AT\",\"expiresAt\":\"2023-02-29T00:00:00Z\"}"), F, NULL, NULL, 0, "expires_at" },
	{ J_EXPIRY, 200, S("{\"accessToken\":\"AT\",\"expiresAt\":0}"), F, NULL, NULL, 0, "expires_at" },
	{ J_EXPIRY, 200, S("{\"accessToken\":\"AT\",\"expiresAt\":1e300}"), F, NULL, NULL, 0, "expires_at" },
	{ J_EXPIRY, 200, S("{\"accessToken\":\"AT\",\"expiresAt\":[1796339190]}"), F, NULL, NULL, 0, "expires_at" },
	/* nested answers */
	{ J_NESTED, 200, S("{\"data\":{\"tokens\":{\"accessToken\":\"AT\",\"refreshToken\":\"NEW\",\"expiresIn\":60}}}"), R, "NEW", "AT", NOW + 60, "refreshed" },
	{ J_NESTED, 200, S("{\"data\":{\"tokens\":{\"accessToken\":\"AT\"}}}"), R, OLD, "AT", 0, "refreshed" },
	{ J_NESTED, 200, S("{\"data\":{\"accessToken\":\"AT\"}}"), F, NULL, NULL, 0, "no access token at /data/tokens/accessToken" },
	{ J_NESTED, 200, S("{\"data\":[{\"tokens\":{\"accessToken\":\"AT\"}}]}"), F, NULL, NULL, 0, "no access token" },
	{ J_NESTED, 200, S("{\"data\":\"x\"}"), F, NULL, NULL, 0, "no access token" },
	/* token "": never rotated, even when the answer has one */
	{ J_NO_ROTATION, 200, S("{\"accessToken\":\"AT\",\"refreshToken\":\"NEW\"}"), R, OLD, "AT", 0, "refreshed" },
	/* access_token "": the rotated token is required */
	{ J_NO_ACCESS, 200, S("{\"refreshToken\":\"NEW\",\"ttl\":3600}"), R, "NEW", NULL, NOW + 3600, "refreshed" },
	{ J_NO_ACCESS, 200, S("{\"ttl\":3600}"), F, NULL, NULL, 0, "no token at /refreshToken" },
	{ J_NO_ACCESS, 200, S("{\"refreshToken\":null,\"ttl\":3600}"), F, NULL, NULL, 0, "no token at /refreshToken" },
	{ J_NO_ACCESS, 200, S("{\"refreshToken\":\"NEW\"}"), F, NULL, NULL, 0, "no expiry" },
	/* JWT only */
	{ J_JWT_ONLY, 200, S("{\"accessToken\":\"" JWT "\",\"expiresIn\":5}"), R, OLD, JWT, 1700001800, "refreshed" },
	{ J_JWT_ONLY, 200, S("{\"accessToken\":\"not.a.jwt\"}"), F, NULL, NULL, 0, "no expiry" },
	/* the answer echoes the row's token: never into a reason */
	{ J_DEFAULT, 200, S("{\"accessToken\":\"" OLD "\\n\"}"), F, NULL, NULL, 0, "access token" },
	{ J_DEFAULT, 418, S("{\"accessToken\":\"" OLD "\"}"), F, NULL, NULL, 0, "HTTP 418" },
};

START_TEST(test_judge_table)
{
	const struct judge_case *c = &judge_cases[_i];
	struct config *cfg = jcfg_load(c->cfg);
	/* The body on the heap, sized exactly, so that reads past len are caught by valgrind/ASan. */
	char *body = malloc(c->len + 1);
	struct verdict v;
	ck_assert_ptr_nonnull(body);
	memcpy(body, c->body, c->len);
	body[c->len] = '\0';
	memset(&v, 0xA5, sizeof v);
	jsonprofile_judge_answer(cfg, c->status, body, c->len, 0, OLD, NOW, &v);
	ck_assert_msg(v.kind == c->kind, "case %d: %s, want %s (%s)", _i, answer_kind_name(v.kind),
	    answer_kind_name(c->kind), v.reason);
	ck_assert_msg(strstr(v.reason, c->reason) != NULL, "case %d: reason '%s', want '%s'", _i, v.reason,
	    c->reason);
	ck_assert_msg(strstr(v.reason, OLD) == NULL, "case %d: the reason holds the token", _i);
	for (const char *p = v.reason; *p != '\0'; p++)
		ck_assert_msg(*p >= 0x20 && *p < 0x7f, "case %d: reason byte 0x%02x", _i, (unsigned char)*p);
	ck_assert_int_eq(v.stop_run, 0);
	if (c->kind == ANSWER_REFRESHED) {
		ck_assert_str_eq(v.new_token, c->token);
		if (c->access == NULL)
			ck_assert_ptr_null(v.access_token);
		else
			ck_assert_str_eq(v.access_token, c->access);
		ck_assert_msg(v.expires_at == c->exp, "case %d: exp %lld, want %lld", _i, v.expires_at, c->exp);
	} else {
		ck_assert_ptr_null(v.new_token);
		ck_assert_ptr_null(v.access_token);
	}
	verdict_clear(&v);
	free(body);
	config_free(cfg);
}
END_TEST

START_TEST(test_judge_too_big)
{
	struct config *cfg = jcfg_load(J_DEFAULT);
	struct verdict v;
	jsonprofile_judge_answer(cfg, 200, "{\"accessToken\":\"AT\"", 19, 1, OLD, NOW, &v);
	ck_assert_int_eq(v.kind, ANSWER_FAILED);
	ck_assert_str_eq(v.reason, "response body over 19 bytes");
	/* Whatever the status (SPEC): a 401 over the limit deletes nothing, a 503 is not retried. */
	jsonprofile_judge_answer(cfg, 401, "x", 1, 1, OLD, NOW, &v);
	ck_assert_int_eq(v.kind, ANSWER_FAILED);
	jsonprofile_judge_answer(cfg, 503, "x", 1, 1, OLD, NOW, &v);
	ck_assert_int_eq(v.kind, ANSWER_FAILED);
	verdict_clear(&v);
	config_free(cfg);
}
END_TEST

/* --- config errors (SPEC: the json profile's list) ------------------------------------------ */

static const struct {
	const char *yaml;
	const char *want; /* the first error */
} cfg_errors[] = {
	{ DB "upstream:\n  profile: json\n  json:\n    token: \"\"\n    access_token: \"\"\n",
	    "t.yaml:7:5: upstream.json.token: and upstream.json.access_token are both \"\": an answer would give nothing to store" },
	{ DB "upstream:\n  profile: json\n  json:\n    token: refreshToken\n",
	    "t.yaml:7:12: upstream.json.token: must be \"\" or a JSON Pointer (RFC 6901) that starts with '/' (got 'refreshToken')" },
	{ DB "upstream:\n  profile: json\n  json:\n    expires_at: \"#/exp\"\n",
	    "t.yaml:7:17: upstream.json.expires_at: must be \"\" or a JSON Pointer (RFC 6901) that starts with '/' (got '#/exp')" },
	{ DB "upstream:\n  profile: json\n  json:\n    body: {refreshToken: {value: \"{token}\"}}\n",
	    "t.yaml:7:26: upstream.json.body.refreshToken: expected a string, got a mapping" },
	{ DB "upstream:\n  profile: json\n  json:\n    body: {refreshToken: \"{token}\", remember: true}\n",
	    "t.yaml:7:47: upstream.json.body.remember: must be a string: the body's values are sent as JSON strings (quote it)" },
	/* a body value is never echoed: it may be a credential */
	{ DB "upstream:\n  profile: json\n  json:\n    body: {refreshToken: \"{token}\", pin: 918273645}\n",
	    "t.yaml:7:42: upstream.json.body.pin: must be a string: the body's values are sent as JSON strings (quote it)" },
	{ DB "upstream:\n  profile: json\n  json:\n    body: [\"{token}\"]\n",
	    "t.yaml:7:11: upstream.json.body: expected a mapping of field: value, got a list" },
	{ DB "upstream:\n  profile: json\n  json:\n    headers: {content-type: text/plain}\n",
	    "t.yaml:7:15: upstream.json.headers.content-type: reserved: the refresher sets Content-Type itself" },
	{ DB "upstream:\n  profile: json\n  json:\n    headers: {Content-Length: \"5\"}\n",
	    "t.yaml:7:15: upstream.json.headers.Content-Length: reserved: the refresher sets Content-Length itself" },
	{ DB "upstream:\n  profile: json\n  form: {ciclo: \"1\"}\n",
	    "t.yaml:6:3: upstream.form: not used by profile json: the request body is upstream.json.body" },
	{ DB "upstream:\n  profile: json\n  json:\n    logout_status: [401, 429]\n",
	    "t.yaml:7:26: upstream.json.logout_status[1]: 429 is transient (retried, never a logout): remove it" },
	{ DB "upstream:\n  profile: json\n  json:\n    logout_status: [503]\n",
	    "t.yaml:7:21: upstream.json.logout_status[0]: 503 is transient (retried, never a logout): remove it" },
	{ DB "upstream:\n  profile: json\n  json:\n    logout_status: 401\n",
	    "t.yaml:7:20: upstream.json.logout_status: expected a list of HTTP statuses, got a single value" },
	{ DB "upstream:\n  profile: json\n  json:\n    headers: {Authorization: \"Bearer {access_token}\"}\n",
	    "t.yaml: database.columns.access_token: must name the access token's column: upstream.json uses {access_token}" },
	{ DB "upstream:\n  profile: json\n  json:\n    body: {t: \"{tokn}\"}\n",
	    "t.yaml:7:5: upstream.json.body: t: unknown placeholder {tokn} (the placeholders are {token} and {access_token})" },
	{ DB "upstream:\n  profile: json\n  json:\n    tokn: /x\n",
	    "t.yaml:7:5: upstream.json.tokn: unknown key (did you mean 'token'?)" },
	{ DB "upstream:\n  profile: aimharder\n  json:\n    token: /x\n",
	    "t.yaml:6:3: upstream.json: only for upstream.profile: json (the profile is aimharder)" },
	{ DB "  columns: {expires_at: exp}\nupstream:\n  profile: json\n  json:\n    access_token: \"\"\n",
	    "t.yaml:4:13: database.columns.expires_at: no answer could give an expiry: set upstream.json.expires_in, expires_at or access_token (its JWT exp)" },
};

START_TEST(test_config_errors)
{
	struct errlist errs = { 0 };
	struct config *c = NULL;
	const char *y = cfg_errors[_i].yaml;
	ck_assert_int_eq(config_load_string("t.yaml", y, strlen(y), &c, &errs), -1);
	ck_assert_ptr_null(c);
	ck_assert_uint_ge(errs.n, 1);
	ck_assert_str_eq(errs.msgs[0], cfg_errors[_i].want);
	errlist_clear(&errs);
}
END_TEST

/* The example config and SPEC's block load, with SPEC's defaults. */
START_TEST(test_config_defaults)
{
	static const char doc[] = DB "upstream:\n  profile: json\n  url: https://auth.example.com/api/auth/refresh\n";
	struct errlist errs = { 0 };
	struct config *c = NULL;
	ck_assert_int_eq(config_load_string("t.yaml", doc, strlen(doc), &c, &errs), 0);
	ck_assert_uint_eq(c->upstream.json.body.n, 1);
	ck_assert_str_eq(c->upstream.json.body.v[0].name, "refreshToken");
	ck_assert_str_eq(c->upstream.json.body.v[0].value, "{token}");
	ck_assert_uint_eq(c->upstream.json.headers.n, 0);
	ck_assert_str_eq(c->upstream.json.token, "/refreshToken");
	ck_assert_str_eq(c->upstream.json.access_token, "/accessToken");
	ck_assert_str_eq(c->upstream.json.expires_in, "");
	ck_assert_str_eq(c->upstream.json.expires_at, "");
	ck_assert_uint_eq(c->upstream.json.logout_status.n, 1);
	ck_assert_int_eq(c->upstream.json.logout_status.v[0], 401);
	/* json uses neither cookies nor fingerprints, and sends no form */
	ck_assert_str_eq(c->database.columns.cookies, "");
	ck_assert_str_eq(c->database.columns.fingerprint, "");
	ck_assert_uint_eq(c->upstream.form.n, 0);
	ck_assert_ptr_null(profile_json.warn_config(c));
	config_free(c);
	/* A body that never sends the token loads, with a warning. */
	static const char notoken[] = DB "upstream:\n  profile: json\n  json:\n    body: {a: b}\n";
	ck_assert_int_eq(config_load_string("t.yaml", notoken, strlen(notoken), &c, &errs), 0);
	ck_assert_ptr_nonnull(profile_json.warn_config(c));
	config_free(c);
	/* The shipped example. */
	setenv("DATABASE_URL", "postgres://h/db", 1);
	setenv("AUTH_REFRESH_URL", "https://auth.example.com/api/auth/refresh", 1);
	ck_assert_int_eq(config_load("refresher.json.yaml", &c, &errs), 0);
	ck_assert_int_eq(c->upstream.profile, PROFILE_JSON);
	ck_assert_str_eq(c->upstream.json.expires_in, "/expiresIn");
	config_free(c);
	errlist_clear(&errs);
}
END_TEST

Suite *jsonprofile_suite(void)
{
	Suite *s = suite_create("jsonprofile");
	TCase *tc = tcase_create("jsonprofile");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_pointer_table, 0, (int)(sizeof ptr_cases / sizeof ptr_cases[0]));
	tcase_add_loop_test(tc, test_rfc3339_table, 0, (int)(sizeof rfc3339_cases / sizeof rfc3339_cases[0]));
	tcase_add_test(tc, test_parse_exact_sequence);
	tcase_add_test(tc, test_templates);
	tcase_add_test(tc, test_build_escapes_and_headers);
	tcase_add_loop_test(tc, test_judge_table, 0, (int)(sizeof judge_cases / sizeof judge_cases[0]));
	tcase_add_test(tc, test_judge_too_big);
	tcase_add_loop_test(tc, test_config_errors, 0, (int)(sizeof cfg_errors / sizeof cfg_errors[0]));
	tcase_add_test(tc, test_config_defaults);
	suite_add_tcase(s, tc);
	return s;
}
