# shellcheck shell=bash
# shellcheck disable=SC2016,SC2034 # ${VAR} in configs is for refresher to expand; variables are shared with the case files
# t_35_observe.sh - what a run leaves for people and monitors: the metrics text file, the webhook
# on a non-zero exit, the live progress line on a terminal.

fake_start
METRICS=$TEST_TMP/metrics/refresher.prom
mkdir -p "$(dirname "$METRICS")"
FAKE_BASE=${FAKE_URL%/api/tokenUpdate}
export METRICS FAKE_BASE
write_config "$TEST_TMP/obs.yaml" "$(printf 'metrics:\n  textfile: ${METRICS}\nnotify:\n  webhook_url: ${FAKE_BASE}/webhook\n')"

# --- metrics: content after a clean run ---
seed 3 ok
seed 1 logout
run_refresher -c "$TEST_TMP/obs.yaml"
check_eq "metrics: clean run exits 0" 0 "$RUN_RC"
metric() { sed -n "s/^$1 //p" "$METRICS"; }
check_eq "metrics: sessions by outcome" "3 1 0 0 0" \
	"$(metric 'refresher_last_run_sessions{outcome="refreshed"}') $(metric 'refresher_last_run_sessions{outcome="logged_out"}') $(metric 'refresher_last_run_sessions{outcome="failed"}') $(metric 'refresher_last_run_sessions{outcome="superseded"}') $(metric 'refresher_last_run_sessions{outcome="released"}')"
check_eq "metrics: due, exit code, breaker" "4 0 0" \
	"$(metric refresher_last_run_due_sessions) $(metric refresher_last_run_exit_code) $(metric refresher_last_run_breaker_open)"
now=$(date +%s)
ts=$(metric refresher_last_run_timestamp_seconds)
check "metrics: last run timestamp is now ($ts)" awk -v t="$ts" -v n="$now" 'BEGIN { exit !(t > n - 60 && t < n + 60) }'
check_eq "metrics: a clean run is the last success" "$ts" "$(metric refresher_last_success_timestamp_seconds)"
check "metrics: every sample has HELP and TYPE, names follow the conventions" awk '
	/^# HELP / { help[$3] = 1; next }
	/^# TYPE / { type[$3] = $4; next }
	{ name = $1; sub(/\{.*/, "", name)
	  if (!(name in help) || type[name] != "gauge" || name !~ /^refresher_[a-z_]+$/) exit 1; n++ }
	END { exit !(n >= 12) }' "$METRICS"
check_eq "metrics: no temporary file left" "refresher.prom" "$(ls "$(dirname "$METRICS")")"
check_eq "webhook: not sent on exit 0" 0 "$(jq -s '[.[] | select(.ev == "req" and .path == "/webhook")] | length' "$FAKE_LOG")"

# --- a failing run: exit 1 in metrics, last success kept, one webhook POST without secrets ---
success_before=$(metric refresher_last_success_timestamp_seconds)
q "DELETE FROM auth_sessions"
seed 2 bad
run_refresher -c "$TEST_TMP/obs.yaml"
check_eq "metrics: failing run recorded" "1 2" \
	"$(metric refresher_last_run_exit_code) $(metric 'refresher_last_run_sessions{outcome="failed"}')"
check_eq "metrics: last success carried over from the earlier run" "$success_before" \
	"$(metric refresher_last_success_timestamp_seconds)"
hooks=$(jq -c 'select(.ev == "req" and .path == "/webhook")' "$FAKE_LOG")
check_eq "webhook: one POST on exit 1" 1 "$(grep -c . <<<"$hooks")"
check_eq "webhook: JSON content type" "application/json" "$(jq -r .ct <<<"$hooks")"
body=$(jq -r .form <<<"$hooks")
check "webhook: Slack (text) and Discord (content) both get the message" \
	jq -e '(.text | test("exited 1.*failed=2")) and .content == .text' <<<"$body"
tokens=$(q "SELECT aimharder_token FROM auth_sessions")
check "webhook: no token in the message" bash -c '! grep -F -q -f <(printf "%s\n" "$1") <<<"$2"' _ "$tokens" "$body"

# --- a webhook that cannot be reached never changes the exit code ---
write_config "$TEST_TMP/deadhook.yaml" "$(printf 'notify:\n  webhook_url: http://127.0.0.1:1/hook\n')"
run_refresher -c "$TEST_TMP/deadhook.yaml" --stale-after 0
check_eq "webhook: unreachable, still exit 1" 1 "$RUN_RC"
check "webhook: a warning says it was not delivered" grep -q "webhook not delivered" "$RUN_ERR"

# --- metrics are written atomically: a reader never sees a partial file ---
q "DELETE FROM auth_sessions"
(
	bad=0
	while [[ ! -e "$TEST_TMP/stop-reader" ]]; do
		content=$(cat "$METRICS" 2>/dev/null) || continue
		[[ "$content" == *refresher_last_success_timestamp_seconds* ]] || bad=$((bad + 1))
	done
	echo "$bad" >"$TEST_TMP/reader.bad"
) &
reader=$!
for _ in 1 2 3 4 5 6 7 8 9 10; do run_refresher -c "$TEST_TMP/obs.yaml"; done
touch "$TEST_TMP/stop-reader"
wait "$reader"
check_eq "metrics: 10 rewrites, no partial read" 0 "$(cat "$TEST_TMP/reader.bad")"
rm -f "$TEST_TMP/stop-reader"

# --- the live progress line on a terminal (and none when stderr is not one) ---
q "DELETE FROM auth_sessions"
fake_stop
fake_start --latency-ms 40
seed 60 ok
write_config "$TEST_TMP/tty.yaml" "$(printf 'refresh:\n  concurrency: 4\n')"
script -qfec "$REFRESHER_BIN -c $TEST_TMP/tty.yaml" /dev/null >"$TEST_TMP/tty.out" 2>&1 </dev/null
cat "$TEST_TMP/tty.out" >>"$TEST_TMP/all-output.log"
check "progress (pty): a live line with done/total, rate, failures and ETA" \
	grep -a -q -E $'\r\e\\[K[0-9]+/60 done  [0-9]+ rows/s  0 failed  [0-9]+ in flight  ETA ' "$TEST_TMP/tty.out"
check "progress (pty): the summary follows on a clean line" grep -a -q $'\r\e\\[Ksummary: due=60 ' "$TEST_TMP/tty.out"
q "UPDATE auth_sessions SET last_token_update_date = NULL"
run_refresher -c "$TEST_TMP/tty.yaml"
check_eq "progress (not a terminal): 60 refreshed, no live line" "60 0" \
	"$(summary_field refreshed) $(grep -c $'\e\\[K' "$RUN_ERR")"
fake_stop
