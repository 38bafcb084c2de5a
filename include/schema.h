/* schema.h - db_open's start-up checks of the table: columns, privileges, row security, expressions. */
#ifndef REFRESHER_SCHEMA_H
#define REFRESHER_SCHEMA_H

#include <stddef.h>
#include <libpq-fe.h>

#include "config.h"
#include "db.h"
#include "sqlbuild.h"

/* What the check learned about the table. Strings heap-owned; release with schema_facts_clear. */
struct schema_facts {
	char *qualified; /* schema.table as the database names it, for messages */
	char *role; /* the connecting role (current_user), for messages */
	char *id_type; /* SQL type of the id column, e.g. "uuid" */
	char *cookies_type; /* SQL type of the cookies column, e.g. "jsonb"; NULL when the role is absent */
	int has_updated_at; /* the table has an updated_at column */
};
void schema_facts_clear(struct schema_facts *f);

/*
 * Looks up the table (names->table), every column the run needs, the
 * role's privileges on them (with read_only, SELECT only) and row level
 * security (refused unless database.row_security: allow), blocking on conn.
 * Returns 0 with *out filled, or -1 with *st and a message in err that says
 * what is wrong: a name the config sets that the database lacks is
 * DB_OPEN_CONFIG naming the key, its file:line:col and the nearest name.
 */
int schema_check(PGconn *conn, const struct config *cfg, const struct sqlnames *names, int read_only,
    struct schema_facts *out, enum db_open_status *st, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/*
 * Has the database plan an operator's expression (key names it:
 * "database.where" or "refresh.keep_when") where the claim runs it and,
 * unless read_only, where the writes do; nothing runs, no trigger fires.
 * "" passes. Returns 0, or -1 with *st (DB_OPEN_CONFIG when the database
 * blames the expression) and a message in err.
 */
int schema_check_expr(PGconn *conn, const struct config *cfg, const struct sqlnames *names,
    int read_only, const char *key, const char *expr, enum db_open_status *st, char *err,
    size_t errlen) __attribute__((warn_unused_result));

#endif
