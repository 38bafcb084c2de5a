/* envexpand.c - ${VAR} and ${VAR:-default} in config values: from the environment or as written. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "defaults.h"
#include "envexpand.h"
#include "strbuf.h"

/* Appends n bytes of s to b unless the value would pass CONFIG_MAX_VALUE_BYTES (then *too_long). */
static void add_capped(struct strbuf *b, int *too_long, const char *s, size_t n)
{
	if (*too_long)
		return;
	if (b->len + n > CONFIG_MAX_VALUE_BYTES) {
		*too_long = 1;
		return;
	}
	strbuf_put(b, s, n);
}

static int is_name_char(char c, int first)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
	    (!first && c >= '0' && c <= '9');
}

/* envexpand (file_text 0) and envexpand_file_text (file_text 1). */
static char *expand(const char *s, int file_text, char *err, size_t errlen)
{
	static const char mark = ENVEXPAND_MARK;
	struct strbuf b = { 0 };
	int too_long = 0;
	const char *p = s;
	char *name = NULL, *result = NULL;

	if (err == NULL)
		errlen = 0;
	else if (errlen > 0)
		err[0] = '\0';
	add_capped(&b, &too_long, "", 0);
	while (*p != '\0' && !b.oom && !too_long) {
		const char *q, *def = NULL, *close;
		const char *val;
		size_t nlen;

		if (p[0] != '$' || (p[1] != '$' && p[1] != '{')) {
			const char *dollar = strchr(p + 1, '$');
			size_t n = dollar ? (size_t)(dollar - p) : strlen(p);
			add_capped(&b, &too_long, p, n);
			p += n;
			continue;
		}
		if (p[1] == '$') {
			add_capped(&b, &too_long, "$", 1);
			p += 2;
			continue;
		}
		q = p + 2;
		while (is_name_char(*q, q == p + 2))
			q++;
		nlen = (size_t)(q - (p + 2));
		if (q[0] == ':' && q[1] == '-')
			def = q + 2;
		close = strchr(def ? def : q, '}');
		if (close == NULL) {
			(void)snprintf(err, errlen, "unterminated ${");
			goto out;
		}
		if (def != NULL) {
			const char *nested = strstr(def, "${");
			if (nested != NULL && nested < close) {
				(void)snprintf(err, errlen, "nested ${ in a ${VAR:-default} is not supported");
				goto out;
			}
		}
		if ((def == NULL && q != close) || nlen == 0) {
			(void)snprintf(err, errlen, "bad variable reference (use ${VAR} or ${VAR:-default})");
			goto out;
		}
		if (file_text) {
			if (def != NULL)
				add_capped(&b, &too_long, def, (size_t)(close - def));
			add_capped(&b, &too_long, &mark, 1);
			p = close + 1;
			continue;
		}
		name = strndup(p + 2, nlen);
		if (name == NULL) {
			b.oom = 1;
			break;
		}
		val = getenv(name);
		if (def != NULL && (val == NULL || *val == '\0'))
			add_capped(&b, &too_long, def, (size_t)(close - def));
		else if (val != NULL)
			add_capped(&b, &too_long, val, strlen(val));
		else {
			(void)snprintf(err, errlen, "${%.*s} is not set", CONFIG_ECHO_MAX, name);
			goto out;
		}
		free(name);
		name = NULL;
		p = close + 1;
	}
	if (b.oom) {
		(void)snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (too_long) {
		(void)snprintf(err, errlen, "longer than %d bytes after ${VAR} expansion",
		    CONFIG_MAX_VALUE_BYTES);
		goto out;
	}
	result = strbuf_take(&b); /* hand-off */
out:
	free(name);
	if (result == NULL)
		free(strbuf_take(&b));
	return result;
}

char *envexpand(const char *s, char *err, size_t errlen)
{
	return expand(s, 0, err, errlen);
}

char *envexpand_file_text(const char *s, char *err, size_t errlen)
{
	return expand(s, 1, err, errlen);
}
