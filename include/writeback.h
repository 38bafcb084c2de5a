/* writeback.h - a run's results on their way to the database: batches, group commit, held logouts. */
#ifndef REFRESHER_WRITEBACK_H
#define REFRESHER_WRITEBACK_H

#include <stddef.h>

#include "db.h"
#include "outcome.h"
#include "profile.h"
#include "sweep.h"

/*
 * The write-back of one run. Results wait in `pending` until a batch is due
 * (FLUSH_BATCH of them, or the oldest FLUSH_INTERVAL_MS old, or the run has
 * nothing else to wait for), then go out as one write of at most WRITE_MAX
 * (`writing`; one write in flight at a time: group commit). A lost write
 * goes back in front of pending. Written results are logged, counted in the
 * run's stats and freed. Logout rows whose delete waits for the mass-logout
 * guard are `held`, their lease renewed until the guard decides.
 *
 * It owns every result it was given, and the ids of the exclude set; the
 * database and the stats are borrowed. Set up with writeback_init, torn down
 * with writeback_close. The counts are read-only outside writeback.c.
 */
struct writeback {
	struct db *db; /* borrowed */
	struct sweep_stats *st; /* borrowed: outcomes counted here; mass_logout read */
	long lease_ms; /* refresh.lease: held rows are renewed at half of it */
	int guarding; /* the guard applies: logout rows are held back until it decides */
	struct result **pending; /* finished, not yet sent to the database */
	size_t npending, cappending;
	long long oldest_pending; /* monotonic ms of the oldest pending result */
	struct result **writing; /* the write in flight */
	size_t nwriting, capwriting;
	long long oldest_writing;
	struct excluded {
		char *id;
		char order[ROW_ORDER_LEN]; /* the row's (struct row) */
	} *exclude; /* rows this run finished (failed, superseded) that may still look due */
	size_t nexclude, capexclude;
	char after[ROW_ORDER_LEN]; /* the claims' cursor (writeback_after); "" none yet */
	struct result **held; /* logout rows whose delete waits for the guard, oldest renewal first */
	size_t nheld, capheld;
};

/* An empty write-back writing to db and counting into st (both borrowed). */
void writeback_init(struct writeback *w, struct db *db, struct sweep_stats *st, long lease_ms,
    int guarding);

/*
 * Adds the result of a row: its outcome, reason (may be NULL) and, from a
 * verdict (may be NULL), the issued token, cookies and access token (taken:
 * their pointers become NULL). A logout is to be deleted, held for the
 * guard, or kept as part of a mass logout. On 0 the row is taken (*row
 * becomes NULL); on -1 (out of memory) nothing is taken.
 */
int writeback_add(struct writeback *w, struct row **row, enum outcome o, struct verdict *v,
    const char *reason, long long now) __attribute__((warn_unused_result));

/* Results not yet durable: pending or being written (held rows not included). */
size_t writeback_unwritten(const struct writeback *w);

/* Whether nothing is pending, being written or held. */
int writeback_idle(const struct writeback *w);

/*
 * Whether a write should be sent now: results are pending, none is being
 * written, and a batch is full, the oldest is FLUSH_INTERVAL_MS old, or
 * `quiet` (the caller expects no more results soon).
 */
int writeback_flush_due(const struct writeback *w, long long now, int quiet);

/* Ms until pending results are due by age (0 when due now); -1 when none could be sent. */
long writeback_flush_in(const struct writeback *w, long long now);

/*
 * Sends the pending results (at most WRITE_MAX) as one write, unless one is
 * in flight or none is pending. Returns -1 when the database refused it
 * (the caller backs off), else 0 (also when out of memory: tried later).
 */
int writeback_flush(struct writeback *w, long long now) __attribute__((warn_unused_result));

/*
 * Drives the write in flight. Returns 1 when it became durable (then call
 * writeback_settle), -1 when it was lost (then call writeback_requeue), 0
 * while it runs or when none is in flight.
 */
int writeback_poll(struct writeback *w) __attribute__((warn_unused_result));

/* Logs, counts and frees the results of a durable write; held-back logout rows are held. */
void writeback_settle(struct writeback *w, long long now);

/* Puts the results of a lost write back in front of the pending ones. */
void writeback_requeue(struct writeback *w);

/*
 * The claims' cursor moved to after (a row's order text): every claim from
 * now on skips the rows before it, so the exclude set drops them, and keeps
 * only what the cursor does not cover (rows at it, ties). A cursor before
 * the one set is ignored.
 */
void writeback_after(struct writeback *w, const char *after);

/*
 * The ids a claim must skip: the exclude set, and every row with a result
 * pending, being written or held that the cursor does not cover. A new
 * array (caller frees it, not the ids, which point into the results) of *n
 * ids followed by room for spare more (the caller's own, not counted in
 * *n), or NULL on OOM.
 */
char **writeback_exclude_ids(const struct writeback *w, size_t spare, size_t *n);

/* The guard tripped: pending logout rows are kept and marked, not deleted. */
void writeback_mark_mass(struct writeback *w);

/* Sends the held rows whose lease is half gone at now to be renewed. */
void writeback_renew_held(struct writeback *w, long long now);

/*
 * The guard has decided: held rows go to their last write, deleted or, after
 * a mass logout, kept and marked; abandoned (a third signal) releases them.
 */
void writeback_release_held(struct writeback *w, int abandoned, long long now);

/*
 * Ends the run's write-back: a write still in flight did not become durable;
 * held rows are released (abandoned as above); every result not written is
 * counted with its outcome (issued tokens in st->unwritten, logged once),
 * and everything is freed.
 */
void writeback_close(struct writeback *w, int abandoned, long long now);

#endif
