/* dbmsg.c - one-line messages from libpq, and how db_open's steps report a failure. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dbmsg.h"

const char *dbmsg_first_line(const char *m, char *buf, size_t size)
{
	size_t n = strcspn(m, "\n");
	if (n >= size)
		n = size - 1;
	memcpy(buf, m, n);
	buf[n] = '\0';
	return buf;
}

const char *dbmsg_conn(PGconn *conn, char *buf, size_t size)
{
	return dbmsg_first_line(conn ? PQerrorMessage(conn) : "no connection", buf, size);
}

const char *dbmsg_result(PGresult *res, PGconn *conn, char *buf, size_t size)
{
	const char *m = res ? PQresultErrorMessage(res) : "";
	if (m == NULL || *m == '\0')
		return dbmsg_conn(conn, buf, size);
	return dbmsg_first_line(m, buf, size);
}

const char *dbmsg_primary(PGresult *res, PGconn *conn, char *buf, size_t size)
{
	const char *m = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	if (m == NULL || *m == '\0')
		return dbmsg_result(res, conn, buf, size);
	return dbmsg_first_line(m, buf, size);
}

int dbmsg_blames_statement(PGresult *res)
{
	const char *code = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	if (code == NULL || strlen(code) != 5)
		return 0;
	return strncmp(code, "42", 2) == 0 || strncmp(code, "22", 2) == 0 ||
	    strncmp(code, "21", 2) == 0 || strncmp(code, "0A", 2) == 0;
}

int dbmsg_open_fail(enum db_open_status *st, enum db_open_status why, char *err, size_t errlen,
    const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	*st = why;
	return -1;
}
