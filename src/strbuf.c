/* strbuf.c - a growable string for building text; running out of memory sticks and drops the result. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

/* First allocation; doubled as needed. */
#define STRBUF_MIN_CAP 64

/* Makes room for n more bytes and the NUL; 0, or -1 (oom set). */
static int strbuf_grow(struct strbuf *b, size_t n)
{
	if (b->oom)
		return -1;
	if (n >= SIZE_MAX / 2 - b->len) {
		b->oom = 1;
		return -1;
	}
	if (b->len + n + 1 <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : STRBUF_MIN_CAP;
	while (cap < b->len + n + 1)
		cap *= 2;
	char *p = realloc(b->p, cap);
	if (p == NULL) {
		b->oom = 1;
		return -1;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

void strbuf_put(struct strbuf *b, const char *s, size_t n)
{
	if (strbuf_grow(b, n) != 0)
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void strbuf_puts(struct strbuf *b, const char *s)
{
	strbuf_put(b, s, strlen(s));
}

void strbuf_printf(struct strbuf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = 1;
		return;
	}
	if (strbuf_grow(b, (size_t)n) != 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

char *strbuf_take(struct strbuf *b)
{
	char *s = b->oom ? NULL : b->p;
	if (b->oom)
		free(b->p);
	else if (s == NULL)
		s = strdup("");
	memset(b, 0, sizeof(*b));
	return s;
}
