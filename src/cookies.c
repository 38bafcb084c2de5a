/* cookies.c - the row's stored cookies (JSON array of {name,value}), Set-Cookie parsing, merge. */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "jsonutil.h"
#include "cookies.h"
#include "defaults.h"
#include "strbuf.h"

/* Appends s as a JSON string literal: '"', '\\' and control bytes escaped, the rest as is. */
static void put_json_string(struct strbuf *b, const char *s)
{
	const char *run = s;

	strbuf_put(b, "\"", 1);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[8];

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		strbuf_put(b, run, (size_t)(s - run));
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			esc[2] = '\0';
		} else
			(void)snprintf(esc, sizeof esc, "\\u%04x", c);
		strbuf_puts(b, esc);
		run = s + 1;
	}
	strbuf_put(b, run, (size_t)(s - run));
	strbuf_put(b, "\"", 1);
}

/*
 * 1 when s (n bytes) is valid UTF-8 (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF), as PostgreSQL requires of jsonb text.
 */
static int utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		size_t need, k;
		unsigned char lo = 0x80, hi = 0xBF;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			need = 2;
		else if (c >= 0xE0 && c <= 0xEF) {
			need = 3;
			lo = c == 0xE0 ? 0xA0 : 0x80;
			hi = c == 0xED ? 0x9F : 0xBF;
		} else if (c >= 0xF0 && c <= 0xF4) {
			need = 4;
			lo = c == 0xF0 ? 0x90 : 0x80;
			hi = c == 0xF4 ? 0x8F : 0xBF;
		} else
			return 0;
		if (n - i < need || s[i + 1] < lo || s[i + 1] > hi)
			return 0;
		for (k = 2; k < need; k++)
			if (s[i + k] < 0x80 || s[i + k] > 0xBF)
				return 0;
		i += need;
	}
	return 1;
}

/* Returns an empty jar (caller frees with cookies_free), NULL on OOM. */
struct cookie_jar *cookies_new(void)
{
	return calloc(1, sizeof(struct cookie_jar));
}

/* Frees the strings of one entry and NULLs them. */
static void cookie_clear(struct cookie *c)
{
	free(c->name);
	free(c->value);
	free(c->raw);
	c->name = c->value = c->raw = NULL;
}

/* Frees the jar and every string in it; NULL is fine. */
void cookies_free(struct cookie_jar *jar)
{
	if (jar == NULL)
		return;
	for (size_t i = 0; i < jar->n; i++)
		cookie_clear(&jar->v[i]);
	free(jar->v);
	free(jar);
}

/* Returns a zeroed new slot at the end of the jar, or NULL on OOM. */
static struct cookie *jar_push(struct cookie_jar *jar)
{
	if (jar->n == jar->cap) {
		size_t cap = jar->cap ? jar->cap * 2 : 8;
		struct cookie *v;

		if (cap > SIZE_MAX / sizeof *v)
			return NULL;
		v = realloc(jar->v, cap * sizeof *v);
		if (v == NULL)
			return NULL;
		jar->v = v;
		jar->cap = cap;
	}
	memset(&jar->v[jar->n], 0, sizeof jar->v[0]);
	return &jar->v[jar->n++];
}

/*
 * If o is {"name": string, "value": string} (maybe with more keys) and
 * neither string holds a NUL, returns 1 and the strings (borrowed from o)
 * and whether o has keys besides those two. Else 0.
 */
static int entry_is_cookie(struct json_object *o, const char **name, const char **value,
    int *extra)
{
	struct json_object *n, *v;

	if (!json_object_is_type(o, json_type_object))
		return 0;
	if (!json_object_object_get_ex(o, "name", &n) || !json_object_is_type(n, json_type_string))
		return 0;
	if (!json_object_object_get_ex(o, "value", &v) || !json_object_is_type(v, json_type_string))
		return 0;
	*name = json_object_get_string(n);
	*value = json_object_get_string(v);
	/* "\u0000" inside a string cannot live in a C string: keep such an entry raw. */
	if (strlen(*name) != (size_t)json_object_get_string_len(n) ||
	    strlen(*value) != (size_t)json_object_get_string_len(v))
		return 0;
	*extra = json_object_object_length(o) != 2;
	return 1;
}

/* Appends one array element to the jar as a cookie or a raw entry. 0, or -1 on OOM. */
static int jar_add_entry(struct cookie_jar *jar, struct json_object *o)
{
	const char *name, *value, *raw;
	int extra = 0, cookie;
	struct cookie *c;

	cookie = entry_is_cookie(o, &name, &value, &extra);
	c = jar_push(jar);
	if (c == NULL)
		return -1;
	if (cookie) {
		c->name = strdup(name);
		c->value = strdup(value);
		if (c->name == NULL || c->value == NULL)
			return -1;
	}
	if (!cookie || extra) {
		raw = json_object_to_json_string_ext(o,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
		if (raw == NULL || (c->raw = strdup(raw)) == NULL)
			return -1;
	}
	return 0;
}

/* See cookies.h. On failure the jar is left as it was before the call. */
int cookies_parse_json(struct cookie_jar *jar, const char *json, size_t len,
    char *err, size_t errlen)
{
	struct json_object *root = NULL;
	const char *why = "unknown error";
	size_t n0, i;
	int rc = -1;

	if (err == NULL)
		errlen = 0;
	else if (errlen > 0)
		err[0] = '\0';
	if (jar == NULL || (json == NULL && len > 0)) {
		(void)snprintf(err, errlen, "no stored cookies given");
		return -1;
	}
	n0 = jar->n;
	if (len > MAX_COOKIES_JSON_BYTES) {
		(void)snprintf(err, errlen, "stored cookies JSON over %d bytes", MAX_COOKIES_JSON_BYTES);
		return -1;
	}
	for (i = 0; i < len && jsonutil_is_ws(json[i]); i++)
		;
	if (i == len)
		return 0; /* "" (or only whitespace): an empty jar */
	/* What we write back must be storable as jsonb: refuse bytes PostgreSQL would. */
	if (!utf8_valid((const unsigned char *)json, len)) {
		(void)snprintf(err, errlen, "stored cookies are not valid UTF-8");
		return -1;
	}
	if (jsonutil_parse_exact(json, len, &root, &why) != 0) {
		(void)snprintf(err, errlen, "stored cookies are not valid JSON (%s)", why);
		return -1;
	}
	switch (json_object_get_type(root)) {
	case json_type_null:
		rc = 0;
		break;
	case json_type_object:
		if (json_object_object_length(root) == 0)
			rc = 0;
		else
			(void)snprintf(err, errlen, "stored cookies are a JSON object, not an array");
		break;
	case json_type_array:
		for (i = 0; i < json_object_array_length(root); i++) {
			if (jar_add_entry(jar, json_object_array_get_idx(root, i)) != 0) {
				(void)snprintf(err, errlen, "out of memory reading stored cookies");
				goto out;
			}
		}
		rc = 0;
		break;
	default:
		(void)snprintf(err, errlen, "stored cookies are a JSON %s, not an array",
		    json_type_to_name(json_object_get_type(root)));
		break;
	}
out:
	if (rc != 0) {
		while (jar->n > n0)
			cookie_clear(&jar->v[--jar->n]);
	}
	json_object_put(root);
	return rc;
}

/* 1 for a byte not allowed in a cookie name (RFC 6265 token): CTL, space, separators, non-ASCII. */
static int bad_name_byte(unsigned char c)
{
	return c <= 0x20 || c >= 0x7F || strchr("()<>@,;:\\\"/[]?={}", c) != NULL;
}

/* 1 when a Set-Cookie value (n bytes) is valid UTF-8 without any control byte. */
static int value_ok(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] == 0x7F)
			return 0;
	return utf8_valid(s, n);
}

/* 1 for the bytes trimmed around a Set-Cookie name or value. */
static int is_trim(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Trims spaces, tabs and stray CR/LF from both ends of [*b, *e). */
static void trim(const char **b, const char **e)
{
	while (*b < *e && is_trim(**b))
		(*b)++;
	while (*e > *b && is_trim((*e)[-1]))
		(*e)--;
}

/*
 * See cookies.h. Also -1 when the value holds a control byte (NUL, CR, LF,
 * ...) or is not valid UTF-8: it could not be sent back or stored as jsonb.
 */
int cookies_parse_set_cookie(const char *line, size_t len, char **name, char **value)
{
	const char *end, *eq, *nb, *ne, *vb, *ve;

	*name = *value = NULL;
	if (line == NULL || len > MAX_SET_COOKIE_BYTES)
		return -1;
	end = memchr(line, ';', len);
	if (end == NULL)
		end = line + len;
	eq = memchr(line, '=', (size_t)(end - line));
	if (eq == NULL)
		return -1; /* RFC 6265 5.2: no '=' means ignore the line */
	nb = line;
	ne = eq;
	trim(&nb, &ne);
	vb = eq + 1;
	ve = end;
	trim(&vb, &ve);
	if (nb == ne)
		return -1;
	for (const char *p = nb; p < ne; p++)
		if (bad_name_byte((unsigned char)*p))
			return -1;
	if (!value_ok((const unsigned char *)vb, (size_t)(ve - vb)))
		return -1;
	*name = strndup(nb, (size_t)(ne - nb));
	*value = strndup(vb, (size_t)(ve - vb));
	if (*name == NULL || *value == NULL) {
		free(*name);
		free(*value);
		*name = *value = NULL;
		return -1;
	}
	return 0;
}

/*
 * See cookies.h. Replacing a value also drops the entry's extra JSON keys
 * (its raw text): the stored attributes no longer describe the new value.
 */
int cookies_set(struct cookie_jar *jar, const char *name, const char *value)
{
	struct cookie *c;
	char *n = NULL, *v = NULL;

	if (jar == NULL || name == NULL || value == NULL)
		return -1;
	v = strdup(value);
	if (v == NULL)
		return -1;
	for (size_t i = 0; i < jar->n; i++) {
		c = &jar->v[i];
		if (c->name != NULL && strcmp(c->name, name) == 0) {
			free(c->value);
			c->value = v;
			free(c->raw);
			c->raw = NULL;
			return 0;
		}
	}
	n = strdup(name);
	if (n == NULL || (c = jar_push(jar)) == NULL) {
		free(n);
		free(v);
		return -1;
	}
	c->name = n;
	c->value = v;
	return 0;
}

/* See cookies.h: compact JSON, entries in order; an entry with raw text is emitted as it. */
char *cookies_to_json(const struct cookie_jar *jar)
{
	struct strbuf b = { 0 };

	strbuf_put(&b, "[", 1);
	for (size_t i = 0; jar != NULL && i < jar->n; i++) {
		const struct cookie *c = &jar->v[i];

		if (i > 0)
			strbuf_put(&b, ",", 1);
		if (c->raw != NULL)
			strbuf_puts(&b, c->raw);
		else {
			strbuf_puts(&b, "{\"name\":");
			put_json_string(&b, c->name != NULL ? c->name : "");
			strbuf_puts(&b, ",\"value\":");
			put_json_string(&b, c->value != NULL ? c->value : "");
			strbuf_puts(&b, "}");
		}
	}
	strbuf_put(&b, "]", 1);
	return strbuf_take(&b);
}

/* 1 when s holds no ';' and no control byte (NUL cannot occur in a C string). */
static int header_safe(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p == ';' || *p < 0x20 || *p == 0x7F)
			return 0;
	return 1;
}

/*
 * See cookies.h. Header injection defence: an entry whose name is empty or
 * holds '=', or whose name or value holds ';', CR, LF or any other control
 * byte, is left out.
 */
char *cookies_header(const struct cookie_jar *jar)
{
	struct strbuf b = { 0 };
	int first = 1;

	for (size_t i = 0; jar != NULL && i < jar->n; i++) {
		const struct cookie *c = &jar->v[i];

		if (c->name == NULL || c->value == NULL || c->name[0] == '\0' ||
		    strchr(c->name, '=') != NULL || !header_safe(c->name) || !header_safe(c->value))
			continue;
		if (!first)
			strbuf_put(&b, "; ", 2);
		strbuf_puts(&b, c->name);
		strbuf_put(&b, "=", 1);
		strbuf_puts(&b, c->value);
		first = 0;
	}
	return strbuf_take(&b);
}

/*
 * See cookies.h. Lines are applied in order, so the last of two with the
 * same name wins; at most MAX_SET_COOKIES lines are looked at. Returns the
 * number of lines applied.
 */
int cookies_capture(struct cookie_jar *jar, char *const *set_cookie, size_t nset,
    char *const *names, size_t nnames)
{
	int captured = 0;

	if (jar == NULL || (nset > 0 && set_cookie == NULL) || (nnames > 0 && names == NULL))
		return jar == NULL ? -1 : 0;
	if (nset > MAX_SET_COOKIES)
		nset = MAX_SET_COOKIES;
	for (size_t i = 0; i < nset; i++) {
		char *name, *value;
		size_t len, j;

		if (set_cookie[i] == NULL)
			continue;
		len = strnlen(set_cookie[i], MAX_SET_COOKIE_BYTES + 1);
		if (cookies_parse_set_cookie(set_cookie[i], len, &name, &value) != 0)
			continue;
		for (j = 0; j < nnames; j++)
			if (names[j] != NULL && strcmp(names[j], name) == 0)
				break;
		if (j < nnames) {
			if (cookies_set(jar, name, value) != 0) {
				free(name);
				free(value);
				return -1;
			}
			captured++;
		}
		free(name);
		free(value);
	}
	return captured;
}
