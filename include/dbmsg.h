/* dbmsg.h - one-line messages from libpq, and how db_open's steps report a failure. */
#ifndef REFRESHER_DBMSG_H
#define REFRESHER_DBMSG_H

#include <stddef.h>
#include <libpq-fe.h>

#include "db.h"

/* Room for "file:line:col" of a config key in db_open's messages. */
#define DBMSG_LOC_MAX 512

/* The first line of m (trailing newline dropped) into buf; returns buf. */
const char *dbmsg_first_line(const char *m, char *buf, size_t size);

/* One line of the connection's error (conn may be NULL) into buf; returns buf. */
const char *dbmsg_conn(PGconn *conn, char *buf, size_t size);

/* One line of a result's error, else of the connection's, into buf; returns buf. */
const char *dbmsg_result(PGresult *res, PGconn *conn, char *buf, size_t size);

/* The primary message of a failed result (no "ERROR:" prefix), else as dbmsg_result. */
const char *dbmsg_primary(PGresult *res, PGconn *conn, char *buf, size_t size);

/*
 * Whether a failed statement's SQLSTATE blames what it says rather than the
 * database's state: a syntax, name, type or privilege problem (class 42), a
 * data error (22), a subquery giving more than one row (21), a feature not
 * supported (0A). A timeout, a lock wait, a lost connection is none of these.
 */
int dbmsg_blames_statement(PGresult *res);

/* Fails a step of db_open: sets *st to why and the message in err; returns -1. */
int dbmsg_open_fail(enum db_open_status *st, enum db_open_status why, char *err, size_t errlen,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
