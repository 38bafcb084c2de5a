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
#include "log.h"
#include "loop.h"
#include "parse.h"
#include "sweep.h"
#include "profile.h"
#include "upstream.h"

/* The pacer may catch up on this much lag when its gap is below the loop's granularity. */
#define PACE_SLACK_US 1000
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

/* A claimed row on its way through the run: queued, waiting out a backoff, or on the wire. */
struct job {
	struct row *row;
	void *pstate; /* the profile's state for the row (see profile_ops.build) */
	int attempts; /* requests made so far */
	long long not_before; /* monotonic ms; for a job waiting to retry */
	struct job *next;
};

/* FIFO of jobs. */
struct queue {
	struct job *head, *tail;
	size_t n;
};

struct sweep {
	const struct config *cfg;
	const struct profile_ops *profile;
	struct db *db;
	struct upstream *up;
	struct loop *lp;
	struct sweep_stats *st;
	uint64_t rng;
	long limit;
	long claimed;
	long total; /* due at start (for progress), -1 unknown */
	int exhausted; /* the last claim came back short: nothing more is due */
	int draining; /* stop claiming, release what is not on the wire */
	struct queue ready; /* claimed, not yet started */
	struct queue waiting; /* waiting out a backoff; scanned for the earliest */
	struct result **pending; /* finished, not yet sent to the database */
	size_t npending, cappending;
	long long oldest_pending; /* monotonic ms of the oldest pending result */
	struct result **writing; /* the write in flight (group commit: one at a time) */
	size_t nwriting, capwriting;
	long long oldest_writing;
	int claiming; /* a claim is in flight */
	long claim_want; /* rows it asked for */
	char **exclude; /* ids this run finished that may still look due */
	size_t nexclude, capexclude;
	struct result **held; /* logout rows whose delete waits for the mass-logout guard */
	size_t nheld, capheld;
	int guarding; /* the guard applies: logout rows are held back until it decides */
	long answers; /* rows' outcomes so far (refreshed, logout, failed; superseded among them) */
	long logouts; /* logout answers so far */
	long first_attempts; /* requests that were a row's first */
	long retries_scheduled; /* retries granted from the budget */
	int consecutive_bad; /* answers in a row that were transient or failed (breaker) */
	int limit_now; /* adaptive in-flight limit: halved on 429/503, +1 per success */
	long long next_start_us; /* max_rate pacing: no request starts before this */
	int throttled; /* a start is being held back by max_rate right now */
	int signals_seen; /* stop signals the loop has acted on */
	int abandoned; /* a third signal: requests in flight abandoned, held deletes released */
	long long db_down_since; /* 0 = the database is fine */
	long long next_db_try;
	long db_backoff;
	long long started, deadline, next_progress;
};

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long long now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void queue_push(struct queue *q, struct job *j)
{
	j->next = NULL;
	if (q->tail)
		q->tail->next = j;
	else
		q->head = j;
	q->tail = j;
	q->n++;
}

static struct job *queue_pop(struct queue *q)
{
	struct job *j = q->head;
	if (j == NULL)
		return NULL;
	q->head = j->next;
	if (q->head == NULL)
		q->tail = NULL;
	q->n--;
	j->next = NULL;
	return j;
}

static void job_free(const struct profile_ops *p, struct job *j)
{
	if (j == NULL)
		return;
	if (j->pstate != NULL && p->free_state != NULL)
		p->free_state(j->pstate);
	row_free(j->row);
	free(j);
}

static void result_free(struct result *r)
{
	if (r == NULL)
		return;
	free(r->new_token);
	free(r->cookies);
	free(r->access_token);
	free(r);
}

/* Appends a result to the pending writes (it owns its row); 0, or -1 on OOM. */
static int pend(struct sweep *s, struct result *r)
{
	if (s->npending == s->cappending) {
		size_t cap = s->cappending ? s->cappending * 2 : FLUSH_BATCH * 2;
		struct result **p = realloc(s->pending, cap * sizeof(*p));
		if (p == NULL)
			return -1;
		s->pending = p;
		s->cappending = cap;
	}
	if (s->npending == 0)
		s->oldest_pending = now_ms();
	s->pending[s->npending++] = r;
	return 0;
}

/*
 * Finishes a job with an outcome: the result joins the pending writes and
 * owns the job's row from here on (the job itself is freed). From a verdict
 * (may be NULL) the new token, cookies and access token are taken (its
 * pointers become NULL). Returns 0 or -1 (OOM: the row's lease then simply
 * expires).
 */
static int finish(struct sweep *s, struct job *j, enum outcome o, struct verdict *v,
    const char *reason)
{
	struct result *r = calloc(1, sizeof(*r));
	if (r == NULL)
		return -1;
	r->row = j->row;
	r->outcome = o;
	if (reason)
		snprintf(r->reason, sizeof(r->reason), "%s", reason);
	if (o == OUTCOME_LOGGED_OUT)
		r->logout = !s->guarding ? LOGOUT_DELETE : s->st->mass_logout ? LOGOUT_MASS : LOGOUT_HOLD;
	if (pend(s, r) != 0) {
		free(r);
		return -1;
	}
	j->row = NULL; /* taken */
	if (v != NULL) {
		r->new_token = v->new_token;
		r->cookies = v->cookies;
		r->access_token = v->access_token;
		r->expires_at = v->expires_at;
		v->new_token = v->cookies = v->access_token = NULL;
	}
	if (o != OUTCOME_RELEASED)
		s->answers++;
	if (o == OUTCOME_LOGGED_OUT)
		s->logouts++;
	job_free(s->profile, j);
	return 0;
}

static void remember_exclude(struct sweep *s, const char *id)
{
	if (s->nexclude == s->capexclude) {
		size_t cap = s->capexclude ? s->capexclude * 2 : 64;
		char **p = realloc(s->exclude, cap * sizeof(*p));
		if (p == NULL)
			return; /* worst case: a failed row is called twice in this run */
		s->exclude = p;
		s->capexclude = cap;
	}
	char *dup = strdup(id);
	if (dup != NULL)
		s->exclude[s->nexclude++] = dup;
}

/*
 * Keeps a logout row whose delete waits for the guard's decision. Only what
 * its last write needs stays in memory (id, sent token, claim). Returns 0, or
 * -1 on OOM (the row is then simply left: its lease expires, nothing deleted).
 */
static int hold(struct sweep *s, struct result *r)
{
	if (s->nheld == s->capheld) {
		size_t cap = s->capheld ? s->capheld * 2 : 64;
		struct result **p = realloc(s->held, cap * sizeof(*p));
		if (p == NULL)
			return -1;
		s->held = p;
		s->capheld = cap;
	}
	free(r->row->cookies);
	free(r->row->fingerprint);
	r->row->cookies = r->row->fingerprint = NULL;
	r->held_at = now_ms();
	s->held[s->nheld++] = r;
	return 0;
}

/*
 * Sends the held rows whose lease is half gone to be renewed (a write of
 * LOGOUT_HOLD renews it), so no other run takes a row this run still holds.
 * held is in the order of renewal: the oldest come first.
 */
static void renew_held(struct sweep *s, long long now)
{
	size_t k = 0;
	while (k < s->nheld && now - s->held[k]->held_at >= s->cfg->refresh.lease_ms / 2 &&
	    pend(s, s->held[k]) == 0)
		k++;
	if (k == 0)
		return;
	memmove(s->held, s->held + k, (s->nheld - k) * sizeof(*s->held));
	s->nheld -= k;
}

/*
 * The guard has decided: the held logout rows go to their last write,
 * deleted (LOGOUT_DELETE) or, after a mass logout, kept and marked.
 */
static void release_held(struct sweep *s)
{
	size_t k = 0;
	for (size_t i = 0; i < s->nheld; i++) {
		struct result *r = s->held[i];
		r->logout = s->st->mass_logout ? LOGOUT_MASS : LOGOUT_DELETE;
		/* Stopped at once (a third signal): nothing was decided, nothing is deleted. */
		if (s->abandoned)
			r->outcome = OUTCOME_RELEASED;
		if (pend(s, r) != 0)
			s->held[k++] = r; /* out of memory: tried again on the next turn */
	}
	s->nheld = k;
}

/* Logs, counts and frees written results. */
static void account(struct sweep *s, struct result *r)
{
	const char *id = r->row->id;
	if (r->outcome == OUTCOME_LOGGED_OUT && r->note == WRITE_NOTE_HELD_BACK) {
		/* Nothing written yet: the row waits for the guard (or goes now, if it tripped). */
		int rc;
		if (s->st->mass_logout) {
			r->logout = LOGOUT_MASS;
			rc = pend(s, r);
		} else {
			rc = hold(s, r);
		}
		if (rc == 0) {
			log_debug(id, "logged out upstream: delete held back until the run can tell"
				      " it is no mass logout");
			return;
		}
		log_error(id, "out of memory: a logout row is left as it is");
		s->st->count[OUTCOME_RELEASED]++;
		row_free(r->row);
		r->row = NULL;
		result_free(r);
		return;
	}
	s->st->count[r->outcome]++;
	switch (r->outcome) {
	case OUTCOME_REFRESHED:
		log_debug(id, "refreshed");
		break;
	case OUTCOME_LOGGED_OUT:
		switch (r->note) {
		case WRITE_NOTE_KEPT_RULE:
			s->st->kept_by_rule++;
			log_warn(id, "logged out upstream: row kept, as refresh.keep_when says it is never"
				     " deleted; marked 'logout'");
			break;
		case WRITE_NOTE_KEPT_HELD:
			log_info(id, "logged out upstream: row kept, as the application holds it now;"
				     " marked 'logout', a later run deletes it");
			break;
		case WRITE_NOTE_MASS:
			log_info(id, "logged out upstream: row kept (mass logout), marked"
				     " 'logout (not deleted: mass logout)'");
			break;
		case WRITE_NOTE_KEPT:
			log_info(id, "logged out upstream: row kept, marked 'logout'");
			break;
		default:
			log_info(id, "logged out upstream: row deleted");
			break;
		}
		break;
	case OUTCOME_FAILED:
		log_warn(id, "failed: %s", r->reason);
		remember_exclude(s, id);
		break;
	case OUTCOME_SUPERSEDED:
		if (r->note == WRITE_NOTE_NOT_MATCHING_ISSUED)
			log_warn(id, "superseded: upstream issued a new token, but the row no longer matches"
				     " database.where, so it was not written; the row is left as it is and"
				     " its stored token may no longer work");
		else if (r->note == WRITE_NOTE_NOT_MATCHING)
			log_info(id, "superseded: the row no longer matches database.where; left as it is");
		else
			log_info(id, "superseded: the token changed while we called; row left as it is");
		remember_exclude(s, id);
		break;
	case OUTCOME_RELEASED:
		log_debug(id, "released");
		break;
	default:
		break;
	}
	row_free(r->row);
	r->row = NULL;
	result_free(r);
}

/* Marks the database down (or still down) and schedules the next try with backoff. */
static void db_failed(struct sweep *s)
{
	long long now = now_ms();
	if (s->db_down_since == 0) {
		s->db_down_since = now;
		s->db_backoff = DB_RETRY_MIN_MS;
		log_warn("db", "database unavailable; results are kept in memory and written when it is back");
	} else {
		s->db_backoff = s->db_backoff * 2 > DB_RETRY_MAX_MS ? DB_RETRY_MAX_MS : s->db_backoff * 2;
	}
	s->next_db_try = now + s->db_backoff;
}

static void db_ok(struct sweep *s)
{
	if (s->db_down_since != 0)
		log_info("db", "database back after %lld ms", now_ms() - s->db_down_since);
	s->db_down_since = 0;
	s->db_backoff = 0;
}

static int db_usable(const struct sweep *s, long long now)
{
	return s->db_down_since == 0 || now >= s->next_db_try;
}

/* Puts the results of a failed write back in front of the pending ones. */
static void requeue_writing(struct sweep *s)
{
	size_t total = s->nwriting + s->npending;
	if (s->nwriting == 0)
		return; /* nothing was being written: pending stays as it is */
	if (s->capwriting < total) {
		struct result **p = realloc(s->writing, total * sizeof(*p));
		if (p == NULL) {
			/* Cannot happen in practice (pending fits in its own array): keep both, try later. */
			log_error("sweep", "out of memory while requeueing results");
			return;
		}
		s->writing = p;
		s->capwriting = total;
	}
	if (s->npending > 0)
		memcpy(s->writing + s->nwriting, s->pending, s->npending * sizeof(*s->pending));
	struct result **tmp = s->pending;
	size_t cap = s->cappending;
	s->pending = s->writing;
	s->cappending = s->capwriting;
	s->writing = tmp;
	s->capwriting = cap;
	s->npending = total;
	s->nwriting = 0;
	s->oldest_pending = s->oldest_writing;
}

/*
 * Sends the pending results (at most WRITE_MAX) as one write. Returns 0
 * when sent or nothing to send, -1 when the database cannot take it now.
 */
static int flush(struct sweep *s)
{
	if (s->npending == 0 || s->nwriting > 0)
		return 0;
	size_t k = s->npending < WRITE_MAX ? s->npending : WRITE_MAX;
	if (s->capwriting < k) {
		struct result **p = realloc(s->writing, k * sizeof(*p));
		if (p == NULL)
			return -1;
		s->writing = p;
		s->capwriting = k;
	}
	memcpy(s->writing, s->pending, k * sizeof(*s->pending));
	if (db_write_send(s->db, s->writing, k) != 0) {
		db_failed(s);
		return -1;
	}
	s->nwriting = k;
	s->oldest_writing = s->oldest_pending;
	memmove(s->pending, s->pending + k, (s->npending - k) * sizeof(*s->pending));
	s->npending -= k;
	if (s->npending > 0)
		s->oldest_pending = now_ms(); /* they go out as soon as this write ends */
	return 0;
}

/* Takes the outcome of the write in flight, if it ended. */
static void collect_write(struct sweep *s)
{
	int rc = db_write_poll(s->db);
	if (rc == 0 || s->nwriting == 0)
		return;
	if (rc < 0) {
		db_failed(s);
		requeue_writing(s);
		return;
	}
	db_ok(s);
	for (size_t i = 0; i < s->nwriting; i++)
		account(s, s->writing[i]);
	s->nwriting = 0;
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
	 * every row whose result is pending or being written: its write may
	 * release it (failed, superseded) before this claim runs, and it must
	 * not be called twice.
	 */
	size_t nx = s->nexclude + s->npending + s->nwriting + s->nheld;
	char **ids = malloc((nx ? nx : 1) * sizeof(*ids));
	if (ids == NULL)
		return; /* tried again on the next turn of the loop */
	if (s->nexclude > 0)
		memcpy(ids, s->exclude, s->nexclude * sizeof(*ids));
	size_t k = s->nexclude;
	for (size_t i = 0; i < s->npending; i++)
		ids[k++] = s->pending[i]->row->id;
	for (size_t i = 0; i < s->nwriting; i++)
		ids[k++] = s->writing[i]->row->id;
	for (size_t i = 0; i < s->nheld; i++)
		ids[k++] = s->held[i]->row->id;
	int rc = db_claim_send(s->db, want, ids, nx);
	free(ids);
	if (rc != 0) {
		db_failed(s);
		return;
	}
	s->claiming = 1;
	s->claim_want = want;
}

static int finish(struct sweep *s, struct job *j, enum outcome o, struct verdict *v,
    const char *reason);

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
	for (size_t i = 0; i < n; i++) {
		struct job *j = calloc(1, sizeof(*j));
		if (j == NULL) {
			row_free(rows[i]); /* its lease expires on its own */
			continue;
		}
		j->row = rows[i];
		/* Claimed while stopping: give it back at once. */
		if (s->draining) {
			if (finish(s, j, OUTCOME_RELEASED, NULL, NULL) != 0)
				job_free(s->profile, j);
			continue;
		}
		queue_push(&s->ready, j);
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
	if (upstream_start(s->up, j, req.body, req.cookie, req.authorization) != 0) {
		snprintf(err, sizeof(err), "could not start the request");
		request_clear(&req);
		goto bad;
	}
	request_clear(&req);
	j->attempts++;
	if (j->attempts > 1)
		s->st->retries++;
	else
		s->first_attempts++;
	return;
bad:
	if (finish(s, j, OUTCOME_FAILED, NULL, err) != 0)
		job_free(s->profile, j);
}

/* Whether the run's retry budget allows one more: max(floor, budget x first attempts). */
static int retry_allowed(const struct sweep *s)
{
	double allowed = s->cfg->retry.budget * (double)s->first_attempts;
	if (allowed < RETRY_BUDGET_FLOOR)
		allowed = RETRY_BUDGET_FLOOR;
	return (double)s->retries_scheduled < allowed;
}

static void drain(struct sweep *s, const char *why);

/* Adaptive concurrency: the upstream says slow down (429, 503): halve; a success: one more. */
static void adapt_limit(struct sweep *s, const struct upstream_done *d, enum answer_kind kind)
{
	int before = s->limit_now;
	if (!d->transport_error && (d->status == 429 || d->status == 503))
		s->limit_now = s->limit_now > 1 ? s->limit_now / 2 : 1;
	else if ((kind == ANSWER_REFRESHED || kind == ANSWER_LOGOUT) &&
	    s->limit_now < s->cfg->refresh.concurrency)
		s->limit_now++;
	if (s->limit_now < before)
		log_debug("sweep", "upstream answered HTTP %ld: in-flight limit %d -> %d", d->status,
		    before, s->limit_now);
}

/*
 * Trips the mass-logout guard once its numbers say so: no logout row of this
 * run is deleted (they are kept and marked), and the run stops claiming.
 */
static void check_guard(struct sweep *s)
{
	const struct config *cfg = s->cfg;
	if (!s->guarding || s->st->mass_logout ||
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
	for (size_t i = 0; i < s->npending; i++)
		if (s->pending[i]->outcome == OUTCOME_LOGGED_OUT)
			s->pending[i]->logout = LOGOUT_MASS;
	release_held(s);
	drain(s, "mass logout");
}

/* Decides what a finished request means for its job. */
static void handle_done(struct sweep *s, struct upstream_done *d)
{
	struct job *j = d->owner;
	const struct config *cfg = s->cfg;
	struct verdict a;
	char reason[REASON_MAX];
	memset(&a, 0, sizeof(a));
	if (d->transport_error) {
		a.kind = d->transient ? ANSWER_TRANSIENT : ANSWER_FAILED;
		snprintf(a.reason, sizeof(a.reason), "%s", d->error);
	} else {
		struct reply r = { d->status, d->body, d->len, d->too_big, d->set_cookie, d->nset };
		s->profile->judge(cfg, j->row, j->pstate, &r, &a);
	}
	if (a.stop_run) {
		/* Every row would fail the same way: stop, and leave this row as it was. */
		if (!s->st->credentials_refused)
			log_error("sweep", "upstream refused the client credentials (%s): stopping the run;"
					   " rows are left as they were", a.reason);
		s->st->credentials_refused = 1;
		(void)finish(s, j, OUTCOME_RELEASED, NULL, NULL);
		verdict_clear(&a);
		drain(s, "client credentials refused");
		return;
	}
	if (a.kind == ANSWER_TRANSIENT || a.kind == ANSWER_FAILED)
		s->consecutive_bad++;
	else
		s->consecutive_bad = 0;
	adapt_limit(s, d, a.kind);
	switch (a.kind) {
	case ANSWER_TRANSIENT:
		if (s->draining) {
			(void)finish(s, j, OUTCOME_RELEASED, NULL, NULL);
		} else if (j->attempts < cfg->retry.attempts && !retry_allowed(s)) {
			snprintf(reason, sizeof(reason), "%.120s (retry budget of the run used up)",
			    a.reason);
			(void)finish(s, j, OUTCOME_FAILED, NULL, reason);
		} else if (j->attempts < cfg->retry.attempts) {
			s->retries_scheduled++;
			long delay = backoff_delay_ms(j->attempts, cfg->retry.base_delay_ms,
			    cfg->retry.max_delay_ms, &s->rng);
			long ra = d->retry_after ? retry_after_ms(d->retry_after, time(NULL)) : -1;
			if (ra >= 0)
				delay = ra < cfg->retry.max_delay_ms ? ra : cfg->retry.max_delay_ms;
			log_debug(j->row->id, "transient (%s), try %d of %d in %ld ms", a.reason,
			    j->attempts + 1, cfg->retry.attempts, delay);
			j->not_before = now_ms() + delay;
			queue_push(&s->waiting, j);
		} else {
			snprintf(reason, sizeof(reason), "%.120s (after %d tries)", a.reason,
			    j->attempts);
			(void)finish(s, j, OUTCOME_FAILED, NULL, reason);
		}
		break;
	case ANSWER_LOGOUT:
		(void)finish(s, j, OUTCOME_LOGGED_OUT, NULL, NULL);
		check_guard(s);
		break;
	case ANSWER_REFRESHED:
		if (finish(s, j, OUTCOME_REFRESHED, &a, NULL) != 0) {
			log_error(j->row->id, "out of memory: an issued token could not be kept");
			job_free(s->profile, j);
		}
		break;
	case ANSWER_FAILED:
	default:
		(void)finish(s, j, OUTCOME_FAILED, NULL, a.reason);
		break;
	}
	verdict_clear(&a);
	if (cfg->breaker.window > 0 && s->consecutive_bad >= cfg->breaker.window && !s->draining) {
		s->st->breaker_open = 1;
		log_error("sweep", "upstream looks unhealthy: %d answers in a row failed or were transient;"
				   " stopping (rows not called stay due)", s->consecutive_bad);
		drain(s, "circuit breaker open");
	}
}

/* Moves jobs whose backoff is over to the ready queue; returns ms to the next one (or -1). */
static long wake_waiting(struct sweep *s, long long now)
{
	struct queue keep = { NULL, NULL, 0 };
	long next = -1;
	struct job *j;
	while ((j = queue_pop(&s->waiting)) != NULL) {
		if (j->not_before <= now) {
			queue_push(&s->ready, j);
			continue;
		}
		long wait = (long)(j->not_before - now);
		if (next < 0 || wait < next)
			next = wait;
		queue_push(&keep, j);
	}
	s->waiting = keep;
	return next;
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
	while ((j = queue_pop(&s->ready)) != NULL)
		if (finish(s, j, OUTCOME_RELEASED, NULL, NULL) != 0)
			job_free(s->profile, j);
	while ((j = queue_pop(&s->waiting)) != NULL)
		if (finish(s, j, OUTCOME_RELEASED, NULL, NULL) != 0)
			job_free(s->profile, j);
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

/*
 * Starts ready jobs while the in-flight limit and refresh.max_rate allow.
 * Pacing is smooth: starts are spaced 1/max_rate apart, never bunched.
 * Returns ms until the next start is allowed when one is held back, else -1.
 */
static long start_ready(struct sweep *s)
{
	double rate = s->cfg->refresh.max_rate;
	while (!s->draining && s->ready.n > 0 && upstream_in_flight(s->up) < s->limit_now) {
		if (rate > 0) {
			long long now = now_us();
			if (now < s->next_start_us) {
				if (!s->throttled)
					s->st->throttle_waits++;
				s->throttled = 1;
				long ms = (long)((s->next_start_us - now + 999) / 1000);
				return ms > 0 ? ms : 1;
			}
			/*
			 * Spaced 1/rate from the previous start. A gap shorter than the
			 * loop's 1 ms granularity may catch up on at most PACE_SLACK_US
			 * of lag (else a high cap would throttle to ~1000/s); a longer
			 * gap counts from the actual start: never more than max_rate in
			 * any second.
			 */
			long long gap = (long long)(1e6 / rate);
			long long slack = gap < PACE_SLACK_US ? PACE_SLACK_US : 0;
			long long base = s->next_start_us > now - slack ? s->next_start_us : now - slack;
			s->next_start_us = base + gap;
			s->throttled = 0;
		}
		start(s, queue_pop(&s->ready));
	}
	return -1;
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
		    limit, s->npending + s->nwriting);
		return;
	}
	if (!s->abandoned) {
		int abandoned = 0;
		s->abandoned = 1;
		struct job *j;
		while ((j = upstream_cancel(s->up)) != NULL) {
			abandoned++;
			if (finish(s, j, OUTCOME_RELEASED, NULL, NULL) != 0)
				job_free(s->profile, j);
		}
		log_warn("sweep", "%s a third time: stopping now; %d requests in flight abandoned and"
				  " their rows released (an answer the upstream sends them now is not"
				  " read)", name, abandoned);
	}
}

/* Whether the loop has nothing left to do. */
static int finished(const struct sweep *s)
{
	return (s->exhausted || s->draining) && s->ready.n == 0 && s->waiting.n == 0 &&
	    upstream_in_flight(s->up) == 0 && s->npending == 0 && s->nwriting == 0 && !s->claiming &&
	    s->nheld == 0;
}

/* How long the database has been unusable: failing, or sitting on a statement. 0 = fine. */
static long long db_down_for(const struct sweep *s, long long now)
{
	long long since = s->db_down_since;
	long long stalled = db_stalled_since(s->db);
	if (stalled != 0 && now - stalled > DB_STALL_MS && (since == 0 || stalled < since))
		since = stalled;
	return since == 0 ? 0 : now - since;
}

static void sweep_loop(struct sweep *s)
{
	const struct config *cfg = s->cfg;
	while (!finished(s)) {
		long long now = now_ms();
		collect_claim(s);
		collect_write(s);
		while (stop_signals > s->signals_seen) /* each signal in turn, however fast they came */
			on_stop_signal(s, s->signals_seen + 1);
		if (s->deadline > 0 && now >= s->deadline && !s->draining)
			drain(s, "refresh.max_runtime reached");
		if (db_down_for(s, now) > cfg->database.outage_timeout_ms) {
			s->st->db_lost = 1;
			drain(s, "database unavailable for too long");
			if (upstream_in_flight(s->up) == 0)
				break;
		}
		/* Keep a batch ready beyond what is in flight, so starts never wait on a claim. */
		if (!s->draining && !s->exhausted && !s->claiming &&
		    s->ready.n < (size_t)cfg->refresh.concurrency && db_usable(s, now))
			claim(s);
		long next_wake = wake_waiting(s, now);
		long pace_wait = start_ready(s);
		int idle = upstream_in_flight(s->up) == 0 && s->ready.n == 0;
		renew_held(s, now);
		/* Every row has its outcome: the guard can tell now, and the held deletes go. */
		if (s->nheld > 0 && (s->exhausted || s->draining) && idle && s->waiting.n == 0 &&
		    !s->claiming)
			release_held(s);
		if (s->npending > 0 && s->nwriting == 0 && db_usable(s, now) &&
		    (s->npending >= FLUSH_BATCH || now - s->oldest_pending >= FLUSH_INTERVAL_MS ||
			(idle && (s->waiting.n == 0 || s->draining))))
			(void)flush(s);
		if (now >= s->next_progress)
			progress(s, now);
		if (finished(s))
			break;
		long timeout = LOOP_TICK_MS;
		if (next_wake >= 0 && next_wake < timeout)
			timeout = next_wake;
		if (pace_wait >= 0 && pace_wait < timeout)
			timeout = pace_wait;
		if (s->npending > 0 && s->nwriting == 0) {
			long flush_in = (long)(s->oldest_pending + FLUSH_INTERVAL_MS - now);
			if (s->db_down_since != 0)
				flush_in = (long)(s->next_db_try - now);
			if (flush_in < timeout)
				timeout = flush_in < 0 ? 0 : flush_in;
		}
		if (s->db_down_since != 0 && !s->claiming && s->next_db_try - now < timeout)
			timeout = s->next_db_try - now < 0 ? 0 : (long)(s->next_db_try - now);
		(void)loop_once(s->lp, timeout);
		struct upstream_done d;
		while (upstream_next(s->up, &d)) {
			handle_done(s, &d);
			upstream_done_clear(&d);
		}
	}
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
	s.started = now_ms();
	s.limit_now = cfg->refresh.concurrency;
	s.guarding = cfg->refresh.on_logout == ON_LOGOUT_DELETE && cfg->breaker.logout_min > 0;
	s.next_progress = s.started + (log_status_enabled() ? STATUS_INTERVAL_MS : PROGRESS_INTERVAL_MS);
	if (cfg->refresh.max_runtime_ms > 0)
		s.deadline = s.started + cfg->refresh.max_runtime_ms;
	s.lp = loop_new();
	s.up = s.lp != NULL ? upstream_new(cfg, s.lp) : NULL;
	if (s.up == NULL) {
		loop_free(s.lp);
		log_error("sweep", "cannot set up HTTP (libcurl)");
		return EXIT_CONFIG;
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

	/* A write still in flight (the database was lost) did not become durable. */
	requeue_writing(&s);
	release_held(&s); /* not deleted: counted with the other unwritten results */
	for (size_t i = 0; i < s.npending; i++) {
		struct result *r = s.pending[i];
		/* It happened, but is not durable: count it, and say what was lost. */
		stats->count[r->outcome]++;
		if (r->outcome == OUTCOME_REFRESHED)
			stats->unwritten++;
		row_free(r->row);
		result_free(r);
	}
	if (stats->unwritten > 0)
		log_error("db", "%ld issued tokens could not be written: those users must log in again",
		    stats->unwritten);
	free(s.pending);
	free(s.writing);
	free(s.held);
	for (size_t i = 0; i < s.nexclude; i++)
		free(s.exclude[i]);
	free(s.exclude);
	upstream_free(s.up);
	db_detach(db);
	loop_free(s.lp);
	stats->duration_ms = now_ms() - s.started;
	if (stats->db_lost)
		return EXIT_DATABASE;
	if (stats->stopped_by_signal)
		return EXIT_SIGNAL;
	return stats->count[OUTCOME_FAILED] > 0 || stats->breaker_open || stats->credentials_refused ||
		stats->mass_logout
	    ? EXIT_FAILED_ROWS
	    : EXIT_OK;
}
