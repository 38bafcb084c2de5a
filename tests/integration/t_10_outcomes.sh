# shellcheck shell=bash
# shellcheck disable=SC2016,SC2034 # ${VAR} in configs is for refresher to expand; variables are shared with the case files
# t_10_outcomes.sh - every row of SPEC's answer and outcome tables, on the real binary.

fake_start
CFG=$TEST_TMP/t10.yaml
write_config "$CFG"

# --- refreshed: token, merged cookies, counters, claim cleared; the request as SPEC says ---
CK_OLD="awsalb-old-$(rand_hex)"
CK_KEEP="session-keep-$(rand_hex)"
FP_ROW="fp-row-$(rand_hex)"
seed 5 ok a@example.com "[{\"name\":\"AWSALB\",\"value\":\"$CK_OLD\"},{\"name\":\"PHPSESSID\",\"value\":\"$CK_KEEP\"}]" "$FP_ROW"
seed 1 ok b@example.com '[]' ""
q "CREATE TABLE before_run AS SELECT id, aimharder_token, updated_at FROM auth_sessions"
run_refresher -c "$CFG"
check_eq "refresh: exit 0" 0 "$RUN_RC"
check_eq "refresh: summary counts" "6 6 0 0 0 0" \
	"$(summary_field due) $(summary_field refreshed) $(summary_field logged_out) $(summary_field failed) $(summary_field superseded) $(summary_field released)"
check_eq "refresh: every token replaced by the issued one" 0 \
	"$(q "SELECT count(*) FROM auth_sessions s JOIN before_run b USING (id)
	      WHERE s.aimharder_token = b.aimharder_token OR s.aimharder_token NOT LIKE 'ok-%'")"
check_eq "refresh: count 1, date set, error NULL, claim cleared, updated_at moved" 6 \
	"$(q "SELECT count(*) FROM auth_sessions s JOIN before_run b USING (id)
	      WHERE token_update_count = 1 AND last_token_update_date > now() - interval '1 minute'
	        AND last_token_update_error IS NULL AND token_update_claimed_until IS NULL
	        AND s.updated_at > b.updated_at")"
check_eq "refresh: cookies merged (AWSALB replaced, AWSALBCORS appended, others kept, order kept)" \
	"AWSALB PHPSESSID AWSALBCORS|$CK_KEEP|true|true" \
	"$(q "SELECT string_agg(c->>'name', ' ' ORDER BY o) || '|' ||
	             max(CASE WHEN c->>'name' = 'PHPSESSID' THEN c->>'value' END) || '|' ||
	             bool_and(CASE WHEN c->>'name' = 'AWSALB' THEN c->>'value' <> '$CK_OLD' ELSE true END) || '|' ||
	             bool_and(c ? 'value' AND NOT c ? 'path' AND NOT c ? 'expires')
	      FROM auth_sessions, jsonb_array_elements(aimharder_cookies) WITH ORDINALITY AS x(c, o)
	      WHERE user_email = 'a@example.com' GROUP BY id LIMIT 1")"
check_eq "refresh: the uncaptured PHPSESSID from upstream was not stored" 0 \
	"$(q "SELECT count(*) FROM auth_sessions WHERE aimharder_cookies::text LIKE '%fake-not-captured%'")"
req=$(jq -c 'select(.ev == "req")' "$FAKE_LOG" | head -n 1)
check_eq "request: form content type" "application/x-www-form-urlencoded" "$(jq -r .ct <<<"$req")"
check_eq "request: user agent from the config" "refresher-test/1.0" "$(jq -r .ua <<<"$req")"
check_eq "request: ciclo=1 sent" 1 "$(jq -r '.form | split("&") | map(select(. == "ciclo=1")) | length' <<<"$req")"
check_eq "request: the row's fingerprint is sent" 5 \
	"$(jq -r "select(.ev == \"req\" and .fingerprint == \"$FP_ROW\") | .token" "$FAKE_LOG" | wc -l)"
check_eq "request: stored cookies sent as a Cookie header" 5 \
	"$(jq -r "select(.ev == \"req\" and .cookie == \"AWSALB=$CK_OLD; PHPSESSID=$CK_KEEP\") | .token" "$FAKE_LOG" | wc -l)"
check_eq "request: NULL fingerprint falls back to upstream.fingerprint, no cookie header" \
	"fp-default-$DEFAULT_FP_SUFFIX|" \
	"$(jq -r 'select(.ev == "req" and .cookie == "") | .fingerprint + "|" + .cookie' "$FAKE_LOG")"
sent_tokens=$(jq -r 'select(.ev == "req") | .token' "$FAKE_LOG" | sort | tr '\n' ' ')
check_eq "request: each row's stored token was sent, once" \
	"$(q "SELECT aimharder_token FROM before_run ORDER BY 1" | sort | tr '\n' ' ')" "$sent_tokens"
q "DROP TABLE before_run"

# A second run right away has nothing due (stale_after 15m), and exits 0.
: >"$FAKE_LOG"
run_refresher -c "$CFG"
check_eq "nothing due: exit 0, no request" "0 0 0" "$RUN_RC $(summary_field due) $(fake_count_requests)"

# --- logout: deleted by default; kept and marked with on_logout: keep ---
q "DELETE FROM auth_sessions"
seed 3 logout
seed 2 logoutnull
run_refresher -c "$CFG"
check_eq "logout: exit 0, 3 logged out, logout:null counts as refreshed" "0 3 2" \
	"$RUN_RC $(summary_field logged_out) $(summary_field refreshed)"
check_eq "logout: rows deleted" "0 2" "$(count_rows logout) $(q "SELECT count(*) FROM auth_sessions")"
q "DELETE FROM auth_sessions"
seed 2 logout
write_config "$TEST_TMP/keep.yaml" "$(printf 'refresh:\n  concurrency: 4\n  on_logout: keep\n')"
run_refresher -c "$TEST_TMP/keep.yaml"
check_eq "logout keep: rows kept, error 'logout', date set, token untouched, claim cleared" 2 \
	"$(q "SELECT count(*) FROM auth_sessions WHERE last_token_update_error = 'logout'
	      AND last_token_update_date > now() - interval '1 minute' AND aimharder_token LIKE 'logout-%'
	      AND token_update_claimed_until IS NULL AND token_update_count = 0")"

# --- transient then fine: 503 once, 503 twice, 429 + Retry-After ---
q "DELETE FROM auth_sessions"
: >"$FAKE_LOG"
seed 2 flaky
seed 1 flaky2
seed 1 ratelimit
run_refresher -c "$CFG"
check_eq "transient: all refreshed after retries, exit 0" "0 4 0" \
	"$RUN_RC $(summary_field refreshed) $(summary_field failed)"
check_eq "transient: requests made (2+2 flaky, 3 flaky2, 2 ratelimit)" "4 3 2" \
	"$(fake_count_requests flaky) $(fake_count_requests flaky2) $(fake_count_requests ratelimit)"
# Retry-After: 1 is honoured but capped by retry.max_delay (200ms here): the retry came after
# at least ~200 ms and well before the 1 s the server asked for would have been waited in full.
gap=$(jq -rs '[.[] | select(.ev == "req" and (.token | startswith("ratelimit-")))] | (.[1].t_us - .[0].t_us) / 1000 | floor' "$FAKE_LOG")
check "transient: Retry-After honoured, capped by retry.max_delay (gap ${gap} ms)" test "$gap" -ge 190

write_config "$TEST_TMP/ra.yaml" "$(printf 'retry:\n  attempts: 2\n  base_delay: 10ms\n  max_delay: 5s\n')"
q "DELETE FROM auth_sessions"
: >"$FAKE_LOG"
seed 1 ratelimit
fake_reset_stats
run_refresher -c "$TEST_TMP/ra.yaml"
gap=$(jq -rs '[.[] | select(.ev == "req")] | (.[1].t_us - .[0].t_us) / 1000 | floor' "$FAKE_LOG")
check_eq "Retry-After: refreshed on the second try" "0 1" "$RUN_RC $(summary_field refreshed)"
check "Retry-After: 1 s waited before the retry (gap ${gap} ms)" test "$gap" -ge 990

# --- failed at once (no retry): 400, 302, non-JSON, {}, bad newToken, huge body ---
q "DELETE FROM auth_sessions"
: >"$FAKE_LOG"
for p in bad redirect nonjson empty badtoken huge; do seed 1 "$p"; done
q "CREATE TABLE before_run AS SELECT id, aimharder_token, aimharder_cookies, last_token_update_date FROM auth_sessions"
run_refresher -c "$CFG"
check_eq "failed: exit 1, 6 failed" "1 6" "$RUN_RC $(summary_field failed)"
check_eq "failed: one request each, no retry" 6 "$(fake_count_requests)"
check_eq "failed: token, cookies and date untouched; reason set; claim cleared" 6 \
	"$(q "SELECT count(*) FROM auth_sessions s JOIN before_run b USING (id)
	      WHERE s.aimharder_token = b.aimharder_token AND s.aimharder_cookies = b.aimharder_cookies
	        AND s.last_token_update_date IS NOT DISTINCT FROM b.last_token_update_date
	        AND s.last_token_update_error <> '' AND s.token_update_claimed_until IS NULL")"
check_eq "failed: reasons are one line and name the cause" \
	"bad:HTTP 400|badtoken:newToken|empty:neither|huge:over|nonjson:not JSON|redirect:HTTP 302" \
	"$(q "SELECT string_agg(split_part(aimharder_token, '-', 1) || ':' ||
	        CASE WHEN last_token_update_error LIKE '%HTTP 400%' THEN 'HTTP 400'
	             WHEN last_token_update_error LIKE '%HTTP 302%' THEN 'HTTP 302'
	             WHEN last_token_update_error LIKE '%neither%' THEN 'neither'
	             WHEN last_token_update_error LIKE '%newToken%' THEN 'newToken'
	             WHEN last_token_update_error LIKE '%over%' THEN 'over'
	             WHEN last_token_update_error LIKE '%not JSON%' THEN 'not JSON'
	             ELSE last_token_update_error END, '|' ORDER BY aimharder_token)
	      FROM auth_sessions WHERE position(E'\n' in last_token_update_error) = 0")"
check_eq "failed: rows stay due for the next run" 6 \
	"$(run_refresher -c "$CFG" -n; wc -l <"$RUN_OUT")"
q "DROP TABLE before_run"

# --- transient until attempts run out: 500 always, connection reset, timeout ---
q "DELETE FROM auth_sessions"
: >"$FAKE_LOG"
seed 1 down
seed 1 reset
seed 1 hang
write_config "$TEST_TMP/hang.yaml" "$(printf 'upstream:\n  url: ${FAKE_URL}\n  fingerprint: fp-t10\n  timeout: 500ms\n')"
run_refresher -c "$TEST_TMP/hang.yaml"
check_eq "gave up: exit 1, 3 failed" "1 3" "$RUN_RC $(summary_field failed)"
check_eq "gave up: retry.attempts (3) requests each" "3 3" \
	"$(fake_count_requests down) $(fake_count_requests hang)"
check_eq "gave up: a reset row was tried retry.attempts (3) times, no more" 3 "$(fake_count_requests reset)"
check_eq "gave up: every request after a row's first is counted in retries" 6 "$(summary_field retries)"
check_eq "gave up: reasons recorded (HTTP 500, transport, timeout)" 3 \
	"$(q "SELECT count(*) FROM auth_sessions WHERE last_token_update_error LIKE '%after 3 tries%'")"

# --- no hidden re-send: libcurl would post a request again by itself when the reused
# keep-alive connection it went out on closes without an answer (the server may have acted on
# it); refresher stops that, and the retry is its own: counted, with backoff, within the budget.
# With concurrency 1, the ok row's kept-alive connection carries one of the reset row's tries,
# whichever goes first (a row waiting out its backoff holds no slot). ---
q "DELETE FROM auth_sessions"
: >"$FAKE_LOG"
seed 1 ok
seed 1 reset
write_config "$TEST_TMP/reuse.yaml" "$(printf 'refresh:\n  concurrency: 1\nretry:\n  attempts: 3\n  base_delay: 10ms\n')"
run_refresher -c "$TEST_TMP/reuse.yaml"
check_eq "no hidden re-send: 3 requests for the reset row, 2 of them counted retries, failed" "3 2 1 1" \
	"$(fake_count_requests reset) $(summary_field retries) $(summary_field failed) $(summary_field refreshed)"
check_eq "no hidden re-send: the reason says the connection closed" 1 \
	"$(q "SELECT count(*) FROM auth_sessions WHERE aimharder_token LIKE 'reset-%'
	      AND last_token_update_error LIKE '%after 3 tries%'")"

# A connection's end is not an answer: with breaker.window 1 one transient answer would stop
# the run, yet a resetreused row's lost connection does not (its retry goes out on a fresh one).
q "DELETE FROM auth_sessions"
: >"$FAKE_LOG"
seed 6 resetreused
write_config "$TEST_TMP/lost.yaml" "$(printf 'refresh:\n  concurrency: 1\nretry:\n  base_delay: 10ms\nbreaker:\n  window: 1\n')"
run_refresher -c "$TEST_TMP/lost.yaml"
retries=$(summary_field retries)
check_eq "lost connections: all 6 refreshed, exit 0, breaker closed" "0 6 closed" \
	"$RUN_RC $(summary_field refreshed) $(summary_field breaker)"
check "lost connections: some were lost and retried ($retries)" test "$retries" -ge 1
check_eq "lost connections: each request the fake saw beyond the first per row is a counted retry" \
	"$((6 + retries))" "$(fake_count_requests resetreused)"

# Only a row's first lost connection is let off: a reusedreset row loses its connection on
# every try that goes out on a reused one, so its second try counts, and with window 1 opens
# the breaker.
q "DELETE FROM auth_sessions"
: >"$FAKE_LOG"
seed 6 reusedreset
run_refresher -c "$TEST_TMP/lost.yaml"
check_eq "lost again: a row's second lost connection counts: breaker open, exit 1" "1 open" \
	"$RUN_RC $(summary_field breaker)"

# --- a bad row does not stop the run: unusable stored cookies fail without a call ---
q "DELETE FROM auth_sessions"
: >"$FAKE_LOG"
seed 1 ok c@example.com '"a string"'
seed 1 ok d@example.com '{"name":"x"}'
seed 1 ok e@example.com '{}'
seed 1 ok f@example.com '[{"name":"AWSALB"},"junk",{"name":"k","value":"v"}]'
run_refresher -c "$CFG"
check_eq "bad rows: 2 failed without a request, 2 refreshed" "1 2 2 2" \
	"$RUN_RC $(summary_field failed) $(summary_field refreshed) $(fake_count_requests)"
check_eq "bad rows: entries we cannot read are kept as they were" \
	'[{"name": "AWSALB"}, "junk", {"name": "k", "value": "v"}, {"name": "AWSALB", "value": "X"}, {"name": "AWSALBCORS", "value": "X"}]' \
	"$(q "SELECT regexp_replace(aimharder_cookies::text, '\"value\": \"[0-9a-f]{20,}\"', '\"value\": \"X\"', 'g')
	      FROM auth_sessions WHERE user_email = 'f@example.com'")"
check_eq "bad rows: the reason says the stored cookies are unusable" 2 \
	"$(q "SELECT count(*) FROM auth_sessions WHERE last_token_update_error LIKE 'stored cookies%'")"

fake_stop
