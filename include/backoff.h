/* backoff.h - retry delays: exponential backoff with full jitter, Retry-After parsing. */
#ifndef REFRESHER_BACKOFF_H
#define REFRESHER_BACKOFF_H

#include <stdint.h>
#include <time.h>

/*
 * Delay before retry number `retry` (1 = the first retry): a uniformly random
 * value in [0, min(max_ms, base_ms * 2^(retry-1))] drawn from *rng
 * (xorshift state, never 0). Never overflows, never negative.
 */
long backoff_delay_ms(int retry, long base_ms, long max_ms, uint64_t *rng);

/* Next pseudo-random number from a xorshift64 state (state must not be 0). */
uint64_t backoff_rand(uint64_t *state);

/*
 * Parses a Retry-After value: delta-seconds ("120") or an IMF-fixdate
 * ("Wed, 21 Oct 2015 07:28:00 GMT", relative to now). Returns the delay in ms
 * (0 for a date in the past), or -1 when unparseable. Values are capped at
 * MAX_DURATION_MS before any arithmetic.
 */
long retry_after_ms(const char *value, time_t now);

#endif
