/* test_sqlbuild.c - golden texts: configs and the exact statements db.c sends for them; quoting. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "sqlbuild.h"
#include "suites.h"

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))
/* Two lines that make a document valid. */
#define DB "database:\n  url: postgres://h/db\n"

/*
 * The expected texts below were captured from db.c before the statements
 * moved to sqlbuild.c. To keep them readable, ` stands for " (the
 * identifier quote) in them; the statements themselves never hold a `.
 */

/* want with every ` turned into ". Caller frees. */
static char *unbacktick(const char *want)
{
	char *s = strdup(want);
	ck_assert_ptr_nonnull(s);
	for (char *p = s; *p; p++)
		if (*p == '`')
			*p = '"';
	return s;
}

/* Fails with where got and want first differ, and what follows there in each. */
static void expect_sql(const char *what, char *got, const char *want_bt)
{
	char *want = unbacktick(want_bt);
	ck_assert_msg(got != NULL, "%s: NULL", what);
	ck_assert_msg(strchr(got, '`') == NULL, "%s: holds a backtick: %s", what, got);
	size_t i = 0;
	while (got[i] != '\0' && got[i] == want[i])
		i++;
	size_t from = i > 40 ? i - 40 : 0;
	ck_assert_msg(got[i] == want[i], "%s: differs at byte %zu:\n  got:  ...%.120s\n  want: ...%.120s",
	    what, i, got + from, want + from);
	free(want);
	free(got);
}

/* The schema facts a statement is built with (db.c learns them from the database). */
struct facts {
	const char *id_type, *cookies_type;
	int has_updated_at;
};

static const struct stmt_case {
	const char *name, *yaml;
	struct facts facts;
	const char *count, *list, *claim, *write;
} stmt_cases[] = {
	{
		.name = "aimharder_defaults",
		.yaml = DB,
		.facts = { "uuid", "jsonb", 1 },
		.count = "SELECT count(*), 0 FROM `auth_sessions` AS `auth_sessions`"
		    " WHERE (coalesce(`auth_sessions`.last_token_update_date, `auth_sessions`.created_at,"
		    " '-infinity'::timestamptz) <= ($1::timestamp AT TIME ZONE 'UTC'))"
		    " AND (`auth_sessions`.token_update_claimed_until IS NULL OR"
		    " `auth_sessions`.token_update_claimed_until < now())"
		    " AND ($2::text IS NULL OR `auth_sessions`.`user_email` = $2::text)"
		    " AND ($3::int = 0 OR abs(hashtext(`auth_sessions`.`id`::text)::bigint) % $3::int ="
		    " $4::int)"
		    " AND NOT (`auth_sessions`.`id` = ANY($5::uuid[]))",
		.list = "SELECT `auth_sessions`.`user_email`::text, `auth_sessions`.`aimharder_token`"
		    " FROM `auth_sessions` AS `auth_sessions`"
		    " WHERE (coalesce(`auth_sessions`.last_token_update_date, `auth_sessions`.created_at,"
		    " '-infinity'::timestamptz) <= ($1::timestamp AT TIME ZONE 'UTC'))"
		    " AND (`auth_sessions`.token_update_claimed_until IS NULL OR"
		    " `auth_sessions`.token_update_claimed_until < now())"
		    " AND ($2::text IS NULL OR `auth_sessions`.`user_email` = $2::text)"
		    " AND ($3::int = 0 OR abs(hashtext(`auth_sessions`.`id`::text)::bigint) % $3::int ="
		    " $4::int)"
		    " AND NOT (`auth_sessions`.`id` = ANY($5::uuid[]))"
		    " ORDER BY coalesce(`auth_sessions`.last_token_update_date, `auth_sessions`.created_at,"
		    " '-infinity'::timestamptz)"
		    " LIMIT CASE WHEN $6::bigint > 0 THEN $6::bigint END",
		.claim = "WITH due AS MATERIALIZED (SELECT `auth_sessions`.`id` AS id"
		    " FROM `auth_sessions` AS `auth_sessions`"
		    " WHERE (coalesce(`auth_sessions`.last_token_update_date, `auth_sessions`.created_at,"
		    " '-infinity'::timestamptz) <= ($1::timestamp AT TIME ZONE 'UTC'))"
		    " AND (`auth_sessions`.token_update_claimed_until IS NULL OR"
		    " `auth_sessions`.token_update_claimed_until < now())"
		    " AND ($2::text IS NULL OR `auth_sessions`.`user_email` = $2::text)"
		    " AND ($3::int = 0 OR abs(hashtext(`auth_sessions`.`id`::text)::bigint) % $3::int ="
		    " $4::int)"
		    " AND NOT (`auth_sessions`.`id` = ANY($5::uuid[]))"
		    " AND ($8::text IS NULL OR coalesce(`auth_sessions`.last_token_update_date, `auth_sessions`.created_at,"
		    " '-infinity'::timestamptz) >= ($8::timestamp AT TIME ZONE 'UTC'))"
		    " ORDER BY coalesce(`auth_sessions`.last_token_update_date, `auth_sessions`.created_at,"
		    " '-infinity'::timestamptz)"
		    " LIMIT $6::int FOR UPDATE SKIP LOCKED)"
		    " UPDATE `auth_sessions` t SET token_update_claimed_until = now() + $7::bigint *"
		    " interval '1 millisecond'"
		    " FROM due WHERE t.`id` = due.id"
		    " RETURNING t.`id`::text, t.`user_email`::text, t.`aimharder_token`,"
		    " t.`aimharder_cookies`::text, t.`fingerprint`::text,"
		    " to_char(t.token_update_claimed_until AT TIME ZONE 'UTC', 'YYYY-MM-DD`T`HH24:MI:SS.US'),"
		    " NULL::text,"
		    " CASE WHEN coalesce(t.last_token_update_date, t.created_at, '-infinity'::timestamptz) >="
		    " '1000-01-01 00:00:00+00'::timestamptz THEN to_char(coalesce(t.last_token_update_date,"
		    " t.created_at, '-infinity'::timestamptz) AT TIME ZONE 'UTC', 'YYYY-MM-DD`T`HH24:MI:SS.US') END",
		.write = "WITH res AS MATERIALIZED (SELECT *"
		    " FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[], $5::text[], $6::text[],"
		    " $7::text[], $8::text[], $9::text[]) WITH ORDINALITY AS x(id, kind, sent, tok, cookies,"
		    " reason, claim, atok, exp, ord)),"
		    " upd AS (UPDATE `auth_sessions` t SET `aimharder_token` = x.tok, `aimharder_cookies` ="
		    " x.cookies::jsonb, last_token_update_date = now(), token_update_count ="
		    " t.token_update_count + 1, last_token_update_error = NULL, token_update_claimed_until ="
		    " CASE WHEN t.token_update_claimed_until = (x.claim::timestamp AT TIME ZONE 'UTC') THEN"
		    " NULL ELSE t.token_update_claimed_until END, updated_at = now()"
		    " FROM res x WHERE x.kind = 0 AND t.`id` = x.id"
		    " AND (t.`aimharder_token` = x.sent OR t.`aimharder_token` = x.tok)"
		    " RETURNING x.ord, 'r'::text AS how),"
		    " km AS (UPDATE `auth_sessions` t SET last_token_update_error = CASE WHEN x.kind = 5"
		    " AND NOT false THEN 'logout (not deleted: mass logout)' ELSE 'logout' END,"
		    " last_token_update_date = CASE WHEN x.kind = 5"
		    " AND NOT false THEN t.last_token_update_date ELSE now() END, token_update_claimed_until"
		    " = CASE WHEN t.token_update_claimed_until = (x.claim::timestamp AT TIME ZONE 'UTC')"
		    " THEN NULL ELSE t.token_update_claimed_until END"
		    " FROM res x WHERE x.kind IN (1, 4, 5) AND t.`id` = x.id AND t.`aimharder_token` = x.sent"
		    " AND (x.kind = 5 OR false OR false OR (x.kind IN (1, 4)"
		    " AND (t.token_update_claimed_until > now()"
		    " AND t.token_update_claimed_until <> (x.claim::timestamp AT TIME ZONE 'UTC'))))"
		    " RETURNING x.ord, CASE WHEN false THEN 'K' WHEN t.last_token_update_error = 'logout"
		    " (not deleted: mass logout)' THEN 'm' WHEN false THEN 'k' WHEN x.kind IN (1, 4)"
		    " AND (t.token_update_claimed_until > now()"
		    " AND t.token_update_claimed_until <> (x.claim::timestamp AT TIME ZONE 'UTC')) THEN 'a'"
		    " ELSE 'k' END AS how),"
		    " del AS (DELETE FROM `auth_sessions` t USING res x WHERE x.kind = 1 AND t.`id` = x.id"
		    " AND t.`aimharder_token` = x.sent AND NOT false"
		    " AND NOT (t.token_update_claimed_until > now()"
		    " AND t.token_update_claimed_until <> (x.claim::timestamp AT TIME ZONE 'UTC'))"
		    " RETURNING x.ord, 'd'::text AS how),"
		    " held AS (UPDATE `auth_sessions` t SET token_update_claimed_until = now() + 600000 *"
		    " interval '1 millisecond'"
		    " FROM res x WHERE x.kind = 4 AND t.`id` = x.id AND t.`aimharder_token` = x.sent"
		    " AND NOT false"
		    " AND t.token_update_claimed_until = (x.claim::timestamp AT TIME ZONE 'UTC')"
		    " RETURNING x.ord, 'h'::text AS how, to_char(t.token_update_claimed_until AT TIME ZONE"
		    " 'UTC', 'YYYY-MM-DD`T`HH24:MI:SS.US') AS claim),"
		    " fail AS (UPDATE `auth_sessions` t SET last_token_update_error = x.reason,"
		    " token_update_claimed_until = CASE WHEN t.token_update_claimed_until ="
		    " (x.claim::timestamp AT TIME ZONE 'UTC') THEN NULL ELSE t.token_update_claimed_until END"
		    " FROM res x WHERE x.kind = 2 AND t.`id` = x.id AND t.`aimharder_token` = x.sent"
		    " RETURNING x.ord, 'f'::text AS how),"
		    " done AS (SELECT *, NULL::text AS claim FROM upd UNION ALL SELECT *, NULL FROM km"
		    " UNION ALL SELECT *, NULL FROM del UNION ALL SELECT * FROM held UNION ALL SELECT *, NULL"
		    " FROM fail),"
		    " sup AS (UPDATE `auth_sessions` t SET token_update_claimed_until = NULL FROM res x"
		    " WHERE x.kind <> 3 AND t.`id` = x.id AND x.ord NOT IN (SELECT ord FROM done"
		    " WHERE how <> 'n')"
		    " AND t.token_update_claimed_until = (x.claim::timestamp AT TIME ZONE 'UTC')"
		    " RETURNING t.`id`),"
		    " rel AS (UPDATE `auth_sessions` t SET token_update_claimed_until = NULL FROM res x"
		    " WHERE x.kind = 3 AND t.`id` = x.id"
		    " AND t.token_update_claimed_until = (x.claim::timestamp AT TIME ZONE 'UTC')"
		    " RETURNING t.`id`)"
		    " SELECT ord, how, claim FROM done",
	},
	{
		.name = "aimharder_no_updated_at",
		.yaml = DB
		    "refresh:\n  stale_after: 1h\n  lease: 90s\n",
		.facts = { "bigint", "text", 0 },
		.count = "SELECT count(*), 0 FROM `auth_sessions` AS `auth_sessions`"
		    " WHERE (coalesce(`auth_sessions`.last_token_update_date, `auth_sessions`.created_at,"
		    " '-infinity'::timestamptz) <= ($1::timestamp AT TIME ZONE 'UTC'))"
		    " AND (`auth_sessions`.token_update_claimed_until IS NULL OR"
		    " `auth_sessions`.token_update_claimed_until < now())"
		    " AND ($2::text IS NULL OR `auth_sessions`.`user_email` = $2::text)"
		    " AND ($3::int = 0 OR abs(hashtext(`auth_sessions`.`id`::text)::bigint) % $3::int ="
		    " $4::int)"
		    " AND NOT (`auth_sessions`.`id` = ANY($5::bigint[]))",
		.list = "SELECT `auth_sessions`.`user_email`::text, `auth_sessions`.`aimharder_token`"
		    " FROM `auth_sessions` AS `auth_sessions`"
		    " WHERE (coalesce(`auth_sessions`.last_token_update_date, `auth_sessions`.created_at,"
		    " '-infinity'::timestamptz) <= ($1::timestamp AT TIME ZONE 'UTC'))"
		    " AND (`auth_sessions`.token_update_claimed_until IS NULL OR"
		    " `auth_sessions`.token_update_claimed_until < now())"
		    " AND ($2::text IS NULL OR `auth_sessions`.`user_email` = $2::text)"
		    " AND ($3::int = 0 OR abs(hashtext(`auth_sessions`.`id`::text)::bigint) % $3::int ="
		    " $4::int)"
		    " AND NOT (`auth_sessions`.`id` = ANY($5::bigint[]))"
		    " ORDER BY coalesce(`auth_sessions`.last_token_update_date, `auth_sessions`.created_at,"
		    " '-infinity'::timestamptz)"
		    " LIMIT CASE WHEN $6::bigint > 0 THEN $6::bigint END",
		.claim = "WITH due AS MATERIALIZED (SELECT `auth_sessions`.`id` AS id"
		    " FROM `auth_sessions` AS `auth_sessions`"
		    " WHERE (coalesce(`auth_sessions`.last_token_update_date, `auth_sessions`.created_at,"
		    " '-infinity'::timestamptz) <= ($1::timestamp AT TIME ZONE 'UTC'))"
		    " AND (`auth_sessions`.token_update_claimed_until IS NULL OR"
		    " `auth_sessions`.token_update_claimed_until < now())"
		    " AND ($2::text IS NULL OR `auth_sessions`.`user_email` = $2::text)"
		    " AND ($3::int = 0 OR abs(hashtext(`auth_sessions`.`id`::text)::bigint) % $3::int ="
		    " $4::int)"
		    " AND NOT (`auth_sessions`.`id` = ANY($5::bigint[]))"
		    " AND ($8::text IS NULL OR coalesce(`auth_sessions`.last_token_update_date, `auth_sessions`.created_at,"
		    " '-infinity'::timestamptz) >= ($8::timestamp AT TIME ZONE 'UTC'))"
		    " ORDER BY coalesce(`auth_sessions`.last_token_update_date, `auth_sessions`.created_at,"
		    " '-infinity'::timestamptz)"
		    " LIMIT $6::int FOR UPDATE SKIP LOCKED)"
		    " UPDATE `auth_sessions` t SET token_update_claimed_until = now() + $7::bigint *"
		    " interval '1 millisecond'"
		    " FROM due WHERE t.`id` = due.id"
		    " RETURNING t.`id`::text, t.`user_email`::text, t.`aimharder_token`,"
		    " t.`aimharder_cookies`::text, t.`fingerprint`::text,"
		    " to_char(t.token_update_claimed_until AT TIME ZONE 'UTC', 'YYYY-MM-DD`T`HH24:MI:SS.US'),"
		    " NULL::text,"
		    " CASE WHEN coalesce(t.last_token_update_date, t.created_at, '-infinity'::timestamptz) >="
		    " '1000-01-01 00:00:00+00'::timestamptz THEN to_char(coalesce(t.last_token_update_date,"
		    " t.created_at, '-infinity'::timestamptz) AT TIME ZONE 'UTC', 'YYYY-MM-DD`T`HH24:MI:SS.US') END",
		.write = "WITH res AS MATERIALIZED (SELECT *"
		    " FROM unnest($1::bigint[], $2::int[], $3::text[], $4::text[], $5::text[], $6::text[],"
		    " $7::text[], $8::text[], $9::text[]) WITH ORDINALITY AS x(id, kind, sent, tok, cookies,"
		    " reason, claim, atok, exp, ord)),"
		    " upd AS (UPDATE `auth_sessions` t SET `aimharder_token` = x.tok, `aimharder_cookies` ="
		    " x.cookies::text, last_token_update_date = now(), token_update_count ="
		    " t.token_update_count + 1, last_token_update_error = NULL, token_update_claimed_until ="
		    " CASE WHEN t.token_update_claimed_until = (x.claim::timestamp AT TIME ZONE 'UTC') THEN"
		    " NULL ELSE t.token_update_claimed_until END"
		    " FROM res x WHERE x.kind = 0 AND t.`id` = x.id"
		    " AND (t.`aimharder_token` = x.sent OR t.`aimharder_token` = x.tok)"
		    " RETURNING x.ord, 'r'::text AS how),"
		    " km AS (UPDATE `auth_sessions` t SET last_token_update_error = CASE WHEN x.kind = 5"
		    " AND NOT false THEN 'logout (not deleted: mass logout)' ELSE 'logout' END,"
		    " last_token_update_date = CASE WHEN x.kind = 5"
		    " AND NOT false THEN t.last_token_update_date ELSE now() END, token_update_claimed_until"
		    " = CASE WHEN t.token_update_claimed_until = (x.claim::timestamp AT TIME ZONE 'UTC')"
		    " THEN NULL ELSE t.token_update_claimed_until END"
		    " FROM res x WHERE x.kind IN (1, 4, 5) AND t.`id` = x.id AND t.`aimharder_token` = x.sent"
		    " AND (x.kind = 5 OR false OR false OR (x.kind IN (1, 4)"
		    " AND (t.token_update_claimed_until > now()"
		    " AND t.token_update_claimed_until <> (x.claim::timestamp AT TIME ZONE 'UTC'))))"
		    " RETURNING x.ord, CASE WHEN false THEN 'K' WHEN t.last_token_update_error = 'logout"
		    " (not deleted: mass logout)' THEN 'm' WHEN false THEN 'k' WHEN x.kind IN (1, 4)"
		    " AND (t.token_update_claimed_until > now()"
		    " AND t.token_update_claimed_until <> (x.claim::timestamp AT TIME ZONE 'UTC')) THEN 'a'"
		    " ELSE 'k' END AS how),"
		    " del AS (DELETE FROM `auth_sessions` t USING res x WHERE x.kind = 1 AND t.`id` = x.id"
		    " AND t.`aimharder_token` = x.sent AND NOT false"
		    " AND NOT (t.token_update_claimed_until > now()"
		    " AND t.token_update_claimed_until <> (x.claim::timestamp AT TIME ZONE 'UTC'))"
		    " RETURNING x.ord, 'd'::text AS how),"
		    " held AS (UPDATE `auth_sessions` t SET token_update_claimed_until = now() + 90000 *"
		    " interval '1 millisecond'"
		    " FROM res x WHERE x.kind = 4 AND t.`id` = x.id AND t.`aimharder_token` = x.sent"
		    " AND NOT false"
		    " AND t.token_update_claimed_until = (x.claim::timestamp AT TIME ZONE 'UTC')"
		    " RETURNING x.ord, 'h'::text AS how, to_char(t.token_update_claimed_until AT TIME ZONE"
		    " 'UTC', 'YYYY-MM-DD`T`HH24:MI:SS.US') AS claim),"
		    " fail AS (UPDATE `auth_sessions` t SET last_token_update_error = x.reason,"
		    " token_update_claimed_until = CASE WHEN t.token_update_claimed_until ="
		    " (x.claim::timestamp AT TIME ZONE 'UTC') THEN NULL ELSE t.token_update_claimed_until END"
		    " FROM res x WHERE x.kind = 2 AND t.`id` = x.id AND t.`aimharder_token` = x.sent"
		    " RETURNING x.ord, 'f'::text AS how),"
		    " done AS (SELECT *, NULL::text AS claim FROM upd UNION ALL SELECT *, NULL FROM km"
		    " UNION ALL SELECT *, NULL FROM del UNION ALL SELECT * FROM held UNION ALL SELECT *, NULL"
		    " FROM fail),"
		    " sup AS (UPDATE `auth_sessions` t SET token_update_claimed_until = NULL FROM res x"
		    " WHERE x.kind <> 3 AND t.`id` = x.id AND x.ord NOT IN (SELECT ord FROM done"
		    " WHERE how <> 'n')"
		    " AND t.token_update_claimed_until = (x.claim::timestamp AT TIME ZONE 'UTC')"
		    " RETURNING t.`id`),"
		    " rel AS (UPDATE `auth_sessions` t SET token_update_claimed_until = NULL FROM res x"
		    " WHERE x.kind = 3 AND t.`id` = x.id"
		    " AND t.token_update_claimed_until = (x.claim::timestamp AT TIME ZONE 'UTC')"
		    " RETURNING t.`id`)"
		    " SELECT ord, how, claim FROM done",
	},
	{
		.name = "oauth2",
		.yaml = DB
		    "  table: oauth_sessions\n"
		    "  columns:\n    id: id\n    email: user_email\n    token: refresh_token\n"
		    "    access_token: access_token\n    expires_at: access_token_expires_at\n"
		    "    cookies: \"\"\n    fingerprint: \"\"\n"
		    "upstream:\n  profile: oauth2\n  url: https://idp/token\n  client_id: c\n  client_secret: s\n"
		    "refresh:\n  ahead: 5m\n  stale_after: 12h\n",
		.facts = { "uuid", NULL, 1 },
		.count = "SELECT count(*), 0 FROM `oauth_sessions` AS `oauth_sessions`"
		    " WHERE (coalesce(`oauth_sessions`.last_token_update_date, `oauth_sessions`.created_at,"
		    " '-infinity'::timestamptz) <= ($1::timestamp AT TIME ZONE 'UTC')"
		    " OR ((`oauth_sessions`.`access_token_expires_at` IS NULL OR"
		    " `oauth_sessions`.`access_token_expires_at` <= ($1::timestamp AT TIME ZONE 'UTC') +"
		    " 43500000 * interval '1 millisecond')"
		    " AND coalesce(`oauth_sessions`.last_token_update_date, '-infinity'::timestamptz) <"
		    " ($1::timestamp AT TIME ZONE 'UTC') + 43200000 * interval '1 millisecond'))"
		    " AND (`oauth_sessions`.token_update_claimed_until IS NULL OR"
		    " `oauth_sessions`.token_update_claimed_until < now())"
		    " AND ($2::text IS NULL OR `oauth_sessions`.`user_email` = $2::text)"
		    " AND ($3::int = 0 OR abs(hashtext(`oauth_sessions`.`id`::text)::bigint) % $3::int ="
		    " $4::int)"
		    " AND NOT (`oauth_sessions`.`id` = ANY($5::uuid[]))",
		.list = "SELECT `oauth_sessions`.`user_email`::text, `oauth_sessions`.`refresh_token`"
		    " FROM `oauth_sessions` AS `oauth_sessions`"
		    " WHERE (coalesce(`oauth_sessions`.last_token_update_date, `oauth_sessions`.created_at,"
		    " '-infinity'::timestamptz) <= ($1::timestamp AT TIME ZONE 'UTC')"
		    " OR ((`oauth_sessions`.`access_token_expires_at` IS NULL OR"
		    " `oauth_sessions`.`access_token_expires_at` <= ($1::timestamp AT TIME ZONE 'UTC') +"
		    " 43500000 * interval '1 millisecond')"
		    " AND coalesce(`oauth_sessions`.last_token_update_date, '-infinity'::timestamptz) <"
		    " ($1::timestamp AT TIME ZONE 'UTC') + 43200000 * interval '1 millisecond'))"
		    " AND (`oauth_sessions`.token_update_claimed_until IS NULL OR"
		    " `oauth_sessions`.token_update_claimed_until < now())"
		    " AND ($2::text IS NULL OR `oauth_sessions`.`user_email` = $2::text)"
		    " AND ($3::int = 0 OR abs(hashtext(`oauth_sessions`.`id`::text)::bigint) % $3::int ="
		    " $4::int)"
		    " AND NOT (`oauth_sessions`.`id` = ANY($5::uuid[]))"
		    " ORDER BY coalesce(`oauth_sessions`.last_token_update_date,"
		    " `oauth_sessions`.created_at, '-infinity'::timestamptz)"
		    " LIMIT CASE WHEN $6::bigint > 0 THEN $6::bigint END",
		.claim = "WITH due AS MATERIALIZED (SELECT `oauth_sessions`.`id` AS id"
		    " FROM `oauth_sessions` AS `oauth_sessions`"
		    " WHERE (coalesce(`oauth_sessions`.last_token_update_date, `oauth_sessions`.created_at,"
		    " '-infinity'::timestamptz) <= ($1::timestamp AT TIME ZONE 'UTC')"
		    " OR ((`oauth_sessions`.`access_token_expires_at` IS NULL OR"
		    " `oauth_sessions`.`access_token_expires_at` <= ($1::timestamp AT TIME ZONE 'UTC') +"
		    " 43500000 * interval '1 millisecond')"
		    " AND coalesce(`oauth_sessions`.last_token_update_date, '-infinity'::timestamptz) <"
		    " ($1::timestamp AT TIME ZONE 'UTC') + 43200000 * interval '1 millisecond'))"
		    " AND (`oauth_sessions`.token_update_claimed_until IS NULL OR"
		    " `oauth_sessions`.token_update_claimed_until < now())"
		    " AND ($2::text IS NULL OR `oauth_sessions`.`user_email` = $2::text)"
		    " AND ($3::int = 0 OR abs(hashtext(`oauth_sessions`.`id`::text)::bigint) % $3::int ="
		    " $4::int)"
		    " AND NOT (`oauth_sessions`.`id` = ANY($5::uuid[]))"
		    " AND ($8::text IS NULL OR coalesce(`oauth_sessions`.last_token_update_date, `oauth_sessions`.created_at,"
		    " '-infinity'::timestamptz) >= ($8::timestamp AT TIME ZONE 'UTC'))"
		    " ORDER BY coalesce(`oauth_sessions`.last_token_update_date,"
		    " `oauth_sessions`.created_at, '-infinity'::timestamptz)"
		    " LIMIT $6::int FOR UPDATE SKIP LOCKED)"
		    " UPDATE `oauth_sessions` t SET token_update_claimed_until = now() + $7::bigint *"
		    " interval '1 millisecond'"
		    " FROM due WHERE t.`id` = due.id"
		    " RETURNING t.`id`::text, t.`user_email`::text, t.`refresh_token`, NULL::text,"
		    " NULL::text, to_char(t.token_update_claimed_until AT TIME ZONE 'UTC',"
		    " 'YYYY-MM-DD`T`HH24:MI:SS.US'), t.`access_token`::text,"
		    " CASE WHEN coalesce(t.last_token_update_date, t.created_at, '-infinity'::timestamptz) >="
		    " '1000-01-01 00:00:00+00'::timestamptz THEN to_char(coalesce(t.last_token_update_date,"
		    " t.created_at, '-infinity'::timestamptz) AT TIME ZONE 'UTC', 'YYYY-MM-DD`T`HH24:MI:SS.US') END",
		.write = "WITH res AS MATERIALIZED (SELECT *"
		    " FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[], $5::text[], $6::text[],"
		    " $7::text[], $8::text[], $9::text[]) WITH ORDINALITY AS x(id, kind, sent, tok, cookies,"
		    " reason, claim, atok, exp, ord)),"
		    " upd AS (UPDATE `oauth_sessions` t SET `refresh_token` = x.tok, `access_token` ="
		    " x.atok, `access_token_expires_at` = to_timestamp(x.exp::double precision),"
		    " last_token_update_date = now(), token_update_count = t.token_update_count + 1,"
		    " last_token_update_error = NULL, token_update_claimed_until = CASE WHEN"
		    " t.token_update_claimed_until = (x.claim::timestamp AT TIME ZONE 'UTC') THEN NULL ELSE"
		    " t.token_update_claimed_until END, updated_at = now()"
		    " FROM res x WHERE x.kind = 0 AND t.`id` = x.id"
		    " AND (t.`refresh_token` = x.sent OR t.`refresh_token` = x.tok)"
		    " RETURNING x.ord, 'r'::text AS how),"
		    " km AS (UPDATE `oauth_sessions` t SET last_token_update_error = CASE WHEN x.kind = 5"
		    " AND NOT false THEN 'logout (not deleted: mass logout)' ELSE 'logout' END,"
		    " last_token_update_date = CASE WHEN x.kind = 5"
		    " AND NOT false THEN t.last_token_update_date ELSE now() END, token_update_claimed_until"
		    " = CASE WHEN t.token_update_claimed_until = (x.claim::timestamp AT TIME ZONE 'UTC')"
		    " THEN NULL ELSE t.token_update_claimed_until END"
		    " FROM res x WHERE x.kind IN (1, 4, 5) AND t.`id` = x.id AND t.`refresh_token` = x.sent"
		    " AND (x.kind = 5 OR false OR false OR (x.kind IN (1, 4)"
		    " AND (t.token_update_claimed_until > now()"
		    " AND t.token_update_claimed_until <> (x.claim::timestamp AT TIME ZONE 'UTC'))))"
		    " RETURNING x.ord, CASE WHEN false THEN 'K' WHEN t.last_token_update_error = 'logout"
		    " (not deleted: mass logout)' THEN 'm' WHEN false THEN 'k' WHEN x.kind IN (1, 4)"
		    " AND (t.token_update_claimed_until > now()"
		    " AND t.token_update_claimed_until <> (x.claim::timestamp AT TIME ZONE 'UTC')) THEN 'a'"
		    " ELSE 'k' END AS how),"
		    " del AS (DELETE FROM `oauth_sessions` t USING res x WHERE x.kind = 1 AND t.`id` = x.id"
		    " AND t.`refresh_token` = x.sent AND NOT false"
		    " AND NOT (t.token_update_claimed_until > now()"
		    " AND t.token_update_claimed_until <> (x.claim::timestamp AT TIME ZONE 'UTC'))"
		    " RETURNING x.ord, 'd'::text AS how),"
		    " held AS (UPDATE `oauth_sessions` t SET token_update_claimed_until = now() + 600000 *"
		    " interval '1 millisecond'"
		    " FROM res x WHERE x.kind = 4 AND t.`id` = x.id AND t.`refresh_token` = x.sent"
		    " AND NOT false"
		    " AND t.token_update_claimed_until = (x.claim::timestamp AT TIME ZONE 'UTC')"
		    " RETURNING x.ord, 'h'::text AS how, to_char(t.token_update_claimed_until AT TIME ZONE"
		    " 'UTC', 'YYYY-MM-DD`T`HH24:MI:SS.US') AS claim),"
		    " fail AS (UPDATE `oauth_sessions` t SET last_token_update_error = x.reason,"
		    " token_update_claimed_until = CASE WHEN t.token_update_claimed_until ="
		    " (x.claim::timestamp AT TIME ZONE 'UTC') THEN NULL ELSE t.token_update_claimed_until END"
		    " FROM res x WHERE x.kind = 2 AND t.`id` = x.id AND t.`refresh_token` = x.sent"
		    " RETURNING x.ord, 'f'::text AS how),"
		    " done AS (SELECT *, NULL::text AS claim FROM upd UNION ALL SELECT *, NULL FROM km"
		    " UNION ALL SELECT *, NULL FROM del UNION ALL SELECT * FROM held UNION ALL SELECT *, NULL"
		    " FROM fail),"
		    " sup AS (UPDATE `oauth_sessions` t SET token_update_claimed_until = NULL FROM res x"
		    " WHERE x.kind <> 3 AND t.`id` = x.id AND x.ord NOT IN (SELECT ord FROM done"
		    " WHERE how <> 'n')"
		    " AND t.token_update_claimed_until = (x.claim::timestamp AT TIME ZONE 'UTC')"
		    " RETURNING t.`id`),"
		    " rel AS (UPDATE `oauth_sessions` t SET token_update_claimed_until = NULL FROM res x"
		    " WHERE x.kind = 3 AND t.`id` = x.id"
		    " AND t.token_update_claimed_until = (x.claim::timestamp AT TIME ZONE 'UTC')"
		    " RETURNING t.`id`)"
		    " SELECT ord, how, claim FROM done",
	},
	{
		.name = "quoted_names",
		.yaml = DB
		    "  table: Billing.User_Sessions\n"
		    "  columns:\n    id: UserId\n    email: user\n    token: order\n"
		    "    cookies: Cookies\n    fingerprint: select\n",
		.facts = { "text", "json", 0 },
		.count = "SELECT count(*), 0 FROM `Billing`.`User_Sessions` AS `User_Sessions`"
		    " WHERE (coalesce(`User_Sessions`.last_token_update_date, `User_Sessions`.created_at,"
		    " '-infinity'::timestamptz) <= ($1::timestamp AT TIME ZONE 'UTC'))"
		    " AND (`User_Sessions`.token_update_claimed_until IS NULL OR"
		    " `User_Sessions`.token_update_claimed_until < now())"
		    " AND ($2::text IS NULL OR `User_Sessions`.`user` = $2::text)"
		    " AND ($3::int = 0 OR abs(hashtext(`User_Sessions`.`UserId`::text)::bigint) % $3::int ="
		    " $4::int)"
		    " AND NOT (`User_Sessions`.`UserId` = ANY($5::text[]))",
		.list = "SELECT `User_Sessions`.`user`::text, `User_Sessions`.`order`"
		    " FROM `Billing`.`User_Sessions` AS `User_Sessions`"
		    " WHERE (coalesce(`User_Sessions`.last_token_update_date, `User_Sessions`.created_at,"
		    " '-infinity'::timestamptz) <= ($1::timestamp AT TIME ZONE 'UTC'))"
		    " AND (`User_Sessions`.token_update_claimed_until IS NULL OR"
		    " `User_Sessions`.token_update_claimed_until < now())"
		    " AND ($2::text IS NULL OR `User_Sessions`.`user` = $2::text)"
		    " AND ($3::int = 0 OR abs(hashtext(`User_Sessions`.`UserId`::text)::bigint) % $3::int ="
		    " $4::int)"
		    " AND NOT (`User_Sessions`.`UserId` = ANY($5::text[]))"
		    " ORDER BY coalesce(`User_Sessions`.last_token_update_date, `User_Sessions`.created_at,"
		    " '-infinity'::timestamptz)"
		    " LIMIT CASE WHEN $6::bigint > 0 THEN $6::bigint END",
		.claim = "WITH due AS MATERIALIZED (SELECT `User_Sessions`.`UserId` AS id"
		    " FROM `Billing`.`User_Sessions` AS `User_Sessions`"
		    " WHERE (coalesce(`User_Sessions`.last_token_update_date, `User_Sessions`.created_at,"
		    " '-infinity'::timestamptz) <= ($1::timestamp AT TIME ZONE 'UTC'))"
		    " AND (`User_Sessions`.token_update_claimed_until IS NULL OR"
		    " `User_Sessions`.token_update_claimed_until < now())"
		    " AND ($2::text IS NULL OR `User_Sessions`.`user` = $2::text)"
		    " AND ($3::int = 0 OR abs(hashtext(`User_Sessions`.`UserId`::text)::bigint) % $3::int ="
		    " $4::int)"
		    " AND NOT (`User_Sessions`.`UserId` = ANY($5::text[]))"
		    " AND ($8::text IS NULL OR coalesce(`User_Sessions`.last_token_update_date, `User_Sessions`.created_at,"
		    " '-infinity'::timestamptz) >= ($8::timestamp AT TIME ZONE 'UTC'))"
		    " ORDER BY coalesce(`User_Sessions`.last_token_update_date, `User_Sessions`.created_at,"
		    " '-infinity'::timestamptz)"
		    " LIMIT $6::int FOR UPDATE SKIP LOCKED)"
		    " UPDATE `Billing`.`User_Sessions` t SET token_update_claimed_until = now() + $7::bigint"
		    " * interval '1 millisecond'"
		    " FROM due WHERE t.`UserId` = due.id"
		    " RETURNING t.`UserId`::text, t.`user`::text, t.`order`, t.`Cookies`::text,"
		    " t.`select`::text, to_char(t.token_update_claimed_until AT TIME ZONE 'UTC',"
		    " 'YYYY-MM-DD`T`HH24:MI:SS.US'), NULL::text,"
		    " CASE WHEN coalesce(t.last_token_update_date, t.created_at, '-infinity'::timestamptz) >="
		    " '1000-01-01 00:00:00+00'::timestamptz THEN to_char(coalesce(t.last_token_update_date,"
		    " t.created_at, '-infinity'::timestamptz) AT TIME ZONE 'UTC', 'YYYY-MM-DD`T`HH24:MI:SS.US') END",
		.write = "WITH res AS MATERIALIZED (SELECT *"
		    " FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::text[], $6::text[],"
		    " $7::text[], $8::text[], $9::text[]) WITH ORDINALITY AS x(id, kind, sent, tok, cookies,"
		    " reason, claim, atok, exp, ord)),"
		    " upd AS (UPDATE `Billing`.`User_Sessions` t SET `order` = x.tok, `Cookies` ="
		    " x.cookies::json, last_token_update_date = now(), token_update_count ="
		    " t.token_update_count + 1, last_token_update_error = NULL, token_update_claimed_until ="
		    " CASE WHEN t.token_update_claimed_until = (x.claim::timestamp AT TIME ZONE 'UTC') THEN"
		    " NULL ELSE t.token_update_claimed_until END"
		    " FROM res x WHERE x.kind = 0 AND t.`UserId` = x.id"
		    " AND (t.`order` = x.sent OR t.`order` = x.tok)"
		    " RETURNING x.ord, 'r'::text AS how),"
		    " km AS (UPDATE `Billing`.`User_Sessions` t SET last_token_update_error = CASE WHEN"
		    " x.kind = 5"
		    " AND NOT false THEN 'logout (not deleted: mass logout)' ELSE 'logout' END,"
		    " last_token_update_date = CASE WHEN x.kind = 5"
		    " AND NOT false THEN t.last_token_update_date ELSE now() END, token_update_claimed_until"
		    " = CASE WHEN t.token_update_claimed_until = (x.claim::timestamp AT TIME ZONE 'UTC')"
		    " THEN NULL ELSE t.token_update_claimed_until END"
		    " FROM res x WHERE x.kind IN (1, 4, 5) AND t.`UserId` = x.id AND t.`order` = x.sent"
		    " AND (x.kind = 5 OR false OR false OR (x.kind IN (1, 4)"
		    " AND (t.token_update_claimed_until > now()"
		    " AND t.token_update_claimed_until <> (x.claim::timestamp AT TIME ZONE 'UTC'))))"
		    " RETURNING x.ord, CASE WHEN false THEN 'K' WHEN t.last_token_update_error = 'logout"
		    " (not deleted: mass logout)' THEN 'm' WHEN false THEN 'k' WHEN x.kind IN (1, 4)"
		    " AND (t.token_update_claimed_until > now()"
		    " AND t.token_update_claimed_until <> (x.claim::timestamp AT TIME ZONE 'UTC')) THEN 'a'"
		    " ELSE 'k' END AS how),"
		    " del AS (DELETE FROM `Billing`.`User_Sessions` t USING res x WHERE x.kind = 1"
		    " AND t.`UserId` = x.id AND t.`order` = x.sent AND NOT false"
		    " AND NOT (t.token_update_claimed_until > now()"
		    " AND t.token_update_claimed_until <> (x.claim::timestamp AT TIME ZONE 'UTC'))"
		    " RETURNING x.ord, 'd'::text AS how),"
		    " held AS (UPDATE `Billing`.`User_Sessions` t SET token_update_claimed_until = now() +"
		    " 600000 * interval '1 millisecond'"
		    " FROM res x WHERE x.kind = 4 AND t.`UserId` = x.id AND t.`order` = x.sent AND NOT false"
		    " AND t.token_update_claimed_until = (x.claim::timestamp AT TIME ZONE 'UTC')"
		    " RETURNING x.ord, 'h'::text AS how, to_char(t.token_update_claimed_until AT TIME ZONE"
		    " 'UTC', 'YYYY-MM-DD`T`HH24:MI:SS.US') AS claim),"
		    " fail AS (UPDATE `Billing`.`User_Sessions` t SET last_token_update_error = x.reason,"
		    " token_update_claimed_until = CASE WHEN t.token_update_claimed_until ="
		    " (x.claim::timestamp AT TIME ZONE 'UTC') THEN NULL ELSE t.token_update_claimed_until END"
		    " FROM res x WHERE x.kind = 2 AND t.`UserId` = x.id AND t.`order` = x.sent"
		    " RETURNING x.ord, 'f'::text AS how),"
		    " done AS (SELECT *, NULL::text AS claim FROM upd UNION ALL SELECT *, NULL FROM km"
		    " UNION ALL SELECT *, NULL FROM del UNION ALL SELECT * FROM held UNION ALL SELECT *, NULL"
		    " FROM fail),"
		    " sup AS (UPDATE `Billing`.`User_Sessions` t SET token_update_claimed_until = NULL"
		    " FROM res x WHERE x.kind <> 3 AND t.`UserId` = x.id AND x.ord NOT IN (SELECT ord"
		    " FROM done WHERE how <> 'n')"
		    " AND t.token_update_claimed_until = (x.claim::timestamp AT TIME ZONE 'UTC')"
		    " RETURNING t.`UserId`),"
		    " rel AS (UPDATE `Billing`.`User_Sessions` t SET token_update_claimed_until = NULL"
		    " FROM res x WHERE x.kind = 3 AND t.`UserId` = x.id"
		    " AND t.token_update_claimed_until = (x.claim::timestamp AT TIME ZONE 'UTC')"
		    " RETURNING t.`UserId`)"
		    " SELECT ord, how, claim FROM done",
	},
	{
		.name = "where",
		.yaml = DB
		    "  where: active AND plan <> 'free' -- paying only\n",
		.facts = { "uuid", "jsonb", 1 },
		.count = "SELECT count(*), 0 FROM `auth_sessions` AS `auth_sessions`"
		    " WHERE (coalesce(`auth_sessions`.last_token_update_date, `auth_sessions`.created_at,"
		    " '-infinity'::timestamptz) <= ($1::timestamp AT TIME ZONE 'UTC'))"
		    " AND (`auth_sessions`.token_update_claimed_until IS NULL OR"
		    " `auth_sessions`.token_update_claimed_until < now())"
		    " AND ($2::text IS NULL OR `auth_sessions`.`user_email` = $2::text)"
		    " AND ($3::int = 0 OR abs(hashtext(`auth_sessions`.`id`::text)::bigint) % $3::int ="
		    " $4::int)"
		    " AND NOT (`auth_sessions`.`id` = ANY($5::uuid[])) AND (\n"
		    "active AND plan <> 'free' -- paying only\n"
		    ")",
		.list = "SELECT `auth_sessions`.`user_email`::text, `auth_sessions`.`aimharder_token`"
		    " FROM `auth_sessions` AS `auth_sessions`"
		    " WHERE (coalesce(`auth_sessions`.last_token_update_date, `auth_sessions`.created_at,"
		    " '-infinity'::timestamptz) <= ($1::timestamp AT TIME ZONE 'UTC'))"
		    " AND (`auth_sessions`.token_update_claimed_until IS NULL OR"
		    " `auth_sessions`.token_update_claimed_until < now())"
		    " AND ($2::text IS NULL OR `auth_sessions`.`user_email` = $2::text)"
		    " AND ($3::int = 0 OR abs(hashtext(`auth_sessions`.`id`::text)::bigint) % $3::int ="
		    " $4::int)"
		    " AND NOT (`auth_sessions`.`id` = ANY($5::uuid[])) AND (\n"
		    "active AND plan <> 'free' -- paying only\n"
		    ")"
		    " ORDER BY coalesce(`auth_sessions`.last_token_update_date, `auth_sessions`.created_at,"
		    " '-infinity'::timestamptz)"
		    " LIMIT CASE WHEN $6::bigint > 0 THEN $6::bigint END",
		.claim = "WITH due AS MATERIALIZED (SELECT `auth_sessions`.`id` AS id"
		    " FROM `auth_sessions` AS `auth_sessions`"
		    " WHERE (coalesce(`auth_sessions`.last_token_update_date, `auth_sessions`.created_at,"
		    " '-infinity'::timestamptz) <= ($1::timestamp AT TIME ZONE 'UTC'))"
		    " AND (`auth_sessions`.token_update_claimed_until IS NULL OR"
		    " `auth_sessions`.token_update_claimed_until < now())"
		    " AND ($2::text IS NULL OR `auth_sessions`.`user_email` = $2::text)"
		    " AND ($3::int = 0 OR abs(hashtext(`auth_sessions`.`id`::text)::bigint) % $3::int ="
		    " $4::int)"
		    " AND NOT (`auth_sessions`.`id` = ANY($5::uuid[])) AND (\n"
		    "active AND plan <> 'free' -- paying only\n"
		    ")"
		    " AND ($8::text IS NULL OR coalesce(`auth_sessions`.last_token_update_date, `auth_sessions`.created_at,"
		    " '-infinity'::timestamptz) >= ($8::timestamp AT TIME ZONE 'UTC'))"
		    " ORDER BY coalesce(`auth_sessions`.last_token_update_date, `auth_sessions`.created_at,"
		    " '-infinity'::timestamptz)"
		    " LIMIT $6::int FOR UPDATE SKIP LOCKED)"
		    " UPDATE `auth_sessions` t SET token_update_claimed_until = now() + $7::bigint *"
		    " interval '1 millisecond'"
		    " FROM due WHERE t.`id` = due.id"
		    " RETURNING t.`id`::text, t.`user_email`::text, t.`aimharder_token`,"
		    " t.`aimharder_cookies`::text, t.`fingerprint`::text,"
		    " to_char(t.token_update_claimed_until AT TIME ZONE 'UTC', 'YYYY-MM-DD`T`HH24:MI:SS.US'),"
		    " NULL::text,"
		    " CASE WHEN coalesce(t.last_token_update_date, t.created_at, '-infinity'::timestamptz) >="
		    " '1000-01-01 00:00:00+00'::timestamptz THEN to_char(coalesce(t.last_token_update_date,"
		    " t.created_at, '-infinity'::timestamptz) AT TIME ZONE 'UTC', 'YYYY-MM-DD`T`HH24:MI:SS.US') END",
		.write = "WITH res AS MATERIALIZED (SELECT *"
		    " FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[], $5::text[], $6::text[],"
		    " $7::text[], $8::text[], $9::text[]) WITH ORDINALITY AS x(id, kind, sent, tok, cookies,"
		    " reason, claim, atok, exp, ord)),"
		    " upd AS (UPDATE `auth_sessions` t SET `aimharder_token` = x.tok, `aimharder_cookies` ="
		    " x.cookies::jsonb, last_token_update_date = now(), token_update_count ="
		    " t.token_update_count + 1, last_token_update_error = NULL, token_update_claimed_until ="
		    " CASE WHEN t.token_update_claimed_until = (x.claim::timestamp AT TIME ZONE 'UTC') THEN"
		    " NULL ELSE t.token_update_claimed_until END, updated_at = now()"
		    " FROM res x WHERE x.kind = 0 AND t.`id` = x.id"
		    " AND (t.`aimharder_token` = x.sent OR t.`aimharder_token` = x.tok) AND EXISTS (SELECT"
		    " FROM (SELECT t.*) AS `auth_sessions` WHERE (\n"
		    "active AND plan <> 'free' -- paying only\n"
		    "))"
		    " RETURNING x.ord, 'r'::text AS how),"
		    " km AS (UPDATE `auth_sessions` t SET last_token_update_error = CASE WHEN x.kind = 5"
		    " AND NOT false THEN 'logout (not deleted: mass logout)' ELSE 'logout' END,"
		    " last_token_update_date = CASE WHEN x.kind = 5"
		    " AND NOT false THEN t.last_token_update_date ELSE now() END, token_update_claimed_until"
		    " = CASE WHEN t.token_update_claimed_until = (x.claim::timestamp AT TIME ZONE 'UTC')"
		    " THEN NULL ELSE t.token_update_claimed_until END"
		    " FROM res x WHERE x.kind IN (1, 4, 5) AND t.`id` = x.id AND t.`aimharder_token` = x.sent"
		    " AND EXISTS (SELECT FROM (SELECT t.*) AS `auth_sessions` WHERE (\n"
		    "active AND plan <> 'free' -- paying only\n"
		    ")) AND (x.kind = 5 OR false OR false OR (x.kind IN (1, 4)"
		    " AND (t.token_update_claimed_until > now()"
		    " AND t.token_update_claimed_until <> (x.claim::timestamp AT TIME ZONE 'UTC'))))"
		    " RETURNING x.ord, CASE WHEN false THEN 'K' WHEN t.last_token_update_error = 'logout"
		    " (not deleted: mass logout)' THEN 'm' WHEN false THEN 'k' WHEN x.kind IN (1, 4)"
		    " AND (t.token_update_claimed_until > now()"
		    " AND t.token_update_claimed_until <> (x.claim::timestamp AT TIME ZONE 'UTC')) THEN 'a'"
		    " ELSE 'k' END AS how),"
		    " del AS (DELETE FROM `auth_sessions` t USING res x WHERE x.kind = 1 AND t.`id` = x.id"
		    " AND t.`aimharder_token` = x.sent AND EXISTS (SELECT"
		    " FROM (SELECT t.*) AS `auth_sessions` WHERE (\n"
		    "active AND plan <> 'free' -- paying only\n"
		    ")) AND NOT false AND NOT (t.token_update_claimed_until > now()"
		    " AND t.token_update_claimed_until <> (x.claim::timestamp AT TIME ZONE 'UTC'))"
		    " RETURNING x.ord, 'd'::text AS how),"
		    " held AS (UPDATE `auth_sessions` t SET token_update_claimed_until = now() + 600000 *"
		    " interval '1 millisecond'"
		    " FROM res x WHERE x.kind = 4 AND t.`id` = x.id AND t.`aimharder_token` = x.sent"
		    " AND EXISTS (SELECT FROM (SELECT t.*) AS `auth_sessions` WHERE (\n"
		    "active AND plan <> 'free' -- paying only\n"
		    ")) AND NOT false"
		    " AND t.token_update_claimed_until = (x.claim::timestamp AT TIME ZONE 'UTC')"
		    " RETURNING x.ord, 'h'::text AS how, to_char(t.token_update_claimed_until AT TIME ZONE"
		    " 'UTC', 'YYYY-MM-DD`T`HH24:MI:SS.US') AS claim),"
		    " fail AS (UPDATE `auth_sessions` t SET last_token_update_error = x.reason,"
		    " token_update_claimed_until = CASE WHEN t.token_update_claimed_until ="
		    " (x.claim::timestamp AT TIME ZONE 'UTC') THEN NULL ELSE t.token_update_claimed_until END"
		    " FROM res x WHERE x.kind = 2 AND t.`id` = x.id AND t.`aimharder_token` = x.sent"
		    " AND EXISTS (SELECT FROM (SELECT t.*) AS `auth_sessions` WHERE (\n"
		    "active AND plan <> 'free' -- paying only\n"
		    "))"
		    " RETURNING x.ord, 'f'::text AS how),"
		    " nm AS (SELECT x.ord, 'n'::text AS how"
		    " FROM res x JOIN `auth_sessions` t ON t.`id` = x.id WHERE x.kind <> 3"
		    " AND (t.`aimharder_token` = x.sent OR (x.kind = 0 AND t.`aimharder_token` = x.tok))"
		    " AND NOT EXISTS (SELECT FROM (SELECT t.*) AS `auth_sessions` WHERE (\n"
		    "active AND plan <> 'free' -- paying only\n"
		    "))),"
		    " done AS (SELECT *, NULL::text AS claim FROM upd UNION ALL SELECT *, NULL FROM km"
		    " UNION ALL SELECT *, NULL FROM del UNION ALL SELECT * FROM held UNION ALL SELECT *, NULL"
		    " FROM fail UNION ALL SELECT *, NULL FROM nm),"
		    " sup AS (UPDATE `auth_sessions` t SET token_update_claimed_until = NULL FROM res x"
		    " WHERE x.kind <> 3 AND t.`id` = x.id AND x.ord NOT IN (SELECT ord FROM done"
		    " WHERE how <> 'n')"
		    " AND t.token_update_claimed_until = (x.claim::timestamp AT TIME ZONE 'UTC')"
		    " RETURNING t.`id`),"
		    " rel AS (UPDATE `auth_sessions` t SET token_update_claimed_until = NULL FROM res x"
		    " WHERE x.kind = 3 AND t.`id` = x.id"
		    " AND t.token_update_claimed_until = (x.claim::timestamp AT TIME ZONE 'UTC')"
		    " RETURNING t.`id`)"
		    " SELECT ord, how, claim FROM done",
	},
	{
		.name = "keep_when",
		.yaml = DB
		    "refresh:\n  keep_when: user_email LIKE '%@example.com'\n",
		.facts = { "uuid", "jsonb", 1 },
		.count = "SELECT count(*), count(*) FILTER (WHERE coalesce((\n"
		    "user_email LIKE '%@example.com'\n"
		    "), false)) FROM `auth_sessions` AS `auth_sessions`"
		    " WHERE (coalesce(`auth_sessions`.last_token_update_date, `auth_sessions`.created_at,"
		    " '-infinity'::timestamptz) <= ($1::timestamp AT TIME ZONE 'UTC'))"
		    " AND (`auth_sessions`.token_update_claimed_until IS NULL OR"
		    " `auth_sessions`.token_update_claimed_until < now())"
		    " AND ($2::text IS NULL OR `auth_sessions`.`user_email` = $2::text)"
		    " AND ($3::int = 0 OR abs(hashtext(`auth_sessions`.`id`::text)::bigint) % $3::int ="
		    " $4::int)"
		    " AND NOT (`auth_sessions`.`id` = ANY($5::uuid[]))",
		.list = "SELECT `auth_sessions`.`user_email`::text, `auth_sessions`.`aimharder_token`"
		    " FROM `auth_sessions` AS `auth_sessions`"
		    " WHERE (coalesce(`auth_sessions`.last_token_update_date, `auth_sessions`.created_at,"
		    " '-infinity'::timestamptz) <= ($1::timestamp AT TIME ZONE 'UTC'))"
		    " AND (`auth_sessions`.token_update_claimed_until IS NULL OR"
		    " `auth_sessions`.token_update_claimed_until < now())"
		    " AND ($2::text IS NULL OR `auth_sessions`.`user_email` = $2::text)"
		    " AND ($3::int = 0 OR abs(hashtext(`auth_sessions`.`id`::text)::bigint) % $3::int ="
		    " $4::int)"
		    " AND NOT (`auth_sessions`.`id` = ANY($5::uuid[]))"
		    " ORDER BY coalesce(`auth_sessions`.last_token_update_date, `auth_sessions`.created_at,"
		    " '-infinity'::timestamptz)"
		    " LIMIT CASE WHEN $6::bigint > 0 THEN $6::bigint END",
		.claim = "WITH due AS MATERIALIZED (SELECT `auth_sessions`.`id` AS id"
		    " FROM `auth_sessions` AS `auth_sessions`"
		    " WHERE (coalesce(`auth_sessions`.last_token_update_date, `auth_sessions`.created_at,"
		    " '-infinity'::timestamptz) <= ($1::timestamp AT TIME ZONE 'UTC'))"
		    " AND (`auth_sessions`.token_update_claimed_until IS NULL OR"
		    " `auth_sessions`.token_update_claimed_until < now())"
		    " AND ($2::text IS NULL OR `auth_sessions`.`user_email` = $2::text)"
		    " AND ($3::int = 0 OR abs(hashtext(`auth_sessions`.`id`::text)::bigint) % $3::int ="
		    " $4::int)"
		    " AND NOT (`auth_sessions`.`id` = ANY($5::uuid[]))"
		    " AND ($8::text IS NULL OR coalesce(`auth_sessions`.last_token_update_date, `auth_sessions`.created_at,"
		    " '-infinity'::timestamptz) >= ($8::timestamp AT TIME ZONE 'UTC'))"
		    " ORDER BY coalesce(`auth_sessions`.last_token_update_date, `auth_sessions`.created_at,"
		    " '-infinity'::timestamptz)"
		    " LIMIT $6::int FOR UPDATE SKIP LOCKED)"
		    " UPDATE `auth_sessions` t SET token_update_claimed_until = now() + $7::bigint *"
		    " interval '1 millisecond'"
		    " FROM due WHERE t.`id` = due.id"
		    " RETURNING t.`id`::text, t.`user_email`::text, t.`aimharder_token`,"
		    " t.`aimharder_cookies`::text, t.`fingerprint`::text,"
		    " to_char(t.token_update_claimed_until AT TIME ZONE 'UTC', 'YYYY-MM-DD`T`HH24:MI:SS.US'),"
		    " NULL::text,"
		    " CASE WHEN coalesce(t.last_token_update_date, t.created_at, '-infinity'::timestamptz) >="
		    " '1000-01-01 00:00:00+00'::timestamptz THEN to_char(coalesce(t.last_token_update_date,"
		    " t.created_at, '-infinity'::timestamptz) AT TIME ZONE 'UTC', 'YYYY-MM-DD`T`HH24:MI:SS.US') END",
		.write = "WITH res AS MATERIALIZED (SELECT *"
		    " FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[], $5::text[], $6::text[],"
		    " $7::text[], $8::text[], $9::text[]) WITH ORDINALITY AS x(id, kind, sent, tok, cookies,"
		    " reason, claim, atok, exp, ord)),"
		    " upd AS (UPDATE `auth_sessions` t SET `aimharder_token` = x.tok, `aimharder_cookies` ="
		    " x.cookies::jsonb, last_token_update_date = now(), token_update_count ="
		    " t.token_update_count + 1, last_token_update_error = NULL, token_update_claimed_until ="
		    " CASE WHEN t.token_update_claimed_until = (x.claim::timestamp AT TIME ZONE 'UTC') THEN"
		    " NULL ELSE t.token_update_claimed_until END, updated_at = now()"
		    " FROM res x WHERE x.kind = 0 AND t.`id` = x.id"
		    " AND (t.`aimharder_token` = x.sent OR t.`aimharder_token` = x.tok)"
		    " RETURNING x.ord, 'r'::text AS how),"
		    " km AS (UPDATE `auth_sessions` t SET last_token_update_error = CASE WHEN x.kind = 5"
		    " AND NOT EXISTS (SELECT FROM (SELECT t.*) AS `auth_sessions` WHERE (\n"
		    "user_email LIKE '%@example.com'\n"
		    ")) THEN 'logout (not deleted: mass logout)' ELSE 'logout' END, last_token_update_date ="
		    " CASE WHEN x.kind = 5"
		    " AND NOT EXISTS (SELECT FROM (SELECT t.*) AS `auth_sessions` WHERE (\n"
		    "user_email LIKE '%@example.com'\n"
		    ")) THEN t.last_token_update_date ELSE now() END, token_update_claimed_until = CASE WHEN"
		    " t.token_update_claimed_until = (x.claim::timestamp AT TIME ZONE 'UTC') THEN NULL ELSE"
		    " t.token_update_claimed_until END"
		    " FROM res x WHERE x.kind IN (1, 4, 5) AND t.`id` = x.id AND t.`aimharder_token` = x.sent"
		    " AND (x.kind = 5 OR false OR EXISTS (SELECT FROM (SELECT t.*) AS `auth_sessions`"
		    " WHERE (\n"
		    "user_email LIKE '%@example.com'\n"
		    ")) OR (x.kind IN (1, 4) AND (t.token_update_claimed_until > now()"
		    " AND t.token_update_claimed_until <> (x.claim::timestamp AT TIME ZONE 'UTC'))))"
		    " RETURNING x.ord, CASE WHEN false THEN 'K' WHEN t.last_token_update_error = 'logout"
		    " (not deleted: mass logout)' THEN 'm' WHEN EXISTS (SELECT"
		    " FROM (SELECT t.*) AS `auth_sessions` WHERE (\n"
		    "user_email LIKE '%@example.com'\n"
		    ")) THEN 'k' WHEN x.kind IN (1, 4) AND (t.token_update_claimed_until > now()"
		    " AND t.token_update_claimed_until <> (x.claim::timestamp AT TIME ZONE 'UTC')) THEN 'a'"
		    " ELSE 'k' END AS how),"
		    " del AS (DELETE FROM `auth_sessions` t USING res x WHERE x.kind = 1 AND t.`id` = x.id"
		    " AND t.`aimharder_token` = x.sent AND NOT EXISTS (SELECT"
		    " FROM (SELECT t.*) AS `auth_sessions` WHERE (\n"
		    "user_email LIKE '%@example.com'\n"
		    ")) AND NOT (t.token_update_claimed_until > now()"
		    " AND t.token_update_claimed_until <> (x.claim::timestamp AT TIME ZONE 'UTC'))"
		    " RETURNING x.ord, 'd'::text AS how),"
		    " held AS (UPDATE `auth_sessions` t SET token_update_claimed_until = now() + 600000 *"
		    " interval '1 millisecond'"
		    " FROM res x WHERE x.kind = 4 AND t.`id` = x.id AND t.`aimharder_token` = x.sent"
		    " AND NOT EXISTS (SELECT FROM (SELECT t.*) AS `auth_sessions` WHERE (\n"
		    "user_email LIKE '%@example.com'\n"
		    ")) AND t.token_update_claimed_until = (x.claim::timestamp AT TIME ZONE 'UTC')"
		    " RETURNING x.ord, 'h'::text AS how, to_char(t.token_update_claimed_until AT TIME ZONE"
		    " 'UTC', 'YYYY-MM-DD`T`HH24:MI:SS.US') AS claim),"
		    " fail AS (UPDATE `auth_sessions` t SET last_token_update_error = x.reason,"
		    " token_update_claimed_until = CASE WHEN t.token_update_claimed_until ="
		    " (x.claim::timestamp AT TIME ZONE 'UTC') THEN NULL ELSE t.token_update_claimed_until END"
		    " FROM res x WHERE x.kind = 2 AND t.`id` = x.id AND t.`aimharder_token` = x.sent"
		    " RETURNING x.ord, 'f'::text AS how),"
		    " done AS (SELECT *, NULL::text AS claim FROM upd UNION ALL SELECT *, NULL FROM km"
		    " UNION ALL SELECT *, NULL FROM del UNION ALL SELECT * FROM held UNION ALL SELECT *, NULL"
		    " FROM fail),"
		    " sup AS (UPDATE `auth_sessions` t SET token_update_claimed_until = NULL FROM res x"
		    " WHERE x.kind <> 3 AND t.`id` = x.id AND x.ord NOT IN (SELECT ord FROM done"
		    " WHERE how <> 'n')"
		    " AND t.token_update_claimed_until = (x.claim::timestamp AT TIME ZONE 'UTC')"
		    " RETURNING t.`id`),"
		    " rel AS (UPDATE `auth_sessions` t SET token_update_claimed_until = NULL FROM res x"
		    " WHERE x.kind = 3 AND t.`id` = x.id"
		    " AND t.token_update_claimed_until = (x.claim::timestamp AT TIME ZONE 'UTC')"
		    " RETURNING t.`id`)"
		    " SELECT ord, how, claim FROM done",
	},
	{
		.name = "on_logout_keep",
		.yaml = DB
		    "refresh:\n  on_logout: keep\n",
		.facts = { "uuid", "jsonb", 1 },
		.count = "SELECT count(*), 0 FROM `auth_sessions` AS `auth_sessions`"
		    " WHERE (coalesce(`auth_sessions`.last_token_update_date, `auth_sessions`.created_at,"
		    " '-infinity'::timestamptz) <= ($1::timestamp AT TIME ZONE 'UTC'))"
		    " AND (`auth_sessions`.token_update_claimed_until IS NULL OR"
		    " `auth_sessions`.token_update_claimed_until < now())"
		    " AND ($2::text IS NULL OR `auth_sessions`.`user_email` = $2::text)"
		    " AND ($3::int = 0 OR abs(hashtext(`auth_sessions`.`id`::text)::bigint) % $3::int ="
		    " $4::int)"
		    " AND NOT (`auth_sessions`.`id` = ANY($5::uuid[]))",
		.list = "SELECT `auth_sessions`.`user_email`::text, `auth_sessions`.`aimharder_token`"
		    " FROM `auth_sessions` AS `auth_sessions`"
		    " WHERE (coalesce(`auth_sessions`.last_token_update_date, `auth_sessions`.created_at,"
		    " '-infinity'::timestamptz) <= ($1::timestamp AT TIME ZONE 'UTC'))"
		    " AND (`auth_sessions`.token_update_claimed_until IS NULL OR"
		    " `auth_sessions`.token_update_claimed_until < now())"
		    " AND ($2::text IS NULL OR `auth_sessions`.`user_email` = $2::text)"
		    " AND ($3::int = 0 OR abs(hashtext(`auth_sessions`.`id`::text)::bigint) % $3::int ="
		    " $4::int)"
		    " AND NOT (`auth_sessions`.`id` = ANY($5::uuid[]))"
		    " ORDER BY coalesce(`auth_sessions`.last_token_update_date, `auth_sessions`.created_at,"
		    " '-infinity'::timestamptz)"
		    " LIMIT CASE WHEN $6::bigint > 0 THEN $6::bigint END",
		.claim = "WITH due AS MATERIALIZED (SELECT `auth_sessions`.`id` AS id"
		    " FROM `auth_sessions` AS `auth_sessions`"
		    " WHERE (coalesce(`auth_sessions`.last_token_update_date, `auth_sessions`.created_at,"
		    " '-infinity'::timestamptz) <= ($1::timestamp AT TIME ZONE 'UTC'))"
		    " AND (`auth_sessions`.token_update_claimed_until IS NULL OR"
		    " `auth_sessions`.token_update_claimed_until < now())"
		    " AND ($2::text IS NULL OR `auth_sessions`.`user_email` = $2::text)"
		    " AND ($3::int = 0 OR abs(hashtext(`auth_sessions`.`id`::text)::bigint) % $3::int ="
		    " $4::int)"
		    " AND NOT (`auth_sessions`.`id` = ANY($5::uuid[]))"
		    " AND ($8::text IS NULL OR coalesce(`auth_sessions`.last_token_update_date, `auth_sessions`.created_at,"
		    " '-infinity'::timestamptz) >= ($8::timestamp AT TIME ZONE 'UTC'))"
		    " ORDER BY coalesce(`auth_sessions`.last_token_update_date, `auth_sessions`.created_at,"
		    " '-infinity'::timestamptz)"
		    " LIMIT $6::int FOR UPDATE SKIP LOCKED)"
		    " UPDATE `auth_sessions` t SET token_update_claimed_until = now() + $7::bigint *"
		    " interval '1 millisecond'"
		    " FROM due WHERE t.`id` = due.id"
		    " RETURNING t.`id`::text, t.`user_email`::text, t.`aimharder_token`,"
		    " t.`aimharder_cookies`::text, t.`fingerprint`::text,"
		    " to_char(t.token_update_claimed_until AT TIME ZONE 'UTC', 'YYYY-MM-DD`T`HH24:MI:SS.US'),"
		    " NULL::text,"
		    " CASE WHEN coalesce(t.last_token_update_date, t.created_at, '-infinity'::timestamptz) >="
		    " '1000-01-01 00:00:00+00'::timestamptz THEN to_char(coalesce(t.last_token_update_date,"
		    " t.created_at, '-infinity'::timestamptz) AT TIME ZONE 'UTC', 'YYYY-MM-DD`T`HH24:MI:SS.US') END",
		.write = "WITH res AS MATERIALIZED (SELECT *"
		    " FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[], $5::text[], $6::text[],"
		    " $7::text[], $8::text[], $9::text[]) WITH ORDINALITY AS x(id, kind, sent, tok, cookies,"
		    " reason, claim, atok, exp, ord)),"
		    " upd AS (UPDATE `auth_sessions` t SET `aimharder_token` = x.tok, `aimharder_cookies` ="
		    " x.cookies::jsonb, last_token_update_date = now(), token_update_count ="
		    " t.token_update_count + 1, last_token_update_error = NULL, token_update_claimed_until ="
		    " CASE WHEN t.token_update_claimed_until = (x.claim::timestamp AT TIME ZONE 'UTC') THEN"
		    " NULL ELSE t.token_update_claimed_until END, updated_at = now()"
		    " FROM res x WHERE x.kind = 0 AND t.`id` = x.id"
		    " AND (t.`aimharder_token` = x.sent OR t.`aimharder_token` = x.tok)"
		    " RETURNING x.ord, 'r'::text AS how),"
		    " km AS (UPDATE `auth_sessions` t SET last_token_update_error = CASE WHEN x.kind = 5"
		    " AND NOT false THEN 'logout (not deleted: mass logout)' ELSE 'logout' END,"
		    " last_token_update_date = CASE WHEN x.kind = 5"
		    " AND NOT false THEN t.last_token_update_date ELSE now() END, token_update_claimed_until"
		    " = CASE WHEN t.token_update_claimed_until = (x.claim::timestamp AT TIME ZONE 'UTC')"
		    " THEN NULL ELSE t.token_update_claimed_until END"
		    " FROM res x WHERE x.kind IN (1, 4, 5) AND t.`id` = x.id AND t.`aimharder_token` = x.sent"
		    " AND (x.kind = 5 OR true OR false OR (x.kind IN (1, 4)"
		    " AND (t.token_update_claimed_until > now()"
		    " AND t.token_update_claimed_until <> (x.claim::timestamp AT TIME ZONE 'UTC'))))"
		    " RETURNING x.ord, CASE WHEN true THEN 'K' WHEN t.last_token_update_error = 'logout (not"
		    " deleted: mass logout)' THEN 'm' WHEN false THEN 'k' WHEN x.kind IN (1, 4)"
		    " AND (t.token_update_claimed_until > now()"
		    " AND t.token_update_claimed_until <> (x.claim::timestamp AT TIME ZONE 'UTC')) THEN 'a'"
		    " ELSE 'k' END AS how),"
		    " held AS (UPDATE `auth_sessions` t SET token_update_claimed_until = now() + 600000 *"
		    " interval '1 millisecond'"
		    " FROM res x WHERE x.kind = 4 AND t.`id` = x.id AND t.`aimharder_token` = x.sent"
		    " AND NOT false"
		    " AND t.token_update_claimed_until = (x.claim::timestamp AT TIME ZONE 'UTC')"
		    " RETURNING x.ord, 'h'::text AS how, to_char(t.token_update_claimed_until AT TIME ZONE"
		    " 'UTC', 'YYYY-MM-DD`T`HH24:MI:SS.US') AS claim),"
		    " fail AS (UPDATE `auth_sessions` t SET last_token_update_error = x.reason,"
		    " token_update_claimed_until = CASE WHEN t.token_update_claimed_until ="
		    " (x.claim::timestamp AT TIME ZONE 'UTC') THEN NULL ELSE t.token_update_claimed_until END"
		    " FROM res x WHERE x.kind = 2 AND t.`id` = x.id AND t.`aimharder_token` = x.sent"
		    " RETURNING x.ord, 'f'::text AS how),"
		    " done AS (SELECT *, NULL::text AS claim FROM upd UNION ALL SELECT *, NULL FROM km"
		    " UNION ALL SELECT * FROM held UNION ALL SELECT *, NULL FROM fail),"
		    " sup AS (UPDATE `auth_sessions` t SET token_update_claimed_until = NULL FROM res x"
		    " WHERE x.kind <> 3 AND t.`id` = x.id AND x.ord NOT IN (SELECT ord FROM done"
		    " WHERE how <> 'n')"
		    " AND t.token_update_claimed_until = (x.claim::timestamp AT TIME ZONE 'UTC')"
		    " RETURNING t.`id`),"
		    " rel AS (UPDATE `auth_sessions` t SET token_update_claimed_until = NULL FROM res x"
		    " WHERE x.kind = 3 AND t.`id` = x.id"
		    " AND t.token_update_claimed_until = (x.claim::timestamp AT TIME ZONE 'UTC')"
		    " RETURNING t.`id`)"
		    " SELECT ord, how, claim FROM done",
	},
	{
		.name = "on_logout_keep_where_keep_when",
		.yaml = DB
		    "  where: active\nrefresh:\n  on_logout: keep\n  keep_when: vip\n",
		.facts = { "uuid", "jsonb", 1 },
		.count = "SELECT count(*), count(*) FILTER (WHERE coalesce((\n"
		    "vip\n"
		    "), false)) FROM `auth_sessions` AS `auth_sessions`"
		    " WHERE (coalesce(`auth_sessions`.last_token_update_date, `auth_sessions`.created_at,"
		    " '-infinity'::timestamptz) <= ($1::timestamp AT TIME ZONE 'UTC'))"
		    " AND (`auth_sessions`.token_update_claimed_until IS NULL OR"
		    " `auth_sessions`.token_update_claimed_until < now())"
		    " AND ($2::text IS NULL OR `auth_sessions`.`user_email` = $2::text)"
		    " AND ($3::int = 0 OR abs(hashtext(`auth_sessions`.`id`::text)::bigint) % $3::int ="
		    " $4::int)"
		    " AND NOT (`auth_sessions`.`id` = ANY($5::uuid[])) AND (\n"
		    "active\n"
		    ")",
		.list = "SELECT `auth_sessions`.`user_email`::text, `auth_sessions`.`aimharder_token`"
		    " FROM `auth_sessions` AS `auth_sessions`"
		    " WHERE (coalesce(`auth_sessions`.last_token_update_date, `auth_sessions`.created_at,"
		    " '-infinity'::timestamptz) <= ($1::timestamp AT TIME ZONE 'UTC'))"
		    " AND (`auth_sessions`.token_update_claimed_until IS NULL OR"
		    " `auth_sessions`.token_update_claimed_until < now())"
		    " AND ($2::text IS NULL OR `auth_sessions`.`user_email` = $2::text)"
		    " AND ($3::int = 0 OR abs(hashtext(`auth_sessions`.`id`::text)::bigint) % $3::int ="
		    " $4::int)"
		    " AND NOT (`auth_sessions`.`id` = ANY($5::uuid[])) AND (\n"
		    "active\n"
		    ")"
		    " ORDER BY coalesce(`auth_sessions`.last_token_update_date, `auth_sessions`.created_at,"
		    " '-infinity'::timestamptz)"
		    " LIMIT CASE WHEN $6::bigint > 0 THEN $6::bigint END",
		.claim = "WITH due AS MATERIALIZED (SELECT `auth_sessions`.`id` AS id"
		    " FROM `auth_sessions` AS `auth_sessions`"
		    " WHERE (coalesce(`auth_sessions`.last_token_update_date, `auth_sessions`.created_at,"
		    " '-infinity'::timestamptz) <= ($1::timestamp AT TIME ZONE 'UTC'))"
		    " AND (`auth_sessions`.token_update_claimed_until IS NULL OR"
		    " `auth_sessions`.token_update_claimed_until < now())"
		    " AND ($2::text IS NULL OR `auth_sessions`.`user_email` = $2::text)"
		    " AND ($3::int = 0 OR abs(hashtext(`auth_sessions`.`id`::text)::bigint) % $3::int ="
		    " $4::int)"
		    " AND NOT (`auth_sessions`.`id` = ANY($5::uuid[])) AND (\n"
		    "active\n"
		    ")"
		    " AND ($8::text IS NULL OR coalesce(`auth_sessions`.last_token_update_date, `auth_sessions`.created_at,"
		    " '-infinity'::timestamptz) >= ($8::timestamp AT TIME ZONE 'UTC'))"
		    " ORDER BY coalesce(`auth_sessions`.last_token_update_date, `auth_sessions`.created_at,"
		    " '-infinity'::timestamptz)"
		    " LIMIT $6::int FOR UPDATE SKIP LOCKED)"
		    " UPDATE `auth_sessions` t SET token_update_claimed_until = now() + $7::bigint *"
		    " interval '1 millisecond'"
		    " FROM due WHERE t.`id` = due.id"
		    " RETURNING t.`id`::text, t.`user_email`::text, t.`aimharder_token`,"
		    " t.`aimharder_cookies`::text, t.`fingerprint`::text,"
		    " to_char(t.token_update_claimed_until AT TIME ZONE 'UTC', 'YYYY-MM-DD`T`HH24:MI:SS.US'),"
		    " NULL::text,"
		    " CASE WHEN coalesce(t.last_token_update_date, t.created_at, '-infinity'::timestamptz) >="
		    " '1000-01-01 00:00:00+00'::timestamptz THEN to_char(coalesce(t.last_token_update_date,"
		    " t.created_at, '-infinity'::timestamptz) AT TIME ZONE 'UTC', 'YYYY-MM-DD`T`HH24:MI:SS.US') END",
		.write = "WITH res AS MATERIALIZED (SELECT *"
		    " FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[], $5::text[], $6::text[],"
		    " $7::text[], $8::text[], $9::text[]) WITH ORDINALITY AS x(id, kind, sent, tok, cookies,"
		    " reason, claim, atok, exp, ord)),"
		    " upd AS (UPDATE `auth_sessions` t SET `aimharder_token` = x.tok, `aimharder_cookies` ="
		    " x.cookies::jsonb, last_token_update_date = now(), token_update_count ="
		    " t.token_update_count + 1, last_token_update_error = NULL, token_update_claimed_until ="
		    " CASE WHEN t.token_update_claimed_until = (x.claim::timestamp AT TIME ZONE 'UTC') THEN"
		    " NULL ELSE t.token_update_claimed_until END, updated_at = now()"
		    " FROM res x WHERE x.kind = 0 AND t.`id` = x.id"
		    " AND (t.`aimharder_token` = x.sent OR t.`aimharder_token` = x.tok) AND EXISTS (SELECT"
		    " FROM (SELECT t.*) AS `auth_sessions` WHERE (\n"
		    "active\n"
		    "))"
		    " RETURNING x.ord, 'r'::text AS how),"
		    " km AS (UPDATE `auth_sessions` t SET last_token_update_error = CASE WHEN x.kind = 5"
		    " AND NOT EXISTS (SELECT FROM (SELECT t.*) AS `auth_sessions` WHERE (\n"
		    "vip\n"
		    ")) THEN 'logout (not deleted: mass logout)' ELSE 'logout' END, last_token_update_date ="
		    " CASE WHEN x.kind = 5"
		    " AND NOT EXISTS (SELECT FROM (SELECT t.*) AS `auth_sessions` WHERE (\n"
		    "vip\n"
		    ")) THEN t.last_token_update_date ELSE now() END, token_update_claimed_until = CASE WHEN"
		    " t.token_update_claimed_until = (x.claim::timestamp AT TIME ZONE 'UTC') THEN NULL ELSE"
		    " t.token_update_claimed_until END"
		    " FROM res x WHERE x.kind IN (1, 4, 5) AND t.`id` = x.id AND t.`aimharder_token` = x.sent"
		    " AND EXISTS (SELECT FROM (SELECT t.*) AS `auth_sessions` WHERE (\n"
		    "active\n"
		    ")) AND (x.kind = 5 OR true OR EXISTS (SELECT FROM (SELECT t.*) AS `auth_sessions`"
		    " WHERE (\n"
		    "vip\n"
		    ")) OR (x.kind IN (1, 4) AND (t.token_update_claimed_until > now()"
		    " AND t.token_update_claimed_until <> (x.claim::timestamp AT TIME ZONE 'UTC'))))"
		    " RETURNING x.ord, CASE WHEN true THEN 'K' WHEN t.last_token_update_error = 'logout (not"
		    " deleted: mass logout)' THEN 'm' WHEN EXISTS (SELECT"
		    " FROM (SELECT t.*) AS `auth_sessions` WHERE (\n"
		    "vip\n"
		    ")) THEN 'k' WHEN x.kind IN (1, 4) AND (t.token_update_claimed_until > now()"
		    " AND t.token_update_claimed_until <> (x.claim::timestamp AT TIME ZONE 'UTC')) THEN 'a'"
		    " ELSE 'k' END AS how),"
		    " held AS (UPDATE `auth_sessions` t SET token_update_claimed_until = now() + 600000 *"
		    " interval '1 millisecond'"
		    " FROM res x WHERE x.kind = 4 AND t.`id` = x.id AND t.`aimharder_token` = x.sent"
		    " AND EXISTS (SELECT FROM (SELECT t.*) AS `auth_sessions` WHERE (\n"
		    "active\n"
		    ")) AND NOT EXISTS (SELECT FROM (SELECT t.*) AS `auth_sessions` WHERE (\n"
		    "vip\n"
		    ")) AND t.token_update_claimed_until = (x.claim::timestamp AT TIME ZONE 'UTC')"
		    " RETURNING x.ord, 'h'::text AS how, to_char(t.token_update_claimed_until AT TIME ZONE"
		    " 'UTC', 'YYYY-MM-DD`T`HH24:MI:SS.US') AS claim),"
		    " fail AS (UPDATE `auth_sessions` t SET last_token_update_error = x.reason,"
		    " token_update_claimed_until = CASE WHEN t.token_update_claimed_until ="
		    " (x.claim::timestamp AT TIME ZONE 'UTC') THEN NULL ELSE t.token_update_claimed_until END"
		    " FROM res x WHERE x.kind = 2 AND t.`id` = x.id AND t.`aimharder_token` = x.sent"
		    " AND EXISTS (SELECT FROM (SELECT t.*) AS `auth_sessions` WHERE (\n"
		    "active\n"
		    "))"
		    " RETURNING x.ord, 'f'::text AS how),"
		    " nm AS (SELECT x.ord, 'n'::text AS how"
		    " FROM res x JOIN `auth_sessions` t ON t.`id` = x.id WHERE x.kind <> 3"
		    " AND (t.`aimharder_token` = x.sent OR (x.kind = 0 AND t.`aimharder_token` = x.tok))"
		    " AND NOT EXISTS (SELECT FROM (SELECT t.*) AS `auth_sessions` WHERE (\n"
		    "active\n"
		    "))),"
		    " done AS (SELECT *, NULL::text AS claim FROM upd UNION ALL SELECT *, NULL FROM km"
		    " UNION ALL SELECT * FROM held UNION ALL SELECT *, NULL FROM fail"
		    " UNION ALL SELECT *, NULL FROM nm),"
		    " sup AS (UPDATE `auth_sessions` t SET token_update_claimed_until = NULL FROM res x"
		    " WHERE x.kind <> 3 AND t.`id` = x.id AND x.ord NOT IN (SELECT ord FROM done"
		    " WHERE how <> 'n')"
		    " AND t.token_update_claimed_until = (x.claim::timestamp AT TIME ZONE 'UTC')"
		    " RETURNING t.`id`),"
		    " rel AS (UPDATE `auth_sessions` t SET token_update_claimed_until = NULL FROM res x"
		    " WHERE x.kind = 3 AND t.`id` = x.id"
		    " AND t.token_update_claimed_until = (x.claim::timestamp AT TIME ZONE 'UTC')"
		    " RETURNING t.`id`)"
		    " SELECT ord, how, claim FROM done",
	},
	{
		.name = "quoted_where",
		.yaml = DB
		    "  table: Billing.User_Sessions\n"
		    "  where: '\"Plan\" = ''pro'''\n"
		    "refresh:\n  keep_when: User_Sessions.vip\n",
		.facts = { "uuid", "jsonb", 1 },
		.count = "SELECT count(*), count(*) FILTER (WHERE coalesce((\n"
		    "User_Sessions.vip\n"
		    "), false)) FROM `Billing`.`User_Sessions` AS `User_Sessions`"
		    " WHERE (coalesce(`User_Sessions`.last_token_update_date, `User_Sessions`.created_at,"
		    " '-infinity'::timestamptz) <= ($1::timestamp AT TIME ZONE 'UTC'))"
		    " AND (`User_Sessions`.token_update_claimed_until IS NULL OR"
		    " `User_Sessions`.token_update_claimed_until < now())"
		    " AND ($2::text IS NULL OR `User_Sessions`.`user_email` = $2::text)"
		    " AND ($3::int = 0 OR abs(hashtext(`User_Sessions`.`id`::text)::bigint) % $3::int ="
		    " $4::int)"
		    " AND NOT (`User_Sessions`.`id` = ANY($5::uuid[])) AND (\n"
		    "`Plan` = 'pro'\n"
		    ")",
		.list = "SELECT `User_Sessions`.`user_email`::text, `User_Sessions`.`aimharder_token`"
		    " FROM `Billing`.`User_Sessions` AS `User_Sessions`"
		    " WHERE (coalesce(`User_Sessions`.last_token_update_date, `User_Sessions`.created_at,"
		    " '-infinity'::timestamptz) <= ($1::timestamp AT TIME ZONE 'UTC'))"
		    " AND (`User_Sessions`.token_update_claimed_until IS NULL OR"
		    " `User_Sessions`.token_update_claimed_until < now())"
		    " AND ($2::text IS NULL OR `User_Sessions`.`user_email` = $2::text)"
		    " AND ($3::int = 0 OR abs(hashtext(`User_Sessions`.`id`::text)::bigint) % $3::int ="
		    " $4::int)"
		    " AND NOT (`User_Sessions`.`id` = ANY($5::uuid[])) AND (\n"
		    "`Plan` = 'pro'\n"
		    ")"
		    " ORDER BY coalesce(`User_Sessions`.last_token_update_date, `User_Sessions`.created_at,"
		    " '-infinity'::timestamptz)"
		    " LIMIT CASE WHEN $6::bigint > 0 THEN $6::bigint END",
		.claim = "WITH due AS MATERIALIZED (SELECT `User_Sessions`.`id` AS id"
		    " FROM `Billing`.`User_Sessions` AS `User_Sessions`"
		    " WHERE (coalesce(`User_Sessions`.last_token_update_date, `User_Sessions`.created_at,"
		    " '-infinity'::timestamptz) <= ($1::timestamp AT TIME ZONE 'UTC'))"
		    " AND (`User_Sessions`.token_update_claimed_until IS NULL OR"
		    " `User_Sessions`.token_update_claimed_until < now())"
		    " AND ($2::text IS NULL OR `User_Sessions`.`user_email` = $2::text)"
		    " AND ($3::int = 0 OR abs(hashtext(`User_Sessions`.`id`::text)::bigint) % $3::int ="
		    " $4::int)"
		    " AND NOT (`User_Sessions`.`id` = ANY($5::uuid[])) AND (\n"
		    "`Plan` = 'pro'\n"
		    ")"
		    " AND ($8::text IS NULL OR coalesce(`User_Sessions`.last_token_update_date, `User_Sessions`.created_at,"
		    " '-infinity'::timestamptz) >= ($8::timestamp AT TIME ZONE 'UTC'))"
		    " ORDER BY coalesce(`User_Sessions`.last_token_update_date, `User_Sessions`.created_at,"
		    " '-infinity'::timestamptz)"
		    " LIMIT $6::int FOR UPDATE SKIP LOCKED)"
		    " UPDATE `Billing`.`User_Sessions` t SET token_update_claimed_until = now() + $7::bigint"
		    " * interval '1 millisecond'"
		    " FROM due WHERE t.`id` = due.id"
		    " RETURNING t.`id`::text, t.`user_email`::text, t.`aimharder_token`,"
		    " t.`aimharder_cookies`::text, t.`fingerprint`::text,"
		    " to_char(t.token_update_claimed_until AT TIME ZONE 'UTC', 'YYYY-MM-DD`T`HH24:MI:SS.US'),"
		    " NULL::text,"
		    " CASE WHEN coalesce(t.last_token_update_date, t.created_at, '-infinity'::timestamptz) >="
		    " '1000-01-01 00:00:00+00'::timestamptz THEN to_char(coalesce(t.last_token_update_date,"
		    " t.created_at, '-infinity'::timestamptz) AT TIME ZONE 'UTC', 'YYYY-MM-DD`T`HH24:MI:SS.US') END",
		.write = "WITH res AS MATERIALIZED (SELECT *"
		    " FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[], $5::text[], $6::text[],"
		    " $7::text[], $8::text[], $9::text[]) WITH ORDINALITY AS x(id, kind, sent, tok, cookies,"
		    " reason, claim, atok, exp, ord)),"
		    " upd AS (UPDATE `Billing`.`User_Sessions` t SET `aimharder_token` = x.tok,"
		    " `aimharder_cookies` = x.cookies::jsonb, last_token_update_date = now(),"
		    " token_update_count = t.token_update_count + 1, last_token_update_error = NULL,"
		    " token_update_claimed_until = CASE WHEN t.token_update_claimed_until ="
		    " (x.claim::timestamp AT TIME ZONE 'UTC') THEN NULL ELSE t.token_update_claimed_until"
		    " END, updated_at = now()"
		    " FROM res x WHERE x.kind = 0 AND t.`id` = x.id"
		    " AND (t.`aimharder_token` = x.sent OR t.`aimharder_token` = x.tok) AND EXISTS (SELECT"
		    " FROM (SELECT t.*) AS `User_Sessions` WHERE (\n"
		    "`Plan` = 'pro'\n"
		    "))"
		    " RETURNING x.ord, 'r'::text AS how),"
		    " km AS (UPDATE `Billing`.`User_Sessions` t SET last_token_update_error = CASE WHEN"
		    " x.kind = 5"
		    " AND NOT EXISTS (SELECT FROM (SELECT t.*) AS `User_Sessions` WHERE (\n"
		    "User_Sessions.vip\n"
		    ")) THEN 'logout (not deleted: mass logout)' ELSE 'logout' END, last_token_update_date ="
		    " CASE WHEN x.kind = 5"
		    " AND NOT EXISTS (SELECT FROM (SELECT t.*) AS `User_Sessions` WHERE (\n"
		    "User_Sessions.vip\n"
		    ")) THEN t.last_token_update_date ELSE now() END, token_update_claimed_until = CASE WHEN"
		    " t.token_update_claimed_until = (x.claim::timestamp AT TIME ZONE 'UTC') THEN NULL ELSE"
		    " t.token_update_claimed_until END"
		    " FROM res x WHERE x.kind IN (1, 4, 5) AND t.`id` = x.id AND t.`aimharder_token` = x.sent"
		    " AND EXISTS (SELECT FROM (SELECT t.*) AS `User_Sessions` WHERE (\n"
		    "`Plan` = 'pro'\n"
		    ")) AND (x.kind = 5 OR false OR EXISTS (SELECT FROM (SELECT t.*) AS `User_Sessions`"
		    " WHERE (\n"
		    "User_Sessions.vip\n"
		    ")) OR (x.kind IN (1, 4) AND (t.token_update_claimed_until > now()"
		    " AND t.token_update_claimed_until <> (x.claim::timestamp AT TIME ZONE 'UTC'))))"
		    " RETURNING x.ord, CASE WHEN false THEN 'K' WHEN t.last_token_update_error = 'logout"
		    " (not deleted: mass logout)' THEN 'm' WHEN EXISTS (SELECT"
		    " FROM (SELECT t.*) AS `User_Sessions` WHERE (\n"
		    "User_Sessions.vip\n"
		    ")) THEN 'k' WHEN x.kind IN (1, 4) AND (t.token_update_claimed_until > now()"
		    " AND t.token_update_claimed_until <> (x.claim::timestamp AT TIME ZONE 'UTC')) THEN 'a'"
		    " ELSE 'k' END AS how),"
		    " del AS (DELETE FROM `Billing`.`User_Sessions` t USING res x WHERE x.kind = 1"
		    " AND t.`id` = x.id AND t.`aimharder_token` = x.sent AND EXISTS (SELECT"
		    " FROM (SELECT t.*) AS `User_Sessions` WHERE (\n"
		    "`Plan` = 'pro'\n"
		    ")) AND NOT EXISTS (SELECT FROM (SELECT t.*) AS `User_Sessions` WHERE (\n"
		    "User_Sessions.vip\n"
		    ")) AND NOT (t.token_update_claimed_until > now()"
		    " AND t.token_update_claimed_until <> (x.claim::timestamp AT TIME ZONE 'UTC'))"
		    " RETURNING x.ord, 'd'::text AS how),"
		    " held AS (UPDATE `Billing`.`User_Sessions` t SET token_update_claimed_until = now() +"
		    " 600000 * interval '1 millisecond'"
		    " FROM res x WHERE x.kind = 4 AND t.`id` = x.id AND t.`aimharder_token` = x.sent"
		    " AND EXISTS (SELECT FROM (SELECT t.*) AS `User_Sessions` WHERE (\n"
		    "`Plan` = 'pro'\n"
		    ")) AND NOT EXISTS (SELECT FROM (SELECT t.*) AS `User_Sessions` WHERE (\n"
		    "User_Sessions.vip\n"
		    ")) AND t.token_update_claimed_until = (x.claim::timestamp AT TIME ZONE 'UTC')"
		    " RETURNING x.ord, 'h'::text AS how, to_char(t.token_update_claimed_until AT TIME ZONE"
		    " 'UTC', 'YYYY-MM-DD`T`HH24:MI:SS.US') AS claim),"
		    " fail AS (UPDATE `Billing`.`User_Sessions` t SET last_token_update_error = x.reason,"
		    " token_update_claimed_until = CASE WHEN t.token_update_claimed_until ="
		    " (x.claim::timestamp AT TIME ZONE 'UTC') THEN NULL ELSE t.token_update_claimed_until END"
		    " FROM res x WHERE x.kind = 2 AND t.`id` = x.id AND t.`aimharder_token` = x.sent"
		    " AND EXISTS (SELECT FROM (SELECT t.*) AS `User_Sessions` WHERE (\n"
		    "`Plan` = 'pro'\n"
		    "))"
		    " RETURNING x.ord, 'f'::text AS how),"
		    " nm AS (SELECT x.ord, 'n'::text AS how"
		    " FROM res x JOIN `Billing`.`User_Sessions` t ON t.`id` = x.id WHERE x.kind <> 3"
		    " AND (t.`aimharder_token` = x.sent OR (x.kind = 0 AND t.`aimharder_token` = x.tok))"
		    " AND NOT EXISTS (SELECT FROM (SELECT t.*) AS `User_Sessions` WHERE (\n"
		    "`Plan` = 'pro'\n"
		    "))),"
		    " done AS (SELECT *, NULL::text AS claim FROM upd UNION ALL SELECT *, NULL FROM km"
		    " UNION ALL SELECT *, NULL FROM del UNION ALL SELECT * FROM held UNION ALL SELECT *, NULL"
		    " FROM fail UNION ALL SELECT *, NULL FROM nm),"
		    " sup AS (UPDATE `Billing`.`User_Sessions` t SET token_update_claimed_until = NULL"
		    " FROM res x WHERE x.kind <> 3 AND t.`id` = x.id AND x.ord NOT IN (SELECT ord FROM done"
		    " WHERE how <> 'n')"
		    " AND t.token_update_claimed_until = (x.claim::timestamp AT TIME ZONE 'UTC')"
		    " RETURNING t.`id`),"
		    " rel AS (UPDATE `Billing`.`User_Sessions` t SET token_update_claimed_until = NULL"
		    " FROM res x WHERE x.kind = 3 AND t.`id` = x.id"
		    " AND t.token_update_claimed_until = (x.claim::timestamp AT TIME ZONE 'UTC')"
		    " RETURNING t.`id`)"
		    " SELECT ord, how, claim FROM done",
	},
};

static struct config *load(const char *yaml)
{
	struct config *cfg = NULL;
	struct errlist errs = { NULL, 0 };
	int rc = config_load_string("t.yaml", yaml, strlen(yaml), &cfg, &errs);
	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "  config: %s\n", errs.msgs[i]);
	errlist_clear(&errs);
	ck_assert_int_eq(rc, 0);
	return cfg;
}

static const struct stmt_case *case_named(const char *name)
{
	for (int i = 0; i < N(stmt_cases); i++)
		if (strcmp(stmt_cases[i].name, name) == 0)
			return &stmt_cases[i];
	ck_abort_msg("no case %s", name);
	return NULL;
}

/* The highest $n in sql. */
static int max_param(const char *sql)
{
	int max = 0;
	for (const char *p = strchr(sql, '$'); p != NULL; p = strchr(p + 1, '$')) {
		int n = (int)strtol(p + 1, NULL, 10);
		if (n > max)
			max = n;
	}
	return max;
}

START_TEST(test_statements)
{
	const struct stmt_case *t = &stmt_cases[_i];
	struct config *cfg = load(t->yaml);
	int bad = -1;
	struct sqlnames *n = sqlbuild_names_new(cfg, &bad);
	ck_assert_ptr_nonnull(n);
	ck_assert_int_eq(bad, 0);
	struct sqlctx c = { cfg, n, t->facts.id_type, t->facts.cookies_type, t->facts.has_updated_at,
		cfg->refresh.stale_after_ms };
	char what[96];
	snprintf(what, sizeof(what), "%s: count", t->name);
	expect_sql(what, sqlbuild_count(&c), t->count);
	snprintf(what, sizeof(what), "%s: list", t->name);
	expect_sql(what, sqlbuild_list(&c), t->list);
	snprintf(what, sizeof(what), "%s: claim", t->name);
	expect_sql(what, sqlbuild_claim(&c), t->claim);
	snprintf(what, sizeof(what), "%s: write", t->name);
	expect_sql(what, sqlbuild_write(&c), t->write);

	/* Every parameter the enums name is used, and no other. */
	char *s = sqlbuild_count(&c);
	ck_assert_int_eq(max_param(s), DUE_NPARAM);
	free(s);
	s = sqlbuild_list(&c);
	ck_assert_int_eq(max_param(s), LIST_NPARAM);
	free(s);
	s = sqlbuild_claim(&c);
	ck_assert_int_eq(max_param(s), CLAIM_NPARAM);
	free(s);
	s = sqlbuild_write(&c);
	ck_assert_int_eq(max_param(s), WRITE_NPARAM);
	free(s);
	sqlbuild_names_free(n);
	config_free(cfg);
}
END_TEST

/* An operator's expression as the start-up check has the database plan it (case quoted_where). */
static const struct {
	const char *key;
	enum expr_form form;
	const char *want;
} expr_cases[] = {
	{ "database.where", EXPR_AS_CLAIM,
	    "EXPLAIN SELECT 1 FROM `Billing`.`User_Sessions` AS `User_Sessions` WHERE (\n"
	    "`Plan` = 'pro'\n"
	    ")" },
	{ "database.where", EXPR_AS_WRITE,
	    "EXPLAIN SELECT 1 FROM (SELECT 1 AS ord) x JOIN `Billing`.`User_Sessions` t ON true"
	    " WHERE EXISTS (SELECT FROM (SELECT t.*) AS `User_Sessions` WHERE (\n"
	    "`Plan` = 'pro'\n"
	    "))" },
	{ "refresh.keep_when", EXPR_AS_CLAIM,
	    "EXPLAIN SELECT 1 FROM `Billing`.`User_Sessions` AS `User_Sessions` WHERE (\n"
	    "User_Sessions.vip\n"
	    ")" },
	{ "refresh.keep_when", EXPR_AS_WRITE,
	    "EXPLAIN SELECT 1 FROM (SELECT 1 AS ord) x JOIN `Billing`.`User_Sessions` t ON true"
	    " WHERE EXISTS (SELECT FROM (SELECT t.*) AS `User_Sessions` WHERE (\n"
	    "User_Sessions.vip\n"
	    "))" },
};

START_TEST(test_expr_check)
{
	struct config *cfg = load(case_named("quoted_where")->yaml);
	int bad;
	struct sqlnames *n = sqlbuild_names_new(cfg, &bad);
	ck_assert_ptr_nonnull(n);
	const char *expr = strcmp(expr_cases[_i].key, "database.where") == 0 ? cfg->database.where
									     : cfg->refresh.keep_when;
	expect_sql(expr_cases[_i].key, sqlbuild_expr_check(n, expr, expr_cases[_i].form),
	    expr_cases[_i].want);
	sqlbuild_names_free(n);
	config_free(cfg);
}
END_TEST

/* The row-security probe, for the table of a case, oid 16384. */
static const struct {
	const char *config, *want;
} rls_cases[] = {
	{ "aimharder_defaults", "SELECT EXISTS (SELECT 1 FROM `auth_sessions`), greatest((SELECT reltuples::bigint"
	    " FROM pg_class WHERE oid = 16384), pg_stat_get_live_tuples(16384))" },
	{ "quoted_names", "SELECT EXISTS (SELECT 1"
	    " FROM `Billing`.`User_Sessions`), greatest((SELECT reltuples::bigint FROM pg_class"
	    " WHERE oid = 16384), pg_stat_get_live_tuples(16384))" },
};

START_TEST(test_rls_probe)
{
	struct config *cfg = load(case_named(rls_cases[_i].config)->yaml);
	int bad;
	struct sqlnames *n = sqlbuild_names_new(cfg, &bad);
	ck_assert_ptr_nonnull(n);
	expect_sql(rls_cases[_i].config, sqlbuild_rls_probe(n, "16384"), rls_cases[_i].want);
	expect_sql("explain", sqlbuild_explain("SELECT 1"), "EXPLAIN SELECT 1");
	sqlbuild_names_free(n);
	config_free(cfg);
}
END_TEST

/* ---- Quoting: hostile names cannot leave the identifier ---- */

static const struct {
	const char *in, *want;
} ident_cases[] = {
	{ "id", "\"id\"" },
	{ "UserId", "\"UserId\"" },
	{ "", "\"\"" },
	{ "a\"b", "\"a\"\"b\"" },
	{ "\"", "\"\"\"\"" },
	{ "x\"; DROP TABLE t; --", "\"x\"\"; DROP TABLE t; --\"" },
	{ "s.t", "\"s.t\"" }, /* one identifier: the dot is part of it */
};

START_TEST(test_quote_ident)
{
	char *got = sqlbuild_quote_ident(ident_cases[_i].in);
	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got, ident_cases[_i].want);
	free(got);
}
END_TEST

static const struct {
	const char *in, *want; /* want NULL: refused */
} qualified_cases[] = {
	{ "auth_sessions", "\"auth_sessions\"" },
	{ "Billing.User_Sessions", "\"Billing\".\"User_Sessions\"" },
	{ "s\".t", "\"s\"\"\".\"t\"" },
	{ "s.t\"", "\"s\".\"t\"\"\"" },
	{ "", NULL },
	{ ".t", NULL },
	{ "s.", NULL },
	{ "a.b.c", NULL },
	{ ".", NULL },
};

START_TEST(test_quote_qualified)
{
	char *got = sqlbuild_quote_qualified(qualified_cases[_i].in);
	if (qualified_cases[_i].want == NULL) {
		ck_assert_ptr_null(got);
		return;
	}
	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got, qualified_cases[_i].want);
	free(got);
}
END_TEST

/* database.table the loader did not check (a config built in code): refused, and said so. */
START_TEST(test_names_bad_table)
{
	struct config *cfg = config_new();
	ck_assert_ptr_nonnull(cfg);
	free(cfg->database.table);
	cfg->database.table = strdup("a.b.c");
	ck_assert_ptr_nonnull(cfg->database.table);
	int bad = 0;
	ck_assert_ptr_null(sqlbuild_names_new(cfg, &bad));
	ck_assert_int_eq(bad, 1);
	config_free(cfg);
}
END_TEST

/* Optional roles mapped to "" have no quoted name; the others do. */
START_TEST(test_names_absent_roles)
{
	struct config *cfg = load(case_named("oauth2")->yaml);
	int bad;
	struct sqlnames *n = sqlbuild_names_new(cfg, &bad);
	ck_assert_ptr_nonnull(n);
	ck_assert_str_eq(n->table, "\"oauth_sessions\"");
	ck_assert_str_eq(n->alias, "\"oauth_sessions\"");
	ck_assert_str_eq(n->col[COL_TOKEN], "\"refresh_token\"");
	ck_assert_str_eq(n->col[COL_EXPIRES_AT], "\"access_token_expires_at\"");
	ck_assert_ptr_null(n->col[COL_COOKIES]);
	ck_assert_ptr_null(n->col[COL_FINGERPRINT]);
	sqlbuild_names_free(n);
	config_free(cfg);
}
END_TEST

/* ---- Array literals: the write's and the privilege check's parameters ---- */

static const struct {
	const char *v[3];
	size_t n;
	const char *want;
} array_cases[] = {
	{ { NULL }, 0, "{}" },
	{ { "a" }, 1, "{\"a\"}" },
	{ { NULL }, 1, "{NULL}" },
	{ { "", NULL, "x,y" }, 3, "{\"\",NULL,\"x,y\"}" },
	{ { "a\"b", "c\\d", "NULL" }, 3, "{\"a\\\"b\",\"c\\\\d\",\"NULL\"}" },
	{ { "{}", "}\"," }, 2, "{\"{}\",\"}\\\",\"}" },
};

START_TEST(test_array_literal)
{
	char *got = sqlbuild_array_literal((char *const *)array_cases[_i].v, array_cases[_i].n);
	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got, array_cases[_i].want);
	free(got);
}
END_TEST

Suite *sqlbuild_suite(void)
{
	Suite *s = suite_create("sqlbuild");
	TCase *tc = tcase_create("statements");
	tcase_add_loop_test(tc, test_statements, 0, N(stmt_cases));
	tcase_add_loop_test(tc, test_expr_check, 0, N(expr_cases));
	tcase_add_loop_test(tc, test_rls_probe, 0, N(rls_cases));
	suite_add_tcase(s, tc);
	tc = tcase_create("quoting");
	tcase_add_loop_test(tc, test_quote_ident, 0, N(ident_cases));
	tcase_add_loop_test(tc, test_quote_qualified, 0, N(qualified_cases));
	tcase_add_test(tc, test_names_bad_table);
	tcase_add_test(tc, test_names_absent_roles);
	tcase_add_loop_test(tc, test_array_literal, 0, N(array_cases));
	suite_add_tcase(s, tc);
	return s;
}
