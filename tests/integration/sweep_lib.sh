# shellcheck shell=bash
# shellcheck disable=SC2016,SC2034 # ${VAR} in configs is for refresher to expand; variables are shared with the case files
# sweep_lib.sh - helpers for the cases that run the real refresher binary (sourced by run.sh).
#
# Every run's stdout and stderr are also appended to $TEST_TMP/all-output.log, and every secret
# the table holds before and after a run is appended to $TEST_TMP/secrets.txt, so that
# t_99_secrets.sh can prove that no token, fingerprint, cookie value or password was printed.

RUN_OUT=""   # stdout of the last run_refresher
RUN_ERR=""   # stderr of the last run_refresher
RUN_RC=0     # exit status of the last run_refresher

# Prints a random hex string of 2*N characters (default N=12).
rand_hex() {
	od -An -tx1 -N"${1:-12}" /dev/urandom | tr -d ' \n'
}

# write_config FILE [EXTRA_YAML]: a config for the fake upstream; EXTRA_YAML (whole sections,
# e.g. "refresh:\n  concurrency: 4") is merged by replacing the default section of that name.
# Defaults are small and fast for tests. Mode 0600: it holds a literal fingerprint, which the
# refresher warns about in a file others can read (t_30_cli.sh checks that warning).
write_config() {
	local file=$1 extra=${2:-}
	local database upstream refresh retry log
	database=$(printf 'database:\n  url: ${DATABASE_URL}\n  table: auth_sessions\n')
	upstream=$(printf 'upstream:\n  url: ${FAKE_URL}\n  fingerprint: fp-default-%s\n  user_agent: "refresher-test/1.0"\n  timeout: 5s\n  connect_timeout: 2s\n' "$DEFAULT_FP_SUFFIX")
	refresh=$(printf 'refresh:\n  concurrency: 8\n  batch_size: 16\n')
	retry=$(printf 'retry:\n  attempts: 3\n  base_delay: 10ms\n  max_delay: 200ms\n')
	log=$(printf 'log:\n  level: debug\n')
	local section
	# A pattern match, not `printf | grep -q`: with pipefail, grep -q leaving at the first match
	# can kill printf with SIGPIPE on a long extra, and the section then appeared twice.
	for section in database upstream refresh retry log; do
		if [[ $'\n'"$extra" == *$'\n'"$section:"* ]]; then
			printf -v "$section" '%s' ""
		fi
	done
	{
		printf '%s\n' "$database" "$upstream" "$refresh" "$retry" "$log"
		printf '%s\n' "$extra"
	} | grep -v '^$' >"$file"
	chmod 600 "$file"
}

# Appends every token, fingerprint and cookie value the table holds to the secrets file, and
# the refresh and access tokens of oauth_sessions (sql/oauth2/: the oauth2 and json profiles)
# while that table exists.
record_secrets() {
	q "SELECT aimharder_token FROM auth_sessions
	   UNION ALL SELECT fingerprint FROM auth_sessions WHERE fingerprint IS NOT NULL
	   UNION ALL SELECT c->>'value' FROM auth_sessions,
	          jsonb_array_elements(CASE WHEN jsonb_typeof(aimharder_cookies) = 'array'
	                                    THEN aimharder_cookies ELSE '[]' END) c
	   WHERE c->>'value' IS NOT NULL" >>"$TEST_TMP/secrets.txt" 2>/dev/null
	if [[ "$(q "SELECT to_regclass('oauth_sessions') IS NOT NULL" 2>/dev/null)" == t ]]; then
		q "SELECT refresh_token FROM oauth_sessions
		   UNION ALL SELECT access_token FROM oauth_sessions WHERE access_token IS NOT NULL" \
			>>"$TEST_TMP/secrets.txt" 2>/dev/null
	fi
	return 0
}

# run_refresher ARGS...: runs the binary, sets RUN_RC, RUN_OUT, RUN_ERR (file paths).
run_refresher() {
	RUN_OUT=$TEST_TMP/run.out
	RUN_ERR=$TEST_TMP/run.err
	record_secrets
	"$REFRESHER_BIN" "$@" >"$RUN_OUT" 2>"$RUN_ERR" </dev/null
	RUN_RC=$?
	cat "$RUN_OUT" "$RUN_ERR" >>"$TEST_TMP/all-output.log"
	# A config or database error is worth seeing when a check then fails (comment lines).
	if ((RUN_RC == 2 || RUN_RC == 3)); then
		head -n 3 "$RUN_ERR" | sed "s/^/# exit $RUN_RC: /"
	fi
	record_secrets
	return 0
}

# Starts the binary in the background (stdout/stderr to files under TEST_TMP with suffix $1);
# sets BG_PID. Use bg_wait to collect its status into RUN_RC.
run_refresher_bg() {
	local tag=$1
	shift
	record_secrets
	"$REFRESHER_BIN" "$@" >"$TEST_TMP/bg-$tag.out" 2>"$TEST_TMP/bg-$tag.err" </dev/null &
	BG_PID=$!
}

# bg_wait PID TAG: waits for a background run; sets RUN_RC and appends its output to the log.
bg_wait() {
	wait "$1"
	RUN_RC=$?
	RUN_OUT=$TEST_TMP/bg-$2.out
	RUN_ERR=$TEST_TMP/bg-$2.err
	cat "$RUN_OUT" "$RUN_ERR" >>"$TEST_TMP/all-output.log"
	record_secrets
}

# Prints the value of KEY in the last summary line of a stderr file (text format).
summary_field() {
	grep '^summary: ' "${2:-$RUN_ERR}" | tail -n 1 | tr ' ' '\n' | sed -n "s/^$1=//p"
}

# seed N PREFIX [EMAIL] [COOKIES_JSON] [FINGERPRINT]: inserts N due rows with tokens
# PREFIX-<random>; FINGERPRINT "" means NULL.
seed() {
	local n=$1 prefix=$2 email=${3:-user@example.com} cookies=${4:-[]} fp=${5:-}
	PGOPTIONS="-c client_min_messages=warning" psql -X -q -At -v ON_ERROR_STOP=1 \
		-v prefix="$prefix" -v email="$email" -v cookies="$cookies" -v fp="$fp" -v n="$n" <<-'EOF'
		INSERT INTO auth_sessions (user_email, aimharder_token, aimharder_cookies, fingerprint,
		                           created_at, updated_at)
		SELECT :'email', :'prefix' || '-' || md5(random()::text || g::text), (:'cookies')::jsonb,
		       NULLIF(:'fp', ''), now() - interval '1 hour' - g * interval '1 second',
		       now() - interval '1 hour'
		FROM generate_series(1, :n) g;
	EOF
}

# Prints the number of rows whose token starts with PREFIX-.
count_rows() {
	q "SELECT count(*) FROM auth_sessions WHERE aimharder_token LIKE '$1-%'"
}

# Succeeds when the fake has logged at least N requests for token PREFIX (for wait_for).
fake_requests_at_least() {
	(($(fake_count_requests "$1") >= $2))
}

# Prints the number of fake requests per token that were made more than once (0 = each once).
fake_duplicate_tokens() {
	jq -Rn '[inputs | fromjson? | select(.ev == "req") | .token] | group_by(.)
		| map(select(length > 1)) | length' "$FAKE_LOG"
}

# Prints every token the fake issued (the newToken of its answers), one a line, in log order.
fake_issued_tokens() {
	jq -Rr 'fromjson? | select(.ev == "resp" and .issued != null) | .issued' "${1:-$FAKE_LOG}"
}

# Succeeds when the fake is idle: no handler running and no client connected but the one asking
# (so a killed client's last requests have all been answered or dropped, and logged).
fake_quiet() {
	fake_stats | jq -e '.in_flight == 0 and .connections <= 1' >/dev/null
}

# oauth_setup [SECRET_EXTRA]: the oauth2 example table (sql/oauth2/), random client credentials
# (exported as OAUTH_CLIENT_ID / OAUTH_CLIENT_SECRET, the secret with SECRET_EXTRA appended and
# joining the secret scan), and the fake started with them; exports OAUTH_TOKEN_URL.
oauth_setup() {
	psql -X -q -v ON_ERROR_STOP=1 -f "$REPO_ROOT/sql/oauth2/001_oauth_sessions.sql" >/dev/null
	OAUTH_CLIENT_ID="client-$(rand_hex 4)"
	OAUTH_CLIENT_SECRET="secret:$(rand_hex)${1:-}"
	export OAUTH_CLIENT_ID OAUTH_CLIENT_SECRET
	printf '%s\n' "$OAUTH_CLIENT_SECRET" >>"$TEST_TMP/secrets.txt"
	fake_start --client-id "$OAUTH_CLIENT_ID" --client-secret "$OAUTH_CLIENT_SECRET"
	export OAUTH_TOKEN_URL="http://127.0.0.1:$FAKE_PORT/oauth/token"
}

DEFAULT_FP_SUFFIX=$(rand_hex 8)
export DEFAULT_FP_SUFFIX
