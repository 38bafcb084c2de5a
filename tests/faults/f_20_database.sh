# shellcheck shell=bash
# shellcheck disable=SC2016,SC2034 # ${VAR} in configs is for refresher to expand; variables are shared with the case files
# f_20_database.sh - PostgreSQL goes away in the middle of a run.
#
# Restarted (fast shutdown, start) at different moments: every token the fake issued ends in
# the table, each row refreshed once (0 lost). Down past database.outage_timeout and not
# restarted: the run gives up after the bound, exits 3, says how many issued tokens it could not
# write, and prints none of them; the table keeps those rows with their old token and lease.

D_ROWS=200
fake_start --latency-ms 40 --jitter-ms 60

# Prints the invariants after a run that saw an outage and was let finish: the fake's log in
# table dlog, the rows before the run in orig.
d_state() {
	q "WITH iss AS (SELECT token AS sent, issued FROM dlog WHERE ev = 'resp' AND issued IS NOT NULL)
	   SELECT concat_ws(' ',
	     'rows=' || (SELECT count(*) FROM auth_sessions),
	     'issued_not_written=' || (SELECT count(*) FROM iss WHERE NOT EXISTS
	                                (SELECT 1 FROM auth_sessions s WHERE s.aimharder_token = iss.issued)),
	     'half_written=' || (SELECT count(*) FROM auth_sessions t WHERE NOT $TIED_SQL),
	     'foreign_token=' || (SELECT count(*) FROM auth_sessions s JOIN orig o USING (id)
	                          WHERE NOT EXISTS (SELECT 1 FROM iss WHERE iss.issued = s.aimharder_token
	                                            AND iss.sent = o.token)),
	     'not_refreshed_once=' || (SELECT count(*) FROM auth_sessions
	                               WHERE NOT (token_update_count = 1
	                                 AND token_update_claimed_until IS NULL
	                                 AND last_token_update_error IS NULL)),
	     'called_twice=' || (SELECT count(*) FROM (SELECT token FROM dlog WHERE ev = 'req'
	                                               GROUP BY token HAVING count(*) > 1) d))"
}
D_CLEAN="rows=$D_ROWS issued_not_written=0 half_written=0 foreign_token=0 not_refreshed_once=0 called_twice=0"

# --- restarted mid-run ---
# With batch_size over the row count every row is claimed at once, so the calls go on while
# the database is down and their results wait in memory: the stop comes after STOP_AT requests
# and the start only once all D_ROWS were called. With a small batch_size the run also has to
# claim through the outage: the start comes once it failed to reconnect twice.
d_restarts=0
d_lost=0
for d_case in 20:256 70:256 120:256 60:25; do
	d_stop_at=${d_case%%:*}
	d_batch=${d_case##*:}
	q "DELETE FROM auth_sessions"
	seed_tied "$D_ROWS" ok
	snapshot_orig
	fake_clear
	write_config "$TEST_TMP/blip.yaml" "$(printf 'refresh:\n  concurrency: 8\n  batch_size: %d\n' "$d_batch")"
	run_bg blip -c "$TEST_TMP/blip.yaml"
	d_pid=$BG_PID
	until_requests "$d_stop_at" "$d_pid"
	check "db restart (stop after $d_stop_at requests, batch_size $d_batch): fast shutdown" pg_stop fast
	if ((d_batch > D_ROWS)); then
		wait_for fake_requests_at_least ok "$D_ROWS"
		# The results of the last answers have met the outage.
		wait_for log_has "$TEST_TMP/bg-blip.err" "database unavailable"
	else
		wait_for log_count_at_least "$TEST_TMP/bg-blip.err" "reconnect failed" 2
	fi
	check "db restart (stop after $d_stop_at requests, batch_size $d_batch): start again" _pg_ctl_start
	bg_wait "$d_pid" blip
	load_log "$FAKE_LOG" dlog
	d_restarts=$((d_restarts + 1))
	d_lost=$((d_lost + $(q "SELECT count(*) FROM dlog d WHERE d.ev = 'resp' AND d.issued IS NOT NULL
	                        AND NOT EXISTS (SELECT 1 FROM auth_sessions s WHERE s.aimharder_token = d.issued)")))
	# Claims and writes have a connection each; each finds the restart when it next sends, so
	# the log may say "database back after" once per connection (1 or 2), never 0.
	d_back=$(grep -c 'database back after' "$RUN_ERR")
	((d_back >= 1 && d_back <= 2)) && d_back=waited
	check_eq "db restart (stop after $d_stop_at requests, batch_size $d_batch): exit 0, all $D_ROWS refreshed, outage waited out, every issued token written" \
		"0 $D_ROWS waited $D_CLEAN" \
		"$RUN_RC $(summary_field refreshed) $d_back $(d_state)"
done
figure "PostgreSQL fast shutdown + restart mid-run ($D_ROWS rows)" "$d_restarts" "$d_lost" \
	"issued tokens not written: $d_lost"

# --- down past database.outage_timeout ---
D_BOUND_S=3
D_TIMEOUT_S=5
q "DELETE FROM auth_sessions"
seed_tied "$D_ROWS" ok
snapshot_orig
fake_clear
write_config "$TEST_TMP/outage.yaml" "$(printf 'database:\n  url: ${DATABASE_URL}\n  outage_timeout: %ds\nupstream:\n  url: ${FAKE_URL}\n  fingerprint: fp-f20\n  timeout: %ds\nrefresh:\n  concurrency: 8\n  batch_size: 50\nmetrics:\n  textfile: %s\n' \
	"$D_BOUND_S" "$D_TIMEOUT_S" "$TEST_TMP/outage.prom")"
d_t0=$(now_ms)
run_bg outage -c "$TEST_TMP/outage.yaml"
d_pid=$BG_PID
until_requests 30 "$d_pid"
d_claim=$(q "SELECT clock_timestamp()")
# From the moment the shutdown starts: the run may notice it before pg_ctl returns.
d_stop=$(now_ms)
pg_stop fast
bg_wait "$d_pid" outage
d_wall=$(($(now_ms) - d_stop))
_pg_ctl_start || die "PostgreSQL did not start again"
wait_for fake_quiet
load_log "$FAKE_LOG" dlog
d_issued_file=$TEST_TMP/outage-issued.txt
q "SELECT issued FROM dlog WHERE ev = 'resp' AND issued IS NOT NULL" >"$d_issued_file"
d_unwritten=$(q "SELECT count(*) FROM dlog d WHERE d.ev = 'resp' AND d.issued IS NOT NULL
                 AND NOT EXISTS (SELECT 1 FROM auth_sessions s WHERE s.aimharder_token = d.issued)")
d_said=$(sed -n 's/.* \([0-9][0-9]*\) issued tokens could not be written.*/\1/p' "$RUN_ERR" | tail -n 1)
check_eq "db down past outage_timeout ${D_BOUND_S}s: exit 3" 3 "$RUN_RC"
check "db down past outage_timeout ${D_BOUND_S}s: gave up after the bound, within bound + upstream.timeout + 5 s (took $d_wall ms after the stop)" \
	test "$d_wall" -ge $((D_BOUND_S * 1000)) -a "$d_wall" -le $(((D_BOUND_S + D_TIMEOUT_S + 5) * 1000))
check "db down past outage_timeout: some issued tokens were waiting to be written ($d_unwritten)" \
	test "$d_unwritten" -gt 0
check_eq "db down past outage_timeout: stderr says how many issued tokens could not be written" \
	"$d_unwritten" "$d_said"
check_eq "db down past outage_timeout: the metrics file says the same" \
	"refresher_last_run_unwritten_tokens $d_unwritten" \
	"$(grep '^refresher_last_run_unwritten_tokens ' "$TEST_TMP/outage.prom")"
check "db down past outage_timeout: the summary line is printed" grep -q '^summary: ' "$RUN_ERR"
q "SELECT token FROM orig" >"$TEST_TMP/outage-old.txt"
check "db down past outage_timeout: stderr and stdout hold none of the issued tokens" \
	bash -c '! cat "$1" "$2" | grep -F -f "$3"' _ "$RUN_ERR" "$RUN_OUT" "$d_issued_file"
check "db down past outage_timeout: ... nor any of the rows' old tokens" \
	bash -c '! cat "$1" "$2" | grep -F -f "$3"' _ "$RUN_ERR" "$RUN_OUT" "$TEST_TMP/outage-old.txt"
check_eq "db down past outage_timeout: no row lost or half-written; the unwritten rows keep their old token and the run's lease" \
	"rows=$D_ROWS half_written=0 foreign_token=0 unwritten_rows_not_leased=0" \
	"$(q "WITH iss AS (SELECT token AS sent, issued FROM dlog WHERE ev = 'resp' AND issued IS NOT NULL)
	      SELECT concat_ws(' ',
	        'rows=' || (SELECT count(*) FROM auth_sessions),
	        'half_written=' || (SELECT count(*) FROM auth_sessions t WHERE NOT $TIED_SQL),
	        'foreign_token=' || (SELECT count(*) FROM auth_sessions s JOIN orig o USING (id)
	                             WHERE s.aimharder_token <> o.token AND NOT EXISTS
	                               (SELECT 1 FROM iss WHERE iss.issued = s.aimharder_token
	                                AND iss.sent = o.token)),
	        'unwritten_rows_not_leased=' ||
	          (SELECT count(*) FROM iss JOIN orig o ON o.token = iss.sent
	             JOIN auth_sessions s ON s.id = o.id
	           WHERE NOT EXISTS (SELECT 1 FROM auth_sessions w WHERE w.aimharder_token = iss.issued)
	           AND NOT (s.aimharder_token = o.token AND s.token_update_count = 0
	                    AND s.token_update_claimed_until > '$d_claim'::timestamptz)))")"
figure "PostgreSQL down past database.outage_timeout (${D_BOUND_S}s), not restarted" 1 0 \
	"exit 3 after $d_wall ms; $d_unwritten issued tokens reported unwritten (count in log and metrics), none printed; rows kept with old token and lease"
q "DROP TABLE IF EXISTS orig, dlog"
fake_stop
