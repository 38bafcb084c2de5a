# shellcheck shell=bash
# shellcheck disable=SC2016,SC2034 # ${VAR} in configs is for refresher to expand; variables are shared with the case files
# t_72_application.sh - the seed application's schema as it is today (tests/integration/seedapp.sql:
# background/device/protected sessions, UNIQUE (user_email, fingerprint), one background session
# per user, row level security with JWT-claim policies, its triggers), the refresher's migrations
# on top, and a whole sweep as the least-privilege role of sql/roles/refresher_role.sql with the
# README's recommended config for this application.

fake_start
psql -X -q -v ON_ERROR_STOP=1 -f "$LIB_DIR/seedapp.sql" >/dev/null || die "seedapp.sql failed"
migrate >/dev/null || die "migrations on the application's table failed"
check_eq "migrations: the legacy last_token_update_date became timestamptz" "timestamp with time zone" \
	"$(q "SELECT data_type FROM information_schema.columns
	      WHERE table_name = 'auth_sessions' AND column_name = 'last_token_update_date'")"

T72_ROLE=rl_refresher
T72_PW=$(rand_hex 12)
psql -X -q -v ON_ERROR_STOP=1 -v role="$T72_ROLE" -v password="$T72_PW" \
	-f "$REPO_ROOT/sql/roles/refresher_role.sql" >/dev/null || die "refresher_role.sql failed"
psql -X -q -v ON_ERROR_STOP=1 -v role="$T72_ROLE" -v password="$T72_PW" \
	-f "$REPO_ROOT/sql/roles/refresher_role.sql" >/dev/null
check_eq "refresher_role.sql: applies twice (idempotent)" 0 "$?"
check_eq "refresher_role.sql: a plain login role (no superuser, no BYPASSRLS)" "t f f" \
	"$(q "SELECT rolcanlogin, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = '$T72_ROLE'" | tr '|' ' ')"
check_eq "refresher_role.sql: exactly the grants the refresher needs" \
	"DELETE:-|SELECT:-|UPDATE:aimharder_cookies,aimharder_token,last_token_update_date,last_token_update_error,token_update_claimed_until,token_update_count,updated_at" \
	"$(q "SELECT string_agg(p, '|' ORDER BY p) FROM (
	        SELECT privilege_type || ':-' AS p FROM information_schema.role_table_grants
	        WHERE grantee = '$T72_ROLE' AND table_name = 'auth_sessions'
	        UNION ALL
	        SELECT 'UPDATE:' || string_agg(column_name, ',' ORDER BY column_name)
	        FROM information_schema.column_privileges
	        WHERE grantee = '$T72_ROLE' AND table_name = 'auth_sessions' AND privilege_type = 'UPDATE'
	      ) g")"
check_eq "refresher_role.sql: a policy for the role, beside the application's five" \
	"refresher_all_$T72_ROLE:{$T72_ROLE} sessions_delete_own_device:{public} sessions_insert_own:{public} sessions_select_own:{public} sessions_service_role:{public} sessions_update_own:{public}" \
	"$(q "SELECT string_agg(policyname || ':' || roles::text, ' ' ORDER BY policyname) FROM pg_policies WHERE tablename = 'auth_sessions'")"
T72_URL=$(db_url_as "$T72_ROLE" "$T72_PW")
export T72_URL

# Users and sessions. alice: a protected background session, a device session and a protected
# device session; bob: a background and a device session; carol: one device session (her last);
# dave: a background and a device session; erin: a device session the application is using.
# The token's prefix is the fake's answer: logout- answers logout, ok- a new token.
q "INSERT INTO auth_sessions (user_email, aimharder_token, aimharder_cookies, fingerprint, session_type,
                              protected, created_at, updated_at, token_update_claimed_until)
   SELECT e, t || '-' || md5(random()::text), ('[{\"name\":\"PHPSESSID\",\"value\":\"' || md5(random()::text) || '\"}]')::jsonb,
          f, st, p, now() - interval '2 hours', now() - interval '2 hours', h
   FROM (VALUES
     ('alice@example.com', 'logout', 'fp-alice-bg', 'background', true, NULL::timestamptz),
     ('alice@example.com', 'ok', 'fp-alice-laptop', 'device', false, NULL),
     ('alice@example.com', 'logout', 'fp-alice-phone', 'device', true, NULL),
     ('bob@example.com', 'logout', 'fp-bob-bg', 'background', false, NULL),
     ('bob@example.com', 'logout', 'fp-bob-laptop', 'device', false, NULL),
     ('carol@example.com', 'logout', 'fp-carol-phone', 'device', false, NULL),
     ('dave@example.com', 'ok', 'fp-dave-bg', 'background', false, NULL),
     ('dave@example.com', 'ok', 'fp-dave-laptop', 'device', false, NULL),
     ('erin@example.com', 'ok', 'fp-erin-laptop', 'device', false, now() + interval '1 hour')
   ) v(e, t, f, st, p, h)"
q "INSERT INTO user_boxes (user_email, box_name) SELECT e, b FROM
   (VALUES ('bob@example.com'), ('carol@example.com'), ('dave@example.com')) u(e),
   (VALUES ('CrossFit North'), ('Box South')) x(b)"
q "CREATE TABLE t72_before AS SELECT * FROM auth_sessions"
q "CREATE TABLE t72_boxes_before AS SELECT * FROM user_boxes"

# The README's recommended config for the seed application.
T72_CFG=$TEST_TMP/t72.yaml
write_config "$T72_CFG" "$(printf '%s\n' \
	'database:' \
	'  url: ${T72_URL}' \
	'  table: auth_sessions' \
	'  row_security: allow' \
	'refresh:' \
	'  concurrency: 4' \
	"  keep_when: \"protected OR session_type = 'background'\"")"

# --- row level security: refused unless allowed; a policy-less role is never "0 rows due" ---
sed '/row_security: allow/d' "$T72_CFG" >"$TEST_TMP/t72-refuse.yaml"
chmod 600 "$TEST_TMP/t72-refuse.yaml"
: >"$FAKE_LOG"
run_refresher -c "$TEST_TMP/t72-refuse.yaml"
check_eq "row security: refused (exit 3), no request, nothing claimed" "3 0 0" \
	"$RUN_RC $(fake_count_requests) $(q "SELECT count(*) FROM auth_sessions
	  WHERE token_update_claimed_until IS NOT NULL AND user_email <> 'erin@example.com'")"
check "row security: names the role, the table and the ways out" grep -q \
	"row level security is active on public.auth_sessions for role \"$T72_ROLE\": .*BYPASSRLS.* database.row_security: allow" \
	"$RUN_ERR"
T72_REFUSAL=$(grep -o 'row level security is active.*' "$RUN_ERR")
run_refresher -c "$TEST_TMP/t72-refuse.yaml" --dry-run
check_eq "row security: --dry-run refused too, lists nothing" "3 0" "$RUN_RC $(wc -l <"$RUN_OUT")"
q "DROP POLICY refresher_all_$T72_ROLE ON auth_sessions"
q "ANALYZE auth_sessions"
run_refresher -c "$T72_CFG"
check_eq "row security allowed, but no policy lets the role see a row: exit 3, not '0 rows due'" "3 0" \
	"$RUN_RC $(fake_count_requests)"
check "row security hiding every row: says so and how out" grep -q \
	"row level security on public.auth_sessions hides every row from role \"$T72_ROLE\"" "$RUN_ERR"
psql -X -q -v ON_ERROR_STOP=1 -v role="$T72_ROLE" -f "$REPO_ROOT/sql/roles/refresher_role.sql" >/dev/null

# --- privileges: a missing grant is an error before claiming, naming it ---
q "REVOKE DELETE ON auth_sessions FROM $T72_ROLE"
run_refresher -c "$T72_CFG"
check_eq "privileges: no DELETE with on_logout: delete: exit 3, no request" "3 0" "$RUN_RC $(fake_count_requests)"
check "privileges: names the role and what it lacks" grep -q \
	"role \"$T72_ROLE\" lacks privileges on public.auth_sessions: DELETE on rows (refresh.on_logout: delete)" "$RUN_ERR"
q "REVOKE UPDATE (aimharder_cookies) ON auth_sessions FROM $T72_ROLE"
run_refresher -c "$T72_CFG"
check "privileges: a column grant missing is named too" grep -q \
	"lacks privileges on public.auth_sessions: UPDATE on aimharder_cookies; DELETE on rows" "$RUN_ERR"
psql -X -q -v ON_ERROR_STOP=1 -v role="$T72_ROLE" -f "$REPO_ROOT/sql/roles/refresher_role.sql" >/dev/null

# --- a read-only role may dry-run (it needs SELECT only) but not run ---
T72_RO=rl_readonly
T72_RO_PW=$(rand_hex 12)
q "CREATE ROLE $T72_RO LOGIN PASSWORD '$T72_RO_PW'; GRANT SELECT ON auth_sessions TO $T72_RO;
   CREATE POLICY ro_all ON auth_sessions FOR SELECT TO $T72_RO USING (true)"
T72_RO_URL=$(db_url_as "$T72_RO" "$T72_RO_PW")
T72_URL=$T72_RO_URL run_refresher -c "$T72_CFG" --dry-run
check_eq "read-only role: --dry-run works (exit 0), lists the due sessions" "0 8" "$RUN_RC $(wc -l <"$RUN_OUT")"
T72_URL=$T72_RO_URL run_refresher -c "$T72_CFG"
check_eq "read-only role: a run is refused before claiming (exit 3)" 3 "$RUN_RC"
check "read-only role: the run names what it lacks" grep -q "role \"$T72_RO\" lacks privileges on public.auth_sessions: UPDATE on" "$RUN_ERR"
q "DROP POLICY ro_all ON auth_sessions"

# --- the whole sweep, as the least-privilege role, under row security ---
: >"$FAKE_LOG"
run_refresher -c "$T72_CFG"
check_eq "app: exit 0; 8 due, 3 refreshed, 5 logged out" "0 8 3 5 0" \
	"$RUN_RC $(summary_field due) $(summary_field refreshed) $(summary_field logged_out) $(summary_field failed)"
check "app: row security allowed: one warning" grep -q "row level security is active on public.auth_sessions for role \"$T72_ROLE\" (database.row_security: allow)" "$RUN_ERR"
check_eq "app: logout on a protected or background session keeps it, marked, token untouched" \
	"fp-alice-bg fp-alice-phone fp-bob-bg" \
	"$(q "SELECT string_agg(s.fingerprint, ' ' ORDER BY s.fingerprint) FROM auth_sessions s JOIN t72_before b USING (id)
	      WHERE s.last_token_update_error = 'logout' AND s.aimharder_token = b.aimharder_token
	        AND s.last_token_update_date > now() - interval '1 minute' AND s.token_update_claimed_until IS NULL")"
check_eq "app: one warning per kept session" 3 "$(grep -c 'row kept, as refresh.keep_when says' "$RUN_ERR")"
check_eq "app: logout on a device session deletes it" "" \
	"$(q "SELECT string_agg(fingerprint, ' ') FROM auth_sessions WHERE fingerprint IN ('fp-bob-laptop', 'fp-carol-phone')")"
check_eq "app: the trigger removed the boxes of the user whose last session went (carol), not bob's" \
	"bob@example.com:2 dave@example.com:2" \
	"$(q "SELECT string_agg(user_email || ':' || n, ' ' ORDER BY user_email) FROM
	      (SELECT user_email, count(*) n FROM user_boxes GROUP BY 1) b")"
check_eq "app: refreshed sessions hold the issued token, merged cookies, count 1" \
	"fp-alice-laptop fp-dave-bg fp-dave-laptop" \
	"$(q "SELECT string_agg(s.fingerprint, ' ' ORDER BY s.fingerprint) FROM auth_sessions s JOIN t72_before b USING (id)
	      WHERE s.aimharder_token LIKE 'ok-%' AND s.aimharder_token <> b.aimharder_token
	        AND s.token_update_count = 1 AND s.last_token_update_error IS NULL
	        AND s.aimharder_cookies @> b.aimharder_cookies AND s.aimharder_cookies @> '[{\"name\":\"AWSALB\"}]'")"
t72_erin=$(q "SELECT aimharder_token FROM t72_before WHERE user_email = 'erin@example.com'")
check_eq "app: the session the application holds was not called, and is untouched" "0 1" \
	"$(fake_count_requests "$t72_erin") $(q "SELECT count(*) FROM auth_sessions s JOIN t72_before b USING (id)
	  WHERE s.user_email = 'erin@example.com' AND row(s.*)::text = row(b.*)::text")"
check_eq "app: the application's columns are unchanged on every remaining row, constraints intact" "7 7 7" \
	"$(q "SELECT count(*), count(DISTINCT (s.user_email, s.fingerprint)),
	             count(*) FILTER (WHERE (s.user_email, s.fingerprint, s.session_type, s.protected, s.created_at)
	                                  = (b.user_email, b.fingerprint, b.session_type, b.protected, b.created_at))
	      FROM auth_sessions s JOIN t72_before b USING (id)" | tr '|' ' ')"
check_eq "app: one background session per user still" 0 \
	"$(q "SELECT count(*) FROM (SELECT user_email FROM auth_sessions WHERE session_type = 'background'
	      GROUP BY 1 HAVING count(*) > 1) d")"
check_eq "app: the other users' boxes are as they were" 4 \
	"$(q "SELECT count(*) FROM user_boxes u JOIN t72_boxes_before b USING (id) WHERE row(u.*)::text = row(b.*)::text")"
check_eq "app: the updated_at trigger fired on the refresher's writes" 6 \
	"$(q "SELECT count(*) FROM auth_sessions s JOIN t72_before b USING (id) WHERE s.updated_at > b.updated_at")"

# A second run: the kept sessions are due again later (logout marks them, the date moves), nothing
# is called now, nothing else changes.
: >"$FAKE_LOG"
run_refresher -c "$T72_CFG"
check_eq "app: a run right after has nothing due" "0 0 0" "$RUN_RC $(summary_field due) $(fake_count_requests)"

q "DROP TABLE t72_before, t72_boxes_before, user_boxes"
q "DROP TABLE auth_sessions CASCADE"
q "DROP OWNED BY $T72_ROLE"
q "DROP ROLE $T72_ROLE"
q "DROP OWNED BY $T72_RO"
q "DROP ROLE $T72_RO"
echo "# the refusal message: $T72_REFUSAL"
