/* confdiag.h - config diagnostics: the error list, values echoed safely, "did you mean". */
#ifndef REFRESHER_CONFDIAG_H
#define REFRESHER_CONFDIAG_H

#include <stddef.h>

#include "defaults.h"

/* Room for one message, or a part of one built from escaped keys and values. */
#define CONFDIAG_MSG_MAX 512
/* Room for a dotted key path ("upstream.capture_cookies[3]", "database.columns.email"). */
#define CONFDIAG_PATH_MAX 160
/* Room for a value echoed by confdiag_escape. */
#define CONFDIAG_ECHO_BUF (CONFIG_ECHO_MAX + 8)

/* A list of error messages, each "file:line:col: key: problem". */
struct errlist {
	char **msgs;
	size_t n;
};

/*
 * Appends one formatted message (heap-owned by errs). Keeps at most
 * CONFIG_MAX_ERRORS; past that, and when out of memory, the message is dropped.
 * errs may be NULL.
 */
void errlist_add(struct errlist *errs, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Frees every message and empties errs (NULL is fine); errs itself is the caller's. */
void errlist_clear(struct errlist *errs);

/* Levenshtein distance of a and b; SIZE_MAX when out of memory. */
size_t confdiag_edit_distance(const char *a, const char *b);

/*
 * The nearest of names[0..n) to key, or NULL when none is close: a distance of
 * at most 3 that also leaves at least half of the candidate intact. Borrowed
 * from names.
 */
const char *confdiag_nearest(const char *key, const char *const *names, size_t n);

/*
 * Copies untrusted s into buf (CONFDIAG_ECHO_BUF bytes) as printable ASCII:
 * '\'' and '\\' escaped, other bytes as \xNN, cut at CONFIG_ECHO_MAX with
 * "...". Returns buf.
 */
char *confdiag_escape(char *buf, const char *s);

#endif
