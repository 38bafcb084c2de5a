/* oauth2.c - the OAuth 2.0 refresh-token grant: request with client authentication, answer, JWT expiry. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "form.h"
#include "jsonutil.h"
#include "log.h"
#include "oauth2.h"

/* Longest expires_in we believe (a year); more is treated as no expiry given. */
#define OAUTH2_MAX_EXPIRES_IN (366LL * 24 * 3600)

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Standard base64 with padding. Caller frees; NULL on OOM. */
static char *base64_encode(const unsigned char *in, size_t n)
{
	char *out = malloc((n + 2) / 3 * 4 + 1), *o = out;
	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		*o++ = b64[(v >> 18) & 63];
		*o++ = b64[(v >> 12) & 63];
		*o++ = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		*o++ = i + 2 < n ? b64[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

/* Value of a base64url character, or -1. */
static int b64url_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/*
 * Decodes unpadded base64url (trailing '=' tolerated) into out (at least
 * n * 3 / 4 + 1 bytes). Returns the decoded length, or -1 on a bad character
 * or an impossible length.
 */
static long base64url_decode(const char *in, size_t n, unsigned char *out)
{
	while (n > 0 && in[n - 1] == '=')
		n--;
	if (n % 4 == 1)
		return -1;
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n; i++) {
		int v = b64url_value((unsigned char)in[i]);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	return (long)o;
}

long long oauth2_jwt_exp(const char *jwt, size_t len)
{
	if (jwt == NULL || len == 0 || len > OAUTH2_JWT_MAX)
		return -1;
	const char *dot1 = memchr(jwt, '.', len);
	if (dot1 == NULL)
		return -1;
	const char *p = dot1 + 1, *end = jwt + len;
	const char *dot2 = memchr(p, '.', (size_t)(end - p));
	if (dot2 == NULL || memchr(dot2 + 1, '.', (size_t)(end - dot2 - 1)) != NULL)
		return -1;
	size_t plen = (size_t)(dot2 - p);
	unsigned char *payload = malloc(plen * 3 / 4 + 1);
	if (payload == NULL)
		return -1;
	long long exp = -1;
	struct json_object *root = NULL, *v;
	const char *why;
	long n = base64url_decode(p, plen, payload);
	if (n > 0 && jsonutil_parse_exact((const char *)payload, (size_t)n, &root, &why) == 0 &&
	    json_object_is_type(root, json_type_object) && json_object_object_get_ex(root, "exp", &v) &&
	    (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double))) {
		double d = json_object_get_double(v);
		if (d >= 1 && d < 1e11)
			exp = (long long)d;
	}
	json_object_put(root);
	free(payload);
	return exp;
}

char *oauth2_basic_auth(const char *client_id, const char *client_secret)
{
	char *pair = NULL, *enc = NULL, *out = NULL;
	/* RFC 6749 2.3.1: each part form-urlencoded, then joined with ':'. */
	char *id = form_escape(client_id ? client_id : "");
	char *secret = form_escape(client_secret ? client_secret : "");
	if (id == NULL || secret == NULL || asprintf(&pair, "%s:%s", id, secret) < 0) {
		pair = NULL;
		goto out;
	}
	enc = base64_encode((const unsigned char *)pair, strlen(pair));
	if (enc == NULL || asprintf(&out, "Basic %s", enc) < 0)
		out = NULL;
out:
	if (secret)
		explicit_bzero(secret, strlen(secret));
	if (pair)
		explicit_bzero(pair, strlen(pair));
	if (enc)
		explicit_bzero(enc, strlen(enc));
	free(id);
	free(secret);
	free(pair);
	free(enc);
	return out;
}

/*
 * The "error" member of an answer when it is one of RFC 6749's codes (section
 * 5.2), else "" (an unknown value is not echoed: a hostile server could put a
 * token there).
 */
static void error_code(struct json_object *root, char *buf, size_t size)
{
	static const char *const known[] = { "invalid_request", "invalid_client", "invalid_grant",
		"unauthorized_client", "unsupported_grant_type", "invalid_scope" };
	struct json_object *v;
	buf[0] = '\0';
	if (root == NULL || !json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "error", &v) || !json_object_is_type(v, json_type_string))
		return;
	/* Compare lengths too: a JSON string may hold a NUL ("invalid_grant\u0000x" is not one). */
	size_t len = (size_t)json_object_get_string_len(v);
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (len == strlen(known[i]) && memcmp(json_object_get_string(v), known[i], len) == 0)
			snprintf(buf, size, "%s", known[i]);
}

/*
 * What a 401 or an error code that is the same for every row (RFC 6749 5.2:
 * the client, the grant type, the scope, the request's form) says is wrong,
 * or NULL when the answer is about the row.
 */
struct stop_cause {
	const char *code, *cause, *check;
};
static const struct stop_cause stop_causes[] = {
	{ "invalid_client", "refused the client credentials",
	    "upstream.client_id, client_secret and client_auth" },
	{ "unauthorized_client", "does not let this client use the refresh-token grant",
	    "the client's settings at the provider" },
	{ "unsupported_grant_type", "does not support the refresh-token grant", "upstream.url" },
	{ "invalid_scope", "refused the requested scope", "upstream.form" },
	{ "invalid_request", "refused the request as malformed", "upstream.form and client_auth" },
};

/*
 * What a 401, or an error code that is the same for every row (RFC 6749 5.2:
 * the client, the grant type, the scope, the request's form), says is wrong;
 * NULL when the answer is about the row.
 */
static const struct stop_cause *stop_cause(long status, const char *code)
{
	for (size_t i = 0; i < sizeof(stop_causes) / sizeof(stop_causes[0]); i++)
		if (strcmp(code, stop_causes[i].code) == 0)
			return &stop_causes[i];
	return status == 401 ? &stop_causes[0] : NULL;
}

void oauth2_judge_answer(long status, const char *body, size_t len, int too_big,
    const char *old_refresh, int need_expiry, long long now, struct verdict *out)
{
	struct json_object *root = NULL, *v;
	const char *why = "", *problem;
	char code[64], buf[64];
	memset(out, 0, sizeof(*out));
	if (too_big) {
		verdict_set(out, ANSWER_FAILED, "response body over %zu bytes", len);
		return;
	}
	if (body == NULL || jsonutil_parse_exact(body, len, &root, &why) != 0)
		root = NULL;
	error_code(root, code, sizeof(code));
	const struct stop_cause *stop = stop_cause(status, code);
	if (stop != NULL) {
		out->stop_run = 1;
		verdict_set(out, ANSWER_FAILED, "the token endpoint %s (HTTP %ld%s%s): check %s",
		    stop->cause, status, code[0] ? " " : "", code, stop->check);
		goto out;
	}
	if (status == 400 && strcmp(code, "invalid_grant") == 0) {
		verdict_set(out, ANSWER_LOGOUT, "invalid_grant");
		goto out;
	}
	if (http_status_transient(status)) {
		verdict_set(out, ANSWER_TRANSIENT, "HTTP %ld", status);
		goto out;
	}
	if (status < 200 || status > 299) {
		verdict_set(out, ANSWER_FAILED, "HTTP %ld%s%s", status, code[0] ? " " : "", code);
		goto out;
	}
	if (root == NULL || !json_object_is_type(root, json_type_object)) {
		verdict_set(out, ANSWER_FAILED, "answer is not a JSON object%s%s", why[0] ? ": " : "", why);
		goto out;
	}
	if (!json_object_object_get_ex(root, "access_token", &v)) {
		verdict_set(out, ANSWER_FAILED, "answer has no access_token");
		goto out;
	}
	if ((problem = jsonutil_token_problem(v, "access_token", buf, sizeof(buf))) != NULL) {
		verdict_set(out, ANSWER_FAILED, "%s", problem);
		goto out;
	}
	const char *access = json_object_get_string(v);
	const char *refresh = old_refresh;
	if (json_object_object_get_ex(root, "refresh_token", &v) && v != NULL) {
		if ((problem = jsonutil_token_problem(v, "refresh_token", buf, sizeof(buf))) != NULL) {
			verdict_set(out, ANSWER_FAILED, "%s", problem);
			goto out;
		}
		refresh = json_object_get_string(v); /* rotation */
	}
	long long exp = 0;
	if (json_object_object_get_ex(root, "expires_in", &v) &&
	    (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double))) {
		double in = json_object_get_double(v);
		if (in >= 1 && in <= (double)OAUTH2_MAX_EXPIRES_IN)
			exp = now + (long long)in;
	}
	if (exp == 0) {
		long long jwt = oauth2_jwt_exp(access, strlen(access));
		exp = jwt > 0 ? jwt : 0;
	}
	if (exp == 0 && need_expiry) {
		verdict_set(out, ANSWER_FAILED, "answer has no expiry (no expires_in, no readable JWT exp)");
		goto out;
	}
	out->access_token = strdup(access);
	out->new_token = strdup(refresh ? refresh : "");
	out->expires_at = exp;
	if (out->access_token == NULL || out->new_token == NULL) {
		free(out->access_token);
		free(out->new_token);
		out->access_token = out->new_token = NULL;
		verdict_set(out, ANSWER_FAILED, "out of memory");
		goto out;
	}
	verdict_set(out, ANSWER_REFRESHED, "refreshed");
out:
	json_object_put(root);
}

/* Profile: grant_type=refresh_token with the row's token, client credentials per client_auth. */
static int oauth2_build(const struct config *cfg, const struct row *row, void **state,
    struct request *out, char *err, size_t errlen)
{
	(void)state; /* the grant needs nothing kept between a row's requests */
	const char *id = cfg->upstream.client_id, *secret = cfg->upstream.client_secret;
	int bad = 0;
	memset(out, 0, sizeof(*out));
	bad |= form_append(&out->body, "grant_type", "refresh_token") != 0;
	bad |= !bad && form_append(&out->body, "refresh_token", row->token) != 0;
	for (size_t i = 0; !bad && i < cfg->upstream.form.n; i++)
		bad |= form_append(&out->body, cfg->upstream.form.v[i].name, cfg->upstream.form.v[i].value) != 0;
	if (!bad && id[0] != '\0' && cfg->upstream.client_auth == CLIENT_AUTH_FORM) {
		bad |= form_append(&out->body, "client_id", id) != 0;
		bad |= !bad && secret[0] != '\0' && form_append(&out->body, "client_secret", secret) != 0;
	}
	if (!bad && id[0] != '\0' && cfg->upstream.client_auth == CLIENT_AUTH_BASIC)
		bad |= (out->authorization = oauth2_basic_auth(id, secret)) == NULL;
	if (bad) {
		snprintf(err, errlen, "out of memory");
		request_clear(out);
		return -1;
	}
	return 0;
}

/* Profile: see oauth2_judge_answer. */
static void oauth2_judge(const struct config *cfg, const struct row *row, void *state,
    const struct reply *d, struct verdict *out)
{
	(void)state;
	oauth2_judge_answer(d->status, d->body, d->len, d->too_big, row->token,
	    cfg->database.columns.expires_at[0] != '\0', (long long)time(NULL), out);
}

/* Profile: credentials that could never work fail here, not row by row at the endpoint. */
static const char *oauth2_check_config(const struct config *cfg, const char **key)
{
	if (cfg->upstream.client_id[0] == '\0') {
		*key = "upstream.client_id";
		return "required by profile oauth2 (the token endpoint would refuse every row)";
	}
	if (cfg->upstream.client_secret[0] == '\0' && cfg->upstream.client_auth == CLIENT_AUTH_BASIC) {
		*key = "upstream.client_secret";
		return "required with client_auth: basic (a public client sends its client_id with"
		       " client_auth: form)";
	}
	return NULL;
}

static const char *const oauth2_reserved[] = { "grant_type", "refresh_token", "client_id",
	"client_secret", NULL };

const struct profile_ops profile_oauth2 = {
	.name = "oauth2",
	.reserved_form = oauth2_reserved,
	.uses = 0, /* a refresh token and the client's credentials: no cookies, no fingerprint */
	.default_form = 0,
	.mass_logout_causes = "the credentials of another client (upstream.client_id,"
			      " upstream.client_secret), the token endpoint of another tenant"
			      " (upstream.url)",
	.check_config = oauth2_check_config,
	.build = oauth2_build,
	.judge = oauth2_judge,
};
