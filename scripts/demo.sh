#!/usr/bin/env bash
# demo.sh - a throwaway PostgreSQL and fake upstream, a few thousand seeded sessions, one real sweep
# with refresher.yaml and its summary; everything started is stopped and removed again.
#
# Usage: scripts/demo.sh [ROWS]   (default 3000; run through `make demo`)
# The cluster lives in a private directory under TMPDIR (else /tmp), owned by the user the server
# runs as (postgres when run as root), so the checkout itself may be anywhere, 0700 included.
# Exits 0 when the demo worked, 1 when it did not (and says what failed).
set -u -o pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROWS=${1:-${DEMO_ROWS:-3000}}
# shellcheck disable=SC2034 # read by lib.sh's _lib_tmp
LIB_TMP_PREFIX=refresher-demo
# This checkout's binaries (make passes BUILD_DIR), whatever a caller's environment says.
export BUILD_DIR=${BUILD_DIR:-$ROOT/build}
unset REFRESHER_BIN FAKEUP_BIN POOLER KEEP_TMP
# shellcheck source=tests/integration/lib.sh
. "$ROOT/tests/integration/lib.sh"

if [[ -t 1 ]]; then
	BOLD=$'\033[1m' PLAIN=$'\033[0m'
else
	BOLD="" PLAIN=""
fi

say() { printf '\n%s== %s%s\n' "$BOLD" "$*" "$PLAIN"; }

# The demo's own failure: what went wrong, then exit 1 (the EXIT trap stops what was started).
die() {
	printf 'demo failed: %s\n' "$*" >&2
	exit 1
}

# Prints how many seeded sessions the sweep has finished (refreshed, failed, logged out).
sessions_done() {
	local left
	left=$(q "SELECT count(*) FROM auth_sessions
	          WHERE last_token_update_date IS NULL AND last_token_update_error IS NULL") || return 1
	echo $((ROWS - left))
}

say "starting a throwaway PostgreSQL"
pg_start
migrate >/dev/null || die "the migrations in sql/ did not apply"
echo "PostgreSQL in $TEST_TMP (unix socket only); migrations from sql/ applied"

say "starting the fake aimharder upstream (30-70 ms per answer)"
fake_start --latency-ms 30 --jitter-ms 40
echo "fake upstream at $FAKE_URL"

say "seeding $ROWS sessions: most refresh, some log out, some are flaky, a few fail"
psql -X -q -v ON_ERROR_STOP=1 -v rows="$ROWS" <<'SQL' || die "seeding the sessions failed"
INSERT INTO auth_sessions (user_email, aimharder_token, aimharder_cookies, fingerprint, created_at)
SELECT 'user' || g || '@example.com',
       CASE WHEN r < 0.84 THEN 'ok' WHEN r < 0.90 THEN 'logout' WHEN r < 0.95 THEN 'flaky'
            WHEN r < 0.97 THEN 'ratelimit' WHEN r < 0.99 THEN 'down' ELSE 'bad' END
         || '-' || md5(random()::text),
       jsonb_build_array(jsonb_build_object('name', 'AWSALB', 'value', md5(random()::text)),
                         jsonb_build_object('name', 'PHPSESSID', 'value', md5(random()::text))),
       CASE WHEN g % 3 = 0 THEN NULL ELSE 'fp-' || md5(g::text) END,
       now() - interval '2 hours' - g * interval '1 second'
FROM (SELECT g, random() AS r FROM generate_series(1, :rows) g) s;
SQL
q "SELECT split_part(aimharder_token, '-', 1) AS kind, count(*) FROM auth_sessions GROUP BY 1 ORDER BY 2 DESC" |
	sed 's/|/: /; s/^/  /'

export REFRESHER_UPSTREAM_URL=$FAKE_URL AIMHARDER_FINGERPRINT=fp-demo-default
say "dry run: what is due (first 3 lines; tokens are redacted)"
"$BUILD_DIR/refresher" -c "$ROOT/refresher.yaml" --dry-run 2>/dev/null | head -n 3

LOG=$ROOT/.demo/sweep.log
mkdir -p "$ROOT/.demo" || die "cannot create $ROOT/.demo for the sweep's log"
say "the sweep: build/refresher -c refresher.yaml (its log, a line per event: .demo/sweep.log)"
"$BUILD_DIR/refresher" -c "$ROOT/refresher.yaml" >/dev/null 2>"$LOG" &
pid=$!
# A terminal gets one line redrawn; a log gets a line per tenth done, however slow the machine.
shown=-1
tenth=-1
while kill -0 "$pid" 2>/dev/null; do
	done_now=$(sessions_done) || done_now=$shown
	if [[ "$done_now" != "$shown" ]]; then
		if [[ -t 1 ]]; then
			printf '\r  %s/%s sessions done' "$done_now" "$ROWS"
			shown=$done_now
		elif ((done_now * 10 / (ROWS > 0 ? ROWS : 1) != tenth)); then
			tenth=$((done_now * 10 / (ROWS > 0 ? ROWS : 1)))
			printf '  %s/%s sessions done\n' "$done_now" "$ROWS"
			shown=$done_now
		fi
	fi
	sleep 0.5
done
wait "$pid"
rc=$?
done_now=$(sessions_done) || done_now=$shown
if [[ -t 1 ]]; then
	printf '\r  %s/%s sessions done\n' "$done_now" "$ROWS"
elif [[ "$done_now" != "$shown" ]]; then
	printf '  %s/%s sessions done\n' "$done_now" "$ROWS"
fi
grep '^summary: ' "$LOG" || die "the sweep printed no summary (exit $rc); see $LOG"
echo "exit code: $rc (1 = some rows failed and stay due for the next run; see README, Exit codes)"

say "the table afterwards"
q "SELECT CASE WHEN last_token_update_error IS NULL AND token_update_count > 0 THEN 'refreshed'
               WHEN last_token_update_error IS NOT NULL THEN 'failed: ' || last_token_update_error
               ELSE 'untouched' END AS state, count(*)
   FROM auth_sessions GROUP BY 1 ORDER BY 2 DESC" | sed 's/|/: /; s/^/  /'
left=$(q "SELECT count(*) FROM auth_sessions")
echo "  deleted (logged out): $((ROWS - left))"
echo "  upstream requests: $(fake_stats | jq -r .requests)"

# The demo worked when the sweep ran to its end (0, or 1 for the rows that fail on purpose),
# refreshed and deleted sessions, and left no seeded session untouched.
refreshed=$(q "SELECT count(*) FROM auth_sessions WHERE token_update_count > 0")
untouched=$((ROWS - $(sessions_done)))
((rc == 0 || rc == 1)) || die "the sweep exited $rc; see $LOG"
((refreshed > 0 && left < ROWS)) || die "nothing was refreshed or deleted; see $LOG"
((untouched == 0)) || die "$untouched sessions were not handled; see $LOG"

say "stopping PostgreSQL and the fake upstream, removing $TEST_TMP"
fake_stop
_lib_cleanup
echo "done: nothing left running; the sweep's log is $LOG"
exit 0
