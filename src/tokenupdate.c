/* tokenupdate.c - the aimharder tokenUpdate protocol: request body for a row, classification of an answer. */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cookies.h"
#include "form.h"
#include "jsonutil.h"
#include "profile.h"
#include "tokenupdate.h"

const char *tokenupdate_fingerprint(const struct config *cfg, const char *row_fingerprint)
{
	const char *fp = row_fingerprint;
	if (fp == NULL || fp[0] == '\0')
		fp = cfg != NULL ? cfg->upstream.fingerprint : NULL;
	return fp != NULL && fp[0] != '\0' ? fp : NULL;
}

/* See tokenupdate.h. A NULL token is sent as an empty field; a NULL cfg means no defaults. */
char *tokenupdate_request_body(const struct config *cfg, const char *token,
    const char *row_fingerprint)
{
	const char *fp = tokenupdate_fingerprint(cfg, row_fingerprint);
	char *body = NULL;

	if (form_append(&body, "token", token != NULL ? token : "") != 0)
		return NULL;
	if (fp != NULL && fp[0] != '\0' && form_append(&body, "fingerprint", fp) != 0)
		return NULL;
	for (size_t i = 0; cfg != NULL && i < cfg->upstream.form.n; i++)
		if (form_append(&body, cfg->upstream.form.v[i].name, cfg->upstream.form.v[i].value) != 0)
			return NULL; /* form_append freed body */
	return body;
}

static void answer_set(struct answer *out, enum answer_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Sets the kind and the one-line reason of *out. */
static void answer_set(struct answer *out, enum answer_kind kind, const char *fmt, ...)
{
	va_list ap;

	out->kind = kind;
	va_start(ap, fmt);
	(void)vsnprintf(out->reason, sizeof out->reason, fmt, ap);
	va_end(ap);
}

/* See tokenupdate.h. Returns -1 only on OOM (out is then FAILED, "out of memory"). */
int tokenupdate_classify(const struct http_answer *in, struct answer *out)
{
	struct json_object *root = NULL, *v;
	const char *why = "unknown error", *problem;
	char buf[64];
	int rc = 0;

	memset(out, 0, sizeof *out);
	if (in == NULL) {
		answer_set(out, ANSWER_FAILED, "no answer");
		return 0;
	}
	if (in->too_big) {
		if (in->len > 0)
			answer_set(out, ANSWER_FAILED, "response body over %zu bytes", in->len);
		else
			answer_set(out, ANSWER_FAILED, "response body over the size limit");
		return 0;
	}
	if (http_status_transient(in->status)) {
		answer_set(out, ANSWER_TRANSIENT, "HTTP %ld", in->status);
		return 0;
	}
	if (in->status < 200 || in->status > 299) {
		answer_set(out, ANSWER_FAILED, "HTTP %ld", in->status);
		return 0;
	}
	if (in->body == NULL || jsonutil_parse_exact(in->body, in->len, &root, &why) != 0) {
		answer_set(out, ANSWER_FAILED, "answer is not JSON (%s)",
		    in->body == NULL ? "empty body" : why);
		return 0;
	}
	if (!json_object_is_type(root, json_type_object)) {
		answer_set(out, ANSWER_FAILED, "answer is a JSON %s, not an object",
		    json_type_to_name(json_object_get_type(root)));
		goto out;
	}
	/* json-c stores JSON null as NULL: present-and-not-null is a logout, whatever the value. */
	if (json_object_object_get_ex(root, "logout", &v) && v != NULL) {
		answer_set(out, ANSWER_LOGOUT, "logout");
		goto out;
	}
	if (!json_object_object_get_ex(root, "newToken", &v)) {
		answer_set(out, ANSWER_FAILED, "answer has neither newToken nor logout");
		goto out;
	}
	problem = jsonutil_token_problem(v, "newToken", buf, sizeof buf);
	if (problem != NULL) {
		answer_set(out, ANSWER_FAILED, "%s", problem);
		goto out;
	}
	out->new_token = strdup(json_object_get_string(v));
	if (out->new_token == NULL) {
		answer_set(out, ANSWER_FAILED, "out of memory");
		rc = -1;
		goto out;
	}
	answer_set(out, ANSWER_REFRESHED, "refreshed");
out:
	json_object_put(root);
	return rc;
}

/* Frees new_token; a cleared answer (or NULL) is fine. */
void answer_clear(struct answer *a)
{
	if (a == NULL)
		return;
	free(a->new_token);
	a->new_token = NULL;
}

/* Profile state of a row: its stored cookies, parsed once for the request and the merge. */
static void aimharder_free_state(void *state)
{
	cookies_free(state);
}

/* Profile: builds the tokenUpdate request of a row (its stored cookies as the Cookie header). */
static int aimharder_build(const struct config *cfg, const struct row *row, void **state,
    struct request *out, char *err, size_t errlen)
{
	char why[REASON_MAX] = "";
	memset(out, 0, sizeof(*out));
	if (tokenupdate_fingerprint(cfg, row->fingerprint) == NULL) {
		snprintf(err, errlen, "%s", TOKENUPDATE_NO_FINGERPRINT);
		return -1;
	}
	struct cookie_jar *jar = *state;
	if (jar == NULL) {
		jar = cookies_new();
		if (jar == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		const char *stored = row->cookies != NULL ? row->cookies : "";
		if (cookies_parse_json(jar, stored, strlen(stored), why, sizeof(why)) != 0) {
			snprintf(err, errlen, "stored cookies: %.*s", REASON_CAUSE_MAX, why);
			cookies_free(jar);
			return -1;
		}
		*state = jar;
	}
	out->body = tokenupdate_request_body(cfg, row->token, row->fingerprint);
	out->cookie = cookies_header(jar);
	if (out->body == NULL || out->cookie == NULL) {
		snprintf(err, errlen, "out of memory");
		request_clear(out);
		return -1;
	}
	return 0;
}

/*
 * Profile: classifies the answer; a refresh also merges the captured cookies
 * into the stored ones, in the jar build parsed (only a refresh changes it,
 * and a refreshed row is not sent again, so a retry still sends the stored
 * cookies).
 */
static void aimharder_judge(const struct config *cfg, const struct row *row, void *state,
    const struct reply *d, struct verdict *out)
{
	struct http_answer in = { d->status, d->body, d->len, d->too_big };
	struct answer a;
	struct cookie_jar *jar = state;
	memset(out, 0, sizeof(*out));
	if (tokenupdate_classify(&in, &a) != 0) {
		out->kind = ANSWER_FAILED;
		snprintf(out->reason, sizeof(out->reason), "out of memory");
		answer_clear(&a);
		return;
	}
	out->kind = a.kind;
	memcpy(out->reason, a.reason, sizeof(out->reason));
	if (a.kind == ANSWER_REFRESHED) {
		const char *stored = row->cookies != NULL ? row->cookies : "";
		if (jar != NULL && cookies_capture(jar, d->set_cookie, d->nset,
				       cfg->upstream.capture_cookies, cfg->upstream.ncapture) >= 0)
			out->cookies = cookies_to_json(jar);
		/* An issued token is never dropped: if the merge fails, keep the stored cookies. */
		if (out->cookies == NULL)
			out->cookies = strdup(stored[0] != '\0' ? stored : "[]");
		out->new_token = a.new_token; /* take */
		a.new_token = NULL;
		if (out->cookies == NULL) {
			out->kind = ANSWER_FAILED;
			snprintf(out->reason, sizeof(out->reason), "out of memory");
		}
	}
	answer_clear(&a);
}

/* Profile: the fingerprint every request needs must come from somewhere. */
static const char *aimharder_check_config(const struct config *cfg, const char **key)
{
	*key = "upstream.fingerprint";
	if (cfg->database.columns.fingerprint[0] == '\0' && cfg->upstream.fingerprint[0] == '\0')
		return "must be set when database.columns.fingerprint is \"\" (every request needs one)";
	return NULL;
}

static const char *aimharder_warn_config(const struct config *cfg)
{
	if (cfg->upstream.fingerprint[0] != '\0')
		return NULL;
	return "upstream.fingerprint is empty: a row without a fingerprint of its own fails without a"
	       " request (an empty fingerprint is never sent)";
}

static const char *const aimharder_reserved[] = { "token", "fingerprint", NULL };

const struct profile_ops profile_aimharder = {
	.name = "aimharder",
	.reserved_form = aimharder_reserved,
	.uses = PROFILE_USES_COOKIES | PROFILE_USES_FINGERPRINT,
	.default_form = 1,
	.mass_logout_causes = "a wrong or empty fingerprint (upstream.fingerprint, or the rows' own),"
			      " the endpoint of another site (upstream.url)",
	.check_config = aimharder_check_config,
	.warn_config = aimharder_warn_config,
	.build = aimharder_build,
	.judge = aimharder_judge,
	.free_state = aimharder_free_state,
};
