# shellcheck shell=bash
# shellcheck disable=SC2016,SC2034 # ${VAR} in configs is for refresher to expand; variables are shared with the case files
# t_40_db_blip.sh - PostgreSQL restarted in the middle of a run: the issued tokens are kept in
# memory, the connection is re-established, and every one of them is written.

fake_start --slow-ms 300
seed 40 slow
write_config "$TEST_TMP/blip.yaml" "$(printf 'refresh:\n  concurrency: 4\n  batch_size: 40\n')"
run_refresher_bg blip -c "$TEST_TMP/blip.yaml"
pid=$BG_PID
wait_for fake_requests_at_least slow 4
pg_stop fast
# Requests go on while the database is down; their results wait in memory.
wait_for fake_requests_at_least slow 12
_pg_ctl_start
bg_wait "$pid" blip
check_eq "db blip: exit 0, all 40 refreshed" "0 40" "$RUN_RC $(summary_field refreshed)"
# Direct, the statements fail while PostgreSQL is down; behind a pooler they may instead wait in
# its queue (query_wait_timeout) and succeed once it is back: then there is no outage to notice.
if [[ -z "$POOLER" ]]; then
	check "db blip: the outage was noticed and waited out" grep -q "database back after" "$RUN_ERR"
fi
check_eq "db blip: every issued token is in the table, once" 40 \
	"$(q "SELECT count(*) FROM auth_sessions WHERE token_update_count = 1 AND aimharder_token LIKE 'ok-%' AND token_update_claimed_until IS NULL")"
fake_stop

# --- behind a pooler that queues statements while the database is down (pgbouncer's default
# query_wait_timeout of 120 s): the statement waits, the event loop does not. Requests keep
# starting and finishing meanwhile, and every issued token is written once the database is back.
if [[ -z "$POOLER" ]]; then
	direct_url=$DATABASE_URL
	POOLER=pgbouncer PGB_QUERY_WAIT_TIMEOUT=120 pooler_start >/dev/null
	q "DELETE FROM auth_sessions"
	fake_start --slow-ms 300
	seed 40 slow
	run_refresher_bg queue -c "$TEST_TMP/blip.yaml"
	pid=$BG_PID
	wait_for fake_requests_at_least slow 4
	pg_stop fast
	# With 4 in flight and 300 ms each, 16 more requests take over a second, all while the
	# claim or the write sits in pgbouncer's queue.
	wait_for fake_requests_at_least slow 20
	_pg_ctl_start
	bg_wait "$pid" queue
	check_eq "queueing pooler: exit 0, all 40 refreshed" "0 40" "$RUN_RC $(summary_field refreshed)"
	check_eq "queueing pooler: every issued token is in the table, once" 40 \
		"$(q "SELECT count(*) FROM auth_sessions WHERE token_update_count = 1 AND aimharder_token LIKE 'ok-%' AND token_update_claimed_until IS NULL")"
	check_eq "queueing pooler: each row was called once" 0 "$(fake_duplicate_tokens)"
	fake_stop
	pooler_stop
	PGB_DIR=""
	export DATABASE_URL=$direct_url
fi
