/* confyaml.h - a YAML config walked with libyaml's events: depth, duplicate keys, line:col. */
#ifndef REFRESHER_CONFYAML_H
#define REFRESHER_CONFYAML_H

#include <stddef.h>

#include <yaml.h>

#include "confdiag.h"

/* State of one walk; lives on the caller's stack or heap. */
struct confyaml {
	yaml_parser_t parser;
	const char *name;     /* borrowed: file name for messages */
	const char *text;     /* borrowed: the input, to place reader errors */
	size_t len;
	struct errlist *errs; /* borrowed */
	size_t nerr;          /* errors found, stored or not */
	int stop;             /* read no further: syntax, depth, OOM, too many errors */
	int depth;            /* open collections */
};

/*
 * A mapping entry handler: key (borrowed, valid during the call) at kmark
 * under path ("" at the top level). Must consume (and delete) val, the first
 * event of the value, with its whole node. Returns 0, or -1 to stop the walk.
 */
typedef int (*confyaml_entry_fn)(struct confyaml *y, void *ctx, const char *path, const char *key,
    const yaml_mark_t *kmark, yaml_event_t *val);

/* Prepares y to walk text (len bytes; both borrowed), reporting into errs as name. */
void confyaml_init(struct confyaml *y, const char *name, const char *text, size_t len,
    struct errlist *errs);

/*
 * Walks the stream: at most one document, whose root is a mapping (or empty);
 * each top-level entry goes to fn. Returns 0 when the whole stream was read
 * (errors may have been reported: see y->nerr), -1 when the walk stopped.
 */
int confyaml_walk(struct confyaml *y, confyaml_entry_fn fn, void *ctx)
    __attribute__((warn_unused_result));

/*
 * Iterates the mapping that starts with ev (consumed), calling fn for each
 * entry with path prefix path. Non-scalar and duplicate keys are reported and
 * their values skipped. Returns 0 or -1 (stop).
 */
int confyaml_walk_mapping(struct confyaml *y, yaml_event_t *ev, const char *path,
    confyaml_entry_fn fn, void *ctx) __attribute__((warn_unused_result));

/*
 * Fetches the next event into *ev (caller deletes it). Returns 0, or -1
 * (nothing to delete) on a syntax error, nesting past CONFIG_MAX_DEPTH, or an
 * earlier stop.
 */
int confyaml_next(struct confyaml *y, yaml_event_t *ev) __attribute__((warn_unused_result));

/* Consumes and deletes the node that starts with ev. Returns 0 or -1 (stop). */
int confyaml_skip(struct confyaml *y, yaml_event_t *ev) __attribute__((warn_unused_result));

/* Reports "path: expected want, got <kind of ev>" at ev, then skips it. Returns as confyaml_skip. */
int confyaml_wrong_type(struct confyaml *y, yaml_event_t *ev, const char *path, const char *want)
    __attribute__((warn_unused_result));

/* Whether ev is a plain empty, "~" or "null" scalar: YAML's null. */
int confyaml_is_null(const yaml_event_t *ev);

/*
 * Records "name:line:col: key: problem" (no position when mark is NULL, no
 * key when key is NULL or ""). Past CONFIG_MAX_ERRORS the last slot says that
 * more were cut, and the walk stops.
 */
void confyaml_error(struct confyaml *y, const yaml_mark_t *mark, const char *key,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Records "name: out of memory" and stops the walk. */
void confyaml_oom(struct confyaml *y);

#endif
