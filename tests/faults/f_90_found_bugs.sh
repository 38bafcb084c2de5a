# shellcheck shell=bash
# shellcheck disable=SC2016,SC2034 # ${VAR} in configs is for refresher to expand; variables are shared with the case files
# f_90_found_bugs.sh - bugs that the fault suite found, each reproduced deterministically:
# regression tests for their fixes.

# --- BUG 1 (the write statement, now in src/sqlbuild.c; fixed: sup now picks the results that upd, lo and
# fail did not return): a row superseded by a concurrent relogin kept the run's claim. Found by
# f_50 (about one relogin in a few hundred).
#
# SPEC: every write clears token_update_claimed_until; superseded writes "nothing but the
# claim". db.c's single write statement clears a superseded row's claim in its `sup` CTE,
# whose condition `t.token <> x.sent` is evaluated on the statement's snapshot. When the user's
# relogin holds the row (updated, not yet committed) as the statement starts, the snapshot
# still shows the sent token: `upd` waits for the lock, re-checks the new row version and skips
# it (token changed), and `sup` never considered the row. Nothing is written: the result is
# counted superseded, but the row stays claimed for the whole lease (10 minutes by default),
# and no other run may refresh it meanwhile.
b_hold_cfg=$TEST_TMP/bug1.yaml
write_config "$b_hold_cfg" "$(printf 'refresh:\n  concurrency: 2\n  batch_size: 4\n')"
fake_start
seed_tied 1 hold hold@example.com
seed_tied 2 ok
fake_clear
rm -f "$FAKE_CONTROL/release"
run_bg bug1 -c "$b_hold_cfg"
b_pid=$BG_PID
wait_for fake_requests_at_least hold 1
# The user logs in again: the relogin's transaction holds the row while the answer comes in.
b_relogin="relogin-1-$(rand_hex 16)"
PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -c "BEGIN;
	UPDATE auth_sessions SET aimharder_token = '$b_relogin',
	  aimharder_cookies = jsonb_build_array(
	    jsonb_build_object('name', 'AWSALB', 'value', '${b_relogin#relogin-}'),
	    jsonb_build_object('name', 'PHPSESSID', 'value', 'keep'),
	    jsonb_build_object('name', 'AWSALBCORS', 'value', '${b_relogin#relogin-}'))
	WHERE user_email = 'hold@example.com';
	SELECT pg_sleep(2);
	COMMIT;" >/dev/null 2>&1 &
b_relogin_pid=$!
# shellcheck disable=SC2317 # called through wait_for
b_relogin_holds() {
	[[ "$(q "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND query LIKE '%$b_relogin%'")" == 1 ]]
}
wait_for b_relogin_holds
fake_release
bg_wait "$b_pid" bug1
wait "$b_relogin_pid"
check_eq "bug 1: exit 0, the held row superseded, the 2 others refreshed" "0 1 2" \
	"$RUN_RC $(summary_field superseded) $(summary_field refreshed)"
check_eq "bug 1: the relogin's token and cookies were not overwritten" "$b_relogin|0|true" \
	"$(q "SELECT aimharder_token || '|' || token_update_count || '|' || $TIED_SQL
	      FROM auth_sessions t WHERE user_email = 'hold@example.com'")"
check_eq "bug 1 (the write statement): the superseded row's claim is cleared (SPEC: every write clears it)" \
	"" "$(q "SELECT token_update_claimed_until FROM auth_sessions WHERE user_email = 'hold@example.com'")"
figure "bug 1: relogin holding the row while the answer is written" 1 0 \
	"superseded row keeps the run's claim: $(q "SELECT CASE WHEN token_update_claimed_until IS NULL THEN 'no (fixed)' ELSE 'yes, until ' || to_char(token_update_claimed_until, 'HH24:MI:SS') END FROM auth_sessions WHERE user_email = 'hold@example.com'")"
rm -f "$FAKE_CONTROL/release"
fake_stop
unset -f b_relogin_holds

# --- BUG 2 (libcurl's own resend; fixed in src/upstream.c, on_prereq: libcurl's second send of a
# request is stopped, and the sweep retries the row itself): the upstream saw more tries per row
# than retry.attempts. Found by f_30's mixed run.
#
# SPEC: retry.attempts is the number of "tries per row per run, the first included", retries
# count against retry.budget, and the breaker counts answers. But when a server closes a
# reused keep-alive connection without answering (the fake's reset, a crashing or overloaded
# upstream), libcurl itself sent the same POST again on another connection ("Connection died,
# retrying a fresh connect", up to 5 times per transfer: lib/transfer.c, Curl_retry_request),
# and the refresher neither counted nor bounded those tries: with attempts: 1 the upstream got
# the same token up to 6 times (3 seen), and the summary said retries=0.
fake_start
# 16 ok rows first (oldest: claimed and called first) leave keep-alive connections in libcurl's
# pool; the 8 reset rows after them are sent on those.
q "DELETE FROM auth_sessions"
seed_tied 16 ok
q "UPDATE auth_sessions SET created_at = created_at - interval '1 day'"
seed_tied 8 reset
fake_clear
write_config "$TEST_TMP/bug2.yaml" "$(printf 'refresh:\n  concurrency: 8\n  batch_size: 64\nretry:\n  attempts: 1\n  base_delay: 10ms\n  max_delay: 200ms\n')"
run_refresher -c "$TEST_TMP/bug2.yaml"
b_reqs=$(jq -Rr 'fromjson? | select(.ev == "req" and (.token | startswith("reset-"))) | .token' "$FAKE_LOG" |
	sort | uniq -c | awk '{ print $1 }' | sort -n | uniq -c | awk '{ printf "%s%s rows x %s", sep, $1, $2; sep = ", " }')
check_eq "bug 2: exit 1, 16 refreshed, the 8 reset rows failed" "1 16 8" \
	"$RUN_RC $(summary_field refreshed) $(summary_field failed)"
b_max=$(jq -Rr 'fromjson? | select(.ev == "req" and (.token | startswith("reset-"))) | .token' "$FAKE_LOG" |
	sort | uniq -c | awk 'BEGIN { m = 0 } $1 > m { m = $1 } END { print m }')
check_eq "bug 2: each reset row was sent exactly once with retry.attempts 1 ($b_reqs)" "8 1" \
	"$(jq -Rr 'fromjson? | select(.ev == "req" and (.token | startswith("reset-"))) | .token' "$FAKE_LOG" |
		sort -u | wc -l) $b_max"
check_eq "bug 2: no retry counted, none made" 0 "$(summary_field retries)"
figure "bug 2: libcurl's own resends on a dead reused connection (attempts: 1)" 1 0 \
	"requests per row: $b_reqs (before the fix: up to 6 per row)"
fake_stop

# --- BUG 3 (src/upstream.c, on_header; fixed: only the captured names are kept, at most 64):
# a captured cookie after 64 other Set-Cookie lines was dropped, so the row got the answer's
# token with the cookies of the answer before.
#
# SPEC: "every Set-Cookie whose name is in upstream.capture_cookies replaces the stored cookie
# of that name". upstream.c keeps the first MAX_SET_COOKIES (64) Set-Cookie lines of an answer
# whatever their names, so an answer with 64 cookies of other names before AWSALB (the fake's
# manycookielast: 5000, then the ok cookies) refreshes the token and keeps the old AWSALB and
# AWSALBCORS: the row is half-written in the sense of f_10 (token and cookies from different
# answers). Capping the captured names instead of all lines would keep the memory bound.
fake_start
q "DELETE FROM auth_sessions"
seed_tied 4 manycookielast
snapshot_orig
fake_clear
run_refresher -c "$TEST_TMP/bug2.yaml"
load_log "$FAKE_LOG" blog
check_eq "bug 3: exit 0, the 4 rows refreshed with the token issued for each" "0 4 4" \
	"$RUN_RC $(summary_field refreshed) $(q "SELECT count(*) FROM auth_sessions s JOIN orig o USING (id)
	   JOIN blog b ON b.ev = 'resp' AND b.token = o.token AND b.issued = s.aimharder_token")"
check_eq "bug 3 (src/upstream.c): the AWSALB and AWSALBCORS of the same answer are stored with its token" \
	0 "$(untied_rows)"
figure "bug 3: captured cookies after 64 other Set-Cookie lines" 1 0 \
	"rows with the new token and the old cookies: $(untied_rows) of 4"
q "DROP TABLE IF EXISTS orig, blog"
fake_stop
