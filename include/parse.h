/* parse.h - bounded parsers for numbers, durations and shard specs (no I/O). */
#ifndef REFRESHER_PARSE_H
#define REFRESHER_PARSE_H

/*
 * All return 0 on success and -1 on any malformed or out-of-range input,
 * leaving *out untouched on failure. Leading/trailing space is not allowed.
 */

/* Decimal integer in [min, max]; no sign other than a leading '-', no junk. */
int parse_long(const char *s, long min, long max, long *out)
    __attribute__((warn_unused_result));

/* Decimal number (e.g. "0.2", "10") in [min, max], finite. */
int parse_double(const char *s, double min, double max, double *out)
    __attribute__((warn_unused_result));

/*
 * Duration: one or more <digits><unit> with unit ms, s, m, h, d, e.g. "500ms",
 * "15s", "1h30m"; a bare "0" is 0. Result in milliseconds, at most
 * MAX_DURATION_MS.
 */
int parse_duration_ms(const char *s, long *out)
    __attribute__((warn_unused_result));

/* Shard "I/N" with 1 <= N <= 65536 and 0 <= I < N. */
int parse_shard(const char *s, int *index, int *count)
    __attribute__((warn_unused_result));

/* A name and the value it stands for; a table of them ends with a NULL name. */
struct name_value {
	const char *name;
	int value;
};

/* Looks s up in table, exactly (case matters). Returns 0 with *out, or -1. */
int parse_name(const char *s, const struct name_value *table, int *out)
    __attribute__((warn_unused_result));

/* Formats ms as a duration string ("1h30m", "500ms", "0s") into buf. */
char *format_duration(char *buf, unsigned long size, long ms);

#endif
