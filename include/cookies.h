/* cookies.h - the row's stored cookies (JSON array of {name,value}), Set-Cookie parsing, merge. */
#ifndef REFRESHER_COOKIES_H
#define REFRESHER_COOKIES_H

#include <stddef.h>

/*
 * One stored entry. A well-formed cookie has name and value; an entry of the
 * stored array that is not a {"name": string, "value": string} object (or
 * whose name or value holds "\u0000") is kept verbatim in raw (its JSON text)
 * so that a merge never loses it, and is not sent upstream. A well-formed
 * cookie with more keys than name and value ("path", ...) has name, value
 * and raw: it is sent, and raw is written back until cookies_set replaces
 * its value (which drops raw).
 */
struct cookie {
	char *name; /* NULL for a raw entry */
	char *value;
	char *raw; /* JSON text to write back as is, else NULL */
};

struct cookie_jar {
	struct cookie *v;
	size_t n, cap;
};

/* Returns an empty jar (caller frees with cookies_free), NULL on OOM. */
struct cookie_jar *cookies_new(void);
void cookies_free(struct cookie_jar *jar);

/*
 * Reads the stored cookies JSON (len bytes) into an empty jar.
 * Accepted: an array (entries as described above), null, "" and {} (empty).
 * Rejected with -1 and a one-line reason in err (no cookie values in it):
 * invalid JSON (strict, UTF-8, nested at most 32 deep, nothing but
 * whitespace after the value), a non-empty object, a string, a number, a
 * boolean, over MAX_COOKIES_JSON_BYTES. On failure the jar is unchanged.
 */
int cookies_parse_json(struct cookie_jar *jar, const char *json, size_t len,
    char *err, size_t errlen) __attribute__((warn_unused_result));

/*
 * Parses one Set-Cookie header value ("NAME=VALUE; Path=/; ..."): the part
 * before the first ';', split at the first '='. Spaces, tabs and stray CR/LF
 * around name and value are trimmed; a value in double quotes keeps its
 * quotes (RFC 6265 stores them).
 * Returns 0 and new strings in *name and *value (caller frees), or -1 when
 * there is no '=', the name is empty, holds a control character, space,
 * non-ASCII byte or one of ()<>@,;:\"/[]?={}, the value holds a control
 * character or is not valid UTF-8, or the line is over MAX_SET_COOKIE_BYTES.
 */
int cookies_parse_set_cookie(const char *line, size_t len, char **name, char **value)
    __attribute__((warn_unused_result));

/* Replaces the value of the first cookie called name, or appends it. 0 or -1 (OOM). */
int cookies_set(struct cookie_jar *jar, const char *name, const char *value)
    __attribute__((warn_unused_result));

/* Serialises the jar back to a JSON array (raw entries as they were). Caller frees; NULL on OOM. */
char *cookies_to_json(const struct cookie_jar *jar);

/* The Cookie request header value "n1=v1; n2=v2" (well-formed entries only). Caller frees; "" when none. */
char *cookies_header(const struct cookie_jar *jar);

/*
 * Applies the Set-Cookie header values of an answer to the jar: each whose
 * name is in names (exact, case-sensitive) replaces or appends that cookie;
 * others and malformed lines are ignored. Returns the number captured, or
 * -1 on OOM.
 */
int cookies_capture(struct cookie_jar *jar, char *const *set_cookie, size_t nset,
    char *const *names, size_t nnames) __attribute__((warn_unused_result));

#endif
