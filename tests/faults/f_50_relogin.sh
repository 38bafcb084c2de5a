# shellcheck shell=bash
# shellcheck disable=SC2016,SC2034 # ${VAR} in configs is for refresher to expand; variables are shared with the case files
# f_50_relogin.sh - users log in again at random moments while a run calls upstream.
#
# A loop in PostgreSQL gives a random row (two times in three one the run has claimed, so the
# relogin often lands between claim and write) a new token relogin-N-X and new cookies tied to
# it, every 0-30 ms, for as long as the refresher is connected. Afterwards every re-logged-in
# row still exists and is exactly one of:
#   claimed after its last relogin: the run sent that relogin token itself (the fake's log says
#     so), and the row holds the token the fake issued for it (refreshed from the relogin);
#   superseded: the run sent an older token and found the row changed: the row holds its last
#     relogin token and cookies, untouched (count 0); the summary's superseded counts them;
#   refreshed before its last relogin: the row holds the last relogin token and cookies, and
#     the run's write is older than that relogin.
# Every other row is refreshed from its own answer. No row is called twice, and no row keeps a
# claim after the run (bug 1, fixed; regression test in f_90_found_bugs.sh).

L_ROWS=300
L_RUNS=${FAULTS_RELOGIN_RUNS:-3}
fake_start --latency-ms 40 --jitter-ms 120
write_config "$TEST_TMP/relogin.yaml" "$(printf 'refresh:\n  concurrency: 16\n  batch_size: 32\n')"

# The relogin loop (one psql session; each relogin is its own transaction).
L_LOOP=$(
	cat <<-'EOF'
		DO $$
		DECLARE
		  n int := 0;
		  pick uuid;
		  x text;
		  t0 timestamptz := clock_timestamp();
		BEGIN
		  WHILE n < 5000 AND clock_timestamp() < t0 + interval '60 seconds'
		        AND EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = 'refresher') LOOP
		    n := n + 1;
		    pick := NULL;
		    IF random() < 0.67 THEN
		      SELECT id INTO pick FROM auth_sessions WHERE token_update_claimed_until > now()
		      ORDER BY random() LIMIT 1;
		    END IF;
		    IF pick IS NULL THEN
		      SELECT id INTO pick FROM auth_sessions ORDER BY random() LIMIT 1;
		    END IF;
		    x := n || '-' || md5(random()::text);
		    UPDATE auth_sessions SET aimharder_token = 'relogin-' || x,
		      aimharder_cookies = jsonb_build_array(
		        jsonb_build_object('name', 'AWSALB', 'value', x),
		        jsonb_build_object('name', 'PHPSESSID', 'value', 'keep'),
		        jsonb_build_object('name', 'AWSALBCORS', 'value', x))
		    WHERE id = pick;
		    INSERT INTO relog VALUES (n, pick, 'relogin-' || x, clock_timestamp());
		    COMMIT;
		    PERFORM pg_sleep(random() * 0.03);
		  END LOOP;
		END $$;
	EOF
)

# Judges every row (tables orig, relog, llog) into table lv, then prints the counts.
l_verdict() {
	q "DROP TABLE IF EXISTS lv; CREATE TABLE lv AS WITH iss AS (SELECT token AS sent, issued FROM llog WHERE ev = 'resp' AND issued IS NOT NULL),
	        sent AS (SELECT token FROM llog WHERE ev = 'req'),
	        last AS (SELECT DISTINCT ON (id) id, token, at FROM relog ORDER BY id, n DESC),
	        r AS (SELECT o.id, o.token AS old, l.token AS relogin, l.at, t.id AS still,
	                     t.aimharder_token AS tok, t.token_update_count AS cnt,
	                     t.last_token_update_date AS dt, t.last_token_update_error AS err,
	                     t.token_update_claimed_until AS claim,
	                     t.id IS NOT NULL AND $TIED_SQL AS tied,
	                     (SELECT count(*) FROM sent WHERE sent.token = o.token
	                        OR sent.token IN (SELECT token FROM relog g WHERE g.id = o.id)) AS calls
	              FROM orig o LEFT JOIN last l USING (id) LEFT JOIN auth_sessions t ON t.id = o.id),
	        c AS (SELECT r.*, claim IS NOT NULL AS claim_left, CASE
	                WHEN still IS NULL THEN 'deleted'
	                WHEN calls <> 1 OR err IS NOT NULL OR NOT tied THEN 'broken'
	                WHEN relogin IS NULL THEN
	                  CASE WHEN cnt = 1 AND EXISTS (SELECT 1 FROM iss WHERE iss.sent = old AND iss.issued = tok)
	                       THEN 'plain' ELSE 'broken' END
	                WHEN EXISTS (SELECT 1 FROM sent WHERE sent.token = relogin) THEN
	                  CASE WHEN cnt = 1 AND EXISTS (SELECT 1 FROM iss WHERE iss.sent = relogin AND iss.issued = tok)
	                       THEN 'claimed_after' ELSE 'broken' END
	                WHEN tok <> relogin THEN 'overwritten'
	                WHEN cnt = 0 THEN 'superseded'
	                WHEN cnt = 1 AND dt < at THEN 'refreshed_before'
	                ELSE 'broken' END AS verdict
	              FROM r)
	   SELECT * FROM c"
	q "SELECT concat_ws(' ',
	     'deleted=' || count(*) FILTER (WHERE verdict = 'deleted'),
	     'overwritten=' || count(*) FILTER (WHERE verdict = 'overwritten'),
	     'broken=' || count(*) FILTER (WHERE verdict = 'broken'),
	     'relogged=' || count(*) FILTER (WHERE verdict IN ('claimed_after', 'superseded', 'refreshed_before')),
	     'superseded=' || count(*) FILTER (WHERE verdict = 'superseded'),
	     'claimed_after=' || count(*) FILTER (WHERE verdict = 'claimed_after'),
	     'refreshed_before=' || count(*) FILTER (WHERE verdict = 'refreshed_before'),
	     'claim_left=' || count(*) FILTER (WHERE claim_left))
	   FROM lv"
}

# Prints (as comment lines) up to 5 rows judged deleted, overwritten or broken, with the
# requests and answers of their tokens.
l_show_bad() {
	q "SELECT verdict, id, old, relogin, at, tok, cnt, dt, err, claim, tied, calls,
	          (SELECT string_agg(ev || ':' || token || coalesce('->' || issued, ''), ', ')
	           FROM llog WHERE token = lv.old OR token IN (SELECT token FROM relog g WHERE g.id = lv.id)) AS log,
	          (SELECT string_agg(n || ':' || token || '@' || at, ', ' ORDER BY n) FROM relog g WHERE g.id = lv.id)
	   FROM lv WHERE claim_left
	     OR verdict NOT IN ('plain', 'claimed_after', 'superseded', 'refreshed_before') LIMIT 5" |
		sed 's/^/#   bad row: /'
}

l_relogins=0
l_superseded=0
l_claimed_after=0
l_refreshed_before=0
l_broken=0
for ((l = 1; l <= L_RUNS; l++)); do
	q "DELETE FROM auth_sessions; DROP TABLE IF EXISTS relog;
	   CREATE TABLE relog (n int, id uuid, token text, at timestamptz)"
	seed_tied "$L_ROWS" ok
	snapshot_orig
	fake_clear
	run_bg relogin -c "$TEST_TMP/relogin.yaml"
	l_pid=$BG_PID
	until_requests 1 "$l_pid"
	PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -c "$L_LOOP" \
		>"$TEST_TMP/relogin-loop.out" 2>&1 &
	l_loop=$!
	bg_wait "$l_pid" relogin
	wait "$l_loop"
	l_loop_rc=$?
	wait_for fake_quiet
	load_log "$FAKE_LOG" llog
	l_n=$(q "SELECT count(DISTINCT id) || ' ' || count(*) FROM relog")
	l_v=$(l_verdict)
	[[ "$l_v" =~ relogged=([0-9]+)\ superseded=([0-9]+)\ claimed_after=([0-9]+)\ refreshed_before=([0-9]+) ]]
	l_sup=${BASH_REMATCH[2]:-x}
	check_eq "relogin run $l: exit 0, the relogin loop ran ($(cat "$TEST_TMP/relogin-loop.out"))" \
		"0 0" "$RUN_RC $l_loop_rc"
	check "relogin run $l: users did log in again during the run (rows, relogins: $l_n)" \
		test "${l_n%% *}" -gt 0
	check_eq "relogin run $l: every re-logged-in row kept its relogin token or was refreshed from it; none deleted or overwritten; every other row refreshed" \
		"deleted=0 overwritten=0 broken=0 relogged=${l_n%% *}" "${l_v%% superseded=*}" || l_show_bad
	check_eq "relogin run $l: the summary counts as superseded exactly the rows left as the user wrote them ($l_v)" \
		"$l_sup $((L_ROWS - l_sup))" "$(summary_field superseded) $(summary_field refreshed)"
	# Bug 1 (fixed; f_90_found_bugs.sh): a relogin that holds the row while the run writes
	# leaves the run's claim on the superseded row; here it happens now and then, at random.
	check_eq "bug 1 (the write statement, see f_90) relogin run $l: no row keeps a claim after the run" \
		"claim_left=0" "${l_v##* }" || l_show_bad
	l_relogins=$((l_relogins + ${l_n##* }))
	l_superseded=$((l_superseded + ${BASH_REMATCH[2]:-0}))
	l_claimed_after=$((l_claimed_after + ${BASH_REMATCH[3]:-0}))
	l_refreshed_before=$((l_refreshed_before + ${BASH_REMATCH[4]:-0}))
	l_broken=$((l_broken + $(q "SELECT count(*) FROM orig o WHERE NOT EXISTS
	                          (SELECT 1 FROM auth_sessions s WHERE s.id = o.id)")))
done
figure "a user logging in again at random moments ($L_ROWS rows, $L_RUNS runs)" "$l_relogins relogins" "$l_broken" \
	"never overwritten or deleted: $l_superseded superseded, $l_claimed_after claimed after the relogin (refreshed from it), $l_refreshed_before refreshed before it"
q "DROP TABLE IF EXISTS orig, llog, relog"
fake_stop
