#!/usr/bin/env bash
# demo.sh - a throwaway PostgreSQL and fake upstream under .demo/, a few thousand seeded sessions,
# one real sweep with refresher.yaml, the summary; everything started is stopped again.
#
# Usage: scripts/demo.sh [ROWS]   (default 3000; run through `make demo`)
set -u -o pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROWS=${1:-${DEMO_ROWS:-3000}}
mkdir -p "$ROOT/.demo"
chmod 755 "$ROOT/.demo"
export TMPDIR=$ROOT/.demo
# shellcheck source=tests/integration/lib.sh
. "$ROOT/tests/integration/lib.sh"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "starting a throwaway PostgreSQL (unix socket under .demo/)"
pg_start
migrate >/dev/null || die "migrations failed"
echo "database ready; migrations from sql/ applied"

say "starting the fake aimharder upstream (30-70 ms per answer)"
fake_start --latency-ms 30 --jitter-ms 40
echo "fake upstream at $FAKE_URL"

say "seeding $ROWS sessions: most refresh, some log out, some are flaky, a few fail"
psql -X -q -v ON_ERROR_STOP=1 -v rows="$ROWS" <<'SQL'
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

say "dry run: what is due (first 3 lines; tokens are redacted)"
REFRESHER_UPSTREAM_URL=$FAKE_URL AIMHARDER_FINGERPRINT=fp-demo-default \
	"$BUILD_DIR/refresher" -c "$ROOT/refresher.yaml" --dry-run 2>/dev/null | head -n 3

say "the sweep: build/refresher -c refresher.yaml"
REFRESHER_UPSTREAM_URL=$FAKE_URL AIMHARDER_FINGERPRINT=fp-demo-default \
	"$BUILD_DIR/refresher" -c "$ROOT/refresher.yaml"
rc=$?
echo "exit code: $rc (1 = some rows failed and stay due for the next run; see README, Exit codes)"

say "the table afterwards"
q "SELECT CASE WHEN last_token_update_error IS NULL AND token_update_count > 0 THEN 'refreshed'
               WHEN last_token_update_error IS NOT NULL THEN 'failed: ' || last_token_update_error
               ELSE 'untouched' END AS state, count(*)
   FROM auth_sessions GROUP BY 1 ORDER BY 2 DESC" | sed 's/|/: /; s/^/  /'
echo "  deleted (logged out): $((ROWS - $(q "SELECT count(*) FROM auth_sessions")))"
echo "  upstream requests: $(fake_stats)"

say "stopping PostgreSQL and the fake upstream"
fake_stop
exit 0
