/* schema.c - db_open's start-up checks of the table: columns, privileges, row security, expressions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "defaults.h"
#include "dbmsg.h"
#include "log.h"
#include "schema.h"

/* What one check works with; everything borrowed but f, which it fills. */
struct check {
	PGconn *conn;
	const struct config *cfg;
	const struct sqlnames *names;
	int read_only;
	struct schema_facts *f;
};

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

/*
 * Runs a start-up statement (blocking, before the run). Returns its result
 * (caller PQclears), or NULL after failing db_open with "what: error".
 */
static PGresult *startup_exec(struct check *ck, const char *what, const char *sql, int n,
    const char *const *params, enum db_open_status *st, char *err, size_t errlen)
{
	char line[256];
	PGresult *res = PQexecParams(ck->conn, sql, n, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) == PGRES_TUPLES_OK)
		return res;
	dbmsg_open_fail(st, DB_OPEN_DATABASE, err, errlen, "%s: %s", what,
	    dbmsg_result(res, ck->conn, line, sizeof(line)));
	PQclear(res);
	return NULL;
}

/*
 * The configured table does not exist. A name the file sets (other than the
 * default) is a config error naming the key and the nearest table; the
 * default name means the migrations were not applied.
 */
static int table_missing(struct check *ck, enum db_open_status *st, char *err, size_t errlen)
{
	const struct config *cfg = ck->cfg;
	const char *name = cfg->database.table, *dot = strchr(name, '.');
	char schema[MAX_IDENTIFIER_BYTES + 1] = "", loc[DBMSG_LOC_MAX], hint[MAX_IDENTIFIER_BYTES * 2 + 64] = "";
	const char *params[1] = { schema };
	if (dot != NULL)
		snprintf(schema, sizeof(schema), "%.*s", (int)(dot - name), name);
	/* Tables and views the role could mean: on its search_path, or in the schema it names. */
	PGresult *res = PQexecParams(ck->conn,
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
		return dbmsg_open_fail(st, DB_OPEN_CONFIG, err, errlen,
		    "%s: database.table: no table \"%s\" in the database%s", loc, name, hint);
	return dbmsg_open_fail(st, DB_OPEN_DATABASE, err, errlen,
	    "table %s does not exist: apply the migrations in sql/%s", name, hint);
}

/*
 * Checks that the connecting role may read every column the run reads,
 * update every column it writes and, with on_logout: delete, delete rows:
 * a missing grant is an error now rather than a failing claim or write
 * later. Column privileges count (a least-privilege role may hold only those).
 */
static int check_privileges(struct check *ck, const char *token_col, const char *oid,
    enum db_open_status *st, char *err, size_t errlen)
{
	const struct config *cfg = ck->cfg;
	const struct config *c = cfg;
	const char *reads[] = { c->database.columns.id, c->database.columns.email, token_col,
		c->database.columns.cookies, c->database.columns.fingerprint,
		c->database.columns.access_token, c->database.columns.expires_at, "created_at",
		"last_token_update_date", "token_update_count", "last_token_update_error",
		"token_update_claimed_until" };
	const char *writes[] = { token_col, c->database.columns.cookies,
		c->database.columns.access_token, c->database.columns.expires_at,
		"last_token_update_date", "token_update_count", "last_token_update_error",
		"token_update_claimed_until", ck->f->has_updated_at ? "updated_at" : "" };
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
	for (size_t i = 0; i < NWRITE && !ck->read_only; i++)
		if (writes[i][0] != '\0') {
			colv[n] = (char *)writes[i];
			privv[n++] = update;
		}
	char *cols = sqlbuild_array_literal(colv, n), *privs = sqlbuild_array_literal(privv, n);
	const char *params[4] = { oid, cols, privs,
		cfg->refresh.on_logout == ON_LOGOUT_DELETE && !ck->read_only ? "true" : "false" };
	PGresult *res = NULL;
	if (cols == NULL || privs == NULL) {
		dbmsg_open_fail(st, DB_OPEN_DATABASE, err, errlen, "out of memory");
		goto out;
	}
	res = startup_exec(ck, "cannot read the role's privileges",
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
		dbmsg_open_fail(st, DB_OPEN_DATABASE, err, errlen,
		    "role \"%s\" lacks privileges on %s: %s. Grant them (sql/roles/refresher_role.sql"
		    " grants exactly what the refresher needs) or connect as a role that has them",
		    ck->f->role, ck->f->qualified, missing);
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
static int rls_hides_all(struct check *ck, const char *oid, enum db_open_status *st, char *err,
    size_t errlen)
{
	char line[256];
	char *sql = sqlbuild_rls_probe(ck->names, oid);
	if (sql == NULL)
		return dbmsg_open_fail(st, DB_OPEN_DATABASE, err, errlen, "out of memory");
	PGresult *res = PQexecParams(ck->conn, sql, 0, NULL, NULL, NULL, NULL, 0);
	free(sql);
	int rc = 0;
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
		rc = dbmsg_open_fail(st, DB_OPEN_DATABASE, err, errlen, "cannot read %s: %s", ck->f->qualified,
		    dbmsg_result(res, ck->conn, line, sizeof(line)));
	else if (strcmp(PQgetvalue(res, 0, 0), "f") == 0 && strtol(PQgetvalue(res, 0, 1), NULL, 10) > 0)
		rc = dbmsg_open_fail(st, DB_OPEN_DATABASE, err, errlen,
		    "row level security on %s hides every row from role \"%s\" (the table holds about %s"
		    " rows): give the role a policy that lets it see, update and delete the rows it should"
		    " refresh (sql/roles/refresher_role.sql creates one), or connect as a role that"
		    " bypasses row security",
		    ck->f->qualified, ck->f->role, PQgetvalue(res, 0, 1));
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
static int check_all(struct check *ck, enum db_open_status *st, char *err, size_t errlen)
{
	const struct config *cfg = ck->cfg;
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
	const char *params[1] = { ck->names->table };
	char loc[DBMSG_LOC_MAX], key[64], oid[16] = "";
	int rc = -1, rls = 0;
	PGresult *cols = NULL;
	PGresult *res = startup_exec(ck, "cannot read the schema",
	    "SELECT c.oid::text, n.nspname, c.relname, row_security_active(c.oid), current_user"
	    " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
	    " WHERE c.oid = to_regclass($1)",
	    1, params, st, err, errlen);
	if (res == NULL)
		goto out;
	if (PQntuples(res) == 0) {
		table_missing(ck, st, err, errlen);
		goto out;
	}
	snprintf(oid, sizeof(oid), "%s", PQgetvalue(res, 0, 0));
	if (asprintf(&ck->f->qualified, "%s.%s", PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2)) < 0)
		ck->f->qualified = NULL;
	ck->f->role = strdup(PQgetvalue(res, 0, 4));
	rls = strcmp(PQgetvalue(res, 0, 3), "t") == 0;
	if (ck->f->qualified == NULL || ck->f->role == NULL) {
		dbmsg_open_fail(st, DB_OPEN_DATABASE, err, errlen, "out of memory");
		goto out;
	}

	params[0] = oid;
	cols = startup_exec(ck, "cannot read the schema",
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
				ck->f->id_type = strdup(PQgetvalue(cols, found, 1));
			if (i == ROLE_COOKIES)
				ck->f->cookies_type = strdup(PQgetvalue(cols, found, 1));
			continue;
		}
		int near = nearest_row(cols, 0, roles[i].name);
		char hint[MAX_IDENTIFIER_BYTES + 32] = "";
		if (near >= 0)
			snprintf(hint, sizeof(hint), "; did you mean \"%s\"?", PQgetvalue(cols, near, 0));
		snprintf(key, sizeof(key), "database.columns.%s", roles[i].role);
		if (config_locate(cfg, key, loc, sizeof(loc)) && strcmp(roles[i].name, roles[i].dflt) != 0)
			dbmsg_open_fail(st, DB_OPEN_CONFIG, err, errlen, "%s: %s: table %s has no column \"%s\"%s",
			    loc, key, ck->f->qualified, roles[i].name, hint);
		else
			dbmsg_open_fail(st, DB_OPEN_DATABASE, err, errlen,
			    "table %s has no column %s (%s): apply the migrations in sql/, or map the role"
			    " to your column%s",
			    ck->f->qualified, roles[i].name, key, hint);
		goto out;
	}
	for (size_t i = 0; i < sizeof(owned) / sizeof(owned[0]); i++) {
		int found = 0;
		for (int r = 0; r < PQntuples(cols) && !found; r++)
			found = strcmp(PQgetvalue(cols, r, 0), owned[i]) == 0;
		if (!found) {
			dbmsg_open_fail(st, DB_OPEN_DATABASE, err, errlen,
			    "table %s has no column %s (apply the migrations in sql/)", ck->f->qualified,
			    owned[i]);
			goto out;
		}
	}
	for (int r = 0; r < PQntuples(cols); r++)
		if (strcmp(PQgetvalue(cols, r, 0), "updated_at") == 0)
			ck->f->has_updated_at = 1;
	if (ck->f->id_type == NULL || (ck->names->col[COL_COOKIES] != NULL && ck->f->cookies_type == NULL)) {
		dbmsg_open_fail(st, DB_OPEN_DATABASE, err, errlen, "out of memory");
		goto out;
	}
	if (check_privileges(ck, roles[ROLE_TOKEN].name, oid, st, err, errlen) != 0)
		goto out;
	if (rls && cfg->database.row_security == ROW_SECURITY_REFUSE) {
		dbmsg_open_fail(st, DB_OPEN_DATABASE, err, errlen,
		    "row level security is active on %s for role \"%s\": rows its policies hide would"
		    " silently never be refreshed, so nothing was claimed. Ways out: connect as a role"
		    " that bypasses row security (BYPASSRLS, the table's owner, or Supabase's"
		    " service_role), or give role \"%s\" a policy that lets it see, update and delete"
		    " the rows it should refresh (sql/roles/refresher_role.sql creates one) and set"
		    " database.row_security: allow",
		    ck->f->qualified, ck->f->role, ck->f->role);
		goto out;
	}
	if (rls && rls_hides_all(ck, oid, st, err, errlen) != 0)
		goto out;
	if (rls)
		log_warn("db", "row level security is active on %s for role \"%s\""
			       " (database.row_security: allow): only the rows its policies let it see"
			       " are refreshed", ck->f->qualified, ck->f->role);
	rc = 0;
out:
	PQclear(cols);
	PQclear(res);
	return rc;
}

/*
 * Has the database check an operator's expression (database.where,
 * refresh.keep_when) in the context the refresher runs it in: the table
 * under its own name, the expression on lines of its own. EXPLAIN parses,
 * resolves and plans without running anything (no trigger fires) and checks
 * privileges. A rejected expression is a config error naming the key.
 */
static int check_expr(struct check *ck, const char *key, const char *expr, enum db_open_status *st,
    char *err, size_t errlen)
{
	char loc[DBMSG_LOC_MAX], line[256], hline[200], hint[224] = "";
	int rc = 0;
	if (expr[0] == '\0')
		return 0;
	(void)config_locate(ck->cfg, key, loc, sizeof(loc));
	const char *scs = PQparameterStatus(ck->conn, "standard_conforming_strings");
	if (scs != NULL && strcmp(scs, "on") != 0)
		return dbmsg_open_fail(st, DB_OPEN_CONFIG, err, errlen,
		    "%s: %s: the connection has standard_conforming_strings off, under which the"
		    " refresher cannot tell where a quoted string in the expression ends; turn it on"
		    " (the default since PostgreSQL 9.1)", loc, key);
	/* As the claim has it, then as the writes have it (a run only). */
	for (int form = EXPR_AS_CLAIM; form <= (ck->read_only ? EXPR_AS_CLAIM : EXPR_AS_WRITE) && rc == 0;
	     form++) {
		char *sql = sqlbuild_expr_check(ck->names, expr, (enum expr_form)form);
		if (sql == NULL)
			return dbmsg_open_fail(st, DB_OPEN_DATABASE, err, errlen, "out of memory");
		PGresult *res = PQexecParams(ck->conn, sql, 0, NULL, NULL, NULL, NULL, 0);
		free(sql);
		if (PQresultStatus(res) != PGRES_TUPLES_OK) {
			if (!dbmsg_blames_statement(res) || PQstatus(ck->conn) != CONNECTION_OK) {
				rc = dbmsg_open_fail(st, DB_OPEN_DATABASE, err, errlen, "checking %s: %s", key,
				    dbmsg_result(res, ck->conn, line, sizeof(line)));
			} else {
				const char *h = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);
				if (form == EXPR_AS_WRITE)
					snprintf(hint, sizeof(hint), " (system columns such as xmin, ctid or"
								     " tableoid are not available to it)");
				else if (h != NULL)
					snprintf(hint, sizeof(hint), " (%s)", dbmsg_first_line(h, hline, sizeof(hline)));
				rc = dbmsg_open_fail(st, DB_OPEN_CONFIG, err, errlen,
				    "%s: %s: rejected by the database: %s%s", loc, key,
				    dbmsg_primary(res, ck->conn, line, sizeof(line)), hint);
			}
		}
		PQclear(res);
	}
	return rc;
}
void schema_facts_clear(struct schema_facts *f)
{
	free(f->qualified);
	free(f->role);
	free(f->id_type);
	free(f->cookies_type);
	memset(f, 0, sizeof(*f));
}

int schema_check(PGconn *conn, const struct config *cfg, const struct sqlnames *names, int read_only,
    struct schema_facts *out, enum db_open_status *st, char *err, size_t errlen)
{
	struct check ck = { conn, cfg, names, read_only, out };
	return check_all(&ck, st, err, errlen);
}

int schema_check_expr(PGconn *conn, const struct config *cfg, const struct sqlnames *names,
    int read_only, const char *key, const char *expr, enum db_open_status *st, char *err,
    size_t errlen)
{
	struct check ck = { conn, cfg, names, read_only, NULL };
	return check_expr(&ck, key, expr, st, err, errlen);
}
