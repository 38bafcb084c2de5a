-- 002_refresher_columns.sql - the columns the refresher owns, added to auth_sessions.
--
-- Why: the refresher records when and how often each session's token was refreshed, why the last
-- attempt failed, and which rows a run has leased (claimed) so that overlapping runs never call
-- the same row twice. These columns are the refresher's; the application's columns, its
-- updated_at trigger and its RLS policies are left as they are.
--
--   last_token_update_date      when the token was last refreshed (NULL: never; created_at counts)
--   token_update_count          how many times the refresher refreshed this row
--   last_token_update_error     one-line reason of the last failure (NULL after a success)
--   token_update_claimed_until  lease: a run owns the row until then (NULL or past: free)
--
-- Older versions of the seed application created last_token_update_date as `timestamp without
-- time zone` holding UTC wall-clock values; it is converted to timestamptz, reading the old
-- values as UTC. The conversion runs only when the column still has the old type, so applying
-- this file again changes nothing.
--
-- Apply with: psql -v ON_ERROR_STOP=1 -f sql/002_refresher_columns.sql (idempotent).

SET client_min_messages = warning;

BEGIN;

SET LOCAL lock_timeout = '30s';

-- Legacy type first: the ALTER rewrites the table once; indexes on the column (003) follow it.
DO $$
BEGIN
	IF EXISTS (
		SELECT 1 FROM information_schema.columns
		WHERE table_schema = current_schema()
		  AND table_name = 'auth_sessions'
		  AND column_name = 'last_token_update_date'
		  AND data_type = 'timestamp without time zone'
	) THEN
		ALTER TABLE auth_sessions
			ALTER COLUMN last_token_update_date TYPE timestamptz
			USING last_token_update_date AT TIME ZONE 'UTC';
	END IF;
END
$$;

ALTER TABLE auth_sessions
	ADD COLUMN IF NOT EXISTS last_token_update_date timestamptz,
	ADD COLUMN IF NOT EXISTS token_update_count integer NOT NULL DEFAULT 0,
	ADD COLUMN IF NOT EXISTS last_token_update_error text,
	ADD COLUMN IF NOT EXISTS token_update_claimed_until timestamptz;

-- A legacy token_update_count may exist without its default or NOT NULL: complete it, only
-- when something is missing (each statement here would otherwise touch the catalog again).
DO $$
DECLARE
	col record;
BEGIN
	SELECT is_nullable, column_default INTO col
	FROM information_schema.columns
	WHERE table_schema = current_schema()
	  AND table_name = 'auth_sessions'
	  AND column_name = 'token_update_count';
	IF col.column_default IS NULL THEN
		ALTER TABLE auth_sessions ALTER COLUMN token_update_count SET DEFAULT 0;
	END IF;
	IF col.is_nullable = 'YES' THEN
		UPDATE auth_sessions SET token_update_count = 0 WHERE token_update_count IS NULL;
		ALTER TABLE auth_sessions ALTER COLUMN token_update_count SET NOT NULL;
	END IF;
END
$$;

COMMENT ON COLUMN auth_sessions.last_token_update_date IS
	'refresher: when the token was last refreshed (NULL: never; created_at counts)';
COMMENT ON COLUMN auth_sessions.token_update_count IS
	'refresher: number of successful token refreshes';
COMMENT ON COLUMN auth_sessions.last_token_update_error IS
	'refresher: one-line reason of the last failed refresh, NULL after a success';
COMMENT ON COLUMN auth_sessions.token_update_claimed_until IS
	'refresher: lease; a run owns the row until this time (NULL or past: free)';

COMMIT;
