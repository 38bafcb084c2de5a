/* fuzz.h - what the libFuzzer harnesses of tests/fuzz/ share: entry points, input copies, checks. */
#ifndef REFRESHER_FUZZ_H
#define REFRESHER_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "defaults.h"

/* libFuzzer's entry points (declared here for -Wmissing-prototypes). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* An invariant of the code under test; a broken one aborts, which libFuzzer reports as a crash
 * and saves the input. */
#define FUZZ_ASSERT(cond)                                                                  \
	do {                                                                               \
		if (!(cond)) {                                                             \
			fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                           \
		}                                                                          \
	} while (0)

/*
 * A heap copy of data[0..size): with nul, NUL-terminated; without, exactly size bytes (at
 * least 1 allocated), so that AddressSanitizer catches a read past the length the callee was
 * given. Aborts on OOM. Caller frees.
 */
static inline char *fuzz_copy(const uint8_t *data, size_t size, int nul)
{
	char *p = malloc(size + (nul ? 1 : 0) + (size == 0 && !nul ? 1 : 0));

	FUZZ_ASSERT(p != NULL);
	if (size > 0)
		memcpy(p, data, size);
	if (nul)
		p[size] = '\0';
	return p;
}

/* 1 when s is a token the table may store: 1..MAX_TOKEN_BYTES of 0x20..0x7E (SPEC). */
static inline int fuzz_token_ok(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > MAX_TOKEN_BYTES)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7E)
			return 0;
	return 1;
}

/* 1 when s is one printable line: no byte below 0x20 and no DEL. */
static inline int fuzz_one_line(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7F)
			return 0;
	return 1;
}

#endif
