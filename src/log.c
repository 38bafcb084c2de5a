/* log.c - one-line log events on stderr (text or JSON), each written with one write(2); redaction. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "defaults.h"
#include "log.h"

/* A formatted message longer than this is cut and ends in "...". */
#define LOG_MSG_MAX 2048
/*
 * One output line. Worst case: every message byte escaped to 6 bytes
 * ("\\u00XX" in JSON), the escaped ctx (LOG_FIELD_MAX + "...") doubled by
 * JSON escaping, plus the fixed fields; appends are bounded anyway and cut
 * rather than overflow.
 */
#define LOG_LINE_MAX (6 * LOG_MSG_MAX + 2 * (LOG_FIELD_MAX + 3) + 128)

const struct name_value log_format_names[] = {
	{ "text", LOG_FORMAT_TEXT }, { "json", LOG_FORMAT_JSON }, { NULL, 0 } };
/* In the order of more to fewer events, as messages list them. */
const struct name_value log_level_names[] = {
	{ "debug", LOG_LEVEL_DEBUG }, { "info", LOG_LEVEL_INFO }, { "warn", LOG_LEVEL_WARN },
	{ "error", LOG_LEVEL_ERROR }, { NULL, 0 } };

static enum log_format g_format = LOG_FORMAT_TEXT;
static enum log_level g_level = LOG_LEVEL_INFO;

/* The live status line on a terminal; erased before each event and drawn again after it. */
static char g_status[LOG_STATUS_MAX];
static size_t g_status_len;
/* Moves to the start of the line and erases it. */
static const char erase_line[] = "\r\033[K";

/* A bounded output line; an append that does not fit is refused, never overflows. */
struct line {
	char buf[LOG_LINE_MAX];
	size_t len;
	size_t limit; /* appends stop here; the tail reserve lies above it */
};

/* Sets format and threshold for every later call. */
void log_init(enum log_format format, enum log_level level)
{
	g_format = format;
	g_level = level;
}

/* The current output format. */
enum log_format log_get_format(void)
{
	return g_format;
}

/* Static name of a level; "unknown" for an out-of-range value. */
const char *log_level_name(enum log_level level)
{
	switch (level) {
	case LOG_LEVEL_ERROR:
		return "error";
	case LOG_LEVEL_WARN:
		return "warn";
	case LOG_LEVEL_INFO:
		return "info";
	case LOG_LEVEL_DEBUG:
		return "debug";
	}
	return "unknown";
}

/* Appends n bytes if they fit below the limit; returns 0, or -1 (nothing appended). */
static int line_put(struct line *l, const char *s, size_t n)
{
	if (n > l->limit - l->len)
		return -1;
	memcpy(l->buf + l->len, s, n);
	l->len += n;
	return 0;
}

/* line_put of a C string. */
static int line_puts(struct line *l, const char *s)
{
	return line_put(l, s, strlen(s));
}

/*
 * Length of the valid UTF-8 sequence at s (at most n bytes available), or 0
 * when s[0] does not start one (overlong forms, surrogates and code points
 * above U+10FFFF are invalid).
 */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t need;
	unsigned char lo = 0x80, hi = 0xBF;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		need = 2;
	else if (c >= 0xE0 && c <= 0xEF) {
		need = 3;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 4;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else
		return 0;
	if (n < need)
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < need; i++)
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
	return need;
}

/*
 * Appends msg escaped so that the event stays on one line. Text: control
 * bytes become \n, \r, \t or \xNN. JSON: a proper JSON string body ('"'
 * and '\\' escaped, controls as \n, \r, \t or \u00XX). Both: valid UTF-8
 * is kept, a byte that is not valid UTF-8 shows as the text \xNN (which
 * JSON cannot carry raw). On running out of room, appends "..." (the limit
 * keeps room for it).
 */
static void line_put_escaped(struct line *l, const char *msg, size_t n, int json)
{
	const unsigned char *s = (const unsigned char *)msg;
	const char *bs = json ? "\\\\" : "\\";
	char tmp[16];
	size_t i = 0;
	int r = 0;

	while (i < n && r == 0) {
		unsigned char c = s[i];
		size_t k;

		if (c == '\n' || c == '\r' || c == '\t') {
			tmp[0] = '\\';
			tmp[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
			r = line_put(l, tmp, 2);
			i++;
		} else if (c < 0x20 || c == 0x7F) {
			if (json)
				(void)snprintf(tmp, sizeof tmp, "\\u%04x", c);
			else
				(void)snprintf(tmp, sizeof tmp, "\\x%02x", c);
			r = line_puts(l, tmp);
			i++;
		} else if (json && (c == '"' || c == '\\')) {
			tmp[0] = '\\';
			tmp[1] = (char)c;
			r = line_put(l, tmp, 2);
			i++;
		} else if ((k = utf8_seq_len(s + i, n - i)) > 0) {
			r = line_put(l, msg + i, k);
			i += k;
		} else {
			(void)snprintf(tmp, sizeof tmp, "%sx%02x", bs, c);
			r = line_puts(l, tmp);
			i++;
		}
	}
	if (r != 0) {
		/* The reserve above the limit holds the marker. */
		l->limit += 3;
		(void)line_puts(l, "...");
		l->limit -= 3;
	}
}

/* Writes all n bytes to fd 2, retrying on EINTR and short writes. */
static void write_all(const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(STDERR_FILENO, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

/* "2026-11-22T20:40:00.123Z" into buf (at least 32 bytes). */
static void format_ts(char *buf, size_t size)
{
	struct timespec ts;
	struct tm tm;
	char date[24];

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0 || gmtime_r(&ts.tv_sec, &tm) == NULL) {
		(void)snprintf(buf, size, "1970-01-01T00:00:00.000Z");
		return;
	}
	if (strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		(void)snprintf(date, sizeof date, "1970-01-01T00:00:00");
	(void)snprintf(buf, size, "%s.%03uZ", date, (unsigned)(ts.tv_nsec / 1000000L) % 1000u);
}

/*
 * Formats fmt into msg (LOG_MSG_MAX bytes), cutting an overlong message at a
 * UTF-8 character boundary and ending it in "...". Returns its length.
 */
static size_t format_msg(char *msg, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static size_t format_msg(char *msg, const char *fmt, va_list ap)
{
	int n = vsnprintf(msg, LOG_MSG_MAX, fmt, ap);
	size_t len;

	if (n < 0) {
		(void)snprintf(msg, LOG_MSG_MAX, "(unformattable log message)");
		return strlen(msg);
	}
	if ((size_t)n < LOG_MSG_MAX)
		return (size_t)n;
	len = LOG_MSG_MAX - 4;
	/* Do not leave half a UTF-8 character before the marker. */
	while (len > 0 && ((unsigned char)msg[len] & 0xC0) == 0x80)
		len--;
	memcpy(msg + len, "...", 4);
	return len + 3;
}

/*
 * Writes one event (see log.h). Never fails visibly: a line that cannot be
 * written is dropped. Preserves errno so callers can log before using it.
 */
void log_msg(enum log_level level, const char *ctx, const char *fmt, ...)
{
	struct line l;
	char msg[LOG_MSG_MAX];
	char ectx[LOG_FIELD_MAX + 8];
	char ts[32];
	size_t mlen;
	int json = g_format == LOG_FORMAT_JSON;
	int saved = errno;
	va_list ap;

	if (level > g_level)
		return;
	va_start(ap, fmt);
	mlen = format_msg(msg, fmt, ap);
	va_end(ap);
	format_ts(ts, sizeof ts);
	if (ctx != NULL && ctx[0] == '\0')
		ctx = NULL;
	if (ctx != NULL)
		(void)log_escape(ectx, sizeof ectx, ctx, strlen(ctx), LOG_FIELD_MAX);

	l.len = 0;
	/* Keep room for the "..." cut marker and the longest line ending. */
	l.limit = sizeof l.buf - 8;
	if (json) {
		(void)line_puts(&l, "{\"ts\":\"");
		(void)line_puts(&l, ts);
		(void)line_puts(&l, "\",\"level\":\"");
		(void)line_puts(&l, log_level_name(level));
		if (ctx != NULL) {
			(void)line_puts(&l, "\",\"ctx\":\"");
			line_put_escaped(&l, ectx, strlen(ectx), 1);
		}
		(void)line_puts(&l, "\",\"msg\":\"");
		line_put_escaped(&l, msg, mlen, 1);
		l.limit = sizeof l.buf;
		(void)line_puts(&l, "\"}\n");
	} else {
		(void)line_puts(&l, ts);
		(void)line_puts(&l, " ");
		(void)line_puts(&l, log_level_name(level));
		(void)line_puts(&l, " ");
		if (ctx != NULL) {
			(void)line_puts(&l, "[");
			(void)line_puts(&l, ectx);
			(void)line_puts(&l, "] ");
		}
		line_put_escaped(&l, msg, mlen, 0);
		l.limit = sizeof l.buf;
		(void)line_puts(&l, "\n");
	}
	if (g_status_len > 0)
		write_all(erase_line, sizeof(erase_line) - 1);
	write_all(l.buf, l.len);
	if (g_status_len > 0)
		write_all(g_status, g_status_len);
	errno = saved;
}

int log_status_enabled(void)
{
	return g_format == LOG_FORMAT_TEXT && isatty(STDERR_FILENO);
}

void log_status(const char *line)
{
	int saved = errno;
	if (!log_status_enabled())
		return;
	write_all(erase_line, sizeof(erase_line) - 1);
	g_status_len = 0;
	if (line != NULL) {
		(void)log_escape(g_status, sizeof(g_status), line, strlen(line), sizeof(g_status) - 8);
		g_status_len = strlen(g_status);
		write_all(g_status, g_status_len);
	}
	errno = saved;
}

/* Writes line and a newline with one writev(2), whatever the threshold. */
void log_raw(const char *line)
{
	struct iovec iov[2];
	int saved = errno;
	size_t total, done = 0;

	if (line == NULL)
		line = "";
	if (g_status_len > 0) {
		write_all(erase_line, sizeof(erase_line) - 1);
		g_status_len = 0;
	}
	iov[0].iov_base = (void *)line;
	iov[0].iov_len = strlen(line);
	iov[1].iov_base = (void *)"\n";
	iov[1].iov_len = 1;
	total = iov[0].iov_len + 1;
	for (;;) {
		ssize_t w = writev(STDERR_FILENO, iov, 2);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		done += (size_t)w;
		if (done >= total)
			break;
		/* Short write: finish with plain writes of what is left. */
		if (done < iov[0].iov_len) {
			write_all(line + done, iov[0].iov_len - done);
			done = iov[0].iov_len;
		}
		write_all("\n", 1);
		break;
	}
	errno = saved;
}

/*
 * Copies the NUL-terminated src into buf (size >= 1), cutting at a UTF-8
 * character boundary when it does not fit.
 */
static void copy_utf8_cut(char *buf, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (n >= size) {
		n = size - 1;
		while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(buf, src, n);
	buf[n] = '\0';
}

/* See log.h: "6923…(48)", "…(5)", "(null)". */
char *log_redact(char *buf, size_t size, const char *secret)
{
	char tmp[64];
	char head[5] = "";
	size_t len;

	if (buf == NULL || size == 0)
		return buf;
	if (secret == NULL) {
		copy_utf8_cut(buf, size, "(null)");
		return buf;
	}
	len = strlen(secret);
	/* Below 12 bytes, 4 shown bytes would give away too much of the secret. */
	if (len >= 12) {
		for (size_t i = 0; i < 4; i++) {
			unsigned char c = (unsigned char)secret[i];

			head[i] = (c >= 0x20 && c < 0x7F) ? (char)c : '?';
		}
		head[4] = '\0';
	}
	(void)snprintf(tmp, sizeof tmp, "%s\xE2\x80\xA6(%zu)", head, len);
	copy_utf8_cut(buf, size, tmp);
	return buf;
}

/* Escaped form of byte c into tok (at least 5 bytes), quote and '\\' escaped; returns its length. */
static size_t escape_byte(unsigned char c, char quote, char *tok)
{
	if (c == (unsigned char)quote || c == '\\') {
		tok[0] = '\\';
		tok[1] = (char)c;
		return 2;
	}
	if (c < 0x20 || c >= 0x7F) {
		(void)snprintf(tok, 5, "\\x%02x", c);
		return 4;
	}
	tok[0] = (char)c;
	return 1;
}

/*
 * The one escaper of untrusted text for messages: the first max_in bytes of
 * src (srclen bytes) escaped into buf. When all of it escaped fits in fit
 * bytes and nothing was left out, all of it; else as many whole escapes as
 * fit in cut_out bytes, then as much of "..." as keeps the text within limit
 * bytes (buf holds limit + 1; fit and cut_out are at most limit).
 */
static char *escape_core(char *buf, const char *src, size_t srclen, size_t max_in, size_t fit,
    size_t cut_out, size_t limit, char quote)
{
	size_t o = 0, n = srclen > max_in ? max_in : srclen, total = 0;
	int cut = srclen > max_in;
	char tok[8];

	for (size_t i = 0; i < n && total <= fit; i++)
		total += escape_byte((unsigned char)src[i], quote, tok);
	if (total > fit)
		cut = 1;
	for (size_t i = 0; i < n; i++) {
		size_t tlen = escape_byte((unsigned char)src[i], quote, tok);
		if (o + tlen > (cut ? cut_out : fit))
			break;
		memcpy(buf + o, tok, tlen);
		o += tlen;
	}
	for (int d = 0; cut && d < 3 && o < limit; d++)
		buf[o++] = '.';
	buf[o] = '\0';
	return buf;
}

/* See log.h. A NULL src is treated as empty. */
char *log_escape(char *buf, size_t size, const char *src, size_t srclen, size_t max)
{
	if (buf == NULL || size == 0)
		return buf;
	if (src == NULL)
		srclen = 0;
	size_t room = size - 1;
	/* When cutting, keep room for the "..." marker (what room there is). */
	return escape_core(buf, src, srclen, max, room, room >= 3 ? room - 3 : 0, room, '"');
}

/* See log.h. */
char *log_escape_echo(char *buf, const char *src, size_t fit)
{
	return escape_core(buf, src, strlen(src), (size_t)-1, fit, fit, fit + 3, '\'');
}
