/* config.h - refresher.yaml: the key table (types, limits, defaults), loading, validation. */
#ifndef REFRESHER_CONFIG_H
#define REFRESHER_CONFIG_H

#include <stddef.h>

#include "confdiag.h"
#include "defaults.h"
#include "log.h"

/* The refresh protocols; profile.c maps each to its module. */
enum profile { PROFILE_AIMHARDER, PROFILE_OAUTH2, PROFILE_JSON, PROFILE_COUNT };
enum on_logout { ON_LOGOUT_DELETE, ON_LOGOUT_KEEP };
enum client_auth { CLIENT_AUTH_BASIC, CLIENT_AUTH_FORM };
enum row_security { ROW_SECURITY_REFUSE, ROW_SECURITY_ALLOW };

/* Room for the file positions of config.c's keys and database.columns roles. */
#define CONFIG_KEYS_MAX 64
#define CONFIG_ROLES_MAX 8

/* Where the file sets a key: line and column from 1; 0 when the file does not set it. */
struct config_pos {
	unsigned line, col;
};

struct kv {
	char *name;
	char *value;
};

/* A mapping of the file (upstream.form, upstream.json.body and headers), in the file's order. */
struct kvlist {
	struct kv *v;
	size_t n;
};

/* HTTP statuses (upstream.json.logout_status). */
struct statuslist {
	int v[MAX_STATUSES];
	size_t n;
};

/* Every string is heap-owned by the config; "" means unset/absent. */
struct config {
	char *path; /* file the config came from ("<string>" for tests) */
	struct {
		char *url; /* required; may hold a password: never log it */
		char *table; /* may be schema-qualified: "schema.table" */
		struct {
			char *id, *email, *token, *cookies, *fingerprint;
			char *access_token, *expires_at; /* "" = absent */
		} columns;
		long outage_timeout_ms; /* give up on a database outage after this long */
		char *where; /* the operator's SQL boolean expression; "" = every row */
		enum row_security row_security; /* when row level security applies to the role */
	} database;
	struct {
		enum profile profile;
		char *url;
		char *fingerprint; /* secret */
		struct kvlist form;
		char **capture_cookies;
		size_t ncapture;
		char *user_agent;
		long timeout_ms;
		long connect_timeout_ms;
		long max_response_bytes;
		char *ca_file;
		char *client_id;
		char *client_secret; /* secret */
		enum client_auth client_auth;
		struct {
			struct kvlist body; /* string templates: {token}, {access_token} */
			struct kvlist headers; /* extra request headers, templates too */
			/* JSON Pointers (RFC 6901) into the answer; "" = none. */
			char *token, *access_token, *expires_in, *expires_at;
			struct statuslist logout_status;
		} json; /* profile json */
	} upstream;
	struct {
		long stale_after_ms;
		int concurrency;
		int batch_size;
		long lease_ms;
		long max_runtime_ms; /* 0 = no deadline */
		enum on_logout on_logout;
		long ahead_ms;
		double max_rate; /* requests/s, 0 = no cap */
		char *keep_when; /* SQL boolean expression: such rows are never deleted; "" = none */
	} refresh;
	struct {
		int attempts;
		long base_delay_ms;
		long max_delay_ms;
		double budget;
	} retry;
	struct {
		int window; /* 0 = off */
		int logout_min; /* mass-logout guard: at least this many logouts; 0 = off */
		double logout_share; /* ... that are more than this share of the answers */
	} breaker;
	struct {
		enum log_format format;
		enum log_level level;
	} log;
	struct {
		char *textfile; /* "" = off */
	} metrics;
	struct {
		char *webhook_url; /* "" = off */
	} notify;
	/*
	 * Set by the loader: one bit per key of config.c's key table whose secret
	 * the file spells out itself rather than taking it from the environment
	 * (config_secret_is_literal). Read through config_literal_secrets.
	 */
	unsigned long long literal_secrets;
	/* Set by the loader: where the file set each key (read through config_locate). */
	struct config_pos pos[CONFIG_KEYS_MAX];
	struct config_pos role_pos[CONFIG_ROLES_MAX];
};

/*
 * Returns a config holding every default (database.url ""), each applied by
 * running its key's setter on the key table's default text, or NULL on OOM.
 * Free with config_free.
 */
struct config *config_new(void);
void config_free(struct config *cfg);

/*
 * Loads path over the defaults. On success returns 0 and *out (caller frees
 * with config_free). On failure returns -1, *out NULL, and errs holds every
 * problem found (caller frees with errlist_clear), each
 * "path:line:col: key: problem" (unknown key: "did you mean 'x'?").
 * A missing or unreadable file is one error "path: cannot read: reason".
 */
int config_load(const char *path, struct config **out, struct errlist *errs)
    __attribute__((warn_unused_result));

/* The same from memory; name stands in for the path in messages. */
int config_load_string(const char *name, const char *text, size_t len,
    struct config **out, struct errlist *errs)
    __attribute__((warn_unused_result));

/* envexpand (envexpand.h), under the name the config's callers know. */
char *config_expand_env(const char *s, char *err, size_t errlen);

/* secrets_is_literal (secrets.h), under the name the config's callers know. */
int config_secret_is_literal(const char *raw, int conninfo);

/*
 * How many literal secrets cfg has. Writes their keys to names, e.g.
 * "database.url, upstream.fingerprint", and the environment variables the
 * shipped configs read them from to vars, e.g. "${DATABASE_URL},
 * ${AIMHARDER_FINGERPRINT}" ("" when none; either may be NULL; cut to size).
 */
size_t config_literal_secrets(const struct config *cfg, char *names, size_t names_size,
    char *vars, size_t vars_size);

/*
 * For a config from config_load: when it has literal secrets and its file
 * (stat of cfg->path, following symlinks) can be read by its group or others
 * (mode & 044), logs one warning naming the file, its mode and the keys,
 * never a value. Returns 1 when it warned, else 0 (also when stat fails).
 * Not an error: the run goes on.
 */
int config_warn_readable_secrets(const struct config *cfg);

/*
 * Where key (dotted, e.g. "database.where" or "database.columns.email") is
 * set: writes "file:line:col" to buf when the file sets it, else "file".
 * Returns 1 when the file sets the key, 0 when it keeps its default (or the
 * key is unknown).
 */
int config_locate(const struct config *cfg, const char *key, char *buf, size_t size);

/* confdiag_edit_distance (confdiag.h), under the name the config's callers know. */
size_t config_edit_distance(const char *a, const char *b);

/*
 * The key table, read by tests. Keys are numbered 0 .. config_key_count() - 1.
 * config_key_name writes key i's dotted name ("refresh.stale_after") to buf and
 * returns buf (NULL past the end). config_key_default returns key i's default
 * as the file would spell it ("15m"; a mapping as "name=value name=value", a
 * list as "name name"), NULL for a key that has none (database.url).
 */
size_t config_key_count(void);
const char *config_key_name(size_t i, char *buf, size_t size);
const char *config_key_default(size_t i);

/*
 * Runs key i's setter, the one a value from the file goes through, on text
 * (already ${VAR}-expanded). Returns 0, or -1 with the problem in why
 * ("must be from 1ms to 30d (got '0')"; "out of memory").
 */
int config_key_set(struct config *cfg, size_t i, const char *text, char *why, size_t size)
    __attribute__((warn_unused_result));

/*
 * Writes key i's value in cfg to buf as text config_key_set takes back.
 * Secrets included: never log it. Returns 0, or -1 for no such key.
 */
int config_key_get(const struct config *cfg, size_t i, char *buf, size_t size)
    __attribute__((warn_unused_result));

#endif
