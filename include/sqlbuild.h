/* sqlbuild.h - the text of every statement db.c builds, from the config and the table's facts (no I/O). */
#ifndef REFRESHER_SQLBUILD_H
#define REFRESHER_SQLBUILD_H

#include <stddef.h>
#include "config.h"

/*
 * Statements and their parameters and result columns are coupled by
 * position. The enums below name every position once; the builders write
 * the parameter numbers ($n), the write's unnest() list and its kind and
 * how literals from them, and db.c fills and reads them through the same
 * names, so the two cannot drift apart.
 */

/* The database.columns roles. */
enum col_role {
	COL_ID,
	COL_EMAIL,
	COL_TOKEN,
	COL_COOKIES, /* optional */
	COL_FINGERPRINT, /* optional */
	COL_ACCESS_TOKEN, /* optional */
	COL_EXPIRES_AT, /* optional */
	COL_COUNT
};

/* Parameters (index 0 is $1) of every statement over due rows: count, dry-run list, claim. */
enum due_param {
	DUE_CUTOFF, /* the run's cutoff, UTC "YYYY-MM-DDTHH:MI:SS.US" */
	DUE_EMAIL, /* one user's email, or NULL for any */
	DUE_SHARD_COUNT, /* 0 = no sharding */
	DUE_SHARD_INDEX,
	DUE_EXCLUDE, /* array literal of the ids this run has handled already */
	DUE_NPARAM
};

/* The claim's parameters: the due ones, then these. */
enum claim_param {
	CLAIM_LIMIT = DUE_NPARAM, /* rows at most */
	CLAIM_LEASE_MS, /* the lease, from now */
	CLAIM_AFTER, /* the run's order cursor (CLAIM_COL_ORDER), or NULL for none */
	CLAIM_NPARAM
};

/* The dry-run list's parameters: the due ones, then its limit (0 = all). */
enum list_param { LIST_LIMIT = DUE_NPARAM, LIST_NPARAM };

/* The columns of a claim's result, one row per claimed row (all text). */
enum claim_col {
	CLAIM_COL_ID,
	CLAIM_COL_EMAIL,
	CLAIM_COL_TOKEN,
	CLAIM_COL_COOKIES, /* NULL when the role is absent */
	CLAIM_COL_FINGERPRINT, /* NULL when NULL or absent */
	CLAIM_COL_LEASE, /* the lease taken, UTC "YYYY-MM-DDTHH:MI:SS.US" */
	CLAIM_COL_ACCESS_TOKEN, /* NULL when NULL or absent (profile json's {access_token}) */
	CLAIM_COL_ORDER, /* the row's place in the order, UTC "YYYY-MM-DDTHH:MI:SS.US"; NULL before 1000 */
	CLAIM_NCOL
};

/* The write's parameters: one array literal each, whose element i belongs to result i. */
enum write_param {
	WRITE_ID,
	WRITE_KIND, /* enum write_kind, as a decimal */
	WRITE_SENT, /* the token the row was claimed with: guards every write */
	WRITE_TOKEN, /* KIND_REFRESHED: the new token */
	WRITE_COOKIES, /* KIND_REFRESHED: the merged cookies JSON */
	WRITE_REASON, /* KIND_FAILED: why */
	WRITE_LEASE, /* our lease, as the claim returned it */
	WRITE_ACCESS_TOKEN, /* KIND_REFRESHED (oauth2) */
	WRITE_EXPIRES_AT, /* KIND_REFRESHED (oauth2): Unix seconds */
	WRITE_NPARAM
};

/* What the write does with a result. */
enum write_kind {
	KIND_REFRESHED,
	KIND_LOGOUT, /* delete, or keep and mark where the config or the application says so */
	KIND_FAILED,
	KIND_RELEASE,
	KIND_LOGOUT_HOLD, /* keep and mark where keep_when or a hold says so; else renew the lease */
	KIND_LOGOUT_MASS, /* keep and mark SQLBUILD_MASS_LOGOUT_MARK (keep_when rows: 'logout') */
	KIND_COUNT
};

/* The columns of the write's result, one row per result it wrote (a result not there was superseded). */
enum write_col {
	WRITE_COL_ORD, /* the result's 1-based position in the parameters */
	WRITE_COL_HOW, /* enum write_how, one letter */
	WRITE_COL_LEASE, /* HOW_HELD_BACK: the renewed lease; else NULL */
	WRITE_NCOL
};

/* How the write wrote a result: the letter in its WRITE_COL_HOW. */
enum write_how {
	HOW_REFRESHED = 'r',
	HOW_DELETED = 'd',
	HOW_KEPT = 'K', /* logout, kept by on_logout: keep */
	HOW_KEPT_RULE = 'k', /* logout, kept by refresh.keep_when */
	HOW_KEPT_HELD = 'a', /* logout, kept as the application holds the row */
	HOW_HELD_BACK = 'h', /* KIND_LOGOUT_HOLD: not deleted yet, lease renewed */
	HOW_MASS = 'm', /* marked as part of a mass logout */
	HOW_FAILED = 'f',
	HOW_NOT_MATCHING = 'n' /* database.where no longer holds: left as it is */
};

/* What a logout row kept by the mass-logout guard says (SPEC). */
#define SQLBUILD_MASS_LOGOUT_MARK "logout (not deleted: mass logout)"

/* The configured names, quoted for SQL. Built by sqlbuild_names_new. */
struct sqlnames {
	char *table; /* "table" or "schema"."table" */
	char *alias; /* the bare table name: the alias an operator's expression sees the table under */
	char *col[COL_COUNT]; /* NULL for an optional role mapped to "" (absent) */
};

/*
 * Quotes cfg's table and columns. Returns a new struct (caller frees with
 * sqlbuild_names_free), or NULL when out of memory or, with *bad_table set,
 * when database.table is not a table name.
 */
struct sqlnames *sqlbuild_names_new(const struct config *cfg, int *bad_table);
void sqlbuild_names_free(struct sqlnames *n);

/* What the run's statements are built from; everything borrowed. */
struct sqlctx {
	const struct config *cfg;
	const struct sqlnames *names;
	const char *id_type; /* the id column's SQL type as the database spells it, e.g. "uuid" */
	const char *cookies_type; /* the cookies column's; unused when the role is absent */
	int has_updated_at; /* the table has updated_at: a write sets it */
	long stale_after_ms; /* the run's (the command line may override the config's) */
};

/*
 * Every builder below returns a new string (caller frees), or NULL when out
 * of memory. An operator's expression goes in verbatim, in parentheses and
 * on lines of its own (config.c has checked it with sqlexpr_problem).
 */

/* Quotes one identifier: a"b -> "a""b". */
char *sqlbuild_quote_ident(const char *s);

/* Quotes a possibly schema-qualified name ("s"."t"); NULL also when it is empty or has a stray dot. */
char *sqlbuild_quote_qualified(const char *name);

/* A PostgreSQL array literal {"a","b"} of the strings; a NULL entry is NULL. */
char *sqlbuild_array_literal(char *const *v, size_t n);

/* Counts the due rows (DUE_NPARAM parameters): count(*), and how many keep_when covers. */
char *sqlbuild_count(const struct sqlctx *c);

/* The dry run's due rows, oldest first (LIST_NPARAM parameters): email, token. */
char *sqlbuild_list(const struct sqlctx *c);

/* Claims due rows as a lease (CLAIM_NPARAM parameters; enum claim_col). */
char *sqlbuild_claim(const struct sqlctx *c);

/* Writes results in one statement (WRITE_NPARAM parameters; enum write_col). */
char *sqlbuild_write(const struct sqlctx *c);

/* "EXPLAIN " sql: planned, not run. */
char *sqlbuild_explain(const char *sql);

/* Where an operator's expression is checked: as the claim has it, or as the writes do. */
enum expr_form { EXPR_AS_CLAIM, EXPR_AS_WRITE };

/* An EXPLAIN of expr in the context form runs it in (no parameters). */
char *sqlbuild_expr_check(const struct sqlnames *n, const char *expr, enum expr_form form);

/*
 * Whether the role sees any row of the table, and the two estimates of how
 * many it holds that anyone may read (no parameters). oid is the table's,
 * as the database printed it (digits).
 */
char *sqlbuild_rls_probe(const struct sqlnames *n, const char *oid);

#endif
