/* form.c - application/x-www-form-urlencoded encoding of name=value pairs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "form.h"

/* 1 when c is sent as itself: ALPHA / DIGIT / "-._*" (the WHATWG urlencoded set). */
static int form_keep(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    c == '-' || c == '.' || c == '_' || c == '*';
}

/* Encoded length of s: 1 per kept byte or space, 3 per %XX. */
static size_t form_encoded_len(const char *s)
{
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
		n += (form_keep(*p) || *p == ' ') ? 1 : 3;
	return n;
}

/* Writes the encoding of s at out; returns the byte after it. */
static char *form_encode(char *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (form_keep(*p))
			*out++ = (char)*p;
		else if (*p == ' ')
			*out++ = '+';
		else {
			*out++ = '%';
			*out++ = hex[*p >> 4];
			*out++ = hex[*p & 0x0F];
		}
	}
	return out;
}

char *form_escape(const char *s)
{
	if (s == NULL)
		s = "";
	if (strlen(s) > SIZE_MAX / 4)
		return NULL;
	char *out = malloc(form_encoded_len(s) + 1);
	if (out == NULL)
		return NULL;
	*form_encode(out, s) = '\0';
	return out;
}

/* See form.h. A NULL name or value is encoded as "". */
int form_append(char **buf, const char *name, const char *value)
{
	size_t old, nlen, vlen, amp, total;
	char *p;

	if (buf == NULL)
		return -1;
	if (name == NULL)
		name = "";
	if (value == NULL)
		value = "";
	old = *buf != NULL ? strlen(*buf) : 0;
	/* Encoding at most triples a string; refuse sizes that would overflow. */
	if (strlen(name) > SIZE_MAX / 8 || strlen(value) > SIZE_MAX / 8 || old > SIZE_MAX / 4)
		goto fail;
	nlen = form_encoded_len(name);
	vlen = form_encoded_len(value);
	amp = old > 0 ? 1 : 0;
	total = old + amp + nlen + 1 + vlen + 1;
	p = realloc(*buf, total);
	if (p == NULL)
		goto fail;
	*buf = p;
	p += old;
	if (amp)
		*p++ = '&';
	p = form_encode(p, name);
	*p++ = '=';
	p = form_encode(p, value);
	*p = '\0';
	return 0;
fail:
	free(*buf);
	*buf = NULL;
	return -1;
}
