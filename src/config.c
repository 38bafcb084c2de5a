/* config.c - refresher.yaml: the key table (types, limits, defaults), its setters, validation. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "confdiag.h"
#include "config.h"
#include "confyaml.h"
#include "defaults.h"
#include "envexpand.h"
#include "parse.h"
#include "profile.h"
#include "secrets.h"
#include "sqlexpr.h"

enum key_type {
	KT_STRING,   /* char *, no control characters */
	KT_URL,      /* char *, "" or an http(s):// URL */
	KT_TABLE,    /* char *, [schema.]table */
	KT_SQL,      /* char *, "" or one SQL expression (sqlexpr_problem); may span lines */
	KT_DURATION, /* long ms in [min, max] */
	KT_INT,      /* int in [min, max] */
	KT_LONG,     /* long in [min, max] */
	KT_NUMBER,   /* double in [dmin, dmax] */
	KT_ENUM,     /* an enum field (int-sized), one of names[] */
	KT_PROFILE,  /* enum profile: the name of a profile in profile.c's table */
	KT_COLUMNS,  /* mapping role -> column; as text "role=column role=column" */
	KT_MAP,      /* struct kvlist, mapping name -> value; as text "name=value name=value" */
	KT_COOKIES,  /* sequence of cookie names; as text "name name" */
	KT_STATUSES, /* struct statuslist, sequence of HTTP statuses; as text "401 403" */
	KT_POINTER,  /* char *, "" or a JSON Pointer (RFC 6901): starts with '/' */
	KT_SECTION,  /* a mapping whose keys are the rows of section "<section>.<name>"; as text "" */
};

#define KF_SECRET 0x1   /* never echo the value */
#define KF_NONEMPTY 0x2 /* "" is an error */
#define KF_CONNINFO 0x4 /* a libpq connection string: only its password is a secret */
#define KF_JSON_STRINGS 0x8 /* KT_MAP: values are sent as JSON strings (a plain 1 or true is refused) */
#define KF_HEADERS 0x10 /* KT_MAP: request headers (names are tokens; no control characters) */

/* KT_ENUM fields are stored as an int: each enum must be one. */
_Static_assert(sizeof(enum profile) == sizeof(int), "KT_ENUM stores an int");
_Static_assert(sizeof(enum client_auth) == sizeof(int), "KT_ENUM stores an int");
_Static_assert(sizeof(enum on_logout) == sizeof(int), "KT_ENUM stores an int");
_Static_assert(sizeof(enum row_security) == sizeof(int), "KT_ENUM stores an int");
_Static_assert(sizeof(enum log_format) == sizeof(int), "KT_ENUM stores an int");
_Static_assert(sizeof(enum log_level) == sizeof(int), "KT_ENUM stores an int");

static const struct name_value client_auth_names[] = {
	{ "basic", CLIENT_AUTH_BASIC }, { "form", CLIENT_AUTH_FORM }, { NULL, 0 } };
static const struct name_value on_logout_names[] = {
	{ "delete", ON_LOGOUT_DELETE }, { "keep", ON_LOGOUT_KEEP }, { NULL, 0 } };
static const struct name_value row_security_names[] = {
	{ "refuse", ROW_SECURITY_REFUSE }, { "allow", ROW_SECURITY_ALLOW }, { NULL, 0 } };

/*
 * One key of the file. Its value lives at off in struct config (KT_COLUMNS,
 * KT_COOKIES: the fields their setters name). def is its default as
 * the file would spell it, applied by config_new through the same setter as a
 * value from the file; NULL only for a required key (a string, "" until set).
 */
struct key_spec {
	const char *section;
	const char *name;
	enum key_type type;
	size_t off;
	long min, max;
	double dmin, dmax;
	const struct name_value *names;
	unsigned flags;
	const char *env; /* KF_SECRET: the variable the shipped configs read it from */
	const char *def;
};

#define OFF(member) offsetof(struct config, member)

static const char *const sections[] = {
	"database", "upstream", "refresh", "retry", "breaker", "log", "metrics", "notify",
};
#define NSECTIONS (sizeof sections / sizeof sections[0])

static const struct key_spec keys[] = {
	{ .section = "database", .name = "url", .type = KT_STRING, .off = OFF(database.url),
	  .flags = KF_SECRET | KF_NONEMPTY | KF_CONNINFO, .env = "DATABASE_URL", .def = NULL },
	{ .section = "database", .name = "table", .type = KT_TABLE, .off = OFF(database.table),
	  .def = DEFAULT_TABLE },
	{ .section = "database", .name = "columns", .type = KT_COLUMNS,
	  .def = "id=" DEFAULT_COL_ID " email=" DEFAULT_COL_EMAIL " token=" DEFAULT_COL_TOKEN
		 " cookies=" DEFAULT_COL_COOKIES " fingerprint=" DEFAULT_COL_FINGERPRINT
		 " access_token= expires_at=" },
	{ .section = "database", .name = "outage_timeout", .type = KT_DURATION,
	  .off = OFF(database.outage_timeout_ms), .min = 1, .max = MAX_DURATION_MS,
	  .def = DEFAULT_DB_OUTAGE },
	{ .section = "database", .name = "where", .type = KT_SQL, .off = OFF(database.where),
	  .def = "" },
	{ .section = "database", .name = "row_security", .type = KT_ENUM,
	  .off = OFF(database.row_security), .names = row_security_names,
	  .def = DEFAULT_ROW_SECURITY },
	{ .section = "upstream", .name = "profile", .type = KT_PROFILE, .off = OFF(upstream.profile),
	  .def = DEFAULT_PROFILE },
	{ .section = "upstream", .name = "url", .type = KT_URL, .off = OFF(upstream.url),
	  .flags = KF_NONEMPTY, .def = DEFAULT_UPSTREAM_URL },
	{ .section = "upstream", .name = "fingerprint", .type = KT_STRING,
	  .off = OFF(upstream.fingerprint), .flags = KF_SECRET, .env = "AIMHARDER_FINGERPRINT",
	  .def = "" },
	{ .section = "upstream", .name = "form", .type = KT_MAP, .off = OFF(upstream.form),
	  .def = DEFAULT_FORM },
	{ .section = "upstream", .name = "capture_cookies", .type = KT_COOKIES,
	  .def = DEFAULT_CAPTURE_COOKIES },
	{ .section = "upstream", .name = "user_agent", .type = KT_STRING,
	  .off = OFF(upstream.user_agent), .def = DEFAULT_USER_AGENT },
	{ .section = "upstream", .name = "timeout", .type = KT_DURATION,
	  .off = OFF(upstream.timeout_ms), .min = 1, .max = MAX_DURATION_MS,
	  .def = DEFAULT_TIMEOUT },
	{ .section = "upstream", .name = "connect_timeout", .type = KT_DURATION,
	  .off = OFF(upstream.connect_timeout_ms), .min = 1, .max = MAX_DURATION_MS,
	  .def = DEFAULT_CONNECT_TIMEOUT },
	{ .section = "upstream", .name = "max_response_bytes", .type = KT_LONG,
	  .off = OFF(upstream.max_response_bytes), .min = 1, .max = MAX_RESPONSE_BYTES_LIMIT,
	  .def = DEFAULT_MAX_RESPONSE_BYTES },
	{ .section = "upstream", .name = "ca_file", .type = KT_STRING, .off = OFF(upstream.ca_file),
	  .def = "" },
	{ .section = "upstream", .name = "client_id", .type = KT_STRING,
	  .off = OFF(upstream.client_id), .def = "" },
	{ .section = "upstream", .name = "client_secret", .type = KT_STRING,
	  .off = OFF(upstream.client_secret), .flags = KF_SECRET, .env = "OAUTH_CLIENT_SECRET",
	  .def = "" },
	{ .section = "upstream", .name = "client_auth", .type = KT_ENUM,
	  .off = OFF(upstream.client_auth), .names = client_auth_names,
	  .def = DEFAULT_CLIENT_AUTH },
	{ .section = "upstream", .name = "json", .type = KT_SECTION, .def = "" },
	{ .section = "upstream.json", .name = "body", .type = KT_MAP, .off = OFF(upstream.json.body),
	  .flags = KF_JSON_STRINGS, .def = DEFAULT_JSON_BODY },
	{ .section = "upstream.json", .name = "headers", .type = KT_MAP,
	  .off = OFF(upstream.json.headers), .flags = KF_HEADERS, .def = "" },
	{ .section = "upstream.json", .name = "token", .type = KT_POINTER,
	  .off = OFF(upstream.json.token), .def = DEFAULT_JSON_TOKEN },
	{ .section = "upstream.json", .name = "access_token", .type = KT_POINTER,
	  .off = OFF(upstream.json.access_token), .def = DEFAULT_JSON_ACCESS_TOKEN },
	{ .section = "upstream.json", .name = "expires_in", .type = KT_POINTER,
	  .off = OFF(upstream.json.expires_in), .def = "" },
	{ .section = "upstream.json", .name = "expires_at", .type = KT_POINTER,
	  .off = OFF(upstream.json.expires_at), .def = "" },
	{ .section = "upstream.json", .name = "logout_status", .type = KT_STATUSES,
	  .off = OFF(upstream.json.logout_status), .def = DEFAULT_LOGOUT_STATUS },
	{ .section = "refresh", .name = "stale_after", .type = KT_DURATION,
	  .off = OFF(refresh.stale_after_ms), .min = 0, .max = MAX_DURATION_MS,
	  .def = DEFAULT_STALE_AFTER },
	{ .section = "refresh", .name = "concurrency", .type = KT_INT,
	  .off = OFF(refresh.concurrency), .min = 1, .max = MAX_CONCURRENCY,
	  .def = DEFAULT_CONCURRENCY },
	{ .section = "refresh", .name = "batch_size", .type = KT_INT,
	  .off = OFF(refresh.batch_size), .min = 1, .max = MAX_BATCH_SIZE,
	  .def = DEFAULT_BATCH_SIZE },
	{ .section = "refresh", .name = "lease", .type = KT_DURATION, .off = OFF(refresh.lease_ms),
	  .min = MIN_LEASE_MS, .max = MAX_DURATION_MS, .def = DEFAULT_LEASE },
	{ .section = "refresh", .name = "max_runtime", .type = KT_DURATION,
	  .off = OFF(refresh.max_runtime_ms), .min = 0, .max = MAX_DURATION_MS,
	  .def = DEFAULT_MAX_RUNTIME },
	{ .section = "refresh", .name = "on_logout", .type = KT_ENUM,
	  .off = OFF(refresh.on_logout), .names = on_logout_names, .def = DEFAULT_ON_LOGOUT },
	{ .section = "refresh", .name = "ahead", .type = KT_DURATION, .off = OFF(refresh.ahead_ms),
	  .min = 0, .max = MAX_DURATION_MS, .def = DEFAULT_AHEAD },
	{ .section = "refresh", .name = "max_rate", .type = KT_NUMBER, .off = OFF(refresh.max_rate),
	  .dmin = 0.0, .dmax = MAX_RATE, .def = DEFAULT_MAX_RATE },
	{ .section = "refresh", .name = "keep_when", .type = KT_SQL, .off = OFF(refresh.keep_when),
	  .def = "" },
	{ .section = "retry", .name = "attempts", .type = KT_INT, .off = OFF(retry.attempts),
	  .min = 1, .max = MAX_RETRY_ATTEMPTS, .def = DEFAULT_RETRY_ATTEMPTS },
	{ .section = "retry", .name = "base_delay", .type = KT_DURATION,
	  .off = OFF(retry.base_delay_ms), .min = 0, .max = MAX_DURATION_MS,
	  .def = DEFAULT_BASE_DELAY },
	{ .section = "retry", .name = "max_delay", .type = KT_DURATION,
	  .off = OFF(retry.max_delay_ms), .min = 0, .max = MAX_DURATION_MS,
	  .def = DEFAULT_MAX_DELAY },
	{ .section = "retry", .name = "budget", .type = KT_NUMBER, .off = OFF(retry.budget),
	  .dmin = 0.0, .dmax = MAX_RETRY_BUDGET, .def = DEFAULT_RETRY_BUDGET },
	{ .section = "breaker", .name = "window", .type = KT_INT, .off = OFF(breaker.window),
	  .min = 0, .max = MAX_BREAKER_WINDOW, .def = DEFAULT_BREAKER_WINDOW },
	{ .section = "breaker", .name = "logout_min", .type = KT_INT, .off = OFF(breaker.logout_min),
	  .min = 0, .max = MAX_LOGOUT_MIN, .def = DEFAULT_LOGOUT_MIN },
	{ .section = "breaker", .name = "logout_share", .type = KT_NUMBER,
	  .off = OFF(breaker.logout_share), .dmin = 0.0, .dmax = 1.0, .def = DEFAULT_LOGOUT_SHARE },
	{ .section = "log", .name = "format", .type = KT_ENUM, .off = OFF(log.format),
	  .names = log_format_names, .def = DEFAULT_LOG_FORMAT },
	{ .section = "log", .name = "level", .type = KT_ENUM, .off = OFF(log.level),
	  .names = log_level_names, .def = DEFAULT_LOG_LEVEL },
	{ .section = "metrics", .name = "textfile", .type = KT_STRING, .off = OFF(metrics.textfile),
	  .def = "" },
	/* A Slack or Discord webhook URL carries its credential in the path. */
	{ .section = "notify", .name = "webhook_url", .type = KT_URL, .off = OFF(notify.webhook_url),
	  .flags = KF_SECRET, .env = "REFRESHER_WEBHOOK_URL", .def = "" },
};
#define NKEYS (sizeof keys / sizeof keys[0])
_Static_assert(NKEYS <= 64, "struct config's literal_secrets has one bit per key");
_Static_assert(NKEYS <= CONFIG_KEYS_MAX, "struct config's pos has one entry per key");

/* database.columns roles (their defaults: the columns key's); id and token cannot be absent. */
static const struct role {
	const char *name;
	size_t off;
	int required;
	unsigned uses; /* PROFILE_USES_* bit: "" unless the profile uses it or the file maps it */
} roles[] = {
	{ "id", OFF(database.columns.id), 1, 0 },
	{ "email", OFF(database.columns.email), 0, 0 },
	{ "token", OFF(database.columns.token), 1, 0 },
	{ "cookies", OFF(database.columns.cookies), 0, PROFILE_USES_COOKIES },
	{ "fingerprint", OFF(database.columns.fingerprint), 0, PROFILE_USES_FINGERPRINT },
	{ "access_token", OFF(database.columns.access_token), 0, 0 },
	{ "expires_at", OFF(database.columns.expires_at), 0, 0 },
};
#define NROLES (sizeof roles / sizeof roles[0])
_Static_assert(NROLES <= CONFIG_ROLES_MAX, "struct config's role_pos has one entry per role");

/* What a setter made of a value. */
enum set_result {
	SET_OK,
	SET_BAD, /* refused; the problem is in why, the config unchanged */
	SET_OOM,
};

/* State of one load; lives on the heap of config_load_string. */
struct loader {
	struct confyaml y;         /* the walk, its errors */
	struct config *cfg;        /* owned until handed to the caller */
	int given[NKEYS];          /* key present in the file (even if invalid) */
	yaml_mark_t marks[NKEYS];  /* of each given key */
	int role_given[NROLES];
	yaml_mark_t role_marks[NROLES];
	yaml_mark_t form_marks[MAX_FORM_FIELDS]; /* of upstream.form's names */
	const struct key_spec *map;  /* the KT_MAP key map_entry is walking */
};

int config_locate(const struct config *cfg, const char *key, char *buf, size_t size)
{
	static const char cols[] = "database.columns.";
	const struct config_pos *p = NULL;
	if (strncmp(key, cols, sizeof cols - 1) == 0) {
		for (size_t r = 0; r < NROLES; r++)
			if (strcmp(key + sizeof cols - 1, roles[r].name) == 0)
				p = &cfg->role_pos[r];
	} else {
		const char *dot = strrchr(key, '.'); /* "upstream.json.token": section "upstream.json" */
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

size_t config_edit_distance(const char *a, const char *b)
{
	return confdiag_edit_distance(a, b);
}

char *config_expand_env(const char *s, char *err, size_t errlen)
{
	return envexpand(s, err, errlen);
}

int config_secret_is_literal(const char *raw, int conninfo)
{
	return secrets_is_literal(raw, conninfo);
}

/* ---- checks of values ---- */

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

/* An RFC 7230 token: a header name, or an RFC 6265 cookie-name. */
static int is_http_token(const char *s)
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

/* ---- fields of struct config ---- */

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

static char *const *str_field_const(const struct config *cfg, size_t off)
{
	return (char *const *)(const void *)((const char *)cfg + off);
}

/* An int or an int-sized enum, copied bytewise (an enum is not an int to the compiler). */
static void int_store(struct config *cfg, size_t off, int v)
{
	memcpy((char *)cfg + off, &v, sizeof v);
}

static int int_load(const struct config *cfg, size_t off)
{
	int v;

	memcpy(&v, (const char *)cfg + off, sizeof v);
	return v;
}

static long *long_field(struct config *cfg, size_t off)
{
	return (long *)(void *)((char *)cfg + off);
}

static double *double_field(struct config *cfg, size_t off)
{
	return (double *)(void *)((char *)cfg + off);
}

static int is_string_type(enum key_type t)
{
	return t == KT_STRING || t == KT_URL || t == KT_TABLE || t == KT_SQL || t == KT_POINTER;
}

static struct kvlist *kvlist_field(struct config *cfg, size_t off)
{
	return (struct kvlist *)(void *)((char *)cfg + off);
}

static struct statuslist *status_field(struct config *cfg, size_t off)
{
	return (struct statuslist *)(void *)((char *)cfg + off);
}

static void free_kvlist(struct kvlist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].name);
		if (l->v[i].value != NULL) /* may hold a credential (a header) */
			explicit_bzero(l->v[i].value, strlen(l->v[i].value));
		free(l->v[i].value);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static void free_cookies(struct config *cfg)
{
	for (size_t i = 0; i < cfg->upstream.ncapture; i++)
		free(cfg->upstream.capture_cookies[i]);
	free(cfg->upstream.capture_cookies);
	cfg->upstream.capture_cookies = NULL;
	cfg->upstream.ncapture = 0;
}

/* Appends name=value to l (both copied). Returns 0, or -1 on OOM. */
static int kvlist_add(struct kvlist *l, const char *name, const char *value)
{
	struct kv *grown;
	char *n = strdup(name), *v = strdup(value);

	grown = (n && v) ? realloc(l->v, (l->n + 1) * sizeof *grown) : NULL;
	if (grown == NULL) {
		free(n);
		free(v);
		return -1;
	}
	l->v = grown;
	grown[l->n].name = n;
	grown[l->n].value = v;
	l->n++;
	return 0;
}

/* ---- setters: one value, from the file or a default ---- */

/* database.columns.<roles[r]> = v. */
static enum set_result column_set(struct config *cfg, size_t r, const char *v, char *why,
    size_t size)
{
	char esc[CONFDIAG_ECHO_BUF];

	if (*v == '\0' && roles[r].required) {
		(void)snprintf(why, size, "must name a column");
		return SET_BAD;
	}
	if (*v != '\0' && !is_identifier(v, strlen(v))) {
		(void)snprintf(why, size,
		    "must be a column name (letters, digits, _; at most %d bytes) (got '%s')",
		    MAX_IDENTIFIER_BYTES, confdiag_escape(esc, v));
		return SET_BAD;
	}
	return set_str(str_field(cfg, roles[r].off), v) == 0 ? SET_OK : SET_OOM;
}

/* Appends v to upstream.capture_cookies. */
static enum set_result cookie_set(struct config *cfg, const char *v, char *why, size_t size)
{
	char esc[CONFDIAG_ECHO_BUF];
	char **grown, *copy;
	int dup = 0;

	for (size_t j = 0; j < cfg->upstream.ncapture; j++)
		dup |= strcmp(cfg->upstream.capture_cookies[j], v) == 0;
	if (!is_http_token(v)) {
		(void)snprintf(why, size,
		    "must be a cookie name (no spaces, separators or control characters) (got '%s')",
		    confdiag_escape(esc, v));
		return SET_BAD;
	}
	if (dup) {
		(void)snprintf(why, size, "duplicate name '%s'", confdiag_escape(esc, v));
		return SET_BAD;
	}
	copy = strdup(v);
	grown = copy ? realloc(cfg->upstream.capture_cookies,
			   (cfg->upstream.ncapture + 1) * sizeof *grown)
		     : NULL;
	if (grown == NULL) {
		free(copy);
		return SET_OOM;
	}
	cfg->upstream.capture_cookies = grown;
	grown[cfg->upstream.ncapture++] = copy;
	return SET_OK;
}

/* Appends v, an HTTP status that is not transient, to the statuses at off. */
static enum set_result status_set(struct config *cfg, size_t off, const char *v, char *why,
    size_t size)
{
	struct statuslist *l = status_field(cfg, off);
	char esc[CONFDIAG_ECHO_BUF];
	long st;

	if (parse_long(v, 100, 599, &st) != 0) {
		(void)snprintf(why, size, "must be an HTTP status from 100 to 599 (got '%s')",
		    confdiag_escape(esc, v));
		return SET_BAD;
	}
	if (http_status_transient(st)) {
		(void)snprintf(why, size, "%ld is transient (retried, never a logout): remove it", st);
		return SET_BAD;
	}
	for (size_t i = 0; i < l->n; i++) {
		if (l->v[i] == st) {
			(void)snprintf(why, size, "duplicate status %ld", st);
			return SET_BAD;
		}
	}
	if (l->n >= MAX_STATUSES) {
		(void)snprintf(why, size, "more than %d statuses", MAX_STATUSES);
		return SET_BAD;
	}
	l->v[l->n++] = (int)st;
	return SET_OK;
}

/*
 * The next space-separated word of *text into buf (size bytes), split at its
 * first '=' into buf and *value ("" without one). Returns 1, or 0 at the end.
 * A word too long for buf is cut (defaults are short).
 */
static int next_word(const char **text, char *buf, size_t size, const char **value)
{
	const char *s = *text + strspn(*text, " ");
	size_t n = strcspn(s, " ");
	char *eq;

	if (n == 0)
		return 0;
	(void)snprintf(buf, size, "%.*s", (int)n, s);
	*text = s + n;
	eq = strchr(buf, '=');
	*value = "";
	if (eq != NULL) {
		*eq = '\0';
		*value = eq + 1;
	}
	return 1;
}

/* KT_COLUMNS, KT_MAP, KT_COOKIES, KT_STATUSES from text (a default): the setters of their items. */
static enum set_result list_set(struct config *cfg, const struct key_spec *ks, const char *text,
    char *why, size_t size)
{
	char word[CONFDIAG_PATH_MAX], esc[CONFDIAG_ECHO_BUF];
	const char *value;
	enum set_result res = SET_OK;

	/* A form or a list from the file replaces the default one; columns are set one by one. */
	if (ks->type == KT_MAP)
		free_kvlist(kvlist_field(cfg, ks->off));
	else if (ks->type == KT_COOKIES)
		free_cookies(cfg);
	else if (ks->type == KT_STATUSES)
		status_field(cfg, ks->off)->n = 0;
	while (res == SET_OK && next_word(&text, word, sizeof word, &value)) {
		size_t r;
		switch (ks->type) {
		case KT_COLUMNS:
			for (r = 0; r < NROLES && strcmp(roles[r].name, word) != 0; r++)
				;
			if (r == NROLES) {
				(void)snprintf(why, size, "unknown role '%s'", confdiag_escape(esc, word));
				return SET_BAD;
			}
			res = column_set(cfg, r, value, why, size);
			break;
		case KT_MAP:
			if (*word == '\0' || kvlist_field(cfg, ks->off)->n >= MAX_FORM_FIELDS) {
				(void)snprintf(why, size, "an empty name or more than %d fields",
				    MAX_FORM_FIELDS);
				return SET_BAD;
			}
			res = kvlist_add(kvlist_field(cfg, ks->off), word, value) == 0 ? SET_OK : SET_OOM;
			break;
		case KT_STATUSES:
			res = status_set(cfg, ks->off, word, why, size);
			break;
		default:
			if (cfg->upstream.ncapture >= MAX_CAPTURE_COOKIES) {
				(void)snprintf(why, size, "more than %d names", MAX_CAPTURE_COOKIES);
				return SET_BAD;
			}
			res = cookie_set(cfg, word, why, size);
			break;
		}
	}
	return res;
}

/* Appends item to the list in buf (size bytes, not 0) after sep; cut if full. */
static void list_add(char *buf, size_t size, const char *sep, const char *item)
{
	size_t used = strlen(buf);

	(void)snprintf(buf + used, size - used, "%s%s", used > 0 ? sep : "", item);
}

/*
 * Parses v as key ks's value and stores it in cfg: the one way a value gets
 * into a config, from the file (after ${VAR} expansion) or from the key's
 * default. SET_BAD writes the problem to why (no position, no key) and leaves
 * the field as it was (a list from text may be left part-built). Secrets are
 * never echoed.
 */
static enum set_result key_set(struct config *cfg, const struct key_spec *ks, const char *v,
    char *why, size_t size)
{
	int secret = (ks->flags & KF_SECRET) != 0;
	char esc[CONFDIAG_ECHO_BUF], lo[32], hi[32];
	long l;
	double d;
	int e;

	switch (ks->type) {
	case KT_SQL: {
		const char *problem = *v != '\0' ? sqlexpr_problem(v) : NULL;
		if (has_control_sql(v)) {
			(void)snprintf(why, size,
			    "must not contain control characters (but tabs and line breaks)");
			return SET_BAD;
		}
		if (problem != NULL) {
			(void)snprintf(why, size, "%s", problem);
			return SET_BAD;
		}
		return set_str(str_field(cfg, ks->off), v) == 0 ? SET_OK : SET_OOM;
	}
	case KT_POINTER:
		if (*v != '\0' && *v != '/') {
			(void)snprintf(why, size,
			    "must be \"\" or a JSON Pointer (RFC 6901) that starts with '/' (got '%s')",
			    confdiag_escape(esc, v));
			return SET_BAD;
		}
		if (has_control(v)) {
			(void)snprintf(why, size, "must not contain control characters");
			return SET_BAD;
		}
		return set_str(str_field(cfg, ks->off), v) == 0 ? SET_OK : SET_OOM;
	case KT_SECTION:
		if (*v != '\0') {
			(void)snprintf(why, size, "a section holds keys, not a value");
			return SET_BAD;
		}
		return SET_OK;
	case KT_STRING:
	case KT_URL:
	case KT_TABLE:
		if (*v == '\0' && (ks->flags & KF_NONEMPTY)) {
			(void)snprintf(why, size, "must not be empty");
			return SET_BAD;
		}
		if (has_control(v)) {
			(void)snprintf(why, size, "must not contain control characters");
			return SET_BAD;
		}
		if (ks->type == KT_URL && *v != '\0' && !is_http_url(v)) {
			if (secret)
				(void)snprintf(why, size, "must be an http:// or https:// URL");
			else
				(void)snprintf(why, size, "must be an http:// or https:// URL (got '%s')",
				    confdiag_escape(esc, v));
			return SET_BAD;
		}
		if (ks->type == KT_TABLE && !is_table_name(v)) {
			(void)snprintf(why, size,
			    "must be a table name, optionally schema-qualified (letters, digits, _; "
			    "at most %d bytes per part) (got '%s')",
			    MAX_IDENTIFIER_BYTES, confdiag_escape(esc, v));
			return SET_BAD;
		}
		return set_str(str_field(cfg, ks->off), v) == 0 ? SET_OK : SET_OOM;
	case KT_DURATION:
		if (parse_duration_ms(v, &l) != 0 && !duration_well_formed(v)) {
			(void)snprintf(why, size, "bad duration '%s' (use e.g. 500ms, 15s, 15m, 1h30m)",
			    confdiag_escape(esc, v));
			return SET_BAD;
		}
		if (parse_duration_ms(v, &l) != 0 || l < ks->min || l > ks->max) {
			(void)snprintf(why, size, "must be from %s to %s (got '%s')",
			    format_duration(lo, sizeof lo, ks->min),
			    format_duration(hi, sizeof hi, ks->max), confdiag_escape(esc, v));
			return SET_BAD;
		}
		*long_field(cfg, ks->off) = l;
		return SET_OK;
	case KT_INT:
	case KT_LONG:
		if (parse_long(v, ks->min, ks->max, &l) != 0) {
			(void)snprintf(why, size, "must be an integer from %ld to %ld (got '%s')",
			    ks->min, ks->max, confdiag_escape(esc, v));
			return SET_BAD;
		}
		if (ks->type == KT_INT)
			int_store(cfg, ks->off, (int)l);
		else
			*long_field(cfg, ks->off) = l;
		return SET_OK;
	case KT_NUMBER:
		if (parse_double(v, ks->dmin, ks->dmax, &d) != 0) {
			(void)snprintf(why, size, "must be a number from %g to %g (got '%s')",
			    ks->dmin, ks->dmax, confdiag_escape(esc, v));
			return SET_BAD;
		}
		*double_field(cfg, ks->off) = d;
		return SET_OK;
	case KT_ENUM: {
		char list[CONFDIAG_MSG_MAX] = "";
		size_t used = 0;

		if (parse_name(v, ks->names, &e) == 0) {
			int_store(cfg, ks->off, e);
			return SET_OK;
		}
		for (const struct name_value *n = ks->names; n->name != NULL; n++) {
			int w = snprintf(list + used, sizeof list - used, "%s%s", used ? ", " : "",
			    n->name);
			if (w < 0 || (size_t)w >= sizeof list - used)
				break;
			used += (size_t)w;
		}
		(void)snprintf(why, size, "must be one of %s (got '%s')", list,
		    confdiag_escape(esc, v));
		return SET_BAD;
	}
	case KT_PROFILE: {
		char list[CONFDIAG_MSG_MAX] = "";
		enum profile p;

		if (profile_find(v, &p) != NULL) {
			int_store(cfg, ks->off, (int)p);
			return SET_OK;
		}
		for (int i = 0; i < PROFILE_COUNT; i++)
			list_add(list, sizeof list, ", ", profile_get((enum profile)i)->name);
		(void)snprintf(why, size, "must be one of %s (got '%s')", list,
		    confdiag_escape(esc, v));
		return SET_BAD;
	}
	case KT_COLUMNS:
	case KT_MAP:
	case KT_COOKIES:
	case KT_STATUSES:
		return list_set(cfg, ks, v, why, size);
	}
	return SET_BAD; /* not reached: every type is handled */
}

/* Key ks's value in cfg as text its setter takes back (the inverse of key_set). */
static void key_get(const struct config *cfg, const struct key_spec *ks, char *buf, size_t size)
{
	char item[CONFDIAG_MSG_MAX];
	const char *name = "?";
	const void *p = (const char *)cfg + ks->off;

	buf[0] = '\0';
	switch (ks->type) {
	case KT_STRING:
	case KT_URL:
	case KT_TABLE:
	case KT_SQL:
	case KT_POINTER:
		(void)snprintf(buf, size, "%s", *str_field_const(cfg, ks->off));
		break;
	case KT_SECTION:
		break;
	case KT_DURATION:
		(void)format_duration(buf, size, *(const long *)p);
		break;
	case KT_INT:
		(void)snprintf(buf, size, "%d", int_load(cfg, ks->off));
		break;
	case KT_LONG:
		(void)snprintf(buf, size, "%ld", *(const long *)p);
		break;
	case KT_NUMBER:
		/* The fewest decimals that read back as the same double ("0.2", not
		 * "0.20000000000000001", which parse_double refuses as too precise). */
		for (int prec = 0; prec <= 17; prec++) {
			(void)snprintf(buf, size, "%.*f", prec, *(const double *)p);
			if (strtod(buf, NULL) == *(const double *)p)
				break;
		}
		break;
	case KT_ENUM:
		for (const struct name_value *n = ks->names; n->name != NULL; n++)
			if (n->value == int_load(cfg, ks->off))
				name = n->name;
		(void)snprintf(buf, size, "%s", name);
		break;
	case KT_PROFILE:
		(void)snprintf(buf, size, "%s", profile_get((enum profile)int_load(cfg, ks->off))->name);
		break;
	case KT_COLUMNS:
		for (size_t r = 0; r < NROLES; r++) {
			(void)snprintf(item, sizeof item, "%s=%s", roles[r].name,
			    *str_field_const(cfg, roles[r].off));
			list_add(buf, size, " ", item);
		}
		break;
	case KT_MAP: {
		const struct kvlist *l = p;
		for (size_t i = 0; i < l->n; i++) {
			(void)snprintf(item, sizeof item, "%s=%s", l->v[i].name, l->v[i].value);
			list_add(buf, size, " ", item);
		}
		break;
	}
	case KT_STATUSES: {
		const struct statuslist *l = p;
		for (size_t i = 0; i < l->n; i++) {
			(void)snprintf(item, sizeof item, "%d", l->v[i]);
			list_add(buf, size, " ", item);
		}
		break;
	}
	case KT_COOKIES:
		for (size_t i = 0; i < cfg->upstream.ncapture; i++)
			list_add(buf, size, " ", cfg->upstream.capture_cookies[i]);
		break;
	}
}

/* ---- the key table, for tests ---- */

size_t config_key_count(void)
{
	return NKEYS;
}

const char *config_key_name(size_t i, char *buf, size_t size)
{
	if (i >= NKEYS)
		return NULL;
	(void)snprintf(buf, size, "%s.%s", keys[i].section, keys[i].name);
	return buf;
}

const char *config_key_default(size_t i)
{
	return i < NKEYS ? keys[i].def : NULL;
}

int config_key_set(struct config *cfg, size_t i, const char *text, char *why, size_t size)
{
	if (i >= NKEYS) {
		(void)snprintf(why, size, "no such key");
		return -1;
	}
	switch (key_set(cfg, &keys[i], text, why, size)) {
	case SET_OK:
		return 0;
	case SET_OOM:
		(void)snprintf(why, size, "out of memory");
		return -1;
	default:
		return -1;
	}
}

int config_key_get(const struct config *cfg, size_t i, char *buf, size_t size)
{
	if (i >= NKEYS || size == 0)
		return -1;
	key_get(cfg, &keys[i], buf, size);
	return 0;
}

/* ---- defaults ---- */

struct config *config_new(void)
{
	struct config *cfg = calloc(1, sizeof *cfg);
	char why[CONFDIAG_MSG_MAX];

	if (cfg == NULL)
		return NULL;
	if (set_str(&cfg->path, "") != 0)
		goto fail;
	for (size_t i = 0; i < NKEYS; i++) {
		const struct key_spec *ks = &keys[i];
		/* A required key has no default: "" (unset) until the file sets it. */
		if (ks->def == NULL) {
			if (is_string_type(ks->type) && set_str(str_field(cfg, ks->off), "") != 0)
				goto fail;
			continue;
		}
		/* A default its setter refuses is a bug of the table: test_confparts.c finds it. */
		if (key_set(cfg, ks, ks->def, why, sizeof why) != SET_OK)
			goto fail;
	}
	return cfg;
fail:
	config_free(cfg);
	return NULL;
}

void config_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < NKEYS; i++) {
		if (is_string_type(keys[i].type))
			free(*str_field(cfg, keys[i].off));
	}
	for (size_t i = 0; i < NROLES; i++)
		free(*str_field(cfg, roles[i].off));
	for (size_t i = 0; i < NKEYS; i++)
		if (keys[i].type == KT_MAP)
			free_kvlist(kvlist_field(cfg, keys[i].off));
	free_cookies(cfg);
	free(cfg->path);
	free(cfg);
}

/* ---- literal secrets ---- */

size_t config_literal_secrets(const struct config *cfg, char *names, size_t names_size,
    char *vars, size_t vars_size)
{
	char item[CONFDIAG_PATH_MAX];
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
			list_add(names, names_size, ", ", item);
		if (vars != NULL && vars_size > 0 && keys[i].env != NULL) {
			(void)snprintf(item, sizeof item, "${%s}", keys[i].env);
			list_add(vars, vars_size, ", ", item);
		}
	}
	return n;
}

int config_warn_readable_secrets(const struct config *cfg)
{
	char names[CONFDIAG_MSG_MAX], vars[CONFDIAG_MSG_MAX];
	size_t n;

	n = config_literal_secrets(cfg, names, sizeof names, vars, sizeof vars);
	return secrets_warn_readable(cfg->path, n, names, vars);
}

/* ---- the loader: the file's values through the setters ---- */

/* Reports what a setter refused (at mark, under path) or ran out of memory for. */
static void report(struct loader *ld, enum set_result res, const yaml_mark_t *mark,
    const char *path, const char *why)
{
	if (res == SET_BAD)
		confyaml_error(&ld->y, mark, path, "%s", why);
	else if (res == SET_OOM)
		confyaml_oom(&ld->y);
}

/*
 * The value of scalar event ev after ${VAR} expansion (caller frees), "" for
 * null; or NULL after reporting the problem at the value's position.
 */
static char *scalar_value(struct loader *ld, const yaml_event_t *ev, const char *path)
{
	const char *raw = (const char *)ev->data.scalar.value;
	char err[CONFDIAG_MSG_MAX];
	char *v;

	if (confyaml_is_null(ev)) {
		v = strdup("");
		if (v == NULL)
			confyaml_oom(&ld->y);
		return v;
	}
	if (memchr(raw, '\0', ev->data.scalar.length) != NULL) {
		confyaml_error(&ld->y, &ev->start_mark, path, "must not contain a NUL byte");
		return NULL;
	}
	if (ev->data.scalar.length > CONFIG_MAX_VALUE_BYTES) {
		confyaml_error(&ld->y, &ev->start_mark, path, "longer than %d bytes",
		    CONFIG_MAX_VALUE_BYTES);
		return NULL;
	}
	v = envexpand(raw, err, sizeof err);
	if (v == NULL)
		confyaml_error(&ld->y, &ev->start_mark, path, "%s", err);
	return v;
}

/* Reports an unknown key, suggesting the nearest of names or, failing that, a
 * key of that name in another section. */
static void unknown_key(struct loader *ld, const yaml_mark_t *mark, const char *path,
    const char *key, const char *const *names, size_t n)
{
	char esc[CONFDIAG_ECHO_BUF], full[CONFDIAG_PATH_MAX], hint[CONFDIAG_PATH_MAX] = "";
	const char *best = confdiag_nearest(key, names, n);

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
	(void)snprintf(full, sizeof full, "%s%s%s", path, *path ? "." : "",
	    confdiag_escape(esc, key));
	confyaml_error(&ld->y, mark, full, "unknown key%s", hint);
}

/* database.columns: role -> column. */
static int column_entry(struct confyaml *y, void *ctx, const char *path, const char *key,
    const yaml_mark_t *kmark, yaml_event_t *val)
{
	struct loader *ld = ctx;
	const char *names[NROLES];
	char full[CONFDIAG_PATH_MAX], why[CONFDIAG_MSG_MAX];
	size_t r;
	char *v;

	for (r = 0; r < NROLES; r++) {
		names[r] = roles[r].name;
		if (strcmp(roles[r].name, key) == 0)
			break;
	}
	if (r == NROLES) {
		unknown_key(ld, kmark, path, key, names, NROLES);
		return confyaml_skip(y, val);
	}
	(void)snprintf(full, sizeof full, "%s.%s", path, key);
	ld->role_given[r] = 1;
	ld->role_marks[r] = *kmark;
	ld->cfg->role_pos[r].line = (unsigned)kmark->line + 1;
	ld->cfg->role_pos[r].col = (unsigned)kmark->column + 1;
	if (val->type != YAML_SCALAR_EVENT)
		return confyaml_wrong_type(y, val, full, "a column name");
	v = scalar_value(ld, val, full);
	if (v != NULL)
		report(ld, column_set(ld->cfg, r, v, why, sizeof why), &val->start_mark, full, why);
	free(v);
	yaml_event_delete(val);
	return 0;
}

/*
 * 1 when scalar ev is plain (unquoted) and YAML would read it as a null, a
 * boolean or a number: under KF_JSON_STRINGS the operator must quote it, so
 * that "1" is not sent where they meant 1.
 */
static int plain_non_string(const yaml_event_t *ev)
{
	static const char *const words[] = { "true", "True", "TRUE", "false", "False", "FALSE",
		".inf", ".Inf", ".INF", "-.inf", "+.inf", ".nan", ".NaN", ".NAN", NULL };
	const char *v = (const char *)ev->data.scalar.value;
	char *end;

	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	if (confyaml_is_null(ev))
		return 1;
	for (const char *const *w = words; *w != NULL; w++)
		if (strcmp(v, *w) == 0)
			return 1;
	errno = 0;
	(void)strtod(v, &end);
	return *v != '\0' && *end == '\0';
}

/* A request header that the refresher sets itself (SPEC: Content-Type, Content-Length). */
static const char *reserved_header(const char *name)
{
	static const char *const own[] = { "Content-Type", "Content-Length", "User-Agent", "Host",
		"Transfer-Encoding", "Expect", NULL };
	for (const char *const *h = own; *h != NULL; h++)
		if (strcasecmp(name, *h) == 0)
			return *h;
	return NULL;
}

/* A KT_MAP (upstream.form, upstream.json.body, upstream.json.headers): name -> value. */
static int map_entry(struct confyaml *y, void *ctx, const char *path, const char *key,
    const yaml_mark_t *kmark, yaml_event_t *val)
{
	struct loader *ld = ctx;
	const struct key_spec *ks = ld->map;
	struct kvlist *l = kvlist_field(ld->cfg, ks->off);
	char full[CONFDIAG_PATH_MAX], esc[CONFDIAG_ECHO_BUF];
	const char *own;
	char *v;

	(void)snprintf(full, sizeof full, "%s.%s", path, confdiag_escape(esc, key));
	if (*key == '\0') {
		confyaml_error(y, kmark, path, "empty field name");
		return confyaml_skip(y, val);
	}
	if (l->n >= MAX_FORM_FIELDS) {
		confyaml_error(y, kmark, full, "more than %d fields", MAX_FORM_FIELDS);
		return confyaml_skip(y, val);
	}
	if ((ks->flags & KF_HEADERS) && !is_http_token(key)) {
		confyaml_error(y, kmark, full, "not a header name (letters, digits and !#$%%&'*+-.^_`|~)");
		return confyaml_skip(y, val);
	}
	if ((ks->flags & KF_HEADERS) && (own = reserved_header(key)) != NULL) {
		confyaml_error(y, kmark, full, "reserved: the refresher sets %s itself%s", own,
		    strcasecmp(own, "User-Agent") == 0 ? " (from upstream.user_agent)" : "");
		return confyaml_skip(y, val);
	}
	for (size_t i = 0; (ks->flags & KF_HEADERS) && i < l->n; i++) {
		if (strcasecmp(l->v[i].name, key) == 0) {
			confyaml_error(y, kmark, full, "the same header as '%s' (names ignore case)",
			    confdiag_escape(esc, l->v[i].name));
			return confyaml_skip(y, val);
		}
	}
	if (val->type != YAML_SCALAR_EVENT)
		return confyaml_wrong_type(y, val, full,
		    (ks->flags & KF_JSON_STRINGS) ? "a string" : "a single value");
	if ((ks->flags & KF_JSON_STRINGS) && plain_non_string(val)) {
		/* Not echoed: a body value may be a credential. */
		confyaml_error(y, &val->start_mark, full,
		    "must be a string: the body's values are sent as JSON strings (quote it)");
		yaml_event_delete(val);
		return 0;
	}
	v = scalar_value(ld, val, full);
	if (v != NULL && (ks->flags & KF_HEADERS) && has_control(v)) {
		confyaml_error(y, &val->start_mark, full, "must not contain control characters");
	} else if (v != NULL) {
		if (ks->off == OFF(upstream.form))
			ld->form_marks[l->n] = *kmark;
		if (kvlist_add(l, key, v) != 0)
			confyaml_oom(y);
	}
	if (v != NULL)
		explicit_bzero(v, strlen(v));
	free(v);
	yaml_event_delete(val);
	return 0;
}

/* A list item through its key's setter. */
static enum set_result item_set(struct config *cfg, const struct key_spec *ks, const char *v,
    char *why, size_t size)
{
	if (ks->type == KT_STATUSES)
		return status_set(cfg, ks->off, v, why, size);
	return cookie_set(cfg, v, why, size);
}

/* How many items the list of ks holds. */
static size_t list_len(struct config *cfg, const struct key_spec *ks)
{
	return ks->type == KT_STATUSES ? status_field(cfg, ks->off)->n : cfg->upstream.ncapture;
}

/* A KT_COOKIES or KT_STATUSES list: the sequence that starts with ev (consumed). */
static int load_list(struct loader *ld, const struct key_spec *ks, yaml_event_t *ev,
    const char *path)
{
	size_t max = ks->type == KT_STATUSES ? MAX_STATUSES : MAX_CAPTURE_COOKIES;
	const char *what = ks->type == KT_STATUSES ? "an HTTP status" : "a cookie name";
	struct confyaml *y = &ld->y;
	char full[CONFDIAG_PATH_MAX + 24], why[CONFDIAG_MSG_MAX];

	yaml_event_delete(ev);
	for (size_t i = 0;; i++) {
		yaml_event_t item;
		char *v;

		if (confyaml_next(y, &item) != 0)
			return -1;
		if (item.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&item);
			return 0;
		}
		(void)snprintf(full, sizeof full, "%s[%zu]", path, i);
		if (list_len(ld->cfg, ks) >= max) {
			confyaml_error(y, &item.start_mark, path, "more than %zu %s", max,
			    ks->type == KT_STATUSES ? "statuses" : "names");
			if (confyaml_skip(y, &item) != 0)
				return -1;
			/* One error is enough: skip the rest of the list quietly. */
			for (;;) {
				if (confyaml_next(y, &item) != 0)
					return -1;
				if (item.type == YAML_SEQUENCE_END_EVENT) {
					yaml_event_delete(&item);
					return 0;
				}
				if (confyaml_skip(y, &item) != 0)
					return -1;
			}
		}
		if (item.type != YAML_SCALAR_EVENT) {
			if (confyaml_wrong_type(y, &item, full, what) != 0)
				return -1;
			continue;
		}
		v = scalar_value(ld, &item, full);
		if (v != NULL)
			report(ld, item_set(ld->cfg, ks, v, why, sizeof why), &item.start_mark, full, why);
		free(v);
		yaml_event_delete(&item);
	}
}

/* One key of a section. */
static int section_entry(struct confyaml *y, void *ctx, const char *path, const char *key,
    const yaml_mark_t *kmark, yaml_event_t *val)
{
	struct loader *ld = ctx;
	const char *names[NKEYS];
	size_t n = 0, idx = NKEYS;
	const struct key_spec *ks;
	char full[CONFDIAG_PATH_MAX], why[CONFDIAG_MSG_MAX];
	char *v;

	for (size_t i = 0; i < NKEYS; i++) {
		if (strcmp(keys[i].section, path) != 0)
			continue;
		names[n++] = keys[i].name;
		if (strcmp(keys[i].name, key) == 0)
			idx = i;
	}
	if (idx == NKEYS) {
		unknown_key(ld, kmark, path, key, names, n);
		return confyaml_skip(y, val);
	}
	ks = &keys[idx];
	ld->given[idx] = 1;
	ld->marks[idx] = *kmark;
	ld->cfg->pos[idx].line = (unsigned)kmark->line + 1;
	ld->cfg->pos[idx].col = (unsigned)kmark->column + 1;
	(void)snprintf(full, sizeof full, "%s.%s", path, key);
	switch (ks->type) {
	case KT_COLUMNS:
		if (confyaml_is_null(val))
			break;
		if (val->type != YAML_MAPPING_START_EVENT)
			return confyaml_wrong_type(y, val, full, "a mapping of role: column");
		return confyaml_walk_mapping(y, val, full, column_entry, ld);
	case KT_SECTION:
		if (confyaml_is_null(val))
			break;
		if (val->type != YAML_MAPPING_START_EVENT)
			return confyaml_wrong_type(y, val, full, "a mapping");
		return confyaml_walk_mapping(y, val, full, section_entry, ld);
	case KT_MAP:
		free_kvlist(kvlist_field(ld->cfg, ks->off));
		if (confyaml_is_null(val))
			break;
		if (val->type != YAML_MAPPING_START_EVENT)
			return confyaml_wrong_type(y, val, full,
			    (ks->flags & KF_HEADERS) ? "a mapping of header: value"
						     : "a mapping of field: value");
		ld->map = ks;
		return confyaml_walk_mapping(y, val, full, map_entry, ld);
	case KT_COOKIES:
	case KT_STATUSES:
		if (ks->type == KT_COOKIES)
			free_cookies(ld->cfg);
		else
			status_field(ld->cfg, ks->off)->n = 0;
		if (confyaml_is_null(val))
			break;
		if (val->type != YAML_SEQUENCE_START_EVENT)
			return confyaml_wrong_type(y, val, full,
			    ks->type == KT_COOKIES ? "a list of cookie names" : "a list of HTTP statuses");
		return load_list(ld, ks, val, full);
	default:
		if (val->type != YAML_SCALAR_EVENT)
			return confyaml_wrong_type(y, val, full, "a single value");
		v = scalar_value(ld, val, full);
		if (v != NULL)
			report(ld, key_set(ld->cfg, ks, v, why, sizeof why), &val->start_mark, full, why);
		if (v != NULL && (ks->flags & KF_SECRET) && !confyaml_is_null(val) &&
		    secrets_is_literal((const char *)val->data.scalar.value,
			(ks->flags & KF_CONNINFO) != 0))
			ld->cfg->literal_secrets |= 1ULL << idx;
		free(v);
		break;
	}
	yaml_event_delete(val);
	return 0;
}

/* One section of the top level. */
static int root_entry(struct confyaml *y, void *ctx, const char *path, const char *key,
    const yaml_mark_t *kmark, yaml_event_t *val)
{
	(void)path;
	for (size_t i = 0; i < NSECTIONS; i++) {
		if (strcmp(sections[i], key) != 0)
			continue;
		if (confyaml_is_null(val)) {
			yaml_event_delete(val);
			return 0;
		}
		if (val->type != YAML_MAPPING_START_EVENT)
			return confyaml_wrong_type(y, val, sections[i], "a mapping");
		return confyaml_walk_mapping(y, val, sections[i], section_entry, ctx);
	}
	unknown_key(ctx, kmark, "", key, sections, NSECTIONS);
	return confyaml_skip(y, val);
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

/* Mark of the key named "section.name" when the file gave it, else NULL. */
static const yaml_mark_t *given_mark(const struct loader *ld, const char *full)
{
	static const char cols[] = "database.columns.";
	char section[CONFDIAG_PATH_MAX];
	const char *dot = strrchr(full, '.');
	if (strncmp(full, cols, sizeof cols - 1) == 0) {
		for (size_t r = 0; r < NROLES; r++)
			if (ld->role_given[r] && strcmp(full + sizeof cols - 1, roles[r].name) == 0)
				return &ld->role_marks[r];
		return NULL;
	}
	if (dot == NULL || (size_t)(dot - full) >= sizeof section)
		return NULL;
	memcpy(section, full, (size_t)(dot - full));
	section[dot - full] = '\0';
	return mark_of(ld, key_index(section, dot + 1), NKEYS);
}

/* Checks that span keys, and applies profile-dependent defaults. */
static void finish(struct loader *ld)
{
	struct config *cfg = ld->cfg;
	size_t form = key_index("upstream", "form");
	size_t json = key_index("upstream", "json");
	size_t base = key_index("retry", "base_delay"), max = key_index("retry", "max_delay");
	size_t lease = key_index("refresh", "lease"), timeout = key_index("upstream", "timeout");
	const struct profile_ops *profile = profile_get(cfg->upstream.profile);
	const char *key = NULL, *problem;
	char a[32];

	/* A key without a default (database.url) must be in the file. */
	for (size_t i = 0; i < NKEYS; i++) {
		if (keys[i].def == NULL && !ld->given[i]) {
			char full[CONFDIAG_PATH_MAX];
			(void)snprintf(full, sizeof full, "%s.%s", keys[i].section, keys[i].name);
			confyaml_error(&ld->y, NULL, full, "required");
		}
	}
	/* The default form (ciclo=1) and the roles a profile does not use are not its defaults. */
	if (!profile->default_form && !ld->given[form])
		free_kvlist(&cfg->upstream.form);
	for (size_t r = 0; r < NROLES; r++) {
		if (roles[r].uses != 0 && !(profile->uses & roles[r].uses) && !ld->role_given[r] &&
		    set_str(str_field(cfg, roles[r].off), "") != 0)
			confyaml_oom(&ld->y);
	}
	for (size_t i = 0; i < cfg->upstream.form.n && ld->given[form]; i++) {
		for (const char *const *r = profile->reserved_form; *r != NULL; r++) {
			if (strcmp(cfg->upstream.form.v[i].name, *r) == 0) {
				char full[CONFDIAG_PATH_MAX];
				(void)snprintf(full, sizeof full, "upstream.form.%s", *r);
				confyaml_error(&ld->y, &ld->form_marks[i], full,
				    "reserved: the refresher sets this field itself");
			}
		}
	}
	/* A section of one profile's keys under another profile would be ignored: say so. */
	if (ld->given[json] && cfg->upstream.profile != PROFILE_JSON)
		confyaml_error(&ld->y, &ld->marks[json], "upstream.json",
		    "only for upstream.profile: json (the profile is %s)", profile->name);
	if (profile->check_config != NULL && (problem = profile->check_config(cfg, &key)) != NULL)
		confyaml_error(&ld->y, given_mark(ld, key), key, "%s", problem);
	if (cfg->retry.base_delay_ms > cfg->retry.max_delay_ms)
		confyaml_error(&ld->y, mark_of(ld, base, max), "retry.base_delay",
		    "must not be more than retry.max_delay (%s)",
		    format_duration(a, sizeof a, cfg->retry.max_delay_ms));
	if (cfg->refresh.lease_ms <= cfg->upstream.timeout_ms)
		confyaml_error(&ld->y, mark_of(ld, lease, timeout), "refresh.lease",
		    "must be longer than upstream.timeout (%s)",
		    format_duration(a, sizeof a, cfg->upstream.timeout_ms));
	/* Two roles on one column would write one over the other. PostgreSQL
	 * folds unquoted names to lower case, so compare without case. */
	for (size_t i = 0; i < NROLES; i++) {
		const char *ci = *str_field(cfg, roles[i].off);
		for (size_t j = i + 1; j < NROLES && *ci != '\0'; j++) {
			if (strcasecmp(ci, *str_field(cfg, roles[j].off)) == 0) {
				size_t later = ld->role_given[j] ? j : i;
				char full[CONFDIAG_PATH_MAX];
				(void)snprintf(full, sizeof full, "database.columns.%s",
				    roles[later].name);
				confyaml_error(&ld->y, ld->role_given[later] ? &ld->role_marks[later] : NULL,
				    full, "same column as database.columns.%s",
				    roles[later == j ? i : j].name);
			}
		}
	}
}

int config_load_string(const char *name, const char *text, size_t len, struct config **out,
    struct errlist *errs)
{
	struct loader *ld = NULL;
	int ret = -1;

	*out = NULL;
	ld = calloc(1, sizeof *ld);
	if (ld == NULL) {
		errlist_add(errs, "%s: out of memory", name);
		return -1;
	}
	confyaml_init(&ld->y, name, text, len, errs);
	if (len > CONFIG_MAX_BYTES) {
		confyaml_error(&ld->y, NULL, NULL, "larger than %d bytes", CONFIG_MAX_BYTES);
		goto out;
	}
	ld->cfg = config_new();
	if (ld->cfg == NULL || set_str(&ld->cfg->path, name) != 0) {
		confyaml_oom(&ld->y);
		goto out;
	}
	if (confyaml_walk(&ld->y, root_entry, ld) == 0)
		finish(ld);
	if (ld->y.nerr == 0) {
		*out = ld->cfg; /* hand-off */
		ld->cfg = NULL;
		ret = 0;
	}
out:
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
