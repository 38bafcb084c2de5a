# shellcheck shell=bash
# shellcheck disable=SC2016,SC2034 # ${VAR} in configs is for refresher to expand; variables are shared with the case files
# t_70_fit.sh - the mistakes that would lose sessions silently are errors before anything is
# claimed (names, expressions, row security, privileges); database.where and refresh.keep_when
# are obeyed by claims, writes, deletes, --dry-run and the due count; the application's holds;
# no empty fingerprint is ever sent; tokens with spaces are kept.

fake_start
CFG=$TEST_TMP/t70.yaml
write_config "$CFG"

# Succeeds when no row of the table is claimed, and the fake got no request.
t70_untouched() {
	[[ "$(q "SELECT count(*) FROM auth_sessions WHERE token_update_claimed_until IS NOT NULL
	          OR last_token_update_error IS NOT NULL OR token_update_count > 0")" == 0 &&
		"$(fake_count_requests)" == 0 ]]
}

# t70_db_config FILE DATABASE_EXTRA [OTHER_SECTIONS]: a config whose database section has url,
# table and DATABASE_EXTRA (lines of the section, e.g. '  where: "..."').
t70_db_config() {
	write_config "$1" "$(printf 'database:\n  url: ${DATABASE_URL}\n  table: auth_sessions\n%s\n%s' "$2" "${3:-}")"
}

# --- names the config sets that the database lacks: exit 2 with key, file:line, nearest ---
seed 3 ok
: >"$FAKE_LOG"
write_config "$TEST_TMP/typo-table.yaml" "$(printf 'database:\n  url: ${DATABASE_URL}\n  table: auth_sesions\n')"
run_refresher -c "$TEST_TMP/typo-table.yaml"
check_eq "table typo: a config error (exit 2), nothing touched" "2 yes" \
	"$RUN_RC $(t70_untouched && echo yes)"
check "table typo: names the key at file:line and the nearest table" grep -q \
	'typo-table.yaml:[0-9]*:3: database.table: no table "auth_sesions" in the database; did you mean "auth_sessions"?' \
	"$RUN_ERR"
run_refresher -c "$TEST_TMP/typo-table.yaml" --dry-run
check_eq "table typo: --dry-run exits 2 too, lists nothing" "2 0" "$RUN_RC $(wc -l <"$RUN_OUT")"
t70_db_config "$TEST_TMP/typo-col.yaml" "$(printf '  columns:\n    email: user_mail\n')"
run_refresher -c "$TEST_TMP/typo-col.yaml"
check_eq "column typo: a config error (exit 2), nothing touched" "2 yes" \
	"$RUN_RC $(t70_untouched && echo yes)"
check "column typo: names the key at file:line and the nearest column" grep -q \
	'typo-col.yaml:[0-9]*:5: database.columns.email: table public.auth_sessions has no column "user_mail"; did you mean "user_email"?' \
	"$RUN_ERR"
t70_db_config "$TEST_TMP/typo-case.yaml" "$(printf '  columns: {token: AimHarder_Token}\n')"
run_refresher -c "$TEST_TMP/typo-case.yaml"
check_eq "column in the wrong case (names are quoted): exit 2" 2 "$RUN_RC"
check "column in the wrong case: suggests the folded name" grep -q 'did you mean "aimharder_token"' "$RUN_ERR"
q "ALTER TABLE auth_sessions RENAME COLUMN fingerprint TO device_fp"
run_refresher -c "$CFG"
check_eq "default role column missing: exit 3 (migrations, or map the role), nothing touched" "3 yes" \
	"$RUN_RC $(t70_untouched && echo yes)"
check "default role column missing: says how out" grep -q \
	"has no column fingerprint (database.columns.fingerprint): apply the migrations in sql/, or map the role to your column" \
	"$RUN_ERR"
q "ALTER TABLE auth_sessions RENAME COLUMN device_fp TO fingerprint"

# --- database.where and refresh.keep_when the database rejects: exit 2, key at file:line ---
t70_db_config "$TEST_TMP/badwhere.yaml" '  where: "no_such_column = 1"'
run_refresher -c "$TEST_TMP/badwhere.yaml"
check_eq "where with an unknown column: exit 2, nothing touched" "2 yes" \
	"$RUN_RC $(t70_untouched && echo yes)"
check "where with an unknown column: names database.where at file:line and the cause" grep -q \
	'badwhere.yaml:[0-9]*:3: database.where: rejected by the database: column "no_such_column" does not exist' \
	"$RUN_ERR"
run_refresher -c "$TEST_TMP/badwhere.yaml" --dry-run
check_eq "where rejected: --dry-run exits 2 too" 2 "$RUN_RC"
t70_db_config "$TEST_TMP/intwhere.yaml" '  where: "token_update_count"'
run_refresher -c "$TEST_TMP/intwhere.yaml"
check_eq "where that is not boolean: exit 2" 2 "$RUN_RC"
check "where that is not boolean: says so" grep -q "database.where: rejected by the database: .*must be type boolean" "$RUN_ERR"
t70_db_config "$TEST_TMP/syswhere.yaml" '  where: "xmin IS NOT NULL"'
run_refresher -c "$TEST_TMP/syswhere.yaml"
check_eq "where with a system column (not available to the writes): exit 2, nothing touched" "2 yes" \
	"$RUN_RC $(t70_untouched && echo yes)"
check "where with a system column: names database.where and says why" grep -q \
	"database.where: rejected by the database: .*system columns such as xmin" "$RUN_ERR"
if [[ -z "$POOLER" ]]; then
	# A lock held elsewhere makes the check time out: the database's state, not the expression.
	psql -X -q -c "BEGIN; LOCK TABLE auth_sessions; SELECT pg_sleep(4); COMMIT" >/dev/null 2>&1 &
	t70_locker=$!
	wait_for bash -c "[[ \$(psql -X -At -c \"SELECT count(*) FROM pg_locks WHERE mode = 'AccessExclusiveLock'
		AND relation = 'auth_sessions'::regclass\") == 1 ]]"
	t70_db_config "$TEST_TMP/lockwhere.yaml" '  where: "token_update_count >= 0"'
	# Not run_refresher: its secret scan reads the table, and would wait for the lock.
	DATABASE_URL="$DATABASE_URL&options=-c%20statement_timeout%3D300" "$REFRESHER_BIN" \
		-c "$TEST_TMP/lockwhere.yaml" >/dev/null 2>"$TEST_TMP/lock.err" </dev/null
	check_eq "a check that times out on a lock: exit 3 (the database), not 2 (the expression)" 3 "$?"
	check "a check that times out on a lock: says what happened" grep -q \
		"checking database.where: .*canceling statement due to statement timeout" "$TEST_TMP/lock.err"
	wait "$t70_locker"
fi
t70_db_config "$TEST_TMP/qualwhere.yaml" '  where: "auth_sessions.user_email <> '"'x'"' AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.relname = auth_sessions.user_email)"'
run_refresher -c "$TEST_TMP/qualwhere.yaml" --dry-run
check_eq "where may qualify columns with the table's name (correlated subquery): accepted" "0 3" \
	"$RUN_RC $(wc -l <"$RUN_OUT")"
t70_db_config "$TEST_TMP/badkeep.yaml" "" "$(printf 'refresh:\n  concurrency: 4\n  keep_when: "protected"\n')"
run_refresher -c "$TEST_TMP/badkeep.yaml"
check_eq "keep_when with an unknown column: exit 2, nothing touched" "2 yes" \
	"$RUN_RC $(t70_untouched && echo yes)"
check "keep_when with an unknown column: names refresh.keep_when at file:line" grep -q \
	'badkeep.yaml:[0-9]*:3: refresh.keep_when: rejected by the database: column "protected" does not exist' \
	"$RUN_ERR"
t70_db_config "$TEST_TMP/divkeep.yaml" "" "$(printf 'refresh:\n  keep_when: "1 / (token_update_count - token_update_count) = 1"\n')"
run_refresher -c "$TEST_TMP/divkeep.yaml"
check_eq "keep_when that fails on the rows' data: exit 2, nothing touched" "2 yes" \
	"$RUN_RC $(t70_untouched && echo yes)"
check "keep_when that fails on the rows' data: names it and the error" grep -q \
	"divkeep.yaml:[0-9]*:3: refresh.keep_when fails on a due row: division by zero" "$RUN_ERR"
t70_db_config "$TEST_TMP/paramwhere.yaml" '  where: "aimharder_token = $1"'
run_refresher -c "$TEST_TMP/paramwhere.yaml" --check-config
check_eq "where with a \$1 parameter: rejected by --check-config (exit 2)" 2 "$RUN_RC"
check "where with a \$1 parameter: says why" grep -q "paramwhere.yaml:[0-9]*:10: database.where: must not use parameters" "$RUN_ERR"
t70_db_config "$TEST_TMP/widewhere.yaml" '  where: "false) OR (true"'
run_refresher -c "$TEST_TMP/widewhere.yaml" --check-config
check_eq "where that would widen the statement: rejected by --check-config (exit 2)" 2 "$RUN_RC"

# --- database.where: only matching rows are claimed, called, written; --dry-run and count obey ---
q "DELETE FROM auth_sessions"
: >"$FAKE_LOG"
seed 4 ok in@example.com
seed 3 ok out@example.com
seed 2 logout out@example.com
t70_db_config "$TEST_TMP/where.yaml" "$(printf '  where: >-\n    user_email <> '"'out@example.com'"' -- the others are refreshed elsewhere\n')"
q "CREATE TABLE t70_before AS SELECT * FROM auth_sessions"
run_refresher -c "$TEST_TMP/where.yaml" --dry-run
check_eq "where: --dry-run lists only the matching rows" "4 4" \
	"$(wc -l <"$RUN_OUT") $(grep -c '^in@example.com' "$RUN_OUT")"
check "where: --dry-run counts only them" grep -q "4 rows due; nothing claimed" "$RUN_ERR"
run_refresher -c "$TEST_TMP/where.yaml"
check_eq "where: exit 0, 4 due, 4 refreshed" "0 4 4" "$RUN_RC $(summary_field due) $(summary_field refreshed)"
check "where: the first line's due count obeys it" grep -q "4 rows due" "$RUN_ERR"
check_eq "where: only matching rows were called" "4 0" \
	"$(jq -r 'select(.ev == "req") | .token' "$FAKE_LOG" | wc -l) $(q "SELECT count(*) FROM t70_before
	  WHERE user_email = 'out@example.com' AND aimharder_token IN
	  ($(jq -r 'select(.ev == "req") | "'"'"'" + .token + "'"'"'"' "$FAKE_LOG" | paste -sd,))")"
check_eq "where: the other rows are exactly as they were (logouts not deleted)" 5 \
	"$(q "SELECT count(*) FROM auth_sessions s JOIN t70_before b USING (id)
	      WHERE s.user_email = 'out@example.com' AND row(s.*)::text = row(b.*)::text")"
q "DROP TABLE t70_before"

# A row that stops matching while its request is in flight is left as it is.
q "DELETE FROM auth_sessions"
: >"$FAKE_LOG"
rm -f "$FAKE_CONTROL/release"
seed 1 hold in@example.com
run_refresher_bg stop -c "$TEST_TMP/where.yaml"
wait_for fake_requests_at_least hold 1
q "UPDATE auth_sessions SET user_email = 'out@example.com'"
fake_release
bg_wait "$BG_PID" stop
check_eq "where at write time: exit 0, counted superseded, not refreshed" "0 1 0" \
	"$RUN_RC $(summary_field superseded) $(summary_field refreshed)"
check_eq "where at write time: token, count and error untouched; our claim cleared" "1" \
	"$(q "SELECT count(*) FROM auth_sessions WHERE aimharder_token LIKE 'hold-%' AND token_update_count = 0
	      AND last_token_update_error IS NULL AND token_update_claimed_until IS NULL")"
check "where at write time: a warning says an issued token was not written, and why" grep -q \
	"warn .*upstream issued a new token, but the row no longer matches database.where" "$RUN_ERR"

# --- refresh.keep_when: such logout rows are kept and marked, one warning each; others deleted ---
q "DELETE FROM auth_sessions"
: >"$FAKE_LOG"
seed 2 logout vip@example.com
seed 2 logout plain@example.com
seed 2 ok vip@example.com
t70_db_config "$TEST_TMP/keep.yaml" "" "$(printf 'refresh:\n  concurrency: 4\n  keep_when: "user_email = '"'vip@example.com'"'"\n')"
run_refresher -c "$TEST_TMP/keep.yaml"
check_eq "keep_when: exit 0, 4 logged out, 2 refreshed" "0 4 2" \
	"$RUN_RC $(summary_field logged_out) $(summary_field refreshed)"
check "keep_when: the first line counts the rows it covers" grep -q "6 rows due (4 of them never deleted: refresh.keep_when)" "$RUN_ERR"
check_eq "keep_when: matching logout rows kept: error 'logout', date set, token untouched, claim cleared" 2 \
	"$(q "SELECT count(*) FROM auth_sessions WHERE user_email = 'vip@example.com' AND aimharder_token LIKE 'logout-%'
	      AND last_token_update_error = 'logout' AND last_token_update_date > now() - interval '1 minute'
	      AND token_update_claimed_until IS NULL AND token_update_count = 0")"
check_eq "keep_when: the other logout rows deleted" 0 \
	"$(q "SELECT count(*) FROM auth_sessions WHERE user_email = 'plain@example.com'")"
check_eq "keep_when: one warning per kept row" 2 "$(grep -c 'warn.*row kept, as refresh.keep_when says' "$RUN_ERR")"
metric_file=$TEST_TMP/t70.prom
t70_db_config "$TEST_TMP/keepm.yaml" "" "$(printf 'refresh:\n  keep_when: "user_email = '"'vip@example.com'"'"\nmetrics:\n  textfile: %s\n' "$metric_file")"
q "UPDATE auth_sessions SET last_token_update_date = NULL"
run_refresher -c "$TEST_TMP/keepm.yaml"
check_eq "keep_when: kept again on the next run, the metric counts them" "0 2" \
	"$RUN_RC $(sed -n 's/^refresher_last_run_kept_logouts //p' "$metric_file")"

# --- the application's holds: a held row is not called; a hold taken in flight stays ---
q "DELETE FROM auth_sessions"
: >"$FAKE_LOG"
seed 2 ok held@example.com
q "UPDATE auth_sessions SET token_update_claimed_until = now() + interval '1 hour'"
seed 2 ok free@example.com
run_refresher -c "$CFG"
check_eq "hold: held rows not called, the others refreshed" "0 2 2" \
	"$RUN_RC $(summary_field refreshed) $(fake_count_requests)"
check_eq "hold: held rows untouched" 2 \
	"$(q "SELECT count(*) FROM auth_sessions WHERE user_email = 'held@example.com' AND token_update_count = 0
	      AND token_update_claimed_until > now() + interval '50 minutes'")"
q "DELETE FROM auth_sessions"
: >"$FAKE_LOG"
rm -f "$FAKE_CONTROL/release"
seed 1 hold inflight@example.com
seed 1 holdlogout inflight@example.com
run_refresher_bg hold -c "$CFG"
wait_for fake_requests_at_least hold 1
wait_for fake_requests_at_least holdlogout 1
hold_until=$(q "UPDATE auth_sessions SET token_update_claimed_until = now() + interval '1 hour'
                WHERE aimharder_token LIKE 'hold-%' RETURNING token_update_claimed_until")
q "UPDATE auth_sessions SET token_update_claimed_until = now() + interval '1 hour' WHERE aimharder_token LIKE 'holdlogout-%'"
fake_release
bg_wait "$BG_PID" hold
check_eq "hold taken in flight: exit 0, refreshed 1, logged out 1" "0 1 1" \
	"$RUN_RC $(summary_field refreshed) $(summary_field logged_out)"
check_eq "hold taken in flight: the new token is written, the hold's value stays" "1 $hold_until" \
	"$(q "SELECT token_update_count, token_update_claimed_until FROM auth_sessions
	      WHERE aimharder_token LIKE 'ok-%'" | tr '|' ' ')"
check_eq "hold taken in flight: a logout row the application holds is kept and marked, not deleted" 1 \
	"$(q "SELECT count(*) FROM auth_sessions WHERE aimharder_token LIKE 'holdlogout-%'
	      AND last_token_update_error = 'logout' AND token_update_claimed_until > now() + interval '50 minutes'")"
check "hold taken in flight: the log says the application holds it" grep -q "as the application holds it now" "$RUN_ERR"

# --- no empty fingerprint is ever sent: such a row fails uncalled, naming the fingerprint ---
q "DELETE FROM auth_sessions"
: >"$FAKE_LOG"
seed 2 ok nofp@example.com '[]' ""
seed 1 ok withfp@example.com '[]' "fp-row-$(rand_hex)"
q "UPDATE auth_sessions SET fingerprint = '' WHERE aimharder_token IN
   (SELECT aimharder_token FROM auth_sessions WHERE user_email = 'nofp@example.com' LIMIT 1)"
write_config "$TEST_TMP/nofp.yaml" "$(printf 'upstream:\n  url: ${FAKE_URL}\n  user_agent: "refresher-test/1.0"\n  timeout: 5s\n')"
run_refresher -c "$TEST_TMP/nofp.yaml"
check_eq "no fingerprint: exit 1, 2 failed, 1 refreshed, 1 request (the row with one)" "1 2 1 1" \
	"$RUN_RC $(summary_field failed) $(summary_field refreshed) $(fake_count_requests)"
check_eq "no fingerprint: no request carried an empty fingerprint" 0 \
	"$(jq -r 'select(.ev == "req" and (.fingerprint // "") == "") | .token' "$FAKE_LOG" | wc -l)"
check_eq "no fingerprint: the reason names the fingerprint" 2 \
	"$(q "SELECT count(*) FROM auth_sessions WHERE last_token_update_error LIKE 'no fingerprint:%upstream.fingerprint%'")"
check "no fingerprint: the run's first lines warn that upstream.fingerprint is empty" \
	grep -q "upstream.fingerprint is empty" "$RUN_ERR"

# --- a newToken with a space is printable ASCII: stored, not refused ---
q "DELETE FROM auth_sessions"
: >"$FAKE_LOG"
seed 2 spacetoken
run_refresher -c "$CFG"
check_eq "token with a space: exit 0, refreshed" "0 2" "$RUN_RC $(summary_field refreshed)"
check_eq "token with a space: the issued token is stored exactly" \
	"$(fake_issued_tokens | sort | paste -sd,)" \
	"$(q "SELECT aimharder_token FROM auth_sessions ORDER BY 1" | sort | paste -sd,)"
check_match "token with a space: it has one" '^ok [0-9a-f]{32},ok [0-9a-f]{32}$' \
	"$(q "SELECT string_agg(aimharder_token, ',') FROM auth_sessions")"
