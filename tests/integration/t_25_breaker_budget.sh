# shellcheck shell=bash
# shellcheck disable=SC2016,SC2034 # ${VAR} in configs is for refresher to expand; variables are shared with the case files
# t_25_breaker_budget.sh - the circuit breaker stops a run against a dead upstream; the retry
# budget caps the retries of a run.

# --- breaker: 10 bad answers in a row stop the run, the rows not called stay due, untouched ---
fake_start
seed 200 down
write_config "$TEST_TMP/breaker.yaml" "$(printf 'refresh:\n  concurrency: 4\n  batch_size: 8\nretry:\n  attempts: 3\n  base_delay: 1ms\n  max_delay: 5ms\nbreaker:\n  window: 10\n')"
run_refresher -c "$TEST_TMP/breaker.yaml"
n=$(fake_count_requests)
check_eq "breaker: exit 1" 1 "$RUN_RC"
check "breaker: says the upstream looks unhealthy" grep -q "upstream looks unhealthy" "$RUN_ERR"
check "breaker: stopped after the window plus what was in flight ($n requests)" test "$n" -ge 10 -a "$n" -le 14
check_eq "breaker: no claim left behind" 0 \
	"$(q "SELECT count(*) FROM auth_sessions WHERE token_update_claimed_until IS NOT NULL")"
untouched=$(q "SELECT count(*) FROM auth_sessions WHERE last_token_update_error IS NULL AND token_update_count = 0")
check "breaker: the rows not called are untouched ($untouched of 200)" test "$untouched" -ge 186
check_eq "breaker: the summary adds up" "$(summary_field due)" \
	"$(($(summary_field failed) + $(summary_field released)))"
fake_stop

# --- retry budget: max(100, 0.2 x first attempts) retries per run, then failures fail at once ---
q "DELETE FROM auth_sessions"
fake_start
seed 150 down
write_config "$TEST_TMP/budget.yaml" "$(printf 'refresh:\n  concurrency: 8\n  batch_size: 50\nretry:\n  attempts: 3\n  base_delay: 1ms\n  max_delay: 5ms\nbreaker:\n  window: 0\n')"
run_refresher -c "$TEST_TMP/budget.yaml"
check_eq "budget: every row failed, exit 1" "1 150" "$RUN_RC $(summary_field failed)"
check_eq "budget: 150 first tries + exactly 100 retries (the floor; 0.2 x 150 = 30 is less)" 250 \
	"$(fake_count_requests)"
# 100 retries over 150 rows that each want 2: at least 100 rows end without their last retry.
nb=$(q "SELECT count(*) FROM auth_sessions WHERE last_token_update_error LIKE '%retry budget%'")
check "budget: the rows failed for lack of budget say so ($nb)" test "$nb" -ge 100
check_eq "budget: the others used all their tries" "$((150 - nb))" \
	"$(q "SELECT count(*) FROM auth_sessions WHERE last_token_update_error LIKE '%after 3 tries%'")"
fake_stop
