/* policy.c - the run's pure policies (retry, breaker, in-flight limit, pacer, database backoff; no I/O). */
#include "defaults.h"
#include "policy.h"

/*
 * The pacer may catch up on this much lag (us) when its gap is below the
 * loop's 1 ms granularity: else a high refresh.max_rate would throttle to
 * about 1000 starts per second.
 */
#define PACE_SLACK_US 1000

int retry_budget_allows(const struct retry_budget *b)
{
	double allowed = b->budget * (double)b->first_attempts;

	if (allowed < RETRY_BUDGET_FLOOR)
		allowed = RETRY_BUDGET_FLOOR;
	return (double)b->scheduled < allowed;
}

enum retry_decision retry_decide(struct retry_budget *b, int draining, int attempts,
    int max_attempts)
{
	if (draining)
		return RETRY_RELEASE;
	if (attempts >= max_attempts)
		return RETRY_EXHAUSTED;
	if (!retry_budget_allows(b))
		return RETRY_NO_BUDGET;
	b->scheduled++;
	return RETRY_AGAIN;
}

long retry_delay_choose(long backoff_ms, long retry_after_ms, long max_delay_ms)
{
	if (retry_after_ms < 0)
		return backoff_ms;
	return retry_after_ms < max_delay_ms ? retry_after_ms : max_delay_ms;
}

void breaker_record(struct breaker *b, enum answer_kind kind)
{
	if (kind == ANSWER_TRANSIENT || kind == ANSWER_FAILED)
		b->consecutive_bad++;
	else
		b->consecutive_bad = 0;
}

int breaker_tripped(const struct breaker *b)
{
	return b->window > 0 && b->consecutive_bad >= b->window;
}

void inflight_limit_adapt(struct inflight_limit *l, int transport_error, long status,
    enum answer_kind kind)
{
	if (!transport_error && (status == 429 || status == 503))
		l->now = l->now > 1 ? l->now / 2 : 1;
	else if ((kind == ANSWER_REFRESHED || kind == ANSWER_LOGOUT) && l->now < l->max)
		l->now++;
}

long pacer_admit(struct pacer *p, long long now_us)
{
	if (p->rate <= 0)
		return 0;
	if (now_us < p->next_start_us) {
		if (!p->throttled)
			p->waits++;
		p->throttled = 1;
		/* Rounded up: next_start_us - now_us >= 1, so at least 1 ms. */
		return (long)((p->next_start_us - now_us + 999) / 1000);
	}
	/*
	 * Spaced 1/rate from the previous start. A gap shorter than
	 * PACE_SLACK_US may catch up on at most PACE_SLACK_US of lag; a longer
	 * gap counts from the actual start: never more than max_rate in any
	 * second.
	 */
	long long gap = (long long)(1e6 / p->rate);
	long long slack = gap < PACE_SLACK_US ? PACE_SLACK_US : 0;
	long long base = p->next_start_us > now_us - slack ? p->next_start_us : now_us - slack;
	p->next_start_us = base + gap;
	p->throttled = 0;
	return 0;
}

int db_outage_failed(struct db_outage *o, long long now)
{
	int began = o->down_since == 0;

	if (began) {
		o->down_since = now;
		o->backoff_ms = DB_RETRY_MIN_MS;
	} else {
		o->backoff_ms = o->backoff_ms * 2 > DB_RETRY_MAX_MS ? DB_RETRY_MAX_MS : o->backoff_ms * 2;
	}
	o->next_try = now + o->backoff_ms;
	return began;
}

long long db_outage_ok(struct db_outage *o, long long now)
{
	long long lasted = o->down_since != 0 ? now - o->down_since : -1;

	o->down_since = 0;
	o->backoff_ms = 0;
	return lasted;
}

int db_outage_usable(const struct db_outage *o, long long now)
{
	return o->down_since == 0 || now >= o->next_try;
}

long db_outage_wait_ms(const struct db_outage *o, long long now)
{
	if (o->down_since == 0)
		return -1;
	return o->next_try > now ? (long)(o->next_try - now) : 0;
}

long long db_outage_down_for(const struct db_outage *o, long long stalled_since, long long now)
{
	long long since = o->down_since;

	if (stalled_since != 0 && now - stalled_since > DB_STALL_MS &&
	    (since == 0 || stalled_since < since))
		since = stalled_since;
	return since == 0 ? 0 : now - since;
}
