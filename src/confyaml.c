/* confyaml.c - a YAML config walked with libyaml's events: depth, duplicate keys, line:col. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confyaml.h"
#include "defaults.h"

/* Keys remembered per mapping for duplicate detection; mappings in the
 * schema hold fewer, and past this every extra key is an error anyway. */
#define SEEN_MAX 64

void confyaml_init(struct confyaml *y, const char *name, const char *text, size_t len,
    struct errlist *errs)
{
	memset(y, 0, sizeof *y);
	y->name = name;
	y->text = text;
	y->len = len;
	y->errs = errs;
}

static void confyaml_verror(struct confyaml *y, const yaml_mark_t *mark, const char *key,
    const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

static void confyaml_verror(struct confyaml *y, const yaml_mark_t *mark, const char *key,
    const char *fmt, va_list ap)
{
	char problem[CONFDIAG_MSG_MAX], where[CONFDIAG_MSG_MAX];

	if (y->nerr >= CONFIG_MAX_ERRORS) {
		y->stop = 1;
		return;
	}
	y->nerr++;
	if (y->nerr == CONFIG_MAX_ERRORS) {
		errlist_add(y->errs, "%s: too many errors, stopped after %d", y->name,
		    CONFIG_MAX_ERRORS - 1);
		y->stop = 1;
		return;
	}
	(void)vsnprintf(problem, sizeof problem, fmt, ap);
	if (mark != NULL)
		(void)snprintf(where, sizeof where, "%s:%zu:%zu", y->name, mark->line + 1,
		    mark->column + 1);
	else
		(void)snprintf(where, sizeof where, "%s", y->name);
	if (key != NULL && *key != '\0')
		errlist_add(y->errs, "%s: %s: %s", where, key, problem);
	else
		errlist_add(y->errs, "%s: %s", where, problem);
}

void confyaml_error(struct confyaml *y, const yaml_mark_t *mark, const char *key,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	confyaml_verror(y, mark, key, fmt, ap);
	va_end(ap);
}

void confyaml_oom(struct confyaml *y)
{
	confyaml_error(y, NULL, NULL, "out of memory");
	y->stop = 1;
}

/* Reports the parser's error; reader errors carry only a byte offset. */
static void syntax_error(struct confyaml *y)
{
	const yaml_parser_t *pr = &y->parser;
	const char *problem = pr->problem ? pr->problem : "unknown error";

	if (pr->error == YAML_MEMORY_ERROR) {
		confyaml_oom(y);
		return;
	}
	if (pr->error == YAML_READER_ERROR) {
		yaml_mark_t m = { 0 };
		for (size_t i = 0; i < pr->problem_offset && i < y->len; i++) {
			if (y->text[i] == '\n') {
				m.line++;
				m.column = 0;
			} else {
				m.column++;
			}
		}
		confyaml_error(y, &m, NULL, "YAML syntax error: %s", problem);
	} else if (pr->problem_mark.index < y->len && y->text[pr->problem_mark.index] == '\t') {
		/* libyaml's words for a tab where a token would start are no help to a newcomer. */
		confyaml_error(y, &pr->problem_mark, NULL,
		    "YAML syntax error: a tab character; YAML indents and separates with spaces only");
	} else {
		confyaml_error(y, &pr->problem_mark, NULL, "YAML syntax error: %s", problem);
	}
	y->stop = 1;
}

int confyaml_next(struct confyaml *y, yaml_event_t *ev)
{
	if (y->stop)
		return -1;
	if (!yaml_parser_parse(&y->parser, ev)) {
		syntax_error(y);
		return -1;
	}
	switch (ev->type) {
	case YAML_MAPPING_START_EVENT:
	case YAML_SEQUENCE_START_EVENT:
		if (++y->depth > CONFIG_MAX_DEPTH) {
			confyaml_error(y, &ev->start_mark, NULL, "nested deeper than %d levels",
			    CONFIG_MAX_DEPTH);
			yaml_event_delete(ev);
			y->stop = 1;
			return -1;
		}
		break;
	case YAML_MAPPING_END_EVENT:
	case YAML_SEQUENCE_END_EVENT:
		y->depth--;
		break;
	default:
		break;
	}
	return 0;
}

int confyaml_skip(struct confyaml *y, yaml_event_t *ev)
{
	int open = ev->type == YAML_MAPPING_START_EVENT || ev->type == YAML_SEQUENCE_START_EVENT;

	yaml_event_delete(ev);
	while (open > 0) {
		yaml_event_t e;
		if (confyaml_next(y, &e) != 0)
			return -1;
		if (e.type == YAML_MAPPING_START_EVENT || e.type == YAML_SEQUENCE_START_EVENT)
			open++;
		else if (e.type == YAML_MAPPING_END_EVENT || e.type == YAML_SEQUENCE_END_EVENT)
			open--;
		yaml_event_delete(&e);
	}
	return 0;
}

static const char *kind_name(const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_MAPPING_START_EVENT:
		return "a mapping";
	case YAML_SEQUENCE_START_EVENT:
		return "a list";
	case YAML_ALIAS_EVENT:
		return "an alias (aliases are not supported)";
	default:
		return "a single value";
	}
}

int confyaml_wrong_type(struct confyaml *y, yaml_event_t *ev, const char *path, const char *want)
{
	confyaml_error(y, &ev->start_mark, path, "expected %s, got %s", want, kind_name(ev));
	return confyaml_skip(y, ev);
}

int confyaml_is_null(const yaml_event_t *ev)
{
	const char *v;

	if (ev->type != YAML_SCALAR_EVENT || ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	v = (const char *)ev->data.scalar.value;
	return *v == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
	    strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

int confyaml_walk_mapping(struct confyaml *y, yaml_event_t *ev, const char *path,
    confyaml_entry_fn fn, void *ctx)
{
	struct {
		char *key;
		size_t line;
	} seen[SEEN_MAX];
	size_t nseen = 0;
	int ret = -1;

	yaml_event_delete(ev);
	for (;;) {
		yaml_event_t k, v;
		const char *key;
		int dup = 0;

		if (confyaml_next(y, &k) != 0)
			goto out;
		if (k.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&k);
			break;
		}
		if (k.type != YAML_SCALAR_EVENT) {
			confyaml_error(y, &k.start_mark, path, "keys must be plain strings, got %s",
			    kind_name(&k));
			if (confyaml_skip(y, &k) != 0 || confyaml_next(y, &v) != 0 ||
			    confyaml_skip(y, &v) != 0)
				goto out;
			continue;
		}
		key = (const char *)k.data.scalar.value;
		for (size_t i = 0; i < nseen; i++) {
			if (strcmp(seen[i].key, key) == 0) {
				char esc[CONFDIAG_ECHO_BUF], full[CONFDIAG_PATH_MAX];
				(void)snprintf(full, sizeof full, "%s%s%s", path, *path ? "." : "",
				    confdiag_escape(esc, key));
				confyaml_error(y, &k.start_mark, full, "duplicate key (first at line %zu)",
				    seen[i].line);
				dup = 1;
				break;
			}
		}
		if (!dup && nseen < SEEN_MAX) {
			seen[nseen].key = strdup(key);
			if (seen[nseen].key == NULL) {
				yaml_event_delete(&k);
				confyaml_oom(y);
				goto out;
			}
			seen[nseen++].line = k.start_mark.line + 1;
		}
		if (confyaml_next(y, &v) != 0) {
			yaml_event_delete(&k);
			goto out;
		}
		if (dup) {
			if (confyaml_skip(y, &v) != 0) {
				yaml_event_delete(&k);
				goto out;
			}
		} else if (fn(y, ctx, path, key, &k.start_mark, &v) != 0) {
			yaml_event_delete(&k);
			goto out;
		}
		yaml_event_delete(&k);
	}
	ret = 0;
out:
	for (size_t i = 0; i < nseen; i++)
		free(seen[i].key);
	return ret;
}

/* Reads the stream: at most one document whose root is a mapping. */
static int walk_stream(struct confyaml *y, confyaml_entry_fn fn, void *ctx)
{
	yaml_event_t ev;

	if (confyaml_next(y, &ev) != 0) /* stream start */
		return -1;
	yaml_event_delete(&ev);
	if (confyaml_next(y, &ev) != 0)
		return -1;
	if (ev.type == YAML_STREAM_END_EVENT) {
		yaml_event_delete(&ev);
		return 0;
	}
	yaml_event_delete(&ev); /* document start */
	if (confyaml_next(y, &ev) != 0)
		return -1;
	if (confyaml_is_null(&ev)) {
		yaml_event_delete(&ev);
	} else if (ev.type != YAML_MAPPING_START_EVENT) {
		if (confyaml_wrong_type(y, &ev, "top level", "a mapping of sections") != 0)
			return -1;
	} else if (confyaml_walk_mapping(y, &ev, "", fn, ctx) != 0) {
		return -1;
	}
	if (confyaml_next(y, &ev) != 0) /* document end */
		return -1;
	yaml_event_delete(&ev);
	if (confyaml_next(y, &ev) != 0)
		return -1;
	if (ev.type == YAML_DOCUMENT_START_EVENT)
		confyaml_error(y, &ev.start_mark, NULL, "only one YAML document is allowed");
	yaml_event_delete(&ev);
	return 0;
}

int confyaml_walk(struct confyaml *y, confyaml_entry_fn fn, void *ctx)
{
	int ret;

	if (!yaml_parser_initialize(&y->parser)) {
		confyaml_oom(y);
		return -1;
	}
	yaml_parser_set_input_string(&y->parser, (const unsigned char *)y->text, y->len);
	ret = walk_stream(y, fn, ctx);
	yaml_parser_delete(&y->parser);
	return ret == 0 && !y->stop ? 0 : -1;
}
