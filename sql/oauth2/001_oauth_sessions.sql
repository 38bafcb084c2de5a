-- 001_oauth_sessions.sql - an example table for the oauth2 profile (refresh-token grant).
--
-- Separate from sql/*.sql (the aimharder table's migrations): apply it only for an app that
-- keeps OAuth 2.0 refresh tokens, with
--   psql -v ON_ERROR_STOP=1 -f sql/oauth2/001_oauth_sessions.sql
-- and point refresher.oauth2.yaml's database.table / database.columns at it. Idempotent.
--
-- Roles (database.columns): id, email, token = refresh_token (rotated when the provider returns a
-- new one), access_token, expires_at = access_token_expires_at. The four refresher-owned columns
-- keep their names. A row is due when its access token expires within refresh.ahead, has no
-- expiry, or was not refreshed for refresh.stale_after.

SET client_min_messages = warning;

BEGIN;

SET LOCAL lock_timeout = '30s';

CREATE TABLE IF NOT EXISTS oauth_sessions (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	user_email varchar(255) NOT NULL,
	refresh_token text NOT NULL,
	access_token text,
	access_token_expires_at timestamptz,
	created_at timestamptz DEFAULT now(),
	updated_at timestamptz DEFAULT now()
);

ALTER TABLE oauth_sessions ADD COLUMN IF NOT EXISTS last_token_update_date timestamptz;
ALTER TABLE oauth_sessions ADD COLUMN IF NOT EXISTS token_update_count integer NOT NULL DEFAULT 0;
ALTER TABLE oauth_sessions ADD COLUMN IF NOT EXISTS last_token_update_error text;
ALTER TABLE oauth_sessions ADD COLUMN IF NOT EXISTS token_update_claimed_until timestamptz;

-- The stale rule's order (as for auth_sessions), and the expiry rule's range.
CREATE INDEX IF NOT EXISTS oauth_sessions_token_update_due_idx
	ON oauth_sessions ((coalesce(last_token_update_date, created_at, '-infinity'::timestamptz)));
CREATE INDEX IF NOT EXISTS oauth_sessions_expires_idx ON oauth_sessions (access_token_expires_at);
CREATE INDEX IF NOT EXISTS oauth_sessions_user_email_idx ON oauth_sessions (user_email);

COMMIT;
