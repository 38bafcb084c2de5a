/* db.c - claims as leases and set-based, token-guarded write-back on libpq (unnamed statements only). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "db.h"
#include "dbmsg.h"
#include "defaults.h"
#include "log.h"
#include "loop.h"
#include "schema.h"
#include "sqlbuild.h"

/*
 * A channel is one connection with at most one statement in flight, driven
 * without blocking: the run's loop watches its socket next to libcurl's and
 * hands it back when it is ready (chan_on_ready). A broken connection is
 * re-established asynchronously (PQresetStart/PQresetPoll).
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
	long long since; /* loop ms: statement sent, or reconnect started */
	struct loop *lp; /* the run's loop (db_attach); borrowed */
	int wfd; /* the socket lp watches for this channel, or -1 */
	unsigned wev; /* and for what (LOOP_*) */
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
	struct sqlnames *names; /* the table and columns, quoted */
	struct schema_facts facts; /* what the schema check learned (types, updated_at) */
	char *cutoff; /* the run's due cutoff, UTC ISO text; NULL = every row due */
	char *sql_claim, *sql_count, *sql_write; /* built once */
	long due, due_keep; /* rows due at open, and how many of them keep_when covers */
};

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
	free(row->access_token);
	free(row->claim);
	free(row);
}

/* ---- Channels: one statement in flight per connection, never blocking ---- */

/* The loop's handler for a channel's socket; it and chan_watch name each other. */
static void chan_on_ready(void *ctx, int fd, unsigned events);

static void chan_fail(struct chan *ch, const char *msg)
{
	snprintf(ch->err, sizeof(ch->err), "%s", msg);
	ch->lost_conn = PQstatus(ch->conn) != CONNECTION_OK;
	PQclear(ch->res);
	ch->res = NULL;
	ch->state = CH_FAILED;
}

/* What the channel waits for on its socket in its state (LOOP_*), 0 for nothing. */
static unsigned chan_wants(const struct chan *ch)
{
	switch (ch->state) {
	case CH_SENDING:
		return LOOP_IN | LOOP_OUT; /* libpq: flush on writable, consume on readable */
	case CH_BUSY:
		return LOOP_IN;
	case CH_RESET:
		return ch->poll_write ? LOOP_OUT : LOOP_IN;
	default:
		return 0;
	}
}

/*
 * Tells the loop what the channel waits for now: its socket (which a
 * reconnect may have changed) for what its state needs, or nothing.
 */
static void chan_watch(struct chan *ch)
{
	unsigned want = chan_wants(ch);
	int fd = want != 0 ? PQsocket(ch->conn) : -1;
	if (fd < 0)
		want = 0;
	if (ch->wfd >= 0 && (ch->wfd != fd || want == 0)) {
		loop_unwatch(ch->lp, ch->wfd, ch);
		ch->wfd = -1;
	}
	if (want == 0 || (ch->wfd == fd && ch->wev == want))
		return;
	if (loop_watch(ch->lp, fd, want, chan_on_ready, ch) != 0) {
		/* Nothing would drive it: fail the statement now rather than at its timeout. */
		log_error("db", "%s: cannot watch the connection's socket", ch->what);
		ch->wfd = -1;
		chan_fail(ch, "cannot watch the connection's socket");
		ch->lost_conn = 1;
		return;
	}
	ch->wfd = fd;
	ch->wev = want;
}

/* Starts re-establishing a broken connection; the sweep's loop drives it. */
static void chan_reset_start(struct chan *ch)
{
	char line[256];
	ch->since = loop_now(ch->lp);
	ch->poll_write = 1;
	/* PQresetStart closes the socket; its number may come back for the new one. */
	if (ch->wfd >= 0)
		loop_unwatch(ch->lp, ch->wfd, ch);
	ch->wfd = -1;
	if (!PQresetStart(ch->conn)) {
		log_warn("db", "reconnect failed: %s", dbmsg_conn(ch->conn, line, sizeof(line)));
		ch->state = CH_BROKEN;
		chan_watch(ch);
		return;
	}
	ch->state = CH_RESET;
	chan_watch(ch); /* a new socket */
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
		log_error("db", "%s: %s", ch->what, dbmsg_conn(ch->conn, line, sizeof(line)));
		if (PQstatus(ch->conn) != CONNECTION_OK)
			ch->state = CH_BROKEN;
		return -1;
	}
	ch->since = loop_now(ch->lp);
	ch->state = CH_SENDING;
	chan_watch(ch);
	return 0;
}

/* Reads what has arrived; moves CH_BUSY to CH_DONE or CH_FAILED when the statement ends. */
static void chan_read(struct chan *ch, ExecStatusType want)
{
	char line[256];
	if (!PQconsumeInput(ch->conn)) {
		chan_fail(ch, dbmsg_conn(ch->conn, line, sizeof(line)));
		return;
	}
	while (!PQisBusy(ch->conn)) {
		PGresult *r = PQgetResult(ch->conn);
		if (r == NULL) {
			if (ch->res == NULL)
				chan_fail(ch, "no result");
			else if (PQresultStatus(ch->res) != want)
				chan_fail(ch, dbmsg_result(ch->res, ch->conn, line, sizeof(line)));
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
 * Drives a channel without blocking, when its socket is ready: flushes a
 * statement being sent, reads a result, advances a reconnect. Every
 * statement of the run returns rows (PGRES_TUPLES_OK).
 */
static void chan_step(struct chan *ch)
{
	char line[256];
	if (ch->state == CH_RESET) {
		PostgresPollingStatusType p = PQresetPoll(ch->conn);
		if (p == PGRES_POLLING_OK) {
			(void)PQsetnonblocking(ch->conn, 1);
			ch->state = CH_IDLE;
			log_info("db", "%s: reconnected", ch->what);
		} else if (p == PGRES_POLLING_FAILED) {
			log_warn("db", "%s: reconnect failed: %s", ch->what,
			    dbmsg_conn(ch->conn, line, sizeof(line)));
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
			chan_fail(ch, dbmsg_conn(ch->conn, line, sizeof(line)));
			return;
		}
		if (f == 0)
			ch->state = CH_BUSY;
	}
	if (ch->state == CH_BUSY)
		chan_read(ch, PGRES_TUPLES_OK); /* a result may be there already */
}

/* The loop: the channel's socket is ready. */
static void chan_on_ready(void *ctx, int fd, unsigned events)
{
	struct chan *ch = ctx;
	(void)fd;
	(void)events;
	chan_step(ch);
	chan_watch(ch);
}

/*
 * Gives up on a statement or reconnect that has taken too long (a hung server
 * or a pooler queueing us: the connection is dropped and re-established;
 * every statement is safe to repeat). Called every turn, ready or not.
 */
static void chan_check_time(struct chan *ch)
{
	char line[256];
	long long now = loop_now(ch->lp);
	if (ch->state == CH_RESET && now - ch->since > DB_CONNECT_TIMEOUT_S * 1000L) {
		log_warn("db", "%s: reconnect timed out after %d s", ch->what, DB_CONNECT_TIMEOUT_S);
		ch->state = CH_BROKEN;
	} else if ((ch->state == CH_SENDING || ch->state == CH_BUSY) &&
	    now - ch->since > DB_STATEMENT_TIMEOUT_MS) {
		snprintf(line, sizeof(line), "no answer from the database in %ld ms",
		    (long)DB_STATEMENT_TIMEOUT_MS);
		chan_fail(ch, line);
		ch->lost_conn = 1; /* abandon it: reconnect before the next statement */
	}
	chan_watch(ch);
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

/* ---- Start-up: before the run, blocking ---- */

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
		    dbmsg_result(res, db->conn, line, sizeof(line)));
		PQclear(res);
		return -1;
	}
	db->cutoff = xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return db->cutoff ? 0 : -1;
}

/* Text of an int parameter. */
struct num {
	char s[24];
};

/*
 * Fills params[0 .. DUE_NPARAM - 1], nothing excluded. shard_n and shard_i
 * hold the shard's numbers and must live as long as params.
 */
static void due_params(const struct db *db, const char **params, struct num *shard_n,
    struct num *shard_i)
{
	snprintf(shard_n->s, sizeof(shard_n->s), "%d", db->filter.shard_count);
	snprintf(shard_i->s, sizeof(shard_i->s), "%d", db->filter.shard_index);
	params[DUE_CUTOFF] = db->cutoff;
	params[DUE_EMAIL] = db->filter.email;
	params[DUE_SHARD_COUNT] = shard_n->s;
	params[DUE_SHARD_INDEX] = shard_i->s;
	params[DUE_EXCLUDE] = "{}";
}

/* What the statements are built from (borrows from db). */
static struct sqlctx sql_ctx(const struct db *db)
{
	struct sqlctx c = { db->cfg, db->names, db->facts.id_type, db->facts.cookies_type,
		db->facts.has_updated_at, db->filter.stale_after_ms };
	return c;
}

/* Builds the run's statements once; 0, or -1 when out of memory. */
static int build_sql(struct db *db)
{
	struct sqlctx c = sql_ctx(db);
	db->sql_count = sqlbuild_count(&c);
	db->sql_claim = sqlbuild_claim(&c);
	db->sql_write = sqlbuild_write(&c);
	return db->sql_count && db->sql_claim && db->sql_write ? 0 : -1;
}

/* Counts the due rows (and those keep_when covers) once: a first run of both expressions on data. */
static int count_due(struct db *db, enum db_open_status *st, char *err, size_t errlen)
{
	const struct config *cfg = db->cfg;
	char line[256];
	struct num shard_n, shard_i;
	const char *params[DUE_NPARAM];
	int rc = 0;
	due_params(db, params, &shard_n, &shard_i);
	PGresult *res = PQexecParams(db->conn, db->sql_count, DUE_NPARAM, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
		db->due = strtol(PQgetvalue(res, 0, 0), NULL, 10);
		db->due_keep = strtol(PQgetvalue(res, 0, 1), NULL, 10);
	} else if (PQstatus(db->conn) == CONNECTION_OK && dbmsg_blames_statement(res) &&
	    (cfg->database.where[0] != '\0' || cfg->refresh.keep_when[0] != '\0')) {
		/* It parsed and planned (schema_check_expr): it fails on a row's data. */
		char wloc[DBMSG_LOC_MAX], kloc[DBMSG_LOC_MAX];
		(void)config_locate(cfg, "database.where", wloc, sizeof(wloc));
		(void)config_locate(cfg, "refresh.keep_when", kloc, sizeof(kloc));
		rc = dbmsg_open_fail(st, DB_OPEN_CONFIG, err, errlen, "%s: %s fails on a due row: %s",
		    cfg->refresh.keep_when[0] == '\0' ? wloc : cfg->database.where[0] == '\0' ? kloc : wloc,
		    cfg->refresh.keep_when[0] == '\0' ? "database.where"
		    : cfg->database.where[0] == '\0' ? "refresh.keep_when"
						     : "database.where or refresh.keep_when",
		    dbmsg_primary(res, db->conn, line, sizeof(line)));
	} else if (PQstatus(db->conn) == CONNECTION_OK) {
		/* A slow count (a statement_timeout, a lock) costs the progress total, not the run. */
		log_warn("db", "cannot count the due rows (%s); the run goes on without a total",
		    dbmsg_result(res, db->conn, line, sizeof(line)));
		db->due = db->due_keep = -1;
	} else {
		rc = dbmsg_open_fail(st, DB_OPEN_DATABASE, err, errlen, "count due rows: %s",
		    dbmsg_result(res, db->conn, line, sizeof(line)));
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
	char line[256];
	struct num shard_n, shard_i;
	const char *cp[CLAIM_NPARAM], *wp[WRITE_NPARAM];
	const char *sqls[2] = { db->sql_claim, db->sql_write };
	const char *const *ps[2] = { cp, wp };
	const int np[2] = { CLAIM_NPARAM, WRITE_NPARAM };
	due_params(db, cp, &shard_n, &shard_i);
	cp[CLAIM_LIMIT] = "0";
	cp[CLAIM_LEASE_MS] = "1000";
	cp[CLAIM_AFTER] = "2000-01-01T00:00:00.000000";
	for (int i = 0; i < WRITE_NPARAM; i++)
		wp[i] = "{}";
	for (int i = 0; i < 2; i++) {
		char *sql = sqlbuild_explain(sqls[i]);
		if (sql == NULL)
			return dbmsg_open_fail(st, DB_OPEN_DATABASE, err, errlen, "out of memory");
		PGresult *res = PQexecParams(db->conn, sql, np[i], NULL, ps[i], NULL, NULL, 0);
		free(sql);
		int ok = PQresultStatus(res) == PGRES_TUPLES_OK;
		if (!ok)
			(void)dbmsg_open_fail(st, DB_OPEN_DATABASE, err, errlen,
			    "the database rejects the run's %s: %s", i == 0 ? "claim" : "write",
			    dbmsg_result(res, db->conn, line, sizeof(line)));
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
	int bad_table = 0;
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
		    dbmsg_conn(bad, line, sizeof(line)));
		goto fail;
	}
	db->names = sqlbuild_names_new(cfg, &bad_table);
	if (db->names == NULL) {
		snprintf(err, errlen, bad_table ? "database.table: not a valid table name" : "out of memory");
		goto fail;
	}
	int ro = db->filter.read_only;
	if (schema_check(db->conn, cfg, db->names, ro, &db->facts, st, err, errlen) != 0 ||
	    fix_cutoff(db, err, errlen) != 0)
		goto fail;
	if (schema_check_expr(db->conn, cfg, db->names, ro, "database.where", cfg->database.where, st,
		err, errlen) != 0 ||
	    schema_check_expr(db->conn, cfg, db->names, ro, "refresh.keep_when", cfg->refresh.keep_when,
		st, err, errlen) != 0)
		goto fail;
	if (build_sql(db) != 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if ((!ro && check_statements(db, st, err, errlen) != 0) || count_due(db, st, err, errlen) != 0)
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
	sqlbuild_names_free(db->names);
	schema_facts_clear(&db->facts);
	free(db->cutoff);
	free(db->sql_claim);
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
	char red[64], line[256];
	struct num shard_n, shard_i, lim;
	const char *params[LIST_NPARAM];
	long n = 0;
	due_params(db, params, &shard_n, &shard_i);
	snprintf(lim.s, sizeof(lim.s), "%ld", limit > 0 ? limit : 0);
	params[LIST_LIMIT] = lim.s;
	struct sqlctx c = sql_ctx(db);
	char *sql = sqlbuild_list(&c);
	if (sql == NULL)
		return -1;
	if (!PQsendQueryParams(db->conn, sql, LIST_NPARAM, NULL, params, NULL, NULL, 0)) {
		log_error("db", "list due rows: %s", dbmsg_conn(db->conn, line, sizeof(line)));
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
			log_error("db", "list due rows: %s", dbmsg_result(res, db->conn, line, sizeof(line)));
			n = -1;
		}
		PQclear(res);
	}
	if (fflush(stdout) != 0)
		return -1;
	return n;
}

/* ---- The run: claims ---- */

int db_claim_send(struct db *db, long limit, const char *after, char *const *exclude, size_t nexclude)
{
	struct num shard_n, shard_i, lim, lease;
	const char *params[CLAIM_NPARAM];
	char *excl = sqlbuild_array_literal(exclude, nexclude);
	if (excl == NULL)
		return -1;
	due_params(db, params, &shard_n, &shard_i);
	params[DUE_EXCLUDE] = excl;
	snprintf(lim.s, sizeof(lim.s), "%ld", limit);
	snprintf(lease.s, sizeof(lease.s), "%ld", db->cfg->refresh.lease_ms);
	params[CLAIM_LIMIT] = lim.s;
	params[CLAIM_LEASE_MS] = lease.s;
	params[CLAIM_AFTER] = after != NULL && after[0] != '\0' ? after : NULL;
	int rc = chan_send(&db->claimer, db->sql_claim, CLAIM_NPARAM, params);
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
		r->id = xstrdup(PQgetvalue(res, i, CLAIM_COL_ID));
		r->email = xstrdup(PQgetvalue(res, i, CLAIM_COL_EMAIL));
		r->token = xstrdup(PQgetvalue(res, i, CLAIM_COL_TOKEN));
		r->cookies = xstrdup(PQgetvalue(res, i, CLAIM_COL_COOKIES));
		if (!PQgetisnull(res, i, CLAIM_COL_FINGERPRINT))
			r->fingerprint = xstrdup(PQgetvalue(res, i, CLAIM_COL_FINGERPRINT));
		if (!PQgetisnull(res, i, CLAIM_COL_ACCESS_TOKEN))
			r->access_token = xstrdup(PQgetvalue(res, i, CLAIM_COL_ACCESS_TOKEN));
		r->claim = xstrdup(PQgetvalue(res, i, CLAIM_COL_LEASE));
		const char *order = PQgetvalue(res, i, CLAIM_COL_ORDER);
		if (strlen(order) == ROW_ORDER_LEN - 1) /* else "": before any other (see struct row) */
			memcpy(r->order, order, ROW_ORDER_LEN);
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
	chan_check_time(&db->claimer);
	int rc = chan_collect(&db->claimer, &res);
	if (rc == 1 && claim_rows(res, rows, n) != 0)
		rc = -1;
	PQclear(res);
	return rc;
}

/* ---- The run: writes ---- */

static enum write_kind kind_of(const struct result *r)
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
	char **cols[WRITE_NPARAM] = { NULL };
	char *lit[WRITE_NPARAM] = { NULL };
	struct num kinds[KIND_COUNT];
	char (*exp)[24] = calloc(n ? n : 1, sizeof(*exp));
	int rc = -1;
	if (exp == NULL)
		return -1;
	for (int k = 0; k < KIND_COUNT; k++)
		snprintf(kinds[k].s, sizeof(kinds[k].s), "%d", k);
	for (int c = 0; c < WRITE_NPARAM; c++) {
		cols[c] = calloc(n ? n : 1, sizeof(char *));
		if (cols[c] == NULL)
			goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const struct result *r = res[i];
		enum write_kind k = kind_of(r);
		int refreshed = k == KIND_REFRESHED;
		cols[WRITE_ID][i] = r->row->id;
		cols[WRITE_KIND][i] = kinds[k].s;
		cols[WRITE_SENT][i] = r->row->token;
		cols[WRITE_TOKEN][i] = refreshed ? r->new_token : NULL;
		cols[WRITE_COOKIES][i] = refreshed ? r->cookies : NULL;
		cols[WRITE_REASON][i] = k == KIND_FAILED ? (char *)r->reason : NULL;
		cols[WRITE_LEASE][i] = r->row->claim;
		cols[WRITE_ACCESS_TOKEN][i] = refreshed ? r->access_token : NULL;
		if (refreshed && r->expires_at > 0) {
			snprintf(exp[i], sizeof(exp[i]), "%lld", r->expires_at);
			cols[WRITE_EXPIRES_AT][i] = exp[i];
		}
	}
	for (int c = 0; c < WRITE_NPARAM; c++) {
		lit[c] = sqlbuild_array_literal(cols[c], n);
		if (lit[c] == NULL)
			goto out;
	}
	rc = chan_send(&db->writer, db->sql_write, WRITE_NPARAM, (const char *const *)lit);
	if (rc == 0) {
		db->wres = res;
		db->nwres = n;
	}
out:
	for (int c = 0; c < WRITE_NPARAM; c++) {
		free(cols[c]);
		free(lit[c]);
	}
	free(exp);
	return rc;
}

int db_write_poll(struct db *db)
{
	PGresult *pr;
	chan_check_time(&db->writer);
	int rc = chan_collect(&db->writer, &pr);
	if (rc == 0)
		return 0;
	struct result *const *res = db->wres;
	size_t n = db->nwres;
	db->wres = NULL;
	db->nwres = 0;
	if (rc < 0)
		return -1;
	/* The statement names each result it wrote and how; a result it does not name was superseded. */
	char *how = calloc(n ? n : 1, 1);
	const char **claims = calloc(n ? n : 1, sizeof(*claims));
	if (how == NULL || claims == NULL) {
		free(how);
		free(claims);
		/* Written, but we cannot tell how: count them as they were sent. */
		log_error("db", "out of memory while reading the write's result");
		PQclear(pr);
		return 1;
	}
	for (int t = 0; t < PQntuples(pr); t++) {
		long ord = strtol(PQgetvalue(pr, t, WRITE_COL_ORD), NULL, 10);
		if (ord >= 1 && (size_t)ord <= n) {
			how[ord - 1] = PQgetvalue(pr, t, WRITE_COL_HOW)[0];
			claims[ord - 1] = PQgetisnull(pr, t, WRITE_COL_LEASE) ? NULL
									: PQgetvalue(pr, t, WRITE_COL_LEASE);
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct result *r = res[i];
		r->note = WRITE_NOTE_NONE;
		if (kind_of(r) == KIND_RELEASE)
			continue;
		switch (how[i]) {
		case HOW_REFRESHED:
		case HOW_FAILED:
			break;
		case HOW_DELETED:
			r->note = WRITE_NOTE_DELETED;
			break;
		case HOW_KEPT:
			r->note = WRITE_NOTE_KEPT;
			break;
		case HOW_KEPT_RULE:
			r->note = WRITE_NOTE_KEPT_RULE;
			break;
		case HOW_KEPT_HELD:
			r->note = WRITE_NOTE_KEPT_HELD;
			break;
		case HOW_HELD_BACK: {
			/* Its lease was renewed: the new value guards what comes next. */
			char *claim = claims[i] != NULL ? strdup(claims[i]) : NULL;
			if (claim != NULL) {
				free(r->row->claim);
				r->row->claim = claim;
			}
			r->note = WRITE_NOTE_HELD_BACK;
			break;
		}
		case HOW_MASS:
			r->note = WRITE_NOTE_MASS;
			break;
		case HOW_NOT_MATCHING:
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

void db_attach(struct db *db, struct loop *lp)
{
	db->claimer.lp = db->writer.lp = lp;
	db->claimer.wfd = db->writer.wfd = -1;
}

void db_detach(struct db *db)
{
	struct chan *chans[2] = { &db->claimer, &db->writer };
	for (int i = 0; i < 2; i++) {
		if (chans[i]->lp != NULL && chans[i]->wfd >= 0)
			loop_unwatch(chans[i]->lp, chans[i]->wfd, chans[i]);
		chans[i]->wfd = -1;
		chans[i]->lp = NULL;
	}
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
