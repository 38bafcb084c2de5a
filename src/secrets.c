/* secrets.c - secrets a config file spells out itself, and files that let others read them. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libpq-fe.h>

#include "envexpand.h"
#include "log.h"
#include "secrets.h"

/*
 * Parameters of a libpq connection string that are secrets. The others
 * (host, user, dbname, sslkey's path...) are not worth a warning.
 */
static const char *const conninfo_secrets[] = { "password", "sslpassword", NULL };

/* Whether s holds a byte of its own: one that is not ENVEXPAND_MARK. */
static int has_own_byte(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s != ENVEXPAND_MARK)
			return 1;
	return 0;
}

int secrets_is_literal(const char *raw, int conninfo)
{
	PQconninfoOption *opts;
	char *text, *perr = NULL;
	int literal = 0;

	/* A mark in the raw text would pass for the environment: count it as the file's. */
	if (strchr(raw, ENVEXPAND_MARK) != NULL)
		return 1;
	text = envexpand_file_text(raw, NULL, 0);
	if (text == NULL)
		return 1; /* out of memory or malformed: say too much rather than too little */
	if (!conninfo) {
		literal = has_own_byte(text);
		goto out;
	}
	/* libpq's own parser: URI user:password@ and ?password=, key=value with quotes. What it
	 * cannot parse holds no password libpq would use. */
	opts = PQconninfoParse(text, &perr);
	if (opts == NULL)
		goto out;
	for (const PQconninfoOption *o = opts; o->keyword != NULL; o++) {
		for (const char *const *k = conninfo_secrets; *k != NULL; k++)
			if (o->val != NULL && strcmp(o->keyword, *k) == 0 && has_own_byte(o->val))
				literal = 1;
	}
	PQconninfoFree(opts);
out:
	PQfreemem(perr);
	free(text);
	return literal;
}

int secrets_warn_readable(const char *path, size_t n, const char *names, const char *vars)
{
	struct stat st;

	/* stat, not lstat: what counts is who can read the file a symlink leads to. */
	if (n == 0 || stat(path, &st) != 0 || (st.st_mode & (S_IRGRP | S_IROTH)) == 0)
		return 0;
	log_warn("config", "%s: mode %04o lets other users read %s (%s); chmod 600 it, or move %s "
	    "to the environment (%s)", path, (unsigned)(st.st_mode & 07777),
	    n == 1 ? "a literal secret" : "literal secrets", names, n == 1 ? "the secret" : "them",
	    vars);
	return 1;
}
