/* sqlbuild.c - the text of every statement db.c builds, from the config and the table's facts (no I/O). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sqlbuild.h"
#include "strbuf.h"

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

/* Parameter number of a 0-based parameter index: $1 is index 0. */
#define PARAM(i) ((int)(i) + 1)

/* ---- Names ---- */

/* Quotes len bytes of s as one identifier. Caller frees. */
static char *quote_n(const char *s, size_t len)
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

char *sqlbuild_quote_ident(const char *s)
{
	return quote_n(s, strlen(s));
}

/*
 * A dot splits schema from table (one dot at most); everything else is
 * taken literally, so no input can escape the identifier.
 */
char *sqlbuild_quote_qualified(const char *name)
{
	const char *dot = strchr(name, '.');
	if (*name == '\0')
		return NULL;
	if (dot == NULL)
		return quote_n(name, strlen(name));
	if (dot == name || dot[1] == '\0' || strchr(dot + 1, '.') != NULL)
		return NULL;
	char *a = quote_n(name, (size_t)(dot - name));
	char *b = quote_n(dot + 1, strlen(dot + 1));
	char *out = NULL;
	if (a && b && asprintf(&out, "%s.%s", a, b) < 0)
		out = NULL;
	free(a);
	free(b);
	return out;
}

struct sqlnames *sqlbuild_names_new(const struct config *cfg, int *bad_table)
{
	const char *cols[COL_COUNT] = {
		[COL_ID] = cfg->database.columns.id,
		[COL_EMAIL] = cfg->database.columns.email,
		[COL_TOKEN] = cfg->database.columns.token,
		[COL_COOKIES] = cfg->database.columns.cookies,
		[COL_FINGERPRINT] = cfg->database.columns.fingerprint,
		[COL_ACCESS_TOKEN] = cfg->database.columns.access_token,
		[COL_EXPIRES_AT] = cfg->database.columns.expires_at,
	};
	const char *name = cfg->database.table;
	*bad_table = 0;
	struct sqlnames *n = calloc(1, sizeof(*n));
	if (n == NULL)
		return NULL;
	n->table = sqlbuild_quote_qualified(name);
	if (n->table == NULL) {
		*bad_table = 1;
		goto fail;
	}
	/* The table's alias where an operator's expression runs: its own name, as they would write it. */
	const char *dot = strchr(name, '.');
	n->alias = sqlbuild_quote_ident(dot ? dot + 1 : name);
	if (n->alias == NULL)
		goto fail;
	for (int i = 0; i < COL_COUNT; i++) {
		if (cols[i][0] == '\0')
			continue; /* an absent optional role; the config ensures the others are set */
		n->col[i] = sqlbuild_quote_ident(cols[i]);
		if (n->col[i] == NULL)
			goto fail;
	}
	return n;
fail:
	sqlbuild_names_free(n);
	return NULL;
}

void sqlbuild_names_free(struct sqlnames *n)
{
	if (n == NULL)
		return;
	for (int i = 0; i < COL_COUNT; i++)
		free(n->col[i]);
	free(n->alias);
	free(n->table);
	free(n);
}

char *sqlbuild_array_literal(char *const *v, size_t n)
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

/* ---- Due rows: count, dry-run list, claim ---- */

/* What orders due rows, oldest refresh (or creation) first; a the table's alias. */
static void oldest_first(struct strbuf *b, const char *a)
{
	strbuf_printf(b, "coalesce(%s.last_token_update_date, %s.created_at, '-infinity'::timestamptz)", a, a);
}

/*
 * The WHERE clause of a due row, shared by count, dry run and claim; the
 * table is in scope under its alias (its own name) and nothing else, so
 * database.where goes in as it is, where the planner can use it. With an
 * expires_at column a row is also due when it expires within refresh.ahead
 * of the run's start (or has no expiry) and was not refreshed since the run
 * started.
 */
static void due_where(struct strbuf *b, const struct sqlctx *c)
{
	const struct sqlnames *n = c->names;
	const char *a = n->alias, *exp = n->col[COL_EXPIRES_AT];
	const char *where = c->cfg->database.where;
	char cutoff[48];
	snprintf(cutoff, sizeof(cutoff), "($%d::timestamp AT TIME ZONE 'UTC')", PARAM(DUE_CUTOFF));
	strbuf_printf(b, "(");
	oldest_first(b, a);
	strbuf_printf(b, " <= %s", cutoff);
	if (exp != NULL)
		strbuf_printf(b, " OR ((%s.%s IS NULL OR %s.%s <= %s + %ld * interval '1 millisecond')"
			  " AND coalesce(%s.last_token_update_date, '-infinity'::timestamptz)"
			  " < %s + %ld * interval '1 millisecond')",
		    a, exp, a, exp, cutoff, c->stale_after_ms + c->cfg->refresh.ahead_ms, a, cutoff,
		    c->stale_after_ms);
	strbuf_printf(b, ") AND (%s.token_update_claimed_until IS NULL OR %s.token_update_claimed_until < now())",
	    a, a);
	strbuf_printf(b, " AND ($%d::text IS NULL OR %s.%s = $%d::text)", PARAM(DUE_EMAIL), a, n->col[COL_EMAIL],
	    PARAM(DUE_EMAIL));
	strbuf_printf(b, " AND ($%d::int = 0 OR abs(hashtext(%s.%s::text)::bigint) %% $%d::int = $%d::int)",
	    PARAM(DUE_SHARD_COUNT), a, n->col[COL_ID], PARAM(DUE_SHARD_COUNT), PARAM(DUE_SHARD_INDEX));
	strbuf_printf(b, " AND NOT (%s.%s = ANY($%d::%s[]))", a, n->col[COL_ID], PARAM(DUE_EXCLUDE), c->id_type);
	if (where[0] != '\0')
		strbuf_printf(b, " AND (\n%s\n)", where);
}

/* "FROM table AS alias WHERE <due>". */
static void due_from(struct strbuf *b, const struct sqlctx *c)
{
	strbuf_printf(b, "FROM %s AS %s WHERE ", c->names->table, c->names->alias);
	due_where(b, c);
}

char *sqlbuild_count(const struct sqlctx *c)
{
	struct strbuf b = { 0 };
	const char *keep_when = c->cfg->refresh.keep_when;
	if (keep_when[0] != '\0')
		strbuf_printf(&b, "SELECT count(*), count(*) FILTER (WHERE coalesce((\n%s\n), false)) ", keep_when);
	else
		strbuf_printf(&b, "SELECT count(*), 0 ");
	due_from(&b, c);
	return strbuf_take(&b);
}

char *sqlbuild_list(const struct sqlctx *c)
{
	struct strbuf b = { 0 };
	const struct sqlnames *n = c->names;
	const char *a = n->alias;
	strbuf_printf(&b, "SELECT %s.%s::text, %s.%s ", a, n->col[COL_EMAIL], a, n->col[COL_TOKEN]);
	due_from(&b, c);
	strbuf_printf(&b, " ORDER BY ");
	oldest_first(&b, a);
	strbuf_printf(&b, " LIMIT CASE WHEN $%d::bigint > 0 THEN $%d::bigint END", PARAM(LIST_LIMIT),
	    PARAM(LIST_LIMIT));
	return strbuf_take(&b);
}

/* A lease as text, UTC (what the claim returns and the write compares with). */
#define LEASE_TEXT(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US')"
/* oldest_first() of the claim's row t, as a literal. */
#define ORDER_KEY_T "coalesce(t.last_token_update_date, t.created_at, '-infinity'::timestamptz)"

char *sqlbuild_claim(const struct sqlctx *c)
{
	struct strbuf b = { 0 };
	const struct sqlnames *n = c->names;
	const char *a = n->alias, *id = n->col[COL_ID];
	char cookies[200], fp[200], at[200];
	snprintf(cookies, sizeof(cookies), "%s%s::text", n->col[COL_COOKIES] ? "t." : "NULL",
	    n->col[COL_COOKIES] ? n->col[COL_COOKIES] : "");
	snprintf(fp, sizeof(fp), "%s%s::text", n->col[COL_FINGERPRINT] ? "t." : "NULL",
	    n->col[COL_FINGERPRINT] ? n->col[COL_FINGERPRINT] : "");
	snprintf(at, sizeof(at), "%s%s::text", n->col[COL_ACCESS_TOKEN] ? "t." : "NULL",
	    n->col[COL_ACCESS_TOKEN] ? n->col[COL_ACCESS_TOKEN] : "");
	char idc[160], emailc[160], tokenc[160], order[512];
	snprintf(idc, sizeof(idc), "t.%s::text", id);
	snprintf(emailc, sizeof(emailc), "t.%s::text", n->col[COL_EMAIL]);
	snprintf(tokenc, sizeof(tokenc), "t.%s", n->col[COL_TOKEN]);
	/* The row's order key (oldest_first) as text, NULL before the year 1000 (see struct row). */
	snprintf(order, sizeof(order), "CASE WHEN %s >= '1000-01-01 00:00:00+00'::timestamptz THEN %s END",
	    ORDER_KEY_T, LEASE_TEXT(ORDER_KEY_T));
	const char *ret[CLAIM_NCOL] = {
		[CLAIM_COL_ID] = idc,
		[CLAIM_COL_EMAIL] = emailc,
		[CLAIM_COL_TOKEN] = tokenc,
		[CLAIM_COL_COOKIES] = cookies,
		[CLAIM_COL_FINGERPRINT] = fp,
		[CLAIM_COL_LEASE] = LEASE_TEXT("t.token_update_claimed_until"),
		[CLAIM_COL_ACCESS_TOKEN] = at,
		[CLAIM_COL_ORDER] = order,
	};
	strbuf_printf(&b, "WITH due AS MATERIALIZED (SELECT %s.%s AS id FROM %s AS %s WHERE ", a, id,
	    n->table, a);
	due_where(&b, c);
	/*
	 * Only rows at or after the run's cursor, the latest order key it has
	 * claimed. A row before it was claimed by this run already, or skipped
	 * while another held it (the next run takes it). A row the run failed
	 * stays due: without the cursor every claim would walk past, and
	 * exclude by id, every row this run had failed so far.
	 */
	strbuf_printf(&b, " AND ($%d::text IS NULL OR ", PARAM(CLAIM_AFTER));
	oldest_first(&b, a);
	strbuf_printf(&b, " >= ($%d::timestamp AT TIME ZONE 'UTC'))", PARAM(CLAIM_AFTER));
	strbuf_printf(&b, " ORDER BY ");
	oldest_first(&b, a);
	strbuf_printf(&b, " LIMIT $%d::int FOR UPDATE SKIP LOCKED)", PARAM(CLAIM_LIMIT));
	strbuf_printf(&b, " UPDATE %s t SET token_update_claimed_until = now() + $%d::bigint"
		   " * interval '1 millisecond' FROM due WHERE t.%s = due.id RETURNING",
	    n->table, PARAM(CLAIM_LEASE_MS), id);
	for (int i = 0; i < CLAIM_NCOL; i++)
		strbuf_printf(&b, "%s %s", i > 0 ? "," : "", ret[i]);
	return strbuf_take(&b);
}

/* ---- The write ---- */

/* The names and element types of the write's parameters in its unnest() (id: the id column's type). */
static const struct {
	const char *name, *type;
} write_params[WRITE_NPARAM] = {
	[WRITE_ID] = { "id", NULL },
	[WRITE_KIND] = { "kind", "int" },
	[WRITE_SENT] = { "sent", "text" },
	[WRITE_TOKEN] = { "tok", "text" },
	[WRITE_COOKIES] = { "cookies", "text" },
	[WRITE_REASON] = { "reason", "text" },
	[WRITE_LEASE] = { "claim", "text" },
	[WRITE_ACCESS_TOKEN] = { "atok", "text" },
	[WRITE_EXPIRES_AT] = { "exp", "text" },
};

/* The names of the write's result columns. */
static const char *const write_cols[WRITE_NCOL] = {
	[WRITE_COL_ORD] = "ord",
	[WRITE_COL_HOW] = "how",
	[WRITE_COL_LEASE] = "claim",
};

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
 * An operator's expression on the row t of a write, with only the table's
 * columns in scope (unqualified or as alias.column), whatever else the
 * statement joins: EXISTS over the row alone, so NULL counts as false.
 * Caller frees; none when expr is unset.
 */
static char *row_expr(const struct sqlnames *n, const char *expr, const char *none)
{
	if (expr[0] == '\0')
		return strdup(none);
	return sql_printf("EXISTS (SELECT FROM (SELECT t.*) AS %s WHERE (\n%s\n))", n->alias, expr);
}

/*
 * The SET list of a refreshed row: the token, and the cookies, access token
 * and expiry where the table has those roles.
 */
static void refreshed_set(struct strbuf *b, const struct sqlctx *c)
{
	const struct sqlnames *n = c->names;
	strbuf_printf(b, "%s = x.tok", n->col[COL_TOKEN]);
	if (n->col[COL_COOKIES])
		strbuf_printf(b, ", %s = x.cookies::%s", n->col[COL_COOKIES], c->cookies_type);
	if (n->col[COL_ACCESS_TOKEN])
		strbuf_printf(b, ", %s = x.atok", n->col[COL_ACCESS_TOKEN]);
	if (n->col[COL_EXPIRES_AT])
		strbuf_printf(b, ", %s = to_timestamp(x.exp::double precision)", n->col[COL_EXPIRES_AT]);
	strbuf_printf(b, ", last_token_update_date = now(), token_update_count = t.token_update_count + 1,"
		  " last_token_update_error = NULL, " CLAIM_CLEAR "%s",
	    c->has_updated_at ? ", updated_at = now()" : "");
}

/* "WITH res AS MATERIALIZED (SELECT * FROM unnest($1::type[], ...) WITH ORDINALITY AS x(names, ord))," */
static void write_res(struct strbuf *b, const struct sqlctx *c)
{
	strbuf_printf(b, "WITH res AS MATERIALIZED (SELECT * FROM unnest(");
	for (int i = 0; i < WRITE_NPARAM; i++)
		strbuf_printf(b, "%s$%d::%s[]", i > 0 ? ", " : "", PARAM(i),
		    write_params[i].type ? write_params[i].type : c->id_type);
	strbuf_printf(b, ") WITH ORDINALITY AS x(");
	for (int i = 0; i < WRITE_NPARAM; i++)
		strbuf_printf(b, "%s, ", write_params[i].name);
	strbuf_printf(b, "%s)),", write_cols[WRITE_COL_ORD]);
}

/*
 * One statement, one round trip, atomic. Each row appears under one kind, so
 * no row is touched by two CTEs. A refreshed row whose token already is the
 * new one was written by an earlier try whose reply was lost: apply it again
 * rather than call it superseded. Every write holds only while
 * database.where does and is guarded by the sent token; it clears the claim
 * only where the claim is still ours. `done` says what happened to each
 * result (enum write_how); a result not there was superseded. sup clears the
 * claim of those, picking them by what the writes returned rather than by
 * the token in the statement's snapshot (a relogin that committed while the
 * statement waited for the row would not show there).
 */
char *sqlbuild_write(const struct sqlctx *c)
{
	const struct config *cfg = c->cfg;
	const struct sqlnames *n = c->names;
	const char *tbl = n->table, *id = n->col[COL_ID], *tok = n->col[COL_TOKEN];
	const char *keep_all = cfg->refresh.on_logout == ON_LOGOUT_KEEP ? "true" : "false";
	int has_where = cfg->database.where[0] != '\0';
	struct strbuf b = { 0 };
	char *w = row_expr(n, cfg->database.where, ""), *k = row_expr(n, cfg->refresh.keep_when, "false");
	char *and_w = w && w[0] ? sql_printf(" AND %s", w) : strdup("");
	char *out = NULL;
	if (w == NULL || k == NULL || and_w == NULL)
		goto out;

	write_res(&b, c);
	strbuf_printf(&b, " upd AS (UPDATE %s t SET ", tbl);
	refreshed_set(&b, c);
	strbuf_printf(&b, " FROM res x WHERE x.kind = %d AND t.%s = x.id AND (t.%s = x.sent OR t.%s = x.tok)%s"
		   " RETURNING x.ord, '%c'::text AS how),",
	    KIND_REFRESHED, id, tok, tok, and_w, HOW_REFRESHED);

	/* Logout rows kept and marked: by on_logout, keep_when, an application hold, or the guard. */
	strbuf_printf(&b, " km AS (UPDATE %s t SET last_token_update_error = CASE WHEN x.kind = %d AND NOT %s"
		   " THEN '" SQLBUILD_MASS_LOGOUT_MARK "' ELSE 'logout' END,"
		   " last_token_update_date = CASE WHEN x.kind = %d AND NOT %s"
		   " THEN t.last_token_update_date ELSE now() END, " CLAIM_CLEAR,
	    tbl, KIND_LOGOUT_MASS, k, KIND_LOGOUT_MASS, k);
	strbuf_printf(&b, " FROM res x WHERE x.kind IN (%d, %d, %d) AND t.%s = x.id AND t.%s = x.sent%s"
		   " AND (x.kind = %d OR %s OR %s OR (x.kind IN (%d, %d) AND " APP_HOLDS "))",
	    KIND_LOGOUT, KIND_LOGOUT_HOLD, KIND_LOGOUT_MASS, id, tok, and_w, KIND_LOGOUT_MASS, keep_all, k,
	    KIND_LOGOUT, KIND_LOGOUT_HOLD);
	strbuf_printf(&b, " RETURNING x.ord, CASE WHEN %s THEN '%c'"
		   " WHEN t.last_token_update_error = '" SQLBUILD_MASS_LOGOUT_MARK "' THEN '%c'"
		   " WHEN %s THEN '%c' WHEN x.kind IN (%d, %d) AND " APP_HOLDS " THEN '%c' ELSE '%c' END"
		   " AS how),",
	    keep_all, HOW_KEPT, HOW_MASS, k, HOW_KEPT_RULE, KIND_LOGOUT, KIND_LOGOUT_HOLD, HOW_KEPT_HELD,
	    HOW_KEPT_RULE);

	/* A logout row is deleted unless on_logout keeps it, keep_when matches, or the application holds it. */
	if (cfg->refresh.on_logout != ON_LOGOUT_KEEP)
		strbuf_printf(&b, " del AS (DELETE FROM %s t USING res x WHERE x.kind = %d AND t.%s = x.id"
			   " AND t.%s = x.sent%s AND NOT %s AND NOT " APP_HOLDS
			   " RETURNING x.ord, '%c'::text AS how),",
		    tbl, KIND_LOGOUT, id, tok, and_w, k, HOW_DELETED);

	/* A held row's lease is renewed: it may wait for the run's end. */
	strbuf_printf(&b, " held AS (UPDATE %s t SET token_update_claimed_until = now() + %ld"
		   " * interval '1 millisecond' FROM res x WHERE x.kind = %d AND t.%s = x.id"
		   " AND t.%s = x.sent%s AND NOT %s AND t.token_update_claimed_until = " OUR_CLAIM
		   " RETURNING x.ord, '%c'::text AS how, " LEASE_TEXT("t.token_update_claimed_until")
		   " AS %s),",
	    tbl, cfg->refresh.lease_ms, KIND_LOGOUT_HOLD, id, tok, and_w, k, HOW_HELD_BACK,
	    write_cols[WRITE_COL_LEASE]);

	strbuf_printf(&b, " fail AS (UPDATE %s t SET last_token_update_error = x.reason, " CLAIM_CLEAR
		   " FROM res x WHERE x.kind = %d AND t.%s = x.id AND t.%s = x.sent%s"
		   " RETURNING x.ord, '%c'::text AS how),",
	    tbl, KIND_FAILED, id, tok, and_w, HOW_FAILED);

	/* Rows that no longer match database.where are left as they are (their claim cleared). */
	if (has_where)
		strbuf_printf(&b, " nm AS (SELECT x.ord, '%c'::text AS how FROM res x JOIN %s t ON t.%s = x.id"
			   " WHERE x.kind <> %d AND (t.%s = x.sent OR (x.kind = %d AND t.%s = x.tok))"
			   " AND NOT %s),",
		    HOW_NOT_MATCHING, tbl, id, KIND_RELEASE, tok, KIND_REFRESHED, tok, w);

	strbuf_printf(&b, " done AS (SELECT *, NULL::text AS %s FROM upd UNION ALL SELECT *, NULL FROM km%s"
		   " UNION ALL SELECT * FROM held UNION ALL SELECT *, NULL FROM fail%s),",
	    write_cols[WRITE_COL_LEASE],
	    cfg->refresh.on_logout != ON_LOGOUT_KEEP ? " UNION ALL SELECT *, NULL FROM del" : "",
	    has_where ? " UNION ALL SELECT *, NULL FROM nm" : "");
	strbuf_printf(&b, " sup AS (UPDATE %s t SET token_update_claimed_until = NULL FROM res x"
		   " WHERE x.kind <> %d AND t.%s = x.id AND x.ord NOT IN (SELECT ord FROM done WHERE how <> '%c')"
		   " AND t.token_update_claimed_until = " OUR_CLAIM " RETURNING t.%s),",
	    tbl, KIND_RELEASE, id, HOW_NOT_MATCHING, id);
	strbuf_printf(&b, " rel AS (UPDATE %s t SET token_update_claimed_until = NULL FROM res x"
		   " WHERE x.kind = %d AND t.%s = x.id AND t.token_update_claimed_until = " OUR_CLAIM
		   " RETURNING t.%s)",
	    tbl, KIND_RELEASE, id, id);
	strbuf_printf(&b, " SELECT");
	for (int i = 0; i < WRITE_NCOL; i++)
		strbuf_printf(&b, "%s %s", i > 0 ? "," : "", write_cols[i]);
	strbuf_printf(&b, " FROM done");
	out = strbuf_take(&b);
out:
	free(strbuf_take(&b)); /* what an early exit left */
	free(and_w);
	free(k);
	free(w);
	return out;
}

/* ---- Start-up checks ---- */

char *sqlbuild_explain(const char *sql)
{
	return sql_printf("EXPLAIN %s", sql);
}

/*
 * As the claim has it (the table under its alias), or as the writes have it
 * (the row t joined to the results, which hides its system columns).
 */
char *sqlbuild_expr_check(const struct sqlnames *n, const char *expr, enum expr_form form)
{
	if (form == EXPR_AS_CLAIM)
		return sql_printf("EXPLAIN SELECT 1 FROM %s AS %s WHERE (\n%s\n)", n->table, n->alias, expr);
	return sql_printf("EXPLAIN SELECT 1 FROM (SELECT 1 AS ord) x JOIN %s t ON true"
			  " WHERE EXISTS (SELECT FROM (SELECT t.*) AS %s WHERE (\n%s\n))",
	    n->table, n->alias, expr);
}

/* Two estimates anyone may read: the planner's (after ANALYZE) and the statistics'. */
char *sqlbuild_rls_probe(const struct sqlnames *n, const char *oid)
{
	return sql_printf("SELECT EXISTS (SELECT 1 FROM %s), greatest((SELECT reltuples::bigint"
			  " FROM pg_class WHERE oid = %s), pg_stat_get_live_tuples(%s))",
	    n->table, oid, oid);
}
