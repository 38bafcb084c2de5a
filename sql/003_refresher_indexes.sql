-- 003_refresher_indexes.sql - indexes for the refresher's due query and --email filter.
--
-- Why: every run asks for the oldest due rows:
--   WHERE coalesce(last_token_update_date, created_at, '-infinity') <= $cutoff
--     AND (token_update_claimed_until IS NULL OR token_update_claimed_until < now())
--   ORDER BY coalesce(last_token_update_date, created_at, '-infinity') LIMIT n FOR UPDATE SKIP LOCKED
-- ('-infinity' makes a row with neither date due, and first, without an OR that would keep the
-- planner from walking the index in order.)
-- An index on exactly that expression serves both the range condition and the order, so a run
-- reads the few due rows instead of the whole table. (A partial index on the claim cannot be
-- used: now() is not immutable.) `--email` looks rows up by user_email; an index is added only
-- when the table has none whose first column is user_email (the application may have its own).
--
-- Plain CREATE INDEX (not CONCURRENTLY) so the file runs inside one transaction; it blocks writes
-- to the table for the time of the build, which is short for a sessions table.
--
-- Apply with: psql -v ON_ERROR_STOP=1 -f sql/003_refresher_indexes.sql (idempotent).

SET client_min_messages = warning;

BEGIN;

SET LOCAL lock_timeout = '30s';

CREATE INDEX IF NOT EXISTS auth_sessions_token_update_due_idx
	ON auth_sessions ((coalesce(last_token_update_date, created_at, '-infinity'::timestamptz)));

DO $$
BEGIN
	IF NOT EXISTS (
		SELECT 1
		FROM pg_index i
		JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
		WHERE i.indrelid = 'auth_sessions'::regclass
		  AND a.attname = 'user_email'
	) THEN
		CREATE INDEX auth_sessions_user_email_idx ON auth_sessions (user_email);
	END IF;
END
$$;

COMMIT;
