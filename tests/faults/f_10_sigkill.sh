# shellcheck shell=bash
# shellcheck disable=SC2016,SC2034 # ${VAR} in configs is for refresher to expand; variables are shared with the case files
# f_10_sigkill.sh - SIGKILL at K_KILLS random moments of a run over K_ROWS rows.
#
# After each kill: no row is half-written (token and cookies from one answer); every row holds
# its old token or the token the fake issued for that very row; every token the fake issued
# but the table does not hold ("issued, not written") belongs to a row that still carries the
# killed run's lease and its old token, and there are at most K_BOUND of them (see below).
# Then the leases are expired and a second run refreshes every row exactly once.

K_ROWS=300
K_CONC=16
K_KILLS=${FAULTS_KILLS:-20}
K_FLUSH_BATCH=64 # FLUSH_BATCH in include/defaults.h: results are written within 100 ms or 64
# What the run can hold at a kill: answers on the wire not yet taken (concurrency), results
# waiting to be written (a flush starts at FLUSH_BATCH, and while one write is in flight every
# slot may answer again), and the write in flight (as many). A run that stopped writing would
# pass it within seconds; the invariant that matters is that each of them is still leased.
K_BOUND=$((K_CONC + 2 * (K_FLUSH_BATCH + K_CONC)))
K_CFG=$TEST_TMP/kill.yaml
write_config "$K_CFG" "$(printf 'refresh:\n  concurrency: %d\n  batch_size: 32\n  lease: 10m\n' "$K_CONC")"
fake_start --latency-ms 10 --jitter-ms 60

# Prints the after-kill invariants of the table, given the killed run's log in table klog, the
# rows before it in orig, and the database clock before the start ($1) and after the kill ($2).
k_after_kill() {
	q "WITH iss AS (SELECT token AS sent, issued FROM klog WHERE ev = 'resp' AND issued IS NOT NULL),
	        inw AS (SELECT * FROM iss WHERE NOT EXISTS
	                  (SELECT 1 FROM auth_sessions s WHERE s.aimharder_token = iss.issued)),
	        win AS (SELECT '$1'::timestamptz + interval '10 minutes' AS lo,
	                       '$2'::timestamptz + interval '10 minutes' AS hi)
	   SELECT concat_ws(' ',
	     'rows=' || (SELECT count(*) FROM auth_sessions),
	     'lost=' || (SELECT count(*) FROM orig o WHERE NOT EXISTS
	                   (SELECT 1 FROM auth_sessions s WHERE s.id = o.id)),
	     'half_written=' || (SELECT count(*) FROM auth_sessions t WHERE NOT $TIED_SQL),
	     'foreign_token=' || (SELECT count(*) FROM auth_sessions s JOIN orig o USING (id)
	                          WHERE s.aimharder_token <> o.token AND NOT EXISTS
	                            (SELECT 1 FROM iss WHERE iss.issued = s.aimharder_token
	                             AND iss.sent = o.token)),
	     'written_not_clean=' || (SELECT count(*) FROM auth_sessions s JOIN orig o USING (id)
	                              WHERE s.aimharder_token <> o.token AND NOT
	                                (s.token_update_count = 1 AND s.token_update_claimed_until IS NULL
	                                 AND s.last_token_update_error IS NULL
	                                 AND s.last_token_update_date IS NOT NULL)),
	     'failed=' || (SELECT count(*) FROM auth_sessions WHERE last_token_update_error IS NOT NULL),
	     'unwritten_without_lease=' ||
	       (SELECT count(*) FROM inw LEFT JOIN orig o ON o.token = inw.sent
	          LEFT JOIN auth_sessions s ON s.id = o.id, win
	        WHERE s.id IS NULL OR NOT (s.aimharder_token = o.token AND s.token_update_count = 0
	              AND s.token_update_claimed_until BETWEEN win.lo AND win.hi)),
	     'lease_not_of_the_run=' || (SELECT count(*) FROM auth_sessions, win
	                                 WHERE token_update_claimed_until IS NOT NULL
	                                 AND token_update_claimed_until NOT BETWEEN win.lo AND win.hi),
	     'called_but_unclaimed=' || (SELECT count(*) FROM auth_sessions s JOIN orig o USING (id)
	                                 WHERE s.aimharder_token = o.token
	                                 AND s.token_update_claimed_until IS NULL AND EXISTS
	                                   (SELECT 1 FROM klog k WHERE k.ev = 'req' AND k.token = o.token)),
	     'called_twice=' || (SELECT count(*) FROM (SELECT token FROM klog WHERE ev = 'req'
	                                               GROUP BY token HAVING count(*) > 1) d),
	     'unwritten_within_bound=' || ((SELECT count(*) FROM inw) <= $K_BOUND))"
}

# Prints the state after the completion run (its log in table clog; the table after the kill
# in after_kill).
k_after_completion() {
	q "WITH iss AS (SELECT token AS sent, issued FROM klog WHERE ev = 'resp' AND issued IS NOT NULL
	                UNION ALL
	                SELECT token, issued FROM clog WHERE ev = 'resp' AND issued IS NOT NULL)
	   SELECT concat_ws(' ',
	     'rows=' || (SELECT count(*) FROM auth_sessions),
	     'lost=' || (SELECT count(*) FROM orig o WHERE NOT EXISTS
	                   (SELECT 1 FROM auth_sessions s WHERE s.id = o.id)),
	     'half_written=' || (SELECT count(*) FROM auth_sessions t WHERE NOT $TIED_SQL),
	     'not_refreshed_once=' || (SELECT count(*) FROM auth_sessions
	                               WHERE NOT (token_update_count = 1
	                                 AND token_update_claimed_until IS NULL
	                                 AND last_token_update_error IS NULL)),
	     'foreign_token=' || (SELECT count(*) FROM auth_sessions s JOIN orig o USING (id)
	                          WHERE NOT EXISTS (SELECT 1 FROM iss WHERE iss.issued = s.aimharder_token
	                                            AND iss.sent = o.token)),
	     'same_token_twice=' || (SELECT count(*) - count(DISTINCT aimharder_token) FROM auth_sessions),
	     'written_rows_called_again=' || (SELECT count(*) FROM clog c JOIN orig o ON o.token = c.token
	                                      JOIN after_kill a ON a.id = o.id
	                                      WHERE c.ev = 'req' AND a.token <> o.token),
	     'unknown_token_called=' || (SELECT count(*) FROM clog c WHERE c.ev = 'req'
	                                 AND NOT EXISTS (SELECT 1 FROM orig o WHERE o.token = c.token)),
	     'called_twice=' || (SELECT count(*) FROM (SELECT token FROM clog WHERE ev = 'req'
	                                               GROUP BY token HAVING count(*) > 1) d),
	     'written_by_killed_run_kept=' ||
	       ((SELECT count(*) FROM auth_sessions s JOIN after_kill a USING (id)
	         JOIN orig o USING (id) WHERE a.token <> o.token AND s.aimharder_token = a.token)
	        = (SELECT count(*) FROM after_kill a JOIN orig o USING (id) WHERE a.token <> o.token)))"
}

K_CLEAN="rows=$K_ROWS lost=0 half_written=0 foreign_token=0 written_not_clean=0 failed=0 unwritten_without_lease=0 lease_not_of_the_run=0 called_but_unclaimed=0 called_twice=0 unwritten_within_bound=true"
K_DONE="rows=$K_ROWS lost=0 half_written=0 not_refreshed_once=0 foreign_token=0 same_token_twice=0 written_rows_called_again=0 unknown_token_called=0 called_twice=0 written_by_killed_run_kept=true"

# A whole run first, the reference: all rows refreshed, tied.
seed_tied "$K_ROWS" ok
k_t0=$(now_ms)
run_refresher -c "$K_CFG"
k_life=$(($(now_ms) - k_t0))
check_eq "sigkill: an uncut run refreshes all $K_ROWS rows, tied (took $k_life ms)" \
	"0 $K_ROWS 0" "$RUN_RC $(summary_field refreshed) $(untied_rows)"

k_kills=0
k_max_inw=0
k_sum_inw=0
k_lost=0
k_moments=""
for ((k = 0; k < K_KILLS; k++)); do
	k_start=$(q "DELETE FROM auth_sessions" && seed_tied "$K_ROWS" ok && snapshot_orig &&
		q "SELECT clock_timestamp()")
	fake_clear
	# Kill k falls in slice k of K_KILLS equal slices of the run's progress: once the fake has
	# received a random number of requests in that slice, plus 0-60 ms. Slice 0 starts with
	# no request at all (even before the database is reached); the last one ends after the
	# last request, while the last answers come back and are written.
	rand_below "$K_ROWS"
	k_target=$(((k * K_ROWS + RAND) / K_KILLS))
	((k == 0)) && k_target=0
	((k == K_KILLS - 1)) && k_target=$K_ROWS
	rand_below 61
	k_extra=$RAND
	k_t0=$(now_ms)
	run_bg kill -c "$K_CFG"
	until_requests "$k_target" "$BG_PID"
	sleep_ms "$k_extra"
	kill -KILL "$BG_PID" 2>/dev/null
	k_at=$(($(now_ms) - k_t0))
	bg_wait "$BG_PID" kill 2>/dev/null
	k_rc=$RUN_RC
	k_end=$(q "SELECT clock_timestamp()")
	# The killed run's last requests: answered (and logged) or dropped by the fake.
	wait_for fake_quiet
	cp "$FAKE_LOG" "$TEST_TMP/kill-$k.log"
	load_log "$FAKE_LOG" klog
	read -r k_issued k_inw k_written < <(q "SELECT
	    (SELECT count(*) FROM klog WHERE ev = 'resp' AND issued IS NOT NULL),
	    (SELECT count(*) FROM klog k WHERE k.ev = 'resp' AND k.issued IS NOT NULL
	     AND NOT EXISTS (SELECT 1 FROM auth_sessions s WHERE s.aimharder_token = k.issued)),
	    (SELECT count(*) FROM auth_sessions s JOIN orig o USING (id) WHERE s.aimharder_token <> o.token)" |
		tr '|' ' ')
	if ((k_rc == 137)); then
		k_kills=$((k_kills + 1))
		k_what="killed at $k_at ms (request $k_target + $k_extra ms)"
	else
		k_what="not killed: the run ended (exit $k_rc) before request $k_target + $k_extra ms"
	fi
	k_moments+=" $k_at"
	((k_inw > k_max_inw)) && k_max_inw=$k_inw
	k_sum_inw=$((k_sum_inw + k_inw))
	check_eq "sigkill $((k + 1))/$K_KILLS, $k_what: $k_issued issued, $k_written written, $k_inw issued-not-written (bound $K_BOUND) still leased with their old token" \
		"$K_CLEAN" "$(k_after_kill "$k_start" "$k_end")"

	# Then the leases run out and another run finishes the job.
	q "DROP TABLE IF EXISTS after_kill; CREATE TABLE after_kill AS
	   SELECT id, aimharder_token AS token FROM auth_sessions"
	expire_leases
	fake_clear
	run_bg rest -c "$K_CFG"
	bg_wait "$BG_PID" rest
	load_log "$FAKE_LOG" clog
	check_eq "sigkill $((k + 1))/$K_KILLS: after the leases expire a run exits 0, claims the $((K_ROWS - k_written)) unwritten rows and every row ends refreshed exactly once" \
		"0 $((K_ROWS - k_written)) $K_DONE" "$RUN_RC $(summary_field due) $(k_after_completion)"
	k_lost=$((k_lost + $(q "SELECT count(*) FROM orig o LEFT JOIN auth_sessions s USING (id)
	                        WHERE s.id IS NULL OR s.token_update_count <> 1")))
done
check "sigkill: at least $((K_KILLS * 3 / 4)) of the $K_KILLS runs were killed mid-run ($k_kills)" \
	test "$k_kills" -ge $((K_KILLS * 3 / 4))
echo "# sigkill: $k_kills kills of $K_KILLS tries, at ms$k_moments (uncut run: $k_life ms);" \
	"issued-not-written: max $k_max_inw (bound $K_BOUND), total $k_sum_inw; rows lost: $k_lost"
figure "SIGKILL at a random moment ($K_ROWS rows, concurrency $K_CONC)" "$k_kills" "$k_lost" \
	"issued-not-written per kill: max $k_max_inw (bound $K_BOUND), all still leased with their old token; all refreshed by the next run once the leases expired"
q "DROP TABLE IF EXISTS orig, klog, clog, after_kill"
fake_stop
