# shellcheck shell=bash
# shellcheck disable=SC2016,SC2034 # ${VAR} in configs is for refresher to expand; variables are shared with the case files
# t_20_concurrency.sh - the concurrency bound, overlapping runs, a token changed mid-call,
# SIGTERM drain and the max_runtime deadline.

CFG=$TEST_TMP/t20.yaml
write_config "$CFG"

# --- at most refresh.concurrency requests in flight ---
fake_start --latency-ms 100
seed 60 ok
write_config "$TEST_TMP/c5.yaml" "$(printf 'refresh:\n  concurrency: 5\n  batch_size: 7\n')"
run_refresher -c "$TEST_TMP/c5.yaml"
peak=$(fake_stats | jq .peak_in_flight)
check_eq "concurrency: all 60 refreshed" "0 60" "$RUN_RC $(summary_field refreshed)"
check "concurrency: peak in flight $peak is at most 5" test "$peak" -le 5
check "concurrency: requests did overlap (peak $peak > 1)" test "$peak" -gt 1
fake_stop

# --- three overlapping runs call every due row exactly once between them ---
q "DELETE FROM auth_sessions"
fake_start --latency-ms 5 --jitter-ms 10
seed 400 ok
write_config "$TEST_TMP/ov.yaml" "$(printf 'refresh:\n  concurrency: 6\n  batch_size: 10\n')"
run_refresher_bg a -c "$TEST_TMP/ov.yaml"
pa=$BG_PID
run_refresher_bg b -c "$TEST_TMP/ov.yaml"
pb=$BG_PID
run_refresher_bg c -c "$TEST_TMP/ov.yaml"
pc=$BG_PID
bg_wait "$pa" a
ra=$RUN_RC
da=$(summary_field due "$TEST_TMP/bg-a.err")
bg_wait "$pb" b
rb=$RUN_RC
db=$(summary_field due "$TEST_TMP/bg-b.err")
bg_wait "$pc" c
rc=$RUN_RC
dc=$(summary_field due "$TEST_TMP/bg-c.err")
check_eq "overlap: three runs exit 0" "0 0 0" "$ra $rb $rc"
check_eq "overlap: claims add up to the 400 rows" 400 "$((da + db + dc))"
check_eq "overlap: 400 requests, no token called twice" "400 0" "$(fake_count_requests) $(fake_duplicate_tokens)"
check_eq "overlap: every row refreshed exactly once" 400 \
	"$(q "SELECT count(*) FROM auth_sessions WHERE token_update_count = 1 AND token_update_claimed_until IS NULL")"
fake_stop

# --- a user logs in again while we call: superseded, never overwritten, never deleted ---
q "DELETE FROM auth_sessions"
fake_start
seed 1 hold hold@example.com
seed 3 ok
run_refresher_bg sup -c "$CFG"
pid=$BG_PID
wait_for fake_requests_at_least hold 1
q "UPDATE auth_sessions SET aimharder_token = 'relogin-$(rand_hex)', aimharder_cookies = '[{\"name\":\"AWSALB\",\"value\":\"fresh-login\"}]' WHERE user_email = 'hold@example.com'"
fake_release
bg_wait "$pid" sup
check_eq "superseded: exit 0, counted once, others refreshed" "0 1 3" \
	"$RUN_RC $(summary_field superseded) $(summary_field refreshed)"
check_eq "superseded: the user's new token and cookies were not overwritten, claim cleared" \
	"relogin|fresh-login|0|true" \
	"$(q "SELECT split_part(aimharder_token, '-', 1) || '|' || (aimharder_cookies->0->>'value') || '|' ||
	             token_update_count || '|' || (token_update_claimed_until IS NULL)
	      FROM auth_sessions WHERE user_email = 'hold@example.com'")"
rm -f "$FAKE_CONTROL/release"

fake_stop

# --- SIGTERM: in-flight requests finish and are written, the rest released, exit 4 ---
q "DELETE FROM auth_sessions"
# The 4 requests on the wire are held by the fake until the refresher has seen the signal, so a
# slow machine cannot let them finish (and a 5th start) before it.
fake_start
seed 30 hold
write_config "$TEST_TMP/term.yaml" "$(printf 'refresh:\n  concurrency: 4\n  batch_size: 10\n')"
run_refresher_bg term -c "$TEST_TMP/term.yaml"
pid=$BG_PID
wait_for fake_requests_at_least hold 4
kill -TERM "$pid"
wait_for grep -q "SIGTERM: finishing 4 requests in flight" "$TEST_TMP/bg-term.err"
fake_release
bg_wait "$pid" term
check_eq "SIGTERM: exit 4" 4 "$RUN_RC"
check_eq "SIGTERM: the 4 in flight were written, the other claimed rows released" \
	"4 $(($(summary_field due) - 4))" "$(summary_field refreshed) $(summary_field released)"
check_eq "SIGTERM: refreshed rows are durable" 4 \
	"$(q "SELECT count(*) FROM auth_sessions WHERE token_update_count = 1")"
check_eq "SIGTERM: no claim left behind" 0 \
	"$(q "SELECT count(*) FROM auth_sessions WHERE token_update_claimed_until IS NOT NULL")"
check_eq "SIGTERM: released rows are untouched and due" 26 \
	"$(q "SELECT count(*) FROM auth_sessions WHERE token_update_count = 0 AND last_token_update_error IS NULL AND last_token_update_date IS NULL")"

# --- Ctrl-C three times: the second says what the drain waits for, the third stops at once ---
fake_stop
q "DELETE FROM auth_sessions"
fake_start
seed 30 hold
# Three logout rows answered first: their deletes wait for the run's end, which a third signal
# does not reach.
q "INSERT INTO auth_sessions (user_email, aimharder_token, aimharder_cookies, fingerprint, created_at)
   SELECT 'l' || g || '@example.com', 'logout-' || md5(random()::text), '[]', 'fp', now() - interval '1 day'
   FROM generate_series(1, 3) g"
write_config "$TEST_TMP/int.yaml" "$(printf 'refresh:\n  concurrency: 40\n  batch_size: 40\n')"
run_refresher_bg int -c "$TEST_TMP/int.yaml"
pid=$BG_PID
wait_for fake_requests_at_least hold 30
wait_for fake_requests_at_least logout 3
kill -INT "$pid"
wait_for grep -q "SIGINT: finishing 30 requests in flight" "$TEST_TMP/bg-int.err"
check_eq "SIGINT: the logout rows were answered first" 3 "$(fake_count_requests logout)"
kill -INT "$pid"
wait_for grep -q "SIGINT again: still waiting for 30 requests in flight (each ends within upstream.timeout, 5s)" \
	"$TEST_TMP/bg-int.err"
check "second SIGINT: the drain goes on (the process waits for the held requests)" kill -0 "$pid"
kill -INT "$pid"
bg_wait "$pid" int
check_eq "third SIGINT: exit 4 without the held requests answering, nothing refreshed" "4 0" \
	"$RUN_RC $(summary_field refreshed)"
check "third SIGINT: says it stopped and released the rows in flight" grep -q \
	"SIGINT a third time: stopping now; 30 requests in flight abandoned and their rows released" \
	"$RUN_ERR"
check_eq "third SIGINT: the logout rows answered before it are not deleted" 3 "$(count_rows logout)"
check_eq "third SIGINT: every row untouched, no claim left behind" 33 \
	"$(q "SELECT count(*) FROM auth_sessions WHERE token_update_count = 0 AND last_token_update_error IS NULL
	      AND token_update_claimed_until IS NULL")"
fake_release

# --- max_runtime: same drain at a deadline, exit 0 ---
fake_stop
q "DELETE FROM auth_sessions"
fake_start --slow-ms 1500
seed 30 slow
write_config "$TEST_TMP/deadline.yaml" "$(printf 'refresh:\n  concurrency: 2\n  batch_size: 4\n  max_runtime: 1s\n')"
run_refresher -c "$TEST_TMP/deadline.yaml"
check_eq "max_runtime: exit 0 (no row failed)" 0 "$RUN_RC"
check "max_runtime: stopped early, some rows released ($(summary_field released))" \
	test "$(summary_field released)" -gt 0
check_eq "max_runtime: what was called was written" "$(fake_count_requests)" "$(summary_field refreshed)"
check_eq "max_runtime: no claim left behind" 0 \
	"$(q "SELECT count(*) FROM auth_sessions WHERE token_update_claimed_until IS NOT NULL")"
fake_stop
