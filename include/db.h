/* db.h - the database side of a run: schema check, claims (leases), set-based write-back. */
#ifndef REFRESHER_DB_H
#define REFRESHER_DB_H

#include <stddef.h>
#include "config.h"
#include "defaults.h"
#include "outcome.h"
#include "loop.h"
#include "row.h"

/* How a logout result is written (see the mass-logout guard in sweep.c). */
enum logout_write {
	LOGOUT_DELETE, /* delete, unless on_logout, keep_when or a hold of the application keeps it */
	LOGOUT_HOLD, /* not decided yet: keep it where keep_when says so, else write nothing */
	LOGOUT_MASS /* the guard tripped: keep it, marked 'logout (not deleted: mass logout)' */
};

/* What a write did to a result's row, beyond its outcome. */
enum write_note {
	WRITE_NOTE_NONE,
	WRITE_NOTE_DELETED, /* logout: the row was deleted */
	WRITE_NOTE_KEPT, /* logout: kept and marked (on_logout: keep) */
	WRITE_NOTE_KEPT_RULE, /* logout: kept and marked, as refresh.keep_when matched */
	WRITE_NOTE_KEPT_HELD, /* logout: kept and marked, as the application holds the row */
	WRITE_NOTE_HELD_BACK, /* logout (LOGOUT_HOLD): not deleted yet, its lease renewed (row->claim) */
	WRITE_NOTE_MASS, /* logout: kept and marked as part of a mass logout */
	WRITE_NOTE_NOT_MATCHING, /* superseded: database.where no longer holds; left as it is */
	WRITE_NOTE_NOT_MATCHING_ISSUED /* the same, for a row upstream had issued a new token for */
};

/* A result waiting to be written. The row stays owned by the caller. */
struct result {
	struct row *row; /* borrowed */
	enum outcome outcome; /* REFRESHED, LOGGED_OUT, FAILED or RELEASED on entry */
	enum logout_write logout; /* LOGGED_OUT: how */
	enum write_note note; /* set by db_write_poll */
	long long held_at; /* the sweep's: monotonic ms a held logout row's lease was renewed */
	char *new_token; /* REFRESHED: heap-owned by the result */
	char *cookies; /* REFRESHED: merged cookies JSON, heap-owned, NULL when not stored */
	char *access_token; /* REFRESHED (oauth2): heap-owned, NULL when not stored */
	long long expires_at; /* REFRESHED (oauth2): Unix seconds, 0 = unknown */
	char reason[REASON_MAX]; /* FAILED: one line, no secrets */
};

/* Which rows a run may take. */
struct db_filter {
	const char *email; /* NULL = any */
	int shard_index, shard_count; /* shard_count 0 = no sharding */
	long stale_after_ms;
	int read_only; /* --dry-run: only reads; SELECT is the privilege checked */
};

struct db;

/* Why db_open failed. */
enum db_open_status {
	DB_OPEN_OK,
	DB_OPEN_DATABASE, /* unreachable, schema missing, privileges or row security: exit 3 */
	DB_OPEN_CONFIG /* a name or expression of the config the database rejects: exit 2 */
};

/*
 * Connects (libpq URI or conninfo from cfg->database.url) and checks, before
 * anything is claimed, everything that would otherwise make the run fail
 * late or skip rows silently: the table and every column the run needs
 * (a name the config sets that the database lacks is a config error naming
 * the key, its file:line and the nearest existing name), the role's
 * privileges, row level security (refused unless database.row_security:
 * allow), database.where and refresh.keep_when (planned by the database;
 * then run once, in the count of due rows), and the run's own statements.
 * Fixes the run's cutoff (now() - stale_after) so that rows written during
 * the run are not due again. Returns a handle (free with db_close), or NULL
 * with *st saying why and a message in err that never holds the password.
 * The config is borrowed and must outlive the handle.
 */
struct db *db_open(const struct config *cfg, const struct db_filter *filter,
    enum db_open_status *st, char *err, size_t errlen);
void db_close(struct db *db);

/*
 * The rows due when the handle was opened, -1 when they could not be counted;
 * *keep (may be NULL): how many keep_when covers.
 */
long db_count_due(const struct db *db, long *keep);

/*
 * Dry run: writes "email<TAB>redacted token" for each due row (at most
 * limit, 0 = all) to stdout, claiming nothing. Returns the count or -1.
 */
long db_list_due(struct db *db, long limit);

/*
 * During the run the database is driven without blocking, on two connections
 * (channels): one for claims, one for writes, each with at most one statement
 * in flight. Once attached to the run's loop, a channel's socket is watched
 * by the loop and the channel is driven when it is ready; the sweep sends a
 * statement and polls for the outcome (each poll also checks the statement's
 * time). A channel whose connection broke is re-established in the
 * background when the next statement is tried (that try fails; the caller
 * backs off and tries again). A statement without an answer for
 * DB_STATEMENT_TIMEOUT_MS fails and its connection is dropped: every
 * statement is safe to repeat.
 */

/* Attaches the channels to lp (borrowed) for the run: needed before the first send. */
void db_attach(struct db *db, struct loop *lp);
/* Stops lp watching the channels (before lp is freed; db_close does not need lp). */
void db_detach(struct db *db);

/*
 * Sends a claim of at most limit due rows, oldest first, skipping rows locked
 * by other runs, rows before after (a row's order text, struct row; NULL or
 * "" for none) and the ids in exclude (already handled by this run), as a
 * lease of cfg->refresh.lease. exclude is copied. Returns 0 when sent, -1
 * when the claim channel cannot take it now (logged; try again later).
 */
int db_claim_send(struct db *db, long limit, const char *after, char *const *exclude, size_t nexclude)
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
 * Drives the write channel. Returns 1 when the write is durable: each
 * result's note says what it did, and a result whose row no longer holds the
 * sent token is turned into OUTCOME_SUPERSEDED (its claim cleared). Returns -1 when it
 * failed (logged; nothing was written, or, for an abandoned statement,
 * possibly all of it: repeating it is safe), 0 while it runs (or none was sent).
 */
int db_write_poll(struct db *db) __attribute__((warn_unused_result));

/* Loop ms at which the oldest statement in flight was sent, 0 when none is. */
long long db_stalled_since(const struct db *db);

#endif
