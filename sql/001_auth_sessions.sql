-- 001_auth_sessions.sql - the seed application's auth_sessions table, created only when absent.
--
-- Why: on a fresh database (tests, a demo, a new deployment) the refresher needs the table the
-- seed application would have created. On a database where the application already made it
-- (Supabase and the like), this file changes nothing: CREATE TABLE IF NOT EXISTS leaves the
-- existing table, its data, triggers and RLS policies alone.
--
-- The table is created in the current schema (the first schema of search_path that exists), the
-- same one the later files look up. Nothing here is Supabase-only; gen_random_uuid() is core
-- PostgreSQL since version 13.
--
-- Apply with: psql -v ON_ERROR_STOP=1 -f sql/001_auth_sessions.sql (idempotent).

SET client_min_messages = warning;

BEGIN;

-- Give up instead of queueing the application's traffic behind a long lock wait.
SET LOCAL lock_timeout = '30s';

CREATE TABLE IF NOT EXISTS auth_sessions (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	user_email varchar(255) NOT NULL,
	aimharder_token text NOT NULL,
	-- A JSON array of {"name": ..., "value": ...} objects.
	aimharder_cookies jsonb NOT NULL,
	-- NULL or empty: the refresher sends upstream.fingerprint instead.
	fingerprint varchar(50),
	created_at timestamptz DEFAULT now(),
	updated_at timestamptz DEFAULT now()
);

COMMIT;
