/* policy.h - the run's pure policies: retry budget and delay, breaker, in-flight limit, pacer, database backoff. */
#ifndef REFRESHER_POLICY_H
#define REFRESHER_POLICY_H

#include "tokenupdate.h"

/*
 * Every function here is pure: no I/O, no clock reads, no allocation. The
 * caller owns the structs (plain values, zero-initialised unless said
 * otherwise) and passes the time in as `now` (monotonic).
 */

/* ---- Retries: the run's budget, and what a transient answer leads to ---- */

/* The run's retry budget (retry.budget): retries granted against first attempts. */
struct retry_budget {
	double budget; /* retry.budget: retries allowed per first attempt */
	long first_attempts; /* requests that were a row's first (the caller counts them) */
	long scheduled; /* retries granted so far (retry_decide counts them) */
};

/* What becomes of a row whose answer was transient. */
enum retry_decision {
	RETRY_RELEASE, /* the run is draining: released, not retried */
	RETRY_AGAIN, /* retried after a delay; granted from the budget */
	RETRY_NO_BUDGET, /* the run's retry budget is used up: the row fails */
	RETRY_EXHAUSTED /* retry.attempts requests made: the row fails */
};

/* Whether one more retry fits: scheduled < max(RETRY_BUDGET_FLOOR, budget x first attempts). */
int retry_budget_allows(const struct retry_budget *b);

/*
 * Decides for a row that got a transient answer after `attempts` requests
 * (retry.attempts = max_attempts); while draining the row is released. A
 * RETRY_AGAIN is counted in b->scheduled.
 */
enum retry_decision retry_decide(struct retry_budget *b, int draining, int attempts,
    int max_attempts);

/*
 * The delay before a retry: the upstream's Retry-After (retry_after_ms >= 0,
 * as retry_after_ms() parsed it; -1 = none or unparseable) capped by
 * retry.max_delay (max_delay_ms), else the computed backoff_ms.
 */
long retry_delay_choose(long backoff_ms, long retry_after_ms, long max_delay_ms);

/* ---- Circuit breaker: stop when breaker.window answers in a row were bad ---- */

struct breaker {
	int window; /* breaker.window; 0 = off */
	int consecutive_bad; /* answers in a row that were transient or failed */
};

/* Counts an answer: transient or failed ones extend the run of bad answers, others end it. */
void breaker_record(struct breaker *b, enum answer_kind kind);

/* Whether the run of bad answers has reached the window (never when the window is 0). */
int breaker_tripped(const struct breaker *b);

/* ---- Adaptive in-flight limit: halve on 429/503, one more per success ---- */

struct inflight_limit {
	int max; /* refresh.concurrency: the limit never grows past it */
	int now; /* requests allowed on the wire now (start it at max) */
};

/*
 * Adapts the limit to an answer: an HTTP 429 or 503 (not a transport error)
 * halves it (never below 1); a refreshed or logout answer raises it by one,
 * up to max; anything else leaves it.
 */
void inflight_limit_adapt(struct inflight_limit *l, int transport_error, long status,
    enum answer_kind kind);

/* ---- Pacer: refresh.max_rate, starts spaced 1/max_rate apart ---- */

struct pacer {
	double rate; /* refresh.max_rate, starts per second; <= 0 = no pacing */
	long long next_start_us; /* no start before this (monotonic us) */
	int throttled; /* a start is being held back right now */
	long waits; /* starts that had to wait (each held-back start counted once) */
};

/*
 * Asks to start a request at now_us. Returns 0 when it may start now (the
 * start is booked: the next is spaced 1/rate later), or the ms to wait
 * (>= 1) when it is held back. Without a rate it always returns 0.
 */
long pacer_admit(struct pacer *p, long long now_us);

/* ---- Database outage: back off from DB_RETRY_MIN_MS to DB_RETRY_MAX_MS ---- */

struct db_outage {
	long long down_since; /* monotonic ms the outage began; 0 = the database is fine */
	long long next_try; /* no statement before this while down */
	long backoff_ms; /* the current step of the backoff */
};

/*
 * Records a failed statement at now: starts an outage (backoff
 * DB_RETRY_MIN_MS) or doubles the backoff (up to DB_RETRY_MAX_MS), and sets
 * the next try. Returns 1 when this failure began the outage, else 0.
 */
int db_outage_failed(struct db_outage *o, long long now);

/* Records a statement that worked at now. Returns how long the outage lasted (ms), or -1 when none. */
long long db_outage_ok(struct db_outage *o, long long now);

/* Whether a statement may be tried at now: not down, or the backoff is over. */
int db_outage_usable(const struct db_outage *o, long long now);

/* Ms until the next try while down (0 when due already); -1 when not down. */
long db_outage_wait_ms(const struct db_outage *o, long long now);

/*
 * How long the database has been unusable at now (0 = fine): since the
 * outage began, or since stalled_since (the oldest statement in flight,
 * 0 = none) once that is over DB_STALL_MS old, whichever is earlier.
 */
long long db_outage_down_for(const struct db_outage *o, long long stalled_since, long long now);

#endif
