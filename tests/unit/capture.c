/* capture.c - fd 2 redirected into a temp file while a test runs code, then read back. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <check.h>

#include "capture.h"

void capture_start(struct capture *c)
{
	c->f = tmpfile();
	ck_assert_ptr_nonnull(c->f);
	(void)fflush(stderr);
	c->saved = dup(STDERR_FILENO);
	ck_assert_int_ge(c->saved, 0);
	ck_assert_int_ge(dup2(fileno(c->f), STDERR_FILENO), 0);
}

char *capture_end(struct capture *c)
{
	long n;
	char *out;

	(void)fflush(stderr);
	ck_assert_int_ge(dup2(c->saved, STDERR_FILENO), 0);
	ck_assert_int_eq(close(c->saved), 0);
	ck_assert_int_eq(fseek(c->f, 0, SEEK_END), 0);
	n = ftell(c->f);
	ck_assert_int_ge(n, 0);
	rewind(c->f);
	out = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(out);
	ck_assert_uint_eq(fread(out, 1, (size_t)n, c->f), (size_t)n);
	out[n] = '\0';
	ck_assert_int_eq(fclose(c->f), 0);
	c->f = NULL;
	return out;
}
