/* confdiag.c - config diagnostics: the error list, values echoed safely, "did you mean". */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confdiag.h"
#include "defaults.h"
#include "log.h"

void errlist_add(struct errlist *errs, const char *fmt, ...)
{
	va_list ap;
	char *msg = NULL;
	char **grown;
	int r;

	if (errs == NULL || errs->n >= CONFIG_MAX_ERRORS)
		return;
	va_start(ap, fmt);
	r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (r < 0)
		return;
	grown = realloc(errs->msgs, (errs->n + 1) * sizeof *grown);
	if (grown == NULL) {
		free(msg);
		return;
	}
	errs->msgs = grown;
	errs->msgs[errs->n++] = msg;
}

void errlist_clear(struct errlist *errs)
{
	if (errs == NULL)
		return;
	for (size_t i = 0; i < errs->n; i++)
		free(errs->msgs[i]);
	free(errs->msgs);
	errs->msgs = NULL;
	errs->n = 0;
}

/* Two rows of the table, the shorter string along them. */
size_t confdiag_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), result;
	size_t *rows, *prev, *cur;

	if (lb > la) {
		const char *t = a;
		a = b;
		b = t;
		la = strlen(a);
		lb = strlen(b);
	}
	rows = calloc(2 * (lb + 1), sizeof *rows);
	if (rows == NULL)
		return SIZE_MAX;
	prev = rows;
	cur = rows + lb + 1;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t *t;
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			size_t m = del < ins ? del : ins;
			cur[j] = m < sub ? m : sub;
		}
		t = prev;
		prev = cur;
		cur = t;
	}
	result = prev[lb];
	free(rows);
	return result;
}

const char *confdiag_nearest(const char *key, const char *const *names, size_t n)
{
	const char *best = NULL;
	size_t best_d = SIZE_MAX, klen = strlen(key);

	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(names[i]), d;
		/* The distance is at least the length difference: skip the work. */
		if ((klen > len ? klen - len : len - klen) > 3)
			continue;
		d = confdiag_edit_distance(key, names[i]);
		if (d <= 3 && 2 * d <= len && d < best_d) {
			best = names[i];
			best_d = d;
		}
	}
	return best;
}

char *confdiag_escape(char *buf, const char *s)
{
	return log_escape_echo(buf, s, CONFIG_ECHO_MAX);
}
