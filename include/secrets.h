/* secrets.h - secrets a config file spells out itself, and files that let others read them. */
#ifndef REFRESHER_SECRETS_H
#define REFRESHER_SECRETS_H

#include <stddef.h>

/*
 * Whether raw, a secret's value as written in the file (before ${VAR}
 * expansion), spells the secret out itself. Pure: the environment is never
 * read, so the answer is a property of the file alone. What the file says is
 * raw with each ${VAR} standing for the environment and each ${VAR:-default}
 * for its default (in the file, used or not) and the environment. With
 * conninfo 0 (a fingerprint, a client secret), any byte of the file's own
 * counts ("", "${FP}", "${FP:-}" do not; "abc", "${FP:-abc}", "x${FP}" do).
 * With conninfo 1 (database.url, a libpq URI or key=value string), only a
 * password or sslpassword of the file's own counts, found by libpq's
 * PQconninfoParse. Returns 1 or 0; 1 when out of memory or malformed.
 */
int secrets_is_literal(const char *raw, int conninfo);

/*
 * When n > 0 (literal secrets, named by the lists names and vars, e.g.
 * "database.url" and "${DATABASE_URL}") and the file at path (stat, following
 * symlinks) can be read by its group or others (mode & 044), logs one warning
 * naming the file, its mode and the keys, never a value. Returns 1 when it
 * warned, else 0 (also when stat fails). Not an error: the run goes on.
 */
int secrets_warn_readable(const char *path, size_t n, const char *names, const char *vars);

#endif
