/* db.c - claims as leases and set-based, token-guarded write-back on libpq (unnamed statements only). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "db.h"
#include "defaults.h"
#include "log.h"

/* Result kinds in the write statement's unnest(); match the CASEs in the SQL. */
#define KIND_REFRESHED 0
#define KIND_LOGOUT 1
#define KIND_FAILED 2
#define KIND_RELEASE 3

/*
 * A channel is one connection with at most one statement in flight, driven
 * without blocking: the sweep polls its socket next to libcurl's. A broken
 * connection is re-established asynchronously (PQresetStart/PQresetPoll).
 */
enum chan_state {
	CH_IDLE, /* connected, nothing in flight */
	CH_SENDING, /* statement queued, libpq still flushing it (wait to write) */
	CH_BUSY, /* statement sent, waiting for its result */
	CH_DONE, /* result in res, not yet collected */
	CH_FAILED, /* the statement failed; message in err, not yet collected */
	CH_RESET, /* reconnecting */
	CH_BROKEN /* connection unusable; the next statement starts a reconnect */
};

struct chan {
	PGconn *conn;
	const char *what; /* "claim" or "write results", for messages */
	enum chan_state state;
	int poll_write; /* CH_RESET: libpq waits for the socket to be writable */
	int lost_conn; /* CH_FAILED: the connection is gone, reset on collect */
	long long since; /* monotonic ms: statement sent, or reconnect started */
	PGresult *res; /* CH_DONE: the statement's result */
	char err[256]; /* CH_FAILED: one line */
};

struct db {
	const struct config *cfg;
	struct db_filter filter;
	PGconn *conn; /* the claim channel's connection; also used before the run starts */
	struct chan claimer, writer;
	struct result *const *wres; /* the results of the write in flight (borrowed) */
	size_t nwres;
	char *table; /* quoted, possibly schema-qualified */
	char *c_id, *c_email, *c_token; /* quoted */
	char *c_cookies, *c_fp, *c_access, *c_expires; /* quoted; NULL when the role is absent */
	char *id_type; /* SQL type of the id column, e.g. "uuid" */
	char *cookies_type; /* SQL type of the cookies column, e.g. "jsonb" */
	int has_updated_at;
	char *cutoff; /* the run's due cutoff, UTC ISO text; NULL = every row due */
	char *sql_claim, *sql_due_from, *sql_write; /* built once */
};

static long long mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *xstrdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

void row_free(struct row *row)
{
	if (row == NULL)
		return;
	free(row->id);
	free(row->email);
	free(row->token);
	free(row->cookies);
	free(row->fingerprint);
	free(row->claim);
	free(row);
}

/* The first line of m (trailing newline dropped) into buf. */
static const char *first_line(const char *m, char *buf, size_t size)
{
	size_t n = strcspn(m, "\n");
	if (n >= size)
		n = size - 1;
	memcpy(buf, m, n);
	buf[n] = '\0';
	return buf;
}

/* One line of PQerrorMessage into buf. */
static const char *pq_error_line(PGconn *conn, char *buf, size_t size)
{
	return first_line(conn ? PQerrorMessage(conn) : "no connection", buf, size);
}

/* One line of a result's error, else of the connection's. */
static const char *res_error_line(PGresult *res, PGconn *conn, char *buf, size_t size)
{
	const char *m = res ? PQresultErrorMessage(res) : "";
	if (m == NULL || *m == '\0')
		return pq_error_line(conn, buf, size);
	return first_line(m, buf, size);
}

/* Quotes one identifier ("a""b"). Caller frees. */
static char *quote_ident(const char *s, size_t len)
{
	char *out = malloc(len * 2 + 3);
	if (out == NULL)
		return NULL;
	size_t o = 0;
	out[o++] = '"';
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '"')
			out[o++] = '"';
		out[o++] = s[i];
	}
	out[o++] = '"';
	out[o] = '\0';
	return out;
}

/*
 * Quotes a possibly schema-qualified name: "schema"."table". A dot splits
 * schema from table (one dot at most); everything else is taken literally,
 * so no input can escape the identifier. Caller frees; NULL on bad input.
 */
static char *quote_qualified(const char *name)
{
	const char *dot = strchr(name, '.');
	if (*name == '\0')
		return NULL;
	if (dot == NULL)
		return quote_ident(name, strlen(name));
	if (dot == name || dot[1] == '\0' || strchr(dot + 1, '.') != NULL)
		return NULL;
	char *a = quote_ident(name, (size_t)(dot - name));
	char *b = quote_ident(dot + 1, strlen(dot + 1));
	char *out = NULL;
	if (a && b && asprintf(&out, "%s.%s", a, b) < 0)
		out = NULL;
	free(a);
	free(b);
	return out;
}

/* The quoted column of an optional role, or NULL when it is mapped to "" (absent). */
static char *quote_role(const char *name)
{
	return name != NULL && name[0] != '\0' ? quote_ident(name, strlen(name)) : NULL;
}

/* Executes sql with text params, blocking (before the run); returns the result (caller PQclear) or NULL (logged). */
static PGresult *exec_params(struct db *db, const char *what, const char *sql, int n,
    const char *const *params, ExecStatusType want)
{
	char err[256];
	PGresult *res = PQexecParams(db->conn, sql, n, NULL, params, NULL, NULL, 0);
	if (res == NULL || PQresultStatus(res) != want) {
		log_error("db", "%s: %s", what, res_error_line(res, db->conn, err, sizeof(err)));
		PQclear(res);
		if (PQstatus(db->conn) != CONNECTION_OK)
			db->claimer.state = CH_BROKEN;
		return NULL;
	}
	return res;
}

/* Re-establishes the claim channel's connection, blocking (before the run). 0 when usable. */
static int ensure_connection(struct db *db)
{
	char err[256];
	if (db->claimer.state == CH_IDLE && PQstatus(db->conn) == CONNECTION_OK)
		return 0;
	PQreset(db->conn);
	if (PQstatus(db->conn) != CONNECTION_OK) {
		log_warn("db", "reconnect failed: %s", pq_error_line(db->conn, err, sizeof(err)));
		db->claimer.state = CH_BROKEN;
		return -1;
	}
	(void)PQsetnonblocking(db->conn, 1);
	log_info("db", "reconnected");
	db->claimer.state = CH_IDLE;
	return 0;
}

/* ---- Channels: one statement in flight per connection, never blocking ---- */

static void chan_fail(struct chan *ch, const char *msg)
{
	snprintf(ch->err, sizeof(ch->err), "%s", msg);
	ch->lost_conn = PQstatus(ch->conn) != CONNECTION_OK;
	PQclear(ch->res);
	ch->res = NULL;
	ch->state = CH_FAILED;
}

/* Starts re-establishing a broken connection; the sweep's loop drives it. */
static void chan_reset_start(struct chan *ch)
{
	char line[256];
	ch->since = mono_ms();
	ch->poll_write = 1;
	if (!PQresetStart(ch->conn)) {
		log_warn("db", "reconnect failed: %s", pq_error_line(ch->conn, line, sizeof(line)));
		ch->state = CH_BROKEN;
		return;
	}
	ch->state = CH_RESET;
}

/*
 * Sends a statement. Returns 0 when it is on its way, or -1 when the channel
 * cannot take one now (busy, broken or reconnecting; a broken one starts
 * reconnecting), with the reason logged.
 */
static int chan_send(struct chan *ch, const char *sql, int n, const char *const *params)
{
	char line[256];
	if (ch->state == CH_BROKEN)
		chan_reset_start(ch);
	if (ch->state == CH_RESET) {
		log_debug("db", "%s: waiting for the connection", ch->what);
		return -1;
	}
	if (ch->state != CH_IDLE)
		return -1;
	if (!PQsendQueryParams(ch->conn, sql, n, NULL, params, NULL, NULL, 0)) {
		log_error("db", "%s: %s", ch->what, pq_error_line(ch->conn, line, sizeof(line)));
		if (PQstatus(ch->conn) != CONNECTION_OK)
			ch->state = CH_BROKEN;
		return -1;
	}
	ch->since = mono_ms();
	ch->state = CH_SENDING;
	return 0;
}

/* Reads what has arrived; moves CH_BUSY to CH_DONE or CH_FAILED when the statement ends. */
static void chan_read(struct chan *ch, ExecStatusType want)
{
	char line[256];
	if (!PQconsumeInput(ch->conn)) {
		chan_fail(ch, pq_error_line(ch->conn, line, sizeof(line)));
		return;
	}
	while (!PQisBusy(ch->conn)) {
		PGresult *r = PQgetResult(ch->conn);
		if (r == NULL) {
			if (ch->res == NULL)
				chan_fail(ch, "no result");
			else if (PQresultStatus(ch->res) != want)
				chan_fail(ch, res_error_line(ch->res, ch->conn, line, sizeof(line)));
			else
				ch->state = CH_DONE;
			return;
		}
		if (ch->res == NULL)
			ch->res = r; /* the statement's result; an error replaces a success below */
		else if (PQresultStatus(r) != want && PQresultStatus(ch->res) == want) {
			PQclear(ch->res);
			ch->res = r;
		} else {
			PQclear(r);
		}
	}
}

/*
 * Drives a channel without blocking: flushes a statement being sent, reads a
 * result, advances a reconnect, and gives up on a statement or reconnect that
 * has taken too long (a hung server or a pooler queueing us: the connection
 * is dropped and re-established; every statement is safe to repeat).
 */
static void chan_step(struct chan *ch, ExecStatusType want)
{
	char line[256];
	long long now = mono_ms();
	if (ch->state == CH_RESET) {
		PostgresPollingStatusType p = PQresetPoll(ch->conn);
		if (p == PGRES_POLLING_OK) {
			(void)PQsetnonblocking(ch->conn, 1);
			ch->state = CH_IDLE;
			log_info("db", "%s: reconnected", ch->what);
		} else if (p == PGRES_POLLING_FAILED) {
			log_warn("db", "%s: reconnect failed: %s", ch->what,
			    pq_error_line(ch->conn, line, sizeof(line)));
			ch->state = CH_BROKEN;
		} else if (now - ch->since > DB_CONNECT_TIMEOUT_S * 1000L) {
			log_warn("db", "%s: reconnect timed out after %d s", ch->what, DB_CONNECT_TIMEOUT_S);
			ch->state = CH_BROKEN;
		} else {
			ch->poll_write = p == PGRES_POLLING_WRITING;
		}
		return;
	}
	if (ch->state == CH_SENDING) {
		int f = PQflush(ch->conn);
		if (f > 0 && !PQconsumeInput(ch->conn))
			f = -1;
		if (f < 0) {
			chan_fail(ch, pq_error_line(ch->conn, line, sizeof(line)));
			return;
		}
		if (f == 0)
			ch->state = CH_BUSY;
	}
	if (ch->state == CH_BUSY)
		chan_read(ch, want); /* a result may be there already */
	if ((ch->state == CH_SENDING || ch->state == CH_BUSY) &&
	    now - ch->since > DB_STATEMENT_TIMEOUT_MS) {
		snprintf(line, sizeof(line), "no answer from the database in %ld ms",
		    (long)DB_STATEMENT_TIMEOUT_MS);
		chan_fail(ch, line);
		ch->lost_conn = 1; /* abandon it: reconnect before the next statement */
	}
}

/*
 * Takes a finished statement's outcome: 1 with its result in *res (caller
 * PQclears), -1 when it failed (logged; the channel reconnects before the
 * next statement if the connection is gone), 0 while it is still running.
 */
static int chan_collect(struct chan *ch, PGresult **res)
{
	*res = NULL;
	if (ch->state == CH_DONE) {
		*res = ch->res;
		ch->res = NULL;
		ch->state = CH_IDLE;
		return 1;
	}
	if (ch->state != CH_FAILED)
		return 0;
	log_error("db", "%s: %s", ch->what, ch->err);
	ch->state = ch->lost_conn ? CH_BROKEN : CH_IDLE;
	return -1;
}

/* Whether a channel has a statement or a reconnect under way. */
static int chan_busy(const struct chan *ch)
{
	return ch->state == CH_SENDING || ch->state == CH_BUSY || ch->state == CH_RESET;
}

/* Adds the channel's socket to fds when it has something to wait for. */
static size_t chan_waitfd(const struct chan *ch, struct waitfd *fds, size_t i, size_t max)
{
	int fd = PQsocket(ch->conn);
	if (i >= max || fd < 0 || !chan_busy(ch))
		return i;
	fds[i].fd = fd;
	fds[i].want_write = ch->state == CH_SENDING || (ch->state == CH_RESET && ch->poll_write);
	return i + 1;
}

/* Blocks until the channel's statement ends (for the synchronous calls). */
static void chan_wait(struct chan *ch, ExecStatusType want)
{
	for (;;) {
		chan_step(ch, want);
		if (!chan_busy(ch))
			return;
		struct waitfd w;
		if (chan_waitfd(ch, &w, 0, 1) == 0)
			return;
		struct pollfd p = { w.fd, (short)(w.want_write ? POLLOUT : POLLIN), 0 };
		(void)poll(&p, 1, 100);
	}
}

/* Looks up the columns of the table; fills types and flags, or explains what is missing. */
static int check_schema(struct db *db, char *err, size_t errlen)
{
	const struct config *cfg = db->cfg;
	const char *sql = "SELECT a.attname, format_type(a.atttypid, a.atttypmod) "
			  "FROM pg_attribute a WHERE a.attrelid = to_regclass($1) "
			  "AND a.attnum > 0 AND NOT a.attisdropped";
	const char *params[1] = { db->table };
	char line[256];
	int rc = -1;
	PGresult *res = PQexecParams(db->conn, sql, 1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		snprintf(err, errlen, "cannot read the schema: %s",
		    res_error_line(res, db->conn, line, sizeof(line)));
		goto out;
	}
	if (PQntuples(res) == 0) {
		snprintf(err, errlen, "table %s does not exist (apply the migrations in sql/)",
		    cfg->database.table);
		goto out;
	}
	/* Roles mapped to "" are absent; the first three are required (the config ensures it). */
	const struct config *c = cfg;
	const char *need[] = { c->database.columns.id, c->database.columns.token,
		c->database.columns.email, c->database.columns.cookies, c->database.columns.fingerprint,
		c->database.columns.access_token, c->database.columns.expires_at, "created_at",
		"last_token_update_date", "token_update_count", "last_token_update_error",
		"token_update_claimed_until" };
	enum { NEED_ID = 0, NEED_COOKIES = 3 };
	size_t nneed = sizeof(need) / sizeof(need[0]);
	for (size_t i = 0; i < nneed; i++) {
		int found = 0;
		if (need[i] == NULL || need[i][0] == '\0') {
			if (i <= 2) {
				snprintf(err, errlen, "database.columns: a required column is mapped to \"\"");
				goto out;
			}
			continue;
		}
		for (int r = 0; r < PQntuples(res) && !found; r++) {
			if (strcmp(PQgetvalue(res, r, 0), need[i]) != 0)
				continue;
			found = 1;
			if (i == NEED_ID)
				db->id_type = xstrdup(PQgetvalue(res, r, 1));
			if (i == NEED_COOKIES)
				db->cookies_type = xstrdup(PQgetvalue(res, r, 1));
		}
		if (!found) {
			snprintf(err, errlen, "table %s has no column %s (apply the migrations in sql/)",
			    cfg->database.table, need[i]);
			goto out;
		}
	}
	for (int r = 0; r < PQntuples(res); r++)
		if (strcmp(PQgetvalue(res, r, 0), "updated_at") == 0)
			db->has_updated_at = 1;
	if (db->id_type == NULL || (db->c_cookies != NULL && db->cookies_type == NULL)) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	rc = 0;
out:
	PQclear(res);
	return rc;
}

/* Fixes the run's cutoff once, so that rows written during the run are not due again. */
static int fix_cutoff(struct db *db, char *err, size_t errlen)
{
	char ms[32], line[256];
	const char *params[1] = { ms };
	snprintf(ms, sizeof(ms), "%ld", db->filter.stale_after_ms);
	PGresult *res = PQexecParams(db->conn,
	    "SELECT to_char((now() - $1::bigint * interval '1 millisecond') AT TIME ZONE 'UTC', "
	    "'YYYY-MM-DD\"T\"HH24:MI:SS.US')",
	    1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		snprintf(err, errlen, "cannot read the time: %s",
		    res_error_line(res, db->conn, line, sizeof(line)));
		PQclear(res);
		return -1;
	}
	db->cutoff = xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return db->cutoff ? 0 : -1;
}

/*
 * The WHERE clause of a due row, shared by count, dry run and claim.
 * Parameters: $1 cutoff (run start - stale_after), $2 email or NULL,
 * $3 shard count, $4 shard index, $5 excluded ids. With an expires_at column
 * a row is also due when it expires within refresh.ahead of the run's start
 * (or has no expiry) and was not refreshed since the run started.
 */
static char *due_where(const struct db *db)
{
	const struct config *cfg = db->cfg;
	char *s = NULL, *expiry = NULL;
	if (db->c_expires != NULL) {
		long stale = db->filter.stale_after_ms;
		if (asprintf(&expiry,
			" OR ((t.%s IS NULL OR t.%s <= ($1::timestamp AT TIME ZONE 'UTC')"
			" + %ld * interval '1 millisecond')"
			" AND coalesce(t.last_token_update_date, '-infinity'::timestamptz)"
			" < ($1::timestamp AT TIME ZONE 'UTC') + %ld * interval '1 millisecond')",
			db->c_expires, db->c_expires, stale + cfg->refresh.ahead_ms, stale) < 0)
			return NULL;
	}
	if (asprintf(&s,
		"(coalesce(t.last_token_update_date, t.created_at, '-infinity'::timestamptz)"
		" <= ($1::timestamp AT TIME ZONE 'UTC')%s)"
		" AND (t.token_update_claimed_until IS NULL OR t.token_update_claimed_until < now())"
		" AND ($2::text IS NULL OR t.%s = $2::text)"
		" AND ($3::int = 0 OR abs(hashtext(t.%s::text)::bigint) %% $3::int = $4::int)"
		" AND NOT (t.%s = ANY($5::%s[]))",
		expiry ? expiry : "", db->c_email, db->c_id, db->c_id, db->id_type) < 0)
		s = NULL;
	free(expiry);
	return s;
}

/* "t.col" for a present role, or "NULL" for an absent one. Caller frees. */
static char *col_or_null(const char *quoted)
{
	char *s = NULL;
	if (asprintf(&s, "%s%s", quoted ? "t." : "NULL", quoted ? quoted : "") < 0)
		return NULL;
	return s;
}

/*
 * The SET list of a refreshed row: the token, and the cookies, access token
 * and expiry where the table has those roles. Caller frees.
 */
static char *refreshed_set(const struct db *db)
{
	char *cookies = NULL, *access = NULL, *expires = NULL, *s = NULL;
	int bad = 0;
	if (db->c_cookies)
		bad |= asprintf(&cookies, ", %s = x.cookies::%s", db->c_cookies, db->cookies_type) < 0;
	if (db->c_access)
		bad |= asprintf(&access, ", %s = x.atok", db->c_access) < 0;
	if (db->c_expires)
		bad |= asprintf(&expires, ", %s = to_timestamp(x.exp::double precision)", db->c_expires) < 0;
	if (!bad && asprintf(&s,
			"%s = x.tok%s%s%s, last_token_update_date = now(),"
			" token_update_count = t.token_update_count + 1, last_token_update_error = NULL,"
			" token_update_claimed_until = NULL%s",
			db->c_token, cookies ? cookies : "", access ? access : "", expires ? expires : "",
			db->has_updated_at ? ", updated_at = now()" : "") < 0)
		s = NULL;
	free(cookies);
	free(access);
	free(expires);
	return s;
}

static int build_sql(struct db *db)
{
	const struct config *cfg = db->cfg;
	char *where = due_where(db);
	char *fp = col_or_null(db->c_fp), *ck = col_or_null(db->c_cookies);
	char *set = refreshed_set(db), *logout = NULL;
	int bad = where == NULL || fp == NULL || ck == NULL || set == NULL;
	if (!bad)
		bad |= asprintf(&db->sql_due_from, "FROM %s t WHERE %s", db->table, where) < 0;
	if (!bad)
		bad |= asprintf(&db->sql_claim,
			   "WITH due AS MATERIALIZED ("
			   "SELECT t.%s AS id FROM %s t WHERE %s"
			   " ORDER BY coalesce(t.last_token_update_date, t.created_at, '-infinity'::timestamptz)"
			   " LIMIT $6::int FOR UPDATE SKIP LOCKED)"
			   " UPDATE %s t SET token_update_claimed_until = now() + $7::bigint * interval '1 millisecond'"
			   " FROM due WHERE t.%s = due.id"
			   " RETURNING t.%s::text, t.%s::text, t.%s, %s::text, %s::text,"
			   " to_char(t.token_update_claimed_until AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US')",
			   db->c_id, db->table, where, db->table, db->c_id, db->c_id, db->c_email,
			   db->c_token, ck, fp) < 0;
	if (!bad && cfg->refresh.on_logout == ON_LOGOUT_KEEP)
		bad |= asprintf(&logout,
			   "UPDATE %s t SET last_token_update_error = 'logout', last_token_update_date = now(),"
			   " token_update_claimed_until = NULL FROM res x"
			   " WHERE x.kind = 1 AND t.%s = x.id AND t.%s = x.sent RETURNING x.ord",
			   db->table, db->c_id, db->c_token) < 0;
	else if (!bad)
		bad |= asprintf(&logout,
			   "DELETE FROM %s t USING res x"
			   " WHERE x.kind = 1 AND t.%s = x.id AND t.%s = x.sent RETURNING x.ord",
			   db->table, db->c_id, db->c_token) < 0;
	if (!bad) {
		/*
		 * One statement, one round trip, atomic. Each row appears under one
		 * kind, so no row is touched by two CTEs. A refreshed row whose token
		 * already is the new one was written by an earlier try whose reply
		 * was lost: apply it again rather than call it superseded. A result
		 * that upd, lo and fail did not write was superseded: sup clears its
		 * claim, picking it by what those returned rather than by the token
		 * in the statement's snapshot (a relogin that committed while the
		 * statement waited for the row would not show there).
		 */
		bad |= asprintf(&db->sql_write,
			   "WITH res AS MATERIALIZED (SELECT * FROM unnest($1::%s[], $2::int[], $3::text[],"
			   " $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])"
			   " WITH ORDINALITY AS x(id, kind, sent, tok, cookies, reason, claim, atok, exp, ord)),"
			   " upd AS (UPDATE %s t SET %s"
			   " FROM res x WHERE x.kind = 0 AND t.%s = x.id AND (t.%s = x.sent OR t.%s = x.tok)"
			   " RETURNING x.ord),"
			   " lo AS (%s),"
			   " fail AS (UPDATE %s t SET last_token_update_error = x.reason,"
			   " token_update_claimed_until = NULL FROM res x"
			   " WHERE x.kind = 2 AND t.%s = x.id AND t.%s = x.sent RETURNING x.ord),"
			   " sup AS (UPDATE %s t SET token_update_claimed_until = NULL FROM res x"
			   " WHERE x.kind < 3 AND t.%s = x.id"
			   " AND x.ord NOT IN (SELECT ord FROM upd UNION ALL SELECT ord FROM lo"
			   " UNION ALL SELECT ord FROM fail)"
			   " AND t.token_update_claimed_until = (x.claim::timestamp AT TIME ZONE 'UTC')"
			   " RETURNING t.%s),"
			   " rel AS (UPDATE %s t SET token_update_claimed_until = NULL FROM res x"
			   " WHERE x.kind = 3 AND t.%s = x.id"
			   " AND t.token_update_claimed_until = (x.claim::timestamp AT TIME ZONE 'UTC')"
			   " RETURNING t.%s)"
			   " SELECT ord FROM upd UNION ALL SELECT ord FROM lo UNION ALL SELECT ord FROM fail",
			   db->id_type, db->table, set, db->c_id, db->c_token, db->c_token, logout,
			   db->table, db->c_id, db->c_token, db->table, db->c_id,
			   db->c_id, db->table, db->c_id, db->c_id) < 0;
	}
	free(logout);
	free(where);
	free(fp);
	free(ck);
	free(set);
	return bad ? -1 : 0;
}

struct db *db_open(const struct config *cfg, const struct db_filter *filter, char *err, size_t errlen)
{
	char timeout[16];
	struct db *db = calloc(1, sizeof(*db));
	if (db == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	db->cfg = cfg;
	db->filter = *filter;
	/* Our fallbacks come first: anything the URL sets overrides them. */
	snprintf(timeout, sizeof(timeout), "%d", DB_CONNECT_TIMEOUT_S);
	const char *keys[] = { "connect_timeout", "application_name", "dbname", NULL };
	const char *vals[] = { timeout, "refresher", cfg->database.url, NULL };
	/* Two connections: claims and writes each have one statement in flight at a time. */
	db->conn = PQconnectdbParams(keys, vals, 1);
	db->claimer.conn = db->conn;
	db->claimer.what = "claim";
	if (db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK)
		db->writer.conn = PQconnectdbParams(keys, vals, 1);
	db->writer.what = "write results";
	PGconn *bad = PQstatus(db->conn) != CONNECTION_OK ? db->conn : db->writer.conn;
	if (bad == NULL || PQstatus(bad) != CONNECTION_OK) {
		char line[256];
		snprintf(err, errlen, "cannot connect to the database: %s",
		    pq_error_line(bad, line, sizeof(line)));
		goto fail;
	}
	/* Statements are sent and read without blocking, next to the HTTP transfers. */
	if (PQsetnonblocking(db->conn, 1) != 0 || PQsetnonblocking(db->writer.conn, 1) != 0) {
		snprintf(err, errlen, "cannot make the database connection non-blocking");
		goto fail;
	}
	const struct config *k = cfg;
	db->table = quote_qualified(k->database.table);
	if (db->table == NULL) {
		snprintf(err, errlen, "database.table: not a valid table name");
		goto fail;
	}
	db->c_id = quote_ident(k->database.columns.id, strlen(k->database.columns.id));
	db->c_email = quote_ident(k->database.columns.email, strlen(k->database.columns.email));
	db->c_token = quote_ident(k->database.columns.token, strlen(k->database.columns.token));
	db->c_cookies = quote_role(k->database.columns.cookies);
	db->c_fp = quote_role(k->database.columns.fingerprint);
	db->c_access = quote_role(k->database.columns.access_token);
	db->c_expires = quote_role(k->database.columns.expires_at);
	if (!db->c_id || !db->c_email || !db->c_token) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (check_schema(db, err, errlen) != 0 || fix_cutoff(db, err, errlen) != 0)
		goto fail;
	if (build_sql(db) != 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	return db;
fail:
	db_close(db);
	return NULL;
}

void db_close(struct db *db)
{
	if (db == NULL)
		return;
	PQclear(db->claimer.res);
	PQclear(db->writer.res);
	if (db->conn)
		PQfinish(db->conn);
	if (db->writer.conn)
		PQfinish(db->writer.conn);
	free(db->table);
	free(db->c_id);
	free(db->c_email);
	free(db->c_token);
	free(db->c_cookies);
	free(db->c_fp);
	free(db->c_access);
	free(db->c_expires);
	free(db->id_type);
	free(db->cookies_type);
	free(db->cutoff);
	free(db->sql_claim);
	free(db->sql_due_from);
	free(db->sql_write);
	free(db);
}

/* Fills the five shared due parameters; bufs must live as long as params. */
static void due_params(const struct db *db, const char **params, char *shard_n, char *shard_i)
{
	snprintf(shard_n, 16, "%d", db->filter.shard_count);
	snprintf(shard_i, 16, "%d", db->filter.shard_index);
	params[0] = db->cutoff;
	params[1] = db->filter.email;
	params[2] = shard_n;
	params[3] = shard_i;
	params[4] = "{}";
}

long db_count_due(struct db *db)
{
	char shard_n[16], shard_i[16], *sql = NULL;
	const char *params[5];
	long n = -1;
	if (ensure_connection(db) != 0)
		return -1;
	due_params(db, params, shard_n, shard_i);
	if (asprintf(&sql, "SELECT count(*) %s", db->sql_due_from) < 0)
		return -1;
	PGresult *res = exec_params(db, "count due rows", sql, 5, params, PGRES_TUPLES_OK);
	if (res != NULL && PQntuples(res) == 1)
		n = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	free(sql);
	return n;
}

long db_list_due(struct db *db, long limit)
{
	char shard_n[16], shard_i[16], lim[24], *sql = NULL, red[64], line[256];
	const char *params[6];
	long n = 0;
	due_params(db, params, shard_n, shard_i);
	snprintf(lim, sizeof(lim), "%ld", limit > 0 ? limit : 0);
	params[5] = lim;
	if (asprintf(&sql,
		"SELECT t.%s::text, t.%s %s"
		" ORDER BY coalesce(t.last_token_update_date, t.created_at, '-infinity'::timestamptz) LIMIT CASE WHEN $6::bigint > 0 THEN $6::bigint END",
		db->c_email, db->c_token, db->sql_due_from) < 0)
		return -1;
	if (!PQsendQueryParams(db->conn, sql, 6, NULL, params, NULL, NULL, 0)) {
		log_error("db", "list due rows: %s", pq_error_line(db->conn, line, sizeof(line)));
		free(sql);
		return -1;
	}
	free(sql);
	/* Row by row, so a dry run over a million rows stays small. */
	if (!PQsetSingleRowMode(db->conn))
		log_debug("db", "single-row mode unavailable");
	PGresult *res;
	while ((res = PQgetResult(db->conn)) != NULL) {
		ExecStatusType st = PQresultStatus(res);
		if (st == PGRES_SINGLE_TUPLE) {
			char email[LOG_FIELD_MAX + 8];
			const char *e = PQgetvalue(res, 0, 0);
			log_escape(email, sizeof(email), e, strlen(e), LOG_FIELD_MAX);
			printf("%s\t%s\n", email, log_redact(red, sizeof(red), PQgetvalue(res, 0, 1)));
			n++;
		} else if (st != PGRES_TUPLES_OK) {
			log_error("db", "list due rows: %s", res_error_line(res, db->conn, line, sizeof(line)));
			n = -1;
		}
		PQclear(res);
	}
	if (fflush(stdout) != 0)
		return -1;
	return n;
}

/* Builds a Postgres array literal {"a","b"} of the strings (NULL entries as NULL). Caller frees. */
static char *array_literal(char *const *v, size_t n)
{
	size_t cap = 3;
	for (size_t i = 0; i < n; i++)
		cap += (v[i] ? strlen(v[i]) * 2 + 3 : 4) + 1;
	char *out = malloc(cap);
	if (out == NULL)
		return NULL;
	size_t o = 0;
	out[o++] = '{';
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			out[o++] = ',';
		if (v[i] == NULL) {
			memcpy(out + o, "NULL", 4);
			o += 4;
			continue;
		}
		out[o++] = '"';
		for (const char *p = v[i]; *p; p++) {
			if (*p == '"' || *p == '\\')
				out[o++] = '\\';
			out[o++] = *p;
		}
		out[o++] = '"';
	}
	out[o++] = '}';
	out[o] = '\0';
	return out;
}

int db_claim_send(struct db *db, long limit, char *const *exclude, size_t nexclude)
{
	char shard_n[16], shard_i[16], lim[24], lease[24];
	const char *params[7];
	char *excl = array_literal(exclude, nexclude);
	if (excl == NULL)
		return -1;
	due_params(db, params, shard_n, shard_i);
	params[4] = excl;
	snprintf(lim, sizeof(lim), "%ld", limit);
	snprintf(lease, sizeof(lease), "%ld", db->cfg->refresh.lease_ms);
	params[5] = lim;
	params[6] = lease;
	int rc = chan_send(&db->claimer, db->sql_claim, 7, params);
	free(excl); /* libpq copied the parameters into its output buffer */
	return rc;
}

/* Reads the claimed rows of a claim's result; 0, or -1 on OOM (their leases expire on their own). */
static int claim_rows(PGresult *res, struct row ***rows, size_t *n)
{
	int nt = PQntuples(res);
	struct row **out = calloc((size_t)nt + 1, sizeof(*out));
	if (out == NULL)
		goto oom;
	for (int i = 0; i < nt; i++) {
		struct row *r = calloc(1, sizeof(*r));
		if (r == NULL)
			goto oom;
		out[i] = r;
		r->id = xstrdup(PQgetvalue(res, i, 0));
		r->email = xstrdup(PQgetvalue(res, i, 1));
		r->token = xstrdup(PQgetvalue(res, i, 2));
		r->cookies = xstrdup(PQgetvalue(res, i, 3));
		if (!PQgetisnull(res, i, 4))
			r->fingerprint = xstrdup(PQgetvalue(res, i, 4));
		r->claim = xstrdup(PQgetvalue(res, i, 5));
		if (!r->id || !r->email || !r->token || !r->cookies || !r->claim)
			goto oom;
	}
	*rows = out;
	*n = (size_t)nt;
	return 0;
oom:
	if (out != NULL) {
		for (struct row **p = out; *p; p++)
			row_free(*p);
		free(out);
	}
	log_error("db", "out of memory while reading claimed rows");
	return -1;
}

int db_claim_poll(struct db *db, struct row ***rows, size_t *n)
{
	PGresult *res;
	*rows = NULL;
	*n = 0;
	chan_step(&db->claimer, PGRES_TUPLES_OK);
	int rc = chan_collect(&db->claimer, &res);
	if (rc == 1 && claim_rows(res, rows, n) != 0)
		rc = -1;
	PQclear(res);
	return rc;
}

int db_claim(struct db *db, long limit, char *const *exclude, size_t nexclude,
    struct row ***rows, size_t *n)
{
	*rows = NULL;
	*n = 0;
	if (db_claim_send(db, limit, exclude, nexclude) != 0)
		return -1;
	chan_wait(&db->claimer, PGRES_TUPLES_OK);
	return db_claim_poll(db, rows, n) == 1 ? 0 : -1;
}

static int kind_of(enum outcome o)
{
	switch (o) {
	case OUTCOME_REFRESHED:
		return KIND_REFRESHED;
	case OUTCOME_LOGGED_OUT:
		return KIND_LOGOUT;
	case OUTCOME_FAILED:
		return KIND_FAILED;
	default:
		return KIND_RELEASE;
	}
}

int db_write_send(struct db *db, struct result *const *res, size_t n)
{
	enum { NCOL = 9 };
	char **cols[NCOL] = { NULL };
	char *lit[NCOL] = { NULL };
	char kinds[4][2] = { "0", "1", "2", "3" };
	char (*exp)[24] = calloc(n ? n : 1, sizeof(*exp));
	int rc = -1;
	if (exp == NULL)
		return -1;
	for (int c = 0; c < NCOL; c++) {
		cols[c] = calloc(n ? n : 1, sizeof(char *));
		if (cols[c] == NULL)
			goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const struct result *r = res[i];
		int k = kind_of(r->outcome);
		cols[0][i] = r->row->id;
		cols[1][i] = kinds[k];
		cols[2][i] = r->row->token;
		cols[3][i] = k == KIND_REFRESHED ? r->new_token : NULL;
		cols[4][i] = k == KIND_REFRESHED ? r->cookies : NULL;
		cols[5][i] = k == KIND_FAILED ? (char *)r->reason : NULL;
		cols[6][i] = r->row->claim;
		cols[7][i] = k == KIND_REFRESHED ? r->access_token : NULL;
		if (k == KIND_REFRESHED && r->expires_at > 0) {
			snprintf(exp[i], sizeof(exp[i]), "%lld", r->expires_at);
			cols[8][i] = exp[i];
		}
	}
	for (int c = 0; c < NCOL; c++) {
		lit[c] = array_literal(cols[c], n);
		if (lit[c] == NULL)
			goto out;
	}
	rc = chan_send(&db->writer, db->sql_write, NCOL, (const char *const *)lit);
	if (rc == 0) {
		db->wres = res;
		db->nwres = n;
	}
out:
	for (int c = 0; c < NCOL; c++) {
		free(cols[c]);
		free(lit[c]);
	}
	free(exp);
	return rc;
}

int db_write_poll(struct db *db)
{
	PGresult *pr;
	chan_step(&db->writer, PGRES_TUPLES_OK);
	int rc = chan_collect(&db->writer, &pr);
	if (rc == 0)
		return 0;
	struct result *const *res = db->wres;
	size_t n = db->nwres;
	db->wres = NULL;
	db->nwres = 0;
	if (rc < 0)
		return -1;
	/*
	 * The statement returns the 1-based positions of the results it wrote;
	 * a refreshed, logout or failed result not among them was superseded.
	 */
	unsigned char *hit = calloc(n ? n : 1, 1);
	if (hit == NULL) {
		/* Written, but we cannot tell which were superseded: count them as written. */
		log_error("db", "out of memory while reading the write's result");
		for (size_t i = 0; i < n; i++)
			res[i]->written = 1;
		PQclear(pr);
		return 1;
	}
	for (int t = 0; t < PQntuples(pr); t++) {
		long ord = strtol(PQgetvalue(pr, t, 0), NULL, 10);
		if (ord >= 1 && (size_t)ord <= n)
			hit[ord - 1] = 1;
	}
	for (size_t i = 0; i < n; i++) {
		struct result *r = res[i];
		r->written = 1;
		if (kind_of(r->outcome) != KIND_RELEASE && !hit[i])
			r->outcome = OUTCOME_SUPERSEDED;
	}
	free(hit);
	PQclear(pr);
	return 1;
}

int db_write(struct db *db, struct result *const *res, size_t n)
{
	if (n == 0)
		return 0;
	if (db_write_send(db, res, n) != 0)
		return -1;
	chan_wait(&db->writer, PGRES_TUPLES_OK);
	return db_write_poll(db) == 1 ? 0 : -1;
}

size_t db_waitfds(const struct db *db, struct waitfd *fds, size_t max)
{
	size_t i = chan_waitfd(&db->claimer, fds, 0, max);
	return chan_waitfd(&db->writer, fds, i, max);
}

long long db_stalled_since(const struct db *db)
{
	long long t = 0;
	const struct chan *chans[2] = { &db->claimer, &db->writer };
	for (int i = 0; i < 2; i++) {
		const struct chan *ch = chans[i];
		if ((ch->state == CH_SENDING || ch->state == CH_BUSY) && (t == 0 || ch->since < t))
			t = ch->since;
	}
	return t;
}
