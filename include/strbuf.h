/* strbuf.h - a growable string for building text; running out of memory sticks and drops the result. */
#ifndef REFRESHER_STRBUF_H
#define REFRESHER_STRBUF_H

#include <stddef.h>

/* Zero-initialise ({0}); the text is NUL-terminated whenever p is not NULL. */
struct strbuf {
	char *p;
	size_t len, cap;
	int oom; /* an append failed: every later one is a no-op, strbuf_take gives NULL */
};

/* Appends n bytes of s. */
void strbuf_put(struct strbuf *b, const char *s, size_t n);
/* Appends the C string s. */
void strbuf_puts(struct strbuf *b, const char *s);
/* Appends printf output. */
void strbuf_printf(struct strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * The text built, handed to the caller (who frees it), or NULL when memory
 * ran out; "" when nothing was appended. b is empty again afterwards.
 */
char *strbuf_take(struct strbuf *b);

#endif
