/* jsonprofile.c - profile json: a JSON refresh API described by configuration (SPEC "Third profile"). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <json-c/json_pointer.h>

#include "jsonprofile.h"
#include "jsonutil.h"
#include "oauth2.h"
#include "strbuf.h"

/* Longest lifetime we believe in expires_in (a year), as oauth2 does. */
#define JSON_MAX_EXPIRES_IN (366LL * 24 * 3600)
/* Latest absolute expiry: 9999-12-31T23:59:59Z. */
#define JSON_MAX_EXPIRES_AT 253402300799LL
/* A pointer is echoed in a reason up to this many bytes. */
#define POINTER_ECHO_MAX 48

static int is_ident_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

const char *jsonprofile_unknown_placeholder(const char *tmpl, char *buf, size_t size)
{
	for (const char *p = strchr(tmpl, '{'); p != NULL; p = strchr(p + 1, '{')) {
		size_t n = 1;
		while (is_ident_char(p[n]))
			n++;
		if (n == 1 || p[n] != '}')
			continue; /* not "{identifier}": literal text */
		n++;
		if ((n == strlen(JSONPROFILE_TOKEN) && memcmp(p, JSONPROFILE_TOKEN, n) == 0) ||
		    (n == strlen(JSONPROFILE_ACCESS_TOKEN) && memcmp(p, JSONPROFILE_ACCESS_TOKEN, n) == 0))
			continue;
		(void)snprintf(buf, size, "%.*s", (int)n, p);
		return buf;
	}
	return NULL;
}

int jsonprofile_uses_access_token(const struct config *cfg)
{
	const struct kvlist *lists[] = { &cfg->upstream.json.body, &cfg->upstream.json.headers };
	for (size_t l = 0; l < 2; l++)
		for (size_t i = 0; i < lists[l]->n; i++)
			if (strstr(lists[l]->v[i].value, JSONPROFILE_ACCESS_TOKEN) != NULL)
				return 1;
	return 0;
}

/* 1 when a body or header template of cfg holds "{token}". */
static int uses_token(const struct config *cfg)
{
	const struct kvlist *lists[] = { &cfg->upstream.json.body, &cfg->upstream.json.headers };
	for (size_t l = 0; l < 2; l++)
		for (size_t i = 0; i < lists[l]->n; i++)
			if (strstr(lists[l]->v[i].value, JSONPROFILE_TOKEN) != NULL)
				return 1;
	return 0;
}

char *jsonprofile_expand(const char *tmpl, const char *token, const char *access_token)
{
	struct strbuf b = { 0 };
	const char *p = tmpl;
	for (;;) {
		const char *t = strstr(p, JSONPROFILE_TOKEN), *a = strstr(p, JSONPROFILE_ACCESS_TOKEN);
		const char *next = t != NULL && (a == NULL || t < a) ? t : a;
		if (next == NULL)
			break;
		strbuf_put(&b, p, (size_t)(next - p));
		if (next == t) {
			strbuf_puts(&b, token != NULL ? token : "");
			p = next + strlen(JSONPROFILE_TOKEN);
		} else {
			strbuf_puts(&b, access_token != NULL ? access_token : "");
			p = next + strlen(JSONPROFILE_ACCESS_TOKEN);
		}
	}
	strbuf_puts(&b, p);
	if (b.p == NULL && !b.oom)
		return strdup("");
	return strbuf_take(&b);
}

/* ---- RFC 3339 ---- */

/* n digits of s as a number; -1 when one is not a digit. */
static int digits(const char *s, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* Days from 1970-01-01 to y-m-d of the proleptic Gregorian calendar. */
static long long days_from_civil(long long y, int m, int d)
{
	y -= m <= 2;
	long long era = (y >= 0 ? y : y - 399) / 400;
	long long yoe = y - era * 400;
	long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
	static const int dim[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : dim[m - 1];
}

int jsonprofile_rfc3339(const char *s, size_t len, long long *out)
{
	/* date-time = YYYY-MM-DD "T" hh:mm:ss [.frac] ("Z" / ("+" / "-") hh:mm) */
	if (len < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
	    s[13] != ':' || s[16] != ':')
		return -1;
	int y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2);
	int h = digits(s + 11, 2), mi = digits(s + 14, 2), sec = digits(s + 17, 2);
	if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h < 0 || h > 23 ||
	    mi < 0 || mi > 59 || sec < 0 || sec > 60)
		return -1;
	size_t i = 19;
	if (i < len && s[i] == '.') {
		size_t start = ++i;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == start)
			return -1;
	}
	long long offset = 0;
	if (i + 1 == len && (s[i] == 'Z' || s[i] == 'z')) {
		i++;
	} else if (i + 6 == len && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
		int oh = digits(s + i + 1, 2), om = digits(s + i + 4, 2);
		if (oh < 0 || oh > 23 || om < 0 || om > 59)
			return -1;
		offset = (s[i] == '+' ? 1 : -1) * (oh * 3600LL + om * 60LL);
		i += 6;
	}
	if (i != len)
		return -1;
	*out = days_from_civil(y, mo, d) * 86400 + h * 3600LL + mi * 60LL + sec - offset;
	return 0;
}

/* ---- the answer ---- */

int jsonprofile_lookup(struct json_object *root, const char *ptr, struct json_object **out)
{
	*out = NULL;
	/*
	 * json-c 0.16 reads an empty reference token as array index 0 ("/foo/"
	 * gives foo[0]; RFC 6901 section 4: an array index is digits, so it names
	 * no element). Such a token below an array resolves to nothing.
	 */
	for (const char *p = strchr(ptr, '/'); p != NULL; p = strchr(p + 1, '/')) {
		struct json_object *parent = NULL;
		char *prefix;
		if (p[1] != '/' && p[1] != '\0')
			continue;
		prefix = strndup(ptr, (size_t)(p - ptr));
		if (prefix == NULL)
			return 0;
		int is_array = json_pointer_get(root, prefix, &parent) == 0 &&
		    json_object_is_type(parent, json_type_array);
		free(prefix);
		if (is_array)
			return 0;
	}
	if (json_pointer_get(root, ptr, out) != 0) {
		*out = NULL;
		return 0;
	}
	return 1;
}

/* ptr as a reason may show it: printable ASCII, cut to POINTER_ECHO_MAX bytes. */
static const char *echo(const char *ptr, char *buf, size_t size)
{
	size_t o = 0;
	for (const char *p = ptr; *p != '\0' && o + 4 < size; p++) {
		if (o >= POINTER_ECHO_MAX) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		buf[o++] = (*p >= 0x20 && *p < 0x7f) ? *p : '?';
	}
	buf[o] = '\0';
	return buf;
}

/* A JSON number (or, with digit_strings, a string of 1..12 digits) as a double; -1 if neither. */
static int number_at(struct json_object *v, int digit_strings, double *out)
{
	if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)) {
		*out = json_object_get_double(v);
		return isfinite(*out) ? 0 : -1;
	}
	if (digit_strings && json_object_is_type(v, json_type_string)) {
		const char *s = json_object_get_string(v);
		size_t n = (size_t)json_object_get_string_len(v);
		if (n == 0 || n > 12 || strspn(s, "0123456789") != n)
			return -1;
		*out = strtod(s, NULL);
		return 0;
	}
	return -1;
}

/*
 * The expiry an answer gives, at now: from expires_in, else expires_at, else
 * the access token's JWT exp. Returns 0 and *exp (0 = none found), or -1 with
 * the reason in out when a value is there but wrong.
 */
static int expiry(const struct config *cfg, struct json_object *root, const char *access,
    long long now, long long *exp, struct verdict *out)
{
	const char *in_ptr = cfg->upstream.json.expires_in, *at_ptr = cfg->upstream.json.expires_at;
	struct json_object *v;
	char e[POINTER_ECHO_MAX + 8];
	double d;
	*exp = 0;
	if (in_ptr[0] != '\0' && jsonprofile_lookup(root, in_ptr, &v) && v != NULL) {
		if (number_at(v, 1, &d) != 0 || d < 1 || d > (double)JSON_MAX_EXPIRES_IN) {
			verdict_set(out, ANSWER_FAILED, "expires_in at %s is not a lifetime of 1 s to a year",
			    echo(in_ptr, e, sizeof(e)));
			return -1;
		}
		*exp = now + (long long)d;
		return 0;
	}
	if (at_ptr[0] != '\0' && jsonprofile_lookup(root, at_ptr, &v) && v != NULL) {
		long long t = 0;
		if (json_object_is_type(v, json_type_string)) {
			if (jsonprofile_rfc3339(json_object_get_string(v),
				(size_t)json_object_get_string_len(v), &t) != 0)
				t = 0;
		} else if (number_at(v, 0, &d) == 0 && d >= 1 && d <= (double)JSON_MAX_EXPIRES_AT) {
			t = (long long)d;
		}
		if (t < 1 || t > JSON_MAX_EXPIRES_AT) {
			verdict_set(out, ANSWER_FAILED,
			    "expires_at at %s is not unix seconds or an RFC 3339 date-time",
			    echo(at_ptr, e, sizeof(e)));
			return -1;
		}
		*exp = t;
		return 0;
	}
	if (access != NULL) {
		long long jwt = oauth2_jwt_exp(access, strlen(access));
		*exp = jwt > 0 ? jwt : 0;
	}
	return 0;
}

/* A 2xx answer's root object into out (REFRESHED or FAILED). */
static void judge_object(const struct config *cfg, struct json_object *root, const char *old_token,
    long long now, struct verdict *out)
{
	const char *tok_ptr = cfg->upstream.json.token, *acc_ptr = cfg->upstream.json.access_token;
	const char *access = NULL, *token = old_token, *problem;
	struct json_object *v;
	char e[POINTER_ECHO_MAX + 8], buf[64];
	long long exp;

	if (acc_ptr[0] != '\0') {
		if (!jsonprofile_lookup(root, acc_ptr, &v) || v == NULL) {
			verdict_set(out, ANSWER_FAILED, "answer has no access token at %s",
			    echo(acc_ptr, e, sizeof(e)));
			return;
		}
		if ((problem = jsonutil_token_problem(v, "access token", buf, sizeof(buf))) != NULL) {
			verdict_set(out, ANSWER_FAILED, "%s (at %s)", problem, echo(acc_ptr, e, sizeof(e)));
			return;
		}
		access = json_object_get_string(v);
	}
	if (tok_ptr[0] != '\0') {
		if (jsonprofile_lookup(root, tok_ptr, &v) && v != NULL) {
			if ((problem = jsonutil_token_problem(v, "token", buf, sizeof(buf))) != NULL) {
				verdict_set(out, ANSWER_FAILED, "%s (at %s)", problem,
				    echo(tok_ptr, e, sizeof(e)));
				return;
			}
			token = json_object_get_string(v); /* rotation */
		} else if (access == NULL) {
			verdict_set(out, ANSWER_FAILED, "answer has no token at %s",
			    echo(tok_ptr, e, sizeof(e)));
			return;
		}
	}
	if (expiry(cfg, root, access, now, &exp, out) != 0)
		return;
	if (exp == 0 && cfg->database.columns.expires_at[0] != '\0') {
		verdict_set(out, ANSWER_FAILED,
		    "answer has no expiry (no expires_in, no expires_at, no readable JWT exp)");
		return;
	}
	out->new_token = strdup(token);
	out->access_token = access != NULL ? strdup(access) : NULL;
	out->expires_at = exp;
	if (out->new_token == NULL || (access != NULL && out->access_token == NULL)) {
		free(out->new_token);
		free(out->access_token);
		out->new_token = out->access_token = NULL;
		verdict_set(out, ANSWER_FAILED, "out of memory");
		return;
	}
	verdict_set(out, ANSWER_REFRESHED, "refreshed");
}

void jsonprofile_judge_answer(const struct config *cfg, long status, const char *body, size_t len,
    int too_big, const char *old_token, long long now, struct verdict *out)
{
	const struct statuslist *logout = &cfg->upstream.json.logout_status;
	struct json_object *root = NULL;
	const char *why = "";
	memset(out, 0, sizeof(*out));
	/* SPEC: a body over upstream.max_response_bytes fails at once, whatever the status. */
	if (too_big) {
		verdict_set(out, ANSWER_FAILED, "response body over %zu bytes", len);
		return;
	}
	for (size_t i = 0; i < logout->n; i++) {
		if (status == logout->v[i]) {
			verdict_set(out, ANSWER_LOGOUT, "HTTP %ld", status);
			return;
		}
	}
	if (http_status_transient(status)) {
		verdict_set(out, ANSWER_TRANSIENT, "HTTP %ld", status);
		return;
	}
	if (status < 200 || status > 299) {
		verdict_set(out, ANSWER_FAILED, "HTTP %ld", status);
		return;
	}
	if (body == NULL || jsonutil_parse_exact(body, len, &root, &why) != 0 ||
	    !json_object_is_type(root, json_type_object)) {
		verdict_set(out, ANSWER_FAILED, "answer is not a JSON object%s%s",
		    why[0] != '\0' ? ": " : "", why);
		json_object_put(root);
		return;
	}
	judge_object(cfg, root, old_token, now, out);
	json_object_put(root);
}

/* ---- the profile ---- */

/* 1 when s holds a byte a header value may not (CR, LF, other controls). */
static int has_control(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return 1;
	return 0;
}

static void free_secret(char *s)
{
	if (s != NULL)
		explicit_bzero(s, strlen(s));
	free(s);
}

/* Profile: the body's templates as a JSON object of strings (json-c escapes), the headers'. */
static int json_build(const struct config *cfg, const struct row *row, void **state,
    struct request *out, char *err, size_t errlen)
{
	const struct kvlist *body = &cfg->upstream.json.body, *hdr = &cfg->upstream.json.headers;
	struct json_object *obj = NULL;
	char *v = NULL;
	(void)state;
	memset(out, 0, sizeof(*out));
	out->content_type = "application/json";
	if ((row->access_token == NULL || row->access_token[0] == '\0') &&
	    jsonprofile_uses_access_token(cfg)) {
		snprintf(err, errlen, "no access token: the request uses {access_token}; not sent");
		return -1;
	}
	obj = json_object_new_object();
	if (obj == NULL)
		goto oom;
	for (size_t i = 0; i < body->n; i++) {
		struct json_object *s;
		v = jsonprofile_expand(body->v[i].value, row->token, row->access_token);
		s = v != NULL ? json_object_new_string(v) : NULL;
		free_secret(v);
		v = NULL;
		if (s == NULL || json_object_object_add(obj, body->v[i].name, s) != 0) {
			json_object_put(s);
			goto oom;
		}
	}
	const char *text = json_object_to_json_string_ext(obj,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (text == NULL || (out->body = strdup(text)) == NULL)
		goto oom;
	/* json-c keeps the text in the object: wipe it, it holds the token. */
	explicit_bzero((char *)text, strlen(text));
	json_object_put(obj);
	obj = NULL;
	if (hdr->n > 0 && (out->headers = calloc(hdr->n, sizeof(char *))) == NULL)
		goto oom;
	for (size_t i = 0; i < hdr->n; i++) {
		v = jsonprofile_expand(hdr->v[i].value, row->token, row->access_token);
		if (v == NULL)
			goto oom;
		if (has_control(v)) {
			snprintf(err, errlen, "header %.40s would hold a control character (from the"
					      " row's token or access token); not sent", hdr->v[i].name);
			free_secret(v);
			request_clear(out);
			return -1;
		}
		if (asprintf(&out->headers[out->nheaders], "%s: %s", hdr->v[i].name, v) < 0) {
			out->headers[out->nheaders] = NULL;
			goto oom;
		}
		out->nheaders++;
		free_secret(v);
		v = NULL;
	}
	return 0;
oom:
	free_secret(v);
	json_object_put(obj);
	request_clear(out);
	snprintf(err, errlen, "out of memory");
	return -1;
}

/* Profile: see jsonprofile_judge_answer. */
static void json_judge(const struct config *cfg, const struct row *row, void *state,
    const struct reply *r, struct verdict *out)
{
	(void)state;
	jsonprofile_judge_answer(cfg, r->status, r->body, r->len, r->too_big, row->token,
	    (long long)time(NULL), out);
}

/* Profile: what no answer could make right, said before any row is claimed. */
static const char *json_check_config(const struct config *cfg, const char **key)
{
	static char msg[CONFDIAG_MSG_MAX];
	const struct kvlist *lists[] = { &cfg->upstream.json.body, &cfg->upstream.json.headers };
	static const char *const list_keys[] = { "upstream.json.body", "upstream.json.headers" };
	char ph[CONFDIAG_PATH_MAX];

	for (size_t l = 0; l < 2; l++) {
		for (size_t i = 0; i < lists[l]->n; i++) {
			if (jsonprofile_unknown_placeholder(lists[l]->v[i].value, ph, sizeof(ph)) == NULL)
				continue;
			*key = list_keys[l];
			(void)snprintf(msg, sizeof(msg),
			    "%s: unknown placeholder %.60s (the placeholders are {token} and"
			    " {access_token})", lists[l]->v[i].name, ph);
			return msg;
		}
	}
	if (cfg->upstream.json.token[0] == '\0' && cfg->upstream.json.access_token[0] == '\0') {
		*key = "upstream.json.token";
		return "and upstream.json.access_token are both \"\": an answer would give nothing to store";
	}
	if (cfg->upstream.form.n > 0) {
		*key = "upstream.form";
		return "not used by profile json: the request body is upstream.json.body";
	}
	if (jsonprofile_uses_access_token(cfg) && cfg->database.columns.access_token[0] == '\0') {
		*key = "database.columns.access_token";
		return "must name the access token's column: upstream.json uses {access_token}";
	}
	if (cfg->database.columns.expires_at[0] != '\0' && cfg->upstream.json.expires_in[0] == '\0' &&
	    cfg->upstream.json.expires_at[0] == '\0' && cfg->upstream.json.access_token[0] == '\0') {
		*key = "database.columns.expires_at";
		return "no answer could give an expiry: set upstream.json.expires_in, expires_at or"
		       " access_token (its JWT exp)";
	}
	return NULL;
}

/* Profile: a request that would not carry the row's token is most likely a mistake. */
static const char *json_warn_config(const struct config *cfg)
{
	if (!uses_token(cfg))
		return "neither upstream.json.body nor upstream.json.headers uses {token}: requests do"
		       " not carry the row's token";
	return NULL;
}

static const char *const json_reserved[] = { NULL };

const struct profile_ops profile_json = {
	.name = "json",
	.reserved_form = json_reserved,
	.uses = 0, /* a token and an access token: no cookies, no fingerprint */
	.default_form = 0,
	.mass_logout_causes = "the refresh endpoint of another service or tenant (upstream.url), a"
			      " request that does not carry the token the service expects"
			      " (upstream.json.body, headers), a status in upstream.json.logout_status"
			      " that the service also uses for other errors",
	.check_config = json_check_config,
	.warn_config = json_warn_config,
	.build = json_build,
	.judge = json_judge,
};
