/* fuzz_config.c - libFuzzer harness: config_load_string on any bytes (YAML, ${VAR}, limits). */
#include <stdlib.h>

#include "config.h"
#include "defaults.h"
#include "fuzz.h"
#include "sqlexpr.h"

/* Variables a config may name; their values are what expansion splices in. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setenv("DATABASE_URL", "postgresql://u:pw@/db?host=/tmp&port=5432", 1);
	setenv("FAKE_URL", "http://127.0.0.1:1/api/tokenUpdate", 1);
	setenv("AIMHARDER_FINGERPRINT", "fp-fuzz", 1);
	setenv("EMPTY", "", 1);
	unsetenv("UNSET");
	return 0;
}

/* Every value a loaded config holds is inside the range the loader documents. */
static void check_config(const struct config *c)
{
	FUZZ_ASSERT(c->path != NULL && c->database.url != NULL && c->database.table != NULL);
	FUZZ_ASSERT(c->database.url[0] != '\0');
	FUZZ_ASSERT(c->database.columns.id != NULL && c->database.columns.id[0] != '\0');
	FUZZ_ASSERT(c->database.columns.token != NULL && c->database.columns.token[0] != '\0');
	FUZZ_ASSERT(c->database.columns.email != NULL && c->database.columns.cookies != NULL);
	FUZZ_ASSERT(c->database.columns.fingerprint != NULL);
	FUZZ_ASSERT(c->database.columns.access_token != NULL && c->database.columns.expires_at != NULL);
	FUZZ_ASSERT(c->upstream.url != NULL && c->upstream.url[0] != '\0');
	FUZZ_ASSERT(c->upstream.fingerprint != NULL && c->upstream.user_agent != NULL);
	FUZZ_ASSERT(c->upstream.ca_file != NULL && c->upstream.client_id != NULL);
	FUZZ_ASSERT(c->upstream.client_secret != NULL);
	FUZZ_ASSERT(c->metrics.textfile != NULL && c->notify.webhook_url != NULL);
	FUZZ_ASSERT(c->upstream.form.n <= MAX_FORM_FIELDS);
	FUZZ_ASSERT(c->upstream.form.n == 0 || c->upstream.form.v != NULL);
	for (size_t i = 0; i < c->upstream.form.n; i++)
		FUZZ_ASSERT(c->upstream.form.v[i].name != NULL && c->upstream.form.v[i].value != NULL);
	FUZZ_ASSERT(c->upstream.ncapture <= MAX_CAPTURE_COOKIES);
	for (size_t i = 0; i < c->upstream.ncapture; i++)
		FUZZ_ASSERT(c->upstream.capture_cookies[i] != NULL);
	FUZZ_ASSERT(c->upstream.timeout_ms >= 1 && c->upstream.timeout_ms <= MAX_DURATION_MS);
	FUZZ_ASSERT(c->upstream.connect_timeout_ms >= 1 &&
	    c->upstream.connect_timeout_ms <= MAX_DURATION_MS);
	FUZZ_ASSERT(c->upstream.max_response_bytes >= 1 &&
	    c->upstream.max_response_bytes <= MAX_RESPONSE_BYTES_LIMIT);
	FUZZ_ASSERT(c->refresh.stale_after_ms >= 0 && c->refresh.stale_after_ms <= MAX_DURATION_MS);
	FUZZ_ASSERT(c->refresh.concurrency >= 1 && c->refresh.concurrency <= MAX_CONCURRENCY);
	FUZZ_ASSERT(c->refresh.batch_size >= 1 && c->refresh.batch_size <= MAX_BATCH_SIZE);
	FUZZ_ASSERT(c->refresh.lease_ms >= MIN_LEASE_MS && c->refresh.lease_ms <= MAX_DURATION_MS);
	FUZZ_ASSERT(c->refresh.max_runtime_ms >= 0 && c->refresh.max_runtime_ms <= MAX_DURATION_MS);
	FUZZ_ASSERT(c->refresh.ahead_ms >= 0 && c->refresh.ahead_ms <= MAX_DURATION_MS);
	FUZZ_ASSERT(c->refresh.max_rate >= 0.0 && c->refresh.max_rate <= MAX_RATE);
	FUZZ_ASSERT(c->retry.attempts >= 1 && c->retry.attempts <= MAX_RETRY_ATTEMPTS);
	FUZZ_ASSERT(c->retry.base_delay_ms >= 0 && c->retry.base_delay_ms <= MAX_DURATION_MS);
	FUZZ_ASSERT(c->retry.max_delay_ms >= 0 && c->retry.max_delay_ms <= MAX_DURATION_MS);
	FUZZ_ASSERT(c->retry.budget >= 0.0 && c->retry.budget <= MAX_RETRY_BUDGET);
	FUZZ_ASSERT(c->breaker.window >= 0 && c->breaker.window <= MAX_BREAKER_WINDOW);
}

/*
 * The input as an SQL expression (database.where, refresh.keep_when): what the
 * checker accepts stays one expression where the refresher places it, inside
 * "(" ... "\n)", and cannot close a parenthesis of the statement around it.
 */
static void check_sqlexpr(const uint8_t *data, size_t size)
{
	char *s = fuzz_copy(data, size, 1);
	const char *problem;
	if (strlen(s) == size && (problem = sqlexpr_problem(s)) == NULL) {
		char *wrapped = malloc(size + 4), *closed = malloc(size + 3);
		FUZZ_ASSERT(wrapped != NULL && closed != NULL);
		(void)snprintf(wrapped, size + 4, "(%s\n)", s);
		(void)snprintf(closed, size + 3, "%s\n)", s);
		FUZZ_ASSERT(sqlexpr_problem(wrapped) == NULL);
		FUZZ_ASSERT(sqlexpr_problem(closed) != NULL);
		free(wrapped);
		free(closed);
	} else if (strlen(s) == size) {
		FUZZ_ASSERT(problem[0] != '\0' && fuzz_one_line(problem));
	}
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Exactly size bytes: the loader is given a length and must not read past it. */
	char *text = fuzz_copy(data, size, 0);
	struct config *cfg = (struct config *)&cfg; /* not NULL: the loader must set it */
	struct errlist errs = { 0 };
	int rc = config_load_string("fuzz.yaml", text, size, &cfg, &errs);

	if (rc == 0) {
		FUZZ_ASSERT(cfg != NULL && errs.n == 0);
		check_config(cfg);
	} else {
		FUZZ_ASSERT(rc == -1 && cfg == NULL);
		FUZZ_ASSERT(errs.n >= 1 && errs.n <= CONFIG_MAX_ERRORS);
		for (size_t i = 0; i < errs.n; i++) {
			/* "fuzz.yaml:line:col: key: problem", one line. */
			FUZZ_ASSERT(errs.msgs[i] != NULL);
			FUZZ_ASSERT(strncmp(errs.msgs[i], "fuzz.yaml", 9) == 0);
			FUZZ_ASSERT(fuzz_one_line(errs.msgs[i]));
		}
	}
	config_free(cfg);
	errlist_clear(&errs);
	free(text);
	check_sqlexpr(data, size);
	return 0;
}
