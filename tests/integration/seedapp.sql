-- seedapp.sql - the seed application's auth_sessions as it is today (Next.js + Supabase), for tests.
--
-- Built from what the application's own migrations do, not from what the refresher needs:
-- several sessions per user (one `background` session its scheduled pre-bookings use, one
-- `device` session per browser), a `protected` flag, fingerprint NOT NULL, UNIQUE (user_email,
-- fingerprint), one background session per user, row level security with separate policies
-- keyed on the caller's JWT claims plus one for the service role, its updated_at trigger, and
-- an AFTER DELETE trigger that removes the user's boxes when their last session goes. The
-- refresher's own migrations (sql/*.sql) are applied after it, as on a real deployment, and
-- convert its legacy `last_token_update_date timestamp`.
--
-- Run as the table's owner: psql -v ON_ERROR_STOP=1 -f tests/integration/seedapp.sql

SET client_min_messages = warning;

DROP TABLE IF EXISTS auth_sessions CASCADE;
DROP TABLE IF EXISTS user_boxes CASCADE;

CREATE TABLE auth_sessions (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	user_email varchar(255) NOT NULL,
	aimharder_token text NOT NULL,
	aimharder_cookies jsonb NOT NULL,
	fingerprint varchar(50) NOT NULL,
	session_type varchar(20) NOT NULL DEFAULT 'device'
		CHECK (session_type IN ('background', 'device')),
	protected boolean NOT NULL DEFAULT false,
	last_token_update_date timestamp,
	created_at timestamptz DEFAULT now(),
	updated_at timestamptz DEFAULT now(),
	CONSTRAINT auth_sessions_user_email_fingerprint_key UNIQUE (user_email, fingerprint)
);

-- One background session per user.
CREATE UNIQUE INDEX auth_sessions_one_background_idx ON auth_sessions (user_email)
	WHERE session_type = 'background';

-- The boxes (gyms) a user books at; they go when the user's last session goes.
CREATE TABLE user_boxes (
	id bigserial PRIMARY KEY,
	user_email varchar(255) NOT NULL,
	box_name text NOT NULL
);

CREATE OR REPLACE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	NEW.updated_at := now();
	RETURN NEW;
END
$$;

CREATE TRIGGER auth_sessions_updated_at BEFORE UPDATE ON auth_sessions
	FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- SECURITY DEFINER (as Supabase functions usually are): it runs with its owner's rights, so a
-- role that may delete a session need not be granted user_boxes.
CREATE OR REPLACE FUNCTION delete_boxes_after_last_session() RETURNS trigger
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM auth_sessions WHERE user_email = OLD.user_email) THEN
		DELETE FROM user_boxes WHERE user_email = OLD.user_email;
	END IF;
	RETURN OLD;
END
$$;

CREATE TRIGGER auth_sessions_delete_boxes AFTER DELETE ON auth_sessions
	FOR EACH ROW EXECUTE FUNCTION delete_boxes_after_last_session();

ALTER TABLE auth_sessions ENABLE ROW LEVEL SECURITY;

CREATE POLICY sessions_select_own ON auth_sessions FOR SELECT
	USING (user_email = current_setting('request.jwt.claims', true)::json->>'email');
CREATE POLICY sessions_insert_own ON auth_sessions FOR INSERT
	WITH CHECK (user_email = current_setting('request.jwt.claims', true)::json->>'email');
CREATE POLICY sessions_update_own ON auth_sessions FOR UPDATE
	USING (user_email = current_setting('request.jwt.claims', true)::json->>'email')
	WITH CHECK (user_email = current_setting('request.jwt.claims', true)::json->>'email');
-- Users may delete only their device sessions.
CREATE POLICY sessions_delete_own_device ON auth_sessions FOR DELETE
	USING (user_email = current_setting('request.jwt.claims', true)::json->>'email'
	       AND session_type = 'device');
CREATE POLICY sessions_service_role ON auth_sessions FOR ALL
	USING (current_setting('request.jwt.claims', true)::json->>'role' = 'service_role')
	WITH CHECK (current_setting('request.jwt.claims', true)::json->>'role' = 'service_role');
