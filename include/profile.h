/* profile.h - the seam between the run and a refresh protocol: build a row's request, judge its answer. */
#ifndef REFRESHER_PROFILE_H
#define REFRESHER_PROFILE_H

#include <stddef.h>
#include "config.h"
#include "db.h"
#include "defaults.h"
#include "tokenupdate.h"
#include "upstream.h"

/* What a profile sends for one row. Every field heap-owned; free with request_clear. */
struct request {
	char *body; /* x-www-form-urlencoded */
	char *cookie; /* Cookie header value, or NULL */
	char *authorization; /* Authorization header value, or NULL (a secret) */
};
void request_clear(struct request *r);

/* What a profile makes of an HTTP answer. Heap fields freed by verdict_clear. */
struct verdict {
	enum answer_kind kind;
	int stop_run; /* the upstream refused our client credentials: every row would fail */
	char *new_token; /* REFRESHED: the value of the token column from now on */
	char *cookies; /* REFRESHED: cookies JSON to store, NULL when the profile keeps none */
	char *access_token; /* REFRESHED: the access token to store, or NULL */
	long long expires_at; /* REFRESHED: Unix seconds the access token expires, 0 = unknown */
	char reason[REASON_MAX]; /* one line, no secrets */
};
void verdict_clear(struct verdict *v);

struct profile_ops {
	const char *name;
	/*
	 * Builds the request for row into *out. *state is the row's state for this
	 * profile, NULL on the row's first request: build may set it (e.g. the
	 * stored cookies, parsed once) and finds it again on a retry; the run
	 * hands it to judge and frees it with free_state when the row is done.
	 * Returns 0, or -1 with a one-line reason in err when the row itself is
	 * unusable (the row fails, uncalled).
	 */
	int (*build)(const struct config *cfg, const struct row *row, void **state,
	    struct request *out, char *err, size_t errlen);
	/*
	 * Judges an HTTP answer (not a transport error) for row into *out (zeroed
	 * first); state is what build left (may be NULL).
	 */
	void (*judge)(const struct config *cfg, const struct row *row, void *state,
	    const struct upstream_done *d, struct verdict *out);
	/* Frees a row's state; NULL when the profile keeps none. */
	void (*free_state)(void *state);
};

/* The profile that implements p (never NULL). */
const struct profile_ops *profile_get(enum profile p);

extern const struct profile_ops profile_aimharder; /* tokenupdate.c */
extern const struct profile_ops profile_oauth2; /* oauth2.c */

#endif
