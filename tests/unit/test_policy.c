/* test_policy.c - tables for the run's pure policies: retry budget and delay, breaker, in-flight limit, pacer, database backoff. */
#include <string.h>

#include "defaults.h"
#include "policy.h"
#include "suites.h"

/* Generous: CI runs the suite under sanitizers and valgrind, maybe on a loaded machine. */
#define TCASE_TIMEOUT_S 60

#define NELEM(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ---- retry budget: scheduled < max(RETRY_BUDGET_FLOOR, budget x first attempts) ---- */

struct budget_case {
	double budget;
	long first, scheduled;
	int want;
};

static const struct budget_case budget_cases[] = {
	{ 0.2, 0, 0, 1 }, /* nothing started yet: the floor allows */
	{ 0.2, 0, RETRY_BUDGET_FLOOR - 1, 1 },
	{ 0.2, 0, RETRY_BUDGET_FLOOR, 0 }, /* the floor used up */
	{ 0.0, 1000000, RETRY_BUDGET_FLOOR - 1, 1 }, /* budget 0 still has the floor */
	{ 0.0, 1000000, RETRY_BUDGET_FLOOR, 0 },
	{ 0.1, 1000, RETRY_BUDGET_FLOOR - 1, 1 }, /* budget x first == floor */
	{ 0.1, 1000, RETRY_BUDGET_FLOOR, 0 },
	{ 0.2, 1000, 199, 1 }, /* above the floor: 200 allowed */
	{ 0.2, 1000, 200, 0 },
	{ 0.2, 1001, 200, 1 }, /* 200.2 allowed: a fraction counts */
	{ MAX_RETRY_BUDGET, 50, 499, 1 },
	{ MAX_RETRY_BUDGET, 50, 500, 0 },
};

START_TEST(test_budget_table)
{
	const struct budget_case *c = &budget_cases[_i];
	struct retry_budget b = { c->budget, c->first, c->scheduled };

	ck_assert_int_eq(retry_budget_allows(&b), c->want);
	ck_assert_int_eq(b.scheduled, c->scheduled); /* asking takes nothing */
}
END_TEST

/* ---- what a transient answer leads to ---- */

struct decide_case {
	int draining, attempts, max_attempts;
	long first, scheduled; /* budget 0.2 */
	enum retry_decision want;
	long scheduled_after;
};

static const struct decide_case decide_cases[] = {
	{ 0, 1, 4, 0, 0, RETRY_AGAIN, 1 },
	{ 0, 3, 4, 0, 99, RETRY_AGAIN, 100 }, /* the last retry the floor allows */
	{ 0, 1, 4, 0, 100, RETRY_NO_BUDGET, 100 },
	{ 0, 1, 4, 1000, 200, RETRY_NO_BUDGET, 200 },
	{ 0, 4, 4, 0, 0, RETRY_EXHAUSTED, 0 },
	{ 0, 5, 4, 0, 0, RETRY_EXHAUSTED, 0 },
	{ 0, 1, 1, 0, 0, RETRY_EXHAUSTED, 0 }, /* retry.attempts 1: never retried */
	{ 0, 4, 4, 0, 100, RETRY_EXHAUSTED, 100 }, /* out of tries outranks out of budget */
	{ 1, 1, 4, 0, 0, RETRY_RELEASE, 0 }, /* draining outranks everything */
	{ 1, 4, 4, 0, 0, RETRY_RELEASE, 0 },
	{ 1, 1, 4, 0, 100, RETRY_RELEASE, 100 },
};

START_TEST(test_decide_table)
{
	const struct decide_case *c = &decide_cases[_i];
	struct retry_budget b = { 0.2, c->first, c->scheduled };

	ck_assert_int_eq(retry_decide(&b, c->draining, c->attempts, c->max_attempts), c->want);
	ck_assert_int_eq(b.scheduled, c->scheduled_after);
	ck_assert_int_eq(b.first_attempts, c->first);
}
END_TEST

/* ---- Retry-After versus the computed backoff ---- */

struct delay_case {
	long backoff, retry_after, max;
	long want;
};

static const struct delay_case delay_cases[] = {
	{ 700, -1, 30000, 700 }, /* no Retry-After: the backoff */
	{ 700, -5, 30000, 700 }, /* any negative is none */
	{ 700, 0, 30000, 0 }, /* "0" is honoured: retry now */
	{ 700, 5000, 30000, 5000 }, /* longer than the backoff: honoured */
	{ 7000, 5, 30000, 5 }, /* shorter: honoured too */
	{ 700, 29999, 30000, 29999 },
	{ 700, 30000, 30000, 30000 },
	{ 700, 120000, 30000, 30000 }, /* capped by retry.max_delay */
	{ 700, MAX_DURATION_MS, 30000, 30000 },
	{ 0, -1, 0, 0 },
	{ 0, 5000, 0, 0 }, /* max_delay 0: no wait at all */
};

START_TEST(test_delay_table)
{
	const struct delay_case *c = &delay_cases[_i];

	ck_assert_int_eq(retry_delay_choose(c->backoff, c->retry_after, c->max), c->want);
}
END_TEST

/* ---- circuit breaker ---- */

/* T transient, F failed, R refreshed, L logout. */
static enum answer_kind kind_of(char k)
{
	switch (k) {
	case 'T':
		return ANSWER_TRANSIENT;
	case 'F':
		return ANSWER_FAILED;
	case 'L':
		return ANSWER_LOGOUT;
	default:
		return ANSWER_REFRESHED;
	}
}

struct breaker_case {
	int window;
	const char *answers;
	int want_bad, want_tripped;
};

static const struct breaker_case breaker_cases[] = {
	{ 3, "", 0, 0 },
	{ 3, "TT", 2, 0 },
	{ 3, "TTF", 3, 1 }, /* transient and failed both count */
	{ 3, "TTFT", 4, 1 }, /* stays tripped past the window */
	{ 3, "TTR", 0, 0 }, /* a refreshed answer ends the run */
	{ 3, "FFL", 0, 0 }, /* so does a logout */
	{ 3, "FFLFF", 2, 0 },
	{ 2, "FRFF", 2, 1 },
	{ 1, "F", 1, 1 },
	{ 1, "R", 0, 0 },
	{ 0, "FFFFFFFF", 8, 0 }, /* window 0: off */
	{ 0, "", 0, 0 },
};

START_TEST(test_breaker_table)
{
	const struct breaker_case *c = &breaker_cases[_i];
	struct breaker b = { c->window, 0 };

	for (const char *p = c->answers; *p; p++)
		breaker_record(&b, kind_of(*p));
	ck_assert_int_eq(b.consecutive_bad, c->want_bad);
	ck_assert_int_eq(breaker_tripped(&b), c->want_tripped);
}
END_TEST

/* ---- adaptive in-flight limit ---- */

struct limit_case {
	int max, now;
	int transport_error;
	long status;
	char kind;
	int want;
};

static const struct limit_case limit_cases[] = {
	{ 32, 32, 0, 429, 'T', 16 }, /* slow down: halve */
	{ 32, 32, 0, 503, 'T', 16 },
	{ 32, 3, 0, 429, 'T', 1 },
	{ 32, 2, 0, 503, 'T', 1 },
	{ 32, 1, 0, 429, 'T', 1 }, /* never below 1 */
	{ 32, 16, 0, 429, 'R', 8 }, /* the status decides, whatever the profile made of it */
	{ 32, 16, 0, 500, 'T', 16 }, /* other transient statuses leave it */
	{ 32, 16, 0, 502, 'F', 16 },
	{ 32, 16, 1, 429, 'T', 16 }, /* a transport error: its status is no answer */
	{ 32, 16, 1, 0, 'F', 16 },
	{ 32, 16, 0, 200, 'R', 17 }, /* a success: one more */
	{ 32, 16, 0, 200, 'L', 17 },
	{ 32, 31, 0, 200, 'R', 32 },
	{ 32, 32, 0, 200, 'R', 32 }, /* never past refresh.concurrency */
	{ 1, 1, 0, 200, 'L', 1 },
};

START_TEST(test_limit_table)
{
	const struct limit_case *c = &limit_cases[_i];
	struct inflight_limit l = { c->max, c->now };

	inflight_limit_adapt(&l, c->transport_error, c->status, kind_of(c->kind));
	ck_assert_int_eq(l.now, c->want);
	ck_assert_int_eq(l.max, c->max);
}
END_TEST

/* ---- max_rate pacer: one call from a given state ---- */

struct pace_case {
	double rate;
	long long next, now;
	int throttled;
	long want; /* ms to wait, 0 = started */
	long long want_next;
	int want_throttled;
	long want_waits; /* from 0 */
};

static const struct pace_case pace_cases[] = {
	/* No rate: always allowed, nothing booked. */
	{ 0, 0, 1000000, 0, 0, 0, 0, 0 },
	{ -1, 5000000, 1000000, 0, 0, 5000000, 0, 0 },
	/* 10/s (gap 100 ms >= slack): the first start books the next 100 ms later. */
	{ 10, 0, 1000000, 0, 0, 1100000, 0, 0 },
	{ 10, 1100000, 1100000, 0, 0, 1200000, 0, 0 }, /* exactly due */
	{ 10, 1100000, 1300000, 0, 0, 1400000, 0, 0 }, /* late: counts from now, no burst */
	{ 10, 1100000, 1100000, 1, 0, 1200000, 0, 0 }, /* a start ends the throttled spell */
	/* Held back: the wait in ms, rounded up; a spell is counted once. */
	{ 10, 1100000, 1050000, 0, 50, 1100000, 1, 1 },
	{ 10, 1100000, 1050000, 1, 50, 1100000, 1, 0 },
	{ 10, 1000001, 1000000, 0, 1, 1000001, 1, 1 }, /* 1 us: 1 ms */
	{ 10, 1001000, 1000000, 0, 1, 1001000, 1, 1 },
	{ 10, 1001001, 1000000, 0, 2, 1001001, 1, 1 },
	/* 1000/s: gap 1000 us is not below the slack: no catch-up. */
	{ 1000, 1000000, 1000500, 0, 0, 1001500, 0, 0 },
	/* 5000/s (gap 200 us): catches up on at most PACE_SLACK_US (1000 us) of lag. */
	{ 5000, 1000000, 1000500, 0, 0, 1000200, 0, 0 }, /* 500 us behind: from the booked time */
	{ 5000, 1000000, 1001000, 0, 0, 1000200, 0, 0 }, /* 1000 us: still */
	{ 5000, 1000000, 1005000, 0, 0, 1004200, 0, 0 }, /* 5000 us: from now - 1000 us */
	{ 100000, 0, 5000, 0, 0, 4010, 0, 0 }, /* MAX_RATE: gap 10 us */
};

START_TEST(test_pace_table)
{
	const struct pace_case *c = &pace_cases[_i];
	struct pacer p = { c->rate, c->next, c->throttled, 0 };

	ck_assert_int_eq(pacer_admit(&p, c->now), c->want);
	ck_assert_int_eq(p.next_start_us, c->want_next);
	ck_assert_int_eq(p.throttled, c->want_throttled);
	ck_assert_int_eq(p.waits, c->want_waits);
}
END_TEST

/*
 * The pacer driven as the loop drives it: at every 1 ms tick, starts until it
 * says wait, for 10 s. With a gap of 1 ms or more it never passes max_rate in
 * any second (a gap that is no whole number of ticks waits for the next tick:
 * 333/s gives 250/s); with a shorter gap the slack keeps it from throttling to
 * ~1000/s, and lets it catch up on at most PACE_SLACK_US (1 ms) of lag, so a
 * second may hold rate/1000 starts more.
 */
struct pace_run_case {
	double rate;
	long min_per_s, max_per_s;
};

static const struct pace_run_case pace_run_cases[] = {
	{ 10, 10, 10 },
	{ 333, 250, 333 },
	{ 500, 500, 500 },
	{ 1000, 1000, 1000 },
	{ 2500, 2500, 2502 },
	{ 5000, 5000, 5005 },
	{ 100000, 100000, 100100 },
};

START_TEST(test_pace_run)
{
	const struct pace_run_case *c = &pace_run_cases[_i];
	struct pacer p = { c->rate, 0, 0, 0 };
	long per_s[10] = { 0 };

	for (long long t = 1000000; t < 11000000; t += 1000) {
		while (pacer_admit(&p, t) == 0)
			per_s[(t - 1000000) / 1000000]++;
	}
	for (int s = 0; s < 10; s++) {
		ck_assert_int_ge(per_s[s], c->min_per_s);
		ck_assert_int_le(per_s[s], c->max_per_s);
	}
}
END_TEST

/* ---- database outage backoff ---- */

struct outage_fail_case {
	long long since, backoff; /* before */
	long long now;
	int want_began;
	long long want_since, want_backoff, want_next;
};

static const struct outage_fail_case outage_fail_cases[] = {
	{ 0, 0, 1000, 1, 1000, DB_RETRY_MIN_MS, 1000 + DB_RETRY_MIN_MS }, /* begins */
	{ 1000, 100, 1100, 0, 1000, 200, 1300 }, /* doubles */
	{ 1000, 2500, 9000, 0, 1000, 5000, 14000 }, /* reaches the cap exactly */
	{ 1000, 4000, 9000, 0, 1000, DB_RETRY_MAX_MS, 9000 + DB_RETRY_MAX_MS }, /* 8000: capped */
	{ 1000, DB_RETRY_MAX_MS, 9000, 0, 1000, DB_RETRY_MAX_MS, 9000 + DB_RETRY_MAX_MS },
};

START_TEST(test_outage_fail_table)
{
	const struct outage_fail_case *c = &outage_fail_cases[_i];
	struct db_outage o = { c->since, 0, (long)c->backoff };

	ck_assert_int_eq(db_outage_failed(&o, c->now), c->want_began);
	ck_assert_int_eq(o.down_since, c->want_since);
	ck_assert_int_eq(o.backoff_ms, c->want_backoff);
	ck_assert_int_eq(o.next_try, c->want_next);
}
END_TEST

/* A run of failures from the first: 100, 200, ... up to 5000 ms, then 5000 ms on. */
START_TEST(test_outage_sequence)
{
	static const long steps[] = { 100, 200, 400, 800, 1600, 3200, 5000, 5000 };
	struct db_outage o;
	long long now = 50000;

	memset(&o, 0, sizeof(o));
	for (int i = 0; i < NELEM(steps); i++) {
		ck_assert_int_eq(db_outage_failed(&o, now), i == 0);
		ck_assert_int_eq(o.backoff_ms, steps[i]);
		ck_assert_int_eq(db_outage_usable(&o, now), 0);
		ck_assert_int_eq(db_outage_wait_ms(&o, now), steps[i]);
		now = o.next_try;
		ck_assert_int_eq(db_outage_usable(&o, now), 1);
	}
	ck_assert_int_eq(db_outage_ok(&o, now + 7), now + 7 - 50000);
	ck_assert_int_eq(o.down_since, 0);
	ck_assert_int_eq(o.backoff_ms, 0);
	ck_assert_int_eq(db_outage_ok(&o, now + 8), -1);
	ck_assert_int_eq(db_outage_failed(&o, now + 9), 1); /* a new outage starts from the minimum */
	ck_assert_int_eq(o.backoff_ms, DB_RETRY_MIN_MS);
}
END_TEST

/* The outage's state at now: ok, usable, wait. */
struct outage_state_case {
	long long since, next_try, now;
	long long want_ok; /* what db_outage_ok returns */
	int want_usable;
	long want_wait;
};

static const struct outage_state_case outage_state_cases[] = {
	{ 0, 0, 1000, -1, 1, -1 }, /* fine */
	{ 0, 9000, 1000, -1, 1, -1 }, /* a stale next_try does not matter */
	{ 1000, 1300, 1000, 0, 0, 300 }, /* down for 0 ms */
	{ 1000, 1300, 1299, 299, 0, 1 },
	{ 1000, 1300, 1300, 300, 1, 0 }, /* the backoff is over */
	{ 1000, 1300, 3500, 2500, 1, 0 },
};

START_TEST(test_outage_state_table)
{
	const struct outage_state_case *c = &outage_state_cases[_i];
	struct db_outage o = { c->since, c->next_try, 100 };

	ck_assert_int_eq(db_outage_usable(&o, c->now), c->want_usable);
	ck_assert_int_eq(db_outage_wait_ms(&o, c->now), c->want_wait);
	ck_assert_int_eq(db_outage_ok(&o, c->now), c->want_ok);
	ck_assert_int_eq(o.down_since, 0);
	ck_assert_int_eq(o.backoff_ms, 0);
	ck_assert_int_eq(db_outage_usable(&o, c->now), 1);
	ck_assert_int_eq(db_outage_wait_ms(&o, c->now), -1);
}
END_TEST

/* How long the database has been unusable: failing, or a statement stalled over DB_STALL_MS. */
struct down_case {
	long long since, stalled, now;
	long long want;
};

static const struct down_case down_cases[] = {
	{ 0, 0, 10000, 0 }, /* fine, nothing in flight */
	{ 1000, 0, 10000, 9000 }, /* failing since 1000 */
	{ 0, 2000, 2000 + DB_STALL_MS, 0 }, /* in flight DB_STALL_MS: not yet an outage */
	{ 0, 2000, 2001 + DB_STALL_MS, DB_STALL_MS + 1 }, /* stalled: counts from its send */
	{ 5000, 1000, 20000, 19000 }, /* stalled before the failures began: the earlier */
	{ 1000, 5000, 20000, 19000 }, /* stalled after: the failures count */
	{ 1000, 1000, 20000, 19000 },
	{ 3000, 1000, 5500, 2500 }, /* stalled, but not for DB_STALL_MS */
};

START_TEST(test_down_table)
{
	const struct down_case *c = &down_cases[_i];
	struct db_outage o = { c->since, 0, 0 };

	ck_assert_int_eq(db_outage_down_for(&o, c->stalled, c->now), c->want);
}
END_TEST

Suite *policy_suite(void)
{
	Suite *s = suite_create("policy");
	TCase *tc = tcase_create("retry");
	tcase_set_timeout(tc, TCASE_TIMEOUT_S);
	tcase_add_loop_test(tc, test_budget_table, 0, NELEM(budget_cases));
	tcase_add_loop_test(tc, test_decide_table, 0, NELEM(decide_cases));
	tcase_add_loop_test(tc, test_delay_table, 0, NELEM(delay_cases));
	suite_add_tcase(s, tc);
	tc = tcase_create("breaker");
	tcase_set_timeout(tc, TCASE_TIMEOUT_S);
	tcase_add_loop_test(tc, test_breaker_table, 0, NELEM(breaker_cases));
	suite_add_tcase(s, tc);
	tc = tcase_create("inflight_limit");
	tcase_set_timeout(tc, TCASE_TIMEOUT_S);
	tcase_add_loop_test(tc, test_limit_table, 0, NELEM(limit_cases));
	suite_add_tcase(s, tc);
	tc = tcase_create("pacer");
	tcase_set_timeout(tc, TCASE_TIMEOUT_S);
	tcase_add_loop_test(tc, test_pace_table, 0, NELEM(pace_cases));
	tcase_add_loop_test(tc, test_pace_run, 0, NELEM(pace_run_cases));
	suite_add_tcase(s, tc);
	tc = tcase_create("db_outage");
	tcase_set_timeout(tc, TCASE_TIMEOUT_S);
	tcase_add_loop_test(tc, test_outage_fail_table, 0, NELEM(outage_fail_cases));
	tcase_add_test(tc, test_outage_sequence);
	tcase_add_loop_test(tc, test_outage_state_table, 0, NELEM(outage_state_cases));
	tcase_add_loop_test(tc, test_down_table, 0, NELEM(down_cases));
	suite_add_tcase(s, tc);
	return s;
}
