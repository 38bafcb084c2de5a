/* jsonutil.c - strict parsing of an untrusted JSON text of known length (json-c). */
#include <limits.h>
#include <stdio.h>

#include "defaults.h"

#include "jsonutil.h"

/* 1 for the four whitespace bytes JSON allows between tokens. */
int jsonutil_is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int jsonutil_parse_exact(const char *s, size_t len, struct json_object **out, const char **why)
{
	struct json_tokener *tok;
	struct json_object *obj;
	enum json_tokener_error err;
	int rc = -1;

	*out = NULL;
	if (len > INT_MAX) {
		*why = "too large";
		return -1;
	}
	/*
	 * A tokener per text, not one kept for the run: json_tokener_reset
	 * (json-c 0.16) leaves a pending \u surrogate behind, so a shared
	 * tokener let a failed text change how the next one decodes
	 * (test_parse_exact_sequence).
	 */
	tok = json_tokener_new();
	if (tok == NULL) {
		*why = "out of memory";
		return -1;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	obj = json_tokener_parse_ex(tok, s, (int)len);
	err = json_tokener_get_error(tok);
	if (err == json_tokener_continue) {
		/* All bytes eaten, value maybe unfinished ("12"): a NUL ends the input. */
		obj = json_tokener_parse_ex(tok, "", 1);
		err = json_tokener_get_error(tok);
	} else if (err == json_tokener_success) {
		for (size_t i = json_tokener_get_parse_end(tok); i < len; i++) {
			if (!jsonutil_is_ws(s[i])) {
				*why = "trailing data after the JSON value";
				json_object_put(obj);
				goto out;
			}
		}
	}
	if (err != json_tokener_success) {
		*why = json_tokener_error_desc(err);
		json_object_put(obj);
		goto out;
	}
	*out = obj;
	rc = 0;
out:
	json_tokener_free(tok);
	return rc;
}


/* See jsonutil.h. */
const char *jsonutil_token_problem(struct json_object *v, const char *field, char *buf, size_t size)
{
	const unsigned char *s;
	size_t len;

	if (!json_object_is_type(v, json_type_string)) {
		(void)snprintf(buf, size, "%s not a string", field);
		return buf;
	}
	s = (const unsigned char *)json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (len == 0) {
		(void)snprintf(buf, size, "%s empty", field);
		return buf;
	}
	if (len > MAX_TOKEN_BYTES) {
		(void)snprintf(buf, size, "%s too long (%zu bytes)", field, len);
		return buf;
	}
	for (size_t i = 0; i < len; i++) {
		if (s[i] < 0x20 || s[i] > 0x7E) { /* SPEC: printable ASCII, the space included */
			(void)snprintf(buf, size, "%s invalid (non-printable)", field);
			return buf;
		}
	}
	return NULL;
}
