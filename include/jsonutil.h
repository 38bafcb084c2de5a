/* jsonutil.h - strict parsing of an untrusted JSON text of known length (json-c). */
#ifndef REFRESHER_JSONUTIL_H
#define REFRESHER_JSONUTIL_H

#include <stddef.h>
#include <json-c/json.h>

/* 1 for the four whitespace bytes JSON allows between tokens. */
int jsonutil_is_ws(char c);

/*
 * Parses exactly len bytes as one JSON value (strict; trailing JSON
 * whitespace allowed; anything else after the value, a NUL included, is an
 * error; nesting capped by json-c's default depth). Returns 0 and *out (NULL
 * for JSON null; caller puts), or -1 with *why a static description.
 */
int jsonutil_parse_exact(const char *s, size_t len, struct json_object **out, const char **why)
    __attribute__((warn_unused_result));

/*
 * Checks a token value: a non-empty JSON string of printable ASCII, the
 * space included (0x20..0x7E, as SPEC says), at most MAX_TOKEN_BYTES. Returns NULL when good, else
 * a reason naming field (in buf, at least 64 bytes). Never quotes the value.
 */
const char *jsonutil_token_problem(struct json_object *v, const char *field, char *buf, size_t size);

#endif
