/* profile.h - the seam between the run and a refresh protocol: a row's request, its answer's verdict, what a profile needs of the config and the table. */
#ifndef REFRESHER_PROFILE_H
#define REFRESHER_PROFILE_H

#include <stddef.h>
#include "config.h"
#include "defaults.h"
#include "row.h"

/* What an answer means for its row, whatever the protocol. */
enum answer_kind {
	ANSWER_REFRESHED,
	ANSWER_LOGOUT,
	ANSWER_TRANSIENT, /* retry (honouring Retry-After) */
	ANSWER_FAILED /* no retry */
};
const char *answer_kind_name(enum answer_kind kind);
/* 1 for the HTTP statuses SPEC calls transient, whatever the profile: 408 429 500 502 503 504. */
int http_status_transient(long status);

/* What a profile sends for one row. Every field heap-owned; free with request_clear. */
struct request {
	char *body; /* of content_type */
	const char *content_type; /* static; NULL = application/x-www-form-urlencoded */
	char *cookie; /* Cookie header value, or NULL */
	char *authorization; /* Authorization header value, or NULL (a secret) */
	char **headers; /* nheaders more "Name: value" lines (may be secrets), or NULL */
	size_t nheaders;
};
void request_clear(struct request *r);

/* An HTTP answer as a profile judges it (transport errors never reach a profile). Borrowed. */
struct reply {
	long status;
	const char *body; /* NUL-terminated, len bytes; may hold NULs */
	size_t len;
	int too_big; /* over upstream.max_response_bytes: len is the bytes kept */
	char *const *set_cookie; /* the captured Set-Cookie values (upstream.capture_cookies) */
	size_t nset;
};

/* What a profile makes of an answer. Heap fields freed by verdict_clear. */
struct verdict {
	enum answer_kind kind;
	int stop_run; /* the answer would be the same for every row (our client is refused): stop */
	char *new_token; /* REFRESHED: the value of the token column from now on */
	char *cookies; /* REFRESHED: cookies JSON to store, NULL when the profile keeps none */
	char *access_token; /* REFRESHED: the access token to store, or NULL */
	long long expires_at; /* REFRESHED: Unix seconds the access token expires, 0 = unknown */
	char reason[REASON_MAX]; /* one line, no secrets */
};
void verdict_clear(struct verdict *v);
/* Sets out's kind and its reason (printf, cut to REASON_MAX). */
void verdict_set(struct verdict *out, enum answer_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The optional column roles (database.columns) a profile reads or writes. */
#define PROFILE_USES_COOKIES 0x1u
#define PROFILE_USES_FINGERPRINT 0x2u

struct profile_ops {
	const char *name; /* upstream.profile */
	/* Form fields the profile sets itself: upstream.form may not name them. NULL-terminated. */
	const char *const *reserved_form;
	/*
	 * PROFILE_USES_* bits: a role the profile does not use defaults to ""
	 * (no such column) unless the config maps it.
	 */
	unsigned uses;
	/* Whether upstream.form's default (ciclo=1) applies; else it is empty unless given. */
	int default_form;
	/* The likely causes of a mass logout under this profile, for the message. */
	const char *mass_logout_causes;
	/*
	 * A check of the loaded config that only this profile makes: NULL when
	 * fine, else the problem, with *key set to the key it is about. NULL
	 * when the profile has none.
	 */
	const char *(*check_config)(const struct config *cfg, const char **key);
	/* A warning about the loaded config (NULL when none): logged at start-up. */
	const char *(*warn_config)(const struct config *cfg);
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
	/* Judges an HTTP answer for row into *out (zeroed first); state is what build left. */
	void (*judge)(const struct config *cfg, const struct row *row, void *state,
	    const struct reply *r, struct verdict *out);
	/* Frees a row's state; NULL when the profile keeps none. */
	void (*free_state)(void *state);
};

/* The profiles' own modules, for their unit tests; the run finds them with profile_get. */
extern const struct profile_ops profile_aimharder; /* tokenupdate.c */
extern const struct profile_ops profile_oauth2; /* oauth2.c */
extern const struct profile_ops profile_json; /* jsonprofile.c */

/* The profile that implements p (never NULL). */
const struct profile_ops *profile_get(enum profile p);
/* The profile named name, its enum value in *p; NULL when there is none. */
const struct profile_ops *profile_find(const char *name, enum profile *p);

#endif
