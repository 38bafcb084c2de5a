/* tokenupdate.h - the aimharder tokenUpdate protocol: request for a row, classification of an answer. */
#ifndef REFRESHER_TOKENUPDATE_H
#define REFRESHER_TOKENUPDATE_H

#include <stddef.h>
#include "config.h"
#include "defaults.h"
#include "profile.h"

/* What an answer means. new_token is heap-owned (free with answer_clear). */
struct answer {
	enum answer_kind kind;
	char *new_token; /* ANSWER_REFRESHED only */
	char reason[REASON_MAX]; /* one line, no secrets, for logs and last_token_update_error */
};

/* An HTTP answer as received (transport errors are classified by upstream). */
struct http_answer {
	long status;
	const char *body; /* NUL-terminated, len bytes; may hold NULs */
	size_t len;
	/* body exceeded upstream.max_response_bytes; the reason says "over <len> bytes",
	 * so len should be the bytes received (or the limit), not 0 */
	int too_big;
};

/*
 * The fingerprint a row's request carries: the row's own, else
 * cfg->upstream.fingerprint; NULL when both are NULL or empty (the row then
 * fails without a request: SPEC never sends an empty fingerprint). Borrowed.
 */
const char *tokenupdate_fingerprint(const struct config *cfg, const char *row_fingerprint);

/* Why a row without a fingerprint fails (stored in last_token_update_error). */
#define TOKENUPDATE_NO_FINGERPRINT \
	"no fingerprint: the row's fingerprint is empty and upstream.fingerprint is not set; not sent"

/*
 * Builds the x-www-form-urlencoded body for one row: token, fingerprint (the
 * row's, or cfg->upstream.fingerprint when the row's is NULL/""; omitted
 * when both are empty), then every upstream.form pair. Caller frees; NULL on OOM.
 */
char *tokenupdate_request_body(const struct config *cfg, const char *token,
    const char *row_fingerprint);

/*
 * Classifies an answer per SPEC: transient statuses (408 429 500 502 503 504),
 * logout (2xx JSON object with non-null "logout"), refreshed (2xx JSON object
 * with "newToken" a non-empty printable-ASCII string of at most MAX_TOKEN_BYTES),
 * anything else failed (including too_big at any status, and 3xx). The body
 * must be exactly one JSON value (trailing whitespace allowed; trailing data
 * or an embedded NUL is failed). Reasons never quote the body or the token.
 * Fills *out (caller calls answer_clear). Returns 0, or -1 on OOM.
 */
int tokenupdate_classify(const struct http_answer *in, struct answer *out)
    __attribute__((warn_unused_result));

void answer_clear(struct answer *a);

#endif
