# shellcheck shell=bash
# shellcheck disable=SC2016,SC2034 # ${VAR} in configs is for refresher to expand; variables are shared with the case files
# t_00_migrations.sh - sql/*.sql on a fresh database, applied twice, and on the seed app's legacy table.
# Sourced by run.sh (lib.sh loaded, PostgreSQL running).
# shellcheck disable=SC2317 # the m_* helpers are called through check

# Applies the migrations from a session whose time zone is not UTC.
m_migrate_new_york() {
	PGTZ=America/New_York migrate
}

# Prints one line per column of auth_sessions: name, type, NOT NULL, default.
m_columns() {
	q "SELECT attname || ' ' || format_type(atttypid, atttypmod)
	          || CASE WHEN attnotnull THEN ' not null' ELSE '' END
	          || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
	   FROM pg_attribute a
	   LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
	   WHERE a.attrelid = 'auth_sessions'::regclass AND a.attnum > 0 AND NOT a.attisdropped
	   ORDER BY a.attnum"
}

# Prints the column line of column $1 from m_columns output in $2.
m_col() {
	grep -E "^$1 " <<<"$2"
}

# Prints a schema-only dump of the test database, stable across runs.
m_dump() {
	# \restrict lines carry a random key (pg_dump >= 15.14); the rest is deterministic.
	"$PG_BINDIR/pg_dump" --schema-only --no-owner --no-privileges -d "$PGDATABASE" |
		grep -v -E '^\\(un)?restrict '
}

# Prints what changes when a table is touched: its file (rewrite) and its pg_class row version.
m_table_identity() {
	q "SELECT pg_relation_filenode('auth_sessions') || ' ' || xmin FROM pg_class
	   WHERE oid = 'auth_sessions'::regclass"
}

# Prints the EXPLAIN of the refresher's due query with sequential scans discouraged.
m_explain_due() {
	psql -X -q -At -v ON_ERROR_STOP=1 <<-'EOF'
		SET enable_seqscan = off;
		EXPLAIN SELECT id FROM auth_sessions
		WHERE coalesce(last_token_update_date, created_at, '-infinity'::timestamptz)
		      <= now() - interval '15 minutes'
		  AND (token_update_claimed_until IS NULL OR token_update_claimed_until < now())
		ORDER BY coalesce(last_token_update_date, created_at, '-infinity'::timestamptz)
		LIMIT 50 FOR UPDATE SKIP LOCKED;
	EOF
}

# Prints how many indexes of auth_sessions start with column user_email.
m_email_indexes() {
	q "SELECT count(*) FROM pg_index i
	   JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
	   WHERE i.indrelid = 'auth_sessions'::regclass AND a.attname = 'user_email'"
}

# --- fresh database ---
q "DROP TABLE IF EXISTS auth_sessions CASCADE"
check "fresh: migrations apply to an empty database" migrate
cols=$(m_columns)
check_eq "fresh: id" "id uuid not null default gen_random_uuid()" "$(m_col id "$cols")"
check_eq "fresh: user_email" "user_email character varying(255) not null" "$(m_col user_email "$cols")"
check_eq "fresh: aimharder_token" "aimharder_token text not null" "$(m_col aimharder_token "$cols")"
check_eq "fresh: aimharder_cookies" "aimharder_cookies jsonb not null" "$(m_col aimharder_cookies "$cols")"
check_eq "fresh: fingerprint" "fingerprint character varying(50)" "$(m_col fingerprint "$cols")"
check_eq "fresh: created_at" "created_at timestamp with time zone default now()" "$(m_col created_at "$cols")"
check_eq "fresh: updated_at" "updated_at timestamp with time zone default now()" "$(m_col updated_at "$cols")"
check_eq "fresh: last_token_update_date" "last_token_update_date timestamp with time zone" \
	"$(m_col last_token_update_date "$cols")"
check_eq "fresh: token_update_count" "token_update_count integer not null default 0" \
	"$(m_col token_update_count "$cols")"
check_eq "fresh: last_token_update_error" "last_token_update_error text" \
	"$(m_col last_token_update_error "$cols")"
check_eq "fresh: token_update_claimed_until" "token_update_claimed_until timestamp with time zone" \
	"$(m_col token_update_claimed_until "$cols")"
check_eq "fresh: 11 columns" 11 "$(wc -l <<<"$cols" | tr -d ' ')"
check_eq "fresh: primary key is id" "id" \
	"$(q "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid
	      AND a.attnum = ANY (i.indkey) WHERE i.indrelid = 'auth_sessions'::regclass AND i.indisprimary")"
check_eq "fresh: due index exists" "auth_sessions_token_update_due_idx" \
	"$(q "SELECT indexname FROM pg_indexes WHERE tablename = 'auth_sessions'
	      AND indexdef LIKE '%COALESCE(last_token_update_date, created_at, ''-infinity''%'")"
check_eq "fresh: one user_email index" 1 "$(m_email_indexes)"
check_match "fresh: seed_row prints a uuid" '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' \
	"$(seed_row ok-fresh a@example.com '[{"name":"AWSALB","value":"v"}]' fp1)"
check_eq "fresh: seeded row defaults" "0||||fp1" \
	"$(q "SELECT token_update_count || '|' || coalesce(last_token_update_date::text, '') || '|'
	      || coalesce(last_token_update_error, '') || '|' || coalesce(token_update_claimed_until::text, '')
	      || '|' || fingerprint FROM auth_sessions WHERE aimharder_token = 'ok-fresh'")"
check_eq "fresh: seed_row without fingerprint stores NULL" "t" \
	"$(id=$(seed_row ok-nofp) && q "SELECT fingerprint IS NULL FROM auth_sessions WHERE id = '$id'")"

# --- idempotence ---
dump_before=$(m_dump)
ident_before=$(m_table_identity)
rows_before=$(q "SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM auth_sessions t")
check "idempotent: second run succeeds" migrate
check "idempotent: third run succeeds" migrate
check_eq "idempotent: schema dump unchanged" "$dump_before" "$(m_dump)"
check_eq "idempotent: table neither rewritten nor altered" "$ident_before" "$(m_table_identity)"
check_eq "idempotent: rows unchanged" "$rows_before" \
	"$(q "SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM auth_sessions t")"
check "idempotent: schema dump is not empty" grep -q "CREATE TABLE public.auth_sessions" <<<"$dump_before"

# --- legacy: the seed application's table as it exists in production ---
q "DROP TABLE IF EXISTS auth_sessions CASCADE"
psql -X -q -v ON_ERROR_STOP=1 <<-'EOF'
	CREATE TABLE auth_sessions (
		id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
		user_email varchar(255) NOT NULL,
		aimharder_token text NOT NULL,
		aimharder_cookies jsonb NOT NULL,
		fingerprint varchar(50),
		created_at timestamptz DEFAULT now(),
		updated_at timestamptz DEFAULT now(),
		last_token_update_date timestamp without time zone
	);
	CREATE INDEX idx_auth_sessions_user_email ON auth_sessions (user_email);
	CREATE OR REPLACE FUNCTION legacy_set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
		NEW.updated_at = now();
		RETURN NEW;
	END
	$$;
	CREATE TRIGGER update_auth_sessions_updated_at BEFORE UPDATE ON auth_sessions
		FOR EACH ROW EXECUTE FUNCTION legacy_set_updated_at();
	ALTER TABLE auth_sessions ENABLE ROW LEVEL SECURITY;
	CREATE POLICY "Users manage their own sessions" ON auth_sessions
		FOR ALL USING (user_email = current_user);
	INSERT INTO auth_sessions (id, user_email, aimharder_token, aimharder_cookies, fingerprint,
	                           created_at, updated_at, last_token_update_date) VALUES
		('11111111-1111-1111-1111-111111111111', 'ana@example.com', 'tok-ana',
		 '[{"name":"AWSALB","value":"a1"},{"name":"PHPSESSID","value":"p1"}]', 'fp-ana',
		 '2024-01-01 00:00:00+00', '2024-03-10 12:40:00+00', '2024-03-10 12:34:56'),
		('22222222-2222-2222-2222-222222222222', 'bo@example.com', 'tok-bo', '[]', NULL,
		 '2024-02-02 00:00:00+00', '2024-02-02 00:00:00+00', NULL);
EOF
rows_before=$(q "SELECT string_agg(id || ' ' || user_email || ' ' || aimharder_token || ' '
                 || aimharder_cookies::text || ' ' || coalesce(fingerprint, '-') || ' ' || created_at
                 || ' ' || updated_at, E'\n' ORDER BY id) FROM auth_sessions")
# A session time zone other than UTC must not change how the old values are read.
check "legacy: migrations apply to the seed app's table" m_migrate_new_york
cols=$(m_columns)
check_eq "legacy: last_token_update_date is now timestamptz" \
	"last_token_update_date timestamp with time zone" "$(m_col last_token_update_date "$cols")"
check_eq "legacy: old value preserved, read as UTC" "2024-03-10 12:34:56+00" \
	"$(q "SET TimeZone = 'UTC'; SELECT last_token_update_date FROM auth_sessions
	      WHERE id = '11111111-1111-1111-1111-111111111111'")"
check_eq "legacy: NULL stays NULL" "t" \
	"$(q "SELECT last_token_update_date IS NULL FROM auth_sessions
	      WHERE id = '22222222-2222-2222-2222-222222222222'")"
check_eq "legacy: token_update_count added" "token_update_count integer not null default 0" \
	"$(m_col token_update_count "$cols")"
check_eq "legacy: last_token_update_error added" "last_token_update_error text" \
	"$(m_col last_token_update_error "$cols")"
check_eq "legacy: token_update_claimed_until added" "token_update_claimed_until timestamp with time zone" \
	"$(m_col token_update_claimed_until "$cols")"
check_eq "legacy: existing rows get token_update_count 0" "0 0" \
	"$(q "SELECT string_agg(token_update_count::text, ' ') FROM auth_sessions")"
check_eq "legacy: data intact (ids, emails, tokens, cookies, fingerprints, dates)" "$rows_before" \
	"$(q "SELECT string_agg(id || ' ' || user_email || ' ' || aimharder_token || ' '
	      || aimharder_cookies::text || ' ' || coalesce(fingerprint, '-') || ' ' || created_at
	      || ' ' || updated_at, E'\n' ORDER BY id) FROM auth_sessions")"
check_eq "legacy: updated_at trigger still exists" "update_auth_sessions_updated_at" \
	"$(q "SELECT tgname FROM pg_trigger WHERE tgrelid = 'auth_sessions'::regclass AND NOT tgisinternal")"
check_eq "legacy: RLS still enabled" "t" \
	"$(q "SELECT relrowsecurity FROM pg_class WHERE oid = 'auth_sessions'::regclass")"
check_eq "legacy: RLS policy still exists" "Users manage their own sessions" \
	"$(q "SELECT policyname FROM pg_policies WHERE tablename = 'auth_sessions'")"
check_eq "legacy: trigger still fires" "t" \
	"$(q "UPDATE auth_sessions SET fingerprint = 'fp-ana2'
	      WHERE id = '11111111-1111-1111-1111-111111111111' RETURNING updated_at > now() - interval '1 minute'")"
check_eq "legacy: due index exists" 1 \
	"$(q "SELECT count(*) FROM pg_indexes WHERE tablename = 'auth_sessions'
	      AND indexname = 'auth_sessions_token_update_due_idx'")"
check_eq "legacy: no second user_email index" 1 "$(m_email_indexes)"
q "INSERT INTO auth_sessions (user_email, aimharder_token, aimharder_cookies, created_at)
   SELECT 'u' || g || '@example.com', 'tok-' || g, '[]', now() - g * interval '1 minute'
   FROM generate_series(1, 2000) g; ANALYZE auth_sessions" >/dev/null
plan=$(m_explain_due)
check "legacy: due query uses the due index" grep -q auth_sessions_token_update_due_idx <<<"$plan" ||
	printf '#   | %s\n' "$plan"
check "legacy: due query needs no sort" bash -c "! grep -q 'Sort' <<<\"\$1\"" _ "$plan"
dump_before=$(m_dump)
check "legacy: second run succeeds" migrate
check_eq "legacy: second run changes nothing" "$dump_before" "$(m_dump)"

# --- legacy: a nullable token_update_count without default ---
q "DROP TABLE auth_sessions CASCADE"
q "CREATE TABLE auth_sessions (id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
   user_email varchar(255) NOT NULL, aimharder_token text NOT NULL, aimharder_cookies jsonb NOT NULL,
   fingerprint varchar(50), created_at timestamptz DEFAULT now(), updated_at timestamptz DEFAULT now(),
   token_update_count integer);
   INSERT INTO auth_sessions (user_email, aimharder_token, aimharder_cookies, token_update_count)
   VALUES ('a@example.com', 't1', '[]', NULL), ('b@example.com', 't2', '[]', 7)"
check "legacy count: migrations apply" migrate
check_eq "legacy count: column completed" "token_update_count integer not null default 0" \
	"$(m_col token_update_count "$(m_columns)")"
check_eq "legacy count: NULL became 0, 7 kept" "0 7" \
	"$(q "SELECT string_agg(token_update_count::text, ' ' ORDER BY aimharder_token) FROM auth_sessions")"

q "DROP TABLE auth_sessions CASCADE; DROP FUNCTION IF EXISTS legacy_set_updated_at()"

# --- the test database itself (lib.sh) ---
check_eq "lib: DATABASE_URL alone connects (password, socket dir, port)" "refresher_test" \
	"$(env -u PGPASSWORD -u PGHOST -u PGPORT -u PGUSER -u PGDATABASE \
		psql -X -At -d "$DATABASE_URL" -c "SELECT current_database()")"
check "lib: a wrong password is refused (scram-sha-256)" bash -c \
	"! PGPASSWORD=wrong psql -X -At -c 'SELECT 1'"
check_eq "lib: no TCP listener" "" "$(q "SHOW listen_addresses")"
started=$(q "SELECT pg_postmaster_start_time()")
check "lib: pg_restart" pg_restart
check "lib: the server came back with a new start time" \
	test "$(q "SELECT pg_postmaster_start_time()")" != "$started"
unset started
unset -f m_migrate_new_york m_columns m_col m_dump m_table_identity m_explain_due m_email_indexes
unset cols dump_before ident_before rows_before plan
