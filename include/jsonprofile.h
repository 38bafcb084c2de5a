/* jsonprofile.h - profile json: a JSON refresh API described by configuration (SPEC "Third profile"). */
#ifndef REFRESHER_JSONPROFILE_H
#define REFRESHER_JSONPROFILE_H

#include <stddef.h>
#include <json-c/json.h>

#include "config.h"
#include "profile.h"

/* The placeholders a body or header template may hold. */
#define JSONPROFILE_TOKEN "{token}"
#define JSONPROFILE_ACCESS_TOKEN "{access_token}"

/*
 * The first "{name}" in tmpl whose name is an identifier but not "token" or
 * "access_token" (a misspelt placeholder), copied to buf; NULL when none.
 * Braces around anything else are literal text.
 */
const char *jsonprofile_unknown_placeholder(const char *tmpl, char *buf, size_t size);

/* 1 when a body or header template of cfg holds "{access_token}". */
int jsonprofile_uses_access_token(const struct config *cfg);

/*
 * tmpl with {token} and {access_token} replaced by token and access_token
 * (NULL stands for ""). Caller frees (the result may be a secret); NULL on OOM.
 */
char *jsonprofile_expand(const char *tmpl, const char *token, const char *access_token);

/*
 * Unix seconds of an RFC 3339 date-time (section 5.6: "T" or "t", fractional
 * seconds ignored, "Z"/"z" or an offset +hh:mm / -hh:mm; a leap second 60
 * counts as the next second) of exactly len bytes. Returns 0 and *out, or -1
 * when s is not one (a day that does not exist included).
 */
int jsonprofile_rfc3339(const char *s, size_t len, long long *out);

/*
 * The value at JSON Pointer ptr (RFC 6901) in root, by json-c's
 * json_pointer_get; "" is the whole document. Returns 1 and *out (NULL for a
 * JSON null) when the pointer resolves, 0 when it does not.
 */
int jsonprofile_lookup(struct json_object *root, const char *ptr, struct json_object **out);

/*
 * Judges an answer of the refresh endpoint at time now (Unix seconds) per
 * cfg->upstream.json, for a row whose token is old_token (see SPEC "Third
 * profile"): a logout_status is a logout; 408/429/5xx transient; a 2xx JSON
 * object with the values the pointers name is refreshed; anything else failed.
 */
void jsonprofile_judge_answer(const struct config *cfg, long status, const char *body, size_t len,
    int too_big, const char *old_token, long long now, struct verdict *out);

#endif
