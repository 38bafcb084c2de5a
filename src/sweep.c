/* sweep.c - one run: stream claims, keep requests in flight, retry, write back promptly, drain on stop. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backoff.h"
#include "defaults.h"
#include "guard.h"
#include "jobq.h"
#include "log.h"
#include "loop.h"
#include "parse.h"
#include "policy.h"
#include "profile.h"
#include "sweep.h"
#include "upstream.h"
#include "writeback.h"

/* Longest the loop sleeps when nothing is due sooner, so signals are seen promptly. */
#define LOOP_TICK_MS 100

static volatile sig_atomic_t stop_signal, stop_signals;

/* The first SIGTERM/SIGINT drains, the second says what the drain waits for, the third stops. */
static void on_signal(int sig)
{
	stop_signal = sig;
	if (stop_signals < 100)
		stop_signals++;
}

void sweep_install_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);
}

const char *outcome_name(enum outcome o)
{
	static const char *const names[OUTCOME_COUNT] = { "refreshed", "logged_out", "failed",
		"superseded", "released" };
	return (unsigned)o < OUTCOME_COUNT ? names[o] : "unknown";
}

/* The state of one run. The policies (policy.h) are plain values it hands the time to. */
struct sweep {
	/* Wiring: borrowed, except the upstream and the loop, which the run owns. */
	const struct config *cfg;
	const struct profile_ops *profile;
	struct db *db;
	struct upstream *up;
	struct loop *lp; /* the run's one event loop and clock */
	struct sweep_stats *st;
	uint64_t rng; /* backoff jitter */
	/* Claims: one in flight at a time. */
	long limit; /* most rows this run takes, 0 = no limit */
	long claimed;
	long total; /* due at start (for progress), -1 unknown */
	int claiming; /* a claim is in flight */
	long claim_want; /* rows it asked for */
	int exhausted; /* the last claim came back short: nothing more is due */
	/* Jobs not on the wire (those on the wire are owned through the upstream's transfers). */
	struct jobq ready; /* claimed, not yet started */
	struct jobq waiting; /* waiting out a backoff */
	struct joblive live; /* every job above, and those on the wire */
	struct writeback wb; /* finished rows until their write is durable */
	/* Policies. */
	struct retry_budget budget;
	struct breaker breaker;
	struct inflight_limit inflight;
	struct pacer pacer; /* refresh.max_rate */
	struct db_outage outage;
	long answers; /* rows' outcomes so far (refreshed, logout, failed): the guard's input */
	long logouts; /* logout answers so far */
	/* Stopping. */
	int draining; /* stop claiming, release what is not on the wire */
	int signals_seen; /* stop signals the loop has acted on */
	int abandoned; /* a third signal: requests in flight abandoned, held deletes released */
	/* Times on the loop's clock (ms). */
	long long started, deadline, next_progress;
};

/* A statement failed: the database is down (or still down); the next try waits its backoff. */
static void db_failed(struct sweep *s)
{
	if (db_outage_failed(&s->outage, loop_now(s->lp)))
		log_warn("db", "database unavailable; results are kept in memory and written when it is back");
}

static void db_ok(struct sweep *s)
{
	long long lasted = db_outage_ok(&s->outage, loop_now(s->lp));
	if (lasted >= 0)
		log_info("db", "database back after %lld ms", lasted);
}

/*
 * The one way a job ends: its row goes to write-back with the outcome, the
 * reason (may be NULL) and what the verdict (may be NULL) issued. When
 * memory runs out the row is simply left (its lease expires). Either way the
 * job is freed.
 */
static void finish(struct sweep *s, struct job *j, enum outcome o, struct verdict *v,
    const char *reason)
{
	joblive_remove(&s->live, j);
	if (writeback_add(&s->wb, &j->row, o, v, reason, loop_now(s->lp)) != 0) {
		if (o == OUTCOME_REFRESHED)
			log_error(j->row->id, "out of memory: an issued token could not be kept");
		job_free(s->profile, j);
		return;
	}
	if (o != OUTCOME_RELEASED)
		s->answers++;
	if (o == OUTCOME_LOGGED_OUT)
		s->logouts++;
	job_free(s->profile, j);
}

/* Stop claiming; every row not on the wire is released. */
static void drain(struct sweep *s, const char *why)
{
	struct job *j;
	if (s->draining)
		return;
	s->draining = 1;
	log_info("sweep", "%s: finishing %d requests in flight, releasing %zu rows", why,
	    upstream_in_flight(s->up), s->ready.n + s->waiting.n);
	while ((j = jobq_pop(&s->ready)) != NULL)
		finish(s, j, OUTCOME_RELEASED, NULL, NULL);
	while ((j = jobq_pop(&s->waiting)) != NULL)
		finish(s, j, OUTCOME_RELEASED, NULL, NULL);
}

/* Sends a claim for the next batch. */
static void claim(struct sweep *s)
{
	/*
	 * One claim is in flight at a time, so a claim must be able to fill every
	 * slot: at least refresh.concurrency rows (at C=1024, claims of 256 could
	 * not keep up with 20k answers per second at 50 ms).
	 */
	long want = s->cfg->refresh.batch_size;
	if (want < s->cfg->refresh.concurrency)
		want = s->cfg->refresh.concurrency;
	if (s->limit > 0 && want > s->limit - s->claimed)
		want = s->limit - s->claimed;
	if (want <= 0) {
		s->exhausted = 1;
		return;
	}
	/*
	 * Besides the rows this run finished as failed or superseded, exclude
	 * every row it holds that the cursor does not cover (ties at it):
	 * claimed and not yet ended (queued, waiting, on the wire), or its
	 * result pending or being written. A write may release such a row
	 * (failed, superseded) before this claim runs: the claim and the writes
	 * go on separate connections, and a claim that reaches the server late
	 * (a busy pooler, a descheduled backend) sees writes sent after it. A
	 * row must not be called twice in a run.
	 */
	size_t nx = 0;
	char **ids = writeback_exclude_ids(&s->wb, s->live.n, &nx);
	if (ids == NULL)
		return; /* tried again on the next turn of the loop */
	for (const struct job *j = s->live.head; j != NULL; j = j->live_next)
		if (row_claimable(j->row, s->wb.after)) /* the others are before the cursor */
			ids[nx++] = j->row->id;
	int rc = db_claim_send(s->db, want, s->wb.after, ids, nx);
	free(ids);
	if (rc != 0) {
		db_failed(s);
		return;
	}
	log_debug("sweep", "claim of up to %ld rows sent, %zu ids excluded", want, nx);
	s->claiming = 1;
	s->claim_want = want;
}

/* Takes the rows of the claim in flight, if it ended, into the ready queue. */
static void collect_claim(struct sweep *s)
{
	struct row **rows = NULL;
	size_t n = 0;
	int rc = db_claim_poll(s->db, &rows, &n);
	if (rc == 0 || !s->claiming)
		return;
	s->claiming = 0;
	if (rc < 0) {
		db_failed(s);
		return;
	}
	db_ok(s);
	/* The cursor moves to the latest row claimed (claims go oldest first). */
	char after[ROW_ORDER_LEN];
	memcpy(after, s->wb.after, ROW_ORDER_LEN);
	for (size_t i = 0; i < n; i++)
		if (strcmp(rows[i]->order, after) > 0)
			memcpy(after, rows[i]->order, ROW_ORDER_LEN);
	writeback_after(&s->wb, after);
	for (size_t i = 0; i < n; i++) {
		struct job *j = job_new(rows[i]);
		if (j == NULL) {
			row_free(rows[i]); /* its lease expires on its own */
			continue;
		}
		joblive_add(&s->live, j);
		if (s->draining) /* claimed while stopping: give it back at once */
			finish(s, j, OUTCOME_RELEASED, NULL, NULL);
		else
			jobq_push(&s->ready, j);
	}
	free(rows);
	s->claimed += (long)n;
	s->st->due += (long)n;
	if ((long)n < s->claim_want)
		s->exhausted = 1;
	if (n > 0)
		log_debug("sweep", "claimed %zu rows", n);
}

/* Builds and starts the request of a job; a row we cannot even ask about fails. */
static void start(struct sweep *s, struct job *j)
{
	char err[REASON_MAX] = "";
	struct request req;
	if (s->profile->build(s->cfg, j->row, &j->pstate, &req, err, sizeof(err)) != 0)
		goto bad;
	if (upstream_start(s->up, j, &req) != 0) {
		snprintf(err, sizeof(err), "could not start the request");
		request_clear(&req);
		goto bad;
	}
	request_clear(&req);
	j->attempts++;
	if (j->attempts > 1)
		s->st->retries++;
	else
		s->budget.first_attempts++;
	return;
bad:
	finish(s, j, OUTCOME_FAILED, NULL, err);
}

/*
 * Starts ready jobs while the in-flight limit and refresh.max_rate allow.
 * Returns ms until the next start is allowed when one is held back, else -1.
 */
static long start_ready(struct sweep *s)
{
	while (!s->draining && s->ready.n > 0 && upstream_in_flight(s->up) < s->inflight.now) {
		if (s->pacer.rate > 0) {
			long wait = pacer_admit(&s->pacer, loop_now_us(s->lp));
			if (wait > 0)
				return wait;
		}
		start(s, jobq_pop(&s->ready));
	}
	return -1;
}

/*
 * Trips the mass-logout guard once its numbers say so: no logout row of this
 * run is deleted (they are kept and marked), and the run stops claiming.
 */
static void check_guard(struct sweep *s)
{
	const struct config *cfg = s->cfg;
	if (!s->wb.guarding || s->st->mass_logout ||
	    !guard_mass_logout(s->logouts, s->answers, cfg->breaker.logout_min,
		cfg->breaker.logout_share))
		return;
	s->st->mass_logout = 1;
	log_error("sweep", "mass logout: %ld of the run's %ld answers so far were logouts"
			   " (breaker.logout_min %d, breaker.logout_share %g): deleting none of them;"
			   " they are kept, marked 'logout (not deleted: mass logout)'. Likely causes: %s,"
			   " or an incident at the upstream. Stopping; rows not called stay due",
	    s->logouts, s->answers, cfg->breaker.logout_min, cfg->breaker.logout_share,
	    s->profile->mass_logout_causes);
	writeback_mark_mass(&s->wb);
	writeback_release_held(&s->wb, s->abandoned, loop_now(s->lp));
	drain(s, "mass logout");
}

/* A transient answer: the job waits to be retried, or ends (released or failed). */
static void retry_or_finish(struct sweep *s, struct job *j, const struct upstream_done *d,
    const char *why)
{
	const struct config *cfg = s->cfg;
	char reason[REASON_MAX];
	switch (retry_decide(&s->budget, s->draining, j->attempts, cfg->retry.attempts)) {
	case RETRY_RELEASE:
		finish(s, j, OUTCOME_RELEASED, NULL, NULL);
		return;
	case RETRY_NO_BUDGET:
		snprintf(reason, sizeof(reason), "%.*s (retry budget of the run used up)", REASON_CAUSE_MAX, why);
		finish(s, j, OUTCOME_FAILED, NULL, reason);
		return;
	case RETRY_EXHAUSTED:
		snprintf(reason, sizeof(reason), "%.*s (after %d tries)", REASON_CAUSE_MAX, why, j->attempts);
		finish(s, j, OUTCOME_FAILED, NULL, reason);
		return;
	case RETRY_AGAIN:
		break;
	}
	long delay = backoff_delay_ms(j->attempts, cfg->retry.base_delay_ms, cfg->retry.max_delay_ms,
	    &s->rng);
	long ra = d->retry_after ? retry_after_ms(d->retry_after, time(NULL)) : -1;
	delay = retry_delay_choose(delay, ra, cfg->retry.max_delay_ms);
	log_debug(j->row->id, "transient (%s), try %d of %d in %ld ms", why, j->attempts + 1,
	    cfg->retry.attempts, delay);
	j->not_before = loop_now(s->lp) + delay;
	jobq_push(&s->waiting, j);
}

/* Judges a finished request and ends its job (or schedules its retry). */
static void handle_done(struct sweep *s, struct upstream_done *d)
{
	struct job *j = d->owner;
	struct verdict a;
	memset(&a, 0, sizeof(a));
	if (d->transport_error) {
		a.kind = d->transient ? ANSWER_TRANSIENT : ANSWER_FAILED;
		snprintf(a.reason, sizeof(a.reason), "%s", d->error);
	} else {
		struct reply r = { d->status, d->body, d->len, d->too_big, d->set_cookie, d->nset };
		s->profile->judge(s->cfg, j->row, j->pstate, &r, &a);
	}
	if (a.stop_run) {
		/* Every row would fail the same way: stop, and leave this row as it was. */
		if (!s->st->upstream_refused)
			log_error("sweep", "stopping the run, rows left as they were: %s", a.reason);
		s->st->upstream_refused = 1;
		finish(s, j, OUTCOME_RELEASED, NULL, NULL);
		verdict_clear(&a);
		drain(s, "the upstream refuses our configuration");
		return;
	}
	/*
	 * A connection's end is not an answer: the retry on a fresh one will be.
	 * Only a row's first one is let off: an upstream (HTTP/2 especially, where
	 * every stream shares one connection) that keeps dropping connections
	 * before it answers still opens the breaker, from the rows' second tries.
	 */
	if (!d->conn_lost || j->attempts > 1)
		breaker_record(&s->breaker, a.kind);
	int before = s->inflight.now;
	inflight_limit_adapt(&s->inflight, d->transport_error, d->status, a.kind);
	if (s->inflight.now < before)
		log_debug("sweep", "upstream answered HTTP %ld: in-flight limit %d -> %d", d->status,
		    before, s->inflight.now);
	switch (a.kind) {
	case ANSWER_TRANSIENT:
		retry_or_finish(s, j, d, a.reason);
		break;
	case ANSWER_LOGOUT:
		finish(s, j, OUTCOME_LOGGED_OUT, NULL, NULL);
		check_guard(s);
		break;
	case ANSWER_REFRESHED:
		finish(s, j, OUTCOME_REFRESHED, &a, NULL);
		break;
	case ANSWER_FAILED:
	default:
		finish(s, j, OUTCOME_FAILED, NULL, a.reason);
		break;
	}
	verdict_clear(&a);
	if (breaker_tripped(&s->breaker) && !s->draining) {
		s->st->breaker_open = 1;
		log_error("sweep", "upstream looks unhealthy: %d answers in a row failed or were transient;"
				   " stopping (rows not called stay due)", s->breaker.consecutive_bad);
		drain(s, "circuit breaker open");
	}
}

/* Takes the outcome of the write in flight, if it ended. */
static void collect_write(struct sweep *s)
{
	int rc = writeback_poll(&s->wb);
	if (rc < 0) {
		db_failed(s);
		writeback_requeue(&s->wb);
	} else if (rc > 0) {
		db_ok(s);
		writeback_settle(&s->wb, loop_now(s->lp));
	}
}

/*
 * Acts on the n-th stop signal: the first drains; a second says what the
 * drain still waits for; a third abandons the requests in flight and
 * releases their rows (their claims are cleared by the next write).
 */
static void on_stop_signal(struct sweep *s, int n)
{
	const char *name = stop_signal == SIGINT ? "SIGINT" : "SIGTERM";
	char limit[32];
	s->signals_seen = n;
	if (!s->st->stopped_by_signal) {
		s->st->stopped_by_signal = 1;
		drain(s, name);
		return;
	}
	if (n == 2) {
		(void)format_duration(limit, sizeof(limit), s->cfg->upstream.timeout_ms);
		log_warn("sweep", "%s again: still waiting for %d requests in flight (each ends within"
				  " upstream.timeout, %s) and for %zu results to be written; once more stops"
				  " at once, releasing the rows in flight", name, upstream_in_flight(s->up),
		    limit, writeback_unwritten(&s->wb));
		return;
	}
	if (!s->abandoned) {
		int abandoned = 0;
		s->abandoned = 1;
		struct job *j;
		while ((j = upstream_cancel(s->up)) != NULL) {
			abandoned++;
			finish(s, j, OUTCOME_RELEASED, NULL, NULL);
		}
		log_warn("sweep", "%s a third time: stopping now; %d requests in flight abandoned and"
				  " their rows released (an answer the upstream sends them now is not"
				  " read)", name, abandoned);
	}
}

/*
 * Progress: a live line (done/total, rate, failures, ETA) redrawn on a
 * terminal; a log event every PROGRESS_INTERVAL_MS otherwise.
 */
static void progress(struct sweep *s, long long now)
{
	char line[LOG_STATUS_MAX];
	long done = 0;
	for (int o = 0; o < OUTCOME_COUNT; o++)
		done += s->st->count[o];
	long total = s->total >= 0 ? s->total : s->claimed;
	if (total < done)
		total = done;
	double secs = (double)(now - s->started) / 1000.0;
	double rate = secs > 0 ? (double)done / secs : 0;
	if (log_status_enabled()) {
		char eta[32] = "?";
		if (rate > 0 && total >= done)
			(void)format_duration(eta, sizeof(eta),
			    (long)((double)(total - done) / rate * 1000.0) / 1000 * 1000);
		snprintf(line, sizeof(line), "%ld/%ld done  %.0f rows/s  %ld failed  %d in flight  ETA %s",
		    done, total, rate, s->st->count[OUTCOME_FAILED], upstream_in_flight(s->up), eta);
		log_status(line);
		s->next_progress = now + STATUS_INTERVAL_MS;
		return;
	}
	log_info("sweep", "progress: %ld/%ld done, %ld failed, %d in flight, %.0f rows/s", done, total,
	    s->st->count[OUTCOME_FAILED], upstream_in_flight(s->up), rate);
	s->next_progress = now + PROGRESS_INTERVAL_MS;
}

/* Whether the loop has nothing left to do. */
static int finished(const struct sweep *s)
{
	return (s->exhausted || s->draining) && s->ready.n == 0 && s->waiting.n == 0 &&
	    upstream_in_flight(s->up) == 0 && !s->claiming && writeback_idle(&s->wb);
}

/*
 * Turns the loop (libcurl's sockets and the database's, each handed to its
 * owner when ready) for at most until the next thing is due: a retry (next_wake), a paced start (pace_wait), a
 * write, the database's next try, or LOOP_TICK_MS. Then judges every request
 * that finished.
 */
static void wait_and_judge(struct sweep *s, long long now, long next_wake, long pace_wait)
{
	long timeout = LOOP_TICK_MS;
	if (next_wake >= 0 && next_wake < timeout)
		timeout = next_wake;
	if (pace_wait >= 0 && pace_wait < timeout)
		timeout = pace_wait;
	long db_wait = db_outage_wait_ms(&s->outage, now);
	long flush_in = writeback_flush_in(&s->wb, now);
	if (flush_in >= 0) {
		if (db_wait >= 0)
			flush_in = db_wait; /* the database is down: not before its next try */
		if (flush_in < timeout)
			timeout = flush_in;
	}
	if (db_wait >= 0 && !s->claiming && db_wait < timeout)
		timeout = db_wait;
	(void)loop_once(s->lp, timeout);
	struct upstream_done d;
	while (upstream_next(s->up, &d)) {
		handle_done(s, &d);
		upstream_done_clear(&d);
	}
}

/* The run: claim -> start -> judge -> finish -> write, until nothing is left or it must stop. */
static void sweep_loop(struct sweep *s)
{
	const struct config *cfg = s->cfg;
	while (!finished(s)) {
		long long now = loop_now(s->lp);
		collect_claim(s);
		collect_write(s);
		while (stop_signals > s->signals_seen) /* each signal in turn, however fast they came */
			on_stop_signal(s, s->signals_seen + 1);
		if (s->deadline > 0 && now >= s->deadline && !s->draining)
			drain(s, "refresh.max_runtime reached");
		if (db_outage_down_for(&s->outage, db_stalled_since(s->db), now) >
		    cfg->database.outage_timeout_ms) {
			s->st->db_lost = 1;
			drain(s, "database unavailable for too long");
			if (upstream_in_flight(s->up) == 0)
				break;
		}
		/* Keep a batch ready beyond what is in flight, so starts never wait on a claim. */
		if (!s->draining && !s->exhausted && !s->claiming &&
		    s->ready.n < (size_t)cfg->refresh.concurrency && db_outage_usable(&s->outage, now))
			claim(s);
		long next_wake = jobq_wake(&s->waiting, &s->ready, now);
		long pace_wait = start_ready(s);
		int idle = upstream_in_flight(s->up) == 0 && s->ready.n == 0;
		writeback_renew_held(&s->wb, now);
		/* Every row has its outcome: the guard can tell now, and the held deletes go. */
		if (s->wb.nheld > 0 && (s->exhausted || s->draining) && idle && s->waiting.n == 0 &&
		    !s->claiming)
			writeback_release_held(&s->wb, s->abandoned, loop_now(s->lp));
		/* A claim that just failed makes the database unusable until its next try. */
		if (db_outage_usable(&s->outage, now) &&
		    writeback_flush_due(&s->wb, now, idle && (s->waiting.n == 0 || s->draining)) &&
		    writeback_flush(&s->wb, loop_now(s->lp)) != 0)
			db_failed(s);
		if (now >= s->next_progress)
			progress(s, now);
		if (finished(s))
			break;
		wait_and_judge(s, now, next_wake, pace_wait);
	}
}

/* The exit code of a run that ended with these stats (SPEC). */
static int exit_code(const struct sweep_stats *st)
{
	if (st->db_lost)
		return EXIT_DATABASE;
	if (st->stopped_by_signal)
		return EXIT_SIGNAL;
	return st->count[OUTCOME_FAILED] > 0 || st->breaker_open || st->upstream_refused ||
		st->mass_logout
	    ? EXIT_FAILED_ROWS
	    : EXIT_OK;
}

int sweep_run(const struct config *cfg, struct db *db, long limit, struct sweep_stats *stats)
{
	struct sweep s;
	memset(&s, 0, sizeof(s));
	memset(stats, 0, sizeof(*stats));
	s.cfg = cfg;
	s.profile = profile_get(cfg->upstream.profile);
	s.db = db;
	s.st = stats;
	s.limit = limit;
	s.rng = ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid() ^ 0x9e3779b97f4a7c15ULL;
	s.lp = loop_new();
	if (s.lp == NULL)
		return EXIT_CONFIG; /* set-up, as a config error: nothing was touched (logged) */
	s.started = loop_now(s.lp);
	s.budget.budget = cfg->retry.budget;
	s.breaker.window = cfg->breaker.window;
	s.inflight.max = s.inflight.now = cfg->refresh.concurrency;
	s.pacer.rate = cfg->refresh.max_rate;
	writeback_init(&s.wb, db, stats, cfg->refresh.lease_ms,
	    cfg->refresh.on_logout == ON_LOGOUT_DELETE && cfg->breaker.logout_min > 0);
	s.next_progress = s.started + (log_status_enabled() ? STATUS_INTERVAL_MS : PROGRESS_INTERVAL_MS);
	if (cfg->refresh.max_runtime_ms > 0)
		s.deadline = s.started + cfg->refresh.max_runtime_ms;
	s.up = upstream_new(cfg, s.lp);
	if (s.up == NULL) {
		log_error("sweep", "cannot set up HTTP (libcurl)");
		loop_free(s.lp);
		return EXIT_CONFIG; /* set-up, as a config error: nothing was touched */
	}
	db_attach(db, s.lp);
	long keep = 0;
	s.total = db_count_due(db, &keep);
	if (limit > 0 && s.total > limit)
		s.total = limit;
	if (s.total >= 0 && cfg->refresh.keep_when[0] != '\0')
		log_info("sweep", "%ld row%s due (%ld of them never deleted: refresh.keep_when)", s.total,
		    s.total == 1 ? "" : "s", keep);
	else if (s.total >= 0)
		log_info("sweep", "%ld row%s due", s.total, s.total == 1 ? "" : "s");

	sweep_loop(&s);
	log_status(NULL);

	/* Results not durable are counted (and issued tokens lost, logged); then all is freed. */
	loop_update_time(s.lp);
	writeback_close(&s.wb, s.abandoned, loop_now(s.lp));
	jobq_clear(&s.ready, s.profile); /* empty when the loop ends: for certainty */
	jobq_clear(&s.waiting, s.profile);
	upstream_free(s.up);
	db_detach(db);
	stats->throttle_waits = s.pacer.waits;
	stats->duration_ms = loop_now(s.lp) - s.started;
	loop_free(s.lp);
	return exit_code(stats);
}
