# shellcheck shell=bash
# shellcheck disable=SC2016,SC2034 # ${VAR} in configs is for refresher to expand; variables are shared with the case files
# t_60_oauth2.sh - the oauth2 profile end to end: refresh-token grant with rotation, expiry from
# expires_in or the JWT exp, invalid_grant (logout), the refusals of the client that stop the run
# (401, invalid_client, unauthorized_client, unsupported_grant_type, invalid_scope,
# invalid_request), empty client credentials as config errors, client auth basic and form, the
# expiry-aware due rule, and the token guard on every write. Every token the oauth table holds
# joins the secret scan of t_99 (record_secrets, in every run_refresher).

oauth_setup " &%"
check "oauth2: the example migration is idempotent" \
	psql -X -q -v ON_ERROR_STOP=1 -f "$REPO_ROOT/sql/oauth2/001_oauth_sessions.sql"

# oseed N PREFIX [EXPIRES_SQL]: N oauth rows, refresh tokens PREFIX-<random>, created an hour ago.
oseed() {
	q "INSERT INTO oauth_sessions (user_email, refresh_token, access_token_expires_at, created_at,
	                               last_token_update_date)
	   SELECT 'o' || g || '@example.com', '$2-' || md5(random()::text), ${3:-NULL},
	          now() - interval '1 hour', now() - interval '1 minute'
	   FROM generate_series(1, $1) g"
}
ocfg() {
	sed -e "s/^  client_auth: basic$/  client_auth: ${1:-basic}/" "$REPO_ROOT/refresher.oauth2.yaml" >"$TEST_TMP/oauth.yaml"
	printf 'retry:\n  attempts: 3\n  base_delay: 10ms\n  max_delay: 1500ms\nlog:\n  level: debug\n' >>"$TEST_TMP/oauth.yaml"
}

# --- rotation, no rotation, JWT exp, no expiry, invalid_grant, 429 ---
ocfg basic
oseed 3 rt
oseed 1 rtkeep
oseed 1 rtjwt
oseed 1 rtnoexp
oseed 1 dead
oseed 1 rlimit
q "CREATE TABLE o_before AS SELECT id, refresh_token FROM oauth_sessions"
run_refresher -c "$TEST_TMP/oauth.yaml"
check_eq "oauth2: exit 1 (one answer had no expiry)" 1 "$RUN_RC"
check_eq "oauth2: 6 refreshed, 1 logged out, 1 failed, 1 retry" "6 1 1 1" \
	"$(summary_field refreshed) $(summary_field logged_out) $(summary_field failed) $(summary_field retries)"
check_eq "oauth2: rotation stores the new refresh token, the access token and its expiry" 4 \
	"$(q "SELECT count(*) FROM oauth_sessions o JOIN o_before b USING (id)
	      WHERE b.refresh_token ~ '^(rt|rlimit)-' AND o.refresh_token ~ '^rt-' AND o.refresh_token <> b.refresh_token
	        AND o.access_token LIKE 'eyJ%' AND abs(extract(epoch FROM o.access_token_expires_at - now()) - 3600) < 60
	        AND o.token_update_count = 1 AND o.last_token_update_error IS NULL AND o.token_update_claimed_until IS NULL")"
check_eq "oauth2: no rotation keeps the refresh token; expiry from expires_in" "1|t|t" \
	"$(q "SELECT count(*) || '|' || bool_and(o.refresh_token = b.refresh_token) || '|' ||
	             bool_and(abs(extract(epoch FROM o.access_token_expires_at - now()) - 600) < 60)
	      FROM oauth_sessions o JOIN o_before b USING (id) WHERE b.refresh_token LIKE 'rtkeep-%'" | sed 's/true/t/g')"
check_eq "oauth2: without expires_in the expiry is the JWT's exp (~30 min)" "t" \
	"$(q "SELECT abs(extract(epoch FROM access_token_expires_at - now()) - 1800) < 60 FROM oauth_sessions WHERE refresh_token LIKE 'rtjwt-%'" | sed 's/true/t/')"
check_eq "oauth2: an answer with no expiry fails the row, tokens untouched" "1|answer has no expiry" \
	"$(q "SELECT count(*) || '|' || min(substr(last_token_update_error, 1, 20)) FROM oauth_sessions
	      WHERE refresh_token LIKE 'rtnoexp-%' AND access_token IS NULL AND token_update_count = 0")"
check_eq "oauth2: invalid_grant deletes the row" 0 "$(q "SELECT count(*) FROM oauth_sessions WHERE refresh_token LIKE 'dead-%'")"
check_eq "oauth2: requests are refresh-token grants with HTTP Basic client auth (RFC 6749 2.3.1)" \
	"9 9 0" \
	"$(jq -s '[.[] | select(.ev == "req" and .path == "/oauth/token" and (.form | startswith("grant_type=refresh_token&refresh_token=")))] | length' "$FAKE_LOG") $(jq -s '[.[] | select(.ev == "req" and .client_ok == true and .client_via == "basic")] | length' "$FAKE_LOG") $(jq -s '[.[] | select(.ev == "req" and (.form | test("client_secret")))] | length' "$FAKE_LOG")"
check_eq "oauth2: no cookie and no fingerprint are sent" "0" \
	"$(jq -s '[.[] | select(.ev == "req" and (.cookie != "" or (.form | test("fingerprint|ciclo"))))] | length' "$FAKE_LOG")"
q "DROP TABLE o_before"

# --- the due rule: expiring soon or no expiry is due; fresh and far from expiry is not ---
q "DELETE FROM oauth_sessions"
oseed 1 rt "now() + interval '1 minute'"
oseed 1 rt "NULL"
oseed 1 rt "now() + interval '2 hours'"
run_refresher -c "$TEST_TMP/oauth.yaml" -n
check_eq "oauth2 due: expiring within refresh.ahead or without expiry: 2 of 3" 2 "$(wc -l <"$RUN_OUT")"
run_refresher -c "$TEST_TMP/oauth.yaml"
check_eq "oauth2 due: those 2 refreshed, once each" "0 2" "$RUN_RC $(summary_field refreshed)"
run_refresher -c "$TEST_TMP/oauth.yaml" -n
check_eq "oauth2 due: after the refresh nothing is due" 0 "$(wc -l <"$RUN_OUT")"

# --- client_auth: form sends the credentials in the body instead ---
q "DELETE FROM oauth_sessions"
: >"$FAKE_LOG"
oseed 2 rt
ocfg form
run_refresher -c "$TEST_TMP/oauth.yaml"
check_eq "oauth2 form auth: refreshed" "0 2" "$RUN_RC $(summary_field refreshed)"
check_eq "oauth2 form auth: credentials in the form, accepted, no Authorization header" "2 2" \
	"$(jq -s '[.[] | select(.ev == "req" and .client_via == "form" and .client_ok == true)] | length' "$FAKE_LOG") $(jq -s '[.[] | select(.ev == "req" and .auth == "")] | length' "$FAKE_LOG")"

# --- invalid_client: the whole run stops, rows untouched, exit 1 ---
q "DELETE FROM oauth_sessions"
: >"$FAKE_LOG"
oseed 100 rt
ocfg basic
q "CREATE TABLE o_before AS SELECT * FROM oauth_sessions"
OAUTH_CLIENT_SECRET=wrong-secret run_refresher -c "$TEST_TMP/oauth.yaml" --concurrency 4
n=$(fake_count_requests)
check_eq "invalid_client: exit 1, nothing refreshed or failed" "1 0 0" \
	"$RUN_RC $(summary_field refreshed) $(summary_field failed)"
check "invalid_client: says the credentials were refused" grep -q "refused the client credentials" "$RUN_ERR"
check "invalid_client: stopped after the 4 in flight ($n requests of 100 rows)" test "$n" -le 4
check_eq "invalid_client: every row exactly as it was (no error written, claims released)" 0 \
	"$(q "SELECT count(*) FROM (SELECT * FROM oauth_sessions EXCEPT SELECT * FROM o_before) d")"
q "DROP TABLE o_before"

# o_stop_message: the error-level lines of the last run (text log format).
o_stop_message() {
	grep -E '^[^ ]+ error ' "$RUN_ERR"
}
check_eq "invalid_client: one stop message, saying refused once (not \"refused ... (... refused ...)\")" \
	"1 1" "$(o_stop_message | grep -c .) $(o_stop_message | grep -o refused | wc -l)"

# --- every refusal of the client stops the run the same way, whatever the credentials ---
# PREFIX:CAUSE: the fake's answer to refresh tokens PREFIX-... and what the message must name.
for o_refusal in eunauth:unauthorized_client egrant:unsupported_grant_type escope:invalid_scope \
	ereq:invalid_request eclient:invalid_client e401:401; do
	o_prefix=${o_refusal%%:*} o_cause=${o_refusal#*:}
	q "DELETE FROM oauth_sessions"
	: >"$FAKE_LOG"
	oseed 20 "$o_prefix"
	q "CREATE TABLE o_before AS SELECT * FROM oauth_sessions"
	run_refresher -c "$TEST_TMP/oauth.yaml" --concurrency 4
	n=$(fake_count_requests)
	check_eq "$o_cause: exit 1; nothing refreshed, logged out or failed; all 20 released" "1 0 0 0 20" \
		"$RUN_RC $(summary_field refreshed) $(summary_field logged_out) $(summary_field failed) $(summary_field released)"
	check "$o_cause: stopped after the 4 in flight ($n requests of 20 rows)" test "$n" -ge 1 -a "$n" -le 4
	check_eq "$o_cause: every row exactly as it was (tokens, counts, errors, claims released)" 0 \
		"$(q "SELECT count(*) FROM (SELECT * FROM oauth_sessions EXCEPT SELECT * FROM o_before) d")"
	check_eq "$o_cause: one stop message, naming the cause: $(o_stop_message | head -n 1 | cut -c 1-200)" \
		"1 1" "$(o_stop_message | grep -c .) $(o_stop_message | grep -c -- "$o_cause")"
	check "$o_cause: the stop message says refused at most once" \
		test "$(o_stop_message | grep -o refused | wc -l)" -le 1
	q "DROP TABLE o_before"
done

# --- empty client credentials are config errors, named with file and line; an empty secret is
# fine with client_auth: form ---
# o_cfg_error NAME SED_EXPR KEY: --check-config on the oauth config edited by SED_EXPR exits 2
# naming NAME.yaml and the line of upstream.KEY.
o_cfg_error() {
	local file=$TEST_TMP/$1.yaml line
	sed -e "$2" "$TEST_TMP/oauth.yaml" >"$file"
	line=$(grep -n "^  $3: " "$file" | cut -d: -f1)
	run_refresher -c "$file" --check-config
	check_eq "$1: --check-config exits 2" 2 "$RUN_RC"
	check "$1: names $1.yaml:$line and upstream.$3" grep -q "$1.yaml:$line:[0-9]*: upstream.$3" "$RUN_ERR"
}
ocfg basic
o_cfg_error idempty 's/^  client_id: .*/  client_id: ""/' client_id
o_cfg_error secretempty 's/^  client_secret: .*/  client_secret: ""/' client_secret
OAUTH_CLIENT_ID="" o_cfg_error idenvempty 's/^#.*//' client_id
ocfg form
sed -e 's/^  client_secret: .*/  client_secret: ""/' "$TEST_TMP/oauth.yaml" >"$TEST_TMP/formsecret.yaml"
run_refresher -c "$TEST_TMP/formsecret.yaml" --check-config
check_eq "client_secret \"\" with client_auth: form: config OK" "0 config OK" "$RUN_RC $(cat "$RUN_OUT")"
ocfg basic

# --- a user logs in again while we call: the new refresh token is kept ---
q "DELETE FROM oauth_sessions"
: >"$FAKE_LOG"
oseed 1 hold
run_refresher_bg osup -c "$TEST_TMP/oauth.yaml"
pid=$BG_PID
wait_for fake_requests_at_least hold 1
q "UPDATE oauth_sessions SET refresh_token = 'relogin-$(rand_hex)', access_token = 'user-own-access'"
fake_release
bg_wait "$pid" osup
check_eq "oauth2 superseded: counted, the user's tokens kept" "1|relogin|user-own-access|0" \
	"$(summary_field superseded)|$(q "SELECT split_part(refresh_token, '-', 1) || '|' || access_token || '|' || token_update_count FROM oauth_sessions")"
fake_stop
q "DROP TABLE oauth_sessions"
