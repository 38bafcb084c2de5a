/* upstream.h - HTTP transfers on one libcurl multi handle: start, wait, harvest. */
#ifndef REFRESHER_UPSTREAM_H
#define REFRESHER_UPSTREAM_H

#include <stddef.h>
#include "config.h"
#include "defaults.h"
#include "loop.h"
#include "profile.h"

/* A finished transfer, as handed back by upstream_next. */
struct upstream_done {
	void *owner; /* what the caller passed to upstream_start */
	int transport_error; /* 0 = an HTTP answer arrived */
	int transient; /* transport_error only: worth retrying (timeout, reset, DNS, refused) */
	/*
	 * transport_error only: the reused connection (or HTTP/2 connection) the
	 * request went out on closed before any answer, so libcurl would have
	 * sent it again by itself; it was stopped, and this is transient. One
	 * connection's end fails every request on it at once: not a sign of an
	 * unhealthy upstream.
	 */
	int conn_lost;
	char error[REASON_MAX]; /* transport_error only: one line */
	long status;
	char *body; /* NUL-terminated, len bytes; heap-owned */
	size_t len;
	int too_big; /* body over upstream.max_response_bytes */
	char **set_cookie; /* Set-Cookie header values; heap-owned */
	size_t nset;
	char *retry_after; /* Retry-After header value or NULL; heap-owned */
};
void upstream_done_clear(struct upstream_done *d);

struct upstream;

/*
 * Creates the multi handle for cfg; its sockets and timeout are watched by
 * lp, whose loop_once drives the transfers. Both borrowed: they must outlive
 * it. NULL on failure (logged). Free with upstream_free.
 */
struct upstream *upstream_new(const struct config *cfg, struct loop *lp);
void upstream_free(struct upstream *up);

/*
 * Starts POST cfg->upstream.url with req's body (of req's content type; the
 * body is taken, req->body is NULL afterwards, whatever the result), a
 * Cookie header when req's cookie is non-empty, an Authorization header when
 * its authorization is non-empty, and its more header lines. owner comes
 * back in upstream_done. Returns 0, or -1 (logged) when the transfer could
 * not start.
 */
int upstream_start(struct upstream *up, void *owner, struct request *req)
    __attribute__((warn_unused_result));

/* Transfers on the wire. */
int upstream_in_flight(const struct upstream *up);

/* Takes the next finished transfer into *out (caller clears it). Returns 1, or 0 when none. */
int upstream_next(struct upstream *up, struct upstream_done *out);

/*
 * Abandons one transfer on the wire (its answer, if any comes, is never
 * read) and returns its owner, or NULL when none is left.
 */
void *upstream_cancel(struct upstream *up);

#endif
