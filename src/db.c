/* db.c - claims as leases and set-based, token-guarded write-back on libpq (unnamed statements only). */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "db.h"
#include "defaults.h"
#include "log.h"

/* Room for "file:line:col" of a config key in messages. */
#define PATH_MAX_LEN 512

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
	char *alias; /* quoted bare table name: the table's alias where an operator's expression runs */
	char *qualified; /* schema.table as the database names it, for messages */
	char *role; /* the connecting role (current_user), for messages */
	char *where_direct; /* " AND (database.where)" where only the table is in scope, or "" */
	char *c_id, *c_email, *c_token; /* quoted */
	char *c_cookies, *c_fp, *c_access, *c_expires; /* quoted; NULL when the role is absent */
	char *id_type; /* SQL type of the id column, e.g. "uuid" */
	char *cookies_type; /* SQL type of the cookies column, e.g. "jsonb" */
	int has_updated_at;
	char *cutoff; /* the run's due cutoff, UTC ISO text; NULL = every row due */
	char *sql_claim, *sql_due_from, *sql_count, *sql_write; /* built once */
	long due, due_keep; /* rows due at open, and how many of them keep_when covers */
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

/* The primary message of a failed result (no "ERROR:" prefix), else one line as res_error_line. */
static const char *res_primary(PGresult *res, PGconn *conn, char *buf, size_t size)
{
	const char *m = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	if (m == NULL || *m == '\0')
		return res_error_line(res, conn, buf, size);
	return first_line(m, buf, size);
}

/*
 * Whether a failed statement's SQLSTATE blames what it says rather than the
 * database's state: a syntax, name, type or privilege problem (class 42), a
 * data error (22), a subquery giving more than one row (21), a feature not
 * supported (0A). A timeout, a lock wait, a lost connection is none of these.
 */
static int blames_statement(PGresult *res)
{
	const char *code = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	if (code == NULL || strlen(code) != 5)
		return 0;
	return strncmp(code, "42", 2) == 0 || strncmp(code, "22", 2) == 0 ||
	    strncmp(code, "21", 2) == 0 || strncmp(code, "0A", 2) == 0;
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

/* asprintf that returns the string, or NULL when out of memory. */
static char *sql_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *sql_printf(const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

/* Lower-cases s into buf (cut to size - 1 bytes). */
static const char *fold(const char *s, char *buf, size_t size)
{
	size_t i = 0;
	for (; s[i] != '\0' && i + 1 < size; i++)
		buf[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] - 'A' + 'a' : s[i]);
	buf[i] = '\0';
	return buf;
}

/*
 * The row of res whose column col is nearest to want (edit distance, case
 * folded: an unquoted name is folded by PostgreSQL, ours are quoted), or -1
 * when none is near enough to be a likely typo.
 */
static int nearest_row(PGresult *res, int col, const char *want)
{
	char a[MAX_IDENTIFIER_BYTES + 1], b[MAX_IDENTIFIER_BYTES + 1];
	size_t best_d = (size_t)-1;
	int best = -1;
	fold(want, a, sizeof(a));
	for (int r = 0; r < PQntuples(res); r++) {
		const char *name = fold(PQgetvalue(res, r, col), b, sizeof(b));
		size_t d = config_edit_distance(a, name);
		if (d <= 3 && 2 * d <= strlen(name) && d < best_d) {
			best = r;
			best_d = d;
		}
	}
	return best;
}

/* Fails db_open: sets the status and the message. */
static int open_fail(enum db_open_status *st, enum db_open_status why, char *err, size_t errlen,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int open_fail(enum db_open_status *st, enum db_open_status why, char *err, size_t errlen,
    const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	*st = why;
	return -1;
}

/*
 * Runs a start-up statement (blocking, before the run). Returns its result
 * (caller PQclears), or NULL after failing db_open with "what: error".
 */
static PGresult *startup_exec(struct db *db, const char *what, const char *sql, int n,
    const char *const *params, enum db_open_status *st, char *err, size_t errlen)
{
	char line[256];
	PGresult *res = PQexecParams(db->conn, sql, n, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) == PGRES_TUPLES_OK)
		return res;
	open_fail(st, DB_OPEN_DATABASE, err, errlen, "%s: %s", what,
	    res_error_line(res, db->conn, line, sizeof(line)));
	PQclear(res);
	return NULL;
}

/*
 * The configured table does not exist. A name the file sets (other than the
 * default) is a config error naming the key and the nearest table; the
 * default name means the migrations were not applied.
 */
static int table_missing(struct db *db, enum db_open_status *st, char *err, size_t errlen)
{
	const struct config *cfg = db->cfg;
	const char *name = cfg->database.table, *dot = strchr(name, '.');
	char schema[MAX_IDENTIFIER_BYTES + 1] = "", loc[PATH_MAX_LEN], hint[MAX_IDENTIFIER_BYTES * 2 + 64] = "";
	const char *params[1] = { schema };
	if (dot != NULL)
		snprintf(schema, sizeof(schema), "%.*s", (int)(dot - name), name);
	/* Tables and views the role could mean: on its search_path, or in the schema it names. */
	PGresult *res = PQexecParams(db->conn,
	    "SELECT c.relname, n.nspname, pg_table_is_visible(c.oid) FROM pg_class c"
	    " JOIN pg_namespace n ON n.oid = c.relnamespace"
	    " WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')"
	    " AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'"
	    " AND ($1 = '' OR n.nspname = $1)"
	    " ORDER BY pg_table_is_visible(c.oid) DESC, n.nspname, c.relname LIMIT 10000",
	    1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) == PGRES_TUPLES_OK) {
		int r = nearest_row(res, 0, dot ? dot + 1 : name);
		if (r >= 0 && strcmp(PQgetvalue(res, r, 2), "t") == 0 && dot == NULL)
			snprintf(hint, sizeof(hint), "; did you mean \"%s\"?", PQgetvalue(res, r, 0));
		else if (r >= 0)
			snprintf(hint, sizeof(hint), "; did you mean \"%s.%s\"?", PQgetvalue(res, r, 1),
			    PQgetvalue(res, r, 0));
	}
	PQclear(res);
	int set = config_locate(cfg, "database.table", loc, sizeof(loc));
	if (set && strcmp(name, DEFAULT_TABLE) != 0)
		return open_fail(st, DB_OPEN_CONFIG, err, errlen,
		    "%s: database.table: no table \"%s\" in the database%s", loc, name, hint);
	return open_fail(st, DB_OPEN_DATABASE, err, errlen,
	    "table %s does not exist: apply the migrations in sql/%s", name, hint);
}

static char *array_literal(char *const *v, size_t n);

/*
 * Checks that the connecting role may read every column the run reads,
 * update every column it writes and, with on_logout: delete, delete rows:
 * a missing grant is an error now rather than a failing claim or write
 * later. Column privileges count (a least-privilege role may hold only those).
 */
static int check_privileges(struct db *db, const char *token_col, const char *oid,
    enum db_open_status *st, char *err, size_t errlen)
{
	const struct config *cfg = db->cfg;
	const struct config *c = cfg;
	const char *reads[] = { c->database.columns.id, c->database.columns.email, token_col,
		c->database.columns.cookies, c->database.columns.fingerprint,
		c->database.columns.access_token, c->database.columns.expires_at, "created_at",
		"last_token_update_date", "token_update_count", "last_token_update_error",
		"token_update_claimed_until" };
	const char *writes[] = { token_col, c->database.columns.cookies,
		c->database.columns.access_token, c->database.columns.expires_at,
		"last_token_update_date", "token_update_count", "last_token_update_error",
		"token_update_claimed_until", db->has_updated_at ? "updated_at" : "" };
	enum { NREAD = sizeof(reads) / sizeof(reads[0]), NWRITE = sizeof(writes) / sizeof(writes[0]) };
	char *colv[NREAD + NWRITE], *privv[NREAD + NWRITE];
	char select[] = "SELECT", update[] = "UPDATE", missing[768] = "";
	size_t n = 0, used = 0;
	int rc = -1;
	for (size_t i = 0; i < NREAD; i++)
		if (reads[i][0] != '\0') {
			colv[n] = (char *)reads[i];
			privv[n++] = select;
		}
	for (size_t i = 0; i < NWRITE && !db->filter.read_only; i++)
		if (writes[i][0] != '\0') {
			colv[n] = (char *)writes[i];
			privv[n++] = update;
		}
	char *cols = array_literal(colv, n), *privs = array_literal(privv, n);
	const char *params[4] = { oid, cols, privs,
		cfg->refresh.on_logout == ON_LOGOUT_DELETE && !db->filter.read_only ? "true" : "false" };
	PGresult *res = NULL;
	if (cols == NULL || privs == NULL) {
		open_fail(st, DB_OPEN_DATABASE, err, errlen, "out of memory");
		goto out;
	}
	res = startup_exec(db, "cannot read the role's privileges",
	    "SELECT p.priv, string_agg(p.col, ', ' ORDER BY p.ord)"
	    " FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS p(col, priv, ord)"
	    " WHERE NOT has_column_privilege($1::oid, p.col, p.priv) GROUP BY p.priv"
	    " UNION ALL SELECT 'DELETE', 'rows (refresh.on_logout: delete)'"
	    " WHERE $4::boolean AND NOT has_table_privilege($1::oid, 'DELETE')"
	    " ORDER BY 1 DESC",
	    4, params, st, err, errlen);
	if (res == NULL)
		goto out;
	for (int r = 0; r < PQntuples(res); r++) {
		int w = snprintf(missing + used, sizeof(missing) - used, "%s%s on %s",
		    r > 0 ? "; " : "", PQgetvalue(res, r, 0), PQgetvalue(res, r, 1));
		if (w < 0 || (size_t)w >= sizeof(missing) - used)
			break;
		used += (size_t)w;
	}
	if (PQntuples(res) > 0) {
		open_fail(st, DB_OPEN_DATABASE, err, errlen,
		    "role \"%s\" lacks privileges on %s: %s. Grant them (sql/roles/refresher_role.sql"
		    " grants exactly what the refresher needs) or connect as a role that has them",
		    db->role, db->qualified, missing);
		goto out;
	}
	rc = 0;
out:
	PQclear(res);
	free(cols);
	free(privs);
	return rc;
}

/*
 * Under row security with database.row_security: allow, a role whose
 * policies let it see no row of a table that holds rows (by the planner's
 * estimate) has almost surely no policy of its own: every session would die
 * while the run looks healthy. That is an error, not "0 rows due".
 */
static int rls_hides_all(struct db *db, const char *oid, enum db_open_status *st, char *err,
    size_t errlen)
{
	char line[256];
	/* Two estimates anyone may read: the planner's (after ANALYZE) and the statistics'. */
	char *sql = sql_printf("SELECT EXISTS (SELECT 1 FROM %s), greatest((SELECT reltuples::bigint"
			       " FROM pg_class WHERE oid = %s), pg_stat_get_live_tuples(%s))",
	    db->table, oid, oid);
	if (sql == NULL)
		return open_fail(st, DB_OPEN_DATABASE, err, errlen, "out of memory");
	PGresult *res = PQexecParams(db->conn, sql, 0, NULL, NULL, NULL, NULL, 0);
	free(sql);
	int rc = 0;
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
		rc = open_fail(st, DB_OPEN_DATABASE, err, errlen, "cannot read %s: %s", db->qualified,
		    res_error_line(res, db->conn, line, sizeof(line)));
	else if (strcmp(PQgetvalue(res, 0, 0), "f") == 0 && strtol(PQgetvalue(res, 0, 1), NULL, 10) > 0)
		rc = open_fail(st, DB_OPEN_DATABASE, err, errlen,
		    "row level security on %s hides every row from role \"%s\" (the table holds about %s"
		    " rows): give the role a policy that lets it see, update and delete the rows it should"
		    " refresh (sql/roles/refresher_role.sql creates one), or connect as a role that"
		    " bypasses row security",
		    db->qualified, db->role, PQgetvalue(res, 0, 1));
	PQclear(res);
	return rc;
}

/* A database.columns role and the name it has by default ("" = absent). */
struct role_col {
	const char *role, *name, *dflt;
};

/*
 * Looks up the table, its columns, the role's privileges on them and row
 * level security; fills the id and cookies types. Explains what is wrong.
 */
static int check_schema(struct db *db, enum db_open_status *st, char *err, size_t errlen)
{
	const struct config *cfg = db->cfg;
	const struct role_col roles[] = {
		{ "id", cfg->database.columns.id, DEFAULT_COL_ID },
		{ "token", cfg->database.columns.token, DEFAULT_COL_TOKEN },
		{ "email", cfg->database.columns.email, DEFAULT_COL_EMAIL },
		{ "cookies", cfg->database.columns.cookies, DEFAULT_COL_COOKIES },
		{ "fingerprint", cfg->database.columns.fingerprint, DEFAULT_COL_FINGERPRINT },
		{ "access_token", cfg->database.columns.access_token, "" },
		{ "expires_at", cfg->database.columns.expires_at, "" },
	};
	enum { ROLE_ID, ROLE_TOKEN, ROLE_EMAIL, ROLE_COOKIES, NROLE = 7 };
	static const char *const owned[] = { "created_at", "last_token_update_date",
		"token_update_count", "last_token_update_error", "token_update_claimed_until" };
	const char *params[1] = { db->table };
	char loc[PATH_MAX_LEN], key[64], oid[16] = "";
	int rc = -1, rls = 0;
	PGresult *cols = NULL;
	PGresult *res = startup_exec(db, "cannot read the schema",
	    "SELECT c.oid::text, n.nspname, c.relname, row_security_active(c.oid), current_user"
	    " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
	    " WHERE c.oid = to_regclass($1)",
	    1, params, st, err, errlen);
	if (res == NULL)
		goto out;
	if (PQntuples(res) == 0) {
		table_missing(db, st, err, errlen);
		goto out;
	}
	snprintf(oid, sizeof(oid), "%s", PQgetvalue(res, 0, 0));
	db->qualified = sql_printf("%s.%s", PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2));
	db->role = xstrdup(PQgetvalue(res, 0, 4));
	rls = strcmp(PQgetvalue(res, 0, 3), "t") == 0;
	if (db->qualified == NULL || db->role == NULL) {
		open_fail(st, DB_OPEN_DATABASE, err, errlen, "out of memory");
		goto out;
	}

	params[0] = oid;
	cols = startup_exec(db, "cannot read the schema",
	    "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a"
	    " WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
	    1, params, st, err, errlen);
	if (cols == NULL)
		goto out;
	for (int i = 0; i < NROLE; i++) {
		int found = -1;
		if (roles[i].name[0] == '\0')
			continue; /* absent; the config ensures id and token are not */
		for (int r = 0; r < PQntuples(cols) && found < 0; r++)
			if (strcmp(PQgetvalue(cols, r, 0), roles[i].name) == 0)
				found = r;
		if (found >= 0) {
			if (i == ROLE_ID)
				db->id_type = xstrdup(PQgetvalue(cols, found, 1));
			if (i == ROLE_COOKIES)
				db->cookies_type = xstrdup(PQgetvalue(cols, found, 1));
			continue;
		}
		int near = nearest_row(cols, 0, roles[i].name);
		char hint[MAX_IDENTIFIER_BYTES + 32] = "";
		if (near >= 0)
			snprintf(hint, sizeof(hint), "; did you mean \"%s\"?", PQgetvalue(cols, near, 0));
		snprintf(key, sizeof(key), "database.columns.%s", roles[i].role);
		if (config_locate(cfg, key, loc, sizeof(loc)) && strcmp(roles[i].name, roles[i].dflt) != 0)
			open_fail(st, DB_OPEN_CONFIG, err, errlen, "%s: %s: table %s has no column \"%s\"%s",
			    loc, key, db->qualified, roles[i].name, hint);
		else
			open_fail(st, DB_OPEN_DATABASE, err, errlen,
			    "table %s has no column %s (%s): apply the migrations in sql/, or map the role"
			    " to your column%s",
			    db->qualified, roles[i].name, key, hint);
		goto out;
	}
	for (size_t i = 0; i < sizeof(owned) / sizeof(owned[0]); i++) {
		int found = 0;
		for (int r = 0; r < PQntuples(cols) && !found; r++)
			found = strcmp(PQgetvalue(cols, r, 0), owned[i]) == 0;
		if (!found) {
			open_fail(st, DB_OPEN_DATABASE, err, errlen,
			    "table %s has no column %s (apply the migrations in sql/)", db->qualified,
			    owned[i]);
			goto out;
		}
	}
	for (int r = 0; r < PQntuples(cols); r++)
		if (strcmp(PQgetvalue(cols, r, 0), "updated_at") == 0)
			db->has_updated_at = 1;
	if (db->id_type == NULL || (db->c_cookies != NULL && db->cookies_type == NULL)) {
		open_fail(st, DB_OPEN_DATABASE, err, errlen, "out of memory");
		goto out;
	}
	if (check_privileges(db, roles[ROLE_TOKEN].name, oid, st, err, errlen) != 0)
		goto out;
	if (rls && cfg->database.row_security == ROW_SECURITY_REFUSE) {
		open_fail(st, DB_OPEN_DATABASE, err, errlen,
		    "row level security is active on %s for role \"%s\": rows its policies hide would"
		    " silently never be refreshed, so nothing was claimed. Ways out: connect as a role"
		    " that bypasses row security (BYPASSRLS, the table's owner, or Supabase's"
		    " service_role), or give role \"%s\" a policy that lets it see, update and delete"
		    " the rows it should refresh (sql/roles/refresher_role.sql creates one) and set"
		    " database.row_security: allow",
		    db->qualified, db->role, db->role);
		goto out;
	}
	if (rls && rls_hides_all(db, oid, st, err, errlen) != 0)
		goto out;
	if (rls)
		log_warn("db", "row level security is active on %s for role \"%s\""
			       " (database.row_security: allow): only the rows its policies let it see"
			       " are refreshed", db->qualified, db->role);
	rc = 0;
out:
	PQclear(cols);
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

/*
 * Has the database check an operator's expression (database.where,
 * refresh.keep_when) in the context the refresher runs it in: the table
 * under its own name, the expression on lines of its own. EXPLAIN parses,
 * resolves and plans without running anything (no trigger fires) and checks
 * privileges. A rejected expression is a config error naming the key.
 */
static int check_expr(struct db *db, const char *key, const char *expr, enum db_open_status *st,
    char *err, size_t errlen)
{
	char loc[PATH_MAX_LEN], line[256], hline[200], hint[224] = "";
	int rc = 0;
	if (expr[0] == '\0')
		return 0;
	(void)config_locate(db->cfg, key, loc, sizeof(loc));
	const char *scs = PQparameterStatus(db->conn, "standard_conforming_strings");
	if (scs != NULL && strcmp(scs, "on") != 0)
		return open_fail(st, DB_OPEN_CONFIG, err, errlen,
		    "%s: %s: the connection has standard_conforming_strings off, under which the"
		    " refresher cannot tell where a quoted string in the expression ends; turn it on"
		    " (the default since PostgreSQL 9.1)", loc, key);
	/*
	 * As the claim has it (the table under its alias), then as the writes have
	 * it (the row t joined to the results, which hides its system columns; a
	 * run only).
	 */
	for (int form = 0; form < (db->filter.read_only ? 1 : 2) && rc == 0; form++) {
		char *sql = form == 0
		    ? sql_printf("EXPLAIN SELECT 1 FROM %s AS %s WHERE (\n%s\n)", db->table, db->alias, expr)
		    : sql_printf("EXPLAIN SELECT 1 FROM (SELECT 1 AS ord) x JOIN %s t ON true"
				 " WHERE EXISTS (SELECT FROM (SELECT t.*) AS %s WHERE (\n%s\n))",
			  db->table, db->alias, expr);
		if (sql == NULL)
			return open_fail(st, DB_OPEN_DATABASE, err, errlen, "out of memory");
		PGresult *res = PQexecParams(db->conn, sql, 0, NULL, NULL, NULL, NULL, 0);
		free(sql);
		if (PQresultStatus(res) != PGRES_TUPLES_OK) {
			if (!blames_statement(res) || PQstatus(db->conn) != CONNECTION_OK) {
				rc = open_fail(st, DB_OPEN_DATABASE, err, errlen, "checking %s: %s", key,
				    res_error_line(res, db->conn, line, sizeof(line)));
			} else {
				const char *h = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);
				if (form == 1)
					snprintf(hint, sizeof(hint), " (system columns such as xmin, ctid or"
								     " tableoid are not available to it)");
				else if (h != NULL)
					snprintf(hint, sizeof(hint), " (%s)", first_line(h, hline, sizeof(hline)));
				rc = open_fail(st, DB_OPEN_CONFIG, err, errlen,
				    "%s: %s: rejected by the database: %s%s", loc, key,
				    res_primary(res, db->conn, line, sizeof(line)), hint);
			}
		}
		PQclear(res);
	}
	return rc;
}

/*
 * The WHERE clause of a due row, shared by count, dry run and claim; the
 * table is in scope under its alias (its own name) and nothing else, so
 * database.where goes in as it is, where the planner can use it.
 * Parameters: $1 cutoff (run start - stale_after), $2 email or NULL,
 * $3 shard count, $4 shard index, $5 excluded ids. With an expires_at column
 * a row is also due when it expires within refresh.ahead of the run's start
 * (or has no expiry) and was not refreshed since the run started.
 */
static char *due_where(const struct db *db)
{
	const struct config *cfg = db->cfg;
	const char *a = db->alias;
	char *s = NULL, *expiry = NULL;
	if (db->c_expires != NULL) {
		long stale = db->filter.stale_after_ms;
		expiry = sql_printf(
		    " OR ((%s.%s IS NULL OR %s.%s <= ($1::timestamp AT TIME ZONE 'UTC')"
		    " + %ld * interval '1 millisecond')"
		    " AND coalesce(%s.last_token_update_date, '-infinity'::timestamptz)"
		    " < ($1::timestamp AT TIME ZONE 'UTC') + %ld * interval '1 millisecond')",
		    a, db->c_expires, a, db->c_expires, stale + cfg->refresh.ahead_ms, a, stale);
		if (expiry == NULL)
			return NULL;
	}
	s = sql_printf(
	    "(coalesce(%s.last_token_update_date, %s.created_at, '-infinity'::timestamptz)"
	    " <= ($1::timestamp AT TIME ZONE 'UTC')%s)"
	    " AND (%s.token_update_claimed_until IS NULL OR %s.token_update_claimed_until < now())"
	    " AND ($2::text IS NULL OR %s.%s = $2::text)"
	    " AND ($3::int = 0 OR abs(hashtext(%s.%s::text)::bigint) %% $3::int = $4::int)"
	    " AND NOT (%s.%s = ANY($5::%s[]))%s",
	    a, a, expiry ? expiry : "", a, a, a, db->c_email, a, db->c_id, a, db->c_id, db->id_type,
	    db->where_direct);
	free(expiry);
	return s;
}

/* "t.col" for a present role, or "NULL" for an absent one. Caller frees. */
static char *col_or_null(const char *quoted)
{
	return sql_printf("%s%s", quoted ? "t." : "NULL", quoted ? quoted : "");
}

/* Our lease on the row t of a write, as the claim returned it (res x). */
#define OUR_CLAIM "(x.claim::timestamp AT TIME ZONE 'UTC')"
/* Clears the claim where it still is our lease: a hold the application took meanwhile stays. */
#define CLAIM_CLEAR \
	"token_update_claimed_until = CASE WHEN t.token_update_claimed_until = " OUR_CLAIM \
	" THEN NULL ELSE t.token_update_claimed_until END"
/* The application holds the row now (a future claim that is not ours). */
#define APP_HOLDS \
	"(t.token_update_claimed_until > now() AND t.token_update_claimed_until <> " OUR_CLAIM ")"

/*
 * The SET list of a refreshed row: the token, and the cookies, access token
 * and expiry where the table has those roles. Caller frees.
 */
static char *refreshed_set(const struct db *db)
{
	char *cookies = NULL, *access = NULL, *expires = NULL, *s = NULL;
	int bad = 0;
	if (db->c_cookies)
		bad |= (cookies = sql_printf(", %s = x.cookies::%s", db->c_cookies, db->cookies_type)) == NULL;
	if (db->c_access)
		bad |= (access = sql_printf(", %s = x.atok", db->c_access)) == NULL;
	if (db->c_expires)
		bad |= (expires = sql_printf(", %s = to_timestamp(x.exp::double precision)", db->c_expires)) == NULL;
	if (!bad)
		s = sql_printf("%s = x.tok%s%s%s, last_token_update_date = now(),"
			       " token_update_count = t.token_update_count + 1, last_token_update_error = NULL,"
			       " " CLAIM_CLEAR "%s",
		    db->c_token, cookies ? cookies : "", access ? access : "", expires ? expires : "",
		    db->has_updated_at ? ", updated_at = now()" : "");
	free(cookies);
	free(access);
	free(expires);
	return s;
}

/*
 * An operator's expression on the row t of a write, with only the table's
 * columns in scope (unqualified or as alias.column), whatever else the
 * statement joins: EXISTS over the row alone, so NULL counts as false.
 * Caller frees; "false" when expr is unset and none is "" (allowed).
 */
static char *row_expr(const struct db *db, const char *expr, const char *none)
{
	if (expr[0] == '\0')
		return strdup(none);
	return sql_printf("EXISTS (SELECT FROM (SELECT t.*) AS %s WHERE (\n%s\n))", db->alias, expr);
}

/* What a logout row kept by the mass-logout guard says (SPEC). */
#define MASS_LOGOUT_MARK "logout (not deleted: mass logout)"

/* Result kinds in the write statement's unnest(); match the CASEs in the SQL. */
#define KIND_REFRESHED 0
#define KIND_LOGOUT 1 /* delete, or keep and mark where the config or the application says so */
#define KIND_FAILED 2
#define KIND_RELEASE 3
#define KIND_LOGOUT_HOLD 4 /* keep and mark where keep_when or a hold says so; else renew the lease */
#define KIND_LOGOUT_MASS 5 /* keep and mark MASS_LOGOUT_MARK (keep_when rows: 'logout') */

static int build_sql(struct db *db)
{
	const struct config *cfg = db->cfg;
	int keep_all = cfg->refresh.on_logout == ON_LOGOUT_KEEP;
	char *where = due_where(db);
	char *fp = col_or_null(db->c_fp), *ck = col_or_null(db->c_cookies);
	char *set = refreshed_set(db), *del = NULL, *nm = NULL;
	char *w = row_expr(db, cfg->database.where, ""), *k = row_expr(db, cfg->refresh.keep_when, "false");
	char *and_w = w && w[0] ? sql_printf(" AND %s", w) : strdup("");
	int bad = !where || !fp || !ck || !set || !w || !k || !and_w;
	const char *a = db->alias;
	if (!bad)
		bad |= (db->sql_due_from = sql_printf("FROM %s AS %s WHERE %s", db->table, a, where)) == NULL;
	if (!bad && cfg->refresh.keep_when[0] != '\0')
		bad |= (db->sql_count = sql_printf("SELECT count(*), count(*) FILTER (WHERE coalesce((\n%s\n),"
						   " false)) %s", cfg->refresh.keep_when, db->sql_due_from)) == NULL;
	else if (!bad)
		bad |= (db->sql_count = sql_printf("SELECT count(*), 0 %s", db->sql_due_from)) == NULL;
	if (!bad)
		bad |= (db->sql_claim = sql_printf(
			    "WITH due AS MATERIALIZED ("
			    "SELECT %s.%s AS id FROM %s AS %s WHERE %s"
			    " ORDER BY coalesce(%s.last_token_update_date, %s.created_at, '-infinity'::timestamptz)"
			    " LIMIT $6::int FOR UPDATE SKIP LOCKED)"
			    " UPDATE %s t SET token_update_claimed_until = now() + $7::bigint * interval '1 millisecond'"
			    " FROM due WHERE t.%s = due.id"
			    " RETURNING t.%s::text, t.%s::text, t.%s, %s::text, %s::text,"
			    " to_char(t.token_update_claimed_until AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US')",
			    a, db->c_id, db->table, a, where, a, a, db->table, db->c_id, db->c_id, db->c_email,
			    db->c_token, ck, fp)) == NULL;
	/* A logout row is deleted unless on_logout keeps it, keep_when matches, or the application holds it. */
	if (!bad && !keep_all)
		bad |= (del = sql_printf(" del AS (DELETE FROM %s t USING res x"
					 " WHERE x.kind = 1 AND t.%s = x.id AND t.%s = x.sent%s"
					 " AND NOT %s AND NOT " APP_HOLDS " RETURNING x.ord, 'd'::text AS how),",
			    db->table, db->c_id, db->c_token, and_w, k)) == NULL;
	/* Rows that no longer match database.where are left as they are (their claim cleared). */
	if (!bad && cfg->database.where[0] != '\0')
		bad |= (nm = sql_printf(" nm AS (SELECT x.ord, 'n'::text AS how FROM res x JOIN %s t ON t.%s = x.id"
					" WHERE x.kind <> 3 AND (t.%s = x.sent OR (x.kind = 0 AND t.%s = x.tok))"
					" AND NOT %s),",
			    db->table, db->c_id, db->c_token, db->c_token, w)) == NULL;
	if (!bad) {
		/*
		 * One statement, one round trip, atomic. Each row appears under one
		 * kind, so no row is touched by two CTEs. A refreshed row whose token
		 * already is the new one was written by an earlier try whose reply
		 * was lost: apply it again rather than call it superseded. Every
		 * write holds only while database.where does and is guarded by the
		 * sent token; it clears the claim only where the claim is still ours.
		 * `done` says what happened to each result (how: r refreshed,
		 * d deleted, K kept by on_logout, k kept by keep_when, a kept as the
		 * application holds it, h delete held back (lease renewed), m marked mass logout,
		 * f failed, n no longer matches database.where); a result not there
		 * was superseded. sup clears the claim of those, picking them by what
		 * the writes returned rather than by the token in the statement's
		 * snapshot (a relogin that committed while the statement waited for
		 * the row would not show there).
		 */
		bad |= (db->sql_write = sql_printf(
			    "WITH res AS MATERIALIZED (SELECT * FROM unnest($1::%s[], $2::int[], $3::text[],"
			    " $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])"
			    " WITH ORDINALITY AS x(id, kind, sent, tok, cookies, reason, claim, atok, exp, ord)),"
			    " upd AS (UPDATE %s t SET %s"
			    " FROM res x WHERE x.kind = 0 AND t.%s = x.id AND (t.%s = x.sent OR t.%s = x.tok)%s"
			    " RETURNING x.ord, 'r'::text AS how),"
			    " km AS (UPDATE %s t SET last_token_update_error = CASE WHEN x.kind = 5 AND NOT %s"
			    " THEN '" MASS_LOGOUT_MARK "' ELSE 'logout' END,"
			    " last_token_update_date = CASE WHEN x.kind = 5 AND NOT %s"
			    " THEN t.last_token_update_date ELSE now() END,"
			    " " CLAIM_CLEAR
			    " FROM res x WHERE x.kind IN (1, 4, 5) AND t.%s = x.id AND t.%s = x.sent%s"
			    " AND (x.kind = 5 OR %s OR %s OR (x.kind IN (1, 4) AND " APP_HOLDS "))"
			    " RETURNING x.ord, CASE WHEN %s THEN 'K'"
			    " WHEN t.last_token_update_error = '" MASS_LOGOUT_MARK "' THEN 'm'"
			    " WHEN %s THEN 'k' WHEN x.kind IN (1, 4) AND " APP_HOLDS " THEN 'a' ELSE 'k' END AS how),"
			    "%s"
			    /* A held row's lease is renewed: it may wait for the run's end. */
			    " held AS (UPDATE %s t SET token_update_claimed_until = now() + %ld * interval '1 millisecond'"
			    " FROM res x WHERE x.kind = 4 AND t.%s = x.id AND t.%s = x.sent%s AND NOT %s"
			    " AND t.token_update_claimed_until = " OUR_CLAIM
			    " RETURNING x.ord, 'h'::text AS how, to_char(t.token_update_claimed_until AT TIME ZONE 'UTC',"
			    " 'YYYY-MM-DD\"T\"HH24:MI:SS.US') AS claim),"
			    " fail AS (UPDATE %s t SET last_token_update_error = x.reason, " CLAIM_CLEAR
			    " FROM res x WHERE x.kind = 2 AND t.%s = x.id AND t.%s = x.sent%s RETURNING x.ord, 'f'::text AS how),"
			    "%s"
			    " done AS (SELECT *, NULL::text AS claim FROM upd UNION ALL SELECT *, NULL FROM km%s"
			    " UNION ALL SELECT * FROM held UNION ALL SELECT *, NULL FROM fail%s),"
			    " sup AS (UPDATE %s t SET token_update_claimed_until = NULL FROM res x"
			    " WHERE x.kind <> 3 AND t.%s = x.id"
			    " AND x.ord NOT IN (SELECT ord FROM done WHERE how <> 'n')"
			    " AND t.token_update_claimed_until = " OUR_CLAIM " RETURNING t.%s),"
			    " rel AS (UPDATE %s t SET token_update_claimed_until = NULL FROM res x"
			    " WHERE x.kind = 3 AND t.%s = x.id AND t.token_update_claimed_until = " OUR_CLAIM
			    " RETURNING t.%s)"
			    " SELECT ord, how, claim FROM done",
			    db->id_type,
			    db->table, set, db->c_id, db->c_token, db->c_token, and_w,
			    db->table, k, k, db->c_id, db->c_token, and_w, keep_all ? "true" : "false", k,
			    keep_all ? "true" : "false", k,
			    del ? del : "",
			    db->table, cfg->refresh.lease_ms, db->c_id, db->c_token, and_w, k,
			    db->table, db->c_id, db->c_token, and_w,
			    nm ? nm : "",
			    del ? " UNION ALL SELECT *, NULL FROM del" : "", nm ? " UNION ALL SELECT *, NULL FROM nm" : "",
			    db->table, db->c_id, db->c_id,
			    db->table, db->c_id, db->c_id)) == NULL;
	}
	free(and_w);
	free(w);
	free(k);
	free(nm);
	free(del);
	free(where);
	free(fp);
	free(ck);
	free(set);
	return bad ? -1 : 0;
}

/* Counts the due rows (and those keep_when covers) once: a first run of both expressions on data. */
static int count_due(struct db *db, enum db_open_status *st, char *err, size_t errlen)
{
	const struct config *cfg = db->cfg;
	char shard_n[16], shard_i[16], line[256];
	const char *params[5];
	int rc = 0;
	due_params(db, params, shard_n, shard_i);
	PGresult *res = PQexecParams(db->conn, db->sql_count, 5, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
		db->due = strtol(PQgetvalue(res, 0, 0), NULL, 10);
		db->due_keep = strtol(PQgetvalue(res, 0, 1), NULL, 10);
	} else if (PQstatus(db->conn) == CONNECTION_OK && blames_statement(res) &&
	    (cfg->database.where[0] != '\0' || cfg->refresh.keep_when[0] != '\0')) {
		/* It parsed and planned (check_expr): it fails on a row's data. */
		char wloc[PATH_MAX_LEN], kloc[PATH_MAX_LEN];
		(void)config_locate(cfg, "database.where", wloc, sizeof(wloc));
		(void)config_locate(cfg, "refresh.keep_when", kloc, sizeof(kloc));
		rc = open_fail(st, DB_OPEN_CONFIG, err, errlen, "%s: %s fails on a due row: %s",
		    cfg->refresh.keep_when[0] == '\0' ? wloc : cfg->database.where[0] == '\0' ? kloc : wloc,
		    cfg->refresh.keep_when[0] == '\0' ? "database.where"
		    : cfg->database.where[0] == '\0' ? "refresh.keep_when"
						     : "database.where or refresh.keep_when",
		    res_primary(res, db->conn, line, sizeof(line)));
	} else if (PQstatus(db->conn) == CONNECTION_OK) {
		/* A slow count (a statement_timeout, a lock) costs the progress total, not the run. */
		log_warn("db", "cannot count the due rows (%s); the run goes on without a total",
		    res_error_line(res, db->conn, line, sizeof(line)));
		db->due = db->due_keep = -1;
	} else {
		rc = open_fail(st, DB_OPEN_DATABASE, err, errlen, "count due rows: %s",
		    res_error_line(res, db->conn, line, sizeof(line)));
	}
	PQclear(res);
	return rc;
}

/*
 * Has the database plan the run's claim and write (EXPLAIN: nothing runs, no
 * trigger fires) with harmless parameters: any column, type or privilege
 * they need and lack shows now, before a row is claimed.
 */
static int check_statements(struct db *db, enum db_open_status *st, char *err, size_t errlen)
{
	char shard_n[16], shard_i[16], line[256];
	const char *cp[7], *wp[9] = { "{}", "{}", "{}", "{}", "{}", "{}", "{}", "{}", "{}" };
	const char *sqls[2] = { db->sql_claim, db->sql_write };
	const char *const *ps[2] = { cp, wp };
	const int np[2] = { 7, 9 };
	due_params(db, cp, shard_n, shard_i);
	cp[5] = "0";
	cp[6] = "1000";
	for (int i = 0; i < 2; i++) {
		char *sql = sql_printf("EXPLAIN %s", sqls[i]);
		if (sql == NULL)
			return open_fail(st, DB_OPEN_DATABASE, err, errlen, "out of memory");
		PGresult *res = PQexecParams(db->conn, sql, np[i], NULL, ps[i], NULL, NULL, 0);
		free(sql);
		int ok = PQresultStatus(res) == PGRES_TUPLES_OK;
		if (!ok)
			open_fail(st, DB_OPEN_DATABASE, err, errlen, "the database rejects the run's %s: %s",
			    i == 0 ? "claim" : "write", res_error_line(res, db->conn, line, sizeof(line)));
		PQclear(res);
		if (!ok)
			return -1;
	}
	return 0;
}

struct db *db_open(const struct config *cfg, const struct db_filter *filter,
    enum db_open_status *st, char *err, size_t errlen)
{
	char timeout[16];
	*st = DB_OPEN_DATABASE;
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
	const struct config *k = cfg;
	db->table = quote_qualified(k->database.table);
	if (db->table == NULL) {
		snprintf(err, errlen, "database.table: not a valid table name");
		goto fail;
	}
	/* The table's alias where an operator's expression runs: its own name, as they would write it. */
	const char *dot = strchr(k->database.table, '.');
	const char *bare = dot ? dot + 1 : k->database.table;
	db->alias = quote_ident(bare, strlen(bare));
	db->c_id = quote_ident(k->database.columns.id, strlen(k->database.columns.id));
	db->c_email = quote_ident(k->database.columns.email, strlen(k->database.columns.email));
	db->c_token = quote_ident(k->database.columns.token, strlen(k->database.columns.token));
	db->c_cookies = quote_role(k->database.columns.cookies);
	db->c_fp = quote_role(k->database.columns.fingerprint);
	db->c_access = quote_role(k->database.columns.access_token);
	db->c_expires = quote_role(k->database.columns.expires_at);
	db->where_direct = k->database.where[0] != '\0' ? sql_printf(" AND (\n%s\n)", k->database.where)
							 : strdup("");
	if (!db->alias || !db->c_id || !db->c_email || !db->c_token || !db->where_direct) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (check_schema(db, st, err, errlen) != 0 || fix_cutoff(db, err, errlen) != 0)
		goto fail;
	if (check_expr(db, "database.where", k->database.where, st, err, errlen) != 0 ||
	    check_expr(db, "refresh.keep_when", k->refresh.keep_when, st, err, errlen) != 0)
		goto fail;
	if (build_sql(db) != 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if ((!db->filter.read_only && check_statements(db, st, err, errlen) != 0) ||
	    count_due(db, st, err, errlen) != 0)
		goto fail;
	/* Statements are sent and read without blocking, next to the HTTP transfers. */
	if (PQsetnonblocking(db->conn, 1) != 0 || PQsetnonblocking(db->writer.conn, 1) != 0) {
		snprintf(err, errlen, "cannot make the database connection non-blocking");
		goto fail;
	}
	*st = DB_OPEN_OK;
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
	free(db->alias);
	free(db->qualified);
	free(db->role);
	free(db->where_direct);
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
	free(db->sql_count);
	free(db->sql_write);
	free(db);
}

long db_count_due(const struct db *db, long *keep)
{
	if (keep != NULL)
		*keep = db->due_keep;
	return db->due;
}

long db_list_due(struct db *db, long limit)
{
	char shard_n[16], shard_i[16], lim[24], *sql = NULL, red[64], line[256];
	const char *params[6];
	long n = 0;
	due_params(db, params, shard_n, shard_i);
	snprintf(lim, sizeof(lim), "%ld", limit > 0 ? limit : 0);
	params[5] = lim;
	sql = sql_printf("SELECT %s.%s::text, %s.%s %s"
			 " ORDER BY coalesce(%s.last_token_update_date, %s.created_at, '-infinity'::timestamptz)"
			 " LIMIT CASE WHEN $6::bigint > 0 THEN $6::bigint END",
	    db->alias, db->c_email, db->alias, db->c_token, db->sql_due_from, db->alias, db->alias);
	if (sql == NULL)
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

static int kind_of(const struct result *r)
{
	switch (r->outcome) {
	case OUTCOME_REFRESHED:
		return KIND_REFRESHED;
	case OUTCOME_LOGGED_OUT:
		return r->logout == LOGOUT_HOLD ? KIND_LOGOUT_HOLD
		    : r->logout == LOGOUT_MASS	? KIND_LOGOUT_MASS
						: KIND_LOGOUT;
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
	char kinds[6][2] = { "0", "1", "2", "3", "4", "5" };
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
		int k = kind_of(r);
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
	 * The statement returns the 1-based position of each result it wrote and
	 * how; a result it does not name was superseded.
	 */
	char *how = calloc(n ? n : 1, 1);
	const char **claims = calloc(n ? n : 1, sizeof(*claims));
	if (how == NULL || claims == NULL) {
		free(how);
		free(claims);
		/* Written, but we cannot tell how: count them as they were sent. */
		log_error("db", "out of memory while reading the write's result");
		for (size_t i = 0; i < n; i++)
			res[i]->written = 1;
		PQclear(pr);
		return 1;
	}
	for (int t = 0; t < PQntuples(pr); t++) {
		long ord = strtol(PQgetvalue(pr, t, 0), NULL, 10);
		if (ord >= 1 && (size_t)ord <= n) {
			how[ord - 1] = PQgetvalue(pr, t, 1)[0];
			claims[ord - 1] = PQgetisnull(pr, t, 2) ? NULL : PQgetvalue(pr, t, 2);
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct result *r = res[i];
		r->written = 1;
		r->note = WRITE_NOTE_NONE;
		if (kind_of(r) == KIND_RELEASE)
			continue;
		switch (how[i]) {
		case 'r':
		case 'f':
			break;
		case 'd':
			r->note = WRITE_NOTE_DELETED;
			break;
		case 'K':
			r->note = WRITE_NOTE_KEPT;
			break;
		case 'k':
			r->note = WRITE_NOTE_KEPT_RULE;
			break;
		case 'a':
			r->note = WRITE_NOTE_KEPT_HELD;
			break;
		case 'h': {
			/* Its lease was renewed: the new value guards what comes next. */
			char *claim = claims[i] != NULL ? strdup(claims[i]) : NULL;
			if (claim != NULL) {
				free(r->row->claim);
				r->row->claim = claim;
			}
			r->note = WRITE_NOTE_HELD_BACK;
			break;
		}
		case 'm':
			r->note = WRITE_NOTE_MASS;
			break;
		case 'n':
			r->note = r->outcome == OUTCOME_REFRESHED ? WRITE_NOTE_NOT_MATCHING_ISSUED
								  : WRITE_NOTE_NOT_MATCHING;
			r->outcome = OUTCOME_SUPERSEDED;
			break;
		default:
			r->outcome = OUTCOME_SUPERSEDED;
			break;
		}
	}
	free(how);
	free(claims);
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
