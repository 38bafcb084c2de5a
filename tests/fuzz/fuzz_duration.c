/* fuzz_duration.c - libFuzzer harness: parse_duration_ms and its format_duration round trip, plus
 * the other bounded parsers of hostile text (parse_long, parse_shard, Retry-After). */
#include <limits.h>
#include <stdlib.h>

#include "backoff.h"
#include "defaults.h"
#include "fuzz.h"
#include "parse.h"

/* A fixed "now" for Retry-After dates: 2026-11-22T21:00:00Z. */
#define FUZZ_NOW ((time_t)1795381200)

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_copy(data, size, 1);
	char buf[64], small[5];
	long ms = -7, again = -7, l = -7, ra;
	int idx = -7, cnt = -7;

	if (parse_duration_ms(s, &ms) == 0) {
		FUZZ_ASSERT(ms >= 0 && ms <= MAX_DURATION_MS);
		/* The canonical form parses back to the same value. */
		format_duration(buf, sizeof buf, ms);
		if (parse_duration_ms(buf, &again) != 0)
			fprintf(stderr, "'%s' -> %ld ms -> '%s' does not parse\n", s, ms, buf);
		FUZZ_ASSERT(parse_duration_ms(buf, &again) == 0);
		FUZZ_ASSERT(again == ms || (ms == 0 && again == 0));
		/* A too-small buffer is cut, never overrun, always terminated. */
		format_duration(small, sizeof small, ms);
		FUZZ_ASSERT(memchr(small, '\0', sizeof small) != NULL);
	} else
		FUZZ_ASSERT(ms == -7); /* untouched on failure */

	if (parse_long(s, -1000, 1000, &l) == 0)
		FUZZ_ASSERT(l >= -1000 && l <= 1000);
	else
		FUZZ_ASSERT(l == -7);
	if (parse_shard(s, &idx, &cnt) == 0)
		FUZZ_ASSERT(cnt >= 1 && cnt <= MAX_SHARD_COUNT && idx >= 0 && idx < cnt);
	else
		FUZZ_ASSERT(idx == -7 && cnt == -7);

	ra = retry_after_ms(s, FUZZ_NOW);
	FUZZ_ASSERT(ra >= -1 && ra <= MAX_DURATION_MS);

	/* Any value, negative and extreme ones too, formats without overrun. */
	if (size >= sizeof(long)) {
		long v;

		memcpy(&v, data, sizeof v);
		format_duration(buf, sizeof buf, v);
		FUZZ_ASSERT(memchr(buf, '\0', sizeof buf) != NULL);
	}
	free(s);
	return 0;
}
