# shellcheck shell=bash
# shellcheck disable=SC2016,SC2034 # ${VAR} in configs is for refresher to expand; variables are shared with the case files
# f_40_overlap.sh - four runs started together over the same O_ROWS due rows, O_ROUNDS times:
# between them every due row is called exactly once (no token in the fake's log twice, the
# runs' due add up to O_ROWS) and every row ends refreshed once more, from its own answer.

O_ROWS=800
O_RUNS=4
O_ROUNDS=3
O_CONC=8
fake_start --latency-ms 2 --jitter-ms 10
seed_tied "$O_ROWS" ok
o_rounds=0
o_lost=0
for ((o = 1; o <= O_ROUNDS; o++)); do
	# A different claim size each round: claims interleave differently.
	o_batch=$((8 << (o - 1)))
	write_config "$TEST_TMP/ov.yaml" "$(printf 'refresh:\n  concurrency: %d\n  batch_size: %d\n' "$O_CONC" "$o_batch")"
	snapshot_orig
	fake_clear
	o_pids=()
	for ((r = 1; r <= O_RUNS; r++)); do
		run_bg "ov$r" -c "$TEST_TMP/ov.yaml"
		o_pids+=("$BG_PID")
	done
	o_rcs=""
	o_dues=""
	o_sum=0
	o_busy=0
	for ((r = 1; r <= O_RUNS; r++)); do
		bg_wait "${o_pids[r - 1]}" "ov$r"
		o_rcs+="$RUN_RC "
		o_due=$(summary_field due)
		o_dues+=" $o_due"
		o_sum=$((o_sum + ${o_due:-0}))
		((${o_due:-0} > 0)) && o_busy=$((o_busy + 1))
	done
	load_log "$FAKE_LOG" olog
	o_peak=$(fake_stats | jq .peak_in_flight)
	check_eq "overlap round $o (batch_size $o_batch): $O_RUNS runs exit 0, their due ($o_dues ) add up to $O_ROWS" \
		"$(printf '0 %.0s' $(seq "$O_RUNS"))$O_ROWS" "$o_rcs$o_sum"
	check "overlap round $o: the runs did overlap (${o_busy} runs claimed rows; peak in flight $o_peak > concurrency $O_CONC)" \
		test "$o_busy" -ge 2 -a "$o_peak" -gt "$O_CONC"
	check_eq "overlap round $o: every row called exactly once, refreshed once more from its own answer" \
		"requests=$O_ROWS called_twice=0 not_called=0 rows=$O_ROWS not_refreshed=0 foreign_token=0 half_written=0" \
		"$(q "WITH iss AS (SELECT token AS sent, issued FROM olog WHERE ev = 'resp' AND issued IS NOT NULL)
		      SELECT concat_ws(' ',
		        'requests=' || (SELECT count(*) FROM olog WHERE ev = 'req'),
		        'called_twice=' || (SELECT count(*) FROM (SELECT token FROM olog WHERE ev = 'req'
		                                                  GROUP BY token HAVING count(*) > 1) d),
		        'not_called=' || (SELECT count(*) FROM orig o WHERE NOT EXISTS
		                            (SELECT 1 FROM olog l WHERE l.ev = 'req' AND l.token = o.token)),
		        'rows=' || (SELECT count(*) FROM auth_sessions),
		        'not_refreshed=' || (SELECT count(*) FROM auth_sessions WHERE NOT (token_update_count = $o
		                             AND token_update_claimed_until IS NULL AND last_token_update_error IS NULL)),
		        'foreign_token=' || (SELECT count(*) FROM auth_sessions s JOIN orig o USING (id)
		                             WHERE NOT EXISTS (SELECT 1 FROM iss WHERE iss.sent = o.token
		                                               AND iss.issued = s.aimharder_token)),
		        'half_written=' || (SELECT count(*) FROM auth_sessions t WHERE NOT $TIED_SQL))")"
	o_rounds=$((o_rounds + 1))
	o_lost=$((o_lost + $(q "SELECT count(*) FROM orig o WHERE NOT EXISTS
	                        (SELECT 1 FROM auth_sessions s WHERE s.id = o.id AND s.token_update_count = $o)")))
	# Due again for the next round.
	q "UPDATE auth_sessions SET last_token_update_date = now() - interval '1 hour'"
done
figure "$O_RUNS overlapping runs ($O_ROWS rows)" "$o_rounds rounds" "$o_lost" \
	"every row called exactly once per round; due of the runs add up to $O_ROWS"
q "DROP TABLE IF EXISTS orig, olog"
fake_stop
