/* db.h - the database side of a run: schema check, claims (leases), set-based write-back. */
#ifndef REFRESHER_DB_H
#define REFRESHER_DB_H

#include <stddef.h>
#include "config.h"
#include "defaults.h"
#include "outcome.h"
#include "waitfd.h"

/* A claimed row. Every string is heap-owned by the row; free with row_free. */
struct row {
	char *id; /* as text */
	char *email;
	char *token; /* the token we send; every write is guarded by it (secret) */
	char *cookies; /* stored cookies JSON text, NULL when the column is absent */
	char *fingerprint; /* NULL when the column is NULL or absent (secret) */
	char *claim; /* our lease, UTC "YYYY-MM-DDTHH:MI:SS.US", guards releases */
};
void row_free(struct row *row);

/* A result waiting to be written. The row stays owned by the caller. */
struct result {
	struct row *row; /* borrowed */
	enum outcome outcome; /* REFRESHED, LOGGED_OUT, FAILED or RELEASED on entry */
	char *new_token; /* REFRESHED: heap-owned by the result */
	char *cookies; /* REFRESHED: merged cookies JSON, heap-owned, NULL when not stored */
	char *access_token; /* REFRESHED (oauth2): heap-owned, NULL when not stored */
	long long expires_at; /* REFRESHED (oauth2): Unix seconds, 0 = unknown */
	char reason[REASON_MAX]; /* FAILED: one line, no secrets */
	int written; /* set by db_write once durable */
};

/* Which rows a run may take. */
struct db_filter {
	const char *email; /* NULL = any */
	int shard_index, shard_count; /* shard_count 0 = no sharding */
	long stale_after_ms;
};

struct db;

/*
 * Connects (libpq URI or conninfo from cfg->database.url), checks that the
 * table and every column the run needs exist, and fixes the run's cutoff
 * (now() - stale_after) so that rows written during the run are not due
 * again. Returns a handle (free with db_close) or NULL with a one-line
 * message in err that never holds the password. The config is borrowed and
 * must outlive the handle.
 */
struct db *db_open(const struct config *cfg, const struct db_filter *filter,
    char *err, size_t errlen);
void db_close(struct db *db);

/* Counts the rows due now (no claim). Returns the count or -1 (message logged). */
long db_count_due(struct db *db);

/*
 * Dry run: writes "email<TAB>redacted token" for each due row (at most
 * limit, 0 = all) to stdout, claiming nothing. Returns the count or -1.
 */
long db_list_due(struct db *db, long limit);

/*
 * During the run the database is driven without blocking, on two connections
 * (channels): one for claims, one for writes, each with at most one statement
 * in flight. The sweep sends a statement, waits on the sockets db_waitfds
 * gives (next to libcurl's), and polls for the outcome. A channel whose
 * connection broke is re-established in the background when the next
 * statement is tried (that try fails; the caller backs off and tries again).
 * A statement without an answer for DB_STATEMENT_TIMEOUT_MS fails and its
 * connection is dropped: every statement is safe to repeat.
 */

/* Fills fds (at most max) with the sockets that have something under way; returns how many. */
size_t db_waitfds(const struct db *db, struct waitfd *fds, size_t max);

/*
 * Sends a claim of at most limit due rows, oldest first, skipping rows locked
 * by other runs and the ids in exclude (already handled by this run), as a
 * lease of cfg->refresh.lease. exclude is copied. Returns 0 when sent, -1
 * when the claim channel cannot take it now (logged; try again later).
 */
int db_claim_send(struct db *db, long limit, char *const *exclude, size_t nexclude)
    __attribute__((warn_unused_result));

/*
 * Drives the claim channel. Returns 1 when the claim finished: a new array of
 * *n rows in *rows (caller frees each with row_free, then the array); -1 when
 * it failed (logged; nothing to read; rows it may have claimed are released
 * when their lease expires); 0 while it runs (or none was sent).
 */
int db_claim_poll(struct db *db, struct row ***rows, size_t *n)
    __attribute__((warn_unused_result));

/*
 * Sends the write of results in one statement (atomic): refreshed rows get
 * the new token and cookies, logged out rows are deleted (or marked), failed
 * rows get their reason, released rows lose their claim. Every write is
 * guarded by the token that was sent. The results are borrowed until
 * db_write_poll returns non-zero. Returns 0 when sent, -1 when the write
 * channel cannot take it now (logged).
 */
int db_write_send(struct db *db, struct result *const *res, size_t n)
    __attribute__((warn_unused_result));

/*
 * Drives the write channel. Returns 1 when the write is durable: `written` is
 * set on each result, and a result whose row no longer holds the sent token
 * is turned into OUTCOME_SUPERSEDED (its claim cleared). Returns -1 when it
 * failed (logged; nothing was written, or, for an abandoned statement,
 * possibly all of it: repeating it is safe), 0 while it runs (or none was sent).
 */
int db_write_poll(struct db *db) __attribute__((warn_unused_result));

/* Monotonic ms at which the oldest statement in flight was sent, 0 when none is. */
long long db_stalled_since(const struct db *db);

/* Blocking forms of the above (a claim, or a write, from start to end); 0 or -1. */
int db_claim(struct db *db, long limit, char *const *exclude, size_t nexclude,
    struct row ***rows, size_t *n) __attribute__((warn_unused_result));
int db_write(struct db *db, struct result *const *res, size_t n)
    __attribute__((warn_unused_result));

#endif
