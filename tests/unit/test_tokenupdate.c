/* test_tokenupdate.c - tables for the tokenUpdate request body and the classification of answers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "profile.h"
#include "suites.h"
#include "tokenupdate.h"

/* Generous: CI runs the suite under sanitizers and valgrind, maybe on a loaded machine. */
#define TCASE_TIMEOUT_S 60

/* A string literal with its length, so that embedded NULs count. */
#define S(lit) lit, sizeof(lit) - 1

struct body_case {
	const char *token, *row_fp, *cfg_fp;
	size_t nform; /* how many of body_form to use */
	const char *want;
};

static struct kv body_form[] = {
	{ (char *)"ciclo", (char *)"1" },
	{ (char *)"a b", (char *)"x&y=z" },
	{ (char *)"utf", (char *)"\xC3\xA9" },
};

static const struct body_case body_cases[] = {
	{ "abc", "rowfp", "cfgfp", 1, "token=abc&fingerprint=rowfp&ciclo=1" },
	{ "abc", NULL, "cfgfp", 1, "token=abc&fingerprint=cfgfp&ciclo=1" },
	{ "abc", "", "cfgfp", 1, "token=abc&fingerprint=cfgfp&ciclo=1" },
	{ "abc", NULL, "", 1, "token=abc&ciclo=1" },
	{ "abc", "", "", 1, "token=abc&ciclo=1" },
	{ "abc", "", NULL, 1, "token=abc&ciclo=1" },
	{ "abc", "rowfp", "", 1, "token=abc&fingerprint=rowfp&ciclo=1" },
	{ "abc", "rowfp", "cfgfp", 0, "token=abc&fingerprint=rowfp" },
	{ "abc", NULL, NULL, 0, "token=abc" },
	{ "abc", "r", "c", 3, "token=abc&fingerprint=r&ciclo=1&a+b=x%26y%3Dz&utf=%C3%A9" },
	{ "a+b/c=", "f p", "", 1, "token=a%2Bb%2Fc%3D&fingerprint=f+p&ciclo=1" },
	{ "x&fingerprint=evil", "r", "", 1, "token=x%26fingerprint%3Devil&fingerprint=r&ciclo=1" },
	{ "", "r", "", 1, "token=&fingerprint=r&ciclo=1" },
	{ NULL, NULL, NULL, 1, "token=&ciclo=1" },
	{ "\xFF\x01\n", "\xC3\xA9", "", 0, "token=%FF%01%0A&fingerprint=%C3%A9" },
};

START_TEST(test_body_table)
{
	const struct body_case *c = &body_cases[_i];
	struct config cfg;
	char *body;

	memset(&cfg, 0, sizeof cfg);
	cfg.upstream.fingerprint = (char *)c->cfg_fp;
	cfg.upstream.form.v = body_form;
	cfg.upstream.form.n = c->nform;
	body = tokenupdate_request_body(&cfg, c->token, c->row_fp);
	ck_assert_ptr_nonnull(body);
	ck_assert_str_eq(body, c->want);
	free(body);
}
END_TEST

/* Which fingerprint a row's request carries (NULL: none, the row fails uncalled). */
struct fp_case {
	const char *row_fp, *cfg_fp, *want;
};

static const struct fp_case fp_cases[] = {
	{ "rowfp", "cfgfp", "rowfp" },
	{ "rowfp", "", "rowfp" },
	{ NULL, "cfgfp", "cfgfp" },
	{ "", "cfgfp", "cfgfp" },
	{ NULL, "", NULL },
	{ "", "", NULL },
	{ NULL, NULL, NULL },
	{ "", NULL, NULL },
	{ " ", "", " " }, /* not empty: the application's own value, sent as it is */
};

START_TEST(test_fingerprint_table)
{
	const struct fp_case *c = &fp_cases[_i];
	struct config cfg;
	const char *got;

	memset(&cfg, 0, sizeof cfg);
	cfg.upstream.fingerprint = (char *)c->cfg_fp;
	got = tokenupdate_fingerprint(&cfg, c->row_fp);
	if (c->want == NULL)
		ck_assert_ptr_null(got);
	else
		ck_assert_str_eq(got, c->want);
}
END_TEST

/* The profile never builds a request without a fingerprint: the row fails, naming it. */
START_TEST(test_build_no_fingerprint)
{
	static const char *const row_fps[] = { NULL, "" };
	struct config cfg;
	char token[] = "tok-SECRET", cookies[] = "[]", id[] = "row-1";
	char err[REASON_MAX];

	memset(&cfg, 0, sizeof cfg);
	cfg.upstream.fingerprint = (char *)"";
	for (size_t i = 0; i < sizeof row_fps / sizeof row_fps[0]; i++) {
		struct row row = { .id = id, .token = token, .cookies = cookies, .fingerprint = (char *)row_fps[i] };
		struct request req;
		void *state = NULL;

		err[0] = '\0';
		ck_assert_int_eq(profile_aimharder.build(&cfg, &row, &state, &req, err, sizeof err), -1);
		ck_assert_ptr_null(state);
		ck_assert_str_eq(err, TOKENUPDATE_NO_FINGERPRINT);
		ck_assert_ptr_nonnull(strstr(err, "fingerprint"));
	}
	/* With upstream.fingerprint set, the same rows are sent with it. */
	cfg.upstream.fingerprint = (char *)"cfg-fp";
	for (size_t i = 0; i < sizeof row_fps / sizeof row_fps[0]; i++) {
		struct row row = { .id = id, .token = token, .cookies = cookies, .fingerprint = (char *)row_fps[i] };
		struct request req;
		void *state = NULL;

		ck_assert_int_eq(profile_aimharder.build(&cfg, &row, &state, &req, err, sizeof err), 0);
		ck_assert_str_eq(req.body, "token=tok-SECRET&fingerprint=cfg-fp");
		request_clear(&req);
		profile_aimharder.free_state(state);
	}
}
END_TEST

START_TEST(test_body_no_config)
{
	char *body = tokenupdate_request_body(NULL, "t", NULL);

	ck_assert_str_eq(body, "token=t");
	free(body);
}
END_TEST

/* Reasons are checked by prefix: the fixed text that operators and tests rely on. */
struct cls_case {
	long status;
	const char *body;
	size_t len;
	int too_big;
	enum answer_kind kind;
	const char *token; /* ANSWER_REFRESHED */
	const char *reason; /* prefix */
};

#define T128 "TTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTT"
#define T512 T128 T128 T128 T128
#define TOKEN4096 T512 T512 T512 T512 T512 T512 T512 T512

static const struct cls_case cls_cases[] = {
	/* refreshed */
	{ 200, S("{\"newToken\":\"abc\"}"), 0, ANSWER_REFRESHED, "abc", "refreshed" },
	{ 200, S("{\"newToken\":\"abc\"}\n"), 0, ANSWER_REFRESHED, "abc", "refreshed" },
	{ 200, S(" \r\n\t{ \"newToken\" : \"abc\" } \r\n"), 0, ANSWER_REFRESHED, "abc", "refreshed" },
	{ 201, S("{\"newToken\":\"abc\"}"), 0, ANSWER_REFRESHED, "abc", "refreshed" },
	{ 299, S("{\"newToken\":\"abc\"}"), 0, ANSWER_REFRESHED, "abc", "refreshed" },
	{ 200, S("{\"newToken\":\"6923abc\",\"user\":{\"id\":1},\"x\":[1,2,{}]}"), 0, ANSWER_REFRESHED,
	    "6923abc", "refreshed" },
	{ 200, S("{\"newToken\":\"abc\",\"logout\":null}"), 0, ANSWER_REFRESHED, "abc", "refreshed" },
	{ 200, S("{\"newToken\":\"a\\/b\"}"), 0, ANSWER_REFRESHED, "a/b", "refreshed" },
	{ 200, S("{\"newToken\":\"\\u0041\"}"), 0, ANSWER_REFRESHED, "A", "refreshed" },
	{ 200, S("{\"newToken\":\"!~\"}"), 0, ANSWER_REFRESHED, "!~", "refreshed" },
	{ 200, S("{\"newToken\":\"first\",\"newToken\":\"last\"}"), 0, ANSWER_REFRESHED, "last",
	    "refreshed" }, /* duplicate keys: last wins, as in JSON.parse */
	{ 200, S("{\"x\":\"\xFF\xFE\",\"newToken\":\"abc\"}"), 0, ANSWER_REFRESHED, "abc", "refreshed" },
	{ 200, S("{\"newToken\":\"" TOKEN4096 "\"}"), 0, ANSWER_REFRESHED, TOKEN4096, "refreshed" },
	/* logout: any non-null value, and it wins over newToken */
	{ 200, S("{\"logout\":true}"), 0, ANSWER_LOGOUT, NULL, "logout" },
	{ 200, S("{\"logout\":1}"), 0, ANSWER_LOGOUT, NULL, "logout" },
	{ 200, S("{\"logout\":0}"), 0, ANSWER_LOGOUT, NULL, "logout" },
	{ 200, S("{\"logout\":false}"), 0, ANSWER_LOGOUT, NULL, "logout" },
	{ 200, S("{\"logout\":\"\"}"), 0, ANSWER_LOGOUT, NULL, "logout" },
	{ 200, S("{\"logout\":{}}"), 0, ANSWER_LOGOUT, NULL, "logout" },
	{ 200, S("{\"logout\":[]}"), 0, ANSWER_LOGOUT, NULL, "logout" },
	{ 200, S("{\"logout\":1,\"newToken\":\"abc\"}"), 0, ANSWER_LOGOUT, NULL, "logout" },
	{ 200, S("{\"newToken\":\"abc\",\"logout\":1}"), 0, ANSWER_LOGOUT, NULL, "logout" },
	{ 200, S("{\"logout\":1,\"newToken\":\"\"}"), 0, ANSWER_LOGOUT, NULL, "logout" },
	{ 200, S("{\"logout\":null,\"logout\":1}"), 0, ANSWER_LOGOUT, NULL, "logout" },
	{ 200, S("{\"logout\":1,\"logout\":null}"), 0, ANSWER_FAILED, NULL, "answer has neither" },
	/* transient statuses, whatever the body */
	{ 408, S(""), 0, ANSWER_TRANSIENT, NULL, "HTTP 408" },
	{ 429, S("{\"newToken\":\"abc\"}"), 0, ANSWER_TRANSIENT, NULL, "HTTP 429" },
	{ 500, S("<html>oops</html>"), 0, ANSWER_TRANSIENT, NULL, "HTTP 500" },
	{ 502, S("{\"logout\":1}"), 0, ANSWER_TRANSIENT, NULL, "HTTP 502" },
	{ 503, S(""), 0, ANSWER_TRANSIENT, NULL, "HTTP 503" },
	{ 504, S(""), 0, ANSWER_TRANSIENT, NULL, "HTTP 504" },
	/* other statuses fail */
	{ 301, S("{\"newToken\":\"abc\"}"), 0, ANSWER_FAILED, NULL, "HTTP 301" },
	{ 302, S(""), 0, ANSWER_FAILED, NULL, "HTTP 302" },
	{ 304, S(""), 0, ANSWER_FAILED, NULL, "HTTP 304" },
	{ 400, S("{\"logout\":1}"), 0, ANSWER_FAILED, NULL, "HTTP 400" },
	{ 401, S(""), 0, ANSWER_FAILED, NULL, "HTTP 401" },
	{ 403, S(""), 0, ANSWER_FAILED, NULL, "HTTP 403" },
	{ 404, S(""), 0, ANSWER_FAILED, NULL, "HTTP 404" },
	{ 501, S(""), 0, ANSWER_FAILED, NULL, "HTTP 501" },
	{ 505, S(""), 0, ANSWER_FAILED, NULL, "HTTP 505" },
	{ 199, S("{\"newToken\":\"abc\"}"), 0, ANSWER_FAILED, NULL, "HTTP 199" },
	{ 300, S("{\"newToken\":\"abc\"}"), 0, ANSWER_FAILED, NULL, "HTTP 300" },
	{ 0, S(""), 0, ANSWER_FAILED, NULL, "HTTP 0" },
	{ -1, S(""), 0, ANSWER_FAILED, NULL, "HTTP -1" },
	{ 999999, S(""), 0, ANSWER_FAILED, NULL, "HTTP 999999" },
	/* too big: failed at any status */
	{ 200, S("{\"newToken\":\"abc\"}"), 1, ANSWER_FAILED, NULL, "response body over" },
	{ 503, S("x"), 1, ANSWER_FAILED, NULL, "response body over" },
	{ 404, S("x"), 1, ANSWER_FAILED, NULL, "response body over" },
	{ 200, S(""), 1, ANSWER_FAILED, NULL, "response body over the size limit" },
	/* bad newToken */
	{ 200, S("{\"newToken\":\"\"}"), 0, ANSWER_FAILED, NULL, "newToken empty" },
	/* SPEC: printable ASCII is 0x20-0x7E, the space included; the boundaries either side */
	{ 200, S("{\"newToken\":\"a\\u001fb\"}"), 0, ANSWER_FAILED, NULL, "newToken invalid (non-printable)" },
	{ 200, S("{\"newToken\":\"a b\"}"), 0, ANSWER_REFRESHED, "a b", "refreshed" },
	{ 200, S("{\"newToken\":\" abc \"}"), 0, ANSWER_REFRESHED, " abc ", "refreshed" },
	{ 200, S("{\"newToken\":\" \"}"), 0, ANSWER_REFRESHED, " ", "refreshed" },
	{ 200, S("{\"newToken\":\"a~b\"}"), 0, ANSWER_REFRESHED, "a~b", "refreshed" },
	{ 200, S("{\"newToken\":\"a\\u007fb\"}"), 0, ANSWER_FAILED, NULL, "newToken invalid (non-printable)" },
	{ 200, S("{\"newToken\":\"a\tb\"}"), 0, ANSWER_FAILED, NULL, "newToken invalid (non-printable)" },
	{ 200, S("{\"newToken\":\"abc\\n\"}"), 0, ANSWER_FAILED, NULL, "newToken invalid (non-printable)" },
	{ 200, S("{\"newToken\":\"a\\u0000b\"}"), 0, ANSWER_FAILED, NULL, "newToken invalid (non-printable)" },
	{ 200, S("{\"newToken\":\"\\u007f\"}"), 0, ANSWER_FAILED, NULL, "newToken invalid (non-printable)" },
	{ 200, S("{\"newToken\":\"caf\\u00e9\"}"), 0, ANSWER_FAILED, NULL, "newToken invalid (non-printable)" },
	{ 200, S("{\"newToken\":\"caf\xC3\xA9\"}"), 0, ANSWER_FAILED, NULL, "newToken invalid (non-printable)" },
	{ 200, S("{\"newToken\":\"\xFF\"}"), 0, ANSWER_FAILED, NULL, "newToken invalid (non-printable)" },
	{ 200, S("{\"newToken\":\"" TOKEN4096 "X\"}"), 0, ANSWER_FAILED, NULL, "newToken too long (4097 bytes)" },
	{ 200, S("{\"newToken\":123}"), 0, ANSWER_FAILED, NULL, "newToken not a string" },
	{ 200, S("{\"newToken\":null}"), 0, ANSWER_FAILED, NULL, "newToken not a string" },
	{ 200, S("{\"newToken\":true}"), 0, ANSWER_FAILED, NULL, "newToken not a string" },
	{ 200, S("{\"newToken\":[\"abc\"]}"), 0, ANSWER_FAILED, NULL, "newToken not a string" },
	{ 200, S("{\"newToken\":{\"t\":\"abc\"}}"), 0, ANSWER_FAILED, NULL, "newToken not a string" },
	/* objects with neither */
	{ 200, S("{}"), 0, ANSWER_FAILED, NULL, "answer has neither newToken nor logout" },
	{ 200, S("{\"logout\":null}"), 0, ANSWER_FAILED, NULL, "answer has neither newToken nor logout" },
	{ 200, S("{\"NewToken\":\"abc\"}"), 0, ANSWER_FAILED, NULL, "answer has neither" },
	{ 200, S("{\"data\":{\"newToken\":\"abc\"}}"), 0, ANSWER_FAILED, NULL, "answer has neither" },
	/* JSON but not an object */
	{ 200, S("[]"), 0, ANSWER_FAILED, NULL, "answer is a JSON array" },
	{ 200, S("[{\"newToken\":\"abc\"}]"), 0, ANSWER_FAILED, NULL, "answer is a JSON array" },
	{ 200, S("\"abc\""), 0, ANSWER_FAILED, NULL, "answer is a JSON string" },
	{ 200, S("123"), 0, ANSWER_FAILED, NULL, "answer is a JSON int" },
	{ 200, S("null"), 0, ANSWER_FAILED, NULL, "answer is a JSON null" },
	{ 200, S("true"), 0, ANSWER_FAILED, NULL, "answer is a JSON boolean" },
	/* not JSON */
	{ 200, S(""), 0, ANSWER_FAILED, NULL, "answer is not JSON" },
	{ 200, S("   "), 0, ANSWER_FAILED, NULL, "answer is not JSON" },
	{ 200, S("<html><body>Maintenance</body></html>"), 0, ANSWER_FAILED, NULL, "answer is not JSON" },
	{ 200, S("{\"newToken\":\"abc\""), 0, ANSWER_FAILED, NULL, "answer is not JSON" },
	{ 200, S("{\"newToken\":\"abc\"} trailing"), 0, ANSWER_FAILED, NULL, "answer is not JSON" },
	{ 200, S("{\"newToken\":\"abc\"}{\"logout\":1}"), 0, ANSWER_FAILED, NULL, "answer is not JSON" },
	{ 200, S("{\"newToken\":\"abc\"}\0"), 0, ANSWER_FAILED, NULL, "answer is not JSON" },
	{ 200, S("{\"newToken\":\"abc\"}\0{\"logout\":1}"), 0, ANSWER_FAILED, NULL, "answer is not JSON" },
	{ 200, S("\0{\"newToken\":\"abc\"}"), 0, ANSWER_FAILED, NULL, "answer is not JSON" },
	{ 200, S("{\"newToken\":\"ab\0c\"}"), 0, ANSWER_FAILED, NULL, "answer is not JSON" },
	{ 200, S("{\"newToken\":\"abc\",}"), 0, ANSWER_FAILED, NULL, "answer is not JSON" },
	{ 200, S("\xEF\xBB\xBF{\"newToken\":\"abc\"}"), 0, ANSWER_FAILED, NULL, "answer is not JSON" },
	{ 200, S("\xFF\xFE{\x00\"\x00"), 0, ANSWER_FAILED, NULL, "answer is not JSON" },
};

/* Reasons: one line of printable ASCII, bounded. */
static void check_reason(const struct answer *a)
{
	ck_assert_uint_gt(strlen(a->reason), 0);
	ck_assert_uint_lt(strlen(a->reason), REASON_MAX);
	for (const char *p = a->reason; *p != '\0'; p++)
		ck_assert_msg((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7F, "reason byte 0x%02x",
		    (unsigned char)*p);
}

START_TEST(test_classify_table)
{
	const struct cls_case *c = &cls_cases[_i];
	/* The body on the heap, sized exactly, so that reads past len are caught by valgrind/ASan. */
	char *body = malloc(c->len + 1);
	struct http_answer in;
	struct answer out;

	ck_assert_ptr_nonnull(body);
	memcpy(body, c->body, c->len);
	body[c->len] = '\0';
	in.status = c->status;
	in.body = body;
	in.len = c->len;
	in.too_big = c->too_big;
	ck_assert_int_eq(tokenupdate_classify(&in, &out), 0);
	ck_assert_msg(out.kind == c->kind, "case %d: kind %s, want %s (%s)", _i,
	    answer_kind_name(out.kind), answer_kind_name(c->kind), out.reason);
	ck_assert_msg(strncmp(out.reason, c->reason, strlen(c->reason)) == 0,
	    "case %d: reason '%s', want '%s...'", _i, out.reason, c->reason);
	if (c->kind == ANSWER_REFRESHED) {
		ck_assert_ptr_nonnull(out.new_token);
		ck_assert_str_eq(out.new_token, c->token);
		ck_assert_ptr_null(strstr(out.reason, c->token));
	} else
		ck_assert_ptr_null(out.new_token);
	check_reason(&out);
	answer_clear(&out);
	ck_assert_ptr_null(out.new_token);
	answer_clear(&out);
	free(body);
}
END_TEST

/* JSON nested 10000 deep, as the whole body or under a key next to newToken: failed, no crash. */
START_TEST(test_classify_deep)
{
	static const char head[] = "{\"newToken\":\"abc\",\"x\":";
	size_t depth = 10000, o = 0;
	char *body = malloc(6 * depth + 64);
	struct http_answer in = { 200, NULL, 0, 0 };
	struct answer out;

	ck_assert_ptr_nonnull(body);
	for (size_t i = 0; i < depth; i++)
		body[o++] = '[';
	for (size_t i = 0; i < depth; i++)
		body[o++] = ']';
	body[o] = '\0';
	in.body = body;
	in.len = o;
	ck_assert_int_eq(tokenupdate_classify(&in, &out), 0);
	ck_assert_int_eq(out.kind, ANSWER_FAILED);
	answer_clear(&out);

	o = 0;
	o = strlen(head);
	memcpy(body, head, o);
	for (size_t i = 0; i < depth / 2; i++) {
		memcpy(body + o, "{\"k\":", 5);
		o += 5;
	}
	body[o++] = '1';
	for (size_t i = 0; i < depth / 2 + 1; i++)
		body[o++] = '}';
	body[o] = '\0';
	in.len = o;
	ck_assert_int_eq(tokenupdate_classify(&in, &out), 0);
	ck_assert_int_eq(out.kind, ANSWER_FAILED);
	ck_assert_ptr_null(out.new_token);
	answer_clear(&out);

	/* Moderate nesting (20) is fine. */
	o = 0;
	o = strlen(head);
	memcpy(body, head, o);
	for (size_t i = 0; i < 20; i++)
		body[o++] = '[';
	for (size_t i = 0; i < 20; i++)
		body[o++] = ']';
	body[o++] = '}';
	body[o] = '\0';
	in.len = o;
	ck_assert_int_eq(tokenupdate_classify(&in, &out), 0);
	ck_assert_int_eq(out.kind, ANSWER_REFRESHED);
	answer_clear(&out);
	free(body);
}
END_TEST

/* Random bytes behind a '{': never refreshed by accident, never a crash. */
START_TEST(test_classify_binary)
{
	char body[2048];
	uint64_t x = 0x243F6A8885A308D3ULL;

	for (int round = 0; round < 300; round++) {
		struct http_answer in = { 200, body, (size_t)(round * 7) % sizeof body, 0 };
		struct answer out;

		for (size_t i = 0; i < in.len; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			body[i] = (char)(x & 0xFF);
		}
		if (in.len > 0)
			body[0] = '{';
		ck_assert_int_eq(tokenupdate_classify(&in, &out), 0);
		ck_assert_int_eq(out.kind, ANSWER_FAILED);
		check_reason(&out);
		answer_clear(&out);
	}
}
END_TEST

/* The token and the body never show in a reason; odd inputs are handled. */
START_TEST(test_classify_no_secrets)
{
	static const char *bodies[] = {
		"{\"newToken\":\"SECRET\\tTOKEN\"}",
		"{\"newToken\":\"SECRET\\u0001\"}",
		"{\"newToken\":\"SECRET\"} SECRET",
		"SECRET",
		"{\"SECRET\":1}",
		"[\"SECRET\"]",
	};
	struct answer out;

	for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
		struct http_answer in = { 200, bodies[i], strlen(bodies[i]), 0 };

		ck_assert_int_eq(tokenupdate_classify(&in, &out), 0);
		ck_assert_int_eq(out.kind, ANSWER_FAILED);
		ck_assert_ptr_null(strstr(out.reason, "SECRET"));
		answer_clear(&out);
	}
	{
		struct http_answer in = { 200, NULL, 0, 0 };

		ck_assert_int_eq(tokenupdate_classify(&in, &out), 0);
		ck_assert_int_eq(out.kind, ANSWER_FAILED);
		answer_clear(&out);
	}
	ck_assert_int_eq(tokenupdate_classify(NULL, &out), 0);
	ck_assert_int_eq(out.kind, ANSWER_FAILED);
	answer_clear(NULL);
}
END_TEST

START_TEST(test_kind_names)
{
	ck_assert_str_eq(answer_kind_name(ANSWER_REFRESHED), "refreshed");
	ck_assert_str_eq(answer_kind_name(ANSWER_LOGOUT), "logout");
	ck_assert_str_eq(answer_kind_name(ANSWER_TRANSIENT), "transient");
	ck_assert_str_eq(answer_kind_name(ANSWER_FAILED), "failed");
	ck_assert_str_eq(answer_kind_name((enum answer_kind)42), "unknown");
}
END_TEST

Suite *tokenupdate_suite(void)
{
	Suite *s = suite_create("tokenupdate");
	TCase *tc = tcase_create("request");
	tcase_set_timeout(tc, TCASE_TIMEOUT_S);

	tcase_add_loop_test(tc, test_body_table, 0, (int)(sizeof body_cases / sizeof body_cases[0]));
	tcase_add_test(tc, test_body_no_config);
	tcase_add_loop_test(tc, test_fingerprint_table, 0, (int)(sizeof fp_cases / sizeof fp_cases[0]));
	tcase_add_test(tc, test_build_no_fingerprint);
	suite_add_tcase(s, tc);

	tc = tcase_create("classify");
	tcase_set_timeout(tc, TCASE_TIMEOUT_S);
	tcase_add_loop_test(tc, test_classify_table, 0, (int)(sizeof cls_cases / sizeof cls_cases[0]));
	tcase_add_test(tc, test_classify_deep);
	tcase_add_test(tc, test_classify_binary);
	tcase_add_test(tc, test_classify_no_secrets);
	tcase_add_test(tc, test_kind_names);
	suite_add_tcase(s, tc);
	return s;
}
