# shellcheck shell=bash
# shellcheck disable=SC2016,SC2034 # ${VAR} in configs is for refresher to expand; variables are shared with the case files
# t_30_cli.sh - config errors, database errors, dry run, filters, shards, output formats.

fake_start
CFG=$TEST_TMP/t30.yaml
write_config "$CFG"

# --- a bad config: exit 2, every error named file:line:col, nothing touched ---
seed 3 ok
cat >"$TEST_TMP/bad.yaml" <<'YAML'
database:
  url: ${DATABASE_URL}
upstream:
  url: ${FAKE_URL}
  timeout: 15x
refresh:
  concurrency: 0
  stale_aftr: 15m
YAML
: >"$FAKE_LOG"
run_refresher -c "$TEST_TMP/bad.yaml"
check_eq "bad config: exit 2" 2 "$RUN_RC"
check "bad config: bad duration named with file:line:col" \
	grep -q "bad.yaml:5:[0-9]*: upstream.timeout: " "$RUN_ERR"
check "bad config: range error named" grep -q "bad.yaml:7:[0-9]*: refresh.concurrency: " "$RUN_ERR"
check "bad config: unknown key with a suggestion" \
	grep -q "bad.yaml:8:[0-9]*: refresh.stale_aftr: unknown key.*stale_after" "$RUN_ERR"
check_eq "bad config: nothing claimed, nothing called" "0 0" \
	"$(q "SELECT count(*) FROM auth_sessions WHERE token_update_claimed_until IS NOT NULL") $(fake_count_requests)"
unset_var_cfg=$TEST_TMP/unset.yaml
printf 'database:\n  url: ${REFRESHER_TEST_UNSET_VAR}\n' >"$unset_var_cfg"
run_refresher -c "$unset_var_cfg" --check-config
check_eq "unset \${VAR}: exit 2" 2 "$RUN_RC"
check "unset \${VAR}: named" grep -q 'unset.yaml:2:[0-9]*: database.url: .*REFRESHER_TEST_UNSET_VAR' "$RUN_ERR"
run_refresher -c "$CFG" --check-config
check_eq "--check-config: config OK, exit 0" "0 config OK" "$RUN_RC $(cat "$RUN_OUT")"
run_refresher -c "$TEST_TMP/does-not-exist.yaml"
check_eq "missing config file: exit 2" 2 "$RUN_RC"
REFRESHER_CONFIG=$CFG run_refresher --check-config
check_eq "REFRESHER_CONFIG names the config" "0" "$RUN_RC"
run_refresher -c "$CFG" --limit 0
check_eq "--limit 0 is a usage error" 2 "$RUN_RC"
run_refresher -c "$CFG" --shard 2/2
check_eq "--shard 2/2 is a usage error" 2 "$RUN_RC"
run_refresher -c "$CFG" --concurrency 12abc
check_eq "--concurrency 12abc is a usage error" 2 "$RUN_RC"
run_refresher --version
check_match "--version" '^refresher [0-9]+\.[0-9]+' "$(cat "$RUN_OUT")"
run_refresher --help
check "--help lists every flag" bash -c "for f in --config --dry-run --check-config --email --limit --concurrency --stale-after --shard --shard-count --log-format --verbose --quiet --help --version; do grep -q -- \"\$f\" '$RUN_OUT' || exit 1; done"

# --- config errors under --log-format json are JSON log lines, like every other line ---
printf 'database:\n  url: ${DATABASE_URL}\nrefresh:\n  concurency: 4\n' >"$TEST_TMP/badjson.yaml"
run_refresher -c "$TEST_TMP/badjson.yaml" --log-format json
check_eq "config error with --log-format json: exit 2" 2 "$RUN_RC"
check "config error with --log-format json: every line is a JSON error event" \
	jq -e -s 'length == 2 and all(.level == "error" and .ctx == "config")' "$RUN_ERR"
check "config error with --log-format json: names the key and the nearest" \
	jq -e -s '.[0].msg | test("badjson.yaml:4:3: refresh.concurency: unknown key \\(did you mean .concurrency.\\?\\)")' "$RUN_ERR"

# --- database unreachable or schema missing: exit 3, no upstream call ---
: >"$FAKE_LOG"
DATABASE_URL="postgresql://refresher:wrong@/refresher_test?host=$TEST_TMP/nowhere&port=1" run_refresher -c "$CFG"
check_eq "database down: exit 3, no request" "3 0" "$RUN_RC $(fake_count_requests)"
check "database down: a clear message" grep -qi "cannot connect to the database" "$RUN_ERR"
write_config "$TEST_TMP/notable.yaml" "$(printf 'database:\n  url: ${DATABASE_URL}\n  table: no_such_table\n')"
run_refresher -c "$TEST_TMP/notable.yaml"
check_eq "table the config names missing: a config error (exit 2), no request" "2 0" \
	"$RUN_RC $(fake_count_requests)"
check "table the config names missing: names the key with file:line" \
	grep -q "notable.yaml:[0-9]*:[0-9]*: database.table: no table \"no_such_table\"" "$RUN_ERR"
q "ALTER TABLE auth_sessions RENAME TO auth_sessions_moved"
run_refresher -c "$CFG"
check_eq "default table missing: exit 3 (migrations not applied), no request" "3 0" \
	"$RUN_RC $(fake_count_requests)"
check "default table missing: says so and points at the migrations" \
	grep -q "auth_sessions does not exist: apply the migrations in sql/" "$RUN_ERR"
q "ALTER TABLE auth_sessions_moved RENAME TO auth_sessions"
q "ALTER TABLE auth_sessions RENAME COLUMN token_update_claimed_until TO renamed_col"
run_refresher -c "$CFG"
check_eq "column missing: exit 3" 3 "$RUN_RC"
check "column missing: named" grep -q "no column token_update_claimed_until" "$RUN_ERR"
q "ALTER TABLE auth_sessions RENAME COLUMN renamed_col TO token_update_claimed_until"
write_config "$TEST_TMP/inject.yaml" "$(printf 'database:\n  url: ${DATABASE_URL}\n  table: "auth_sessions; DROP TABLE auth_sessions; --"\n')"
run_refresher -c "$TEST_TMP/inject.yaml"
check_eq "table name with SQL in it: rejected by the config (exit 2), the table survives" "2 3" \
	"$RUN_RC $(q "SELECT count(*) FROM auth_sessions")"
check "table name with SQL in it: named as database.table" grep -q "inject.yaml:[0-9]*:[0-9]*: database.table: " "$RUN_ERR"
write_config "$TEST_TMP/schema.yaml" "$(printf 'database:\n  url: ${DATABASE_URL}\n  table: public.auth_sessions\n')"
run_refresher -c "$TEST_TMP/schema.yaml" -n
check_eq "schema-qualified table name works" "0 3" "$RUN_RC $(wc -l <"$RUN_OUT")"

# --- dry run: lists due rows, redacted; claims, calls and writes nothing ---
q "DELETE FROM auth_sessions"
seed 4 ok dry@example.com
q "INSERT INTO auth_sessions (user_email, aimharder_token, aimharder_cookies, last_token_update_date)
   VALUES ('fresh@example.com', 'ok-fresh-$(rand_hex)', '[]', now() - interval '1 minute')"
q "INSERT INTO auth_sessions (user_email, aimharder_token, aimharder_cookies, created_at, token_update_claimed_until)
   VALUES ('claimed@example.com', 'ok-claimed-$(rand_hex)', '[]', now() - interval '1 day', now() + interval '5 minutes')"
q "INSERT INTO auth_sessions (user_email, aimharder_token, aimharder_cookies, created_at)
   VALUES ('nodate@example.com', 'ok-nodate-$(rand_hex)', '[]', NULL)"
q "CREATE TABLE snap AS SELECT * FROM auth_sessions"
: >"$FAKE_LOG"
run_refresher -c "$CFG" -n
check_eq "dry run: exit 0, 5 due rows listed (fresh and claimed rows are not due)" "0 5" \
	"$RUN_RC $(wc -l <"$RUN_OUT")"
check_eq "dry run: a row with no date at all is due, and first" "nodate@example.com" \
	"$(head -n 1 "$RUN_OUT" | cut -f 1)"
check_match "dry run: email and a redacted token per line" $'^dry@example.com\tok-[0-9a-f]…\\([0-9]+\\)$' \
	"$(sed -n 2p "$RUN_OUT")"
check_eq "dry run: nothing called, nothing changed" "0 0" \
	"$(fake_count_requests) $(q "SELECT count(*) FROM (SELECT * FROM auth_sessions EXCEPT SELECT * FROM snap) d")"
q "DROP TABLE snap"
run_refresher -c "$CFG" -n --stale-after 0
check_eq "--stale-after 0: every unclaimed row is due" 6 "$(wc -l <"$RUN_OUT")"

# --- --email and --limit ---
q "DELETE FROM auth_sessions"
seed 3 ok one@example.com
seed 5 ok two@example.com
run_refresher -c "$CFG" --email one@example.com
check_eq "--email: only that user's rows" "0 3 3 0" \
	"$RUN_RC $(summary_field refreshed) $(q "SELECT count(*) FROM auth_sessions WHERE user_email = 'one@example.com' AND token_update_count = 1") $(q "SELECT count(*) FROM auth_sessions WHERE user_email = 'two@example.com' AND token_update_count = 1")"
run_refresher -c "$CFG" --limit 2
check_eq "--limit 2: two rows" "0 2 2" \
	"$RUN_RC $(summary_field due) $(q "SELECT count(*) FROM auth_sessions WHERE user_email = 'two@example.com' AND token_update_count = 1")"
run_refresher -c "$CFG" --stale-after 0 --limit 100
check_eq "--stale-after 0: every row once, never twice in a run" "8 8" \
	"$(summary_field due) $(summary_field refreshed)"

# --- shards: disjoint, together complete ---
q "DELETE FROM auth_sessions"
seed 50 ok
run_refresher -c "$CFG" --shard 0/3
s0=$(summary_field due)
JOB_COMPLETION_INDEX=1 run_refresher -c "$CFG" --shard-count 3
s1=$(summary_field due)
run_refresher -c "$CFG" --shard 2/3
s2=$(summary_field due)
check_eq "shards: 0/3 + 1/3 + 2/3 cover the 50 rows once" "50 50 0" \
	"$((s0 + s1 + s2)) $(q "SELECT count(*) FROM auth_sessions WHERE token_update_count = 1") $(fake_duplicate_tokens)"
check_eq "shards: shard 0 took exactly its rows" "$s0" \
	"$(q "SELECT count(*) FROM auth_sessions WHERE abs(hashtext(id::text)::bigint) % 3 = 0")"

# --- JSON logs, quiet mode, GitHub step summary ---
q "DELETE FROM auth_sessions"
seed 2 ok
seed 1 logout
seed 1 bad
GITHUB_STEP_SUMMARY=$TEST_TMP/step.md run_refresher -c "$CFG" --log-format json
check_eq "json: exit 1 (one failed)" 1 "$RUN_RC"
check "json: every stderr line is a JSON object" jq -e -s 'all(type == "object")' "$RUN_ERR"
check_eq "json: last line is the summary" '{"event":"summary","due":4,"refreshed":2,"logged_out":1,"failed":1,"superseded":0,"released":0,"retries":0,"throttle_waits":0,"breaker":"closed"}' \
	"$(tail -n 1 "$RUN_ERR" | jq -c 'del(.duration_ms)')"
check "json: duration_ms is a number" jq -e -s 'last | .duration_ms | type == "number"' "$RUN_ERR"
check "step summary: a Markdown table with the counts" grep -q '^| 4 | 2 | 1 | 1 | 0 | 0 |' "$TEST_TMP/step.md"
q "UPDATE auth_sessions SET created_at = now() - interval '1 day', last_token_update_date = NULL"
run_refresher -c "$CFG" -q --stale-after 0
check_eq "-q: only warnings, errors and the summary" "0" \
	"$(grep -c -v -e '^summary: ' -e ' warn ' -e ' error ' "$RUN_ERR")"
check "-q: the failure is still shown" grep -q ' warn .*failed: HTTP 400' "$RUN_ERR"

# --- a password written in a config others can read: one warning (keys, never values), and
# the run goes on; at 0600 no warning ---
q "DELETE FROM auth_sessions"
seed 2 ok
lit=$TEST_TMP/literal.yaml
write_config "$lit" "$(printf 'database:\n  url: "%s"\nupstream:\n  url: ${FAKE_URL}\n  fingerprint: ${LITERAL_TEST_FP}\n' "$DATABASE_URL")"
lit_warning="warn [config] $lit: mode 0644 lets other users read a literal secret (database.url); chmod 600 it, or move the secret to the environment (\${DATABASE_URL})"
chmod 644 "$lit"
LITERAL_TEST_FP=fp-$(rand_hex) run_refresher -c "$lit" --check-config
check_eq "literal password, mode 0644: --check-config still says config OK" "0 config OK" \
	"$RUN_RC $(cat "$RUN_OUT")"
check_eq "literal password, mode 0644: one warning naming file, mode and key" "$lit_warning" \
	"$(cut -d ' ' -f 2- "$RUN_ERR")"
LITERAL_TEST_FP=fp-$(rand_hex) run_refresher -c "$lit"
check_eq "literal password, mode 0644: the run goes on (exit 0, 2 refreshed)" "0 2" \
	"$RUN_RC $(summary_field refreshed)"
check_eq "literal password, mode 0644: the warning, once" "1" "$(grep -c 'lets other users read' "$RUN_ERR")"
check "literal password, mode 0644: the warning is the one expected" grep -qF -- "$lit_warning" "$RUN_ERR"
check "literal password, mode 0644: the password is not shown" bash -c '! grep -qF -- "$1" "$2"' _ \
	"$TEST_DB_PASSWORD" "$RUN_ERR"
chmod 600 "$lit"
LITERAL_TEST_FP=fp-$(rand_hex) run_refresher -c "$lit" --stale-after 0
check_eq "literal password, mode 0600: exit 0, no warning" "0 0" \
	"$RUN_RC $(grep -c 'lets other users read' "$RUN_ERR")"
fake_stop
