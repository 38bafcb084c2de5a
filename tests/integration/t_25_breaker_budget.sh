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

# --- a row that fails while a claim waits for the database is not claimed again ---
# The claim and the writes go on separate connections. A claim that reaches the server late (a
# busy pooler, a descheduled backend) takes its snapshot after writes that were sent after it:
# rows that were on the wire when it was sent, failed and released meanwhile, are due again and
# must not be in its answer. The claim's own backend is stopped (SIGSTOP) for a while: direct to
# PostgreSQL, as a pooler hands the claim to any of its server connections. Twice: rows of
# distinct ages (the claims' cursor is past the rows on the wire), and rows all of one age (the
# cursor is at them: only their ids keep them out).
late_claim() {
	local tag=$1 ages=$2 i claim_pid="" direct_url
	q "DELETE FROM auth_sessions"
	fake_start --latency-ms 200
	seed 120 down
	if [[ "$ages" == one ]]; then
		q "UPDATE auth_sessions SET created_at = now() - interval '2 hours'"
	fi
	write_config "$TEST_TMP/late.yaml" "$(printf 'refresh:\n  concurrency: 10\n  batch_size: 10\nretry:\n  attempts: 1\nbreaker:\n  window: 0\n')"
	direct_url="postgresql://$PGUSER:$PGPASSWORD@/refresher_test?host=$(jq -rn --arg s "$TEST_TMP" '$s|@uri')&port=$PGPORT"
	DATABASE_URL=$direct_url run_refresher_bg "late-$tag" -c "$TEST_TMP/late.yaml"
	for ((i = 0; i < 200; i++)); do
		claim_pid=$(q "SELECT pid FROM pg_stat_activity WHERE application_name = 'refresher'
			AND query LIKE 'WITH due AS MATERIALIZED%' LIMIT 1")
		[[ -n "$claim_pid" ]] && (($(fake_count_requests) >= 20)) && break
		sleep 0.05
	done
	check "late claim ($tag): found the claim's backend (pid ${claim_pid:-none})" test -n "$claim_pid"
	if [[ -n "$claim_pid" ]]; then
		kill -STOP "$claim_pid"
		sleep 1.5 # the rows on the wire fail (200 ms) and are written meanwhile
		kill -CONT "$claim_pid"
	fi
	bg_wait "$BG_PID" "late-$tag"
	check_eq "late claim ($tag): every row failed once, exit 1" "1 120" "$RUN_RC $(summary_field failed)"
	check_eq "late claim ($tag): no row called twice (120 requests)" 120 "$(fake_count_requests)"
	fake_stop
}
late_claim "distinct ages" distinct
late_claim "one age" one

# --- the claims' cursor: a run's failures do not pile up in every later claim ---
# Claims go oldest first, and each one starts at the latest row claimed so far. A failed row
# stays due, so before the cursor every later claim of the run had to name it to skip it: 1000
# failures made the run's last claims carry ~1000 ids (and walk past 1000 rows). Now a claim
# names only the rows it still holds that sit at the cursor (ties): here, rows of distinct ages,
# next to none.
q "DELETE FROM auth_sessions"
fake_start
seed 1000 down
write_config "$TEST_TMP/cursor.yaml" "$(printf 'refresh:\n  concurrency: 4\n  batch_size: 10\nretry:\n  attempts: 1\nbreaker:\n  window: 0\n')"
run_refresher -c "$TEST_TMP/cursor.yaml"
check_eq "cursor: every row failed once, exit 1" "1 1000 1000" "$RUN_RC $(summary_field failed) $(fake_count_requests)"
most=$(sed -n 's/.*claim of up to [0-9]* rows sent, \([0-9]*\) ids excluded.*/\1/p' "$RUN_ERR" | sort -n | tail -n 1)
nclaims=$(grep -c "claim of up to" "$RUN_ERR")
check "cursor: $nclaims claims, each excluding at most 20 ids (most: ${most:-none})" \
	test -n "$most" -a "${most:-999}" -le 20 -a "$nclaims" -ge 100
fake_stop

# Ties at the cursor: 60 rows with the same age (a bulk import), all failing, each called once;
# rows with neither date ('-infinity', first of all) too.
q "DELETE FROM auth_sessions"
fake_start
seed 60 down
q "UPDATE auth_sessions SET created_at = now() - interval '2 hours', last_token_update_date = NULL"
seed 20 down
q "UPDATE auth_sessions SET created_at = NULL WHERE created_at > now() - interval '2 hours'"
run_refresher -c "$TEST_TMP/cursor.yaml"
check_eq "cursor ties: 60 rows of one age and 20 of none, each called once, all failed" "1 80 80" \
	"$RUN_RC $(summary_field failed) $(fake_count_requests)"
fake_stop
