# shellcheck shell=bash
# shellcheck disable=SC2034 # variables are shared with the case files
# faults_lib.sh - helpers of the fault suite (sourced by tests/faults/run.sh after
# tests/integration/lib.sh and sweep_lib.sh).
#
# Rows are seeded "tied": a row whose token is PREFIX-X holds the cookies AWSALB=X and
# AWSALBCORS=X, just as the fake's ok answer ties its cookies to the token it issues
# (newToken ok-X, Set-Cookie AWSALB=X, AWSALBCORS=X). So in every row, at every moment, the
# token and the captured cookies must come from the same answer: untied_rows counts the rows
# where they do not (a half-written row).

TIME_BIN=${TIME_BIN:-/usr/bin/time}
WALL_MS=0       # wall time of the last run_measured, ms
PEAK_KB=0       # peak RSS of the last run_measured, KiB (GNU time %M)

# Prints the wall clock in milliseconds.
now_ms() {
	date +%s%3N
}

# Sleeps N milliseconds.
sleep_ms() {
	sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"
}

# Sets RAND to a random integer in [0, N) (N <= 2^30), from bash's RANDOM (seeded by
# FAULTS_SEED). Not through $(...): a subshell's draws would not advance the sequence.
RAND=0
rand_below() {
	RAND=$(((RANDOM * 32768 + RANDOM) % $1))
}

# figure FAULT TRIED LOST [NOTE]: records one line of the figures table printed at the end.
figure() {
	printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "${4:-}" >>"$TEST_TMP/figures.txt"
}

# Prints the figures table (Markdown, for tests/README.md) and the suite's wall time (ms in $1).
print_figures() {
	echo "# figures (FAULTS_SEED=$FAULTS_SEED):"
	echo "# | fault | times tried | rows lost | notes |"
	echo "# |---|---:|---:|---|"
	while IFS=$'\t' read -r fault tried lost note; do
		echo "# | $fault | $tried | $lost | $note |"
	done <"$TEST_TMP/figures.txt"
	echo "# suite wall time: $((($1 + 500) / 1000)) s"
}

# seed_tied N PREFIX [EMAIL]: inserts N due rows, token PREFIX-X (X = 32 hex), cookies
# AWSALB=X, PHPSESSID=keep, AWSALBCORS=X (PHPSESSID is not captured: it must stay as it is).
seed_tied() {
	PGOPTIONS="-c client_min_messages=warning" psql -X -q -At -v ON_ERROR_STOP=1 \
		-v prefix="$2" -v email="${3:-user@example.com}" -v n="$1" <<-'EOF'
		INSERT INTO auth_sessions (user_email, aimharder_token, aimharder_cookies,
		                           created_at, updated_at)
		SELECT :'email', :'prefix' || '-' || x,
		       jsonb_build_array(jsonb_build_object('name', 'AWSALB', 'value', x),
		                         jsonb_build_object('name', 'PHPSESSID', 'value', 'keep'),
		                         jsonb_build_object('name', 'AWSALBCORS', 'value', x)),
		       now() - interval '1 hour' - g * interval '1 second', now() - interval '1 hour'
		FROM generate_series(1, :n) g, LATERAL (SELECT md5(random()::text || g::text) AS x) r;
	EOF
}

# The SQL condition "row t is tied": AWSALB and AWSALBCORS each appear once and hold the part
# of the token after its first '-', and PHPSESSID is still 'keep'.
TIED_SQL="(SELECT count(*) FILTER (WHERE c->>'name' IN ('AWSALB', 'AWSALBCORS')
                                   AND c->>'value' = substr(t.aimharder_token, strpos(t.aimharder_token, '-') + 1)) = 2
               AND count(*) FILTER (WHERE c->>'name' IN ('AWSALB', 'AWSALBCORS')) = 2
               AND count(*) FILTER (WHERE c->>'name' = 'PHPSESSID' AND c->>'value' = 'keep') = 1
          FROM jsonb_array_elements(t.aimharder_cookies) c)"

# Prints the number of rows whose token and cookies do not come from the same answer.
untied_rows() {
	q "SELECT count(*) FROM auth_sessions t WHERE NOT $TIED_SQL"
}

# Saves every row's id and token as table orig (dropped first): the state before a run.
snapshot_orig() {
	q "DROP TABLE IF EXISTS orig; CREATE TABLE orig AS
	   SELECT id, aimharder_token AS token, aimharder_cookies AS cookies FROM auth_sessions"
}

# load_log FILE TABLE: loads the fake's log into TABLE (dropped first) as (ev, token, status,
# issued): one line per request (ev req) and per answer (ev resp), for SQL checks.
load_log() {
	jq -Rr 'fromjson? | select(.ev == "req" or .ev == "resp")
		| [.ev, .token, .status, .issued] | @csv' "$1" >"$TEST_TMP/log.csv" &&
		PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 \
			-c "DROP TABLE IF EXISTS $2; CREATE TABLE $2 (ev text, token text, status int, issued text)" \
			-c "\\copy $2 FROM '$TEST_TMP/log.csv' WITH (FORMAT csv)"
}

# Empties the fake's log and zeroes its counters (until_requests counts from there).
fake_clear() {
	: >"$FAKE_LOG"
	fake_reset_stats
}

# Makes every claim of auth_sessions a past one, as if the leases had run out.
expire_leases() {
	q "UPDATE auth_sessions SET token_update_claimed_until = now() - interval '1 second'
	   WHERE token_update_claimed_until IS NOT NULL"
}

# run_measured ARGS...: like run_refresher (sets RUN_RC, RUN_OUT, RUN_ERR), under GNU time;
# also sets WALL_MS (wall time) and PEAK_KB (peak resident set size of the refresher).
run_measured() {
	local t0
	[[ -x "$TIME_BIN" ]] || die "$TIME_BIN missing (package time); run make deps"
	RUN_OUT=$TEST_TMP/run.out
	RUN_ERR=$TEST_TMP/run.err
	t0=$(now_ms)
	"$TIME_BIN" -f '%M' -o "$TEST_TMP/peak.kb" "$REFRESHER_BIN" "$@" \
		>"$RUN_OUT" 2>"$RUN_ERR" </dev/null
	RUN_RC=$?
	WALL_MS=$(($(now_ms) - t0))
	# GNU time puts "Command exited with non-zero status N" before the figure.
	PEAK_KB=$(tail -n 1 "$TEST_TMP/peak.kb")
	[[ "$PEAK_KB" =~ ^[0-9]+$ ]] || PEAK_KB=-1
	cat "$RUN_OUT" "$RUN_ERR" >>"$TEST_TMP/all-output.log"
	if ((RUN_RC == 2 || RUN_RC == 3)); then
		head -n 3 "$RUN_ERR" | sed "s/^/# exit $RUN_RC: /"
	fi
	return 0
}

# run_bg TAG ARGS...: starts the binary in the background like run_refresher_bg (output in
# $TEST_TMP/bg-TAG.out/.err, collect with bg_wait) but at once: no psql before it starts.
run_bg() {
	local tag=$1
	shift
	"$REFRESHER_BIN" "$@" >"$TEST_TMP/bg-$tag.out" 2>"$TEST_TMP/bg-$tag.err" </dev/null &
	BG_PID=$!
}

# until_requests N PID: returns once the fake has logged N requests or process PID is gone
# (polls every few ms, with grep on the log rather than curl on /stats: this decides a kill
# moment, so it must not lag).
until_requests() {
	local n
	(($1 > 0)) || return 0
	while kill -0 "$2" 2>/dev/null; do
		n=$(grep -c '^{"ev":"req"' "$FAKE_LOG")
		((n >= $1)) && return 0
		sleep 0.002
	done
}

# Succeeds when stderr file $1 holds a line matching the extended regex $2 (for wait_for).
log_has() {
	grep -Eq -- "$2" "$1"
}

# Succeeds when stderr file $1 holds at least $3 lines matching the extended regex $2.
log_count_at_least() {
	(($(grep -Ec -- "$2" "$1") >= $3))
}
