/* test_config.c - tables of YAML documents and the config or exact errors they give. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture.h"
#include "config.h"
#include "defaults.h"
#include "suites.h"

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define NAME "t.yaml"
/* Two lines that make a document valid; keys after it start on line 3. */
#define DB "database:\n  url: postgres://h/db\n"
/* The client an oauth2 config must name (SPEC: an empty client_id is a config error). */
#define OA2_CLIENT_ID "  client_id: app\n"
#define OA2_CLIENT OA2_CLIENT_ID "  client_auth: form\n"
/* What a literal secret looks like in these tests: it must never show. */
#define SECRET "s3cr3t-pw"

/* Every test starts from the same environment (fork mode or not). */
static void env_setup(void)
{
	(void)setenv("RT_SET", "value", 1);
	(void)setenv("RT_EMPTY", "", 1);
	(void)setenv("RT_SECRET_URL", "postgres://u:" SECRET "@h/db", 1);
	(void)setenv("RT_INJECT", "${RT_SET}", 1);
	(void)setenv("RT_BAD_URL", "ftp://" SECRET, 1);
	(void)unsetenv("RT_UNSET");
	(void)unsetenv("DATABASE_URL");
	(void)unsetenv("REFRESHER_UPSTREAM_URL");
	(void)unsetenv("AIMHARDER_FINGERPRINT");
	(void)unsetenv("OAUTH_CLIENT_ID");
	(void)unsetenv("OAUTH_CLIENT_SECRET");
	(void)unsetenv("REFRESHER_WEBHOOK_URL");
}

static void env_teardown(void)
{
	(void)unsetenv("RT_SET");
	(void)unsetenv("RT_EMPTY");
	(void)unsetenv("RT_SECRET_URL");
	(void)unsetenv("RT_INJECT");
	(void)unsetenv("RT_BAD_URL");
	(void)unsetenv("DATABASE_URL");
	(void)unsetenv("REFRESHER_UPSTREAM_URL");
}

/* Loads yaml; returns the config or NULL with the errors in *errs. */
static struct config *load(const char *yaml, struct errlist *errs)
{
	struct config *cfg = NULL;

	if (config_load_string(NAME, yaml, strlen(yaml), &cfg, errs) != 0) {
		ck_assert_ptr_null(cfg);
		ck_assert_uint_gt(errs->n, 0);
		return NULL;
	}
	ck_assert_ptr_nonnull(cfg);
	ck_assert_uint_eq(errs->n, 0);
	return cfg;
}

static void dump_errors(const struct errlist *errs)
{
	for (size_t i = 0; i < errs->n; i++)
		fprintf(stderr, "  got: %s\n", errs->msgs[i]);
}

/* ---- config_expand_env ---- */

static const struct {
	const char *in;
	const char *want; /* NULL: fails */
	const char *err;
} expand_cases[] = {
	{ "", "", NULL },
	{ "plain text", "plain text", NULL },
	{ "${RT_SET}", "value", NULL },
	{ "a${RT_SET}b", "avalueb", NULL },
	{ "${RT_SET}${RT_SET}", "valuevalue", NULL },
	{ "${RT_EMPTY}", "", NULL },
	{ "${RT_UNSET:-dflt}", "dflt", NULL },
	{ "${RT_EMPTY:-dflt}", "dflt", NULL },
	{ "${RT_SET:-dflt}", "value", NULL },
	{ "${RT_UNSET:-}", "", NULL },
	{ "${RT_UNSET:-a:-b c}", "a:-b c", NULL },
	{ "${RT_UNSET:-$}", "$", NULL },
	{ "$$", "$", NULL },
	{ "$$$$", "$$", NULL },
	{ "$${RT_SET}", "${RT_SET}", NULL },
	{ "$$$${RT_SET}", "$${RT_SET}", NULL },
	{ "$$${RT_SET}", "$value", NULL },
	{ "$", "$", NULL },
	{ "a$b", "a$b", NULL },
	{ "pa$$word", "pa$word", NULL },
	{ "pa$word$", "pa$word$", NULL },
	{ "{RT_SET}", "{RT_SET}", NULL },
	{ "${RT_INJECT}", "${RT_SET}", NULL }, /* values are not expanded again */
	{ "${RT_UNSET}", NULL, "${RT_UNSET} is not set" },
	{ "x ${RT_UNSET} y", NULL, "${RT_UNSET} is not set" },
	{ "${RT_SET}${RT_UNSET}", NULL, "${RT_UNSET} is not set" },
	{ "${", NULL, "unterminated ${" },
	{ "${RT_SET", NULL, "unterminated ${" },
	{ "${RT_UNSET:-abc", NULL, "unterminated ${" },
	{ "abc ${RT_SET", NULL, "unterminated ${" },
	{ "${}", NULL, "bad variable reference (use ${VAR} or ${VAR:-default})" },
	{ "${1A}", NULL, "bad variable reference (use ${VAR} or ${VAR:-default})" },
	{ "${A-B}", NULL, "bad variable reference (use ${VAR} or ${VAR:-default})" },
	{ "${A B}", NULL, "bad variable reference (use ${VAR} or ${VAR:-default})" },
	{ "${RT_SET:?x}", NULL, "bad variable reference (use ${VAR} or ${VAR:-default})" },
	{ "${RT_SET:+x}", NULL, "bad variable reference (use ${VAR} or ${VAR:-default})" },
	{ "${:-x}", NULL, "bad variable reference (use ${VAR} or ${VAR:-default})" },
	{ "${RT_UNSET:-${RT_SET}}", NULL, "nested ${ in a ${VAR:-default} is not supported" },
	{ "${${RT_SET}}", NULL, "bad variable reference (use ${VAR} or ${VAR:-default})" },
};

START_TEST(test_expand_env)
{
	char err[256] = "untouched";
	char *got = config_expand_env(expand_cases[_i].in, err, sizeof err);

	if (expand_cases[_i].want != NULL) {
		ck_assert_msg(got != NULL, "'%s' failed: %s", expand_cases[_i].in, err);
		ck_assert_str_eq(got, expand_cases[_i].want);
	} else {
		ck_assert_msg(got == NULL, "'%s' gave '%s'", expand_cases[_i].in, got);
		ck_assert_str_eq(err, expand_cases[_i].err);
	}
	free(got);
}
END_TEST

START_TEST(test_expand_env_limits)
{
	char err[128];
	char *big = malloc(CONFIG_MAX_VALUE_BYTES + 2);
	char *got;

	ck_assert_ptr_nonnull(big);
	memset(big, 'x', CONFIG_MAX_VALUE_BYTES);
	big[CONFIG_MAX_VALUE_BYTES] = '\0';
	got = config_expand_env(big, err, sizeof err);
	ck_assert_ptr_nonnull(got);
	ck_assert_uint_eq(strlen(got), CONFIG_MAX_VALUE_BYTES);
	free(got);
	/* One byte more, coming from the environment. */
	big[CONFIG_MAX_VALUE_BYTES] = 'x';
	big[CONFIG_MAX_VALUE_BYTES + 1] = '\0';
	ck_assert_int_eq(setenv("RT_HUGE", big, 1), 0);
	got = config_expand_env("${RT_HUGE}", err, sizeof err);
	ck_assert_ptr_null(got);
	ck_assert_str_eq(err, "longer than 8192 bytes after ${VAR} expansion");
	(void)unsetenv("RT_HUGE");
	/* A tiny or absent error buffer is never overrun. */
	ck_assert_ptr_null(config_expand_env("${RT_UNSET}", err, 4));
	ck_assert_str_eq(err, "${R");
	ck_assert_ptr_null(config_expand_env("${RT_UNSET}", NULL, 0));
	free(big);
}
END_TEST

/* ---- config_edit_distance ---- */

static const struct {
	const char *a, *b;
	size_t want;
} distance_cases[] = {
	{ "", "", 0 },
	{ "abc", "", 3 },
	{ "", "abc", 3 },
	{ "same", "same", 0 },
	{ "kitten", "sitting", 3 },
	{ "concurency", "concurrency", 1 },
	{ "flaw", "lawn", 2 },
	{ "tabel", "table", 2 },
	{ "Level", "level", 1 },
};

START_TEST(test_edit_distance)
{
	ck_assert_uint_eq(config_edit_distance(distance_cases[_i].a, distance_cases[_i].b),
	    distance_cases[_i].want);
	ck_assert_uint_eq(config_edit_distance(distance_cases[_i].b, distance_cases[_i].a),
	    distance_cases[_i].want);
}
END_TEST

/* ---- defaults ---- */

static void assert_defaults(const struct config *c)
{
	ck_assert_str_eq(c->database.table, "auth_sessions");
	ck_assert_str_eq(c->database.columns.id, "id");
	ck_assert_str_eq(c->database.columns.email, "user_email");
	ck_assert_str_eq(c->database.columns.token, "aimharder_token");
	ck_assert_str_eq(c->database.columns.cookies, "aimharder_cookies");
	ck_assert_str_eq(c->database.columns.fingerprint, "fingerprint");
	ck_assert_str_eq(c->database.columns.access_token, "");
	ck_assert_str_eq(c->database.columns.expires_at, "");
	ck_assert_int_eq(c->upstream.profile, PROFILE_AIMHARDER);
	ck_assert_str_eq(c->upstream.url, "https://aimharder.com/api/tokenUpdate");
	ck_assert_str_eq(c->upstream.fingerprint, "");
	ck_assert_uint_eq(c->upstream.form.n, 1);
	ck_assert_str_eq(c->upstream.form.v[0].name, "ciclo");
	ck_assert_str_eq(c->upstream.form.v[0].value, "1");
	ck_assert_uint_eq(c->upstream.ncapture, 2);
	ck_assert_str_eq(c->upstream.capture_cookies[0], "AWSALB");
	ck_assert_str_eq(c->upstream.capture_cookies[1], "AWSALBCORS");
	ck_assert_str_eq(c->upstream.user_agent, "Mozilla/5.0 (X11; Linux x86_64)");
	ck_assert_int_eq(c->upstream.timeout_ms, 15000);
	ck_assert_int_eq(c->upstream.connect_timeout_ms, 5000);
	ck_assert_int_eq(c->upstream.max_response_bytes, 65536);
	ck_assert_str_eq(c->upstream.ca_file, "");
	ck_assert_str_eq(c->upstream.client_id, "");
	ck_assert_str_eq(c->upstream.client_secret, "");
	ck_assert_int_eq(c->upstream.client_auth, CLIENT_AUTH_BASIC);
	ck_assert_int_eq(c->refresh.stale_after_ms, 15 * 60 * 1000);
	ck_assert_int_eq(c->refresh.concurrency, 32);
	ck_assert_int_eq(c->refresh.batch_size, 256);
	ck_assert_int_eq(c->refresh.lease_ms, 10 * 60 * 1000);
	ck_assert_int_eq(c->refresh.max_runtime_ms, 14 * 60 * 1000);
	ck_assert_int_eq(c->refresh.on_logout, ON_LOGOUT_DELETE);
	ck_assert_int_eq(c->refresh.ahead_ms, 5 * 60 * 1000);
	ck_assert(c->refresh.max_rate == 0.0);
	ck_assert_int_eq(c->retry.attempts, 4);
	ck_assert_int_eq(c->retry.base_delay_ms, 500);
	ck_assert_int_eq(c->retry.max_delay_ms, 30000);
	ck_assert(c->retry.budget == 0.2);
	ck_assert_int_eq(c->breaker.window, 50);
	ck_assert_int_eq(c->breaker.logout_min, 10);
	ck_assert(c->breaker.logout_share == 0.5);
	ck_assert_str_eq(c->database.where, "");
	ck_assert_int_eq(c->database.row_security, ROW_SECURITY_REFUSE);
	ck_assert_str_eq(c->refresh.keep_when, "");
	ck_assert_int_eq(c->log.format, LOG_FORMAT_TEXT);
	ck_assert_int_eq(c->log.level, LOG_LEVEL_INFO);
	ck_assert_str_eq(c->metrics.textfile, "");
	ck_assert_str_eq(c->notify.webhook_url, "");
}

START_TEST(test_config_new_defaults)
{
	struct config *c = config_new();

	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(c->database.url, "");
	assert_defaults(c);
	config_free(c);
	config_free(NULL);
}
END_TEST

/* A document with only database.url keeps every other default. */
START_TEST(test_minimal_document)
{
	struct errlist errs = { 0 };
	struct config *c = load(DB, &errs);

	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(c->path, NAME);
	ck_assert_str_eq(c->database.url, "postgres://h/db");
	assert_defaults(c);
	config_free(c);
	errlist_clear(&errs);
}
END_TEST

/* Every key of SPEC's Config block, none at its default. */
static const char full_yaml[] =
    "database:\n"
    "  url: ${RT_SECRET_URL}\n"
    "  table: app.sessions\n"
    "  columns: { id: sid, email: mail, token: refresh_token, cookies: \"\",\n"
    "             fingerprint: \"\", access_token: access_tok, expires_at: exp_at }\n"
    "upstream:\n"
    "  profile: oauth2\n"
    "  url: https://idp.example/oauth/token\n"
    "  fingerprint: fp-${RT_SET}\n"
    "  form: { scope: \"openid offline\", audience: api }\n"
    "  capture_cookies: [SID, \"__Host-x\"]\n"
    "  user_agent: \"refresher/1 (+ops)\"\n"
    "  timeout: 20s\n"
    "  connect_timeout: 2s500ms\n"
    "  max_response_bytes: 1024\n"
    "  ca_file: /etc/ca.pem\n"
    "  client_id: my-client\n"
    "  client_secret: ${RT_SET}\n"
    "  client_auth: form\n"
    "refresh:\n"
    "  stale_after: 0\n"
    "  concurrency: 4096\n"
    "  batch_size: 1\n"
    "  lease: 1h30m\n"
    "  max_runtime: 0\n"
    "  on_logout: keep\n"
    "  ahead: 10m\n"
    "  max_rate: 12.5\n"
    "retry:\n"
    "  attempts: 100\n"
    "  base_delay: 0\n"
    "  max_delay: 1m\n"
    "  budget: 0.5\n"
    "breaker:\n"
    "  window: 0\n"
    "log:\n"
    "  format: json\n"
    "  level: debug\n"
    "metrics:\n"
    "  textfile: /var/lib/node_exporter/refresher.prom\n"
    "notify:\n"
    "  webhook_url: https://hooks.example/T/B/X\n";

START_TEST(test_full_document)
{
	struct errlist errs = { 0 };
	struct config *c = load(full_yaml, &errs);

	if (c == NULL)
		dump_errors(&errs);
	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(c->database.url, "postgres://u:" SECRET "@h/db");
	ck_assert_str_eq(c->database.table, "app.sessions");
	ck_assert_str_eq(c->database.columns.id, "sid");
	ck_assert_str_eq(c->database.columns.email, "mail");
	ck_assert_str_eq(c->database.columns.token, "refresh_token");
	ck_assert_str_eq(c->database.columns.cookies, "");
	ck_assert_str_eq(c->database.columns.fingerprint, "");
	ck_assert_str_eq(c->database.columns.access_token, "access_tok");
	ck_assert_str_eq(c->database.columns.expires_at, "exp_at");
	ck_assert_int_eq(c->upstream.profile, PROFILE_OAUTH2);
	ck_assert_str_eq(c->upstream.url, "https://idp.example/oauth/token");
	ck_assert_str_eq(c->upstream.fingerprint, "fp-value");
	ck_assert_uint_eq(c->upstream.form.n, 2);
	ck_assert_str_eq(c->upstream.form.v[0].name, "scope");
	ck_assert_str_eq(c->upstream.form.v[0].value, "openid offline");
	ck_assert_str_eq(c->upstream.form.v[1].name, "audience");
	ck_assert_str_eq(c->upstream.form.v[1].value, "api");
	ck_assert_uint_eq(c->upstream.ncapture, 2);
	ck_assert_str_eq(c->upstream.capture_cookies[0], "SID");
	ck_assert_str_eq(c->upstream.capture_cookies[1], "__Host-x");
	ck_assert_str_eq(c->upstream.user_agent, "refresher/1 (+ops)");
	ck_assert_int_eq(c->upstream.timeout_ms, 20000);
	ck_assert_int_eq(c->upstream.connect_timeout_ms, 2500);
	ck_assert_int_eq(c->upstream.max_response_bytes, 1024);
	ck_assert_str_eq(c->upstream.ca_file, "/etc/ca.pem");
	ck_assert_str_eq(c->upstream.client_id, "my-client");
	ck_assert_str_eq(c->upstream.client_secret, "value");
	ck_assert_int_eq(c->upstream.client_auth, CLIENT_AUTH_FORM);
	ck_assert_int_eq(c->refresh.stale_after_ms, 0);
	ck_assert_int_eq(c->refresh.concurrency, 4096);
	ck_assert_int_eq(c->refresh.batch_size, 1);
	ck_assert_int_eq(c->refresh.lease_ms, 5400000);
	ck_assert_int_eq(c->refresh.max_runtime_ms, 0);
	ck_assert_int_eq(c->refresh.on_logout, ON_LOGOUT_KEEP);
	ck_assert_int_eq(c->refresh.ahead_ms, 600000);
	ck_assert(c->refresh.max_rate == 12.5);
	ck_assert_int_eq(c->retry.attempts, 100);
	ck_assert_int_eq(c->retry.base_delay_ms, 0);
	ck_assert_int_eq(c->retry.max_delay_ms, 60000);
	ck_assert(c->retry.budget == 0.5);
	ck_assert_int_eq(c->breaker.window, 0);
	ck_assert_int_eq(c->log.format, LOG_FORMAT_JSON);
	ck_assert_int_eq(c->log.level, LOG_LEVEL_DEBUG);
	ck_assert_str_eq(c->metrics.textfile, "/var/lib/node_exporter/refresher.prom");
	ck_assert_str_eq(c->notify.webhook_url, "https://hooks.example/T/B/X");
	config_free(c);
	errlist_clear(&errs);
}
END_TEST

/* ---- documents that load: one key, one expected field value ---- */

enum field {
	F_PROFILE, F_CLIENT_AUTH, F_ON_LOGOUT, F_LOG_FORMAT, F_LOG_LEVEL, F_NFORM, F_NCAPTURE,
	F_URL, F_UPSTREAM_URL, F_FINGERPRINT, F_CA_FILE, F_COOKIES_COL, F_FP_COL, F_CONCURRENCY,
	F_STALE_AFTER, F_BUDGET_X10, F_TABLE, F_WHERE, F_KEEP_WHEN, F_ROW_SECURITY, F_LOGOUT_MIN,
	F_LOGOUT_SHARE_X100,
};

static const struct {
	const char *yaml;
	enum field field;
	long want;         /* for numeric fields */
	const char *swant; /* for string fields */
} ok_cases[] = {
	{ DB "upstream:\n  profile: aimharder\n", F_PROFILE, PROFILE_AIMHARDER, NULL },
	{ DB "upstream:\n  profile: oauth2\n" OA2_CLIENT, F_PROFILE, PROFILE_OAUTH2, NULL },
	{ DB "upstream:\n  client_auth: basic\n", F_CLIENT_AUTH, CLIENT_AUTH_BASIC, NULL },
	{ DB "upstream:\n  client_auth: form\n", F_CLIENT_AUTH, CLIENT_AUTH_FORM, NULL },
	{ DB "refresh:\n  on_logout: delete\n", F_ON_LOGOUT, ON_LOGOUT_DELETE, NULL },
	{ DB "refresh:\n  on_logout: keep\n", F_ON_LOGOUT, ON_LOGOUT_KEEP, NULL },
	{ DB "log:\n  format: text\n", F_LOG_FORMAT, LOG_FORMAT_TEXT, NULL },
	{ DB "log:\n  format: json\n", F_LOG_FORMAT, LOG_FORMAT_JSON, NULL },
	{ DB "log:\n  level: debug\n", F_LOG_LEVEL, LOG_LEVEL_DEBUG, NULL },
	{ DB "log:\n  level: info\n", F_LOG_LEVEL, LOG_LEVEL_INFO, NULL },
	{ DB "log:\n  level: warn\n", F_LOG_LEVEL, LOG_LEVEL_WARN, NULL },
	{ DB "log:\n  level: error\n", F_LOG_LEVEL, LOG_LEVEL_ERROR, NULL },
	{ DB "log:\n  level: \"${RT_UNSET:-warn}\"\n", F_LOG_LEVEL, LOG_LEVEL_WARN, NULL },
	/* oauth2 drops aimharder's form and cookie/fingerprint columns unless given. */
	{ DB "upstream:\n  profile: oauth2\n" OA2_CLIENT, F_NFORM, 0, NULL },
	{ DB "upstream:\n  form: {scope: x}\n  profile: oauth2\n" OA2_CLIENT, F_NFORM, 1, NULL },
	{ DB "upstream:\n  profile: oauth2\n" OA2_CLIENT, F_COOKIES_COL, 0, "" },
	{ DB "upstream:\n  profile: oauth2\n" OA2_CLIENT, F_FP_COL, 0, "" },
	{ "upstream:\n  profile: oauth2\n" OA2_CLIENT DB "  columns:\n    cookies: c\n", F_COOKIES_COL, 0, "c" },
	{ DB "upstream:\n  form: {}\n", F_NFORM, 0, NULL },
	{ DB "upstream:\n  form:\n", F_NFORM, 0, NULL },
	{ DB "upstream:\n  form: {a: \"1\", b: ~, c: \"\"}\n", F_NFORM, 3, NULL },
	{ DB "upstream:\n  capture_cookies: []\n", F_NCAPTURE, 0, NULL },
	{ DB "upstream:\n  capture_cookies: [a, b, c]\n", F_NCAPTURE, 3, NULL },
	/* Null sections and values. */
	{ DB "metrics:\nnotify: ~\nlog: {}\n", F_LOG_LEVEL, LOG_LEVEL_INFO, NULL },
	{ DB "upstream:\n  ca_file: ~\n", F_CA_FILE, 0, "" },
	{ DB "upstream:\n  ca_file: null\n", F_CA_FILE, 0, "" },
	{ DB "upstream:\n  ca_file: 'null'\n", F_CA_FILE, 0, "null" },
	/* Expansion of values. */
	{ "database:\n  url: ${RT_SECRET_URL}\n", F_URL, 0, "postgres://u:" SECRET "@h/db" },
	{ "database:\n  url: \"pa$word $$ ${RT_SET}\"\n", F_URL, 0, "pa$word $ value" },
	{ "database:\n  url: 'host=h dbname=${RT_UNSET:-app}'\n", F_URL, 0, "host=h dbname=app" },
	{ DB "upstream:\n  url: ${RT_UNSET:-http://127.0.0.1:8080/t}\n", F_UPSTREAM_URL, 0,
	  "http://127.0.0.1:8080/t" },
	{ DB "upstream:\n  fingerprint: ${RT_EMPTY:-}\n", F_FINGERPRINT, 0, "" },
	{ DB "refresh:\n  concurrency: ${RT_UNSET:-7}\n", F_CONCURRENCY, 7, NULL },
	{ DB "refresh:\n  concurrency: \"8\"\n", F_CONCURRENCY, 8, NULL },
	{ DB "refresh:\n  concurrency: !!int 9\n", F_CONCURRENCY, 9, NULL },
	{ DB "refresh:\n  stale_after: ${RT_UNSET:-1h30m}\n", F_STALE_AFTER, 5400000, NULL },
	{ DB "retry:\n  budget: 0\n", F_BUDGET_X10, 0, NULL },
	{ DB "retry:\n  budget: 10\n", F_BUDGET_X10, 100, NULL },
	{ DB "  table: s_1.T$x\n", F_TABLE, 0, "s_1.T$x" },
	/* The application's own rules: SQL expressions, row security, the mass-logout guard. */
	{ DB "  where: \"session_type = 'background'\"\n", F_WHERE, 0, "session_type = 'background'" },
	{ DB "  where: \"\"\n", F_WHERE, 0, "" },
	{ DB "  where: ~\n", F_WHERE, 0, "" },
	{ DB "  where: >-\n    NOT protected\n    AND session_type = 'device'\n", F_WHERE, 0,
	  "NOT protected AND session_type = 'device'" },
	{ DB "  where: |\n    a -- why\n    OR b\n", F_WHERE, 0, "a -- why\nOR b\n" },
	{ DB "  where: \"note = 'x$$y'\"\n", F_WHERE, 0, "note = 'x$y'" },
	{ DB "  where: \"note = '${RT_SET}'\"\n", F_WHERE, 0, "note = 'value'" },
	{ DB "refresh:\n  keep_when: \"protected OR session_type = 'background'\"\n", F_KEEP_WHEN, 0,
	  "protected OR session_type = 'background'" },
	{ DB "  row_security: allow\n", F_ROW_SECURITY, ROW_SECURITY_ALLOW, NULL },
	{ DB "  row_security: refuse\n", F_ROW_SECURITY, ROW_SECURITY_REFUSE, NULL },
	{ DB "breaker:\n  logout_min: 0\n", F_LOGOUT_MIN, 0, NULL },
	{ DB "breaker:\n  logout_min: 1000000000\n", F_LOGOUT_MIN, 1000000000, NULL },
	{ DB "breaker:\n  logout_share: 0\n", F_LOGOUT_SHARE_X100, 0, NULL },
	{ DB "breaker:\n  logout_share: 0.25\n", F_LOGOUT_SHARE_X100, 25, NULL },
	{ DB "breaker:\n  logout_share: 1\n", F_LOGOUT_SHARE_X100, 100, NULL },
	/* No fingerprint column is fine with upstream.fingerprint set. */
	{ DB "  columns: {fingerprint: \"\"}\nupstream:\n  fingerprint: fp\n", F_FP_COL, 0, "" },
	/* Anchors are fine; only aliases are refused. */
	{ DB "refresh: &r\n  concurrency: &c 3\n", F_CONCURRENCY, 3, NULL },
	/* Comments, a BOM, explicit document markers. */
	{ "\xef\xbb\xbf# c\n---\n" DB "refresh: {concurrency: 5} # five\n...\n", F_CONCURRENCY, 5, NULL },
};

START_TEST(test_ok_cases)
{
	struct errlist errs = { 0 };
	struct config *c = NULL;
	const char *yaml = ok_cases[_i].yaml;
	long got = 0;
	const char *sgot = NULL;

	c = load(yaml, &errs);
	if (c == NULL)
		dump_errors(&errs);
	ck_assert_msg(c != NULL, "row %d did not load", _i);
	switch (ok_cases[_i].field) {
	case F_PROFILE: got = c->upstream.profile; break;
	case F_CLIENT_AUTH: got = c->upstream.client_auth; break;
	case F_ON_LOGOUT: got = c->refresh.on_logout; break;
	case F_LOG_FORMAT: got = c->log.format; break;
	case F_LOG_LEVEL: got = c->log.level; break;
	case F_NFORM: got = (long)c->upstream.form.n; break;
	case F_NCAPTURE: got = (long)c->upstream.ncapture; break;
	case F_URL: sgot = c->database.url; break;
	case F_UPSTREAM_URL: sgot = c->upstream.url; break;
	case F_FINGERPRINT: sgot = c->upstream.fingerprint; break;
	case F_CA_FILE: sgot = c->upstream.ca_file; break;
	case F_COOKIES_COL: sgot = c->database.columns.cookies; break;
	case F_FP_COL: sgot = c->database.columns.fingerprint; break;
	case F_CONCURRENCY: got = c->refresh.concurrency; break;
	case F_STALE_AFTER: got = c->refresh.stale_after_ms; break;
	case F_BUDGET_X10: got = (long)(c->retry.budget * 10); break;
	case F_TABLE: sgot = c->database.table; break;
	case F_WHERE: sgot = c->database.where; break;
	case F_KEEP_WHEN: sgot = c->refresh.keep_when; break;
	case F_ROW_SECURITY: got = c->database.row_security; break;
	case F_LOGOUT_MIN: got = c->breaker.logout_min; break;
	case F_LOGOUT_SHARE_X100: got = (long)(c->breaker.logout_share * 100 + 0.5); break;
	}
	if (ok_cases[_i].swant != NULL)
		ck_assert_str_eq(sgot, ok_cases[_i].swant);
	else
		ck_assert_int_eq(got, ok_cases[_i].want);
	config_free(c);
	errlist_clear(&errs);
}
END_TEST

/* ---- documents that fail: the exact messages, in order ---- */

#define MAXW 4
static const struct {
	const char *yaml;
	const char *want[MAXW];
} error_cases[] = {
	/* Unknown keys, with and without a suggestion. */
	{ DB "refresh:\n    concurency: 8\n",
	  { "t.yaml:4:5: refresh.concurency: unknown key (did you mean 'concurrency'?)" } },
	{ DB "refresh:\n  zzz: 1\n", { "t.yaml:4:3: refresh.zzz: unknown key" } },
	{ DB "refrsh:\n  concurrency: 1\n",
	  { "t.yaml:3:1: refrsh: unknown key (did you mean 'refresh'?)" } },
	{ DB "refresh:\n  timeout: 5s\n",
	  { "t.yaml:4:3: refresh.timeout: unknown key (did you mean 'upstream.timeout'?)" } },
	{ DB "concurrency: 5\n",
	  { "t.yaml:3:1: concurrency: unknown key (did you mean 'refresh.concurrency'?)" } },
	{ DB "log:\n  lvl: debug\n", { "t.yaml:4:3: log.lvl: unknown key (did you mean 'level'?)" } },
	{ DB "upstream:\n  usr_agent: x\n",
	  { "t.yaml:4:3: upstream.usr_agent: unknown key (did you mean 'user_agent'?)" } },
	{ DB "  columns:\n    tokn: t\n",
	  { "t.yaml:4:5: database.columns.tokn: unknown key (did you mean 'token'?)" } },
	{ DB "  columns: {refresh_token: t}\n",
	  { "t.yaml:3:13: database.columns.refresh_token: unknown key" } },
	{ DB "x: 1\n", { "t.yaml:3:1: x: unknown key" } },
	{ DB "\"a\\tb'c\": 1\n", { "t.yaml:3:1: a\\x09b\\'c: unknown key" } },
	/* Durations. */
	{ DB "refresh:\n  stale_after: 15x\n",
	  { "t.yaml:4:16: refresh.stale_after: bad duration '15x' (use e.g. 500ms, 15s, 15m, 1h30m)" } },
	{ DB "refresh:\n  stale_after: -1s\n",
	  { "t.yaml:4:16: refresh.stale_after: bad duration '-1s' (use e.g. 500ms, 15s, 15m, 1h30m)" } },
	{ DB "refresh:\n  stale_after: 1h 30m\n",
	  { "t.yaml:4:16: refresh.stale_after: bad duration '1h 30m' (use e.g. 500ms, 15s, 15m, 1h30m)" } },
	{ DB "refresh:\n  stale_after: 15\n",
	  { "t.yaml:4:16: refresh.stale_after: bad duration '15' (use e.g. 500ms, 15s, 15m, 1h30m)" } },
	{ DB "refresh:\n  stale_after:\n",
	  { "t.yaml:4:15: refresh.stale_after: bad duration '' (use e.g. 500ms, 15s, 15m, 1h30m)" } },
	{ DB "refresh:\n  stale_after: 31d\n",
	  { "t.yaml:4:16: refresh.stale_after: must be from 0s to 30d (got '31d')" } },
	{ DB "refresh:\n  stale_after: 99999999999999999999999s\n",
	  { "t.yaml:4:16: refresh.stale_after: must be from 0s to 30d (got '99999999999999999999999s')" } },
	{ DB "refresh:\n  lease: 500ms\n",
	  { "t.yaml:4:10: refresh.lease: must be from 1s to 30d (got '500ms')" } },
	{ DB "upstream:\n  timeout: 0\n",
	  { "t.yaml:4:12: upstream.timeout: must be from 1ms to 30d (got '0')" } },
	{ DB "upstream:\n  connect_timeout: 0s\n",
	  { "t.yaml:4:20: upstream.connect_timeout: must be from 1ms to 30d (got '0s')" } },
	/* Integer and number ranges. */
	{ DB "refresh:\n  concurrency: 0\n",
	  { "t.yaml:4:16: refresh.concurrency: must be an integer from 1 to 4096 (got '0')" } },
	{ DB "refresh:\n  concurrency: 4097\n",
	  { "t.yaml:4:16: refresh.concurrency: must be an integer from 1 to 4096 (got '4097')" } },
	{ DB "refresh:\n  concurrency: 1.5\n",
	  { "t.yaml:4:16: refresh.concurrency: must be an integer from 1 to 4096 (got '1.5')" } },
	{ DB "refresh:\n  concurrency: 0x10\n",
	  { "t.yaml:4:16: refresh.concurrency: must be an integer from 1 to 4096 (got '0x10')" } },
	{ DB "refresh:\n  concurrency: 99999999999999999999999\n",
	  { "t.yaml:4:16: refresh.concurrency: must be an integer from 1 to 4096 (got '99999999999999999999999')" } },
	{ DB "refresh:\n  batch_size: 10001\n",
	  { "t.yaml:4:15: refresh.batch_size: must be an integer from 1 to 10000 (got '10001')" } },
	{ DB "retry:\n  attempts: 0\n",
	  { "t.yaml:4:13: retry.attempts: must be an integer from 1 to 100 (got '0')" } },
	{ DB "retry:\n  attempts: 101\n",
	  { "t.yaml:4:13: retry.attempts: must be an integer from 1 to 100 (got '101')" } },
	{ DB "upstream:\n  max_response_bytes: 0\n",
	  { "t.yaml:4:23: upstream.max_response_bytes: must be an integer from 1 to 16777216 (got '0')" } },
	{ DB "upstream:\n  max_response_bytes: 16777217\n",
	  { "t.yaml:4:23: upstream.max_response_bytes: must be an integer from 1 to 16777216 (got '16777217')" } },
	/* The application's own rules. */
	{ DB "  where: \"true) OR (true\"\n",
	  { "t.yaml:3:10: database.where: has a ')' without its '(': the expression must be one whole expression" } },
	{ DB "  where: \"protected; DELETE FROM auth_sessions\"\n",
	  { "t.yaml:3:10: database.where: must be one expression, without ';'" } },
	{ DB "  where: \"id = $1\"\n",
	  { "t.yaml:3:10: database.where: must not use parameters ($1, $2, ...): the refresher's statements have their own" } },
	{ DB "refresh:\n  keep_when: \"(protected\"\n",
	  { "t.yaml:4:14: refresh.keep_when: has a '(' without its ')'" } },
	{ DB "refresh:\n  keep_when: \"note = 'open\"\n",
	  { "t.yaml:4:14: refresh.keep_when: unterminated quoted string" } },
	{ DB "refresh:\n  keep_when: \"  \"\n",
	  { "t.yaml:4:14: refresh.keep_when: holds no expression (only blanks or comments)" } },
	{ DB "  where: \"a\\x01b\"\n",
	  { "t.yaml:3:10: database.where: must not contain control characters (but tabs and line breaks)" } },
	{ DB "  where: [a]\n", { "t.yaml:3:10: database.where: expected a single value, got a list" } },
	{ DB "  row_security: bypass\n",
	  { "t.yaml:3:17: database.row_security: must be one of refuse, allow (got 'bypass')" } },
	{ DB "breaker:\n  logout_min: -1\n",
	  { "t.yaml:4:15: breaker.logout_min: must be an integer from 0 to 1000000000 (got '-1')" } },
	{ DB "breaker:\n  logout_share: 1.5\n",
	  { "t.yaml:4:17: breaker.logout_share: must be a number from 0 to 1 (got '1.5')" } },
	{ DB "  columns: {fingerprint: \"\"}\n",
	  { "t.yaml: upstream.fingerprint: must be set when database.columns.fingerprint is \"\" (every request needs one)" } },
	{ DB "  columns: {fingerprint: \"\"}\nupstream:\n  fingerprint: \"\"\n",
	  { "t.yaml:5:3: upstream.fingerprint: must be set when database.columns.fingerprint is \"\" (every request needs one)" } },
	{ DB "breaker:\n  window: -1\n",
	  { "t.yaml:4:11: breaker.window: must be an integer from 0 to 1000000 (got '-1')" } },
	{ DB "breaker:\n  window: 1000001\n",
	  { "t.yaml:4:11: breaker.window: must be an integer from 0 to 1000000 (got '1000001')" } },
	{ DB "retry:\n  budget: 10.5\n",
	  { "t.yaml:4:11: retry.budget: must be a number from 0 to 10 (got '10.5')" } },
	{ DB "retry:\n  budget: -0.1\n",
	  { "t.yaml:4:11: retry.budget: must be a number from 0 to 10 (got '-0.1')" } },
	{ DB "retry:\n  budget: .inf\n",
	  { "t.yaml:4:11: retry.budget: must be a number from 0 to 10 (got '.inf')" } },
	{ DB "refresh:\n  max_rate: 100001\n",
	  { "t.yaml:4:13: refresh.max_rate: must be a number from 0 to 100000 (got '100001')" } },
	/* Enums. */
	{ DB "log:\n  format: xml\n", { "t.yaml:4:11: log.format: must be one of text, json (got 'xml')" } },
	{ DB "log:\n  format: JSON\n", { "t.yaml:4:11: log.format: must be one of text, json (got 'JSON')" } },
	{ DB "log:\n  level: trace\n",
	  { "t.yaml:4:10: log.level: must be one of debug, info, warn, error (got 'trace')" } },
	{ DB "refresh:\n  on_logout: purge\n",
	  { "t.yaml:4:14: refresh.on_logout: must be one of delete, keep (got 'purge')" } },
	{ DB "upstream:\n  client_auth: header\n",
	  { "t.yaml:4:16: upstream.client_auth: must be one of basic, form (got 'header')" } },
	{ DB "upstream:\n  profile: saml\n",
	  { "t.yaml:4:12: upstream.profile: must be one of aimharder, oauth2, json (got 'saml')" } },
	/* Wrong types. */
	{ DB "refresh: 5\n", { "t.yaml:3:10: refresh: expected a mapping, got a single value" } },
	{ DB "refresh: [1, 2]\n", { "t.yaml:3:10: refresh: expected a mapping, got a list" } },
	{ DB "refresh:\n  concurrency: [1]\n",
	  { "t.yaml:4:16: refresh.concurrency: expected a single value, got a list" } },
	{ DB "refresh:\n  concurrency: {a: 1}\n",
	  { "t.yaml:4:16: refresh.concurrency: expected a single value, got a mapping" } },
	{ DB "upstream:\n  form: [ciclo]\n",
	  { "t.yaml:4:9: upstream.form: expected a mapping of field: value, got a list" } },
	{ DB "upstream:\n  form: {ciclo: [1]}\n",
	  { "t.yaml:4:17: upstream.form.ciclo: expected a single value, got a list" } },
	{ DB "upstream:\n  capture_cookies: AWSALB\n",
	  { "t.yaml:4:20: upstream.capture_cookies: expected a list of cookie names, got a single value" } },
	{ DB "upstream:\n  capture_cookies: [a, {b: c}]\n",
	  { "t.yaml:4:24: upstream.capture_cookies[1]: expected a cookie name, got a mapping" } },
	{ DB "  columns: id\n",
	  { "t.yaml:3:12: database.columns: expected a mapping of role: column, got a single value" } },
	{ DB "  columns: {id: [x]}\n",
	  { "t.yaml:3:17: database.columns.id: expected a column name, got a list" } },
	{ "- database\n", { "t.yaml:1:1: top level: expected a mapping of sections, got a list",
			    "t.yaml: database.url: required" } },
	{ "just text\n", { "t.yaml:1:1: top level: expected a mapping of sections, got a single value",
			   "t.yaml: database.url: required" } },
	{ DB "? [a, b]\n: c\n", { "t.yaml:3:3: keys must be plain strings, got a list" } },
	{ DB "refresh: &r {concurrency: 5}\nretry: *r\n",
	  { "t.yaml:4:8: retry: expected a mapping, got an alias (aliases are not supported)" } },
	/* ${VAR} */
	{ "database:\n  url: ${RT_UNSET}\n", { "t.yaml:2:8: database.url: ${RT_UNSET} is not set" } },
	{ "database:\n  url: ${DATABASE_URL}\n",
	  { "t.yaml:2:8: database.url: ${DATABASE_URL} is not set" } },
	{ DB "refresh:\n  concurrency: ${RT_UNSET}\n",
	  { "t.yaml:4:16: refresh.concurrency: ${RT_UNSET} is not set" } },
	{ DB "upstream:\n  form: {ciclo: \"${RT_UNSET\"}\n",
	  { "t.yaml:4:17: upstream.form.ciclo: unterminated ${" } },
	{ DB "upstream:\n  capture_cookies: [\"${RT_UNSET}\"]\n",
	  { "t.yaml:4:21: upstream.capture_cookies[0]: ${RT_UNSET} is not set" } },
	{ DB "refresh:\n  concurrency: ${RT_SET}\n",
	  { "t.yaml:4:16: refresh.concurrency: must be an integer from 1 to 4096 (got 'value')" } },
	/* Required and empty. */
	{ "", { "t.yaml: database.url: required" } },
	{ "# only a comment\n", { "t.yaml: database.url: required" } },
	{ "---\n", { "t.yaml: database.url: required" } },
	{ "refresh:\n  concurrency: 5\n", { "t.yaml: database.url: required" } },
	{ "database:\n  url: \"\"\n", { "t.yaml:2:8: database.url: must not be empty" } },
	{ "database:\n  url: ${RT_EMPTY}\n", { "t.yaml:2:8: database.url: must not be empty" } },
	{ "database:\n  table: x\n", { "t.yaml: database.url: required" } },
	{ DB "upstream:\n  url: \"\"\n", { "t.yaml:4:8: upstream.url: must not be empty" } },
	/* Secrets are never echoed, other values are (escaped). */
	{ "database:\n  url: \"postgres://u:" SECRET "@h/\\x01\"\n",
	  { "t.yaml:2:8: database.url: must not contain control characters" } },
	{ DB "upstream:\n  client_secret: \"" SECRET "\\n\"\n",
	  { "t.yaml:4:18: upstream.client_secret: must not contain control characters" } },
	{ DB "notify:\n  webhook_url: ${RT_BAD_URL}\n",
	  { "t.yaml:4:16: notify.webhook_url: must be an http:// or https:// URL" } },
	{ DB "upstream:\n  url: ftp://x/y\n",
	  { "t.yaml:4:8: upstream.url: must be an http:// or https:// URL (got 'ftp://x/y')" } },
	{ DB "upstream:\n  url: https://\n",
	  { "t.yaml:4:8: upstream.url: must be an http:// or https:// URL (got 'https://')" } },
	{ DB "upstream:\n  url: \"https://a b\"\n",
	  { "t.yaml:4:8: upstream.url: must be an http:// or https:// URL (got 'https://a b')" } },
	{ DB "upstream:\n  url: \"https://a\\tb\"\n",
	  { "t.yaml:4:8: upstream.url: must not contain control characters" } },
	{ DB "upstream:\n  user_agent: \"x\\r\\nX-Evil: 1\"\n",
	  { "t.yaml:4:15: upstream.user_agent: must not contain control characters" } },
	{ "database:\n  url: \"a\\0b\"\n", { "t.yaml:2:8: database.url: must not contain a NUL byte" } },
	/* Identifiers and cookie names. */
	{ DB "  table: \"auth sessions\"\n",
	  { "t.yaml:3:10: database.table: must be a table name, optionally schema-qualified "
	    "(letters, digits, _; at most 63 bytes per part) (got 'auth sessions')" } },
	{ DB "  table: a.b.c\n",
	  { "t.yaml:3:10: database.table: must be a table name, optionally schema-qualified "
	    "(letters, digits, _; at most 63 bytes per part) (got 'a.b.c')" } },
	{ DB "  table: \"x; DROP TABLE y\"\n",
	  { "t.yaml:3:10: database.table: must be a table name, optionally schema-qualified "
	    "(letters, digits, _; at most 63 bytes per part) (got 'x; DROP TABLE y')" } },
	{ DB "  columns: {id: \"\"}\n",
	  { "t.yaml:3:17: database.columns.id: must name a column" } },
	{ DB "  columns: {email: 1abc}\n",
	  { "t.yaml:3:20: database.columns.email: must be a column name (letters, digits, _; "
	    "at most 63 bytes) (got '1abc')" } },
	{ DB "  columns: {access_token: AIMHARDER_TOKEN}\n",
	  { "t.yaml:3:13: database.columns.access_token: same column as database.columns.token" } },
	{ DB "  columns: {email: id}\n",
	  { "t.yaml:3:13: database.columns.email: same column as database.columns.id" } },
	{ DB "upstream:\n  capture_cookies: [\"a b\"]\n",
	  { "t.yaml:4:21: upstream.capture_cookies[0]: must be a cookie name (no spaces, separators "
	    "or control characters) (got 'a b')" } },
	{ DB "upstream:\n  capture_cookies: [a, a]\n",
	  { "t.yaml:4:24: upstream.capture_cookies[1]: duplicate name 'a'" } },
	{ DB "upstream:\n  form: {\"\": x}\n", { "t.yaml:4:10: upstream.form: empty field name" } },
	/* Checks across keys. */
	{ DB "upstream:\n  form: {token: x}\n",
	  { "t.yaml:4:10: upstream.form.token: reserved: the refresher sets this field itself" } },
	{ DB "upstream:\n  profile: oauth2\n  form: {scope: a, grant_type: x}\n" OA2_CLIENT,
	  { "t.yaml:5:20: upstream.form.grant_type: reserved: the refresher sets this field itself" } },
	/* oauth2 without a client, or Basic auth without a secret: every row would be refused. */
	{ DB "upstream:\n  profile: oauth2\n",
	  { "t.yaml: upstream.client_id: required by profile oauth2 (the token endpoint would refuse every row)" } },
	{ DB "upstream:\n  profile: oauth2\n  client_id: \"\"\n  client_secret: s\n",
	  { "t.yaml:5:3: upstream.client_id: required by profile oauth2 (the token endpoint would refuse every row)" } },
	{ DB "upstream:\n  profile: oauth2\n  client_id: ${RT_UNSET:-}\n  client_auth: form\n",
	  { "t.yaml:5:3: upstream.client_id: required by profile oauth2 (the token endpoint would refuse every row)" } },
	{ DB "upstream:\n  profile: oauth2\n  client_id: app\n",
	  { "t.yaml: upstream.client_secret: required with client_auth: basic (a public client sends its client_id with client_auth: form)" } },
	{ DB "upstream:\n  profile: oauth2\n  client_id: app\n  client_secret: \"\"\n  client_auth: basic\n",
	  { "t.yaml:6:3: upstream.client_secret: required with client_auth: basic (a public client sends its client_id with client_auth: form)" } },
	{ DB "retry:\n  base_delay: 1m\n",
	  { "t.yaml:4:3: retry.base_delay: must not be more than retry.max_delay (30s)" } },
	{ DB "retry:\n  max_delay: 100ms\n",
	  { "t.yaml:4:3: retry.base_delay: must not be more than retry.max_delay (100ms)" } },
	{ DB "refresh:\n  lease: 15s\n",
	  { "t.yaml:4:3: refresh.lease: must be longer than upstream.timeout (15s)" } },
	/* Duplicates. */
	{ DB "refresh:\n  concurrency: 5\n  concurrency: 6\n",
	  { "t.yaml:5:3: refresh.concurrency: duplicate key (first at line 4)" } },
	{ DB "refresh: {}\nrefresh: {}\n", { "t.yaml:4:1: refresh: duplicate key (first at line 3)" } },
	{ DB "database:\n  url: x\n", { "t.yaml:3:1: database: duplicate key (first at line 1)" } },
	{ DB "upstream:\n  form: {a: 1, a: 2}\n",
	  { "t.yaml:4:16: upstream.form.a: duplicate key (first at line 4)" } },
	/* Several errors are all reported, in order. */
	{ DB "refresh:\n  concurency: 8\n  lease: 1x\nlog:\n  level: loud\n  format: {}\n",
	  { "t.yaml:4:3: refresh.concurency: unknown key (did you mean 'concurrency'?)",
	    "t.yaml:5:10: refresh.lease: bad duration '1x' (use e.g. 500ms, 15s, 15m, 1h30m)",
	    "t.yaml:7:10: log.level: must be one of debug, info, warn, error (got 'loud')",
	    "t.yaml:8:11: log.format: expected a single value, got a mapping" } },
	{ "refresh:\n  concurrency: 0\n",
	  { "t.yaml:2:16: refresh.concurrency: must be an integer from 1 to 4096 (got '0')",
	    "t.yaml: database.url: required" } },
	/* YAML syntax errors stop the load; what came before is kept. */
	{ DB "refresh: [\n",
	  { "t.yaml:3:10: refresh: expected a mapping, got a list",
	    "t.yaml:4:1: YAML syntax error: did not find expected node content" } },
	/* Bad indentation folds " concurrency: 1" into one plain scalar. */
	{ DB "log:\n  level: x\nrefresh:\n concurrency: 1\n  batch_size: 2\n",
	  { "t.yaml:4:10: log.level: must be one of debug, info, warn, error (got 'x')",
	    "t.yaml:6:15: refresh.concurrency: must be an integer from 1 to 4096 (got '1 batch_size')",
	    "t.yaml:7:13: YAML syntax error: mapping values are not allowed in this context" } },
	{ DB "a: \"unterminated\n", { "t.yaml:4:1: YAML syntax error: found unexpected end of stream" } },
	{ DB "\tx: 1\n",
	  { "t.yaml:3:1: YAML syntax error: a tab character; YAML indents and separates with spaces only" } },
	/* libyaml's "found character that cannot start any token", for a tab: said plainly. */
	{ DB "refresh: {concurrency: 4,\tbatch_size: 3}\n\t\n",
	  { "t.yaml:4:1: YAML syntax error: a tab character; YAML indents and separates with spaces only" } },
	{ DB "x: \xff\n", { "t.yaml:3:4: YAML syntax error: invalid leading UTF-8 octet" } },
	{ DB "---\nfoo: 1\n", { "t.yaml:3:1: only one YAML document is allowed" } },
};

START_TEST(test_error_cases)
{
	struct errlist errs = { 0 };
	struct config *c = NULL;
	const char *yaml = error_cases[_i].yaml;
	size_t nwant = 0;

	while (nwant < MAXW && error_cases[_i].want[nwant] != NULL)
		nwant++;
	ck_assert_int_eq(config_load_string(NAME, yaml, strlen(yaml), &c, &errs), -1);
	ck_assert_ptr_null(c);
	if (errs.n != nwant)
		dump_errors(&errs);
	ck_assert_uint_eq(errs.n, nwant);
	for (size_t i = 0; i < nwant; i++)
		ck_assert_str_eq(errs.msgs[i], error_cases[_i].want[i]);
	/* No row of this table may leak the secret. */
	for (size_t i = 0; i < errs.n; i++)
		ck_assert_ptr_null(strstr(errs.msgs[i], SECRET));
	errlist_clear(&errs);
	ck_assert_ptr_null(errs.msgs);
	ck_assert_uint_eq(errs.n, 0);
}
END_TEST

/* ---- hostile documents ---- */

/* Builds a string of n copies of unit after prefix (caller frees). */
static char *repeat(const char *prefix, const char *unit, size_t n, const char *suffix)
{
	size_t pl = strlen(prefix), ul = strlen(unit), sl = strlen(suffix);
	char *s = malloc(pl + ul * n + sl + 1);

	ck_assert_ptr_nonnull(s);
	memcpy(s, prefix, pl);
	for (size_t i = 0; i < n; i++)
		memcpy(s + pl + i * ul, unit, ul);
	memcpy(s + pl + n * ul, suffix, sl + 1);
	return s;
}

/* config_locate: where the file sets a key, for the errors the database finds later. */
START_TEST(test_locate)
{
	static const char yaml[] = "database:\n  url: postgres://h/db\n  where: \"a\"\n"
				   "  columns:\n    email: mail\nrefresh:\n    keep_when: \"b\"\n";
	struct errlist errs = { 0 };
	struct config *c = load(yaml, &errs);
	char buf[64];

	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(config_locate(c, "database.where", buf, sizeof buf), 1);
	ck_assert_str_eq(buf, "t.yaml:3:3");
	ck_assert_int_eq(config_locate(c, "refresh.keep_when", buf, sizeof buf), 1);
	ck_assert_str_eq(buf, "t.yaml:7:5");
	ck_assert_int_eq(config_locate(c, "database.columns.email", buf, sizeof buf), 1);
	ck_assert_str_eq(buf, "t.yaml:5:5");
	/* Keys the file does not set keep their default: the file alone. */
	ck_assert_int_eq(config_locate(c, "database.table", buf, sizeof buf), 0);
	ck_assert_str_eq(buf, "t.yaml");
	ck_assert_int_eq(config_locate(c, "database.columns.token", buf, sizeof buf), 0);
	ck_assert_str_eq(buf, "t.yaml");
	ck_assert_int_eq(config_locate(c, "nosuch.key", buf, sizeof buf), 0);
	ck_assert_int_eq(config_locate(c, "database.columns.nosuch", buf, sizeof buf), 0);
	ck_assert_int_eq(config_locate(c, "nodot", buf, sizeof buf), 0);
	/* Cut to the buffer, never overrun. */
	ck_assert_int_eq(config_locate(c, "database.where", buf, 5), 1);
	ck_assert_str_eq(buf, "t.ya");
	config_free(c);
	errlist_clear(&errs);
}
END_TEST

START_TEST(test_too_many_errors)
{
	char *yaml = malloc(64 * 1024);
	struct errlist errs = { 0 };
	struct config *c = NULL;
	size_t len;

	ck_assert_ptr_nonnull(yaml);
	len = (size_t)sprintf(yaml, DB "refresh:\n");
	for (int i = 0; i < 200; i++)
		len += (size_t)sprintf(yaml + len, "  k%d: 1\n", i);
	ck_assert_int_eq(config_load_string(NAME, yaml, len, &c, &errs), -1);
	ck_assert_uint_eq(errs.n, CONFIG_MAX_ERRORS);
	ck_assert_str_eq(errs.msgs[0], "t.yaml:4:3: refresh.k0: unknown key");
	ck_assert_str_eq(errs.msgs[CONFIG_MAX_ERRORS - 2], "t.yaml:52:3: refresh.k48: unknown key");
	ck_assert_str_eq(errs.msgs[CONFIG_MAX_ERRORS - 1], "t.yaml: too many errors, stopped after 49");
	errlist_clear(&errs);
	free(yaml);
}
END_TEST

static const struct {
	const char *prefix, *unit, *suffix;
	size_t n;
	const char *last; /* expected last message */
} hostile_cases[] = {
	/* Deep nesting stops at CONFIG_MAX_DEPTH without recursion or blow-up. */
	{ DB "foo: ", "[", "", 200000, "t.yaml:3:21: nested deeper than 16 levels" },
	{ DB "foo: ", "{a: ", "", 100000, "t.yaml:3:66: nested deeper than 16 levels" },
	{ DB "refresh:\n  concurrency: ", "[", "", 100000, "t.yaml:4:30: nested deeper than 16 levels" },
	/* Wide, not deep: a long list and a long key. */
	{ DB "foo: [", "1, ", "1]\n", 200000, "t.yaml:3:1: foo: unknown key" },
	/* A flood of errors is cut at CONFIG_MAX_ERRORS. */
	{ DB "upstream:\n  capture_cookies: [", "a, ", "b]\n", 5000,
	  "t.yaml: too many errors, stopped after 49" },
	/* Implicit YAML keys stop at 1024 characters; the echo stops sooner. */
	{ DB, "k", ": 1\n", 1000,
	  "t.yaml:3:1: kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk...: unknown key" },
	{ DB "refresh:\n  concurrency: '", "9", "'\n", 100000,
	  "t.yaml:4:16: refresh.concurrency: longer than 8192 bytes" },
	/* A billion laughs is just aliases: never expanded. */
	{ DB "lol: &a [x, x, x, x, x, x, x, x, x, x]\nlol2: &b [", "*a, ", "*a]\n", 10000,
	  "t.yaml:4:1: lol2: unknown key" },
};

START_TEST(test_hostile)
{
	struct errlist errs = { 0 };
	struct config *c = NULL;
	char *yaml = repeat(hostile_cases[_i].prefix, hostile_cases[_i].unit, hostile_cases[_i].n,
	    hostile_cases[_i].suffix);
	int r = config_load_string(NAME, yaml, strlen(yaml), &c, &errs);

	ck_assert_int_eq(r, -1);
	ck_assert_ptr_null(c);
	ck_assert_uint_ge(errs.n, 1);
	if (strcmp(errs.msgs[errs.n - 1], hostile_cases[_i].last) != 0)
		dump_errors(&errs);
	ck_assert_str_eq(errs.msgs[errs.n - 1], hostile_cases[_i].last);
	errlist_clear(&errs);
	free(yaml);
}
END_TEST

START_TEST(test_form_too_many_fields)
{
	struct errlist errs = { 0 };
	struct config *c = NULL;
	char yaml[4096];
	size_t len = (size_t)sprintf(yaml, DB "upstream:\n  form:\n");

	for (int i = 0; i < MAX_FORM_FIELDS + 3; i++)
		len += (size_t)sprintf(yaml + len, "    f%d: v\n", i);
	ck_assert_int_eq(config_load_string(NAME, yaml, len, &c, &errs), -1);
	ck_assert_uint_eq(errs.n, 3);
	ck_assert_str_eq(errs.msgs[0], "t.yaml:37:5: upstream.form.f32: more than 32 fields");
	errlist_clear(&errs);
}
END_TEST

START_TEST(test_size_limit)
{
	struct errlist errs = { 0 };
	struct config *c = NULL;
	char *yaml = repeat(DB, "#", CONFIG_MAX_BYTES - strlen(DB), "");

	ck_assert_int_eq(config_load_string(NAME, yaml, strlen(yaml), &c, &errs), 0);
	config_free(c);
	c = NULL;
	ck_assert_int_eq(config_load_string(NAME, yaml, strlen(yaml) + 1, &c, &errs), -1);
	ck_assert_uint_eq(errs.n, 1);
	ck_assert_str_eq(errs.msgs[0], "t.yaml: larger than 1048576 bytes");
	errlist_clear(&errs);
	free(yaml);
}
END_TEST

/* Not NUL-terminated input is read only up to len. */
START_TEST(test_length_is_respected)
{
	struct errlist errs = { 0 };
	struct config *c = NULL;
	const char text[] = DB "refresh:\n  concurrency: 7GARBAGE";
	size_t len = strlen(DB "refresh:\n  concurrency: 7");

	ck_assert_int_eq(config_load_string(NAME, text, len, &c, &errs), 0);
	ck_assert_int_eq(c->refresh.concurrency, 7);
	config_free(c);
	errlist_clear(&errs);
}
END_TEST

START_TEST(test_errlist)
{
	struct errlist errs = { 0 };

	errlist_clear(&errs);
	errlist_clear(NULL);
	errlist_add(NULL, "ignored %d", 1);
	for (int i = 0; i < CONFIG_MAX_ERRORS + 10; i++)
		errlist_add(&errs, "e%d", i);
	ck_assert_uint_eq(errs.n, CONFIG_MAX_ERRORS);
	ck_assert_str_eq(errs.msgs[0], "e0");
	errlist_clear(&errs);
	ck_assert_uint_eq(errs.n, 0);
}
END_TEST

/* ---- files ---- */

START_TEST(test_load_file_errors)
{
	struct errlist errs = { 0 };
	struct config *c = NULL;
	char path[] = "/tmp/refresher-test-XXXXXX";
	int fd;
	char *big;

	ck_assert_int_eq(config_load("/nonexistent/refresher.yaml", &c, &errs), -1);
	ck_assert_ptr_null(c);
	ck_assert_uint_eq(errs.n, 1);
	ck_assert_str_eq(errs.msgs[0],
	    "/nonexistent/refresher.yaml: cannot read: No such file or directory");
	errlist_clear(&errs);

	ck_assert_int_eq(config_load("/tmp", &c, &errs), -1);
	ck_assert_str_eq(errs.msgs[0], "/tmp: cannot read: Is a directory");
	errlist_clear(&errs);

	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	big = repeat("", "#", CONFIG_MAX_BYTES + 1, "");
	ck_assert_int_eq(write(fd, big, CONFIG_MAX_BYTES + 1), CONFIG_MAX_BYTES + 1);
	ck_assert_int_eq(close(fd), 0);
	ck_assert_int_eq(config_load(path, &c, &errs), -1);
	ck_assert_uint_eq(errs.n, 1);
	ck_assert_ptr_nonnull(strstr(errs.msgs[0], ": larger than 1048576 bytes"));
	errlist_clear(&errs);

	/* A file is loaded with its path in messages. */
	fd = open(path, O_WRONLY | O_TRUNC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "refresh:\n  lease: 0\n", 20), 20);
	ck_assert_int_eq(close(fd), 0);
	ck_assert_int_eq(config_load(path, &c, &errs), -1);
	ck_assert_uint_eq(errs.n, 2);
	ck_assert_ptr_eq(strstr(errs.msgs[0], path), errs.msgs[0]);
	ck_assert_str_eq(errs.msgs[0] + strlen(path),
	    ":2:10: refresh.lease: must be from 1s to 30d (got '0')");
	errlist_clear(&errs);
	ck_assert_int_eq(unlink(path), 0);
	free(big);
}
END_TEST

/* The shipped refresher.yaml; unit tests run from the top of the tree. */
#define SHIPPED "refresher.yaml"

START_TEST(test_shipped_config_loads)
{
	struct errlist errs = { 0 };
	struct config *c = NULL;

	ck_assert_int_eq(setenv("DATABASE_URL", "postgres://u:" SECRET "@db/app", 1), 0);
	if (config_load(SHIPPED, &c, &errs) != 0)
		dump_errors(&errs);
	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(c->path, SHIPPED);
	ck_assert_str_eq(c->database.url, "postgres://u:" SECRET "@db/app");
	assert_defaults(c);
	/* Every secret from the environment: no mode of the file is a problem. */
	ck_assert_uint_eq(config_literal_secrets(c, NULL, 0, NULL, 0), 0);
	config_free(c);

	ck_assert_int_eq(setenv("REFRESHER_UPSTREAM_URL", "http://127.0.0.1:18080/api/tokenUpdate", 1), 0);
	ck_assert_int_eq(config_load(SHIPPED, &c, &errs), 0);
	ck_assert_str_eq(c->upstream.url, "http://127.0.0.1:18080/api/tokenUpdate");
	config_free(c);
	errlist_clear(&errs);
}
END_TEST

START_TEST(test_shipped_config_needs_database_url)
{
	struct errlist errs = { 0 };
	struct config *c = NULL;

	ck_assert_int_eq(config_load(SHIPPED, &c, &errs), -1);
	ck_assert_ptr_null(c);
	if (errs.n != 1)
		dump_errors(&errs);
	ck_assert_uint_eq(errs.n, 1);
	ck_assert_str_eq(errs.msgs[0], "refresher.yaml:11:8: database.url: ${DATABASE_URL} is not set");
	errlist_clear(&errs);
}
END_TEST

/* ---- literal secrets: config_secret_is_literal, config_literal_secrets ---- */

/* The environment never matters: RT_SECRET_URL holds a password, RT_SET a value. */
static const struct {
	const char *raw;
	int conninfo;
	int want;
} literal_cases[] = {
	/* database.url: only a password of the file's own counts */
	{ "${DATABASE_URL}", 1, 0 },
	{ "${RT_SECRET_URL}", 1, 0 },
	{ "postgres://u:" SECRET "@h/db", 1, 1 },
	{ "postgresql://u:" SECRET "@[::1]:5432/db?sslmode=require", 1, 1 },
	{ "postgres://u:p%40w@h/db", 1, 1 },
	{ "postgres://u:$$@h/db", 1, 1 },
	{ "postgres://h/db?password=" SECRET, 1, 1 },
	{ "postgres://h/db?sslpassword=" SECRET, 1, 1 },
	{ "host=h dbname=db password=" SECRET, 1, 1 },
	{ "host=h password='a " SECRET "' dbname=db", 1, 1 },
	{ "postgres://u:" SECRET "@${PGHOST}/db", 1, 1 },
	{ "host=${PGHOST} password=" SECRET, 1, 1 },
	{ "postgres://u@h/db", 1, 0 },
	{ "postgres://u:@h/db", 1, 0 },
	{ "postgres://h/db", 1, 0 },
	{ "postgresql:///refresher?host=/run/postgresql", 1, 0 },
	{ "host=/tmp dbname=db user=u", 1, 0 },
	{ "host=h password=''", 1, 0 },
	{ "postgres://u:${PGPASSWORD}@h/db", 1, 0 },
	{ "postgres://h/db?password=${PGPASSWORD}", 1, 0 },
	/* the environment's part is not empty text: dbname=db is not read as the password */
	{ "host=h password=${PGPASSWORD} dbname=db", 1, 0 },
	{ "password=${PGPASSWORD}", 1, 0 },
	{ "${PGURL_PREFIX}${PGURL_REST}", 1, 0 },
	/* a default is in the file whether or not this run uses it */
	{ "${DATABASE_URL:-postgres://u:" SECRET "@h/db}", 1, 1 },
	{ "${RT_SECRET_URL:-postgres://u:" SECRET "@h/db}", 1, 1 },
	{ "postgres://u:${PW:-" SECRET "}@h/db", 1, 1 },
	{ "${DATABASE_URL:-postgres://u@h/db}", 1, 0 },
	{ "${DATABASE_URL:-}", 1, 0 },
	{ "postgres://u:${PW:-}@h/db", 1, 0 },
	{ "host=h password=${PW:-} dbname=db", 1, 0 },
	/* what libpq cannot parse holds no password it would use */
	{ "", 1, 0 },
	{ "not a conninfo", 1, 0 },
	{ "postgres://u:%zz@h/db", 1, 0 },
	/* fingerprint, client secret, webhook: any byte of the file's own */
	{ "", 0, 0 },
	{ "${AIMHARDER_FINGERPRINT}", 0, 0 },
	{ "${AIMHARDER_FINGERPRINT:-}", 0, 0 },
	{ "${RT_SET}", 0, 0 },
	{ "${RT_SET:-}", 0, 0 },
	{ "${A}${B}", 0, 0 },
	{ "fp-" SECRET, 0, 1 },
	{ "${AIMHARDER_FINGERPRINT:-fp}", 0, 1 },
	{ "${RT_SET:-fp}", 0, 1 },
	{ "x${AIMHARDER_FINGERPRINT}", 0, 1 },
	{ "${A} ${B}", 0, 1 },
	{ "$$", 0, 1 },
	{ "https://hooks.example/" SECRET, 0, 1 },
	/* malformed, or the mark itself in the file: counted, never missed */
	{ "${", 0, 1 },
	{ "\x01", 0, 1 },
	{ "postgres://u:\x01@h/db", 1, 1 },
};

START_TEST(test_secret_is_literal)
{
	ck_assert_msg(config_secret_is_literal(literal_cases[_i].raw, literal_cases[_i].conninfo) ==
	        literal_cases[_i].want,
	    "'%s' (conninfo %d): want %d", literal_cases[_i].raw, literal_cases[_i].conninfo,
	    literal_cases[_i].want);
}
END_TEST

static const struct {
	const char *yaml;
	const char *names; /* config_literal_secrets */
	const char *vars;
} literal_doc_cases[] = {
	{ DB, "", "" },
	{ "database:\n  url: ${RT_SECRET_URL}\n", "", "" },
	{ "database:\n  url: postgres://u:" SECRET "@h/db\n", "database.url", "${DATABASE_URL}" },
	{ "database:\n  url: \"${RT_UNSET:-host=h password=" SECRET "}\"\n", "database.url",
	  "${DATABASE_URL}" },
	{ DB "upstream:\n  fingerprint: ${AIMHARDER_FINGERPRINT:-}\n", "", "" },
	{ DB "upstream:\n  fingerprint: ~\n", "", "" },
	{ DB "upstream:\n  fingerprint: \"\"\n", "", "" },
	{ DB "upstream:\n  fingerprint: fp-" SECRET "\n", "upstream.fingerprint",
	  "${AIMHARDER_FINGERPRINT}" },
	{ DB "upstream:\n  fingerprint: ${RT_UNSET:-fp}\n", "upstream.fingerprint",
	  "${AIMHARDER_FINGERPRINT}" },
	{ DB "upstream:\n  fingerprint: ${RT_SET:-fp}\n", "upstream.fingerprint",
	  "${AIMHARDER_FINGERPRINT}" },
	{ DB "upstream:\n  profile: oauth2\n  client_secret: " SECRET "\n" OA2_CLIENT_ID, "upstream.client_secret",
	  "${OAUTH_CLIENT_SECRET}" },
	{ DB "notify:\n  webhook_url: https://hooks.example/" SECRET "\n", "notify.webhook_url",
	  "${REFRESHER_WEBHOOK_URL}" },
	{ "notify:\n  webhook_url: https://hooks.example/x\n"
	  "database:\n  url: host=h password=" SECRET "\n"
	  "upstream:\n  fingerprint: fp\n  client_secret: " SECRET "\n",
	  "database.url, upstream.fingerprint, upstream.client_secret, notify.webhook_url",
	  "${DATABASE_URL}, ${AIMHARDER_FINGERPRINT}, ${OAUTH_CLIENT_SECRET}, ${REFRESHER_WEBHOOK_URL}" },
	/* not a secret key: a password-looking user agent is nobody's business */
	{ DB "upstream:\n  user_agent: " SECRET "\n  client_id: " SECRET "\n", "", "" },
};

/* Items in a comma-separated list ("" has none). */
static size_t count_items(const char *list)
{
	size_t n = *list != '\0';

	for (; *list != '\0'; list++)
		n += *list == ',';
	return n;
}

START_TEST(test_literal_secrets_of_document)
{
	struct errlist errs = { 0 };
	struct config *c = load(literal_doc_cases[_i].yaml, &errs);
	char names[256], vars[256];
	size_t n;

	if (c == NULL)
		dump_errors(&errs);
	ck_assert_ptr_nonnull(c);
	n = config_literal_secrets(c, names, sizeof names, vars, sizeof vars);
	ck_assert_str_eq(names, literal_doc_cases[_i].names);
	ck_assert_str_eq(vars, literal_doc_cases[_i].vars);
	ck_assert_uint_eq(n, count_items(names));
	config_free(c);
	errlist_clear(&errs);
}
END_TEST

/* Lists are cut to the buffer; either may be absent; the count stays right. */
START_TEST(test_literal_secrets_buffers)
{
	struct errlist errs = { 0 };
	struct config *c = load("database:\n  url: postgres://u:" SECRET "@h/db\n"
	    "upstream:\n  fingerprint: fp\n", &errs);
	char small[8] = "junk", vars[64];

	ck_assert_uint_eq(config_literal_secrets(c, NULL, 0, NULL, 0), 2);
	ck_assert_uint_eq(config_literal_secrets(c, small, sizeof small, NULL, 0), 2);
	ck_assert_str_eq(small, "databas");
	ck_assert_uint_eq(config_literal_secrets(c, small, 0, vars, sizeof vars), 2);
	ck_assert_str_eq(small, "databas");
	ck_assert_str_eq(vars, "${DATABASE_URL}, ${AIMHARDER_FINGERPRINT}");
	config_free(c);
	c = config_new();
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(config_literal_secrets(c, small, sizeof small, vars, sizeof vars), 0);
	ck_assert_str_eq(small, "");
	ck_assert_str_eq(vars, "");
	config_free(c);
	errlist_clear(&errs);
}
END_TEST

/* ---- literal secrets: config_warn_readable_secrets on real files ---- */

#define URL_PW "database:\n  url: postgres://u:" SECRET "@h/db\n"
#define FP_LIT "upstream:\n  fingerprint: fp-" SECRET "\n"
#define WARN_URL "lets other users read a literal secret (database.url); chmod 600 it, " \
	"or move the secret to the environment (${DATABASE_URL})"
#define WARN_FP "lets other users read a literal secret (upstream.fingerprint); chmod 600 it, " \
	"or move the secret to the environment (${AIMHARDER_FINGERPRINT})"

static const struct {
	const char *yaml;
	mode_t mode;
	const char *want; /* the warning after "<path>: "; NULL: none */
} mode_cases[] = {
	{ URL_PW, 0644, "mode 0644 " WARN_URL },
	{ URL_PW, 0600, NULL },
	{ URL_PW, 0400, NULL },
	{ URL_PW, 0640, "mode 0640 " WARN_URL },
	{ URL_PW, 0604, "mode 0604 " WARN_URL },
	{ URL_PW, 0444, "mode 0444 " WARN_URL },
	{ URL_PW, 0622, NULL }, /* others may write it, not read it */
	{ URL_PW, 0711, NULL },
	{ "database:\n  url: ${RT_SECRET_URL}\n", 0644, NULL },
	{ "database:\n  url: postgres://u@h/db\n", 0644, NULL },
	{ "database:\n  url: ${RT_UNSET:-postgres://u:" SECRET "@h/db}\n", 0644, "mode 0644 " WARN_URL },
	{ "database:\n  url: ${RT_SECRET_URL:-postgres://u:" SECRET "@h/db}\n", 0644,
	  "mode 0644 " WARN_URL },
	{ "database:\n  url: ${RT_SECRET_URL:-postgres://u@h/db}\n", 0644, NULL },
	{ DB FP_LIT, 0644, "mode 0644 " WARN_FP },
	{ DB FP_LIT, 0600, NULL },
	{ DB "upstream:\n  fingerprint: ${AIMHARDER_FINGERPRINT:-}\n", 0644, NULL },
	{ DB "upstream:\n  fingerprint: ${RT_SET}\n", 0644, NULL },
	{ DB "upstream:\n  fingerprint: ${RT_UNSET:-fp-" SECRET "}\n", 0644, "mode 0644 " WARN_FP },
	{ URL_PW FP_LIT, 0664, "mode 0664 lets other users read literal secrets (database.url, "
	  "upstream.fingerprint); chmod 600 it, or move them to the environment (${DATABASE_URL}, "
	  "${AIMHARDER_FINGERPRINT})" },
};

/* Writes text to a new temp file named from template path, with exactly mode. */
static void write_config_file(char *path, const char *text, mode_t mode)
{
	int fd = mkstemp(path);
	size_t len = strlen(text);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	ck_assert_int_eq(fchmod(fd, mode), 0);
	ck_assert_int_eq(close(fd), 0);
}

/* Runs config_warn_readable_secrets with fd 2 captured; returns what it wrote (caller frees). */
static char *warn_output(const struct config *c, int want_warned)
{
	struct capture cap;

	capture_start(&cap);
	ck_assert_int_eq(config_warn_readable_secrets(c), want_warned);
	return capture_end(&cap);
}

START_TEST(test_warn_readable_secrets)
{
	char path[] = "/tmp/refresher-test-XXXXXX";
	struct errlist errs = { 0 };
	struct config *c = NULL;
	struct capture cap;
	char want[1024];
	char *out;

	write_config_file(path, mode_cases[_i].yaml, mode_cases[_i].mode);
	/* Loading alone never warns: main asks, once, after loading a file. */
	capture_start(&cap);
	ck_assert_int_eq(config_load(path, &c, &errs), 0);
	out = capture_end(&cap);
	ck_assert_str_eq(out, "");
	free(out);

	log_init(LOG_FORMAT_TEXT, LOG_LEVEL_INFO);
	out = warn_output(c, mode_cases[_i].want != NULL);
	ck_assert_ptr_null(strstr(out, SECRET));
	if (mode_cases[_i].want == NULL) {
		ck_assert_str_eq(out, "");
	} else {
		const char *sp = strchr(out, ' '); /* after the timestamp */
		(void)snprintf(want, sizeof want, "warn [config] %s: %s\n", path, mode_cases[_i].want);
		ck_assert_ptr_nonnull(sp);
		ck_assert_str_eq(sp + 1, want);
	}
	free(out);

	/* The same in JSON: one object, still no value. */
	log_init(LOG_FORMAT_JSON, LOG_LEVEL_INFO);
	out = warn_output(c, mode_cases[_i].want != NULL);
	ck_assert_ptr_null(strstr(out, SECRET));
	if (mode_cases[_i].want != NULL)
		ck_assert_ptr_nonnull(strstr(out, "\"level\":\"warn\",\"ctx\":\"config\""));
	free(out);
	log_init(LOG_FORMAT_TEXT, LOG_LEVEL_INFO);

	config_free(c);
	errlist_clear(&errs);
	ck_assert_int_eq(unlink(path), 0);
}
END_TEST

/* A symlink is followed (its own mode is 0777); a config without a file warns of nothing. */
START_TEST(test_warn_readable_secrets_symlink)
{
	char path[] = "/tmp/refresher-test-XXXXXX";
	char link[sizeof path + 8];
	struct errlist errs = { 0 };
	struct config *c = NULL;
	char *out;

	log_init(LOG_FORMAT_TEXT, LOG_LEVEL_INFO);
	write_config_file(path, URL_PW, 0600);
	(void)snprintf(link, sizeof link, "%s.link", path);
	ck_assert_int_eq(symlink(path, link), 0);
	ck_assert_int_eq(config_load(link, &c, &errs), 0);
	out = warn_output(c, 0);
	ck_assert_str_eq(out, "");
	free(out);
	ck_assert_int_eq(chmod(path, 0644), 0);
	out = warn_output(c, 1);
	ck_assert_ptr_nonnull(strstr(out, link));
	ck_assert_ptr_nonnull(strstr(out, ": mode 0644 " WARN_URL "\n"));
	free(out);
	config_free(c);
	ck_assert_int_eq(unlink(link), 0);
	/* Removed since it was read: nothing to stat, nothing said. */
	ck_assert_int_eq(config_load(path, &c, &errs), 0);
	ck_assert_int_eq(unlink(path), 0);
	out = warn_output(c, 0);
	ck_assert_str_eq(out, "");
	free(out);
	config_free(c);

	c = load(URL_PW, &errs);
	ck_assert_uint_eq(config_literal_secrets(c, NULL, 0, NULL, 0), 1);
	out = warn_output(c, 0);
	ck_assert_str_eq(out, "");
	free(out);
	config_free(c);
	errlist_clear(&errs);
}
END_TEST

Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("tables");

	tcase_add_checked_fixture(tc, env_setup, env_teardown);
	tcase_add_loop_test(tc, test_expand_env, 0, N(expand_cases));
	tcase_add_test(tc, test_expand_env_limits);
	tcase_add_loop_test(tc, test_edit_distance, 0, N(distance_cases));
	tcase_add_test(tc, test_config_new_defaults);
	tcase_add_test(tc, test_minimal_document);
	tcase_add_test(tc, test_full_document);
	tcase_add_loop_test(tc, test_ok_cases, 0, N(ok_cases));
	tcase_add_loop_test(tc, test_error_cases, 0, N(error_cases));
	tcase_add_test(tc, test_too_many_errors);
	tcase_add_test(tc, test_locate);
	tcase_add_loop_test(tc, test_hostile, 0, N(hostile_cases));
	tcase_add_test(tc, test_form_too_many_fields);
	tcase_add_test(tc, test_size_limit);
	tcase_add_test(tc, test_length_is_respected);
	tcase_add_test(tc, test_errlist);
	tcase_add_test(tc, test_load_file_errors);
	tcase_add_test(tc, test_shipped_config_loads);
	tcase_add_test(tc, test_shipped_config_needs_database_url);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	tc = tcase_create("literal_secrets");
	tcase_add_checked_fixture(tc, env_setup, env_teardown);
	tcase_add_loop_test(tc, test_secret_is_literal, 0, N(literal_cases));
	tcase_add_loop_test(tc, test_literal_secrets_of_document, 0, N(literal_doc_cases));
	tcase_add_test(tc, test_literal_secrets_buffers);
	tcase_add_loop_test(tc, test_warn_readable_secrets, 0, N(mode_cases));
	tcase_add_test(tc, test_warn_readable_secrets_symlink);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	return s;
}
