# shellcheck shell=bash
# shellcheck disable=SC2016,SC2034 # ${VAR} in configs is for refresher to expand; variables are shared with the case files
# t_74_logout_guard.sh - the mass-logout guard (breaker.logout_min, breaker.logout_share): a run
# whose answers are mostly logouts deletes none of them, keeps them marked, stops and exits 1;
# normal churn is deleted as usual; a run killed before it decides deletes nothing; both profiles.

fake_start --latency-ms 20
CFG=$TEST_TMP/t74.yaml
write_config "$CFG" "$(printf 'refresh:\n  concurrency: 4\n  batch_size: 8\n')"

# t74_seed PATTERN...: one row per word, oldest first (the order a run claims them), tokens
# WORD-<random>: e.g. t74_seed ok logout ok.
t74_seed() {
	q "INSERT INTO auth_sessions (user_email, aimharder_token, aimharder_cookies, fingerprint, created_at)
	   SELECT 'u' || (o - 1) || '@example.com', w || '-' || md5(random()::text), '[]', 'fp-' || (o - 1),
	          now() - interval '2 hours' + (o - 1) * interval '1 second'
	   FROM unnest(string_to_array(trim('$*'), ' ')) WITH ORDINALITY AS u(w, o)"
}
# Prints WORD repeated N times.
t74_words() {
	local i
	for ((i = 0; i < $2; i++)); do printf '%s ' "$1"; done
}

# --- all logouts: none deleted, all answered ones kept and marked, the run stops, exit 1 ---
# shellcheck disable=SC2046 # word splitting is the point
t74_seed $(t74_words logout 40)
run_refresher -c "$CFG"
check_eq "all logout: exit 1, no row deleted" "1 40" "$RUN_RC $(count_rows logout)"
marked=$(q "SELECT count(*) FROM auth_sessions WHERE last_token_update_error = 'logout (not deleted: mass logout)'
            AND token_update_count = 0 AND last_token_update_date IS NULL AND token_update_claimed_until IS NULL")
check_eq "all logout: each answered row kept, marked, token untouched; counted logged_out" \
	"$(summary_field logged_out)" "$marked"
check "all logout: it stopped claiming ($marked of 40 answered)" test "$marked" -ge 10 -a "$marked" -lt 40
check_eq "all logout: rows not called stay untouched and due" "$((40 - marked))" \
	"$(q "SELECT count(*) FROM auth_sessions WHERE last_token_update_error IS NULL
	      AND token_update_claimed_until IS NULL")"
check "all logout: the message gives the counts and the likely causes" grep -Eq \
	"mass logout: [0-9]+ of the run's [0-9]+ answers so far were logouts \(breaker.logout_min 10, breaker.logout_share 0.5\): deleting none of them.*Likely causes: a wrong or empty fingerprint" \
	"$RUN_ERR"

# --- mostly logouts: 3 in 4 ---
q "DELETE FROM auth_sessions"
# shellcheck disable=SC2046
t74_seed $(for i in $(seq 1 12); do printf 'logout logout ok logout '; done)
run_refresher -c "$CFG"
check_eq "mostly logout: exit 1, no logout row deleted" "1 36" "$RUN_RC $(count_rows logout)"
check_eq "mostly logout: answered ok rows refreshed as usual" "$(summary_field refreshed)" \
	"$(q "SELECT count(*) FROM auth_sessions WHERE aimharder_token LIKE 'ok-%' AND token_update_count = 1")"
check "mostly logout: says mass logout" grep -q "mass logout:" "$RUN_ERR"

# --- normal churn: 12 logouts among 100 answers are deleted (min reached, share not) ---
q "DELETE FROM auth_sessions"
# shellcheck disable=SC2046
t74_seed $(for i in $(seq 1 12); do printf 'ok ok ok ok logout ok ok ok '; done) ok ok ok ok
run_refresher -c "$CFG"
check_eq "normal: exit 0, 12 logged out and deleted, 88 refreshed" "0 12 0 88" \
	"$RUN_RC $(summary_field logged_out) $(count_rows logout) $(summary_field refreshed)"
check "normal: no mass logout said" bash -c "! grep -q 'mass logout:' '$RUN_ERR'"
check_eq "normal: the held deletes went at the end, one line each" 12 "$(grep -c 'row deleted' "$RUN_ERR")"

# --- few answers: fewer logouts than logout_min are deleted whatever their share ---
q "DELETE FROM auth_sessions"
t74_seed logout logout logout ok
run_refresher -c "$CFG"
check_eq "few: 3 logouts of 4 answers (below logout_min 10): deleted, exit 0" "0 0 3" \
	"$RUN_RC $(count_rows logout) $(summary_field logged_out)"

# --- guard off (logout_min: 0) and on_logout: keep: the guard does not apply ---
q "DELETE FROM auth_sessions"
# shellcheck disable=SC2046
t74_seed $(t74_words logout 20)
write_config "$TEST_TMP/off.yaml" "$(printf 'refresh:\n  concurrency: 4\nbreaker:\n  logout_min: 0\n')"
run_refresher -c "$TEST_TMP/off.yaml"
check_eq "guard off: all 20 deleted, exit 0" "0 0 20" "$RUN_RC $(count_rows logout) $(summary_field logged_out)"
# shellcheck disable=SC2046
t74_seed $(t74_words logout 20)
write_config "$TEST_TMP/keep.yaml" "$(printf 'refresh:\n  concurrency: 4\n  on_logout: keep\n')"
run_refresher -c "$TEST_TMP/keep.yaml"
check_eq "on_logout keep: all 20 kept as 'logout', exit 0, no mass logout" "0 20 0" \
	"$RUN_RC $(q "SELECT count(*) FROM auth_sessions WHERE last_token_update_error = 'logout'") $(grep -c 'mass logout' "$RUN_ERR")"

# --- keep_when logouts count as logouts for the guard ---
q "DELETE FROM auth_sessions"
# shellcheck disable=SC2046
t74_seed $(t74_words logout 30)
write_config "$TEST_TMP/kw.yaml" "$(printf 'refresh:\n  concurrency: 4\n  keep_when: "fingerprint < '"'fp-2'"'"\n')"
run_refresher -c "$TEST_TMP/kw.yaml"
check_eq "keep_when + mass logout: exit 1, nothing deleted" "1 30" "$RUN_RC $(count_rows logout)"
check_eq "keep_when + mass logout: keep_when rows marked 'logout' as always, the others 'mass logout'" \
	"t t" "$(q "SELECT bool_and(last_token_update_error = 'logout') FILTER (WHERE fingerprint < 'fp-2'),
	              bool_and(last_token_update_error LIKE '%mass logout%') FILTER (WHERE fingerprint >= 'fp-2')
	       FROM auth_sessions WHERE last_token_update_error IS NOT NULL" | tr '|' ' ')"
check "keep_when + mass logout: both kinds answered" test \
	"$(q "SELECT count(DISTINCT last_token_update_error) FROM auth_sessions")" -eq 2

# --- a kill in the middle of an all-logout run deletes nothing ---
q "DELETE FROM auth_sessions"
fake_start --latency-ms 100
# shellcheck disable=SC2046
t74_seed $(t74_words logout 120)
# logout_min 1000: the guard cannot trip in this run, so every delete waits for the run's end.
write_config "$TEST_TMP/kill.yaml" "$(printf 'refresh:\n  concurrency: 4\n  batch_size: 8\n  lease: 2s\nupstream:\n  url: ${FAKE_URL}\n  fingerprint: fp-kill\n  timeout: 1s\nbreaker:\n  logout_min: 1000\n')"
run_refresher_bg kill -c "$TEST_TMP/kill.yaml"
wait_for fake_requests_at_least logout 30
kill -KILL "$BG_PID"
bg_wait "$BG_PID" kill 2>/dev/null
answered=$(fake_count_requests logout)
check_eq "kill: SIGKILL after $answered logout answers deleted nothing, marked nothing" "120 0" \
	"$(count_rows logout) $(q "SELECT count(*) FROM auth_sessions WHERE last_token_update_error IS NOT NULL")"
# Past the leases, the next run calls them again and, the guard not tripping, deletes them at its end.
sleep 2.1
fake_start
run_refresher -c "$TEST_TMP/kill.yaml"
check_eq "kill: the next run deletes them at its end (exit 0)" "0 0 120" \
	"$RUN_RC $(count_rows logout) $(summary_field logged_out)"

# And with the default guard: killed after it tripped, still nothing deleted.
fake_start --latency-ms 100
# shellcheck disable=SC2046
t74_seed $(t74_words logout 120)
write_config "$TEST_TMP/kill2.yaml" "$(printf 'refresh:\n  concurrency: 4\n  batch_size: 8\n')"
run_refresher_bg kill2 -c "$TEST_TMP/kill2.yaml"
wait_for fake_requests_at_least logout 12
kill -KILL "$BG_PID"
bg_wait "$BG_PID" kill2 2>/dev/null
check_eq "kill after the guard tripped: nothing deleted" 120 "$(count_rows logout)"
fake_start --latency-ms 20

# --- a held row keeps its lease while the run goes on past it: no other run takes it ---
q "DELETE FROM auth_sessions"
fake_start --latency-ms 300
# shellcheck disable=SC2046
t74_seed $(t74_words logout 5) $(t74_words ok 40)
write_config "$TEST_TMP/lease.yaml" "$(printf 'refresh:\n  concurrency: 4\n  batch_size: 8\n  lease: 2s\nupstream:\n  url: ${FAKE_URL}\n  fingerprint: fp-lease\n  timeout: 1s\nbreaker:\n  logout_min: 1000\n')"
run_refresher_bg lease -c "$TEST_TMP/lease.yaml"
t74_start=$SECONDS
wait_for fake_requests_at_least logout 5
while ((SECONDS - t74_start < 3)); do sleep 0.1; done # past the first lease of the logout rows
check_eq "held past the lease: the logout rows are still leased (renewed) while the run goes on" 5 \
	"$(q "SELECT count(*) FROM auth_sessions WHERE aimharder_token LIKE 'logout-%'
	      AND token_update_claimed_until > now()")"
run_refresher -c "$TEST_TMP/lease.yaml" --limit 10
bg_wait "$BG_PID" lease
check_eq "held past the lease: each logout row called once by the two runs, deleted at the end" "5 0 0" \
	"$(fake_count_requests logout) $(jq -r 'select(.ev == "req") | .token' "$FAKE_LOG" | grep '^logout-' | sort | uniq -d | wc -l) $(count_rows logout)"

# --- oauth2: invalid_grant for every row (another client's valid credentials) ---
oauth_setup
t74_oseed() {
	q "INSERT INTO oauth_sessions (user_email, refresh_token, created_at)
	   SELECT 'o' || g || '@example.com', '$2-' || md5(random()::text), now() - interval '1 hour'
	   FROM generate_series(1, $1) g"
}
cp "$REPO_ROOT/refresher.oauth2.yaml" "$TEST_TMP/o74.yaml"
t74_oseed 30 dead
run_refresher -c "$TEST_TMP/o74.yaml"
check_eq "oauth2 all invalid_grant: exit 1, no session deleted" "1 30" \
	"$RUN_RC $(q "SELECT count(*) FROM oauth_sessions")"
check_eq "oauth2 all invalid_grant: answered rows marked, refresh token untouched" "$(summary_field logged_out)" \
	"$(q "SELECT count(*) FROM oauth_sessions WHERE last_token_update_error = 'logout (not deleted: mass logout)'
	      AND refresh_token LIKE 'dead-%'")"
check "oauth2 all invalid_grant: the causes name the client credentials" grep -q \
	"Likely causes: the credentials of another client (upstream.client_id, upstream.client_secret)" "$RUN_ERR"
q "DELETE FROM oauth_sessions"
q "INSERT INTO oauth_sessions (user_email, refresh_token, created_at)
   SELECT 'o' || g || '@example.com', CASE WHEN g % 3 = 0 THEN 'rt-' ELSE 'dead-' END || md5(random()::text),
          now() - interval '1 hour' + g * interval '1 second'
   FROM generate_series(1, 30) g"
run_refresher -c "$TEST_TMP/o74.yaml"
check_eq "oauth2 mostly invalid_grant (2 in 3): exit 1, no session deleted" "1 30" \
	"$RUN_RC $(q "SELECT count(*) FROM oauth_sessions")"
check "oauth2 mostly invalid_grant: says mass logout" grep -q "mass logout:" "$RUN_ERR"
q "DELETE FROM oauth_sessions"
t74_oseed 3 dead
t74_oseed 27 rt
run_refresher -c "$TEST_TMP/o74.yaml"
check_eq "oauth2 normal: 3 invalid_grant deleted, 27 refreshed, exit 0" "0 3 27 27" \
	"$RUN_RC $(summary_field logged_out) $(summary_field refreshed) $(q "SELECT count(*) FROM oauth_sessions")"
q "DROP TABLE oauth_sessions"
