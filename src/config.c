/* config.c - refresher.yaml: defaults, streaming YAML load with ${VAR} expansion, validation. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <libpq-fe.h>
#include <yaml.h>

#include "config.h"
#include "defaults.h"
#include "parse.h"
#include "sqlexpr.h"

/* Room for a message part built from escaped keys and values. */
#define MSG_MAX 512
#define PATH_MAX_LEN 160
#define ECHO_BUF (CONFIG_ECHO_MAX + 8)
/* Keys remembered per mapping for duplicate detection; mappings in the
 * schema hold fewer, and past this every extra key is an error anyway. */
#define SEEN_MAX 64

enum key_type {
	KT_STRING,   /* char *, no control characters */
	KT_URL,      /* char *, "" or an http(s):// URL */
	KT_TABLE,    /* char *, [schema.]table */
	KT_SQL,      /* char *, "" or one SQL expression (sqlexpr_problem); may span lines */
	KT_DURATION, /* long ms in [min, max] */
	KT_INT,      /* int in [min, max] */
	KT_LONG,     /* long in [min, max] */
	KT_NUMBER,   /* double in [dmin, dmax] */
	KT_ENUM,     /* one of names[] */
	KT_COLUMNS,  /* mapping role -> column */
	KT_FORM,     /* mapping name -> value */
	KT_COOKIES,  /* sequence of cookie names */
};

#define KF_SECRET 0x1   /* never echo the value */
#define KF_NONEMPTY 0x2 /* "" is an error */
#define KF_CONNINFO 0x4 /* a libpq connection string: only its password is a secret */

enum enum_field {
	EF_NONE, EF_PROFILE, EF_CLIENT_AUTH, EF_ON_LOGOUT, EF_LOG_FORMAT, EF_LOG_LEVEL, EF_ROW_SECURITY
};

struct enum_name {
	const char *name;
	int value;
};

static const struct enum_name profile_names[] = {
	{ "aimharder", PROFILE_AIMHARDER }, { "oauth2", PROFILE_OAUTH2 }, { NULL, 0 } };
static const struct enum_name client_auth_names[] = {
	{ "basic", CLIENT_AUTH_BASIC }, { "form", CLIENT_AUTH_FORM }, { NULL, 0 } };
static const struct enum_name on_logout_names[] = {
	{ "delete", ON_LOGOUT_DELETE }, { "keep", ON_LOGOUT_KEEP }, { NULL, 0 } };
static const struct enum_name row_security_names[] = {
	{ "refuse", ROW_SECURITY_REFUSE }, { "allow", ROW_SECURITY_ALLOW }, { NULL, 0 } };
static const struct enum_name log_format_names[] = {
	{ "text", LOG_FORMAT_TEXT }, { "json", LOG_FORMAT_JSON }, { NULL, 0 } };
static const struct enum_name log_level_names[] = {
	{ "debug", LOG_LEVEL_DEBUG }, { "info", LOG_LEVEL_INFO }, { "warn", LOG_LEVEL_WARN },
	{ "error", LOG_LEVEL_ERROR }, { NULL, 0 } };

struct key_spec {
	const char *section;
	const char *name;
	enum key_type type;
	size_t off; /* of the field in struct config */
	long min, max;
	double dmin, dmax;
	enum enum_field ef;
	const struct enum_name *names;
	unsigned flags;
	const char *env; /* KF_SECRET: the variable the shipped configs read it from */
};

#define OFF(member) offsetof(struct config, member)

static const char *const sections[] = {
	"database", "upstream", "refresh", "retry", "breaker", "log", "metrics", "notify",
};
#define NSECTIONS (sizeof sections / sizeof sections[0])

static const struct key_spec keys[] = {
	{ .section = "database", .name = "url", .type = KT_STRING, .off = OFF(database.url),
	  .flags = KF_SECRET | KF_NONEMPTY | KF_CONNINFO, .env = "DATABASE_URL" },
	{ .section = "database", .name = "table", .type = KT_TABLE, .off = OFF(database.table) },
	{ .section = "database", .name = "columns", .type = KT_COLUMNS },
	{ .section = "database", .name = "outage_timeout", .type = KT_DURATION,
	  .off = OFF(database.outage_timeout_ms), .min = 1, .max = MAX_DURATION_MS },
	{ .section = "database", .name = "where", .type = KT_SQL, .off = OFF(database.where) },
	{ .section = "database", .name = "row_security", .type = KT_ENUM, .ef = EF_ROW_SECURITY,
	  .names = row_security_names },
	{ .section = "upstream", .name = "profile", .type = KT_ENUM, .ef = EF_PROFILE,
	  .names = profile_names },
	{ .section = "upstream", .name = "url", .type = KT_URL, .off = OFF(upstream.url),
	  .flags = KF_NONEMPTY },
	{ .section = "upstream", .name = "fingerprint", .type = KT_STRING,
	  .off = OFF(upstream.fingerprint), .flags = KF_SECRET, .env = "AIMHARDER_FINGERPRINT" },
	{ .section = "upstream", .name = "form", .type = KT_FORM },
	{ .section = "upstream", .name = "capture_cookies", .type = KT_COOKIES },
	{ .section = "upstream", .name = "user_agent", .type = KT_STRING,
	  .off = OFF(upstream.user_agent) },
	{ .section = "upstream", .name = "timeout", .type = KT_DURATION,
	  .off = OFF(upstream.timeout_ms), .min = 1, .max = MAX_DURATION_MS },
	{ .section = "upstream", .name = "connect_timeout", .type = KT_DURATION,
	  .off = OFF(upstream.connect_timeout_ms), .min = 1, .max = MAX_DURATION_MS },
	{ .section = "upstream", .name = "max_response_bytes", .type = KT_LONG,
	  .off = OFF(upstream.max_response_bytes), .min = 1, .max = MAX_RESPONSE_BYTES_LIMIT },
	{ .section = "upstream", .name = "ca_file", .type = KT_STRING, .off = OFF(upstream.ca_file) },
	{ .section = "upstream", .name = "client_id", .type = KT_STRING,
	  .off = OFF(upstream.client_id) },
	{ .section = "upstream", .name = "client_secret", .type = KT_STRING,
	  .off = OFF(upstream.client_secret), .flags = KF_SECRET, .env = "OAUTH_CLIENT_SECRET" },
	{ .section = "upstream", .name = "client_auth", .type = KT_ENUM, .ef = EF_CLIENT_AUTH,
	  .names = client_auth_names },
	{ .section = "refresh", .name = "stale_after", .type = KT_DURATION,
	  .off = OFF(refresh.stale_after_ms), .min = 0, .max = MAX_DURATION_MS },
	{ .section = "refresh", .name = "concurrency", .type = KT_INT,
	  .off = OFF(refresh.concurrency), .min = 1, .max = MAX_CONCURRENCY },
	{ .section = "refresh", .name = "batch_size", .type = KT_INT,
	  .off = OFF(refresh.batch_size), .min = 1, .max = MAX_BATCH_SIZE },
	{ .section = "refresh", .name = "lease", .type = KT_DURATION, .off = OFF(refresh.lease_ms),
	  .min = MIN_LEASE_MS, .max = MAX_DURATION_MS },
	{ .section = "refresh", .name = "max_runtime", .type = KT_DURATION,
	  .off = OFF(refresh.max_runtime_ms), .min = 0, .max = MAX_DURATION_MS },
	{ .section = "refresh", .name = "on_logout", .type = KT_ENUM, .ef = EF_ON_LOGOUT,
	  .names = on_logout_names },
	{ .section = "refresh", .name = "ahead", .type = KT_DURATION, .off = OFF(refresh.ahead_ms),
	  .min = 0, .max = MAX_DURATION_MS },
	{ .section = "refresh", .name = "max_rate", .type = KT_NUMBER, .off = OFF(refresh.max_rate),
	  .dmin = 0.0, .dmax = MAX_RATE },
	{ .section = "refresh", .name = "keep_when", .type = KT_SQL, .off = OFF(refresh.keep_when) },
	{ .section = "retry", .name = "attempts", .type = KT_INT, .off = OFF(retry.attempts),
	  .min = 1, .max = MAX_RETRY_ATTEMPTS },
	{ .section = "retry", .name = "base_delay", .type = KT_DURATION,
	  .off = OFF(retry.base_delay_ms), .min = 0, .max = MAX_DURATION_MS },
	{ .section = "retry", .name = "max_delay", .type = KT_DURATION,
	  .off = OFF(retry.max_delay_ms), .min = 0, .max = MAX_DURATION_MS },
	{ .section = "retry", .name = "budget", .type = KT_NUMBER, .off = OFF(retry.budget),
	  .dmin = 0.0, .dmax = MAX_RETRY_BUDGET },
	{ .section = "breaker", .name = "window", .type = KT_INT, .off = OFF(breaker.window),
	  .min = 0, .max = MAX_BREAKER_WINDOW },
	{ .section = "breaker", .name = "logout_min", .type = KT_INT, .off = OFF(breaker.logout_min),
	  .min = 0, .max = MAX_LOGOUT_MIN },
	{ .section = "breaker", .name = "logout_share", .type = KT_NUMBER,
	  .off = OFF(breaker.logout_share), .dmin = 0.0, .dmax = 1.0 },
	{ .section = "log", .name = "format", .type = KT_ENUM, .ef = EF_LOG_FORMAT,
	  .names = log_format_names },
	{ .section = "log", .name = "level", .type = KT_ENUM, .ef = EF_LOG_LEVEL,
	  .names = log_level_names },
	{ .section = "metrics", .name = "textfile", .type = KT_STRING, .off = OFF(metrics.textfile) },
	/* A Slack or Discord webhook URL carries its credential in the path. */
	{ .section = "notify", .name = "webhook_url", .type = KT_URL, .off = OFF(notify.webhook_url),
	  .flags = KF_SECRET, .env = "REFRESHER_WEBHOOK_URL" },
};
#define NKEYS (sizeof keys / sizeof keys[0])
_Static_assert(NKEYS <= 64, "struct config's literal_secrets has one bit per key");
_Static_assert(NKEYS <= CONFIG_KEYS_MAX, "struct config's pos has one entry per key");

/* database.columns roles; id and token cannot be absent. */
static const struct role {
	const char *name;
	size_t off;
	int required;
} roles[] = {
	{ "id", OFF(database.columns.id), 1 },
	{ "email", OFF(database.columns.email), 0 },
	{ "token", OFF(database.columns.token), 1 },
	{ "cookies", OFF(database.columns.cookies), 0 },
	{ "fingerprint", OFF(database.columns.fingerprint), 0 },
	{ "access_token", OFF(database.columns.access_token), 0 },
	{ "expires_at", OFF(database.columns.expires_at), 0 },
};
#define NROLES (sizeof roles / sizeof roles[0])
_Static_assert(NROLES <= CONFIG_ROLES_MAX, "struct config's role_pos has one entry per role");

/* Form fields the refresher sets itself, per profile. */
static const char *const reserved_aimharder[] = { "token", "fingerprint", NULL };
static const char *const reserved_oauth2[] = {
	"grant_type", "refresh_token", "client_id", "client_secret", NULL };

/* State of one load; lives on the caller's stack. */
struct loader {
	yaml_parser_t parser;
	const char *name;          /* borrowed: file name for messages */
	const char *text;          /* borrowed: the input, to place reader errors */
	size_t len;
	struct config *cfg;        /* borrowed: filled in place */
	struct errlist *errs;      /* borrowed */
	size_t nerr;               /* errors found, stored or not */
	int stop;                  /* read no further: syntax, depth, OOM, too many errors */
	int depth;                 /* open collections */
	int given[NKEYS];          /* key present in the file (even if invalid) */
	yaml_mark_t marks[NKEYS];  /* of each given key */
	int role_given[NROLES];
	yaml_mark_t role_marks[NROLES];
	yaml_mark_t form_marks[MAX_FORM_FIELDS];
};

/* A mapping entry handler: must consume (and delete) the value event. */
typedef int (*entry_fn)(struct loader *ld, const void *ctx, const char *path, const char *key,
    const yaml_mark_t *kmark, yaml_event_t *val);

/* ---- error list ---- */

int config_locate(const struct config *cfg, const char *key, char *buf, size_t size)
{
	static const char cols[] = "database.columns.";
	const struct config_pos *p = NULL;
	if (strncmp(key, cols, sizeof cols - 1) == 0) {
		for (size_t r = 0; r < NROLES; r++)
			if (strcmp(key + sizeof cols - 1, roles[r].name) == 0)
				p = &cfg->role_pos[r];
	} else {
		const char *dot = strchr(key, '.');
		for (size_t i = 0; dot != NULL && i < NKEYS; i++)
			if (strlen(keys[i].section) == (size_t)(dot - key) &&
			    strncmp(keys[i].section, key, (size_t)(dot - key)) == 0 &&
			    strcmp(keys[i].name, dot + 1) == 0)
				p = &cfg->pos[i];
	}
	if (p != NULL && p->line > 0) {
		(void)snprintf(buf, size, "%s:%u:%u", cfg->path, p->line, p->col);
		return 1;
	}
	(void)snprintf(buf, size, "%s", cfg->path);
	return 0;
}

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

/* ---- small helpers ---- */

/* Levenshtein distance with two rows; SIZE_MAX if out of memory. */
size_t config_edit_distance(const char *a, const char *b)
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

/*
 * Nearest of names[0..n) to key, or NULL when none is close: a distance of
 * at most 3 that also leaves at least half of the candidate intact.
 */
static const char *nearest(const char *key, const char *const *names, size_t n)
{
	const char *best = NULL;
	size_t best_d = SIZE_MAX, klen = strlen(key);

	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(names[i]), d;
		/* The distance is at least the length difference: skip the work. */
		if ((klen > len ? klen - len : len - klen) > 3)
			continue;
		d = config_edit_distance(key, names[i]);
		if (d <= 3 && 2 * d <= len && d < best_d) {
			best = names[i];
			best_d = d;
		}
	}
	return best;
}

/*
 * Copies untrusted s into buf (ECHO_BUF bytes) as printable ASCII: '\'' and
 * '\\' escaped, other bytes as \xNN, cut at CONFIG_ECHO_MAX with "...".
 */
static char *escape(char *buf, const char *s)
{
	size_t j = 0;

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		char piece[5];
		size_t plen;

		if (c == '\'' || c == '\\')
			plen = (size_t)snprintf(piece, sizeof piece, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			plen = (size_t)snprintf(piece, sizeof piece, "\\x%02x", c);
		else
			plen = (size_t)snprintf(piece, sizeof piece, "%c", c);
		if (j + plen > CONFIG_ECHO_MAX) {
			memcpy(buf + j, "...", 3);
			j += 3;
			break;
		}
		memcpy(buf + j, piece, plen);
		j += plen;
	}
	buf[j] = '\0';
	return buf;
}

static int has_control(const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f)
			return 1;
	}
	return 0;
}

/* Like has_control, but tabs and line breaks are fine (SQL written over several lines). */
static int has_control_sql(const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f)
			return 1;
	}
	return 0;
}

/* PostgreSQL unquoted identifier: [A-Za-z_][A-Za-z0-9_$]*, 1..MAX_IDENTIFIER_BYTES. */
static int is_identifier(const char *s, size_t len)
{
	if (len == 0 || len > MAX_IDENTIFIER_BYTES)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
		int digit = (c >= '0' && c <= '9') || c == '$';
		if (!alpha && (i == 0 || !digit))
			return 0;
	}
	return 1;
}

static int is_table_name(const char *s)
{
	const char *dot = strchr(s, '.');

	if (dot == NULL)
		return is_identifier(s, strlen(s));
	return is_identifier(s, (size_t)(dot - s)) && is_identifier(dot + 1, strlen(dot + 1));
}

/* RFC 6265 cookie-name: an RFC 7230 token. */
static int is_cookie_name(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c <= 0x20 || c >= 0x7f || strchr("()<>@,;:\\\"/[]?={}", c) != NULL)
			return 0;
	}
	return 1;
}

/* "http://" or "https://" followed by a host, no spaces or control bytes. */
static int is_http_url(const char *s)
{
	size_t n;

	if (strncasecmp(s, "https://", 8) == 0)
		n = 8;
	else if (strncasecmp(s, "http://", 7) == 0)
		n = 7;
	else
		return 0;
	if (s[n] == '\0' || s[n] == '/')
		return 0;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s == 0x7f)
			return 0;
	return 1;
}

/* Replaces *dst with a copy of s. Returns 0, or -1 on OOM (*dst unchanged). */
static int set_str(char **dst, const char *s)
{
	char *copy = strdup(s);

	if (copy == NULL)
		return -1;
	free(*dst);
	*dst = copy;
	return 0;
}

static char **str_field(struct config *cfg, size_t off)
{
	return (char **)(void *)((char *)cfg + off);
}

static void free_form(struct config *cfg)
{
	for (size_t i = 0; i < cfg->upstream.nform; i++) {
		free(cfg->upstream.form[i].name);
		free(cfg->upstream.form[i].value);
	}
	free(cfg->upstream.form);
	cfg->upstream.form = NULL;
	cfg->upstream.nform = 0;
}

static void free_cookies(struct config *cfg)
{
	for (size_t i = 0; i < cfg->upstream.ncapture; i++)
		free(cfg->upstream.capture_cookies[i]);
	free(cfg->upstream.capture_cookies);
	cfg->upstream.capture_cookies = NULL;
	cfg->upstream.ncapture = 0;
}

/* Appends name=value to the form (both copied). Returns 0, or -1 on OOM. */
static int form_add(struct config *cfg, const char *name, const char *value)
{
	struct kv *grown;
	char *n = strdup(name), *v = strdup(value);

	grown = (n && v) ? realloc(cfg->upstream.form, (cfg->upstream.nform + 1) * sizeof *grown)
			 : NULL;
	if (grown == NULL) {
		free(n);
		free(v);
		return -1;
	}
	cfg->upstream.form = grown;
	grown[cfg->upstream.nform].name = n;
	grown[cfg->upstream.nform].value = v;
	cfg->upstream.nform++;
	return 0;
}

/* Appends a copy of name to capture_cookies. Returns 0, or -1 on OOM. */
static int cookie_add(struct config *cfg, const char *name)
{
	char **grown;
	char *n = strdup(name);

	grown = n ? realloc(cfg->upstream.capture_cookies,
			    (cfg->upstream.ncapture + 1) * sizeof *grown)
		  : NULL;
	if (grown == NULL) {
		free(n);
		return -1;
	}
	cfg->upstream.capture_cookies = grown;
	grown[cfg->upstream.ncapture++] = n;
	return 0;
}

/* ---- defaults ---- */

struct config *config_new(void)
{
	struct config *cfg = calloc(1, sizeof *cfg);
	int bad = 0;

	if (cfg == NULL)
		return NULL;
	bad |= set_str(&cfg->path, "");
	bad |= set_str(&cfg->database.url, "");
	bad |= set_str(&cfg->database.table, DEFAULT_TABLE);
	bad |= set_str(&cfg->database.columns.id, DEFAULT_COL_ID);
	bad |= set_str(&cfg->database.columns.email, DEFAULT_COL_EMAIL);
	bad |= set_str(&cfg->database.columns.token, DEFAULT_COL_TOKEN);
	bad |= set_str(&cfg->database.columns.cookies, DEFAULT_COL_COOKIES);
	bad |= set_str(&cfg->database.columns.fingerprint, DEFAULT_COL_FINGERPRINT);
	bad |= set_str(&cfg->database.columns.access_token, "");
	bad |= set_str(&cfg->database.columns.expires_at, "");
	cfg->database.outage_timeout_ms = DEFAULT_DB_OUTAGE_MS;
	bad |= set_str(&cfg->database.where, "");
	cfg->database.row_security = ROW_SECURITY_REFUSE;
	cfg->upstream.profile = PROFILE_AIMHARDER;
	bad |= set_str(&cfg->upstream.url, DEFAULT_UPSTREAM_URL);
	bad |= set_str(&cfg->upstream.fingerprint, "");
	bad |= form_add(cfg, DEFAULT_FORM_NAME, DEFAULT_FORM_VALUE);
	bad |= cookie_add(cfg, DEFAULT_CAPTURE_COOKIE_1);
	bad |= cookie_add(cfg, DEFAULT_CAPTURE_COOKIE_2);
	bad |= set_str(&cfg->upstream.user_agent, DEFAULT_USER_AGENT);
	cfg->upstream.timeout_ms = DEFAULT_TIMEOUT_MS;
	cfg->upstream.connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT_MS;
	cfg->upstream.max_response_bytes = DEFAULT_MAX_RESPONSE_BYTES;
	bad |= set_str(&cfg->upstream.ca_file, "");
	bad |= set_str(&cfg->upstream.client_id, "");
	bad |= set_str(&cfg->upstream.client_secret, "");
	cfg->upstream.client_auth = CLIENT_AUTH_BASIC;
	cfg->refresh.stale_after_ms = DEFAULT_STALE_AFTER_MS;
	cfg->refresh.concurrency = DEFAULT_CONCURRENCY;
	cfg->refresh.batch_size = DEFAULT_BATCH_SIZE;
	cfg->refresh.lease_ms = DEFAULT_LEASE_MS;
	cfg->refresh.max_runtime_ms = DEFAULT_MAX_RUNTIME_MS;
	cfg->refresh.on_logout = ON_LOGOUT_DELETE;
	cfg->refresh.ahead_ms = DEFAULT_AHEAD_MS;
	cfg->refresh.max_rate = DEFAULT_MAX_RATE;
	bad |= set_str(&cfg->refresh.keep_when, "");
	cfg->retry.attempts = DEFAULT_RETRY_ATTEMPTS;
	cfg->retry.base_delay_ms = DEFAULT_BASE_DELAY_MS;
	cfg->retry.max_delay_ms = DEFAULT_MAX_DELAY_MS;
	cfg->retry.budget = DEFAULT_RETRY_BUDGET;
	cfg->breaker.window = DEFAULT_BREAKER_WINDOW;
	cfg->breaker.logout_min = DEFAULT_LOGOUT_MIN;
	cfg->breaker.logout_share = DEFAULT_LOGOUT_SHARE;
	cfg->log.format = LOG_FORMAT_TEXT;
	cfg->log.level = LOG_LEVEL_INFO;
	bad |= set_str(&cfg->metrics.textfile, "");
	bad |= set_str(&cfg->notify.webhook_url, "");
	if (bad) {
		config_free(cfg);
		return NULL;
	}
	return cfg;
}

void config_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < NKEYS; i++) {
		if (keys[i].type == KT_STRING || keys[i].type == KT_URL || keys[i].type == KT_TABLE ||
		    keys[i].type == KT_SQL)
			free(*str_field(cfg, keys[i].off));
	}
	for (size_t i = 0; i < NROLES; i++)
		free(*str_field(cfg, roles[i].off));
	free_form(cfg);
	free_cookies(cfg);
	free(cfg->path);
	free(cfg);
}

/* ---- ${VAR} expansion ---- */

/* A growing string capped at CONFIG_MAX_VALUE_BYTES. */
struct sbuf {
	char *p;
	size_t len, cap;
	int oom, too_long;
};

static void sbuf_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->oom || b->too_long)
		return;
	if (b->len + n > CONFIG_MAX_VALUE_BYTES) {
		b->too_long = 1;
		return;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		char *grown;
		while (cap < b->len + n + 1)
			cap *= 2;
		grown = realloc(b->p, cap);
		if (grown == NULL) {
			b->oom = 1;
			return;
		}
		b->p = grown;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static int is_name_char(char c, int first)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
	    (!first && c >= '0' && c <= '9');
}

/*
 * Stands, in a value's file text (expand with file_text), for whatever the
 * environment may put there. No loaded value holds it: set_scalar refuses
 * control characters.
 */
#define ENV_MARK '\x01'

/*
 * Expands s. With file_text 0, from the environment (config_expand_env).
 * With file_text 1, nothing is looked up: the result is what the file itself
 * says, each ${VAR} as ENV_MARK and each ${VAR:-default} as its default
 * followed by ENV_MARK (the default is in the file whether or not a run uses
 * it). Returns a new string (caller frees), or NULL with a message in err.
 *
 * A default (after ":-") is taken literally up to the first '}' and may not
 * hold "${": nesting is refused rather than half-supported. Values from the
 * environment are inserted as they are, never expanded again. A '$' that
 * starts neither "$$" nor "${" is literal, so passwords with '$' survive.
 */
static char *expand(const char *s, int file_text, char *err, size_t errlen)
{
	static const char mark = ENV_MARK;
	struct sbuf b = { 0 };
	const char *p = s;
	char *name = NULL, *result = NULL;

	if (err == NULL)
		errlen = 0;
	else if (errlen > 0)
		err[0] = '\0';
	sbuf_add(&b, "", 0);
	while (*p != '\0' && !b.oom && !b.too_long) {
		const char *q, *def = NULL, *close;
		const char *val;
		size_t nlen;

		if (p[0] != '$' || (p[1] != '$' && p[1] != '{')) {
			const char *dollar = strchr(p + 1, '$');
			size_t n = dollar ? (size_t)(dollar - p) : strlen(p);
			sbuf_add(&b, p, n);
			p += n;
			continue;
		}
		if (p[1] == '$') {
			sbuf_add(&b, "$", 1);
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
				sbuf_add(&b, def, (size_t)(close - def));
			sbuf_add(&b, &mark, 1);
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
			sbuf_add(&b, def, (size_t)(close - def));
		else if (val != NULL)
			sbuf_add(&b, val, strlen(val));
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
	if (b.too_long) {
		(void)snprintf(err, errlen, "longer than %d bytes after ${VAR} expansion",
		    CONFIG_MAX_VALUE_BYTES);
		goto out;
	}
	result = b.p; /* hand-off */
	b.p = NULL;
out:
	free(name);
	free(b.p);
	return result;
}

char *config_expand_env(const char *s, char *err, size_t errlen)
{
	return expand(s, 0, err, errlen);
}

/* ---- literal secrets ---- */

/*
 * Parameters of a libpq connection string that are secrets. The others
 * (host, user, dbname, sslkey's path...) are not worth a warning.
 */
static const char *const conninfo_secrets[] = { "password", "sslpassword", NULL };

/* Whether s holds a byte of its own: one that is not ENV_MARK. */
static int has_own_byte(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s != ENV_MARK)
			return 1;
	return 0;
}

int config_secret_is_literal(const char *raw, int conninfo)
{
	PQconninfoOption *opts;
	char *text, *perr = NULL;
	int literal = 0;

	/* A mark in the raw text would pass for the environment: count it as the file's. */
	if (strchr(raw, ENV_MARK) != NULL)
		return 1;
	text = expand(raw, 1, NULL, 0);
	if (text == NULL)
		return 1; /* out of memory or malformed: say too much rather than too little */
	if (!conninfo) {
		literal = has_own_byte(text);
		goto out;
	}
	/* libpq's own parser: URI user:password@ and ?password=, key=value with quotes. What it
	 * cannot parse holds no password libpq would use. */
	opts = PQconninfoParse(text, &perr);
	if (opts == NULL)
		goto out;
	for (const PQconninfoOption *o = opts; o->keyword != NULL; o++) {
		for (const char *const *k = conninfo_secrets; *k != NULL; k++)
			if (o->val != NULL && strcmp(o->keyword, *k) == 0 && has_own_byte(o->val))
				literal = 1;
	}
	PQconninfoFree(opts);
out:
	PQfreemem(perr);
	free(text);
	return literal;
}

/* Appends item to the comma-separated list in buf (size bytes, not 0); cut if full. */
static void list_add(char *buf, size_t size, const char *item)
{
	size_t used = strlen(buf);

	(void)snprintf(buf + used, size - used, "%s%s", used > 0 ? ", " : "", item);
}

size_t config_literal_secrets(const struct config *cfg, char *names, size_t names_size,
    char *vars, size_t vars_size)
{
	char item[PATH_MAX_LEN];
	size_t n = 0;

	if (names != NULL && names_size > 0)
		names[0] = '\0';
	if (vars != NULL && vars_size > 0)
		vars[0] = '\0';
	for (size_t i = 0; i < NKEYS; i++) {
		if ((cfg->literal_secrets & (1ULL << i)) == 0)
			continue;
		n++;
		(void)snprintf(item, sizeof item, "%s.%s", keys[i].section, keys[i].name);
		if (names != NULL && names_size > 0)
			list_add(names, names_size, item);
		if (vars != NULL && vars_size > 0 && keys[i].env != NULL) {
			(void)snprintf(item, sizeof item, "${%s}", keys[i].env);
			list_add(vars, vars_size, item);
		}
	}
	return n;
}

int config_warn_readable_secrets(const struct config *cfg)
{
	char names[MSG_MAX], vars[MSG_MAX];
	struct stat st;
	size_t n;

	n = config_literal_secrets(cfg, names, sizeof names, vars, sizeof vars);
	/* stat, not lstat: what counts is who can read the file a symlink leads to. */
	if (n == 0 || stat(cfg->path, &st) != 0 || (st.st_mode & (S_IRGRP | S_IROTH)) == 0)
		return 0;
	log_warn("config", "%s: mode %04o lets other users read %s (%s); chmod 600 it, or move %s "
	    "to the environment (%s)", cfg->path, (unsigned)(st.st_mode & 07777),
	    n == 1 ? "a literal secret" : "literal secrets", names, n == 1 ? "the secret" : "them",
	    vars);
	return 1;
}

/* ---- the loader ---- */

static void load_verror(struct loader *ld, const yaml_mark_t *mark, const char *key,
    const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

/*
 * Records "name:line:col: key: problem" (no position when mark is NULL, no
 * key when key is NULL). The last slot says that more were cut.
 */
static void load_verror(struct loader *ld, const yaml_mark_t *mark, const char *key,
    const char *fmt, va_list ap)
{
	char problem[MSG_MAX], where[MSG_MAX];

	if (ld->nerr >= CONFIG_MAX_ERRORS) {
		ld->stop = 1;
		return;
	}
	ld->nerr++;
	if (ld->nerr == CONFIG_MAX_ERRORS) {
		errlist_add(ld->errs, "%s: too many errors, stopped after %d", ld->name,
		    CONFIG_MAX_ERRORS - 1);
		ld->stop = 1;
		return;
	}
	(void)vsnprintf(problem, sizeof problem, fmt, ap);
	if (mark != NULL)
		(void)snprintf(where, sizeof where, "%s:%zu:%zu", ld->name, mark->line + 1,
		    mark->column + 1);
	else
		(void)snprintf(where, sizeof where, "%s", ld->name);
	if (key != NULL && *key != '\0')
		errlist_add(ld->errs, "%s: %s: %s", where, key, problem);
	else
		errlist_add(ld->errs, "%s: %s", where, problem);
}

static void load_error(struct loader *ld, const yaml_mark_t *mark, const char *key,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void load_error(struct loader *ld, const yaml_mark_t *mark, const char *key,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	load_verror(ld, mark, key, fmt, ap);
	va_end(ap);
}

static void oom(struct loader *ld)
{
	load_error(ld, NULL, NULL, "out of memory");
	ld->stop = 1;
}

/* Reports the parser's error; reader errors carry only a byte offset. */
static void syntax_error(struct loader *ld)
{
	const yaml_parser_t *pr = &ld->parser;
	const char *problem = pr->problem ? pr->problem : "unknown error";

	if (pr->error == YAML_MEMORY_ERROR) {
		oom(ld);
		return;
	}
	if (pr->error == YAML_READER_ERROR) {
		yaml_mark_t m = { 0 };
		for (size_t i = 0; i < pr->problem_offset && i < ld->len; i++) {
			if (ld->text[i] == '\n') {
				m.line++;
				m.column = 0;
			} else {
				m.column++;
			}
		}
		load_error(ld, &m, NULL, "YAML syntax error: %s", problem);
	} else if (pr->problem_mark.index < ld->len && ld->text[pr->problem_mark.index] == '\t') {
		/* libyaml's words for a tab where a token would start are no help to a newcomer. */
		load_error(ld, &pr->problem_mark, NULL,
		    "YAML syntax error: a tab character; YAML indents and separates with spaces only");
	} else {
		load_error(ld, &pr->problem_mark, NULL, "YAML syntax error: %s", problem);
	}
	ld->stop = 1;
}

/*
 * Fetches the next event into *ev. Returns 0, or -1 (nothing to delete) on a
 * syntax error, nesting past CONFIG_MAX_DEPTH, or an earlier stop.
 */
static int next_event(struct loader *ld, yaml_event_t *ev)
{
	if (ld->stop)
		return -1;
	if (!yaml_parser_parse(&ld->parser, ev)) {
		syntax_error(ld);
		return -1;
	}
	switch (ev->type) {
	case YAML_MAPPING_START_EVENT:
	case YAML_SEQUENCE_START_EVENT:
		if (++ld->depth > CONFIG_MAX_DEPTH) {
			load_error(ld, &ev->start_mark, NULL, "nested deeper than %d levels",
			    CONFIG_MAX_DEPTH);
			yaml_event_delete(ev);
			ld->stop = 1;
			return -1;
		}
		break;
	case YAML_MAPPING_END_EVENT:
	case YAML_SEQUENCE_END_EVENT:
		ld->depth--;
		break;
	default:
		break;
	}
	return 0;
}

/* Consumes and deletes the node that starts with ev. Returns 0 or -1 (stop). */
static int skip_node(struct loader *ld, yaml_event_t *ev)
{
	int open = ev->type == YAML_MAPPING_START_EVENT || ev->type == YAML_SEQUENCE_START_EVENT;

	yaml_event_delete(ev);
	while (open > 0) {
		yaml_event_t e;
		if (next_event(ld, &e) != 0)
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

/* Reports that ev is not what path wants, then skips it. */
static int wrong_type(struct loader *ld, yaml_event_t *ev, const char *path, const char *want)
{
	load_error(ld, &ev->start_mark, path, "expected %s, got %s", want, kind_name(ev));
	return skip_node(ld, ev);
}

/* A plain empty, "~" or "null" scalar: YAML's null. */
static int is_null(const yaml_event_t *ev)
{
	const char *v;

	if (ev->type != YAML_SCALAR_EVENT || ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	v = (const char *)ev->data.scalar.value;
	return *v == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
	    strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

/*
 * The value of scalar event ev after ${VAR} expansion (caller frees), "" for
 * null; or NULL after reporting the problem at the value's position.
 */
static char *scalar_value(struct loader *ld, const yaml_event_t *ev, const char *path)
{
	const char *raw = (const char *)ev->data.scalar.value;
	char err[MSG_MAX];
	char *v;

	if (is_null(ev)) {
		v = strdup("");
		if (v == NULL)
			oom(ld);
		return v;
	}
	if (memchr(raw, '\0', ev->data.scalar.length) != NULL) {
		load_error(ld, &ev->start_mark, path, "must not contain a NUL byte");
		return NULL;
	}
	if (ev->data.scalar.length > CONFIG_MAX_VALUE_BYTES) {
		load_error(ld, &ev->start_mark, path, "longer than %d bytes", CONFIG_MAX_VALUE_BYTES);
		return NULL;
	}
	v = config_expand_env(raw, err, sizeof err);
	if (v == NULL)
		load_error(ld, &ev->start_mark, path, "%s", err);
	return v;
}

/*
 * Iterates the mapping that starts with ev (consumed), calling fn for each
 * entry with path prefix "path". Non-scalar and duplicate keys are reported
 * and their values skipped. Returns 0 or -1 (stop).
 */
static int walk_mapping(struct loader *ld, yaml_event_t *ev, const char *path, entry_fn fn,
    const void *ctx)
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

		if (next_event(ld, &k) != 0)
			goto out;
		if (k.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&k);
			break;
		}
		if (k.type != YAML_SCALAR_EVENT) {
			load_error(ld, &k.start_mark, path, "keys must be plain strings, got %s",
			    kind_name(&k));
			if (skip_node(ld, &k) != 0 || next_event(ld, &v) != 0 || skip_node(ld, &v) != 0)
				goto out;
			continue;
		}
		key = (const char *)k.data.scalar.value;
		for (size_t i = 0; i < nseen; i++) {
			if (strcmp(seen[i].key, key) == 0) {
				char esc[ECHO_BUF], full[PATH_MAX_LEN];
				(void)snprintf(full, sizeof full, "%s%s%s", path, *path ? "." : "",
				    escape(esc, key));
				load_error(ld, &k.start_mark, full, "duplicate key (first at line %zu)",
				    seen[i].line);
				dup = 1;
				break;
			}
		}
		if (!dup && nseen < SEEN_MAX) {
			seen[nseen].key = strdup(key);
			if (seen[nseen].key == NULL) {
				yaml_event_delete(&k);
				oom(ld);
				goto out;
			}
			seen[nseen++].line = k.start_mark.line + 1;
		}
		if (next_event(ld, &v) != 0) {
			yaml_event_delete(&k);
			goto out;
		}
		if (dup) {
			if (skip_node(ld, &v) != 0) {
				yaml_event_delete(&k);
				goto out;
			}
		} else if (fn(ld, ctx, path, key, &k.start_mark, &v) != 0) {
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

/* Reports an unknown key, suggesting the nearest of names or, failing that, a
 * key of that name in another section. */
static void unknown_key(struct loader *ld, const yaml_mark_t *mark, const char *path,
    const char *key, const char *const *names, size_t n)
{
	char esc[ECHO_BUF], full[PATH_MAX_LEN], hint[PATH_MAX_LEN] = "";
	const char *best = nearest(key, names, n);

	if (best != NULL) {
		(void)snprintf(hint, sizeof hint, " (did you mean '%s'?)", best);
	} else {
		for (size_t i = 0; i < NKEYS; i++) {
			if (strcmp(keys[i].name, key) == 0 && strcmp(keys[i].section, path) != 0) {
				(void)snprintf(hint, sizeof hint, " (did you mean '%s.%s'?)",
				    keys[i].section, keys[i].name);
				break;
			}
		}
	}
	(void)snprintf(full, sizeof full, "%s%s%s", path, *path ? "." : "", escape(esc, key));
	load_error(ld, mark, full, "unknown key%s", hint);
}

/* "must be one of a, b (got 'x')" */
static void enum_error(struct loader *ld, const yaml_mark_t *mark, const char *path,
    const struct enum_name *names, const char *value)
{
	char list[MSG_MAX] = "", esc[ECHO_BUF];
	size_t used = 0;

	for (const struct enum_name *e = names; e->name != NULL; e++) {
		int w = snprintf(list + used, sizeof list - used, "%s%s", used ? ", " : "", e->name);
		if (w < 0 || (size_t)w >= sizeof list - used)
			break;
		used += (size_t)w;
	}
	load_error(ld, mark, path, "must be one of %s (got '%s')", list, escape(esc, value));
}

static void set_enum(struct config *cfg, enum enum_field ef, int v)
{
	switch (ef) {
	case EF_PROFILE:
		cfg->upstream.profile = (enum profile)v;
		break;
	case EF_CLIENT_AUTH:
		cfg->upstream.client_auth = (enum client_auth)v;
		break;
	case EF_ON_LOGOUT:
		cfg->refresh.on_logout = (enum on_logout)v;
		break;
	case EF_LOG_FORMAT:
		cfg->log.format = (enum log_format)v;
		break;
	case EF_LOG_LEVEL:
		cfg->log.level = (enum log_level)v;
		break;
	case EF_ROW_SECURITY:
		cfg->database.row_security = (enum row_security)v;
		break;
	case EF_NONE:
		break;
	}
}

/*
 * With each run of digits replaced by "1", a duration that only failed for
 * being too long parses: that tells "out of range" from "malformed".
 */
static int duration_well_formed(const char *s)
{
	char shape[32];
	size_t j = 0;
	long ignored;

	while (*s != '\0') {
		char c = *s;
		if (c >= '0' && c <= '9') {
			while (*s >= '0' && *s <= '9')
				s++;
			c = '1';
		} else {
			s++;
		}
		if (j + 1 >= sizeof shape)
			return 0;
		shape[j++] = c;
	}
	shape[j] = '\0';
	return parse_duration_ms(shape, &ignored) == 0;
}

/* Parses and stores the scalar value v of key spec ks. */
static void set_scalar(struct loader *ld, const struct key_spec *ks, const char *path,
    const yaml_mark_t *mark, const char *v)
{
	struct config *cfg = ld->cfg;
	int secret = (ks->flags & KF_SECRET) != 0;
	char esc[ECHO_BUF], lo[32], hi[32];
	long l;
	double d;

	switch (ks->type) {
	case KT_SQL: {
		const char *problem = *v != '\0' ? sqlexpr_problem(v) : NULL;
		if (has_control_sql(v)) {
			load_error(ld, mark, path, "must not contain control characters (but tabs and line breaks)");
			return;
		}
		if (problem != NULL) {
			load_error(ld, mark, path, "%s", problem);
			return;
		}
		if (set_str(str_field(cfg, ks->off), v) != 0)
			oom(ld);
		return;
	}
	case KT_STRING:
	case KT_URL:
	case KT_TABLE:
		if (*v == '\0' && (ks->flags & KF_NONEMPTY)) {
			load_error(ld, mark, path, "must not be empty");
			return;
		}
		if (has_control(v)) {
			load_error(ld, mark, path, "must not contain control characters");
			return;
		}
		if (ks->type == KT_URL && *v != '\0' && !is_http_url(v)) {
			if (secret)
				load_error(ld, mark, path, "must be an http:// or https:// URL");
			else
				load_error(ld, mark, path, "must be an http:// or https:// URL (got '%s')",
				    escape(esc, v));
			return;
		}
		if (ks->type == KT_TABLE && !is_table_name(v)) {
			load_error(ld, mark, path,
			    "must be a table name, optionally schema-qualified (letters, digits, _; "
			    "at most %d bytes per part) (got '%s')",
			    MAX_IDENTIFIER_BYTES, escape(esc, v));
			return;
		}
		if (set_str(str_field(cfg, ks->off), v) != 0)
			oom(ld);
		return;
	case KT_DURATION:
		if (parse_duration_ms(v, &l) != 0 && !duration_well_formed(v)) {
			load_error(ld, mark, path,
			    "bad duration '%s' (use e.g. 500ms, 15s, 15m, 1h30m)", escape(esc, v));
			return;
		}
		if (parse_duration_ms(v, &l) != 0 || l < ks->min || l > ks->max) {
			load_error(ld, mark, path, "must be from %s to %s (got '%s')",
			    format_duration(lo, sizeof lo, ks->min),
			    format_duration(hi, sizeof hi, ks->max), escape(esc, v));
			return;
		}
		*(long *)(void *)((char *)cfg + ks->off) = l;
		return;
	case KT_INT:
	case KT_LONG:
		if (parse_long(v, ks->min, ks->max, &l) != 0) {
			load_error(ld, mark, path, "must be an integer from %ld to %ld (got '%s')",
			    ks->min, ks->max, escape(esc, v));
			return;
		}
		if (ks->type == KT_INT)
			*(int *)(void *)((char *)cfg + ks->off) = (int)l;
		else
			*(long *)(void *)((char *)cfg + ks->off) = l;
		return;
	case KT_NUMBER:
		if (parse_double(v, ks->dmin, ks->dmax, &d) != 0) {
			load_error(ld, mark, path, "must be a number from %g to %g (got '%s')",
			    ks->dmin, ks->dmax, escape(esc, v));
			return;
		}
		*(double *)(void *)((char *)cfg + ks->off) = d;
		return;
	case KT_ENUM:
		for (const struct enum_name *e = ks->names; e->name != NULL; e++) {
			if (strcmp(e->name, v) == 0) {
				set_enum(cfg, ks->ef, e->value);
				return;
			}
		}
		enum_error(ld, mark, path, ks->names, v);
		return;
	case KT_COLUMNS:
	case KT_FORM:
	case KT_COOKIES:
		break;
	}
}

/* database.columns: role -> column. */
static int column_entry(struct loader *ld, const void *ctx, const char *path, const char *key,
    const yaml_mark_t *kmark, yaml_event_t *val)
{
	const char *names[NROLES];
	char full[PATH_MAX_LEN], esc[ECHO_BUF];
	size_t r;
	char *v;

	(void)ctx;
	for (r = 0; r < NROLES; r++) {
		names[r] = roles[r].name;
		if (strcmp(roles[r].name, key) == 0)
			break;
	}
	if (r == NROLES) {
		unknown_key(ld, kmark, path, key, names, NROLES);
		return skip_node(ld, val);
	}
	(void)snprintf(full, sizeof full, "%s.%s", path, key);
	ld->role_given[r] = 1;
	ld->role_marks[r] = *kmark;
	ld->cfg->role_pos[r].line = (unsigned)kmark->line + 1;
	ld->cfg->role_pos[r].col = (unsigned)kmark->column + 1;
	if (val->type != YAML_SCALAR_EVENT)
		return wrong_type(ld, val, full, "a column name");
	v = scalar_value(ld, val, full);
	if (v != NULL) {
		if (*v == '\0' && roles[r].required)
			load_error(ld, &val->start_mark, full, "must name a column");
		else if (*v != '\0' && !is_identifier(v, strlen(v)))
			load_error(ld, &val->start_mark, full,
			    "must be a column name (letters, digits, _; at most %d bytes) (got '%s')",
			    MAX_IDENTIFIER_BYTES, escape(esc, v));
		else if (set_str(str_field(ld->cfg, roles[r].off), v) != 0)
			oom(ld);
	}
	free(v);
	yaml_event_delete(val);
	return 0;
}

/* upstream.form: name -> value. */
static int form_entry(struct loader *ld, const void *ctx, const char *path, const char *key,
    const yaml_mark_t *kmark, yaml_event_t *val)
{
	char full[PATH_MAX_LEN], esc[ECHO_BUF];
	char *v;

	(void)ctx;
	(void)snprintf(full, sizeof full, "%s.%s", path, escape(esc, key));
	if (*key == '\0') {
		load_error(ld, kmark, path, "empty field name");
		return skip_node(ld, val);
	}
	if (ld->cfg->upstream.nform >= MAX_FORM_FIELDS) {
		load_error(ld, kmark, full, "more than %d fields", MAX_FORM_FIELDS);
		return skip_node(ld, val);
	}
	if (val->type != YAML_SCALAR_EVENT)
		return wrong_type(ld, val, full, "a single value");
	v = scalar_value(ld, val, full);
	if (v != NULL) {
		ld->form_marks[ld->cfg->upstream.nform] = *kmark;
		if (form_add(ld->cfg, key, v) != 0)
			oom(ld);
	}
	free(v);
	yaml_event_delete(val);
	return 0;
}

/* upstream.capture_cookies: the sequence that starts with ev (consumed). */
static int load_cookies(struct loader *ld, yaml_event_t *ev, const char *path)
{
	char full[PATH_MAX_LEN + 24], esc[ECHO_BUF];

	yaml_event_delete(ev);
	for (size_t i = 0;; i++) {
		yaml_event_t item;
		char *v;
		int dup = 0;

		if (next_event(ld, &item) != 0)
			return -1;
		if (item.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&item);
			return 0;
		}
		(void)snprintf(full, sizeof full, "%s[%zu]", path, i);
		if (ld->cfg->upstream.ncapture >= MAX_CAPTURE_COOKIES) {
			load_error(ld, &item.start_mark, path, "more than %d names", MAX_CAPTURE_COOKIES);
			if (skip_node(ld, &item) != 0)
				return -1;
			/* One error is enough: skip the rest of the list quietly. */
			for (;;) {
				if (next_event(ld, &item) != 0)
					return -1;
				if (item.type == YAML_SEQUENCE_END_EVENT) {
					yaml_event_delete(&item);
					return 0;
				}
				if (skip_node(ld, &item) != 0)
					return -1;
			}
		}
		if (item.type != YAML_SCALAR_EVENT) {
			if (wrong_type(ld, &item, full, "a cookie name") != 0)
				return -1;
			continue;
		}
		v = scalar_value(ld, &item, full);
		if (v != NULL) {
			for (size_t j = 0; j < ld->cfg->upstream.ncapture; j++)
				dup |= strcmp(ld->cfg->upstream.capture_cookies[j], v) == 0;
			if (!is_cookie_name(v))
				load_error(ld, &item.start_mark, full,
				    "must be a cookie name (no spaces, separators or control characters)"
				    " (got '%s')", escape(esc, v));
			else if (dup)
				load_error(ld, &item.start_mark, full, "duplicate name '%s'",
				    escape(esc, v));
			else if (cookie_add(ld->cfg, v) != 0)
				oom(ld);
		}
		free(v);
		yaml_event_delete(&item);
	}
}

/* One key of a section. */
static int section_entry(struct loader *ld, const void *ctx, const char *path, const char *key,
    const yaml_mark_t *kmark, yaml_event_t *val)
{
	const char *names[NKEYS];
	size_t n = 0, idx = NKEYS;
	const struct key_spec *ks;
	char full[PATH_MAX_LEN];
	char *v;

	(void)ctx;
	for (size_t i = 0; i < NKEYS; i++) {
		if (strcmp(keys[i].section, path) != 0)
			continue;
		names[n++] = keys[i].name;
		if (strcmp(keys[i].name, key) == 0)
			idx = i;
	}
	if (idx == NKEYS) {
		unknown_key(ld, kmark, path, key, names, n);
		return skip_node(ld, val);
	}
	ks = &keys[idx];
	ld->given[idx] = 1;
	ld->marks[idx] = *kmark;
	ld->cfg->pos[idx].line = (unsigned)kmark->line + 1;
	ld->cfg->pos[idx].col = (unsigned)kmark->column + 1;
	(void)snprintf(full, sizeof full, "%s.%s", path, key);
	switch (ks->type) {
	case KT_COLUMNS:
		if (is_null(val))
			break;
		if (val->type != YAML_MAPPING_START_EVENT)
			return wrong_type(ld, val, full, "a mapping of role: column");
		return walk_mapping(ld, val, full, column_entry, NULL);
	case KT_FORM:
		free_form(ld->cfg);
		if (is_null(val))
			break;
		if (val->type != YAML_MAPPING_START_EVENT)
			return wrong_type(ld, val, full, "a mapping of field: value");
		return walk_mapping(ld, val, full, form_entry, NULL);
	case KT_COOKIES:
		free_cookies(ld->cfg);
		if (is_null(val))
			break;
		if (val->type != YAML_SEQUENCE_START_EVENT)
			return wrong_type(ld, val, full, "a list of cookie names");
		return load_cookies(ld, val, full);
	default:
		if (val->type != YAML_SCALAR_EVENT)
			return wrong_type(ld, val, full, "a single value");
		v = scalar_value(ld, val, full);
		if (v != NULL)
			set_scalar(ld, ks, full, &val->start_mark, v);
		if (v != NULL && (ks->flags & KF_SECRET) && !is_null(val) &&
		    config_secret_is_literal((const char *)val->data.scalar.value,
			(ks->flags & KF_CONNINFO) != 0))
			ld->cfg->literal_secrets |= 1ULL << idx;
		free(v);
		break;
	}
	yaml_event_delete(val);
	return 0;
}

/* One section of the top level. */
static int root_entry(struct loader *ld, const void *ctx, const char *path, const char *key,
    const yaml_mark_t *kmark, yaml_event_t *val)
{
	(void)ctx;
	(void)path;
	for (size_t i = 0; i < NSECTIONS; i++) {
		if (strcmp(sections[i], key) != 0)
			continue;
		if (is_null(val)) {
			yaml_event_delete(val);
			return 0;
		}
		if (val->type != YAML_MAPPING_START_EVENT)
			return wrong_type(ld, val, sections[i], "a mapping");
		return walk_mapping(ld, val, sections[i], section_entry, NULL);
	}
	unknown_key(ld, kmark, "", key, sections, NSECTIONS);
	return skip_node(ld, val);
}

/* Reads the stream: at most one document whose root is a mapping. */
static int load_stream(struct loader *ld)
{
	yaml_event_t ev;

	if (next_event(ld, &ev) != 0) /* stream start */
		return -1;
	yaml_event_delete(&ev);
	if (next_event(ld, &ev) != 0)
		return -1;
	if (ev.type == YAML_STREAM_END_EVENT) {
		yaml_event_delete(&ev);
		return 0;
	}
	yaml_event_delete(&ev); /* document start */
	if (next_event(ld, &ev) != 0)
		return -1;
	if (is_null(&ev)) {
		yaml_event_delete(&ev);
	} else if (ev.type != YAML_MAPPING_START_EVENT) {
		if (wrong_type(ld, &ev, "top level", "a mapping of sections") != 0)
			return -1;
	} else if (walk_mapping(ld, &ev, "", root_entry, NULL) != 0) {
		return -1;
	}
	if (next_event(ld, &ev) != 0) /* document end */
		return -1;
	yaml_event_delete(&ev);
	if (next_event(ld, &ev) != 0)
		return -1;
	if (ev.type == YAML_DOCUMENT_START_EVENT)
		load_error(ld, &ev.start_mark, NULL, "only one YAML document is allowed");
	yaml_event_delete(&ev);
	return 0;
}

static size_t key_index(const char *section, const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].name, name) == 0)
			return i;
	return NKEYS; /* not reached: callers name keys of the table */
}

/* Mark of the first given of keys a, b (NULL if neither was in the file). */
static const yaml_mark_t *mark_of(const struct loader *ld, size_t a, size_t b)
{
	if (a < NKEYS && ld->given[a])
		return &ld->marks[a];
	if (b < NKEYS && ld->given[b])
		return &ld->marks[b];
	return NULL;
}

/* Checks that span keys, and applies profile-dependent defaults. */
static void finish(struct loader *ld)
{
	struct config *cfg = ld->cfg;
	size_t url = key_index("database", "url");
	size_t form = key_index("upstream", "form");
	size_t base = key_index("retry", "base_delay"), max = key_index("retry", "max_delay");
	size_t lease = key_index("refresh", "lease"), timeout = key_index("upstream", "timeout");
	const char *const *reserved;
	char a[32];

	if (!ld->given[url])
		load_error(ld, NULL, "database.url", "required");
	if (cfg->upstream.profile == PROFILE_OAUTH2) {
		/* ciclo=1 and the cookie/fingerprint columns belong to aimharder. */
		if (!ld->given[form])
			free_form(cfg);
		for (size_t r = 0; r < NROLES; r++) {
			if ((strcmp(roles[r].name, "cookies") == 0 ||
			     strcmp(roles[r].name, "fingerprint") == 0) && !ld->role_given[r] &&
			    set_str(str_field(cfg, roles[r].off), "") != 0)
				oom(ld);
		}
	}
	reserved = cfg->upstream.profile == PROFILE_OAUTH2 ? reserved_oauth2 : reserved_aimharder;
	for (size_t i = 0; i < cfg->upstream.nform && ld->given[form]; i++) {
		for (const char *const *r = reserved; *r != NULL; r++) {
			if (strcmp(cfg->upstream.form[i].name, *r) == 0) {
				char full[PATH_MAX_LEN];
				(void)snprintf(full, sizeof full, "upstream.form.%s", *r);
				load_error(ld, &ld->form_marks[i], full,
				    "reserved: the refresher sets this field itself");
			}
		}
	}
	if (cfg->upstream.profile == PROFILE_AIMHARDER && cfg->database.columns.fingerprint[0] == '\0' &&
	    cfg->upstream.fingerprint[0] == '\0') {
		size_t fp = key_index("upstream", "fingerprint");
		load_error(ld, ld->given[fp] ? &ld->marks[fp] : NULL, "upstream.fingerprint",
		    "must be set when database.columns.fingerprint is \"\" (every request needs one)");
	}
	if (cfg->retry.base_delay_ms > cfg->retry.max_delay_ms)
		load_error(ld, mark_of(ld, base, max), "retry.base_delay",
		    "must not be more than retry.max_delay (%s)",
		    format_duration(a, sizeof a, cfg->retry.max_delay_ms));
	if (cfg->refresh.lease_ms <= cfg->upstream.timeout_ms)
		load_error(ld, mark_of(ld, lease, timeout), "refresh.lease",
		    "must be longer than upstream.timeout (%s)",
		    format_duration(a, sizeof a, cfg->upstream.timeout_ms));
	/* Two roles on one column would write one over the other. PostgreSQL
	 * folds unquoted names to lower case, so compare without case. */
	for (size_t i = 0; i < NROLES; i++) {
		const char *ci = *str_field(cfg, roles[i].off);
		for (size_t j = i + 1; j < NROLES && *ci != '\0'; j++) {
			if (strcasecmp(ci, *str_field(cfg, roles[j].off)) == 0) {
				size_t later = ld->role_given[j] ? j : i;
				char full[PATH_MAX_LEN];
				(void)snprintf(full, sizeof full, "database.columns.%s",
				    roles[later].name);
				load_error(ld, ld->role_given[later] ? &ld->role_marks[later] : NULL, full,
				    "same column as database.columns.%s",
				    roles[later == j ? i : j].name);
			}
		}
	}
}

int config_load_string(const char *name, const char *text, size_t len, struct config **out,
    struct errlist *errs)
{
	struct loader *ld = NULL;
	int ret = -1, parser_ready = 0;

	*out = NULL;
	ld = calloc(1, sizeof *ld);
	if (ld == NULL) {
		errlist_add(errs, "%s: out of memory", name);
		return -1;
	}
	ld->name = name;
	ld->text = text;
	ld->len = len;
	ld->errs = errs;
	if (len > CONFIG_MAX_BYTES) {
		load_error(ld, NULL, NULL, "larger than %d bytes", CONFIG_MAX_BYTES);
		goto out;
	}
	ld->cfg = config_new();
	if (ld->cfg == NULL || set_str(&ld->cfg->path, name) != 0) {
		oom(ld);
		goto out;
	}
	if (!yaml_parser_initialize(&ld->parser)) {
		oom(ld);
		goto out;
	}
	parser_ready = 1;
	yaml_parser_set_input_string(&ld->parser, (const unsigned char *)text, len);
	if (load_stream(ld) == 0 && !ld->stop)
		finish(ld);
	if (ld->nerr == 0) {
		*out = ld->cfg;
		ld->cfg = NULL;
		ret = 0;
	}
out:
	if (parser_ready)
		yaml_parser_delete(&ld->parser);
	config_free(ld->cfg);
	free(ld);
	return ret;
}

int config_load(const char *path, struct config **out, struct errlist *errs)
{
	FILE *f = NULL;
	char *text = NULL;
	size_t len;
	int ret = -1;

	*out = NULL;
	f = fopen(path, "re");
	if (f == NULL) {
		errlist_add(errs, "%s: cannot read: %s", path, strerror(errno));
		goto out;
	}
	text = malloc(CONFIG_MAX_BYTES + 1);
	if (text == NULL) {
		errlist_add(errs, "%s: out of memory", path);
		goto out;
	}
	/* One byte more than allowed tells "too large" from "exactly at the cap". */
	len = fread(text, 1, CONFIG_MAX_BYTES + 1, f);
	if (ferror(f)) {
		errlist_add(errs, "%s: cannot read: %s", path, strerror(errno));
		goto out;
	}
	if (len > CONFIG_MAX_BYTES) {
		errlist_add(errs, "%s: larger than %d bytes", path, CONFIG_MAX_BYTES);
		goto out;
	}
	if (fclose(f) != 0) {
		f = NULL;
		errlist_add(errs, "%s: cannot read: %s", path, strerror(errno));
		goto out;
	}
	f = NULL;
	ret = config_load_string(path, text, len, out, errs);
out:
	if (f != NULL)
		(void)fclose(f);
	free(text);
	return ret;
}
