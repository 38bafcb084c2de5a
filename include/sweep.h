/* sweep.h - one run: claim, call, retry, write back, drain, summarise. */
#ifndef REFRESHER_SWEEP_H
#define REFRESHER_SWEEP_H

#include "config.h"
#include "db.h"
#include "exitcode.h"
#include "outcome.h"

/* What a run did; also what the summary prints. */
struct sweep_stats {
	long count[OUTCOME_COUNT];
	long due; /* rows claimed */
	long retries; /* requests after the first per row */
	long throttle_waits; /* request starts delayed by refresh.max_rate */
	long unwritten; /* issued tokens that could not be written (database lost) */
	long duration_ms;
	int stopped_by_signal;
	int breaker_open; /* the circuit breaker stopped the run */
	int upstream_refused; /* an answer meant every row would fail alike (a profile's stop_run) */
	int mass_logout; /* the mass-logout guard tripped: no logout row of the run was deleted */
	long kept_by_rule; /* logout rows kept as refresh.keep_when says */
	int db_lost;
};


/*
 * Runs the sweep on an open database: at most limit rows (0 = no limit).
 * Fills *stats. Returns the exit code.
 */
int sweep_run(const struct config *cfg, struct db *db, long limit, struct sweep_stats *stats);

/* Installs SIGTERM/SIGINT handlers that ask the sweep to drain. */
void sweep_install_signals(void);

#endif
