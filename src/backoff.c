/* backoff.c - retry delays: exponential backoff with full jitter, Retry-After parsing (no I/O). */
#include <string.h>
#include <time.h>

#include "backoff.h"
#include "defaults.h"

/* Any non-zero seed will do; used when a caller hands in a zero state. */
#define BACKOFF_FALLBACK_SEED 0x9E3779B97F4A7C15ULL

/* xorshift64 (Marsaglia 2003, shifts 13/7/17); a zero state is reseeded, never stuck at 0. */
uint64_t backoff_rand(uint64_t *state)
{
	uint64_t x = *state;

	if (x == 0)
		x = BACKOFF_FALLBACK_SEED;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*state = x;
	return x;
}

/*
 * The ceiling min(max_ms, base_ms * 2^(retry-1)) without overflow: retry < 1
 * counts as 1, negative bases and maxima as 0.
 */
static long backoff_cap_ms(int retry, long base_ms, long max_ms)
{
	long cap;

	if (base_ms <= 0 || max_ms <= 0)
		return 0;
	if (retry < 1)
		retry = 1;
	cap = base_ms < max_ms ? base_ms : max_ms;
	/* Double at most retry-1 times; stop as soon as max_ms is reached. */
	for (int i = 1; i < retry && cap < max_ms; i++)
		cap = cap > max_ms / 2 ? max_ms : cap * 2;
	return cap;
}

/* See backoff.h. rng NULL or pointing at 0 is tolerated (a fixed seed is used). */
long backoff_delay_ms(int retry, long base_ms, long max_ms, uint64_t *rng)
{
	static uint64_t fallback = BACKOFF_FALLBACK_SEED;
	long cap = backoff_cap_ms(retry, base_ms, max_ms);
	uint64_t r = backoff_rand(rng != NULL ? rng : &fallback);

	/* cap <= LONG_MAX, so cap + 1 fits in uint64_t and the result in long. */
	return (long)(r % ((uint64_t)cap + 1));
}

/* 1 for optional whitespace around a header value. */
static int is_ows(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* See backoff.h. Surrounding whitespace (including a stray CRLF) is ignored. */
long retry_after_ms(const char *value, time_t now)
{
	const long max_s = MAX_DURATION_MS / 1000;
	char date[64];
	const char *b, *e, *end;
	size_t n;
	struct tm tm;
	time_t t;
	long secs;

	if (value == NULL)
		return -1;
	b = value;
	while (is_ows(*b))
		b++;
	e = b + strlen(b);
	while (e > b && is_ows(e[-1]))
		e--;
	n = (size_t)(e - b);
	if (n == 0)
		return -1;

	if (b[0] >= '0' && b[0] <= '9') {
		secs = 0;
		for (const char *p = b; p < e; p++) {
			if (*p < '0' || *p > '9')
				return -1;
			/* Saturate before multiplying: no overflow on 10^30. */
			if (secs < max_s)
				secs = secs * 10 + (*p - '0');
			if (secs > max_s)
				secs = max_s;
		}
		return secs * 1000;
	}

	/* "Wed, 21 Oct 2015 07:28:00 GMT" is 29 bytes; anything much longer is not a date. */
	if (n >= sizeof date)
		return -1;
	memcpy(date, b, n);
	date[n] = '\0';
	memset(&tm, 0, sizeof tm);
	end = strptime(date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (end == NULL || *end != '\0')
		return -1;
	t = timegm(&tm);
	/* timegm's -1 is 1969-12-31T23:59:59 or an unrepresentable year: both past or absurd. */
	if (t == (time_t)-1 || t <= now)
		return 0;
	/* Real clocks and 64-bit time_t: t - now (> 0) cannot overflow. */
	if (t - now > (time_t)max_s)
		return max_s * 1000;
	return (long)(t - now) * 1000;
}
