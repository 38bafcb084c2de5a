/* parse.c - bounded parsers for numbers, durations and shard specs (no I/O). */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "defaults.h"
#include "parse.h"

/* Largest integer a double holds exactly (2^53). */
#define EXACT_DOUBLE_MAX (UINT64_C(1) << 53)
/* Powers of ten up to 1e22 are exact doubles. */
#define EXACT_POW10_MAX 22

/* Duration units, largest first. */
static const struct duration_unit {
	const char *name;
	size_t len;
	long ms;
} duration_units[] = {
	{ "d", 1, 24L * 60 * 60 * 1000 },
	{ "h", 1, 60L * 60 * 1000 },
	{ "m", 1, 60L * 1000 },
	{ "s", 1, 1000L },
	{ "ms", 2, 1L },
};
#define NUNITS (sizeof duration_units / sizeof duration_units[0])

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * strtol alone would accept leading space, '+', and stop at junk; the
 * explicit first-byte check plus errno/endptr/range checks close all of that.
 */
int parse_long(const char *s, long min, long max, long *out)
{
	const char *p = s;
	char *end = NULL;
	long v;

	if (s == NULL || min > max)
		return -1;
	if (*p == '-')
		p++;
	if (!is_digit(*p))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0')
		return -1;
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/*
 * Parsed by hand rather than with strtod, which follows LC_NUMERIC and would
 * read "0,2" or refuse "0.2" under some locales. The digits form an integer
 * mantissa below 2^53 and the scale is an exact power of ten, so the one
 * division is correctly rounded: the same double strtod gives in "C".
 * Exponents, "inf", "nan", hex and '+' are refused.
 */
int parse_double(const char *s, double min, double max, double *out)
{
	const char *p = s;
	uint64_t mant = 0;
	int digits = 0, frac = 0, dot = 0, neg = 0;
	double v, scale = 1.0;

	if (s == NULL || !(min <= max))
		return -1;
	if (*p == '-') {
		neg = 1;
		p++;
	}
	for (; *p != '\0'; p++) {
		if (*p == '.') {
			if (dot)
				return -1;
			dot = 1;
			continue;
		}
		if (!is_digit(*p))
			return -1;
		unsigned d = (unsigned)(*p - '0');
		if (mant > (EXACT_DOUBLE_MAX - d) / 10)
			return -1;
		mant = mant * 10 + d;
		digits++;
		if (dot && ++frac > EXACT_POW10_MAX)
			return -1;
	}
	if (digits == 0)
		return -1;
	for (int i = 0; i < frac; i++)
		scale *= 10.0;
	v = (double)mant / scale;
	if (neg)
		v = -v;
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/*
 * Groups must come in strictly decreasing unit order ("1h30m", not "30m1h"
 * or "1m1m"): a repeated or reversed unit is far more likely a typo than
 * intent. Every step is checked against MAX_DURATION_MS before it is taken.
 */
int parse_duration_ms(const char *s, long *out)
{
	const char *p = s;
	long total = 0, last_unit = 0;

	if (s == NULL || *s == '\0')
		return -1;
	if (strcmp(s, "0") == 0) {
		*out = 0;
		return 0;
	}
	while (*p != '\0') {
		const struct duration_unit *u = NULL;
		long n = 0;

		if (!is_digit(*p))
			return -1;
		for (; is_digit(*p); p++) {
			long d = *p - '0';
			if (n > (MAX_DURATION_MS - d) / 10)
				return -1;
			n = n * 10 + d;
		}
		/* The longest matching name wins: "ms" over "m". */
		for (size_t i = 0; i < NUNITS; i++) {
			if (strncmp(p, duration_units[i].name, duration_units[i].len) == 0 &&
			    (u == NULL || duration_units[i].len > u->len))
				u = &duration_units[i];
		}
		if (u == NULL)
			return -1;
		if (last_unit != 0 && u->ms >= last_unit)
			return -1;
		if (n > (MAX_DURATION_MS - total) / u->ms)
			return -1;
		total += n * u->ms;
		last_unit = u->ms;
		p += u->len;
	}
	*out = total;
	return 0;
}

/* Both parts are plain digits: no sign, no space. */
int parse_shard(const char *s, int *index, int *count)
{
	char ibuf[16];
	const char *slash;
	size_t ilen;
	long i, n;

	if (s == NULL || (slash = strchr(s, '/')) == NULL)
		return -1;
	ilen = (size_t)(slash - s);
	if (ilen == 0 || ilen >= sizeof ibuf)
		return -1;
	memcpy(ibuf, s, ilen);
	ibuf[ilen] = '\0';
	if (!is_digit(ibuf[0]) || !is_digit(slash[1]))
		return -1;
	if (parse_long(slash + 1, 1, MAX_SHARD_COUNT, &n) != 0)
		return -1;
	if (parse_long(ibuf, 0, n - 1, &i) != 0)
		return -1;
	*index = (int)i;
	*count = (int)n;
	return 0;
}

/*
 * Writes ms as units from days down to milliseconds, skipping zero parts:
 * 5400000 -> "1h30m", 500 -> "500ms", 0 -> "0s"; negative values get a '-'.
 * Truncates to fit; always NUL-terminates when size >= 1. Returns buf.
 */
int parse_name(const char *s, const struct name_value *table, int *out)
{
	for (const struct name_value *e = table; e->name != NULL; e++) {
		if (strcmp(e->name, s) == 0) {
			*out = e->value;
			return 0;
		}
	}
	return -1;
}

char *format_duration(char *buf, unsigned long size, long ms)
{
	unsigned long long rest;
	size_t used = 0;

	if (buf == NULL || size == 0)
		return buf;
	buf[0] = '\0';
	if (ms == 0) {
		(void)snprintf(buf, size, "0s");
		return buf;
	}
	/* -(LONG_MIN) overflows a long; do the negation unsigned. */
	rest = ms < 0 ? 0ULL - (unsigned long long)ms : (unsigned long long)ms;
	if (ms < 0) {
		(void)snprintf(buf, size, "-");
		used = 1;
	}
	for (size_t i = 0; i < NUNITS; i++) {
		const struct duration_unit *u = &duration_units[i];
		unsigned long long n = rest / (unsigned long long)u->ms;
		int w;

		if (n == 0)
			continue;
		rest -= n * (unsigned long long)u->ms;
		if (used >= size)
			break;
		w = snprintf(buf + used, size - used, "%llu%s", n, u->name);
		if (w < 0 || (size_t)w >= size - used) {
			buf[used] = '\0'; /* drop a half-written part */
			break;
		}
		used += (size_t)w;
	}
	return buf;
}
