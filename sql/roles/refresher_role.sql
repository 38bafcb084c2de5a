-- refresher_role.sql - a least-privilege login role for the refresher (optional, not a migration).
--
-- Why: the refresher should not run with the postgres password. This role may read the sessions
-- table, update exactly the columns the refresher writes, and delete rows (logouts); nothing
-- else. Where the table has row level security, it also gets a policy that lets it see, update
-- and delete every row (refresher_all_<role>): then set `database.row_security: allow` in refresher.yaml (a role under
-- row security that sees only some rows would silently never refresh the others, so the
-- refresher refuses to run under row security unless told). To narrow the rows it may touch,
-- edit the policy's USING to the same predicate as database.where.
--
-- Triggers run with the rights of the role that fires them unless their function is SECURITY
-- DEFINER: if a DELETE trigger on the table writes another table (the seed application's
-- removes user_boxes), make its function SECURITY DEFINER or grant that table to this role.
--
-- Apply as the table's owner, after the migrations in sql/ (idempotent; a new password may be
-- given on any run):
--   psql -v ON_ERROR_STOP=1 -v password="$REFRESHER_DB_PASSWORD" -f sql/roles/refresher_role.sql
-- Variables (psql -v name=value), all optional:
--   role      login role to create or update (default refresher)
--   password  its password (default: leave it as it is; set one before it can log in)
--   table     the sessions table in the current schema (default auth_sessions)
--   columns   the application columns the refresher writes (default the aimharder ones:
--             aimharder_token, aimharder_cookies; oauth2 e.g. 'refresh_token, access_token,
--             access_token_expires_at')
-- Then connect the refresher as that role: DATABASE_URL=postgresql://refresher:...@host/db

\set ON_ERROR_STOP on
SET client_min_messages = warning;

\if :{?role}
\else
\set role refresher
\endif
\if :{?table}
\else
\set table auth_sessions
\endif
\if :{?columns}
\else
\set columns 'aimharder_token, aimharder_cookies'
\endif

BEGIN;

SELECT NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') AS refresher_role_missing,
	current_schema() AS refresher_schema,
	EXISTS (SELECT 1 FROM pg_attribute
		WHERE attrelid = to_regclass(quote_ident(:'table')) AND attname = 'updated_at'
		AND NOT attisdropped) AS refresher_has_updated_at,
	(SELECT relrowsecurity FROM pg_class WHERE oid = to_regclass(quote_ident(:'table')))
		AS refresher_rls,
	'refresher_all_' || :'role' AS refresher_policy,
	NOT EXISTS (SELECT 1 FROM pg_policy
		WHERE polrelid = to_regclass(quote_ident(:'table'))
		AND polname = 'refresher_all_' || :'role') AS refresher_policy_missing
\gset

\if :refresher_role_missing
CREATE ROLE :"role" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT;
\endif
\if :{?password}
ALTER ROLE :"role" PASSWORD :'password';
\endif

GRANT USAGE ON SCHEMA :"refresher_schema" TO :"role";
-- Reading every column lets database.where and refresh.keep_when use the application's own.
GRANT SELECT ON :"table" TO :"role";
GRANT UPDATE (:columns, last_token_update_date, token_update_count, last_token_update_error,
	token_update_claimed_until) ON :"table" TO :"role";
\if :refresher_has_updated_at
GRANT UPDATE (updated_at) ON :"table" TO :"role";
\endif
GRANT DELETE ON :"table" TO :"role";

\if :refresher_rls
\if :refresher_policy_missing
CREATE POLICY :"refresher_policy" ON :"table" FOR ALL TO :"role" USING (true) WITH CHECK (true);
\endif
\endif

COMMIT;
