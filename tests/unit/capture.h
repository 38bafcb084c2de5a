/* capture.h - fd 2 redirected into a temp file while a test runs code, then read back. */
#ifndef REFRESHER_TEST_CAPTURE_H
#define REFRESHER_TEST_CAPTURE_H

#include <stdio.h>

/* One capture in progress; lives on the test's stack between start and end. */
struct capture {
	FILE *f;   /* the temp file fd 2 points at */
	int saved; /* the original fd 2 */
};

/* Flushes stderr, then points fd 2 at a new temp file until capture_end. Fails the test on error. */
void capture_start(struct capture *c);

/*
 * Flushes stderr, puts fd 2 back, and returns everything written to it since
 * capture_start, NUL-terminated (caller frees). Fails the test on error.
 */
char *capture_end(struct capture *c);

#endif
