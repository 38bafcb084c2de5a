# shellcheck shell=bash
# shellcheck disable=SC2016,SC2034 # ${VAR} in configs is for refresher to expand; variables are shared with the case files
# t_60_oauth2.sh - the oauth2 profile end to end: refresh-token grant with rotation, expiry from
# expires_in or the JWT exp, invalid_grant (logout), invalid_client (stop), client auth basic and
# form, the expiry-aware due rule, and the token guard on every write.

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
# Every token the oauth table holds joins the secret scan of t_99.
record_oauth_secrets() {
	q "SELECT refresh_token FROM oauth_sessions UNION ALL
	   SELECT access_token FROM oauth_sessions WHERE access_token IS NOT NULL" >>"$TEST_TMP/secrets.txt"
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
record_oauth_secrets
run_refresher -c "$TEST_TMP/oauth.yaml"
record_oauth_secrets
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
record_oauth_secrets
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
record_oauth_secrets
fake_stop
q "DROP TABLE oauth_sessions"
