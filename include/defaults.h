/* defaults.h - every default and limit of refresher, named once. */
#ifndef REFRESHER_DEFAULTS_H
#define REFRESHER_DEFAULTS_H

#define REFRESHER_VERSION "0.1.0"

/* Config file used when neither -c nor $REFRESHER_CONFIG is given. */
#define DEFAULT_CONFIG_PATH "refresher.yaml"

/*
 * The defaults of config keys are text, spelled as in refresher.yaml: config.c's
 * key table applies them through the same setters as the file's values.
 */

/* database */
#define DEFAULT_TABLE "auth_sessions"
#define DEFAULT_COL_ID "id"
#define DEFAULT_COL_EMAIL "user_email"
#define DEFAULT_COL_TOKEN "aimharder_token"
#define DEFAULT_COL_COOKIES "aimharder_cookies"
#define DEFAULT_COL_FINGERPRINT "fingerprint"
/* database.row_security */
#define DEFAULT_ROW_SECURITY "refuse"

/* upstream */
#define DEFAULT_PROFILE "aimharder"
#define DEFAULT_UPSTREAM_URL "https://aimharder.com/api/tokenUpdate"
#define DEFAULT_USER_AGENT "Mozilla/5.0 (X11; Linux x86_64)"
#define DEFAULT_TIMEOUT "15s"
#define DEFAULT_CONNECT_TIMEOUT "5s"
#define DEFAULT_MAX_RESPONSE_BYTES "65536"
#define DEFAULT_CLIENT_AUTH "basic"
/* libcurl receive buffer per request: its default is 16 KiB, libcurl's minimum 1 KiB.
 * Answers are small (a token, two cookies); larger ones take more reads.
 * 1 KiB instead of 4 KiB took peak RSS at C=256 from 16.2-16.4 to 15.4-15.5 MiB. */
#define UPSTREAM_RECV_BUFFER 1024
/* Longest "host:port:addr,addr..." entry the upstream's name is pinned with (the addresses
 * that fit are used). */
#define UPSTREAM_RESOLVE_MAX 1024
/* Socket events taken from epoll per turn of the loop (more wait for the next turn). */
#define LOOP_EPOLL_EVENTS 256
/* Hard ceiling on upstream.max_response_bytes: a body is held in memory per request. */
#define MAX_RESPONSE_BYTES_LIMIT (16L * 1024 * 1024)
/* aimharder's tokenUpdate wants ciclo=1; the default form for that profile
 * (name=value pairs separated by spaces). */
#define DEFAULT_FORM "ciclo=1"
/* upstream.json (profile json): a Kush.Observer-style API, SPEC "Third profile". */
#define DEFAULT_JSON_BODY "refreshToken={token}"
#define DEFAULT_JSON_TOKEN "/refreshToken"
#define DEFAULT_JSON_ACCESS_TOKEN "/accessToken"
/* upstream.json.logout_status: 401 asks the user to log in again. */
#define DEFAULT_LOGOUT_STATUS "401"
/* The cookies captured from answers (names separated by spaces). */
#define DEFAULT_CAPTURE_COOKIES "AWSALB AWSALBCORS"

/* refresh */
#define DEFAULT_STALE_AFTER "15m"
#define DEFAULT_CONCURRENCY "32"
#define MAX_CONCURRENCY 4096
#define DEFAULT_BATCH_SIZE "256"
#define MAX_BATCH_SIZE 10000
#define DEFAULT_LEASE "10m"
#define DEFAULT_MAX_RUNTIME "14m"
#define DEFAULT_ON_LOGOUT "delete"
#define DEFAULT_AHEAD "5m"
#define DEFAULT_MAX_RATE "0"

/* retry */
#define DEFAULT_RETRY_ATTEMPTS "4"
#define MAX_RETRY_ATTEMPTS 100
#define DEFAULT_BASE_DELAY "500ms"
/* DEFAULT_BASE_DELAY in ms, for the backoff tests (test_confparts.c checks they agree). */
#define DEFAULT_BASE_DELAY_MS 500L
#define DEFAULT_MAX_DELAY "30s"
#define DEFAULT_RETRY_BUDGET "0.2"
/* The retry budget never drops below this many retries per run. */
#define RETRY_BUDGET_FLOOR 100

/* breaker */
#define DEFAULT_BREAKER_WINDOW "50"
/* Mass-logout guard: a run whose logout answers number at least DEFAULT_LOGOUT_MIN and are
 * more than DEFAULT_LOGOUT_SHARE of its answers deletes none of them. */
#define DEFAULT_LOGOUT_MIN "10"
#define DEFAULT_LOGOUT_SHARE "0.5"

/* log */
#define DEFAULT_LOG_FORMAT "text"
#define DEFAULT_LOG_LEVEL "info"
/* Highest breaker.logout_min. */
#define MAX_LOGOUT_MIN 1000000000

/* Longest duration accepted anywhere (30 days), so ms values never overflow. */
#define MAX_DURATION_MS (30L * 24 * 60 * 60 * 1000)

/* Tokens: a newToken must be printable ASCII of at most this many bytes. */
#define MAX_TOKEN_BYTES 4096
/* Stored cookies JSON larger than this makes the row fail (hostile input). */
#define MAX_COOKIES_JSON_BYTES (64 * 1024)
/* Longest Set-Cookie header line we look at; longer ones are ignored. */
#define MAX_SET_COOKIE_BYTES 8192
/* Most Set-Cookie headers captured per answer. */
#define MAX_SET_COOKIES 64

/* Write path: a result waits at most this long, or until this many are
 * pending, before it is written. */
#define FLUSH_INTERVAL_MS 100
#define FLUSH_BATCH 64
/* One write at a time is in flight; results that finish meanwhile go out together
 * in the next, at most this many per statement. */
#define WRITE_MAX 1024
/* While the database is unreachable, writes are retried with backoff from
 * DB_RETRY_MIN_MS up to DB_RETRY_MAX_MS, for at most database.outage_timeout
 * (default DEFAULT_DB_OUTAGE). */
#define DB_RETRY_MIN_MS 100L
#define DB_RETRY_MAX_MS 5000L
#define DEFAULT_DB_OUTAGE "2m"
/* A claim or write with no answer after this long is abandoned: its connection is
 * dropped and re-established (a hung server, or a pooler queueing us while the
 * database is down); every statement is safe to repeat. */
#define DB_STATEMENT_TIMEOUT_MS 30000L
/* A statement in flight this long counts as an outage (for database.outage_timeout). */
#define DB_STALL_MS 5000L
/* libpq connect_timeout (seconds) used when the URL sets none; also the bound on
 * an asynchronous reconnect during the run. */
#define DB_CONNECT_TIMEOUT_S 10

/* Logs: an untrusted string is escaped and cut to this many bytes. */
#define LOG_FIELD_MAX 200
/* The one-line reason stored in last_token_update_error. */
#define REASON_MAX 160
/* A cause inside a reason (libcurl's error, a judge's reason) is cut to this many bytes, which
 * leaves room in REASON_MAX for what follows it ("(after 4 tries)"). */
#define REASON_CAUSE_MAX 120
/* Largest CA bundle read (the system's plus upstream.ca_file); real ones are about 200 KiB. */
#define CA_BUNDLE_MAX_BYTES (16L * 1024 * 1024)
/* Progress: as a log event this often when stderr is not a terminal... */
#define PROGRESS_INTERVAL_MS 10000
/* ...and as a live status line redrawn this often when it is. */
#define STATUS_INTERVAL_MS 250
/* Longest live status line. */
#define LOG_STATUS_MAX 160

/* Allocations of at least this many bytes are mmapped (see main.c). */
#define MALLOC_MMAP_THRESHOLD (64 * 1024)

/* The end-of-run webhook gives up after this long. */
#define NOTIFY_TIMEOUT_MS 10000L

/* Config: most errors reported before giving up. */
#define CONFIG_MAX_ERRORS 50
/* Config file larger than this is rejected. */
#define CONFIG_MAX_BYTES (1024 * 1024)

/* ---- Limits of the config loader, command line and parsers ---- */
/* Shortest refresh.lease: a claim must outlive at least one request. */
#define MIN_LEASE_MS 1000L
/* Highest refresh.max_rate, in requests per second. */
#define MAX_RATE 100000.0
/* Highest retry.budget (retries allowed per first attempt). */
#define MAX_RETRY_BUDGET 10.0
/* Highest breaker.window (consecutive bad answers). */
#define MAX_BREAKER_WINDOW 1000000
/* --shard I/N and --shard-count N take N up to this. */
#define MAX_SHARD_COUNT 65536
/* Most entries in upstream.form and in upstream.capture_cookies. */
#define MAX_FORM_FIELDS 32
#define MAX_CAPTURE_COOKIES 32
/* Most entries in upstream.json.logout_status. */
#define MAX_STATUSES 16
/* PostgreSQL identifiers (schema, table, column) are at most NAMEDATALEN - 1 bytes. */
#define MAX_IDENTIFIER_BYTES 63
/* Config YAML nested deeper than this is rejected (the schema uses 3 levels). */
#define CONFIG_MAX_DEPTH 16
/* A config value, after ${VAR} expansion, longer than this is rejected. */
#define CONFIG_MAX_VALUE_BYTES 8192
/* A config error echoes at most this many bytes of a (non-secret) value or key. */
#define CONFIG_ECHO_MAX 64
/* --email: user_email is varchar(255). */
#define MAX_EMAIL_BYTES 255

#endif
