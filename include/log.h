/* log.h - one-line log events on stderr, as text or JSON; redaction of secrets. */
#ifndef REFRESHER_LOG_H
#define REFRESHER_LOG_H

#include <stddef.h>

#include "parse.h"

enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON };
enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/*
 * The names of the formats ("text", "json") and of the levels ("debug",
 * "info", "warn", "error"), as log.format, log.level and --log-format spell
 * them; look one up with parse_name.
 */
extern const struct name_value log_format_names[];
extern const struct name_value log_level_names[];

/* Sets format and threshold. Before it is called: text, info. */
void log_init(enum log_format format, enum log_level level);
enum log_format log_get_format(void);

/* Name of a level ("error", "warn", "info", "debug"). */
const char *log_level_name(enum log_level level);

/*
 * Writes one event line to stderr if level passes the threshold.
 * ctx is a context prefix (a row id, a module name) or NULL; it is escaped
 * (log_escape, LOG_FIELD_MAX). NULL or "" leaves the context out. Control
 * bytes in the message are escaped, so one event is always one line; a
 * message longer than 2 KiB is cut and ends in "...".
 * The message must never contain a secret: pass tokens through log_redact().
 * Text:  2026-11-22T20:40:00.123Z warn [ctx] message
 * JSON:  {"ts":"...","level":"warn","ctx":"...","msg":"..."}
 */
void log_msg(enum log_level level, const char *ctx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_error(ctx, ...) log_msg(LOG_LEVEL_ERROR, (ctx), __VA_ARGS__)
#define log_warn(ctx, ...) log_msg(LOG_LEVEL_WARN, (ctx), __VA_ARGS__)
#define log_info(ctx, ...) log_msg(LOG_LEVEL_INFO, (ctx), __VA_ARGS__)
#define log_debug(ctx, ...) log_msg(LOG_LEVEL_DEBUG, (ctx), __VA_ARGS__)

/*
 * The live status line (a progress bar) on stderr when it is a terminal and
 * the format is text; a no-op otherwise. NULL erases it. Log events erase it
 * and draw it again below them; log_raw erases it for good.
 */
void log_status(const char *line);
/* Whether log_status draws anything (stderr is a terminal, text format). */
int log_status_enabled(void);

/* Writes a raw, already formatted line (a summary) to stderr, unconditionally. */
void log_raw(const char *line);

/*
 * Redacts a secret for display: its first 4 bytes (only when the secret is
 * at least 12 bytes long, else none), "…", and its length: "6923…(48)".
 * Non-printable leading bytes are shown as '?'. NULL shows as "(null)".
 * Always NUL-terminates buf (size >= 1). Returns buf.
 */
char *log_redact(char *buf, size_t size, const char *secret);

/*
 * Copies at most max bytes of untrusted src (srclen bytes) into buf as
 * printable ASCII: control and non-ASCII bytes become \xNN, '"' and '\\' are
 * escaped; "..." marks a cut. Always NUL-terminates buf. Returns buf.
 */
char *log_escape(char *buf, size_t size, const char *src, size_t srclen, size_t max);

/*
 * As log_escape, for a value echoed between single quotes in a message
 * ("got 'x'"): '\'' and '\\' escaped, other bytes as \xNN; when the escaped
 * text is over fit bytes, as much as fits in fit, then "...". buf holds
 * fit + 4 bytes. Returns buf.
 */
char *log_escape_echo(char *buf, const char *src, size_t fit);

#endif
