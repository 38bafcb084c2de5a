/* db.h - the database side of a run: schema check, claims (leases), set-based write-back. */
#ifndef REFRESHER_DB_H
#define REFRESHER_DB_H

#include <stddef.h>
#include "config.h"
#include "defaults.h"
#include "outcome.h"

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
 * Claims at most limit due rows, oldest first, skipping rows locked by other
 * runs and the ids in exclude (already handled by this run), as a lease of
 * cfg->refresh.lease in one short statement. On success returns 0 and a new
 * array of *n rows in *rows (caller frees each with row_free, then the array).
 * Returns -1 when the database failed (message logged; nothing claimed).
 */
int db_claim(struct db *db, long limit, char *const *exclude, size_t nexclude,
    struct row ***rows, size_t *n) __attribute__((warn_unused_result));

/*
 * Writes results in one statement (one round trip, atomic): refreshed rows
 * get the new token and cookies, logged out rows are deleted (or marked),
 * failed rows get their reason, released rows lose their claim. Every write
 * is guarded by the token that was sent; a result whose row no longer holds
 * that token is turned into OUTCOME_SUPERSEDED and its claim cleared. Sets
 * `written` on each result. Returns 0, or -1 if the database failed (nothing
 * was written; the caller keeps the results and tries again later; the
 * connection is reset on the next call).
 */
int db_write(struct db *db, struct result *const *res, size_t n)
    __attribute__((warn_unused_result));

#endif
