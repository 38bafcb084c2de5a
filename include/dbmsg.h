/*
 * dbmsg.h - one-line messages from libpq, and how db_open's steps report a
 * failure: the helpers db.c and schema.c share, header-only (static inline).
 */
#ifndef REFRESHER_DBMSG_H
#define REFRESHER_DBMSG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <libpq-fe.h>

#include "db.h"

/* Room for "file:line:col" of a config key in db_open's messages. */
#define DBMSG_LOC_MAX 512

/* The first line of m (trailing newline dropped) into buf; returns buf. */
static inline const char *dbmsg_first_line(const char *m, char *buf, size_t size)
{
	size_t n = strcspn(m, "\n");
	if (n >= size)
		n = size - 1;
	memcpy(buf, m, n);
	buf[n] = '\0';
	return buf;
}

/* One line of the connection's error (conn may be NULL) into buf; returns buf. */
static inline const char *dbmsg_conn(PGconn *conn, char *buf, size_t size)
{
	return dbmsg_first_line(conn ? PQerrorMessage(conn) : "no connection", buf, size);
}

/* One line of a result's error, else of the connection's, into buf; returns buf. */
static inline const char *dbmsg_result(PGresult *res, PGconn *conn, char *buf, size_t size)
{
	const char *m = res ? PQresultErrorMessage(res) : "";
	if (m == NULL || *m == '\0')
		return dbmsg_conn(conn, buf, size);
	return dbmsg_first_line(m, buf, size);
}

/* The primary message of a failed result (no "ERROR:" prefix), else as dbmsg_result. */
static inline const char *dbmsg_primary(PGresult *res, PGconn *conn, char *buf, size_t size)
{
	const char *m = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	if (m == NULL || *m == '\0')
		return dbmsg_result(res, conn, buf, size);
	return dbmsg_first_line(m, buf, size);
}

/*
 * Whether a failed statement's SQLSTATE blames what it says rather than the
 * database's state: a syntax, name, type or privilege problem (class 42), a
 * data error (22), a subquery giving more than one row (21), a feature not
 * supported (0A). A timeout, a lock wait, a lost connection is none of these.
 */
static inline int dbmsg_blames_statement(PGresult *res)
{
	const char *code = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	if (code == NULL || strlen(code) != 5)
		return 0;
	return strncmp(code, "42", 2) == 0 || strncmp(code, "22", 2) == 0 ||
	    strncmp(code, "21", 2) == 0 || strncmp(code, "0A", 2) == 0;
}

/* Fails a step of db_open: sets *st to why and the message in err; returns -1. */
static inline int dbmsg_open_fail(enum db_open_status *st, enum db_open_status why, char *err,
    size_t errlen, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static inline int dbmsg_open_fail(enum db_open_status *st, enum db_open_status why, char *err,
    size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	*st = why;
	return -1;
}

#endif
